//! Runs the pattern engine's evaluation on a question file (dev profile; no release builds here).
//!
//! `cargo run --example pattern_eval -- FILE.jsonl DATABASE_DIR [SAMPLE] [SEED] [MIN_CONFIDENCE] [OUT.jsonl]`
//! prints the report as JSON; with OUT, one JSON line per question is written there.

use std::path::PathBuf;

use querent::eval::{run_eval, EvalOptions};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        anyhow::bail!("usage: pattern_eval FILE.jsonl DATABASE_DIR [SAMPLE] [SEED] [MIN_CONFIDENCE] [OUT.jsonl]");
    }
    let opts = EvalOptions {
        file: PathBuf::from(&args[0]),
        database_dir: PathBuf::from(&args[1]),
        sample: args
            .get(2)
            .map(|s| s.parse())
            .transpose()?
            .filter(|&n: &usize| n > 0),
        seed: args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(7),
        min_confidence: args.get(4).map(|s| s.parse()).transpose()?.unwrap_or(0.5),
        per_question: args.get(5).map(PathBuf::from),
        ..Default::default()
    };
    let report = run_eval(&opts)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
