//! The SQLite warehouse: read-only connections, a time limit per statement, introspection.
//!
//! Three locks keep a statement read-only even if the guard were bypassed: the file is opened
//! with `SQLITE_OPEN_READ_ONLY`, an authorizer denies every action but reads, selects and
//! harmless functions (<https://sqlite.org/c3ref/set_authorizer.html>), and `query_only` is on.
//! A progress handler interrupts a statement past its deadline
//! (<https://sqlite.org/c3ref/progress_handler.html>). Connections are pooled; each call takes
//! one, so callers run this off the async threads.
//!
//! Memory is bounded per connection by SQLite's run-time limits
//! (<https://www.sqlite.org/c3ref/c_limit_attached.html>: no string or blob over
//! [`MAX_VALUE_BYTES`], no attached database) and per result by the cell and size caps of
//! [`super`]. A file that goes away, is replaced, truncated or overwritten with garbage gives
//! [`QuerentError::DatabaseUnavailable`] (503) and shows in [`Warehouse::availability`]; when
//! the file comes back, the next call opens it again. A freed large value goes back to the
//! system at once ([`super::allocator`]), so one statement's values are not kept after it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use super::{
    cell_bytes, cut_cell, CancellationToken, ColumnSchema, Dialect, ExecutionLimits, ForeignKey,
    Rows, Schema, TableSchema, Warehouse, WarehouseInfo, MAX_CELL_BYTES, MAX_RESULT_BYTES,
};
use crate::error::{QuerentError, QuerentResult};
use crate::sql::guard::ValidatedSql;

/// Functions that touch the file system or load code; denied by the authorizer.
const DENIED_FUNCTIONS: &[&str] = &[
    "load_extension",
    "readfile",
    "writefile",
    "edit",
    "fts3_tokenizer",
    // the library's version and build options
    "sqlite_version",
    "sqlite_source_id",
    "sqlite_compileoption_get",
    "sqlite_compileoption_used",
];

/// The longest string or blob a statement may make or read, in bytes
/// (`SQLITE_LIMIT_LENGTH`): `printf('%.*c', 20000000, 'x')` or `zeroblob(1e9)` fail instead of
/// allocating. Larger than [`MAX_CELL_BYTES`], which cuts what is returned.
pub const MAX_VALUE_BYTES: i32 = 16 * 1024 * 1024;

/// SQLite's run-time limits set on every connection, with why.
const CONNECTION_LIMITS: &[(std::os::raw::c_int, i32)] = &[
    // strings, blobs and rows
    (rusqlite::ffi::SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES),
    // the statement's text (the request body is capped before it anyway)
    (rusqlite::ffi::SQLITE_LIMIT_SQL_LENGTH, 1_000_000),
    // no ATTACH, whatever gets past the guard and the authorizer
    (rusqlite::ffi::SQLITE_LIMIT_ATTACHED, 0),
    // LIKE / GLOB patterns
    (rusqlite::ffi::SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 10_000),
    // expression nesting and compound SELECTs
    (rusqlite::ffi::SQLITE_LIMIT_EXPR_DEPTH, 500),
    (rusqlite::ffi::SQLITE_LIMIT_COMPOUND_SELECT, 500),
    // no helper threads for sorting
    (rusqlite::ffi::SQLITE_LIMIT_WORKER_THREADS, 0),
];

/// The first 16 bytes of every SQLite database file (<https://www.sqlite.org/fileformat.html>).
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Distinct values sampled per column at introspection.
const SAMPLE_VALUES: usize = 5;

/// Distinct counts are computed exactly up to this many rows, and flagged as capped beyond.
pub const DISTINCT_SCAN_ROWS: u64 = 200_000;

/// A SQLite database file opened read-only.
pub struct SqliteWarehouse {
    path: PathBuf,
    /// Idle connections, all to the file identified by `file`.
    pool: Mutex<Pool>,
}

/// The pooled connections and the identity (device, inode) of the file they opened.
#[derive(Default)]
struct Pool {
    connections: Vec<Connection>,
    file: Option<(u64, u64)>,
}

/// The file's identity (device, inode), to tell a replaced file from the one that was opened.
fn file_identity(meta: &std::fs::Metadata) -> (u64, u64) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        (meta.dev(), meta.ino())
    }
    #[cfg(not(unix))]
    {
        (meta.len(), 0)
    }
}

impl SqliteWarehouse {
    /// Opens `path` read-only. Errors: [`QuerentError::Internal`] when the file is missing or is
    /// not a SQLite database.
    pub fn open(path: &Path) -> QuerentResult<Self> {
        if !path.is_file() {
            return Err(QuerentError::Internal(format!(
                "no database file at {}",
                path.display()
            )));
        }
        super::allocator::return_large_blocks();
        let warehouse = Self {
            path: path.to_path_buf(),
            pool: Mutex::new(Pool::default()),
        };
        // Open one connection now so that a broken file fails here, not at the first question.
        let conn = warehouse.connect()?;
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })
        .map_err(|e| {
            QuerentError::Internal(format!("{} is not a SQLite database: {e}", path.display()))
        })?;
        let file = std::fs::metadata(path).ok().map(|m| file_identity(&m));
        let mut pool = warehouse.pool.lock();
        pool.file = file;
        pool.connections.push(conn);
        drop(pool);
        Ok(warehouse)
    }

    /// Checks that the file is still a SQLite database and returns its identity; drops the
    /// pooled connections when the file is gone or is another file now.
    ///
    /// Errors: [`QuerentError::DatabaseUnavailable`] when the file is missing, unreadable, too
    /// short or without SQLite's header.
    fn check_file(&self) -> QuerentResult<(u64, u64)> {
        use std::io::Read;
        let unavailable = |reason: String| {
            self.pool.lock().connections.clear();
            QuerentError::DatabaseUnavailable { reason }
        };
        let mut file = std::fs::File::open(&self.path)
            .map_err(|e| unavailable(format!("the database file cannot be opened ({e})")))?;
        let meta = file
            .metadata()
            .map_err(|e| unavailable(format!("the database file cannot be read ({e})")))?;
        let mut header = [0u8; 16];
        if meta.len() < 512 || file.read_exact(&mut header).is_err() {
            return Err(unavailable(format!(
                "the database file is truncated ({} bytes)",
                meta.len()
            )));
        }
        if &header != SQLITE_HEADER {
            return Err(unavailable(
                "the database file is not a SQLite database any more (overwritten?)".into(),
            ));
        }
        let identity = file_identity(&meta);
        let mut pool = self.pool.lock();
        if pool.file != Some(identity) {
            pool.connections.clear();
            pool.file = Some(identity);
        }
        Ok(identity)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn connect(&self) -> QuerentResult<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let mut conn = Connection::open_with_flags(&self.path, flags).map_err(|e| {
            QuerentError::DatabaseUnavailable {
                reason: format!("the database file cannot be opened ({e})"),
            }
        })?;
        conn.execute_batch("PRAGMA query_only = ON;").map_err(|e| {
            QuerentError::DatabaseUnavailable {
                reason: format!("the database file cannot be read ({e})"),
            }
        })?;
        for &(limit, value) in CONNECTION_LIMITS {
            // SAFETY: the handle is this open connection's, used on this thread only while
            // `conn` is borrowed; sqlite3_limit only reads and sets an integer of it.
            unsafe {
                rusqlite::ffi::sqlite3_limit(conn.handle(), limit, value);
            }
        }
        conn.authorizer(Some(authorize))
            .map_err(|e| QuerentError::Internal(format!("cannot install the authorizer: {e}")))?;
        Ok(conn)
    }

    /// Runs `f` on a pooled connection, after checking the file. A connection that met a
    /// broken file is not pooled again.
    fn with_connection<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> QuerentResult<T>,
    ) -> QuerentResult<T> {
        let identity = self.check_file()?;
        let pooled = self.pool.lock().connections.pop();
        let mut conn = match pooled {
            Some(c) => c,
            None => self.connect()?,
        };
        let result = f(&mut conn);
        let broken = matches!(result, Err(QuerentError::DatabaseUnavailable { .. }));
        let mut pool = self.pool.lock();
        if !broken && pool.file == Some(identity) {
            pool.connections.push(conn);
        }
        result
    }

    /// Runs trusted internal SQL (introspection) and maps each row with `map`.
    fn internal_query<T>(
        &self,
        conn: &Connection,
        sql: &str,
        mut map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> QuerentResult<Vec<T>> {
        let mut stmt = conn
            .prepare(sql)
            .map_err(|e| QuerentError::Internal(format!("{sql}: {e}")))?;
        let rows = stmt
            .query_map([], |r| map(r))
            .map_err(|e| QuerentError::Internal(format!("{sql}: {e}")))?;
        rows.collect::<rusqlite::Result<Vec<T>>>()
            .map_err(|e| QuerentError::Internal(format!("{sql}: {e}")))
    }
}

fn authorize(ctx: AuthContext<'_>) -> Authorization {
    match ctx.action {
        AuthAction::Read { .. } | AuthAction::Select | AuthAction::Recursive => {
            Authorization::Allow
        }
        AuthAction::Function { function_name } => {
            if DENIED_FUNCTIONS
                .iter()
                .any(|f| f.eq_ignore_ascii_case(function_name))
            {
                Authorization::Deny
            } else {
                Authorization::Allow
            }
        }
        // `PRAGMA query_only` at connect time and the table-valued pragma functions used by
        // introspection (pragma_table_info, ...) arrive as Pragma actions: allow the read-only ones.
        AuthAction::Pragma { pragma_name, .. } => {
            let allowed = [
                "query_only",
                "table_info",
                "table_xinfo",
                "foreign_key_list",
                "index_list",
                "index_info",
            ];
            if allowed.iter().any(|p| p.eq_ignore_ascii_case(pragma_name)) {
                Authorization::Allow
            } else {
                Authorization::Deny
            }
        }
        _ => Authorization::Deny,
    }
}

/// Quotes an identifier for SQLite (`"name"`, inner quotes doubled).
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A cell as JSON, and whether its text was cut at [`MAX_CELL_BYTES`] (only what is kept is
/// copied out of SQLite).
fn value_to_json(v: ValueRef<'_>) -> (serde_json::Value, bool) {
    let value = match v {
        ValueRef::Null => serde_json::Value::Null,
        ValueRef::Integer(i) => serde_json::Value::from(i),
        ValueRef::Real(f) => serde_json::Number::from_f64(f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        ValueRef::Text(t) => {
            // A few bytes past the cap, so that a character cut at the cap is dropped whole.
            let kept = &t[..t.len().min(MAX_CELL_BYTES + 4)];
            let mut text = String::from_utf8_lossy(kept).into_owned();
            let cut = cut_cell(&mut text, t.len());
            return (serde_json::Value::String(text), cut);
        }
        ValueRef::Blob(b) => serde_json::Value::String(format!("<{} bytes>", b.len())),
    };
    (value, false)
}

fn map_sql_error(e: rusqlite::Error, interrupted: bool, limit_ms: u64) -> QuerentError {
    if interrupted {
        return QuerentError::SqlTimeout { limit_ms };
    }
    use rusqlite::ErrorCode;
    match &e {
        // The file, not the statement: corrupted, truncated, replaced or unreadable.
        rusqlite::Error::SqliteFailure(err, _)
            if matches!(
                err.code,
                ErrorCode::DatabaseCorrupt
                    | ErrorCode::NotADatabase
                    | ErrorCode::CannotOpen
                    | ErrorCode::SystemIoFailure
                    | ErrorCode::FileLockingProtocolFailed
            ) =>
        {
            QuerentError::DatabaseUnavailable {
                reason: format!("the database file cannot be read ({e})"),
            }
        }
        rusqlite::Error::SqliteFailure(err, _)
            if err.code == rusqlite::ErrorCode::AuthorizationForStatementDenied =>
        {
            QuerentError::SqlRejected {
                reason: format!("the database refused the statement: {e}"),
            }
        }
        _ => QuerentError::SqlFailed {
            message: e.to_string(),
        },
    }
}

impl Warehouse for SqliteWarehouse {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn run(
        &self,
        sql: &ValidatedSql,
        limits: ExecutionLimits,
        cancel: &CancellationToken,
    ) -> QuerentResult<Rows> {
        if cancel.is_cancelled() {
            return Err(QuerentError::Cancelled);
        }
        self.with_connection(|conn| {
            let deadline = Instant::now() + Duration::from_millis(limits.timeout_ms);
            let interrupted = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let flag = interrupted.clone();
            let cancelled = cancel.clone();
            conn.progress_handler(
                10_000,
                Some(move || {
                    let stop = Instant::now() > deadline;
                    if stop {
                        flag.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                    stop || cancelled.is_cancelled()
                }),
            )
            .map_err(|e| QuerentError::Internal(e.to_string()))?;
            let was = |e| {
                if cancel.is_cancelled() {
                    return QuerentError::Cancelled;
                }
                map_sql_error(
                    e,
                    interrupted.load(std::sync::atomic::Ordering::Relaxed),
                    limits.timeout_ms,
                )
            };
            let result = (|| {
                let mut stmt = conn.prepare(sql.as_str()).map_err(was)?;
                let columns: Vec<String> = stmt
                    .column_names()
                    .into_iter()
                    .map(|c| c.to_string())
                    .collect();
                let n = columns.len();
                let mut rows = stmt.query([]).map_err(was)?;
                let mut out = Vec::new();
                let (mut truncated, mut truncated_cells, mut bytes) = (false, false, 0usize);
                while let Some(row) = rows.next().map_err(was)? {
                    if out.len() >= limits.max_rows {
                        truncated = true;
                        break;
                    }
                    let mut values = Vec::with_capacity(n);
                    for i in 0..n {
                        let (value, cut) = value_to_json(row.get_ref(i).map_err(was)?);
                        truncated_cells |= cut;
                        bytes += cell_bytes(&value);
                        values.push(value);
                    }
                    if bytes > MAX_RESULT_BYTES {
                        truncated = true;
                        break;
                    }
                    out.push(values);
                }
                Ok(Rows {
                    columns,
                    rows: out,
                    truncated,
                    truncated_cells,
                })
            })();
            conn.progress_handler(0, None::<fn() -> bool>)
                .map_err(|e| QuerentError::Internal(e.to_string()))?;
            result
        })
    }

    fn introspect(&self) -> QuerentResult<Schema> {
        self.with_connection(|conn| {
            let names: Vec<String> = self.internal_query(
                conn,
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
                |r| r.get(0),
            )?;
            let mut tables = Vec::with_capacity(names.len());
            for name in names {
                let q = quote_ident(&name);
                let info: Vec<(String, String, bool, i64)> = self.internal_query(
                    conn,
                    &format!("SELECT name, type, \"notnull\", pk FROM pragma_table_info({})", sql_string(&name)),
                    |r| Ok((r.get(0)?, r.get::<_, Option<String>>(1)?.unwrap_or_default(), r.get::<_, i64>(2)? != 0, r.get(3)?)),
                )?;
                let mut pk: Vec<(i64, String)> = info.iter().filter(|c| c.3 > 0).map(|c| (c.3, c.0.clone())).collect();
                pk.sort();
                let foreign_keys: Vec<ForeignKey> = self.internal_query(
                    conn,
                    &format!("SELECT \"from\", \"table\", \"to\" FROM pragma_foreign_key_list({})", sql_string(&name)),
                    |r| {
                        Ok(ForeignKey {
                            from_column: r.get(0)?,
                            to_table: r.get(1)?,
                            to_column: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                        })
                    },
                )?;
                let row_count: i64 =
                    conn.query_row(&format!("SELECT count(*) FROM {q}"), [], |r| r.get(0)).unwrap_or(0);
                let mut columns = Vec::with_capacity(info.len());
                for (col, data_type, not_null, _) in &info {
                    let c = quote_ident(col);
                    let distinct_count: i64 = conn
                        .query_row(
                            &format!("SELECT count(DISTINCT {c}) FROM (SELECT {c} FROM {q} LIMIT {DISTINCT_SCAN_ROWS})"),
                            [],
                            |r| r.get(0),
                        )
                        .unwrap_or(0);
                    let sample_values: Vec<String> = self
                        .internal_query(
                            conn,
                            &format!(
                                "SELECT DISTINCT CAST({c} AS TEXT) FROM (SELECT {c} FROM {q} WHERE {c} IS NOT NULL LIMIT 1000) LIMIT {SAMPLE_VALUES}"
                            ),
                            |r| r.get::<_, Option<String>>(0),
                        )
                        .unwrap_or_default()
                        .into_iter()
                        .flatten()
                        .collect();
                    columns.push(ColumnSchema {
                        name: col.clone(),
                        data_type: data_type.clone(),
                        not_null: *not_null,
                        distinct_count: distinct_count.max(0) as u64,
                        sample_values,
                    });
                }
                // A foreign key declared without its target column points at the target's primary key.
                tables.push(TableSchema {
                    name,
                    columns,
                    primary_key: pk.into_iter().map(|(_, c)| c).collect(),
                    foreign_keys,
                    row_count: row_count.max(0) as u64,
                });
            }
            resolve_implicit_fk_targets(&mut tables);
            Ok(Schema { tables })
        })
    }

    fn availability(&self) -> Result<(), String> {
        // The header check, then the schema page read through a connection.
        self.with_connection(|conn| {
            conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|_| ())
            .map_err(|e| map_sql_error(e, false, 0))
        })
        .map_err(|e| match e {
            QuerentError::DatabaseUnavailable { reason } => reason,
            other => other.to_string(),
        })
    }

    fn info(&self) -> WarehouseInfo {
        WarehouseInfo {
            kind: "sqlite",
            location: self.path.display().to_string(),
            max_bytes_billed: None,
        }
    }

    fn distinct_values(&self, table: &str, column: &str, max: usize) -> QuerentResult<Vec<String>> {
        self.with_connection(|conn| {
            let sql = format!(
                "SELECT DISTINCT CAST({c} AS TEXT) FROM {t} WHERE {c} IS NOT NULL LIMIT {limit}",
                c = quote_ident(column),
                t = quote_ident(table),
                limit = max + 1
            );
            let values: Vec<String> = self
                .internal_query(conn, &sql, |r| r.get::<_, Option<String>>(0))?
                .into_iter()
                .flatten()
                .collect();
            Ok(if values.len() > max {
                Vec::new()
            } else {
                values
            })
        })
    }
}

/// `REFERENCES t` without a column means t's primary key; fill it in, and fix the case of names.
fn resolve_implicit_fk_targets(tables: &mut [TableSchema]) {
    let pks: Vec<(String, Vec<String>)> = tables
        .iter()
        .map(|t| (t.name.clone(), t.primary_key.clone()))
        .collect();
    for t in tables.iter_mut() {
        for fk in t.foreign_keys.iter_mut() {
            if let Some((name, pk)) = pks
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(&fk.to_table))
            {
                fk.to_table = name.clone();
                if fk.to_column.is_empty() {
                    if let Some(first) = pk.first() {
                        fk.to_column = first.clone();
                    }
                }
            }
        }
    }
}

/// A SQL string literal (single quotes doubled).
fn sql_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::guard::ValidatedSql;

    fn db() -> (tempfile::TempDir, SqliteWarehouse) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE dept (id INTEGER PRIMARY KEY, name TEXT);
             CREATE TABLE emp (id INTEGER PRIMARY KEY, name TEXT, dept_id INTEGER REFERENCES dept, salary REAL);
             INSERT INTO dept VALUES (1, 'Sales'), (2, 'R&D');
             INSERT INTO emp VALUES (1, 'Ann', 1, 10.5), (2, 'Bob', 2, 20.0), (3, 'Cy', 2, NULL);",
        )
        .unwrap();
        drop(conn);
        let w = SqliteWarehouse::open(&path).unwrap();
        (dir, w)
    }

    #[test]
    fn introspect_reads_columns_keys_and_implicit_foreign_key_targets() {
        let (_d, w) = db();
        let s = w.introspect().unwrap();
        let emp = s.table("emp").unwrap();
        assert_eq!(emp.row_count, 3);
        assert_eq!(emp.primary_key, vec!["id"]);
        assert_eq!(
            emp.foreign_keys,
            vec![ForeignKey {
                from_column: "dept_id".into(),
                to_table: "dept".into(),
                to_column: "id".into()
            }]
        );
        assert_eq!(emp.column("salary").unwrap().distinct_count, 2);
        assert_eq!(
            s.table("dept")
                .unwrap()
                .column("name")
                .unwrap()
                .sample_values
                .len(),
            2
        );
    }

    #[test]
    fn run_returns_json_values_and_truncates_at_the_row_limit() {
        let (_d, w) = db();
        let sql = ValidatedSql::trusted_for_tests("SELECT name, salary FROM emp ORDER BY id");
        let rows = w
            .run(
                &sql,
                ExecutionLimits {
                    max_rows: 2,
                    timeout_ms: 1000,
                },
                &CancellationToken::new(),
            )
            .unwrap();
        assert_eq!(rows.columns, vec!["name", "salary"]);
        assert_eq!(
            rows.rows,
            vec![
                vec![serde_json::json!("Ann"), serde_json::json!(10.5)],
                vec![serde_json::json!("Bob"), serde_json::json!(20.0)]
            ]
        );
        assert!(rows.truncated);
    }

    #[test]
    fn writes_are_refused_even_without_the_guard() {
        let (_d, w) = db();
        let sql = ValidatedSql::trusted_for_tests("DELETE FROM emp");
        let err = w
            .run(&sql, ExecutionLimits::default(), &CancellationToken::new())
            .unwrap_err();
        assert!(
            matches!(
                err,
                QuerentError::SqlRejected { .. } | QuerentError::SqlFailed { .. }
            ),
            "{err:?}"
        );
        let rows = w
            .run(
                &ValidatedSql::trusted_for_tests("SELECT count(*) FROM emp"),
                ExecutionLimits::default(),
                &CancellationToken::new(),
            )
            .unwrap();
        assert_eq!(rows.rows[0][0], serde_json::json!(3));
    }

    #[test]
    fn a_runaway_query_is_stopped_at_the_time_limit() {
        let (_d, w) = db();
        let sql = ValidatedSql::trusted_for_tests(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
        );
        let err = w
            .run(
                &sql,
                ExecutionLimits {
                    max_rows: 10,
                    timeout_ms: 100,
                },
                &CancellationToken::new(),
            )
            .unwrap_err();
        assert!(
            matches!(err, QuerentError::SqlTimeout { limit_ms: 100 }),
            "{err:?}"
        );
    }

    #[test]
    fn a_cancelled_query_is_interrupted_at_once_and_says_so() {
        let (_d, w) = db();
        let sql = ValidatedSql::trusted_for_tests(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
        );
        let cancel = CancellationToken::new();
        let trigger = cancel.clone();
        let canceller = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            trigger.cancel();
        });
        let started = Instant::now();
        let err = w
            .run(
                &sql,
                ExecutionLimits {
                    max_rows: 10,
                    timeout_ms: 20_000,
                },
                &cancel,
            )
            .unwrap_err();
        canceller.join().unwrap();
        assert!(matches!(err, QuerentError::Cancelled), "{err:?}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        // the connection goes back to the pool and serves the next query
        let rows = w
            .run(
                &ValidatedSql::trusted_for_tests("SELECT count(*) FROM emp"),
                ExecutionLimits::default(),
                &CancellationToken::new(),
            )
            .unwrap();
        assert_eq!(rows.rows[0][0], serde_json::json!(3));
    }

    #[test]
    fn distinct_values_are_empty_above_the_cap() {
        let (_d, w) = db();
        assert_eq!(
            w.distinct_values("emp", "name", 2).unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(w.distinct_values("dept", "name", 5).unwrap().len(), 2);
    }
}
