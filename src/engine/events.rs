//! What the pipeline reports while it works, for streaming: one [`StageEvent`] per stage as
//! soon as the stage is done (analysis, retrieval, SQL, rows, chart), then the summary in
//! pieces. The engine calls a sink it is given; the server turns the events into server-sent
//! events (`POST /api/query/stream`). The engine knows nothing of HTTP.

use serde::Serialize;

use crate::answer::Chart;
use crate::question::Analysis;
use crate::retrieval::Retrieved;
use crate::warehouse::Rows;

/// At most this many rows go out in the `rows` event (the final answer has them all).
pub const STREAMED_ROWS: usize = 100;

/// One stage's outcome, as soon as it is known.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum StageEvent {
    /// The question's analysis: intents, time ranges, top-N.
    Analysis {
        intents: Vec<String>,
        time_ranges: Vec<String>,
        top_n: Option<u64>,
    },
    /// What retrieval brought back.
    Retrieval {
        tables: Vec<String>,
        examples: usize,
        rules: usize,
    },
    /// The SQL that ran and who wrote it.
    Sql {
        sql: String,
        generation_method: String,
        fallback_reason: Option<String>,
    },
    /// The result: its columns, the number of rows and the first [`STREAMED_ROWS`].
    Rows {
        columns: Vec<String>,
        row_count: usize,
        rows: Vec<Vec<serde_json::Value>>,
        truncated: bool,
    },
    /// The chart, when one fits the result.
    Chart { chart: Option<Chart> },
    /// A piece of the summary (words with their trailing space), in order.
    SummaryToken { text: String },
}

impl StageEvent {
    /// The event's name (`analysis`, `retrieval`, `sql`, `rows`, `chart`, `summary_token`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Analysis { .. } => "analysis",
            Self::Retrieval { .. } => "retrieval",
            Self::Sql { .. } => "sql",
            Self::Rows { .. } => "rows",
            Self::Chart { .. } => "chart",
            Self::SummaryToken { .. } => "summary_token",
        }
    }

    /// The analysis event: intents, time ranges, top-N.
    pub fn analysis(analysis: &Analysis) -> Self {
        Self::Analysis {
            intents: analysis
                .intents
                .iter()
                .filter_map(|i| serde_json::to_value(i).ok()?.as_str().map(str::to_string))
                .collect(),
            time_ranges: analysis
                .time_ranges
                .iter()
                .map(|r| r.text.clone())
                .collect(),
            top_n: analysis.top_n,
        }
    }

    /// The retrieval event: the tables found, how many examples and rules.
    pub fn retrieval(retrieved: &Retrieved) -> Self {
        Self::Retrieval {
            tables: retrieved.tables.iter().map(|h| h.key.clone()).collect(),
            examples: retrieved.examples.len(),
            rules: retrieved.rules.len(),
        }
    }

    /// The rows event: the columns, the row count and the first [`STREAMED_ROWS`] rows.
    pub fn rows(rows: &Rows) -> Self {
        Self::Rows {
            columns: rows.columns.clone(),
            row_count: rows.rows.len(),
            rows: rows.rows.iter().take(STREAMED_ROWS).cloned().collect(),
            truncated: rows.truncated,
        }
    }
}

/// The pieces of a summary as it is streamed: each word with the whitespace after it.
pub fn summary_tokens(summary: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for ch in summary.chars() {
        if ch.is_whitespace() {
            current.push(ch);
        } else {
            if current.ends_with(char::is_whitespace) {
                out.push(std::mem::take(&mut current));
            }
            current.push(ch);
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_tokens_join_back_to_the_summary() {
        let s = "West leads with 42% of revenue.  East follows.";
        let tokens = summary_tokens(s);
        assert_eq!(tokens.concat(), s);
        assert_eq!(tokens[0], "West ");
        assert_eq!(tokens.len(), 8);
    }
}
