//! The BigQuery warehouse: one dataset served as a database, over BigQuery's REST API.
//!
//! [`BigQueryClient`] (`client.rs`) holds the credentials and runs one query job within the
//! limits (time, rows, maximum bytes billed) and cancels it past its time; [`BigQueryWarehouse`]
//! is one dataset behind the [`Warehouse`] trait: queries run with the dataset as their default
//! dataset, so unqualified table names resolve there. `introspect.rs` reads the schema from
//! INFORMATION_SCHEMA; `cells.rs` reads REST cells by their field types; `config.rs` holds the
//! settings.
//!
//! Read-only: the guard lets only one query through, and the account querent runs as should
//! hold only the BigQuery Data Viewer and Job User roles, so that BigQuery itself refuses a
//! write. Every query carries `maximumBytesBilled`: BigQuery refuses one that would bill more.

mod cells;
mod client;
pub mod config;
mod introspect;

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

pub use client::{BigQueryClient, QueryLimits, UsageCounters};
pub use config::{BigQuerySettings, DatasetRef};

use super::{
    CancellationToken, ExecutionLimits, Rows, Schema, Warehouse, WarehouseInfo, WarehouseUsage,
};
use crate::error::QuerentResult;
use crate::sql::dialect::{BigQuerySql, Dialect, SqlDialect};
use crate::sql::guard::ValidatedSql;

/// One BigQuery dataset served as a database.
pub struct BigQueryWarehouse {
    client: Arc<BigQueryClient>,
    dataset: DatasetRef,
    max_bytes_billed: u64,
    /// What this dataset's jobs billed since start.
    usage: Arc<UsageCounters>,
    /// Every distinct value of the low-cardinality columns, read at introspection, by (table,
    /// column): the value index then needs no query of its own.
    values: Mutex<HashMap<(String, String), Vec<String>>>,
}

impl BigQueryWarehouse {
    /// The warehouse of `dataset`, querying through `client` with at most `max_bytes_billed`
    /// bytes billed per query. No call is made until the first query.
    pub fn new(client: Arc<BigQueryClient>, dataset: DatasetRef, max_bytes_billed: u64) -> Self {
        Self {
            client,
            dataset,
            max_bytes_billed,
            usage: Arc::default(),
            values: Mutex::new(HashMap::new()),
        }
    }

    /// The dataset served.
    pub fn dataset(&self) -> &DatasetRef {
        &self.dataset
    }

    /// Other names a query may give `table`: `dataset.table` and `project.dataset.table`.
    fn qualified(&self, table: &str) -> Vec<String> {
        vec![
            format!("{}.{table}", self.dataset.dataset),
            format!("{}.{}.{table}", self.dataset.project, self.dataset.dataset),
        ]
    }

    /// Runs trusted internal SQL (introspection) within `limits`, rows as JSON values.
    fn internal(&self, sql: &str, limits: ExecutionLimits) -> QuerentResult<Rows> {
        self.query(sql, limits, &CancellationToken::new())
    }

    /// Runs `sql` within `limits` until done or `cancel`led, rows as JSON values.
    fn query(
        &self,
        sql: &str,
        limits: ExecutionLimits,
        cancel: &CancellationToken,
    ) -> QuerentResult<Rows> {
        let output = self.client.query(
            &self.dataset,
            sql,
            QueryLimits {
                max_rows: limits.max_rows,
                timeout_ms: limits.timeout_ms,
                max_bytes_billed: self.max_bytes_billed,
            },
            cancel,
            &self.usage,
        )?;
        let mut rows = Rows {
            columns: output.fields.iter().map(|f| f.name.clone()).collect(),
            rows: output
                .rows
                .iter()
                .map(|r| cells::row_values(&output.fields, r))
                .collect(),
            truncated: output.truncated,
            truncated_cells: false,
        };
        super::cap_result_size(&mut rows);
        Ok(rows)
    }
}

/// Quotes a BigQuery identifier (backticks).
fn quote(name: &str) -> String {
    BigQuerySql.quote_identifier(name)
}

impl Warehouse for BigQueryWarehouse {
    fn dialect(&self) -> Dialect {
        Dialect::BigQuery
    }

    fn run(
        &self,
        sql: &ValidatedSql,
        limits: ExecutionLimits,
        cancel: &CancellationToken,
    ) -> QuerentResult<Rows> {
        self.query(sql.as_str(), limits, cancel)
    }

    fn introspect(&self) -> QuerentResult<Schema> {
        let (schema, values) = introspect::introspect(self)?;
        *self.values.lock() = values;
        Ok(schema)
    }

    fn distinct_values(&self, table: &str, column: &str, max: usize) -> QuerentResult<Vec<String>> {
        let key = (table.to_ascii_lowercase(), column.to_ascii_lowercase());
        if let Some(values) = self.values.lock().get(&key) {
            return Ok(if values.len() > max {
                Vec::new()
            } else {
                values.clone()
            });
        }
        let sql = format!(
            "SELECT DISTINCT CAST({c} AS STRING) AS v FROM {t} WHERE {c} IS NOT NULL LIMIT {limit}",
            c = quote(column),
            t = quote(table),
            limit = max + 1
        );
        let rows = match self.internal(&sql, introspect::INTROSPECTION_LIMITS) {
            Ok(rows) => rows,
            // Over the cost cap the column is left out of the value index, as at introspection.
            Err(e @ crate::QuerentError::SqlCostLimit { .. }) => {
                tracing::warn!(table, column, "no values indexed: {e}");
                return Ok(Vec::new());
            }
            Err(e) => return Err(e),
        };
        let values: Vec<String> = rows
            .rows
            .into_iter()
            .filter_map(|r| r.into_iter().next()?.as_str().map(str::to_string))
            .collect();
        Ok(if values.len() > max {
            Vec::new()
        } else {
            values
        })
    }

    fn table_aliases(&self, table: &str) -> Vec<String> {
        self.qualified(table)
    }

    fn info(&self) -> WarehouseInfo {
        WarehouseInfo {
            kind: "bigquery",
            location: self.dataset.to_string(),
            max_bytes_billed: Some(self.max_bytes_billed),
        }
    }

    /// This dataset's jobs since start (questions, raw SQL and introspection alike).
    fn usage(&self) -> Option<WarehouseUsage> {
        Some(self.usage.snapshot())
    }
}
