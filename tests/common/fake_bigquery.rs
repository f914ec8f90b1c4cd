//! A fake BigQuery for the tests: a real HTTP server (a small poem app on 127.0.0.1:0) speaking
//! the REST API's query calls, answered from a real SQLite database.
//!
//! Calls served, as Google's API does (<https://cloud.google.com/bigquery/docs/reference/rest>):
//! `POST /bigquery/v2/projects/{p}/queries` (jobs.query: waits up to `timeoutMs`, then returns an
//! unfinished job), `GET .../queries/{job}` (jobs.getQueryResults: the same wait, pages by
//! `pageToken`), `GET .../jobs/{job}` (jobs.get: the job's state and, once done,
//! `statistics.query.totalBytesBilled`), `POST .../jobs/{job}/cancel`; every call needs
//! `Authorization: Bearer TOKEN`.
//! Cells travel as text, INTEGER/FLOAT/BOOLEAN/TIMESTAMP (seconds since the epoch) as BigQuery
//! writes them; errors are Google's error bodies (`invalidQuery`, `notFound`,
//! `bytesBilledLimitExceeded`).
//!
//! The dataset is a copy of a SQLite file. BigQuery SQL is parsed with sqlparser and rewritten
//! for SQLite: qualified names (`dataset.t`, `project.dataset.t`) lose their qualifiers (another
//! dataset is not found), `INFORMATION_SCHEMA` views and `__TABLES__` read tables synthesised from
//! SQLite's schema, `APPROX_COUNT_DISTINCT`, `EXTRACT`, `CAST(... AS STRING)`, `DATE '...'` and
//! `UNION DISTINCT` become SQLite's. A function it does not know is refused, loudly. Bytes
//! billed are estimated as 8 bytes per cell of the tables read, and checked against
//! `maximumBytesBilled`. Every request is recorded.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use poem::http::StatusCode;
use poem::listener::TcpAcceptor;
use poem::web::{Data, Json, Path as UrlPath, Query};
use poem::{handler, EndpointExt, Request, Response, Route};
use rusqlite::types::ValueRef;
use sqlparser::ast::{
    DataType, DateTimeField, Expr, FunctionArguments, Ident, ObjectName, ObjectNamePart, SetExpr,
    SetQuantifier, Statement, Value, VisitMut, VisitorMut,
};
use sqlparser::dialect::BigQueryDialect;
use sqlparser::parser::Parser;

/// Functions the fake translates or SQLite runs as BigQuery would (lower case).
const KNOWN_FUNCTIONS: &[&str] = &[
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "round",
    "abs",
    "lower",
    "upper",
    "coalesce",
    "ifnull",
    "length",
    "approx_count_distinct",
];

/// A recorded request.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// The JSON body (jobs.query) or the query string (others).
    pub body: serde_json::Value,
    pub authorization: Option<String>,
}

/// The outcome of a job: the result, or Google's error (status, reason, message).
type Outcome = Result<QueryResult, (u16, String, String)>;

#[derive(Debug, Clone)]
struct QueryResult {
    fields: Vec<(String, &'static str)>,
    rows: Vec<Vec<Option<String>>>,
    bytes: u64,
}

struct Job {
    outcome: Option<Outcome>,
    interrupt: Option<rusqlite::InterruptHandle>,
    cancelled: bool,
}

struct State {
    project: String,
    dataset: String,
    token: String,
    db: PathBuf,
    /// Table name → (rows, columns), for the bytes estimate.
    sizes: HashMap<String, (u64, u64)>,
    jobs: Mutex<HashMap<String, Job>>,
    requests: Mutex<Vec<Recorded>>,
    /// Milliseconds each job waits before it runs (a slow warehouse).
    delay_ms: Mutex<u64>,
}

/// A running fake.
pub struct FakeBigQuery {
    /// `http://127.0.0.1:PORT/bigquery/v2`, for `--bigquery-base-url`.
    pub base_url: String,
    state: Arc<State>,
    _dir: tempfile::TempDir,
}

impl FakeBigQuery {
    /// Serves a copy of the SQLite file `source` as dataset `dataset` of `project`, for the
    /// bearer token `token`, on a free port until the test process ends.
    pub fn start(source: &Path, project: &str, dataset: &str, token: &str) -> FakeBigQuery {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("dataset.sqlite");
        std::fs::copy(source, &db).expect("copy the dataset");
        let sizes = synthesise_metadata(&db, project, dataset);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let state = Arc::new(State {
            project: project.into(),
            dataset: dataset.into(),
            token: token.into(),
            db,
            sizes,
            jobs: Mutex::new(HashMap::new()),
            requests: Mutex::new(Vec::new()),
            delay_ms: Mutex::new(0),
        });
        let shared = state.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let acceptor = TcpAcceptor::from_std(listener).unwrap();
                let app = Route::new()
                    .at(
                        "/bigquery/v2/projects/:project/queries",
                        poem::post(jobs_query),
                    )
                    .at(
                        "/bigquery/v2/projects/:project/queries/:job",
                        poem::get(get_query_results),
                    )
                    .at(
                        "/bigquery/v2/projects/:project/jobs/:job",
                        poem::get(get_job),
                    )
                    .at(
                        "/bigquery/v2/projects/:project/jobs/:job/cancel",
                        poem::post(cancel),
                    )
                    .data(shared);
                let _ = poem::Server::new_with_acceptor(acceptor).run(app).await;
            });
        });
        FakeBigQuery {
            base_url: format!("http://127.0.0.1:{port}/bigquery/v2"),
            state,
            _dir: dir,
        }
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    /// The ids of the jobs that were cancelled.
    pub fn cancelled_jobs(&self) -> Vec<String> {
        let jobs = self.state.jobs.lock().unwrap();
        let mut ids: Vec<String> = jobs
            .iter()
            .filter(|(_, j)| j.cancelled)
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort();
        ids
    }

    /// The bytes every finished job billed, summed (what `jobs.get` reports).
    pub fn bytes_billed(&self) -> u64 {
        let jobs = self.state.jobs.lock().unwrap();
        jobs.values()
            .filter_map(|j| match &j.outcome {
                Some(Ok(result)) => Some(billed(result.bytes)),
                _ => None,
            })
            .sum()
    }

    /// Makes every later job wait `ms` milliseconds before it runs.
    pub fn set_delay_ms(&self, ms: u64) {
        *self.state.delay_ms.lock().unwrap() = ms;
    }
}

/// Creates the tables that stand for `INFORMATION_SCHEMA` and `__TABLES__`, from SQLite's
/// schema; returns each table's (rows, columns).
fn synthesise_metadata(db: &Path, project: &str, dataset: &str) -> HashMap<String, (u64, u64)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    conn.execute_batch(
        "CREATE TABLE __is_columns (table_catalog TEXT, table_schema TEXT, table_name TEXT, column_name TEXT, ordinal_position INTEGER, is_nullable TEXT, data_type TEXT);
         CREATE TABLE __tables__ (project_id TEXT, dataset_id TEXT, table_id TEXT, row_count INTEGER, size_bytes INTEGER, type INTEGER);
         CREATE TABLE __is_table_constraints (table_name TEXT, constraint_name TEXT, constraint_type TEXT);
         CREATE TABLE __is_key_column_usage (table_name TEXT, constraint_name TEXT, column_name TEXT, ordinal_position INTEGER, position_in_unique_constraint INTEGER);
         CREATE TABLE __is_constraint_column_usage (table_name TEXT, column_name TEXT, constraint_name TEXT);",
    )
    .unwrap();
    let mut sizes = HashMap::new();
    for table in &tables {
        let quoted = format!("\"{}\"", table.replace('"', "\"\""));
        let rows: u64 = conn
            .query_row(&format!("SELECT count(*) FROM {quoted}"), [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap() as u64;
        let columns: Vec<(String, String, bool, i64)> = conn
            .prepare("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1)")
            .unwrap()
            .query_map([table], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? != 0, r.get(3)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        sizes.insert(table.to_ascii_lowercase(), (rows, columns.len() as u64));
        conn.execute(
            "INSERT INTO __tables__ VALUES (?1, ?2, ?3, ?4, ?5, 1)",
            rusqlite::params![
                project,
                dataset,
                table,
                rows as i64,
                (rows * columns.len() as u64 * 8) as i64
            ],
        )
        .unwrap();
        let pk_name = format!("{table}.pk$");
        for (i, (name, decl, not_null, pk)) in columns.iter().enumerate() {
            conn.execute(
                "INSERT INTO __is_columns VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                rusqlite::params![
                    project,
                    dataset,
                    table,
                    name,
                    i as i64 + 1,
                    if *not_null || *pk > 0 { "NO" } else { "YES" },
                    bigquery_type(decl)
                ],
            )
            .unwrap();
            if *pk > 0 {
                conn.execute(
                    "INSERT INTO __is_key_column_usage VALUES (?1, ?2, ?3, ?4, NULL)",
                    rusqlite::params![table, pk_name, name, pk],
                )
                .unwrap();
            }
        }
        if columns.iter().any(|c| c.3 > 0) {
            conn.execute(
                "INSERT INTO __is_table_constraints VALUES (?1, ?2, 'PRIMARY KEY')",
                rusqlite::params![table, pk_name],
            )
            .unwrap();
        }
        let fks: Vec<(i64, String, String, Option<String>)> = conn
            .prepare("SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?1) ORDER BY id, seq")
            .unwrap()
            .query_map([table], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for (id, target, from, to) in fks {
            let name = format!("{table}.fk${id}");
            conn.execute(
                "INSERT INTO __is_table_constraints VALUES (?1, ?2, 'FOREIGN KEY')",
                rusqlite::params![table, name],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO __is_key_column_usage VALUES (?1, ?2, ?3, 1, 1)",
                rusqlite::params![table, name, from],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO __is_constraint_column_usage VALUES (?1, ?2, ?3)",
                rusqlite::params![target, to.unwrap_or_default(), name],
            )
            .unwrap();
        }
    }
    sizes
}

/// BigQuery's type for a SQLite declared type.
fn bigquery_type(decl: &str) -> &'static str {
    let d = decl.to_ascii_uppercase();
    if d.contains("BOOL") {
        "BOOL"
    } else if d.contains("TIMESTAMP") || d.contains("DATETIME") {
        "TIMESTAMP"
    } else if d.contains("DATE") {
        "DATE"
    } else if d.contains("INT") {
        "INT64"
    } else if d.contains("NUMERIC") || d.contains("DECIMAL") {
        "NUMERIC"
    } else if d.contains("REAL") || d.contains("FLOA") || d.contains("DOUB") {
        "FLOAT64"
    } else {
        "STRING"
    }
}

/// The REST API's (legacy) name of a result field's type.
fn rest_type(bigquery: &str) -> &'static str {
    match bigquery {
        "INT64" => "INTEGER",
        "FLOAT64" => "FLOAT",
        "BOOL" => "BOOLEAN",
        "NUMERIC" => "NUMERIC",
        "TIMESTAMP" => "TIMESTAMP",
        "DATE" => "DATE",
        _ => "STRING",
    }
}

fn error_body(code: u16, reason: &str, message: &str) -> Response {
    let status = match code {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        404 => "NOT_FOUND",
        _ => "INTERNAL",
    };
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap())
        .content_type("application/json")
        .body(
            serde_json::json!({
                "error": {
                    "code": code,
                    "message": message,
                    "errors": [{ "message": message, "domain": "global", "reason": reason }],
                    "status": status
                }
            })
            .to_string(),
        )
}

fn json_response(body: serde_json::Value) -> Response {
    Response::builder()
        .content_type("application/json")
        .body(body.to_string())
}

/// Records the request; returns the 401 response when its token is wrong.
fn admit(state: &State, req: &Request, body: serde_json::Value) -> Option<Response> {
    let authorization = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    state.requests.lock().unwrap().push(Recorded {
        method: req.method().to_string(),
        path: req.uri().path().to_string(),
        body,
        authorization: authorization.clone(),
    });
    if authorization.as_deref() != Some(&format!("Bearer {}", state.token)) {
        return Some(error_body(
            401,
            "unauthorized",
            "Request had invalid authentication credentials.",
        ));
    }
    None
}

#[handler]
async fn jobs_query(
    req: &Request,
    state: Data<&Arc<State>>,
    UrlPath(project): UrlPath<String>,
    body: Json<serde_json::Value>,
) -> Response {
    if let Some(denied) = admit(&state, req, body.0.clone()) {
        return denied;
    }
    let body = body.0;
    if project != state.project {
        return error_body(404, "notFound", &format!("Not found: Project {project}"));
    }
    if body["useLegacySql"] != serde_json::json!(false) {
        return error_body(
            400,
            "invalid",
            "fake BigQuery: only standard SQL (useLegacySql=false)",
        );
    }
    let sql = body["query"].as_str().unwrap_or("").to_string();
    let default = &body["defaultDataset"];
    if default["datasetId"].as_str() != Some(state.dataset.as_str()) {
        return error_body(
            400,
            "invalid",
            "fake BigQuery: the default dataset must be the served one",
        );
    }
    let max_bytes: Option<u64> = body["maximumBytesBilled"]
        .as_str()
        .and_then(|s| s.parse().ok());
    let timeout_ms = body["timeoutMs"].as_u64().unwrap_or(10_000);
    let max_results = body["maxResults"].as_u64().map(|n| n as usize);
    let (translated, bytes) = match translate(&state, &sql) {
        Ok(t) => t,
        Err(message) => {
            eprintln!("fake BigQuery refuses: {message}\n  SQL: {sql}");
            return error_body(400, "invalidQuery", &message);
        }
    };
    if let Some(max) = max_bytes {
        if bytes > max {
            return error_body(
                400,
                "bytesBilledLimitExceeded",
                &format!(
                    "Query exceeded limit for bytes billed: {max}. {bytes} or higher required."
                ),
            );
        }
    }
    let job_id = format!("job_{}", uuid_like());
    start_job(state.0.clone(), job_id.clone(), translated, bytes);
    let outcome = wait_for(&state, &job_id, timeout_ms).await;
    respond(
        &state,
        &job_id,
        outcome,
        0,
        max_results,
        "bigquery#queryResponse",
    )
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResultsParams {
    max_results: Option<usize>,
    page_token: Option<String>,
    start_index: Option<String>,
    timeout_ms: Option<u64>,
}

#[handler]
async fn get_query_results(
    req: &Request,
    state: Data<&Arc<State>>,
    UrlPath((_project, job_id)): UrlPath<(String, String)>,
    Query(params): Query<ResultsParams>,
) -> Response {
    let query = serde_json::json!(req.uri().query().unwrap_or(""));
    if let Some(denied) = admit(&state, req, query) {
        return denied;
    }
    if !state.jobs.lock().unwrap().contains_key(&job_id) {
        return error_body(404, "notFound", &format!("Not found: Job {job_id}"));
    }
    let outcome = wait_for(&state, &job_id, params.timeout_ms.unwrap_or(10_000)).await;
    let start = params
        .page_token
        .or(params.start_index)
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    respond(
        &state,
        &job_id,
        outcome,
        start,
        params.max_results,
        "bigquery#getQueryResultsResponse",
    )
}

/// BigQuery bills at least 10 MB per table read, rounded up to the MB (on-demand pricing);
/// the fake bills its byte estimate so rounded.
fn billed(bytes: u64) -> u64 {
    const MB: u64 = 1 << 20;
    bytes.div_ceil(MB).max(10) * MB
}

#[handler]
async fn get_job(
    req: &Request,
    state: Data<&Arc<State>>,
    UrlPath((project, job_id)): UrlPath<(String, String)>,
) -> Response {
    if let Some(denied) = admit(&state, req, serde_json::Value::Null) {
        return denied;
    }
    let jobs = state.jobs.lock().unwrap();
    let Some(job) = jobs.get(&job_id) else {
        return error_body(404, "notFound", &format!("Not found: Job {job_id}"));
    };
    let reference = serde_json::json!({ "projectId": project, "jobId": job_id, "location": "US" });
    let mut body = serde_json::json!({
        "kind": "bigquery#job",
        "id": format!("{project}:US.{job_id}"),
        "jobReference": reference,
        "status": { "state": if job.outcome.is_some() { "DONE" } else { "RUNNING" } },
    });
    if let Some(Ok(result)) = &job.outcome {
        body["statistics"] = serde_json::json!({
            "query": {
                "totalBytesProcessed": result.bytes.to_string(),
                "totalBytesBilled": billed(result.bytes).to_string(),
                "cacheHit": false
            }
        });
    }
    json_response(body)
}

#[handler]
async fn cancel(
    req: &Request,
    state: Data<&Arc<State>>,
    UrlPath((project, job_id)): UrlPath<(String, String)>,
) -> Response {
    if let Some(denied) = admit(&state, req, serde_json::Value::Null) {
        return denied;
    }
    let mut jobs = state.jobs.lock().unwrap();
    let Some(job) = jobs.get_mut(&job_id) else {
        return error_body(404, "notFound", &format!("Not found: Job {job_id}"));
    };
    job.cancelled = true;
    if let Some(handle) = &job.interrupt {
        handle.interrupt();
    }
    json_response(serde_json::json!({
        "kind": "bigquery#jobCancelResponse",
        "job": { "jobReference": { "projectId": project, "jobId": job_id, "location": "US" } }
    }))
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("{:08}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Runs the translated SQL on a thread of its own; the job's outcome is set when it ends.
fn start_job(state: Arc<State>, job_id: String, sql: String, bytes: u64) {
    let mut conn = rusqlite::Connection::open_with_flags(
        &state.db,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    state.jobs.lock().unwrap().insert(
        job_id.clone(),
        Job {
            outcome: None,
            interrupt: Some(conn.get_interrupt_handle()),
            cancelled: false,
        },
    );
    std::thread::spawn(move || {
        let delay = *state.delay_ms.lock().unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        // A job nobody cancels still ends within a minute.
        let deadline = Instant::now() + Duration::from_secs(60);
        let _ = conn.progress_handler(10_000, Some(move || Instant::now() > deadline));
        let outcome = run_sqlite(&conn, &sql, bytes);
        let mut jobs = state.jobs.lock().unwrap();
        if let Some(job) = jobs.get_mut(&job_id) {
            job.outcome = Some(if job.cancelled {
                Err((
                    400,
                    "stopped".into(),
                    "Job execution was cancelled: User requested cancellation".into(),
                ))
            } else {
                outcome
            });
            job.interrupt = None;
        }
    });
}

fn run_sqlite(conn: &rusqlite::Connection, sql: &str, bytes: u64) -> Outcome {
    let invalid = |e: rusqlite::Error| (400, "invalidQuery".to_string(), e.to_string());
    let mut stmt = conn.prepare(sql).map_err(invalid)?;
    let declared: Vec<(String, Option<String>)> = stmt
        .columns()
        .map(|c| (c.name().to_string(), c.decl_type().map(str::to_string)))
        .collect();
    let n = declared.len();
    let mut rows_out: Vec<Vec<Option<String>>> = Vec::new();
    let mut seen: Vec<Option<&'static str>> = vec![None; n];
    let mut rows = stmt.query([]).map_err(invalid)?;
    let mut raw: Vec<Vec<rusqlite::types::Value>> = Vec::new();
    while let Some(row) = rows.next().map_err(invalid)? {
        let mut values = Vec::with_capacity(n);
        for i in 0..n {
            let v = row.get_ref(i).map_err(invalid)?;
            // A column's type is the widest of its values' (integers and reals make FLOAT64).
            seen[i] = match (seen[i], v) {
                (Some("STRING"), _) | (_, ValueRef::Text(_)) => Some("STRING"),
                (Some("FLOAT64"), _) | (_, ValueRef::Real(_)) => Some("FLOAT64"),
                (_, ValueRef::Integer(_)) => Some("INT64"),
                (before, _) => before,
            };
            values.push(match v {
                ValueRef::Null => rusqlite::types::Value::Null,
                ValueRef::Integer(i) => rusqlite::types::Value::Integer(i),
                ValueRef::Real(f) => rusqlite::types::Value::Real(f),
                ValueRef::Text(t) => {
                    rusqlite::types::Value::Text(String::from_utf8_lossy(t).into())
                }
                ValueRef::Blob(b) => rusqlite::types::Value::Blob(b.to_vec()),
            });
        }
        raw.push(values);
    }
    let types: Vec<&'static str> = declared
        .iter()
        .zip(&seen)
        .map(|((_, decl), seen)| match decl {
            Some(d) => bigquery_type(d),
            None => seen.unwrap_or("STRING"),
        })
        .collect();
    for values in raw {
        rows_out.push(
            values
                .into_iter()
                .zip(&types)
                .map(|(v, t)| encode(v, t))
                .collect(),
        );
    }
    Ok(QueryResult {
        fields: declared
            .into_iter()
            .zip(types)
            .map(|((name, _), t)| (name, rest_type(t)))
            .collect(),
        rows: rows_out,
        bytes,
    })
}

/// A SQLite value as BigQuery's REST API writes a cell of type `t`.
fn encode(v: rusqlite::types::Value, t: &str) -> Option<String> {
    use rusqlite::types::Value as V;
    match (v, t) {
        (V::Null, _) => None,
        (V::Integer(i), "BOOL") => Some((i != 0).to_string()),
        (V::Text(s), "TIMESTAMP") => {
            let at = chrono::NaiveDateTime::parse_from_str(&s, "%Y-%m-%d %H:%M:%S")
                .unwrap_or_else(|e| panic!("fake BigQuery: timestamp {s:?}: {e}"));
            Some(format!("{:E}", at.and_utc().timestamp() as f64))
        }
        (V::Integer(i), _) => Some(i.to_string()),
        (V::Real(f), _) => Some(f.to_string()),
        (V::Text(s), _) => Some(s),
        (V::Blob(b), _) => Some(format!("<{} bytes>", b.len())),
    }
}

/// Waits up to `timeout_ms` for the job's outcome.
async fn wait_for(state: &State, job_id: &str, timeout_ms: u64) -> Option<Outcome> {
    let deadline = Instant::now() + Duration::from_millis(timeout_ms);
    loop {
        if let Some(outcome) = state
            .jobs
            .lock()
            .unwrap()
            .get(job_id)
            .and_then(|j| j.outcome.clone())
        {
            return Some(outcome);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn respond(
    state: &State,
    job_id: &str,
    outcome: Option<Outcome>,
    start: usize,
    max_results: Option<usize>,
    kind: &str,
) -> Response {
    let reference =
        serde_json::json!({ "projectId": state.project, "jobId": job_id, "location": "US" });
    let result = match outcome {
        None => {
            return json_response(serde_json::json!({
                "kind": kind, "jobReference": reference, "jobComplete": false
            }))
        }
        Some(Err((code, reason, message))) => return error_body(code, &reason, &message),
        Some(Ok(result)) => result,
    };
    let end = max_results
        .map(|m| (start + m).min(result.rows.len()))
        .unwrap_or(result.rows.len());
    let rows: Vec<serde_json::Value> = result.rows[start.min(end)..end]
        .iter()
        .map(|r| serde_json::json!({ "f": r.iter().map(|v| serde_json::json!({ "v": v })).collect::<Vec<_>>() }))
        .collect();
    let mut body = serde_json::json!({
        "kind": kind,
        "etag": "fake",
        "schema": { "fields": result.fields.iter().map(|(n, t)| serde_json::json!({ "name": n, "type": t, "mode": "NULLABLE" })).collect::<Vec<_>>() },
        "jobReference": reference,
        "totalRows": result.rows.len().to_string(),
        "rows": rows,
        "totalBytesProcessed": result.bytes.to_string(),
        "jobComplete": true,
        "cacheHit": false
    });
    if end < result.rows.len() {
        body["pageToken"] = serde_json::json!(end.to_string());
    }
    json_response(body)
}

/// BigQuery SQL as SQLite SQL, with the bytes it would bill; an error for what the fake does
/// not understand.
fn translate(state: &State, sql: &str) -> Result<(String, u64), String> {
    let mut statements =
        Parser::parse_sql(&BigQueryDialect {}, sql).map_err(|e| format!("Syntax error: {e}"))?;
    if statements.len() != 1 {
        return Err("fake BigQuery: one statement only".into());
    }
    let Statement::Query(mut query) = statements.remove(0) else {
        return Err("fake BigQuery: only queries (this fake runs no DML, DDL or scripts)".into());
    };
    let mut rewriter = Rewriter {
        state,
        bytes: 0,
        error: None,
    };
    let _ = query.visit(&mut rewriter);
    if let Some(e) = rewriter.error {
        return Err(e);
    }
    Ok((query.to_string(), rewriter.bytes))
}

struct Rewriter<'a> {
    state: &'a State,
    bytes: u64,
    error: Option<String>,
}

impl Rewriter<'_> {
    fn fail(&mut self, message: String) -> ControlFlow<()> {
        self.error = Some(message);
        ControlFlow::Break(())
    }

    fn parse_expr(text: &str) -> Expr {
        Parser::new(&BigQueryDialect {})
            .try_with_sql(text)
            .unwrap()
            .parse_expr()
            .unwrap()
    }
}

impl VisitorMut for Rewriter<'_> {
    type Break = ();

    fn pre_visit_relation(&mut self, relation: &mut ObjectName) -> ControlFlow<()> {
        let mut parts: Vec<String> = Vec::new();
        for part in &relation.0 {
            match part {
                ObjectNamePart::Identifier(ident) => {
                    parts.extend(ident.value.split('.').map(str::to_string))
                }
                other => return self.fail(format!("fake BigQuery: table name part {other}")),
            }
        }
        let lower: Vec<String> = parts.iter().map(|p| p.to_ascii_lowercase()).collect();
        let (qualifiers, local): (&[String], String) = match lower.as_slice() {
            [q @ .., s, view] if s == "information_schema" => (q, format!("__is_{view}")),
            [q @ .., t] if t == "__tables__" => (q, "__tables__".into()),
            [q @ .., _] => (q, parts.last().cloned().unwrap_or_default()),
            [] => return self.fail("fake BigQuery: empty table name".into()),
        };
        let dataset = self.state.dataset.to_ascii_lowercase();
        let project = self.state.project.to_ascii_lowercase();
        let known = match qualifiers {
            [] => true,
            [d] => *d == dataset,
            [p, d] => *p == project && *d == dataset,
            _ => false,
        };
        if !known {
            return self.fail(format!(
                "Not found: Dataset {} was not found in location US",
                parts[..parts.len() - 1].join(".")
            ));
        }
        if local.starts_with("__is_")
            && !matches!(
                local.as_str(),
                "__is_columns"
                    | "__is_table_constraints"
                    | "__is_key_column_usage"
                    | "__is_constraint_column_usage"
            )
        {
            return self.fail(format!("fake BigQuery: no INFORMATION_SCHEMA view {local}"));
        }
        if let Some((rows, columns)) = self.state.sizes.get(&local.to_ascii_lowercase()) {
            self.bytes += rows * columns * 8;
        }
        *relation = ObjectName::from(vec![Ident::with_quote('"', local)]);
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, query: &mut sqlparser::ast::Query) -> ControlFlow<()> {
        fn plain_unions(set: &mut SetExpr) {
            if let SetExpr::SetOperation {
                set_quantifier,
                left,
                right,
                ..
            } = set
            {
                if matches!(set_quantifier, SetQuantifier::Distinct) {
                    *set_quantifier = SetQuantifier::None;
                }
                plain_unions(left);
                plain_unions(right);
            }
        }
        plain_unions(&mut query.body);
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        match expr {
            Expr::Function(f) => {
                let name = f.name.to_string().to_ascii_lowercase();
                if !KNOWN_FUNCTIONS.contains(&name.as_str()) {
                    return self.fail(format!("fake BigQuery does not know function {name}"));
                }
                if name == "approx_count_distinct" {
                    let FunctionArguments::List(args) = &f.args else {
                        return self
                            .fail("fake BigQuery: APPROX_COUNT_DISTINCT needs an argument".into());
                    };
                    let arg = args.args.first().map(|a| a.to_string()).unwrap_or_default();
                    *expr = Self::parse_expr(&format!("COUNT(DISTINCT {arg})"));
                }
            }
            Expr::Extract {
                field, expr: inner, ..
            } => {
                let format = match field {
                    DateTimeField::Year => "%Y",
                    DateTimeField::Month => "%m",
                    DateTimeField::Day => "%d",
                    other => return self.fail(format!("fake BigQuery: EXTRACT({other})")),
                };
                *expr = Self::parse_expr(&format!("CAST(strftime('{format}', {inner}) AS INT64)"));
                // strftime is SQLite's own: not checked against the known functions.
                if let Expr::Cast { data_type, .. } = expr {
                    *data_type = DataType::Integer(None);
                }
            }
            Expr::Cast { data_type, .. } => {
                *data_type = match data_type {
                    DataType::String(_) => DataType::Text,
                    DataType::Int64 => DataType::Integer(None),
                    DataType::Float64 => DataType::Real,
                    DataType::Date => DataType::Text,
                    other => return self.fail(format!("fake BigQuery: CAST AS {other}")),
                };
            }
            Expr::TypedString(typed) => {
                if !matches!(typed.data_type, DataType::Date) {
                    return self.fail(format!("fake BigQuery: literal {typed}"));
                }
                *expr = Expr::Value(typed.value.clone());
            }
            Expr::Value(v) if matches!(v.value, Value::DoubleQuotedString(_)) => {
                // BigQuery reads "text" as a string; SQLite would read an identifier.
                if let Value::DoubleQuotedString(s) = &v.value {
                    v.value = Value::SingleQuotedString(s.clone());
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}
