//! A fake Qdrant server for the tests, where no real one can run (no registry ships a Qdrant
//! binary). It speaks the real protocol: qdrant-client's own generated gRPC service
//! definitions, served by tonic on a free local port, so querent's real client talks to it as
//! to a server. Behind them is an in-memory store with exact cosine search (vectors normalised
//! on upsert, scored by dot product, as Qdrant does for cosine collections).
//!
//! It implements the calls querent makes (health check; collection exists, info, create,
//! delete, list; upsert — with its `update_mode`: upsert, insert only, update only —, get,
//! delete, scroll, count, query and field indexes) for the shapes querent sends (dense vectors,
//! numeric ids, `must` keyword matches). Write orderings are accepted: one node applies every
//! write in order, as a cluster does with `strong` ordering. Any other call or shape fails
//! with `UNIMPLEMENTED` or `INVALID_ARGUMENT` naming it, so a client change that the fake does
//! not understand fails a test instead of passing unnoticed. With an API key it answers
//! `UNAUTHENTICATED` to calls without the `api-key` header, as a server configured with one
//! does.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use qdrant_client::qdrant as q;
use qdrant_client::qdrant::collections_server::{Collections, CollectionsServer};
use qdrant_client::qdrant::points_server::{Points, PointsServer};
use qdrant_client::qdrant::qdrant_server::{Qdrant, QdrantServer};
use tonic::{Request, Response, Status};

/// One stored point: its unit vector and payload.
#[derive(Clone)]
struct Stored {
    vector: Vec<f32>,
    payload: HashMap<String, q::Value>,
}

#[derive(Default)]
struct Collection {
    size: u64,
    points: BTreeMap<u64, Stored>,
    indexed: BTreeSet<String>,
}

#[derive(Default)]
struct State {
    collections: BTreeMap<String, Collection>,
    /// Calls received, by method name.
    calls: BTreeMap<String, u64>,
    operation: u64,
}

#[derive(Clone)]
struct Service {
    state: Arc<Mutex<State>>,
    api_key: Option<String>,
}

/// A running fake server; stopped when dropped.
pub struct FakeQdrant {
    /// `http://127.0.0.1:PORT`, for `--qdrant-url`.
    pub url: String,
    state: Arc<Mutex<State>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeQdrant {
    /// Starts a fake server on a free port; with `api_key`, calls must carry it.
    pub fn start(api_key: Option<&str>) -> FakeQdrant {
        let state = Arc::new(Mutex::new(State::default()));
        let service = Service {
            state: state.clone(),
            api_key: api_key.map(str::to_string),
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("address");
        listener.set_nonblocking(true).expect("non-blocking");
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
                tonic::transport::Server::builder()
                    .add_service(QdrantServer::new(service.clone()))
                    .add_service(CollectionsServer::new(service.clone()))
                    .add_service(PointsServer::new(service))
                    .serve_with_incoming_shutdown(incoming, async {
                        let _ = stopped.await;
                    })
                    .await
                    .expect("fake Qdrant server");
            });
        });
        FakeQdrant {
            url: format!("http://{addr}"),
            state,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// Stops the server (later calls find nothing listening).
    pub fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// The collections' names.
    pub fn collections(&self) -> Vec<String> {
        self.state
            .lock()
            .unwrap()
            .collections
            .keys()
            .cloned()
            .collect()
    }

    /// Points in `collection` (0 when it does not exist).
    pub fn points(&self, collection: &str) -> usize {
        let state = self.state.lock().unwrap();
        state
            .collections
            .get(collection)
            .map_or(0, |c| c.points.len())
    }

    /// The payload fields that have an index in `collection`.
    pub fn indexed_fields(&self, collection: &str) -> Vec<String> {
        let state = self.state.lock().unwrap();
        state
            .collections
            .get(collection)
            .map(|c| c.indexed.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The JSON payload of point `id` in `collection`.
    pub fn payload(&self, collection: &str, id: u64) -> Option<serde_json::Value> {
        let state = self.state.lock().unwrap();
        let stored = state.collections.get(collection)?.points.get(&id)?;
        Some(serde_json::Value::Object(
            stored
                .payload
                .clone()
                .into_iter()
                .map(|(k, v)| (k, v.into_json()))
                .collect(),
        ))
    }

    /// How many calls of `method` (e.g. `query`, `upsert`) the server received.
    pub fn calls(&self, method: &str) -> u64 {
        *self.state.lock().unwrap().calls.get(method).unwrap_or(&0)
    }
}

impl Drop for FakeQdrant {
    fn drop(&mut self) {
        self.stop();
    }
}

fn unsupported(what: &str) -> Status {
    Status::unimplemented(format!("the test fake does not implement {what}"))
}

fn invalid(what: impl Into<String>) -> Status {
    Status::invalid_argument(format!("the test fake does not support {}", what.into()))
}

fn num_id(id: Option<&q::PointId>) -> Result<u64, Status> {
    match id.and_then(|i| i.point_id_options.as_ref()) {
        Some(q::point_id::PointIdOptions::Num(n)) => Ok(*n),
        _ => Err(invalid("point ids other than numbers")),
    }
}

fn id_of(n: u64) -> q::PointId {
    q::PointId {
        point_id_options: Some(q::point_id::PointIdOptions::Num(n)),
    }
}

fn normalised(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

#[allow(deprecated)]
fn dense(vectors: Option<q::Vectors>) -> Result<Vec<f32>, Status> {
    match vectors.and_then(|v| v.vectors_options) {
        Some(q::vectors::VectorsOptions::Vector(v)) => match v.vector {
            Some(q::vector::Vector::Dense(d)) => Ok(d.data),
            None if v.indices.is_none() && v.vectors_count.is_none() => Ok(v.data),
            _ => Err(invalid("vectors other than dense")),
        },
        _ => Err(invalid("named or missing vectors")),
    }
}

/// Whether `payload` satisfies `filter` (only `must` keyword matches are supported).
fn matches(
    filter: Option<&q::Filter>,
    payload: &HashMap<String, q::Value>,
) -> Result<bool, Status> {
    let Some(filter) = filter else {
        return Ok(true);
    };
    if !filter.should.is_empty() || !filter.must_not.is_empty() || filter.min_should.is_some() {
        return Err(invalid("filters other than `must`"));
    }
    for condition in &filter.must {
        let Some(q::condition::ConditionOneOf::Field(field)) = &condition.condition_one_of else {
            return Err(invalid("conditions other than field matches"));
        };
        let Some(q::r#match::MatchValue::Keyword(wanted)) =
            field.r#match.as_ref().and_then(|m| m.match_value.as_ref())
        else {
            return Err(invalid("matches other than keywords"));
        };
        let found = payload.get(&field.key).and_then(|v| match &v.kind {
            Some(q::value::Kind::StringValue(s)) => Some(s.as_str()),
            _ => None,
        });
        if found != Some(wanted.as_str()) {
            return Ok(false);
        }
    }
    Ok(true)
}

fn selected_payload(
    selector: Option<&q::WithPayloadSelector>,
    payload: &HashMap<String, q::Value>,
) -> Result<HashMap<String, q::Value>, Status> {
    use q::with_payload_selector::SelectorOptions;
    match selector.and_then(|s| s.selector_options.as_ref()) {
        None | Some(SelectorOptions::Enable(false)) => Ok(HashMap::new()),
        Some(SelectorOptions::Enable(true)) => Ok(payload.clone()),
        Some(SelectorOptions::Include(include)) => Ok(payload
            .iter()
            .filter(|(k, _)| include.fields.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()),
        Some(SelectorOptions::Exclude(_)) => Err(invalid("payload exclusion")),
    }
}

fn selected_vectors(
    selector: Option<&q::WithVectorsSelector>,
    stored: &Stored,
) -> Result<Option<q::VectorsOutput>, Status> {
    use q::with_vectors_selector::SelectorOptions;
    match selector.and_then(|s| s.selector_options.as_ref()) {
        None | Some(SelectorOptions::Enable(false)) => Ok(None),
        Some(SelectorOptions::Enable(true)) => Ok(Some(q::VectorsOutput {
            vectors_options: Some(q::vectors_output::VectorsOptions::Vector(q::VectorOutput {
                vector: Some(q::vector_output::Vector::Dense(q::DenseVector {
                    data: stored.vector.clone(),
                })),
                ..Default::default()
            })),
        })),
        Some(SelectorOptions::Include(_)) => Err(invalid("named vector selection")),
    }
}

impl Service {
    /// Counts the call and checks the API key.
    fn enter<T>(&self, method: &str, request: &Request<T>) -> Result<(), Status> {
        *self
            .state
            .lock()
            .unwrap()
            .calls
            .entry(method.to_string())
            .or_default() += 1;
        if let Some(key) = &self.api_key {
            let sent = request
                .metadata()
                .get("api-key")
                .and_then(|v| v.to_str().ok());
            if sent != Some(key.as_str()) {
                return Err(Status::unauthenticated("Invalid api-key"));
            }
        }
        Ok(())
    }

    fn done(&self) -> q::PointsOperationResponse {
        let mut state = self.state.lock().unwrap();
        state.operation += 1;
        q::PointsOperationResponse {
            result: Some(q::UpdateResult {
                operation_id: Some(state.operation),
                status: q::UpdateStatus::Completed as i32,
            }),
            ..Default::default()
        }
    }
}

fn not_found(name: &str) -> Status {
    Status::not_found(format!("Collection `{name}` doesn't exist!"))
}

#[tonic::async_trait]
impl Qdrant for Service {
    async fn health_check(
        &self,
        request: Request<q::HealthCheckRequest>,
    ) -> Result<Response<q::HealthCheckReply>, Status> {
        self.enter("health_check", &request)?;
        Ok(Response::new(q::HealthCheckReply {
            title: "qdrant - vector search engine (querent test fake)".into(),
            version: "1.15.0-fake".into(),
            commit: None,
        }))
    }
}

#[tonic::async_trait]
impl Collections for Service {
    async fn get(
        &self,
        request: Request<q::GetCollectionInfoRequest>,
    ) -> Result<Response<q::GetCollectionInfoResponse>, Status> {
        self.enter("collection_info", &request)?;
        let name = request.into_inner().collection_name;
        let state = self.state.lock().unwrap();
        let collection = state
            .collections
            .get(&name)
            .ok_or_else(|| not_found(&name))?;
        let params = q::VectorParams {
            size: collection.size,
            distance: q::Distance::Cosine as i32,
            ..Default::default()
        };
        Ok(Response::new(q::GetCollectionInfoResponse {
            result: Some(q::CollectionInfo {
                status: q::CollectionStatus::Green as i32,
                points_count: Some(collection.points.len() as u64),
                config: Some(q::CollectionConfig {
                    params: Some(q::CollectionParams {
                        vectors_config: Some(q::VectorsConfig {
                            config: Some(q::vectors_config::Config::Params(params)),
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            time: 0.0,
        }))
    }

    async fn list(
        &self,
        request: Request<q::ListCollectionsRequest>,
    ) -> Result<Response<q::ListCollectionsResponse>, Status> {
        self.enter("list_collections", &request)?;
        let state = self.state.lock().unwrap();
        Ok(Response::new(q::ListCollectionsResponse {
            collections: state
                .collections
                .keys()
                .map(|name| q::CollectionDescription { name: name.clone() })
                .collect(),
            time: 0.0,
        }))
    }

    async fn create(
        &self,
        request: Request<q::CreateCollection>,
    ) -> Result<Response<q::CollectionOperationResponse>, Status> {
        self.enter("create_collection", &request)?;
        let create = request.into_inner();
        let Some(q::vectors_config::Config::Params(params)) =
            create.vectors_config.and_then(|v| v.config)
        else {
            return Err(invalid("collections without one unnamed dense vector"));
        };
        if params.distance != q::Distance::Cosine as i32 {
            return Err(invalid("distances other than cosine"));
        }
        let mut state = self.state.lock().unwrap();
        if state.collections.contains_key(&create.collection_name) {
            return Err(Status::already_exists(format!(
                "Collection `{}` already exists!",
                create.collection_name
            )));
        }
        state.collections.insert(
            create.collection_name,
            Collection {
                size: params.size,
                ..Default::default()
            },
        );
        Ok(Response::new(q::CollectionOperationResponse {
            result: true,
            time: 0.0,
        }))
    }

    async fn delete(
        &self,
        request: Request<q::DeleteCollection>,
    ) -> Result<Response<q::CollectionOperationResponse>, Status> {
        self.enter("delete_collection", &request)?;
        let name = request.into_inner().collection_name;
        let removed = self
            .state
            .lock()
            .unwrap()
            .collections
            .remove(&name)
            .is_some();
        Ok(Response::new(q::CollectionOperationResponse {
            result: removed,
            time: 0.0,
        }))
    }

    async fn collection_exists(
        &self,
        request: Request<q::CollectionExistsRequest>,
    ) -> Result<Response<q::CollectionExistsResponse>, Status> {
        self.enter("collection_exists", &request)?;
        let name = request.into_inner().collection_name;
        let exists = self.state.lock().unwrap().collections.contains_key(&name);
        Ok(Response::new(q::CollectionExistsResponse {
            result: Some(q::CollectionExists { exists }),
            time: 0.0,
        }))
    }

    async fn update(
        &self,
        _: Request<q::UpdateCollection>,
    ) -> Result<Response<q::CollectionOperationResponse>, Status> {
        Err(unsupported("update"))
    }
    async fn update_aliases(
        &self,
        _: Request<q::ChangeAliases>,
    ) -> Result<Response<q::CollectionOperationResponse>, Status> {
        Err(unsupported("update_aliases"))
    }
    async fn list_collection_aliases(
        &self,
        _: Request<q::ListCollectionAliasesRequest>,
    ) -> Result<Response<q::ListAliasesResponse>, Status> {
        Err(unsupported("list_collection_aliases"))
    }
    async fn list_aliases(
        &self,
        _: Request<q::ListAliasesRequest>,
    ) -> Result<Response<q::ListAliasesResponse>, Status> {
        Err(unsupported("list_aliases"))
    }
    async fn collection_cluster_info(
        &self,
        _: Request<q::CollectionClusterInfoRequest>,
    ) -> Result<Response<q::CollectionClusterInfoResponse>, Status> {
        Err(unsupported("collection_cluster_info"))
    }
    async fn update_collection_cluster_setup(
        &self,
        _: Request<q::UpdateCollectionClusterSetupRequest>,
    ) -> Result<Response<q::UpdateCollectionClusterSetupResponse>, Status> {
        Err(unsupported("update_collection_cluster_setup"))
    }
    async fn create_shard_key(
        &self,
        _: Request<q::CreateShardKeyRequest>,
    ) -> Result<Response<q::CreateShardKeyResponse>, Status> {
        Err(unsupported("create_shard_key"))
    }
    async fn delete_shard_key(
        &self,
        _: Request<q::DeleteShardKeyRequest>,
    ) -> Result<Response<q::DeleteShardKeyResponse>, Status> {
        Err(unsupported("delete_shard_key"))
    }
    async fn list_shard_keys(
        &self,
        _: Request<q::ListShardKeysRequest>,
    ) -> Result<Response<q::ListShardKeysResponse>, Status> {
        Err(unsupported("list_shard_keys"))
    }
}

#[tonic::async_trait]
impl Points for Service {
    async fn upsert(
        &self,
        request: Request<q::UpsertPoints>,
    ) -> Result<Response<q::PointsOperationResponse>, Status> {
        self.enter("upsert", &request)?;
        let upsert = request.into_inner();
        if upsert.update_filter.is_some() {
            return Err(invalid("conditional updates (update_filter)"));
        }
        let mode = match upsert.update_mode {
            None => q::UpdateMode::Upsert,
            Some(m) => {
                q::UpdateMode::try_from(m).map_err(|_| invalid(format!("update mode {m}")))?
            }
        };
        {
            let mut state = self.state.lock().unwrap();
            let name = upsert.collection_name;
            let collection = state
                .collections
                .get_mut(&name)
                .ok_or_else(|| not_found(&name))?;
            for point in upsert.points {
                let id = num_id(point.id.as_ref())?;
                let vector = dense(point.vectors)?;
                if vector.len() as u64 != collection.size {
                    return Err(Status::invalid_argument(format!(
                        "Wrong input: Vector dimension error: expected dim: {}, got {}",
                        collection.size,
                        vector.len()
                    )));
                }
                let exists = collection.points.contains_key(&id);
                let write = match mode {
                    q::UpdateMode::Upsert => true,
                    q::UpdateMode::InsertOnly => !exists,
                    q::UpdateMode::UpdateOnly => exists,
                };
                if write {
                    collection.points.insert(
                        id,
                        Stored {
                            vector: normalised(vector),
                            payload: point.payload,
                        },
                    );
                }
            }
        }
        Ok(Response::new(self.done()))
    }

    async fn delete(
        &self,
        request: Request<q::DeletePoints>,
    ) -> Result<Response<q::PointsOperationResponse>, Status> {
        self.enter("delete", &request)?;
        let delete = request.into_inner();
        let Some(q::points_selector::PointsSelectorOneOf::Points(list)) =
            delete.points.and_then(|p| p.points_selector_one_of)
        else {
            return Err(invalid("deleting by filter"));
        };
        {
            let mut state = self.state.lock().unwrap();
            let name = delete.collection_name;
            let collection = state
                .collections
                .get_mut(&name)
                .ok_or_else(|| not_found(&name))?;
            for id in &list.ids {
                collection.points.remove(&num_id(Some(id))?);
            }
        }
        Ok(Response::new(self.done()))
    }

    async fn create_field_index(
        &self,
        request: Request<q::CreateFieldIndexCollection>,
    ) -> Result<Response<q::PointsOperationResponse>, Status> {
        self.enter("create_field_index", &request)?;
        let create = request.into_inner();
        if create.field_type != Some(q::FieldType::Keyword as i32) {
            return Err(invalid("field indexes other than keyword"));
        }
        {
            let mut state = self.state.lock().unwrap();
            let name = create.collection_name;
            let collection = state
                .collections
                .get_mut(&name)
                .ok_or_else(|| not_found(&name))?;
            collection.indexed.insert(create.field_name);
        }
        Ok(Response::new(self.done()))
    }

    async fn scroll(
        &self,
        request: Request<q::ScrollPoints>,
    ) -> Result<Response<q::ScrollResponse>, Status> {
        self.enter("scroll", &request)?;
        let scroll = request.into_inner();
        if scroll.order_by.is_some() {
            return Err(invalid("scroll order"));
        }
        let state = self.state.lock().unwrap();
        let name = &scroll.collection_name;
        let collection = state.collections.get(name).ok_or_else(|| not_found(name))?;
        let from = match &scroll.offset {
            Some(offset) => num_id(Some(offset))?,
            None => 0,
        };
        let limit = scroll.limit.unwrap_or(10) as usize;
        let mut result = Vec::new();
        let mut next = None;
        for (id, stored) in collection.points.range(from..) {
            if !matches(scroll.filter.as_ref(), &stored.payload)? {
                continue;
            }
            if result.len() == limit {
                next = Some(id_of(*id));
                break;
            }
            result.push(q::RetrievedPoint {
                id: Some(id_of(*id)),
                payload: selected_payload(scroll.with_payload.as_ref(), &stored.payload)?,
                vectors: selected_vectors(scroll.with_vectors.as_ref(), stored)?,
                ..Default::default()
            });
        }
        Ok(Response::new(q::ScrollResponse {
            next_page_offset: next,
            result,
            ..Default::default()
        }))
    }

    async fn count(
        &self,
        request: Request<q::CountPoints>,
    ) -> Result<Response<q::CountResponse>, Status> {
        self.enter("count", &request)?;
        let count = request.into_inner();
        let state = self.state.lock().unwrap();
        let name = &count.collection_name;
        let collection = state.collections.get(name).ok_or_else(|| not_found(name))?;
        let mut n = 0;
        for stored in collection.points.values() {
            if matches(count.filter.as_ref(), &stored.payload)? {
                n += 1;
            }
        }
        Ok(Response::new(q::CountResponse {
            result: Some(q::CountResult { count: n }),
            ..Default::default()
        }))
    }

    async fn query(
        &self,
        request: Request<q::QueryPoints>,
    ) -> Result<Response<q::QueryResponse>, Status> {
        self.enter("query", &request)?;
        let query = request.into_inner();
        if !query.prefetch.is_empty() || query.using.as_deref().is_some_and(|u| !u.is_empty()) {
            return Err(invalid("prefetch or named vectors"));
        }
        let Some(q::query::Variant::Nearest(input)) = query.query.and_then(|q| q.variant) else {
            return Err(invalid("queries other than nearest"));
        };
        let Some(q::vector_input::Variant::Dense(vector)) = input.variant else {
            return Err(invalid("query vectors other than dense"));
        };
        let vector = normalised(vector.data);
        let state = self.state.lock().unwrap();
        let name = &query.collection_name;
        let collection = state.collections.get(name).ok_or_else(|| not_found(name))?;
        let mut scored = Vec::new();
        for (id, stored) in &collection.points {
            if matches(query.filter.as_ref(), &stored.payload)? {
                let score: f32 = stored.vector.iter().zip(&vector).map(|(a, b)| a * b).sum();
                scored.push((score, *id, stored));
            }
        }
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let offset = query.offset.unwrap_or(0) as usize;
        let limit = query.limit.unwrap_or(10) as usize;
        let mut result = Vec::new();
        for (score, id, stored) in scored.into_iter().skip(offset).take(limit) {
            result.push(q::ScoredPoint {
                id: Some(id_of(id)),
                payload: selected_payload(query.with_payload.as_ref(), &stored.payload)?,
                score,
                vectors: selected_vectors(query.with_vectors.as_ref(), stored)?,
                ..Default::default()
            });
        }
        Ok(Response::new(q::QueryResponse {
            result,
            ..Default::default()
        }))
    }

    async fn get(
        &self,
        request: Request<q::GetPoints>,
    ) -> Result<Response<q::GetResponse>, Status> {
        self.enter("get", &request)?;
        let get = request.into_inner();
        let state = self.state.lock().unwrap();
        let name = &get.collection_name;
        let collection = state.collections.get(name).ok_or_else(|| not_found(name))?;
        let mut result = Vec::new();
        for id in &get.ids {
            let id = num_id(Some(id))?;
            if let Some(stored) = collection.points.get(&id) {
                result.push(q::RetrievedPoint {
                    id: Some(id_of(id)),
                    payload: selected_payload(get.with_payload.as_ref(), &stored.payload)?,
                    vectors: selected_vectors(get.with_vectors.as_ref(), stored)?,
                    ..Default::default()
                });
            }
        }
        Ok(Response::new(q::GetResponse {
            result,
            ..Default::default()
        }))
    }
    async fn update_vectors(
        &self,
        _: Request<q::UpdatePointVectors>,
    ) -> Result<Response<q::PointsOperationResponse>, Status> {
        Err(unsupported("update_vectors"))
    }
    async fn delete_vectors(
        &self,
        _: Request<q::DeletePointVectors>,
    ) -> Result<Response<q::PointsOperationResponse>, Status> {
        Err(unsupported("delete_vectors"))
    }
    async fn set_payload(
        &self,
        _: Request<q::SetPayloadPoints>,
    ) -> Result<Response<q::PointsOperationResponse>, Status> {
        Err(unsupported("set_payload"))
    }
    async fn overwrite_payload(
        &self,
        _: Request<q::SetPayloadPoints>,
    ) -> Result<Response<q::PointsOperationResponse>, Status> {
        Err(unsupported("overwrite_payload"))
    }
    async fn delete_payload(
        &self,
        _: Request<q::DeletePayloadPoints>,
    ) -> Result<Response<q::PointsOperationResponse>, Status> {
        Err(unsupported("delete_payload"))
    }
    async fn clear_payload(
        &self,
        _: Request<q::ClearPayloadPoints>,
    ) -> Result<Response<q::PointsOperationResponse>, Status> {
        Err(unsupported("clear_payload"))
    }
    async fn delete_field_index(
        &self,
        _: Request<q::DeleteFieldIndexCollection>,
    ) -> Result<Response<q::PointsOperationResponse>, Status> {
        Err(unsupported("delete_field_index"))
    }
    async fn create_vector_name(
        &self,
        _: Request<q::CreateVectorNameRequest>,
    ) -> Result<Response<q::PointsOperationResponse>, Status> {
        Err(unsupported("create_vector_name"))
    }
    async fn delete_vector_name(
        &self,
        _: Request<q::DeleteVectorNameRequest>,
    ) -> Result<Response<q::PointsOperationResponse>, Status> {
        Err(unsupported("delete_vector_name"))
    }
    async fn search(
        &self,
        _: Request<q::SearchPoints>,
    ) -> Result<Response<q::SearchResponse>, Status> {
        Err(unsupported("search"))
    }
    async fn search_batch(
        &self,
        _: Request<q::SearchBatchPoints>,
    ) -> Result<Response<q::SearchBatchResponse>, Status> {
        Err(unsupported("search_batch"))
    }
    async fn search_groups(
        &self,
        _: Request<q::SearchPointGroups>,
    ) -> Result<Response<q::SearchGroupsResponse>, Status> {
        Err(unsupported("search_groups"))
    }
    async fn recommend(
        &self,
        _: Request<q::RecommendPoints>,
    ) -> Result<Response<q::RecommendResponse>, Status> {
        Err(unsupported("recommend"))
    }
    async fn recommend_batch(
        &self,
        _: Request<q::RecommendBatchPoints>,
    ) -> Result<Response<q::RecommendBatchResponse>, Status> {
        Err(unsupported("recommend_batch"))
    }
    async fn recommend_groups(
        &self,
        _: Request<q::RecommendPointGroups>,
    ) -> Result<Response<q::RecommendGroupsResponse>, Status> {
        Err(unsupported("recommend_groups"))
    }
    async fn discover(
        &self,
        _: Request<q::DiscoverPoints>,
    ) -> Result<Response<q::DiscoverResponse>, Status> {
        Err(unsupported("discover"))
    }
    async fn discover_batch(
        &self,
        _: Request<q::DiscoverBatchPoints>,
    ) -> Result<Response<q::DiscoverBatchResponse>, Status> {
        Err(unsupported("discover_batch"))
    }
    async fn update_batch(
        &self,
        _: Request<q::UpdateBatchPoints>,
    ) -> Result<Response<q::UpdateBatchResponse>, Status> {
        Err(unsupported("update_batch"))
    }
    async fn query_batch(
        &self,
        _: Request<q::QueryBatchPoints>,
    ) -> Result<Response<q::QueryBatchResponse>, Status> {
        Err(unsupported("query_batch"))
    }
    async fn query_groups(
        &self,
        _: Request<q::QueryPointGroups>,
    ) -> Result<Response<q::QueryGroupsResponse>, Status> {
        Err(unsupported("query_groups"))
    }
    async fn facet(
        &self,
        _: Request<q::FacetCounts>,
    ) -> Result<Response<q::FacetResponse>, Status> {
        Err(unsupported("facet"))
    }
    async fn search_matrix_pairs(
        &self,
        _: Request<q::SearchMatrixPoints>,
    ) -> Result<Response<q::SearchMatrixPairsResponse>, Status> {
        Err(unsupported("search_matrix_pairs"))
    }
    async fn search_matrix_offsets(
        &self,
        _: Request<q::SearchMatrixPoints>,
    ) -> Result<Response<q::SearchMatrixOffsetsResponse>, Status> {
        Err(unsupported("search_matrix_offsets"))
    }
}
