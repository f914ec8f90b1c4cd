//! Named curator keys (`QUERENT_API_KEYS="alice=KEY1,bob=KEY2"`, or `[api_keys]` in the config
//! file): each knowledge write made with one is recorded under the key's name, so the change
//! log says who made a change, authenticated.
//!
//! clap reads the setting as a [`Secret`] (so that a bad value is never echoed in clap's
//! error); [`CuratorKeys::parse`] splits it at start-up with errors that name the entry by
//! position, never its key. The keys never print (`Debug` shows the names only).

use super::Secret;

/// The named curator keys: `(name, key)` pairs, names unique, keys unique.
#[derive(Clone, Default)]
pub struct CuratorKeys(Vec<(String, Secret)>);

/// Why a named-keys setting is refused (the message never contains a key).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeysError {
    #[error("entry {0} is not NAME=KEY")]
    NotAPair(usize),
    #[error("entry {0} has an empty name or key")]
    Empty(usize),
    #[error("entry {0}: the name '{1}' may only hold letters, digits and . _ @ -")]
    BadName(usize, String),
    #[error("the name '{0}' is given twice")]
    DuplicateName(String),
    #[error("'{0}' and '{1}' have the same key")]
    DuplicateKey(String, String),
}

impl CuratorKeys {
    /// Parses `NAME=KEY` entries separated by commas (spaces around them are ignored; a key is
    /// everything after the first `=`). An empty setting gives no keys.
    ///
    /// Errors: an entry without `=`, an empty name or key, a name with other characters than
    /// letters, digits and `. _ @ -`, a name or a key given twice.
    pub fn parse(setting: &Secret) -> Result<Self, KeysError> {
        let mut keys: Vec<(String, Secret)> = Vec::new();
        let entries = setting
            .expose()
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty());
        for (i, entry) in entries.enumerate() {
            let n = i + 1;
            let (name, key) = entry.split_once('=').ok_or(KeysError::NotAPair(n))?;
            let (name, key) = (name.trim(), key.trim());
            if name.is_empty() || key.is_empty() {
                return Err(KeysError::Empty(n));
            }
            let allowed = |c: char| c.is_alphanumeric() || "._@-".contains(c);
            if !name.chars().all(allowed) || name.chars().count() > 100 {
                return Err(KeysError::BadName(n, name.chars().take(100).collect()));
            }
            if keys.iter().any(|(other, _)| other == name) {
                return Err(KeysError::DuplicateName(name.to_string()));
            }
            if let Some((other, _)) = keys.iter().find(|(_, k)| k.expose() == key) {
                return Err(KeysError::DuplicateKey(other.clone(), name.to_string()));
            }
            keys.push((name.to_string(), key.parse().unwrap_or_else(|e| match e {})));
        }
        Ok(Self(keys))
    }

    /// The `(name, key)` pairs, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Secret)> {
        self.0.iter().map(|(n, k)| (n.as_str(), k))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for CuratorKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(n, _)| n))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<CuratorKeys, KeysError> {
        CuratorKeys::parse(&s.parse().unwrap())
    }

    #[test]
    fn names_and_keys_are_split_at_the_first_equals_sign_and_never_printed() {
        let keys = parse(" alice=k1==x , bob = k2 ,").unwrap();
        let pairs: Vec<(&str, &str)> = keys.iter().map(|(n, k)| (n, k.expose())).collect();
        assert_eq!(pairs, vec![("alice", "k1==x"), ("bob", "k2")]);
        assert_eq!(format!("{keys:?}"), r#"["alice", "bob"]"#);
        assert!(parse("").unwrap().is_empty());
    }

    #[test]
    fn bad_entries_are_refused_without_showing_a_key() {
        assert_eq!(
            parse("alice=k1,justakey").unwrap_err(),
            KeysError::NotAPair(2)
        );
        assert_eq!(parse("=k1").unwrap_err(), KeysError::Empty(1));
        assert_eq!(parse("alice=").unwrap_err(), KeysError::Empty(1));
        assert_eq!(
            parse("al ice=k1").unwrap_err(),
            KeysError::BadName(1, "al ice".into())
        );
        assert_eq!(
            parse("a=k1,a=k2").unwrap_err(),
            KeysError::DuplicateName("a".into())
        );
        let e = parse("a=secret-1,b=secret-1").unwrap_err();
        assert_eq!(e, KeysError::DuplicateKey("a".into(), "b".into()));
        assert!(!e.to_string().contains("secret"));
        assert!(!parse("justakey")
            .unwrap_err()
            .to_string()
            .contains("justakey"));
    }
}
