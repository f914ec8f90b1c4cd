//! Retrieval: finds the table docs, examples and business rules relevant to a question.
//!
//! [`Retriever`] is the whole public surface the engine uses: [`Retriever::open`] once,
//! [`Retriever::sync`] whenever a database's knowledge items change, [`Retriever::search`] per
//! question, [`Retriever::status`] for health. Behind it:
//!
//! - [`embedder`]: all-MiniLM-L6-v2 through fastembed and ONNX Runtime (384-dimensional unit
//!   vectors), found by [`default_model_dir`];
//! - [`index`]: the collections `tables`, `examples` and `rules`, filtered by database, in
//!   qdrant-edge shards under `<data_dir>/index/` (the default) or on a Qdrant server
//!   (`--qdrant-url`);
//! - [`lexical`]: an in-memory BM25 index over the same items, rebuilt on every sync, used
//!   when no model is available (the status says why).
//!
//! Everything here is synchronous and blocking (ONNX inference, disk I/O): async callers wrap
//! calls in `spawn_blocking`. The knowledge items themselves ([`IndexItem`], [`ItemKind`]) belong
//! to [`crate::knowledge`].

pub mod embedder;
pub mod eval;
pub mod index;
pub mod lexical;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};

pub use embedder::{default_model_dir, Embedder, MODEL_DIR_ENV};
pub use index::{IndexConfig, IndexLocation, ServerConfig, VectorStore};
pub use lexical::LexicalIndex;

use crate::knowledge::{BusinessRule, IndexItem, ItemKind};

/// Syncs that write or delete at least this many points of a kind flush its shard.
const FLUSH_AT: usize = 16;

/// What can go wrong in retrieval. Public functions return `anyhow::Result` wrapping these, so
/// callers can `downcast_ref::<RetrievalError>()` to tell the cases apart.
#[derive(Debug, thiserror::Error)]
pub enum RetrievalError {
    /// The model directory lacks a file `scripts/setup-model` provides.
    #[error("the model directory {dir} lacks {file} (run scripts/setup-model)")]
    ModelFileMissing { dir: PathBuf, file: String },
    /// A file or directory could not be read or created.
    #[error("cannot access {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// ONNX Runtime could not be loaded from the library at `path`.
    #[error("cannot load ONNX Runtime from {path}: {message}")]
    Runtime { path: PathBuf, message: String },
    /// The embedding model failed to load or to run.
    #[error("embedding model error: {0}")]
    Model(String),
    /// A vector has the wrong number of dimensions.
    #[error("vectors have {actual} dimensions where {expected} are expected")]
    Dimension { expected: usize, actual: usize },
    /// The vector index (a qdrant-edge shard under `path`) failed.
    #[error("vector index error at {path}: {message}")]
    Index { path: PathBuf, message: String },
    /// A call to the Qdrant server at `url` failed, timed out or was refused.
    #[error("Qdrant server at {url}: {message}")]
    Server { url: String, message: String },
    /// `sync` was given an item of another database.
    #[error("sync of database '{expected}' was given an item of database '{found}' (key '{key}')")]
    ForeignItem {
        expected: String,
        found: String,
        key: String,
    },
}

/// A retrieved knowledge item: its kind, key, score and the item itself (`payload`, the JSON of
/// the [`crate::knowledge::TableDoc`], [`crate::knowledge::Example`] or
/// [`crate::knowledge::BusinessRule`]).
///
/// `score` is the cosine similarity in [-1, 1] in vector mode, the BM25 score (unbounded,
/// positive) in lexical mode; compare scores only within one [`Retrieved`].
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub kind: ItemKind,
    pub key: String,
    pub score: f32,
    pub payload: serde_json::Value,
}

/// The items retrieved for one question, best first within each kind.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Retrieved {
    pub tables: Vec<Hit>,
    pub examples: Vec<Hit>,
    pub rules: Vec<Hit>,
    /// How they were found.
    pub mode: RetrievalMode,
}

/// How items are retrieved: by embedding similarity, or by BM25 word overlap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetrievalMode {
    #[default]
    Vector,
    Lexical,
}

/// What one [`Retriever::sync`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// Items embedded and written (new, or content hash changed).
    pub embedded: usize,
    /// Items already indexed with the same content hash.
    pub unchanged: usize,
    /// Points removed because their key is no longer among the items.
    pub deleted: usize,
}

/// The state of retrieval, for health reports.
#[derive(Debug, Clone, Serialize)]
pub struct RetrievalStatus {
    pub mode: RetrievalMode,
    /// The model directory in use (vector mode).
    pub model_dir: Option<String>,
    /// Why retrieval is lexical (lexical mode).
    pub reason: Option<String>,
    /// Items indexed per collection (`tables`, `examples`, `rules`): points in the vector index
    /// in vector mode, documents in the lexical index otherwise.
    pub points: BTreeMap<String, u64>,
    /// Where the vector index lives (vector mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<IndexLocation>,
    /// Why the vector index could not be read just now (a Qdrant server out of reach): questions
    /// are answered by the lexical index meanwhile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_error: Option<String>,
}

/// The embedder and the vector index, or why there are none.
enum Backend {
    Vector {
        embedder: Embedder,
        index: Box<dyn VectorStore>,
    },
    Lexical {
        reason: String,
    },
}

/// The retriever: embedder and qdrant-edge index when a model is available, BM25 otherwise.
/// `Send + Sync`; searches run concurrently, syncs one at a time.
pub struct Retriever {
    backend: Backend,
    lexical: RwLock<LexicalIndex>,
    /// Serialises syncs: each reads the index state, then writes to it. Holds what the index
    /// stores per (kind, database) as the last sync left it, so that a small edit does not
    /// scroll every point again; an entry is dropped while its sync runs, so a failed sync
    /// makes the next one read the index afresh.
    sync_lock: Mutex<HashMap<(ItemKind, String), HashMap<String, index::StoredPoint>>>,
    /// Vectors of recent questions ([`QUESTION_VECTORS`] at most): a repeated question is
    /// not embedded again.
    question_vectors: quick_cache::sync::Cache<String, Vec<f32>>,
    /// Question vectors found in, and missing from, `question_vectors`.
    vector_hits: std::sync::atomic::AtomicU64,
    vector_misses: std::sync::atomic::AtomicU64,
}

/// How many question vectors the retriever keeps.
const QUESTION_VECTORS: usize = 4096;

impl std::fmt::Debug for Retriever {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Retriever")
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

impl Retriever {
    /// Opens retrieval over `data_dir` with the embedded vector index (in `data_dir/index/`);
    /// see [`Retriever::open_with`].
    pub fn open(data_dir: &Path, model_dir: Option<&Path>) -> anyhow::Result<Self> {
        let index = IndexConfig::Embedded {
            root: data_dir.join("index"),
        };
        Self::open_with(&index, model_dir)
    }

    /// Opens retrieval with the vector index `index` names (embedded, or a Qdrant server).
    ///
    /// With `model_dir` the embedder is loaded from it; if that fails, or without `model_dir`,
    /// retrieval is lexical and [`Retriever::status`] gives the reason (the vector index is not
    /// opened then). Errors: the vector index cannot be opened or created, or the Qdrant server
    /// cannot be reached ([`RetrievalError::Server`]): a configured server is not silently
    /// replaced at start-up.
    pub fn open_with(index: &IndexConfig, model_dir: Option<&Path>) -> anyhow::Result<Self> {
        let backend = match model_dir {
            None => Backend::Lexical {
                reason: format!(
                    "no embedding model found (set {MODEL_DIR_ENV} or run scripts/setup-model); \
                     retrieval uses BM25 word overlap"
                ),
            },
            Some(dir) => match Embedder::load(dir) {
                Ok(embedder) => {
                    let index = index::open(index)?;
                    Backend::Vector { embedder, index }
                }
                Err(e) => {
                    tracing::warn!(model_dir = %dir.display(), error = %e, "embedding model unavailable; retrieval is lexical");
                    Backend::Lexical {
                        reason: format!("the embedding model failed to load: {e:#}"),
                    }
                }
            },
        };
        Ok(Self {
            backend,
            lexical: RwLock::new(LexicalIndex::default()),
            sync_lock: Mutex::new(HashMap::new()),
            question_vectors: quick_cache::sync::Cache::new(QUESTION_VECTORS),
            vector_hits: Default::default(),
            vector_misses: Default::default(),
        })
    }

    /// The current retrieval mode.
    pub fn mode(&self) -> RetrievalMode {
        match self.backend {
            Backend::Vector { .. } => RetrievalMode::Vector,
            Backend::Lexical { .. } => RetrievalMode::Lexical,
        }
    }

    /// Makes the index hold exactly `items` for `database`: embeds and writes only the items whose
    /// content hash is new or changed, deletes the database's points whose key is gone, and
    /// rebuilds the database's lexical index. Items sharing a kind and key: the last one wins.
    ///
    /// In lexical mode nothing is embedded: `embedded` is 0, `unchanged` counts the items, and
    /// `deleted` the keys that left the lexical index.
    ///
    /// Errors: an item of another database ([`RetrievalError::ForeignItem`]), the embedder or
    /// the index failing (the index then holds a consistent subset; the next sync completes it).
    pub fn sync(&self, database: &str, items: &[IndexItem]) -> anyhow::Result<SyncReport> {
        if let Some(foreign) = items.iter().find(|i| i.database != database) {
            return Err(RetrievalError::ForeignItem {
                expected: database.to_string(),
                found: foreign.database.clone(),
                key: foreign.key.clone(),
            }
            .into());
        }
        let mut known = self.sync_lock.lock();
        let lexically_deleted = self.lexical.write().replace(database, items);
        let (embedder, index) = match &self.backend {
            Backend::Lexical { .. } => {
                return Ok(SyncReport {
                    embedded: 0,
                    unchanged: items.len(),
                    deleted: lexically_deleted,
                });
            }
            Backend::Vector { embedder, index } => (embedder, index),
        };

        let mut report = SyncReport::default();
        for kind in ItemKind::ALL {
            let mut wanted: HashMap<&str, &IndexItem> = HashMap::new();
            for item in items.iter().filter(|i| i.kind == kind) {
                wanted.insert(item.key.as_str(), item);
            }
            let cache_key = (kind, database.to_string());
            let mut stored = match known.remove(&cache_key) {
                Some(stored) => stored,
                None => index.stored(kind, database)?,
            };
            let mut changed: Vec<&IndexItem> = wanted
                .values()
                .filter(|item| {
                    stored
                        .get(&item.key)
                        .is_none_or(|s| s.content_hash != item.content_hash)
                })
                .copied()
                .collect();
            changed.sort_by(|a, b| a.key.cmp(&b.key));
            let gone: Vec<u64> = stored
                .iter()
                .filter(|(key, _)| !wanted.contains_key(key.as_str()))
                .map(|(_, s)| s.id)
                .collect();

            let texts: Vec<String> = changed.iter().map(|i| i.text.clone()).collect();
            let vectors = embedder.embed_typed(&texts)?;
            let points = changed
                .iter()
                .zip(vectors)
                .map(|(item, vector)| index::NewPoint {
                    database: database.to_string(),
                    key: item.key.clone(),
                    content_hash: item.content_hash.clone(),
                    item: item.payload.clone(),
                    vector,
                })
                .collect();
            index.upsert(kind, points)?;
            index.delete(kind, gone.clone())?;
            stored.retain(|key, _| wanted.contains_key(key.as_str()));
            for item in &changed {
                stored.insert(
                    item.key.clone(),
                    index::StoredPoint {
                        id: index::point_id(database, &item.key),
                        content_hash: item.content_hash.clone(),
                    },
                );
            }
            // A bulk change is flushed; a curation edit of a few items leaves it to the WAL,
            // which qdrant-edge replays on open (the knowledge files stay the source of truth,
            // and the next sync re-embeds whatever the index lacks).
            if changed.len() + gone.len() >= FLUSH_AT {
                index.flush(kind);
            }

            report.embedded += changed.len();
            report.unchanged += wanted.len() - changed.len();
            report.deleted += gone.len();
            known.insert(cache_key, stored);
        }
        tracing::info!(database, ?report, "retrieval index synced");
        Ok(report)
    }

    /// The top `k_tables` table docs, `k_examples` examples and `k_rules` rules of `database`
    /// for `question`, best first.
    ///
    /// In vector mode the question is embedded and matched by cosine similarity; should the
    /// embedder or the vector index fail at run time (a Qdrant server out of reach), the
    /// lexical index answers instead and `mode` says so. A database never synced gives empty
    /// lists. The `Result` is kept for callers; today every failure degrades to lexical.
    pub fn search(
        &self,
        database: &str,
        question: &str,
        k_tables: usize,
        k_examples: usize,
        k_rules: usize,
    ) -> anyhow::Result<Retrieved> {
        let wanted = [
            (ItemKind::Table, k_tables),
            (ItemKind::Example, k_examples),
            (ItemKind::Rule, k_rules),
        ];
        let mut retrieved = Retrieved::default();
        let vector = match &self.backend {
            Backend::Vector { embedder, index } => match self.question_vector(embedder, question) {
                Ok(v) => v.map(|v| (index, v)),
                Err(e) => {
                    tracing::warn!(error = %e, "question embedding failed; answering lexically");
                    None
                }
            },
            Backend::Lexical { .. } => None,
        };
        match vector {
            Some((index, vector)) => {
                retrieved.mode = RetrievalMode::Vector;
                for (kind, k) in wanted {
                    match index.search(kind, database, &vector, k) {
                        Ok(hits) => *retrieved.list_mut(kind) = hits,
                        // A server out of reach: this question is answered lexically.
                        Err(e) => {
                            tracing::warn!(error = %e, "vector index unavailable; answering lexically");
                            return Ok(self.search_lexically(database, question, wanted));
                        }
                    }
                }
            }
            None => return Ok(self.search_lexically(database, question, wanted)),
        }
        Ok(retrieved)
    }

    /// The vector of `question`, from the recent questions' vectors or the embedder.
    fn question_vector(
        &self,
        embedder: &Embedder,
        question: &str,
    ) -> Result<Option<Vec<f32>>, RetrievalError> {
        use std::sync::atomic::Ordering;
        if let Some(v) = self.question_vectors.get(question) {
            self.vector_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(Some(v));
        }
        self.vector_misses.fetch_add(1, Ordering::Relaxed);
        let vector = embedder.embed_typed(&[question.to_string()])?.pop();
        if let Some(v) = &vector {
            self.question_vectors
                .insert(question.to_string(), v.clone());
        }
        Ok(vector)
    }

    /// Question vectors served from the cache and embedded, since start.
    pub fn vector_cache_counts(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering;
        (
            self.vector_hits.load(Ordering::Relaxed),
            self.vector_misses.load(Ordering::Relaxed),
        )
    }

    /// Persists every collection's recent writes (embedded index; a server persists on its
    /// own), so that the next start replays nothing and re-embeds nothing. Waits for a sync
    /// in progress.
    pub fn flush(&self) {
        let _sync = self.sync_lock.lock();
        if let Backend::Vector { index, .. } = &self.backend {
            for kind in ItemKind::ALL {
                index.flush(kind);
            }
        }
    }

    fn search_lexically(
        &self,
        database: &str,
        question: &str,
        wanted: [(ItemKind, usize); 3],
    ) -> Retrieved {
        let mut retrieved = Retrieved {
            mode: RetrievalMode::Lexical,
            ..Retrieved::default()
        };
        let lexical = self.lexical.read();
        for (kind, k) in wanted {
            *retrieved.list_mut(kind) = lexical.search(database, kind, question, k);
        }
        retrieved
    }

    /// The mode, the model directory or the reason for lexical mode, and the items indexed.
    pub fn status(&self) -> RetrievalStatus {
        match &self.backend {
            Backend::Vector { embedder, index } => {
                let (points, index_error) = match index.counts() {
                    Ok(points) => (points, None),
                    Err(e) => (BTreeMap::new(), Some(e.to_string())),
                };
                RetrievalStatus {
                    mode: RetrievalMode::Vector,
                    model_dir: Some(embedder.model_dir().display().to_string()),
                    reason: None,
                    points,
                    index: Some(index.location()),
                    index_error,
                }
            }
            Backend::Lexical { reason } => {
                let lexical = self.lexical.read();
                RetrievalStatus {
                    mode: RetrievalMode::Lexical,
                    model_dir: None,
                    reason: Some(reason.clone()),
                    points: ItemKind::ALL
                        .iter()
                        .map(|k| (k.collection().to_string(), lexical.counts(*k) as u64))
                        .collect(),
                    index: None,
                    index_error: None,
                }
            }
        }
    }
}

// The engine shares one retriever across request threads.
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Retriever>();
};

impl Retrieved {
    /// Adds the rules of `rules` that the question or a retrieved example's question names by
    /// the rule's name or one of its keywords (the phrase's words in a row, case and a plural
    /// `s` aside, function words skipped: see [`lexical::tokenize`]) and that the search left
    /// out, after the retrieved ones, with score 0: a curated rule called up by name applies
    /// however far its embedding lies, and an example is read with the rules it names.
    pub fn add_named_rules(&mut self, rules: &[BusinessRule], question: &str) {
        let texts: Vec<Vec<String>> = std::iter::once(question)
            .chain(self.examples.iter().map(|h| h.key.as_str()))
            .map(lexical::tokenize)
            .collect();
        let names = |phrase: &str| {
            let p = lexical::tokenize(phrase);
            !p.is_empty()
                && texts
                    .iter()
                    .any(|words| words.windows(p.len()).any(|w| w == p.as_slice()))
        };
        for rule in rules {
            if self.rules.iter().any(|h| h.key == rule.name) {
                continue;
            }
            if std::iter::once(&rule.name)
                .chain(&rule.keywords)
                .any(|phrase| names(phrase))
            {
                self.rules.push(Hit {
                    kind: ItemKind::Rule,
                    key: rule.name.clone(),
                    score: 0.0,
                    payload: serde_json::to_value(rule).unwrap_or(serde_json::Value::Null),
                });
            }
        }
    }

    fn list_mut(&mut self, kind: ItemKind) -> &mut Vec<Hit> {
        match kind {
            ItemKind::Table => &mut self.tables,
            ItemKind::Example => &mut self.examples,
            ItemKind::Rule => &mut self.rules,
            // the semantic kinds are not embedded: they are never searched (ItemKind::ALL)
            ItemKind::SemanticModel | ItemKind::Metric | ItemKind::Filter => {
                unreachable!("only the embedded kinds are retrieved")
            }
        }
    }
}

#[cfg(test)]
mod tests;
