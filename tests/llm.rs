//! The LLM generator through the real binary, against a fake OpenAI-compatible server (a real
//! HTTP server speaking `/v1/chat/completions`, tests/common/fake_llm.rs) with scripted replies:
//! good SQL, a bug then its fix, prose around SQL, writes, 429, 500, malformed bodies, a dead
//! endpoint and a slow stream; then conversations (follow-ups without an LLM) across a restart.

mod common;

use std::sync::OnceLock;
use std::time::Instant;

use common::fake_llm::{FakeLlm, Reply};
use common::*;
use serde_json::{json, Value};

/// A server whose LLM is `fake`, with `extra` flags. The LLM's turn is what these tests
/// exercise, so the semantic layer only shows (`--semantic show`): by default it answers the
/// metric questions it reads before the LLM is asked.
fn server_with(fake: &FakeLlm, extra: &[&str]) -> TestServer {
    let mut args = vec![
        "--llm-base-url",
        fake.base_url.as_str(),
        "--llm-model",
        "fake-model",
        "--semantic",
        "show",
    ];
    args.extend_from_slice(extra);
    TestServer::start(&args)
}

/// The shared server and its fake: generous limits, a circuit that does not open.
fn shared() -> &'static (FakeLlm, TestServer) {
    static S: OnceLock<(FakeLlm, TestServer)> = OnceLock::new();
    S.get_or_init(|| {
        let fake = FakeLlm::start();
        let server = server_with(&fake, &["--llm-circuit-threshold", "1000"]);
        (fake, server)
    })
}

fn trace_messages(body: &Value) -> Vec<String> {
    body["trace"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            format!(
                "{}: {}",
                t["stage"].as_str().unwrap(),
                t["message"].as_str().unwrap()
            )
        })
        .collect()
}

fn demo_rows(sql: &str) -> Vec<Vec<Value>> {
    sqlite_rows(&demo_db(), sql)
}

#[test]
fn good_sql_from_the_llm_is_guarded_run_and_summarised_by_the_llm() {
    let (fake, server) = shared();
    let q = "How many stores are there?";
    let sql = "SELECT COUNT(*) AS store_count FROM stores";
    fake.script(q, vec![Reply::sql(sql)]);
    let (s, b) = ask(server, q, None);
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["generation_method"], "llm", "{:#?}", trace_messages(&b));
    assert!(b["fallback_reason"].is_null(), "{b}");
    assert!(b["sql"].as_str().unwrap().starts_with(sql), "{}", b["sql"]);
    assert_eq!(b["rows"], json!(demo_rows(sql)));
    assert_eq!(b["summary"], format!("FAKE SUMMARY of {q}"));
    assert_eq!(
        b["follow_ups"],
        json!(["fake follow-up one", "fake follow-up two"])
    );
    // What querent sent: the model, temperature 0, a system prompt with the dialect and the
    // retrieved table docs, then the question.
    let sent = &fake.requests(q)[0].body;
    assert_eq!(sent["model"], "fake-model");
    assert_eq!(sent["temperature"], 0.0);
    let system = sent["messages"][0]["content"].as_str().unwrap();
    assert_eq!(sent["messages"][0]["role"], "system");
    assert!(system.contains("SQLite"), "{system}");
    assert!(system.contains("\nstores"), "{system}");
    assert!(system.contains("  store_format TEXT"), "{system}");
    assert_eq!(sent["messages"][1]["content"], q);
}

#[test]
fn only_a_bounded_sample_of_rows_is_sent_for_the_summary() {
    let (fake, server) = shared();
    let q = "List every product with its brand";
    let sql = "SELECT product_name, brand FROM products ORDER BY upc_code";
    fake.script(q, vec![Reply::sql(sql)]);
    let (s, b) = ask(server, q, None);
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["generation_method"], "llm");
    assert!(b["row_count"].as_u64().unwrap() > 20);
    let summary = fake.requests(&format!("summary:{q}"));
    assert_eq!(summary.len(), 1);
    let text = summary[0].body["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_string();
    let first = &b["rows"][0][0].as_str().unwrap();
    let twenty_first = &b["rows"][20][0].as_str().unwrap();
    assert!(text.contains("the first 20"), "{text}");
    assert!(text.contains(first));
    assert!(
        !text.contains(&format!("\n{twenty_first} |")),
        "row 21 was sent: {text}"
    );
}

#[test]
fn a_failing_query_goes_back_to_the_model_with_its_error_and_one_repair_fixes_it() {
    let (fake, server) = shared();
    let q = "Average unit cost by department";
    let fixed = "SELECT category_level_1 AS department, AVG(cost) AS avg_cost FROM products GROUP BY category_level_1 ORDER BY avg_cost DESC";
    fake.script(
        q,
        vec![
            Reply::sql("SELECT category_level_1, AVG(costt) FROM products GROUP BY 1"),
            Reply::sql(fixed),
        ],
    );
    let (s, b) = ask(server, q, None);
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["generation_method"], "llm", "{:#?}", trace_messages(&b));
    assert_eq!(b["rows"], json!(demo_rows(fixed)));
    let steps = trace_messages(&b);
    assert!(
        steps
            .iter()
            .any(|m| m.starts_with("llm: query failed") && m.contains("costt")),
        "{steps:#?}"
    );
    assert!(
        steps.iter().any(|m| m.starts_with("llm: repair 1 ran")),
        "{steps:#?}"
    );
    let generation = b["trace"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["stage"] == "generation")
        .unwrap();
    assert_eq!(generation["details"]["repairs"], 1);
    // The repair request carries the model's reply and the database's error.
    let requests = fake.requests(q);
    assert_eq!(requests.len(), 2);
    let messages = requests[1].body["messages"].as_array().unwrap().clone();
    assert_eq!(messages.len(), 4);
    assert_eq!(messages[2]["role"], "assistant");
    assert!(
        messages[3]["content"]
            .as_str()
            .unwrap()
            .contains("no such column: costt"),
        "{messages:?}"
    );
}

#[test]
fn sql_between_prose_is_found_and_run() {
    let (fake, server) = shared();
    let q = "How many Beverages products are there?";
    fake.script(
        q,
        vec![Reply::Text(
            "Sure! Here is the query you need:\nSELECT COUNT(*) AS product_count FROM products WHERE category_level_2 = 'Beverages';\n\nIt counts the beverage products.".into(),
        )],
    );
    let (s, b) = ask(server, q, None);
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["generation_method"], "llm", "{:#?}", trace_messages(&b));
    assert_eq!(
        b["rows"],
        json!(demo_rows(
            "SELECT COUNT(*) FROM products WHERE category_level_2 = 'Beverages'"
        ))
    );
}

#[test]
fn a_write_from_the_model_is_rejected_never_run_and_the_pattern_engine_answers() {
    let (fake, server) = shared();
    let q = "Which stores have the Express format?";
    let before = demo_rows("SELECT COUNT(*) FROM stores");
    fake.script(
        q,
        vec![
            Reply::sql("DELETE FROM stores"),
            Reply::sql("SELECT store_id FROM stores; DROP TABLE stores"),
            Reply::Text("UPDATE stores SET zone = 'X'".into()),
        ],
    );
    let (s, b) = ask(server, q, None);
    assert_eq!(s, 200, "{b}");
    assert_ne!(b["generation_method"], "llm");
    let reason = b["fallback_reason"].as_str().unwrap();
    assert!(
        reason.contains("after 2 repairs") && reason.contains("SQL rejected"),
        "{reason}"
    );
    let steps = trace_messages(&b);
    assert_eq!(
        steps
            .iter()
            .filter(|m| m.starts_with("llm:") && m.contains("SQL rejected"))
            .count(),
        3,
        "{steps:#?}"
    );
    assert_eq!(fake.requests(q).len(), 3, "one query and two repairs");
    // No summary was asked of a model that failed.
    assert!(fake.requests(&format!("summary:{q}")).is_empty());
    assert_eq!(demo_rows("SELECT COUNT(*) FROM stores"), before);
    assert!(b["sql"]
        .as_str()
        .unwrap()
        .to_uppercase()
        .starts_with("SELECT"));
}

#[test]
fn a_429_is_retried_with_backoff_and_the_second_attempt_answers() {
    let (fake, server) = shared();
    let q = "What is the average elasticity of Ice Cream products?";
    let sql = "SELECT AVG(elasticity_value) AS avg_elasticity FROM elasticity WHERE category_level_2 = 'Ice Cream'";
    fake.script(
        q,
        vec![Reply::Status(429, "slow down".into()), Reply::sql(sql)],
    );
    let (s, b) = ask(server, q, None);
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["generation_method"], "llm", "{:#?}", trace_messages(&b));
    let requests = fake.requests(q);
    assert_eq!(requests.len(), 2);
    let gap = requests[1].received - requests[0].received;
    assert!(
        gap.as_millis() >= 100,
        "backoff of at least 100 ms, was {gap:?}"
    );
    assert!(trace_messages(&b)
        .iter()
        .any(|m| m.contains("2 HTTP attempts")));
}

#[test]
fn a_malformed_body_falls_back_to_the_pattern_engine_with_its_reason() {
    let (fake, server) = shared();
    let q = "Which stores are in Texas?";
    fake.script(
        q,
        vec![Reply::Raw("{\"this is\": \"not a chat completion\"".into())],
    );
    let (s, b) = ask(server, q, None);
    assert_eq!(s, 200, "{b}");
    assert_ne!(b["generation_method"], "llm");
    let reason = b["fallback_reason"].as_str().unwrap();
    assert!(reason.contains("not a chat completion"), "{reason}");
    let (_, h) = get_json(server, "/api/health");
    assert_eq!(h["llm_status"]["model"], "fake-model");
}

#[test]
fn a_dead_endpoint_and_a_slow_stream_cost_at_most_the_timeout_before_the_pattern_engine_answers() {
    let fake = FakeLlm::start();
    let server = server_with(
        &fake,
        &["--llm-timeout-ms", "300", "--llm-circuit-threshold", "1000"],
    );
    let dead = "How many stores are there?";
    fake.script(
        dead,
        vec![Reply::Delay(5_000, Box::new(Reply::sql("SELECT 1")))],
    );
    let slow = "How many Beverages products are there?";
    fake.script(
        slow,
        vec![Reply::Trickle {
            text: "```sql\nSELECT 1\n```".into(),
            chunks: 20,
            every_ms: 100,
        }],
    );
    for q in [dead, slow] {
        let (s, b) = ask(&server, q, None);
        assert_eq!(s, 200, "{b}");
        assert_ne!(b["generation_method"], "llm");
        let reason = b["fallback_reason"].as_str().unwrap();
        assert!(reason.contains("within 300 ms"), "{q}: {reason}");
        let t = &b["timings_ms"];
        let llm_cost = t["llm"].as_f64().unwrap();
        assert!(
            (300.0..=350.0).contains(&llm_cost),
            "{q}: the LLM stage took {llm_cost} ms: {t}"
        );
    }
}

#[test]
fn repeated_500s_open_the_circuit_and_then_no_call_is_made() {
    let fake = FakeLlm::start();
    let server = server_with(
        &fake,
        &[
            "--llm-retries",
            "0",
            "--llm-circuit-threshold",
            "2",
            "--llm-circuit-cooldown-s",
            "600",
        ],
    );
    let q = "How many stores are there?";
    fake.script(q, vec![Reply::Status(500, "the model crashed".into())]);
    let (_, h) = get_json(&server, "/api/health");
    // No call has reached the LLM yet.
    assert_eq!(h["llm"], "unknown");
    for _ in 0..2 {
        let (s, b) = ask(&server, q, None);
        assert_eq!(s, 200, "{b}");
        assert!(
            b["fallback_reason"].as_str().unwrap().contains("HTTP 500"),
            "{b}"
        );
    }
    let (_, h) = get_json(&server, "/api/health");
    assert_eq!(h["llm"], "open", "{h}");
    assert_eq!(h["status"], "degraded");
    assert!(
        h["llm_status"]["last_error"]
            .as_str()
            .unwrap()
            .contains("the model crashed"),
        "{h}"
    );
    let calls = fake.request_count();
    assert_eq!(calls, 2);
    let (s, b) = ask(&server, q, None);
    assert_eq!(s, 200, "{b}");
    assert!(
        b["fallback_reason"]
            .as_str()
            .unwrap()
            .contains("circuit is open"),
        "{b}"
    );
    assert_eq!(b["timings_ms"]["llm"], 0.0);
    assert_eq!(
        fake.request_count(),
        calls,
        "no request while the circuit is open"
    );
}

/// Asks within a session.
fn ask_in(server: &TestServer, session: &str, question: &str) -> Value {
    let (s, b) = post_json(
        server,
        "/api/query",
        &json!({ "question": question, "session_id": session }),
    );
    assert_eq!(s, 200, "{question}: {b}");
    b
}

#[test]
fn follow_ups_refine_the_previous_sql_without_an_llm_and_survive_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let knowledge = repo().join("knowledge");
    let first = ask_in(
        &TestServer::start_in(data.path(), &knowledge, &[]),
        "chat-1",
        "How many stores are there?",
    );
    assert_eq!(first["session_id"], "chat-1");
    // A new process on the same data directory: the session's last SQL is still there.
    let server = TestServer::start_in(data.path(), &knowledge, &[]);
    let west = ask_in(&server, "chat-1", "only in the West zone");
    assert_eq!(
        west["generation_method"],
        "refinement",
        "{:#?}",
        trace_messages(&west)
    );
    assert!(
        west["sql"].as_str().unwrap().contains("zone = 'West'"),
        "{}",
        west["sql"]
    );
    assert_eq!(
        west["rows"],
        json!(demo_rows("SELECT COUNT(*) FROM stores WHERE zone = 'West'"))
    );
    let east = ask_in(&server, "chat-1", "what about the East zone?");
    assert!(
        east["sql"].as_str().unwrap().contains("zone = 'East'"),
        "{}",
        east["sql"]
    );
    assert!(
        !east["sql"].as_str().unwrap().contains("'West'"),
        "{}",
        east["sql"]
    );
    // Another session is not affected.
    let (s, other) = post_json(
        &server,
        "/api/query",
        &json!({ "question": "only in the West zone", "session_id": "chat-2" }),
    );
    assert!(
        s != 200 || other["generation_method"] != "refinement",
        "{other}"
    );
}

#[test]
fn a_time_range_a_grain_and_an_order_refine_a_sales_question() {
    let server = TestServer::start(&[]);
    let s = "sales-1";
    let base = ask_in(&server, s, "Total units sold in 2023");
    assert!(
        base["sql"].as_str().unwrap().contains("2023"),
        "{}",
        base["sql"]
    );
    let y2024 = ask_in(&server, s, "and for 2024?");
    let sql = y2024["sql"].as_str().unwrap();
    assert_eq!(
        y2024["generation_method"],
        "refinement",
        "{:#?}",
        trace_messages(&y2024)
    );
    assert!(sql.contains("2024-01-01") && !sql.contains("2023"), "{sql}");
    assert_eq!(
        y2024["rows"],
        json!(demo_rows("SELECT SUM(units_sold) FROM sales_data WHERE sale_date >= '2024-01-01' AND sale_date < '2025-01-01'"))
    );
    let monthly = ask_in(&server, s, "now by month");
    assert_eq!(
        monthly["generation_method"],
        "refinement",
        "{:#?}",
        trace_messages(&monthly)
    );
    assert_eq!(monthly["row_count"], 12, "{}", monthly["sql"]);
    assert_eq!(monthly["rows"][0][0], "2024-01");
    let sorted = ask_in(&server, s, "sort by units sold instead");
    assert_eq!(
        sorted["generation_method"],
        "refinement",
        "{:#?}",
        trace_messages(&sorted)
    );
    let units: Vec<f64> = sorted["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[1].as_f64().unwrap())
        .collect();
    assert!(units.windows(2).all(|w| w[0] >= w[1]), "{units:?}");
}

#[test]
fn a_session_id_with_spaces_is_a_400_with_a_stable_code() {
    let (fake, server) = shared();
    let _ = fake;
    let (s, b) = post_json(
        server,
        "/api/query",
        &json!({ "question": "How many stores are there?", "session_id": "a b" }),
    );
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["error"]["code"], "invalid_request");
}

fn p50(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Benchmarks of the closing note: querent's own time around an instant LLM, the cost of a dead
/// endpoint, and of an open circuit. `cargo test --test llm -- --ignored --nocapture`.
#[test]
#[ignore]
fn bench_llm_overhead_dead_endpoint_and_open_circuit() {
    let fake = FakeLlm::start();
    let server = server_with(
        &fake,
        &[
            "--llm-summaries",
            "false",
            "--llm-timeout-ms",
            "300",
            "--llm-retries",
            "0",
            "--llm-circuit-threshold",
            "1000",
        ],
    );
    let q = "How many stores are there?";
    fake.script(
        q,
        vec![Reply::sql("SELECT COUNT(*) AS store_count FROM stores")],
    );
    let mut overhead = Vec::new();
    for i in 0..40 {
        let (_, b) = ask(&server, q, None);
        assert_eq!(b["generation_method"], "llm");
        let t = &b["timings_ms"];
        let fake_ms = fake.requests(q)[i].handled.as_secs_f64() * 1000.0;
        overhead.push(t["llm"].as_f64().unwrap() - fake_ms);
    }
    println!(
        "querent overhead around an instant LLM call: p50 {:.2} ms (40 calls)",
        p50(overhead.clone())
    );
    let dead = "How many Beverages products are there?";
    fake.script(
        dead,
        vec![Reply::Delay(5_000, Box::new(Reply::sql("SELECT 1")))],
    );
    let mut cost = Vec::new();
    for _ in 0..5 {
        let t0 = Instant::now();
        let (_, b) = ask(&server, dead, None);
        let wall = t0.elapsed().as_secs_f64() * 1000.0;
        let t = &b["timings_ms"];
        cost.push(t["llm"].as_f64().unwrap());
        println!(
            "dead endpoint (timeout 300 ms): LLM stage {:.1} ms, request wall {:.1} ms, fallback: {}",
            cost.last().unwrap(),
            wall,
            b["fallback_reason"]
        );
    }
    println!(
        "dead endpoint: p50 {:.1} ms = timeout + {:.1} ms",
        p50(cost.clone()),
        p50(cost) - 300.0
    );
    let open = FakeLlm::start();
    let server = server_with(
        &open,
        &[
            "--llm-retries",
            "0",
            "--llm-circuit-threshold",
            "1",
            "--llm-circuit-cooldown-s",
            "600",
        ],
    );
    open.script(q, vec![Reply::Status(500, "down".into())]);
    ask(&server, q, None);
    let measure = |server: &TestServer| {
        let (mut total, mut generation, mut llm) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..20 {
            let (_, b) = ask(server, q, None);
            let t = &b["timings_ms"];
            total.push(t["total"].as_f64().unwrap());
            generation.push(t["generation"].as_f64().unwrap());
            llm.push(t["llm"].as_f64().unwrap_or(0.0));
        }
        (p50(total), p50(generation), p50(llm))
    };
    let (open_total, open_generation, open_llm) = measure(&server);
    let (plain_total, plain_generation, _) = measure(&TestServer::start(&[]));
    println!(
        "open circuit: total p50 {open_total:.2} ms, generation p50 {open_generation:.2} ms, LLM stage {open_llm:.3} ms, {} LLM requests in all",
        open.request_count()
    );
    println!(
        "no LLM configured: total p50 {plain_total:.2} ms, generation p50 {plain_generation:.2} ms"
    );
}

#[test]
fn the_stream_sends_each_stage_then_the_summary_word_by_word_then_the_answer() {
    let (fake, server) = shared();
    // (no curated example has this shape: curated examples that align answer before the LLM)
    let q = "How many stores does each city have?";
    fake.script(
        q,
        vec![Reply::sql(
            "SELECT city, COUNT(*) AS stores FROM stores GROUP BY city ORDER BY stores DESC",
        )],
    );
    let text = client()
        .post(server.url("/api/query/stream"))
        .json(&json!({ "question": q }))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let events: Vec<(String, Value)> = text
        .split("\n\n")
        .filter(|b| !b.trim().is_empty())
        .map(|block| {
            let name = block
                .lines()
                .find_map(|l| l.strip_prefix("event: "))
                .unwrap_or("message")
                .to_string();
            let data: String = block
                .lines()
                .filter_map(|l| l.strip_prefix("data: "))
                .collect::<Vec<_>>()
                .join("\n");
            (name, serde_json::from_str(&data).unwrap())
        })
        .collect();
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        &names[..5],
        ["analysis", "retrieval", "sql", "rows", "chart"],
        "{names:?}"
    );
    assert_eq!(names.last(), Some(&"answer"));
    assert!(names[5..names.len() - 1]
        .iter()
        .all(|n| *n == "summary_token"));
    let answer = &events.last().unwrap().1;
    assert_eq!(answer["generation_method"], "llm");
    assert_eq!(events[2].1["generation_method"], "llm");
    assert_eq!(events[3].1["row_count"], answer["row_count"]);
    let streamed: String = events
        .iter()
        .filter(|(n, _)| n == "summary_token")
        .map(|(_, v)| v["text"].as_str().unwrap())
        .collect();
    assert_eq!(streamed, answer["summary"].as_str().unwrap());
    // A bad request is refused before the stream starts, with the usual error body.
    let (s, b) = post_json(server, "/api/query/stream", &json!({ "question": "  " }));
    assert_eq!(s, 400, "{b}");
    assert_eq!(b["error"]["code"], "empty_question");
}

#[test]
fn the_config_file_configures_the_llm_below_flags() {
    let fake = FakeLlm::start();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("querent.toml");
    std::fs::write(
        &config,
        format!(
            "[llm]\nbase_url = \"{}\"\nmodel = \"from-the-file\"\ntimeout_ms = 1234\n",
            fake.base_url
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let server = TestServer::start(&["--config", config, "--llm-model", "from-the-flag"]);
    let (_, h) = get_json(&server, "/api/health");
    assert_eq!(h["llm"], "unknown", "{h}");
    assert_eq!(h["status"], "ok", "{h}");
    assert_eq!(h["llm_status"]["base_url"], fake.base_url.as_str());
    assert_eq!(h["llm_status"]["model"], "from-the-flag");
}
