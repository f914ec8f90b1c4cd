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

/// A copy of the demo's knowledge folder under a temporary one, for commands that write to it.
fn retail_knowledge() -> tempfile::TempDir {
    let knowledge = tempfile::tempdir().unwrap();
    let domain = knowledge.path().join("retail");
    std::fs::create_dir_all(&domain).unwrap();
    for file in ["tables.yml", "examples.yml", "rules.yml", "semantic.yml"] {
        std::fs::copy(
            repo().join("knowledge/retail").join(file),
            domain.join(file),
        )
        .unwrap();
    }
    knowledge
}

/// A dbt project: `dbt_project.yml` (whose `models:` is configuration, not docs), a schema
/// file, and semantic models and metrics in MetricFlow's YAML shape.
fn dbt_project(dir: &std::path::Path, metrics: &str) {
    std::fs::create_dir_all(dir.join("models/marts")).unwrap();
    std::fs::create_dir_all(dir.join("target")).unwrap();
    std::fs::write(
        dir.join("dbt_project.yml"),
        "name: shop\nversion: '1.0'\nmodels:\n  shop:\n    +materialized: table\n",
    )
    .unwrap();
    // dbt's build output is not read, even when it is broken YAML.
    std::fs::write(dir.join("target/broken.yml"), "models: [\n").unwrap();
    std::fs::write(
        dir.join("models/marts/schema.yml"),
        "version: 2\nmodels:\n  - name: sales_data\n    description: Weekly sales from dbt.\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("models/marts/sales.yml"),
        format!(
            r#"semantic_models:
  - name: sales
    description: Weekly sales (from dbt).
    model: ref('sales_data')
    defaults:
      agg_time_dimension: sale_date
    entities:
      - {{name: sale, type: primary, expr: id}}
      - {{name: product, type: foreign, expr: upc_code}}
      - {{name: store, type: foreign, expr: store_id}}
    dimensions:
      - name: sale_date
        type: time
        type_params: {{time_granularity: week}}
      - {{name: promotion_flag, type: categorical}}
    measures:
      - {{name: revenue, agg: sum}}
      - {{name: units_sold, agg: sum}}
      - {{name: weekly_units, agg: average, expr: units_sold}}
      - {{name: sales_rows, agg: count, expr: "1"}}
      - name: promo_units
        agg: sum
        expr: "CASE WHEN promotion_flag = 1 THEN units_sold ELSE 0 END"
        description: Units sold on promotion.
{metrics}"#
        ),
    )
    .unwrap();
}

fn import_dbt(project: &std::path::Path, knowledge: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_querent"))
        .args(["knowledge", "import-dbt"])
        .arg(project)
        .args(["--domain", "retail", "--knowledge-dir"])
        .arg(knowledge)
        .output()
        .unwrap()
}

#[test]
fn import_dbt_merges_semantic_models_and_metrics_and_the_imported_metric_answers() {
    let knowledge = retail_knowledge();
    let project = tempfile::tempdir().unwrap();
    dbt_project(
        project.path(),
        "metrics:\n  - name: campaign_volume\n    label: campaign volume\n    description: Units sold on promotion.\n    type: simple\n    type_params:\n      measure: {name: promo_units, join_to_timespine: false}\n",
    );
    let out = import_dbt(project.path(), knowledge.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("1 semantic models and 1 metrics read, 1 added, 1 replaced"),
        "{stdout}"
    );
    let (kb, _) =
        querent::knowledge::files::load_domain(&knowledge.path().join("retail"), "retail");
    assert_eq!(
        kb.table("sales_data").unwrap().description,
        "Weekly sales from dbt."
    );
    let manifest = querent::semantic::load(knowledge.path(), "retail")
        .expect("semantic.yml is there")
        .expect("the merged model validates");
    let sales = manifest.model("sales").unwrap();
    assert_eq!(sales.description, "Weekly sales (from dbt).");
    assert_eq!(sales.table(), "sales_data");
    // A key only querent has survives dbt's replacement of the model.
    assert_eq!(
        sales.dimension("sale_date").unwrap().synonyms,
        ["sales week", "week of sale"]
    );
    assert!(manifest.metric("gross_margin_pct").is_some());

    let data_dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_querent"))
        .args(["ask", "campaign volume by zone", "--json", "--data-dir"])
        .arg(data_dir.path())
        .arg("--knowledge-dir")
        .arg(knowledge.path())
        .arg("--demo-db")
        .arg(demo_db())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["generation_method"], "semantic", "{body}");
    let mut rows = body["rows"].as_array().unwrap().clone();
    rows.sort_by_key(|r| r[0].to_string());
    let gold = common::sqlite_rows(
        &demo_db(),
        "SELECT st.zone, SUM(CASE WHEN s.promotion_flag = 1 THEN s.units_sold ELSE 0 END) \
         FROM sales_data s JOIN stores st ON st.store_id = s.store_id GROUP BY st.zone ORDER BY st.zone",
    );
    assert_eq!(serde_json::json!(rows), serde_json::json!(gold), "{body}");
}

#[test]
fn import_dbt_refuses_a_metric_on_an_unknown_measure_and_writes_nothing() {
    let knowledge = retail_knowledge();
    let domain = knowledge.path().join("retail");
    let before = (
        std::fs::read(domain.join("semantic.yml")).unwrap(),
        std::fs::read(domain.join("tables.yml")).unwrap(),
    );
    let project = tempfile::tempdir().unwrap();
    dbt_project(
        project.path(),
        "metrics:\n  - name: broken_metric\n    type: simple\n    type_params: {measure: no_such_measure}\n",
    );
    let out = import_dbt(project.path(), knowledge.path());
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("metrics[broken_metric].type_params.measure: no measure 'no_such_measure'"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing written"), "{stderr}");
    let after = (
        std::fs::read(domain.join("semantic.yml")).unwrap(),
        std::fs::read(domain.join("tables.yml")).unwrap(),
    );
    assert!(
        before == after,
        "a refused import changed the knowledge files"
    );
}
