//! The vector index on a Qdrant server (`--qdrant-url`): querent's real client (qdrant-client
//! over gRPC) against a server speaking the real protocol.
//!
//! No Qdrant server can be installed here, so most tests run against the fake in
//! `common/fake_qdrant.rs` (qdrant-client's own service definitions, an exact in-memory store
//! behind them). One test compares the embedded engine with a *real* server when one is
//! reachable (`QUERENT_TEST_QDRANT_URL`, default `http://localhost:6334`) and says clearly
//! that it skipped when none is.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::fake_qdrant::FakeQdrant;
use common::{get_json, post_json, repo, TestServer};
use querent::knowledge::{files, ItemKind};
use querent::retrieval::index::{point_id, EmbeddedIndex, NewPoint, ServerIndex, VectorStore};
use querent::retrieval::{default_model_dir, IndexConfig, Retriever, ServerConfig};

fn server_config(url: &str, prefix: &str) -> ServerConfig {
    ServerConfig {
        url: url.to_string(),
        api_key: None,
        collection_prefix: prefix.to_string(),
        timeout: Duration::from_secs(5),
    }
}

fn unit(i: usize) -> Vec<f32> {
    let mut v = vec![0.0; 384];
    v[i % 384] = 1.0;
    v[(i + 1) % 384] = 0.5;
    v
}

fn point(database: &str, key: &str, i: usize) -> NewPoint {
    NewPoint {
        database: database.into(),
        key: key.into(),
        content_hash: format!("hash-{i}"),
        item: serde_json::json!({ "name": key, "rank": i, "tags": ["a", "b"], "ok": true }),
        vector: unit(i),
    }
}

/// The demo questions (`tests/data/demo_questions.jsonl`).
fn demo_questions() -> Vec<String> {
    std::fs::read_to_string(repo().join("tests/data/demo_questions.jsonl"))
        .expect("demo questions")
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["question"].as_str().map(str::to_string))
        .collect()
}

/// Syncs the repository's retail knowledge into retrievers over `index` and over a fresh
/// embedded index, and checks that every demo question retrieves the same items in the same
/// order with the same scores from both. Returns the number of questions compared.
fn compare_with_embedded(index: IndexConfig) -> usize {
    let model = default_model_dir().expect("the embedding model (scripts/setup-model)");
    let (domains, _) = files::load_all(&repo().join("knowledge"));
    let retail = domains
        .iter()
        .find(|d| d.domain == "retail")
        .expect("retail knowledge");
    let items = retail.index_items();
    let data = tempfile::tempdir().unwrap();
    let embedded = Retriever::open(data.path(), Some(&model)).unwrap();
    let served = Retriever::open_with(&index, Some(&model)).unwrap();
    let a = embedded.sync("retail", &items).unwrap();
    let b = served.sync("retail", &items).unwrap();
    assert_eq!(a.embedded + a.unchanged, b.embedded + b.unchanged);
    assert_eq!(
        embedded.status().points,
        served.status().points,
        "same number of points per collection"
    );
    let questions = demo_questions();
    assert!(questions.len() >= 20);
    for question in &questions {
        let x = embedded.search("retail", question, 5, 3, 3).unwrap();
        let y = served.search("retail", question, 5, 3, 3).unwrap();
        assert_eq!(format!("{:?}", y.mode), "Vector", "{question}");
        for (left, right) in [
            (&x.tables, &y.tables),
            (&x.examples, &y.examples),
            (&x.rules, &y.rules),
        ] {
            let keys = |hits: &Vec<querent::retrieval::Hit>| {
                hits.iter().map(|h| h.key.clone()).collect::<Vec<_>>()
            };
            assert_eq!(keys(left), keys(right), "{question}");
            for (l, r) in left.iter().zip(right) {
                assert!(
                    (l.score - r.score).abs() < 1e-4,
                    "{question}: {} vs {}",
                    l.score,
                    r.score
                );
                assert_eq!(l.payload, r.payload, "{question}");
            }
        }
    }
    questions.len()
}

#[test]
fn the_server_index_creates_the_collections_and_round_trips_points() {
    let fake = FakeQdrant::start(None);
    let index = ServerIndex::open(server_config(&fake.url, "")).unwrap();
    assert_eq!(fake.collections(), vec!["examples", "rules", "tables"]);
    assert_eq!(fake.indexed_fields("tables"), vec!["database"]);
    assert_eq!(index.location().backend, "qdrant_server");

    // Over a scroll page (1024) of one database, plus another database.
    let points: Vec<NewPoint> = (0..1100)
        .map(|i| point(if i < 1050 { "a" } else { "b" }, &format!("k{i}"), i))
        .collect();
    index.upsert(ItemKind::Example, points.clone()).unwrap();
    let stored = index.stored(ItemKind::Example, "a").unwrap();
    assert_eq!(stored.len(), 1050);
    assert_eq!(stored["k7"].id, point_id("a", "k7"));
    assert_eq!(stored["k7"].content_hash, "hash-7");
    // The same payload as the embedded index writes.
    assert_eq!(
        fake.payload("examples", point_id("a", "k7")).unwrap(),
        points[7].payload()
    );

    let hits = index
        .search(ItemKind::Example, "b", &unit(1060), 3)
        .unwrap();
    assert_eq!(hits[0].key, "k1060");
    assert!((hits[0].score - 1.0).abs() < 1e-5);
    assert_eq!(hits[0].payload, points[1060].item);
    assert!(
        hits.iter().all(|h| h.key.as_str() >= "k1050"),
        "filtered by database"
    );

    index
        .delete(ItemKind::Example, vec![point_id("a", "k7")])
        .unwrap();
    assert_eq!(index.counts().unwrap()["examples"], 1099);
    assert!(!index
        .stored(ItemKind::Example, "a")
        .unwrap()
        .contains_key("k7"));

    // Whole points page by page, as a migration reads them.
    let mut read = 0;
    let mut offset = None;
    loop {
        let page = index.page(ItemKind::Example, offset, 500).unwrap();
        for p in &page.points {
            assert_eq!(p.vector.len(), 384);
        }
        read += page.points.len();
        match page.next {
            Some(next) => offset = Some(next),
            None => break,
        }
    }
    assert_eq!(read, 1099);

    // Reopening finds the collections and creates nothing.
    let creates = fake.calls("create_collection");
    ServerIndex::open(server_config(&fake.url, "")).unwrap();
    assert_eq!(fake.calls("create_collection"), creates);
}

#[test]
fn the_server_index_refuses_a_collection_of_another_vector_size_and_a_wrong_vector() {
    let fake = FakeQdrant::start(None);
    let index = ServerIndex::open(server_config(&fake.url, "p_")).unwrap();
    let err = index
        .upsert(
            ItemKind::Rule,
            vec![NewPoint {
                vector: vec![1.0; 3],
                ..point("a", "x", 1)
            }],
        )
        .unwrap_err();
    assert!(err.to_string().contains("3 dimensions"), "{err}");
    assert_eq!(fake.points("p_rules"), 0);

    // A collection made for another model (3-dimensional vectors) under the names we need.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        use qdrant_client::qdrant::{CreateCollectionBuilder, Distance, VectorParamsBuilder};
        let client = qdrant_client::Qdrant::from_url(&fake.url)
            .skip_compatibility_check()
            .build()
            .unwrap();
        client
            .create_collection(
                CreateCollectionBuilder::new("z_tables")
                    .vectors_config(VectorParamsBuilder::new(3, Distance::Cosine)),
            )
            .await
            .unwrap();
    });
    let err = ServerIndex::open(server_config(&fake.url, "z_")).unwrap_err();
    assert!(
        err.to_string()
            .contains("'z_tables' holds vectors of size Some(3)"),
        "{err}"
    );
}

#[test]
fn the_api_key_is_sent_and_a_missing_one_is_a_clear_error() {
    let fake = FakeQdrant::start(Some("s3cret"));
    let err = ServerIndex::open(server_config(&fake.url, "")).unwrap_err();
    assert!(err.to_string().to_lowercase().contains("api-key"), "{err}");
    let mut config = server_config(&fake.url, "");
    config.api_key = Some("s3cret".parse().unwrap());
    let index = ServerIndex::open(config).unwrap();
    assert!(format!("{index:?}").contains(&fake.url));
    assert!(!format!("{index:?}").contains("s3cret"));
}

#[test]
fn an_unreachable_server_is_an_error_within_the_time_limit() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = server_config(&format!("http://127.0.0.1:{port}"), "");
    config.timeout = Duration::from_millis(500);
    let started = std::time::Instant::now();
    let err = ServerIndex::open(config).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
}

#[test]
fn after_the_server_goes_away_calls_fail_at_once_until_the_cool_down_ends() {
    let mut fake = FakeQdrant::start(None);
    let mut config = server_config(&fake.url, "");
    config.timeout = Duration::from_secs(5);
    let index = ServerIndex::open(config).unwrap();
    index
        .upsert(ItemKind::Table, vec![point("a", "x", 1)])
        .unwrap();
    fake.stop();
    let first = index.search(ItemKind::Table, "a", &unit(1), 3).unwrap_err();
    assert!(first.to_string().contains(&fake.url), "{first}");
    let started = std::time::Instant::now();
    let second = index.counts().unwrap_err();
    // Well under the 5 s time limit: it did not wait for the server.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(
        second.to_string().contains("not tried: out of reach"),
        "{second}"
    );
}

#[test]
fn the_fake_server_gives_the_same_top_results_as_the_embedded_engine() {
    let fake = FakeQdrant::start(None);
    let n = compare_with_embedded(IndexConfig::Server(server_config(&fake.url, "")));
    assert!(fake.calls("query") >= 3 * n as u64);
}

#[test]
fn a_real_qdrant_server_gives_the_same_top_results_as_the_embedded_engine_or_the_test_says_it_skipped(
) {
    let url = std::env::var("QUERENT_TEST_QDRANT_URL")
        .unwrap_or_else(|_| "http://localhost:6334".to_string());
    // Collections of this run only, removed afterwards.
    let prefix = format!("querent_test_{}_", std::process::id());
    let mut config = server_config(&url, &prefix);
    config.api_key = std::env::var("QUERENT_TEST_QDRANT_API_KEY")
        .ok()
        .map(|k| k.parse().unwrap());
    config.timeout = Duration::from_secs(2);
    let probe = match ServerIndex::open(config.clone()) {
        Ok(index) => index,
        Err(e) => {
            eprintln!(
                "SKIPPED: no Qdrant server reachable at {url} ({e}); set QUERENT_TEST_QDRANT_URL \
                 to compare the embedded engine with a real server"
            );
            return;
        }
    };
    drop(probe);
    let n = compare_with_embedded(IndexConfig::Server(config.clone()));
    eprintln!("compared {n} questions against the real Qdrant server at {url}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = qdrant_client::Qdrant::from_url(&url)
            .api_key(config.api_key.as_ref().map(|k| k.expose().to_string()))
            .skip_compatibility_check()
            .build()
            .unwrap();
        for kind in ItemKind::ALL {
            let _ = client.delete_collection(config.collection(kind)).await;
        }
    });
}

/// Runs the `querent` binary with `args` and the test's directories; returns (success, stdout,
/// stderr).
fn querent(data_dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_querent"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--knowledge-dir")
        .arg(repo().join("knowledge"))
        .arg("--demo-db")
        .arg(common::demo_db())
        .output()
        .expect("querent runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn index_migrate_copies_the_embedded_index_to_the_server() {
    let data = tempfile::tempdir().unwrap();
    let (ok, _, stderr) = querent(data.path(), &["index"]);
    assert!(ok, "{stderr}");
    let embedded = EmbeddedIndex::open(&data.path().join("index")).unwrap();
    let counts = embedded.counts().unwrap();
    drop(embedded);
    assert!(counts["examples"] > 0);

    let fake = FakeQdrant::start(None);
    let (ok, stdout, stderr) = querent(
        data.path(),
        &["index", "migrate", "--qdrant-url", &fake.url],
    );
    assert!(ok, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("a JSON report");
    for (collection, n) in &counts {
        assert_eq!(report["copied"][collection], *n, "{stdout}");
        assert_eq!(fake.points(collection), *n as usize);
    }
    assert!(fake.calls("upsert") >= 3);

    // Without a target it says what is missing.
    let (ok, _, stderr) = querent(data.path(), &["index", "migrate"]);
    assert!(!ok);
    assert!(stderr.contains("--qdrant-url"), "{stderr}");
}

#[test]
fn a_configured_server_out_of_reach_at_start_stops_with_a_clear_error() {
    let data = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let (ok, _, stderr) = querent(
        data.path(),
        &["index", "--qdrant-url", &url, "--qdrant-timeout-ms", "500"],
    );
    assert!(!ok);
    assert!(
        stderr.contains("Qdrant server at") && stderr.contains(&url),
        "{stderr}"
    );
}

#[test]
fn the_server_answers_through_a_qdrant_server_and_degrades_to_lexical_when_it_goes_away() {
    let mut fake = FakeQdrant::start(None);
    let server = TestServer::start(&["--qdrant-url", &fake.url, "--qdrant-timeout-ms", "1000"]);
    let question = serde_json::json!({"question": "top 10 items by elasticity in frozen food"});

    let (status, health) = get_json(&server, "/api/health");
    assert_eq!(status, 200);
    assert_eq!(health["retrieval"]["mode"], "vector");
    assert_eq!(health["retrieval"]["index"]["backend"], "qdrant_server");
    assert_eq!(health["retrieval"]["index"]["location"], fake.url);
    assert!(health["retrieval"]["points"]["examples"].as_u64().unwrap() > 0);
    assert_eq!(
        health["retrieval"]["points"]["examples"].as_u64().unwrap() as usize,
        fake.points("examples")
    );

    let queries = fake.calls("query");
    let (status, answer) = post_json(&server, "/api/query", &question);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["rows"].as_array().unwrap().len(), 10);
    assert!(
        fake.calls("query") >= queries + 3,
        "retrieval asked the server"
    );

    // The server goes away: questions are still answered (lexically), health says why.
    fake.stop();
    let (status, answer) = post_json(&server, "/api/query", &question);
    assert_eq!(status, 200, "{answer}");
    assert!(!answer["rows"].as_array().unwrap().is_empty());
    let (_, health) = get_json(&server, "/api/health");
    assert_eq!(health["status"], "degraded");
    assert!(
        health["retrieval"]["index_error"]
            .as_str()
            .is_some_and(|e| e.contains(&fake.url)),
        "{health}"
    );
}
