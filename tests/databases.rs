//! Black-box tests of `serve --database-dir`: every SQLite file in the folder is served under
//! its name, introspected and indexed; requests pick one with `database`.

mod common;

use std::sync::OnceLock;

use common::{ask, get_json, TestServer};
use serde_json::json;

fn make_databases(dir: &std::path::Path) {
    std::fs::create_dir_all(dir).unwrap();
    let shop = rusqlite::Connection::open(dir.join("shop.sqlite")).unwrap();
    shop.execute_batch(
        "CREATE TABLE customer (customer_id INTEGER PRIMARY KEY, name TEXT, city TEXT);
         CREATE TABLE orders (order_id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customer(customer_id), amount REAL, status TEXT);
         INSERT INTO customer VALUES (1, 'Ada', 'London'), (2, 'Linus', 'Helsinki'), (3, 'Grace', 'New York');
         INSERT INTO orders VALUES (1, 1, 120.0, 'shipped'), (2, 1, 80.0, 'pending'), (3, 2, 42.5, 'shipped'), (4, 3, 10.0, 'cancelled');",
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("zoo")).unwrap();
    let zoo = rusqlite::Connection::open(dir.join("zoo/zoo.sqlite")).unwrap();
    zoo.execute_batch(
        "CREATE TABLE animal (id INTEGER PRIMARY KEY, name TEXT, species TEXT, age INTEGER);
         INSERT INTO animal VALUES (1, 'Rex', 'lion', 7), (2, 'Nala', 'lion', 4), (3, 'Dumbo', 'elephant', 12);",
    )
    .unwrap();
    let notes = rusqlite::Connection::open(dir.join("notes.db")).unwrap();
    notes.execute_batch("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO note VALUES (1, 'hello');").unwrap();
}

/// Curated knowledge for `shop`: one good example, one that names a missing column.
fn make_knowledge(dir: &std::path::Path) {
    std::fs::create_dir_all(dir.join("shop")).unwrap();
    std::fs::write(
        dir.join("shop/examples.yml"),
        "examples:\n  - question: Which customers live in London?\n    sql: SELECT name FROM customer WHERE city = 'London'\n  - question: What is the total discount?\n    sql: SELECT SUM(discount) FROM orders\n",
    )
    .unwrap();
}

fn server() -> &'static TestServer {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    static SERVER: OnceLock<TestServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let dir = DIR.get_or_init(|| tempfile::tempdir().unwrap());
        make_databases(&dir.path().join("db"));
        make_knowledge(&dir.path().join("knowledge"));
        TestServer::start_with_knowledge(
            &dir.path().join("knowledge"),
            &["--database-dir", dir.path().join("db").to_str().unwrap()],
        )
    })
}

#[test]
fn a_failing_example_is_reported_with_its_file_and_line_and_the_server_still_answers() {
    let (s, b) = get_json(server(), "/api/health");
    assert_eq!(s, 200);
    assert_eq!(b["status"], "degraded");
    let issues = b["knowledge_issues"].as_array().unwrap();
    assert_eq!(issues.len(), 1, "{issues:?}");
    let source = issues[0]["source"].as_str().unwrap();
    assert!(source.ends_with("shop/examples.yml:4"), "{source}");
    assert!(
        issues[0]["message"].as_str().unwrap().contains("discount"),
        "{issues:?}"
    );
    let (s, b) = get_json(server(), "/api/examples?database=shop");
    assert_eq!(s, 200);
    assert_eq!(b["examples"].as_array().unwrap().len(), 1);
    let (s, b) = ask(server(), "Which customers live in London?", Some("shop"));
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["rows"], json!([["Ada"]]));
}

#[test]
fn every_sqlite_file_of_the_folder_is_served_under_its_name() {
    let (s, b) = get_json(server(), "/api/health");
    assert_eq!(s, 200);
    let names: Vec<&str> = b["databases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["notes", "shop", "zoo"]);
}

#[test]
fn introspected_schema_has_columns_keys_and_foreign_keys() {
    let (s, b) = get_json(server(), "/api/schema?database=shop&table=orders");
    assert_eq!(s, 200, "{b}");
    let doc = &b["tables"][0];
    assert_eq!(
        doc["foreign_keys"],
        json!([{ "from_column": "customer_id", "to_table": "customer", "to_column": "customer_id" }])
    );
    assert_eq!(doc["columns"].as_array().unwrap().len(), 4);
}

#[test]
fn a_question_is_answered_on_the_database_it_names() {
    let (s, b) = ask(server(), "How many animals are there?", Some("zoo"));
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["rows"], json!([[3]]), "{b}");
    let (s, b) = ask(server(), "How many orders are shipped?", Some("shop"));
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["rows"], json!([[2]]), "{b}");
}

#[test]
fn an_unknown_database_is_a_404_listing_the_served_ones() {
    let (s, b) = ask(server(), "How many animals are there?", Some("retail"));
    assert_eq!(s, 404, "{b}");
    assert_eq!(b["error"]["code"], "unknown_database");
    assert_eq!(
        b["error"]["details"]["known_databases"],
        json!(["notes", "shop", "zoo"])
    );
}

#[test]
fn a_knowledge_write_without_database_while_several_are_served_is_a_422_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    make_databases(&dir.path().join("db"));
    std::fs::create_dir_all(dir.path().join("knowledge")).unwrap();
    let server = TestServer::start_with_knowledge(
        &dir.path().join("knowledge"),
        &[
            "--database-dir",
            dir.path().join("db").to_str().unwrap(),
            "--api-key",
            "k-123456",
        ],
    );
    let response = common::client()
        .post(server.url("/api/knowledge/examples"))
        .bearer_auth("k-123456")
        .json(&json!({"question": "How many animals?", "sql": "SELECT COUNT(*) FROM animal"}))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 422);
    let body: serde_json::Value = response.json().unwrap();
    assert_eq!(body["error"]["code"], "database_required", "{body}");
    let known = body["error"]["details"]["known_databases"]
        .as_array()
        .unwrap();
    for name in ["notes", "shop", "zoo"] {
        assert!(known.contains(&json!(name)), "{body}");
    }
    assert!(!dir.path().join("knowledge/notes").exists());
}

#[test]
fn a_knowledge_folder_no_database_uses_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    make_databases(&dir.path().join("db"));
    let knowledge = dir.path().join("knowledge");
    for folder in ["SHOP", "warehouse"] {
        std::fs::create_dir_all(knowledge.join(folder)).unwrap();
        std::fs::write(
            knowledge.join(folder).join("rules.yml"),
            "rules:\n  - name: a note\n    kind: note\n    description: kept as prose\n",
        )
        .unwrap();
    }
    let server = TestServer::start_with_knowledge(
        &knowledge,
        &["--database-dir", dir.path().join("db").to_str().unwrap()],
    );
    let (s, b) = get_json(&server, "/api/health");
    assert_eq!(s, 200);
    let issues = b["knowledge_issues"].as_array().unwrap();
    let message = |folder: &str| {
        issues
            .iter()
            .find(|i| i["source"].as_str().unwrap_or_default().ends_with(folder))
            .and_then(|i| i["message"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        message("SHOP").contains("the database is named 'shop'"),
        "{issues:?}"
    );
    assert!(
        message("warehouse").contains("matches no served database"),
        "{issues:?}"
    );
}

#[test]
fn files_are_checked_as_strictly_as_a_write_a_missing_column_a_broken_rule_an_empty_example() {
    let dir = tempfile::tempdir().unwrap();
    make_databases(&dir.path().join("db"));
    let zoo = dir.path().join("knowledge/zoo");
    std::fs::create_dir_all(&zoo).unwrap();
    std::fs::write(
        zoo.join("tables.yml"),
        "version: 2\nmodels:\n  - name: animal\n    description: the animals\n    columns:\n      - name: weight_kg\n        description: not a column of animal\n",
    )
    .unwrap();
    std::fs::write(
        zoo.join("rules.yml"),
        "rules:\n  - name: heavy animal\n    kind: filter\n    table: animal\n    sql: weight_kg > 100\n  - name: adult\n    kind: filter\n    table: animal\n    sql: age >= 5\n",
    )
    .unwrap();
    std::fs::write(
        zoo.join("examples.yml"),
        "examples:\n  - question: Which animals are tigers?\n    sql: SELECT name FROM animal WHERE species = 'tiger'\n",
    )
    .unwrap();
    let server = TestServer::start_with_knowledge(
        &dir.path().join("knowledge"),
        &["--database-dir", dir.path().join("db").to_str().unwrap()],
    );
    // the examples are checked in the background: wait for the check to finish
    let mut health = serde_json::Value::Null;
    for _ in 0..100 {
        let (s, b) = get_json(&server, "/api/health");
        assert_eq!(s, 200);
        health = b;
        if health["examples_check"]["state"] == "done" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let issues: Vec<String> = health["knowledge_issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| format!("{} {}", i["source"], i["message"]))
        .collect();
    let said = |words: &[&str]| issues.iter().any(|i| words.iter().all(|w| i.contains(w)));
    assert!(
        said(&["tables.yml", "weight_kg", "does not exist"]),
        "{issues:?}"
    );
    assert!(
        said(&["rules.yml", "heavy animal", "does not run"]),
        "{issues:?}"
    );
    assert!(said(&["examples.yml", "tigers", "no rows"]), "{issues:?}");
    // the sound rule is not reported
    assert!(!said(&["adult"]), "{issues:?}");
}
