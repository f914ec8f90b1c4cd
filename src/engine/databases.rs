//! One served database as the pipeline sees it: its warehouse (through the [`Warehouse`] trait
//! only), schema, table docs merged over introspection, checked examples, value index and the
//! pattern engine's prepared lexicon. Opened once at start-up ([`Database::open`]); rebuilt
//! whole when curation changes its knowledge ([`Database::with_knowledge`]).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use super::knowledge_check;
use crate::error::QuerentResult;
use crate::knowledge::files::{self, LoadIssue};
use crate::knowledge::{introspect, Example, KnowledgeBase, TableDoc, ValueIndex};
use crate::question::spelling::Vocabulary;
use crate::sql::{guard, pattern};
use crate::warehouse::{CancellationToken, ExecutionLimits, Schema, Warehouse};

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
    /// The names the guard accepts: the tables' own, then their aliases.
    pub(super) table_names: Vec<String>,
    /// The semantic layer (#11): the curated `semantic.yml`, else the inferred model.
    pub semantic: Option<Arc<crate::semantic::SemanticLayer>>,
    /// Example SQL already run against this database: `Ok` with its number of rows when it
    /// ran, else the error. A knowledge reload runs only SQL it has not seen.
    pub(super) checked_sql: HashMap<String, Result<usize, String>>,
    /// The issues of the semantic model, found when it was last loaded (at start-up, or by a
    /// knowledge reload whose semantic model changed).
    pub(super) semantic_issues: Vec<LoadIssue>,
    /// The words a typed slip may be read as ([`Database::vocabulary`]), built at the first
    /// question this knowledge answers.
    pub(super) vocabulary: OnceLock<Vocabulary>,
}

impl Database {
    /// Opens one database: introspection, docs merged, examples checked (a failing one is left
    /// out and reported in `issues`; all kept unchecked when not `check_examples`, for
    /// [`Engine::check_examples`](super::Engine::check_examples) to run later), value index and
    /// pattern lexicon built.
    pub(super) fn open(
        name: &str,
        warehouse: Arc<dyn Warehouse>,
        knowledge: KnowledgeBase,
        limits: ExecutionLimits,
        tables_source: &str,
        issues: &mut Vec<LoadIssue>,
        check_examples: bool,
    ) -> anyhow::Result<Database> {
        let schema = warehouse.introspect()?;
        // Docs of unknown tables are left out of the merge; the check below reports them.
        let (docs, _) = introspect::merge(&knowledge.tables, introspect::table_docs(&schema));
        issues.extend(knowledge_check::doc_issues(
            &schema,
            name,
            &knowledge.tables,
            tables_source,
        ));
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
            .and_then(|v| warehouse.run(&v, limits, &CancellationToken::new()));
            let checked = checked
                .map(|rows| rows.rows.len())
                .map_err(|e| e.to_string());
            match &checked {
                Ok(rows) => {
                    if *rows == 0 {
                        issues.push(example_without_rows(example));
                    }
                    kept.push(example.clone());
                }
                Err(e) => issues.push(failing_example(example, e)),
            }
            checked_sql.insert(example.sql.clone(), checked);
        }
        issues.extend(knowledge_check::rule_issues(
            &schema,
            name,
            &knowledge.rules,
            |sql| {
                guard::validate(sql, warehouse.dialect(), &table_names, limits.max_rows)
                    .and_then(|v| warehouse.run(&v, limits, &CancellationToken::new()))
                    .map(|rows| rows.rows.len())
            },
        ));
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
            semantic: None,
            checked_sql,
            semantic_issues: Vec::new(),
            vocabulary: OnceLock::new(),
        })
    }

    /// This database with `knowledge` instead of its own: table docs merged over introspection
    /// again, examples whose SQL was not seen before run with `run` (those that fail are left
    /// out, as at load), the pattern lexicon rebuilt; the problems found go to `issues`.
    pub(super) fn with_knowledge(
        &self,
        knowledge: KnowledgeBase,
        tables_source: &str,
        issues: &mut Vec<LoadIssue>,
        run: impl Fn(&str) -> QuerentResult<usize>,
    ) -> Database {
        let (docs, _) = introspect::merge(&knowledge.tables, introspect::table_docs(&self.schema));
        issues.extend(knowledge_check::doc_issues(
            &self.schema,
            &self.name,
            &knowledge.tables,
            tables_source,
        ));
        issues.extend(knowledge_check::rule_issues(
            &self.schema,
            &self.name,
            &knowledge.rules,
            &run,
        ));
        // The semantic layer and its issues are the caller's to keep or rebuild
        // (`Engine::reload_knowledge`).
        let mut checked_sql = self.checked_sql.clone();
        let mut kept = Vec::with_capacity(knowledge.examples.len());
        for example in &knowledge.examples {
            let ran = checked_sql
                .entry(example.sql.clone())
                .or_insert_with(|| run(&example.sql).map_err(|e| e.to_string()));
            match ran {
                Ok(rows) => {
                    if *rows == 0 {
                        issues.push(example_without_rows(example));
                    }
                    kept.push(example.clone());
                }
                Err(e) => issues.push(failing_example(example, e)),
            }
        }
        let prepared = Arc::new(pattern::Prepared::build(&self.schema, &docs));
        Database {
            name: self.name.clone(),
            warehouse: self.warehouse.clone(),
            schema: self.schema.clone(),
            prepared,
            docs,
            knowledge: KnowledgeBase {
                examples: kept,
                ..knowledge
            },
            values: self.values.clone(),
            table_names: self.table_names.clone(),
            semantic: self.semantic.clone(),
            checked_sql,
            semantic_issues: self.semantic_issues.clone(),
            vocabulary: OnceLock::new(),
        }
    }

    /// The vocabulary of this database for reading slips of typing
    /// ([`crate::question::spelling`]): names and synonyms of its tables, columns and semantic
    /// model are what a slip reads as; descriptions, rules and example questions are known words.
    pub fn vocabulary(&self) -> &Vocabulary {
        self.vocabulary.get_or_init(|| {
            let mut targets: Vec<&str> = Vec::new();
            let mut known: Vec<&str> = Vec::new();
            for t in &self.schema.tables {
                targets.push(&t.name);
                targets.extend(t.columns.iter().map(|c| c.name.as_str()));
            }
            for d in &self.docs {
                targets.extend(d.synonyms.iter().map(String::as_str));
                known.push(&d.description);
                for c in &d.columns {
                    targets.extend(c.synonyms.iter().map(String::as_str));
                    known.push(&c.description);
                }
            }
            let semantic_words: Vec<&str> = self
                .semantic
                .as_ref()
                .map(|l| l.lexicon.written_phrases().collect())
                .unwrap_or_default();
            targets.extend(semantic_words);
            for r in &self.knowledge.rules {
                targets.extend(r.keywords.iter().map(String::as_str));
                known.push(&r.name);
                known.push(&r.description);
            }
            known.extend(self.knowledge.examples.iter().map(|e| e.question.as_str()));
            Vocabulary::new(targets, known)
        })
    }

    /// The knowledge that is indexed: the curated items, with the merged table docs.
    pub(super) fn knowledge_for_index(&self) -> KnowledgeBase {
        KnowledgeBase {
            tables: self.docs.clone(),
            ..self.knowledge.clone()
        }
    }
}

/// The file the table docs of `domain` are read from (named in knowledge issues).
pub(super) fn tables_file(knowledge_dir: &Path, domain: &str) -> String {
    knowledge_dir
        .join(domain)
        .join(files::TABLES_FILE)
        .display()
        .to_string()
}

/// An example whose SQL runs but returns no rows: kept (it may hold again when the data
/// grows), reported as a write through the API would refuse it.
pub(super) fn example_without_rows(example: &Example) -> LoadIssue {
    LoadIssue {
        source: example.source.clone(),
        message: format!(
            "example '{}' runs but returns no rows (a write through the API would be refused)",
            example.question
        ),
    }
}

pub(super) fn failing_example(example: &Example, error: &str) -> LoadIssue {
    LoadIssue {
        source: example.source.clone(),
        message: format!("example '{}' does not run: {error}", example.question),
    }
}
