//! A bounded load test of a running `querent serve` (127.0.0.1 only): the curated questions of a
//! knowledge folder, asked in turn by `--concurrency` workers until `--requests` answers or
//! `--duration-s` seconds, optionally paced to `--rate` questions per second. Prints questions/s,
//! latency percentiles (client side), errors by status, and the server-side `timings_ms.total`
//! percentiles of cached and fresh answers.
//!
//! ```sh
//! cargo run --example load_test -- --url http://127.0.0.1:8080 --concurrency 16 --requests 2000
//! ```

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

struct Args {
    url: String,
    concurrency: usize,
    requests: u64,
    duration: Duration,
    rate: Option<f64>,
    knowledge: String,
    report_every: Duration,
}

fn parse_args() -> Args {
    let mut args = Args {
        url: "http://127.0.0.1:8080".into(),
        concurrency: 16,
        requests: 2000,
        duration: Duration::from_secs(60),
        rate: None,
        knowledge: "knowledge/retail/examples.yml".into(),
        report_every: Duration::from_secs(60),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => args.url = value,
            "--concurrency" => args.concurrency = value.parse().unwrap(),
            "--requests" => args.requests = value.parse().unwrap(),
            "--duration-s" => args.duration = Duration::from_secs(value.parse().unwrap()),
            "--rate" => args.rate = Some(value.parse().unwrap()),
            "--examples" => args.knowledge = value,
            "--report-every-s" => args.report_every = Duration::from_secs(value.parse().unwrap()),
            other => panic!("unknown flag {other}"),
        }
    }
    assert!(
        args.url.starts_with("http://127.0.0.1") || args.url.starts_with("http://localhost"),
        "the load test runs against 127.0.0.1 only"
    );
    args
}

#[derive(Default)]
struct Results {
    latencies_ms: Vec<f64>,
    server_fresh_ms: Vec<f64>,
    server_cached_ms: Vec<f64>,
    statuses: BTreeMap<u16, u64>,
    transport_errors: u64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn summary(name: &str, values: &mut [f64]) {
    values.sort_by(f64::total_cmp);
    println!(
        "{name}: n={} p50={:.2} p90={:.2} p99={:.2} max={:.2} ms",
        values.len(),
        percentile(values, 50.0),
        percentile(values, 90.0),
        percentile(values, 99.0),
        values.last().copied().unwrap_or(f64::NAN)
    );
}

#[tokio::main]
async fn main() {
    let args = parse_args();
    let text = std::fs::read_to_string(&args.knowledge).expect("examples file");
    let doc: serde_json::Value = serde_norway::from_str(&text).expect("examples YAML");
    let questions: Vec<String> = doc["examples"]
        .as_array()
        .expect("examples list")
        .iter()
        .filter_map(|e| e["question"].as_str().map(str::to_string))
        .collect();
    assert!(!questions.is_empty());
    println!(
        "{} questions, concurrency {}, at most {} requests / {:?}{}",
        questions.len(),
        args.concurrency,
        args.requests,
        args.duration,
        args.rate
            .map(|r| format!(", paced to {r}/s"))
            .unwrap_or_default()
    );
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(args.concurrency)
        .build()
        .unwrap();
    let questions = Arc::new(questions);
    let results = Arc::new(Mutex::new(Results::default()));
    let issued = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + args.duration;
    let url = format!("{}/api/query", args.url);
    let mut workers = Vec::new();
    for _ in 0..args.concurrency {
        let (client, questions, results, issued, url) = (
            client.clone(),
            questions.clone(),
            results.clone(),
            issued.clone(),
            url.clone(),
        );
        let (max, rate) = (args.requests, args.rate);
        workers.push(tokio::spawn(async move {
            loop {
                let n = issued.fetch_add(1, Ordering::Relaxed);
                if n >= max || Instant::now() >= deadline {
                    break;
                }
                if let Some(rate) = rate {
                    // request n is due at n / rate seconds
                    let due = started + Duration::from_secs_f64(n as f64 / rate);
                    tokio::time::sleep_until(due.into()).await;
                }
                let q = &questions[(n as usize) % questions.len()];
                let t = Instant::now();
                let resp = client
                    .post(&url)
                    .json(&serde_json::json!({ "question": q }))
                    .send()
                    .await;
                match resp {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        let body: serde_json::Value = r.json().await.unwrap_or_default();
                        let ms = t.elapsed().as_secs_f64() * 1000.0;
                        let mut res = results.lock();
                        res.latencies_ms.push(ms);
                        *res.statuses.entry(status).or_default() += 1;
                        if let Some(total) = body["timings_ms"]["total"].as_f64() {
                            if body["cached"] == true {
                                res.server_cached_ms.push(total);
                            } else {
                                res.server_fresh_ms.push(total);
                            }
                        }
                    }
                    Err(_) => results.lock().transport_errors += 1,
                }
            }
        }));
    }
    let reporter = {
        let results = results.clone();
        let every = args.report_every;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                let r = results.lock();
                println!(
                    "[{:>4.0} s] {} answers, statuses {:?}",
                    started.elapsed().as_secs_f64(),
                    r.latencies_ms.len(),
                    r.statuses
                );
            }
        })
    };
    for w in workers {
        w.await.unwrap();
    }
    reporter.abort();
    let elapsed = started.elapsed().as_secs_f64();
    let mut r = results.lock();
    let done = r.latencies_ms.len();
    let ok = r.statuses.get(&200).copied().unwrap_or(0);
    println!(
        "{done} requests in {elapsed:.2} s: {:.1} requests/s, {:.1} answers (200)/s; statuses {:?}, transport errors {}",
        done as f64 / elapsed,
        ok as f64 / elapsed,
        r.statuses,
        r.transport_errors
    );
    summary("client latency", &mut r.latencies_ms);
    summary(
        "server timings_ms.total (fresh answers)",
        &mut r.server_fresh_ms,
    );
    summary(
        "server timings_ms.total (cached answers)",
        &mut r.server_cached_ms,
    );
}
