//! Curation through the HTTP API of a real `querent serve`: the API key, create / read /
//! update / delete / search of examples, table docs and rules, validation errors, versions and
//! conflicts, the change log and reverts, feedback and suggested examples, and an edit seen by
//! the next question. Each keyed server works on its own copy of the knowledge base.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use common::{ask, client, demo_server, get_json, repo, TestServer};
use serde_json::{json, Value};

const KEY: &str = "test-key-0123456789";

/// A copy of the repository's knowledge base in a temporary folder.
fn knowledge_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("knowledge"), dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

struct Keyed {
    server: TestServer,
    knowledge: tempfile::TempDir,
}

/// The shared server with an API key, on its own knowledge copy.
fn keyed() -> &'static Keyed {
    static SERVER: OnceLock<Keyed> = OnceLock::new();
    SERVER.get_or_init(|| {
        let knowledge = knowledge_copy();
        let server = TestServer::start_with_knowledge(knowledge.path(), &["--api-key", KEY]);
        Keyed { server, knowledge }
    })
}

/// Sends `method path` with a JSON body and, when given, the bearer key.
fn send(
    server: &TestServer,
    method: &str,
    path: &str,
    body: Option<&Value>,
    key: Option<&str>,
) -> (u16, Value) {
    let mut request = client().request(method.parse().unwrap(), server.url(path));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(body) = body {
        request = request.json(&to_retail(path, body));
    }
    let response = request.send().expect("request");
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(Value::Null))
}

/// The servers here serve retail and chinook (the demo's two domains); a knowledge write that
/// names no `database` gets `"database": "retail"`, since without it a write is a 422 when
/// several databases are served (`tests/databases.rs` checks that).
fn to_retail(path: &str, body: &Value) -> Value {
    let mut body = body.clone();
    if let (true, Some(map)) = (path.starts_with("/api/knowledge/"), body.as_object_mut()) {
        map.entry("database").or_insert_with(|| json!("retail"));
    }
    body
}

fn write(method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    send(&keyed().server, method, path, body, Some(KEY))
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

#[test]
fn writes_without_the_key_get_401_and_a_wrong_key_too() {
    let body = json!({ "question": "how many stores are there in total?", "sql": "SELECT COUNT(*) FROM stores" });
    let (s, b) = send(
        &keyed().server,
        "POST",
        "/api/knowledge/examples",
        Some(&body),
        None,
    );
    assert_eq!(s, 401, "{b}");
    assert_eq!(
        b,
        json!({ "error": { "code": "unauthorized", "message": "this request needs the API key: send 'Authorization: Bearer KEY'", "details": null } })
    );
    let (s, b) = send(
        &keyed().server,
        "POST",
        "/api/knowledge/examples",
        Some(&body),
        Some("test-key-0123456788"),
    );
    assert_eq!((s, code(&b)), (401, "unauthorized"));
}

#[test]
fn without_a_configured_key_writes_are_disabled_and_reads_open() {
    let body = json!({ "question": "how many stores?", "sql": "SELECT COUNT(*) FROM stores" });
    let (s, b) = send(
        demo_server(),
        "POST",
        "/api/knowledge/examples",
        Some(&body),
        Some("anything"),
    );
    assert_eq!(s, 403, "{b}");
    assert_eq!(code(&b), "writes_disabled");
    let (s, b) = get_json(demo_server(), "/api/knowledge/tables");
    assert_eq!(s, 200, "{b}");
    assert!(b["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["item"]["name"] == "stores"));
}

#[test]
fn an_example_is_created_listed_updated_and_deleted_with_versions_and_a_change_log() {
    let question = "How many stores does each zone have (curation test)?";
    let sql = "SELECT zone, COUNT(*) AS stores FROM stores GROUP BY zone";
    let (s, created) = write(
        "POST",
        "/api/knowledge/examples",
        Some(&json!({ "question": question, "sql": sql, "database": "retail" })),
    );
    assert_eq!(s, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let version = created["version"].as_str().unwrap().to_string();
    assert_eq!(created["item"]["question"], question);
    assert_eq!(created["change"]["action"], "create");
    assert_eq!(created["change"]["after"]["sql"], sql);

    // Listed, found by search, readable by id.
    let (_, listed) = get_json(&keyed().server, "/api/knowledge/examples?q=zone%20curation");
    let ids: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![id.as_str()]);
    let (s, one) = get_json(&keyed().server, &format!("/api/knowledge/examples/{id}"));
    assert_eq!(
        (s, one["version"].as_str().unwrap()),
        (200, version.as_str())
    );

    // The same question again is a conflict.
    let (s, b) = write(
        "POST",
        "/api/knowledge/examples",
        Some(&json!({ "question": question, "sql": sql })),
    );
    assert_eq!((s, code(&b)), (409, "already_exists"), "{b}");

    // Update at the current version; the old version then conflicts.
    let new_sql = "SELECT zone, COUNT(*) AS store_count FROM stores GROUP BY zone";
    let (s, updated) = write(
        "PUT",
        &format!("/api/knowledge/examples/{id}"),
        Some(&json!({ "question": question, "sql": new_sql, "version": version })),
    );
    assert_eq!(s, 200, "{updated}");
    assert_ne!(updated["version"], json!(version));
    let (s, b) = write(
        "PUT",
        &format!("/api/knowledge/examples/{id}"),
        Some(&json!({ "question": question, "sql": sql, "version": version })),
    );
    assert_eq!(s, 409, "{b}");
    assert_eq!(code(&b), "version_conflict");
    assert_eq!(b["error"]["details"]["current"], updated["version"]);

    // The file on disk holds the update (the files are the source of truth).
    let file =
        std::fs::read_to_string(keyed().knowledge.path().join("retail/examples.yml")).unwrap();
    assert!(file.contains("store_count"));

    // Delete, then revert the delete: the example is back as it was.
    let (s, deleted) = write(
        "DELETE",
        &format!(
            "/api/knowledge/examples/{id}?version={}",
            updated["version"].as_str().unwrap()
        ),
        None,
    );
    assert_eq!(s, 200, "{deleted}");
    assert_eq!(deleted["deleted"], true);
    let (s, _) = get_json(&keyed().server, &format!("/api/knowledge/examples/{id}"));
    assert_eq!(s, 404);
    let seq = deleted["change"]["seq"].as_u64().unwrap();
    let (s, reverted) = write(
        "POST",
        &format!("/api/knowledge/changes/{seq}/revert"),
        None,
    );
    assert_eq!(s, 200, "{reverted}");
    assert_eq!(reverted["item"]["sql"], new_sql);
    assert_eq!(reverted["change"]["reverts"], seq);

    // The change log tells the story, newest first.
    let (_, log) = get_json(&keyed().server, &format!("/api/knowledge/changes?id={id}"));
    let actions: Vec<&str> = log["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["revert", "delete", "update", "create"]);
}

#[test]
fn an_example_whose_sql_fails_or_returns_nothing_is_refused_with_the_reason() {
    let (s, b) = write(
        "POST",
        "/api/knowledge/examples",
        Some(&json!({ "question": "broken example", "sql": "SELECT no_such_column FROM stores" })),
    );
    assert_eq!(s, 422, "{b}");
    assert_eq!(code(&b), "invalid_knowledge");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no_such_column"),
        "{b}"
    );
    assert_eq!(b["error"]["details"]["field"], "sql");

    let (s, b) = write(
        "POST",
        "/api/knowledge/examples",
        Some(&json!({ "question": "empty example", "sql": "SELECT * FROM stores WHERE 1 = 0" })),
    );
    assert_eq!((s, code(&b)), (422, "invalid_knowledge"), "{b}");
    assert!(b["error"]["message"].as_str().unwrap().contains("no rows"));

    let (s, b) = write(
        "POST",
        "/api/knowledge/examples",
        Some(&json!({ "question": "  ", "sql": "SELECT 1" })),
    );
    assert_eq!((s, code(&b)), (422, "invalid_knowledge"));
    assert_eq!(b["error"]["details"]["field"], "question");
}

#[test]
fn table_docs_and_rules_must_name_tables_and_columns_that_exist() {
    let (_, tables) = get_json(
        &keyed().server,
        "/api/knowledge/tables?database=retail&q=store_name",
    );
    let stores = tables["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["item"]["name"] == "stores")
        .unwrap()
        .clone();
    let id = stores["id"].as_str().unwrap();
    let mut doc = stores["item"].clone();
    doc["columns"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "name": "floor_colour", "description": "?" }));
    doc["version"] = stores["version"].clone();
    let (s, b) = write("PUT", &format!("/api/knowledge/tables/{id}"), Some(&doc));
    assert_eq!(s, 422, "{b}");
    assert_eq!(code(&b), "invalid_knowledge");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("column 'floor_colour' does not exist in table 'stores'"),
        "{b}"
    );
    assert_eq!(b["error"]["details"]["column"], "floor_colour");

    let (s, b) = write(
        "POST",
        "/api/knowledge/tables",
        Some(&json!({ "name": "warehouses", "description": "no such table" })),
    );
    assert_eq!((s, code(&b)), (422, "invalid_knowledge"));
    assert_eq!(b["error"]["details"]["table"], "warehouses");

    let (s, b) = write(
        "POST",
        "/api/knowledge/rules",
        Some(
            &json!({ "name": "bad measure", "kind": "measure", "table": "stores", "sql": "SUM(floor_area_typo)" }),
        ),
    );
    assert_eq!((s, code(&b)), (422, "invalid_knowledge"), "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("floor_area_typo"),
        "{b}"
    );

    // A good rule is accepted and can be read back.
    let (s, b) = write(
        "POST",
        "/api/knowledge/rules",
        Some(
            &json!({ "name": "store count (curation test)", "kind": "measure", "table": "stores", "sql": "COUNT(DISTINCT store_id)", "keywords": ["number of stores"] }),
        ),
    );
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["item"]["kind"], "measure");
}

#[test]
fn the_next_question_sees_a_new_example_as_soon_as_the_write_is_acknowledged() {
    let question = "Which zone has the most stores opened in a leap year?";
    let sql = "SELECT zone, COUNT(*) AS n FROM stores GROUP BY zone ORDER BY n DESC LIMIT 1";
    let (s, b) = write(
        "POST",
        "/api/knowledge/examples",
        Some(&json!({ "question": question, "sql": sql })),
    );
    assert_eq!(s, 201, "{b}");
    let acknowledged = Instant::now();
    let (s, answer) = ask(&keyed().server, question, None);
    let visible_ms = acknowledged.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(s, 200, "{answer}");
    let retrieval = answer["trace"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["stage"] == "retrieval")
        .unwrap();
    let top = &retrieval["details"]["examples"][0]["key"];
    assert_eq!(top, question, "{retrieval}");
    eprintln!(
        "write took {} ms (server), question answered {visible_ms:.1} ms after the ack",
        b["elapsed_ms"]
    );
    // The 100 ms target is measured by this print and reported, not asserted: a timed
    // assertion fails on a loaded machine without saying anything about the code.
    assert_eq!(b["embedded"], 1, "only the new example is embedded: {b}");
}

#[test]
fn helpful_feedback_becomes_a_suggestion_that_answers_nothing_until_approved() {
    let (s, answer) = ask(
        &keyed().server,
        "how many stores are there per region",
        None,
    );
    assert_eq!(s, 200, "{answer}");
    let query_id = answer["query_id"].as_str().unwrap();
    let (s, b) = send(
        &keyed().server,
        "POST",
        "/api/feedback",
        Some(&json!({ "query_id": query_id, "helpful": true })),
        None,
    );
    assert_eq!(s, 202, "{b}");
    let suggestion = &b["suggestion"];
    assert_eq!(suggestion["sql"], answer["sql"]);
    let sid = suggestion["id"].as_str().unwrap();

    let (_, list) = get_json(&keyed().server, "/api/knowledge/suggestions");
    assert!(list["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["id"] == sid));
    let (_, examples) = get_json(&keyed().server, "/api/knowledge/examples?q=per%20region");
    assert!(
        examples["items"].as_array().unwrap().is_empty(),
        "not an example before approval"
    );

    let (s, approved) = write(
        "POST",
        &format!("/api/knowledge/suggestions/{sid}/approve"),
        None,
    );
    assert_eq!(s, 201, "{approved}");
    assert_eq!(approved["change"]["action"], "approve");
    let (_, examples) = get_json(&keyed().server, "/api/knowledge/examples?q=per%20region");
    assert_eq!(examples["items"].as_array().unwrap().len(), 1);
    let (_, list) = get_json(&keyed().server, "/api/knowledge/suggestions");
    assert!(!list["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["id"] == sid));

    let (s, b) = send(
        &keyed().server,
        "POST",
        "/api/feedback",
        Some(&json!({ "query_id": "no-such-answer", "helpful": true })),
        None,
    );
    assert_eq!((s, code(&b)), (404, "unknown_item"));
}

/// The knowledge files and the change log after a kill: every file parses, every acknowledged
/// write is there, and (once the restarted server has reconciled the log) the log's applied
/// changes are exactly the changes in the files: no file change without its line, no line
/// claiming a change the files do not hold. The kill comes after a varying number of
/// acknowledged writes (`QUERENT_KILL_AFTER`, else from the clock) so that repeated runs hit
/// different moments of a write.
#[test]
fn killing_the_server_mid_write_loses_no_acknowledged_write_and_logs_every_change() {
    let knowledge = knowledge_copy();
    let data = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_in(data.path(), knowledge.path(), &["--api-key", KEY]);
    let url = server.base_url.clone();
    let kill_after: usize = std::env::var("QUERENT_KILL_AFTER")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos() as usize;
            8 + nanos % 17
        });
    let acknowledged = std::sync::Arc::new(parking_lot_free::Acked::default());
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let url = url.clone();
            let acked = acknowledged.clone();
            std::thread::spawn(move || {
                let http = reqwest::blocking::Client::builder()
                    .timeout(std::time::Duration::from_secs(20))
                    .build()
                    .unwrap();
                for i in 0..200 {
                    let question = format!("kill test question {w}-{i}: how many stores are in the North zone?");
                    let body = json!({ "question": question, "sql": format!("SELECT COUNT(*) AS n{w}_{i} FROM stores WHERE zone = 'North'"), "database": "retail" });
                    let sent = http.post(format!("{url}/api/knowledge/examples")).bearer_auth(KEY).json(&body).send();
                    match sent {
                        Ok(r) if r.status().as_u16() == 201 => acked.push(question),
                        Ok(r) => panic!("unexpected status {}", r.status()),
                        Err(_) => return true, // the server died with this write in flight
                    }
                }
                false
            })
        })
        .collect();
    // Let writes flow, then kill while they are in flight.
    while acknowledged.len() < kill_after {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    server.kill();
    let in_flight = writers
        .into_iter()
        .map(|w| w.join().unwrap())
        .filter(|cut| *cut)
        .count();
    let acked = acknowledged.take();
    assert!(acked.len() >= kill_after);

    // Every file parses.
    let examples_file = knowledge.path().join("retail/examples.yml");
    for name in ["examples.yml", "tables.yml", "rules.yml"] {
        let text = std::fs::read_to_string(knowledge.path().join("retail").join(name)).unwrap();
        serde_norway::from_str::<Value>(&text)
            .unwrap_or_else(|e| panic!("{name} does not parse: {e}"));
    }
    let temp_files = || -> Vec<PathBuf> {
        std::fs::read_dir(knowledge.path().join("retail"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "tmp"))
            .collect()
    };
    let leftovers = temp_files().len();
    let file: Value =
        serde_norway::from_str(&std::fs::read_to_string(&examples_file).unwrap()).unwrap();
    let questions: Vec<String> = file["examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["question"].as_str().unwrap().to_string())
        .filter(|q| q.starts_with("kill test"))
        .collect();
    for q in &acked {
        assert!(questions.contains(q), "acknowledged write lost: {q}");
    }

    // The restarted server reconciles the log with the files before it serves.
    let restarted = TestServer::start_in(data.path(), knowledge.path(), &["--api-key", KEY]);
    assert_eq!(
        temp_files(),
        Vec::<PathBuf>::new(),
        "orphan temporary files removed"
    );
    let log = std::fs::read_to_string(data.path().join("audit/knowledge.jsonl")).unwrap();
    let entries: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("a log line parses"))
        .collect();
    let voided: Vec<u64> = entries.iter().filter_map(|e| e["voids"].as_u64()).collect();
    let applied: Vec<String> = entries
        .iter()
        .filter(|e| e["action"] == "create" && !voided.contains(&e["seq"].as_u64().unwrap()))
        .map(|e| e["after"]["question"].as_str().unwrap().to_string())
        .collect();
    let mut in_files = questions.clone();
    let mut in_log = applied.clone();
    in_files.sort();
    in_log.sort();
    assert_eq!(
        in_log, in_files,
        "the log's applied creates are exactly the files' examples"
    );
    let seqs: Vec<u64> = entries.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "log numbered without gaps"
    );
    assert!(
        voided.len() <= 1,
        "writes are serialised: at most one in the gap"
    );

    // The restarted server serves the same knowledge, shows the log, and takes new writes.
    let (_, listed) = get_json(&restarted, "/api/knowledge/examples?q=kill%20test");
    assert_eq!(listed["items"].as_array().unwrap().len(), questions.len());
    let (_, changes) = get_json(&restarted, "/api/knowledge/changes?limit=10000");
    assert_eq!(changes["changes"].as_array().unwrap().len(), entries.len());
    let (s, b) = send(
        &restarted,
        "POST",
        "/api/knowledge/examples",
        Some(
            &json!({ "question": "after the restart, how many stores?", "sql": "SELECT COUNT(*) FROM stores" }),
        ),
        Some(KEY),
    );
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["change"]["seq"].as_u64().unwrap(), seqs.len() as u64 + 1);
    eprintln!(
        "kill test: killed after {kill_after} acks; {} acknowledged, {in_flight} writes in flight at the kill, {} in the files ({} applied but unacknowledged), {} log entries, {} marked not applied, {leftovers} temp files left (removed at restart)",
        acked.len(),
        questions.len(),
        questions.len() - acked.len(),
        entries.len(),
        voided.len(),
    );
}

/// A change logged whose file rename never happened (what a SIGKILL between the two leaves) is
/// marked `not_applied` when the server starts, and cannot be reverted.
#[test]
fn a_logged_change_missing_from_the_files_is_marked_not_applied_at_start_up() {
    let knowledge = knowledge_copy();
    let data = tempfile::tempdir().unwrap();
    let server = TestServer::start_in(data.path(), knowledge.path(), &["--api-key", KEY]);
    let question = "How many stores are there (never renamed)?";
    let (s, created) = send(
        &server,
        "POST",
        "/api/knowledge/examples",
        Some(&json!({ "question": question, "sql": "SELECT COUNT(*) FROM stores" })),
        Some(KEY),
    );
    assert_eq!(s, 201, "{created}");
    drop(server);
    // Put the file back as it was before the write: the log now claims a change the files
    // do not hold, as if the process had died between logging and renaming.
    let examples = knowledge.path().join("retail/examples.yml");
    std::fs::copy(repo().join("knowledge/retail/examples.yml"), &examples).unwrap();
    std::fs::write(
        knowledge.path().join("retail/.examples.yml.deadbeef.tmp"),
        "examples: []\n",
    )
    .unwrap();

    let server = TestServer::start_in(data.path(), knowledge.path(), &["--api-key", KEY]);
    let (_, log) = get_json(&server, "/api/knowledge/changes");
    let newest = &log["changes"][0];
    assert_eq!(newest["action"], "not_applied", "{log}");
    assert_eq!(newest["voids"], created["change"]["seq"]);
    assert_eq!(newest["who"], "querent");
    assert_eq!(
        newest["after"],
        Value::Null,
        "the files hold no such example"
    );
    assert!(!knowledge
        .path()
        .join("retail/.examples.yml.deadbeef.tmp")
        .exists());
    let seq = created["change"]["seq"].as_u64().unwrap();
    let (s, b) = send(
        &server,
        "POST",
        &format!("/api/knowledge/changes/{seq}/revert"),
        None,
        Some(KEY),
    );
    assert_eq!((s, code(&b)), (400, "invalid_request"), "{b}");
    assert!(b["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not applied"));
    drop(server);

    // A third start adds nothing: the log is reconciled already.
    let server = TestServer::start_in(data.path(), knowledge.path(), &["--api-key", KEY]);
    let (_, again) = get_json(&server, "/api/knowledge/changes");
    assert_eq!(again["changes"].as_array().unwrap().len(), 2);
}

/// Sends a create of an example with `key` and, when given, an `X-Querent-User` header.
fn create_as(server: &TestServer, key: &str, user: Option<&str>, question: &str) -> (u16, Value) {
    let mut request = client()
        .post(server.url("/api/knowledge/examples"))
        .bearer_auth(key)
        .json(&json!({ "question": question, "sql": "SELECT COUNT(*) FROM stores", "database": "retail" }));
    if let Some(user) = user {
        request = request.header("X-Querent-User", user);
    }
    let response = request.send().unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(Value::Null))
}

#[test]
fn a_named_key_records_its_name_as_who_and_the_header_cannot_change_it() {
    let knowledge = knowledge_copy();
    let server = TestServer::start_with_knowledge(
        knowledge.path(),
        &[
            "--api-key",
            KEY,
            "--api-keys",
            "alice=alice-key-0001, bob=bob-key-0002",
        ],
    );
    let (s, b) = create_as(
        &server,
        "alice-key-0001",
        Some("mallory"),
        "named key one: how many stores?",
    );
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["change"]["who"], "alice");
    let (s, b) = create_as(
        &server,
        "bob-key-0002",
        None,
        "named key two: how many stores?",
    );
    assert_eq!((s, b["change"]["who"].as_str()), (201, Some("bob")));
    // The shared key keeps working as before: the header, else `api`.
    let (s, b) = create_as(
        &server,
        KEY,
        Some("carol"),
        "shared key one: how many stores?",
    );
    assert_eq!((s, b["change"]["who"].as_str()), (201, Some("carol")));
    let (s, b) = create_as(&server, KEY, None, "shared key two: how many stores?");
    assert_eq!((s, b["change"]["who"].as_str()), (201, Some("api")));
    let (s, b) = create_as(
        &server,
        "alice-key-0002",
        Some("alice"),
        "a wrong key: how many stores?",
    );
    assert_eq!((s, code(&b)), (401, "unauthorized"), "{b}");
    let (_, log) = get_json(&server, "/api/knowledge/changes");
    let who: Vec<&str> = log["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["who"].as_str().unwrap())
        .collect();
    assert_eq!(who, vec!["api", "carol", "bob", "alice"]);
}

#[test]
fn named_keys_alone_from_the_config_file_enable_writes_and_guard_reads() {
    let knowledge = knowledge_copy();
    let config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        config.path(),
        "key_for_reads = true\n[api_keys]\ndana = \"dana-key-0003\"\n",
    )
    .unwrap();
    let server = TestServer::start_with_knowledge(
        knowledge.path(),
        &["--config", config.path().to_str().unwrap()],
    );
    let (s, b) = create_as(
        &server,
        "dana-key-0003",
        Some("eve"),
        "config key: how many stores?",
    );
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["change"]["who"], "dana");
    let (s, b) = send(&server, "GET", "/api/knowledge/examples", None, None);
    assert_eq!((s, code(&b)), (401, "unauthorized"));
    let (s, _) = send(
        &server,
        "GET",
        "/api/knowledge/examples",
        None,
        Some("dana-key-0003"),
    );
    assert_eq!(s, 200);
}

#[test]
fn a_malformed_named_keys_setting_stops_the_server_without_printing_a_key() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_querent"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(tempfile::tempdir().unwrap().path())
        .arg("--demo-db")
        .arg(common::demo_db())
        .arg("--knowledge-dir")
        .arg(repo().join("knowledge"))
        .arg("--templates-dir")
        .arg(repo().join("templates"))
        .arg("--static-dir")
        .arg(repo().join("static"))
        .env("QUERENT_API_KEYS", "alice=very-secret-1,very-secret-2")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stderr.contains("entry 2 is not NAME=KEY"), "{stderr}");
    assert!(
        !stderr.contains("very-secret") && !stdout.contains("very-secret"),
        "{stderr}{stdout}"
    );
}

/// Health's knowledge issues as they are now: one found at start-up goes away when a curation
/// edit fixes it, and one made by hand while serving shows up at the next write.
#[test]
fn health_reports_the_knowledge_issues_of_the_files_as_they_are_after_each_write() {
    let knowledge = knowledge_copy();
    let examples = knowledge.path().join("retail/examples.yml");
    let mut text = std::fs::read_to_string(&examples).unwrap();
    assert!(text.ends_with('\n'));
    let line = text.lines().count() + 1;
    text.push_str("  - question: How many stores have a helipad (health test)?\n    sql: SELECT COUNT(*) FROM stores WHERE has_helipad = 1\n");
    std::fs::write(&examples, &text).unwrap();
    let server = TestServer::start_with_knowledge(knowledge.path(), &["--api-key", KEY]);
    let issues = |server: &TestServer| -> Vec<Value> {
        let (_, health) = get_json(server, "/api/health");
        health["knowledge_issues"].as_array().unwrap().clone()
    };
    let found = issues(&server);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0]["message"]
        .as_str()
        .unwrap()
        .contains("has_helipad"));
    assert!(
        found[0]["source"]
            .as_str()
            .unwrap()
            .ends_with(&format!("retail/examples.yml:{line}")),
        "{found:?}"
    );

    // Fix the example through the API: the issue is gone.
    let (_, listed) = get_json(&server, "/api/knowledge/examples?q=helipad");
    let view = &listed["items"][0];
    let (s, b) = send(
        &server,
        "PUT",
        &format!("/api/knowledge/examples/{}", view["id"].as_str().unwrap()),
        Some(
            &json!({ "question": view["item"]["question"], "sql": "SELECT COUNT(*) FROM stores", "version": view["version"] }),
        ),
        Some(KEY),
    );
    assert_eq!(s, 200, "{b}");
    assert_eq!(issues(&server), Vec::<Value>::new());

    // A table doc of a table that does not exist, added by hand while serving, is reported
    // after the next write to that domain (a rule here).
    let tables = knowledge.path().join("retail/tables.yml");
    let mut text = std::fs::read_to_string(&tables).unwrap();
    let doc_line = text.lines().count() + 1;
    text.push_str("  - name: warehouses\n    description: added by hand\n");
    std::fs::write(&tables, text).unwrap();
    let (s, b) = send(
        &server,
        "POST",
        "/api/knowledge/rules",
        Some(&json!({ "name": "health test note", "kind": "note", "description": "a note" })),
        Some(KEY),
    );
    assert_eq!(s, 201, "{b}");
    let found = issues(&server);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0]["message"]
            .as_str()
            .unwrap()
            .contains("'warehouses'"),
        "{found:?}"
    );
    assert!(found[0]["file"]
        .as_str()
        .unwrap()
        .ends_with("retail/tables.yml"));
    assert_eq!(found[0]["line"], doc_line, "{found:?}");
    let (_, health) = get_json(&server, "/api/health");
    assert_eq!(health["status"], "degraded");
}

/// A tiny shared list without extra test dependencies.
mod parking_lot_free {
    use std::sync::Mutex;

    #[derive(Default)]
    pub struct Acked(Mutex<Vec<String>>);

    impl Acked {
        pub fn push(&self, q: String) {
            self.0.lock().unwrap().push(q);
        }
        pub fn len(&self) -> usize {
            self.0.lock().unwrap().len()
        }
        pub fn take(&self) -> Vec<String> {
            std::mem::take(&mut *self.0.lock().unwrap())
        }
    }
}

#[test]
fn a_regression_run_reports_the_answers_that_changed_since_the_last_run() {
    let knowledge = knowledge_copy();
    let server = TestServer::start_with_knowledge(knowledge.path(), &["--api-key", KEY]);
    let (s, first) = send(
        &server,
        "POST",
        "/api/knowledge/regression?database=retail",
        None,
        Some(KEY),
    );
    assert_eq!(s, 200, "{first}");
    let examples = first["examples"].as_u64().unwrap();
    assert!(examples > 0);
    assert!(
        first["changed"].as_array().unwrap().is_empty(),
        "a first run has no baseline"
    );

    // Change one example's SQL so that its answer changes, then run again.
    let (_, listed) = get_json(&server, "/api/knowledge/examples?database=retail");
    let view = listed["items"][0].clone();
    let mut item = view["item"].clone();
    item["sql"] = json!("SELECT store_id, store_name FROM stores ORDER BY store_id LIMIT 3");
    item["version"] = view["version"].clone();
    let (s, b) = send(
        &server,
        "PUT",
        &format!("/api/knowledge/examples/{}", view["id"].as_str().unwrap()),
        Some(&item),
        Some(KEY),
    );
    assert_eq!(s, 200, "{b}");
    let (s, second) = send(
        &server,
        "POST",
        "/api/knowledge/regression?database=retail",
        None,
        Some(KEY),
    );
    assert_eq!(s, 200, "{second}");
    let changed = second["changed"].as_array().unwrap();
    assert!(
        changed
            .iter()
            .any(|c| c["question"] == view["item"]["question"]),
        "{second}"
    );
    assert!(second["baseline_at"].is_string());
    // health reports the domain's accuracy at the last run
    let (s, h) = get_json(&server, "/api/health");
    assert_eq!(s, 200, "{h}");
    let last = &h["regression"]["retail"];
    assert_eq!(last["examples"], second["examples"], "{h}");
    assert_eq!(last["correct"], second["correct"], "{h}");
    let accuracy = last["accuracy"].as_f64().unwrap();
    let expected = second["correct"].as_f64().unwrap() / second["examples"].as_f64().unwrap();
    assert!((accuracy - expected).abs() < 1e-9, "{h}");
    assert!(h["regression"].get("chinook").is_none(), "never run: {h}");
    let (s, b) = send(&server, "POST", "/api/knowledge/regression", None, None);
    assert_eq!((s, code(&b)), (401, "unauthorized"));
}

#[test]
fn the_curation_page_is_served_with_its_script_and_the_routes_are_in_the_spec() {
    let response = client()
        .get(keyed().server.url("/knowledge"))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let html = response.text().unwrap();
    assert!(
        html.contains("<script src=\"/static/knowledge.js\" defer></script>"),
        "{html}"
    );
    assert!(html.contains("id=\"kb-json\""));
    let script = client()
        .get(keyed().server.url("/static/knowledge.js"))
        .send()
        .unwrap();
    assert_eq!(script.status().as_u16(), 200);

    let (_, spec) = get_json(&keyed().server, "/openapi.json");
    for path in [
        "/api/knowledge/{kind}",
        "/api/knowledge/{kind}/{id}",
        "/api/knowledge/changes",
        "/api/knowledge/changes/{seq}/revert",
        "/api/knowledge/suggestions",
        "/api/knowledge/regression",
        "/api/feedback",
    ] {
        assert!(
            spec["paths"].get(path).is_some(),
            "{path} missing from the spec"
        );
    }
}

/// A small shop database (`<dir>/shop.sqlite`) for the load-check tests.
fn shop_database(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let db = rusqlite::Connection::open(dir.join("shop.sqlite")).unwrap();
    db.execute_batch(
        "CREATE TABLE customer (customer_id INTEGER PRIMARY KEY, name TEXT, city TEXT);
         CREATE TABLE orders (order_id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customer(customer_id), amount REAL, status TEXT);
         INSERT INTO customer VALUES (1, 'Ada', 'London'), (2, 'Linus', 'Helsinki'), (3, 'Grace', 'New York');
         INSERT INTO orders VALUES (1, 1, 120.0, 'shipped'), (2, 1, 80.0, 'pending'), (3, 2, 42.5, 'shipped'), (4, 3, 10.0, 'cancelled');",
    )
    .unwrap();
}

/// Health's knowledge issues as `(file, line, message)`.
fn issues_of(server: &TestServer) -> Vec<(String, Option<u64>, String)> {
    let (s, health) = get_json(server, "/api/health");
    assert_eq!(s, 200);
    health["knowledge_issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["file"].as_str().unwrap().to_string(),
                i["line"].as_u64(),
                i["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The issue of `file` whose message holds every word of `words`, with its line.
fn issue_line(
    issues: &[(String, Option<u64>, String)],
    file: &Path,
    words: &[&str],
) -> Option<u64> {
    let found: Vec<_> = issues
        .iter()
        .filter(|(f, _, m)| Path::new(f) == file && words.iter().all(|w| m.contains(w)))
        .collect();
    assert_eq!(found.len(), 1, "{words:?} in {issues:?}");
    found[0].1
}

/// The 1-based line of the first line of `text` that holds `needle`.
fn line_of(text: &str, needle: &str) -> u64 {
    text.lines().position(|l| l.contains(needle)).unwrap() as u64 + 1
}

/// Loading runs the checks of a write on every item of every file (#12): each bad item is a
/// knowledge issue at its file and line, the server still starts and answers, and the good
/// items of the same files are used.
#[test]
fn every_item_a_write_would_refuse_is_reported_at_its_file_and_line_and_the_good_ones_are_used() {
    let dir = tempfile::tempdir().unwrap();
    shop_database(&dir.path().join("db"));
    let shop = dir.path().join("knowledge/shop");
    std::fs::create_dir_all(&shop).unwrap();
    let tables = "version: 2\nmodels:\n  - name: customer\n    description: People who buy.\n    columns:\n      - name: city\n        synonyms: [town]\n  - name: \"orders\"\n    description: One row per order.\n    columns:\n      - name: amount\n      - name: discount_pct\n        description: not a column of orders\n";
    let rules = "rules:\n  - name: shipped order\n    kind: filter\n    table: orders\n    sql: status = 'shipped'\n  - name: 'big spender'\n    kind: filter\n    table: orders\n    sql: discount_pct > 10\n  - name: order value\n    kind: measure\n    table: orders\n    sql: SUM(amount +)\n  - name: loose measure\n    kind: measure\n    sql: SUM(amount)\n";
    let examples = "examples:\n  - question: Which customers live in London?\n    sql: SELECT name FROM customer WHERE city = 'London'\n  - question: What is the total discount?\n    sql: SELECT SUM(discount_pct) FROM orders\n";
    let semantic = "semantic_models:\n  - name: orders\n    model: ref('orders')\n    entities:\n      - {name: order, type: primary, expr: order_id}\n    measures:\n      - name: order_amount\n        agg: sum\n        expr: amount\n      - name: discount_total\n        agg: sum\n        expr: discount_pct\nmetrics:\n  - name: order_revenue\n    type: simple\n    type_params: {measure: order_amount}\n  - name: \"discounts\"\n    type: simple\n    type_params: {measure: discount_total}\n";
    for (name, text) in [
        ("tables.yml", tables),
        ("rules.yml", rules),
        ("examples.yml", examples),
        ("semantic.yml", semantic),
    ] {
        std::fs::write(shop.join(name), text).unwrap();
    }
    let server = TestServer::start_with_knowledge(
        &dir.path().join("knowledge"),
        &["--database-dir", dir.path().join("db").to_str().unwrap()],
    );
    let issues = issues_of(&server);
    // the knowledge folder as the server names it (it may resolve the temporary folder)
    let t = shop.join("tables.yml");
    assert_eq!(
        issue_line(
            &issues,
            &t,
            &["orders", "column 'discount_pct' does not exist"]
        ),
        Some(line_of(tables, "name: \"orders\""))
    );
    let r = shop.join("rules.yml");
    assert_eq!(
        issue_line(
            &issues,
            &r,
            &["big spender", "discount_pct", "does not run"]
        ),
        Some(line_of(rules, "name: 'big spender'"))
    );
    assert_eq!(
        issue_line(&issues, &r, &["order value", "does not run"]),
        Some(line_of(rules, "name: order value"))
    );
    assert_eq!(
        issue_line(&issues, &r, &["loose measure", "must name the table"]),
        Some(line_of(rules, "name: loose measure"))
    );
    let e = shop.join("examples.yml");
    assert_eq!(
        issue_line(&issues, &e, &["total discount", "does not run"]),
        Some(line_of(examples, "What is the total discount?"))
    );
    let s = shop.join("semantic.yml");
    assert_eq!(
        issue_line(&issues, &s, &["metric 'discounts'", "discount_pct"]),
        Some(line_of(semantic, "name: \"discounts\""))
    );
    // the semantic model's measure names a column its table does not have, as a write checks
    assert_eq!(
        issue_line(
            &issues,
            &s,
            &[
                "semantic model 'orders'",
                "column 'discount_pct' does not exist"
            ]
        ),
        Some(line_of(semantic, "- name: orders"))
    );
    assert_eq!(issues.len(), 7, "{issues:?}");

    // The good items are used: the example answers, the good rule and metric are served.
    let (s, b) = ask(&server, "Which customers live in London?", Some("shop"));
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["rows"], json!([["Ada"]]));
    let (_, b) = get_json(&server, "/api/examples?database=shop");
    assert_eq!(b["examples"].as_array().unwrap().len(), 1, "{b}");
    let (_, b) = get_json(&server, "/api/knowledge/rules?database=shop&q=shipped");
    assert_eq!(b["items"][0]["item"]["name"], "shipped order", "{b}");
    let (_, b) = get_json(&server, "/api/semantic?database=shop");
    assert_eq!(b["source"], "curated", "{b}");
    let metrics: Vec<&str> = b["model"]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(metrics, ["order_revenue", "discounts"]);
    let (_, b) = get_json(&server, "/api/schema?database=shop&table=customer");
    assert!(b.to_string().contains("town"), "{b}");
}

/// A curated semantic model that does not hold together is a knowledge issue at the line of
/// what it names, and the model inferred from the schema is served instead.
#[test]
fn a_semantic_model_that_does_not_load_is_reported_at_its_line_and_the_inferred_one_is_used() {
    let dir = tempfile::tempdir().unwrap();
    shop_database(&dir.path().join("db"));
    let shop = dir.path().join("knowledge/shop");
    std::fs::create_dir_all(&shop).unwrap();
    let semantic = "semantic_models:\n  - name: orders\n    model: ref('orders')\n    measures:\n      - {name: order_amount, agg: sum, expr: amount}\nmetrics:\n  - name: order_revenue\n    type: simple\n    type_params: {measure: order_amount}\n  - name: refunds\n    type: simple\n    type_params: {measure: refund_amount}\n";
    std::fs::write(shop.join("semantic.yml"), semantic).unwrap();
    let server = TestServer::start_with_knowledge(
        &dir.path().join("knowledge"),
        &["--database-dir", dir.path().join("db").to_str().unwrap()],
    );
    let issues = issues_of(&server);
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(
        issue_line(
            &issues,
            &shop.join("semantic.yml"),
            &["refunds", "no measure 'refund_amount'", "inferred"]
        ),
        Some(line_of(semantic, "name: refunds"))
    );
    let (s, b) = get_json(&server, "/api/semantic?database=shop");
    assert_eq!(s, 200);
    assert_eq!(b["source"], "inferred", "{b}");
    let (s, b) = post_sql(&server, "SELECT COUNT(*) FROM orders", "shop");
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["rows"], json!([[4]]));
}

fn post_sql(server: &TestServer, sql: &str, database: &str) -> (u16, Value) {
    let response = client()
        .post(server.url("/api/sql"))
        .json(&json!({ "sql": sql, "database": database }))
        .send()
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(Value::Null))
}
