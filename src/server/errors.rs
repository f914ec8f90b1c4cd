//! The error body and the one table that maps every error to an HTTP status and a stable code.
//!
//! Body: `{"error": {"code": "unknown_database", "message": "...", "details": {...}}}`.

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};

use crate::error::QuerentError;

/// The error body of every failed request.
#[derive(Debug, Clone, Object)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong: a stable code, a message for people, structured details.
#[derive(Debug, Clone, Object)]
pub struct ErrorDetail {
    /// Stable machine-readable code (`empty_question`, `unknown_database`, `sql_rejected`, ...).
    pub code: String,
    pub message: String,
    /// Structured details (known databases, unmapped words, ...); null when none.
    pub details: serde_json::Value,
}

impl ErrorBody {
    pub fn new(code: &str, message: impl Into<String>, details: serde_json::Value) -> Self {
        Self {
            error: ErrorDetail {
                code: code.to_string(),
                message: message.into(),
                details,
            },
        }
    }
}

/// An API error response: the status and the body.
#[derive(Debug, ApiResponse)]
pub enum ApiError {
    /// The request is malformed (empty or too long question, bad SQL, bad parameter).
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// A write needs an API key.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// Writes are disabled: no API key is configured.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// The database or table does not exist.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The item changed since the version the write names, or already exists.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// The question could not be answered, or its SQL failed or ran too long.
    #[oai(status = 422)]
    Unprocessable(Json<ErrorBody>),
    /// Something failed on our side.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// The warehouse (BigQuery) could not be reached or refused querent's credentials.
    #[oai(status = 502)]
    BadGateway(Json<ErrorBody>),
    /// Too many questions for the database are running and waiting (`overloaded`).
    #[oai(status = 503)]
    ServiceUnavailable(Json<ErrorBody>),
}

impl From<QuerentError> for ApiError {
    fn from(e: QuerentError) -> Self {
        let body = Json(ErrorBody::new(e.code(), e.to_string(), e.details()));
        match e {
            QuerentError::EmptyQuestion
            | QuerentError::QuestionTooLong { .. }
            | QuerentError::InvalidRequest(_)
            | QuerentError::SqlRejected { .. } => Self::BadRequest(body),
            QuerentError::UnknownDatabase { .. }
            | QuerentError::UnknownTable { .. }
            | QuerentError::UnknownItem { .. } => Self::NotFound(body),
            QuerentError::Unauthorized => Self::Unauthorized(body),
            QuerentError::WritesDisabled => Self::Forbidden(body),
            QuerentError::VersionConflict { .. } | QuerentError::AlreadyExists { .. } => {
                Self::Conflict(body)
            }
            QuerentError::InvalidKnowledge { .. }
            | QuerentError::CannotAnswer { .. }
            | QuerentError::SqlFailed { .. }
            | QuerentError::SqlTimeout { .. }
            | QuerentError::SqlCostLimit { .. } => Self::Unprocessable(body),
            QuerentError::WarehouseUnavailable { .. } => {
                tracing::error!("{}", body.0.error.message);
                Self::BadGateway(body)
            }
            QuerentError::Overloaded { .. } => {
                tracing::warn!("{}", body.0.error.message);
                Self::ServiceUnavailable(body)
            }
            QuerentError::Knowledge(_) | QuerentError::Internal(_) => {
                tracing::error!("{}", body.0.error.message);
                Self::Internal(body)
            }
        }
    }
}

/// Turns the framework's own errors (malformed JSON, wrong content type, unknown route, ...)
/// into the same body with a stable code.
pub async fn framework_error_response(err: poem::Error) -> Response {
    // Our own ApiError responses travel as errors made from a response: keep them as they are.
    if err.is_from_response() {
        return err.into_response();
    }
    use poem_openapi::error::{ContentTypeError, ParseParamError, ParseRequestPayloadError};
    let status = err.status();
    let code = if err.is::<ParseRequestPayloadError>() {
        "invalid_body"
    } else if err.is::<ParseParamError>() {
        "invalid_parameter"
    } else if err.is::<ContentTypeError>() {
        "unsupported_content_type"
    } else {
        match status {
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            s if s.is_server_error() => "internal",
            _ => "invalid_request",
        }
    };
    let body = ErrorBody::new(code, err.to_string(), serde_json::Value::Null);
    let json = serde_json::json!({ "error": { "code": body.error.code, "message": body.error.message, "details": null } });
    poem::web::Json(json).with_status(status).into_response()
}
