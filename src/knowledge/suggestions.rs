//! Suggested examples: answers people marked helpful, or corrected, waiting for review.
//!
//! They live apart from the curated examples, in `knowledge/<domain>/suggested.yml`
//! (`suggestions: [{id, question, sql, query_id, helpful, corrected, at}]`), so that nothing
//! suggested is used for answering until a curator approves it ([`super::curation::Curator`]).
//! Written atomically like the other knowledge files.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{QuerentError, QuerentResult};

/// The file of suggested examples in a domain folder.
pub const SUGGESTED_FILE: &str = "suggested.yml";

/// A suggested example.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Suggestion {
    pub id: String,
    pub question: String,
    pub sql: String,
    /// The answer the feedback was about.
    pub query_id: String,
    /// True when the answer was marked helpful.
    pub helpful: bool,
    /// True when `sql` is a correction rather than the answer's own SQL.
    pub corrected: bool,
    pub at: chrono::DateTime<chrono::Utc>,
}

#[derive(Serialize, Deserialize, Default)]
struct SuggestedFile {
    #[serde(default)]
    suggestions: Vec<Suggestion>,
}

/// The suggestions of the domain folder `dir` (none when the file is missing).
///
/// Errors: the file cannot be read or does not parse (`knowledge_error`).
pub fn load(dir: &Path) -> QuerentResult<Vec<Suggestion>> {
    let path = dir.join(SUGGESTED_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(QuerentError::Knowledge(format!(
                "cannot read {}: {e}",
                path.display()
            )))
        }
    };
    let file: Option<SuggestedFile> = serde_norway::from_str(&text)
        .map_err(|e| QuerentError::Knowledge(format!("{} does not parse: {e}", path.display())))?;
    Ok(file.unwrap_or_default().suggestions)
}

/// Writes the suggestions of `dir` atomically.
///
/// Errors: the folder or file cannot be written.
pub fn save(dir: &Path, suggestions: &[Suggestion]) -> QuerentResult<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| QuerentError::Internal(format!("cannot create {}: {e}", dir.display())))?;
    let body = serde_norway::to_string(&SuggestedFile {
        suggestions: suggestions.to_vec(),
    })
    .map_err(|e| QuerentError::Internal(e.to_string()))?;
    let text = format!("# Suggested examples waiting for review, written by querent.\n{body}");
    super::files::write_atomic(&dir.join(SUGGESTED_FILE), &text)?;
    super::files::sync_dir(dir)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_round_trip_and_a_missing_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path()).unwrap().is_empty());
        let s = Suggestion {
            id: "abc".into(),
            question: "how many stores?".into(),
            sql: "SELECT COUNT(*) FROM stores".into(),
            query_id: "q1".into(),
            helpful: true,
            corrected: false,
            at: chrono::Utc::now(),
        };
        save(dir.path(), std::slice::from_ref(&s)).unwrap();
        assert_eq!(load(dir.path()).unwrap(), vec![s]);
    }
}
