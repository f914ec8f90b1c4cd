//! The LLM endpoint behind one call, [`LlmClient::complete`]: chat messages in, the reply's text
//! out, within a time limit, with retries on 429, 5xx and connection errors, behind the circuit
//! breaker.
//!
//! The HTTP work is async-openai's (`Client<OpenAIConfig>` pointed at any OpenAI-compatible
//! `/v1/chat/completions`); async-openai's own retry layer is replaced by a plain reqwest service
//! so that retries, backoff and the time limit are decided here, in one place. The time limit
//! covers the whole call, retries and backoff included, so that a dead endpoint costs at most
//! the configured timeout before the pattern engine answers.

use std::time::{Duration, Instant};

use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::middleware::ReqwestService;
use async_openai::types::chat::{
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestMessage,
    ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage,
    CreateChatCompletionRequest,
};
use serde::Serialize;

use super::circuit::{CircuitBreaker, CircuitSnapshot};
use super::config::LlmSettings;

/// Who says a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    System,
    User,
    Assistant,
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: Role::System,
            content: content.into(),
        }
    }
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: content.into(),
        }
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// Why a call to the LLM gave no text.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LlmError {
    /// The circuit is open: no call was made.
    #[error("the LLM circuit is open (failing endpoint); next try in {retry_in_ms} ms")]
    CircuitOpen { retry_in_ms: u64 },
    /// The call, retries included, ran past the time limit.
    #[error("the LLM did not answer within {ms} ms")]
    Timeout { ms: u64 },
    /// 429 after every retry.
    #[error("the LLM is rate-limited (429): {message}")]
    RateLimited { message: String },
    /// 5xx after every retry.
    #[error("the LLM failed with HTTP {status}: {message}")]
    Server { status: u16, message: String },
    /// Another 4xx (bad key, unknown model): not retried.
    #[error("the LLM refused the request with HTTP {status}: {message}")]
    Refused { status: u16, message: String },
    /// The connection failed (refused, reset, DNS).
    #[error("cannot reach the LLM: {0}")]
    Transport(String),
    /// The body is not a chat completion.
    #[error("the LLM's reply is not a chat completion: {0}")]
    Malformed(String),
    /// A chat completion with no text.
    #[error("the LLM's reply has no text")]
    Empty,
}

impl LlmError {
    /// True for failures worth another try within the time limit.
    fn retryable(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. } | Self::Server { .. } | Self::Transport(_)
        )
    }
}

/// A reply: its text, how many HTTP attempts it took, and the call's duration.
#[derive(Debug, Clone)]
pub struct Completion {
    pub text: String,
    pub attempts: u32,
    pub elapsed_ms: f64,
}

/// The LLM endpoint, its limits and its breaker.
pub struct LlmClient {
    client: async_openai::Client<OpenAIConfig>,
    model: String,
    base_url: String,
    timeout: Duration,
    retries: u32,
    breaker: CircuitBreaker,
}

impl std::fmt::Debug for LlmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmClient")
            .field("model", &self.model)
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// First backoff delay; doubled at each retry.
const BACKOFF_START: Duration = Duration::from_millis(100);

impl LlmClient {
    /// A client for `settings`, or `None` when no endpoint is configured.
    ///
    /// Errors: the HTTP client cannot be built (TLS set-up).
    pub fn new(settings: &LlmSettings) -> anyhow::Result<Option<Self>> {
        let Some(base_url) = settings.endpoint() else {
            return Ok(None);
        };
        // reqwest 0.13 is built without a TLS provider of its own: install ring's, once.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let timeout = Duration::from_millis(settings.timeout_ms.max(1));
        let http = reqwest013::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()?;
        let mut config = OpenAIConfig::new().with_api_base(&base_url);
        if let Some(key) = &settings.api_key {
            config = config.with_api_key(key.expose());
        }
        let client =
            async_openai::Client::with_config(config).with_http_service(ReqwestService::new(http));
        Ok(Some(Self {
            client,
            model: settings.model.clone(),
            base_url,
            timeout,
            retries: settings.retries,
            breaker: CircuitBreaker::new(
                settings.circuit_threshold,
                Duration::from_secs(settings.circuit_cooldown_s),
            ),
        }))
    }

    /// The model name.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The base URL called.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The breaker's state.
    pub fn circuit(&self) -> CircuitSnapshot {
        self.breaker.snapshot()
    }

    /// Sends `messages` and returns the reply's text.
    ///
    /// Refused at once (no HTTP request) while the circuit is open. Otherwise at most
    /// `1 + retries` attempts within the time limit; the outcome is recorded in the breaker.
    pub async fn complete(&self, messages: &[ChatMessage]) -> Result<Completion, LlmError> {
        if let Err(refused) = self.breaker.acquire() {
            return Err(LlmError::CircuitOpen {
                retry_in_ms: refused.retry_in.as_millis() as u64,
            });
        }
        let started = Instant::now();
        let deadline = tokio::time::Instant::from_std(started + self.timeout);
        let result = match tokio::time::timeout_at(deadline, self.attempts(messages, started)).await
        {
            Ok(r) => r,
            Err(_) => Err(LlmError::Timeout {
                ms: self.timeout.as_millis() as u64,
            }),
        };
        match &result {
            Ok(_) => self.breaker.record_success(),
            Err(e) => self.breaker.record_failure(&e.to_string()),
        }
        result.map(|(text, attempts)| Completion {
            text,
            attempts,
            elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
        })
    }

    /// Like [`LlmClient::complete`], from synchronous code (the engine's blocking thread).
    pub fn complete_blocking(&self, messages: &[ChatMessage]) -> Result<Completion, LlmError> {
        block_on(self.complete(messages))
    }

    async fn attempts(
        &self,
        messages: &[ChatMessage],
        started: Instant,
    ) -> Result<(String, u32), LlmError> {
        let request = self.request(messages);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let error = match self.client.chat().create(request.clone()).await {
                Ok(response) => {
                    let text = response
                        .choices
                        .into_iter()
                        .next()
                        .and_then(|c| c.message.content)
                        .filter(|t| !t.trim().is_empty());
                    return text.map(|t| (t, attempt)).ok_or(LlmError::Empty);
                }
                Err(e) => classify(e, self.timeout),
            };
            if !error.retryable() || attempt > self.retries {
                return Err(error);
            }
            let delay = BACKOFF_START * 2u32.pow(attempt - 1);
            // A retry that could not finish in time is not worth its wait: fail now.
            if started.elapsed() + delay >= self.timeout {
                return Err(error);
            }
            tracing::debug!(attempt, ?delay, "LLM call failed, retrying: {error}");
            tokio::time::sleep(delay).await;
        }
    }

    fn request(&self, messages: &[ChatMessage]) -> CreateChatCompletionRequest {
        CreateChatCompletionRequest {
            model: self.model.clone(),
            messages: messages
                .iter()
                .map(|m| match m.role {
                    Role::System => ChatCompletionRequestMessage::from(
                        ChatCompletionRequestSystemMessage::from(m.content.as_str()),
                    ),
                    Role::User => ChatCompletionRequestUserMessage::from(m.content.as_str()).into(),
                    Role::Assistant => {
                        ChatCompletionRequestAssistantMessage::from(m.content.as_str()).into()
                    }
                })
                .collect(),
            temperature: Some(0.0),
            ..Default::default()
        }
    }
}

/// Maps async-openai's error to ours.
fn classify(e: OpenAIError, timeout: Duration) -> LlmError {
    match e {
        OpenAIError::ApiError(r) => {
            let status = r.status_code.as_u16();
            let message = truncate(&r.api_error.message, 300);
            match status {
                429 => LlmError::RateLimited { message },
                500..=599 => LlmError::Server { status, message },
                _ => LlmError::Refused { status, message },
            }
        }
        OpenAIError::Reqwest(e) if e.is_timeout() => LlmError::Timeout {
            ms: timeout.as_millis() as u64,
        },
        OpenAIError::Reqwest(e) if e.is_decode() || e.is_body() => {
            LlmError::Malformed(truncate(&e.to_string(), 300))
        }
        OpenAIError::Reqwest(e) => LlmError::Transport(truncate(&error_chain(&e), 300)),
        OpenAIError::JSONDeserialize(e, _) => LlmError::Malformed(truncate(&e.to_string(), 300)),
        other => LlmError::Malformed(truncate(&other.to_string(), 300)),
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

/// Runs a future to completion from synchronous code: on the current tokio runtime when the
/// caller is one of its blocking threads (the server), else on a small runtime of our own (the
/// CLI, which has none).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::sync::OnceLock;
    static OWN: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle.block_on(future),
        Err(_) => OWN
            .get_or_init(|| {
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()
                    .expect("a one-thread tokio runtime can be built")
            })
            .block_on(future),
    }
}
