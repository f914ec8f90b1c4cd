//! Asks the pattern engine one question about a SQLite database and prints its candidates with
//! their traces (for developing the engine).
//!
//! `cargo run --example pattern_ask -- DATABASE.sqlite "question"`

use std::collections::HashMap;
use std::path::PathBuf;

use querent::knowledge::{introspect, ValueIndex};
use querent::question::{analyze, Question};
use querent::sql::pattern::{generate, PatternContext};
use querent::warehouse::{Dialect, SqliteWarehouse, Warehouse};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        anyhow::bail!("usage: pattern_ask DATABASE.sqlite QUESTION");
    }
    let wh = SqliteWarehouse::open(&PathBuf::from(&args[0]))?;
    let schema = wh.introspect()?;
    let values = ValueIndex::build(&wh, &schema)?;
    let docs = introspect::table_docs(&schema);
    let q = Question::parse(&args[1])?;
    let analysis = analyze(&q);
    let scores = HashMap::new();
    let ctx = PatternContext {
        analysis: &analysis,
        schema: &schema,
        docs: &docs,
        values: &values,
        rules: &[],
        examples: &[],
        table_scores: &scores,
        dialect: Dialect::Sqlite,
        min_confidence: 0.0,
        prepared: None,
    };
    match generate(&ctx) {
        Ok(cands) => {
            for c in cands {
                println!("{:.2} {}", c.confidence, c.sql);
                for t in c.trace {
                    println!("  [{}] {}", t.stage, t.message);
                }
            }
        }
        Err(e) => println!("refused: {e}"),
    }
    Ok(())
}
