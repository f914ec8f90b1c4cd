//! Running querent for many users, through a real `querent serve`: `/metrics`, the answer
//! cache and its invalidation by a curation write, rate limits, the question queue, request
//! ids and JSON logs, compression, query jobs, and graceful shutdown on SIGTERM (the next
//! start embeds nothing).

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{client, repo};
use serde_json::{json, Value};

const KEY: &str = "ops-test-key-0123456789";

/// A `querent serve` started here, with its pid, environment and log file under our control.
struct Served {
    child: Child,
    base_url: String,
    log: PathBuf,
    /// The server stops when this pipe closes, i.e. when the test process ends (the shared
    /// server lives in a static, which is never dropped).
    _stdin: std::process::ChildStdin,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    fn start(
        data_dir: &Path,
        knowledge: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
        log: PathBuf,
    ) -> Served {
        let root = repo();
        let mut child = Command::new(env!("CARGO_BIN_EXE_querent"))
            .arg("serve")
            .arg("--exit-on-stdin-close")
            .args(["--addr", "127.0.0.1:0"])
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--knowledge-dir")
            .arg(knowledge)
            .arg("--demo-db")
            .arg(common::demo_db())
            .arg("--templates-dir")
            .arg(root.join("templates"))
            .arg("--static-dir")
            .arg(root.join("static"))
            .args(extra)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
            .spawn()
            .expect("the querent binary starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let base_url = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(url) = line.strip_prefix("querent listening on ") {
                        break url.trim().to_string();
                    }
                }
                _ => panic!(
                    "querent serve exited before listening: {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                ),
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Served {
            child,
            base_url,
            log,
            _stdin: stdin,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// Sends SIGTERM and waits (at most `within`) for the process to exit.
    fn terminate(&mut self, within: Duration) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(ok.success());
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                started.elapsed() < within,
                "no exit within {within:?} of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn knowledge_copy() -> tempfile::TempDir {
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
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("knowledge"), dir.path());
    dir
}

/// The shared server of this file: its own knowledge copy and data directory, an API key,
/// a tight SQL rate (1/s, bursts of 2) for the rate-limit test, generous question rates.
struct Shared {
    server: Served,
    _knowledge: tempfile::TempDir,
    _data: tempfile::TempDir,
}

fn shared() -> &'static Served {
    static SERVER: OnceLock<Shared> = OnceLock::new();
    &SERVER
        .get_or_init(|| {
            let knowledge = knowledge_copy();
            let data = tempfile::tempdir().unwrap();
            let log = data.path().join("server.log");
            let server = Served::start(
                data.path(),
                knowledge.path(),
                &[
                    "--api-key",
                    KEY,
                    "--rate-sql",
                    "1",
                    "--rate-questions",
                    "1000",
                ],
                &[],
                log,
            );
            Shared {
                server,
                _knowledge: knowledge,
                _data: data,
            }
        })
        .server
}

fn post(server: &Served, path: &str, body: &Value) -> (u16, Value) {
    let resp = client().post(server.url(path)).json(body).send().unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().unwrap_or(Value::Null))
}

fn get(server: &Served, path: &str) -> (u16, Value) {
    let resp = client().get(server.url(path)).send().unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().unwrap_or(Value::Null))
}

fn metrics(server: &Served) -> String {
    let resp = client().get(server.url("/metrics")).send().unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    resp.text().unwrap()
}

/// The value of the series `name{labels}` exactly as printed (labels in registration order).
fn series(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix) && l[prefix.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn metrics_count_requests_stage_times_answers_cache_knowledge_and_index_state() {
    let server = shared();
    let q = json!({ "question": "What is the total revenue by zone?" });
    let (s, b) = post(server, "/api/query", &q);
    assert_eq!(s, 200, "{b}");
    let (s, _) = post(server, "/api/query", &json!({ "question": "" }));
    assert_eq!(s, 400);
    let text = metrics(server);
    assert!(
        series(
            &text,
            r#"querent_http_requests_total{route="/api/query",method="POST",status="200"}"#
        )
        .is_some_and(|v| v >= 1.0),
        "{text}"
    );
    for stage in [
        "analysis",
        "retrieval",
        "generation",
        "execution",
        "answer",
        "total",
    ] {
        let prefix = format!(r#"querent_question_stage_duration_seconds_count{{stage="{stage}"}}"#);
        assert!(
            series(&text, &prefix).is_some_and(|v| v >= 1.0),
            "{stage}: {text}"
        );
    }
    assert!(text.contains("querent_answers_total{method="), "{text}");
    assert!(
        series(
            &text,
            r#"querent_question_errors_total{code="empty_question"}"#
        )
        .is_some_and(|v| v >= 1.0),
        "{text}"
    );
    assert!(
        series(&text, "querent_warehouse_query_duration_seconds_count").is_some_and(|v| v >= 1.0)
    );
    assert!(
        series(
            &text,
            r#"querent_knowledge_items{database="retail",kind="tables"}"#
        )
        .is_some_and(|v| v > 0.0),
        "{text}"
    );
    assert!(
        series(
            &text,
            r#"querent_index_up{backend="embedded",mode="vector"}"#
        ) == Some(1.0),
        "{text}"
    );
    assert!(series(&text, r#"querent_index_points{collection="tables"}"#).is_some_and(|v| v > 0.0));
    assert!(series(&text, "querent_llm_configured") == Some(0.0));
    assert!(text.contains(r#"querent_cache_misses_total{cache="answers"}"#));
    assert!(text.contains(r#"querent_jobs{state="running"}"#));
    // a scrape is cheap: the previous one's encoding time is exported
    let started = Instant::now();
    let again = metrics(server);
    eprintln!(
        "scrape over HTTP: {:.2} ms; encoding: {:?} s",
        started.elapsed().as_secs_f64() * 1000.0,
        series(&again, "querent_metrics_scrape_duration_seconds")
    );
}

#[test]
fn a_repeated_question_comes_from_the_cache_with_its_age_until_a_curation_write_to_its_domain() {
    let server = shared();
    let q = json!({ "question": "How many stores are there in each zone?" });
    let (s, first) = post(server, "/api/query", &q);
    assert_eq!(s, 200, "{first}");
    assert_eq!(first["cached"], false);
    assert!(first["cache_age_ms"].is_null());
    // the same question, differently typed
    let (s, second) = post(
        server,
        "/api/query",
        &json!({ "question": "  how many stores are there in each ZONE " }),
    );
    assert_eq!(s, 200, "{second}");
    assert_eq!(second["cached"], true, "{second}");
    assert!(second["cache_age_ms"].as_u64().is_some());
    assert_eq!(second["sql"], first["sql"]);
    assert_eq!(second["rows"], first["rows"]);
    assert_ne!(
        second["query_id"], first["query_id"],
        "a cached answer has its own id"
    );
    // another database context (a conversation) is another key
    let (s, in_session) = post(
        server,
        "/api/query",
        &json!({ "question": "How many stores are there in each zone?", "session_id": "ops-cache-1" }),
    );
    assert_eq!(s, 200);
    assert_eq!(in_session["cached"], false);

    // a curation write to the domain: the next ask is computed afresh
    let resp = client()
        .post(server.url("/api/knowledge/examples"))
        .bearer_auth(KEY)
        .json(&json!({ "database": "retail", "question": "Which zone has the fewest stores?", "sql": "SELECT zone, COUNT(*) AS n FROM stores GROUP BY zone ORDER BY n ASC LIMIT 1" }))
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201, "{}", resp.text().unwrap());
    let (s, third) = post(server, "/api/query", &q);
    assert_eq!(s, 200);
    assert_eq!(
        third["cached"], false,
        "the write invalidated the domain's answers"
    );
    let (_, fourth) = post(server, "/api/query", &q);
    assert_eq!(fourth["cached"], true);
    let text = metrics(server);
    assert!(
        series(&text, r#"querent_cache_hits_total{cache="answers"}"#).is_some_and(|v| v >= 2.0),
        "{text}"
    );
    assert!(
        series(&text, r#"querent_knowledge_version{database="retail"}"#).is_some_and(|v| v >= 1.0),
        "{text}"
    );
}

#[test]
fn a_client_past_its_sql_rate_gets_429_rate_limited_with_retry_after() {
    let server = shared();
    let body = json!({ "sql": "SELECT COUNT(*) FROM stores" });
    let mut statuses = Vec::new();
    let mut limited = None;
    for _ in 0..6 {
        let resp = client()
            .post(server.url("/api/sql"))
            .json(&body)
            .send()
            .unwrap();
        statuses.push(resp.status().as_u16());
        if resp.status().as_u16() == 429 {
            let retry: u64 = resp.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            limited = Some((retry, resp.json::<Value>().unwrap()));
        }
    }
    assert_eq!(statuses[0], 200, "{statuses:?}");
    let (retry, body) = limited.unwrap_or_else(|| panic!("no 429 in {statuses:?}"));
    assert!((1..=2).contains(&retry), "{retry}");
    assert_eq!(body["error"]["code"], "rate_limited");
    assert_eq!(body["error"]["details"]["class"], "sql");
    // questions have their own, generous rate
    let (s, _) = post(
        server,
        "/api/query",
        &json!({ "question": "How many stores are there?" }),
    );
    assert_eq!(s, 200);
    let text = metrics(server);
    assert!(series(&text, r#"querent_rate_limited_total{class="sql"}"#).is_some_and(|v| v >= 1.0));
}

#[test]
fn every_response_carries_a_request_id_and_a_sane_incoming_one_is_kept() {
    let server = shared();
    let resp = client()
        .get(server.url("/api/health"))
        .header("x-request-id", "trace-abc.123")
        .send()
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "trace-abc.123");
    let resp = client()
        .get(server.url("/api/health"))
        .header("x-request-id", "bad id with spaces")
        .send()
        .unwrap();
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(!id.contains(' ') && id.len() >= 16, "{id}");
    let resp = client().get(server.url("/nowhere")).send().unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    assert!(resp.headers().contains_key("x-request-id"));
}

#[test]
fn responses_are_compressed_with_gzip_or_brotli_as_the_client_accepts_but_streams_are_not() {
    let server = shared();
    // (poem 3.1 negotiates zstd only through `*`: its Accept-Encoding parser does not name it)
    for (accept, magic) in [("gzip", &[0x1f_u8, 0x8b][..]), ("br", &[][..])] {
        let resp = client()
            .post(server.url("/api/query"))
            .header("accept-encoding", accept)
            .json(&json!({ "question": "Show me the top 10 items by elasticity in frozen food" }))
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        assert_eq!(resp.headers()["content-encoding"], accept);
        let bytes = resp.bytes().unwrap();
        assert!(bytes.starts_with(magic), "{accept}");
        assert!(!bytes.starts_with(b"{"), "{accept}: compressed");
    }
    let resp = client()
        .post(server.url("/api/query/stream"))
        .header("accept-encoding", "gzip")
        .json(&json!({ "question": "How many stores are there?" }))
        .send()
        .unwrap();
    assert!(!resp.headers().contains_key("content-encoding"));
    assert!(resp.text().unwrap().contains("event: answer"));
}

#[test]
fn a_query_job_is_accepted_at_once_reports_its_progress_and_holds_the_answer_when_done() {
    let server = shared();
    let resp = client()
        .post(server.url("/api/jobs"))
        .json(&json!({ "question": "What is the total revenue by store format?" }))
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 202);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let job: Value = resp.json().unwrap();
    assert!(
        ["queued", "running"].contains(&job["state"].as_str().unwrap()),
        "{job}"
    );
    assert_eq!(
        location,
        format!("/api/jobs/{}", job["job_id"].as_str().unwrap())
    );
    let started = Instant::now();
    let done = loop {
        let (s, body) = get(server, &location);
        assert_eq!(s, 200, "{body}");
        if body["state"] == "done" || body["state"] == "failed" {
            break body;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{body}");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(done["state"], "done", "{done}");
    let events: Vec<&str> = done["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        ["analysis", "retrieval", "sql", "rows", "chart"],
        "{done}"
    );
    assert!(done["answer"]["sql"]
        .as_str()
        .unwrap()
        .to_lowercase()
        .contains("select"));
    assert!(done["elapsed_ms"].as_u64().is_some());

    // an invalid question is refused before a job exists; an unknown job is 404
    let (s, b) = post(server, "/api/jobs", &json!({ "question": " " }));
    assert_eq!(s, 400, "{b}");
    let (s, b) = get(server, "/api/jobs/no-such-job");
    assert_eq!(s, 404);
    assert_eq!(b["error"]["code"], "unknown_item");
}

#[test]
fn a_cancelled_job_stays_cancelled_and_never_gets_an_answer() {
    let server = shared();
    let (s, job) = post(
        server,
        "/api/jobs",
        &json!({ "question": "What is the average unit price by category and month?" }),
    );
    assert_eq!(s, 202, "{job}");
    let path = format!("/api/jobs/{}", job["job_id"].as_str().unwrap());
    let resp = client().delete(server.url(&path)).send().unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let cancelled: Value = resp.json().unwrap();
    // a job may finish before the cancel arrives; then it is left as it is
    let state = cancelled["state"].as_str().unwrap().to_string();
    assert!(
        ["cancelled", "done", "failed"].contains(&state.as_str()),
        "{cancelled}"
    );
    std::thread::sleep(Duration::from_millis(500));
    let (_, later) = get(server, &path);
    assert_eq!(later["state"], state.as_str(), "{later}");
    if state == "cancelled" {
        assert!(later["answer"].is_null(), "{later}");
    }
}

#[test]
fn a_database_with_a_full_queue_refuses_questions_with_503_overloaded() {
    let data = tempfile::tempdir().unwrap();
    let log = data.path().join("server.log");
    let server = Served::start(
        data.path(),
        &repo().join("knowledge"),
        &[
            "--max-concurrent-questions",
            "1",
            "--question-queue",
            "0",
            "--cache-ttl-s",
            "0",
        ],
        &[],
        log,
    );
    let url = server.url("/api/query");
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let url = url.clone();
            std::thread::spawn(move || {
                let resp = client()
                    .post(&url)
                    .json(&json!({ "question": format!("What is the total revenue by zone in {}?", 2017 + i) }))
                    .send()
                    .unwrap();
                let status = resp.status().as_u16();
                (status, resp.json::<Value>().unwrap_or(Value::Null))
            })
        })
        .collect();
    let results: Vec<(u16, Value)> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let statuses: Vec<u16> = results.iter().map(|r| r.0).collect();
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 503 || *s == 422),
        "{statuses:?}"
    );
    let refused: Vec<&Value> = results
        .iter()
        .filter(|r| r.0 == 503)
        .map(|r| &r.1)
        .collect();
    assert!(
        !refused.is_empty(),
        "8 questions at once, 1 running, none queued: {statuses:?}"
    );
    assert_eq!(refused[0]["error"]["code"], "overloaded");
    assert_eq!(refused[0]["error"]["details"]["database"], "retail");
    assert!(statuses.contains(&200), "{statuses:?}");
}

/// The `embedded=` figure of the "database ready" line.
fn embedded_at_start(log: &str) -> Option<u64> {
    log.lines()
        .find(|l| l.contains("database ready"))
        .and_then(|l| l.split("embedded=").nth(1))
        .and_then(|v| v.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn after_sigterm_the_server_stops_gracefully_and_the_next_start_embeds_nothing() {
    let data = tempfile::tempdir().unwrap();
    let knowledge = knowledge_copy();
    let env = [("QUERENT_LOG", "querent=info")];
    let mut first = Served::start(
        data.path(),
        knowledge.path(),
        &["--api-key", KEY],
        &env,
        data.path().join("first.log"),
    );
    // a curation write of one item: the kind of write a plain kill used to lose
    let resp = client()
        .post(first.url("/api/knowledge/examples"))
        .bearer_auth(KEY)
        .json(&json!({ "database": "retail", "question": "Which zone has the most stores?", "sql": "SELECT zone, COUNT(*) AS n FROM stores GROUP BY zone ORDER BY n DESC LIMIT 1" }))
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201, "{}", resp.text().unwrap());
    let status = first.terminate(Duration::from_secs(30));
    assert!(status.success(), "{status:?}: {}", first.log_text());
    let log = first.log_text();
    assert!(log.contains("SIGTERM"), "{log}");
    assert!(log.contains("vector index flushed"), "{log}");
    let first_embedded = embedded_at_start(&log);

    let second = Served::start(
        data.path(),
        knowledge.path(),
        &["--api-key", KEY],
        &env,
        data.path().join("second.log"),
    );
    let (s, _) = get(&second, "/api/health");
    assert_eq!(s, 200);
    let log = second.log_text();
    eprintln!(
        "first start embedded {first_embedded:?}; after SIGTERM the next embedded {:?}",
        embedded_at_start(&log)
    );
    assert_eq!(embedded_at_start(&log), Some(0), "{log}");
}

#[test]
fn json_logs_carry_the_request_id_on_every_line_of_the_request_and_no_colour_codes() {
    let data = tempfile::tempdir().unwrap();
    let log = data.path().join("server.log");
    let server = Served::start(
        data.path(),
        &repo().join("knowledge"),
        &[],
        &[
            ("QUERENT_LOG_FORMAT", "json"),
            ("QUERENT_LOG", "querent=debug,warn,qdrant_edge=error"),
        ],
        log,
    );
    let resp = client()
        .post(server.url("/api/query"))
        .header("x-request-id", "json-log-test-1")
        .json(&json!({ "question": "How many stores are there?" }))
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    std::thread::sleep(Duration::from_millis(200));
    let text = server.log_text();
    assert!(
        !text.contains('\u{1b}'),
        "no ANSI escapes when the log is a file"
    );
    let lines: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let tagged: Vec<&Value> = lines
        .iter()
        .filter(|l| l["span"]["request_id"] == "json-log-test-1")
        .collect();
    assert!(!tagged.is_empty(), "{text}");
    assert!(
        tagged.iter().any(|l| l["fields"]["message"] == "request"),
        "{text}"
    );
}
