//! Protection of the server: rate limits per client and route class (governor), a bound on the
//! questions answered at once per database with a bounded queue, and a time limit per request.
//!
//! - A client is its API key (`Authorization: Bearer KEY`, kept as a hash) when it sends one,
//!   else its address. Past its rate a request gets 429 `rate_limited` with `Retry-After`.
//! - Route classes: `questions` (`POST /api/query`, `/api/query/stream`, `/api/jobs`), `sql`
//!   (`POST /api/sql`) and `writes` (POST, PUT, DELETE under `/api/knowledge`, `/api/feedback`).
//! - [`Admission`]: at most `max_concurrent_questions` questions run per database; up to
//!   `question_queue` more wait; past that, 503 `overloaded`.
//! - A request that has not answered within `request_timeout_ms` gets 503 `request_timeout`.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use parking_lot::Mutex;
use poem::http::Method;
use poem::{IntoResponse, Request, Response};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::errors::ApiError;
use crate::error::{Code, QuerentError, QuerentResult};
use crate::settings::OpsSettings;

/// The classes of routes that have their own rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteClass {
    Questions,
    Sql,
    Writes,
}

impl RouteClass {
    /// The class's name in metrics and error details.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Questions => "questions",
            Self::Sql => "sql",
            Self::Writes => "writes",
        }
    }

    /// The class of a request, or `None` for routes without a rate (pages, health, reads).
    pub fn of(method: &Method, path: &str) -> Option<Self> {
        let path = path.trim_end_matches('/');
        match (method, path) {
            (&Method::POST, "/api/query" | "/api/query/stream" | "/api/jobs") => {
                Some(Self::Questions)
            }
            (&Method::POST, "/api/sql") => Some(Self::Sql),
            (&Method::POST, "/api/feedback") => Some(Self::Writes),
            (m, p)
                if p.starts_with("/api/knowledge")
                    && matches!(*m, Method::POST | Method::PUT | Method::DELETE) =>
            {
                Some(Self::Writes)
            }
            _ => None,
        }
    }
}

/// One keyed limiter per route class; `None` where the rate is 0 (no limit).
pub struct RateLimits {
    limiters: HashMap<RouteClass, DefaultKeyedRateLimiter<String>>,
    clock: DefaultClock,
    checks: AtomicU64,
}

impl RateLimits {
    /// Limiters for the rates of `settings` (per second per client, bursts of twice as many).
    pub fn new(settings: &OpsSettings) -> Self {
        let mut limiters = HashMap::new();
        for (class, rate) in [
            (RouteClass::Questions, settings.rate_questions),
            (RouteClass::Sql, settings.rate_sql),
            (RouteClass::Writes, settings.rate_writes),
        ] {
            if let Some(rate) = NonZeroU32::new(rate) {
                let burst = rate.saturating_mul(NonZeroU32::MIN.saturating_add(1));
                limiters.insert(
                    class,
                    RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
                );
            }
        }
        Self {
            limiters,
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
        }
    }

    /// Counts one request of `client` in `class`: `Err(wait)` when it is over its rate.
    pub fn check(&self, class: RouteClass, client: &str) -> Result<(), Duration> {
        let Some(limiter) = self.limiters.get(&class) else {
            return Ok(());
        };
        // Forget clients that are back to a full burst now and then: memory stays bounded.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            limiter.retain_recent();
        }
        limiter
            .check_key(&client.to_string())
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

/// Who a request comes from, for the rate limits: its API key's hash, else its address.
pub fn client_of(req: &Request) -> String {
    if let Some(key) = req
        .headers()
        .get(poem::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(key.as_bytes());
        return format!("key:{}", hex::encode(&digest[..8]));
    }
    match req.remote_addr().as_socket_addr() {
        Some(addr) => format!("addr:{}", addr.ip()),
        None => format!("addr:{}", req.remote_addr()),
    }
}

/// The 429 answer: `Retry-After` in whole seconds (at least 1) and the error body.
pub fn rate_limited_response(class: RouteClass, wait: Duration) -> Response {
    let retry_after = wait.as_secs_f64().ceil().max(1.0) as u64;
    ApiError::new(
        Code::RateLimited,
        format!(
            "too many {} requests from this client; retry in {retry_after} s",
            class.as_str()
        ),
        serde_json::json!({ "class": class.as_str(), "retry_after_s": retry_after }),
    )
    .into_response()
    .with_header(poem::http::header::RETRY_AFTER, retry_after.to_string())
    .into_response()
}

/// The 503 answer of a request past the time limit.
pub fn timeout_response(limit: Duration) -> Response {
    ApiError::new(
        Code::RequestTimeout,
        format!("the request did not finish within {} ms", limit.as_millis()),
        serde_json::json!({ "limit_ms": limit.as_millis() as u64 }),
    )
    .into_response()
}

/// The questions of one database: a semaphore of `max_concurrent` permits and a count of
/// those waiting.
struct Gate {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
}

/// Bounds the questions answered at once per database, with a bounded queue.
pub struct Admission {
    gates: Mutex<HashMap<String, Arc<Gate>>>,
    max_concurrent: usize,
    queue: usize,
    refused: AtomicU64,
}

/// Leave to run one question; dropped when the question is done.
pub struct Permit {
    _permit: OwnedSemaphorePermit,
}

/// Questions running and waiting for one database, now.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Occupancy {
    pub database: String,
    pub running: usize,
    pub waiting: usize,
}

impl Admission {
    /// `max_concurrent` questions at once per database (at least 1), `queue` waiting.
    pub fn new(max_concurrent: usize, queue: usize) -> Self {
        Self {
            gates: Mutex::new(HashMap::new()),
            max_concurrent: max_concurrent.max(1),
            queue,
            refused: AtomicU64::new(0),
        }
    }

    fn gate(&self, database: &str) -> Arc<Gate> {
        self.gates
            .lock()
            .entry(database.to_string())
            .or_insert_with(|| {
                Arc::new(Gate {
                    permits: Arc::new(Semaphore::new(self.max_concurrent)),
                    waiting: AtomicUsize::new(0),
                })
            })
            .clone()
    }

    /// Waits for leave to run a question on `database`.
    ///
    /// Errors: [`QuerentError::Overloaded`] at once when the queue is full.
    pub async fn enter(&self, database: &str) -> QuerentResult<Permit> {
        let gate = self.gate(database);
        if let Ok(permit) = gate.permits.clone().try_acquire_owned() {
            return Ok(Permit { _permit: permit });
        }
        // Join the queue unless it is full (a compare-and-swap loop keeps the bound exact).
        let mut seen = gate.waiting.load(Ordering::Acquire);
        loop {
            if seen >= self.queue {
                self.refused.fetch_add(1, Ordering::Relaxed);
                return Err(QuerentError::Overloaded {
                    database: database.to_string(),
                    running: self.max_concurrent,
                    queued: seen,
                });
            }
            match gate
                .waiting
                .compare_exchange(seen, seen + 1, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break,
                Err(now) => seen = now,
            }
        }
        struct Leave<'a>(&'a AtomicUsize);
        impl Drop for Leave<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::AcqRel);
            }
        }
        let _in_queue = Leave(&gate.waiting);
        let permit = gate
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| QuerentError::Internal(format!("the question queue closed: {e}")))?;
        Ok(Permit { _permit: permit })
    }

    /// Questions running and waiting per database.
    pub fn occupancy(&self) -> Vec<Occupancy> {
        let gates = self.gates.lock();
        let mut out: Vec<Occupancy> = gates
            .iter()
            .map(|(name, g)| Occupancy {
                database: name.clone(),
                running: self.max_concurrent - g.permits.available_permits(),
                waiting: g.waiting.load(Ordering::Relaxed),
            })
            .collect();
        out.sort_by(|a, b| a.database.cmp(&b.database));
        out
    }

    /// Questions refused with `overloaded` since start.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_sql_and_curation_writes_are_told_apart_and_reads_have_no_class() {
        assert_eq!(
            RouteClass::of(&Method::POST, "/api/query"),
            Some(RouteClass::Questions)
        );
        assert_eq!(
            RouteClass::of(&Method::POST, "/api/jobs"),
            Some(RouteClass::Questions)
        );
        assert_eq!(
            RouteClass::of(&Method::POST, "/api/sql"),
            Some(RouteClass::Sql)
        );
        assert_eq!(
            RouteClass::of(&Method::PUT, "/api/knowledge/examples/abc"),
            Some(RouteClass::Writes)
        );
        assert_eq!(
            RouteClass::of(&Method::GET, "/api/knowledge/examples"),
            None
        );
        assert_eq!(RouteClass::of(&Method::GET, "/api/health"), None);
    }

    #[test]
    fn a_client_past_its_burst_is_told_how_long_to_wait() {
        let settings = OpsSettings {
            rate_sql: 1,
            ..crate::Settings::default().ops
        };
        let limits = RateLimits::new(&settings);
        assert!(limits.check(RouteClass::Sql, "addr:a").is_ok());
        assert!(limits.check(RouteClass::Sql, "addr:a").is_ok());
        let wait = limits.check(RouteClass::Sql, "addr:a").unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert!(
            limits.check(RouteClass::Sql, "addr:b").is_ok(),
            "another client has its own"
        );
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_with_overloaded() {
        let admission = Arc::new(Admission::new(1, 1));
        let first = admission.enter("db").await.unwrap();
        let a = admission.clone();
        let queued = tokio::spawn(async move { a.enter("db").await.map(|_| ()) });
        while admission.occupancy()[0].waiting == 0 {
            tokio::task::yield_now().await;
        }
        let refused = admission.enter("db").await.err().expect("queue full");
        assert_eq!(refused.code(), "overloaded");
        assert!(
            admission.enter("other").await.is_ok(),
            "each database has its own bound"
        );
        drop(first);
        queued.await.unwrap().unwrap();
        assert_eq!(admission.refused(), 1);
    }
}
