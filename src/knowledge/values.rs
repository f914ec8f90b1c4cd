//! The value index: the distinct values of low-cardinality text columns, so that a phrase in a
//! question ("frozen food") maps back to a column and its spelling (`category_level_2 = 'Frozen Food'`).
//!
//! Built once per database at start-up from [`Warehouse::distinct_values`]; looked up exactly,
//! case-insensitively (after normalisation: lower case, punctuation as spaces) and fuzzily
//! (Jaro-Winkler similarity, Winkler 1990, via `strsim`). A column of US state codes is also
//! found by the states' names ([`super::places`]).

use std::collections::BTreeMap;

use serde::Serialize;

use super::places;
use crate::error::QuerentResult;
use crate::warehouse::{ColumnKind, Schema, Warehouse};

/// Columns with more distinct values than this are not indexed (names, free text, ids).
pub const MAX_DISTINCT_PER_COLUMN: usize = 500;

/// Values longer than this (characters) are not indexed: they are prose, not categories.
const MAX_VALUE_CHARS: usize = 60;

/// Minimum Jaro-Winkler similarity of a fuzzy match.
const FUZZY_THRESHOLD: f64 = 0.92;

/// One indexed value.
#[derive(Debug, Clone, Serialize)]
pub struct ValueEntry {
    pub table: String,
    pub column: String,
    /// The value as stored.
    pub value: String,
    /// Normalised form: lower case, non-alphanumerics as single spaces.
    pub normalized: String,
}

/// A phrase matched to a stored value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValueMatch {
    pub table: String,
    pub column: String,
    /// The stored spelling, to use as the SQL literal.
    pub value: String,
    /// 1.0 for an exact match, 0.95 case-insensitive, the similarity for a fuzzy match.
    pub score: f32,
    /// True when the phrase equals the stored value exactly.
    pub exact: bool,
}

/// The fewest words a phrase needs for [`ValueIndex::lookup_prefix`]: two words begin too many
/// names by chance.
pub const PREFIX_MIN_WORDS: usize = 3;

/// Distinct values of the low-cardinality text columns of one database.
#[derive(Debug, Clone, Default)]
pub struct ValueIndex {
    entries: Vec<ValueEntry>,
    /// Entry ids by their normalised form, sorted (a prefix look-up reads a range).
    by_normalized: BTreeMap<String, Vec<usize>>,
    /// Entry ids by the length of their normalised form in characters (fuzzy lookup only
    /// compares lengths within 2).
    by_length: BTreeMap<usize, Vec<usize>>,
    max_words: usize,
}

/// Lower case, accents folded; every run of non-alphanumeric characters becomes one space;
/// trimmed.
pub fn normalize(s: &str) -> String {
    use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    // accents folded (Unicode canonical decomposition, combining marks dropped): "Holý" is
    // "holy", "São Paulo" "sao paulo"
    for ch in s.nfd().filter(|c| !is_combining_mark(*c)) {
        if ch.is_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.extend(ch.to_lowercase());
        } else {
            space = true;
        }
    }
    out
}

impl ValueIndex {
    /// Indexes the text columns of `schema` that have at most [`MAX_DISTINCT_PER_COLUMN`]
    /// distinct values. Columns whose values look numeric are skipped.
    ///
    /// Errors: a database error while reading values.
    pub fn build(warehouse: &dyn Warehouse, schema: &Schema) -> QuerentResult<Self> {
        let mut index = Self::default();
        for table in &schema.tables {
            for column in &table.columns {
                let kind = column.kind();
                let texty = matches!(kind, ColumnKind::Text | ColumnKind::Other)
                    && !column
                        .sample_values
                        .iter()
                        .all(|v| v.parse::<f64>().is_ok());
                if !texty
                    || column.distinct_count == 0
                    || column.distinct_count as usize > MAX_DISTINCT_PER_COLUMN
                {
                    continue;
                }
                let values = warehouse.distinct_values(
                    &table.name,
                    &column.name,
                    MAX_DISTINCT_PER_COLUMN,
                )?;
                let states = places::holds_us_state_codes(values.iter().map(String::as_str));
                for value in values {
                    let id = index.entries.len();
                    let state = states.then(|| places::us_state_name(&value)).flatten();
                    let demonyms = places::demonyms(&value);
                    let other_names = places::other_names(&value);
                    index.insert(&table.name, &column.name, value);
                    if index.entries.len() > id {
                        if let Some(name) = state {
                            index.alias(id, name);
                        }
                        // "Canadian customers": the stored country
                        for name in demonyms.iter().chain(other_names.iter()) {
                            index.alias(id, name);
                        }
                    }
                }
            }
        }
        Ok(index)
    }

    /// Makes `name` find the entry `id` as spelled ("Texas" finds the stored code `TX`): an
    /// exact look-up of the name returns the entry with its stored spelling (score 0.95).
    pub fn alias(&mut self, id: usize, name: &str) {
        let normalized = normalize(name);
        if normalized.is_empty() || id >= self.entries.len() {
            return;
        }
        self.max_words = self.max_words.max(normalized.split(' ').count());
        let ids = self.by_normalized.entry(normalized).or_default();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }

    /// Adds one value (used by `build`, and by tests).
    pub fn insert(&mut self, table: &str, column: &str, value: String) {
        if value.chars().count() > MAX_VALUE_CHARS || value.trim().is_empty() {
            return;
        }
        let normalized = normalize(&value);
        if normalized.is_empty() {
            return;
        }
        self.max_words = self.max_words.max(normalized.split(' ').count());
        let id = self.entries.len();
        self.by_length
            .entry(normalized.chars().count())
            .or_default()
            .push(id);
        self.by_normalized
            .entry(normalized.clone())
            .or_default()
            .push(id);
        self.entries.push(ValueEntry {
            table: table.to_string(),
            column: column.to_string(),
            value,
            normalized,
        });
    }

    /// Number of indexed values.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The most words any indexed value has (the longest n-gram worth looking up).
    pub fn max_words(&self) -> usize {
        self.max_words
    }

    /// All indexed values.
    pub fn entries(&self) -> &[ValueEntry] {
        &self.entries
    }

    /// Matches of `phrase` spelled the same once case, punctuation and spacing are set aside
    /// ([`normalize`]): score 1 for the stored spelling itself, 0.95 otherwise; no fuzzy match.
    /// A hash look-up: cheap enough for long phrases (a product's full name).
    pub fn lookup_same(&self, phrase: &str) -> Vec<ValueMatch> {
        let Some(ids) = self.by_normalized.get(&normalize(phrase)) else {
            return Vec::new();
        };
        let mut out: Vec<ValueMatch> = ids
            .iter()
            .map(|&i| {
                let e = &self.entries[i];
                let exact = e.value == phrase;
                ValueMatch {
                    table: e.table.clone(),
                    column: e.column.clone(),
                    value: e.value.clone(),
                    score: if exact { 1.0 } else { 0.95 },
                    exact,
                }
            })
            .collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score));
        out
    }

    /// The one stored value that `phrase` begins, word for word, once normalised ("Polar Kitchen
    /// Margherita Pizza" begins "Polar Kitchen Margherita Pizza 21 oz"): a name written without
    /// its size or edition. Only phrases of at least [`PREFIX_MIN_WORDS`] words, and only when
    /// exactly one stored value (in any column) begins so; score 0.85, never exact.
    pub fn lookup_prefix(&self, phrase: &str) -> Option<ValueMatch> {
        let norm = normalize(phrase);
        if norm.split(' ').count() < PREFIX_MIN_WORDS {
            return None;
        }
        let start = format!("{norm} ");
        let mut ids = self
            .by_normalized
            .range(start.clone()..)
            .take_while(|(k, _)| k.starts_with(&start))
            .flat_map(|(_, ids)| ids.iter().copied());
        let (first, second) = (ids.next()?, ids.next());
        if second.is_some() {
            return None;
        }
        let e = &self.entries[first];
        Some(ValueMatch {
            table: e.table.clone(),
            column: e.column.clone(),
            value: e.value.clone(),
            score: 0.85,
            exact: false,
        })
    }

    /// Matches of `phrase`: exact and case-insensitive matches when there are any, else fuzzy
    /// matches (phrases of 4+ characters, Jaro-Winkler >= 0.92), best first.
    pub fn lookup(&self, phrase: &str) -> Vec<ValueMatch> {
        let norm = normalize(phrase);
        if norm.is_empty() {
            return Vec::new();
        }
        let same = self.lookup_same(phrase);
        if !same.is_empty() {
            return same;
        }
        if norm.chars().count() < 4 {
            return Vec::new();
        }
        let len = norm.chars().count();
        // in insertion order, so that equal scores keep a stable order
        let mut ids: Vec<usize> = self
            .by_length
            .range(len.saturating_sub(2)..=len + 2)
            .flat_map(|(_, ids)| ids.iter().copied())
            .collect();
        ids.sort_unstable();
        let mut out: Vec<ValueMatch> = ids
            .into_iter()
            .map(|i| &self.entries[i])
            .filter_map(|e| {
                let sim = strsim::jaro_winkler(&norm, &e.normalized);
                (sim >= FUZZY_THRESHOLD).then(|| ValueMatch {
                    table: e.table.clone(),
                    column: e.column.clone(),
                    value: e.value.clone(),
                    score: (sim * 0.9) as f32,
                    exact: false,
                })
            })
            .collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> ValueIndex {
        let mut idx = ValueIndex::default();
        idx.insert("products", "category_level_2", "Frozen Food".into());
        idx.insert("products", "category_level_2", "Ice Cream".into());
        idx.insert("stores", "zone", "West".into());
        idx
    }

    #[test]
    fn lookup_maps_a_lower_case_phrase_to_the_stored_spelling() {
        let m = index().lookup("frozen food");
        assert_eq!(m.len(), 1);
        assert_eq!(
            (m[0].column.as_str(), m[0].value.as_str(), m[0].exact),
            ("category_level_2", "Frozen Food", false)
        );
    }

    #[test]
    fn a_value_typed_without_its_accents_finds_the_stored_spelling() {
        let mut idx = index();
        idx.insert("customers", "last_name", "Holý".into());
        idx.insert("customers", "city", "São Paulo".into());
        for (typed, stored) in [("holy", "Holý"), ("Sao Paulo", "São Paulo")] {
            let m = idx.lookup(typed);
            assert_eq!(m.len(), 1, "{typed}: {m:?}");
            assert_eq!(m[0].value, stored);
        }
    }

    #[test]
    fn a_name_without_its_size_finds_the_one_value_it_begins() {
        let mut idx = index();
        idx.insert(
            "products",
            "product_name",
            "Polar Kitchen Margherita Pizza 21 oz".into(),
        );
        idx.insert(
            "products",
            "product_name",
            "Polar Kitchen Pepperoni Pizza 21 oz".into(),
        );
        idx.insert(
            "products",
            "product_name",
            "Polar Kitchen Pepperoni Pizza 32 oz".into(),
        );
        let m = idx.lookup_prefix("polar kitchen margherita pizza").unwrap();
        assert_eq!(m.value, "Polar Kitchen Margherita Pizza 21 oz");
        assert!(!m.exact);
        // two values begin so: which one is meant is not known
        assert!(idx.lookup_prefix("Polar Kitchen Pepperoni Pizza").is_none());
        // a word cut in half begins nothing; two words are too few
        assert!(idx.lookup_prefix("Polar Kitchen Marg").is_none());
        assert!(idx.lookup_prefix("Polar Kitchen").is_none());
    }

    #[test]
    fn lookup_prefers_exact_matches_and_scores_them_one() {
        let m = index().lookup("West");
        assert_eq!(m[0].score, 1.0);
        assert!(m[0].exact);
    }

    #[test]
    fn lookup_finds_misspelled_values_fuzzily() {
        let m = index().lookup("frozen foods");
        assert_eq!(m.first().map(|m| m.value.as_str()), Some("Frozen Food"));
        assert!(m[0].score < 0.95);
    }

    #[test]
    fn lookup_ignores_short_unknown_phrases() {
        assert!(index().lookup("we").is_empty());
        assert!(index().lookup("").is_empty());
    }

    #[test]
    fn normalize_lowercases_and_collapses_punctuation() {
        assert_eq!(normalize("  Ben & Jerry's  "), "ben jerry s");
        assert_eq!(max_words_of(&index()), 2);
    }

    fn max_words_of(i: &ValueIndex) -> usize {
        i.max_words()
    }

    /// The value index of a SQLite database made by `ddl`.
    fn built(ddl: &str) -> ValueIndex {
        use crate::warehouse::SqliteWarehouse;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("values.sqlite");
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(ddl)
            .unwrap();
        let wh = SqliteWarehouse::open(&path).unwrap();
        let schema = wh.introspect().unwrap();
        ValueIndex::build(&wh, &schema).unwrap()
    }

    #[test]
    fn a_column_of_us_state_codes_is_found_by_the_states_names() {
        let index = built(
            "CREATE TABLE stores (id INTEGER PRIMARY KEY, state TEXT, country TEXT);
             INSERT INTO stores VALUES (1, 'TX', 'CA'), (2, 'NY', 'GB'), (3, 'CA', 'FR'),
               (4, 'WI', 'JP'), (5, 'MN', 'DE'), (6, 'GA', 'IN');",
        );
        let texas = index.lookup("Texas");
        assert_eq!(texas.len(), 1, "{texas:?}");
        assert_eq!(
            (texas[0].column.as_str(), texas[0].value.as_str()),
            ("state", "TX")
        );
        // "New York" is two words: the longest n-gram looked up grows with it
        assert_eq!(index.lookup("new york")[0].value, "NY");
        assert!(index.max_words() >= 2);
        // country codes are not read as states: California is the state, never Canada's CA
        let california = index.lookup("California");
        assert!(
            california.iter().all(|m| m.column == "state"),
            "{california:?}"
        );
    }

    #[test]
    fn a_country_is_found_by_its_demonym() {
        let index = built(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, country TEXT);
             INSERT INTO customers VALUES (1, 'Canada'), (2, 'USA'), (3, 'Germany');",
        );
        for (word, stored) in [
            ("Canadian", "Canada"),
            ("American", "USA"),
            ("Germans", "Germany"),
        ] {
            let found = index.lookup(word);
            assert_eq!(found.len(), 1, "{word}: {found:?}");
            assert_eq!(found[0].value, stored);
        }
        assert!(index.lookup("French").is_empty());
    }
}
