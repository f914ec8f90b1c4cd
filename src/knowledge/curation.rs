//! Curation: create, read, update, delete and revert knowledge items (table docs, examples,
//! business rules, and the semantic model's semantic models, metrics and named filters) at run
//! time, safely.
//!
//! [`Curator`] is the whole surface. Every item has an **id** (a short hash of its database,
//! kind and key: the table name, the example's question, the rule's name — so changing the key
//! gives the item a new id, which the write returns) and a **version** (a short hash of the item
//! as it stands in the knowledge files; `0` for a table nobody has documented yet). A write
//! names the version it edits and fails with `version_conflict` when the item moved on.
//!
//! One write at a time, in this order: read the domain's files (the source of truth, so hand
//! edits count), check the version, validate the new item against the database (examples must
//! run and return rows; docs and rules must name tables and columns that exist; rule SQL must
//! run), write the kind's new file beside the old one (synced), append the change to the
//! [`AuditLog`] (synced), rename the new file into place (and sync the folder), then read the
//! domain back and [`Engine::reload_knowledge`] re-embeds only what changed and swaps the
//! knowledge in (with the domain's current issues, for health), so the next question sees it.
//! A write is acknowledged only after all of that.
//!
//! The semantic kinds are items of one file, `semantic.yml`, keyed by their `name`; a write
//! replaces the kind's list and keeps the rest of the file ([`files::prepare_kind`]), and is
//! checked as a whole model: every reference resolves, the changed semantic models and filters
//! name tables and columns that exist, and no metric stops compiling and running
//! ([`validate::semantic_write`]). The reload then rebuilds the domain's semantic layer, so the
//! next question reads the new model. A domain without `semantic.yml` serves the model inferred
//! from its schema: its items are listed as not curated (like table docs nobody wrote), and the
//! first write of a semantic item starts `semantic.yml` from that inferred model (so a new
//! metric can use the inferred measures), which from then on is the curated model, answering
//! questions like any curated one. (A replica replaying that first change from the shared log
//! onto a folder without `semantic.yml` starts its file from the change alone.)
//!
//! Logging before the rename means no file change is ever without its log line. A change
//! logged but not renamed (the rename failed, or the process died in between) gets a
//! `not_applied` entry: at once when the rename fails, at the next start-up
//! ([`super::reconcile`]) when the process died.
//!
//! With a Qdrant server the change log is the replicas' shared one ([`crate::replication`]):
//! a write first applies the changes other replicas recorded ([`Curator::catch_up`]), takes the
//! next change number (if another replica took it meanwhile, it catches up and runs again from
//! the top, so the version check sees the other write), and after the rename moves the
//! domain's shared knowledge version; [`Curator::watch_replicas`] polls those versions and
//! applies the others' changes to this replica's files and knowledge. The local
//! reconciliation is then not needed: the shared log is the truth the files are brought to.
//!
//! Suggested examples from feedback live apart ([`super::suggestions`]) and are used for
//! answering only once approved here. HTTP lives in `server::knowledge`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::audit::{AuditEntry, AuditLog, Change, SeqTaken};
use super::files::{self, EXAMPLES_FILE, RULES_FILE, TABLES_FILE};
use super::reconcile::{self, NOT_APPLIED};
use super::suggestions::{self, Suggestion};
use super::validate;
use super::{BusinessRule, Example, ItemKind, KnowledgeBase, TableDoc};
use crate::engine::{Database, Engine};
use crate::error::{QuerentError, QuerentResult};
use crate::replication::Replication;
use crate::semantic::model::{Metric, NamedFilter, SemanticModel};
use crate::semantic::{self, MetricQuery, SemanticManifest};

/// Where a rule's SQL is checked (moved to [`super::validate`], shared with loading).
pub use super::validate::rule_probe;

/// The version of an item that is not in the knowledge files.
pub const ABSENT_VERSION: &str = "0";

/// One knowledge item as the API shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ItemView {
    pub id: String,
    pub version: String,
    pub kind: ItemKind,
    pub database: String,
    /// False for a table doc that only introspection wrote, or a semantic item of a model
    /// inferred from the schema (nobody curated it yet).
    pub curated: bool,
    /// The item: a table doc, an example, a business rule, a semantic model, a metric or a
    /// named filter (for tables, merged with introspection: column types and sample values
    /// filled in).
    pub item: serde_json::Value,
    /// A metric's SQL: the metric compiled alone (no group-by, no period) for the database's
    /// dialect, for a preview of its value; absent for the other kinds and for a metric that
    /// does not compile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
}

/// The result of a write: the item after it (absent after a delete) and the recorded change.
#[derive(Debug, Clone, Serialize)]
pub struct WriteOutcome {
    pub item: Option<ItemView>,
    pub change: AuditEntry,
    /// Items re-embedded by the write (the others kept their vectors).
    pub embedded: usize,
    /// Milliseconds from the start of the write until the knowledge was swapped in.
    pub elapsed_ms: f64,
}

/// What a write expects to find before it.
#[derive(Clone)]
enum Expect {
    /// A create: nothing with the new item's id.
    Absent,
    /// An update or delete: the item at this version.
    Version(String),
    /// A revert: exactly this item (or its absence).
    Exactly(Option<serde_json::Value>),
}

/// The stable id of an item: 16 hex digits of SHA-256(database, kind, normalised key).
pub fn item_id(database: &str, kind: ItemKind, key: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(database.as_bytes());
    hasher.update([0u8]);
    hasher.update(kind.collection().as_bytes());
    hasher.update([0u8]);
    hasher.update(normalise(key).as_bytes());
    hex::encode(&hasher.finalize()[..8])
}

/// The version of an item as stored: 12 hex digits of SHA-256 of its JSON, or
/// [`ABSENT_VERSION`].
pub fn version_of(item: Option<&serde_json::Value>) -> String {
    match item {
        None => ABSENT_VERSION.to_string(),
        Some(v) => hex::encode(&Sha256::digest(v.to_string().as_bytes())[..6]),
    }
}

fn normalise(key: &str) -> String {
    key.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A kind of curated item, with its list in a [`KnowledgeBase`] and its validation.
trait Curated: Serialize + DeserializeOwned + Clone {
    const KIND: ItemKind;
    fn key(&self) -> &str;
    fn items(kb: &KnowledgeBase) -> &[Self];
    fn items_mut(kb: &mut KnowledgeBase) -> &mut Vec<Self>;
    /// Trims the key and fills defaults; errors name the missing field.
    fn tidy(&mut self) -> QuerentResult<()>;
    /// Checks the item alone against the database.
    fn validate(&self, engine: &Engine, db: &Database) -> QuerentResult<()>;
    /// Checks the domain's knowledge as a write (a delete too) leaves it (`after`; `before`
    /// is what it changes): the semantic kinds check the whole model.
    fn check_domain(
        _engine: &Engine,
        _db: &Database,
        _before: &KnowledgeBase,
        _after: &KnowledgeBase,
    ) -> QuerentResult<()> {
        Ok(())
    }
}

/// Runs `$body` with the type alias `$t` set to the item type of `$kind` (one generic code
/// path for every kind instead of a `match` per operation).
macro_rules! by_kind {
    ($kind:expr, $t:ident => $body:expr) => {
        match $kind {
            ItemKind::Table => {
                type $t = TableDoc;
                $body
            }
            ItemKind::Example => {
                type $t = Example;
                $body
            }
            ItemKind::Rule => {
                type $t = BusinessRule;
                $body
            }
            ItemKind::SemanticModel => {
                type $t = SemanticModel;
                $body
            }
            ItemKind::Metric => {
                type $t = Metric;
                $body
            }
            ItemKind::Filter => {
                type $t = NamedFilter;
                $body
            }
        }
    };
}

fn invalid(message: String, details: serde_json::Value) -> QuerentError {
    QuerentError::InvalidKnowledge { message, details }
}

fn required(field: &str, value: &mut String) -> QuerentResult<()> {
    *value = value.trim().to_string();
    if value.is_empty() {
        return Err(invalid(
            format!("'{field}' is required and must not be empty"),
            serde_json::json!({ "field": field }),
        ));
    }
    Ok(())
}

/// The largest curated item, serialised as JSON, in bytes (harden, #13): an example, a table
/// doc or a rule is a few kilobytes; a larger one would be embedded and searched at a cost.
pub const MAX_ITEM_BYTES: usize = 32 * 1024;

/// The longest name (a rule's or a table's name; an example's question), in characters.
pub const MAX_NAME_CHARS: usize = 2000;

/// Refuses an item over [`MAX_ITEM_BYTES`], and a name (its key) that is too long or holds
/// control characters or bidirectional overrides, which would garble the lists and the change
/// log it is shown in.
fn check_size_and_name<T: Curated>(item: &T) -> QuerentResult<()> {
    let size = serde_json::to_vec(item).map(|v| v.len()).unwrap_or(0);
    if size > MAX_ITEM_BYTES {
        return Err(invalid(
            format!("the item is {size} bytes long; the limit is {MAX_ITEM_BYTES}"),
            serde_json::json!({ "size": size, "limit": MAX_ITEM_BYTES }),
        ));
    }
    let field = match T::KIND {
        ItemKind::Example => "question",
        _ => "name",
    };
    let name = item.key();
    let length = name.chars().count();
    if length > MAX_NAME_CHARS {
        return Err(invalid(
            format!("'{field}' is {length} characters long; the limit is {MAX_NAME_CHARS}"),
            serde_json::json!({ "field": field, "length": length, "limit": MAX_NAME_CHARS }),
        ));
    }
    let bidi = |c: char| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    if let Some(c) = name.chars().find(|&c| c.is_control() || bidi(c)) {
        return Err(invalid(
            format!(
                "'{field}' holds the control character U+{:04X}; names are plain text",
                c as u32
            ),
            serde_json::json!({ "field": field, "character": format!("U+{:04X}", c as u32) }),
        ));
    }
    Ok(())
}

/// Runs `sql` on `db` through the guard and gives its number of rows (for [`validate`]).
fn runner<'a>(engine: &'a Engine, db: &'a Database) -> impl Fn(&str) -> QuerentResult<usize> + 'a {
    move |sql| {
        engine
            .run_sql(Some(&db.name), sql)
            .map(|(_, rows)| rows.rows.len())
    }
}

impl Curated for Example {
    const KIND: ItemKind = ItemKind::Example;
    fn key(&self) -> &str {
        &self.question
    }
    fn items(kb: &KnowledgeBase) -> &[Self] {
        &kb.examples
    }
    fn items_mut(kb: &mut KnowledgeBase) -> &mut Vec<Self> {
        &mut kb.examples
    }
    fn tidy(&mut self) -> QuerentResult<()> {
        required("question", &mut self.question)?;
        required("sql", &mut self.sql)
    }
    fn validate(&self, engine: &Engine, db: &Database) -> QuerentResult<()> {
        validate::example(&db.name, self, runner(engine, db))
    }
}

impl Curated for TableDoc {
    const KIND: ItemKind = ItemKind::Table;
    fn key(&self) -> &str {
        &self.name
    }
    fn items(kb: &KnowledgeBase) -> &[Self] {
        &kb.tables
    }
    fn items_mut(kb: &mut KnowledgeBase) -> &mut Vec<Self> {
        &mut kb.tables
    }
    fn tidy(&mut self) -> QuerentResult<()> {
        required("name", &mut self.name)?;
        for (i, c) in self.columns.iter_mut().enumerate() {
            required(&format!("columns[{i}].name"), &mut c.name)?;
        }
        Ok(())
    }
    fn validate(&self, _engine: &Engine, db: &Database) -> QuerentResult<()> {
        validate::first(validate::table_doc(&db.schema, &db.name, self))
    }
}

impl Curated for BusinessRule {
    const KIND: ItemKind = ItemKind::Rule;
    fn key(&self) -> &str {
        &self.name
    }
    fn items(kb: &KnowledgeBase) -> &[Self] {
        &kb.rules
    }
    fn items_mut(kb: &mut KnowledgeBase) -> &mut Vec<Self> {
        &mut kb.rules
    }
    fn tidy(&mut self) -> QuerentResult<()> {
        required("name", &mut self.name)?;
        self.kind = self.kind.trim().to_lowercase();
        if self.kind.is_empty() {
            self.kind = "note".into();
        }
        self.sql = self
            .sql
            .take()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        self.table = self
            .table
            .take()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        Ok(())
    }
    fn validate(&self, engine: &Engine, db: &Database) -> QuerentResult<()> {
        validate::rule(&db.schema, &db.name, self, runner(engine, db))
    }
}

/// The curated semantic model of `kb`, when `semantic.yml` loaded.
fn manifest(kb: &KnowledgeBase) -> Option<&SemanticManifest> {
    kb.semantic.as_ref().and_then(|m| m.as_ref().ok())
}

/// The curated semantic model of `kb` to change, started empty when there is none (a write
/// starts from the inferred model first, see [`adopted`]).
fn manifest_mut(kb: &mut KnowledgeBase) -> &mut SemanticManifest {
    if manifest(kb).is_none() {
        kb.semantic = Some(Ok(SemanticManifest::default()));
    }
    match &mut kb.semantic {
        Some(Ok(m)) => m,
        _ => unreachable!("set just above"),
    }
}

/// `manifest` (an inferred one) as the start of a curated file: nothing marked inferred.
fn adopted(mut manifest: SemanticManifest) -> SemanticManifest {
    manifest.inferred = false;
    for m in &mut manifest.semantic_models {
        m.inferred = false;
    }
    manifest
}

/// A semantic item's name must be an identifier: derived metrics' expressions and dbt's
/// `Dimension('entity__dimension')` refer to items by name.
fn identifier(field: &str, value: &mut String) -> QuerentResult<()> {
    required(field, value)?;
    let ok = value
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        return Err(invalid(
            format!("'{field}' must be an identifier (letters, digits and '_', as in dbt): '{value}' is not"),
            serde_json::json!({ "field": field, "value": value }),
        ));
    }
    Ok(())
}

/// The whole-model check of a write of `kind` (see [`validate::semantic_write`]).
fn semantic_check(
    kind: ItemKind,
    engine: &Engine,
    db: &Database,
    before: &KnowledgeBase,
    after: &KnowledgeBase,
) -> QuerentResult<()> {
    let (Some(before), Some(after)) = (manifest(before), manifest(after)) else {
        return Ok(());
    };
    validate::semantic_write(
        &db.schema,
        &db.name,
        db.warehouse.dialect(),
        kind,
        before,
        after,
        runner(engine, db),
    )
}

impl Curated for SemanticModel {
    const KIND: ItemKind = ItemKind::SemanticModel;
    fn key(&self) -> &str {
        &self.name
    }
    fn items(kb: &KnowledgeBase) -> &[Self] {
        manifest(kb).map_or(&[], |m| &m.semantic_models)
    }
    fn items_mut(kb: &mut KnowledgeBase) -> &mut Vec<Self> {
        &mut manifest_mut(kb).semantic_models
    }
    fn tidy(&mut self) -> QuerentResult<()> {
        identifier("name", &mut self.name)?;
        required("model", &mut self.model)?;
        self.inferred = false;
        Ok(())
    }
    fn validate(&self, _engine: &Engine, _db: &Database) -> QuerentResult<()> {
        Ok(()) // with the whole model: check_domain
    }
    fn check_domain(
        engine: &Engine,
        db: &Database,
        before: &KnowledgeBase,
        after: &KnowledgeBase,
    ) -> QuerentResult<()> {
        semantic_check(Self::KIND, engine, db, before, after)
    }
}

impl Curated for Metric {
    const KIND: ItemKind = ItemKind::Metric;
    fn key(&self) -> &str {
        &self.name
    }
    fn items(kb: &KnowledgeBase) -> &[Self] {
        manifest(kb).map_or(&[], |m| &m.metrics)
    }
    fn items_mut(kb: &mut KnowledgeBase) -> &mut Vec<Self> {
        &mut manifest_mut(kb).metrics
    }
    fn tidy(&mut self) -> QuerentResult<()> {
        identifier("name", &mut self.name)?;
        self.filter = self
            .filter
            .take()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        Ok(())
    }
    fn validate(&self, _engine: &Engine, _db: &Database) -> QuerentResult<()> {
        Ok(()) // with the whole model: check_domain
    }
    fn check_domain(
        engine: &Engine,
        db: &Database,
        before: &KnowledgeBase,
        after: &KnowledgeBase,
    ) -> QuerentResult<()> {
        semantic_check(Self::KIND, engine, db, before, after)
    }
}

impl Curated for NamedFilter {
    const KIND: ItemKind = ItemKind::Filter;
    fn key(&self) -> &str {
        &self.name
    }
    fn items(kb: &KnowledgeBase) -> &[Self] {
        manifest(kb).map_or(&[], |m| &m.filters)
    }
    fn items_mut(kb: &mut KnowledgeBase) -> &mut Vec<Self> {
        &mut manifest_mut(kb).filters
    }
    fn tidy(&mut self) -> QuerentResult<()> {
        // a named filter is called up by its words ("highly elastic", "on promotion"), not
        // referred to by other items: any non-empty phrase
        required("name", &mut self.name)?;
        required("semantic_model", &mut self.semantic_model)?;
        required("expr", &mut self.expr)
    }
    fn validate(&self, _engine: &Engine, _db: &Database) -> QuerentResult<()> {
        Ok(()) // with the whole model: check_domain
    }
    fn check_domain(
        engine: &Engine,
        db: &Database,
        before: &KnowledgeBase,
        after: &KnowledgeBase,
    ) -> QuerentResult<()> {
        semantic_check(Self::KIND, engine, db, before, after)
    }
}

/// Curation of the knowledge base of every served database; see the module docs.
pub struct Curator {
    engine: Arc<Engine>,
    knowledge_dir: PathBuf,
    data_dir: PathBuf,
    audit: AuditLog,
    /// One write at a time: each reads the files, then writes them.
    writes: Mutex<()>,
}

impl Curator {
    /// The curator of `engine`'s databases, whose knowledge lives in `knowledge_dir`, with the
    /// change log at `<data_dir>/audit/knowledge.jsonl`, reconciled with the files (see
    /// [`super::reconcile`]).
    ///
    /// Errors: the change log cannot be opened or appended to.
    pub fn open(
        engine: Arc<Engine>,
        knowledge_dir: &Path,
        data_dir: &Path,
    ) -> anyhow::Result<Self> {
        let audit = match engine.replication() {
            Some(replication) => AuditLog::shared(replication.clone())?,
            None => {
                let audit = AuditLog::open(&data_dir.join("audit").join("knowledge.jsonl"))?;
                let domains: Vec<String> = engine.databases().into_iter().map(|d| d.name).collect();
                reconcile::reconcile(&audit, knowledge_dir, &domains)?;
                audit
            }
        };
        let curator = Self {
            engine,
            knowledge_dir: knowledge_dir.to_path_buf(),
            data_dir: data_dir.to_path_buf(),
            audit,
            writes: Mutex::new(()),
        };
        curator.catch_up()?;
        Ok(curator)
    }

    /// Applies the changes other replicas recorded since this one's files were last brought
    /// up to the shared log, and reloads the domains they touched; returns how many. Does
    /// nothing without a shared log.
    ///
    /// Errors: the shared log cannot be read, a knowledge file cannot be written, a reload
    /// fails.
    pub fn catch_up(&self) -> QuerentResult<usize> {
        let _one_write_at_a_time = self.writes.lock();
        self.catch_up_locked()
    }

    fn catch_up_locked(&self) -> QuerentResult<usize> {
        let Some(replication) = self.engine.replication() else {
            return Ok(0);
        };
        self.audit.refresh()?;
        let changes = self.audit.after(replication.applied());
        let Some(last) = changes.last().map(|c| c.seq) else {
            return Ok(0);
        };
        let started = std::time::Instant::now();
        let touched = apply_to_files(&self.knowledge_dir, &changes)?;
        for database in &touched {
            if self.engine.database(Some(database)).is_err() {
                continue; // a domain this replica does not serve: its files are enough
            }
            let (kb, issues) = files::load_domain(&self.domain_dir(database), database);
            self.engine.reload_knowledge(database, kb, issues)?;
        }
        replication.set_applied(last);
        tracing::info!(
            changes = changes.len(),
            through = last,
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "applied knowledge changes made through other replicas"
        );
        Ok(changes.len())
    }

    /// With a shared log, starts a thread that every [`crate::replication::POLL_INTERVAL`]
    /// reads the shared knowledge versions and, when one moved past what this replica applied,
    /// catches up ([`Curator::catch_up`]). Every 20th round it reads the log itself, for a
    /// writer that died between recording a change and moving the version. The thread ends
    /// with the curator.
    pub fn watch_replicas(self: &Arc<Self>) {
        let Some(replication) = self.engine.replication().cloned() else {
            return;
        };
        let curator = Arc::downgrade(self);
        let spawned = std::thread::Builder::new()
            .name("replicas".into())
            .spawn(move || {
                for round in 0u64.. {
                    std::thread::sleep(crate::replication::POLL_INTERVAL);
                    let Some(curator) = curator.upgrade() else {
                        return;
                    };
                    let moved = match replication.versions() {
                        Ok(versions) => versions.values().any(|&seq| seq > replication.applied()),
                        Err(e) => {
                            tracing::debug!("cannot read the shared knowledge versions: {e}");
                            false
                        }
                    };
                    if moved || round % 20 == 19 {
                        if let Err(e) = curator.catch_up() {
                            tracing::warn!("cannot apply the other replicas' changes: {e}");
                        }
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start the replicas' watch: {e}");
        }
    }

    /// The engine whose knowledge this curator changes.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    fn domain_dir(&self, database: &str) -> PathBuf {
        self.knowledge_dir.join(database)
    }

    /// The domain's files as they are on disk. With `writing`, a problem in that kind's file
    /// is an error: rewriting the file would lose what could not be read.
    fn read_domain(
        &self,
        database: &str,
        writing: Option<ItemKind>,
    ) -> QuerentResult<KnowledgeBase> {
        let dir = self.domain_dir(database);
        let (kb, issues) = files::load_domain(&dir, database);
        if let (Some(kind), Some(Err(e))) = (writing, &kb.semantic) {
            if kind.is_semantic() {
                return Err(invalid(
                    format!("{e}; fix the file before editing it through the API (a write would drop what could not be read)"),
                    serde_json::json!({ "source": dir.join(files::SEMANTIC_FILE).display().to_string() }),
                ));
            }
        }
        if let Some(kind) = writing {
            let file = dir.join(file_of(kind)).display().to_string();
            if let Some(issue) = issues.iter().find(|i| i.source.starts_with(&file)) {
                return Err(invalid(
                    format!("{issue}; fix the file before editing it through the API (a write would drop what could not be read)"),
                    serde_json::json!({ "source": issue.source }),
                ));
            }
        }
        Ok(kb)
    }

    fn databases(&self, database: Option<&str>) -> QuerentResult<Vec<Arc<Database>>> {
        match database {
            Some(name) => Ok(vec![self.engine.database(Some(name))?]),
            None => self
                .engine
                .databases()
                .into_iter()
                .map(|d| self.engine.database(Some(&d.name)))
                .collect(),
        }
    }

    /// The items of `kind` in `database` (every served database when `None`), keeping those
    /// whose JSON contains every word of `search` (case-insensitive).
    pub fn list(
        &self,
        kind: ItemKind,
        database: Option<&str>,
        search: Option<&str>,
    ) -> QuerentResult<Vec<ItemView>> {
        let words: Vec<String> = search
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        let mut views = Vec::new();
        for db in self.databases(database)? {
            let mut kb = self.read_domain(&db.name, None)?;
            let curated = !kind.is_semantic() || kb.semantic.is_some();
            if kind.is_semantic() && kb.semantic.is_none() {
                kb.semantic = Some(Ok(adopted(semantic::infer::infer(&db.schema))));
            }
            let mut found = match kind {
                ItemKind::Table => table_views(&db, &kb),
                _ => by_kind!(kind, T => views_of::<T>(&db.name, &kb)),
            };
            for view in &mut found {
                view.curated &= curated;
            }
            if let (ItemKind::Metric, Some(manifest)) = (kind, manifest(&kb)) {
                for view in &mut found {
                    view.sql = metric_sql(&db, manifest, &view.item);
                }
            }
            views.extend(found);
        }
        views.retain(|v| {
            let text = v.item.to_string().to_lowercase();
            words.iter().all(|w| text.contains(w))
        });
        Ok(views)
    }

    /// The item of `kind` with this id. Errors: `unknown_item`.
    pub fn get(&self, kind: ItemKind, id: &str) -> QuerentResult<ItemView> {
        self.list(kind, None, None)?
            .into_iter()
            .find(|v| v.id == id)
            .ok_or_else(|| unknown(kind, id))
    }

    /// Creates an item of `kind` in `database` (the first served when `None`) from its JSON.
    ///
    /// Errors: `invalid_knowledge` (422: bad shape, missing field, unknown table or column, SQL
    /// that does not run or returns no rows), `already_exists` (409), `unknown_database`.
    pub fn create(
        &self,
        kind: ItemKind,
        database: Option<&str>,
        item: serde_json::Value,
        who: &str,
    ) -> QuerentResult<WriteOutcome> {
        if database.map(str::trim).filter(|d| !d.is_empty()).is_none() {
            let served: Vec<String> = self
                .engine
                .databases()
                .into_iter()
                .map(|d| d.name)
                .collect();
            if served.len() > 1 {
                return Err(QuerentError::DatabaseRequired {
                    message: format!(
                        "name the database of the new item: {} are served ({})",
                        served.len(),
                        served.join(", ")
                    ),
                    details: serde_json::json!({ "parameter": "database", "known_databases": served }),
                });
            }
        }
        let db = self.engine.database(database)?;
        by_kind!(kind, T => self.write::<T>(
            &db,
            None,
            Expect::Absent,
            Some(parse(item)?),
            "create",
            who,
            None,
        ))
    }

    /// Replaces the item `id` of `kind`, which must be at `version`, with `item`.
    ///
    /// Errors: as [`Curator::create`], plus `unknown_item` (404) and `version_conflict` (409).
    pub fn update(
        &self,
        kind: ItemKind,
        id: &str,
        version: &str,
        item: serde_json::Value,
        who: &str,
    ) -> QuerentResult<WriteOutcome> {
        let current = self.get(kind, id)?;
        let db = self.engine.database(Some(&current.database))?;
        let expect = Expect::Version(version.to_string());
        by_kind!(kind, T => self.write::<T>(
            &db,
            Some(id),
            expect,
            Some(parse(item)?),
            "update",
            who,
            None,
        ))
    }

    /// Deletes the item `id` of `kind`, which must be at `version` (a table doc returns to what
    /// introspection says).
    ///
    /// Errors: `unknown_item` (404), `version_conflict` (409).
    pub fn delete(
        &self,
        kind: ItemKind,
        id: &str,
        version: &str,
        who: &str,
    ) -> QuerentResult<WriteOutcome> {
        let current = self.get(kind, id)?;
        if !current.curated {
            return Err(unknown(kind, id));
        }
        let db = self.engine.database(Some(&current.database))?;
        let expect = Expect::Version(version.to_string());
        by_kind!(kind, T => self.write::<T>(&db, Some(id), expect, None, "delete", who, None))
    }

    /// Undoes change `seq`: puts back the item as it was before it. The item must still be as
    /// that change left it.
    ///
    /// Errors: `unknown_item` (no such change), `version_conflict` (the item changed since),
    /// `already_exists` (a deleted item's key was taken again), `invalid_knowledge`.
    pub fn revert(&self, seq: u64, who: &str) -> QuerentResult<WriteOutcome> {
        let entry = self
            .audit
            .entry(seq)
            .ok_or_else(|| QuerentError::UnknownItem {
                what: "change",
                id: seq.to_string(),
            })?;
        if entry.action == NOT_APPLIED || self.audit.voided(seq) {
            return Err(QuerentError::InvalidRequest(format!(
                "change {seq} changed nothing in the knowledge files (it was not applied): there is nothing to revert"
            )));
        }
        let db = self.engine.database(Some(&entry.database))?;
        let id = entry.id_after.clone().or(entry.id_before.clone());
        let expect = Expect::Exactly(entry.after.clone());
        let before = entry.before.clone();
        by_kind!(entry.kind, T => {
            let restored: Option<T> = before.map(parse).transpose()?;
            self.write::<T>(
                &db,
                id.as_deref(),
                expect,
                restored,
                "revert",
                who,
                Some(seq),
            )
        })
    }

    /// querent's data directory (the change log, the regression baselines).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Re-runs the examples of `database` and reports the answers that changed since the last
    /// run ([`super::regression::run`]).
    pub fn regression(
        &self,
        database: Option<&str>,
    ) -> QuerentResult<super::regression::RegressionReport> {
        super::regression::run(&self.engine, database, &self.data_dir)
    }

    /// The recorded changes, newest first (see [`AuditLog::entries`]).
    pub fn history(
        &self,
        database: Option<&str>,
        id: Option<&str>,
        limit: usize,
    ) -> Vec<AuditEntry> {
        self.audit.entries(database, id, limit)
    }

    /// The one write path; see the module docs for its order. With a shared log, a write
    /// whose change number another replica took meanwhile runs again (a few times) after
    /// catching up.
    #[allow(clippy::too_many_arguments)]
    fn write<T: Curated>(
        &self,
        db: &Database,
        id: Option<&str>,
        expect: Expect,
        new: Option<T>,
        action: &'static str,
        who: &str,
        reverts: Option<u64>,
    ) -> QuerentResult<WriteOutcome> {
        const ATTEMPTS: usize = 5;
        for _ in 1..ATTEMPTS {
            match self.write_once(db, id, expect.clone(), new.clone(), action, who, reverts) {
                Err(WriteError::Taken(seq)) => {
                    tracing::info!(seq, "another replica wrote at the same time; trying again");
                }
                Err(WriteError::Failed(e)) => return Err(e),
                Ok(outcome) => return Ok(outcome),
            }
        }
        match self.write_once(db, id, expect, new, action, who, reverts) {
            Ok(outcome) => Ok(outcome),
            Err(WriteError::Failed(e)) => Err(e),
            Err(WriteError::Taken(seq)) => Err(QuerentError::Internal(format!(
                "change number {seq} was taken by another replica {ATTEMPTS} times in a row; try again"
            ))),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn write_once<T: Curated>(
        &self,
        db: &Database,
        id: Option<&str>,
        expect: Expect,
        new: Option<T>,
        action: &'static str,
        who: &str,
        reverts: Option<u64>,
    ) -> Result<WriteOutcome, WriteError> {
        let started = std::time::Instant::now();
        let new = match new {
            Some(mut item) => {
                item.tidy()?;
                check_size_and_name(&item)?;
                Some(item)
            }
            None => None,
        };
        let _one_write_at_a_time = self.writes.lock();
        self.catch_up_locked()?;
        // the snapshot the caller took may predate the changes just applied
        let fresh = self.engine.database(Some(&db.name))?;
        let db = &*fresh;
        let mut kb = self.read_domain(&db.name, Some(T::KIND))?;
        if T::KIND.is_semantic() && kb.semantic.is_none() {
            // the first curated semantic item starts the file from the inferred model
            kb.semantic = Some(Ok(adopted(semantic::infer::infer(&db.schema))));
        }
        let untouched = kb.clone();
        let position = id.and_then(|id| {
            T::items(&kb)
                .iter()
                .position(|i| item_id(&db.name, T::KIND, i.key()) == id)
        });
        let before = position.map(|i| to_json(&T::items(&kb)[i]));
        match &expect {
            Expect::Absent => {}
            Expect::Version(version) => {
                let id = id.unwrap_or_default();
                let exists = position.is_some()
                    || (T::KIND == ItemKind::Table
                        && db
                            .docs
                            .iter()
                            .any(|d| item_id(&db.name, T::KIND, &d.name) == id));
                if !exists {
                    return Err(unknown(T::KIND, id).into());
                }
                let current = version_of(before.as_ref());
                if current != *version {
                    return Err(QuerentError::VersionConflict {
                        id: id.to_string(),
                        expected: version.clone(),
                        current,
                    }
                    .into());
                }
            }
            Expect::Exactly(expected) => {
                if before != *expected {
                    return Err(QuerentError::VersionConflict {
                        id: id.unwrap_or_default().to_string(),
                        expected: version_of(expected.as_ref()),
                        current: version_of(before.as_ref()),
                    }
                    .into());
                }
            }
        }
        let new_id = new.as_ref().map(|n| item_id(&db.name, T::KIND, n.key()));
        if let (Some(item), Some(new_id)) = (&new, &new_id) {
            let taken = T::items(&kb).iter().enumerate().any(|(i, other)| {
                Some(i) != position && item_id(&db.name, T::KIND, other.key()) == *new_id
            });
            if taken {
                return Err(QuerentError::AlreadyExists {
                    what: format!("{} '{}'", kind_word(T::KIND), item.key()),
                    id: new_id.clone(),
                }
                .into());
            }
            item.validate(&self.engine, db)?;
        }
        let after = new.as_ref().map(to_json);
        let list = T::items_mut(&mut kb);
        match (position, new) {
            (Some(i), Some(item)) => list[i] = item,
            (None, Some(item)) => list.push(item),
            (Some(i), None) => {
                list.remove(i);
            }
            (None, None) => return Err(unknown(T::KIND, id.unwrap_or_default()).into()),
        }
        T::check_domain(&self.engine, db, &untouched, &kb)?;
        let validated_ms = started.elapsed().as_secs_f64() * 1000.0;
        let dir = self.domain_dir(&db.name);
        let prepared = files::prepare_kind(&dir, &kb, T::KIND)?;
        let change = Change {
            who: who.to_string(),
            action,
            database: db.name.clone(),
            kind: T::KIND,
            id_before: position.and(id.map(str::to_string)),
            id_after: new_id.clone(),
            before,
            after,
            reverts,
            voids: None,
        };
        // Logged before the rename: a file change never goes without its line.
        let change = match self.audit.append(change) {
            Ok(change) => change,
            Err(e) => {
                return Err(match e.downcast_ref::<SeqTaken>() {
                    Some(taken) => WriteError::Taken(taken.seq),
                    None => WriteError::Failed(e.into()),
                })
            }
        };
        if let Some(replication) = self.engine.replication() {
            // the other replicas' poll sees the domain move (the files follow below)
            replication.set_applied(change.seq);
            if let Err(e) = replication.set_version(&db.name, change.seq) {
                tracing::warn!(seq = change.seq, "cannot move the shared knowledge version (the others find the change within their periodic read of the log): {e}");
            }
        }
        let logged_ms = started.elapsed().as_secs_f64() * 1000.0;
        if let Err(e) = prepared.commit() {
            self.record_not_applied(&change);
            return Err(QuerentError::from(e).into());
        }
        let saved_ms = started.elapsed().as_secs_f64() * 1000.0;
        // Read back, so the engine serves exactly the files (lines included, for health).
        let (kb, issues) = files::load_domain(&dir, &db.name);
        let read_back_ms = started.elapsed().as_secs_f64() * 1000.0;
        let report = self.engine.reload_knowledge(&db.name, kb, issues)?;
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        let item = match &new_id {
            Some(new_id) => Some(self.get(T::KIND, new_id)?),
            None => None,
        };
        tracing::info!(database = %db.name, kind = ?T::KIND, action, who, seq = change.seq, embedded = report.embedded, validated_ms, logged_ms, saved_ms, read_back_ms, elapsed_ms, "knowledge changed");
        Ok(WriteOutcome {
            item,
            change,
            embedded: report.embedded,
            elapsed_ms,
        })
    }

    /// Records that `change` did not reach the files (its rename failed). Best effort: when
    /// even that fails, the next start-up's reconciliation records it.
    fn record_not_applied(&self, change: &AuditEntry) {
        let follow_up = Change {
            who: "querent".into(),
            action: NOT_APPLIED,
            database: change.database.clone(),
            kind: change.kind,
            id_before: change.id_before.clone(),
            id_after: change.id_after.clone(),
            before: change.before.clone(),
            after: change.before.clone(),
            reverts: None,
            voids: Some(change.seq),
        };
        if let Err(e) = self.audit.append(follow_up) {
            tracing::error!(
                seq = change.seq,
                "cannot record that a change was not applied: {e:#}"
            );
        }
    }

    /// Turns feedback on answer `query_id` into a suggested example: the answer's own SQL when
    /// `helpful`, or `correction` (SQL) when given. Returns the suggestion, or `None` when the
    /// feedback suggests nothing (unhelpful, no correction).
    ///
    /// Errors: `unknown_item` (the answer is not among the recent ones).
    pub fn feedback(
        &self,
        query_id: &str,
        helpful: bool,
        correction: Option<String>,
    ) -> QuerentResult<Option<Suggestion>> {
        let answer =
            self.engine
                .recent_answer(query_id)
                .ok_or_else(|| QuerentError::UnknownItem {
                    what: "answer",
                    id: query_id.to_string(),
                })?;
        let correction = correction
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty());
        let sql = match (&correction, helpful) {
            (Some(sql), _) => sql.clone(),
            (None, true) => answer.sql.clone(),
            (None, false) => return Ok(None),
        };
        let suggestion = Suggestion {
            id: uuid::Uuid::new_v4().simple().to_string()[..12].to_string(),
            question: answer.question.clone(),
            sql,
            query_id: query_id.to_string(),
            helpful,
            corrected: correction.is_some(),
            at: chrono::Utc::now(),
        };
        let _one_write_at_a_time = self.writes.lock();
        let dir = self.domain_dir(&answer.database);
        let mut all = suggestions::load(&dir)?;
        all.push(suggestion.clone());
        suggestions::save(&dir, &all)?;
        Ok(Some(suggestion))
    }

    /// The suggested examples waiting for review in `database` (all when `None`).
    pub fn suggestions(&self, database: Option<&str>) -> QuerentResult<Vec<(String, Suggestion)>> {
        let mut found = Vec::new();
        for db in self.databases(database)? {
            for s in suggestions::load(&self.domain_dir(&db.name))? {
                found.push((db.name.clone(), s));
            }
        }
        Ok(found)
    }

    /// Approves suggestion `id`: it becomes an example (validated like any other) and leaves
    /// the suggestions. Errors: `unknown_item`, and those of [`Curator::create`].
    pub fn approve(&self, id: &str, who: &str) -> QuerentResult<WriteOutcome> {
        let (database, suggestion) = self.take_suggestion(id, false)?;
        let db = self.engine.database(Some(&database))?;
        let example = Example {
            question: suggestion.question,
            sql: suggestion.sql,
            source: String::new(),
        };
        let outcome = self.write::<Example>(
            &db,
            None,
            Expect::Absent,
            Some(example),
            "approve",
            who,
            None,
        )?;
        self.take_suggestion(id, true)?;
        Ok(outcome)
    }

    /// Rejects (removes) suggestion `id`. Errors: `unknown_item`.
    pub fn reject(&self, id: &str) -> QuerentResult<Suggestion> {
        self.take_suggestion(id, true).map(|(_, s)| s)
    }

    /// Finds suggestion `id`, and removes it from its file when `remove`.
    fn take_suggestion(&self, id: &str, remove: bool) -> QuerentResult<(String, Suggestion)> {
        let _one_write_at_a_time = remove.then(|| self.writes.lock());
        for db in self.databases(None)? {
            let dir = self.domain_dir(&db.name);
            let mut all = suggestions::load(&dir)?;
            if let Some(i) = all.iter().position(|s| s.id == id) {
                let found = if remove {
                    all.remove(i)
                } else {
                    all[i].clone()
                };
                if remove {
                    suggestions::save(&dir, &all)?;
                }
                return Ok((db.name.clone(), found));
            }
        }
        Err(QuerentError::UnknownItem {
            what: "suggestion",
            id: id.to_string(),
        })
    }
}

/// Why one attempt of a write failed: another replica took its change number (try again), or
/// anything else.
enum WriteError {
    Taken(u64),
    Failed(QuerentError),
}

impl From<QuerentError> for WriteError {
    fn from(e: QuerentError) -> Self {
        WriteError::Failed(e)
    }
}

impl From<anyhow::Error> for WriteError {
    fn from(e: anyhow::Error) -> Self {
        WriteError::Failed(e.into())
    }
}

/// Applies recorded `changes` (in order) to the knowledge files under `knowledge_dir`: the item
/// a change names (by its id before or after) becomes the change's `after`, or goes when that
/// is null. Applying a change twice changes nothing. Returns the domains whose files changed.
///
/// Errors: an item of a change that does not parse, a file that cannot be written.
pub fn apply_to_files(
    knowledge_dir: &Path,
    changes: &[AuditEntry],
) -> QuerentResult<std::collections::BTreeSet<String>> {
    let mut touched = std::collections::BTreeSet::new();
    for change in changes {
        let dir = knowledge_dir.join(&change.database);
        let (mut kb, _) = files::load_domain(&dir, &change.database);
        let changed = by_kind!(change.kind, T => apply::<T>(&mut kb, change)?);
        if changed {
            files::prepare_kind(&dir, &kb, change.kind)?.commit()?;
            touched.insert(change.database.clone());
        }
    }
    Ok(touched)
}

/// Applies one change to `kb`; true when it changed something.
fn apply<T: Curated>(kb: &mut KnowledgeBase, change: &AuditEntry) -> QuerentResult<bool> {
    let ids: Vec<&str> = [change.id_before.as_deref(), change.id_after.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    let database = &change.database;
    let named = |item: &T| ids.contains(&item_id(database, T::KIND, item.key()).as_str());
    let list = T::items_mut(kb);
    let now: Vec<serde_json::Value> = list.iter().filter(|i| named(i)).map(to_json).collect();
    let wanted: Vec<serde_json::Value> = change.after.iter().cloned().collect();
    if now == wanted {
        return Ok(false);
    }
    let position = list.iter().position(|i| named(i));
    list.retain(|i| !named(i));
    if let Some(after) = change.after.clone() {
        let item: T = parse(after)?;
        let at = position.unwrap_or(list.len()).min(list.len());
        list.insert(at, item);
    }
    Ok(true)
}

/// Brings the knowledge files under `knowledge_dir` up to the replicas' shared change log (at
/// start-up, before they are loaded); returns the number of changes read.
///
/// Errors: the log cannot be read, a change cannot be applied.
pub fn replay(replication: &Replication, knowledge_dir: &Path) -> anyhow::Result<usize> {
    let changes: Vec<AuditEntry> = replication
        .changes_after(0)?
        .into_iter()
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect();
    let touched = apply_to_files(knowledge_dir, &changes).map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(last) = changes.last() {
        replication.set_applied(last.seq);
    }
    tracing::info!(
        changes = changes.len(),
        domains_changed = touched.len(),
        "knowledge files brought up to the shared change log"
    );
    Ok(changes.len())
}

/// The JSON of the item `id` of `kind` in `kb` (the domain of `database`), as a change records
/// it; `None` when it is not there.
pub(crate) fn item_json(
    kb: &KnowledgeBase,
    database: &str,
    kind: ItemKind,
    id: &str,
) -> Option<serde_json::Value> {
    fn find<T: Curated>(kb: &KnowledgeBase, database: &str, id: &str) -> Option<serde_json::Value> {
        T::items(kb)
            .iter()
            .find(|i| item_id(database, T::KIND, i.key()) == id)
            .map(to_json)
    }
    by_kind!(kind, T => find::<T>(kb, database, id))
}

/// Every item of `kind` in `kb`, as JSON (as a change records them).
pub fn items_json(kb: &KnowledgeBase, kind: ItemKind) -> Vec<serde_json::Value> {
    by_kind!(kind, T => T::items(kb).iter().map(to_json).collect())
}

fn file_of(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Table => TABLES_FILE,
        ItemKind::Example => EXAMPLES_FILE,
        ItemKind::Rule => RULES_FILE,
        ItemKind::SemanticModel | ItemKind::Metric | ItemKind::Filter => files::SEMANTIC_FILE,
    }
}

fn kind_word(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Table => "table doc",
        ItemKind::Example => "example",
        ItemKind::Rule => "rule",
        ItemKind::SemanticModel => "semantic model",
        ItemKind::Metric => "metric",
        ItemKind::Filter => "filter",
    }
}

/// The SQL of the metric `item` (JSON) of `manifest` compiled alone for `db`; `None` when it
/// does not compile.
fn metric_sql(
    db: &Database,
    manifest: &SemanticManifest,
    item: &serde_json::Value,
) -> Option<String> {
    let query = MetricQuery {
        columns: vec![semantic::query::MetricColumn {
            metric: item["name"].as_str()?.to_string(),
            slice: None,
        }],
        ..Default::default()
    };
    semantic::compile(manifest, &db.schema, db.warehouse.dialect(), &query)
        .ok()
        .map(|c| c.sql)
}

fn unknown(kind: ItemKind, id: &str) -> QuerentError {
    QuerentError::UnknownItem {
        what: kind_word(kind),
        id: id.to_string(),
    }
}

fn to_json<T: Serialize>(item: &T) -> serde_json::Value {
    serde_json::to_value(item).unwrap_or(serde_json::Value::Null)
}

fn parse<T: DeserializeOwned>(item: serde_json::Value) -> QuerentResult<T> {
    serde_json::from_value(item).map_err(|e| {
        invalid(
            format!("the item does not have the expected shape: {e}"),
            serde_json::json!({ "error": e.to_string() }),
        )
    })
}

fn views_of<T: Curated>(database: &str, kb: &KnowledgeBase) -> Vec<ItemView> {
    T::items(kb)
        .iter()
        .map(|item| {
            let json = to_json(item);
            ItemView {
                id: item_id(database, T::KIND, item.key()),
                version: version_of(Some(&json)),
                kind: T::KIND,
                database: database.to_string(),
                curated: true,
                item: json,
                sql: None,
            }
        })
        .collect()
}

/// Table docs as served (merged with introspection), versioned by their curated part.
fn table_views(db: &Database, kb: &KnowledgeBase) -> Vec<ItemView> {
    db.docs
        .iter()
        .map(|doc| {
            let curated = kb.table(&doc.name).map(to_json);
            ItemView {
                id: item_id(&db.name, ItemKind::Table, &doc.name),
                version: version_of(curated.as_ref()),
                kind: ItemKind::Table,
                database: db.name.clone(),
                curated: curated.is_some(),
                item: to_json(doc),
                sql: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_ignore_case_and_spacing_of_the_key_but_not_the_database_or_kind() {
        let a = item_id("shop", ItemKind::Example, "How many  Orders?");
        assert_eq!(a, item_id("shop", ItemKind::Example, "how many orders?"));
        assert_ne!(a, item_id("shop2", ItemKind::Example, "how many orders?"));
        assert_ne!(a, item_id("shop", ItemKind::Rule, "how many orders?"));
        assert_eq!(a.len(), 16);
    }

    #[test]
    fn versions_change_with_the_content_and_absence_is_version_zero() {
        let one = serde_json::json!({ "question": "q", "sql": "SELECT 1" });
        let two = serde_json::json!({ "question": "q", "sql": "SELECT 2" });
        assert_ne!(version_of(Some(&one)), version_of(Some(&two)));
        assert_eq!(version_of(Some(&one)), version_of(Some(&one.clone())));
        assert_eq!(version_of(None), ABSENT_VERSION);
    }
}
