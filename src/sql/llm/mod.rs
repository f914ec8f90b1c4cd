//! The LLM generator: SQL from an OpenAI-compatible model, checked by the guard, run, and sent
//! back with its error for a repair when it fails.
//!
//! Enter at [`LlmGenerator::generate`]. It renders the prompt ([`prompt`]), calls the model
//! ([`client`], with its time limit, retries and circuit breaker in [`circuit`]), pulls the SQL
//! out of the reply ([`extract`]) and hands it to the caller's `run` — the engine's guard and
//! warehouse, the same as for every other SQL. A database or guard error goes back to the model
//! for at most `max_repairs` repairs; every attempt is in the trace with its error. Any failure
//! of the endpoint, or SQL that still fails after the repairs, is an [`LlmFallback`] with its
//! reason: the engine then asks the pattern engine. [`LlmGenerator::summarize`] writes the
//! answer's summary and follow-up questions from a bounded sample of rows.

pub mod circuit;
pub mod client;
pub mod config;
pub mod extract;
pub mod prompt;

use std::path::Path;

use serde::Serialize;

use crate::error::QuerentResult;
use crate::sql::{GeneratedSql, GenerationMethod, TraceStep};
use crate::warehouse::Rows;

pub use circuit::{CircuitSnapshot, CircuitState};
pub use client::{ChatMessage, LlmClient, LlmError};
pub use config::LlmSettings;
pub use prompt::{PriorTurn, Prompts, SqlPromptInput};

/// At most this many rows of a result are sent to the model for a summary.
pub const SUMMARY_SAMPLE_ROWS: usize = 20;

/// Replies longer than this (characters) are shortened in the trace.
const TRACE_REPLY_CHARS: usize = 2_000;

/// SQL the model wrote that passed the guard and ran.
#[derive(Debug, Clone)]
pub struct LlmAnswer {
    pub generated: GeneratedSql,
    /// The SQL that ran, as the guard returned it.
    pub sql: String,
    pub rows: Rows,
    /// Repairs it took (0 when the first query ran).
    pub repairs: u32,
    /// Milliseconds spent waiting for the model, all calls together.
    pub llm_ms: f64,
}

/// Why the LLM gave no answer, with the trace of what it tried.
#[derive(Debug, Clone)]
pub struct LlmFallback {
    pub reason: String,
    pub trace: Vec<TraceStep>,
    /// Milliseconds spent waiting for the model.
    pub llm_ms: f64,
}

/// A summary and follow-up questions written by the model.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmSummary {
    pub summary: String,
    pub follow_ups: Vec<String>,
}

/// The LLM's state, for `/api/health`.
#[derive(Debug, Clone, Serialize)]
pub struct LlmStatus {
    /// `unknown` (no call has reached it yet), `ok`, `degraded` (recent failures), `open`
    /// (circuit open: skipped) or `half_open`.
    pub state: String,
    pub model: String,
    pub base_url: String,
    #[serde(flatten)]
    pub circuit: CircuitSnapshot,
}

/// The LLM generator: client, prompts and limits.
pub struct LlmGenerator {
    client: LlmClient,
    prompts: Prompts,
    max_repairs: u32,
    summaries: bool,
    context_tokens: usize,
}

impl LlmGenerator {
    /// The generator for `settings`, with the prompt templates of `templates_dir/prompts`, or
    /// `None` when no LLM is configured.
    ///
    /// Errors: the HTTP client cannot be built, or a template does not compile.
    pub fn new(settings: &LlmSettings, templates_dir: &Path) -> anyhow::Result<Option<Self>> {
        let Some(client) = LlmClient::new(settings)? else {
            return Ok(None);
        };
        Ok(Some(Self {
            client,
            prompts: Prompts::load(&templates_dir.join("prompts"))?,
            max_repairs: settings.max_repairs,
            summaries: settings.summaries,
            context_tokens: settings.context_tokens,
        }))
    }

    /// The model's context window in tokens (the prompt's budget).
    pub fn context_tokens(&self) -> usize {
        self.context_tokens
    }

    /// True when the circuit refuses calls right now (the engine skips the LLM without a call).
    pub fn circuit_open(&self) -> bool {
        self.client.circuit().state == CircuitState::Open
    }

    /// Writes SQL for `question`, runs it through `run` (guard and warehouse) and repairs it
    /// on error, at most `max_repairs` times.
    pub fn generate(
        &self,
        question: &str,
        input: &SqlPromptInput,
        run: &dyn Fn(&str) -> QuerentResult<(String, Rows)>,
    ) -> Result<LlmAnswer, LlmFallback> {
        let mut trace = Vec::new();
        let mut llm_ms = 0.0;
        let prompt = match self.prompts.sql(input, prompt::estimate_tokens(question)) {
            Ok(p) => p,
            Err(e) => {
                return Err(LlmFallback {
                    reason: format!("the prompt template failed: {e}"),
                    trace,
                    llm_ms,
                })
            }
        };
        trace.push(TraceStep::new(
            "llm",
            format!(
                "prompt of about {} tokens (budget {}){}",
                prompt.estimated_tokens,
                prompt.budget_tokens,
                if prompt.cuts.is_empty() {
                    String::new()
                } else {
                    format!("; cut to fit: {}", prompt.cuts.join("; "))
                }
            ),
            serde_json::json!({
                "model": self.client.model(),
                "estimated_tokens": prompt.estimated_tokens,
                "budget_tokens": prompt.budget_tokens,
                "cuts": prompt.cuts,
                "tables": input.tables.iter().map(|t| &t.name).collect::<Vec<_>>(),
                "examples": input.examples.len(),
                "rules": input.rules.len(),
                "history": input.history.len(),
            }),
        ));
        let mut messages = vec![
            ChatMessage::system(prompt.system),
            ChatMessage::user(question),
        ];
        let mut attempt = 0u32;
        loop {
            let completion = match self.client.complete_blocking(&messages) {
                Ok(c) => c,
                Err(e) => {
                    trace.push(TraceStep::new(
                        "llm",
                        format!("call {} failed: {e}", attempt + 1),
                        serde_json::json!({ "error": e.to_string(), "attempt": attempt + 1 }),
                    ));
                    return Err(LlmFallback {
                        reason: e.to_string(),
                        trace,
                        llm_ms,
                    });
                }
            };
            llm_ms += completion.elapsed_ms;
            let sql = client_sql(&completion.text);
            let outcome = match &sql {
                None => Err(("the reply holds no SQL query".to_string(), "no_sql")),
                Some(sql) => run(sql).map_err(|e| (e.to_string(), e.code())),
            };
            let reply = shorten(&completion.text);
            match outcome {
                Ok((ran, rows)) => {
                    trace.push(TraceStep::new(
                        "llm",
                        format!(
                            "{} ran, {} rows (model answered in {:.0} ms, {} HTTP attempt{})",
                            if attempt == 0 { "query".to_string() } else { format!("repair {attempt}") },
                            rows.rows.len(),
                            completion.elapsed_ms,
                            completion.attempts,
                            if completion.attempts == 1 { "" } else { "s" }
                        ),
                        serde_json::json!({ "attempt": attempt + 1, "sql": ran, "reply": reply,
                            "elapsed_ms": completion.elapsed_ms, "http_attempts": completion.attempts }),
                    ));
                    let generated = GeneratedSql {
                        sql: sql.unwrap_or_default(),
                        method: GenerationMethod::Llm,
                        confidence: (0.85 - 0.1 * attempt as f64).max(0.5),
                        trace: Vec::new(),
                        features: None,
                    };
                    return Ok(LlmAnswer {
                        generated: GeneratedSql { trace, ..generated },
                        sql: ran,
                        rows,
                        repairs: attempt,
                        llm_ms,
                    });
                }
                Err((error, code)) => {
                    trace.push(TraceStep::new(
                        "llm",
                        format!(
                            "{} failed: {error}",
                            if attempt == 0 {
                                "query".to_string()
                            } else {
                                format!("repair {attempt}")
                            }
                        ),
                        serde_json::json!({ "attempt": attempt + 1, "sql": sql, "error": error,
                            "code": code, "reply": reply, "elapsed_ms": completion.elapsed_ms,
                            "http_attempts": completion.attempts }),
                    ));
                    if attempt >= self.max_repairs {
                        return Err(LlmFallback {
                            reason: format!(
                                "the model's SQL still failed after {attempt} repair{}: {error}",
                                if attempt == 1 { "" } else { "s" }
                            ),
                            trace,
                            llm_ms,
                        });
                    }
                    let repair = match self.prompts.repair(&error) {
                        Ok(r) => r,
                        Err(e) => {
                            return Err(LlmFallback {
                                reason: format!("the repair template failed: {e}"),
                                trace,
                                llm_ms,
                            })
                        }
                    };
                    messages.push(ChatMessage::assistant(completion.text));
                    messages.push(ChatMessage::user(repair));
                    attempt += 1;
                }
            }
        }
    }

    /// A summary and follow-up questions of a result, from its first
    /// [`SUMMARY_SAMPLE_ROWS`] rows only.
    ///
    /// Errors (the caller keeps its template summary): summaries are off, the call failed, or
    /// the reply is not the JSON object asked for.
    pub fn summarize(&self, question: &str, sql: &str, rows: &Rows) -> Result<LlmSummary, String> {
        if !self.summaries {
            return Err("LLM summaries are off".into());
        }
        let sample = &rows.rows[..rows.rows.len().min(SUMMARY_SAMPLE_ROWS)];
        let message = self
            .prompts
            .summary(question, sql, &rows.columns, sample, rows.rows.len())
            .map_err(|e| format!("the summary template failed: {e}"))?;
        let completion = self
            .client
            .complete_blocking(&[ChatMessage::user(message)])
            .map_err(|e| e.to_string())?;
        parse_summary(&completion.text)
    }

    /// The LLM's state now.
    pub fn status(&self) -> LlmStatus {
        let circuit = self.client.circuit();
        let state = match circuit.state {
            // No call has reached the LLM yet: nothing is known of it (harden, #13).
            CircuitState::Closed if circuit.calls == circuit.failures => "unknown",
            CircuitState::Closed => "ok",
            CircuitState::Degraded => "degraded",
            CircuitState::Open => "open",
            CircuitState::HalfOpen => "half_open",
        };
        LlmStatus {
            state: state.into(),
            model: self.client.model().into(),
            base_url: self.client.base_url().into(),
            circuit,
        }
    }
}

fn client_sql(reply: &str) -> Option<String> {
    extract::extract_sql(reply)
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= TRACE_REPLY_CHARS {
        text.to_string()
    } else {
        text.chars().take(TRACE_REPLY_CHARS).collect::<String>() + "…"
    }
}

/// Reads `{"summary": ..., "follow_ups": [...]}` from a reply, fenced or among prose.
fn parse_summary(reply: &str) -> Result<LlmSummary, String> {
    #[derive(serde::Deserialize)]
    struct Reply {
        summary: String,
        #[serde(default)]
        follow_ups: Vec<String>,
    }
    let start = reply
        .find('{')
        .ok_or("the summary reply holds no JSON object")?;
    let end = reply
        .rfind('}')
        .ok_or("the summary reply holds no JSON object")?;
    if end < start {
        return Err("the summary reply holds no JSON object".into());
    }
    let parsed: Reply = serde_json::from_str(&reply[start..=end])
        .map_err(|e| format!("the summary reply is not the JSON asked for: {e}"))?;
    let summary = parsed.summary.trim().to_string();
    if summary.is_empty() {
        return Err("the summary is empty".into());
    }
    Ok(LlmSummary {
        summary,
        follow_ups: parsed
            .follow_ups
            .into_iter()
            .map(|f| f.trim().to_string())
            .filter(|f| !f.is_empty())
            .take(3)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fenced_json_summary_is_read_with_at_most_three_follow_ups() {
        let s = parse_summary(
            "```json\n{\"summary\": \"West leads.\", \"follow_ups\": [\"a\", \"b\", \"\", \"c\", \"d\"]}\n```",
        )
        .unwrap();
        assert_eq!(s.summary, "West leads.");
        assert_eq!(s.follow_ups, vec!["a", "b", "c"]);
    }

    #[test]
    fn prose_instead_of_json_is_an_error() {
        assert!(parse_summary("West leads.").is_err());
    }
}
