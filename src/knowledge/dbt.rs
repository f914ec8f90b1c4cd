//! dbt import: merges the model and column descriptions of a dbt `schema.yml` into a domain's
//! table docs.
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
}

#[derive(Deserialize)]
struct DbtFile {
    #[serde(default)]
    models: Vec<TableDoc>,
}

/// Reads the dbt `schema.yml` at `path` and merges its models into `kb.tables`.
///
/// Errors: the file cannot be read, does not parse, or a model has no name.
pub fn import(path: &Path, kb: &mut KnowledgeBase) -> anyhow::Result<ImportReport> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file: DbtFile = serde_norway::from_str(&text)
        .with_context(|| format!("{} is not a dbt schema.yml", path.display()))?;
    let mut report = ImportReport {
        models: file.models.len(),
        ..Default::default()
    };
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
    Ok(report)
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
                columns_changed: 2
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
