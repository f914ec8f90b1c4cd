//! End-to-end tests of the binary: `querent ask` in text and JSON, `querent serve` answering
//! over HTTP and failing with the whole error body, and the other subcommands. (The API itself
//! is tested in process, in `tests/api.rs`.)

mod common;

use std::process::Command;

use common::{demo_db, repo, Server, TestServer};

fn querent(args: &[&str]) -> std::process::Output {
    let data_dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_querent"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir.path())
        .arg("--knowledge-dir")
        .arg(repo().join("knowledge"))
        .arg("--demo-db")
        .arg(demo_db())
        .output()
        .expect("querent runs");
    out
}

#[test]
fn ask_json_prints_the_same_shape_as_the_api() {
    let out = querent(&["ask", "How many stores are in the West zone?", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "question",
        "database",
        "sql",
        "columns",
        "rows",
        "row_count",
        "insights",
        "summary",
        "confidence",
        "generation_method",
        "trace",
        "timings_ms",
    ] {
        assert!(body.get(key).is_some(), "{key} missing: {body}");
    }
    assert!(body["sql"].as_str().unwrap().contains("'West'"), "{body}");
    let gold = common::sqlite_rows(
        &demo_db(),
        "SELECT count(*) FROM stores WHERE zone = 'West'",
    );
    assert_eq!(body["rows"], serde_json::json!(gold));
}

#[test]
fn ask_prints_a_table_the_sql_and_insights() {
    let out = querent(&["ask", "total revenue by zone"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("SQL ("), "{text}");
    assert!(text.contains("West"), "{text}");
}

#[test]
fn ask_exits_2_with_the_error_code_for_an_empty_question() {
    let out = querent(&["ask", "  ", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["error"]["code"], "empty_question");
}

#[test]
fn eval_retrieval_reports_table_recall_at_k_on_the_demo_questions() {
    let file = repo().join("tests/data/demo_questions.jsonl");
    let out = querent(&["eval-retrieval", file.to_str().unwrap(), "--k", "5"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["k"], 5);
    assert_eq!(report["questions"], 25, "{report}");
    let recall = report["recall_at_k"].as_f64().unwrap();
    assert!((0.9..=1.0).contains(&recall), "{report}");
}

#[test]
fn import_dbt_merges_descriptions_into_the_domains_table_docs() {
    let knowledge = tempfile::tempdir().unwrap();
    let domain = knowledge.path().join("shop");
    std::fs::create_dir_all(&domain).unwrap();
    std::fs::write(
        domain.join("tables.yml"),
        "version: 2\nmodels:\n  - name: stores\n    synonyms: [shops]\n    columns:\n      - name: city\n        synonyms: [town]\n",
    )
    .unwrap();
    let schema = knowledge.path().join("schema.yml");
    std::fs::write(
        &schema,
        "version: 2\nmodels:\n  - name: stores\n    description: One row per store.\n    columns:\n      - name: city\n        description: Where the store is.\n        tests: [not_null]\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_querent"))
        .args(["knowledge", "import-dbt"])
        .arg(&schema)
        .arg("--knowledge-dir")
        .arg(knowledge.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 updated"));
    let (kb, issues) = querent::knowledge::files::load_domain(&domain, "shop");
    assert!(issues.is_empty(), "{issues:?}");
    let stores = kb.table("stores").unwrap();
    assert_eq!(stores.description, "One row per store.");
    assert_eq!(stores.synonyms, vec!["shops"]);
    assert_eq!(stores.columns[0].description, "Where the store is.");
    assert_eq!(stores.columns[0].synonyms, vec!["town"]);
}

#[test]
fn serve_answers_a_question_and_refuses_an_unknown_database_over_http() {
    let server = TestServer::start(&[]);
    let (status, body) = server.ask("How many stores are in the West zone?", None);
    assert_eq!(status, 200, "{body}");
    let gold = common::sqlite_rows(
        &demo_db(),
        "SELECT count(*) FROM stores WHERE zone = 'West'",
    );
    assert_eq!(body["rows"], serde_json::json!(gold));
    let (status, body) = server.ask("How many stores are there?", Some("nope"));
    assert_eq!(status, 404);
    assert_eq!(
        body,
        serde_json::json!({ "error": {
            "code": "unknown_database",
            "message": "unknown database 'nope'; known databases: chinook, retail",
            "details": { "known_databases": ["chinook", "retail"] },
        }})
    );
}

#[test]
fn serve_started_from_any_directory_serves_the_pages_built_into_the_binary() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let cwd = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_querent"))
        .current_dir(cwd.path())
        .args(["serve", "--exit-on-stdin-close", "--addr", "127.0.0.1:0"])
        .arg("--demo-db")
        .arg(demo_db())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the querent binary starts");
    let _stdin = child.stdin.take();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(url) = line.strip_prefix("querent listening on ") {
                    break url.trim().to_string();
                }
            }
            _ => panic!("querent serve exited before listening (started in a temp directory)"),
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let client = common::client();
    let page = client.get(format!("{base}/")).send().unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().unwrap().contains("/static/app.js"));
    let js = client.get(format!("{base}/static/app.js")).send().unwrap();
    assert_eq!(js.status(), 200);
    assert_eq!(
        js.bytes().unwrap().to_vec(),
        std::fs::read(repo().join("static/app.js")).unwrap()
    );
    let missing = client
        .get(format!("{base}/static/nothing.js"))
        .send()
        .unwrap();
    assert_eq!(missing.status(), 404);
    let health = client.get(format!("{base}/api/health")).send().unwrap();
    let health: serde_json::Value = health.json().unwrap();
    assert_eq!(health["retrieval"]["mode"], "vector", "{health}");
    let _ = child.kill();
    let _ = child.wait();
}
