//! The SQLite warehouse: read-only connections, a time limit per statement, introspection.
//!
//! Three locks keep a statement read-only even if the guard were bypassed: the file is opened
//! with `SQLITE_OPEN_READ_ONLY`, an authorizer denies every action but reads, selects and
//! harmless functions (<https://sqlite.org/c3ref/set_authorizer.html>), and `query_only` is on.
//! A progress handler interrupts a statement past its deadline
//! (<https://sqlite.org/c3ref/progress_handler.html>). Connections are pooled; each call takes
//! one, so callers run this off the async threads.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use super::{
    ColumnSchema, Dialect, ExecutionLimits, ForeignKey, Rows, Schema, TableSchema, Warehouse,
    WarehouseInfo,
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
];

/// Distinct values sampled per column at introspection.
const SAMPLE_VALUES: usize = 5;

/// Distinct counts are computed exactly up to this many rows, and flagged as capped beyond.
const DISTINCT_SCAN_ROWS: u64 = 200_000;

/// A SQLite database file opened read-only.
pub struct SqliteWarehouse {
    path: PathBuf,
    pool: Mutex<Vec<Connection>>,
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
        let warehouse = Self {
            path: path.to_path_buf(),
            pool: Mutex::new(Vec::new()),
        };
        // Open one connection now so that a broken file fails here, not at the first question.
        let conn = warehouse.connect()?;
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })
        .map_err(|e| {
            QuerentError::Internal(format!("{} is not a SQLite database: {e}", path.display()))
        })?;
        warehouse.pool.lock().push(conn);
        Ok(warehouse)
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
            QuerentError::Internal(format!("cannot open {}: {e}", self.path.display()))
        })?;
        conn.execute_batch("PRAGMA query_only = ON;").map_err(|e| {
            QuerentError::Internal(format!("cannot configure {}: {e}", self.path.display()))
        })?;
        conn.authorizer(Some(authorize))
            .map_err(|e| QuerentError::Internal(format!("cannot install the authorizer: {e}")))?;
        Ok(conn)
    }

    /// Runs `f` on a pooled connection.
    fn with_connection<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> QuerentResult<T>,
    ) -> QuerentResult<T> {
        let mut conn = match self.pool.lock().pop() {
            Some(c) => c,
            None => self.connect()?,
        };
        let result = f(&mut conn);
        self.pool.lock().push(conn);
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

fn value_to_json(v: ValueRef<'_>) -> serde_json::Value {
    match v {
        ValueRef::Null => serde_json::Value::Null,
        ValueRef::Integer(i) => serde_json::Value::from(i),
        ValueRef::Real(f) => serde_json::Number::from_f64(f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        ValueRef::Text(t) => serde_json::Value::String(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => serde_json::Value::String(format!("<{} bytes>", b.len())),
    }
}

fn map_sql_error(e: rusqlite::Error, interrupted: bool, limit_ms: u64) -> QuerentError {
    if interrupted {
        return QuerentError::SqlTimeout { limit_ms };
    }
    match &e {
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

    fn run(&self, sql: &ValidatedSql, limits: ExecutionLimits) -> QuerentResult<Rows> {
        self.with_connection(|conn| {
            let deadline = Instant::now() + Duration::from_millis(limits.timeout_ms);
            let interrupted = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let flag = interrupted.clone();
            conn.progress_handler(
                10_000,
                Some(move || {
                    let stop = Instant::now() > deadline;
                    if stop {
                        flag.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                    stop
                }),
            )
            .map_err(|e| QuerentError::Internal(e.to_string()))?;
            let was = |e| {
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
                let mut truncated = false;
                while let Some(row) = rows.next().map_err(was)? {
                    if out.len() >= limits.max_rows {
                        truncated = true;
                        break;
                    }
                    let mut values = Vec::with_capacity(n);
                    for i in 0..n {
                        values.push(value_to_json(row.get_ref(i).map_err(was)?));
                    }
                    out.push(values);
                }
                Ok(Rows {
                    columns,
                    rows: out,
                    truncated,
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
        let err = w.run(&sql, ExecutionLimits::default()).unwrap_err();
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
            )
            .unwrap_err();
        assert!(
            matches!(err, QuerentError::SqlTimeout { limit_ms: 100 }),
            "{err:?}"
        );
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
