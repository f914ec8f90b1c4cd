//! The vector index on a Qdrant server or cluster, through qdrant-client (gRPC, port 6334).
//!
//! Same collections (named `<prefix>tables`, `<prefix>examples`, `<prefix>rules`; the prefix is
//! empty unless configured), same point ids and payloads as [`super::EmbeddedIndex`], so that
//! the two give the same top results on the same knowledge and [`super::migrate`] can copy one
//! into the other. Collections are created on first use with 384-dimensional cosine vectors and
//! a keyword index on `database`.
//!
//! qdrant-client is async; [`VectorStore`] is blocking (retrieval runs on blocking threads). The
//! index owns a small tokio runtime and waits on each call there, so it may be called from any
//! thread, inside another runtime or not. Each call is bounded by the configured time limit.
//! Writes wait for the server to apply them (`wait: true`), so the next search sees them.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use qdrant_client::qdrant::{
    point_id::PointIdOptions, vector_output, vectors_config,
    with_payload_selector::SelectorOptions, Condition, CountPointsBuilder, CreateCollectionBuilder,
    CreateFieldIndexCollectionBuilder, DeletePointsBuilder, Distance, FieldType, Filter,
    PayloadIncludeSelector, PointId, PointStruct, PointsIdsList, QueryPointsBuilder,
    RetrievedPoint, ScrollPointsBuilder, UpsertPointsBuilder, VectorParamsBuilder,
};
use qdrant_client::{Payload, Qdrant, QdrantError};

use super::{point_id, IndexLocation, NewPoint, PointPage, ServerConfig, StoredPoint, VectorStore};
use crate::knowledge::ItemKind;
use crate::retrieval::{Embedder, Hit, RetrievalError};

/// After a call finds the server out of reach, calls fail at once for this long instead of
/// each waiting for the time limit (questions are answered lexically meanwhile); the first call
/// after it tries the server again.
const COOL_DOWN: Duration = Duration::from_secs(10);
/// Points per upsert call.
const UPSERT_CHUNK: usize = 256;
/// Points per scroll page when listing a database's points.
const SCROLL_PAGE: u32 = 1024;

/// The index on a Qdrant server.
#[derive(Debug)]
pub struct ServerIndex {
    conn: QdrantConnection,
}

/// A connection to a Qdrant server: the client, the runtime its futures run on, the time
/// limit of each call and the cool-down after the server was found out of reach. The index and
/// the replicas' shared state ([`crate::replication`]) each hold one.
pub struct QdrantConnection {
    client: Qdrant,
    config: ServerConfig,
    /// Runs the client's futures; `Option` only so that `Drop` can shut it down without
    /// blocking (a runtime dropped inside another one would panic).
    runtime: Option<tokio::runtime::Runtime>,
    /// When a call last found the server out of reach, and why.
    outage: Mutex<Option<(Instant, String)>>,
}

impl std::fmt::Debug for QdrantConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QdrantConnection")
            .field("url", &self.config.url)
            .field("collection_prefix", &self.config.collection_prefix)
            .finish_non_exhaustive()
    }
}

impl Drop for QdrantConnection {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl ServerIndex {
    /// Connects to the server `config` names, checks that it answers, and creates the missing
    /// collections (384-dimensional cosine vectors, keyword index on `database`).
    ///
    /// Errors ([`RetrievalError::Server`]): an invalid URL, a server that does not answer
    /// within the time limit, a refused API key, or an existing collection whose vectors are
    /// not 384-dimensional (made with another model: delete it, or choose another prefix).
    pub fn open(config: ServerConfig) -> Result<Self, RetrievalError> {
        let index = Self {
            conn: QdrantConnection::connect(config)?,
        };
        for kind in ItemKind::ALL {
            index.ensure_collection(kind)?;
        }
        Ok(index)
    }

    fn run<T: Send + 'static>(
        &self,
        what: &str,
        future: impl Future<Output = Result<T, QdrantError>> + Send + 'static,
    ) -> Result<T, RetrievalError> {
        self.conn.run(what, future)
    }
}

impl QdrantConnection {
    /// Connects to the server `config` names and checks that it answers.
    ///
    /// Errors ([`RetrievalError::Server`]): an invalid URL, a server that does not answer
    /// within the time limit, a refused API key.
    pub fn connect(config: ServerConfig) -> Result<Self, RetrievalError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("qdrant-client")
            .enable_all()
            .build()
            .map_err(|e| RetrievalError::Server {
                url: config.url.clone(),
                message: format!("cannot start the client's runtime: {e}"),
            })?;
        // The version check would log a warning per unreachable server; health_check below
        // gives a clear error instead.
        let client = Qdrant::from_url(&config.url)
            .api_key(config.api_key.as_ref().map(|k| k.expose().to_string()))
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .skip_compatibility_check()
            .build()
            .map_err(|e| RetrievalError::Server {
                url: config.url.clone(),
                message: e.to_string(),
            })?;
        let conn = Self {
            client,
            config,
            runtime: Some(runtime),
            outage: Mutex::new(None),
        };
        let client = conn.client.clone();
        let version = conn.run("health check", async move {
            Ok(client.health_check().await?.version)
        })?;
        tracing::info!(url = %conn.config.url, %version, "Qdrant server reachable");
        Ok(conn)
    }

    /// The client, to build a call for [`QdrantConnection::run`].
    pub fn client(&self) -> Qdrant {
        self.client.clone()
    }

    /// Where the server is, its prefix and time limit.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Runs `future` on the index's runtime and waits for it, within the time limit. While the
    /// server is known to be out of reach (within [`COOL_DOWN`] of a failed call) it fails at
    /// once, naming the last failure.
    pub fn run<T: Send + 'static>(
        &self,
        what: &str,
        future: impl Future<Output = Result<T, QdrantError>> + Send + 'static,
    ) -> Result<T, RetrievalError> {
        let error = |message: String| RetrievalError::Server {
            url: self.config.url.clone(),
            message: format!("{what}: {message}"),
        };
        if let Some((at, why)) = self.outage.lock().as_ref() {
            let since = at.elapsed();
            if since < COOL_DOWN {
                return Err(error(format!(
                    "not tried: out of reach {:.1} s ago ({why})",
                    since.as_secs_f64()
                )));
            }
        }
        let Some(runtime) = &self.runtime else {
            return Err(error("the client is shut down".into()));
        };
        let limit = self.config.timeout;
        // The timer is made inside the task: it needs the runtime's context.
        let task = runtime.spawn(async move { tokio::time::timeout(limit, future).await });
        let (message, unreachable) = match futures::executor::block_on(task) {
            Ok(Ok(Ok(value))) => {
                *self.outage.lock() = None;
                return Ok(value);
            }
            Ok(Ok(Err(e))) => describe(&e),
            Ok(Err(_)) => (format!("no answer within {} ms", limit.as_millis()), true),
            Err(e) => (format!("the call failed: {e}"), true),
        };
        if unreachable {
            *self.outage.lock() = Some((Instant::now(), message.clone()));
        }
        Err(error(message))
    }
}

impl ServerIndex {
    /// Creates `kind`'s collection when it is missing; checks its vector size when it exists.
    fn ensure_collection(&self, kind: ItemKind) -> Result<(), RetrievalError> {
        let name = self.conn.config.collection(kind);
        let client = self.conn.client.clone();
        let collection = name.clone();
        let exists = self.run("collection check", async move {
            client.collection_exists(collection).await
        })?;
        if exists {
            let client = self.conn.client.clone();
            let collection = name.clone();
            let info = self.run("collection info", async move {
                client.collection_info(collection).await
            })?;
            let size = info
                .result
                .and_then(|i| i.config)
                .and_then(|c| c.params)
                .and_then(|p| p.vectors_config)
                .and_then(|v| v.config)
                .and_then(|c| match c {
                    vectors_config::Config::Params(p) => Some(p.size),
                    vectors_config::Config::ParamsMap(_) => None,
                });
            if size != Some(Embedder::DIMENSION as u64) {
                return Err(RetrievalError::Server {
                    url: self.conn.config.url.clone(),
                    message: format!(
                        "collection '{name}' holds vectors of size {size:?}, the embedder makes {}; \
                         delete the collection or choose another --qdrant-collection-prefix",
                        Embedder::DIMENSION
                    ),
                });
            }
            return Ok(());
        }
        let client = self.conn.client.clone();
        let collection = name.clone();
        let created = self.run("create collection", async move {
            client
                .create_collection(CreateCollectionBuilder::new(collection).vectors_config(
                    VectorParamsBuilder::new(Embedder::DIMENSION as u64, Distance::Cosine),
                ))
                .await
        });
        if let Err(e) = created {
            // Another process may have created it meanwhile.
            let client = self.conn.client.clone();
            let collection = name.clone();
            let exists = self.run("collection check", async move {
                client.collection_exists(collection).await
            })?;
            if !exists {
                return Err(e);
            }
        }
        let client = self.conn.client.clone();
        self.run("create the database index", async move {
            client
                .create_field_index(
                    CreateFieldIndexCollectionBuilder::new(name, "database", FieldType::Keyword)
                        .wait(true),
                )
                .await
        })?;
        Ok(())
    }

    fn database_filter(database: &str) -> Filter {
        Filter::must([Condition::matches("database", database.to_string())])
    }
}

/// A client error in a sentence (without the gRPC metadata), and whether it means the server
/// is out of reach (rather than refusing this one call).
fn describe(e: &QdrantError) -> (String, bool) {
    use tonic::Code;
    match e {
        QdrantError::ResponseError { status } => {
            let unreachable = matches!(
                status.code(),
                Code::Unavailable
                    | Code::DeadlineExceeded
                    | Code::Internal
                    | Code::Unknown
                    | Code::Cancelled
            );
            (
                format!("{:?}: {}", status.code(), status.message()),
                unreachable,
            )
        }
        QdrantError::ResourceExhaustedError {
            status,
            retry_after_seconds,
        } => (
            format!("{}; retry after {retry_after_seconds} s", status.message()),
            false,
        ),
        other => (other.to_string(), false),
    }
}

/// The numeric id of a point read back; querent writes only numeric ids.
fn numeric_id(id: Option<&PointId>) -> Option<u64> {
    match id?.point_id_options.as_ref()? {
        PointIdOptions::Num(n) => Some(*n),
        PointIdOptions::Uuid(_) => None,
    }
}

/// A payload read back from the server, as JSON.
fn json_payload(
    payload: HashMap<String, qdrant_client::qdrant::Value>,
) -> serde_json::Map<String, serde_json::Value> {
    payload
        .into_iter()
        .map(|(k, v)| (k, v.into_json()))
        .collect()
}

/// A whole point read back (payload and dense vector).
fn whole_point(point: RetrievedPoint) -> Option<NewPoint> {
    let vector = match point.vectors?.get_vector()? {
        vector_output::Vector::Dense(dense) => dense.data,
        _ => return None,
    };
    NewPoint::from_payload(json_payload(point.payload), vector)
}

impl VectorStore for ServerIndex {
    fn stored(
        &self,
        kind: ItemKind,
        database: &str,
    ) -> Result<HashMap<String, StoredPoint>, RetrievalError> {
        let mut stored = HashMap::new();
        let mut offset: Option<PointId> = None;
        loop {
            let mut request = ScrollPointsBuilder::new(self.conn.config.collection(kind))
                .filter(Self::database_filter(database))
                .limit(SCROLL_PAGE)
                .with_payload(SelectorOptions::Include(PayloadIncludeSelector {
                    fields: vec!["key".into(), "content_hash".into()],
                }))
                .with_vectors(false);
            if let Some(offset) = offset.take() {
                request = request.offset(offset);
            }
            let client = self.conn.client.clone();
            let page = self.run("scroll", async move { client.scroll(request).await })?;
            for point in page.result {
                let Some(id) = numeric_id(point.id.as_ref()) else {
                    continue;
                };
                let payload = json_payload(point.payload);
                let text = |name: &str| payload.get(name)?.as_str().map(str::to_string);
                if let (Some(key), Some(content_hash)) = (text("key"), text("content_hash")) {
                    stored.insert(key, StoredPoint { id, content_hash });
                }
            }
            match page.next_page_offset {
                Some(next) => offset = Some(next),
                None => return Ok(stored),
            }
        }
    }

    fn upsert(&self, kind: ItemKind, points: Vec<NewPoint>) -> Result<(), RetrievalError> {
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
                    let payload =
                        Payload::try_from(p.payload()).map_err(|e| RetrievalError::Server {
                            url: self.conn.config.url.clone(),
                            message: format!("payload of '{}': {e}", p.key),
                        })?;
                    Ok(PointStruct::new(
                        point_id(&p.database, &p.key),
                        p.vector.clone(),
                        payload,
                    ))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let request =
                UpsertPointsBuilder::new(self.conn.config.collection(kind), structs).wait(true);
            let client = self.conn.client.clone();
            self.run("upsert", async move { client.upsert_points(request).await })?;
        }
        Ok(())
    }

    fn delete(&self, kind: ItemKind, ids: Vec<u64>) -> Result<(), RetrievalError> {
        if ids.is_empty() {
            return Ok(());
        }
        let request = DeletePointsBuilder::new(self.conn.config.collection(kind))
            .points(PointsIdsList {
                ids: ids.into_iter().map(PointId::from).collect(),
            })
            .wait(true);
        let client = self.conn.client.clone();
        self.run("delete", async move { client.delete_points(request).await })?;
        Ok(())
    }

    fn flush(&self, _kind: ItemKind) {}

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
        let request = QueryPointsBuilder::new(self.conn.config.collection(kind))
            .query(vector.to_vec())
            .filter(Self::database_filter(database))
            .limit(k as u64)
            .with_payload(true);
        let client = self.conn.client.clone();
        let response = self.run("query", async move { client.query(request).await })?;
        Ok(response
            .result
            .into_iter()
            .filter_map(|p| super::hit(kind, json_payload(p.payload), p.score))
            .collect())
    }

    fn counts(&self) -> Result<BTreeMap<String, u64>, RetrievalError> {
        ItemKind::ALL
            .iter()
            .map(|kind| {
                let request =
                    CountPointsBuilder::new(self.conn.config.collection(*kind)).exact(true);
                let client = self.conn.client.clone();
                let count = self.run("count", async move { client.count(request).await })?;
                let count = count.result.map_or(0, |r| r.count);
                Ok((kind.collection().to_string(), count))
            })
            .collect()
    }

    fn page(
        &self,
        kind: ItemKind,
        offset: Option<u64>,
        limit: usize,
    ) -> Result<PointPage, RetrievalError> {
        let mut request = ScrollPointsBuilder::new(self.conn.config.collection(kind))
            .limit(limit.clamp(1, u32::MAX as usize) as u32)
            .with_payload(true)
            .with_vectors(true);
        if let Some(offset) = offset {
            request = request.offset(PointId::from(offset));
        }
        let client = self.conn.client.clone();
        let page = self.run("scroll", async move { client.scroll(request).await })?;
        Ok(PointPage {
            next: numeric_id(page.next_page_offset.as_ref()),
            points: page.result.into_iter().filter_map(whole_point).collect(),
        })
    }

    fn location(&self) -> IndexLocation {
        IndexLocation {
            backend: "qdrant_server",
            location: self.conn.config.url.clone(),
        }
    }
}
