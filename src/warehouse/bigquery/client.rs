//! The connection to BigQuery: credentials, a small runtime of its own, and one query job run
//! to completion within the limits (`jobs.query`, then `jobs.getQueryResults` until done or
//! out of time or cancelled, then `jobs.cancel`; pages read up to the row limit), and the
//! totals of what the jobs billed (`jobs.get` after each answer, off the answer's path).
//!
//! The client library is async; [`BigQueryClient`] owns a one-thread tokio runtime and waits on
//! it, so its methods are blocking and may be called from any thread, inside another runtime or
//! not (like the Qdrant server index in `retrieval::index::server`). One client serves every
//! dataset of the settings.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gcp_bigquery_client::auth::Authenticator;
use gcp_bigquery_client::error::BQError;
use gcp_bigquery_client::model::dataset_reference::DatasetReference;
use gcp_bigquery_client::model::get_query_results_parameters::GetQueryResultsParameters;
use gcp_bigquery_client::model::query_request::QueryRequest;
use gcp_bigquery_client::model::table_field_schema::TableFieldSchema;
use gcp_bigquery_client::model::table_row::TableRow;
use gcp_bigquery_client::Client;

use super::config::{BigQuerySettings, DatasetRef};
use crate::error::{QuerentError, QuerentResult};
use crate::warehouse::{CancellationToken, WarehouseUsage};

/// Extra time granted to one HTTP call beyond the query's own time limit (network, queueing).
const CALL_SLACK: Duration = Duration::from_secs(5);

/// Rows asked for per page once the first page is read (BigQuery also caps pages at 10 MB).
const PAGE_ROWS: usize = 10_000;

/// How long `jobs.query` waits for the job before it answers with the job's id; a cancelled
/// question's job is cancelled at BigQuery once its id is known, so within about this time.
const FIRST_WAIT: Duration = Duration::from_secs(1);

/// A query's limits: rows, time and bytes billed.
#[derive(Debug, Clone, Copy)]
pub struct QueryLimits {
    /// At most this many rows are read; `truncated` tells when there were more.
    pub max_rows: usize,
    /// The job is cancelled past this many milliseconds.
    pub timeout_ms: u64,
    /// `maximumBytesBilled` of the job.
    pub max_bytes_billed: u64,
}

/// The rows of one finished query, with the result's schema.
#[derive(Debug, Clone, Default)]
pub struct QueryOutput {
    /// The result's fields, in select-list order.
    pub fields: Vec<TableFieldSchema>,
    /// The raw REST rows (at most `max_rows`).
    pub rows: Vec<TableRow>,
    /// True when the result had more than `max_rows` rows.
    pub truncated: bool,
}

/// An authenticated BigQuery client for one billing project.
pub struct BigQueryClient {
    client: Client,
    project: String,
    location: Option<String>,
    base_url: Option<String>,
    /// Runs the client's futures; `Option` only so that `Drop` can shut it down without
    /// blocking (a runtime dropped inside another one would panic).
    runtime: Option<tokio::runtime::Runtime>,
}

/// The running totals behind [`WarehouseUsage`], kept by whoever runs the jobs (one per
/// dataset).
#[derive(Debug, Default)]
pub struct UsageCounters {
    jobs: AtomicU64,
    cache_hits: AtomicU64,
    bytes_processed: AtomicU64,
    bytes_billed: AtomicU64,
}

impl UsageCounters {
    /// The totals as they are now.
    pub fn snapshot(&self) -> WarehouseUsage {
        WarehouseUsage {
            jobs: self.jobs.load(Ordering::Relaxed),
            cache_hits: self.cache_hits.load(Ordering::Relaxed),
            bytes_processed: self.bytes_processed.load(Ordering::Relaxed),
            bytes_billed: self.bytes_billed.load(Ordering::Relaxed),
        }
    }
}

impl std::fmt::Debug for BigQueryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BigQueryClient")
            .field("project", &self.project)
            .field("location", &self.location)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Drop for BigQueryClient {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// An access token given as is (`gcloud auth print-access-token`, an emulator's token).
#[derive(Clone)]
struct StaticToken(String);

#[async_trait::async_trait]
impl Authenticator for StaticToken {
    async fn access_token(&self) -> Result<String, BQError> {
        Ok(self.0.clone())
    }
}

impl BigQueryClient {
    /// Builds the client for `settings`' project with its credentials: the key file, else the
    /// access token, else the application default credentials. No call is made yet (tokens
    /// are fetched at the first query).
    ///
    /// Errors ([`QuerentError::WarehouseUnavailable`]): no project, an unreadable key file, no
    /// credentials found.
    pub fn connect(settings: &BigQuerySettings) -> QuerentResult<Arc<Self>> {
        let unavailable = |message: String| QuerentError::WarehouseUnavailable { message };
        let project = settings
            .project
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .ok_or_else(|| unavailable("no BigQuery project is configured".into()))?
            .to_string();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("bigquery-client")
            .enable_all()
            .build()
            .map_err(|e| unavailable(format!("cannot start the BigQuery client's runtime: {e}")))?;
        let base_url = settings
            .base_url
            .as_deref()
            .map(|u| u.trim().trim_end_matches('/').to_string())
            .filter(|u| !u.is_empty());
        let credentials = settings.credentials.clone();
        let token = settings
            .access_token
            .as_ref()
            .map(|t| t.expose().trim().to_string())
            .filter(|t| !t.is_empty());
        let builder_url = base_url.clone();
        let client = runtime
            .block_on(async move {
                let mut builder = gcp_bigquery_client::client_builder::ClientBuilder::new();
                if let Some(url) = builder_url {
                    builder.with_v2_base_url(url);
                }
                if let Some(path) = credentials {
                    // The full BigQuery scope: the read-only one cannot run query jobs. What
                    // the account may do is its roles' business (Data Viewer + Job User).
                    builder
                        .build_from_service_account_key_file(&path.to_string_lossy())
                        .await
                        .map_err(|e| format!("cannot use the key file {}: {e}", path.display()))
                } else if let Some(token) = token {
                    builder
                        .build_from_authenticator(Arc::new(StaticToken(token)))
                        .await
                        .map_err(|e| e.to_string())
                } else {
                    builder
                        .build_from_application_default_credentials()
                        .await
                        .map_err(|e| format!("no BigQuery credentials: set --bigquery-credentials, QUERENT_BIGQUERY_ACCESS_TOKEN or GOOGLE_APPLICATION_CREDENTIALS ({e})"))
                }
            })
            .map_err(unavailable)?;
        Ok(Arc::new(Self {
            client,
            project,
            location: settings.location.clone().filter(|l| !l.trim().is_empty()),
            base_url,
            runtime: Some(runtime),
        }))
    }

    /// The billing project.
    pub fn project(&self) -> &str {
        &self.project
    }

    /// Runs `sql` as one query job with `dataset` as its default dataset (unqualified table
    /// names resolve there) and waits for its rows within `limits`, adding the job to `usage`.
    /// Once `cancel` is cancelled
    /// the job is cancelled at BigQuery (as soon as BigQuery has told its id: within about
    /// [`FIRST_WAIT`]).
    ///
    /// Errors: [`QuerentError::SqlTimeout`] when the job is not done in time (it is cancelled);
    /// [`QuerentError::Cancelled`] when `cancel` stopped it;
    /// [`QuerentError::SqlCostLimit`] when it would bill more than allowed;
    /// [`QuerentError::SqlFailed`] with BigQuery's message for a query BigQuery refuses or
    /// fails; [`QuerentError::WarehouseUnavailable`] when BigQuery cannot be reached or refuses
    /// the credentials.
    pub fn query(
        &self,
        dataset: &DatasetRef,
        sql: &str,
        limits: QueryLimits,
        cancel: &CancellationToken,
        usage: &Arc<UsageCounters>,
    ) -> QuerentResult<QueryOutput> {
        let Some(runtime) = &self.runtime else {
            return Err(QuerentError::WarehouseUnavailable {
                message: "the BigQuery client is shut down".into(),
            });
        };
        let job = QueryJob {
            client: self.client.clone(),
            project: self.project.clone(),
            location: self.location.clone(),
            limits,
            cancel: cancel.clone(),
            usage: usage.clone(),
        };
        let request = job.request(dataset, sql);
        wait(runtime, job.run(request))
    }
}

/// Runs `future` on `runtime` and waits for it from this (non-async) thread.
fn wait<T: Send + 'static>(
    runtime: &tokio::runtime::Runtime,
    future: impl Future<Output = QuerentResult<T>> + Send + 'static,
) -> QuerentResult<T> {
    futures::executor::block_on(runtime.spawn(future)).map_err(|e| {
        QuerentError::WarehouseUnavailable {
            message: format!("the BigQuery call failed: {e}"),
        }
    })?
}

/// One query job's calls, owned so that they can run on the client's runtime.
struct QueryJob {
    client: Client,
    project: String,
    location: Option<String>,
    limits: QueryLimits,
    cancel: CancellationToken,
    usage: Arc<UsageCounters>,
}

impl QueryJob {
    fn request(&self, dataset: &DatasetRef, sql: &str) -> QueryRequest {
        let mut request = QueryRequest::new(sql);
        request.default_dataset = Some(DatasetReference {
            dataset_id: dataset.dataset.clone(),
            project_id: dataset.project.clone(),
        });
        request.use_legacy_sql = false;
        // jobs.query answers within FIRST_WAIT, done or not: an unfinished job's id is then
        // known, to poll it and to cancel it.
        let first_wait = Duration::from_millis(self.limits.timeout_ms).min(FIRST_WAIT);
        request.timeout_ms = Some(clamp_i32(first_wait.as_millis() as u64));
        request.max_results = Some(clamp_i32(self.limits.max_rows as u64 + 1));
        request.maximum_bytes_billed = Some(self.limits.max_bytes_billed.to_string());
        request.location = self.location.clone();
        // Makes a retried request idempotent: BigQuery runs one job per request id.
        request.request_id = Some(uuid::Uuid::new_v4().to_string());
        request
    }

    async fn run(self, request: QueryRequest) -> QuerentResult<QueryOutput> {
        let started = Instant::now();
        let limit = Duration::from_millis(self.limits.timeout_ms);
        let want = self.limits.max_rows + 1;
        let first = self
            .bounded(
                limit + CALL_SLACK,
                self.client.job().query(&self.project, request),
            )
            .await?;
        let job_id = first.job_reference.as_ref().and_then(|r| r.job_id.clone());
        let location = first
            .job_reference
            .as_ref()
            .and_then(|r| r.location.clone())
            .or_else(|| self.location.clone());
        let mut complete = first.job_complete.unwrap_or(false);
        let mut fields = first.schema.and_then(|s| s.fields).unwrap_or_default();
        let mut rows = first.rows.unwrap_or_default();
        let mut page_token = first.page_token;
        let mut finished = (first.cache_hit, first.total_bytes_processed);
        // Not done within jobs.query's wait: poll until the limit, then cancel.
        while !complete {
            let Some(job_id) = job_id.as_deref() else {
                return Err(failed("BigQuery returned an unfinished job without its id"));
            };
            if self.cancel.is_cancelled() {
                self.cancel(job_id, location.as_deref(), "the question was cancelled")
                    .await;
                return Err(QuerentError::Cancelled);
            }
            let remaining = limit.saturating_sub(started.elapsed());
            if remaining.is_zero() {
                self.cancel(job_id, location.as_deref(), "the time limit")
                    .await;
                return Err(QuerentError::SqlTimeout {
                    limit_ms: self.limits.timeout_ms,
                });
            }
            let params = GetQueryResultsParameters {
                location: location.clone(),
                max_results: Some(clamp_i32(want as u64)),
                timeout_ms: Some(clamp_i32(remaining.as_millis() as u64)),
                ..Default::default()
            };
            let poll = self.bounded(
                remaining + CALL_SLACK,
                self.client
                    .job()
                    .get_query_results(&self.project, job_id, params),
            );
            let page = tokio::select! {
                page = poll => page?,
                _ = self.cancel.cancelled() => continue, // cancelled at the loop's head
            };
            complete = page.job_complete.unwrap_or(false);
            if complete {
                fields = page.schema.and_then(|s| s.fields).unwrap_or_default();
                rows = page.rows.unwrap_or_default();
                page_token = page.page_token;
                finished = (page.cache_hit, page.total_bytes_processed);
            }
        }
        if let Some(job_id) = &job_id {
            self.count_usage(job_id, location.clone(), finished.0, finished.1.as_deref());
        }
        // Further pages, until one row more than the limit is known.
        while rows.len() < want {
            let (Some(token), Some(job_id)) = (page_token.take(), job_id.as_deref()) else {
                break;
            };
            let remaining = limit.saturating_sub(started.elapsed());
            if remaining.is_zero() {
                return Err(QuerentError::SqlTimeout {
                    limit_ms: self.limits.timeout_ms,
                });
            }
            let params = GetQueryResultsParameters {
                location: location.clone(),
                max_results: Some(clamp_i32((want - rows.len()).min(PAGE_ROWS) as u64)),
                page_token: Some(token),
                ..Default::default()
            };
            let page = self
                .bounded(
                    remaining + CALL_SLACK,
                    self.client
                        .job()
                        .get_query_results(&self.project, job_id, params),
                )
                .await?;
            rows.extend(page.rows.unwrap_or_default());
            page_token = page.page_token;
        }
        let truncated = rows.len() > self.limits.max_rows || page_token.is_some();
        rows.truncate(self.limits.max_rows);
        Ok(QueryOutput {
            fields,
            rows,
            truncated,
        })
    }

    /// Awaits one API call within `limit`, mapping its error.
    async fn bounded<T>(
        &self,
        limit: Duration,
        call: impl Future<Output = Result<T, BQError>>,
    ) -> QuerentResult<T> {
        match tokio::time::timeout(limit, call).await {
            Ok(result) => result.map_err(|e| map_error(e, self.limits.max_bytes_billed)),
            Err(_) => Err(QuerentError::SqlTimeout {
                limit_ms: self.limits.timeout_ms,
            }),
        }
    }

    /// Asks BigQuery to cancel the job, `why` naming the cause in the log; a failure is
    /// logged, not returned (the time limit or the cancellation is what the caller needs to
    /// know).
    async fn cancel(&self, job_id: &str, location: Option<&str>, why: &str) {
        let call = self
            .client
            .job()
            .cancel_job(&self.project, job_id, location);
        match tokio::time::timeout(CALL_SLACK, call).await {
            Ok(Ok(_)) => tracing::info!(job_id, "BigQuery job cancelled: {why}"),
            Ok(Err(e)) => tracing::warn!(job_id, "cannot cancel the BigQuery job: {e}"),
            Err(_) => tracing::warn!(job_id, "cannot cancel the BigQuery job: no answer"),
        }
    }

    /// Adds a finished job to the usage totals: its bytes processed now, its bytes billed
    /// (`statistics.query.totalBytesBilled`, which only `jobs.get` gives) from a call made in
    /// the background, so that the answer does not wait for it. A job answered from BigQuery's
    /// cache billed nothing.
    fn count_usage(
        &self,
        job_id: &str,
        location: Option<String>,
        cache_hit: Option<bool>,
        bytes_processed: Option<&str>,
    ) {
        let usage = &self.usage;
        usage.jobs.fetch_add(1, Ordering::Relaxed);
        let processed = bytes_processed.and_then(|b| b.parse::<u64>().ok());
        usage
            .bytes_processed
            .fetch_add(processed.unwrap_or(0), Ordering::Relaxed);
        if cache_hit == Some(true) {
            usage.cache_hits.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let (client, project, job_id) = (
            self.client.clone(),
            self.project.clone(),
            job_id.to_string(),
        );
        let usage = self.usage.clone();
        tokio::spawn(async move {
            let call = client.job().get_job(&project, &job_id, location.as_deref());
            let billed = match tokio::time::timeout(CALL_SLACK, call).await {
                Ok(Ok(job)) => job
                    .statistics
                    .and_then(|s| s.query)
                    .and_then(|q| q.total_bytes_billed)
                    .and_then(|b| b.parse::<u64>().ok()),
                Ok(Err(e)) => {
                    tracing::debug!(job_id, "cannot read the job's bytes billed: {e}");
                    None
                }
                Err(_) => None,
            };
            if let Some(billed) = billed {
                usage.bytes_billed.fetch_add(billed, Ordering::Relaxed);
            }
        });
    }
}

fn clamp_i32(n: u64) -> i32 {
    n.min(i32::MAX as u64) as i32
}

fn failed(message: impl Into<String>) -> QuerentError {
    QuerentError::SqlFailed {
        message: message.into(),
    }
}

/// BigQuery's error as ours: the query's fault (400, 404: its message), the cost guard, or
/// BigQuery out of reach or refusing the credentials.
fn map_error(error: BQError, max_bytes_billed: u64) -> QuerentError {
    match error {
        BQError::ResponseError { error } => {
            let nested = error.error;
            let reasons: Vec<&str> = nested
                .errors
                .iter()
                .filter_map(|e| e.get("reason").map(String::as_str))
                .collect();
            if reasons.contains(&"bytesBilledLimitExceeded") {
                QuerentError::SqlCostLimit {
                    max_bytes_billed,
                    message: nested.message,
                }
            } else if matches!(nested.code, 400 | 404) {
                failed(nested.message)
            } else {
                QuerentError::WarehouseUnavailable {
                    message: format!("BigQuery answered {}: {}", nested.code, nested.message),
                }
            }
        }
        other => QuerentError::WarehouseUnavailable {
            message: format!("BigQuery: {other}"),
        },
    }
}
