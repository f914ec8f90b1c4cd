//! Start-up: which databases to serve and how to open them, the knowledge base loaded and
//! checked, the vector index synced, the LLM and the session store opened.
//!
//! This is the one part of the engine that knows the concrete warehouses (SQLite files, the
//! demo database, BigQuery datasets); everything after [`Engine::build`] sees only the
//! [`Warehouse`] trait. A new warehouse is a [`Source`] variant here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::RwLock;

use super::databases::{tables_file, Database};
use super::knowledge_check;
use super::{cache, Engine, ExamplesCheck, RecentAnswers, Stats, CHINOOK_DATABASE, DEMO_DATABASE};
use crate::conversation::SessionStore;
use crate::knowledge::files::{self, LoadIssue};
use crate::knowledge::KnowledgeBase;
use crate::replication::Replication;
use crate::retrieval::Retriever;
use crate::settings::Settings;
use crate::sql::llm::LlmGenerator;
use crate::warehouse::bigquery::{BigQueryClient, DatasetRef};
use crate::warehouse::{BigQueryWarehouse, ExecutionLimits, SqliteWarehouse, Warehouse};

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
        // Replicas: the knowledge files are brought up to the shared change log before they
        // are loaded, so that the sync below finds the shared index as the others left it.
        let replication = match &settings.qdrant_url {
            Some(url) if !url.trim().is_empty() => {
                let replication = Replication::open(settings.qdrant_server(url))?;
                crate::knowledge::curation::replay(&replication, &settings.knowledge_dir)?;
                Some(Arc::new(replication))
            }
            _ => None,
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
            let mut db = Database::open(
                &name,
                warehouse,
                kb,
                limits,
                &tables_source,
                issues,
                check_examples,
            )?;
            // semantic layer (#11)
            let mut semantic_issues = Vec::new();
            db.semantic = knowledge_check::semantic_layer(
                &settings.knowledge_dir,
                &db,
                limits,
                &mut semantic_issues,
            );
            issues.extend(semantic_issues.iter().cloned());
            db.semantic_issues = semantic_issues;
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
        // a domain folder no served database uses is said, not ignored (#12)
        let served: Vec<String> = databases.keys().cloned().collect();
        for d in domains
            .iter()
            .filter(|d| !databases.contains_key(&d.domain))
        {
            let message = match served.iter().find(|n| n.eq_ignore_ascii_case(&d.domain)) {
                Some(n) => format!(
                    "the folder '{}' is not used: the database is named '{n}' (a folder's name \
                     must be the database's, case included)",
                    d.domain
                ),
                None => format!(
                    "the folder '{}' matches no served database (served: {}): its knowledge \
                     is not used",
                    d.domain,
                    served.join(", ")
                ),
            };
            load_issues
                .entry(d.domain.clone())
                .or_default()
                .push(LoadIssue {
                    source: settings.knowledge_dir.join(&d.domain).display().to_string(),
                    message,
                });
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
        let sessions = match &replication {
            Some(replication) => SessionStore::shared(replication.clone(), settings.session_turns),
            None => SessionStore::open(
                &settings.data_dir.join("state.sqlite"),
                settings.session_turns,
            )?,
        };
        Ok(Self {
            databases: RwLock::new(databases),
            recent: RecentAnswers::default(),
            retriever,
            limits,
            min_confidence: settings.min_confidence,
            semantic_answers: settings.semantic != "show",
            load_issues: RwLock::new(load_issues),
            knowledge_dir: settings.knowledge_dir.clone(),
            stats: Stats::default(),
            started: Instant::now(),
            llm,
            sessions,
            replication,
            cache: cache::AnswerCache::new(
                std::time::Duration::from_secs(settings.ops.cache_ttl_s),
                settings.ops.cache_max_mb.saturating_mul(1 << 20),
            ),
            versions: cache::KnowledgeVersions::default(),
            reload_lock: parking_lot::Mutex::new(()),
            examples_check: RwLock::new(ExamplesCheck::default()),
        })
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
        let mut found = vec![(DEMO_DATABASE.to_string(), settings.demo_db.clone())];
        // Chinook, shipped next to the demo database (#11): a second domain out of the box
        if let Some(chinook) = settings
            .demo_db
            .parent()
            .map(|d| {
                d.join(CHINOOK_DATABASE)
                    .join(format!("{CHINOOK_DATABASE}.sqlite"))
            })
            .filter(|p| p.is_file())
        {
            found.push((CHINOOK_DATABASE.to_string(), chinook));
        }
        return Ok(found);
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
