//! The embedded vector index: one qdrant-edge shard per item kind (`tables`, `examples`,
//! `rules`) under `<data_dir>/index/<collection>/`, in the process, nothing to install.
//!
//! The shards persist on disk (qdrant-edge replays its write-ahead log after an unclean exit),
//! which is what lets [`crate::retrieval::Retriever::sync`] re-embed only what changed across
//! restarts.
//!
//! qdrant-edge is synchronous and its `flush` expects no concurrent update, so reads share a
//! read lock and writes (upserts, deletes, flush) take the write lock.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use parking_lot::RwLock;
use qdrant_edge::{
    Condition, CountRequest, CreateIndex, Distance, EdgeConfig, EdgeShard, EdgeVectorParams,
    FieldCondition, FieldIndexOperations, Filter, JsonPath, Match, NamedQuery, PayloadFieldSchema,
    PayloadSchemaType, PointId, PointInsertOperations, PointOperations, PointStruct, QueryEnum,
    QueryRequest, ScoringQuery, ScrollRequest, UpdateOperation, VectorInternal,
    VectorStructInternal, WalOptions, WithPayloadInterface, WithVector, DEFAULT_VECTOR_NAME,
};

use super::{point_id, IndexLocation, NewPoint, PointPage, StoredPoint, VectorStore};
use crate::knowledge::ItemKind;
use crate::retrieval::{Embedder, Hit, RetrievalError};

/// Points per upsert operation: one WAL record each, well under the WAL segment size.
const UPSERT_CHUNK: usize = 64;
/// Points per scroll page when listing a database's points.
const SCROLL_PAGE: usize = 256;
/// WAL segment size. qdrant's 32 MiB default is sized for servers; three shards of knowledge
/// items need far less.
const WAL_SEGMENT_BYTES: usize = 4 * 1024 * 1024;

/// The three shards, in the order of [`ItemKind::ALL`].
struct Shards([EdgeShard; 3]);

impl Shards {
    fn get(&self, kind: ItemKind) -> &EdgeShard {
        let i = ItemKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
        &self.0[i]
    }
}

/// The on-disk vector index of the knowledge items.
pub struct EmbeddedIndex {
    root: PathBuf,
    shards: RwLock<Shards>,
}

impl std::fmt::Debug for EmbeddedIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedIndex")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

fn field(name: &str) -> Result<JsonPath, RetrievalError> {
    name.parse().map_err(|()| RetrievalError::Index {
        path: PathBuf::new(),
        message: format!("invalid payload field name '{name}'"),
    })
}

fn database_filter(database: &str) -> Result<Filter, RetrievalError> {
    Ok(Filter::new_must(Condition::Field(
        FieldCondition::new_match(field("database")?, Match::from(database.to_string())),
    )))
}

impl EmbeddedIndex {
    /// Opens the shards under `root` (`<data_dir>/index`), creating the missing ones.
    ///
    /// Errors: a directory that cannot be created, a shard that fails to load, or one built for
    /// vectors of another dimension (a different model: delete `root` to rebuild).
    pub fn open(root: &Path) -> Result<Self, RetrievalError> {
        let mut shards = Vec::with_capacity(3);
        for kind in ItemKind::ALL {
            shards.push(open_shard(&root.join(kind.collection()))?);
        }
        let shards: [EdgeShard; 3] = shards.try_into().map_err(|_| RetrievalError::Index {
            path: root.to_path_buf(),
            message: "expected three shards".into(),
        })?;
        Ok(Self {
            root: root.to_path_buf(),
            shards: RwLock::new(Shards(shards)),
        })
    }

    fn error(&self, kind: ItemKind, e: impl std::fmt::Display) -> RetrievalError {
        RetrievalError::Index {
            path: self.root.join(kind.collection()),
            message: e.to_string(),
        }
    }
}

impl VectorStore for EmbeddedIndex {
    fn stored(
        &self,
        kind: ItemKind,
        database: &str,
    ) -> Result<HashMap<String, StoredPoint>, RetrievalError> {
        let shards = self.shards.read();
        let shard = shards.get(kind);
        let include = WithPayloadInterface::Fields(vec![field("key")?, field("content_hash")?]);
        let mut stored = HashMap::new();
        let mut offset = None;
        loop {
            let request = ScrollRequest {
                offset,
                limit: Some(SCROLL_PAGE),
                filter: Some(database_filter(database)?),
                with_payload: Some(include.clone()),
                with_vector: WithVector::Bool(false),
                order_by: None,
            };
            let (records, next) = shard.scroll(request).map_err(|e| self.error(kind, e))?;
            for record in records {
                let PointId::NumId(id) = record.id else {
                    continue;
                };
                let payload = record.payload.map(|p| p.0).unwrap_or_default();
                let text = |name: &str| {
                    payload
                        .get(name)
                        .and_then(|v| v.as_str())
                        .map(str::to_string)
                };
                if let (Some(key), Some(content_hash)) = (text("key"), text("content_hash")) {
                    stored.insert(key, StoredPoint { id, content_hash });
                }
            }
            match next {
                Some(next) => offset = Some(next),
                None => return Ok(stored),
            }
        }
    }

    /// Writes `points` into the `kind` collection (replacing points with the same id).
    fn upsert(&self, kind: ItemKind, points: Vec<NewPoint>) -> Result<(), RetrievalError> {
        // Nothing to write: skip the flush too (it costs a sync of the shard's files).
        if points.is_empty() {
            return Ok(());
        }
        let shards = self.shards.write();
        let shard = shards.get(kind);
        for chunk in points.chunks(UPSERT_CHUNK) {
            let structs = chunk
                .iter()
                .map(|p| {
                    if p.vector.len() != Embedder::DIMENSION {
                        return Err(RetrievalError::Dimension {
                            expected: Embedder::DIMENSION,
                            actual: p.vector.len(),
                        });
                    }
                    Ok(PointStruct::new(
                        point_id(&p.database, &p.key),
                        p.vector.clone(),
                        p.payload(),
                    )
                    .into())
                })
                .collect::<Result<Vec<_>, _>>()?;
            let operation = UpdateOperation::PointOperation(PointOperations::UpsertPoints(
                PointInsertOperations::PointsList(structs),
            ));
            shard.update(operation).map_err(|e| self.error(kind, e))?;
        }
        Ok(())
    }

    /// Persists the `kind` shard's segments. Updates are durable without it (qdrant-edge
    /// replays its write-ahead log on open) but a flush keeps that replay short; it costs tens
    /// of milliseconds, so small curation edits skip it (see [`super::Retriever::sync`]).
    fn flush(&self, kind: ItemKind) {
        self.shards.write().get(kind).flush();
    }

    /// Deletes the points `ids` from the `kind` collection.
    fn delete(&self, kind: ItemKind, ids: Vec<u64>) -> Result<(), RetrievalError> {
        if ids.is_empty() {
            return Ok(());
        }
        let shards = self.shards.write();
        let shard = shards.get(kind);
        let ids = ids.into_iter().map(PointId::NumId).collect();
        shard
            .update(UpdateOperation::PointOperation(
                PointOperations::DeletePoints { ids },
            ))
            .map_err(|e| self.error(kind, e))?;
        Ok(())
    }

    /// The `k` points of `database` in the `kind` collection nearest to `vector` (cosine
    /// similarity in [-1, 1], best first); each hit's payload is the stored item.
    fn search(
        &self,
        kind: ItemKind,
        database: &str,
        vector: &[f32],
        k: usize,
    ) -> Result<Vec<Hit>, RetrievalError> {
        if k == 0 {
            return Ok(Vec::new());
        }
        let request = QueryRequest {
            prefetches: Vec::new(),
            query: Some(ScoringQuery::Vector(QueryEnum::Nearest(
                NamedQuery::default_dense(vector.to_vec()),
            ))),
            filter: Some(database_filter(database)?),
            score_threshold: None,
            limit: k,
            offset: 0,
            params: None,
            with_vector: WithVector::Bool(false),
            with_payload: WithPayloadInterface::Bool(true),
        };
        let shards = self.shards.read();
        let points = shards
            .get(kind)
            .query(request)
            .map_err(|e| self.error(kind, e))?;
        Ok(points
            .into_iter()
            .filter_map(|p| {
                let mut payload = p.payload?.0;
                let key = payload.get("key")?.as_str()?.to_string();
                let item = payload.remove("item").unwrap_or(serde_json::Value::Null);
                Some(Hit {
                    kind,
                    key,
                    score: p.score,
                    payload: item,
                })
            })
            .collect())
    }

    fn counts(&self) -> Result<BTreeMap<String, u64>, RetrievalError> {
        let shards = self.shards.read();
        ItemKind::ALL
            .iter()
            .map(|kind| {
                let count = shards
                    .get(*kind)
                    .count(CountRequest {
                        filter: None,
                        exact: true,
                    })
                    .map_err(|e| self.error(*kind, e))?;
                Ok((kind.collection().to_string(), count as u64))
            })
            .collect()
    }

    fn page(
        &self,
        kind: ItemKind,
        offset: Option<u64>,
        limit: usize,
    ) -> Result<PointPage, RetrievalError> {
        let request = ScrollRequest {
            offset: offset.map(PointId::NumId),
            limit: Some(limit.max(1)),
            filter: None,
            with_payload: Some(WithPayloadInterface::Bool(true)),
            with_vector: WithVector::Bool(true),
            order_by: None,
        };
        let shards = self.shards.read();
        let (records, next) = shards
            .get(kind)
            .scroll(request)
            .map_err(|e| self.error(kind, e))?;
        let points = records
            .into_iter()
            .filter_map(|record| {
                let vector = match record.vector? {
                    VectorStructInternal::Single(v) => v,
                    VectorStructInternal::Named(mut named) => {
                        match named.remove(DEFAULT_VECTOR_NAME)? {
                            VectorInternal::Dense(v) => v,
                            _ => return None,
                        }
                    }
                    VectorStructInternal::MultiDense(_) => return None,
                };
                NewPoint::from_payload(record.payload?.0, vector)
            })
            .collect();
        let next = match next {
            Some(PointId::NumId(id)) => Some(id),
            _ => None,
        };
        Ok(PointPage { points, next })
    }

    fn location(&self) -> IndexLocation {
        IndexLocation {
            backend: "embedded",
            location: self.root.display().to_string(),
        }
    }
}

/// Loads the shard at `dir`, or creates it (with its `database` keyword index) when absent.
fn open_shard(dir: &Path) -> Result<EdgeShard, RetrievalError> {
    let error = |message: String| RetrievalError::Index {
        path: dir.to_path_buf(),
        message,
    };
    // edge_config.json is written when a shard is created: its presence means a shard exists.
    if dir.join("edge_config.json").is_file() {
        let shard = EdgeShard::load(dir, None).map_err(|e| error(e.to_string()))?;
        let size = shard
            .config()
            .vectors
            .get(DEFAULT_VECTOR_NAME)
            .map(|v| v.size);
        if size != Some(Embedder::DIMENSION) {
            return Err(error(format!(
                "the shard holds vectors of size {size:?}, the embedder makes {}; delete the index directory to rebuild it",
                Embedder::DIMENSION
            )));
        }
        return Ok(shard);
    }
    // qdrant-edge 0.7 expects the directory to exist before `EdgeShard::new`.
    std::fs::create_dir_all(dir).map_err(|source| RetrievalError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut config = EdgeConfig::builder()
        .vector(
            DEFAULT_VECTOR_NAME,
            EdgeVectorParams::builder(Embedder::DIMENSION, Distance::Cosine).build(),
        )
        .build();
    config.wal_options = Some(WalOptions {
        segment_capacity: WAL_SEGMENT_BYTES,
        ..WalOptions::default()
    });
    let shard = EdgeShard::new(dir, config).map_err(|e| error(e.to_string()))?;
    let create_index = CreateIndex {
        field_name: field("database")?,
        field_schema: Some(PayloadFieldSchema::FieldType(PayloadSchemaType::Keyword)),
    };
    shard
        .update(UpdateOperation::FieldIndexOperation(
            FieldIndexOperations::CreateIndex(create_index),
        ))
        .map_err(|e| error(e.to_string()))?;
    shard.flush();
    Ok(shard)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(i: usize) -> Vec<f32> {
        let mut v = vec![0.0; Embedder::DIMENSION];
        v[i] = 1.0;
        v
    }

    fn point(database: &str, key: &str, hash: &str, vector: Vec<f32>) -> NewPoint {
        NewPoint {
            database: database.into(),
            key: key.into(),
            content_hash: hash.into(),
            item: serde_json::json!({ "name": key }),
            vector,
        }
    }

    #[test]
    fn points_persist_across_reopen_and_filter_by_database() {
        let dir = tempfile::tempdir().unwrap();
        {
            let index = EmbeddedIndex::open(dir.path()).unwrap();
            index
                .upsert(
                    ItemKind::Table,
                    vec![
                        point("a", "x", "h1", unit(0)),
                        point("a", "y", "h2", unit(1)),
                        point("b", "x", "h3", unit(0)),
                    ],
                )
                .unwrap();
        }
        let index = EmbeddedIndex::open(dir.path()).unwrap();
        let stored = index.stored(ItemKind::Table, "a").unwrap();
        assert_eq!(stored.len(), 2);
        assert_eq!(stored["x"].content_hash, "h1");
        assert_eq!(stored["x"].id, point_id("a", "x"));
        let hits = index.search(ItemKind::Table, "b", &unit(1), 5).unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].key, "x");
        assert_eq!(hits[0].payload, serde_json::json!({ "name": "x" }));
        let hits = index.search(ItemKind::Table, "a", &unit(1), 5).unwrap();
        assert_eq!(hits[0].key, "y");
        assert!((hits[0].score - 1.0).abs() < 1e-5);
        index
            .delete(ItemKind::Table, vec![point_id("a", "y")])
            .unwrap();
        assert_eq!(index.stored(ItemKind::Table, "a").unwrap().len(), 1);
        let counts = index.counts().unwrap();
        assert_eq!(counts["tables"], 2);
        assert_eq!(counts["rules"], 0);
    }

    #[test]
    fn upsert_rejects_a_vector_of_the_wrong_dimension() {
        let dir = tempfile::tempdir().unwrap();
        let index = EmbeddedIndex::open(dir.path()).unwrap();
        let err = index
            .upsert(ItemKind::Rule, vec![point("a", "x", "h", vec![1.0; 3])])
            .unwrap_err();
        assert!(
            matches!(err, RetrievalError::Dimension { actual: 3, .. }),
            "{err}"
        );
    }
}
