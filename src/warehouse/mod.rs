//! The databases behind one trait: a [`Warehouse`] runs guarded SQL and describes its schema.
//!
//! [`sqlite::SqliteWarehouse`] is the embedded default; [`bigquery::BigQueryWarehouse`] serves a
//! BigQuery dataset behind the same trait.
//! Schema types ([`Schema`], [`TableSchema`], ...) are what introspection returns and what the
//! knowledge base and the pattern engine build on.

pub mod allocator;
pub mod bigquery;
pub mod sqlite;

use serde::{Deserialize, Serialize};

use crate::error::QuerentResult;
use crate::sql::guard::ValidatedSql;

/// The dialect lives with the SQL rules (`sql::dialect`, which knows nothing of warehouses);
/// re-exported here because every warehouse names the one it speaks.
pub use crate::sql::dialect::Dialect;
pub use bigquery::BigQueryWarehouse;
pub use sqlite::SqliteWarehouse;
/// A question's cancellation: cancelled when whoever waits for the answer goes away (a job
/// deleted, a client gone); a warehouse stops the statement it runs for it.
pub use tokio_util::sync::CancellationToken;

/// The rows a query returned. Values are JSON scalars (null, number, string).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Rows {
    /// Column names, in select-list order.
    pub columns: Vec<String>,
    /// One vector per row, `columns.len()` values each.
    pub rows: Vec<Vec<serde_json::Value>>,
    /// True when the row limit, or the cap on the result's size
    /// ([`MAX_RESULT_BYTES`]), cut the result.
    pub truncated: bool,
    /// True when at least one text cell was longer than [`MAX_CELL_BYTES`] and was cut; a cut
    /// cell ends with [`CUT_MARKER`] and its full length in bytes.
    #[serde(default)]
    pub truncated_cells: bool,
}

/// The longest text cell returned, in bytes (UTF-8); a longer one is cut and marked.
pub const MAX_CELL_BYTES: usize = 64 * 1024;

/// The most cell text one result carries, in bytes (about the size of the JSON body); the
/// rows past it are left out and the result is marked `truncated`.
pub const MAX_RESULT_BYTES: usize = 8 * 1024 * 1024;

/// What ends a cut cell, followed by the cell's full length: `…[cut: 20000000 bytes]`.
pub const CUT_MARKER: &str = "…[cut: ";

/// Cuts `text` (of `full_len` bytes when whole) to [`MAX_CELL_BYTES`] at a character
/// boundary and marks it; returns whether it was cut.
pub fn cut_cell(text: &mut String, full_len: usize) -> bool {
    if full_len <= MAX_CELL_BYTES && text.len() <= MAX_CELL_BYTES {
        return false;
    }
    let mut end = MAX_CELL_BYTES.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str(CUT_MARKER);
    text.push_str(&full_len.to_string());
    text.push_str(" bytes]");
    true
}

/// The approximate size of a cell in a JSON body, in bytes.
pub fn cell_bytes(value: &serde_json::Value) -> usize {
    match value {
        serde_json::Value::String(s) => s.len() + 2,
        _ => 8,
    }
}

/// Applies the cell and result size caps to rows read whole (BigQuery's): cuts long text
/// cells, and leaves out the rows past [`MAX_RESULT_BYTES`].
pub fn cap_result_size(rows: &mut Rows) {
    let mut total = 0usize;
    let mut keep = rows.rows.len();
    for (i, row) in rows.rows.iter_mut().enumerate() {
        for cell in row.iter_mut() {
            if let serde_json::Value::String(s) = cell {
                let len = s.len();
                if cut_cell(s, len) {
                    rows.truncated_cells = true;
                }
            }
            total += cell_bytes(cell);
        }
        if total > MAX_RESULT_BYTES {
            keep = i;
            break;
        }
    }
    if keep < rows.rows.len() {
        rows.rows.truncate(keep);
        rows.truncated = true;
    }
}

/// Limits applied to every execution.
#[derive(Debug, Clone, Copy)]
pub struct ExecutionLimits {
    /// At most this many rows are returned.
    pub max_rows: usize,
    /// The statement is interrupted after this many milliseconds.
    pub timeout_ms: u64,
}

impl Default for ExecutionLimits {
    fn default() -> Self {
        Self {
            max_rows: 1000,
            timeout_ms: 10_000,
        }
    }
}

/// A database's schema as introspected: tables, columns, keys and sample values.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Schema {
    pub tables: Vec<TableSchema>,
}

impl Schema {
    /// The table with this name (case-insensitive).
    pub fn table(&self, name: &str) -> Option<&TableSchema> {
        self.tables
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(name))
    }
}

/// One table: its columns, primary key and foreign keys.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TableSchema {
    pub name: String,
    pub columns: Vec<ColumnSchema>,
    /// Primary-key column names, in key order.
    pub primary_key: Vec<String>,
    pub foreign_keys: Vec<ForeignKey>,
    /// Number of rows at introspection time.
    pub row_count: u64,
}

impl TableSchema {
    /// The column with this name (case-insensitive).
    pub fn column(&self, name: &str) -> Option<&ColumnSchema> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

/// One column with its declared type and what introspection saw in the data.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ColumnSchema {
    pub name: String,
    /// The declared type as written in the DDL (e.g. `TEXT`, `REAL`, `varchar(20)`); may be empty.
    pub data_type: String,
    pub not_null: bool,
    /// Number of distinct non-null values (capped by introspection; see `sqlite.rs`).
    pub distinct_count: u64,
    /// Up to a few distinct sample values, as text.
    pub sample_values: Vec<String>,
}

impl ColumnSchema {
    /// The broad type of the column, from its declared type (or its sample values when untyped).
    pub fn kind(&self) -> ColumnKind {
        ColumnKind::from_declared(&self.data_type)
    }
}

/// Broad column types, as the pattern engine and the charts reason about them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    Integer,
    Real,
    Text,
    Date,
    Other,
}

impl ColumnKind {
    /// Maps a declared SQL type to a kind with SQLite's affinity rules (section 3.1 of
    /// <https://www.sqlite.org/datatype3.html>), with DATE/TIME names recognised as dates.
    pub fn from_declared(declared: &str) -> Self {
        let t = declared.to_ascii_uppercase();
        // BigQuery's composite and special types (`ARRAY<INT64>`, `INTERVAL`, ...) are none of
        // the kinds below, whatever their names contain.
        if ["ARRAY", "STRUCT", "RANGE", "INTERVAL", "JSON", "GEOGRAPHY"]
            .iter()
            .any(|p| t.starts_with(p))
        {
            Self::Other
        } else if t.contains("DATE")
            || t.contains("TIME")
            || t.contains("YEAR") && !t.contains("INT")
        {
            Self::Date
        } else if t.contains("INT") || t == "BOOLEAN" || t == "BOOL" || t == "BIT" {
            Self::Integer
        } else if t.contains("CHAR")
            || t.contains("CLOB")
            || t.contains("TEXT")
            || t.contains("STRING")
        {
            Self::Text
        } else if t.contains("REAL")
            || t.contains("FLOA")
            || t.contains("DOUB")
            || t.contains("NUM")
            || t.contains("DEC")
            || t.contains("MONEY")
        {
            Self::Real
        } else {
            Self::Other
        }
    }

    /// True for integer and real columns.
    pub fn is_numeric(self) -> bool {
        matches!(self, Self::Integer | Self::Real)
    }
}

/// A foreign key: `from_column` of the owning table references `to_table.to_column`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ForeignKey {
    pub from_column: String,
    pub to_table: String,
    pub to_column: String,
}

/// What kind of warehouse serves a database and where, for health (never a secret).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WarehouseInfo {
    /// `sqlite` or `bigquery`.
    pub kind: &'static str,
    /// The SQLite file, or the BigQuery `project.dataset`.
    pub location: String,
    /// BigQuery's cap on the bytes one query may bill.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_bytes_billed: Option<u64>,
}

/// A database querent can run guarded SQL on.
///
/// Implementations are synchronous; callers keep them off the async threads (`spawn_blocking`).
pub trait Warehouse: Send + Sync {
    /// The dialect SQL must be written in.
    fn dialect(&self) -> Dialect;

    /// Runs one guarded statement within `limits`, stopping it as soon as it can once `cancel`
    /// is cancelled (SQLite: interrupted; BigQuery: the job cancelled at BigQuery).
    ///
    /// Errors: [`crate::QuerentError::SqlFailed`] for a database error,
    /// [`crate::QuerentError::SqlTimeout`] when the time limit is hit,
    /// [`crate::QuerentError::Cancelled`] when `cancel` stopped it.
    fn run(
        &self,
        sql: &ValidatedSql,
        limits: ExecutionLimits,
        cancel: &CancellationToken,
    ) -> QuerentResult<Rows>;

    /// Introspects tables, columns, keys, row counts and sample values.
    fn introspect(&self) -> QuerentResult<Schema>;

    /// The distinct values of a low-cardinality text column (at most `max` of them), for the
    /// value index. Returns an empty vector when the column has more than `max` distinct values.
    fn distinct_values(&self, table: &str, column: &str, max: usize) -> QuerentResult<Vec<String>>;

    /// Other names a query may give `table` besides its own (BigQuery's `dataset.table` and
    /// `project.dataset.table`); the guard accepts them too. None by default.
    fn table_aliases(&self, _table: &str) -> Vec<String> {
        Vec::new()
    }

    /// The kind of warehouse and where it is, for health.
    fn info(&self) -> WarehouseInfo;

    /// Whether the database can be read now, for health: `Err` with the reason when not
    /// (a SQLite file missing or broken). Cheap; makes no query over the data. `Ok` by default.
    fn availability(&self) -> Result<(), String> {
        Ok(())
    }

    /// What the warehouse has billed since start, for metrics: `None` when it bills nothing
    /// (SQLite).
    fn usage(&self) -> Option<WarehouseUsage> {
        None
    }
}

/// A billing warehouse's totals since start (BigQuery's job statistics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WarehouseUsage {
    /// Query jobs run.
    pub jobs: u64,
    /// Jobs answered from BigQuery's own result cache (billed nothing).
    pub cache_hits: u64,
    /// Bytes processed (`totalBytesProcessed`), summed.
    pub bytes_processed: u64,
    /// Bytes billed (`statistics.query.totalBytesBilled` of each finished job), summed; read
    /// after the answer, so it may lag the jobs by one call.
    pub bytes_billed: u64,
}
