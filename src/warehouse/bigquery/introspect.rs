//! A BigQuery dataset's schema, read in a few queries: columns from
//! `INFORMATION_SCHEMA.COLUMNS` (names, types, nullability, order), row counts from
//! `__TABLES__`, primary and foreign keys from `INFORMATION_SCHEMA.TABLE_CONSTRAINTS`,
//! `KEY_COLUMN_USAGE` and `CONSTRAINT_COLUMN_USAGE` (BigQuery's keys are declared, not
//! enforced), then per table one query of approximate distinct counts and one of sample values.
//!
//! Only the columns query must succeed. Row counts, keys and a table's sampling that fail (no
//! permission, a partition filter required, over the maximum bytes billed) are logged and left
//! out: the table is served without them. The distinct values of low-cardinality columns are
//! kept whole, for the value index.

use std::collections::HashMap;
use std::time::Instant;

use serde_json::Value;

use super::{quote, BigQueryWarehouse};
use crate::error::QuerentResult;
use crate::knowledge::values::MAX_DISTINCT_PER_COLUMN;
use crate::warehouse::{ColumnSchema, ExecutionLimits, ForeignKey, Rows, Schema, TableSchema};

/// Limits of one introspection query.
pub(super) const INTROSPECTION_LIMITS: ExecutionLimits = ExecutionLimits {
    max_rows: 100_000,
    timeout_ms: 60_000,
};

/// Distinct sample values shown per column.
const SAMPLE_VALUES: usize = 5;

/// Types whose values are sampled and counted (scalars that compare and cast to text).
const SAMPLED_TYPES: &[&str] = &[
    "STRING",
    "INT64",
    "FLOAT64",
    "NUMERIC",
    "BIGNUMERIC",
    "BOOL",
    "DATE",
    "DATETIME",
    "TIMESTAMP",
    "TIME",
];

/// Distinct values of low-cardinality columns, by lower-case (table, column).
pub(super) type ValueCache = HashMap<(String, String), Vec<String>>;

/// Reads the dataset's schema and the whole value lists of its low-cardinality columns.
///
/// Errors: the columns query fails (no such dataset, no permission, BigQuery unreachable).
pub(super) fn introspect(w: &BigQueryWarehouse) -> QuerentResult<(Schema, ValueCache)> {
    let started = Instant::now();
    let views = format!(
        "{}.{}.INFORMATION_SCHEMA",
        quote(&w.dataset.project),
        quote(&w.dataset.dataset)
    );
    let columns = w.internal(
        &format!(
            "SELECT table_name, column_name, data_type, is_nullable FROM {views}.COLUMNS \
             ORDER BY table_name, ordinal_position"
        ),
        INTROSPECTION_LIMITS,
    )?;
    let mut tables: Vec<TableSchema> = Vec::new();
    for row in &columns.rows {
        let (Some(table), Some(column)) = (text(row, 0), text(row, 1)) else {
            continue;
        };
        if tables.last().map(|t| t.name.as_str()) != Some(table) {
            tables.push(TableSchema {
                name: table.to_string(),
                ..Default::default()
            });
        }
        if let Some(t) = tables.last_mut() {
            t.columns.push(ColumnSchema {
                name: column.to_string(),
                data_type: text(row, 2).unwrap_or("").to_string(),
                not_null: text(row, 3).is_some_and(|n| n.eq_ignore_ascii_case("NO")),
                ..Default::default()
            });
        }
    }
    row_counts(w, &mut tables);
    keys(w, &views, &mut tables);
    let mut values = ValueCache::new();
    for table in &mut tables {
        if let Err(e) = sample(w, table, &mut values) {
            tracing::warn!(dataset = %w.dataset, table = %table.name, "no distinct counts or samples: {e}");
        }
    }
    tracing::info!(
        dataset = %w.dataset,
        tables = tables.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "BigQuery dataset introspected"
    );
    Ok((Schema { tables }, values))
}

fn text(row: &[Value], i: usize) -> Option<&str> {
    row.get(i)?.as_str()
}

fn number(row: &[Value], i: usize) -> Option<u64> {
    match row.get(i)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Row counts from `__TABLES__` (table metadata: no bytes billed).
fn row_counts(w: &BigQueryWarehouse, tables: &mut [TableSchema]) {
    let sql = format!(
        "SELECT table_id, row_count FROM {}.{}.__TABLES__",
        quote(&w.dataset.project),
        quote(&w.dataset.dataset)
    );
    match w.internal(&sql, INTROSPECTION_LIMITS) {
        Ok(rows) => {
            for row in &rows.rows {
                if let (Some(name), Some(count)) = (text(row, 0), number(row, 1)) {
                    if let Some(t) = tables.iter_mut().find(|t| t.name == name) {
                        t.row_count = count;
                    }
                }
            }
        }
        Err(e) => tracing::warn!(dataset = %w.dataset, "no row counts: {e}"),
    }
}

/// Declared primary and foreign keys; a foreign key's target column is the referenced table's
/// primary-key column at the same position.
fn keys(w: &BigQueryWarehouse, views: &str, tables: &mut [TableSchema]) {
    let key_columns = w.internal(
        &format!(
            "SELECT k.table_name, k.constraint_name, c.constraint_type, k.column_name, \
             k.position_in_unique_constraint FROM {views}.KEY_COLUMN_USAGE AS k \
             JOIN {views}.TABLE_CONSTRAINTS AS c \
             ON c.constraint_name = k.constraint_name AND c.table_name = k.table_name \
             ORDER BY k.table_name, k.constraint_name, k.ordinal_position"
        ),
        INTROSPECTION_LIMITS,
    );
    let referenced = w.internal(
        &format!(
            "SELECT DISTINCT constraint_name, table_name FROM {views}.CONSTRAINT_COLUMN_USAGE"
        ),
        INTROSPECTION_LIMITS,
    );
    let (key_columns, referenced) = match (key_columns, referenced) {
        (Ok(k), Ok(r)) => (k, r),
        (Err(e), _) | (_, Err(e)) => {
            tracing::info!(dataset = %w.dataset, "no declared keys read: {e}");
            return;
        }
    };
    for row in &key_columns.rows {
        if text(row, 2) != Some("PRIMARY KEY") {
            continue;
        }
        if let (Some(table), Some(column)) = (text(row, 0), text(row, 3)) {
            if let Some(t) = tables.iter_mut().find(|t| t.name == table) {
                t.primary_key.push(column.to_string());
            }
        }
    }
    let target_of: HashMap<&str, &str> = referenced
        .rows
        .iter()
        .filter_map(|r| Some((text(r, 0)?, text(r, 1)?)))
        .collect();
    let primary_keys: HashMap<String, Vec<String>> = tables
        .iter()
        .map(|t| (t.name.clone(), t.primary_key.clone()))
        .collect();
    for row in &key_columns.rows {
        if text(row, 2) != Some("FOREIGN KEY") {
            continue;
        }
        let (Some(table), Some(constraint), Some(column)) =
            (text(row, 0), text(row, 1), text(row, 3))
        else {
            continue;
        };
        let Some(to_table) = target_of.get(constraint) else {
            continue;
        };
        let position = number(row, 4).unwrap_or(1).max(1) as usize;
        let Some(to_column) = primary_keys
            .get(*to_table)
            .and_then(|pk| pk.get(position - 1))
        else {
            continue;
        };
        if let Some(t) = tables.iter_mut().find(|t| t.name == table) {
            t.foreign_keys.push(ForeignKey {
                from_column: column.to_string(),
                to_table: to_table.to_string(),
                to_column: to_column.clone(),
            });
        }
    }
}

/// Approximate distinct counts of the table's scalar columns (one query), then sample values
/// (one query): every distinct value of the low-cardinality ones (kept in `values`), a few of
/// the others.
fn sample(
    w: &BigQueryWarehouse,
    table: &mut TableSchema,
    values: &mut ValueCache,
) -> QuerentResult<()> {
    let sampled: Vec<usize> = table
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| SAMPLED_TYPES.contains(&c.data_type.to_ascii_uppercase().as_str()))
        .map(|(i, _)| i)
        .collect();
    if sampled.is_empty() {
        return Ok(());
    }
    let t = quote(&table.name);
    let counts_sql = format!(
        "SELECT {} FROM {t}",
        sampled
            .iter()
            .map(|&i| format!(
                "APPROX_COUNT_DISTINCT({}) AS d{i}",
                quote(&table.columns[i].name)
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let counts: Rows = w.internal(&counts_sql, INTROSPECTION_LIMITS)?;
    let Some(first) = counts.rows.first() else {
        return Ok(());
    };
    for (k, &i) in sampled.iter().enumerate() {
        table.columns[i].distinct_count = number(first, k).unwrap_or(0);
    }
    // Each column's values in a subquery of its own, all in one statement.
    let whole: std::collections::HashSet<usize> = sampled
        .iter()
        .copied()
        .filter(|&i| table.columns[i].distinct_count as usize <= MAX_DISTINCT_PER_COLUMN)
        .collect();
    let parts: Vec<String> = sampled
        .iter()
        .filter(|&&i| table.columns[i].distinct_count > 0)
        .map(|&i| {
            let c = quote(&table.columns[i].name);
            let limit = if whole.contains(&i) {
                MAX_DISTINCT_PER_COLUMN + 1
            } else {
                SAMPLE_VALUES
            };
            format!(
                "SELECT {i} AS i, v FROM (SELECT DISTINCT CAST({c} AS STRING) AS v FROM {t} \
                 WHERE {c} IS NOT NULL ORDER BY v LIMIT {limit})"
            )
        })
        .collect();
    if parts.is_empty() {
        return Ok(());
    }
    let rows = w.internal(&parts.join(" UNION ALL "), INTROSPECTION_LIMITS)?;
    let mut by_column: HashMap<usize, Vec<String>> = HashMap::new();
    for row in &rows.rows {
        if let (Some(i), Some(v)) = (number(row, 0), text(row, 1)) {
            by_column.entry(i as usize).or_default().push(v.to_string());
        }
    }
    for (i, list) in by_column {
        let complete = whole.contains(&i) && list.len() <= MAX_DISTINCT_PER_COLUMN;
        let column = &mut table.columns[i];
        column.sample_values = list.iter().take(SAMPLE_VALUES).cloned().collect();
        // The approximate count may be a little off: a whole list under the cap is exact.
        if complete {
            column.distinct_count = list.len() as u64;
            values.insert(
                (
                    table.name.to_ascii_lowercase(),
                    column.name.to_ascii_lowercase(),
                ),
                list,
            );
        }
    }
    Ok(())
}
