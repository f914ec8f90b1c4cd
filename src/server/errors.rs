//! The error body, built once, and the one response type of every failed request.
//!
//! Body: `{"error": {"code": "unknown_database", "message": "...", "details": {...}}}`. The
//! code, the status and whose fault it is come from the code table ([`crate::error::Code`]);
//! nothing here decides them. [`ApiError`] lists every status of the table in the OpenAPI spec.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaResponse, MetaResponses, Registry};
use poem_openapi::{ApiResponse, Object, ResponseContent};

use crate::error::{Code, Fault, QuerentError};

/// The error body of every failed request.
#[derive(Debug, Clone, Object, serde::Serialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong: a stable code, a message for people, structured details.
#[derive(Debug, Clone, Object, serde::Serialize)]
pub struct ErrorDetail {
    /// Stable machine-readable code (`empty_question`, `unknown_database`, `sql_rejected`, ...).
    pub code: String,
    pub message: String,
    /// Structured details (known databases, the refusal's cause and unmapped words, ...);
    /// null when none.
    pub details: serde_json::Value,
}

impl ErrorBody {
    /// The body of an error of `code`.
    pub fn new(code: Code, message: impl Into<String>, details: serde_json::Value) -> Self {
        Self {
            error: ErrorDetail {
                code: code.name().to_string(),
                message: message.into(),
                details,
            },
        }
    }

    /// The body of a library error: its code, its message, its details.
    pub fn from_error(e: &QuerentError) -> Self {
        Self::new(e.error_code(), e.to_string(), e.details())
    }

    /// The body as JSON (for the stream's `error` event and the CLI's `--json`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// An API error response: the code table's status and the body.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
}

impl ApiError {
    /// An error of `code` with this message and details.
    pub fn new(code: Code, message: impl Into<String>, details: serde_json::Value) -> Self {
        Self::from_body(code, ErrorBody::new(code, message, details))
    }

    fn from_body(code: Code, body: ErrorBody) -> Self {
        if code.fault() == Fault::Ours {
            tracing::error!(code = code.name(), "{}", body.error.message);
        }
        Self {
            status: StatusCode::from_u16(code.status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            body,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The body.
    pub fn body(&self) -> &ErrorBody {
        &self.body
    }
}

impl From<QuerentError> for ApiError {
    fn from(e: QuerentError) -> Self {
        Self::from_body(e.error_code(), ErrorBody::from_error(&e))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = Json(self.body).into_response();
        response.set_status(self.status);
        response
    }
}

impl ApiResponse for ApiError {
    /// One response per status of the code table, naming its codes.
    fn meta() -> MetaResponses {
        // The registry wants static descriptions: built once from the table.
        static DESCRIBED: OnceLock<Vec<(u16, String)>> = OnceLock::new();
        let described = DESCRIBED.get_or_init(|| {
            let mut by_status: BTreeMap<u16, Vec<&'static str>> = BTreeMap::new();
            for code in Code::ALL {
                by_status
                    .entry(code.status())
                    .or_default()
                    .push(code.name());
            }
            by_status
                .into_iter()
                .map(|(status, codes)| (status, format!("Error codes: `{}`.", codes.join("`, `"))))
                .collect()
        });
        let responses = described
            .iter()
            .map(|(status, description)| MetaResponse {
                description: description.as_str(),
                status: Some(*status),
                status_range: None,
                content: <Json<ErrorBody> as ResponseContent>::media_types(),
                headers: Vec::new(),
            })
            .collect();
        MetaResponses { responses }
    }

    fn register(registry: &mut Registry) {
        <Json<ErrorBody> as ResponseContent>::register(registry);
    }
}

impl From<ApiError> for poem::Error {
    fn from(e: ApiError) -> Self {
        let message = e.body.error.message.clone();
        let mut err = poem::Error::from_response(e.into_response());
        err.set_error_message(message);
        err
    }
}

/// Turns the framework's own errors (malformed JSON, wrong content type, unknown route, ...)
/// into the same body with a stable code.
pub async fn framework_error_response(err: poem::Error) -> Response {
    // Our own ApiError responses travel as errors made from a response: keep them as they are.
    if err.is_from_response() {
        return err.into_response();
    }
    use poem_openapi::error::{
        ContentTypeError, ParseParamError, ParsePathError, ParseRequestPayloadError,
    };
    let status = err.status();
    let code = if err.is::<ParseRequestPayloadError>() {
        Code::InvalidBody
    } else if err.is::<ParseParamError>() || err.is::<ParsePathError>() {
        Code::InvalidParameter
    } else if err.is::<ContentTypeError>() {
        Code::UnsupportedContentType
    } else {
        match status {
            StatusCode::NOT_FOUND => Code::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => Code::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => Code::PayloadTooLarge,
            s if s.is_server_error() => Code::Internal,
            _ => Code::InvalidRequest,
        }
    };
    // The framework's status stands: it is the table's for every code above but the two
    // catch-alls, which keep the exact status the framework chose.
    let body = ErrorBody::new(code, err.to_string(), serde_json::Value::Null);
    poem::web::Json(body.to_json())
        .with_status(status)
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_leaves_with_its_tables_status_and_the_whole_body() {
        let e = ApiError::from(QuerentError::UnknownDatabase {
            name: "nope".into(),
            known: vec!["retail".into()],
        });
        assert_eq!(e.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            e.body().to_json(),
            serde_json::json!({ "error": {
                "code": "unknown_database",
                "message": "unknown database 'nope'; known databases: retail",
                "details": { "known_databases": ["retail"] },
            }})
        );
    }

    #[test]
    fn the_spec_lists_every_status_of_the_code_table() {
        let statuses: Vec<u16> = ApiError::meta()
            .responses
            .iter()
            .filter_map(|r| r.status)
            .collect();
        for code in Code::ALL {
            assert!(statuses.contains(&code.status()), "{code}");
        }
    }
}
