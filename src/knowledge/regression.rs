//! Regression on change: re-runs a domain's curated examples through the whole pipeline and
//! tells which answers changed since the last run.
//!
//! Each example's question is asked ([`Engine::ask_blocking`]) and the rows compared with those
//! of its own SQL, the golden query ([`crate::eval::compare_rows`], columns in any order). The
//! run is saved as the baseline of the next one (`<data_dir>/regression/<database>.json`,
//! written atomically); an answer *changed* when its SQL or its correctness differs from the
//! baseline's. Entered from `POST /api/knowledge/regression` and `querent knowledge regression`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::{AskRequest, Engine};
use crate::error::{QuerentError, QuerentResult};

/// One example's answer in a run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExampleRun {
    pub question: String,
    /// The example's SQL (the golden query).
    pub gold_sql: String,
    /// The SQL the pipeline answered with; absent when it could not answer.
    pub answer_sql: Option<String>,
    /// The error code when the pipeline could not answer.
    pub error: Option<String>,
    /// True when the answer's rows equal the golden query's (columns in any order, extra
    /// answer columns allowed).
    pub correct: bool,
}

/// An answer that changed since the baseline.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ChangedAnswer {
    pub question: String,
    /// The answer in the baseline (absent: the example is new).
    pub before: Option<ExampleRun>,
    pub after: ExampleRun,
}

/// The report of one regression run.
#[derive(Debug, Clone, Serialize)]
pub struct RegressionReport {
    pub database: String,
    pub examples: usize,
    pub correct: usize,
    /// When the baseline was taken (absent on a first run).
    pub baseline_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Answers whose SQL or correctness changed since the baseline.
    pub changed: Vec<ChangedAnswer>,
    /// Questions of the baseline that are no longer examples.
    pub removed: Vec<String>,
    pub runs: Vec<ExampleRun>,
}

#[derive(Serialize, Deserialize)]
struct Baseline {
    at: chrono::DateTime<chrono::Utc>,
    runs: Vec<ExampleRun>,
}

/// The accuracy of the last regression run of one domain, as `/api/health` reports it.
#[derive(Debug, Clone, Serialize)]
pub struct LastRun {
    /// When it ran (UTC).
    pub at: chrono::DateTime<chrono::Utc>,
    /// Curated examples run.
    pub examples: usize,
    /// Of those, answered with the example's rows (lenient: extra columns allowed).
    pub correct: usize,
    /// `correct / examples`, 0..1 (1 when there were none).
    pub accuracy: f64,
}

/// The last regression run of each of `databases` that has one (read from the baselines under
/// `data_dir`); a baseline that does not read is left out.
pub fn last_runs(data_dir: &Path, databases: &[String]) -> BTreeMap<String, LastRun> {
    databases
        .iter()
        .filter_map(|name| {
            let text = std::fs::read_to_string(baseline_path(data_dir, name)).ok()?;
            let b: Baseline = serde_json::from_str(&text).ok()?;
            let examples = b.runs.len();
            let correct = b.runs.iter().filter(|r| r.correct).count();
            let accuracy = if examples == 0 {
                1.0
            } else {
                correct as f64 / examples as f64
            };
            Some((
                name.clone(),
                LastRun {
                    at: b.at,
                    examples,
                    correct,
                    accuracy,
                },
            ))
        })
        .collect()
}

fn baseline_path(data_dir: &Path, database: &str) -> PathBuf {
    data_dir.join("regression").join(format!("{database}.json"))
}

fn cells(rows: &[Vec<serde_json::Value>]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| {
            r.iter()
                .map(|v| match v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Null => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

/// Runs the examples of `database` (the first served when `None`) and compares with the
/// baseline under `data_dir`, which this run then replaces.
///
/// Errors: unknown database; the baseline cannot be written.
pub fn run(
    engine: &Engine,
    database: Option<&str>,
    data_dir: &Path,
) -> QuerentResult<RegressionReport> {
    let db = engine.database(database)?;
    let mut runs = Vec::with_capacity(db.knowledge.examples.len());
    for example in &db.knowledge.examples {
        let gold = engine.run_sql(Some(&db.name), &example.sql);
        let answer = engine.ask_blocking(&AskRequest {
            question: example.question.clone(),
            database: Some(db.name.clone()),
            session_id: None,
        });
        let (answer_sql, error, correct) = match (&answer, &gold) {
            (Ok(a), Ok((_, g))) => {
                let ordered = example.sql.to_lowercase().contains("order by");
                // Lenient: every gold column among the answer's (an extra column is no error).
                let (_, lenient) =
                    crate::eval::compare_rows(&cells(&g.rows), &cells(&a.rows), ordered);
                (Some(a.sql.clone()), None, lenient)
            }
            (Ok(a), Err(_)) => (Some(a.sql.clone()), None, false),
            (Err(e), _) => (None, Some(e.code().to_string()), false),
        };
        runs.push(ExampleRun {
            question: example.question.clone(),
            gold_sql: example.sql.clone(),
            answer_sql,
            error,
            correct,
        });
    }
    let path = baseline_path(data_dir, &db.name);
    let previous: Option<Baseline> = std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok());
    let before: BTreeMap<&str, &ExampleRun> = previous
        .iter()
        .flat_map(|b| b.runs.iter())
        .map(|r| (r.question.as_str(), r))
        .collect();
    let changed = runs
        .iter()
        .filter_map(|after| {
            let prior = before.get(after.question.as_str());
            let same = prior
                .is_some_and(|b| b.answer_sql == after.answer_sql && b.correct == after.correct);
            (!same && previous.is_some()).then(|| ChangedAnswer {
                question: after.question.clone(),
                before: prior.map(|b| (*b).clone()),
                after: after.clone(),
            })
        })
        .collect();
    let removed = before
        .keys()
        .filter(|q| !runs.iter().any(|r| r.question == **q))
        .map(|q| q.to_string())
        .collect();
    let report = RegressionReport {
        database: db.name.clone(),
        examples: runs.len(),
        correct: runs.iter().filter(|r| r.correct).count(),
        baseline_at: previous.as_ref().map(|b| b.at),
        changed,
        removed,
        runs: runs.clone(),
    };
    let baseline = Baseline {
        at: chrono::Utc::now(),
        runs,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| QuerentError::Internal(format!("cannot create {}: {e}", dir.display())))?;
    }
    let text = serde_json::to_string_pretty(&baseline)
        .map_err(|e| QuerentError::Internal(e.to_string()))?;
    super::files::write_atomic(&path, &text)?;
    Ok(report)
}
