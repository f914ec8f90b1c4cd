//! A fake OpenAI-compatible LLM for the tests: a real HTTP server (a small poem app on
//! 127.0.0.1:0) answering `POST /v1/chat/completions` with scripted replies.
//!
//! Replies are scripted per question (the first user message of a SQL request): each request
//! takes the next reply, the last one repeats. A summary request (its message holds "The
//! question was: ...") gets a fixed JSON summary unless scripted under `summary:<question>`.
//! Every request is recorded with its body, so tests can assert what querent sent, and how
//! often — or that it sent nothing at all.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use poem::http::StatusCode;
use poem::listener::TcpAcceptor;
use poem::web::{Data, Json};
use poem::{handler, Body, EndpointExt, Response, Route};

/// One scripted reply.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A chat completion whose message is this text.
    Text(String),
    /// An HTTP status with an OpenAI-style error body.
    Status(u16, String),
    /// A 200 whose body is this text as is (malformed on purpose).
    Raw(String),
    /// Waits this many milliseconds, then replies.
    Delay(u64, Box<Reply>),
    /// A 200 whose chat completion arrives in `chunks` pieces, one every `every_ms`.
    Trickle {
        text: String,
        chunks: usize,
        every_ms: u64,
    },
}

impl Reply {
    /// A chat completion holding `sql` in a code fence.
    pub fn sql(sql: &str) -> Reply {
        Reply::Text(format!("```sql\n{sql}\n```"))
    }
}

/// A recorded request.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The question (SQL requests) or `summary:<question>`.
    pub key: String,
    pub body: serde_json::Value,
    /// When the fake received it and how long it took to answer (before the body was sent).
    pub received: Instant,
    pub handled: Duration,
}

#[derive(Default)]
struct State {
    scripts: Mutex<HashMap<String, (Vec<Reply>, usize)>>,
    requests: Mutex<Vec<Recorded>>,
}

/// A running fake.
pub struct FakeLlm {
    /// `http://127.0.0.1:PORT/v1`, for `--llm-base-url`.
    pub base_url: String,
    state: Arc<State>,
}

impl FakeLlm {
    /// Starts the fake on a free port, on a thread of its own, until the test process ends.
    pub fn start() -> FakeLlm {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let state = Arc::new(State::default());
        let shared = state.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let acceptor = TcpAcceptor::from_std(listener).unwrap();
                let app = Route::new()
                    .at("/v1/chat/completions", poem::post(completions))
                    .data(shared);
                let _ = poem::Server::new_with_acceptor(acceptor).run(app).await;
            });
        });
        FakeLlm {
            base_url: format!("http://127.0.0.1:{port}/v1"),
            state,
        }
    }

    /// Scripts the replies to `question` (the last repeats).
    pub fn script(&self, question: &str, replies: Vec<Reply>) {
        self.state
            .scripts
            .lock()
            .unwrap()
            .insert(question.to_string(), (replies, 0));
    }

    /// The requests received for this key, in order.
    pub fn requests(&self, key: &str) -> Vec<Recorded> {
        self.state
            .requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.key == key)
            .cloned()
            .collect()
    }

    /// How many requests arrived, all keys together.
    pub fn request_count(&self) -> usize {
        self.state.requests.lock().unwrap().len()
    }
}

fn completion(text: &str) -> serde_json::Value {
    serde_json::json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1_700_000_000u32,
        "model": "fake-model",
        "choices": [{
            "index": 0,
            "message": { "role": "assistant", "content": text },
            "finish_reason": "stop",
            "logprobs": null
        }],
        "usage": { "prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20 }
    })
}

/// The key of a request: its question, or `summary:<question>`.
fn key_of(body: &serde_json::Value) -> String {
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let user = messages
        .iter()
        .find(|m| m["role"] == "user")
        .and_then(|m| m["content"].as_str())
        .unwrap_or("")
        .to_string();
    match user.strip_prefix("The question was: ") {
        Some(rest) => format!("summary:{}", rest.lines().next().unwrap_or("").trim()),
        None => user,
    }
}

#[handler]
async fn completions(state: Data<&Arc<State>>, body: Json<serde_json::Value>) -> Response {
    let received = Instant::now();
    let key = key_of(&body.0);
    let reply = {
        let mut scripts = state.scripts.lock().unwrap();
        match scripts.get_mut(&key) {
            Some((replies, next)) => {
                let r = replies[(*next).min(replies.len() - 1)].clone();
                *next += 1;
                r
            }
            None if key.starts_with("summary:") => Reply::Text(
                serde_json::json!({
                    "summary": format!("FAKE SUMMARY of {}", &key["summary:".len()..]),
                    "follow_ups": ["fake follow-up one", "fake follow-up two"]
                })
                .to_string(),
            ),
            None => Reply::Status(500, format!("unscripted question: {key}")),
        }
    };
    let response = respond(reply).await;
    state.requests.lock().unwrap().push(Recorded {
        key,
        body: body.0,
        received,
        handled: received.elapsed(),
    });
    response
}

async fn respond(reply: Reply) -> Response {
    match reply {
        Reply::Text(text) => Response::builder()
            .content_type("application/json")
            .body(completion(&text).to_string()),
        Reply::Status(code, message) => Response::builder()
            .status(StatusCode::from_u16(code).unwrap())
            .content_type("application/json")
            .body(
                serde_json::json!({ "error": { "message": message, "type": "fake_error", "param": null, "code": null } })
                    .to_string(),
            ),
        Reply::Raw(body) => Response::builder()
            .content_type("application/json")
            .body(body),
        Reply::Delay(ms, inner) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Box::pin(respond(*inner)).await
        }
        Reply::Trickle {
            text,
            chunks,
            every_ms,
        } => {
            let full = completion(&text).to_string().into_bytes();
            let size = full.len().div_ceil(chunks.max(1));
            let pieces: Vec<Vec<u8>> = full.chunks(size).map(<[u8]>::to_vec).collect();
            let stream = futures::stream::unfold(pieces.into_iter(), move |mut it| async move {
                let piece = it.next()?;
                tokio::time::sleep(Duration::from_millis(every_ms)).await;
                Some((Ok::<_, std::io::Error>(piece), it))
            });
            Response::builder()
                .content_type("application/json")
                .body(Body::from_bytes_stream(stream))
        }
    }
}
