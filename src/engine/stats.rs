//! Counters for `/api/stats`: questions, the share answered, latency percentiles and the
//! generation methods used. Latencies keep the last 1,000 questions.

use std::collections::{BTreeMap, VecDeque};

use parking_lot::Mutex;
use serde::Serialize;

use crate::error::QuerentResult;

use super::QueryAnswer;

const WINDOW: usize = 1000;

/// Thread-safe counters.
#[derive(Default)]
pub struct Stats {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    questions: u64,
    answered: u64,
    errors_by_code: BTreeMap<String, u64>,
    methods: BTreeMap<String, u64>,
    latencies_ms: VecDeque<f64>,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Serialize)]
pub struct StatsSnapshot {
    pub uptime_seconds: u64,
    pub questions: u64,
    pub answered: u64,
    /// answered / questions (0 when there were none).
    pub success_rate: f64,
    pub errors_by_code: BTreeMap<String, u64>,
    pub generation_methods: BTreeMap<String, u64>,
    /// Latency percentiles over the last 1,000 questions, milliseconds.
    pub latency_ms: LatencySummary,
}

/// Latency percentiles, milliseconds (nearest-rank method).
#[derive(Debug, Clone, Default, Serialize)]
pub struct LatencySummary {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Stats {
    /// Records one question's outcome and latency.
    pub fn record(&self, result: &QuerentResult<QueryAnswer>, latency_ms: f64) {
        let mut s = self.inner.lock();
        s.questions += 1;
        match result {
            Ok(a) => {
                s.answered += 1;
                *s.methods.entry(a.generation_method.clone()).or_default() += 1;
            }
            Err(e) => *s.errors_by_code.entry(e.code().to_string()).or_default() += 1,
        }
        if s.latencies_ms.len() == WINDOW {
            s.latencies_ms.pop_front();
        }
        s.latencies_ms.push_back(latency_ms);
    }

    /// The counters now.
    pub fn snapshot(&self, uptime_seconds: u64) -> StatsSnapshot {
        let s = self.inner.lock();
        let mut sorted: Vec<f64> = s.latencies_ms.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        StatsSnapshot {
            uptime_seconds,
            questions: s.questions,
            answered: s.answered,
            success_rate: if s.questions == 0 {
                0.0
            } else {
                s.answered as f64 / s.questions as f64
            },
            errors_by_code: s.errors_by_code.clone(),
            generation_methods: s.methods.clone(),
            latency_ms: LatencySummary {
                p50: percentile(&sorted, 0.50),
                p95: percentile(&sorted, 0.95),
                p99: percentile(&sorted, 0.99),
                max: sorted.last().copied().unwrap_or(0.0),
            },
        }
    }
}

/// Nearest-rank percentile of sorted values (0 when empty).
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_uses_the_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), 50.0);
        assert_eq!(percentile(&v, 0.95), 95.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }
}
