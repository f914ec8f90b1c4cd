//! What the server adds around the routes to run for many users: [`Ops`] (metrics, limits,
//! the question queue, query jobs) and the two middlewares every request passes:
//!
//! - [`observe`] (outermost): gives the request its id (a sane incoming `X-Request-Id`, else a
//!   new one) and a tracing span carrying it, so every log line of the request names it; sends
//!   the id back in `X-Request-Id`; counts the request in the metrics; keeps streams
//!   uncompressed.
//! - [`protect`] (inside the compression): rate limits per client and route class, and the
//!   request time limit.

use std::sync::Arc;
use std::time::{Duration, Instant};

use poem::http::HeaderValue;
use poem::{Endpoint, IntoResponse, Request, Response};
use tracing::Instrument;

use super::jobs::JobStore;
use super::metrics::{self, Metrics};
use super::rate_limits::{self, Admission, RateLimits, RouteClass};
use crate::engine::{AskRequest, Engine, QueryAnswer};
use crate::error::QuerentResult;
use crate::settings::OpsSettings;

/// The request id header.
pub const REQUEST_ID: &str = "x-request-id";

/// Metrics, limits, the question queue and the jobs, shared by the routes and middlewares.
pub struct Ops {
    pub metrics: Metrics,
    pub admission: Arc<Admission>,
    pub jobs: Arc<JobStore>,
    pub limits: RateLimits,
    /// `None`: no time limit.
    pub request_timeout: Option<Duration>,
}

impl Ops {
    /// Everything `settings` asks for, reading engine state for the metrics.
    pub fn new(engine: Arc<Engine>, settings: &OpsSettings) -> Self {
        let admission = Arc::new(Admission::new(
            settings.max_concurrent_questions,
            settings.question_queue,
        ));
        let jobs = Arc::new(JobStore::new(
            settings.max_jobs,
            Duration::from_secs(settings.job_ttl_s),
        ));
        Self {
            metrics: Metrics::new(engine, admission.clone(), jobs.clone()),
            admission,
            jobs,
            limits: RateLimits::new(settings),
            request_timeout: (settings.request_timeout_ms > 0)
                .then(|| Duration::from_millis(settings.request_timeout_ms)),
        }
    }

    /// Answers `request` once its database has room (see [`Admission`]), and counts the
    /// outcome in the metrics.
    pub async fn ask(
        &self,
        engine: &Arc<Engine>,
        request: AskRequest,
    ) -> QuerentResult<QueryAnswer> {
        let result = async {
            let database = engine.database(request.database.as_deref())?.name.clone();
            let _permit = self.admission.enter(&database).await?;
            engine.ask(request).await
        }
        .await;
        self.observe(&result);
        result
    }

    /// Counts an answer or a refusal.
    pub fn observe(&self, result: &QuerentResult<QueryAnswer>) {
        match result {
            Ok(a) => self.metrics.observe_answer(a),
            Err(e) => self.metrics.observe_refusal(e.code()),
        }
    }
}

/// A request id as sent by a client or proxy: 1..=128 letters, digits and `-_.:`.
fn sane_request_id(value: &HeaderValue) -> Option<String> {
    let s = value.to_str().ok()?.trim();
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c));
    ok.then(|| s.to_string())
}

/// The outermost middleware: request id, span, metrics; see the module doc.
pub async fn observe<E: Endpoint>(
    ops: Arc<Ops>,
    ep: Arc<E>,
    mut req: Request,
) -> poem::Result<Response> {
    let started = Instant::now();
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(sane_request_id)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    // Server-sent events must reach the client as they come: never compressed.
    if path.ends_with("/stream") {
        req.headers_mut()
            .remove(poem::http::header::ACCEPT_ENCODING);
    }
    let span = tracing::info_span!("request", request_id = %id, method = %method, path = %path);
    let mut resp = match ep.call(req).instrument(span.clone()).await {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    };
    let status = resp.status().as_u16();
    let seconds = started.elapsed().as_secs_f64();
    if path != "/metrics" {
        let route = metrics::route_label(&path, status);
        ops.metrics
            .observe_request(&route, &method, status, seconds);
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID, v);
    }
    span.in_scope(|| {
        let ms = (seconds * 1e6).round() / 1e3;
        if status >= 500 {
            tracing::warn!(status, elapsed_ms = ms, "request failed");
        } else {
            tracing::debug!(status, elapsed_ms = ms, "request");
        }
    });
    Ok(resp)
}

/// Rate limits and the time limit; see the module doc.
pub async fn protect<E: Endpoint>(
    ops: Arc<Ops>,
    ep: Arc<E>,
    req: Request,
) -> poem::Result<Response> {
    if let Some(class) = RouteClass::of(req.method(), req.uri().path()) {
        let client = rate_limits::client_of(&req);
        if let Err(wait) = ops.limits.check(class, &client) {
            ops.metrics.observe_rate_limited(class.as_str());
            tracing::info!(class = class.as_str(), %client, "rate limited");
            return Ok(rate_limits::rate_limited_response(class, wait));
        }
    }
    let call = async {
        match ep.call(req).await {
            Ok(r) => r.into_response(),
            Err(e) => e.into_response(),
        }
    };
    match ops.request_timeout {
        None => Ok(call.await),
        Some(limit) => match tokio::time::timeout(limit, call).await {
            Ok(resp) => Ok(resp),
            Err(_) => {
                tracing::warn!(limit_ms = limit.as_millis() as u64, "request timed out");
                Ok(rate_limits::timeout_response(limit))
            }
        },
    }
}
