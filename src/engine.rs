//! The pipeline: question analysis, retrieval, SQL generation, guard, execution, answer.
//!
//! [`Engine::ask`] chains the stages, one call each (`Engine::answer` reads in one screen),
//! and records what each decided and how long it took; it knows the databases only through
//! the [`Warehouse`](crate::warehouse::Warehouse) trait. The rooms around it:
//!
//! - `startup`: [`Engine::build`] opens the databases (the one place that knows SQLite files
//!   and BigQuery datasets), loads and checks the knowledge base, syncs the vector index;
//! - `databases`: one served [`Database`] and its knowledge, opened and reloaded;
//! - `generation` and [`generators`]: the SQL generators (LLM, refinement, pattern engine) and
//!   the order they are asked in;
//! - `events`, `recent`, `stats`: streaming events, recent answers for feedback, counters.
//!
//! The engine knows nothing of HTTP.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use parking_lot::RwLock;
use serde::Serialize;

use crate::answer::{self, Chart};
use crate::conversation::{self, SessionId, SessionStore, Turn};
use crate::error::{QuerentError, QuerentResult};
use crate::knowledge::files::LoadIssue;
use crate::knowledge::KnowledgeBase;
use crate::question::{self, Question};
use crate::retrieval::{RetrievalStatus, Retrieved, Retriever, SyncReport};
use crate::sql::llm::{LlmGenerator, LlmStatus};
use crate::sql::{guard, TraceStep};
use crate::warehouse::{CancellationToken, ExecutionLimits, Rows, WarehouseInfo, WarehouseUsage};

pub mod cache;
mod databases;
mod events;
mod examples_check;
mod generation;
pub mod generators;
mod knowledge_check;
mod recent;
mod startup;
mod stats;

pub use databases::Database;
pub use events::{summary_tokens, StageEvent, STREAMED_ROWS};
pub use examples_check::ExamplesCheck;
pub use generation::REFINEMENT_CONFIDENCE;
pub use recent::{RecentAnswer, RecentAnswers};
pub use stats::{Stats, StatsSnapshot};

/// Name of the demo database.
pub const DEMO_DATABASE: &str = "retail";

/// Name of the second database served out of the box (`data/chinook/chinook.sqlite`, #11).
pub const CHINOOK_DATABASE: &str = "chinook";

/// How many items of each kind retrieval brings back.
const TOP_TABLES: usize = 6;
const TOP_EXAMPLES: usize = 5;
const TOP_RULES: usize = 5;

/// How many earlier turns of a conversation go into the LLM's prompt.
const HISTORY_TURNS: usize = 3;

/// A question to answer.
#[derive(Debug, Clone, Default)]
pub struct AskRequest {
    pub question: String,
    /// Database name; the first served database when absent.
    pub database: Option<String>,
    /// The conversation this question belongs to: follow-ups are read against its last turn.
    pub session_id: Option<String>,
}

/// The answer to one question: the SQL, the rows, a chart, insights, a summary and the trace.
#[derive(Debug, Clone, Serialize)]
pub struct QueryAnswer {
    /// Identifier of this answer (for feedback and logs).
    pub query_id: String,
    pub question: String,
    pub database: String,
    /// The SQL that ran (after the guard).
    pub sql: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<serde_json::Value>>,
    pub row_count: usize,
    /// True when the row limit cut the result.
    pub truncated: bool,
    /// True when a text cell was cut at the cell size cap (harden, #13).
    pub truncated_cells: bool,
    pub chart: Option<Chart>,
    pub insights: Vec<String>,
    pub summary: String,
    /// Confidence that the SQL answers the question, 0..1.
    pub confidence: f64,
    /// `llm`, `pattern`, `example` or `refinement` (a follow-up rewriting the previous SQL).
    pub generation_method: String,
    /// Why the pattern engine answered although an LLM is configured (its error, the open
    /// circuit, SQL that failed after its repairs); `None` otherwise.
    pub fallback_reason: Option<String>,
    /// Suggested next questions (the LLM's, or read from the result's shape).
    pub follow_ups: Vec<String>,
    /// The conversation, when the question named one.
    pub session_id: Option<String>,
    /// What each stage decided, in order (the reasoning trace).
    pub trace: Vec<TraceStep>,
    /// Milliseconds per stage, and `total`.
    pub timings_ms: BTreeMap<String, f64>,
    /// True when the answer comes from the answer cache.
    pub cached: bool,
    /// How old the cached answer is, in milliseconds (cached answers only).
    pub cache_age_ms: Option<u64>,
}

/// Summary of a served database (for health and the page).
#[derive(Debug, Clone, Serialize)]
pub struct DatabaseInfo {
    pub name: String,
    pub tables: usize,
    pub examples: usize,
    pub rules: usize,
    pub indexed_values: usize,
    /// What serves it: SQLite (its file) or BigQuery (its dataset).
    pub warehouse: WarehouseInfo,
    /// What its warehouse billed since start (BigQuery: jobs, bytes processed and billed);
    /// absent for SQLite.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<WarehouseUsage>,
}

/// The engine: every served database, the retriever, the limits and the counters.
pub struct Engine {
    /// Swapped whole, one database at a time, when curation changes its knowledge.
    databases: RwLock<BTreeMap<String, Arc<Database>>>,
    /// Recent answers by query id, for feedback.
    recent: RecentAnswers,
    retriever: Arc<Retriever>,
    limits: ExecutionLimits,
    min_confidence: f64,
    /// Whether the semantic layer answers questions (`--semantic answer`) or is only shown.
    semantic_answers: bool,
    /// The knowledge issues of each domain (the empty name: of the knowledge folder itself),
    /// replaced whole when a domain's knowledge is reloaded, so health shows them as they are.
    load_issues: RwLock<BTreeMap<String, Vec<LoadIssue>>>,
    knowledge_dir: PathBuf,
    stats: Stats,
    started: Instant,
    llm: Option<LlmGenerator>,
    sessions: SessionStore,
    /// The state shared with other replicas on the Qdrant server, when one is configured.
    replication: Option<Arc<crate::replication::Replication>>,
    /// Answers of repeated questions ([`cache`]).
    cache: cache::AnswerCache,
    /// Each domain's knowledge version, bumped by each reload (curation write).
    versions: cache::KnowledgeVersions,
    /// Serialises knowledge reloads with the background check of the examples.
    reload_lock: parking_lot::Mutex<()>,
    /// Where the check of the curated examples is ([`examples_check`]).
    examples_check: RwLock<ExamplesCheck>,
}

impl Engine {
    /// Answers a question off the async threads, from the answer cache when the same
    /// question (database, conversation context, knowledge version) was answered recently.
    pub async fn ask(self: &Arc<Self>, request: AskRequest) -> QuerentResult<QueryAnswer> {
        self.ask_cached(request).await
    }

    /// Answers a question off the async threads, telling `sink` each stage's outcome as soon
    /// as it is known (for streaming). Dropping the returned future (a job deleted, a client
    /// gone) cancels the question: its warehouse query is stopped and no later stage runs.
    pub async fn ask_with_events(
        self: &Arc<Self>,
        request: AskRequest,
        sink: impl Fn(StageEvent) + Send + 'static,
    ) -> QuerentResult<QueryAnswer> {
        let engine = self.clone();
        let cancel = CancellationToken::new();
        let _cancel_when_dropped = cancel.clone().drop_guard();
        tokio::task::spawn_blocking(move || {
            engine.ask_blocking_with_events(&request, &sink, &cancel)
        })
        .await
        .map_err(|e| QuerentError::Internal(format!("the question's task failed: {e}")))?
    }

    /// Answers a question on the calling thread (CLI, eval).
    pub fn ask_blocking(&self, request: &AskRequest) -> QuerentResult<QueryAnswer> {
        self.ask_blocking_with_events(request, &|_| {}, &CancellationToken::new())
    }

    /// Answers a question on the calling thread, telling `sink` each stage's outcome, until
    /// `cancel` is cancelled ([`QuerentError::Cancelled`]: the warehouse query, if one runs, is
    /// stopped).
    pub fn ask_blocking_with_events(
        &self,
        request: &AskRequest,
        sink: &dyn Fn(StageEvent),
        cancel: &CancellationToken,
    ) -> QuerentResult<QueryAnswer> {
        let started = Instant::now();
        let result = self.answer(request, sink, cancel);
        if let Ok(answer) = &result {
            self.recent.remember(answer);
        }
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        self.stats.record(&result, elapsed);
        result
    }

    /// One question through the stages; `sink` hears each stage's outcome; `cancel` stops it.
    fn answer(
        &self,
        request: &AskRequest,
        sink: &dyn Fn(StageEvent),
        cancel: &CancellationToken,
    ) -> QuerentResult<QueryAnswer> {
        let total = Instant::now();
        let mut timings = BTreeMap::new();
        let db = self.database(request.database.as_deref())?;
        let db = db.as_ref();

        // 1. Analysis.
        let t = Instant::now();
        let mut question = Question::parse(&request.question)?;
        let asked = question.as_str().to_string();
        // a slip of typing ("competiter", "lenght") is read as the database's word
        let spelling = db
            .vocabulary()
            .correct(question.as_str())
            .and_then(|(text, fixed)| {
                Question::parse(&text).ok().map(|q| {
                    question = q;
                    spelling_trace(&fixed)
                })
            });
        // relative dates count from the date the database's semantic layer reads them from
        // (the latest date of the data where its settings say so), so every generator reads
        // "this quarter" alike
        let analysis = match &db.semantic {
            Some(layer) => question::analyze_at(&question, layer.reference.date),
            None => question::analyze(&question),
        };
        timings.insert("analysis".to_string(), ms(t));
        sink(StageEvent::analysis(&analysis));

        // 2. Retrieval.
        let t = Instant::now();
        let mut retrieved = self.retriever.search(
            &db.name,
            question.as_str(),
            TOP_TABLES,
            TOP_EXAMPLES,
            TOP_RULES,
        )?;
        retrieved.add_named_rules(&db.knowledge.rules, question.as_str());
        let mut trace: Vec<TraceStep> = spelling.into_iter().collect();
        trace.push(retrieval_trace(&retrieved));
        sink(StageEvent::retrieval(&retrieved));
        timings.insert("retrieval".to_string(), ms(t));

        // 3, 4 and 5. Generation, guard and execution: the generators in their order.
        let session = request
            .session_id
            .as_deref()
            .map(SessionId::parse)
            .transpose()?;
        let history = match &session {
            Some(s) => self.sessions.history(s, &db.name, HISTORY_TURNS)?,
            None => Vec::new(),
        };
        if cancel.is_cancelled() {
            return Err(QuerentError::Cancelled);
        }
        let t = Instant::now();
        let input = generation::Input {
            engine: self,
            db,
            cancel,
            analysis: &analysis,
            retrieved: &retrieved,
            history: &history,
            execution_ms: Default::default(),
            llm_ms: Default::default(),
        };
        let settled = generation::generate(&input)?;
        trace.extend(settled.trace);
        timings.insert("generation".to_string(), ms(t));
        timings.insert("execution".to_string(), round3(input.execution_ms.get()));
        if self.llm.is_some() {
            timings.insert("llm".to_string(), round3(input.llm_ms.get()));
        }
        let generators::Answered {
            chosen,
            sql,
            rows,
            chart_intent,
            period_note,
        } = settled.answered;
        let (fallback_reason, method) = (settled.fallback_reason, chosen.method.as_str());
        sink(StageEvent::Sql {
            sql: sql.clone(),
            generation_method: method.to_string(),
            fallback_reason: fallback_reason.clone(),
        });
        sink(StageEvent::rows(&rows));

        // 6. Answer.
        let t = Instant::now();
        let mut answer =
            answer::build_answer_following(question.as_str(), &rows, chart_intent.as_ref());
        if let Some(note) = period_note {
            answer.summary = format!("{} {note}", answer.summary);
        }
        sink(StageEvent::Chart {
            chart: answer.chart.clone(),
        });
        let mut follow_ups = conversation::follow_ups::suggest(&analysis, &rows);
        // The LLM's summary only when it wrote the SQL: after a failure it would cost the
        // time limit a second time.
        if fallback_reason.is_none() && !rows.rows.is_empty() {
            let started = Instant::now();
            if let Some(step) =
                self.llm_summary(question.as_str(), &sql, &rows, &mut answer, &mut follow_ups)
            {
                trace.push(step);
                timings.insert("summary".to_string(), ms(started));
            }
        }
        timings.insert("answer".to_string(), ms(t));
        for text in summary_tokens(&answer.summary) {
            sink(StageEvent::SummaryToken { text });
        }
        if let Some(s) = &session {
            let turn = Turn {
                database: db.name.clone(),
                question: question.as_str().to_string(),
                sql: sql.clone(),
                generation_method: method.to_string(),
            };
            self.sessions.record(s, &turn)?;
        }
        timings.insert("total".to_string(), ms(total));

        Ok(QueryAnswer {
            query_id: uuid::Uuid::new_v4().to_string(),
            question: asked,
            database: db.name.clone(),
            sql,
            columns: rows.columns,
            row_count: rows.rows.len(),
            truncated: rows.truncated,
            truncated_cells: rows.truncated_cells,
            rows: rows.rows,
            chart: answer.chart,
            insights: answer.insights,
            summary: answer.summary,
            confidence: chosen.confidence,
            generation_method: method.to_string(),
            fallback_reason,
            follow_ups,
            session_id: session.map(|s| s.as_str().to_string()),
            trace,
            timings_ms: timings,
            cached: false,
            cache_age_ms: None,
        })
    }

    /// The LLM's summary and follow-ups in place of the template's, when an LLM is
    /// configured; the trace step says which it was (`None`: no LLM).
    fn llm_summary(
        &self,
        question: &str,
        sql: &str,
        rows: &Rows,
        answer: &mut answer::Answer,
        follow_ups: &mut Vec<String>,
    ) -> Option<TraceStep> {
        let llm = self.llm.as_ref()?;
        Some(match llm.summarize(question, sql, rows) {
            Ok(s) => {
                answer.summary = s.summary;
                if !s.follow_ups.is_empty() {
                    *follow_ups = s.follow_ups;
                }
                TraceStep::new(
                    "summary",
                    "summary and follow-ups written by the LLM",
                    serde_json::json!({ "sample_rows": rows.rows.len().min(crate::sql::llm::SUMMARY_SAMPLE_ROWS) }),
                )
            }
            Err(e) => TraceStep::new(
                "summary",
                format!("template summary: the LLM's failed ({e})"),
                serde_json::json!({ "error": e }),
            ),
        })
    }

    /// Guards and runs SQL on `db`; returns the SQL that ran and its rows.
    fn run_guarded(&self, db: &Database, sql: &str) -> QuerentResult<(String, Rows)> {
        self.run_guarded_cancellable(db, sql, &CancellationToken::new())
    }

    /// Guards and runs SQL on `db` until done or `cancel`led; returns the SQL that ran and its
    /// rows.
    fn run_guarded_cancellable(
        &self,
        db: &Database,
        sql: &str,
        cancel: &CancellationToken,
    ) -> QuerentResult<(String, Rows)> {
        let dialect = db.warehouse.dialect();
        let shown = guard::validate(sql, dialect, &db.table_names, self.limits.max_rows)?;
        // Run with one row more than the limit, so that the warehouse can tell a cut result;
        // the SQL shown to people carries the limit itself.
        let probing = guard::validate(sql, dialect, &db.table_names, self.limits.max_rows + 1)?;
        let rows = db.warehouse.run(&probing, self.limits, cancel)?;
        Ok((shown.as_str().to_string(), rows))
    }

    /// Runs user-written SQL through the guard (the same checks as generated SQL).
    pub fn run_sql(&self, database: Option<&str>, sql: &str) -> QuerentResult<(String, Rows)> {
        self.run_sql_cancellable(database, sql, &CancellationToken::new())
    }

    /// [`Engine::run_sql`], stopped when `cancel` is cancelled ([`QuerentError::Cancelled`]).
    pub fn run_sql_cancellable(
        &self,
        database: Option<&str>,
        sql: &str,
        cancel: &CancellationToken,
    ) -> QuerentResult<(String, Rows)> {
        let db = self.database(database)?;
        self.run_guarded_cancellable(&db, sql, cancel)
    }

    /// The database with this name, or the first one when `None`.
    ///
    /// Errors: [`QuerentError::UnknownDatabase`] listing the served ones.
    /// The database is a snapshot: a knowledge change swaps in a new one, and a holder keeps
    /// the one it has.
    pub fn database(&self, name: Option<&str>) -> QuerentResult<Arc<Database>> {
        let databases = self.databases.read();
        match name.map(str::trim).filter(|n| !n.is_empty()) {
            // the demo database first when it is served, else the first by name
            None => databases
                .get(DEMO_DATABASE)
                .or_else(|| databases.values().next())
                .cloned()
                .ok_or_else(|| QuerentError::Internal("no database is served".into())),
            Some(n) => databases
                .get(n)
                .cloned()
                .ok_or_else(|| QuerentError::UnknownDatabase {
                    name: n.to_string(),
                    known: databases.keys().cloned().collect(),
                }),
        }
    }

    /// Replaces the knowledge of database `name` with `knowledge` (as read from its files,
    /// with `file_issues`, the problems reading them): the semantic layer is rebuilt when
    /// `semantic.yml` changed (its metrics, models and filters checked), table docs are merged over introspection
    /// again, examples whose SQL was not seen before are run (those that fail are left out, as
    /// at load), the retriever re-embeds only the items whose content changed, and then the new
    /// knowledge and the domain's issues (the file issues, failing examples, docs of unknown
    /// tables) are swapped in, so that the next question and health see them. Calls for one
    /// database must not overlap (the curator serialises them).
    ///
    /// Errors: unknown database; the retriever failing (the old knowledge stays in place).
    pub fn reload_knowledge(
        &self,
        name: &str,
        knowledge: KnowledgeBase,
        file_issues: Vec<LoadIssue>,
    ) -> QuerentResult<SyncReport> {
        let _reloading = self.reload_lock.lock();
        let old = self.database(Some(name))?;
        let mut issues = file_issues;
        let tables_source = databases::tables_file(&self.knowledge_dir, name);
        let mut db = old.with_knowledge(knowledge, &tables_source, &mut issues, |sql| {
            self.run_guarded(&old, sql).map(|(_, rows)| rows.rows.len())
        });
        // The semantic layer is rebuilt (and rechecked) only when `semantic.yml` changed.
        if !same_semantic(&old.knowledge.semantic, &db.knowledge.semantic) {
            let mut semantic_issues = Vec::new();
            db.semantic = knowledge_check::semantic_layer(
                &self.knowledge_dir,
                &db,
                self.limits,
                &mut semantic_issues,
            );
            db.semantic_issues = semantic_issues;
        }
        issues.extend(db.semantic_issues.iter().cloned());
        let report = self
            .retriever
            .sync(name, &db.knowledge_for_index().index_items())?;
        self.databases
            .write()
            .insert(name.to_string(), Arc::new(db));
        self.load_issues.write().insert(name.to_string(), issues);
        self.knowledge_changed(name);
        Ok(report)
    }

    /// The answer given under `query_id`, while it is among the recent ones.
    pub fn recent_answer(&self, query_id: &str) -> Option<RecentAnswer> {
        self.recent.get(query_id)
    }

    /// The top `k` table docs, examples and rules of `database` for `question`, as the
    /// pipeline's retrieval stage finds them (for retrieval evaluation).
    pub fn retrieve(&self, database: &str, question: &str, k: usize) -> QuerentResult<Retrieved> {
        Ok(self.retriever.search(database, question, k, k, k)?)
    }

    /// Every served database, by name.
    pub fn databases(&self) -> Vec<DatabaseInfo> {
        self.databases
            .read()
            .values()
            .map(|d| DatabaseInfo {
                name: d.name.clone(),
                tables: d.schema.tables.len(),
                examples: d.knowledge.examples.len(),
                rules: d.knowledge.rules.len(),
                indexed_values: d.values.len(),
                warehouse: d.warehouse.info(),
                usage: d.warehouse.usage(),
            })
            .collect()
    }

    /// Problems of the knowledge base as it is now (failing examples, unknown tables, files or
    /// items that cannot be read, ...): found at load, refreshed per domain by each reload.
    pub fn load_issues(&self) -> Vec<LoadIssue> {
        self.load_issues
            .read()
            .values()
            .flatten()
            .cloned()
            .collect()
    }

    /// The retriever's state (vector or lexical mode, points per collection).
    pub fn retrieval_status(&self) -> RetrievalStatus {
        self.retriever.status()
    }

    /// Persists the vector index's recent writes (at shutdown: the next start embeds nothing).
    pub fn flush_index(&self) {
        self.retriever.flush();
    }

    /// Question vectors served from the retriever's cache and embedded, since start.
    pub fn question_vector_counts(&self) -> (u64, u64) {
        self.retriever.vector_cache_counts()
    }

    /// The state shared with other replicas (sessions, change log, knowledge versions) on the
    /// Qdrant server; `None` with the embedded index.
    pub fn replication(&self) -> Option<&Arc<crate::replication::Replication>> {
        self.replication.as_ref()
    }

    /// The LLM's state (ok, degraded, open circuit, last error), or `None` when none is configured.
    pub fn llm_status(&self) -> Option<LlmStatus> {
        self.llm.as_ref().map(LlmGenerator::status)
    }

    /// Counters since start: questions, answered share, latency, methods.
    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot(self.started.elapsed().as_secs())
    }
}

fn ms(t: Instant) -> f64 {
    round3(t.elapsed().as_secs_f64() * 1000.0)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The trace step of the words read otherwise than typed.
fn spelling_trace(fixed: &[crate::question::spelling::Correction]) -> TraceStep {
    TraceStep::new(
        "spelling",
        format!(
            "read {}",
            fixed
                .iter()
                .map(|c| format!("'{}' as '{}'", c.typed, c.read_as))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        serde_json::json!(fixed
            .iter()
            .map(|c| serde_json::json!({ "typed": c.typed, "read_as": c.read_as }))
            .collect::<Vec<_>>()),
    )
}

fn retrieval_trace(r: &Retrieved) -> TraceStep {
    let list = |hits: &[crate::retrieval::Hit]| {
        hits.iter()
            .map(|h| serde_json::json!({ "key": h.key, "score": h.score }))
            .collect::<Vec<_>>()
    };
    TraceStep::new(
        "retrieval",
        format!(
            "{} tables, {} examples, {} rules retrieved ({:?} search)",
            r.tables.len(),
            r.examples.len(),
            r.rules.len(),
            r.mode
        ),
        serde_json::json!({ "mode": r.mode, "tables": list(&r.tables), "examples": list(&r.examples), "rules": list(&r.rules) }),
    )
}

/// True when two readings of `semantic.yml` hold the same model (or fail the same way).
fn same_semantic(
    a: &Option<Result<crate::semantic::SemanticManifest, crate::semantic::ManifestError>>,
    b: &Option<Result<crate::semantic::SemanticManifest, crate::semantic::ManifestError>>,
) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(Err(x)), Some(Err(y))) => x == y,
        (Some(Ok(x)), Some(Ok(y))) => serde_json::to_value(x).ok() == serde_json::to_value(y).ok(),
        _ => false,
    }
}
