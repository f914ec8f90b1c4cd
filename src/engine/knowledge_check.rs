//! Checks of the curated knowledge as it is loaded from the files, as strict as a curation
//! write through the API (#12): a table doc's columns, keys and display columns must exist in
//! the table, and a business rule's SQL must run where the generators put it. What fails is a
//! knowledge issue naming its file (shown by `/api/health` and the `/knowledge` page); the item
//! still loads, so that one bad line does not take a domain's knowledge away.

use crate::knowledge::curation::rule_probe;
use crate::knowledge::files::LoadIssue;
use crate::knowledge::{BusinessRule, TableDoc};
use crate::warehouse::Schema;

/// Issues of curated table docs (`docs`, read from `source`) whose columns, primary key,
/// display columns or foreign keys name what `schema` does not have. A doc of a missing table
/// is reported elsewhere (it is not merged).
pub(super) fn doc_issues(schema: &Schema, docs: &[TableDoc], source: &str) -> Vec<LoadIssue> {
    let mut issues = Vec::new();
    let mut missing = |what: String| {
        issues.push(LoadIssue {
            source: source.to_string(),
            message: what,
        })
    };
    for doc in docs {
        let Some(table) = schema.table(&doc.name) else {
            continue;
        };
        let has = |c: &str| table.columns.iter().any(|x| x.name.eq_ignore_ascii_case(c));
        let named = doc
            .columns
            .iter()
            .map(|c| ("column doc", c.name.as_str()))
            .chain(doc.primary_key.iter().map(|c| ("primary key", c.as_str())))
            .chain(
                doc.display_columns
                    .iter()
                    .map(|c| ("display column", c.as_str())),
            )
            .chain(
                doc.foreign_keys
                    .iter()
                    .map(|f| ("foreign key", f.from_column.as_str())),
            );
        for (what, column) in named {
            if !has(column) {
                missing(format!(
                    "table doc '{}': {what} '{column}' is not a column of table '{}'",
                    doc.name, table.name
                ));
            }
        }
        for fk in &doc.foreign_keys {
            match schema.table(&fk.to_table) {
                None => missing(format!(
                    "table doc '{}': foreign key to table '{}', which is not in the database",
                    doc.name, fk.to_table
                )),
                Some(to)
                    if !to
                        .columns
                        .iter()
                        .any(|c| c.name.eq_ignore_ascii_case(&fk.to_column)) =>
                {
                    missing(format!(
                        "table doc '{}': foreign key to '{}.{}', which is not a column",
                        doc.name, to.name, fk.to_column
                    ))
                }
                Some(_) => {}
            }
        }
    }
    issues
}

/// Issues of business rules whose SQL does not run where the generators put it (a select item,
/// a condition, an ordering of their table), each checked with `run` (the guard and the
/// warehouse; the probe reads no row), or that name a table the database does not have.
pub(super) fn rule_issues(
    schema: &Schema,
    rules: &[BusinessRule],
    run: impl Fn(&str) -> Result<(), String>,
) -> Vec<LoadIssue> {
    let mut issues = Vec::new();
    for rule in rules {
        let (Some(sql), Some(table)) = (&rule.sql, &rule.table) else {
            continue;
        };
        if rule.kind == "note" {
            continue;
        }
        let message = match schema.table(table) {
            None => Some(format!(
                "rule '{}' applies to table '{table}', which is not in the database",
                rule.name
            )),
            Some(t) => rule_probe(&rule.kind, sql, &t.name)
                .and_then(|probe| run(&probe).err())
                .map(|e| format!("rule '{}': its SQL does not run: {e}", rule.name)),
        };
        if let Some(message) = message {
            issues.push(LoadIssue {
                source: rule.source.clone(),
                message,
            });
        }
    }
    issues
}
