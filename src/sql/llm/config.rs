//! The LLM's settings: endpoint, model, key, time limits, repairs and the circuit breaker.
//!
//! Read once by clap (flags and environment, after the config file has been applied, see
//! `settings::file`) and handed down to [`super::LlmGenerator::new`]; nothing below reads the
//! environment. The key is a [`Secret`], which never prints.

use std::str::FromStr;

use clap::Args;

/// A string that is never printed (`Debug` and `Display` show `***`).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_string()))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// Where the LLM is and how hard querent tries before it falls back to the pattern engine.
///
/// The LLM is used when a base URL or an API key is set; with neither, querent runs on the
/// pattern engine alone.
#[derive(Debug, Clone, Args)]
pub struct LlmSettings {
    /// Base URL of an OpenAI-compatible API, up to and including `/v1` (OpenAI, Ollama's
    /// `http://localhost:11434/v1`, vLLM, llama.cpp's server). Default with a key and no URL:
    /// OpenAI's.
    #[arg(long = "llm-base-url", env = "QUERENT_LLM_BASE_URL")]
    pub base_url: Option<String>,

    /// The model name sent with each chat completion.
    #[arg(
        long = "llm-model",
        env = "QUERENT_LLM_MODEL",
        default_value = "gpt-4o-mini"
    )]
    pub model: String,

    /// API key, sent as a bearer token (local servers usually need none).
    #[arg(long = "llm-api-key", env = "OPENAI_API_KEY", hide_env_values = true)]
    pub api_key: Option<Secret>,

    /// Time limit of one LLM call in milliseconds, retries included: past it the pattern
    /// engine answers.
    #[arg(
        long = "llm-timeout-ms",
        env = "QUERENT_LLM_TIMEOUT_MS",
        default_value_t = 20_000
    )]
    pub timeout_ms: u64,

    /// Retries of one call on 429, 5xx and connection errors (exponential backoff from 100 ms,
    /// or the server's Retry-After), within the time limit.
    #[arg(long = "llm-retries", env = "QUERENT_LLM_RETRIES", default_value_t = 2)]
    pub retries: u32,

    /// How many times a failing query goes back to the model with its error.
    #[arg(
        long = "llm-max-repairs",
        env = "QUERENT_LLM_MAX_REPAIRS",
        default_value_t = 2
    )]
    pub max_repairs: u32,

    /// After this many failed calls in a row the circuit opens and the LLM is skipped.
    #[arg(
        long = "llm-circuit-threshold",
        env = "QUERENT_LLM_CIRCUIT_THRESHOLD",
        default_value_t = 3
    )]
    pub circuit_threshold: u32,

    /// Seconds the circuit stays open before one trial call is let through.
    #[arg(
        long = "llm-circuit-cooldown-s",
        env = "QUERENT_LLM_CIRCUIT_COOLDOWN_S",
        default_value_t = 30
    )]
    pub circuit_cooldown_s: u64,

    /// The model's context window in tokens; the prompt is cut to fit it (estimated at four
    /// characters per token), leaving room for the reply.
    #[arg(
        long = "llm-context-tokens",
        env = "QUERENT_LLM_CONTEXT_TOKENS",
        default_value_t = 8_000
    )]
    pub context_tokens: usize,

    /// Ask the LLM for the summary and follow-up questions too (one more call per answer).
    #[arg(long = "llm-summaries", env = "QUERENT_LLM_SUMMARIES", default_value_t = true, action = clap::ArgAction::Set)]
    pub summaries: bool,
}

impl LlmSettings {
    /// The base URL to call, when the LLM is configured at all.
    pub fn endpoint(&self) -> Option<String> {
        match (&self.base_url, &self.api_key) {
            (Some(url), _) if !url.trim().is_empty() => {
                Some(url.trim().trim_end_matches('/').to_string())
            }
            (_, Some(_)) => Some("https://api.openai.com/v1".to_string()),
            _ => None,
        }
    }
}
