//! The error type of the library and the one table of its stable codes.
//!
//! [`QuerentError`] is what can go wrong; the table below (`error_codes!`) gives every stable
//! code its HTTP status, whose fault it is (the caller's, a 4xx, or ours, a 5xx) and the
//! [`QuerentError`] variant it is the code of, one line each (meilisearch's
//! `meilisearch-types/src/error.rs` has the same shape). Codes without a variant are the HTTP
//! framework's own (malformed body, unknown route, ...). Adding a code is one line of the table
//! (and, when the library raises it, its variant); `server::errors` builds the error body from
//! it, and the compiler refuses a variant without a line.

use thiserror::Error;

use crate::sql::refusal::Refusal;

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
    /// The database cannot be read now (its file is missing, truncated or not a database any
    /// more); it is used again as soon as it can be read (#13).
    #[error("the database is unavailable: {reason}")]
    DatabaseUnavailable { reason: String },
    /// The question could not be mapped to the schema: the knowledge boundary, with its cause
    /// and the words that could not be mapped.
    #[error("cannot answer: {0}")]
    CannotAnswer(Refusal),
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
    /// A knowledge write named no database while several are served (422): `details` lists
    /// the served ones (`known_databases`).
    #[error("{message}")]
    DatabaseRequired {
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
    /// The question was cancelled before it was answered (its job deleted, its client gone);
    /// its warehouse query was stopped.
    #[error("cancelled before it was answered")]
    Cancelled,
    /// Something failed on our side.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Whose fault an error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// The caller's: the request or the question (a 4xx).
    User,
    /// Ours, or a service we depend on (a 5xx).
    Ours,
}

/// Declares [`Code`] from its table: `Variant = ("code", status, fault)`, then `for` the
/// [`QuerentError`] variant of that code when the library raises it.
macro_rules! error_codes {
    ($(
        $(#[$doc:meta])*
        $code:ident = ($name:literal, $status:literal, $fault:ident) $(for $error:ident)?;
    )*) => {
        /// Every stable error code (see the table below for its name, status and fault).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($(#[$doc])* $code,)*
        }

        impl Code {
            /// Every code, in table order.
            pub const ALL: &'static [Code] = &[$(Code::$code),*];

            /// The stable machine-readable name (snake_case, never changes once published).
            pub fn name(self) -> &'static str {
                match self {
                    $(Code::$code => $name,)*
                }
            }

            /// The HTTP status of the code.
            pub fn status(self) -> u16 {
                match self {
                    $(Code::$code => $status,)*
                }
            }

            /// Whose fault an error of this code is.
            pub fn fault(self) -> Fault {
                match self {
                    $(Code::$code => Fault::$fault,)*
                }
            }
        }

        impl QuerentError {
            /// The stable code of this error.
            pub fn error_code(&self) -> Code {
                match self {
                    $($(QuerentError::$error { .. } => Code::$code,)?)*
                }
            }
        }
    };
}

error_codes! {
    // Code                     name                        HTTP  fault  QuerentError variant
    EmptyQuestion            = ("empty_question",           400, User) for EmptyQuestion;
    QuestionTooLong          = ("question_too_long",        400, User) for QuestionTooLong;
    InvalidRequest           = ("invalid_request",          400, User) for InvalidRequest;
    SqlRejected              = ("sql_rejected",             400, User) for SqlRejected;
    /// The request body is not the JSON the route takes (framework).
    InvalidBody              = ("invalid_body",             400, User);
    /// A path or query parameter does not parse (framework).
    InvalidParameter         = ("invalid_parameter",        400, User);
    Unauthorized             = ("unauthorized",             401, User) for Unauthorized;
    WritesDisabled           = ("writes_disabled",          403, User) for WritesDisabled;
    UnknownDatabase          = ("unknown_database",         404, User) for UnknownDatabase;
    UnknownTable             = ("unknown_table",            404, User) for UnknownTable;
    UnknownItem              = ("unknown_item",             404, User) for UnknownItem;
    /// No route at this path (framework).
    NotFound                 = ("not_found",                404, User);
    /// The route exists with other methods (framework).
    MethodNotAllowed         = ("method_not_allowed",       405, User);
    VersionConflict          = ("version_conflict",         409, User) for VersionConflict;
    AlreadyExists            = ("already_exists",           409, User) for AlreadyExists;
    /// The body is larger than the server accepts (framework).
    PayloadTooLarge          = ("payload_too_large",        413, User);
    /// The body is not `application/json` (framework).
    UnsupportedContentType   = ("unsupported_content_type", 415, User);
    InvalidKnowledge         = ("invalid_knowledge",        422, User) for InvalidKnowledge;
    DatabaseRequired         = ("database_required",        422, User) for DatabaseRequired;
    CannotAnswer             = ("cannot_answer",            422, User) for CannotAnswer;
    SqlFailed                = ("sql_failed",               422, User) for SqlFailed;
    SqlTimeout               = ("sql_timeout",              422, User) for SqlTimeout;
    SqlCostLimit             = ("sql_cost_limit",           422, User) for SqlCostLimit;
    /// A cancelled question (never sent to the one who cancelled it: 499 as nginx logs it).
    Cancelled                = ("cancelled",                499, User) for Cancelled;
    Internal                 = ("internal",                 500, Ours) for Internal;
    KnowledgeError           = ("knowledge_error",          500, Ours) for Knowledge;
    WarehouseUnavailable     = ("warehouse_unavailable",    502, Ours) for WarehouseUnavailable;
    DatabaseUnavailable      = ("database_unavailable",     503, Ours) for DatabaseUnavailable;
    /// Too many questions for the database are running and waiting: try again shortly.
    Overloaded               = ("overloaded",               503, Ours) for Overloaded;
    /// The client sent more requests than its rate allows (`Retry-After` says when to retry).
    RateLimited              = ("rate_limited",             429, User);
    /// The request did not answer within the server's time limit.
    RequestTimeout           = ("request_timeout",          503, Ours);
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl QuerentError {
    /// The stable machine-readable name of this error's code (`unknown_database`).
    pub fn code(&self) -> &'static str {
        self.error_code().name()
    }

    /// The HTTP status of this error (from the code table).
    pub fn status(&self) -> u16 {
        self.error_code().status()
    }

    /// True when the error is the caller's fault (a 4xx), false when it is ours (a 5xx).
    pub fn is_user_error(&self) -> bool {
        self.error_code().fault() == Fault::User
    }

    /// Structured details for the error body (`null` when there are none).
    pub fn details(&self) -> serde_json::Value {
        match self {
            Self::UnknownDatabase { known, .. } => serde_json::json!({ "known_databases": known }),
            Self::CannotAnswer(refusal) => refusal.details(),
            Self::QuestionTooLong { length, limit } => {
                serde_json::json!({ "length": length, "limit": limit })
            }
            Self::InvalidKnowledge { details, .. } | Self::DatabaseRequired { details, .. } => {
                details.clone()
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_code_has_a_unique_snake_case_name() {
        let mut seen = HashSet::new();
        for code in Code::ALL {
            let name = code.name();
            assert!(seen.insert(name), "{name} twice");
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{name}"
            );
        }
    }

    #[test]
    fn the_callers_faults_are_4xx_and_ours_are_5xx() {
        for code in Code::ALL {
            let status = code.status();
            match code.fault() {
                Fault::User => assert!((400..500).contains(&status), "{code}: {status}"),
                Fault::Ours => assert!((500..600).contains(&status), "{code}: {status}"),
            }
        }
    }

    #[test]
    fn errors_take_their_code_status_and_fault_from_the_table() {
        let e = QuerentError::UnknownDatabase {
            name: "x".into(),
            known: vec!["retail".into()],
        };
        assert_eq!(
            (e.code(), e.status(), e.is_user_error()),
            ("unknown_database", 404, true)
        );
        let e = QuerentError::Knowledge("broken".into());
        assert_eq!(
            (e.code(), e.status(), e.is_user_error()),
            ("knowledge_error", 500, false)
        );
        let e = QuerentError::WarehouseUnavailable {
            message: "down".into(),
        };
        assert_eq!((e.code(), e.status()), ("warehouse_unavailable", 502));
    }

    #[test]
    fn a_refusal_carries_its_cause_into_the_details() {
        use crate::sql::refusal::RefusalCause;
        let e = QuerentError::CannotAnswer(Refusal {
            cause: RefusalCause::NothingLinked,
            unmapped: vec!["swallow".into()],
        });
        assert_eq!(e.status(), 422);
        assert_eq!(
            e.details(),
            serde_json::json!({ "cause": "nothing_linked", "unmapped": ["swallow"] })
        );
        assert!(e
            .to_string()
            .starts_with("cannot answer: no word of the question"));
    }
}
