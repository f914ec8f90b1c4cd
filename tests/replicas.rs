//! Two replicas behind one Qdrant endpoint (`--qdrant-url`) behave as one: a curation write
//! through one is used by the other's next answers, a conversation continues on the other, and
//! the change log reads the same through either.
//!
//! Two real `querent serve` processes, each with its own data directory and its own copy of
//! the knowledge files, against the fake Qdrant server of `common/fake_qdrant.rs` (the real
//! gRPC protocol; no Qdrant server can be installed here).

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::fake_qdrant::FakeQdrant;
use common::{client, repo, TestServer};
use serde_json::{json, Value};

const KEY: &str = "replica-key-0123456789";

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

/// A replica: a server on its own copy of the repository's knowledge files.
struct Replica {
    server: TestServer,
    knowledge: tempfile::TempDir,
}

fn replica(qdrant: &FakeQdrant) -> Replica {
    let knowledge = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("knowledge"), knowledge.path());
    let server = TestServer::start_with_knowledge(
        knowledge.path(),
        &["--qdrant-url", &qdrant.url, "--api-key", KEY],
    );
    Replica { server, knowledge }
}

/// Sends `method path` with a JSON body and the key: (status, body).
fn send(server: &TestServer, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let mut request = client()
        .request(method.parse().unwrap(), server.url(path))
        .bearer_auth(KEY);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().expect("request");
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(Value::Null))
}

fn ask(server: &TestServer, question: &str, session: Option<&str>) -> Value {
    let mut body = json!({ "question": question, "database": "retail" });
    if let Some(session) = session {
        body["session_id"] = json!(session);
    }
    let (s, answer) = send(server, "POST", "/api/query", Some(&body));
    assert_eq!(s, 200, "{question}: {answer}");
    answer
}

/// The key of the first example retrieval found for the answer.
fn top_example(answer: &Value) -> Value {
    answer["trace"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["stage"] == "retrieval")
        .map(|t| t["details"]["examples"][0]["key"].clone())
        .unwrap_or(Value::Null)
}

/// True when the replica's in-memory knowledge (`/api/examples`) holds `question`.
fn knows_example(server: &TestServer, question: &str) -> bool {
    let (_, body) = send(server, "GET", "/api/examples?database=retail", None);
    body["examples"]
        .as_array()
        .is_some_and(|all| all.iter().any(|e| e["question"] == question))
}

/// Polls `done` every 10 ms up to 10 s; the time it took.
fn time_until(mut done: impl FnMut() -> bool) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        if done() {
            return Some(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

#[test]
fn two_replicas_on_one_qdrant_share_curation_sessions_and_the_change_log() {
    let mut qdrant = FakeQdrant::start(None);
    let a = replica(&qdrant);
    let b = replica(&qdrant);
    for collection in ["sessions", "changelog", "knowledge_versions"] {
        assert!(
            qdrant.collections().contains(&collection.to_string()),
            "{:?}",
            qdrant.collections()
        );
    }

    // 1. A curation write through A is used by B's next answers.
    let question = "Which zone has the most stores opened in a leap year (replicas)?";
    let sql = "SELECT zone, COUNT(*) AS n FROM stores GROUP BY zone ORDER BY n DESC LIMIT 1";
    assert!(!knows_example(&b.server, question));
    let (s, written) = send(
        &a.server,
        "POST",
        "/api/knowledge/examples",
        Some(&json!({ "question": question, "sql": sql, "database": "retail" })),
    );
    assert_eq!(s, 201, "{written}");
    let acknowledged = Instant::now();
    let seq = written["change"]["seq"].as_u64().unwrap();
    let retrieved = time_until(|| top_example(&ask(&b.server, question, None)) == question)
        .expect("B's answers retrieve the new example");
    time_until(|| knows_example(&b.server, question)).expect("B's knowledge holds the new example");
    let visible = acknowledged.elapsed();
    eprintln!(
        "replicas: write on A took {:.1} ms (server); B's answer retrieved the example {:.1} ms \
         after the ack (shared vectors); B's knowledge (its files and memory) held it {:.1} ms \
         after the ack (poll every 500 ms + apply + reload)",
        written["elapsed_ms"].as_f64().unwrap_or(0.0),
        retrieved.as_secs_f64() * 1000.0,
        visible.as_secs_f64() * 1000.0,
    );
    // The target is 2 s; a looser bound here, so that a loaded machine does not fail the test
    // without saying anything about the code (the print above is the measurement).
    assert!(visible < Duration::from_secs(5), "{visible:?}");
    // B's answer uses it: the example's SQL answers.
    let answer = ask(&b.server, question, None);
    assert!(
        answer["sql"].as_str().unwrap().contains("GROUP BY zone"),
        "{answer}"
    );
    // B's own files hold it too (for export and review in git).
    let file = std::fs::read_to_string(b.knowledge.path().join("retail/examples.yml")).unwrap();
    assert!(
        file.contains("(replicas)"),
        "B's examples.yml lacks A's write"
    );

    // 2. The change log reads the same through B, and B's next write takes the next number.
    let (s, changes) = send(&b.server, "GET", "/api/knowledge/changes?limit=5", None);
    assert_eq!(s, 200, "{changes}");
    let first = &changes["changes"][0];
    assert_eq!(first["seq"], json!(seq), "{changes}");
    assert_eq!(first["after"]["question"], question);
    let id = written["id"].as_str().unwrap();
    let version = written["version"].as_str().unwrap();
    let (s, deleted) = send(
        &b.server,
        "DELETE",
        &format!("/api/knowledge/examples/{id}?version={version}"),
        None,
    );
    assert_eq!(s, 200, "{deleted}");
    assert_eq!(deleted["change"]["seq"], json!(seq + 1), "{deleted}");
    let gone = time_until(|| !knows_example(&a.server, question))
        .expect("A's knowledge loses the example deleted through B");
    eprintln!(
        "replicas: a delete through B left A's knowledge within {:.1} ms",
        gone.as_secs_f64() * 1000.0
    );
    let (_, changes) = send(&a.server, "GET", "/api/knowledge/changes?limit=5", None);
    assert_eq!(changes["changes"][0]["seq"], json!(seq + 1), "{changes}");
    assert_eq!(changes["changes"][0]["action"], "delete", "{changes}");

    // 3. A conversation started on A continues on B.
    let first = ask(
        &a.server,
        "How many stores are there?",
        Some("replica-chat"),
    );
    assert_eq!(first["session_id"], "replica-chat");
    let west = ask(&b.server, "only in the West zone", Some("replica-chat"));
    assert_eq!(west["generation_method"], "refinement", "{west}");
    let sql = west["sql"].as_str().unwrap();
    assert!(sql.contains("zone = 'West'"), "{sql}");
    // ... and back on A, which reads B's turn.
    let east = ask(&a.server, "what about the East zone?", Some("replica-chat"));
    let sql = east["sql"].as_str().unwrap();
    assert!(
        sql.contains("zone = 'East'") && !sql.contains("'West'"),
        "{sql}"
    );
    assert!(qdrant.points("sessions") >= 3);

    // 4. Health and metrics say where each replica stands: both hold the last change.
    for server in [&a.server, &b.server] {
        let caught_up = time_until(|| {
            let (_, health) = send(server, "GET", "/api/health", None);
            let r = &health["replication"];
            r["state"] == "ok"
                && r["applied_change"] == json!(seq + 1)
                && r["latest_change"] == json!(seq + 1)
        });
        let (_, health) = send(server, "GET", "/api/health", None);
        assert!(caught_up.is_some(), "{health}");
        let metrics = client()
            .get(server.url("/metrics"))
            .send()
            .unwrap()
            .text()
            .unwrap();
        assert!(metrics.contains("querent_replication_up 1"), "{metrics}");
        assert!(
            metrics.contains(&format!("querent_replication_applied_change {}", seq + 1)),
            "{metrics}"
        );
    }
    // ... and, the shared state out of reach, that a replica no longer sees the others' writes.
    qdrant.stop();
    let cut_off = time_until(|| {
        let (_, health) = send(&a.server, "GET", "/api/health", None);
        health["replication"]["state"] == "unreachable" && health["status"] == "degraded"
    });
    let (_, health) = send(&a.server, "GET", "/api/health", None);
    assert!(cut_off.is_some(), "{health}");
}

/// Runs `querent knowledge <args>` on `knowledge` against `qdrant`: (success, stdout, stderr).
fn knowledge_command(qdrant: &FakeQdrant, knowledge: &Path, args: &[&str]) -> (bool, String) {
    let data = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_querent"))
        .arg("knowledge")
        .args(args)
        .args(["--qdrant-url", &qdrant.url, "--data-dir"])
        .arg(data.path())
        .arg("--knowledge-dir")
        .arg(knowledge)
        .arg("--demo-db")
        .arg(common::demo_db())
        .output()
        .expect("querent runs");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn the_shared_knowledge_exports_to_files_and_an_edited_folder_imports_to_every_replica() {
    let qdrant = FakeQdrant::start(None);
    let a = replica(&qdrant);
    let question = "How many stores are in each zone (export test)?";
    let sql = "SELECT zone, COUNT(*) AS n FROM stores GROUP BY zone";
    let (s, b) = send(
        &a.server,
        "POST",
        "/api/knowledge/examples",
        Some(&json!({ "question": question, "sql": sql, "database": "retail" })),
    );
    assert_eq!(s, 201, "{b}");

    // Export from a stale copy of the files: it is brought up to the shared log first.
    let stale = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("knowledge"), stale.path());
    let exported = tempfile::tempdir().unwrap();
    let to = exported.path().to_str().unwrap();
    let (ok, out) = knowledge_command(&qdrant, stale.path(), &["export", "--to", to]);
    assert!(ok, "{out}");
    let file = exported.path().join("retail/examples.yml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("(export test)"), "{out}");

    // Reviewed in git: the example is removed. Importing the folder deletes it everywhere.
    let dir = exported.path().join("retail");
    let (mut kb, _) = querent::knowledge::files::load_domain(&dir, "retail");
    kb.examples.retain(|e| e.question != question);
    querent::knowledge::files::save_kind(&dir, &kb, querent::knowledge::ItemKind::Example).unwrap();
    let from = exported.path().to_str().unwrap();
    let (ok, out) = knowledge_command(&qdrant, stale.path(), &["import", "--from", from]);
    assert!(ok, "{out}");
    assert!(out.contains("1 deleted"), "{out}");
    let gone = time_until(|| !knows_example(&a.server, question))
        .expect("the running replica applies the imported change");
    eprintln!(
        "replicas: an import's change reached a running replica {:.1} ms after the command ended",
        gone.as_secs_f64() * 1000.0
    );
}
