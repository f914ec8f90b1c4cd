//! Tests of the retriever on the real model (`vendor/model`, see `scripts/setup-model`) and a
//! real qdrant-edge index in a temporary directory.

use std::time::{Duration, Instant};

use super::embedder::tests::model_dir;
use super::*;
use crate::knowledge::{BusinessRule, ColumnDoc, Example, KnowledgeBase, TableDoc};

fn column(name: &str, description: &str) -> ColumnDoc {
    ColumnDoc {
        name: name.into(),
        description: description.into(),
        ..Default::default()
    }
}

fn table(name: &str, description: &str, columns: &[(&str, &str)]) -> TableDoc {
    TableDoc {
        name: name.into(),
        description: description.into(),
        columns: columns.iter().map(|(n, d)| column(n, d)).collect(),
        ..Default::default()
    }
}

/// A small retail knowledge base built for the test.
fn retail(domain: &str) -> KnowledgeBase {
    KnowledgeBase {
        domain: domain.into(),
        tables: vec![
            table(
                "stores",
                "One row per store: where it is and how large.",
                &[("store_id", "store identifier"), ("region", "sales region"), ("square_feet", "floor area")],
            ),
            table(
                "price_elasticity",
                "Estimated own-price elasticity of demand for each item: how strongly unit sales react when the price changes.",
                &[("item_id", "item identifier"), ("elasticity_value", "percent change in units per percent change in price")],
            ),
            table(
                "weekly_sales",
                "Units sold and revenue per store, item and week.",
                &[("week", "week start date"), ("units", "units sold"), ("revenue", "revenue in USD")],
            ),
            table(
                "employees",
                "Staff of each store with their role and hiring date.",
                &[("employee_id", "employee identifier"), ("role", "job title"), ("hired_on", "hiring date")],
            ),
        ],
        examples: vec![
            Example {
                question: "Which region had the highest revenue last year?".into(),
                sql: "SELECT region, SUM(revenue) FROM weekly_sales JOIN stores USING (store_id) GROUP BY region".into(),
                source: String::new(),
            },
            Example {
                question: "How many employees work in each store?".into(),
                sql: "SELECT store_id, COUNT(*) FROM employees GROUP BY store_id".into(),
                source: String::new(),
            },
        ],
        rules: vec![
            BusinessRule {
                name: "most elastic".into(),
                description: "The most price-sensitive items are those with the lowest (most negative) elasticity_value.".into(),
                kind: "order".into(),
                ..Default::default()
            },
            BusinessRule {
                name: "fiscal year".into(),
                description: "The fiscal year starts on the first of February.".into(),
                ..Default::default()
            },
        ],
        semantic: None,
    }
}

fn keys(hits: &[Hit]) -> Vec<&str> {
    hits.iter().map(|h| h.key.as_str()).collect()
}

fn position(hits: &[Hit], key: &str) -> usize {
    hits.iter()
        .position(|h| h.key == key)
        .unwrap_or_else(|| panic!("{key} not in {:?}", keys(hits)))
}

#[test]
fn semantic_search_ranks_the_elasticity_table_above_stores_for_price_sensitivity() {
    let data = tempfile::tempdir().unwrap();
    let retriever = Retriever::open(data.path(), Some(&model_dir())).unwrap();
    let kb = retail("retail");
    let report = retriever.sync("retail", &kb.index_items()).unwrap();
    assert_eq!(
        report,
        SyncReport {
            embedded: 8,
            unchanged: 0,
            deleted: 0
        }
    );

    let found = retriever
        .search("retail", "most price sensitive products", 4, 2, 2)
        .unwrap();
    assert_eq!(found.mode, RetrievalMode::Vector);
    assert_eq!(found.tables.len(), 4);
    assert_eq!(
        found.tables[0].key,
        "price_elasticity",
        "{:?}",
        keys(&found.tables)
    );
    assert!(position(&found.tables, "price_elasticity") < position(&found.tables, "stores"));
    assert_eq!(
        found.rules[0].key,
        "most elastic",
        "{:?}",
        keys(&found.rules)
    );
    assert!(found.tables.windows(2).all(|w| w[0].score >= w[1].score));
    // The payload is the item itself.
    assert_eq!(found.tables[0].payload["name"], "price_elasticity");

    // A paraphrase sharing no content word with the example it should find.
    let found = retriever
        .search("retail", "number of workers at every shop", 4, 1, 0)
        .unwrap();
    assert_eq!(
        keys(&found.examples),
        ["How many employees work in each store?"]
    );
    assert!(
        position(&found.tables, "employees") < position(&found.tables, "price_elasticity"),
        "{:?}",
        keys(&found.tables)
    );
    assert!(found.rules.is_empty());
}

#[test]
fn sync_is_incremental_across_reopen() {
    let data = tempfile::tempdir().unwrap();
    let mut kb = retail("retail");
    {
        let retriever = Retriever::open(data.path(), Some(&model_dir())).unwrap();
        assert_eq!(
            retriever
                .sync("retail", &kb.index_items())
                .unwrap()
                .embedded,
            8
        );
    }
    let retriever = Retriever::open(data.path(), Some(&model_dir())).unwrap();
    assert_eq!(
        retriever.sync("retail", &kb.index_items()).unwrap(),
        SyncReport {
            embedded: 0,
            unchanged: 8,
            deleted: 0
        }
    );

    kb.tables[0]
        .description
        .push_str(" Closed stores are kept.");
    assert_eq!(
        retriever.sync("retail", &kb.index_items()).unwrap(),
        SyncReport {
            embedded: 1,
            unchanged: 7,
            deleted: 0
        }
    );

    kb.rules.remove(1);
    assert_eq!(
        retriever.sync("retail", &kb.index_items()).unwrap(),
        SyncReport {
            embedded: 0,
            unchanged: 7,
            deleted: 1
        }
    );
    let status = retriever.status();
    assert_eq!(status.mode, RetrievalMode::Vector);
    assert!(status.reason.is_none());
    assert_eq!(status.points["tables"], 4);
    assert_eq!(status.points["rules"], 1);
    let found = retriever
        .search("retail", "fiscal year start", 0, 0, 5)
        .unwrap();
    assert_eq!(keys(&found.rules), ["most elastic"]);
}

#[test]
fn search_sees_only_the_requested_database() {
    let data = tempfile::tempdir().unwrap();
    let retriever = Retriever::open(data.path(), Some(&model_dir())).unwrap();
    let a = retail("shop_a");
    let mut b = retail("shop_b");
    b.tables.retain(|t| t.name == "stores");
    retriever.sync("shop_a", &a.index_items()).unwrap();
    retriever.sync("shop_b", &b.index_items()).unwrap();

    let in_b = retriever
        .search("shop_b", "price elasticity", 10, 10, 10)
        .unwrap();
    assert_eq!(keys(&in_b.tables), ["stores"]);
    let in_a = retriever
        .search("shop_a", "price elasticity", 10, 10, 10)
        .unwrap();
    assert_eq!(in_a.tables.len(), 4);
    assert!(retriever
        .search("nowhere", "price elasticity", 10, 10, 10)
        .unwrap()
        .tables
        .is_empty());

    // Emptying one database leaves the other alone.
    assert_eq!(retriever.sync("shop_b", &[]).unwrap().deleted, 5);
    assert_eq!(
        retriever
            .search("shop_a", "stores", 10, 0, 0)
            .unwrap()
            .tables
            .len(),
        4
    );
}

#[test]
fn sync_refuses_an_item_of_another_database() {
    let data = tempfile::tempdir().unwrap();
    let retriever = Retriever::open(data.path(), None).unwrap();
    let err = retriever
        .sync("shop_a", &retail("shop_b").index_items())
        .unwrap_err();
    assert!(
        matches!(
            err.downcast_ref::<RetrievalError>(),
            Some(RetrievalError::ForeignItem { .. })
        ),
        "{err}"
    );
}

#[test]
fn without_a_model_retrieval_is_lexical_and_says_why() {
    let data = tempfile::tempdir().unwrap();
    let retriever = Retriever::open(data.path(), None).unwrap();
    let status = retriever.status();
    assert_eq!(status.mode, RetrievalMode::Lexical);
    assert!(status
        .reason
        .as_deref()
        .unwrap()
        .contains("no embedding model"));
    assert!(status.model_dir.is_none());

    let kb = retail("retail");
    let report = retriever.sync("retail", &kb.index_items()).unwrap();
    assert_eq!(
        report,
        SyncReport {
            embedded: 0,
            unchanged: 8,
            deleted: 0
        }
    );
    assert_eq!(retriever.status().points["tables"], 4);
    let found = retriever
        .search("retail", "price elasticity of each item", 2, 1, 1)
        .unwrap();
    assert_eq!(found.mode, RetrievalMode::Lexical);
    assert_eq!(found.tables[0].key, "price_elasticity");
    assert_eq!(found.rules[0].key, "most elastic");
    // Nothing was written to the vector index.
    assert!(!data.path().join("index").exists());
}

#[test]
fn a_broken_model_directory_degrades_to_lexical_with_the_error() {
    let data = tempfile::tempdir().unwrap();
    let empty_model = tempfile::tempdir().unwrap();
    let retriever = Retriever::open(data.path(), Some(empty_model.path())).unwrap();
    let status = retriever.status();
    assert_eq!(status.mode, RetrievalMode::Lexical);
    assert!(status.reason.unwrap().contains("model.onnx"));
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() - 1) as f64 * p).round() as usize]
}

/// Latency and throughput of the embedder and the index in the current build profile.
/// Run with `cargo test --lib retrieval::tests::measures -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a check"]
fn measures_embedding_and_search_latency() {
    let started = Instant::now();
    let embedder = Embedder::load(&model_dir()).unwrap();
    println!("model load: {:?}", started.elapsed());
    let sentence = vec!["top 10 items by elasticity in frozen food".to_string()];
    embedder.embed(&sentence).unwrap();
    let mut single: Vec<Duration> = (0..50)
        .map(|_| {
            let t = Instant::now();
            embedder.embed(&sentence).unwrap();
            t.elapsed()
        })
        .collect();
    println!(
        "embed one sentence: p50 {:?}, p90 {:?}",
        percentile(&mut single, 0.5),
        percentile(&mut single, 0.9)
    );

    let kb = retail("retail");
    let items = kb.index_items();
    let short: Vec<String> = (0..256)
        .map(|i| format!("{} number {i}", sentence[0]))
        .collect();
    let docs: Vec<String> = (0..256)
        .map(|i| format!("{} (variant {i})", items[i % 8].text))
        .collect();
    for (name, texts) in [("short sentences", &short), ("knowledge item texts", &docs)] {
        let tokens: usize = texts.iter().map(|t| t.split_whitespace().count()).sum();
        let t = Instant::now();
        embedder.embed(texts).unwrap();
        let secs = t.elapsed().as_secs_f64();
        println!(
            "embed 256 {name} (~{} words each): {secs:.2} s, {:.0} texts/s",
            tokens / texts.len(),
            texts.len() as f64 / secs
        );
    }
    drop(embedder);

    let data = tempfile::tempdir().unwrap();
    let retriever = Retriever::open(data.path(), Some(&model_dir())).unwrap();
    let mut items = kb.index_items();
    for i in 0..500 {
        let mut extra = items[i % 4].clone();
        extra.key = format!("{}_{i}", extra.key);
        extra.text = format!("{} copy {i}", extra.text);
        extra.content_hash = format!("{}{i}", extra.content_hash);
        items.push(extra);
    }
    let t = Instant::now();
    let report = retriever.sync("retail", &items).unwrap();
    println!(
        "sync of {} items: {:?} ({report:?})",
        items.len(),
        t.elapsed()
    );
    let t = Instant::now();
    let report = retriever.sync("retail", &items).unwrap();
    println!("re-sync, nothing changed: {:?} ({report:?})", t.elapsed());
    let mut searches: Vec<Duration> = (0..50)
        .map(|_| {
            let t = Instant::now();
            retriever
                .search("retail", "most price sensitive products", 5, 3, 3)
                .unwrap();
            t.elapsed()
        })
        .collect();
    println!(
        "search (embed + 3 filtered queries over {} points): p50 {:?}, p90 {:?}",
        items.len(),
        percentile(&mut searches, 0.5),
        percentile(&mut searches, 0.9)
    );
}

#[test]
fn rules_the_question_or_a_retrieved_example_names_are_added_once() {
    let rule = |name: &str, keywords: &[&str]| BusinessRule {
        name: name.into(),
        keywords: keywords.iter().map(|k| k.to_string()).collect(),
        sql: Some("change_percent < 0".into()),
        kind: "filter".into(),
        ..BusinessRule::default()
    };
    let rules = [
        rule("price decreases", &["price cut", "markdowns"]),
        rule("price increases", &["price hikes"]),
        rule("on promotion", &["promoted"]),
    ];
    let hit = |kind: ItemKind, key: &str, score: f32| Hit {
        kind,
        key: key.into(),
        score,
        payload: serde_json::Value::Null,
    };
    let mut retrieved = Retrieved {
        examples: vec![hit(
            ItemKind::Example,
            "What were the 10 biggest price hikes?",
            0.9,
        )],
        rules: vec![hit(ItemKind::Rule, "on promotion", 0.4)],
        ..Retrieved::default()
    };
    // "price cuts" names the first rule by a keyword (a plural aside), the example the second;
    // the third is retrieved already and stays as it was
    retrieved.add_named_rules(&rules, "What was the deepest of the Price Cuts?");
    assert_eq!(
        keys(&retrieved.rules),
        ["on promotion", "price decreases", "price increases"]
    );
    assert_eq!(retrieved.rules[0].score, 0.4);
    assert_eq!(retrieved.rules[1].score, 0.0);
    let added: BusinessRule = serde_json::from_value(retrieved.rules[1].payload.clone()).unwrap();
    assert_eq!(added, rules[0]);
    // words of a keyword apart are no mention of it
    let mut retrieved = Retrieved::default();
    retrieved.add_named_rules(&rules, "Did the price of milk get a cut?");
    assert!(retrieved.rules.is_empty());
}
