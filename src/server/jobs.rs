//! Query jobs, for questions whose warehouse query runs long: `POST /api/jobs` takes the body of
//! `/api/query` and answers 202 with a job id at once; `GET /api/jobs/{id}` gives the state
//! (`queued`, `running`, `done`, `failed`, `cancelled`), the pipeline's progress events so far
//! and the answer when done; `DELETE /api/jobs/{id}` cancels.
//!
//! Jobs live in a bounded store (moka: at most `max_jobs`, each kept `job_ttl_s`). Cancelling
//! a job aborts its task: its place in the question queue is freed at once, and the question's
//! cancellation stops its warehouse statement (SQLite interrupted within milliseconds; a
//! BigQuery job cancelled at BigQuery as soon as BigQuery has told its id, within about a
//! second).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};

use super::api::{QueryRequest, QueryResponseBody};
use super::errors::{ApiError, ErrorDetail};
use super::ops::Ops;
use crate::engine::{Engine, QueryAnswer, StageEvent};
use crate::error::QuerentError;

/// At most this many progress events are kept per job (summary tokens are not kept).
const MAX_EVENTS: usize = 64;

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
    Cancelled,
}

impl JobState {
    /// The state's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    fn finished(self) -> bool {
        matches!(self, Self::Done | Self::Failed | Self::Cancelled)
    }
}

/// One progress event of a job: the stage's name and what it found (as in the stream).
#[derive(Debug, Clone, Object)]
pub struct JobEvent {
    /// `analysis`, `retrieval`, `sql`, `rows` or `chart`.
    pub event: String,
    pub data: serde_json::Value,
    /// Milliseconds since the job was created.
    pub at_ms: u64,
}

/// A job as `GET /api/jobs/{id}` shows it.
#[derive(Debug, Object)]
pub struct JobBody {
    pub job_id: String,
    pub state: JobState,
    pub question: String,
    #[oai(skip_serializing_if_is_none)]
    pub database: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// Milliseconds from creation to the end (finished jobs only; absent before, as `answer`
    /// and `error` are when there is none: absent, never null).
    #[oai(skip_serializing_if_is_none)]
    pub elapsed_ms: Option<u64>,
    /// The pipeline's progress so far, in order.
    pub events: Vec<JobEvent>,
    /// The answer (`done` only): the body of `POST /api/query`.
    #[oai(skip_serializing_if_is_none)]
    pub answer: Option<QueryResponseBody>,
    /// Why the job failed (`failed` only).
    #[oai(skip_serializing_if_is_none)]
    pub error: Option<ErrorDetail>,
}

struct JobInner {
    state: JobState,
    events: Vec<JobEvent>,
    answer: Option<QueryAnswer>,
    error: Option<ErrorDetail>,
    finished_ms: Option<u64>,
    task: Option<tokio::task::AbortHandle>,
}

/// One job.
pub struct Job {
    id: String,
    question: String,
    database: Option<String>,
    created_at: chrono::DateTime<chrono::Utc>,
    created: std::time::Instant,
    inner: Mutex<JobInner>,
}

impl Job {
    fn elapsed_ms(&self) -> u64 {
        self.created.elapsed().as_millis() as u64
    }

    fn body(&self) -> JobBody {
        let inner = self.inner.lock();
        JobBody {
            job_id: self.id.clone(),
            state: inner.state,
            question: self.question.clone(),
            database: self.database.clone(),
            created_at: self.created_at.to_rfc3339(),
            elapsed_ms: inner.finished_ms,
            events: inner.events.clone(),
            answer: inner.answer.clone().map(QueryResponseBody::from),
            error: inner.error.clone(),
        }
    }

    /// Moves to `state` unless the job has finished already (a cancelled job stays cancelled).
    fn set(&self, state: JobState) -> bool {
        let mut inner = self.inner.lock();
        if inner.state.finished() {
            return false;
        }
        inner.state = state;
        if state.finished() {
            inner.finished_ms = Some(self.elapsed_ms());
            inner.task = None;
        }
        true
    }
}

/// The bounded store of jobs.
pub struct JobStore {
    jobs: moka::future::Cache<String, Arc<Job>>,
}

impl JobStore {
    /// At most `max_jobs` jobs, each kept `ttl` after its creation.
    pub fn new(max_jobs: u64, ttl: Duration) -> Self {
        Self {
            jobs: moka::future::Cache::builder()
                .max_capacity(max_jobs.max(1))
                .time_to_live(ttl.max(Duration::from_secs(1)))
                .build(),
        }
    }

    /// Jobs held, by state.
    pub fn counts(&self) -> BTreeMap<&'static str, u64> {
        let mut counts: BTreeMap<&'static str, u64> = [
            JobState::Queued,
            JobState::Running,
            JobState::Done,
            JobState::Failed,
            JobState::Cancelled,
        ]
        .iter()
        .map(|s| (s.as_str(), 0))
        .collect();
        for (_, job) in self.jobs.iter() {
            *counts.entry(job.inner.lock().state.as_str()).or_default() += 1;
        }
        counts
    }

    async fn get(&self, id: &str) -> Option<Arc<Job>> {
        self.jobs.get(id).await
    }
}

/// The jobs routes.
pub struct JobsApi {
    pub engine: Arc<Engine>,
    pub ops: Arc<Ops>,
}

#[derive(ApiResponse)]
pub enum JobCreated {
    /// The job is queued; follow it at `GET /api/jobs/{job_id}`.
    #[oai(status = 202)]
    Accepted(Json<JobBody>, #[oai(header = "Location")] String),
}

#[derive(ApiResponse)]
pub enum JobResponse {
    #[oai(status = 200)]
    Ok(Json<JobBody>),
}

fn unknown_job(id: &str) -> ApiError {
    QuerentError::UnknownItem {
        what: "job",
        id: id.to_string(),
    }
    .into()
}

#[OpenApi(prefix_path = "/api")]
impl JobsApi {
    /// Start a query job: the body of `POST /api/query`; 202 with the job at once.
    ///
    /// An invalid question, conversation id or unknown database is refused before the job
    /// starts (4xx).
    #[oai(path = "/jobs", method = "post")]
    async fn create(&self, body: Json<QueryRequest>) -> Result<JobCreated, ApiError> {
        let (request, database) = body.0.checked_ask(&self.engine)?;
        let job = Arc::new(Job {
            id: uuid::Uuid::new_v4().to_string(),
            question: request.question.clone(),
            database: Some(database.clone()),
            created_at: chrono::Utc::now(),
            created: std::time::Instant::now(),
            inner: Mutex::new(JobInner {
                state: JobState::Queued,
                events: Vec::new(),
                answer: None,
                error: None,
                finished_ms: None,
                task: None,
            }),
        });
        self.ops.jobs.jobs.insert(job.id.clone(), job.clone()).await;
        let (engine, ops, running) = (self.engine.clone(), self.ops.clone(), job.clone());
        let span = tracing::Span::current();
        let task = tokio::spawn(tracing::Instrument::instrument(
            async move {
                let job = running;
                let permit = match ops.admission.enter(&database).await {
                    Ok(p) => p,
                    Err(e) => {
                        ops.metrics.observe_refusal(e.code());
                        fail(&job, &e);
                        return;
                    }
                };
                if !job.set(JobState::Running) {
                    return;
                }
                let sink_job = job.clone();
                let result = engine
                    .ask_with_events(request, move |e: StageEvent| {
                        if matches!(e, StageEvent::SummaryToken { .. }) {
                            return;
                        }
                        let mut inner = sink_job.inner.lock();
                        if inner.events.len() < MAX_EVENTS {
                            let at_ms = sink_job.elapsed_ms();
                            inner.events.push(JobEvent {
                                event: e.name().to_string(),
                                data: serde_json::to_value(&e).unwrap_or_default(),
                                at_ms,
                            });
                        }
                    })
                    .await;
                drop(permit);
                match result {
                    Ok(answer) => {
                        ops.metrics.observe_answer(&answer);
                        if job.inner.lock().state == JobState::Running {
                            job.inner.lock().answer = Some(answer);
                            job.set(JobState::Done);
                        }
                    }
                    Err(e) => {
                        ops.metrics.observe_refusal(e.code());
                        fail(&job, &e);
                    }
                }
            },
            span,
        ));
        job.inner.lock().task = Some(task.abort_handle());
        let body = job.body();
        let location = format!("/api/jobs/{}", job.id);
        Ok(JobCreated::Accepted(Json(body), location))
    }

    /// A job: its state, progress events so far, and the answer when done.
    #[oai(path = "/jobs/:id", method = "get")]
    async fn get(&self, id: Path<String>) -> Result<JobResponse, ApiError> {
        let job = self
            .ops
            .jobs
            .get(&id.0)
            .await
            .ok_or_else(|| unknown_job(&id.0))?;
        Ok(JobResponse::Ok(Json(job.body())))
    }

    /// Cancel a job: a queued or running job becomes `cancelled` (its answer, should one still
    /// come, is discarded); a finished job is left as it is. Answers the job as it is now.
    #[oai(path = "/jobs/:id", method = "delete")]
    async fn cancel(&self, id: Path<String>) -> Result<JobResponse, ApiError> {
        let job = self
            .ops
            .jobs
            .get(&id.0)
            .await
            .ok_or_else(|| unknown_job(&id.0))?;
        let task = job.inner.lock().task.take();
        if job.set(JobState::Cancelled) {
            if let Some(task) = task {
                task.abort();
            }
            tracing::info!(job_id = %job.id, "query job cancelled");
        }
        Ok(JobResponse::Ok(Json(job.body())))
    }
}

fn fail(job: &Job, e: &QuerentError) {
    let detail = ErrorDetail {
        code: e.code().to_string(),
        message: e.to_string(),
        details: e.details(),
    };
    let mut inner = job.inner.lock();
    if inner.state.finished() {
        return;
    }
    inner.error = Some(detail);
    drop(inner);
    job.set(JobState::Failed);
}
