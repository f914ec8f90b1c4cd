//! Regression suites through the HTTP API: the curated examples of `knowledge/retail` and the
//! held-out demo questions of `tests/data/demo_questions.jsonl`, compared by execution (rows).

mod common;

use common::{ask, demo_db, demo_server, repo, rows_match, sqlite_rows};

#[derive(serde::Deserialize)]
struct Examples {
    examples: Vec<Pair>,
}

#[derive(serde::Deserialize)]
struct Pair {
    question: String,
    sql: String,
}

/// Asks every question and returns the ones whose rows differ from the gold rows.
fn failures(pairs: &[Pair]) -> Vec<String> {
    let server = demo_server();
    let mut failed = Vec::new();
    for p in pairs {
        let (status, body) = ask(server, &p.question, None);
        let gold = sqlite_rows(&demo_db(), &p.sql);
        let ok = status == 200 && {
            let pred: Vec<Vec<serde_json::Value>> =
                serde_json::from_value(body["rows"].clone()).unwrap_or_default();
            rows_match(&gold, &pred)
        };
        if !ok {
            failed.push(format!(
                "{} -> {} {}",
                p.question,
                status,
                body["sql"].as_str().unwrap_or(&body["error"].to_string())
            ));
        }
    }
    failed
}

#[test]
fn every_curated_example_question_returns_its_golden_rows() {
    let text = std::fs::read_to_string(repo().join("knowledge/retail/examples.yml")).unwrap();
    let examples: Examples = serde_norway::from_str(&text).unwrap();
    assert!(examples.examples.len() >= 40);
    let failed = failures(&examples.examples);
    assert!(
        failed.is_empty(),
        "{} of {} curated examples failed:\n{}",
        failed.len(),
        examples.examples.len(),
        failed.join("\n")
    );
}

#[test]
fn held_out_demo_questions_are_answered_correctly() {
    let text = std::fs::read_to_string(repo().join("tests/data/demo_questions.jsonl")).unwrap();
    let pairs: Vec<Pair> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(pairs.len(), 25);
    let failed = failures(&pairs);
    let refused = failed
        .iter()
        .filter(|f| f.contains("\"cannot_answer\""))
        .count();
    let wrong = failed.len() - refused;
    let correct = pairs.len() - failed.len();
    println!(
        "held-out demo questions: {correct}/{} correct, {wrong} wrong, {refused} refused",
        pairs.len()
    );
    // The floors are what the engine reaches today (see the closing notes); raise them as it
    // improves.
    assert!(
        correct * 100 >= pairs.len() * MIN_PERCENT
            && wrong * 100 <= pairs.len() * MAX_WRONG_PERCENT,
        "{correct}/{} correct, {wrong} wrong:\n{}",
        pairs.len(),
        failed.join("\n")
    );
}

/// 84: members of one dimension and whole years compared with nothing else come as a row each,
/// as these gold queries write them ("Compare the average current price under EDLP and High-Low
/// strategies", "2023 versus 2024"; 76 while they came side by side). The wrong ones left are a
/// listing's columns and the store's id next to its name ("Top 10 stores by gross margin"), an
/// older convention the business sets (`tests/data/README.md`) do not follow; one listing that
/// was right is refused by the calibrated confidence (#12: below 0.68).
const MIN_PERCENT: usize = 84;

/// At most this share of the questions may be answered wrong (refusals are not wrong): the
/// three wrong today are the convention difference above and listings' columns.
const MAX_WRONG_PERCENT: usize = 20;
