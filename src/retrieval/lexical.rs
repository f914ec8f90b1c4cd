//! The lexical index: Okapi BM25 over the items' text, per database and kind, in memory.
//!
//! It is what retrieval falls back to when no embedding model is available, and it is rebuilt
//! on every sync whatever the mode, so switching to it never needs the vector index. Scoring
//! follows Robertson & Zaragoza 2009, "The Probabilistic Relevance Framework: BM25 and Beyond"
//! (Foundations and Trends in IR 3(4)), eq. 3.26, with `k1 = 1.2`, `b = 0.75` and the
//! non-negative IDF `ln(1 + (N - df + 0.5) / (df + 0.5))` used by Lucene.
//!
//! Text is cut into lower-case alphanumeric words (so `elasticity_value` gives `elasticity` and
//! `value`), common English function words are dropped and a plural `s` is stripped, so
//! "products" matches "product".

use std::collections::HashMap;

use crate::knowledge::{IndexItem, ItemKind};

use super::Hit;

/// Term-frequency saturation (Robertson & Zaragoza 2009, section 3.4).
const K1: f32 = 1.2;
/// Document-length normalisation (Robertson & Zaragoza 2009, section 3.4.2).
const B: f32 = 0.75;

/// English function words that carry no topic ("what are the top ...").
const STOPWORDS: &[&str] = &[
    "a", "all", "an", "and", "are", "as", "at", "be", "by", "do", "does", "each", "for", "from",
    "give", "had", "has", "have", "how", "i", "in", "is", "it", "its", "list", "me", "most", "my",
    "of", "on", "or", "show", "that", "the", "their", "there", "these", "this", "those", "to",
    "was", "we", "were", "what", "when", "where", "which", "who", "with",
];

/// The words of `text` that BM25 scores: lower-cased alphanumeric runs, minus stopwords, with a
/// plural `s` stripped from words longer than three letters (not from `ss` endings).
pub fn tokenize(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .map(|w| {
            if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") {
                w[..w.len() - 1].to_string()
            } else {
                w
            }
        })
        .collect()
}

/// One indexed item: its key, payload and term frequencies.
#[derive(Debug, Clone)]
struct Document {
    key: String,
    payload: serde_json::Value,
    term_counts: HashMap<String, u32>,
    length: u32,
}

/// The BM25 statistics of one database's items of one kind.
#[derive(Debug, Clone, Default)]
struct Corpus {
    documents: Vec<Document>,
    /// Number of documents holding each term.
    document_frequency: HashMap<String, u32>,
    average_length: f32,
}

impl Corpus {
    fn build<'a>(items: impl Iterator<Item = &'a IndexItem>) -> Self {
        let mut corpus = Corpus::default();
        for item in items {
            let tokens = tokenize(&item.text);
            let mut term_counts: HashMap<String, u32> = HashMap::new();
            for t in &tokens {
                *term_counts.entry(t.clone()).or_default() += 1;
            }
            for term in term_counts.keys() {
                *corpus.document_frequency.entry(term.clone()).or_default() += 1;
            }
            corpus.documents.push(Document {
                key: item.key.clone(),
                payload: item.payload.clone(),
                term_counts,
                length: tokens.len() as u32,
            });
        }
        let total: u64 = corpus.documents.iter().map(|d| u64::from(d.length)).sum();
        corpus.average_length = if corpus.documents.is_empty() {
            0.0
        } else {
            total as f32 / corpus.documents.len() as f32
        };
        corpus
    }

    /// The BM25 score of every document sharing a term with the query, best first, at most `k`.
    fn search(&self, kind: ItemKind, query_terms: &[String], k: usize) -> Vec<Hit> {
        let n = self.documents.len() as f32;
        let mut scored: Vec<(f32, &Document)> = self
            .documents
            .iter()
            .filter_map(|doc| {
                let length_norm = if self.average_length > 0.0 {
                    1.0 - B + B * doc.length as f32 / self.average_length
                } else {
                    1.0
                };
                let score: f32 = query_terms
                    .iter()
                    .filter_map(|term| {
                        let tf = *doc.term_counts.get(term)? as f32;
                        let df = *self.document_frequency.get(term)? as f32;
                        let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
                        Some(idf * tf * (K1 + 1.0) / (tf + K1 * length_norm))
                    })
                    .sum();
                (score > 0.0).then_some((score, doc))
            })
            .collect();
        // Ties broken by key so results do not depend on insertion order.
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.key.cmp(&b.1.key)));
        scored
            .into_iter()
            .take(k)
            .map(|(score, doc)| Hit {
                kind,
                key: doc.key.clone(),
                score,
                payload: doc.payload.clone(),
            })
            .collect()
    }
}

/// BM25 corpora keyed by database, then by kind.
#[derive(Debug, Default)]
pub struct LexicalIndex {
    databases: HashMap<String, HashMap<ItemKind, Corpus>>,
}

impl LexicalIndex {
    /// Replaces everything held for `database` with `items` (items of other databases are
    /// ignored). Returns the number of keys that were held before and are gone now.
    pub fn replace(&mut self, database: &str, items: &[IndexItem]) -> usize {
        let mut corpora = HashMap::new();
        let mut removed = 0;
        for kind in ItemKind::ALL {
            let mut seen = std::collections::HashSet::new();
            // The last item with a key wins, as in the vector index where the key is the point id.
            let mut of_kind: Vec<&IndexItem> = items
                .iter()
                .rev()
                .filter(|i| i.kind == kind && i.database == database && seen.insert(i.key.as_str()))
                .collect();
            of_kind.reverse();
            if let Some(old) = self.databases.get(database).and_then(|m| m.get(&kind)) {
                removed += old
                    .documents
                    .iter()
                    .filter(|d| !seen.contains(d.key.as_str()))
                    .count();
            }
            corpora.insert(kind, Corpus::build(of_kind.into_iter()));
        }
        self.databases.insert(database.to_string(), corpora);
        removed
    }

    /// The top `k` items of `kind` in `database` for `question` (none when it shares no word).
    pub fn search(&self, database: &str, kind: ItemKind, question: &str, k: usize) -> Vec<Hit> {
        if k == 0 {
            return Vec::new();
        }
        let mut terms = tokenize(question);
        terms.sort();
        terms.dedup();
        self.databases
            .get(database)
            .and_then(|m| m.get(&kind))
            .map(|c| c.search(kind, &terms, k))
            .unwrap_or_default()
    }

    /// Number of items held per kind, summed over databases.
    pub fn counts(&self, kind: ItemKind) -> usize {
        self.databases
            .values()
            .filter_map(|m| m.get(&kind))
            .map(|c| c.documents.len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(database: &str, key: &str, text: &str) -> IndexItem {
        IndexItem::new(
            ItemKind::Table,
            database,
            key,
            text.to_string(),
            &serde_json::json!({ "name": key }),
        )
    }

    #[test]
    fn tokenize_splits_identifiers_drops_stopwords_and_plurals() {
        assert_eq!(
            tokenize("What are the top Products by elasticity_value?"),
            ["top", "product", "elasticity", "value"]
        );
        assert_eq!(tokenize("gross sales"), ["gross", "sale"]);
    }

    #[test]
    fn rarer_matching_terms_rank_a_document_higher() {
        let mut index = LexicalIndex::default();
        index.replace(
            "retail",
            &[
                item(
                    "retail",
                    "stores",
                    "table stores: each store, its region and opening date",
                ),
                item(
                    "retail",
                    "elasticity",
                    "table price elasticity: how demand for each product responds to price",
                ),
                item(
                    "retail",
                    "products",
                    "table products: each product, its category and price",
                ),
            ],
        );
        let hits = index.search("retail", ItemKind::Table, "price elasticity of products", 3);
        assert_eq!(hits[0].key, "elasticity");
        assert!(hits.iter().all(|h| h.key != "stores"), "{hits:?}");
        assert!(index
            .search("retail", ItemKind::Table, "weather", 3)
            .is_empty());
        assert!(index
            .search("other", ItemKind::Table, "price", 3)
            .is_empty());
    }

    #[test]
    fn replace_reports_the_keys_that_left() {
        let mut index = LexicalIndex::default();
        assert_eq!(
            index.replace("db", &[item("db", "a", "alpha"), item("db", "b", "beta")]),
            0
        );
        assert_eq!(index.replace("db", &[item("db", "a", "alpha")]), 1);
        assert_eq!(index.counts(ItemKind::Table), 1);
    }
}
