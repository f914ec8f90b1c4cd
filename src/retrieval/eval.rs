//! Retrieval quality: recall@k of the tables that gold SQL uses.
//!
//! For each `{question, sql, db_id?}` line ([`crate::eval::read_lines`]), the gold SQL is parsed
//! with sqlparser (SQLite dialect) and its relations collected (CTE names left out, names
//! matched to the database's tables case-insensitively); the question goes through the same
//! retrieval stage as the pipeline ([`Engine::retrieve`]) and the top `k` table docs are
//! compared with those tables. Recall of a question = gold tables found / gold tables; the
//! report gives the mean, the share of questions with every gold table found, and the search
//! latency. Lines whose gold SQL does not parse or names no known table are counted apart.

use std::collections::BTreeSet;
use std::ops::ControlFlow;
use std::time::Instant;

use serde::Serialize;
use sqlparser::ast::{visit_relations, Statement};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::parser::Parser;

use crate::engine::Engine;
use crate::eval::EvalLine;

/// The result of a retrieval evaluation.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RetrievalReport {
    pub k: usize,
    /// Questions evaluated (with gold tables).
    pub questions: usize,
    /// Lines skipped: gold SQL that does not parse, no known table, unknown database.
    pub skipped: usize,
    /// Mean over questions of (gold tables in the top k) / (gold tables).
    pub recall_at_k: f64,
    /// Share of questions with every gold table in the top k.
    pub all_tables_at_k: f64,
    /// Retrieval latency per question, milliseconds.
    pub search_ms_p50: f64,
    pub search_ms_p95: f64,
    /// Retrieval mode used (`vector` or `lexical`).
    pub mode: String,
    /// Up to 20 questions that missed a gold table: `{db_id, question, gold, retrieved}`.
    pub misses: Vec<serde_json::Value>,
}

/// The tables `sql` reads, lower-cased, CTE names excluded; `None` when it does not parse.
pub fn gold_tables(sql: &str) -> Option<BTreeSet<String>> {
    let statements = Parser::parse_sql(&SQLiteDialect {}, sql).ok()?;
    let mut tables = BTreeSet::new();
    let mut ctes = BTreeSet::new();
    for statement in &statements {
        if let Statement::Query(q) = statement {
            collect_ctes(q, &mut ctes);
        }
        let _ = visit_relations(statement, |name| {
            if let Some(last) = name.0.last() {
                let text = last.to_string();
                tables.insert(text.trim_matches(['"', '`', '[', ']']).to_lowercase());
            }
            ControlFlow::<()>::Continue(())
        });
    }
    tables.retain(|t| !ctes.contains(t));
    Some(tables)
}

fn collect_ctes(query: &sqlparser::ast::Query, ctes: &mut BTreeSet<String>) {
    if let Some(with) = &query.with {
        for cte in &with.cte_tables {
            ctes.insert(cte.alias.name.value.to_lowercase());
        }
    }
}

/// Evaluates table recall@`k` of `engine`'s retrieval on `lines`; a line without `db_id` asks
/// the engine's first database.
pub fn evaluate(engine: &Engine, lines: &[EvalLine], k: usize) -> RetrievalReport {
    let mut report = RetrievalReport {
        k,
        mode: format!("{:?}", engine.retrieval_status().mode).to_lowercase(),
        ..Default::default()
    };
    let mut recall_sum = 0.0;
    let mut all_found = 0usize;
    let mut times = Vec::with_capacity(lines.len());
    for line in lines {
        let Ok(db) = engine.database(line.db_id.as_deref()) else {
            report.skipped += 1;
            continue;
        };
        let Some(mut gold) = gold_tables(&line.sql) else {
            report.skipped += 1;
            continue;
        };
        gold.retain(|t| db.schema.table(t).is_some());
        if gold.is_empty() {
            report.skipped += 1;
            continue;
        }
        let started = Instant::now();
        let Ok(retrieved) = engine.retrieve(&db.name, &line.question, k) else {
            report.skipped += 1;
            continue;
        };
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        let top: BTreeSet<String> = retrieved
            .tables
            .iter()
            .take(k)
            .map(|h| h.key.to_lowercase())
            .collect();
        let found = gold.iter().filter(|t| top.contains(*t)).count();
        report.questions += 1;
        recall_sum += found as f64 / gold.len() as f64;
        if found == gold.len() {
            all_found += 1;
        } else if report.misses.len() < 20 {
            report.misses.push(serde_json::json!({
                "db_id": db.name, "question": line.question, "gold": gold, "retrieved": top,
            }));
        }
    }
    if report.questions > 0 {
        report.recall_at_k = recall_sum / report.questions as f64;
        report.all_tables_at_k = all_found as f64 / report.questions as f64;
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| {
        times
            .get(((times.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    report.search_ms_p50 = at(0.5);
    report.search_ms_p95 = at(0.95);
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gold_tables_are_the_relations_of_the_sql_without_ctes() {
        let t = gold_tables(
            "WITH best AS (SELECT id FROM Singer) SELECT s.name FROM singer AS s \
             JOIN concert c ON c.id = s.id WHERE s.id IN (SELECT id FROM best)",
        )
        .unwrap();
        assert_eq!(t.into_iter().collect::<Vec<_>>(), vec!["concert", "singer"]);
        assert!(gold_tables("SELEC nonsense").is_none());
    }
}
