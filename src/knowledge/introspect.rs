//! Table docs from introspection, and their merge with curated docs.
//!
//! Every served database gets a doc per table from its schema (types, keys, foreign keys,
//! sample values). Curated docs from `knowledge/<domain>/tables.yml` win where they say
//! something; introspection fills in what they leave out.

use crate::warehouse::Schema;

use super::{ColumnDoc, TableDoc};

/// One doc per table of `schema`, with generated descriptions.
pub fn table_docs(schema: &Schema) -> Vec<TableDoc> {
    schema
        .tables
        .iter()
        .map(|t| TableDoc {
            name: t.name.clone(),
            description: format!("Table {} ({} rows).", t.name, t.row_count),
            synonyms: Vec::new(),
            columns: t
                .columns
                .iter()
                .map(|c| ColumnDoc {
                    name: c.name.clone(),
                    description: String::new(),
                    data_type: c.data_type.clone(),
                    synonyms: Vec::new(),
                    unit: None,
                    sample_values: c.sample_values.clone(),
                })
                .collect(),
            primary_key: t.primary_key.clone(),
            foreign_keys: t.foreign_keys.clone(),
            display_columns: Vec::new(),
        })
        .collect()
}

/// Merges curated docs over introspected ones: a curated table or column keeps its text,
/// synonyms and unit; types, keys, foreign keys and samples come from introspection when the
/// curated doc leaves them empty. Curated docs of tables that do not exist are dropped (and
/// returned as the second value, for the load report); tables without a curated doc keep
/// their introspected doc.
pub fn merge(curated: &[TableDoc], introspected: Vec<TableDoc>) -> (Vec<TableDoc>, Vec<String>) {
    let unknown: Vec<String> = curated
        .iter()
        .filter(|c| {
            !introspected
                .iter()
                .any(|t| t.name.eq_ignore_ascii_case(&c.name))
        })
        .map(|c| c.name.clone())
        .collect();
    let merged = introspected
        .into_iter()
        .map(|mut t| {
            let Some(c) = curated
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(&t.name))
            else {
                return t;
            };
            if !c.description.is_empty() {
                t.description = c.description.clone();
            }
            t.synonyms = c.synonyms.clone();
            t.display_columns = c.display_columns.clone();
            if !c.primary_key.is_empty() {
                t.primary_key = c.primary_key.clone();
            }
            for fk in &c.foreign_keys {
                if !t.foreign_keys.contains(fk) {
                    t.foreign_keys.push(fk.clone());
                }
            }
            for col in t.columns.iter_mut() {
                if let Some(cc) = c
                    .columns
                    .iter()
                    .find(|cc| cc.name.eq_ignore_ascii_case(&col.name))
                {
                    if !cc.description.is_empty() {
                        col.description = cc.description.clone();
                    }
                    col.synonyms = cc.synonyms.clone();
                    col.unit = cc.unit.clone();
                    if !cc.sample_values.is_empty() {
                        col.sample_values = cc.sample_values.clone();
                    }
                }
            }
            t
        })
        .collect();
    (merged, unknown)
}
