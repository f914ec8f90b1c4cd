//! Benchmark of the vector index at scale: syncs N synthetic knowledge items (default 10,000:
//! table docs, examples and rules of one database) into a fresh qdrant-edge index with the real
//! embedding model, then times searches and a one-item edit.
//!
//! `cargo run --example index_bench -- [N] [SEARCHES]`; needs `vendor/model` (scripts/setup-model).
//! Prints one JSON object: sync seconds, items per second, retrieval p50/p95 in ms (question
//! embedding included), index search p50/p95 per collection (embedding excluded), edit ms.

use std::time::Instant;

use querent::knowledge::{BusinessRule, ColumnDoc, Example, KnowledgeBase, TableDoc};
use querent::retrieval::{default_model_dir, Retriever};

const WORDS: &[&str] = &[
    "revenue",
    "margin",
    "store",
    "region",
    "price",
    "discount",
    "customer",
    "order",
    "supplier",
    "inventory",
    "shipment",
    "return",
    "promotion",
    "category",
    "brand",
    "week",
    "month",
    "basket",
    "loyalty",
    "forecast",
    "elasticity",
    "competitor",
    "cost",
    "volume",
    "unit",
    "zone",
];

fn words(seed: usize, n: usize) -> String {
    (0..n)
        .map(|i| WORDS[(seed * 7 + i * 13 + seed / 5) % WORDS.len()])
        .collect::<Vec<_>>()
        .join(" ")
}

/// `n` items: a fifth table docs, half examples, the rest rules, each with distinct text.
fn synthetic(n: usize) -> KnowledgeBase {
    let mut kb = KnowledgeBase {
        domain: "bench".into(),
        ..Default::default()
    };
    for i in 0..n {
        match i % 10 {
            0 | 1 => kb.tables.push(TableDoc {
                name: format!("table_{i}"),
                description: format!("{} facts number {i}", words(i, 6)),
                columns: (0..6)
                    .map(|c| ColumnDoc {
                        name: format!("{}_{c}", WORDS[(i + c) % WORDS.len()]),
                        description: words(i + c, 4),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }),
            2..=6 => kb.examples.push(Example {
                question: format!("what is the {} for case {i}?", words(i, 5)),
                sql: format!("SELECT SUM(x) FROM table_{}", i / 10 * 10),
                source: String::new(),
            }),
            _ => kb.rules.push(BusinessRule {
                name: format!("rule {i}: {}", words(i, 3)),
                description: words(i + 1, 10),
                kind: "note".into(),
                ..Default::default()
            }),
        }
    }
    kb
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(10_000);
    let searches: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(200);
    let model =
        default_model_dir().ok_or_else(|| anyhow::anyhow!("no model: run scripts/setup-model"))?;
    let data = tempfile::tempdir()?;
    let retriever = Retriever::open(data.path(), Some(&model))?;
    let mut kb = synthetic(n);
    let items = kb.index_items();

    let started = Instant::now();
    let report = retriever.sync("bench", &items)?;
    let sync_s = started.elapsed().as_secs_f64();

    let mut times = Vec::with_capacity(searches);
    for i in 0..searches {
        let question = format!(
            "which {} had the highest {}?",
            WORDS[i % WORDS.len()],
            words(i, 2)
        );
        let t = Instant::now();
        let found = retriever.search("bench", &question, 6, 5, 5)?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(!found.tables.is_empty());
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];

    // One edit: only that item is re-embedded.
    kb.examples[0].sql.push_str(" WHERE 1 = 1");
    let t = Instant::now();
    let edited = kb.index_items();
    let items_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let edit = retriever.sync("bench", &edited)?;
    let edit_ms = t.elapsed().as_secs_f64() * 1000.0;

    // The index alone: query vectors embedded first, then only the qdrant-edge search timed.
    let embedder = querent::retrieval::Embedder::load(&model)?;
    let questions: Vec<String> = (0..searches)
        .map(|i| {
            format!(
                "which {} had the highest {}?",
                WORDS[i % WORDS.len()],
                words(i, 2)
            )
        })
        .collect();
    let vectors = embedder.embed(&questions)?;
    drop(retriever);
    use querent::retrieval::VectorStore;
    let index = querent::retrieval::index::EmbeddedIndex::open(&data.path().join("index"))?;
    let mut index_times = Vec::with_capacity(searches);
    for vector in &vectors {
        for kind in querent::knowledge::ItemKind::ALL {
            let t = Instant::now();
            index.search(kind, "bench", vector, 6)?;
            index_times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    index_times.sort_by(f64::total_cmp);
    let index_at = |q: f64| index_times[((index_times.len() - 1) as f64 * q).round() as usize];

    println!(
        "{}",
        serde_json::json!({
            "items": n,
            "embedded": report.embedded,
            "sync_s": sync_s,
            "items_per_s": n as f64 / sync_s,
            "search_ms_p50": at(0.5),
            "search_ms_p95": at(0.95),
            "index_search_ms_p50": index_at(0.5),
            "index_search_ms_p95": index_at(0.95),
            "edit_embedded": edit.embedded,
            "edit_items_ms": items_ms,
            "edit_sync_ms": edit_ms,
        })
    );
    Ok(())
}
