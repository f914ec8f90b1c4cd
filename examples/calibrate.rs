//! Fits the pattern engine's confidence (`src/sql/pattern/calibration.rs`) with whole databases
//! held out, and chooses the refusal threshold.
//!
//! Input: the per-question lines of an evaluation run through the whole engine with no
//! threshold, e.g.
//!
//! ```sh
//! querent eval ../shared/datasets/spider-train/questions.jsonl \
//!   --database-dir ../shared/datasets/spider-train/database --min-confidence 0 \
//!   --per-question /tmp/pq.jsonl
//! cargo run --release --example calibrate -- /tmp/pq.jsonl [--folds 5] [--precision 0.8]
//! ```
//!
//! Each line whose SQL the pattern engine wrote (it carries the frame's features) is one
//! sample, labelled 1 when leniently right. The databases are cut into folds, each fold's weights are fitted (logistic regression, Newton's method, a small L2
//! penalty) on the other folds' databases only, and its questions are scored with them: never the
//! same database in fit and check. The report gives the held-out precision of the answered and
//! coverage at each threshold, the lowest threshold whose held-out precision reaches the target,
//! and the weights fitted on every database (to paste into `calibration.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;

/// One sample: the feature vector (as `Features::vector` builds it), its label and database.
struct Sample {
    x: Vec<f64>,
    y: f64,
    db: String,
    method: String,
}

/// The feature vector of `Features::vector` from a per-question line's `features` and `rows`:
/// `querent::sql::pattern::Features` is read back from the JSON, so the vector is the engine's.
fn feature_vector(f: &serde_json::Value, rows: usize) -> Option<Vec<f64>> {
    let features: querent::sql::pattern::Features = serde_json::from_value(f.clone()).ok()?;
    Some(features.vector(rows).to_vec())
}

fn logistic(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

fn predict(w: &[f64], x: &[f64]) -> f64 {
    logistic(w.iter().zip(x).map(|(w, x)| w * x).sum())
}

/// Solves `a x = b` (Gaussian elimination with partial pivoting).
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for c in 0..n {
        let p = (c..n)
            .max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))
            .unwrap_or(c);
        a.swap(c, p);
        b.swap(c, p);
        let d = a[c][c];
        if d.abs() < 1e-12 {
            continue;
        }
        for r in 0..n {
            if r != c {
                let k = a[r][c] / d;
                for cc in c..n {
                    a[r][cc] -= k * a[c][cc];
                }
                b[r] -= k * b[c];
            }
        }
    }
    (0..n)
        .map(|i| {
            if a[i][i].abs() < 1e-12 {
                0.0
            } else {
                b[i] / a[i][i]
            }
        })
        .collect()
}

/// Logistic regression by Newton's method with an L2 penalty `lambda` (not on the bias).
fn fit(samples: &[&Sample], lambda: f64) -> Vec<f64> {
    let d = samples[0].x.len();
    let mut w = vec![0.0; d];
    for _ in 0..30 {
        let mut g = vec![0.0; d];
        let mut h = vec![vec![0.0; d]; d];
        for s in samples {
            let p = predict(&w, &s.x);
            for i in 0..d {
                g[i] += (p - s.y) * s.x[i];
                for j in 0..d {
                    h[i][j] += p * (1.0 - p) * s.x[i] * s.x[j];
                }
            }
        }
        for i in 1..d {
            g[i] += lambda * w[i];
            h[i][i] += lambda;
        }
        for (i, row) in h.iter_mut().enumerate() {
            row[i] += 1e-9;
        }
        let step = solve(h, g);
        let mut moved = 0.0f64;
        for i in 0..d {
            w[i] -= step[i];
            moved = moved.max(step[i].abs());
        }
        if moved < 1e-7 {
            break;
        }
    }
    w
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let file = args.first().ok_or_else(|| {
        anyhow::anyhow!("usage: calibrate PER_QUESTION.jsonl [--folds K] [--precision P]")
    })?;
    let opt = |name: &str, default: f64| -> f64 {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let folds = opt("--folds", 5.0) as usize;
    let target = opt("--precision", 0.8);
    let lambda = opt("--lambda", 1.0);

    let mut samples = Vec::new();
    let mut no_features = 0usize;
    for line in std::io::BufReader::new(std::fs::File::open(file)?).lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&line)?;
        let outcome = v["outcome"].as_str().unwrap_or("");
        if outcome.contains("gold_error") {
            continue;
        }
        // a query that failed to run has no rows; it is scored as an empty result
        let rows = v["rows"].as_u64().unwrap_or(0) as usize;
        let Some(x) = v.get("features").and_then(|f| feature_vector(f, rows)) else {
            no_features += 1;
            continue;
        };
        samples.push(Sample {
            x,
            y: f64::from(u8::from(
                outcome.contains("correct") || outcome.contains("lenient"),
            )),
            db: v["db_id"].as_str().unwrap_or("").to_string(),
            method: v["method"].as_str().unwrap_or("").to_string(),
        });
    }
    anyhow::ensure!(!samples.is_empty(), "no line of {file} has features");
    let dbs: Vec<String> = samples
        .iter()
        .map(|s| s.db.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // databases dealt round-robin into folds, in name order
    let fold_of: BTreeMap<&str, usize> = dbs
        .iter()
        .enumerate()
        .map(|(i, d)| (d.as_str(), i % folds))
        .collect();
    let mut held_out = vec![0.0; samples.len()];
    for k in 0..folds {
        let train: Vec<&Sample> = samples
            .iter()
            .filter(|s| fold_of[s.db.as_str()] != k)
            .collect();
        let w = fit(&train, lambda);
        for (i, s) in samples.iter().enumerate() {
            if fold_of[s.db.as_str()] == k {
                held_out[i] = predict(&w, &s.x);
            }
        }
    }
    let total = samples.len() as f64;
    let mut table = Vec::new();
    let mut chosen = None;
    for t in (5..=95).map(|i| i as f64 / 100.0) {
        let answered: Vec<usize> = (0..samples.len()).filter(|&i| held_out[i] >= t).collect();
        let right = answered.iter().filter(|&&i| samples[i].y > 0.5).count();
        let precision = if answered.is_empty() {
            0.0
        } else {
            right as f64 / answered.len() as f64
        };
        if chosen.is_none() && precision >= target && !answered.is_empty() {
            chosen = Some(t);
        }
        table.push(serde_json::json!({
            "threshold": t,
            "answered": answered.len(),
            "precision_answered": (precision * 1000.0).round() / 1000.0,
            "coverage": (answered.len() as f64 / total * 1000.0).round() / 1000.0,
            "ex_lenient": (right as f64 / total * 1000.0).round() / 1000.0,
        }));
    }
    let all: Vec<&Sample> = samples.iter().collect();
    let w = fit(&all, lambda);
    let methods: BTreeMap<&str, usize> = samples.iter().fold(BTreeMap::new(), |mut m, s| {
        *m.entry(s.method.as_str()).or_default() += 1;
        m
    });
    let report = serde_json::json!({
        "samples": samples.len(),
        "without_features": no_features,
        "databases": dbs.len(),
        "folds": folds,
        "target_precision": target,
        "lowest_threshold_reaching_target": chosen,
        "right_share": samples.iter().filter(|s| s.y > 0.5).count() as f64 / total,
        "methods": methods,
        "weights_all_databases": w.iter().map(|x| (x * 100.0).round() / 100.0).collect::<Vec<_>>(),
        "held_out": table,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
