//! Evaluation of the pattern engine on a question/SQL file: execution accuracy (EX), coverage,
//! accuracy of the answered, per category and per confidence bucket.
//!
//! [`run_eval`] reads JSON lines `{question, sql, db_id?, category?|hardness?, id?}`, builds each
//! database's context once (introspected schema, table docs, value index; curated docs, examples
//! and rules when a knowledge base is given), generates SQL for each question, runs the top
//! candidate and the gold query read-only with SQLite and compares their rows:
//!
//! - **strict**: same number of columns, and the rows equal as a multiset (as a list when the gold
//!   query orders its result), columns matched in any order;
//! - **lenient**: every gold column is found among the predicted columns (extra predicted columns
//!   are allowed), rows compared the same way.
//!
//! Retrieval is not run here: business rules are offered with score 1 (they apply only when the
//! question names them), and examples are scored by the word overlap of their questions.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};

use crate::knowledge::{introspect, KnowledgeBase, TableDoc, ValueIndex};
use crate::question::{analyze, Question};
use crate::sql::pattern::{generate, PatternContext};
use crate::warehouse::{Dialect, Schema, SqliteWarehouse, Warehouse};

/// What to evaluate and how.
#[derive(Clone)]
pub struct EvalOptions {
    /// When set, every question goes through this engine's whole pipeline (retrieval, pattern
    /// engine, guard, execution), as the server answers it; the database is the line's `db_id`
    /// or the engine's first. When `None`, the pattern engine alone is evaluated.
    pub engine: Option<std::sync::Arc<crate::engine::Engine>>,
    /// The JSON-lines file of questions.
    pub file: PathBuf,
    /// Where databases are: `<dir>/<db_id>/<db_id>.sqlite` or `<dir>/<db_id>.sqlite`.
    pub database_dir: PathBuf,
    /// The database file of lines without `db_id` (when `database` is not set).
    pub default_database: Option<PathBuf>,
    /// The database name (`db_id`) of lines without one, as `--database NAME`.
    pub database: Option<String>,
    /// Evaluate a seeded random sample of this many questions (all when `None`).
    pub sample: Option<usize>,
    pub seed: u64,
    /// Candidates below this confidence count as refusals.
    pub min_confidence: f64,
    /// Write one JSON line per question here.
    pub per_question: Option<PathBuf>,
    /// Curated knowledge by database name (domain).
    pub knowledge: HashMap<String, KnowledgeBase>,
    /// Time limit of each query (gold and predicted), milliseconds.
    pub timeout_ms: u64,
    /// Rows read at most from each query.
    pub max_rows: usize,
}

impl Default for EvalOptions {
    fn default() -> Self {
        Self {
            engine: None,
            file: PathBuf::new(),
            database_dir: PathBuf::from("."),
            default_database: None,
            database: None,
            sample: None,
            seed: 7,
            min_confidence: 0.5,
            per_question: None,
            knowledge: HashMap::new(),
            timeout_ms: 5_000,
            max_rows: 20_000,
        }
    }
}

/// One line of the questions file: `{id?, question, sql, db_id?, category?, hardness?}`.
#[derive(Debug, Clone, Deserialize)]
pub struct EvalLine {
    #[serde(default)]
    pub id: Option<String>,
    pub question: String,
    /// The gold SQL.
    pub sql: String,
    #[serde(default)]
    pub db_id: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub hardness: Option<String>,
}

/// Reads the question lines of `path`; with `sample`, a seeded random sample of that many.
///
/// Errors: the file cannot be read, or a line is not a question line (named by its number).
pub fn read_lines(path: &Path, sample: Option<usize>, seed: u64) -> anyhow::Result<Vec<EvalLine>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut lines: Vec<EvalLine> = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        lines.push(
            serde_json::from_str(&line)
                .with_context(|| format!("{}:{}: not a question line", path.display(), n + 1))?,
        );
    }
    if let Some(k) = sample {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        lines.shuffle(&mut rng);
        lines.truncate(k);
    }
    Ok(lines)
}

/// Counts for a group of questions.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Bucket {
    pub questions: usize,
    /// Questions answered (a candidate at or above the confidence threshold).
    pub answered: usize,
    /// Answered and strictly correct.
    pub correct: usize,
    /// Answered and leniently correct.
    pub correct_lenient: usize,
}

impl Bucket {
    fn add(&mut self, answered: bool, strict: bool, lenient: bool) {
        self.questions += 1;
        self.answered += usize::from(answered);
        self.correct += usize::from(answered && strict);
        self.correct_lenient += usize::from(answered && lenient);
    }
}

/// The index of the candidate the engine would answer with: among the first four, the first
/// that runs and returns rows, else the first that runs, else the first.
fn choose_candidate(
    conn: &mut Connection,
    cands: &[crate::sql::GeneratedSql],
    timeout: std::time::Duration,
    max_rows: usize,
) -> usize {
    let mut first_ran = None;
    for (i, c) in cands.iter().enumerate().take(4) {
        if let Ok(rows) = run_query(conn, &c.sql, timeout, max_rows) {
            if !rows.is_empty() {
                return i;
            }
            first_ran.get_or_insert(i);
        }
    }
    first_ran.unwrap_or(0)
}

/// The outcome for one question.
#[derive(Debug, Clone, Serialize)]
pub struct QuestionResult {
    pub id: Option<String>,
    pub db_id: String,
    pub question: String,
    pub category: String,
    pub gold: String,
    pub predicted: Option<String>,
    pub method: Option<String>,
    pub confidence: f64,
    pub answered: bool,
    /// `correct`, `lenient`, `wrong`, `error`, `refused`, `gold_error`.
    pub outcome: String,
    pub error: Option<String>,
    /// Time to generate the SQL (analysis, linking, frame, rendering), milliseconds.
    pub generation_ms: f64,
    /// What the pattern engine's confidence was computed from (its features), when the pattern
    /// engine wrote the SQL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub features: Option<serde_json::Value>,
    /// Rows the predicted query returned.
    pub rows: Option<usize>,
}

/// The evaluation report.
#[derive(Debug, Clone, Serialize, Default)]
pub struct EvalReport {
    pub questions: usize,
    /// Questions whose gold query failed (left out of every rate).
    pub gold_errors: usize,
    pub answered: usize,
    pub correct: usize,
    pub correct_lenient: usize,
    /// Predicted queries that failed to run.
    pub prediction_errors: usize,
    /// correct / questions.
    pub execution_accuracy: f64,
    /// correct_lenient / questions.
    pub execution_accuracy_lenient: f64,
    /// answered / questions.
    pub coverage: f64,
    /// correct / answered.
    pub accuracy_answered: f64,
    /// correct_lenient / answered.
    pub accuracy_answered_lenient: f64,
    pub min_confidence: f64,
    pub by_category: BTreeMap<String, Bucket>,
    /// Buckets of the top candidate's confidence (all questions, answered or not at the threshold).
    pub by_confidence: BTreeMap<String, Bucket>,
    /// By generation method of the answer (`pattern`, `example`, ...; refusals under `none`).
    pub by_method: BTreeMap<String, Bucket>,
    /// Generation time percentiles, milliseconds.
    pub generation_ms_p50: f64,
    pub generation_ms_p95: f64,
}

/// A database's context, built once.
struct DbContext {
    schema: Schema,
    docs: Vec<TableDoc>,
    values: ValueIndex,
    kb: Option<KnowledgeBase>,
    path: PathBuf,
    prepared: crate::sql::pattern::Prepared,
}

fn find_database(opts: &EvalOptions, db_id: Option<&str>) -> anyhow::Result<PathBuf> {
    match db_id {
        Some(id) => {
            for p in [
                opts.database_dir.join(id).join(format!("{id}.sqlite")),
                opts.database_dir.join(format!("{id}.sqlite")),
                opts.database_dir.join(format!("{id}.db")),
            ] {
                if p.is_file() {
                    return Ok(p);
                }
            }
            // the demo database is served under the name of its file (`retail`)
            if let Some(d) = &opts.default_database {
                if d.file_stem().is_some_and(|s| s == id) {
                    return Ok(d.clone());
                }
                // and the databases shipped next to it (`data/chinook/chinook.sqlite`), as
                // the server finds them
                if let Some(p) = d
                    .parent()
                    .map(|dir| dir.join(id).join(format!("{id}.sqlite")))
                    .filter(|p| p.is_file())
                {
                    return Ok(p);
                }
            }
            anyhow::bail!(
                "no database file for '{id}' under {}",
                opts.database_dir.display()
            )
        }
        None => opts
            .default_database
            .clone()
            .context("a line has no db_id and no default database is set"),
    }
}

fn load_context(opts: &EvalOptions, db_id: Option<&str>) -> anyhow::Result<DbContext> {
    let path = find_database(opts, db_id)?;
    let wh = SqliteWarehouse::open(&path)?;
    let schema = wh.introspect()?;
    let values = ValueIndex::build(&wh, &schema)?;
    let kb = db_id.and_then(|id| opts.knowledge.get(id).cloned());
    let introspected = introspect::table_docs(&schema);
    let docs = match &kb {
        Some(kb) if !kb.tables.is_empty() => introspect::merge(&kb.tables, introspected).0,
        _ => introspected,
    };
    let prepared = crate::sql::pattern::Prepared::build(&schema, &docs);
    Ok(DbContext {
        prepared,
        schema,
        docs,
        values,
        kb,
        path,
    })
}

/// A category from the shape of the gold SQL, for files without one.
fn shape_category(sql: &str) -> String {
    let u = sql.to_ascii_uppercase();
    let selects = u.matches("SELECT").count();
    if u.contains(" INTERSECT ") || u.contains(" UNION ") || u.contains(" EXCEPT ") {
        "set_operation".into()
    } else if selects > 1 {
        "nested".into()
    } else if u.contains(" JOIN ") {
        "join".into()
    } else if u.contains("GROUP BY") {
        "group_by".into()
    } else if u.contains("ORDER BY") {
        "order_by".into()
    } else if u.contains("WHERE") {
        "filter".into()
    } else {
        "simple".into()
    }
}

fn confidence_bucket(c: f64) -> String {
    let edges = [0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01];
    for w in edges.windows(2) {
        if c < w[1] {
            return format!("{:.1}-{:.1}", w[0], w[1].min(1.0));
        }
    }
    "0.9-1.0".into()
}

/// A value as comparable text: integers and integral reals alike, reals rounded to 6 places.
fn canonical(v: ValueRef<'_>) -> String {
    match v {
        ValueRef::Null => "NULL".into(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(f) => {
            // rounded to 6 decimals first, so that summation noise (1500.0000000000002 against
            // 1500.0) does not make one value an integer and the other not
            let r = (f * 1e6).round() / 1e6;
            if r.fract() == 0.0 && r.abs() < 1e15 {
                (r as i64).to_string()
            } else {
                format!("{:.6}", r)
            }
        }
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
        ValueRef::Blob(b) => hex::encode(b),
    }
}

/// Runs a query read-only with a deadline; rows as canonical text.
fn run_query(
    conn: &mut Connection,
    sql: &str,
    timeout: Duration,
    max_rows: usize,
) -> Result<Vec<Vec<String>>, String> {
    let deadline = Instant::now() + timeout;
    conn.progress_handler(10_000, Some(move || Instant::now() > deadline))
        .map_err(|e| e.to_string())?;
    let result = (|| {
        let conn = &*conn;
        let mut stmt = conn.prepare(sql).map_err(|e| e.to_string())?;
        if !stmt.readonly() {
            return Err("not a read-only statement".to_string());
        }
        let n = stmt.column_count();
        let mut rows = stmt.query([]).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(|e| e.to_string())? {
            out.push(
                (0..n)
                    .map(|i| r.get_ref(i).map(canonical).unwrap_or_default())
                    .collect(),
            );
            if out.len() >= max_rows {
                break;
            }
        }
        Ok(out)
    })();
    conn.progress_handler(0, None::<fn() -> bool>)
        .map_err(|e| e.to_string())?;
    result
}

fn rows_equal(gold: &[Vec<String>], pred: &[Vec<String>], cols: &[usize], ordered: bool) -> bool {
    if gold.len() != pred.len() {
        return false;
    }
    let project = |r: &Vec<String>| -> Vec<String> { cols.iter().map(|&c| r[c].clone()).collect() };
    let p: Vec<Vec<String>> = pred.iter().map(project).collect();
    if ordered {
        gold == p.as_slice()
    } else {
        let mut g = gold.to_vec();
        let mut p = p;
        g.sort();
        p.sort();
        g == p
    }
}

/// Compares result rows: (strict, lenient).
pub fn compare_rows(gold: &[Vec<String>], pred: &[Vec<String>], ordered: bool) -> (bool, bool) {
    let gcols = gold.first().map(Vec::len).unwrap_or(0);
    let pcols = pred.first().map(Vec::len).unwrap_or(0);
    if gold.is_empty() || pred.is_empty() {
        let same = gold.is_empty() && pred.is_empty();
        return (same, same);
    }
    if gold.len() != pred.len() {
        return (false, false);
    }
    // candidate predicted columns for each gold column: same multiset of values
    let column = |rows: &[Vec<String>], c: usize| -> Vec<String> {
        let mut v: Vec<String> = rows.iter().map(|r| r[c].clone()).collect();
        v.sort();
        v
    };
    let gsets: Vec<Vec<String>> = (0..gcols).map(|c| column(gold, c)).collect();
    let psets: Vec<Vec<String>> = (0..pcols).map(|c| column(pred, c)).collect();
    let cands: Vec<Vec<usize>> = gsets
        .iter()
        .map(|g| (0..pcols).filter(|&p| psets[p] == *g).collect())
        .collect();
    if cands.iter().any(Vec::is_empty) {
        return (false, false);
    }
    // search for an assignment of distinct predicted columns (small schemas: bounded search)
    fn search(
        k: usize,
        cands: &[Vec<usize>],
        chosen: &mut Vec<usize>,
        budget: &mut usize,
        ok: &mut dyn FnMut(&[usize]) -> bool,
    ) -> bool {
        if *budget == 0 {
            return false;
        }
        *budget -= 1;
        if k == cands.len() {
            return ok(chosen);
        }
        for &c in &cands[k] {
            if chosen.contains(&c) {
                continue;
            }
            chosen.push(c);
            if search(k + 1, cands, chosen, budget, ok) {
                return true;
            }
            chosen.pop();
        }
        false
    }
    let mut budget = 5_000;
    let mut check = |cols: &[usize]| rows_equal(gold, pred, cols, ordered);
    let lenient = search(0, &cands, &mut Vec::new(), &mut budget, &mut check);
    (lenient && gcols == pcols, lenient)
}

fn gold_is_ordered(sql: &str) -> bool {
    // an ORDER BY of the outer query (not only inside a subquery)
    let u = sql.to_ascii_uppercase();
    match u.rfind("ORDER BY") {
        Some(pos) => {
            let after = &u[pos..];
            after.matches(')').count() <= after.matches('(').count()
        }
        None => false,
    }
}

/// Word-overlap similarity of two questions (Jaccard of content stems), standing in for retrieval.
fn lexical_similarity(a: &str, b: &str) -> f32 {
    use crate::question::tokens::{is_stopword, tokenize};
    let set = |s: &str| -> std::collections::BTreeSet<String> {
        tokenize(s)
            .into_iter()
            .filter(|t| !is_stopword(&t.lower) && t.kind != crate::question::TokenKind::Punct)
            .map(|t| t.stem)
            .collect()
    };
    let (x, y) = (set(a), set(b));
    if x.is_empty() || y.is_empty() {
        return 0.0;
    }
    x.intersection(&y).count() as f32 / x.union(&y).count() as f32
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// Runs an evaluation. Errors: the questions file cannot be read or a line is not valid JSON.
/// A database that cannot be opened makes its questions count as gold errors.
pub fn run_eval(opts: &EvalOptions) -> anyhow::Result<EvalReport> {
    let lines = read_lines(&opts.file, opts.sample, opts.seed)?;
    run_lines(opts, lines)
}

/// Evaluates these question lines (as [`run_eval`] does with the lines of its file).
pub fn run_lines(opts: &EvalOptions, mut lines: Vec<EvalLine>) -> anyhow::Result<EvalReport> {
    if let Some(name) = &opts.database {
        for line in lines.iter_mut().filter(|l| l.db_id.is_none()) {
            line.db_id = Some(name.clone());
        }
    }
    let mut out = match &opts.per_question {
        Some(p) => Some(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => None,
    };
    let mut contexts: HashMap<String, Result<DbContext, String>> = HashMap::new();
    let mut conns: HashMap<String, Connection> = HashMap::new();
    let mut report = EvalReport {
        min_confidence: opts.min_confidence,
        ..Default::default()
    };
    let mut times = Vec::new();
    let timeout = Duration::from_millis(opts.timeout_ms);
    let no_scores = HashMap::new();
    for line in &lines {
        let key = line.db_id.clone().unwrap_or_default();
        let ctx = contexts.entry(key.clone()).or_insert_with(|| {
            load_context(opts, line.db_id.as_deref()).map_err(|e| format!("{e:#}"))
        });
        let category = line
            .category
            .clone()
            .or(line.hardness.clone())
            .unwrap_or_else(|| shape_category(&line.sql));
        let mut result = QuestionResult {
            id: line.id.clone(),
            db_id: key.clone(),
            question: line.question.clone(),
            category: category.clone(),
            gold: line.sql.clone(),
            predicted: None,
            method: None,
            confidence: 0.0,
            answered: false,
            outcome: String::new(),
            error: None,
            generation_ms: 0.0,
            features: None,
            rows: None,
        };
        let ctx = match ctx {
            Ok(c) => c,
            Err(e) => {
                result.outcome = "gold_error".into();
                result.error = Some(e.clone());
                report.gold_errors += 1;
                write_line(&mut out, &result)?;
                continue;
            }
        };
        let conn = match conns.entry(key.clone()) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                let c = Connection::open_with_flags(
                    &ctx.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                v.insert(c)
            }
        };
        let gold = match run_query(conn, &line.sql, timeout, opts.max_rows) {
            Ok(r) => r,
            Err(e) => {
                result.outcome = "gold_error".into();
                result.error = Some(format!("gold: {e}"));
                report.gold_errors += 1;
                write_line(&mut out, &result)?;
                continue;
            }
        };
        let Ok(q) = Question::parse(&line.question) else {
            result.outcome = "refused".into();
            report.questions += 1;
            report
                .by_category
                .entry(category)
                .or_default()
                .add(false, false, false);
            write_line(&mut out, &result)?;
            continue;
        };
        let rules: Vec<(crate::knowledge::BusinessRule, f32)> = ctx
            .kb
            .as_ref()
            .map(|kb| kb.rules.iter().map(|r| (r.clone(), 1.0)).collect())
            .unwrap_or_default();
        let examples: Vec<(crate::knowledge::Example, f32)> = ctx
            .kb
            .as_ref()
            .map(|kb| {
                kb.examples
                    .iter()
                    .map(|e| (e.clone(), lexical_similarity(&e.question, &line.question)))
                    .collect()
            })
            .unwrap_or_default();
        let t0 = Instant::now();
        let generated = match &opts.engine {
            Some(engine) => engine
                .ask_blocking(&crate::engine::AskRequest {
                    question: line.question.clone(),
                    database: line.db_id.clone(),
                    ..Default::default()
                })
                .map(|a| {
                    vec![crate::sql::GeneratedSql {
                        sql: a.sql,
                        method: match a.generation_method.as_str() {
                            "example" => crate::sql::GenerationMethod::Example,
                            "semantic" => crate::sql::GenerationMethod::Semantic,
                            "llm" => crate::sql::GenerationMethod::Llm,
                            "refinement" => crate::sql::GenerationMethod::Refinement,
                            _ => crate::sql::GenerationMethod::Pattern,
                        },
                        confidence: a.confidence,
                        trace: a.trace,
                        features: None,
                    }]
                }),
            None => {
                let analysis = analyze(&q);
                let pctx = PatternContext {
                    analysis: &analysis,
                    schema: &ctx.schema,
                    docs: &ctx.docs,
                    values: &ctx.values,
                    rules: &rules,
                    examples: &examples,
                    table_scores: &no_scores,
                    dialect: Dialect::Sqlite,
                    min_confidence: 0.0,
                    prepared: Some(&ctx.prepared),
                };
                generate(&pctx)
            }
        };
        let ms = t0.elapsed().as_secs_f64() * 1000.0;
        times.push(ms);
        result.generation_ms = ms;
        report.questions += 1;
        let (strict, lenient) = match generated {
            Err(e) => {
                result.outcome = "refused".into();
                result.error = Some(e.to_string());
                (false, false)
            }
            Ok(cands) => {
                // as the engine does: the first of the first few candidates that runs and
                // returns rows, else the first that runs
                let top = match &opts.engine {
                    Some(_) => &cands[0],
                    None => &cands[choose_candidate(conn, &cands, timeout, opts.max_rows)],
                };
                result.predicted = Some(top.sql.clone());
                result.method = Some(top.method.as_str().to_string());
                result.confidence = top.confidence;
                let ran = run_query(conn, &top.sql, timeout, opts.max_rows);
                if let (None, Some(features), Ok(rows)) = (&opts.engine, &top.features, &ran) {
                    result.confidence = features.confidence(rows.len());
                }
                result.answered = result.confidence >= opts.min_confidence;
                result.features = features_of(&top.trace);
                match ran {
                    Err(e) => {
                        result.outcome = "error".into();
                        result.error = Some(e);
                        if result.answered {
                            report.prediction_errors += 1;
                        }
                        (false, false)
                    }
                    Ok(pred) => {
                        result.rows = Some(pred.len());
                        let (s, l) = compare_rows(&gold, &pred, gold_is_ordered(&line.sql));
                        result.outcome = if s {
                            "correct"
                        } else if l {
                            "lenient"
                        } else {
                            "wrong"
                        }
                        .into();
                        (s, l)
                    }
                }
            }
        };
        let answered = result.answered;
        if !answered && result.outcome != "refused" {
            result.outcome = format!("refused ({})", result.outcome);
        }
        report.answered += usize::from(answered);
        report.correct += usize::from(answered && strict);
        report.correct_lenient += usize::from(answered && lenient);
        report
            .by_category
            .entry(category)
            .or_default()
            .add(answered, strict, lenient);
        report
            .by_method
            .entry(result.method.clone().unwrap_or_else(|| "none".into()))
            .or_default()
            .add(answered, strict, lenient);
        report
            .by_confidence
            .entry(confidence_bucket(result.confidence))
            .or_default()
            .add(true, strict, lenient);
        write_line(&mut out, &result)?;
    }
    if let Some(w) = out.as_mut() {
        w.flush()?;
    }
    let q = report.questions.max(1) as f64;
    let a = report.answered.max(1) as f64;
    report.execution_accuracy = report.correct as f64 / q;
    report.execution_accuracy_lenient = report.correct_lenient as f64 / q;
    report.coverage = report.answered as f64 / q;
    report.accuracy_answered = report.correct as f64 / a;
    report.accuracy_answered_lenient = report.correct_lenient as f64 / a;
    times.sort_by(|a, b| a.total_cmp(b));
    report.generation_ms_p50 = percentile(&times, 0.5);
    report.generation_ms_p95 = percentile(&times, 0.95);
    Ok(report)
}

fn write_line(
    out: &mut Option<std::io::BufWriter<std::fs::File>>,
    r: &QuestionResult,
) -> anyhow::Result<()> {
    if let Some(w) = out.as_mut() {
        serde_json::to_writer(&mut *w, r)?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// The curation-lift benchmark: what curated examples change on the questions they do not cover.
#[derive(Debug, Clone, Serialize)]
pub struct CurationReport {
    /// Databases measured (each with its own curated examples and test questions).
    pub databases: usize,
    /// Curated examples per database (asked for).
    pub curated_per_database: usize,
    /// Curated examples written (questions whose gold SQL runs and returns rows).
    pub curated: usize,
    /// Problems found loading the written knowledge folders (should be none).
    pub load_issues: usize,
    /// The knowledge folder the examples were written to (`<dir>/<db>/examples.yml`).
    pub knowledge_dir: String,
    /// The test questions without any curated knowledge.
    pub without: EvalReport,
    /// The same test questions with each database's curated examples.
    pub with: EvalReport,
    /// Lenient execution accuracy with minus without, in points (0..100).
    pub lift_lenient_points: f64,
    /// Of the test questions: answered by an adapted example in the run with curation, and of
    /// those leniently right.
    pub answered_by_example: usize,
    pub example_correct_lenient: usize,
}

/// Runs the curation-lift benchmark on `opts.file`: for each database with at least
/// `min_questions` lines (a seeded choice of `databases` of them when set), a seeded choice of
/// `per_database` questions whose gold SQL returns rows become curated examples, written to
/// `knowledge_dir/<db>/examples.yml` and loaded back as a curator's files are; the database's
/// other questions are the test, run once without and once with those examples.
///
/// Errors: the questions file cannot be read, or a knowledge file cannot be written.
pub fn run_curation_lift(
    opts: &EvalOptions,
    per_database: usize,
    min_questions: usize,
    databases: Option<usize>,
    knowledge_dir: &Path,
) -> anyhow::Result<CurationReport> {
    let all = read_lines(&opts.file, None, opts.seed)?;
    let mut by_db: BTreeMap<String, Vec<EvalLine>> = BTreeMap::new();
    for l in all {
        if let Some(db) = l.db_id.clone() {
            by_db.entry(db).or_default().push(l);
        }
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(opts.seed);
    let mut names: Vec<String> = by_db
        .iter()
        .filter(|(_, v)| v.len() >= min_questions.max(per_database + 1))
        .map(|(k, _)| k.clone())
        .collect();
    if let Some(k) = databases {
        names.shuffle(&mut rng);
        names.truncate(k);
        names.sort();
    }
    let timeout = Duration::from_millis(opts.timeout_ms);
    let mut test = Vec::new();
    let mut curated = 0;
    for name in &names {
        let mut lines = by_db.remove(name).unwrap_or_default();
        lines.shuffle(&mut rng);
        let path = match find_database(opts, Some(name)) {
            Ok(p) => p,
            Err(_) => continue,
        };
        let mut conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let mut examples = Vec::new();
        let mut rest = Vec::new();
        for l in lines {
            let fits = examples.len() < per_database
                && run_query(&mut conn, &l.sql, timeout, 10).is_ok_and(|r| !r.is_empty());
            if fits {
                examples.push(crate::knowledge::Example {
                    question: l.question.clone(),
                    sql: l.sql.clone(),
                    source: String::new(),
                });
            } else {
                rest.push(l);
            }
        }
        curated += examples.len();
        let kb = KnowledgeBase {
            domain: name.clone(),
            examples,
            ..Default::default()
        };
        crate::knowledge::files::save_kind(
            &knowledge_dir.join(name),
            &kb,
            crate::knowledge::ItemKind::Example,
        )?;
        test.extend(rest);
    }
    let (bases, issues) = crate::knowledge::files::load_all(knowledge_dir);
    let without = run_lines(
        &EvalOptions {
            knowledge: HashMap::new(),
            per_question: None,
            ..opts.clone()
        },
        test.clone(),
    )?;
    let with_opts = EvalOptions {
        knowledge: bases
            .into_iter()
            .map(|kb| (kb.domain.clone(), kb))
            .collect(),
        ..opts.clone()
    };
    let with = run_lines(&with_opts, test)?;
    let lift = (with.execution_accuracy_lenient - without.execution_accuracy_lenient) * 100.0;
    Ok(CurationReport {
        databases: names.len(),
        curated_per_database: per_database,
        curated,
        load_issues: issues.len(),
        knowledge_dir: knowledge_dir.display().to_string(),
        answered_by_example: with
            .by_method
            .get("example")
            .map(|b| b.answered)
            .unwrap_or(0),
        example_correct_lenient: with
            .by_method
            .get("example")
            .map(|b| b.correct_lenient)
            .unwrap_or(0),
        without,
        with,
        lift_lenient_points: (lift * 10.0).round() / 10.0,
    })
}

/// The path of a database under a Spider-style directory (`<dir>/<id>/<id>.sqlite`).
pub fn spider_database(dir: &Path, id: &str) -> PathBuf {
    dir.join(id).join(format!("{id}.sqlite"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(v: &[&[&str]]) -> Vec<Vec<String>> {
        v.iter()
            .map(|r| r.iter().map(|s| s.to_string()).collect())
            .collect()
    }

    #[test]
    fn reals_that_differ_by_summation_noise_read_the_same() {
        for (a, b) in [
            (1500.0000000000002, 1500.0),
            (24.749999999999993, 24.75),
            (-91.66666666666666, -91.66666666666667),
        ] {
            assert_eq!(canonical(ValueRef::Real(a)), canonical(ValueRef::Real(b)));
        }
        assert_ne!(
            canonical(ValueRef::Real(1.5)),
            canonical(ValueRef::Real(1.6))
        );
        assert_eq!(canonical(ValueRef::Real(2.0)), "2");
    }

    #[test]
    fn rows_compare_as_multisets_with_columns_in_any_order() {
        let gold = rows(&[&["a", "1"], &["b", "2"]]);
        let pred = rows(&[&["2", "b"], &["1", "a"]]);
        assert_eq!(compare_rows(&gold, &pred, false), (true, true));
        assert_eq!(compare_rows(&gold, &pred, true), (false, false));
    }

    #[test]
    fn extra_predicted_columns_are_only_leniently_correct() {
        let gold = rows(&[&["a"], &["b"]]);
        let pred = rows(&[&["a", "x"], &["b", "y"]]);
        assert_eq!(compare_rows(&gold, &pred, false), (false, true));
        let wrong = rows(&[&["a", "x"], &["c", "y"]]);
        assert_eq!(compare_rows(&gold, &wrong, false), (false, false));
    }

    #[test]
    fn the_outer_order_by_makes_the_comparison_ordered() {
        assert!(gold_is_ordered("SELECT a FROM t ORDER BY a"));
        assert!(!gold_is_ordered(
            "SELECT a FROM t WHERE x IN (SELECT x FROM u ORDER BY x LIMIT 1)"
        ));
        assert!(!gold_is_ordered("SELECT a FROM t"));
    }

    #[test]
    fn categories_come_from_the_gold_shape() {
        assert_eq!(
            shape_category("SELECT a FROM t JOIN u ON t.x = u.x"),
            "join"
        );
        assert_eq!(
            shape_category("SELECT a FROM t EXCEPT SELECT a FROM u"),
            "set_operation"
        );
        assert_eq!(shape_category("SELECT count(*) FROM t"), "simple");
    }
}

/// The Spider sample evaluation (slow-ish and needs the shared dataset): `cargo test --lib
/// spider_sample -- --ignored --nocapture` prints the report.
#[cfg(test)]
mod spider {
    use super::*;

    #[test]
    #[ignore = "needs /work/shared/datasets/spider-train"]
    fn spider_sample_evaluation_reports_execution_accuracy() {
        let dir = Path::new("/work/shared/datasets/spider-train");
        if !dir.is_dir() {
            return;
        }
        let opts = EvalOptions {
            file: dir.join("questions.jsonl"),
            database_dir: dir.join("database"),
            sample: Some(300),
            seed: 7,
            ..Default::default()
        };
        let report = run_eval(&opts).expect("evaluation runs");
        println!("{}", serde_json::to_string_pretty(&report).unwrap());
        assert_eq!(report.questions + report.gold_errors, 300);
        assert!(report.execution_accuracy_lenient > 0.3, "{report:?}");
    }
}

/// The calibration inputs of a pattern-engine answer: its features, from the trace's first
/// `confidence` step. `None` when no step gives features (another generator wrote the SQL).
fn features_of(trace: &[crate::sql::TraceStep]) -> Option<serde_json::Value> {
    trace
        .iter()
        .find(|t| t.stage == "confidence")
        .and_then(|t| t.details.get("features").cloned())
}
