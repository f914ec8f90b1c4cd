//! The error type of the library, with stable machine-readable codes.
//!
//! Each variant tells the user's fault (4xx) from ours (5xx); [`QuerentError::code`] is the
//! stable code clients match on, and `server` maps every variant to an HTTP status in one place.

use thiserror::Error;

/// Result of a querent operation.
pub type QuerentResult<T> = Result<T, QuerentError>;

/// Everything that can go wrong while answering a question or serving a request.
#[derive(Debug, Error)]
pub enum QuerentError {
    /// The question is empty or only whitespace.
    #[error("the question is empty")]
    EmptyQuestion,
    /// The question is longer than the limit (characters).
    #[error("the question is {length} characters long; the limit is {limit}")]
    QuestionTooLong { length: usize, limit: usize },
    /// The request names a database that is not served.
    #[error("unknown database '{name}'; known databases: {}", known.join(", "))]
    UnknownDatabase { name: String, known: Vec<String> },
    /// The request names a table that does not exist.
    #[error("unknown table '{name}'")]
    UnknownTable { name: String },
    /// The guard refused a SQL statement (not one read-only query over known tables).
    #[error("SQL rejected: {reason}")]
    SqlRejected { reason: String },
    /// The database reported an error while running a statement.
    #[error("SQL failed: {message}")]
    SqlFailed { message: String },
    /// The statement ran past the time limit and was interrupted.
    #[error("the query ran longer than {limit_ms} ms and was stopped")]
    SqlTimeout { limit_ms: u64 },
    /// The warehouse would bill more than its cap (BigQuery's maximum bytes billed) for the
    /// statement, which was therefore not run.
    #[error("the query would bill more than the cap of {max_bytes_billed} bytes: {message}")]
    SqlCostLimit {
        max_bytes_billed: u64,
        message: String,
    },
    /// The warehouse could not be reached, or refused querent's credentials or permissions.
    #[error("the warehouse is unavailable: {message}")]
    WarehouseUnavailable { message: String },
    /// The question could not be mapped to the schema: the knowledge boundary.
    #[error("cannot answer: {reason}")]
    CannotAnswer {
        reason: String,
        /// The words or phrases that could not be mapped.
        unmapped: Vec<String>,
    },
    /// A request body or parameter is malformed.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The knowledge base files are invalid.
    #[error("knowledge error: {0}")]
    Knowledge(String),
    /// A knowledge item failed validation: an example that does not run or returns no rows, a
    /// table or column that does not exist. `details` names the field, table, column or SQL.
    #[error("invalid knowledge item: {message}")]
    InvalidKnowledge {
        message: String,
        details: serde_json::Value,
    },
    /// A write named a version of an item that is no longer current (someone else changed it).
    #[error("item '{id}' is at version {current}, not {expected}; reload it and try again")]
    VersionConflict {
        id: String,
        expected: String,
        current: String,
    },
    /// A create named an item that already exists.
    #[error("{what} already exists (id '{id}')")]
    AlreadyExists { what: String, id: String },
    /// The request names a knowledge item, suggestion, change or answer that does not exist.
    #[error("unknown {what} '{id}'")]
    UnknownItem { what: &'static str, id: String },
    /// A write (or, when so configured, a read) came without the right API key.
    #[error("this request needs the API key: send 'Authorization: Bearer KEY'")]
    Unauthorized,
    /// No API key is configured, so the knowledge base cannot be changed through the API.
    #[error("writes are disabled: no API key is configured (set QUERENT_API_KEY)")]
    WritesDisabled,
    /// Too many questions are running and waiting for this database: try again shortly.
    #[error("database '{database}' is busy: {running} questions running and {queued} waiting; try again shortly")]
    Overloaded {
        database: String,
        running: usize,
        queued: usize,
    },
    /// Something failed on our side.
    #[error("internal error: {0}")]
    Internal(String),
}

impl QuerentError {
    /// The stable machine-readable code of this error (snake_case, never changes once published).
    pub fn code(&self) -> &'static str {
        match self {
            Self::EmptyQuestion => "empty_question",
            Self::QuestionTooLong { .. } => "question_too_long",
            Self::UnknownDatabase { .. } => "unknown_database",
            Self::UnknownTable { .. } => "unknown_table",
            Self::SqlRejected { .. } => "sql_rejected",
            Self::SqlFailed { .. } => "sql_failed",
            Self::SqlTimeout { .. } => "sql_timeout",
            Self::SqlCostLimit { .. } => "sql_cost_limit",
            Self::WarehouseUnavailable { .. } => "warehouse_unavailable",
            Self::CannotAnswer { .. } => "cannot_answer",
            Self::InvalidRequest(_) => "invalid_request",
            Self::Knowledge(_) => "knowledge_error",
            Self::InvalidKnowledge { .. } => "invalid_knowledge",
            Self::VersionConflict { .. } => "version_conflict",
            Self::AlreadyExists { .. } => "already_exists",
            Self::UnknownItem { .. } => "unknown_item",
            Self::Unauthorized => "unauthorized",
            Self::WritesDisabled => "writes_disabled",
            Self::Overloaded { .. } => "overloaded",
            Self::Internal(_) => "internal",
        }
    }

    /// True when the error is the caller's fault (a 4xx), false when it is ours (a 5xx).
    pub fn is_user_error(&self) -> bool {
        !matches!(
            self,
            Self::Internal(_)
                | Self::Knowledge(_)
                | Self::WarehouseUnavailable { .. }
                | Self::Overloaded { .. }
        )
    }

    /// Structured details for the error body (`null` when there are none).
    pub fn details(&self) -> serde_json::Value {
        match self {
            Self::UnknownDatabase { known, .. } => serde_json::json!({ "known_databases": known }),
            Self::CannotAnswer { unmapped, .. } => serde_json::json!({ "unmapped": unmapped }),
            Self::QuestionTooLong { length, limit } => {
                serde_json::json!({ "length": length, "limit": limit })
            }
            Self::InvalidKnowledge { details, .. } => details.clone(),
            Self::VersionConflict {
                id,
                expected,
                current,
            } => serde_json::json!({ "id": id, "expected": expected, "current": current }),
            Self::AlreadyExists { id, .. } => serde_json::json!({ "id": id }),
            Self::SqlCostLimit {
                max_bytes_billed, ..
            } => serde_json::json!({ "max_bytes_billed": max_bytes_billed }),
            Self::UnknownItem { what, id } => serde_json::json!({ "kind": what, "id": id }),
            Self::Overloaded {
                database,
                running,
                queued,
            } => serde_json::json!({ "database": database, "running": running, "queued": queued }),
            _ => serde_json::Value::Null,
        }
    }
}

impl From<anyhow::Error> for QuerentError {
    fn from(e: anyhow::Error) -> Self {
        Self::Internal(format!("{e:#}"))
    }
}
