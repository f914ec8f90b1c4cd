//! BigQuery as the warehouse, black-box: the real `querent serve` talks to a fake BigQuery that
//! speaks the real REST protocol (tests/common/fake_bigquery.rs) over a small shop dataset, and
//! the tests go through querent's HTTP API.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::fake_bigquery::FakeBigQuery;
use common::{ask, get_json, post_json, rows_match, sqlite_rows, TestServer};
use serde_json::json;

const PROJECT: &str = "acme-analytics";
const DATASET: &str = "shop";
const TOKEN: &str = "ya29.fake-token-never-printed";

/// The shop dataset: customers, products and orders with INT64, FLOAT64, NUMERIC, BOOL, DATE
/// and TIMESTAMP columns, declared keys, and deterministic rows.
fn shop_db() -> &'static Path {
    static DB: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DB.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shop.sqlite");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, region TEXT, joined DATE);
             CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, category TEXT, price REAL);
             CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id),
                 product_id INTEGER REFERENCES products(id), quantity INTEGER, amount NUMERIC,
                 paid BOOLEAN, placed_at TIMESTAMP, order_date DATE);",
        )
        .unwrap();
        let regions = ["North", "South", "East", "West"];
        for i in 1..=12 {
            conn.execute(
                "INSERT INTO customers VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![i, format!("Customer {i}"), regions[i as usize % 4], format!("2023-{:02}-01", i)],
            )
            .unwrap();
        }
        let categories = ["Frozen", "Bakery", "Dairy"];
        for i in 1..=6 {
            conn.execute(
                "INSERT INTO products VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![i, format!("Product {i}"), categories[i as usize % 3], 1.5 * i as f64],
            )
            .unwrap();
        }
        for i in 1..=60i64 {
            let quantity = 1 + i % 5;
            let product = 1 + i % 6;
            conn.execute(
                "INSERT INTO orders VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                rusqlite::params![
                    i,
                    1 + i % 12,
                    product,
                    quantity,
                    quantity as f64 * 1.5 * product as f64,
                    i % 3 != 0,
                    format!("2024-{:02}-{:02} 10:{:02}:00", 1 + i % 6, 1 + i % 28, i % 60),
                    format!("2024-{:02}-{:02}", 1 + i % 6, 1 + i % 28),
                ],
            )
            .unwrap();
        }
        (dir, path)
    })
    .1
}

/// An empty knowledge folder: the schema comes from introspection alone.
fn empty_knowledge() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

fn bigquery_flags(fake: &FakeBigQuery) -> Vec<String> {
    vec![
        "--bigquery-project".into(),
        PROJECT.into(),
        "--bigquery-datasets".into(),
        DATASET.into(),
        "--bigquery-base-url".into(),
        fake.base_url.clone(),
        "--bigquery-access-token".into(),
        TOKEN.into(),
    ]
}

/// The shared fake and a server on it, its log in a file.
fn shared() -> &'static (FakeBigQuery, TestServer, PathBuf, tempfile::TempDir) {
    static SHARED: OnceLock<(FakeBigQuery, TestServer, PathBuf, tempfile::TempDir)> =
        OnceLock::new();
    SHARED.get_or_init(|| {
        let fake = FakeBigQuery::start(shop_db(), PROJECT, DATASET, TOKEN);
        let logs = tempfile::tempdir().unwrap();
        let log = logs.path().join("querent.log");
        let flags = bigquery_flags(&fake);
        let mut args: Vec<&str> = flags.iter().map(String::as_str).collect();
        args.extend(["--query-timeout-ms", "1500"]);
        let server = TestServer::start_logged(empty_knowledge(), &args, &log);
        (fake, server, log, logs)
    })
}

fn sql(server: &TestServer, sql: &str) -> (u16, serde_json::Value) {
    post_json(
        server,
        "/api/sql",
        &json!({ "sql": sql, "database": DATASET }),
    )
}

#[test]
fn a_question_is_answered_from_the_bigquery_dataset_with_the_rows_bigquery_returned() {
    let (fake, server, _, _) = shared();
    let (status, body) = ask(server, "total amount by region", Some(DATASET));
    assert_eq!(status, 200, "{body}");
    let gold = sqlite_rows(
        shop_db(),
        "SELECT c.region, SUM(o.amount) FROM orders o JOIN customers c ON c.id = o.customer_id GROUP BY c.region",
    );
    let rows: Vec<Vec<serde_json::Value>> = serde_json::from_value(body["rows"].clone()).unwrap();
    assert!(
        rows_match(&gold, &rows),
        "{} gave {rows:?}, not {gold:?}",
        body["sql"]
    );
    // Every query went to BigQuery with the dataset as default, standard SQL and the cost cap;
    // the answer's with one row more than the limit, to tell a cut result.
    let sent: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| {
            r.method == "POST" && r.path == format!("/bigquery/v2/projects/{PROJECT}/queries")
        })
        .collect();
    assert!(!sent.is_empty());
    for r in &sent {
        assert_eq!(
            r.body["defaultDataset"],
            json!({ "datasetId": DATASET, "projectId": PROJECT })
        );
        assert_eq!(r.body["useLegacySql"], json!(false));
        assert_eq!(r.body["maximumBytesBilled"], json!("10000000000"));
        assert_eq!(
            r.authorization.as_deref(),
            Some(format!("Bearer {TOKEN}").as_str())
        );
    }
    assert!(
        sent.iter().any(|r| r.body["maxResults"] == json!(1001)
            && r.body["query"].as_str().unwrap().contains("LIMIT 1001")),
        "the answer's query asks for 1001 rows"
    );
}

#[test]
fn rows_come_back_typed_by_bigquery_field_types_in_select_order() {
    let (_, server, _, _) = shared();
    let (status, body) = sql(
        server,
        "SELECT placed_at, id, paid, amount, order_date, quantity * 2 AS twice FROM shop.orders WHERE id <= 3 ORDER BY id",
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["columns"],
        json!(["placed_at", "id", "paid", "amount", "order_date", "twice"])
    );
    assert_eq!(
        body["rows"][0],
        json!(["2024-02-02T10:01:00Z", 1, true, 6.0, "2024-02-02", 4])
    );
    assert_eq!(body["rows"][2][2], json!(false), "order 3 is not paid");
    assert_eq!(body["row_count"], json!(3));
}

#[test]
fn bare_dataset_and_project_qualified_table_names_are_all_accepted_and_others_refused() {
    let (_, server, _, _) = shared();
    for name in [
        "orders",
        "shop.orders",
        "`acme-analytics.shop.orders`",
        "`acme-analytics`.shop.orders",
    ] {
        let (status, body) = sql(server, &format!("SELECT count(*) AS n FROM {name}"));
        assert_eq!(status, 200, "{name}: {body}");
        assert_eq!(body["rows"], json!([[60]]), "{name}");
    }
    let (status, body) = sql(server, "SELECT count(*) FROM other_dataset.orders");
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "sql_rejected");
}

#[test]
fn more_rows_than_the_limit_are_paged_and_cut() {
    let fake = FakeBigQuery::start(shop_db(), PROJECT, DATASET, TOKEN);
    let flags = bigquery_flags(&fake);
    let mut args: Vec<&str> = flags.iter().map(String::as_str).collect();
    args.extend(["--max-rows", "25"]);
    let server = TestServer::start_with_knowledge(empty_knowledge(), &args);
    let (status, body) = sql(&server, "SELECT id FROM orders ORDER BY id");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["row_count"], json!(25));
    assert_eq!(body["truncated"], json!(true));
    assert_eq!(body["rows"][24], json!([25]));
}

#[test]
fn introspection_reads_types_keys_and_sample_values_from_information_schema() {
    let (_, server, _, _) = shared();
    let (status, body) = get_json(server, "/api/schema?database=shop");
    assert_eq!(status, 200, "{body}");
    let table = |name: &str| {
        body["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("table {name} in {body}"))
            .clone()
    };
    let orders = table("orders");
    let types: Vec<(String, String)> = orders["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().into(),
                c["data_type"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        types,
        [
            ("id", "INT64"),
            ("customer_id", "INT64"),
            ("product_id", "INT64"),
            ("quantity", "INT64"),
            ("amount", "NUMERIC"),
            ("paid", "BOOL"),
            ("placed_at", "TIMESTAMP"),
            ("order_date", "DATE")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert_eq!(orders["primary_key"], json!(["id"]));
    let mut foreign_keys: Vec<String> = orders["foreign_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            format!(
                "{} -> {}.{}",
                k["from_column"], k["to_table"], k["to_column"]
            )
        })
        .collect();
    foreign_keys.sort();
    assert_eq!(
        foreign_keys,
        [
            r#""customer_id" -> "customers"."id""#,
            r#""product_id" -> "products"."id""#
        ]
    );
    let region = table("customers")["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "region")
        .unwrap()
        .clone();
    assert_eq!(
        region["sample_values"],
        json!(["East", "North", "South", "West"])
    );
}

#[test]
fn a_question_naming_a_value_finds_it_through_the_value_index() {
    let (_, server, _, _) = shared();
    let (status, body) = ask(
        server,
        "how many customers in the North region",
        Some(DATASET),
    );
    assert_eq!(status, 200, "{body}");
    assert!(
        body["sql"].as_str().unwrap().contains("'North'"),
        "{}",
        body["sql"]
    );
    assert_eq!(body["rows"], json!([[3]]), "{}", body["sql"]);
}

#[test]
fn a_slow_query_is_stopped_at_the_time_limit_and_its_job_cancelled() {
    let (fake, server, _, _) = shared();
    let started = Instant::now();
    let (status, body) = sql(
        server,
        "WITH RECURSIVE c AS (SELECT 1 AS x UNION ALL SELECT x + 1 FROM c) SELECT count(*) AS n FROM c",
    );
    let elapsed = started.elapsed();
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "sql_timeout", "{body}");
    assert!(elapsed < Duration::from_millis(1500 + 3000), "{elapsed:?}");
    assert!(elapsed >= Duration::from_millis(1400), "{elapsed:?}");
    let cancels: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/cancel"))
        .collect();
    assert_eq!(cancels.len(), 1, "one cancel: {cancels:?}");
    assert_eq!(fake.cancelled_jobs().len(), 1);
}

#[test]
fn a_bigquery_error_is_an_api_error_with_a_stable_code_and_bigquerys_message() {
    let (_, server, _, _) = shared();
    let (status, body) = sql(server, "SELECT no_such_column FROM orders");
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "sql_failed");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("no_such_column"), "{message}");
}

#[test]
fn health_names_the_warehouse_and_no_secret_appears_in_health_or_the_log() {
    let (_, server, log, _) = shared();
    let (status, body) = get_json(server, "/api/health");
    assert_eq!(status, 200, "{body}");
    let db = body["databases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == DATASET)
        .unwrap_or_else(|| panic!("{body}"))
        .clone();
    assert_eq!(
        db["warehouse"],
        json!({ "kind": "bigquery", "location": "acme-analytics.shop", "max_bytes_billed": 10_000_000_000u64 })
    );
    assert_eq!(db["tables"], json!(3));
    assert!(!body.to_string().contains(TOKEN));
    // A failing query was logged by now (the error test may run later: make one here).
    let _ = sql(server, "SELECT no_such_column FROM orders");
    let text = std::fs::read_to_string(log).unwrap();
    assert!(text.contains("BigQuery dataset introspected"), "{text}");
    assert!(
        !text.contains(TOKEN) && !text.contains("fake-token"),
        "{text}"
    );
}

#[test]
fn a_query_over_the_bytes_cap_is_refused_and_introspection_goes_on_without_its_samples() {
    let fake = FakeBigQuery::start(shop_db(), PROJECT, DATASET, TOKEN);
    let flags = bigquery_flags(&fake);
    let mut args: Vec<&str> = flags.iter().map(String::as_str).collect();
    // The fake bills 8 bytes a cell: orders (60 x 8) is 3,840 bytes, customers (12 x 4) 384.
    args.extend(["--bigquery-max-bytes-billed", "2000"]);
    let server = TestServer::start_with_knowledge(empty_knowledge(), &args);
    let (status, body) = sql(&server, "SELECT count(*) FROM orders");
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "sql_cost_limit");
    assert_eq!(
        body["error"]["details"],
        json!({ "max_bytes_billed": 2000 })
    );
    let (status, body) = sql(&server, "SELECT count(*) AS n FROM customers");
    assert_eq!((status, &body["rows"]), (200, &json!([[12]])), "{body}");
    let (_, schema) = get_json(&server, "/api/schema?database=shop&table=orders");
    let samples: Vec<&serde_json::Value> = schema["tables"][0]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c.get("sample_values"))
        .collect();
    assert!(samples.is_empty(), "orders is over the cap: {schema}");
    let (_, schema) = get_json(&server, "/api/schema?database=shop&table=customers");
    assert!(schema.to_string().contains("North"), "{schema}");
}

#[test]
fn a_refused_token_stops_the_start_with_a_clear_message_that_does_not_print_it() {
    let fake = FakeBigQuery::start(shop_db(), PROJECT, DATASET, TOKEN);
    let data = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_querent"))
        .arg("serve")
        .args(["--addr", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(data.path())
        .arg("--knowledge-dir")
        .arg(empty_knowledge())
        .args([
            "--bigquery-project",
            PROJECT,
            "--bigquery-datasets",
            DATASET,
        ])
        .args(["--bigquery-base-url", &fake.base_url])
        .env("QUERENT_BIGQUERY_ACCESS_TOKEN", "wrong-secret-token")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("401") && stderr.contains("invalid authentication credentials"),
        "{stderr}"
    );
    assert!(!stderr.contains("wrong-secret-token"), "{stderr}");
    let sent = fake.requests();
    assert_eq!(
        sent[0].authorization.as_deref(),
        Some("Bearer wrong-secret-token")
    );
}

#[test]
fn the_time_a_query_takes_through_querent_and_the_fake_is_printed() {
    let (_, server, _, _) = shared();
    let mut times: Vec<f64> = (0..20)
        .map(|_| {
            let started = Instant::now();
            let (status, body) = sql(
                server,
                "SELECT region, count(*) AS n FROM customers GROUP BY region",
            );
            assert_eq!(status, 200, "{body}");
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    // Printed, not asserted: the machine is shared. Includes HTTP to querent, the guard, the
    // REST call to the fake and the fake's SQLite.
    println!(
        "BigQuery path, /api/sql round trip: p50 {:.1} ms, max {:.1} ms over 20",
        times[10], times[19]
    );
}

#[test]
fn a_deleted_job_has_its_bigquery_job_cancelled_at_bigquery_at_once() {
    // A server of its own: its fake is made slow, which would slow the other tests.
    let fake = FakeBigQuery::start(shop_db(), PROJECT, DATASET, TOKEN);
    let flags = bigquery_flags(&fake);
    let mut args: Vec<&str> = flags.iter().map(String::as_str).collect();
    args.extend(["--query-timeout-ms", "30000"]);
    let server = TestServer::start_with_knowledge(empty_knowledge(), &args);
    fake.set_delay_ms(20_000);
    let (status, job) = post_json(
        &server,
        "/api/jobs",
        &json!({ "question": "total amount by region", "database": DATASET }),
    );
    assert_eq!(status, 202, "{job}");
    let id = job["job_id"].as_str().unwrap().to_string();
    // Wait until the question's query reached BigQuery (the one asking for 1001 rows).
    let asked = Instant::now();
    let running = || {
        fake.requests()
            .iter()
            .any(|r| r.body["maxResults"] == json!(1001))
    };
    while !running() {
        assert!(
            asked.elapsed() < Duration::from_secs(60),
            "no query reached BigQuery"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(fake.cancelled_jobs().is_empty());
    let deleted = Instant::now();
    let resp = common::client()
        .delete(server.url(&format!("/api/jobs/{id}")))
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body: serde_json::Value = resp.json().unwrap();
    assert_eq!(body["state"], "cancelled", "{body}");
    while fake.cancelled_jobs().is_empty() {
        assert!(
            deleted.elapsed() < Duration::from_secs(10),
            "the BigQuery job was not cancelled"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let took = deleted.elapsed();
    // BigQuery tells an unfinished job's id within a second (jobs.query's first wait): the
    // cancel goes out then at the latest; 3 s leaves room for a loaded machine.
    assert!(took < Duration::from_secs(3), "cancelled after {took:?}");
    println!("DELETE /api/jobs to jobs.cancel at BigQuery: {took:?}");
    assert_eq!(fake.cancelled_jobs().len(), 1);
    let (_, job) = get_json(&server, &format!("/api/jobs/{id}"));
    assert_eq!(job["state"], "cancelled", "{job}");
}

/// A series' value in Prometheus text (`name{labels} value`), when present.
fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
}

#[test]
fn bytes_billed_are_read_from_bigquery_and_exported_in_metrics_and_health() {
    let (fake, server, _, _) = shared();
    let (status, body) = sql(
        server,
        "SELECT category, count(*) AS n FROM products GROUP BY category",
    );
    assert_eq!(status, 200, "{body}");
    let series = format!("querent_warehouse_bytes_billed_total{{database=\"{DATASET}\"}}");
    let started = Instant::now();
    let billed = loop {
        let text = common::client()
            .get(server.url("/metrics"))
            .send()
            .unwrap()
            .text()
            .unwrap();
        if let Some(billed) = metric(&text, &series).filter(|b| *b > 0.0) {
            let jobs = format!("querent_warehouse_jobs_total{{database=\"{DATASET}\"}}");
            assert!(metric(&text, &jobs).unwrap() >= 1.0, "{text}");
            let processed =
                format!("querent_warehouse_bytes_processed_total{{database=\"{DATASET}\"}}");
            assert!(metric(&text, &processed).unwrap() > 0.0, "{text}");
            break billed as u64;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no bytes billed in\n{text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    // What BigQuery billed (rounded to the MB, at least 10 MB a job), never more than it did.
    assert_eq!(billed % (1 << 20), 0, "{billed}");
    assert!(billed >= 10 << 20, "{billed}");
    assert!(
        billed <= fake.bytes_billed(),
        "{billed} > {}",
        fake.bytes_billed()
    );
    let (_, health) = get_json(server, "/api/health");
    let usage = &health["databases"][0]["usage"];
    assert!(
        usage["bytes_billed"].as_u64().unwrap() >= billed,
        "{health}"
    );
    assert!(usage["jobs"].as_u64().unwrap() >= 1, "{health}");
}
