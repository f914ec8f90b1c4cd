//! Checks of the curated knowledge as it is loaded from the files, as strict as a curation
//! write through the API (#12), by the same functions ([`crate::knowledge::validate`]): a table
//! doc must name a table of the database and columns, keys and display columns of it; a rule
//! must name a table of the database and its SQL must run where the generators put it; each
//! metric of a curated semantic model must compile alone and run, each of its semantic models
//! name a table and columns of the database, each named filter's condition run. What fails is a knowledge
//! issue at the item's file and line (shown by `/api/health` and the `/knowledge` page); the
//! item still loads, so that one bad line does not take a domain's knowledge away. A semantic
//! model that does not load at all is an issue too, and the model inferred from the schema is
//! used instead.

use std::path::Path;
use std::sync::Arc;

use super::Database;
use crate::error::{QuerentError, QuerentResult};
use crate::knowledge::files::{self, LoadIssue};
use crate::knowledge::{validate, BusinessRule, TableDoc};
use crate::semantic::{self, ManifestError, SemanticLayer, SemanticManifest};
use crate::warehouse::{CancellationToken, ExecutionLimits, Schema};

/// Issues of curated table docs (`docs` of database `database`, read from the file at
/// `tables_source`) that name a table, column, key or display column `schema` does not have,
/// each at the line of its doc.
pub(super) fn doc_issues(
    schema: &Schema,
    database: &str,
    docs: &[TableDoc],
    tables_source: &str,
) -> Vec<LoadIssue> {
    let sources = files::item_sources(Path::new(tables_source), "models", "name");
    let mut issues = Vec::new();
    for doc in docs {
        let source = sources
            .iter()
            .find(|(name, _)| name.trim().eq_ignore_ascii_case(doc.name.trim()))
            .map_or(tables_source, |(_, source)| source.as_str());
        for error in validate::table_doc(schema, database, doc) {
            issues.push(LoadIssue {
                source: source.to_string(),
                message: format!("table doc '{}': {}", doc.name, reason(&error)),
            });
        }
    }
    issues
}

/// Issues of business rules of database `database` that a write would refuse: an unknown
/// table, SQL without a table, SQL that does not run (each checked with `run`, the guard and
/// the warehouse; the probe reads no row), each at the rule's line.
pub(super) fn rule_issues(
    schema: &Schema,
    database: &str,
    rules: &[BusinessRule],
    run: impl Fn(&str) -> QuerentResult<usize>,
) -> Vec<LoadIssue> {
    rules
        .iter()
        .filter_map(|rule| {
            let error = validate::rule(schema, database, rule, &run).err()?;
            Some(LoadIssue {
                source: rule.source.clone(),
                message: format!("rule '{}': {}", rule.name, reason(&error)),
            })
        })
        .collect()
}

/// The semantic layer of `db` (#11): its curated `semantic.yml` (as read into its knowledge,
/// [`crate::knowledge::KnowledgeBase::semantic`]) with every metric, model and filter checked, or
/// the model inferred from the schema (also when the curated one does not load, with an issue
/// naming where it fails); the reference date of relative periods set.
pub(super) fn semantic_layer(
    knowledge_dir: &Path,
    db: &Database,
    limits: ExecutionLimits,
    issues: &mut Vec<LoadIssue>,
) -> Option<Arc<SemanticLayer>> {
    let run = |sql: &str, max_rows: usize| {
        let v =
            crate::sql::guard::validate(sql, db.warehouse.dialect(), &db.table_names, max_rows)?;
        db.warehouse.run(&v, limits, &CancellationToken::new())
    };
    let first_cell = |sql: &str| {
        let rows = run(sql, 1).ok()?;
        rows.rows.first()?.first()?.as_str().map(str::to_string)
    };
    let path = knowledge_dir
        .join(&db.name)
        .join(crate::semantic::SEMANTIC_FILE);
    let loaded = db.knowledge.semantic.clone();
    let layer = match semantic::layer_of(loaded, &db.schema, first_cell)? {
        Ok(layer) => layer,
        Err(e) => {
            let (source, message) = manifest_issue(&path, &e);
            issues.push(LoadIssue {
                source,
                message: format!(
                    "the semantic model does not load ({message}); the model inferred from the \
                     schema is used instead"
                ),
            });
            let inferred = semantic::infer::infer(&db.schema);
            SemanticLayer::new(inferred, |m| {
                let sql = SemanticLayer::latest_date_sql(m, &db.schema)?;
                let text = first_cell(&sql)?;
                chrono::NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d").ok()
            })
        }
    };
    if !layer.manifest.inferred {
        // A probe of each metric that reads no row, bounded by one row and the query timeout.
        let started = std::time::Instant::now();
        let probe = |sql: &str| run(sql, 1).map(|rows| rows.rows.len());
        let mut found = model_issues(&path, &layer.manifest, db, probe);
        found.extend(metric_issues(&path, &layer.manifest, db, probe));
        tracing::info!(
            database = %db.name,
            metrics = layer.manifest.metrics.len(),
            failing = found.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "semantic model checked"
        );
        issues.extend(found);
    }
    Some(Arc::new(layer))
}

/// Issues of the metrics of `manifest` (read from `path`) whose SQL, compiled alone, does not
/// compile or run with `run`, each at the metric's line.
fn metric_issues(
    path: &Path,
    manifest: &SemanticManifest,
    db: &Database,
    run: impl Fn(&str) -> QuerentResult<usize>,
) -> Vec<LoadIssue> {
    let failures = validate::metric_failures(manifest, &db.schema, db.warehouse.dialect(), run);
    if failures.is_empty() {
        return Vec::new();
    }
    let sources = files::item_sources(path, "metrics", "name");
    failures
        .into_iter()
        .map(|(metric, why)| LoadIssue {
            source: sources
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(&metric))
                .map_or_else(|| path.display().to_string(), |(_, s)| s.clone()),
            message: format!("metric '{metric}': {why}"),
        })
        .collect()
}

/// Issues of the semantic models and named filters of `manifest` (read from `path`) that a
/// curation write would refuse ([`validate::semantic_model`], [`validate::named_filter`]), each
/// at the item's line.
fn model_issues(
    path: &Path,
    manifest: &SemanticManifest,
    db: &Database,
    run: impl Fn(&str) -> QuerentResult<usize>,
) -> Vec<LoadIssue> {
    let at = |list: &str, name: &str| {
        files::item_sources(path, list, "name")
            .into_iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map_or_else(|| path.display().to_string(), |(_, s)| s)
    };
    let mut issues = Vec::new();
    for model in &manifest.semantic_models {
        for error in validate::semantic_model(&db.schema, &db.name, model, &run) {
            issues.push(LoadIssue {
                source: at("semantic_models", &model.name),
                message: format!("semantic model '{}': {}", model.name, reason(&error)),
            });
        }
    }
    for filter in &manifest.filters {
        if let Err(error) = validate::named_filter(&db.schema, &db.name, manifest, filter, &run) {
            issues.push(LoadIssue {
                source: at("filters", &filter.name),
                message: format!("filter '{}': {}", filter.name, reason(&error)),
            });
        }
    }
    issues
}

/// Where a manifest error points (`path:line` of the metric, semantic model or filter it
/// names, or of the YAML error; else the file) and what it says without the file.
fn manifest_issue(path: &Path, error: &ManifestError) -> (String, String) {
    let shown = path.display().to_string();
    let at = error
        .path
        .strip_prefix(&format!("{shown}: "))
        .unwrap_or(&error.path);
    let message = format!("{at}: {}", error.message);
    let named = ["metrics", "semantic_models", "filters"]
        .into_iter()
        .find_map(|list| {
            let name = at.strip_prefix(list)?.strip_prefix('[')?;
            let name = &name[..name.find(']')?];
            files::item_sources(path, list, "name")
                .into_iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, source)| source)
        });
    let source = named
        .or_else(|| {
            // A YAML or shape error: the parser's own line.
            let text = std::fs::read_to_string(path).ok()?;
            let e = serde_norway::from_str::<SemanticManifest>(&text).err()?;
            Some(format!("{shown}:{}", e.location()?.line()))
        })
        .unwrap_or(shown);
    (source, message)
}

/// What an invalid item's error says: the message of `invalid_knowledge`, else the error.
fn reason(error: &QuerentError) -> String {
    match error {
        QuerentError::InvalidKnowledge { message, .. } => message.clone(),
        other => other.to_string(),
    }
}
