//! `GET /metrics`: the Prometheus text format (0.0.4) through prometheus-client.
//!
//! Two kinds of series: those counted as requests and answers go by ([`Metrics::observe_request`],
//! [`Metrics::observe_answer`]), and those read from the engine at each scrape ([`StateCollector`]:
//! LLM, caches, knowledge, index, queues, jobs). Every series is documented in the README.
//! Label values come from fixed sets (route templates, stage names, error codes), so the
//! number of series stays bounded whatever clients send.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use super::jobs::JobStore;
use super::rate_limits::Admission;
use crate::engine::{Engine, QueryAnswer};

/// The `Content-Type` of the scrape.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

type Labels = Vec<(&'static str, String)>;
type HistogramFamily = Family<Labels, Histogram, fn() -> Histogram>;

/// The pipeline stages of `timings_ms` that get a histogram (other keys are ignored).
pub const STAGES: &[&str] = &[
    "analysis",
    "retrieval",
    "generation",
    "execution",
    "llm",
    "summary",
    "answer",
    "total",
    "cache",
];

/// Seconds from 0.25 ms to about 8 s, doubling.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

/// The live metrics and the registry they are encoded from.
pub struct Metrics {
    registry: Registry,
    requests: Family<Labels, Counter>,
    request_seconds: HistogramFamily,
    stage_seconds: HistogramFamily,
    answers: Family<Labels, Counter>,
    refusals: Family<Labels, Counter>,
    warehouse_seconds: Histogram,
    rate_limited: Family<Labels, Counter>,
    /// Scrape time of the last scrape, microseconds (exported as the next scrape's gauge).
    last_scrape_us: Arc<AtomicU64>,
}

impl Metrics {
    /// The registry with every series; engine state is read at each scrape.
    pub fn new(engine: Arc<Engine>, admission: Arc<Admission>, jobs: Arc<JobStore>) -> Self {
        let mut registry = Registry::default();
        let requests = Family::<Labels, Counter>::default();
        registry.register(
            "querent_http_requests",
            "HTTP requests by route template, method and status",
            requests.clone(),
        );
        let request_seconds = HistogramFamily::new_with_constructor(latency_histogram);
        registry.register(
            "querent_http_request_duration_seconds",
            "Time to the response's head by route template (a stream's body is not included)",
            request_seconds.clone(),
        );
        let stage_seconds = HistogramFamily::new_with_constructor(latency_histogram);
        registry.register(
            "querent_question_stage_duration_seconds",
            "Time of each pipeline stage of answered questions (from the answer's timings_ms); \
             stage cache: the look-up of answers served from the cache",
            stage_seconds.clone(),
        );
        let answers = Family::<Labels, Counter>::default();
        registry.register(
            "querent_answers",
            "Questions answered, by generation method and whether the answer came from the cache",
            answers.clone(),
        );
        let refusals = Family::<Labels, Counter>::default();
        registry.register(
            "querent_question_errors",
            "Questions refused or failed, by error code (cannot_answer, sql_timeout, overloaded, ...)",
            refusals.clone(),
        );
        let warehouse_seconds = latency_histogram();
        registry.register(
            "querent_warehouse_query_duration_seconds",
            "Warehouse time of each answered question (its SQL attempts together)",
            warehouse_seconds.clone(),
        );
        let rate_limited = Family::<Labels, Counter>::default();
        registry.register(
            "querent_rate_limited",
            "Requests refused with 429 rate_limited, by route class",
            rate_limited.clone(),
        );
        let last_scrape_us = Arc::new(AtomicU64::new(0));
        registry.register_collector(Box::new(StateCollector {
            engine,
            admission,
            jobs,
            started: Instant::now(),
            last_scrape_us: last_scrape_us.clone(),
        }));
        Self {
            registry,
            requests,
            request_seconds,
            stage_seconds,
            answers,
            refusals,
            warehouse_seconds,
            rate_limited,
            last_scrape_us,
        }
    }

    /// Counts one HTTP request.
    pub fn observe_request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&vec![
                ("route", route.to_string()),
                ("method", method.to_string()),
                ("status", status.to_string()),
            ])
            .inc();
        self.request_seconds
            .get_or_create(&vec![("route", route.to_string())])
            .observe(seconds);
    }

    /// Counts one answered question, with its stage times unless it came from the cache.
    pub fn observe_answer(&self, answer: &QueryAnswer) {
        self.answers
            .get_or_create(&vec![
                ("method", answer.generation_method.clone()),
                ("cached", answer.cached.to_string()),
            ])
            .inc();
        if answer.cached {
            if let Some(ms) = answer.timings_ms.get("cache") {
                self.stage_seconds
                    .get_or_create(&vec![("stage", "cache".to_string())])
                    .observe(ms / 1000.0);
            }
            return;
        }
        for (stage, ms) in &answer.timings_ms {
            if let Some(stage) = STAGES.iter().find(|s| **s == stage.as_str()) {
                self.stage_seconds
                    .get_or_create(&vec![("stage", stage.to_string())])
                    .observe(ms / 1000.0);
            }
        }
        if let Some(ms) = answer.timings_ms.get("execution") {
            self.warehouse_seconds.observe(ms / 1000.0);
        }
    }

    /// Counts one refused or failed question by its error code.
    pub fn observe_refusal(&self, code: &'static str) {
        self.refusals
            .get_or_create(&vec![("code", code.to_string())])
            .inc();
    }

    /// Counts one 429 of a route class.
    pub fn observe_rate_limited(&self, class: &'static str) {
        self.rate_limited
            .get_or_create(&vec![("class", class.to_string())])
            .inc();
    }

    /// The scrape: every series in the Prometheus text format.
    pub fn encode(&self) -> String {
        let started = Instant::now();
        let mut out = String::with_capacity(16 * 1024);
        if let Err(e) =
            prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)
        {
            tracing::error!(error = %e, "cannot encode the metrics");
        }
        self.last_scrape_us
            .store(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        out
    }
}

/// Reads the engine's state at each scrape.
struct StateCollector {
    engine: Arc<Engine>,
    admission: Arc<Admission>,
    jobs: Arc<JobStore>,
    started: Instant,
    last_scrape_us: Arc<AtomicU64>,
}

impl std::fmt::Debug for StateCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateCollector").finish_non_exhaustive()
    }
}

fn gauge(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    series: &[(Labels, f64)],
) -> std::fmt::Result {
    let probe = ConstGauge::new(0.0f64);
    let mut metric = encoder.encode_descriptor(name, help, None, probe.metric_type())?;
    for (labels, value) in series {
        ConstGauge::new(*value).encode(metric.encode_family(labels)?)?;
    }
    Ok(())
}

fn counter(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    series: &[(Labels, u64)],
) -> std::fmt::Result {
    let probe = ConstCounter::new(0u64);
    let mut metric = encoder.encode_descriptor(name, help, None, probe.metric_type())?;
    for (labels, value) in series {
        ConstCounter::new(*value).encode(metric.encode_family(labels)?)?;
    }
    Ok(())
}

impl Collector for StateCollector {
    fn encode(&self, mut e: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let engine = &self.engine;
        gauge(
            &mut e,
            "querent_uptime_seconds",
            "Seconds since the server started",
            &[(vec![], self.started.elapsed().as_secs_f64())],
        )?;
        gauge(
            &mut e,
            "querent_metrics_scrape_duration_seconds",
            "Time the previous scrape took to encode",
            &[(
                vec![],
                self.last_scrape_us.load(Ordering::Relaxed) as f64 / 1e6,
            )],
        )?;

        // LLM
        let llm = engine.llm_status();
        gauge(
            &mut e,
            "querent_llm_configured",
            "1 when an LLM is configured",
            &[(vec![], if llm.is_some() { 1.0 } else { 0.0 })],
        )?;
        if let Some(llm) = &llm {
            counter(
                &mut e,
                "querent_llm_calls",
                "LLM calls made since start",
                &[(vec![], llm.circuit.calls)],
            )?;
            counter(
                &mut e,
                "querent_llm_errors",
                "LLM calls failed since start",
                &[(vec![], llm.circuit.failures)],
            )?;
            let states = ["ok", "degraded", "open", "half_open"];
            let series: Vec<(Labels, f64)> = states
                .iter()
                .map(|s| {
                    (
                        vec![("state", s.to_string())],
                        if llm.state == *s { 1.0 } else { 0.0 },
                    )
                })
                .collect();
            gauge(
                &mut e,
                "querent_llm_circuit_state",
                "The LLM circuit breaker's state (1 for the current one)",
                &series,
            )?;
        }

        // caches
        let answers = engine.cache_counts();
        let (vector_hits, vector_misses) = engine.question_vector_counts();
        counter(
            &mut e,
            "querent_cache_hits",
            "Cache hits: answers and question embeddings",
            &[
                (vec![("cache", "answers".into())], answers.hits),
                (vec![("cache", "question_vectors".into())], vector_hits),
            ],
        )?;
        counter(
            &mut e,
            "querent_cache_misses",
            "Cache misses: answers and question embeddings",
            &[
                (vec![("cache", "answers".into())], answers.misses),
                (vec![("cache", "question_vectors".into())], vector_misses),
            ],
        )?;
        gauge(
            &mut e,
            "querent_answer_cache_entries",
            "Answers held in the answer cache",
            &[(vec![], answers.entries as f64)],
        )?;
        gauge(
            &mut e,
            "querent_answer_cache_bytes",
            "Estimated bytes held in the answer cache",
            &[(vec![], answers.bytes as f64)],
        )?;

        // knowledge
        let databases = engine.databases();
        let mut items = Vec::new();
        for d in &databases {
            for (kind, n) in [
                ("tables", d.tables),
                ("examples", d.examples),
                ("rules", d.rules),
                ("values", d.indexed_values),
            ] {
                items.push((
                    vec![("database", d.name.clone()), ("kind", kind.to_string())],
                    n as f64,
                ));
            }
        }
        gauge(
            &mut e,
            "querent_knowledge_items",
            "Knowledge items served per database and kind (tables, examples, rules, indexed values)",
            &items,
        )?;
        // warehouses that bill (BigQuery)
        let billing: Vec<_> = databases
            .iter()
            .filter_map(|d| Some((d.name.clone(), d.usage?)))
            .collect();
        if !billing.is_empty() {
            let series = |value: fn(&crate::warehouse::WarehouseUsage) -> u64| {
                billing
                    .iter()
                    .map(|(name, usage)| (vec![("database", name.clone())], value(usage)))
                    .collect::<Vec<_>>()
            };
            counter(
                &mut e,
                "querent_warehouse_jobs",
                "Warehouse query jobs run since start (questions, SQL and introspection)",
                &series(|u| u.jobs),
            )?;
            counter(
                &mut e,
                "querent_warehouse_cache_hits",
                "Warehouse jobs answered from the warehouse's own result cache",
                &series(|u| u.cache_hits),
            )?;
            counter(
                &mut e,
                "querent_warehouse_bytes_processed",
                "Bytes the warehouse processed (BigQuery totalBytesProcessed)",
                &series(|u| u.bytes_processed),
            )?;
            counter(
                &mut e,
                "querent_warehouse_bytes_billed",
                "Bytes the warehouse billed (BigQuery statistics.query.totalBytesBilled)",
                &series(|u| u.bytes_billed),
            )?;
        }
        let versions = engine.knowledge_versions();
        let series: Vec<(Labels, f64)> = databases
            .iter()
            .map(|d| {
                (
                    vec![("database", d.name.clone())],
                    versions.get(&d.name).copied().unwrap_or(0) as f64,
                )
            })
            .collect();
        gauge(
            &mut e,
            "querent_knowledge_version",
            "Knowledge version per database (moves on at each curation write)",
            &series,
        )?;
        gauge(
            &mut e,
            "querent_knowledge_issues",
            "Problems of the knowledge base as it is now",
            &[(vec![], engine.load_issues().len() as f64)],
        )?;

        // index
        let status = engine.retrieval_status();
        let mode = serde_json::to_value(status.mode)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let backend = status
            .index
            .as_ref()
            .map_or("none", |i| i.backend)
            .to_string();
        gauge(
            &mut e,
            "querent_index_up",
            "1 when the vector index answers (0: questions are answered by the lexical index)",
            &[(
                vec![("backend", backend), ("mode", mode)],
                if status.index_error.is_none() && status.reason.is_none() {
                    1.0
                } else {
                    0.0
                },
            )],
        )?;
        let points: Vec<(Labels, f64)> = status
            .points
            .iter()
            .map(|(c, n)| (vec![("collection", c.clone())], *n as f64))
            .collect();
        gauge(
            &mut e,
            "querent_index_points",
            "Points per collection of the index",
            &points,
        )?;

        // replicas
        if let Some(replication) = engine.replication() {
            let status = replication.status();
            gauge(
                &mut e,
                "querent_replication_up",
                "1 when the replicas' shared state on the Qdrant server was read in the last 5 s",
                &[(vec![], if status.state == "ok" { 1.0 } else { 0.0 })],
            )?;
            gauge(
                &mut e,
                "querent_replication_applied_change",
                "The number of the last shared curation change this replica's knowledge holds",
                &[(vec![], status.applied_change as f64)],
            )?;
            gauge(
                &mut e,
                "querent_replication_latest_change",
                "The highest shared curation change number seen at the last read",
                &[(vec![], status.latest_change as f64)],
            )?;
        }

        // admission and jobs
        let occupancy = self.admission.occupancy();
        let running: Vec<(Labels, f64)> = occupancy
            .iter()
            .map(|o| (vec![("database", o.database.clone())], o.running as f64))
            .collect();
        let waiting: Vec<(Labels, f64)> = occupancy
            .iter()
            .map(|o| (vec![("database", o.database.clone())], o.waiting as f64))
            .collect();
        gauge(
            &mut e,
            "querent_questions_running",
            "Questions being answered now, per database",
            &running,
        )?;
        gauge(
            &mut e,
            "querent_questions_queued",
            "Questions waiting for their turn, per database",
            &waiting,
        )?;
        let jobs: Vec<(Labels, f64)> = self
            .jobs
            .counts()
            .into_iter()
            .map(|(state, n)| (vec![("state", state.to_string())], n as f64))
            .collect();
        gauge(&mut e, "querent_jobs", "Query jobs held, by state", &jobs)?;
        Ok(())
    }
}

/// The route template of a request path, for the `route` label: fixed words are kept, other
/// segments (ids, kinds' items) become `{id}`; static files, the docs and unknown paths are
/// grouped.
pub fn route_label(path: &str, status: u16) -> String {
    const WORDS: &[&str] = &[
        "api",
        "query",
        "stream",
        "sql",
        "health",
        "stats",
        "schema",
        "examples",
        "knowledge",
        "tables",
        "rules",
        "changes",
        "revert",
        "feedback",
        "suggestions",
        "approve",
        "regression",
        "jobs",
        "metrics",
    ];
    if status == 404 {
        return "unmatched".into();
    }
    if path.starts_with("/static/") {
        return "/static/*".into();
    }
    if path.starts_with("/docs") {
        return "/docs".into();
    }
    if path == "/" || path == "/openapi.json" {
        return path.into();
    }
    let mut out = String::new();
    for segment in path.split('/').filter(|s| !s.is_empty()).take(6) {
        out.push('/');
        if WORDS.contains(&segment) {
            out.push_str(segment);
        } else {
            out.push_str("{id}");
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_labels_keep_the_template_and_hide_ids() {
        assert_eq!(route_label("/api/query", 200), "/api/query");
        assert_eq!(
            route_label("/api/knowledge/examples/3f2a", 200),
            "/api/knowledge/examples/{id}"
        );
        assert_eq!(route_label("/api/jobs/abc-123", 202), "/api/jobs/{id}");
        assert_eq!(route_label("/static/app.js", 200), "/static/*");
        assert_eq!(route_label("/anything/at/all", 404), "unmatched");
    }
}
