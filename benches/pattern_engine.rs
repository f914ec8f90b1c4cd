//! How long the pattern engine takes to write SQL for one question, execution excluded: question
//! analysis, schema linking, the frame, join planning and rendering (issue 3's targets: <= 5 ms
//! p50 on the demo database, <= 20 ms on a 100-table schema).
//!
//! Two workloads:
//! - `demo`: the 59 curated example questions of `knowledge/retail` on the demo database, with
//!   its table docs and business rules (the curated examples themselves are withheld, so every
//!   question goes through the generic frame, the slower path).
//! - `wide_schema_100_tables`: a generated 100-table SQLite schema (a chain of foreign keys, five
//!   columns a table, 20 rows each, text values in the value index) and 40 questions over it.
//!
//! `cargo bench --bench pattern_engine`; each sample asks every question of a workload once, so
//! criterion's time divided by the number of questions is the mean per question. The p50 per
//! question is printed too.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};
use querent::knowledge::{files, introspect, BusinessRule, TableDoc, ValueIndex};
use querent::question::{analyze, Question};
use querent::sql::pattern::{generate, PatternContext, Prepared};
use querent::warehouse::{Dialect, Schema, SqliteWarehouse, Warehouse};

/// A schema with its docs, value index, rules and the questions asked of it.
struct Workload {
    schema: Schema,
    docs: Vec<TableDoc>,
    values: ValueIndex,
    rules: Vec<(BusinessRule, f32)>,
    questions: Vec<String>,
    /// Built once per database, as the server does.
    prepared: Prepared,
}

impl Workload {
    fn ask(&self, question: &str) -> usize {
        let q = Question::parse(question).expect("question parses");
        let analysis = analyze(&q);
        let scores = HashMap::new();
        let ctx = PatternContext {
            analysis: &analysis,
            schema: &self.schema,
            docs: &self.docs,
            values: &self.values,
            rules: &self.rules,
            examples: &[],
            table_scores: &scores,
            dialect: Dialect::Sqlite,
            min_confidence: 0.0,
            prepared: Some(&self.prepared),
        };
        generate(&ctx).map(|c| c.len()).unwrap_or(0)
    }

    /// Median milliseconds per question over `rounds` passes.
    fn p50_ms(&self, rounds: usize) -> f64 {
        let mut times = Vec::new();
        for _ in 0..rounds {
            for q in &self.questions {
                let t = Instant::now();
                std::hint::black_box(self.ask(q));
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
        }
        times.sort_by(f64::total_cmp);
        times[times.len() / 2]
    }
}

fn demo() -> Workload {
    let db = Path::new("data/retail.sqlite");
    querent::demo_data::ensure(db).expect("demo database");
    let wh = SqliteWarehouse::open(db).expect("open demo database");
    let schema = wh.introspect().expect("introspect");
    let values = ValueIndex::build(&wh, &schema).expect("value index");
    let (kb, _) = files::load_domain(Path::new("knowledge/retail"), "retail");
    let (docs, _) = introspect::merge(&kb.tables, introspect::table_docs(&schema));
    Workload {
        prepared: Prepared::build(&schema, &docs),
        schema,
        docs,
        values,
        rules: kb.rules.iter().map(|r| (r.clone(), 0.5)).collect(),
        questions: kb.examples.iter().map(|e| e.question.clone()).collect(),
    }
}

const TABLES: usize = 100;
const SUBJECTS: &[&str] = &[
    "customer",
    "order",
    "invoice",
    "shipment",
    "supplier",
    "warehouse",
    "employee",
    "project",
    "contract",
    "payment",
];
const KINDS: &[&str] = &[
    "account", "record", "event", "item", "line", "note", "plan", "review", "ticket", "visit",
];

fn table_name(i: usize) -> String {
    format!("{}_{}", SUBJECTS[i % 10], KINDS[i / 10 % 10])
}

fn wide_schema(dir: &Path) -> Workload {
    let path = dir.join("wide.sqlite");
    let conn = rusqlite::Connection::open(&path).expect("create wide schema");
    let mut sql = String::from("BEGIN;");
    for i in 0..TABLES {
        let t = table_name(i);
        let parent = (i > 0).then(|| table_name(i - 1));
        sql.push_str(&format!(
            "CREATE TABLE {t} ({t}_id INTEGER PRIMARY KEY, {t}_name TEXT, status TEXT, \
             amount REAL, created_date DATE{});",
            parent
                .as_ref()
                .map(|p| format!(", {p}_id INTEGER REFERENCES {p}({p}_id)"))
                .unwrap_or_default()
        ));
        for r in 0..20 {
            sql.push_str(&format!(
                "INSERT INTO {t} VALUES ({r}, '{t} {r}', '{}', {}, '2024-{:02}-01'{});",
                ["open", "closed", "pending"][r % 3],
                (r * 37 + i) % 500,
                r % 12 + 1,
                if parent.is_some() {
                    format!(", {}", r % 20)
                } else {
                    String::new()
                }
            ));
        }
    }
    sql.push_str("COMMIT;");
    conn.execute_batch(&sql).expect("fill wide schema");
    drop(conn);
    let wh = SqliteWarehouse::open(&path).expect("open wide schema");
    let schema = wh.introspect().expect("introspect");
    let values = ValueIndex::build(&wh, &schema).expect("value index");
    let docs = introspect::table_docs(&schema);
    let mut questions = Vec::new();
    for i in (0..TABLES).step_by(10) {
        let t = table_name(i).replace('_', " ");
        let u = table_name(i + 1).replace('_', " ");
        questions.push(format!("How many {t}s are there?"));
        questions.push(format!("What is the total amount of closed {t}s?"));
        questions.push(format!("Top 5 {u}s by amount created in 2024"));
        questions.push(format!("Average amount of {u}s for each {t} name"));
    }
    Workload {
        prepared: Prepared::build(&schema, &docs),
        schema,
        docs,
        values,
        rules: Vec::new(),
        questions,
    }
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, w) in [
        ("demo", demo()),
        ("wide_schema_100_tables", wide_schema(dir.path())),
    ] {
        println!(
            "{name}: {} questions, {} tables, p50 {:.2} ms per question",
            w.questions.len(),
            w.schema.tables.len(),
            w.p50_ms(3)
        );
        c.bench_function(&format!("pattern_engine/{name}/all_questions"), |b| {
            b.iter(|| {
                for q in &w.questions {
                    std::hint::black_box(w.ask(q));
                }
            })
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
