//! dbt import: merges the model and column descriptions of a dbt `schema.yml` into a domain's
//! table docs, and a dbt project's `semantic_models` and `metrics` into its semantic model.
//!
//! [`import_project`] reads a file or every `.yml`/`.yaml` file of a dbt project folder
//! (`target`, `dbt_packages`, `logs` and hidden folders skipped): a file's `models:` list goes
//! to the table docs, its `semantic_models:` and `metrics:` to the manifest through
//! [`crate::semantic::dbt`]; the merged manifest is validated before the caller writes anything.
//!
//! A dbt description replaces ours when it is not empty; what dbt does not know is kept
//! (synonyms, units, sample values, keys written by hand), and a column or model we had no doc
//! for is added. Keys dbt has and querent does not (`tests`, `meta`, `config`, ...) are ignored.
//! The command `querent knowledge import-dbt` writes the result with [`super::files::save_kind`].

use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::{KnowledgeBase, TableDoc};

/// What an import changed.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ImportReport {
    /// Models read from the file.
    pub models: usize,
    /// Table docs that were not there before.
    pub tables_added: usize,
    /// Existing table docs whose description or columns changed.
    pub tables_updated: usize,
    /// Column descriptions set or added.
    pub columns_changed: usize,
    /// dbt semantic models read.
    pub semantic_models: usize,
    /// dbt metrics read (with those a measure's `create_metric` makes).
    pub metrics: usize,
    /// Semantic models and metrics added to or replaced in the manifest.
    pub semantic: crate::semantic::dbt::MergeReport,
}

#[derive(Deserialize)]
struct DbtFile {
    #[serde(default)]
    models: Vec<TableDoc>,
}

/// Reads the dbt project file or folder at `path`: its models' descriptions are merged into
/// `kb.tables`, its semantic models and metrics into `manifest` (see the module doc).
///
/// Errors: nothing readable at `path`, a file that cannot be read or is not YAML, a `models:`
/// list that does not fit, no models, semantic models or metrics at all, a semantic item that
/// does not fit (naming the file and item), or a merged manifest that does not validate
/// (naming the item). On error `kb` and `manifest` may be partly changed: write nothing.
pub fn import_project(
    path: &Path,
    kb: &mut KnowledgeBase,
    manifest: &mut crate::semantic::SemanticManifest,
) -> anyhow::Result<ImportReport> {
    let mut report = ImportReport::default();
    let mut items = crate::semantic::dbt::DbtSemantic::default();
    for file in project_files(path)? {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let value: serde_norway::Value = serde_norway::from_str(&text)
            .with_context(|| format!("{} is not YAML", file.display()))?;
        if value.get("models").is_some_and(|m| m.is_sequence()) {
            let dbt: DbtFile = serde_norway::from_value(value.clone())
                .with_context(|| format!("{} is not a dbt schema.yml", file.display()))?;
            merge_models(&file, dbt.models, kb, &mut report)?;
        }
        let source = file.display().to_string();
        let found = crate::semantic::dbt::read(&source, &value)?;
        items.semantic_models.extend(found.semantic_models);
        items.metrics.extend(found.metrics);
    }
    report.semantic_models = items.semantic_models.len();
    report.metrics = items.metrics.len();
    anyhow::ensure!(
        report.models + report.semantic_models + report.metrics > 0,
        "no dbt models, semantic_models or metrics in {}",
        path.display()
    );
    if report.semantic_models + report.metrics > 0 {
        report.semantic = crate::semantic::dbt::merge(manifest, items);
        manifest.validate().map_err(|e| {
            anyhow::anyhow!("the semantic model after the import is invalid, nothing written: {e}")
        })?;
    }
    Ok(report)
}

/// `path` itself when it is a file, else the YAML files under it in name order, skipping
/// dbt's build output, installed packages, logs and hidden folders.
fn project_files(path: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let skipped = |e: &walkdir::DirEntry| {
        let name = e.file_name().to_string_lossy();
        e.depth() > 0
            && e.file_type().is_dir()
            && (name.starts_with('.') || ["target", "dbt_packages", "logs"].contains(&&*name))
    };
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(path)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| !skipped(e))
    {
        let entry = entry.with_context(|| format!("cannot read {}", path.display()))?;
        let yaml = entry
            .path()
            .extension()
            .is_some_and(|e| e == "yml" || e == "yaml");
        if entry.file_type().is_file() && yaml {
            files.push(entry.into_path());
        }
    }
    Ok(files)
}

/// Reads the dbt `schema.yml` at `path` and merges its models into `kb.tables`.
///
/// Errors: the file cannot be read, does not parse, or a model has no name.
pub fn import(path: &Path, kb: &mut KnowledgeBase) -> anyhow::Result<ImportReport> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file: DbtFile = serde_norway::from_str(&text)
        .with_context(|| format!("{} is not a dbt schema.yml", path.display()))?;
    let mut report = ImportReport::default();
    merge_models(path, file.models, kb, &mut report)?;
    Ok(report)
}

/// Merges dbt `models` (read from `path`) into `kb.tables`, counting into `report`.
fn merge_models(
    path: &Path,
    models: Vec<TableDoc>,
    kb: &mut KnowledgeBase,
    report: &mut ImportReport,
) -> anyhow::Result<()> {
    report.models += models.len();
    let file = DbtFile { models };
    for (i, model) in file.models.into_iter().enumerate() {
        anyhow::ensure!(
            !model.name.trim().is_empty(),
            "{}: models[{i}] has no name",
            path.display()
        );
        let Some(doc) = kb
            .tables
            .iter_mut()
            .find(|t| t.name.eq_ignore_ascii_case(model.name.trim()))
        else {
            report.tables_added += 1;
            report.columns_changed += model.columns.len();
            kb.tables.push(model);
            continue;
        };
        let mut changed = false;
        if !model.description.trim().is_empty() && doc.description != model.description {
            doc.description = model.description;
            changed = true;
        }
        for column in model.columns {
            match doc
                .columns
                .iter_mut()
                .find(|c| c.name.eq_ignore_ascii_case(&column.name))
            {
                Some(ours) => {
                    if !column.description.trim().is_empty()
                        && ours.description != column.description
                    {
                        ours.description = column.description;
                        report.columns_changed += 1;
                        changed = true;
                    }
                    if ours.data_type.is_empty() && !column.data_type.is_empty() {
                        ours.data_type = column.data_type;
                        changed = true;
                    }
                }
                None => {
                    doc.columns.push(column);
                    report.columns_changed += 1;
                    changed = true;
                }
            }
        }
        report.tables_updated += usize::from(changed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::ColumnDoc;

    #[test]
    fn dbt_descriptions_fill_docs_and_hand_written_synonyms_stay() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("schema.yml");
        std::fs::write(
            &path,
            "version: 2\nmodels:\n  - name: stores\n    description: One row per store.\n    \
             tests: [unique]\n    columns:\n      - name: city\n        description: Where it is.\n      \
             - name: opened\n        description: Opening date.\n  - name: staff\n    \
             description: Employees.\n",
        )
        .unwrap();
        let mut kb = KnowledgeBase {
            domain: "shop".into(),
            tables: vec![TableDoc {
                name: "stores".into(),
                synonyms: vec!["shops".into()],
                columns: vec![ColumnDoc {
                    name: "city".into(),
                    synonyms: vec!["town".into()],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        };
        let report = import(&path, &mut kb).unwrap();
        assert_eq!(
            report,
            ImportReport {
                models: 2,
                tables_added: 1,
                tables_updated: 1,
                columns_changed: 2,
                ..Default::default()
            }
        );
        let stores = kb.table("stores").unwrap();
        assert_eq!(stores.description, "One row per store.");
        assert_eq!(stores.synonyms, vec!["shops"]);
        assert_eq!(stores.columns[0].description, "Where it is.");
        assert_eq!(stores.columns[0].synonyms, vec!["town"]);
        assert_eq!(stores.columns[1].name, "opened");
        assert_eq!(kb.table("staff").unwrap().description, "Employees.");
    }

    #[test]
    fn a_file_that_is_not_yaml_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("schema.yml");
        std::fs::write(&path, "models: [\n").unwrap();
        let err = import(&path, &mut KnowledgeBase::default()).unwrap_err();
        assert!(format!("{err:#}").contains("schema.yml"));
    }
}
