//! Knowledge files: loads and saves the YAML files a domain expert curates under
//! `knowledge/<domain>/`.
//!
//! Three optional files per domain folder, each a list under one top-level key:
//!
//! - `tables.yml`: dbt's `schema.yml` (`version: 2`, `models: [{name, description, synonyms?,
//!   columns: [{name, description, data_type?, synonyms?, unit?}], primary_key?,
//!   foreign_keys?}]`). Keys dbt knows and querent does not (`tests`, `meta`, `config`,
//!   `sources`, ...) are ignored, so existing dbt docs can be dropped in.
//! - `examples.yml`: `examples: [{question, sql}]`.
//! - `rules.yml`: `rules: [{name, description, keywords?, sql?, table?, kind?}]`.
//! - `semantic.yml`: the semantic model ([`crate::semantic::model`]); loaded whole into
//!   [`KnowledgeBase::semantic`] (a manifest that does not load is the engine's issue to
//!   report, with the inferred model served instead). A curation write replaces only the
//!   list it changed (`semantic_models`, `metrics` or `filters`) and keeps the rest of the
//!   file: its other keys and its leading comment block.
//!
//! Loading never fails: whatever is wrong becomes a [`LoadIssue`] naming the file and line,
//! and everything else still loads (a broken file, a bad item, a duplicate). Enter through
//! [`load_all`] (every domain) or [`load_domain`]; [`save_domain`] writes a domain back
//! atomically for curation. Checking examples against the database is left to the caller.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use serde_norway::Value;

use super::{BusinessRule, Example, KnowledgeBase, TableDoc};
use crate::semantic::SemanticManifest;
pub use crate::semantic::SEMANTIC_FILE;

/// The file of table docs in a domain folder.
pub const TABLES_FILE: &str = "tables.yml";
/// The file of examples in a domain folder.
pub const EXAMPLES_FILE: &str = "examples.yml";
/// The file of business rules in a domain folder.
pub const RULES_FILE: &str = "rules.yml";

use super::validate::RULE_KINDS;

/// A problem found while loading knowledge (the server still starts). Serialised as
/// `{source, file, line, message}`: `file` and `line` are `source` taken apart (`line` is null
/// when the issue is about a whole file or folder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadIssue {
    /// Where: `path` or `path:line` (lines start at 1).
    pub source: String,
    /// What is wrong, and what was done about it.
    pub message: String,
}

impl LoadIssue {
    /// The file (or folder) the issue is about: [`LoadIssue::source`] without its line.
    pub fn file(&self) -> &str {
        self.split_source().0
    }

    /// The line (from 1) of the item the issue is about, when it has one.
    pub fn line(&self) -> Option<usize> {
        self.split_source().1
    }

    fn split_source(&self) -> (&str, Option<usize>) {
        match self.source.rsplit_once(':') {
            Some((file, line))
                if !file.is_empty()
                    && !line.is_empty()
                    && line.bytes().all(|b| b.is_ascii_digit()) =>
            {
                match line.parse() {
                    Ok(n) if n > 0 => (file, Some(n)),
                    _ => (&self.source, None),
                }
            }
            _ => (&self.source, None),
        }
    }
}

impl Serialize for LoadIssue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("LoadIssue", 4)?;
        s.serialize_field("source", &self.source)?;
        s.serialize_field("file", self.file())?;
        s.serialize_field("line", &self.line())?;
        s.serialize_field("message", &self.message)?;
        s.end()
    }
}

impl std::fmt::Display for LoadIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.source, self.message)
    }
}

/// Loads one domain folder. A file that does not parse is an issue (with the YAML error's line),
/// and the rest still loads.
///
/// A missing folder or file is not an issue: all three files are optional. Items that do not
/// fit their shape, lack their key field (table name, question and SQL, rule name) or repeat
/// an earlier key are skipped with an issue; the first of duplicates is kept.
pub fn load_domain(dir: &Path, domain: &str) -> (KnowledgeBase, Vec<LoadIssue>) {
    let mut issues = Vec::new();
    let mut kb = KnowledgeBase {
        domain: domain.to_string(),
        ..KnowledgeBase::default()
    };

    let path = dir.join(TABLES_FILE);
    let items: Vec<(TableDoc, String)> = read_items(&path, "models", &mut issues);
    kb.tables = dedup_tables(items, &mut issues);

    let path = dir.join(EXAMPLES_FILE);
    let items: Vec<(Example, String)> = read_items(&path, "examples", &mut issues);
    kb.examples = dedup_examples(items, &mut issues);

    let path = dir.join(RULES_FILE);
    let items: Vec<(BusinessRule, String)> = read_items(&path, "rules", &mut issues);
    kb.rules = dedup_rules(items, &mut issues);

    kb.semantic = crate::semantic::load_file(&dir.join(SEMANTIC_FILE));

    (kb, issues)
}

/// Loads every sub-folder of `knowledge_dir` as a domain, sorted by name. A missing dir is empty.
///
/// Hidden folders (`.git`, `.cache`) and plain files (a README) are skipped.
pub fn load_all(knowledge_dir: &Path) -> (Vec<KnowledgeBase>, Vec<LoadIssue>) {
    let mut issues = Vec::new();
    let entries = match fs::read_dir(knowledge_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Vec::new(), issues),
        Err(e) => {
            issues.push(issue(
                knowledge_dir.display().to_string(),
                format!("cannot read the knowledge folder: {e}"),
            ));
            return (Vec::new(), issues);
        }
    };
    let mut domains: Vec<(String, PathBuf)> = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                issues.push(issue(
                    knowledge_dir.display().to_string(),
                    format!("cannot list the knowledge folder: {e}"),
                ));
                continue;
            }
        };
        let path = entry.path();
        // `fs::metadata` follows symbolic links, so a linked domain folder counts.
        if !fs::metadata(&path).map(|m| m.is_dir()).unwrap_or(false) {
            continue;
        }
        match entry.file_name().into_string() {
            Ok(name) if name.starts_with('.') => {}
            Ok(name) => domains.push((name, path)),
            Err(_) => issues.push(issue(
                path.display().to_string(),
                "skipped: the folder name is not UTF-8".into(),
            )),
        }
    }
    domains.sort();
    let mut bases = Vec::with_capacity(domains.len());
    for (name, path) in domains {
        let (kb, mut found) = load_domain(&path, &name);
        issues.append(&mut found);
        bases.push(kb);
    }
    (bases, issues)
}

/// Writes a domain's files atomically (temp file + fsync + rename), for curation later.
///
/// Creates `dir` if needed and writes all three files (an empty kind gives an empty list), so
/// that loading them back gives the same items. Comments in the previous files are not kept.
///
/// Errors: the folder cannot be created, or a file cannot be written, synced or renamed.
pub fn save_domain(dir: &Path, kb: &KnowledgeBase) -> anyhow::Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let header = |what: &str| {
        format!(
            "# {what} of the '{}' domain, written by querent.\n",
            kb.domain
        )
    };
    let tables = TablesFile {
        version: 2,
        models: kb.tables.clone(),
    };
    write_yaml(
        &dir.join(TABLES_FILE),
        &header("Table docs (dbt schema.yml)"),
        &tables,
    )?;
    let examples = ExamplesFile {
        examples: kb.examples.clone(),
    };
    write_yaml(&dir.join(EXAMPLES_FILE), &header("Examples"), &examples)?;
    let rules = RulesFile {
        rules: kb.rules.clone(),
    };
    write_yaml(&dir.join(RULES_FILE), &header("Business rules"), &rules)?;
    // The renames are durable only once the folder itself is synced.
    #[cfg(unix)]
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync {}", dir.display()))?;
    Ok(())
}

/// Writes the one file of `kind` in a domain folder atomically (temp file + fsync + rename +
/// folder fsync), leaving the other two files as they are: a curation write changes one kind.
///
/// Errors: the folder cannot be created, or the file cannot be written, synced or renamed.
pub fn save_kind(dir: &Path, kb: &KnowledgeBase, kind: super::ItemKind) -> anyhow::Result<()> {
    prepare_kind(dir, kb, kind)?.commit()
}

/// The first half of [`save_kind`]: the new file of `kind`, written and synced next to the
/// real one, which is untouched until [`PreparedFile::commit`]. Lets a caller record the change
/// (durably) between the two halves.
///
/// Errors: the folder cannot be created, or the temporary file cannot be written or synced.
pub fn prepare_kind(
    dir: &Path,
    kb: &KnowledgeBase,
    kind: super::ItemKind,
) -> anyhow::Result<PreparedFile> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let header = |what: &str| {
        format!(
            "# {what} of the '{}' domain, written by querent.\n",
            kb.domain
        )
    };
    let (path, text) = match kind {
        super::ItemKind::Table => (
            dir.join(TABLES_FILE),
            render_yaml(
                &header("Table docs (dbt schema.yml)"),
                &TablesFile {
                    version: 2,
                    models: kb.tables.clone(),
                },
            ),
        ),
        super::ItemKind::Example => (
            dir.join(EXAMPLES_FILE),
            render_yaml(
                &header("Examples"),
                &ExamplesFile {
                    examples: kb.examples.clone(),
                },
            ),
        ),
        super::ItemKind::Rule => (
            dir.join(RULES_FILE),
            render_yaml(
                &header("Business rules"),
                &RulesFile {
                    rules: kb.rules.clone(),
                },
            ),
        ),
        kind @ (super::ItemKind::SemanticModel
        | super::ItemKind::Metric
        | super::ItemKind::Filter) => {
            let path = dir.join(SEMANTIC_FILE);
            let manifest = match &kb.semantic {
                Some(Ok(m)) => m.clone(),
                _ => SemanticManifest::default(),
            };
            let text = render_semantic(&path, &kb.domain, &manifest, kind);
            (path, text)
        }
    };
    let text = text.with_context(|| format!("cannot serialize {}", path.display()))?;
    PreparedFile::write(&path, &text)
}

/// The new text of `semantic.yml` (at `path`) after a write of `kind`: the file as it is with
/// only the list of `kind` replaced from `manifest` (its other keys, unknown ones included,
/// and its leading comment block kept; comments elsewhere are not), or, when there is no file
/// yet (or it is not a mapping), the whole `manifest` under a header.
fn render_semantic(
    path: &Path,
    domain: &str,
    manifest: &SemanticManifest,
    kind: super::ItemKind,
) -> Result<String, serde_norway::Error> {
    let existing = fs::read_to_string(path).ok();
    let mapping = existing
        .as_deref()
        .and_then(|t| serde_norway::from_str::<Value>(t).ok())
        .and_then(|v| match v {
            Value::Mapping(m) => Some(m),
            _ => None,
        });
    let (Some(text), Some(mut mapping)) = (existing.as_deref(), mapping) else {
        let mut manifest = manifest.clone();
        manifest.inferred = false;
        return render_yaml(
            &format!(
                "# The semantic model of the '{domain}' domain (dbt MetricFlow's shape), written by querent.\n"
            ),
            &manifest,
        );
    };
    let list = match kind {
        super::ItemKind::SemanticModel => serde_norway::to_value(&manifest.semantic_models)?,
        super::ItemKind::Metric => serde_norway::to_value(&manifest.metrics)?,
        _ => serde_norway::to_value(&manifest.filters)?,
    };
    mapping.insert(Value::String(kind.collection().to_string()), list);
    let header: String = text
        .lines()
        .take_while(|l| l.trim_start().starts_with('#') || l.trim().is_empty())
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    render_yaml(&header, &Value::Mapping(mapping))
}

/// A file's new contents, synced to a temporary file beside it, waiting to be renamed over it.
/// Dropped without [`PreparedFile::commit`], the temporary file is removed.
#[derive(Debug)]
pub struct PreparedFile {
    tmp: PathBuf,
    path: PathBuf,
    committed: bool,
}

impl PreparedFile {
    fn write(path: &Path, contents: &str) -> anyhow::Result<Self> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let tmp = dir.join(format!(
            ".{}.{}.tmp",
            file_name(path),
            uuid::Uuid::new_v4().simple()
        ));
        let prepared = Self {
            tmp,
            path: path.to_path_buf(),
            committed: false,
        };
        (|| {
            let mut file = fs::File::create_new(&prepared.tmp)?;
            file.write_all(contents.as_bytes())?;
            file.sync_all()
        })()
        .with_context(|| format!("cannot write {}", prepared.tmp.display()))?;
        Ok(prepared)
    }

    /// Renames the new contents over the file and syncs the folder: from here on the change
    /// is durable. Errors: the rename or the folder sync fails (the old file is then intact
    /// unless only the sync failed).
    pub fn commit(mut self) -> anyhow::Result<()> {
        fs::rename(&self.tmp, &self.path)
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        self.committed = true;
        sync_dir(self.path.parent().unwrap_or(Path::new(".")))
    }
}

impl Drop for PreparedFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

fn file_name(path: &Path) -> &str {
    path.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("knowledge")
}

/// Removes the temporary files a killed writer left in a domain folder (`.tables.yml.*.tmp`
/// and the like); returns how many. A knowledge folder has one writer, the one querent whose
/// curator opens it, so any such file at start-up is an orphan.
pub fn remove_orphan_temp_files(dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let prefixes =
        [TABLES_FILE, EXAMPLES_FILE, RULES_FILE, SEMANTIC_FILE].map(|f| format!(".{f}."));
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.ends_with(".tmp")
            && prefixes.iter().any(|p| name.starts_with(p))
            && fs::remove_file(entry.path()).is_ok()
        {
            removed += 1;
        }
    }
    removed
}

/// Makes the renames inside `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync {}", dir.display()))?;
    Ok(())
}

#[derive(Serialize, Deserialize)]
struct TablesFile {
    version: u32,
    models: Vec<TableDoc>,
}

#[derive(Serialize, Deserialize)]
struct ExamplesFile {
    examples: Vec<Example>,
}

#[derive(Serialize, Deserialize)]
struct RulesFile {
    rules: Vec<BusinessRule>,
}

fn issue(source: String, message: String) -> LoadIssue {
    LoadIssue { source, message }
}

fn write_yaml<T: Serialize>(path: &Path, header: &str, value: &T) -> anyhow::Result<()> {
    let text = render_yaml(header, value)
        .with_context(|| format!("cannot serialize {}", path.display()))?;
    write_atomic(path, &text)
}

fn render_yaml<T: Serialize>(header: &str, value: &T) -> Result<String, serde_norway::Error> {
    Ok(format!("{header}{}", serde_norway::to_string(value)?))
}

/// Writes `contents` to a temporary file next to `path`, syncs it and renames it over `path`,
/// so that a reader sees the old file or the new one, never half of one.
pub(crate) fn write_atomic(path: &Path, contents: &str) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("knowledge");
    let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let result = (|| {
        let mut file = fs::File::create_new(&tmp)?;
        file.write_all(contents.as_bytes())?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

/// Reads the list under `key` of one file into items with their `path:line` sources.
///
/// A missing file gives nothing; an unreadable or unparsable file gives one issue; an item
/// that does not fit `T` gives an issue at its line and is skipped.
fn read_items<T: serde::de::DeserializeOwned>(
    path: &Path,
    key: &str,
    issues: &mut Vec<LoadIssue>,
) -> Vec<(T, String)> {
    let shown = path.display().to_string();
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            issues.push(issue(shown, format!("cannot read the file: {e}")));
            return Vec::new();
        }
    };
    let mut document: Value = match serde_norway::from_str(&text) {
        Ok(value) => value,
        Err(e) => {
            let source = match e.location() {
                Some(at) => format!("{shown}:{}", at.line()),
                None => shown,
            };
            issues.push(issue(
                source,
                format!("the file is not valid YAML, nothing in it was loaded: {e}"),
            ));
            return Vec::new();
        }
    };
    if let Err(e) = document.apply_merge() {
        issues.push(issue(
            shown,
            format!("the YAML merge keys (<<) could not be applied: {e}"),
        ));
        return Vec::new();
    }
    let list = match document {
        Value::Null => return Vec::new(),
        Value::Mapping(mut map) => match map.remove(key) {
            None | Some(Value::Null) => return Vec::new(),
            Some(Value::Sequence(list)) => list,
            Some(_) => {
                let line = key_line(&text, key).unwrap_or(1);
                issues.push(issue(
                    format!("{shown}:{line}"),
                    format!("'{key}' must be a list; nothing in it was loaded"),
                ));
                return Vec::new();
            }
        },
        _ => {
            issues.push(issue(
                shown,
                format!("the file must be a mapping with a '{key}' list; nothing was loaded"),
            ));
            return Vec::new();
        }
    };
    let mut lines = item_lines(&text, key);
    if lines.len() != list.len() {
        // Flow style (`[...]`) or an unusual layout: point at the list itself.
        lines = vec![key_line(&text, key).unwrap_or(1); list.len()];
    }
    let mut items = Vec::with_capacity(list.len());
    for (index, (value, line)) in list.into_iter().zip(lines).enumerate() {
        let source = format!("{shown}:{line}");
        match serde_norway::from_value::<T>(value) {
            Ok(item) => items.push((item, source)),
            Err(e) => issues.push(issue(source, format!("{key}[{index}] was skipped: {e}"))),
        }
    }
    items
}

/// The `path:line` source of each item of the list under `list_key` in the file at `path`,
/// with the item's `name_field` (a table doc's `name`, a metric's `name`): the line where the
/// item starts. Names are compared as parsed, so quoting does not matter. Empty when the file
/// cannot be read or parsed, or its items cannot be told apart line by line (flow style):
/// no line rather than a wrong one.
pub fn item_sources(path: &Path, list_key: &str, name_field: &str) -> Vec<(String, String)> {
    let Ok(text) = fs::read_to_string(path) else {
        return Vec::new();
    };
    let Ok(document) = serde_norway::from_str::<Value>(&text) else {
        return Vec::new();
    };
    let Some(Value::Sequence(list)) = document.get(list_key) else {
        return Vec::new();
    };
    let lines = item_lines(&text, list_key);
    if lines.len() != list.len() {
        return Vec::new();
    }
    let shown = path.display();
    list.iter()
        .zip(lines)
        .filter_map(|(item, line)| {
            let name = item.get(name_field)?.as_str()?;
            Some((name.to_string(), format!("{shown}:{line}")))
        })
        .collect()
}

/// The line (from 1) of the top-level `key:`.
fn key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|line| is_top_level_key(line, key))
        .map(|i| i + 1)
}

fn is_top_level_key(line: &str, key: &str) -> bool {
    let unquoted = line
        .strip_prefix(key)
        .or_else(|| line.strip_prefix(&format!("\"{key}\"")))
        .or_else(|| line.strip_prefix(&format!("'{key}'")));
    unquoted.is_some_and(|rest| rest.trim_start().starts_with(':'))
}

/// The line (from 1) of each item of the block list under the top-level `key:`, in order:
/// the lines whose `-` sits at the list's indentation.
fn item_lines(text: &str, key: &str) -> Vec<usize> {
    let mut found = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let Some(start) = lines.iter().position(|line| is_top_level_key(line, key)) else {
        return found;
    };
    let mut item_indent: Option<usize> = None;
    for (offset, line) in lines[start + 1..].iter().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        let is_item = trimmed == "-" || trimmed.starts_with("- ");
        match item_indent {
            None if is_item => item_indent = Some(indent),
            None => break,
            Some(expected) if indent < expected => break,
            Some(expected) if indent == expected && !is_item => break,
            Some(_) => {}
        }
        if is_item && Some(indent) == item_indent {
            found.push(start + 1 + offset + 1);
        }
    }
    found
}

/// Normalises a key for duplicate checks: lower case, whitespace collapsed.
fn dedup_key(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn dedup_tables(items: Vec<(TableDoc, String)>, issues: &mut Vec<LoadIssue>) -> Vec<TableDoc> {
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut tables = Vec::new();
    for (mut table, source) in items {
        if table.name.trim().is_empty() {
            issues.push(issue(
                source,
                "a table doc without a name was skipped".into(),
            ));
            continue;
        }
        let key = dedup_key(&table.name);
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
            issues.push(issue(
                source,
                format!(
                    "table '{}' is documented twice (first at {first}); this one was skipped",
                    table.name
                ),
            ));
            continue;
        }
        let mut columns_seen: Vec<String> = Vec::new();
        table.columns.retain(|column| {
            let column_key = dedup_key(&column.name);
            if column_key.is_empty() {
                issues.push(issue(
                    source.clone(),
                    format!(
                        "a column of table '{}' has no name and was skipped",
                        table.name
                    ),
                ));
                false
            } else if columns_seen.contains(&column_key) {
                issues.push(issue(
                    source.clone(),
                    format!(
                        "column '{}' of table '{}' is documented twice; the second was skipped",
                        column.name, table.name
                    ),
                ));
                false
            } else {
                columns_seen.push(column_key);
                true
            }
        });
        seen.push((key, source));
        tables.push(table);
    }
    tables
}

fn dedup_examples(items: Vec<(Example, String)>, issues: &mut Vec<LoadIssue>) -> Vec<Example> {
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut examples = Vec::new();
    for (mut example, source) in items {
        if example.question.trim().is_empty() || example.sql.trim().is_empty() {
            issues.push(issue(
                source,
                "an example needs both a question and its sql; it was skipped".into(),
            ));
            continue;
        }
        let key = dedup_key(&example.question);
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
            issues.push(issue(
                source,
                format!(
                    "the question '{}' is listed twice (first at {first}); this one was skipped",
                    example.question
                ),
            ));
            continue;
        }
        seen.push((key, source.clone()));
        example.source = source;
        examples.push(example);
    }
    examples
}

fn dedup_rules(
    items: Vec<(BusinessRule, String)>,
    issues: &mut Vec<LoadIssue>,
) -> Vec<BusinessRule> {
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut rules = Vec::new();
    for (mut rule, source) in items {
        if rule.name.trim().is_empty() {
            issues.push(issue(source, "a rule without a name was skipped".into()));
            continue;
        }
        let key = dedup_key(&rule.name);
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
            issues.push(issue(
                source,
                format!(
                    "rule '{}' is defined twice (first at {first}); this one was skipped",
                    rule.name
                ),
            ));
            continue;
        }
        if !RULE_KINDS.contains(&rule.kind.as_str()) {
            issues.push(issue(
                source.clone(),
                format!(
                    "rule '{}' has the unknown kind '{}' (expected {}); it was loaded as a note",
                    rule.name,
                    rule.kind,
                    RULE_KINDS.join(", ")
                ),
            ));
            rule.kind = "note".into();
        }
        if rule.kind != "note" && rule.sql.as_deref().is_none_or(|s| s.trim().is_empty()) {
            issues.push(issue(
                source.clone(),
                format!(
                    "rule '{}' is a {} but has no sql; only its prose will be used",
                    rule.name, rule.kind
                ),
            ));
        }
        seen.push((key, source.clone()));
        rule.source = source;
        rules.push(rule);
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::ColumnDoc;
    use crate::warehouse::ForeignKey;

    const TABLES: &str = "\
version: 2

models:
  - name: products
    description: One row per product.
    synonyms: [items, articles]
    config:
      materialized: table
    meta:
      owner: merchandising
    columns:
      - name: product_id
        description: Primary key.
        data_type: integer
        tests: [unique, not_null]
      - name: current_price
        description: |
          Shelf price today.
          Changes weekly.
        synonyms: [price]
        unit: USD
    primary_key: [product_id]

  # sales facts
  - name: sales
    description: One row per product, store and day.
    columns:
      - name: product_id
        description: The product sold.
        data_tests:
          - relationships:
              to: ref('products')
              field: product_id
    foreign_keys:
      - {from_column: product_id, to_table: products, to_column: product_id}
sources:
  - name: raw
    tables: [{name: pos}]
";

    const EXAMPLES: &str = "\
# Curated question/SQL pairs.
examples:
- question: Top 5 products by revenue
  sql: |
    SELECT p.name, SUM(s.revenue) AS revenue
    FROM sales s JOIN products p USING (product_id)
    GROUP BY p.name ORDER BY revenue DESC LIMIT 5
- question: How many stores are there?
  sql: SELECT COUNT(*) FROM stores
";

    const RULES: &str = "\
rules:
  - name: gross margin %
    description: Gross margin over revenue, in percent.
    keywords: [margin percent, gm%]
    sql: 100.0 * SUM(gross_margin) / SUM(revenue)
    table: sales
    kind: measure
  - name: most elastic
    description: The lowest elasticity value is the most elastic.
    kind: order
    sql: elasticity_value ASC
  - name: fiscal year
    description: The fiscal year starts in February.
";

    fn write(dir: &Path, name: &str, text: &str) {
        fs::create_dir_all(dir).unwrap();
        fs::write(dir.join(name), text).unwrap();
    }

    fn domain_with_all_files() -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("retail");
        write(&dir, TABLES_FILE, TABLES);
        write(&dir, EXAMPLES_FILE, EXAMPLES);
        write(&dir, RULES_FILE, RULES);
        root
    }

    #[test]
    fn loads_tables_examples_and_rules_with_their_sources() {
        let root = domain_with_all_files();
        let dir = root.path().join("retail");
        let (kb, issues) = load_domain(&dir, "retail");
        assert_eq!(issues, vec![]);
        assert_eq!(kb.domain, "retail");

        let names: Vec<&str> = kb.tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["products", "sales"]);
        let products = kb.table("PRODUCTS").unwrap();
        assert_eq!(products.synonyms, ["items", "articles"]);
        assert_eq!(products.primary_key, ["product_id"]);
        assert_eq!(
            products.columns[1],
            ColumnDoc {
                name: "current_price".into(),
                description: "Shelf price today.\nChanges weekly.\n".into(),
                data_type: String::new(),
                synonyms: vec!["price".into()],
                unit: Some("USD".into()),
                sample_values: vec![],
            }
        );
        assert_eq!(products.columns[0].data_type, "integer");
        assert_eq!(
            kb.table("sales").unwrap().foreign_keys,
            [ForeignKey {
                from_column: "product_id".into(),
                to_table: "products".into(),
                to_column: "product_id".into()
            }]
        );

        let examples_path = dir.join(EXAMPLES_FILE).display().to_string();
        assert_eq!(kb.examples.len(), 2);
        assert_eq!(kb.examples[0].source, format!("{examples_path}:3"));
        assert_eq!(kb.examples[1].source, format!("{examples_path}:8"));
        assert!(kb.examples[0].sql.starts_with("SELECT p.name"));
        assert_eq!(kb.examples[1].question, "How many stores are there?");

        let rules_path = dir.join(RULES_FILE).display().to_string();
        let sources: Vec<&str> = kb.rules.iter().map(|r| r.source.as_str()).collect();
        assert_eq!(
            sources,
            [
                format!("{rules_path}:2"),
                format!("{rules_path}:8"),
                format!("{rules_path}:12")
            ]
        );
        assert_eq!(kb.rules[0].kind, "measure");
        assert_eq!(kb.rules[0].keywords, ["margin percent", "gm%"]);
        assert_eq!(kb.rules[0].table.as_deref(), Some("sales"));
        assert_eq!(kb.rules[2].kind, "note");
        assert_eq!(kb.rules[2].sql, None);
    }

    #[test]
    fn unknown_dbt_keys_are_ignored_not_errors() {
        let root = tempfile::tempdir().unwrap();
        let dbt = "\
version: 2
sources:
  - name: raw
    tables: [{name: pos, loaded_at_field: ts}]
models:
  - name: stores
    description: '{{ doc(\"stores\") }}'
    docs: {show: true}
    tags: [core]
    config: {materialized: view, contract: {enforced: true}}
    constraints:
      - type: primary_key
        columns: [store_id]
    columns:
      - name: store_id
        data_type: int
        quote: true
        constraints: [{type: not_null}]
        tests: [unique]
        meta: {pii: false}
exposures: []
";
        write(root.path(), TABLES_FILE, dbt);
        let (kb, issues) = load_domain(root.path(), "shop");
        assert_eq!(issues, vec![]);
        assert_eq!(kb.tables.len(), 1);
        assert_eq!(kb.tables[0].name, "stores");
        assert_eq!(kb.tables[0].columns[0].name, "store_id");
        assert_eq!(kb.tables[0].columns[0].data_type, "int");
    }

    #[test]
    fn a_broken_file_is_an_issue_with_its_line_and_the_others_still_load() {
        let root = domain_with_all_files();
        let dir = root.path().join("retail");
        write(
            &dir,
            EXAMPLES_FILE,
            "examples:\n  - question: ok\n    sql: SELECT 1\n  - question: [unclosed\n    sql: x\n",
        );
        let (kb, issues) = load_domain(&dir, "retail");
        assert_eq!(issues.len(), 1, "{issues:?}");
        let path = dir.join(EXAMPLES_FILE).display().to_string();
        assert!(
            issues[0].source.starts_with(&format!("{path}:")),
            "{:?}",
            issues[0]
        );
        let line: usize = issues[0]
            .source
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!((4..=6).contains(&line), "{:?}", issues[0]);
        assert!(
            issues[0].message.starts_with("the file is not valid YAML"),
            "{}",
            issues[0].message
        );
        assert!(kb.examples.is_empty());
        assert_eq!(kb.tables.len(), 2);
        assert_eq!(kb.rules.len(), 3);
    }

    #[test]
    fn an_item_of_the_wrong_shape_is_skipped_at_its_line() {
        let root = tempfile::tempdir().unwrap();
        write(
            root.path(),
            RULES_FILE,
            "rules:\n  - name: a\n    keywords: 3\n  - name: b\n    description: fine\n",
        );
        let (kb, issues) = load_domain(root.path(), "d");
        assert_eq!(kb.rules.len(), 1);
        assert_eq!(kb.rules[0].name, "b");
        assert_eq!(issues.len(), 1);
        assert_eq!(
            issues[0].source,
            format!("{}:2", root.path().join(RULES_FILE).display())
        );
        assert!(
            issues[0].message.starts_with("rules[0] was skipped: "),
            "{}",
            issues[0].message
        );
    }

    #[test]
    fn duplicates_are_issues_and_the_first_is_kept() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path();
        write(
            dir,
            TABLES_FILE,
            "models:\n  - name: Sales\n  - name: sales\n    description: again\n",
        );
        write(dir, EXAMPLES_FILE, "examples:\n  - question: How many?\n    sql: SELECT 1\n  - question: how  many?\n    sql: SELECT 2\n");
        write(
            dir,
            RULES_FILE,
            "rules:\n  - name: margin\n  - name: MARGIN\n  - name: elastic\n    kind: sorting\n",
        );
        let (kb, issues) = load_domain(dir, "d");
        assert_eq!(kb.tables.len(), 1);
        assert_eq!(kb.tables[0].description, "");
        assert_eq!(kb.examples.len(), 1);
        assert_eq!(kb.examples[0].sql, "SELECT 1");
        assert_eq!(
            kb.rules.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["margin", "elastic"]
        );
        assert_eq!(kb.rules[1].kind, "note");
        let messages: Vec<String> = issues.iter().map(|i| i.to_string()).collect();
        let t = dir.join(TABLES_FILE).display().to_string();
        let e = dir.join(EXAMPLES_FILE).display().to_string();
        let r = dir.join(RULES_FILE).display().to_string();
        assert_eq!(
            messages,
            [
                format!("{t}:3: table 'sales' is documented twice (first at {t}:2); this one was skipped"),
                format!("{e}:4: the question 'how  many?' is listed twice (first at {e}:2); this one was skipped"),
                format!("{r}:3: rule 'MARGIN' is defined twice (first at {r}:2); this one was skipped"),
                format!(
                    "{r}:4: rule 'elastic' has the unknown kind 'sorting' (expected measure, filter, order, note); it was loaded as a note"
                ),
            ]
        );
    }

    #[test]
    fn load_all_reads_every_domain_in_name_order_and_a_missing_dir_is_empty() {
        let root = domain_with_all_files();
        write(
            &root.path().join("finance"),
            RULES_FILE,
            "rules:\n  - name: fiscal year\n",
        );
        write(&root.path().join(".git"), RULES_FILE, "not: [yaml");
        write(root.path(), "README.md", "# knowledge\n");
        let (bases, issues) = load_all(root.path());
        assert_eq!(issues, vec![]);
        let domains: Vec<&str> = bases.iter().map(|kb| kb.domain.as_str()).collect();
        assert_eq!(domains, ["finance", "retail"]);
        assert_eq!(bases[0].rules.len(), 1);
        assert_eq!(bases[1].examples.len(), 2);

        let (bases, issues) = load_all(&root.path().join("nowhere"));
        assert!(bases.is_empty() && issues.is_empty());
    }

    #[test]
    fn an_issue_shows_its_file_and_line_apart_and_a_whole_file_has_no_line() {
        let at = |source: &str| {
            let issue = issue(source.into(), "m".into());
            let json = serde_json::to_value(&issue).unwrap();
            (
                json["file"].clone(),
                json["line"].clone(),
                json["source"].clone(),
            )
        };
        assert_eq!(
            at("/k/retail/rules.yml:12"),
            (
                "/k/retail/rules.yml".into(),
                12.into(),
                "/k/retail/rules.yml:12".into()
            )
        );
        assert_eq!(
            at("/k/retail/tables.yml"),
            (
                "/k/retail/tables.yml".into(),
                serde_json::Value::Null,
                "/k/retail/tables.yml".into()
            )
        );
        assert_eq!(at("C:\\k\\x.yml").1, serde_json::Value::Null);
        assert_eq!(at("/k/a:b/x.yml").0, "/k/a:b/x.yml");
    }

    #[test]
    fn item_sources_give_the_line_each_named_item_starts_at_whatever_its_quoting() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("semantic.yml");
        fs::write(
            &path,
            "# metrics\nsemantic_models:\n  - name: m\n    model: t\nmetrics:\n  - name: \"revenue\"\n    type: simple\n\n  # a comment\n  - type: ratio\n    name: 'margin %'\n  - {name: units, type: simple}\n",
        )
        .unwrap();
        let shown = path.display().to_string();
        assert_eq!(
            item_sources(&path, "metrics", "name"),
            [
                ("revenue".to_string(), format!("{shown}:6")),
                ("margin %".to_string(), format!("{shown}:10")),
                ("units".to_string(), format!("{shown}:12")),
            ]
        );
        assert_eq!(
            item_sources(&path, "semantic_models", "name"),
            [("m".to_string(), format!("{shown}:3"))]
        );
        // flow style: the items cannot be told apart by line, so no line rather than a wrong one
        fs::write(&path, "metrics: [{name: a}, {name: b}]\n").unwrap();
        assert!(item_sources(&path, "metrics", "name").is_empty());
        assert!(item_sources(&root.path().join("missing.yml"), "metrics", "name").is_empty());
    }

    #[test]
    fn empty_and_comment_only_files_load_as_nothing() {
        let root = tempfile::tempdir().unwrap();
        write(root.path(), TABLES_FILE, "");
        write(root.path(), EXAMPLES_FILE, "# nothing yet\n");
        write(root.path(), RULES_FILE, "rules:\n");
        let (kb, issues) = load_domain(root.path(), "d");
        assert_eq!(issues, vec![]);
        assert!(kb.tables.is_empty() && kb.examples.is_empty() && kb.rules.is_empty());
    }

    #[test]
    fn save_then_load_round_trips() {
        let root = domain_with_all_files();
        let (original, _) = load_domain(&root.path().join("retail"), "retail");
        let copy_dir = root.path().join("copy");
        save_domain(&copy_dir, &original).unwrap();
        let (copy, issues) = load_domain(&copy_dir, "retail");
        assert_eq!(issues, vec![]);
        assert_eq!(copy.tables, original.tables);
        let strip = |e: &Example| Example {
            source: String::new(),
            ..e.clone()
        };
        assert_eq!(
            copy.examples.iter().map(strip).collect::<Vec<_>>(),
            original.examples.iter().map(strip).collect::<Vec<_>>()
        );
        let strip = |r: &BusinessRule| BusinessRule {
            source: String::new(),
            ..r.clone()
        };
        assert_eq!(
            copy.rules.iter().map(strip).collect::<Vec<_>>(),
            original.rules.iter().map(strip).collect::<Vec<_>>()
        );
        // The sources point into the new files.
        assert!(copy.rules[0]
            .source
            .starts_with(&copy_dir.join(RULES_FILE).display().to_string()));
        // No temporary file is left behind.
        let mut names: Vec<String> = fs::read_dir(&copy_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, [EXAMPLES_FILE, RULES_FILE, TABLES_FILE]);
        assert!(fs::read_to_string(copy_dir.join(TABLES_FILE))
            .unwrap()
            .contains("version: 2"));
    }

    #[test]
    fn saving_over_existing_files_replaces_them() {
        let root = domain_with_all_files();
        let dir = root.path().join("retail");
        let (mut kb, _) = load_domain(&dir, "retail");
        kb.examples.truncate(1);
        kb.rules.clear();
        save_domain(&dir, &kb).unwrap();
        let (again, issues) = load_domain(&dir, "retail");
        assert_eq!(issues, vec![]);
        assert_eq!(again.examples.len(), 1);
        assert!(again.rules.is_empty());
        assert_eq!(again.tables.len(), 2);
    }
}
