//! Curation of the semantic model through the HTTP API of a real `querent serve` on the demo
//! SQLite database: metrics, semantic models and named filters created, updated, deleted and
//! reverted with versions and conflicts; writes validated like loading (422
//! `invalid_knowledge` naming the field); `semantic.yml` rewritten keeping its other content;
//! the next question answered from the new model; and a domain without `semantic.yml` whose
//! first curated item starts the file from the inferred model. Each server works on its own
//! copy of the knowledge base.

mod common;

use std::path::Path;
use std::sync::OnceLock;

use common::{client, get_json, repo, sqlite_rows, TestServer};
use serde_json::{json, Value};

const KEY: &str = "test-key-semantic-0123";

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

/// A keyed server on a copy of the repository's knowledge base; `prepare` may change the copy
/// before the server starts.
fn start(prepare: impl FnOnce(&Path)) -> Keyed {
    let knowledge = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("knowledge"), knowledge.path());
    prepare(knowledge.path());
    let server = TestServer::start_with_knowledge(knowledge.path(), &["--api-key", KEY]);
    Keyed { server, knowledge }
}

/// The shared server, with the repository's curated semantic models.
fn keyed() -> &'static Keyed {
    static SERVER: OnceLock<Keyed> = OnceLock::new();
    SERVER.get_or_init(|| start(|_| {}))
}

/// Sends `method path` with a JSON body and the key.
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

fn write(method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    send(&keyed().server, method, path, body)
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

fn ask(server: &TestServer, question: &str) -> (u16, Value) {
    common::post_json(
        server,
        "/api/query",
        &json!({ "question": question, "database": "retail" }),
    )
}

#[test]
fn a_metric_is_created_updated_conflicts_deleted_and_reverted_with_a_change_log() {
    let metric = json!({
        "database": "retail",
        "name": "promo_units_cv",
        "type": "simple",
        "type_params": { "measure": "units_sold" },
        "description": "Units sold.",
        "synonyms": ["moved units"],
    });
    let (s, created) = write("POST", "/api/knowledge/metrics", Some(&metric));
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["kind"], "metric");
    assert_eq!(created["curated"], true);
    assert_eq!(created["item"]["type_params"]["measure"], "units_sold");
    assert_eq!(created["change"]["action"], "create");
    assert_eq!(created["change"]["kind"], "metric");
    let sql = created["sql"].as_str().unwrap();
    assert!(sql.contains("SUM(sales_data.units_sold)"), "{sql}");
    let id = created["id"].as_str().unwrap().to_string();
    let v1 = created["version"].as_str().unwrap().to_string();

    // the file holds it, and kept its other content
    let file = keyed().knowledge.path().join("retail/semantic.yml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("promo_units_cv"));
    assert!(text.starts_with("# The semantic model of the demo retail database"));
    assert!(text.contains("reference_date: latest"));
    let manifest: Value = serde_norway::from_str(&text).unwrap();
    let original: Value = serde_norway::from_str(
        &std::fs::read_to_string(repo().join("knowledge/retail/semantic.yml")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["semantic_models"], original["semantic_models"]);
    assert_eq!(manifest["filters"], original["filters"]);

    // listed, searchable, and served by /api/semantic
    let (_, list) = get_json(
        &keyed().server,
        "/api/knowledge/metrics?database=retail&q=moved%20units",
    );
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["id"], id.as_str());
    let (_, semantic) = get_json(&keyed().server, "/api/semantic?database=retail");
    assert!(semantic.to_string().contains("promo_units_cv"));

    // update at the right version; the old version is then a conflict
    let mut changed = metric.clone();
    changed["description"] = json!("Units sold, all stores.");
    changed["version"] = json!(v1);
    let (s, updated) = write(
        "PUT",
        &format!("/api/knowledge/metrics/{id}"),
        Some(&changed),
    );
    assert_eq!(s, 200, "{updated}");
    assert_eq!(updated["item"]["description"], "Units sold, all stores.");
    let v2 = updated["version"].as_str().unwrap().to_string();
    assert_ne!(v1, v2);
    let (s, conflict) = write(
        "PUT",
        &format!("/api/knowledge/metrics/{id}"),
        Some(&changed),
    );
    assert_eq!(
        (s, code(&conflict)),
        (409, "version_conflict"),
        "{conflict}"
    );
    assert_eq!(conflict["error"]["details"]["current"], v2.as_str());

    // delete, then revert the delete: the metric is back as it was
    let (s, deleted) = write(
        "DELETE",
        &format!("/api/knowledge/metrics/{id}?version={v2}"),
        None,
    );
    assert_eq!(s, 200, "{deleted}");
    assert_eq!(deleted["deleted"], true);
    let (s, _) = get_json(&keyed().server, &format!("/api/knowledge/metrics/{id}"));
    assert_eq!(s, 404);
    let seq = deleted["change"]["seq"].as_u64().unwrap();
    let (s, reverted) = write(
        "POST",
        &format!("/api/knowledge/changes/{seq}/revert"),
        None,
    );
    assert_eq!(s, 200, "{reverted}");
    assert_eq!(reverted["version"], v2.as_str());
    assert_eq!(reverted["change"]["reverts"], seq);
    let (_, changes) = get_json(&keyed().server, &format!("/api/knowledge/changes?id={id}"));
    let actions: Vec<&str> = changes["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["revert", "delete", "update", "create"]);
}

#[test]
fn a_metric_that_does_not_hold_is_refused_with_422_naming_the_field() {
    let file = keyed().knowledge.path().join("retail/semantic.yml");
    let unknown_measure = json!({
        "database": "retail", "name": "bad_measure_cv", "type": "simple",
        "type_params": { "measure": "no_such_measure" },
    });
    let (s, b) = write("POST", "/api/knowledge/metrics", Some(&unknown_measure));
    assert_eq!(s, 422, "{b}");
    assert_eq!(
        b,
        json!({ "error": {
            "code": "invalid_knowledge",
            "message": "invalid knowledge item: metrics[bad_measure_cv].type_params.measure: no measure 'no_such_measure'",
            "details": {
                "field": "type_params.measure",
                "path": "metrics[bad_measure_cv].type_params.measure",
                "error": "no measure 'no_such_measure'",
            },
        }})
    );

    // it resolves, but its compiled SQL does not run
    let failing_sql = json!({
        "database": "retail", "name": "bad_filter_cv", "type": "simple",
        "type_params": { "measure": "revenue" }, "filter": "no_such_column = 1",
    });
    let (s, b) = write("POST", "/api/knowledge/metrics", Some(&failing_sql));
    assert_eq!((s, code(&b)), (422, "invalid_knowledge"), "{b}");
    assert_eq!(b["error"]["details"]["field"], "type_params");
    assert_eq!(b["error"]["details"]["metric"], "bad_filter_cv");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no such column: no_such_column"),
        "{b}"
    );

    // a semantic model must name a table and columns that exist; a filter a condition that runs
    let (s, b) = write(
        "POST",
        "/api/knowledge/semantic_models",
        Some(
            &json!({ "database": "retail", "name": "shops_cv", "model": "stores",
            "measures": [{ "name": "floor_cv", "agg": "sum", "expr": "square_metres" }] }),
        ),
    );
    assert_eq!((s, code(&b)), (422, "invalid_knowledge"), "{b}");
    assert_eq!(b["error"]["details"]["field"], "measures[0].expr");
    let (s, b) = write(
        "POST",
        "/api/knowledge/filters",
        Some(
            &json!({ "database": "retail", "name": "big_cv", "semantic_model": "stores",
            "expr": "bogus > 1" }),
        ),
    );
    assert_eq!((s, code(&b)), (422, "invalid_knowledge"), "{b}");
    assert_eq!(b["error"]["details"]["field"], "expr");

    // deleting a metric others are made of is refused too
    let (_, list) = get_json(&keyed().server, "/api/knowledge/metrics?database=retail");
    let revenue = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["item"]["name"] == "revenue")
        .unwrap()
        .clone();
    let (s, b) = write(
        "DELETE",
        &format!(
            "/api/knowledge/metrics/{}?version={}",
            revenue["id"].as_str().unwrap(),
            revenue["version"].as_str().unwrap()
        ),
        None,
    );
    assert_eq!((s, code(&b)), (422, "invalid_knowledge"), "{b}");
    assert!(b["error"]["details"]["path"]
        .as_str()
        .unwrap()
        .starts_with("metrics["));

    let text = std::fs::read_to_string(file).unwrap();
    for name in ["bad_measure_cv", "bad_filter_cv", "shops_cv", "big_cv"] {
        assert!(!text.contains(name), "{name} was written");
    }
}

#[test]
fn a_named_filter_is_called_by_a_phrase_and_updates_as_one() {
    // named filters are read by their words ("highly elastic"): a phrase is a valid name
    let (_, list) = get_json(&keyed().server, "/api/knowledge/filters?database=retail");
    let filter = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["item"]["name"].as_str().is_some_and(|n| n.contains(' ')))
        .expect("a filter named by a phrase")
        .clone();
    let mut item = filter["item"].clone();
    item["database"] = json!("retail");
    item["version"] = filter["version"].clone();
    item["description"] = json!("Edited through the API.");
    let (s, b) = write(
        "PUT",
        &format!("/api/knowledge/filters/{}", filter["id"].as_str().unwrap()),
        Some(&item),
    );
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["item"]["name"], filter["item"]["name"]);
    assert_eq!(b["item"]["description"], "Edited through the API.");
}

#[test]
fn a_curated_metric_with_a_synonym_answers_the_next_question() {
    let question = "what was the shelf haul in 2024?";
    let (s, before) = ask(&keyed().server, question);
    assert_ne!(before["generation_method"], "semantic", "{s} {before}");
    let (s, created) = write(
        "POST",
        "/api/knowledge/metrics",
        Some(&json!({
            "database": "retail", "name": "shelf_haul", "type": "simple",
            "type_params": { "measure": "revenue" }, "synonyms": ["shelf haul"],
        })),
    );
    assert_eq!(s, 201, "{created}");
    let (s, after) = ask(&keyed().server, question);
    assert_eq!(s, 200, "{after}");
    assert_eq!(after["generation_method"], "semantic", "{after}");
    let sql = after["sql"].as_str().unwrap();
    assert!(sql.contains("shelf_haul"), "{sql}");
    let expected = sqlite_rows(
        &common::demo_db(),
        "SELECT SUM(revenue) FROM sales_data WHERE sale_date >= '2024-01-01' AND sale_date < '2025-01-01'",
    );
    let got = after["rows"][0][0].as_f64().unwrap();
    let want = expected[0][0].as_f64().unwrap();
    assert!((got - want).abs() < 0.01, "{got} != {want}");
}

#[test]
fn without_semantic_yml_the_inferred_items_are_listed_and_the_first_write_starts_the_file() {
    let app = start(|dir| std::fs::remove_file(dir.join("retail/semantic.yml")).unwrap());
    let file = app.knowledge.path().join("retail/semantic.yml");
    let (_, semantic) = get_json(&app.server, "/api/semantic?database=retail");
    assert_eq!(semantic["source"], "inferred", "{semantic}");
    let (_, list) = get_json(
        &app.server,
        "/api/knowledge/semantic_models?database=retail",
    );
    let models = list["items"].as_array().unwrap();
    assert!(!models.is_empty());
    assert!(models.iter().all(|m| m["curated"] == false), "{list}");
    let measure = models
        .iter()
        .flat_map(|m| {
            m["item"]["measures"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .find(|m| m["name"] == "sales_data_revenue")
        .expect("an inferred revenue measure");
    assert_eq!(measure["agg"], "sum");

    let (s, created) = send(
        &app.server,
        "POST",
        "/api/knowledge/metrics",
        Some(&json!({
            "database": "retail", "name": "shelf_takings", "type": "simple",
            "type_params": { "measure": "sales_data_revenue" }, "synonyms": ["shelf takings"],
        })),
    );
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["curated"], true);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains("inferred: true"), "{text}");
    assert!(text.contains("shelf_takings"));
    let (_, semantic) = get_json(&app.server, "/api/semantic?database=retail");
    assert_eq!(semantic["source"], "curated", "{semantic}");
    let (_, list) = get_json(
        &app.server,
        "/api/knowledge/semantic_models?database=retail",
    );
    assert!(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["curated"] == true));
    let (s, answer) = ask(&app.server, "what were the shelf takings in 2024?");
    assert_eq!(s, 200, "{answer}");
    assert_eq!(answer["generation_method"], "semantic", "{answer}");
}

#[test]
fn the_page_has_the_semantic_tabs_and_the_spec_names_the_semantic_kinds() {
    let html = client()
        .get(keyed().server.url("/knowledge"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    for kind in ["semantic_models", "metrics", "filters"] {
        assert!(html.contains(&format!("data-kind=\"{kind}\"")), "{kind}");
    }
    let (_, spec) = get_json(&keyed().server, "/openapi.json");
    assert_eq!(
        spec["components"]["schemas"]["KindParam"]["enum"],
        json!([
            "tables",
            "examples",
            "rules",
            "semantic_models",
            "metrics",
            "filters"
        ])
    );
}
