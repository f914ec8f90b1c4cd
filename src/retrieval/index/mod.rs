//! The vector index behind retrieval: three collections (`tables`, `examples`, `rules`) of
//! 384-dimensional vectors compared by cosine similarity, one point per knowledge item.
//!
//! Two stores keep them, behind one trait ([`VectorStore`]):
//!
//! - [`embedded::EmbeddedIndex`], the default: qdrant-edge shards under `<data_dir>/index/`, in
//!   the process, nothing to install;
//! - [`server::ServerIndex`]: a Qdrant server or cluster reached over gRPC with qdrant-client
//!   (`--qdrant-url`, `--qdrant-api-key`).
//!
//! Both hold the same collections and the same points: the id is [`point_id`] of the item's
//! database and key, the payload the JSON object `{database, key, content_hash, item}` with a
//! keyword index on `database`, which every read filters on. [`migrate`] copies one store into
//! the other (`querent index migrate`).

pub mod embedded;
pub mod migrate;
pub mod server;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Hit, RetrievalError};
use crate::knowledge::ItemKind;
use crate::sql::llm::config::Secret;

pub use embedded::EmbeddedIndex;
pub use migrate::{migrate, MigrationReport};
pub use server::{QdrantConnection, ServerIndex};

/// The stable point id of an item: the first 8 bytes (big-endian) of
/// SHA-256(`database` NUL `key`). Collisions need about 2^32 items in one collection.
pub fn point_id(database: &str, key: &str) -> u64 {
    let mut hasher = Sha256::new();
    hasher.update(database.as_bytes());
    hasher.update([0u8]);
    hasher.update(key.as_bytes());
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

/// A point to write (or one read back whole, for a migration): its item's identity, content
/// hash, payload and vector.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPoint {
    pub database: String,
    pub key: String,
    pub content_hash: String,
    pub item: serde_json::Value,
    pub vector: Vec<f32>,
}

impl NewPoint {
    /// The point's payload as both stores keep it.
    pub fn payload(&self) -> serde_json::Value {
        serde_json::json!({
            "database": self.database,
            "key": self.key,
            "content_hash": self.content_hash,
            "item": self.item,
        })
    }

    /// Rebuilds a point from a stored payload and vector; `None` when a field is missing.
    pub fn from_payload(
        mut payload: serde_json::Map<String, serde_json::Value>,
        vector: Vec<f32>,
    ) -> Option<Self> {
        let mut text = |name: &str| match payload.remove(name)? {
            serde_json::Value::String(s) => Some(s),
            _ => None,
        };
        Some(Self {
            database: text("database")?,
            key: text("key")?,
            content_hash: text("content_hash")?,
            item: payload.remove("item").unwrap_or(serde_json::Value::Null),
            vector,
        })
    }
}

/// A search hit from a stored payload (`{database, key, content_hash, item}`) and its score;
/// `None` when the payload has no key.
pub(crate) fn hit(
    kind: ItemKind,
    mut payload: serde_json::Map<String, serde_json::Value>,
    score: f32,
) -> Option<Hit> {
    let key = payload.get("key")?.as_str()?.to_string();
    let item = payload.remove("item").unwrap_or(serde_json::Value::Null);
    Some(Hit {
        kind,
        key,
        score,
        payload: item,
    })
}

/// What the index holds for one item: its point id and content hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPoint {
    pub id: u64,
    pub content_hash: String,
}

/// One page of a collection's points, read whole for a migration.
#[derive(Debug, Clone, Default)]
pub struct PointPage {
    pub points: Vec<NewPoint>,
    /// The offset of the next page; `None` after the last.
    pub next: Option<u64>,
}

/// Where the index lives, for health reports: `embedded` with its directory, or `qdrant_server`
/// with its URL (never its API key).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IndexLocation {
    /// `embedded` or `qdrant_server`.
    pub backend: &'static str,
    /// The index directory, or the server's URL.
    pub location: String,
}

/// Which store to open, from the settings.
#[derive(Debug, Clone)]
pub enum IndexConfig {
    /// qdrant-edge shards under this directory (`<data_dir>/index`).
    Embedded { root: PathBuf },
    /// A Qdrant server or cluster.
    Server(ServerConfig),
}

/// How to reach a Qdrant server: its gRPC URL (port 6334 by default), an optional API key, a
/// prefix for the collection names (several querent installations can share a cluster) and
/// the time limit of each call.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub url: String,
    pub api_key: Option<Secret>,
    pub collection_prefix: String,
    pub timeout: Duration,
}

impl ServerConfig {
    /// The name of `kind`'s collection on the server: the prefix, then `tables`, `examples` or
    /// `rules`.
    pub fn collection(&self, kind: ItemKind) -> String {
        format!("{}{}", self.collection_prefix, kind.collection())
    }
}

/// A store of the three collections. Every method blocks (disk I/O, or a network round trip);
/// async callers run them on a blocking thread. Errors are [`RetrievalError::Index`] (embedded)
/// or [`RetrievalError::Server`] (a server call failed or timed out).
pub trait VectorStore: Send + Sync + std::fmt::Debug {
    /// Every point of `database` in the `kind` collection, by key.
    fn stored(
        &self,
        kind: ItemKind,
        database: &str,
    ) -> Result<HashMap<String, StoredPoint>, RetrievalError>;

    /// Writes `points` into the `kind` collection, replacing points with the same id. Vectors
    /// must have [`super::Embedder::DIMENSION`] components ([`RetrievalError::Dimension`]).
    fn upsert(&self, kind: ItemKind, points: Vec<NewPoint>) -> Result<(), RetrievalError>;

    /// Deletes the points `ids` from the `kind` collection.
    fn delete(&self, kind: ItemKind, ids: Vec<u64>) -> Result<(), RetrievalError>;

    /// Makes the `kind` collection's recent writes cheap to reopen (embedded: persists the
    /// shard's segments; a server persists on its own, so this does nothing there).
    fn flush(&self, kind: ItemKind);

    /// The `k` points of `database` in the `kind` collection nearest to `vector` (cosine
    /// similarity in [-1, 1], best first); each hit's payload is the stored item.
    fn search(
        &self,
        kind: ItemKind,
        database: &str,
        vector: &[f32],
        k: usize,
    ) -> Result<Vec<Hit>, RetrievalError>;

    /// Number of points per collection (`tables`, `examples`, `rules`).
    fn counts(&self) -> Result<BTreeMap<String, u64>, RetrievalError>;

    /// Up to `limit` whole points of the `kind` collection (every database), in id order from
    /// `offset`.
    fn page(
        &self,
        kind: ItemKind,
        offset: Option<u64>,
        limit: usize,
    ) -> Result<PointPage, RetrievalError>;

    /// Where the store lives.
    fn location(&self) -> IndexLocation;
}

/// Opens the store `config` names, creating missing collections.
///
/// Errors: for the embedded store, those of [`EmbeddedIndex::open`]; for a server, one that
/// cannot be reached, refuses the API key, or holds a collection of another vector size.
pub fn open(config: &IndexConfig) -> Result<Box<dyn VectorStore>, RetrievalError> {
    Ok(match config {
        IndexConfig::Embedded { root } => Box::new(EmbeddedIndex::open(root)?),
        IndexConfig::Server(server) => Box::new(ServerIndex::open(server.clone())?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn point_ids_are_stable_and_distinct() {
        assert_eq!(point_id("retail", "stores"), point_id("retail", "stores"));
        assert_ne!(point_id("retail", "stores"), point_id("other", "stores"));
        assert_ne!(point_id("retail", "stores"), point_id("retail", "sales"));
    }

    #[test]
    fn a_payload_reads_back_into_the_same_point() {
        let point = NewPoint {
            database: "retail".into(),
            key: "stores".into(),
            content_hash: "abc".into(),
            item: serde_json::json!({"name": "stores", "columns": [1, 2]}),
            vector: vec![0.5, 0.5],
        };
        let serde_json::Value::Object(payload) = point.payload() else {
            panic!("a payload is an object");
        };
        assert_eq!(NewPoint::from_payload(payload, vec![0.5, 0.5]), Some(point));
    }

    #[test]
    fn a_payload_without_its_key_is_not_a_point() {
        let payload = serde_json::json!({"database": "retail", "content_hash": "h"});
        let serde_json::Value::Object(payload) = payload else {
            unreachable!()
        };
        assert_eq!(NewPoint::from_payload(payload, vec![]), None);
    }

    #[test]
    fn server_collections_carry_the_prefix() {
        let config = ServerConfig {
            url: "http://localhost:6334".into(),
            api_key: None,
            collection_prefix: "querent_".into(),
            timeout: Duration::from_secs(5),
        };
        assert_eq!(config.collection(ItemKind::Example), "querent_examples");
    }
}
