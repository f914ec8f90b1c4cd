//! Test helpers: the app in process on a free port ([`app::spawn_app`]), or a real `querent
//! serve` process ([`TestServer`]) where the binary itself is under test, and typed helpers to
//! call either ([`Server`]).

#![allow(dead_code)]

pub mod app;
pub mod fake_bigquery;
pub mod fake_llm;
pub mod fake_qdrant;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The demo database shared by all tests (generated once, on first use, by the server).
pub fn demo_db() -> PathBuf {
    repo().join("data/retail.sqlite")
}

/// A running server, in process or not: where its routes are, and typed calls to them.
pub trait Server {
    /// The URL of `path` on this server.
    fn url(&self, path: &str) -> String;

    /// Asks a question: (status, body).
    fn ask(&self, question: &str, database: Option<&str>) -> (u16, serde_json::Value) {
        ask(self, question, database)
    }

    /// GETs `path`: (status, body as JSON).
    fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        get_json(self, path)
    }

    /// POSTs JSON to `path`: (status, body as JSON).
    fn post_json(&self, path: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
        post_json(self, path, body)
    }
}

impl Server for TestServer {
    fn url(&self, path: &str) -> String {
        TestServer::url(self, path)
    }
}

/// A running `querent serve` process.
pub struct TestServer {
    pub base_url: String,
    child: Child,
    _stdin: std::process::ChildStdin,
    /// The data directory, when the server owns it.
    _data_dir: Option<tempfile::TempDir>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl TestServer {
    /// Starts `querent serve` on 127.0.0.1:0 with its own data directory and `extra` flags,
    /// and waits for the line that gives its address.
    pub fn start(extra: &[&str]) -> TestServer {
        Self::start_with_knowledge(&repo().join("knowledge"), extra)
    }

    /// Starts `querent serve` with the knowledge base at `knowledge`.
    pub fn start_with_knowledge(knowledge: &Path, extra: &[&str]) -> TestServer {
        let data_dir = tempfile::tempdir().expect("tempdir");
        let mut server = Self::start_in(data_dir.path(), knowledge, extra);
        server._data_dir = Some(data_dir);
        server
    }

    /// Starts `querent serve` with the data directory `data_dir` (kept after it stops: a
    /// second server on the same directory sees what the first one wrote).
    pub fn start_in(data_dir: &Path, knowledge: &Path, extra: &[&str]) -> TestServer {
        Self::spawn(data_dir, knowledge, extra, Stdio::inherit())
    }

    /// Starts `querent serve` like [`TestServer::start_with_knowledge`], its log (stderr)
    /// written to `log`.
    pub fn start_logged(knowledge: &Path, extra: &[&str], log: &Path) -> TestServer {
        let data_dir = tempfile::tempdir().expect("tempdir");
        let file = std::fs::File::create(log).expect("log file");
        let mut server = Self::spawn(data_dir.path(), knowledge, extra, Stdio::from(file));
        server._data_dir = Some(data_dir);
        server
    }

    fn spawn(data_dir: &Path, knowledge: &Path, extra: &[&str], stderr: Stdio) -> TestServer {
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
            .arg(demo_db())
            .arg("--templates-dir")
            .arg(root.join("templates"))
            .arg("--static-dir")
            .arg(root.join("static"))
            // Curation tests write in bursts: no rate limit on writes unless a test sets one.
            .env("QUERENT_RATE_WRITES", "0")
            .args(extra)
            // The server stops when this pipe closes, i.e. when the test process ends: the
            // shared servers live in statics, which are never dropped.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("the querent binary starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let base_url = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(url) = line.strip_prefix("querent listening on ") {
                        break url.trim().to_string();
                    }
                }
                _ => panic!("querent serve exited before listening"),
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let server = TestServer {
            base_url,
            child,
            _stdin: stdin,
            _data_dir: None,
        };
        server.wait_for_examples_check();
        server
    }

    /// Waits until the background check of the curated examples is done (health's
    /// `examples_check`), so that health shows every knowledge issue, as the tests expect.
    pub fn wait_for_examples_check(&self) {
        let started = std::time::Instant::now();
        while started.elapsed() < Duration::from_secs(120) {
            let (_, health) = get_json(self, "/api/health");
            if health["examples_check"]["state"] == "done"
                || health["examples_check"]["state"] == "at_start"
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the examples' check did not finish within 120 s");
    }

    /// Kills the server at once (SIGKILL): no shutdown, no flush.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The server's process id (for its memory in `/proc/<pid>/status`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }
}

/// The shared server on the demo database.
pub fn demo_server() -> &'static TestServer {
    static SERVER: OnceLock<TestServer> = OnceLock::new();
    SERVER.get_or_init(|| TestServer::start(&[]))
}

/// A blocking HTTP client with a generous timeout.
pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client")
}

/// POSTs JSON and returns (status, body as JSON).
pub fn post_json(
    server: &(impl Server + ?Sized),
    path: &str,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let resp = client()
        .post(server.url(path))
        .json(body)
        .send()
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().unwrap_or(serde_json::Value::Null))
}

/// POSTs a raw body with a content type.
pub fn post_raw(
    server: &(impl Server + ?Sized),
    path: &str,
    content_type: &str,
    body: &str,
) -> (u16, serde_json::Value) {
    let resp = client()
        .post(server.url(path))
        .header("content-type", content_type)
        .body(body.to_string())
        .send()
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().unwrap_or(serde_json::Value::Null))
}

/// GETs and returns (status, body as JSON).
pub fn get_json(server: &(impl Server + ?Sized), path: &str) -> (u16, serde_json::Value) {
    let resp = client().get(server.url(path)).send().expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().unwrap_or(serde_json::Value::Null))
}

/// Asks a question and returns (status, body).
pub fn ask(
    server: &(impl Server + ?Sized),
    question: &str,
    database: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut body = serde_json::json!({ "question": question });
    if let Some(db) = database {
        body["database"] = serde_json::json!(db);
    }
    post_json(server, "/api/query", &body)
}

/// Rows of a SQL statement on a SQLite file, as JSON values (the gold side of a comparison).
pub fn sqlite_rows(path: &Path, sql: &str) -> Vec<Vec<serde_json::Value>> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let n = stmt.column_count();
    let rows = stmt
        .query_map([], |r| {
            (0..n)
                .map(|i| {
                    Ok(match r.get_ref(i)? {
                        rusqlite::types::ValueRef::Null => serde_json::Value::Null,
                        rusqlite::types::ValueRef::Integer(v) => serde_json::json!(v),
                        rusqlite::types::ValueRef::Real(v) => serde_json::json!(v),
                        rusqlite::types::ValueRef::Text(t) => {
                            serde_json::json!(String::from_utf8_lossy(t))
                        }
                        rusqlite::types::ValueRef::Blob(b) => {
                            serde_json::json!(format!("<{} bytes>", b.len()))
                        }
                    })
                })
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .unwrap();
    rows.collect::<rusqlite::Result<Vec<_>>>().unwrap()
}

/// Multiset equality of two results, numbers equal within a relative 1e-9 (SQLite may sum in
/// another order), columns in any order as long as every gold column appears among the
/// predicted ones (the lenient EX of ex.py).
pub fn rows_match(gold: &[Vec<serde_json::Value>], pred: &[Vec<serde_json::Value>]) -> bool {
    use std::cmp::Ordering;
    fn cmp(a: &serde_json::Value, b: &serde_json::Value) -> Ordering {
        match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            _ => a.to_string().cmp(&b.to_string()),
        }
    }
    fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
        match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
            _ => a == b,
        }
    }
    fn sorted(mut rows: Vec<Vec<serde_json::Value>>) -> Vec<Vec<serde_json::Value>> {
        rows.sort_by(|a, b| {
            a.iter()
                .zip(b)
                .map(|(x, y)| cmp(x, y))
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        });
        rows
    }
    let equal = |a: &[Vec<serde_json::Value>], b: &[Vec<serde_json::Value>]| {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| x.len() == y.len() && x.iter().zip(y).all(|(u, v)| same(u, v)))
    };
    if gold.len() != pred.len() {
        return false;
    }
    if gold.is_empty() {
        return true;
    }
    let (gn, pn) = (gold[0].len(), pred[0].len());
    if pn < gn {
        return false;
    }
    let column = |rows: &[Vec<serde_json::Value>], i: usize| {
        sorted(rows.iter().map(|r| vec![r[i].clone()]).collect())
    };
    // Greedy assignment of gold columns to predicted columns with the same multiset of values,
    // then a check of whole rows under that assignment.
    let mut used = vec![false; pn];
    let mut assign = Vec::with_capacity(gn);
    for g in 0..gn {
        let gc = column(gold, g);
        let Some(p) = (0..pn).find(|&p| !used[p] && equal(&column(pred, p), &gc)) else {
            return false;
        };
        used[p] = true;
        assign.push(p);
    }
    let projected: Vec<Vec<serde_json::Value>> = pred
        .iter()
        .map(|r| assign.iter().map(|&p| r[p].clone()).collect())
        .collect();
    equal(&sorted(gold.to_vec()), &sorted(projected))
}
