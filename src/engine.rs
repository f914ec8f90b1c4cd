//! The pipeline: question analysis, retrieval, SQL generation, guard, execution, answer.
//!
//! [`Engine::build`] opens the databases, loads and checks the knowledge base, builds the value
//! indexes and syncs the vector index; [`Engine::ask`] chains the stages, one call each, and
//! records what each decided and how long it took. The engine knows nothing of HTTP.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::RwLock;
use serde::Serialize;

use crate::answer::{self, Chart};
use crate::conversation::{self, SessionId, SessionStore, Turn};
use crate::error::{QuerentError, QuerentResult};
use crate::knowledge::files::{self, LoadIssue};
use crate::knowledge::{introspect, BusinessRule, Example, KnowledgeBase, TableDoc, ValueIndex};
use crate::question::{self, Question};
use crate::retrieval::{RetrievalStatus, Retrieved, Retriever, SyncReport};
use crate::settings::Settings;
use crate::sql::llm::{LlmGenerator, LlmStatus, PriorTurn, SqlPromptInput};
use crate::sql::pattern::{self, PatternContext};
use crate::sql::{guard, refine, GeneratedSql, GenerationMethod, TraceStep};
use crate::warehouse::bigquery::{BigQueryClient, DatasetRef};
use crate::warehouse::{
    BigQueryWarehouse, ExecutionLimits, Rows, Schema, SqliteWarehouse, Warehouse, WarehouseInfo,
};

pub mod cache;
mod events;
mod examples_check;
mod recent;
mod stats;

pub use events::{summary_tokens, StageEvent, STREAMED_ROWS};
pub use examples_check::ExamplesCheck;
pub use recent::{RecentAnswer, RecentAnswers};
pub use stats::{Stats, StatsSnapshot};

/// Name of the demo database.
pub const DEMO_DATABASE: &str = "retail";

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

/// One served database with its knowledge.
pub struct Database {
    pub name: String,
    pub warehouse: Arc<dyn Warehouse>,
    pub schema: Schema,
    /// Curated docs merged over introspected ones.
    pub docs: Vec<TableDoc>,
    pub knowledge: KnowledgeBase,
    pub values: Arc<ValueIndex>,
    /// The pattern engine's lexicon and join graph of this schema and its docs, built once.
    pub prepared: Arc<pattern::Prepared>,
    table_names: Vec<String>,
    /// Example SQL already run against this database: `Ok` when it ran, else the error. A
    /// knowledge reload runs only SQL it has not seen.
    checked_sql: HashMap<String, Result<(), String>>,
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
    /// The knowledge issues of each domain (the empty name: of the knowledge folder itself),
    /// replaced whole when a domain's knowledge is reloaded, so health shows them as they are.
    load_issues: RwLock<BTreeMap<String, Vec<LoadIssue>>>,
    knowledge_dir: PathBuf,
    stats: Stats,
    started: Instant,
    llm: Option<LlmGenerator>,
    sessions: SessionStore,
    /// Answers of repeated questions ([`cache`]).
    cache: cache::AnswerCache,
    /// Each domain's knowledge version, bumped by each reload (curation write).
    versions: cache::KnowledgeVersions,
    /// Serialises knowledge reloads with the background check of the examples.
    reload_lock: parking_lot::Mutex<()>,
    /// Where the check of the curated examples is ([`examples_check`]).
    examples_check: RwLock<ExamplesCheck>,
}

/// What the generation stage settled on: the SQL that ran, its rows, and why.
struct Generation {
    chosen: GeneratedSql,
    sql: String,
    rows: Rows,
    trace: Vec<TraceStep>,
    fallback_reason: Option<String>,
    /// Milliseconds of the LLM stage (prompt, calls, extraction), without execution.
    llm_ms: f64,
}

impl Engine {
    /// Opens every database of `settings`, loads and checks the knowledge base, builds value
    /// indexes and syncs the vector index (only changed items are embedded).
    ///
    /// The demo database is generated when it is missing and no `--database-dir` is given.
    /// Examples that fail to run are reported in [`Engine::load_issues`]; they do not stop the build.
    pub fn build(settings: &Settings) -> anyhow::Result<Self> {
        Self::build_with(settings, true)
    }

    /// [`Engine::build`], running the curated examples now when `check_examples`, else leaving
    /// them to [`Engine::check_examples_in_background`] (the server's quicker start).
    pub fn build_with(settings: &Settings, check_examples: bool) -> anyhow::Result<Self> {
        let started = Instant::now();
        std::fs::create_dir_all(&settings.data_dir)?;
        let sources = database_sources(settings)?;
        if sources.is_empty() {
            anyhow::bail!("no SQLite database found in {:?}", settings.database_dir);
        }
        // One BigQuery client serves every dataset.
        let bigquery = if sources
            .iter()
            .any(|(_, s)| matches!(s, Source::BigQuery(_)))
        {
            Some(BigQueryClient::connect(&settings.bigquery)?)
        } else {
            None
        };
        let (domains, file_issues) = files::load_all(&settings.knowledge_dir);
        let mut load_issues: BTreeMap<String, Vec<LoadIssue>> = BTreeMap::new();
        for issue in file_issues {
            let domain = issue_domain(&settings.knowledge_dir, &issue.source);
            load_issues.entry(domain).or_default().push(issue);
        }
        let model_dir = settings
            .model_dir
            .clone()
            .or_else(crate::retrieval::default_model_dir);
        let retriever = Arc::new(Retriever::open_with(
            &settings.index_config(),
            model_dir.as_deref(),
        )?);
        let limits = ExecutionLimits {
            max_rows: settings.max_rows,
            timeout_ms: settings.query_timeout_ms,
        };
        let mut databases = BTreeMap::new();
        for (name, source) in sources {
            let kb = domains
                .iter()
                .find(|d| d.domain == name)
                .cloned()
                .unwrap_or_else(|| KnowledgeBase {
                    domain: name.clone(),
                    ..Default::default()
                });
            let warehouse: Arc<dyn Warehouse> = match source {
                Source::Sqlite(path) => Arc::new(SqliteWarehouse::open(&path)?),
                Source::BigQuery(dataset) => {
                    let client = bigquery
                        .clone()
                        .ok_or_else(|| anyhow::anyhow!("no BigQuery client"))?;
                    Arc::new(BigQueryWarehouse::new(
                        client,
                        dataset,
                        settings.bigquery.max_bytes_billed,
                    ))
                }
            };
            let tables_source = tables_file(&settings.knowledge_dir, &name);
            let issues = load_issues.entry(name.clone()).or_default();
            let db = open_database(
                &name,
                warehouse,
                kb,
                limits,
                &tables_source,
                issues,
                check_examples,
            )?;
            let report = retriever.sync(&name, &db.knowledge_for_index().index_items())?;
            tracing::info!(
                database = %name,
                tables = db.schema.tables.len(),
                values = db.values.len(),
                embedded = report.embedded,
                unchanged = report.unchanged,
                deleted = report.deleted,
                "database ready"
            );
            databases.insert(name, Arc::new(db));
        }
        for issue in load_issues.values().flatten() {
            tracing::warn!(source = %issue.source, "{}", issue.message);
        }
        tracing::info!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "engine ready"
        );
        let llm = LlmGenerator::new(&settings.llm, &settings.templates_dir)?;
        if let Some(llm) = &llm {
            let s = llm.status();
            tracing::info!(model = %s.model, base_url = %s.base_url, "LLM configured");
        }
        let sessions = SessionStore::open(
            &settings.data_dir.join("state.sqlite"),
            settings.session_turns,
        )?;
        Ok(Self {
            databases: RwLock::new(databases),
            recent: RecentAnswers::default(),
            retriever,
            limits,
            min_confidence: settings.min_confidence,
            load_issues: RwLock::new(load_issues),
            knowledge_dir: settings.knowledge_dir.clone(),
            stats: Stats::default(),
            started: Instant::now(),
            llm,
            sessions,
            cache: cache::AnswerCache::new(
                std::time::Duration::from_secs(settings.ops.cache_ttl_s),
                settings.ops.cache_max_mb.saturating_mul(1 << 20),
            ),
            versions: cache::KnowledgeVersions::default(),
            reload_lock: parking_lot::Mutex::new(()),
            examples_check: RwLock::new(ExamplesCheck::default()),
        })
    }

    /// Answers a question off the async threads, from the answer cache when the same
    /// question (database, conversation context, knowledge version) was answered recently.
    pub async fn ask(self: &Arc<Self>, request: AskRequest) -> QuerentResult<QueryAnswer> {
        self.ask_cached(request).await
    }

    /// Answers a question off the async threads, telling `sink` each stage's outcome as soon
    /// as it is known (for streaming).
    pub async fn ask_with_events(
        self: &Arc<Self>,
        request: AskRequest,
        sink: impl Fn(StageEvent) + Send + 'static,
    ) -> QuerentResult<QueryAnswer> {
        let engine = self.clone();
        tokio::task::spawn_blocking(move || engine.ask_blocking_with_events(&request, &sink))
            .await
            .map_err(|e| QuerentError::Internal(format!("the question's task failed: {e}")))?
    }

    /// Answers a question on the calling thread (CLI, eval).
    pub fn ask_blocking(&self, request: &AskRequest) -> QuerentResult<QueryAnswer> {
        self.ask_blocking_with_events(request, &|_| {})
    }

    /// Answers a question on the calling thread, telling `sink` each stage's outcome.
    pub fn ask_blocking_with_events(
        &self,
        request: &AskRequest,
        sink: &dyn Fn(StageEvent),
    ) -> QuerentResult<QueryAnswer> {
        let started = Instant::now();
        let result = self.answer(request, sink);
        if let Ok(answer) = &result {
            self.recent.remember(answer);
        }
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        self.stats.record(&result, elapsed);
        result
    }

    fn answer(
        &self,
        request: &AskRequest,
        sink: &dyn Fn(StageEvent),
    ) -> QuerentResult<QueryAnswer> {
        let total = Instant::now();
        let mut timings = BTreeMap::new();
        let mut trace = Vec::new();
        let db = self.database(request.database.as_deref())?;
        let db = db.as_ref();

        // 1. Analysis.
        let t = Instant::now();
        let question = Question::parse(&request.question)?;
        let analysis = question::analyze(&question);
        timings.insert("analysis".to_string(), ms(t));
        sink(StageEvent::Analysis {
            intents: analysis
                .intents
                .iter()
                .filter_map(|i| serde_json::to_value(i).ok()?.as_str().map(str::to_string))
                .collect(),
            time_ranges: analysis
                .time_ranges
                .iter()
                .map(|r| r.text.clone())
                .collect(),
            top_n: analysis.top_n,
        });

        // 2. Retrieval.
        let t = Instant::now();
        let retrieved = self.retriever.search(
            &db.name,
            question.as_str(),
            TOP_TABLES,
            TOP_EXAMPLES,
            TOP_RULES,
        )?;
        trace.push(retrieval_trace(&retrieved));
        sink(StageEvent::Retrieval {
            tables: retrieved.tables.iter().map(|h| h.key.clone()).collect(),
            examples: retrieved.examples.len(),
            rules: retrieved.rules.len(),
        });
        timings.insert("retrieval".to_string(), ms(t));

        // 3, 4 and 5. Generation, guard and execution: the LLM when configured and its circuit
        // is closed, else (or when it fails) a refinement of the conversation's last SQL, else
        // the pattern engine.
        let session = request
            .session_id
            .as_deref()
            .map(SessionId::parse)
            .transpose()?;
        let history = match &session {
            Some(s) => self.sessions.history(s, &db.name, HISTORY_TURNS)?,
            None => Vec::new(),
        };
        let t = Instant::now();
        let execution_ms = Cell::new(0.0);
        let generation = self.generate(db, &analysis, &retrieved, &history, &execution_ms)?;
        trace.extend(generation.trace);
        timings.insert("generation".to_string(), ms(t));
        timings.insert("execution".to_string(), round3(execution_ms.get()));
        if self.llm.is_some() {
            timings.insert("llm".to_string(), round3(generation.llm_ms));
        }
        let (chosen, validated, rows) = (generation.chosen, generation.sql, generation.rows);
        sink(StageEvent::Sql {
            sql: validated.clone(),
            generation_method: chosen.method.as_str().to_string(),
            fallback_reason: generation.fallback_reason.clone(),
        });
        sink(StageEvent::Rows {
            columns: rows.columns.clone(),
            row_count: rows.rows.len(),
            rows: rows.rows.iter().take(STREAMED_ROWS).cloned().collect(),
            truncated: rows.truncated,
        });

        // 6. Answer.
        let t = Instant::now();
        let mut answer = answer::build_answer(question.as_str(), &rows);
        sink(StageEvent::Chart {
            chart: answer.chart.clone(),
        });
        let mut follow_ups = conversation::follow_ups::suggest(&analysis, &rows);
        // The LLM's summary only when it wrote the SQL: after a failure it would cost the
        // time limit a second time.
        if let (Some(llm), None) = (&self.llm, &generation.fallback_reason) {
            if !rows.rows.is_empty() {
                let started = Instant::now();
                match llm.summarize(question.as_str(), &validated, &rows) {
                    Ok(s) => {
                        answer.summary = s.summary;
                        if !s.follow_ups.is_empty() {
                            follow_ups = s.follow_ups;
                        }
                        trace.push(TraceStep::new(
                            "summary",
                            "summary and follow-ups written by the LLM",
                            serde_json::json!({ "sample_rows": rows.rows.len().min(crate::sql::llm::SUMMARY_SAMPLE_ROWS) }),
                        ));
                    }
                    Err(e) => trace.push(TraceStep::new(
                        "summary",
                        format!("template summary: the LLM's failed ({e})"),
                        serde_json::json!({ "error": e }),
                    )),
                }
                timings.insert("summary".to_string(), ms(started));
            }
        }
        timings.insert("answer".to_string(), ms(t));
        for text in summary_tokens(&answer.summary) {
            sink(StageEvent::SummaryToken { text });
        }
        if let Some(s) = &session {
            self.sessions.record(
                s,
                &Turn {
                    database: db.name.clone(),
                    question: question.as_str().to_string(),
                    sql: validated.clone(),
                    generation_method: chosen.method.as_str().to_string(),
                },
            )?;
        }
        timings.insert("total".to_string(), ms(total));

        Ok(QueryAnswer {
            query_id: uuid::Uuid::new_v4().to_string(),
            question: question.as_str().to_string(),
            database: db.name.clone(),
            sql: validated,
            columns: rows.columns.clone(),
            row_count: rows.rows.len(),
            truncated: rows.truncated,
            rows: rows.rows,
            chart: answer.chart,
            insights: answer.insights,
            summary: answer.summary,
            confidence: chosen.confidence,
            generation_method: chosen.method.as_str().to_string(),
            fallback_reason: generation.fallback_reason,
            follow_ups,
            session_id: session.map(|s| s.as_str().to_string()),
            trace,
            timings_ms: timings,
            cached: false,
            cache_age_ms: None,
        })
    }

    /// The generation stage: LLM, then a refinement of the conversation's last SQL, then the
    /// pattern engine; every SQL runs through [`Engine::run_guarded`].
    fn generate(
        &self,
        db: &Database,
        analysis: &question::Analysis,
        retrieved: &Retrieved,
        history: &[Turn],
        execution_ms: &Cell<f64>,
    ) -> QuerentResult<Generation> {
        let mut trace = Vec::new();
        let mut fallback_reason = None;
        let mut llm_ms = 0.0;
        let examples: Vec<(Example, f32)> = hits_as(&retrieved.examples);
        let rules: Vec<(BusinessRule, f32)> = hits_as(&retrieved.rules);
        let run = |sql: &str| {
            let t = Instant::now();
            let r = self.run_guarded(db, sql);
            execution_ms.set(execution_ms.get() + t.elapsed().as_secs_f64() * 1000.0);
            r
        };
        match &self.llm {
            None => trace.push(TraceStep::new(
                "generation",
                "no LLM configured: the pattern engine writes the SQL",
                serde_json::json!({ "generator": "pattern" }),
            )),
            Some(llm) if llm.circuit_open() => {
                let reason = format!(
                    "the LLM circuit is open after repeated failures ({})",
                    llm.status().circuit.last_error.unwrap_or_default()
                );
                trace.push(TraceStep::new(
                    "generation",
                    format!("LLM skipped, no call made: {reason}"),
                    serde_json::json!({ "generator": "pattern", "fallback_reason": reason }),
                ));
                fallback_reason = Some(reason);
            }
            Some(llm) => {
                let tables: Vec<TableDoc> = retrieved
                    .tables
                    .iter()
                    .filter_map(|h| db.docs.iter().find(|d| d.name == h.key).cloned())
                    .collect();
                let prior: Vec<PriorTurn> = history
                    .iter()
                    .map(|t| PriorTurn {
                        question: t.question.clone(),
                        sql: t.sql.clone(),
                    })
                    .collect();
                let ex: Vec<Example> = examples.iter().map(|(e, _)| e.clone()).collect();
                let ru: Vec<BusinessRule> = rules.iter().map(|(r, _)| r.clone()).collect();
                let input = SqlPromptInput {
                    dialect: db.warehouse.dialect(),
                    tables: &tables,
                    examples: &ex,
                    rules: &ru,
                    history: &prior,
                    content_words: &analysis.content_words,
                    context_tokens: llm.context_tokens(),
                };
                let started = Instant::now();
                let executed_before = execution_ms.get();
                let outcome = llm.generate(&analysis.text, &input, &run);
                // The LLM stage's own time: prompt, calls, extraction; not the warehouse's.
                llm_ms = started.elapsed().as_secs_f64() * 1000.0
                    - (execution_ms.get() - executed_before);
                match outcome {
                    Ok(a) => {
                        trace.extend(a.generated.trace.iter().cloned());
                        trace.push(TraceStep::new(
                            "generation",
                            format!(
                                "the LLM wrote the SQL ({} repair{})",
                                a.repairs,
                                if a.repairs == 1 { "" } else { "s" }
                            ),
                            serde_json::json!({ "generator": "llm", "repairs": a.repairs }),
                        ));
                        return Ok(Generation {
                            chosen: a.generated,
                            sql: a.sql,
                            rows: a.rows,
                            trace,
                            fallback_reason: None,
                            llm_ms,
                        });
                    }
                    Err(f) => {
                        trace.extend(f.trace);
                        trace.push(TraceStep::new(
                            "generation",
                            format!("falling back to the pattern engine: {}", f.reason),
                            serde_json::json!({ "generator": "pattern", "fallback_reason": f.reason }),
                        ));
                        fallback_reason = Some(f.reason);
                    }
                }
            }
        }
        let dialect = db.warehouse.dialect();
        if let Some(previous) = history.last() {
            if refine::is_follow_up(analysis) {
                if let Some(r) =
                    refine::refine(&previous.sql, analysis, &db.schema, &db.values, dialect)
                {
                    match run(&r.sql) {
                        Ok((sql, rows)) => {
                            trace.push(TraceStep::new(
                                "refinement",
                                format!(
                                    "follow-up of '{}': {}",
                                    previous.question,
                                    r.changes.join("; ")
                                ),
                                serde_json::json!({ "previous_sql": previous.sql, "changes": r.changes, "sql": sql }),
                            ));
                            return Ok(Generation {
                                chosen: GeneratedSql {
                                    sql: r.sql,
                                    method: GenerationMethod::Refinement,
                                    confidence: 0.7,
                                    trace: Vec::new(),
                                },
                                sql,
                                rows,
                                trace,
                                fallback_reason,
                                llm_ms,
                            });
                        }
                        Err(e) => trace.push(TraceStep::new(
                            "refinement",
                            format!("the refined SQL failed: {e}"),
                            serde_json::json!({ "sql": r.sql, "code": e.code() }),
                        )),
                    }
                }
            }
        }
        let table_scores: HashMap<String, f32> = retrieved
            .tables
            .iter()
            .map(|h| (h.key.clone(), h.score))
            .collect();
        let ctx = PatternContext {
            analysis,
            schema: &db.schema,
            docs: &db.docs,
            values: &db.values,
            rules: &rules,
            examples: &examples,
            table_scores: &table_scores,
            dialect,
            min_confidence: self.min_confidence,
            prepared: Some(&db.prepared),
        };
        let candidates = pattern::generate(&ctx)?;
        let t = Instant::now();
        let (mut chosen, sql, rows, attempts) = self.execute_candidates(db, candidates)?;
        execution_ms.set(execution_ms.get() + t.elapsed().as_secs_f64() * 1000.0);
        trace.extend(chosen.trace.iter().cloned());
        trace.extend(attempts);
        // an empty result makes a generic reading less likely to be the right one
        if chosen.method == GenerationMethod::Pattern && rows.rows.is_empty() {
            let before = chosen.confidence;
            chosen.confidence = pattern::after_execution(before, true);
            trace.push(TraceStep::new(
                "confidence",
                format!(
                    "no rows: confidence {before:.2} -> {:.2}",
                    chosen.confidence
                ),
                serde_json::json!({ "before": before, "after": chosen.confidence }),
            ));
            if chosen.confidence < self.min_confidence {
                return Err(QuerentError::CannotAnswer {
                    reason: format!(
                        "the best reading of the question returned no rows and its confidence \
                         {:.2} is below {:.2}",
                        chosen.confidence, self.min_confidence
                    ),
                    unmapped: Vec::new(),
                });
            }
        }
        Ok(Generation {
            chosen,
            sql,
            rows,
            trace,
            fallback_reason,
            llm_ms,
        })
    }

    /// Runs candidates in rank order through the guard and the warehouse.
    fn execute_candidates(
        &self,
        db: &Database,
        candidates: Vec<GeneratedSql>,
    ) -> QuerentResult<(GeneratedSql, String, Rows, Vec<TraceStep>)> {
        const TRY_AT_MOST: usize = 4;
        let mut attempts = Vec::new();
        let mut first_empty: Option<(GeneratedSql, String, Rows)> = None;
        let mut last_error = None;
        for candidate in candidates.into_iter().take(TRY_AT_MOST) {
            match self.run_guarded(db, &candidate.sql) {
                Ok((sql, rows)) if rows.rows.is_empty() => {
                    attempts.push(TraceStep::new(
                        "execution",
                        "candidate ran and returned no rows",
                        serde_json::json!({ "sql": sql }),
                    ));
                    if first_empty.is_none() {
                        first_empty = Some((candidate, sql, rows));
                    }
                }
                Ok((sql, rows)) => {
                    attempts.push(TraceStep::new(
                        "execution",
                        format!("ran, {} rows", rows.rows.len()),
                        serde_json::json!({ "sql": sql }),
                    ));
                    return Ok((candidate, sql, rows, attempts));
                }
                Err(e) => {
                    attempts.push(TraceStep::new(
                        "execution",
                        format!("candidate failed: {e}"),
                        serde_json::json!({ "sql": candidate.sql, "code": e.code() }),
                    ));
                    last_error = Some(e);
                }
            }
        }
        if let Some((c, sql, rows)) = first_empty {
            return Ok((c, sql, rows, attempts));
        }
        Err(last_error.unwrap_or_else(|| QuerentError::CannotAnswer {
            reason: "no candidate query could be built".into(),
            unmapped: Vec::new(),
        }))
    }

    /// Guards and runs SQL on `db`; returns the SQL that ran and its rows.
    fn run_guarded(&self, db: &Database, sql: &str) -> QuerentResult<(String, Rows)> {
        let dialect = db.warehouse.dialect();
        let shown = guard::validate(sql, dialect, &db.table_names, self.limits.max_rows)?;
        // Run with one row more than the limit, so that the warehouse can tell a cut result;
        // the SQL shown to people carries the limit itself.
        let probing = guard::validate(sql, dialect, &db.table_names, self.limits.max_rows + 1)?;
        let rows = db.warehouse.run(&probing, self.limits)?;
        Ok((shown.as_str().to_string(), rows))
    }

    /// Runs user-written SQL through the guard (the same checks as generated SQL).
    pub fn run_sql(&self, database: Option<&str>, sql: &str) -> QuerentResult<(String, Rows)> {
        let db = self.database(database)?;
        self.run_guarded(&db, sql)
    }

    /// The database with this name, or the first one when `None`.
    ///
    /// Errors: [`QuerentError::UnknownDatabase`] listing the served ones.
    /// The database is a snapshot: a knowledge change swaps in a new one, and a holder keeps
    /// the one it has.
    pub fn database(&self, name: Option<&str>) -> QuerentResult<Arc<Database>> {
        let databases = self.databases.read();
        match name.map(str::trim).filter(|n| !n.is_empty()) {
            None => databases
                .values()
                .next()
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
    /// with `file_issues`, the problems reading them): table docs are merged over introspection
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
        let (docs, unknown) =
            introspect::merge(&knowledge.tables, introspect::table_docs(&old.schema));
        issues.extend(unknown_table_issues(
            name,
            &tables_file(&self.knowledge_dir, name),
            unknown,
        ));
        let mut checked_sql = old.checked_sql.clone();
        let mut kept = Vec::with_capacity(knowledge.examples.len());
        for example in &knowledge.examples {
            let ran = checked_sql.entry(example.sql.clone()).or_insert_with(|| {
                self.run_guarded(&old, &example.sql)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            });
            match ran {
                Ok(()) => kept.push(example.clone()),
                Err(e) => issues.push(failing_example(example, e)),
            }
        }
        let prepared = Arc::new(pattern::Prepared::build(&old.schema, &docs));
        let db = Database {
            name: old.name.clone(),
            warehouse: old.warehouse.clone(),
            schema: old.schema.clone(),
            prepared,
            docs,
            knowledge: KnowledgeBase {
                examples: kept,
                ..knowledge
            },
            values: old.values.clone(),
            table_names: old.table_names.clone(),
            checked_sql,
        };
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

    /// The LLM's state (ok, degraded, open circuit, last error), or `None` when none is configured.
    pub fn llm_status(&self) -> Option<LlmStatus> {
        self.llm.as_ref().map(LlmGenerator::status)
    }

    /// Counters since start: questions, answered share, latency, methods.
    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot(self.started.elapsed().as_secs())
    }
}

impl Database {
    /// The knowledge that is indexed: the curated items, with the merged table docs.
    fn knowledge_for_index(&self) -> KnowledgeBase {
        KnowledgeBase {
            tables: self.docs.clone(),
            ..self.knowledge.clone()
        }
    }
}

/// The domain a knowledge issue belongs to: the first folder of its source under
/// `knowledge_dir` (empty when it is not under it).
fn issue_domain(knowledge_dir: &Path, source: &str) -> String {
    Path::new(source)
        .strip_prefix(knowledge_dir)
        .ok()
        .and_then(|rest| rest.components().next())
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .unwrap_or_default()
}

fn tables_file(knowledge_dir: &Path, domain: &str) -> String {
    knowledge_dir
        .join(domain)
        .join(files::TABLES_FILE)
        .display()
        .to_string()
}

fn unknown_table_issues(name: &str, source: &str, unknown: Vec<String>) -> Vec<LoadIssue> {
    unknown
        .into_iter()
        .map(|table| LoadIssue {
            source: source.to_string(),
            message: format!("table doc '{table}' names a table that is not in database '{name}'"),
        })
        .collect()
}

fn failing_example(example: &Example, error: &str) -> LoadIssue {
    LoadIssue {
        source: example.source.clone(),
        message: format!("example '{}' does not run: {error}", example.question),
    }
}

/// Opens one database: introspection, docs merged, examples checked, value index built.
fn open_database(
    name: &str,
    warehouse: Arc<dyn Warehouse>,
    knowledge: KnowledgeBase,
    limits: ExecutionLimits,
    tables_source: &str,
    issues: &mut Vec<LoadIssue>,
    check_examples: bool,
) -> anyhow::Result<Database> {
    let schema = warehouse.introspect()?;
    let (docs, unknown) = introspect::merge(&knowledge.tables, introspect::table_docs(&schema));
    issues.extend(unknown_table_issues(name, tables_source, unknown));
    let values = ValueIndex::build(warehouse.as_ref(), &schema)?;
    // The tables' own names first (the guard lists them in its messages), then their aliases.
    let mut table_names: Vec<String> = schema.tables.iter().map(|t| t.name.clone()).collect();
    let aliases: Vec<String> = schema
        .tables
        .iter()
        .flat_map(|t| warehouse.table_aliases(&t.name))
        .collect();
    table_names.extend(aliases);
    let mut kept = Vec::with_capacity(knowledge.examples.len());
    let mut checked_sql = HashMap::new();
    for example in &knowledge.examples {
        if !check_examples {
            kept.push(example.clone());
            continue;
        }
        let checked = guard::validate(
            &example.sql,
            warehouse.dialect(),
            &table_names,
            limits.max_rows,
        )
        .and_then(|v| warehouse.run(&v, limits));
        let checked = checked.map(|_| ()).map_err(|e| e.to_string());
        match &checked {
            Ok(()) => kept.push(example.clone()),
            Err(e) => issues.push(failing_example(example, e)),
        }
        checked_sql.insert(example.sql.clone(), checked);
    }
    let knowledge = KnowledgeBase {
        examples: kept,
        ..knowledge
    };
    let prepared = pattern::Prepared::build(&schema, &docs);
    Ok(Database {
        name: name.to_string(),
        warehouse,
        schema,
        docs,
        knowledge,
        values: Arc::new(values),
        prepared: Arc::new(prepared),
        table_names,
        checked_sql,
    })
}

/// Where a served database's data is.
enum Source {
    Sqlite(PathBuf),
    BigQuery(DatasetRef),
}

/// The databases to serve: every BigQuery dataset of the settings and every SQLite file of
/// `--database-dir`; the demo database (generated when missing) when neither is given.
///
/// Errors: a BigQuery project without datasets, a malformed dataset, two databases of one name.
fn database_sources(settings: &Settings) -> anyhow::Result<Vec<(String, Source)>> {
    let mut sources: Vec<(String, Source)> = Vec::new();
    if settings.bigquery.is_configured() {
        let datasets = settings.bigquery.dataset_refs()?;
        if datasets.is_empty() {
            anyhow::bail!(
                "a BigQuery project is set but no dataset: set --bigquery-datasets (QUERENT_BIGQUERY_DATASETS)"
            );
        }
        for dataset in datasets {
            sources.push((dataset.dataset.clone(), Source::BigQuery(dataset)));
        }
        if settings.database_dir.is_none() {
            return Ok(sources);
        }
    }
    for (name, path) in database_files(settings)? {
        if sources.iter().any(|(n, _)| *n == name) {
            anyhow::bail!(
                "two databases are named '{name}': a BigQuery dataset and {}",
                path.display()
            );
        }
        sources.push((name, Source::Sqlite(path)));
    }
    Ok(sources)
}

/// The SQLite databases to serve: every SQLite file of `--database-dir`, or the demo database
/// (generated when missing).
fn database_files(settings: &Settings) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let Some(dir) = &settings.database_dir else {
        crate::demo_data::ensure(&settings.demo_db)?;
        return Ok(vec![(DEMO_DATABASE.to_string(), settings.demo_db.clone())]);
    };
    let mut found = BTreeMap::new();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(stem) = path
            .file_stem()
            .and_then(|s| s.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        if path.is_dir() {
            for ext in ["sqlite", "db"] {
                let inner = path.join(format!("{stem}.{ext}"));
                if inner.is_file() {
                    found.entry(stem.clone()).or_insert(inner);
                }
            }
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("sqlite" | "db" | "sqlite3")
        ) {
            found.entry(stem).or_insert(path);
        }
    }
    Ok(found.into_iter().collect())
}

fn ms(t: Instant) -> f64 {
    round3(t.elapsed().as_secs_f64() * 1000.0)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Payloads of retrieval hits as knowledge items, with their scores.
fn hits_as<T: serde::de::DeserializeOwned>(hits: &[crate::retrieval::Hit]) -> Vec<(T, f32)> {
    hits.iter()
        .filter_map(|h| {
            let item = h
                .payload
                .get("item")
                .cloned()
                .unwrap_or_else(|| h.payload.clone());
            serde_json::from_value(item).ok().map(|i| (i, h.score))
        })
        .collect()
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
