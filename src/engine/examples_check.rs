//! The check of the curated examples, off the start-up path: `serve` builds the engine without
//! running them (the first answer comes sooner), then runs every unchecked example on a
//! background thread. An example that fails leaves the knowledge (and the vector index) with an
//! issue naming its file and line, as a check at start-up would; `/api/health` says when the
//! check finished (`examples_check`).

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use super::databases::{example_without_rows, failing_example};
use super::{Database, Engine};
use crate::error::QuerentResult;
use crate::knowledge::KnowledgeBase;

/// Where the check of the examples is.
#[derive(Debug, Clone, Serialize)]
pub struct ExamplesCheck {
    /// `at_start` (checked while the engine was built), `pending`, `running` or `done`.
    pub state: &'static str,
    /// Examples run by the background check.
    pub checked: usize,
    /// Of those, the ones that failed (now knowledge issues).
    pub failing: usize,
    /// Milliseconds from the engine being ready to the check's end (`done` only).
    pub finished_after_ms: Option<u64>,
}

impl Default for ExamplesCheck {
    fn default() -> Self {
        Self {
            state: "at_start",
            checked: 0,
            failing: 0,
            finished_after_ms: None,
        }
    }
}

impl Engine {
    /// Where the examples' check is.
    pub fn examples_check(&self) -> ExamplesCheck {
        self.examples_check.read().clone()
    }

    /// Runs the check of every database's unchecked examples on a new thread.
    pub fn check_examples_in_background(self: &Arc<Self>) -> std::thread::JoinHandle<()> {
        self.examples_check.write().state = "pending";
        let engine = self.clone();
        std::thread::Builder::new()
            .name("examples-check".into())
            .spawn(move || {
                if let Err(e) = engine.check_examples() {
                    tracing::error!(error = %e, "the examples' check failed");
                }
            })
            .expect("a thread for the examples' check")
    }

    /// Runs every example whose SQL was not run yet against its database; failing ones leave
    /// the knowledge and the index, with an issue each. Holds the reload lock per database, so
    /// a curation write waits for it (and a write that came first has checked them already).
    pub fn check_examples(&self) -> QuerentResult<()> {
        let started = Instant::now();
        self.examples_check.write().state = "running";
        let names: Vec<String> = self.databases.read().keys().cloned().collect();
        let (mut checked, mut failing) = (0, 0);
        for name in names {
            let _reloading = self.reload_lock.lock();
            let db = self.database(Some(&name))?;
            let mut checked_sql = db.checked_sql.clone();
            let mut issues = Vec::new();
            for example in &db.knowledge.examples {
                if checked_sql.contains_key(&example.sql) {
                    continue;
                }
                let ran = self
                    .run_guarded(&db, &example.sql)
                    .map(|(_, rows)| rows.rows.len())
                    .map_err(|e| e.to_string());
                if ran == Ok(0) {
                    issues.push(example_without_rows(example));
                }
                checked += 1;
                if let Err(e) = &ran {
                    failing += 1;
                    issues.push(failing_example(example, e));
                }
                checked_sql.insert(example.sql.clone(), ran);
            }
            let kept: Vec<_> = db
                .knowledge
                .examples
                .iter()
                .filter(|e| matches!(checked_sql.get(&e.sql), Some(Ok(_))))
                .cloned()
                .collect();
            let removed = kept.len() != db.knowledge.examples.len();
            let next = Database {
                name: db.name.clone(),
                warehouse: db.warehouse.clone(),
                schema: db.schema.clone(),
                docs: db.docs.clone(),
                knowledge: KnowledgeBase {
                    examples: kept,
                    ..db.knowledge.clone()
                },
                values: db.values.clone(),
                prepared: db.prepared.clone(),
                table_names: db.table_names.clone(),
                semantic: db.semantic.clone(),
                checked_sql,
                semantic_issues: db.semantic_issues.clone(),
                vocabulary: std::sync::OnceLock::new(),
            };
            if removed {
                self.retriever
                    .sync(&name, &next.knowledge_for_index().index_items())?;
            }
            self.databases.write().insert(name.clone(), Arc::new(next));
            if !issues.is_empty() {
                for issue in &issues {
                    tracing::warn!(source = %issue.source, "{}", issue.message);
                }
                self.load_issues
                    .write()
                    .entry(name.clone())
                    .or_default()
                    .extend(issues);
            }
            if removed {
                self.knowledge_changed(&name);
            }
        }
        let elapsed = started.elapsed().as_millis() as u64;
        tracing::info!(checked, failing, elapsed_ms = elapsed, "examples checked");
        *self.examples_check.write() = ExamplesCheck {
            state: "done",
            checked,
            failing,
            finished_after_ms: Some(self.started.elapsed().as_millis() as u64),
        };
        Ok(())
    }
}
