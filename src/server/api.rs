//! The OpenAPI routes under `/api`: query, SQL, health, stats, schema, examples.
//!
//! Each handler validates its input, calls the engine off the async threads and maps errors
//! through [`ApiError`]; the shapes below are the public contract (see `/openapi.json`).

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::stream::{BoxStream, StreamExt};
use poem::web::sse::Event;
use poem_openapi::param::Query;
use poem_openapi::payload::{EventStream, Json};
use poem_openapi::types::ToJSON;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::errors::{ApiError, ErrorBody};
use super::limits::{JsonString, NonBlankText, QuestionText, SessionIdText};
use crate::engine::{AskRequest, Engine, QueryAnswer};
use crate::error::{Code, QuerentError};

/// Each served database for health, with its `state` (`ok` or `unavailable`, with the
/// `reason`), checked off the async threads (harden, #13).
async fn database_states(engine: &Arc<Engine>) -> Vec<serde_json::Value> {
    let engine = engine.clone();
    tokio::task::spawn_blocking(move || {
        engine
            .databases()
            .iter()
            .filter_map(|info| {
                let mut value = serde_json::to_value(info).ok()?;
                let state = engine
                    .database(Some(&info.name))
                    .map_err(|e| e.to_string())
                    .and_then(|db| db.warehouse.availability());
                if let Some(object) = value.as_object_mut() {
                    match state {
                        Ok(()) => {
                            object.insert("state".into(), "ok".into());
                        }
                        Err(reason) => {
                            object.insert("state".into(), "unavailable".into());
                            object.insert("reason".into(), reason.into());
                        }
                    }
                }
                Some(value)
            })
            .collect()
    })
    .await
    .unwrap_or_default()
}

/// The API routes.
pub struct Api {
    pub engine: Arc<Engine>,
    /// Metrics and the question queue.
    pub ops: Arc<super::ops::Ops>,
    /// querent's data directory (the regression baselines `/api/health` reports).
    pub data_dir: std::path::PathBuf,
}

/// A question about a database.
#[derive(Debug, Object)]
#[oai(example)]
pub struct QueryRequest {
    /// The question in plain language (1..2000 characters, not only whitespace).
    pub question: QuestionText,
    /// The database to ask; the first served database when absent (or null).
    #[oai(nullable)]
    pub database: Option<JsonString>,
    /// A conversation id (1..128 letters, digits, `-_.:`): a follow-up ("only in the West
    /// zone", "now by month") is read against this conversation's previous question and SQL.
    #[oai(nullable)]
    pub session_id: Option<SessionIdText>,
}

impl poem_openapi::types::Example for QueryRequest {
    fn example() -> Self {
        Self {
            question: QuestionText("How many stores are there in each zone?".into()),
            database: Some(JsonString("retail".into())),
            session_id: None,
        }
    }
}

impl QueryRequest {
    /// The engine's request (for `/api/query`, the stream and query jobs).
    pub(super) fn into_ask(self) -> AskRequest {
        AskRequest {
            question: self.question.0,
            database: self.database.map(|d| d.0),
            session_id: self.session_id.map(|s| s.0),
        }
    }

    /// The engine's request and the name of the database it asks, for the stream and query
    /// jobs, whose status line leaves before the answer: a question, conversation id or
    /// database that is not valid is refused here, with its 4xx, before any work starts.
    pub(super) fn checked_ask(self, engine: &Engine) -> Result<(AskRequest, String), QuerentError> {
        let request = self.into_ask();
        crate::question::Question::parse(&request.question)?;
        if let Some(id) = &request.session_id {
            crate::conversation::SessionId::parse(id)?;
        }
        let database = engine.database(request.database.as_deref())?.name.clone();
        Ok((request, database))
    }
}

/// A chart of the result, rendered as SVG.
#[derive(Debug, Object)]
pub struct ChartDto {
    /// `bar`, `line`, `pie`, `scatter` or `histogram`.
    pub kind: String,
    /// The shape of the metric query the chart follows: `trend` (a line over time at the
    /// query's grain), `share` (bars in percent), `growth` (signed bars in percent),
    /// `ranking` (bars in rank order) or `comparison` (grouped bars: one metric for two or more
    /// members side by side); absent when the kind was chosen from the columns.
    #[oai(skip_serializing_if_is_none)]
    pub follows: Option<String>,
    pub title: String,
    /// The SVG document (720 x 400).
    pub svg: String,
}

/// One step of the reasoning trace.
#[derive(Debug, Object)]
pub struct TraceStepDto {
    pub stage: String,
    pub message: String,
    pub details: serde_json::Value,
}

/// The answer to a question.
#[derive(Debug, Object)]
pub struct QueryResponseBody {
    pub query_id: String,
    pub question: String,
    pub database: String,
    /// The SQL that ran.
    pub sql: String,
    pub columns: Vec<String>,
    /// Rows of JSON scalars, `columns.len()` values each.
    pub rows: Vec<Vec<serde_json::Value>>,
    pub row_count: u64,
    /// True when the row limit cut the result.
    pub truncated: bool,
    /// True when a text cell was longer than 65,536 bytes and was cut; a cut cell ends with
    /// `…[cut: N bytes]` (N its full length).
    pub truncated_cells: bool,
    #[oai(skip_serializing_if_is_none)]
    pub chart: Option<ChartDto>,
    pub insights: Vec<String>,
    pub summary: String,
    /// 0..1.
    pub confidence: f64,
    /// `llm`, `pattern`, `example` or `refinement`.
    pub generation_method: String,
    /// Why the pattern engine answered although an LLM is configured; absent otherwise (as
    /// `chart` without a chart and `session_id` without a conversation: absent, never null).
    #[oai(skip_serializing_if_is_none)]
    pub fallback_reason: Option<String>,
    /// Suggested next questions.
    pub follow_ups: Vec<String>,
    /// The conversation, when the request named one.
    #[oai(skip_serializing_if_is_none)]
    pub session_id: Option<String>,
    pub trace: Vec<TraceStepDto>,
    /// Milliseconds per stage and `total`.
    pub timings_ms: BTreeMap<String, f64>,
    /// True when the answer comes from the answer cache (the same question, database,
    /// conversation context and knowledge version answered recently).
    pub cached: bool,
    /// How old the cached answer is, in milliseconds; absent when not cached.
    #[oai(skip_serializing_if_is_none)]
    pub cache_age_ms: Option<u64>,
}

impl From<QueryAnswer> for QueryResponseBody {
    fn from(a: QueryAnswer) -> Self {
        Self {
            query_id: a.query_id,
            question: a.question,
            database: a.database,
            sql: a.sql,
            columns: a.columns,
            row_count: a.row_count as u64,
            rows: a.rows,
            truncated: a.truncated,
            truncated_cells: a.truncated_cells,
            chart: a.chart.map(|c| ChartDto {
                kind: serde_json::to_value(c.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                follows: c.follows.map(|f| f.as_str().to_string()),
                title: c.title,
                svg: c.svg,
            }),
            insights: a.insights,
            summary: a.summary,
            confidence: a.confidence,
            generation_method: a.generation_method,
            fallback_reason: a.fallback_reason,
            follow_ups: a.follow_ups,
            session_id: a.session_id,
            trace: a
                .trace
                .into_iter()
                .map(|t| TraceStepDto {
                    stage: t.stage,
                    message: t.message,
                    details: t.details,
                })
                .collect(),
            timings_ms: a.timings_ms,
            cached: a.cached,
            cache_age_ms: a.cache_age_ms,
        }
    }
}

/// SQL to run through the guard.
#[derive(Debug, Object)]
#[oai(example)]
pub struct SqlRequest {
    /// One read-only statement (not only whitespace).
    pub sql: NonBlankText,
    /// The database to run it on; the first served database when absent (or null).
    #[oai(nullable)]
    pub database: Option<JsonString>,
}

impl poem_openapi::types::Example for SqlRequest {
    fn example() -> Self {
        Self {
            sql: NonBlankText("SELECT zone, COUNT(*) AS stores FROM stores GROUP BY zone".into()),
            database: Some(JsonString("retail".into())),
        }
    }
}

/// The rows of a SQL statement.
#[derive(Debug, Object)]
pub struct SqlResponseBody {
    /// The SQL that ran (after the guard: row limit applied).
    pub sql: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<serde_json::Value>>,
    pub row_count: u64,
    /// True when the row limit, or the 8 MiB cap on the result's cells, cut the rows.
    pub truncated: bool,
    /// True when a text cell was longer than 65,536 bytes and was cut; a cut cell ends with
    /// `…[cut: N bytes]` (N its full length).
    pub truncated_cells: bool,
}

/// Liveness and readiness, and what is served.
#[derive(Debug, Object)]
pub struct HealthBody {
    /// `ok`, or `degraded` when retrieval runs without its model or its index (a Qdrant server
    /// out of reach), the knowledge base has issues, the LLM is failing, a database is
    /// unavailable or (replicas) the shared state cannot be read.
    pub status: String,
    pub version: String,
    /// The served databases: name, tables, examples, rules, warehouse, and `state` (`ok`, or
    /// `unavailable` with the `reason`: its file is missing, truncated or not a database).
    pub databases: Vec<serde_json::Value>,
    /// Retrieval mode (`vector` or `lexical`), model, points per collection.
    pub retrieval: serde_json::Value,
    /// `not_configured`, `unknown` (configured, no call has reached it yet), `ok`, `degraded`
    /// (recent failures), `open` (circuit open: the LLM is skipped) or `half_open` (one trial
    /// call allowed).
    pub llm: String,
    /// The LLM's model, base URL, consecutive failures, last error and seconds until a retry
    /// (absent when no LLM is configured).
    #[oai(skip_serializing_if_is_none)]
    pub llm_status: Option<serde_json::Value>,
    /// Problems of the knowledge base (found at start-up, refreshed for a domain at each
    /// curation write), each `{source, file, line, message}`: `file` the knowledge file or
    /// folder, `line` the line (from 1) where the item starts (null for a whole file or
    /// folder), `source` the two as `file:line`. Loading runs the checks of a write on every
    /// item (table docs, examples, rules, the semantic model's metrics).
    pub knowledge_issues: Vec<serde_json::Value>,
    /// The check of the curated examples, run in the background after start-up: `state`
    /// (`pending`, `running`, `done`, or `at_start` when it ran before serving), `checked`,
    /// `failing`, `finished_after_ms` (from the engine being ready). Failing examples show up
    /// in `knowledge_issues` once it is done.
    pub examples_check: serde_json::Value,
    /// With replicas (`--qdrant-url`): where this replica stands against the shared state:
    /// `url`, `state` (`ok`, `starting`, `unreachable`), `applied_change` (the last change its
    /// knowledge holds), `latest_change` (the highest the shared versions named at the last
    /// read, every 500 ms), `last_read_ms_ago`, `error`. Absent without replicas.
    #[oai(skip_serializing_if_is_none)]
    pub replication: Option<serde_json::Value>,
    /// How querent did on each domain's curated examples at the last regression run
    /// (`POST /api/knowledge/regression`, `querent knowledge regression`): per database,
    /// `at`, `examples`, `correct` and `accuracy` (0..1); a domain never run is absent.
    pub regression: serde_json::Value,
}

/// Examples of one database.
#[derive(Debug, Object)]
pub struct ExamplesBody {
    pub database: String,
    pub examples: Vec<ExampleDto>,
}

/// The semantic model in effect for one database (#11).
#[derive(Debug, Object)]
pub struct SemanticBody {
    pub database: String,
    /// `curated` (the domain's `semantic.yml`) or `none`.
    pub source: String,
    /// The date relative periods count from (`YYYY-MM-DD`), and how it was chosen (`today`,
    /// `latest` of the data, `fixed`); absent when there is no semantic model.
    #[oai(skip_serializing_if_is_none)]
    pub reference_date: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub reference_source: Option<String>,
    /// The manifest: `semantic_models` (entities, dimensions, measures), `metrics`, `filters`.
    pub model: serde_json::Value,
}

/// A curated question/SQL pair.
#[derive(Debug, Object)]
pub struct ExampleDto {
    pub question: String,
    pub sql: String,
}

#[derive(ApiResponse)]
pub enum QueryResponse {
    #[oai(status = 200)]
    Ok(Json<QueryResponseBody>),
}

#[derive(ApiResponse)]
pub enum QueryStreamResponse {
    /// Server-sent events, one per stage as it completes: `analysis`, `retrieval`, `sql`,
    /// `rows` (the first 100), `chart`, `summary_token` (in order), then `answer` (the whole
    /// body of `POST /api/query`) or `error` (`{error: {code, message, details}}`).
    #[oai(status = 200)]
    Ok(EventStream<BoxStream<'static, serde_json::Value>>),
}

#[derive(ApiResponse)]
pub enum SqlResponse {
    #[oai(status = 200)]
    Ok(Json<SqlResponseBody>),
}

fn bad(message: &str) -> ApiError {
    ApiError::new(Code::InvalidRequest, message, serde_json::Value::Null)
}

#[OpenApi(prefix_path = "/api")]
impl Api {
    /// Answer a question: SQL, rows, chart, insights, summary, confidence and trace.
    #[oai(path = "/query", method = "post")]
    async fn query(&self, body: Json<QueryRequest>) -> Result<QueryResponse, ApiError> {
        let answer = self.ops.ask(&self.engine, body.0.into_ask()).await?;
        Ok(QueryResponse::Ok(Json(answer.into())))
    }

    /// Answer a question as server-sent events, one per stage as soon as it is done.
    ///
    /// An invalid question, conversation id or database is refused before the stream starts
    /// (4xx with the usual error body); a failure later in the pipeline is the stream's `error` event.
    #[oai(path = "/query/stream", method = "post")]
    async fn query_stream(
        &self,
        body: Json<QueryRequest>,
    ) -> Result<QueryStreamResponse, ApiError> {
        let (request, database) = body.0.checked_ask(&self.engine)?;
        let permit = match self.ops.admission.enter(&database).await {
            Ok(p) => p,
            Err(e) => {
                self.ops.metrics.observe_refusal(e.code());
                return Err(e.into());
            }
        };
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<serde_json::Value>();
        let (engine, ops) = (self.engine.clone(), self.ops.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let events = tx.clone();
            let result = engine
                .ask_with_events(request, move |e| {
                    let data = serde_json::to_value(&e).unwrap_or_default();
                    let _ = events.send(serde_json::json!({ "event": e.name(), "data": data }));
                })
                .await;
            ops.observe(&result);
            let last = match result {
                Ok(a) => serde_json::json!({
                    "event": "answer",
                    "data": QueryResponseBody::from(a).to_json(),
                }),
                Err(e) => serde_json::json!({
                    "event": "error",
                    "data": ErrorBody::from_error(&e).to_json(),
                }),
            };
            let _ = tx.send(last);
        });
        let stream =
            futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|v| (v, rx)) })
                .boxed();
        Ok(QueryStreamResponse::Ok(EventStream::new(stream).to_event(
            |v| {
                Event::message(v["data"].to_string())
                    .event_type(v["event"].as_str().unwrap_or("message"))
            },
        )))
    }

    /// Run a SQL statement through the guard (one read-only query over known tables, row limit).
    #[oai(path = "/sql", method = "post")]
    async fn sql(&self, body: Json<SqlRequest>) -> Result<SqlResponse, ApiError> {
        let (sql, database) = (body.0.sql.0, body.0.database.map(|d| d.0));
        if sql.trim().is_empty() {
            return Err(QuerentError::SqlRejected {
                reason: "the SQL is empty".into(),
            }
            .into());
        }
        let engine = self.engine.clone();
        // a client that goes away stops its query
        let cancel = crate::warehouse::CancellationToken::new();
        let _cancel_when_dropped = cancel.clone().drop_guard();
        let (sql, rows) = tokio::task::spawn_blocking(move || {
            engine.run_sql_cancellable(database.as_deref(), &sql, &cancel)
        })
        .await
        .map_err(|e| QuerentError::Internal(e.to_string()))??;
        Ok(SqlResponse::Ok(Json(SqlResponseBody {
            sql,
            columns: rows.columns,
            row_count: rows.rows.len() as u64,
            rows: rows.rows,
            truncated: rows.truncated,
            truncated_cells: rows.truncated_cells,
        })))
    }

    /// Health: served databases, retrieval mode, LLM state, knowledge issues.
    #[oai(path = "/health", method = "get")]
    async fn health(&self) -> Json<HealthBody> {
        // With a Qdrant server the status makes network calls: off the async threads.
        let engine = self.engine.clone();
        let retrieval = match tokio::task::spawn_blocking(move || engine.retrieval_status()).await {
            Ok(status) => status,
            Err(_) => self.engine.retrieval_status(),
        };
        let issues = self.engine.load_issues();
        let llm = self.engine.llm_status();
        let llm_failing = llm
            .as_ref()
            .is_some_and(|l| l.state != "ok" && l.state != "unknown");
        let databases = database_states(&self.engine).await;
        let unavailable = databases.iter().any(|d| d["state"] != "ok");
        let replication = self.engine.replication().map(|r| r.status());
        let cut_off = replication
            .as_ref()
            .is_some_and(|r| r.state == "unreachable");
        let degraded = !issues.is_empty()
            || retrieval.reason.is_some()
            || retrieval.index_error.is_some()
            || llm_failing
            || unavailable
            || cut_off;
        Json(HealthBody {
            status: if degraded { "degraded" } else { "ok" }.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            databases,
            retrieval: serde_json::to_value(&retrieval).unwrap_or_default(),
            llm: llm
                .as_ref()
                .map(|l| l.state.clone())
                .unwrap_or_else(|| "not_configured".into()),
            llm_status: llm.and_then(|l| serde_json::to_value(l).ok()),
            knowledge_issues: issues
                .iter()
                .filter_map(|i| serde_json::to_value(i).ok())
                .collect(),
            examples_check: serde_json::to_value(self.engine.examples_check()).unwrap_or_default(),
            replication: replication.and_then(|r| serde_json::to_value(r).ok()),
            regression: serde_json::to_value(crate::knowledge::regression::last_runs(
                &self.data_dir,
                &self
                    .engine
                    .databases()
                    .into_iter()
                    .map(|d| d.name)
                    .collect::<Vec<_>>(),
            ))
            .unwrap_or_default(),
        })
    }

    /// Counters since start: questions, success rate, latency percentiles, methods used.
    #[oai(path = "/stats", method = "get")]
    async fn stats(&self) -> Json<serde_json::Value> {
        Json(serde_json::to_value(self.engine.stats()).unwrap_or_default())
    }

    /// The schema of a database (table docs merged with introspection), or of one table.
    #[oai(path = "/schema", method = "get")]
    async fn schema(
        &self,
        database: Query<Option<String>>,
        table: Query<Option<NonBlankText>>,
    ) -> Result<Json<serde_json::Value>, ApiError> {
        let db = self.engine.database(database.0.as_deref())?;
        match table.0.as_ref().map(|t| t.0.trim()) {
            Some("") => Err(bad("the table parameter is empty")),
            Some(name) => {
                let doc = db
                    .docs
                    .iter()
                    .find(|d| d.name.eq_ignore_ascii_case(name))
                    .ok_or_else(|| QuerentError::UnknownTable {
                        name: name.to_string(),
                    })?;
                Ok(Json(
                    serde_json::json!({ "database": db.name, "tables": [doc] }),
                ))
            }
            None => Ok(Json(
                serde_json::json!({ "database": db.name, "tables": db.docs }),
            )),
        }
    }

    /// The semantic model in effect for a database (#11): metrics, dimensions, entities.
    #[oai(path = "/semantic", method = "get")]
    async fn semantic(
        &self,
        database: Query<Option<String>>,
    ) -> Result<Json<SemanticBody>, ApiError> {
        let db = self.engine.database(database.0.as_deref())?;
        Ok(Json(match &db.semantic {
            Some(layer) => SemanticBody {
                database: db.name.clone(),
                source: if layer.manifest.inferred {
                    "inferred"
                } else {
                    "curated"
                }
                .into(),
                reference_date: Some(layer.reference.date.to_string()),
                reference_source: Some(layer.reference.source.to_string()),
                model: serde_json::to_value(&layer.manifest).unwrap_or_default(),
            },
            None => SemanticBody {
                database: db.name.clone(),
                source: "none".into(),
                reference_date: None,
                reference_source: None,
                model: serde_json::json!({ "semantic_models": [], "metrics": [], "filters": [] }),
            },
        }))
    }

    /// The curated examples of a database.
    #[oai(path = "/examples", method = "get")]
    async fn examples(
        &self,
        database: Query<Option<String>>,
    ) -> Result<Json<ExamplesBody>, ApiError> {
        let db = self.engine.database(database.0.as_deref())?;
        Ok(Json(ExamplesBody {
            database: db.name.clone(),
            examples: db
                .knowledge
                .examples
                .iter()
                .map(|e| ExampleDto {
                    question: e.question.clone(),
                    sql: e.sql.clone(),
                })
                .collect(),
        }))
    }
}
