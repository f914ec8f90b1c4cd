//! The curation routes under `/api/knowledge/` and `/api/feedback`: list, read, create, update,
//! delete and search table docs, examples, rules, and the semantic model's semantic models,
//! metrics and named filters; the change log and reverts; suggested examples and their review.
//!
//! This room translates HTTP to the [`Curator`] and back, and checks the API key: writes need
//! `Authorization: Bearer KEY`, the shared key or a named curator key (each compared in
//! constant time); reads are open unless `--key-for-reads`; with no key configured every write
//! is refused (`writes_disabled`). A change is recorded under the named key's name, or, with
//! the shared key, under the `X-Querent-User` header (else `api`).
//! Feedback is open: it only suggests, and nothing suggested answers questions until approved.
//! Item bodies are the knowledge items' own JSON (see `TableDoc`, `Example`, `BusinessRule`,
//! and `SemanticModel`, `Metric`, `NamedFilter` in `semantic::model`, keyed by `name`), flat, with `database` (create) or `version` (update; or an `If-Match` header) beside them.

use std::sync::Arc;

use poem::Request;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use subtle::ConstantTimeEq;

use super::errors::ApiError;
use super::limits::JsonString;
use crate::error::QuerentError;
use crate::knowledge::curation::{Curator, WriteOutcome};
use crate::knowledge::ItemKind;
use crate::settings::keys::CuratorKeys;
use crate::settings::Secret;

/// Who may do what.
#[derive(Clone)]
pub struct Access {
    /// The shared key; with no key at all (shared or named), writes are disabled.
    pub api_key: Option<Secret>,
    /// Named curator keys: a write made with one is recorded under its name.
    pub named_keys: CuratorKeys,
    /// Reads need a key too.
    pub key_for_reads: bool,
}

/// Who a request's key says it comes from.
enum Caller {
    /// The shared key: the `X-Querent-User` header names the person, unauthenticated.
    Shared,
    /// A named key: its name, authenticated.
    Named(String),
}

impl Access {
    /// The key of an `Authorization: Bearer KEY` header; the scheme's name is matched without
    /// regard to case (RFC 9110, section 11.1), and spaces after it are skipped.
    fn presented(req: &Request) -> Option<&str> {
        let value = req.headers().get("authorization")?.to_str().ok()?.trim();
        let (scheme, key) = value.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| key.trim())
            .filter(|k| !k.is_empty())
    }

    /// The caller whose key the request presents. Every configured key is compared, each in
    /// constant time, whatever matched before.
    fn caller(&self, req: &Request) -> Option<Caller> {
        let given = Self::presented(req)?.as_bytes();
        let mut found = None;
        if let Some(key) = &self.api_key {
            if bool::from(key.expose().as_bytes().ct_eq(given)) {
                found = Some(Caller::Shared);
            }
        }
        for (name, key) in self.named_keys.iter() {
            if bool::from(key.expose().as_bytes().ct_eq(given)) {
                found = Some(Caller::Named(name.to_string()));
            }
        }
        found
    }

    /// Who the write is by: the named key's name, else the `X-Querent-User` header, else `api`.
    ///
    /// Errors: `writes_disabled` (403) with no key configured, `unauthorized` (401) without one.
    fn check_write(&self, req: &Request) -> Result<String, QuerentError> {
        if self.api_key.is_none() && self.named_keys.is_empty() {
            return Err(QuerentError::WritesDisabled);
        }
        match self.caller(req) {
            Some(Caller::Named(name)) => Ok(name),
            Some(Caller::Shared) => Ok(header_user(req)),
            None => Err(QuerentError::Unauthorized),
        }
    }

    fn check_read(&self, req: &Request) -> Result<(), QuerentError> {
        if self.key_for_reads && self.caller(req).is_none() {
            return Err(QuerentError::Unauthorized);
        }
        Ok(())
    }
}

/// The curation routes.
pub struct KnowledgeApi {
    pub curator: Arc<Curator>,
    pub access: Access,
}

/// A kind of knowledge item, as named in paths: `tables`, `examples`, `rules`, and the lists of
/// the semantic model (`semantic.yml`, dbt MetricFlow's names): `semantic_models`, `metrics`,
/// `filters` (named filters).
#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename_all = "snake_case")]
pub enum KindParam {
    Tables,
    Examples,
    Rules,
    SemanticModels,
    Metrics,
    Filters,
}

impl From<KindParam> for ItemKind {
    fn from(k: KindParam) -> Self {
        match k {
            KindParam::Tables => ItemKind::Table,
            KindParam::Examples => ItemKind::Example,
            KindParam::Rules => ItemKind::Rule,
            KindParam::SemanticModels => ItemKind::SemanticModel,
            KindParam::Metrics => ItemKind::Metric,
            KindParam::Filters => ItemKind::Filter,
        }
    }
}

/// Feedback on an answer.
#[derive(Debug, Object)]
pub struct FeedbackRequest {
    /// The `query_id` of the answer.
    pub query_id: JsonString,
    /// Was the answer right?
    pub helpful: bool,
    /// The right SQL, when the answer was wrong (absent or null otherwise).
    #[oai(nullable)]
    pub correction: Option<JsonString>,
}

#[derive(ApiResponse)]
pub enum Created {
    /// Created: `{id, version, kind, database, curated, item, change, embedded, elapsed_ms}`.
    #[oai(status = 201)]
    Created(Json<serde_json::Value>),
}

#[derive(ApiResponse)]
pub enum Accepted {
    /// Recorded: `{suggestion}` (null when the feedback suggests nothing).
    #[oai(status = 202)]
    Accepted(Json<serde_json::Value>),
}

fn header_user(req: &Request) -> String {
    req.headers()
        .get("x-querent-user")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().chars().take(100).collect::<String>())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "api".into())
}

/// Runs blocking curation work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, QuerentError> + Send + 'static,
) -> Result<T, ApiError> {
    Ok(tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| QuerentError::Internal(format!("the curation task failed: {e}")))??)
}

/// The outcome of a write as a flat JSON object: the item's fields first, then the change.
fn outcome_json(outcome: WriteOutcome) -> serde_json::Value {
    let mut body = match outcome.item {
        Some(item) => serde_json::to_value(item).unwrap_or_default(),
        None => serde_json::json!({ "deleted": true }),
    };
    body["change"] = serde_json::to_value(&outcome.change).unwrap_or_default();
    body["embedded"] = serde_json::json!(outcome.embedded);
    body["elapsed_ms"] = serde_json::json!(outcome.elapsed_ms);
    body
}

fn take_string(body: &mut serde_json::Value, key: &str) -> Option<String> {
    body.as_object_mut()
        .and_then(|m| m.remove(key))
        .and_then(|v| v.as_str().map(str::to_string))
}

/// The version a write names: the body's `version`, else the `If-Match` header.
fn version(req: &Request, body_version: Option<String>) -> Result<String, QuerentError> {
    body_version
        .or_else(|| {
            req.headers()
                .get("if-match")
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().trim_matches('"').to_string())
        })
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            QuerentError::InvalidRequest(
                "the version being edited is required (a 'version' field or an If-Match header)"
                    .into(),
            )
        })
}

#[OpenApi(prefix_path = "/api")]
impl KnowledgeApi {
    /// List (and search, `q`: every word must appear) the table docs, examples, rules, semantic
    /// models, metrics or named filters of a database, or of every database. A metric comes
    /// with its compiled `sql`; the items of an inferred semantic model are `curated: false`.
    #[oai(path = "/knowledge/:kind", method = "get")]
    async fn list(
        &self,
        req: &Request,
        kind: Path<KindParam>,
        database: Query<Option<String>>,
        q: Query<Option<String>>,
    ) -> Result<Json<serde_json::Value>, ApiError> {
        self.access.check_read(req)?;
        let curator = self.curator.clone();
        let items =
            blocking(move || curator.list(kind.0.into(), database.0.as_deref(), q.0.as_deref()))
                .await?;
        Ok(Json(serde_json::json!({ "items": items })))
    }

    /// One item by id.
    #[oai(path = "/knowledge/:kind/:id", method = "get")]
    async fn get(
        &self,
        req: &Request,
        kind: Path<KindParam>,
        id: Path<String>,
    ) -> Result<Json<serde_json::Value>, ApiError> {
        self.access.check_read(req)?;
        let curator = self.curator.clone();
        let item = blocking(move || curator.get(kind.0.into(), &id.0)).await?;
        Ok(Json(serde_json::to_value(item).unwrap_or_default()))
    }

    /// Create an item (validated: examples must run and return rows, docs and rules must name
    /// tables and columns that exist; a semantic item must leave a model whose references
    /// resolve, whose semantic models name tables and columns that exist and whose metrics
    /// compile and run). Body: the item's fields and `database?`.
    #[oai(path = "/knowledge/:kind", method = "post")]
    async fn create(
        &self,
        req: &Request,
        kind: Path<KindParam>,
        body: Json<serde_json::Value>,
    ) -> Result<Created, ApiError> {
        let who = self.access.check_write(req)?;
        let mut item = body.0;
        let database = take_string(&mut item, "database");
        let curator = self.curator.clone();
        let outcome =
            blocking(move || curator.create(kind.0.into(), database.as_deref(), item, &who))
                .await?;
        Ok(Created::Created(Json(outcome_json(outcome))))
    }

    /// Replace an item. Body: the item's fields and the `version` being edited (or If-Match);
    /// 409 `version_conflict` when the item changed since.
    #[oai(path = "/knowledge/:kind/:id", method = "put")]
    async fn update(
        &self,
        req: &Request,
        kind: Path<KindParam>,
        id: Path<String>,
        body: Json<serde_json::Value>,
    ) -> Result<Json<serde_json::Value>, ApiError> {
        let who = self.access.check_write(req)?;
        let mut item = body.0;
        let version = version(req, take_string(&mut item, "version"))?;
        take_string(&mut item, "database");
        let curator = self.curator.clone();
        let outcome =
            blocking(move || curator.update(kind.0.into(), &id.0, &version, item, &who)).await?;
        Ok(Json(outcome_json(outcome)))
    }

    /// Delete an item at `version` (query parameter or If-Match).
    #[oai(path = "/knowledge/:kind/:id", method = "delete")]
    async fn delete(
        &self,
        req: &Request,
        kind: Path<KindParam>,
        id: Path<String>,
        version: Query<Option<String>>,
    ) -> Result<Json<serde_json::Value>, ApiError> {
        let who = self.access.check_write(req)?;
        let version = self::version(req, version.0)?;
        let curator = self.curator.clone();
        let outcome =
            blocking(move || curator.delete(kind.0.into(), &id.0, &version, &who)).await?;
        Ok(Json(outcome_json(outcome)))
    }

    /// The change log, newest first: who changed what, when, before and after.
    #[oai(path = "/knowledge/changes", method = "get")]
    async fn changes(
        &self,
        req: &Request,
        database: Query<Option<String>>,
        id: Query<Option<String>>,
        limit: Query<Option<u32>>,
    ) -> Result<Json<serde_json::Value>, ApiError> {
        self.access.check_read(req)?;
        let limit = limit.0.unwrap_or(100).clamp(1, 10_000) as usize;
        let changes = self
            .curator
            .history(database.0.as_deref(), id.0.as_deref(), limit);
        Ok(Json(serde_json::json!({ "changes": changes })))
    }

    /// Revert a change: the item goes back to what it was before it (409 if it changed since).
    #[oai(path = "/knowledge/changes/:seq/revert", method = "post")]
    async fn revert(
        &self,
        req: &Request,
        seq: Path<u64>,
    ) -> Result<Json<serde_json::Value>, ApiError> {
        let who = self.access.check_write(req)?;
        let curator = self.curator.clone();
        let outcome = blocking(move || curator.revert(seq.0, &who)).await?;
        Ok(Json(outcome_json(outcome)))
    }

    /// Re-run the domain's examples through the pipeline: which answers changed since the last
    /// run (the run becomes the next baseline).
    #[oai(path = "/knowledge/regression", method = "post")]
    async fn regression(
        &self,
        req: &Request,
        database: Query<Option<String>>,
    ) -> Result<Json<serde_json::Value>, ApiError> {
        self.access.check_write(req)?;
        let curator = self.curator.clone();
        let report = blocking(move || curator.regression(database.0.as_deref())).await?;
        Ok(Json(serde_json::to_value(report).unwrap_or_default()))
    }

    /// Suggested examples waiting for review.
    #[oai(path = "/knowledge/suggestions", method = "get")]
    async fn suggestions(
        &self,
        req: &Request,
        database: Query<Option<String>>,
    ) -> Result<Json<serde_json::Value>, ApiError> {
        self.access.check_read(req)?;
        let curator = self.curator.clone();
        let found = blocking(move || curator.suggestions(database.0.as_deref())).await?;
        let list: Vec<serde_json::Value> = found
            .into_iter()
            .map(|(database, s)| {
                let mut v = serde_json::to_value(s).unwrap_or_default();
                v["database"] = serde_json::json!(database);
                v
            })
            .collect();
        Ok(Json(serde_json::json!({ "suggestions": list })))
    }

    /// Approve a suggestion: it becomes an example (validated like any other).
    #[oai(path = "/knowledge/suggestions/:id/approve", method = "post")]
    async fn approve(&self, req: &Request, id: Path<String>) -> Result<Created, ApiError> {
        let who = self.access.check_write(req)?;
        let curator = self.curator.clone();
        let outcome = blocking(move || curator.approve(&id.0, &who)).await?;
        Ok(Created::Created(Json(outcome_json(outcome))))
    }

    /// Reject (remove) a suggestion.
    #[oai(path = "/knowledge/suggestions/:id", method = "delete")]
    async fn reject(
        &self,
        req: &Request,
        id: Path<String>,
    ) -> Result<Json<serde_json::Value>, ApiError> {
        self.access.check_write(req)?;
        let curator = self.curator.clone();
        let removed = blocking(move || curator.reject(&id.0)).await?;
        Ok(Json(serde_json::json!({ "rejected": removed })))
    }

    /// Feedback on an answer: helpful answers and corrections become suggested examples.
    #[oai(path = "/feedback", method = "post")]
    async fn feedback(&self, body: Json<FeedbackRequest>) -> Result<Accepted, ApiError> {
        let curator = self.curator.clone();
        let b = body.0;
        let suggestion =
            blocking(move || curator.feedback(&b.query_id.0, b.helpful, b.correction.map(|c| c.0)))
                .await?;
        Ok(Accepted::Accepted(Json(
            serde_json::json!({ "suggestion": suggestion }),
        )))
    }
}
