//! Property tests of the guard (harden, #13), on stable Rust with proptest.
//!
//! Three properties, over arbitrary text, SQL-like token soup and queries generated from a
//! grammar (parsed into sqlparser trees, and those trees rendered back to SQL):
//! - the guard never panics;
//! - nothing but one read-only query over known tables passes: what passes parses to one
//!   `Query` with no nested statement, and running it on a writable SQLite database changes
//!   nothing;
//! - what passes means what was written: it gives the rows of the original, limited.
//!
//! A short run is part of the tests. A long run: `QUERENT_FUZZ_SECONDS=1800 cargo test --test
//! guard_fuzz -- --nocapture` keeps generating cases for that long and prints the counts.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use querent::sql::guard::validate;
use querent::warehouse::Dialect;
use querent::QuerentError;
use sqlparser::ast::{Statement, Visit, Visitor};
use sqlparser::dialect::{BigQueryDialect, SQLiteDialect};
use sqlparser::parser::Parser;

const MAX_ROWS: usize = 7;

fn known() -> Vec<String> {
    ["products", "stores", "sales"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// A writable in-memory database with the known tables and one the guard does not know.
fn database() -> rusqlite::Connection {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch(
        "CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, price REAL, category TEXT);
         CREATE TABLE stores (id INTEGER PRIMARY KEY, city TEXT, size INTEGER);
         CREATE TABLE sales (product_id INTEGER, store_id INTEGER, units INTEGER, day TEXT);
         CREATE TABLE secrets (token TEXT);
         INSERT INTO secrets VALUES ('s3cr3t');
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40)
         INSERT INTO products SELECT i, 'p' || i, i * 1.25, CASE i % 3 WHEN 0 THEN 'frozen' ELSE 'dry' END FROM n;
         INSERT INTO stores VALUES (1, 'Lyon', 16), (2, 'Paris', 17), (3, 'Nice', NULL);
         INSERT INTO sales SELECT id, 1 + id % 3, id % 5, '2024-0' || (1 + id % 9) || '-01' FROM products;",
    )
    .unwrap();
    conn
}

/// Everything in the database, as text: a write anywhere changes it.
fn fingerprint(conn: &rusqlite::Connection) -> String {
    let mut out = String::new();
    let tables: Vec<String> = conn
        .prepare("SELECT type || ':' || name || ':' || coalesce(sql, '') FROM sqlite_master ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for t in &tables {
        out.push_str(t);
        out.push('\n');
    }
    for table in ["products", "stores", "sales", "secrets"] {
        let dump: String = conn
            .query_row(
                &format!("SELECT coalesce(group_concat(quote(t.rowid) || quote(t.*), ','), '') FROM (SELECT rowid, * FROM {table}) t"),
                [],
                |r| r.get(0),
            )
            .unwrap_or_else(|e| format!("{table}: {e}"));
        out.push_str(&dump);
    }
    out
}

/// Rows of `sql`, or the error; stopped after 200 ms.
fn rows(
    conn: &mut rusqlite::Connection,
    sql: &str,
) -> Result<Vec<Vec<rusqlite::types::Value>>, String> {
    let deadline = Instant::now() + Duration::from_millis(200);
    let _ = conn.progress_handler(1000, Some(move || Instant::now() > deadline));
    let result = (|| {
        let mut stmt = conn.prepare(sql).map_err(|e| e.to_string())?;
        let n = stmt.column_count();
        let mapped = stmt
            .query_map([], |row| {
                (0..n)
                    .map(|i| row.get::<_, rusqlite::types::Value>(i))
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| e.to_string())?;
        mapped
            .take(10_000)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())
    })();
    let _ = conn.progress_handler(0, None::<fn() -> bool>);
    result
}

/// Finds any statement nested in a query.
struct NestedStatement;

impl Visitor for NestedStatement {
    type Break = ();
    fn pre_visit_statement(&mut self, _: &Statement) -> std::ops::ControlFlow<()> {
        std::ops::ControlFlow::Break(())
    }
}

/// The checks on one input: no panic (the runner catches one), and when the guard passes it,
/// one read-only query that writes nothing and keeps the rows of the original.
fn check(sql: &str) -> Result<bool, TestCaseError> {
    let _ = validate(sql, Dialect::BigQuery, &known(), MAX_ROWS);
    let validated = match validate(sql, Dialect::Sqlite, &known(), MAX_ROWS) {
        Ok(v) => v,
        Err(QuerentError::SqlRejected { .. }) => return Ok(false),
        Err(other) => {
            return Err(TestCaseError::fail(format!(
                "{sql}: not a rejection: {other:?}"
            )))
        }
    };
    let out = validated.as_str();
    let parsed = Parser::parse_sql(&SQLiteDialect {}, out)
        .map_err(|e| TestCaseError::fail(format!("{sql} => {out}: does not parse: {e}")))?;
    let [Statement::Query(query)] = parsed.as_slice() else {
        return Err(TestCaseError::fail(format!(
            "{sql} => {out}: not one query"
        )));
    };
    if query.visit(&mut NestedStatement).is_break() {
        return Err(TestCaseError::fail(format!(
            "{sql} => {out}: a nested statement"
        )));
    }
    for table in validated.tables() {
        prop_assert!(known().contains(table), "{sql} => {out}: reads {table}");
    }
    let mut conn = database();
    let before = fingerprint(&conn);
    let ran = rows(&mut conn, out);
    prop_assert_eq!(
        &before,
        &fingerprint(&conn),
        "{} => {} changed the database",
        sql,
        out
    );
    if let Ok(r) = &ran {
        prop_assert!(r.len() <= MAX_ROWS, "{} => {}: {} rows", sql, out, r.len());
        for row in r {
            for v in row {
                prop_assert!(
                    *v != rusqlite::types::Value::Text("s3cr3t".into()),
                    "{} => {} read the unknown table",
                    sql,
                    out
                );
            }
        }
    }
    // The same meaning: the original, limited by SQLite itself, gives the same rows.
    let original = sql.trim().trim_end_matches(';');
    // (random() and randomblob() give other rows at each run)
    if !original.contains("--") && !original.to_lowercase().contains("random") {
        if let (Ok(expected), Ok(got)) = (
            rows(
                &mut conn,
                &format!("SELECT * FROM ({original}\n) LIMIT {MAX_ROWS}"),
            ),
            &ran,
        ) {
            if query.order_by.is_some() {
                prop_assert_eq!(&expected, got, "{} => {}", sql, out);
            } else if expected.len() < MAX_ROWS {
                // Unordered: the same rows, in any order.
                let sorted = |r: &Vec<Vec<rusqlite::types::Value>>| {
                    let mut v: Vec<String> = r.iter().map(|row| format!("{row:?}")).collect();
                    v.sort();
                    v
                };
                prop_assert_eq!(sorted(&expected), sorted(got), "{} => {}", sql, out);
            }
        }
    }
    Ok(true)
}

// ---- generators ------------------------------------------------------------------------------

fn literal() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u32>().prop_map(|n| format!("0x{n:X}")),
        any::<u16>().prop_map(|n| format!("0x{n:x} + 1")),
        any::<u16>().prop_map(|n| format!("X'{n:04x}'")),
        (any::<i16>(), 0u8..6).prop_map(|(m, e)| format!("{m}.5e{e}")),
        "[a-z' ]{0,8}".prop_map(|s| format!("'{}'", s.replace('\'', "''"))),
        Just("NULL".to_string()),
        Just("TRUE".to_string()),
        Just("9223372036854775808".to_string()),
        Just("-9223372036854775808".to_string()),
        Just(".5".to_string()),
        Just("1e308".to_string()),
        Just("char(0x41)".to_string()),
    ]
}

fn column() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("id".to_string()),
        Just("price".to_string()),
        Just("name".to_string()),
        Just("category".to_string()),
        Just("\"price\"".to_string()),
        Just("[name]".to_string()),
        Just("products.id".to_string()),
    ]
}

fn function() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("abs"),
        Just("length"),
        Just("upper"),
        Just("typeof"),
        Just("coalesce"),
        Just("hex"),
        Just("load_extension"),
        Just("readfile"),
        Just("writefile"),
        Just("sqlite_version"),
        Just("sqlite_compileoption_get"),
        Just("fts3_tokenizer"),
        Just("zeroblob"),
        Just("randomblob"),
        Just("printf"),
    ]
    .prop_map(str::to_string)
}

fn expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![literal(), column()];
    leaf.prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            (
                inner.clone(),
                prop::sample::select(vec![
                    "+", "-", "*", "/", "%", "||", "=", "<", ">=", "<>", "AND", "OR", "IS", "LIKE"
                ]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            inner.clone().prop_map(|a| format!("-{a}")),
            inner.clone().prop_map(|a| format!("NOT {a}")),
            (function(), prop::collection::vec(inner.clone(), 0..3))
                .prop_map(|(f, args)| format!("{f}({})", args.join(", "))),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("CASE WHEN {a} THEN {b} ELSE {c} END")),
            inner.clone().prop_map(|a| format!("CAST({a} AS TEXT)")),
            inner
                .clone()
                .prop_map(|a| format!("(SELECT max({a}) FROM stores)")),
            inner.prop_map(|a| format!("{a} IN (SELECT id FROM sales, stores)")),
        ]
    })
}

fn table() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just("products".to_string()),
        1 => Just("main.products".to_string()),
        1 => Just("stores".to_string()),
        1 => Just("secrets".to_string()),
        1 => Just("sqlite_master".to_string()),
        1 => Just("temp.products".to_string()),
        1 => Just("pragma_table_info('products')".to_string()),
        1 => Just("json_each('[1,2]')".to_string()),
        1 => Just("(SELECT * FROM products)".to_string()),
    ]
}

fn limit() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just(String::new()),
        1 => (0u32..20).prop_map(|n| format!(" LIMIT {n}")),
        1 => (0u32..5000).prop_map(|n| format!(" LIMIT {n}")),
        1 => Just(" LIMIT -1".to_string()),
        1 => (0u32..5000, 0u8..5).prop_map(|(n, o)| format!(" LIMIT {n} OFFSET {o}")),
        1 => (0u8..5, 0u32..5000).prop_map(|(o, n)| format!(" LIMIT {o}, {n}")),
        1 => Just(" LIMIT 0x10".to_string()),
        1 => Just(" LIMIT (SELECT 3)".to_string()),
    ]
}

/// A query, or a hostile statement, from a small grammar.
fn statement() -> impl Strategy<Value = String> {
    let select = (
        prop::collection::vec(expr(), 1..3),
        table(),
        prop::option::of(expr()),
        prop::option::of(column()),
        limit(),
    )
        .prop_map(|(items, from, filter, order, limit)| {
            let mut s = format!("SELECT {} FROM {from}", items.join(", "));
            if let Some(f) = filter {
                s.push_str(&format!(" WHERE {f}"));
            }
            if let Some(o) = order {
                s.push_str(&format!(" ORDER BY {o}, id"));
            }
            s + &limit
        })
        .boxed();
    let hostile = prop_oneof![
        Just("DELETE FROM products".to_string()),
        Just("UPDATE products SET price = 0".to_string()),
        Just("INSERT INTO products (id) VALUES (999)".to_string()),
        Just("DROP TABLE products".to_string()),
        Just("ATTACH DATABASE ':memory:' AS x".to_string()),
        Just("PRAGMA writable_schema = 1".to_string()),
        Just("CREATE TABLE t AS SELECT 1".to_string()),
        Just("VACUUM".to_string()),
        Just("REPLACE INTO stores VALUES (1, 'x', 1)".to_string()),
        Just("WITH d AS (DELETE FROM products RETURNING *) SELECT * FROM d".to_string()),
        Just("SELECT 1; DELETE FROM products".to_string()),
        Just("SELECT * FROM products WHERE 1 = 1; --\nDROP TABLE stores".to_string()),
    ];
    prop_oneof![
        6 => select.clone(),
        1 => (select.clone(), select.clone(), prop::sample::select(vec!["UNION", "UNION ALL", "EXCEPT", "INTERSECT"]))
            .prop_map(|(a, b, op)| format!("SELECT id FROM ({a}) {op} SELECT id FROM ({b}) ORDER BY 1")),
        1 => (select.clone(), expr()).prop_map(|(a, e)| format!("WITH c AS ({a}) SELECT *, {e} FROM c")),
        2 => hostile,
        1 => (select, prop::sample::select(vec![";", "; ;", " -- c", " /* c */", ";\n-- done"]))
            .prop_map(|(a, tail)| format!("{a}{tail}")),
    ]
}

/// SQL-looking token soup.
fn soup() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        prop::sample::select(vec![
            "SELECT",
            "FROM",
            "WHERE",
            "WITH",
            "AS",
            "UNION",
            "INSERT",
            "INTO",
            "DELETE",
            "UPDATE",
            "SET",
            "DROP",
            "TABLE",
            "ATTACH",
            "PRAGMA",
            "LIMIT",
            "OFFSET",
            "ORDER",
            "BY",
            "(",
            ")",
            ",",
            ";",
            "*",
            "=",
            "'",
            "\"",
            "`",
            "[",
            "]",
            "--",
            "/*",
            "*/",
            "\n",
            "products",
            "stores",
            "secrets",
            "sqlite_master",
            "load_extension",
            "0x10",
            "X'10'",
            "1",
            "-",
            "RETURNING",
            "VALUES",
            "RECURSIVE",
            "main",
            ".",
            "?",
            ":a",
            "$b",
            "@c",
            "\\",
            "|>",
        ])
        .prop_map(str::to_string),
        "[ -~]{1,4}",
        any::<char>().prop_map(|c| c.to_string()),
    ];
    prop::collection::vec(token, 0..30).prop_map(|t| t.join(" "))
}

// ---- runners ---------------------------------------------------------------------------------

/// Runs `property` over `strategy`: `cases` cases, or for `QUERENT_FUZZ_SECONDS` when set.
/// Returns (cases tried, cases the guard passed).
fn run(
    name: &str,
    strategy: impl Strategy<Value = String>,
    cases: u32,
    property: impl Fn(&str) -> Result<bool, TestCaseError>,
) -> (u64, u64) {
    let seconds: u64 = std::env::var("QUERENT_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let started = Instant::now();
    let passed = std::cell::Cell::new(0u64);
    let mut tried = 0u64;
    loop {
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        let result = runner.run(&strategy, |sql| {
            if property(&sql)? {
                passed.set(passed.get() + 1);
            }
            Ok(())
        });
        if let Err(e) = result {
            panic!("{name}: {e}");
        }
        tried += u64::from(cases);
        if started.elapsed().as_secs() >= seconds {
            break;
        }
    }
    println!(
        "{name}: {tried} cases in {:.1} s, {} passed the guard",
        started.elapsed().as_secs_f64(),
        passed.get()
    );
    (tried, passed.get())
}

#[test]
fn the_guard_never_panics_on_arbitrary_text() {
    run("arbitrary text", any::<String>(), 2000, check);
    run("token soup", soup(), 2000, check);
}

#[test]
fn what_passes_is_one_read_only_query_with_the_meaning_written() {
    let (tried, passed) = run("grammar", statement(), 400, check);
    assert!(
        passed > tried / 10,
        "too few generated queries pass: {passed} of {tried}"
    );
}

/// Generated trees: each generated query is parsed by sqlparser, and the tree rendered back to
/// SQL by its `Display` is checked like any text; the verdicts on the two agree (the guard
/// reads the tree, not the spelling).
#[test]
fn rendered_sqlparser_trees_get_the_same_verdict() {
    run("rendered trees", statement(), 400, |sql| {
        for (dialect, parser) in [
            (
                Dialect::Sqlite,
                Box::new(SQLiteDialect {}) as Box<dyn sqlparser::dialect::Dialect>,
            ),
            (Dialect::BigQuery, Box::new(BigQueryDialect {})),
        ] {
            let Ok(trees) = Parser::parse_sql(parser.as_ref(), sql) else {
                continue;
            };
            let rendered = trees
                .iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join("; ");
            let a = validate(sql, dialect, &known(), MAX_ROWS).is_ok();
            let b = validate(&rendered, dialect, &known(), MAX_ROWS).is_ok();
            // The rendering of a hex integer is a blob, which may turn a LIMIT unreadable.
            if !rendered.contains("X'") {
                prop_assert_eq!(a, b, "{} vs rendered {}", sql, rendered);
            }
            if dialect == Dialect::Sqlite {
                check(&rendered)?;
            }
        }
        check(sql)
    });
}
