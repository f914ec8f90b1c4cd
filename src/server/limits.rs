//! Request limits and the HTTP niceties around every route (harden, #13): a cap on the request
//! body, an `Allow` header on 405 answers, and a JSON string type that takes only strings.

use std::borrow::Cow;
use std::sync::Arc;

use poem::http::{header, Method, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response};
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{
    ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type,
};

use crate::question::MAX_QUESTION_CHARS;

/// The largest request body accepted, in bytes (a question is at most 2,000 characters; a
/// curated item a few tens of kilobytes). A larger one is refused with 413 `payload_too_large`
/// before it is read.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The methods each route accepts, by path template (`/api/knowledge/{kind}/{id}`), read from
/// the OpenAPI spec; other paths (the pages) accept GET.
#[derive(Debug, Clone, Default)]
pub struct AllowedMethods {
    routes: Vec<(Vec<String>, String)>,
}

impl AllowedMethods {
    /// Reads the paths and methods of an OpenAPI spec (JSON text).
    pub fn from_spec(spec: &str) -> Self {
        let spec: serde_json::Value = serde_json::from_str(spec).unwrap_or_default();
        let mut routes = Vec::new();
        if let Some(paths) = spec["paths"].as_object() {
            for (path, operations) in paths {
                let mut methods: Vec<String> = operations
                    .as_object()
                    .map(|o| o.keys().map(|m| m.to_ascii_uppercase()).collect())
                    .unwrap_or_default();
                methods.sort();
                routes.push((segments(path), methods.join(", ")));
            }
        }
        Self { routes }
    }

    /// The `Allow` value for a request path: the methods of the route the router picks for it.
    /// Where several templates match (`/api/knowledge/suggestions/x` matches
    /// `/api/knowledge/{kind}/{id}` too), that is the one with a literal segment where the
    /// others have a parameter, leftmost first, as poem's router prefers.
    pub fn for_path(&self, path: &str) -> String {
        let wanted = segments(path);
        self.routes
            .iter()
            .filter(|(template, _)| {
                template.len() == wanted.len()
                    && template
                        .iter()
                        .zip(&wanted)
                        .all(|(t, w)| t.starts_with('{') || t == w)
            })
            .max_by_key(|(template, _)| {
                template
                    .iter()
                    .map(|t| !t.starts_with('{'))
                    .collect::<Vec<bool>>()
            })
            .map(|(_, methods)| methods.clone())
            .unwrap_or_else(|| "GET, HEAD".to_string())
    }
}

fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Wraps every route: refuses a body over [`MAX_BODY_BYTES`] (by its `Content-Length`, or
/// while reading a body sent without one) with 413, and adds `Allow` to a 405.
pub async fn limit_requests<E: Endpoint>(
    endpoint: Arc<E>,
    mut req: Request,
    allowed: Arc<AllowedMethods>,
) -> poem::Result<Response> {
    let too_large = || {
        poem::Error::from_string(
            format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
            StatusCode::PAYLOAD_TOO_LARGE,
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        Some(n) if n > MAX_BODY_BYTES as u64 => return Err(too_large()),
        Some(_) => {}
        None if req.method() != Method::GET && req.method() != Method::HEAD => {
            // Chunked or unframed: read at most the limit.
            let body = req.take_body();
            let bytes = body
                .into_bytes_limit(MAX_BODY_BYTES)
                .await
                .map_err(|_| too_large())?;
            req.set_body(bytes);
        }
        None => {}
    }
    let path = req.uri().path().to_string();
    match endpoint.call(req).await {
        Ok(output) => {
            let response = output.into_response();
            if response.status() == StatusCode::METHOD_NOT_ALLOWED {
                return Ok(with_allow(response, &allowed.for_path(&path)));
            }
            Ok(response)
        }
        Err(err) if err.status() == StatusCode::METHOD_NOT_ALLOWED => {
            let response = super::errors::framework_error_response(err).await;
            Ok(with_allow(response, &allowed.for_path(&path)))
        }
        Err(err) => Err(err),
    }
}

fn with_allow(mut response: Response, methods: &str) -> Response {
    if let Ok(value) = methods.parse() {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

/// Rust's whitespace (`char::is_whitespace`, what `str::trim` removes), the inside of a regex
/// class that reads the same in ECMA-262, Python and Rust regexes: the spec's patterns say
/// exactly what the handlers trim.
macro_rules! whitespace_chars {
    () => {
        r"\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
    };
}

/// The pattern of a text that is not only whitespace (a question, a SQL statement).
pub const NOT_BLANK: &str = concat!("[^", whitespace_chars!(), "]");

/// The pattern of a session id as `SessionId::parse` takes it: 1..=128 letters, digits, `-`,
/// `_`, `.` or `:`, with whitespace around it trimmed.
pub const SESSION_ID: &str = concat!(
    "^[",
    whitespace_chars!(),
    "]*[A-Za-z0-9._:-]{1,128}[",
    whitespace_chars!(),
    "]*$"
);

/// Declares a string type of the API that takes only a JSON string (poem-openapi's `String` also
/// takes numbers and booleans, so `{"question": 42}` would be read as the question "42") and
/// whose schema carries the constraints its handler checks. The handler still checks them, so
/// that a violation keeps its own stable code (`empty_question`, `question_too_long`,
/// `sql_rejected`, `invalid_request`) instead of the framework's `invalid_body`.
macro_rules! json_string {
    ($(#[$doc:meta])* $name:ident, $type_name:literal, |$schema:ident| $constrain:block) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(pub String);

        impl Type for $name {
            const IS_REQUIRED: bool = true;
            type RawValueType = String;
            type RawElementValueType = String;

            fn name() -> Cow<'static, str> {
                $type_name.into()
            }

            fn schema_ref() -> MetaSchemaRef {
                #[allow(unused_mut)]
                let mut $schema = MetaSchema::new("string");
                $constrain
                MetaSchemaRef::Inline(Box::new($schema))
            }

            fn as_raw_value(&self) -> Option<&Self::RawValueType> {
                Some(&self.0)
            }

            fn raw_element_iter<'a>(
                &'a self,
            ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
                Box::new(std::iter::once(&self.0))
            }
        }

        impl ParseFromJSON for $name {
            fn parse_from_json(value: Option<serde_json::Value>) -> ParseResult<Self> {
                match value {
                    Some(serde_json::Value::String(s)) => Ok(Self(s)),
                    other => Err(ParseError::expected_type(other.unwrap_or_default())),
                }
            }
        }

        impl ParseFromParameter for $name {
            fn parse_from_parameter(value: &str) -> ParseResult<Self> {
                Ok(Self(value.to_string()))
            }
        }

        impl ToJSON for $name {
            fn to_json(&self) -> Option<serde_json::Value> {
                Some(serde_json::Value::String(self.0.clone()))
            }
        }
    };
}

json_string!(
    /// Any JSON string (a database's name: an unknown one is 404 `unknown_database`; an
    /// answer's id).
    JsonString, "string", |schema| {}
);

json_string!(
    /// A question: not only whitespace (else 400 `empty_question`), at most
    /// [`MAX_QUESTION_CHARS`] characters (else 400 `question_too_long`).
    QuestionText, "string(question)", |schema| {
        schema.min_length = Some(1);
        schema.max_length = Some(MAX_QUESTION_CHARS);
        schema.pattern = Some(NOT_BLANK.to_string());
    }
);

json_string!(
    /// Text that is not only whitespace: a SQL statement (else 400 `sql_rejected`), a table's
    /// name (else 400 `invalid_request`).
    NonBlankText, "string(non_blank)", |schema| {
        schema.min_length = Some(1);
        schema.pattern = Some(NOT_BLANK.to_string());
    }
);

json_string!(
    /// A conversation id (else 400 `invalid_request`): see [`SESSION_ID`].
    SessionIdText, "string(session_id)", |schema| {
        schema.pattern = Some(SESSION_ID.to_string());
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_patterns_say_exactly_what_trim_removes() {
        let not_blank = regex::Regex::new(NOT_BLANK).unwrap();
        let session = regex::Regex::new(SESSION_ID).unwrap();
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let text = c.to_string();
            assert_eq!(not_blank.is_match(&text), !text.trim().is_empty(), "{c:?}");
            let padded = format!("{c}chat-1{c}");
            assert_eq!(
                session.is_match(&padded),
                crate::conversation::SessionId::parse(&padded).is_ok(),
                "{c:?}"
            );
        }
        assert!(session.is_match(&"a".repeat(128)) && !session.is_match(&"a".repeat(129)));
    }

    #[test]
    fn allow_names_the_methods_of_the_route_the_router_picks() {
        let spec = serde_json::json!({ "paths": {
            "/api/knowledge/{kind}": { "get": {}, "post": {} },
            "/api/knowledge/{kind}/{id}": { "get": {}, "put": {}, "delete": {} },
            "/api/knowledge/regression": { "post": {} },
            "/api/knowledge/suggestions/{id}": { "delete": {} },
        }})
        .to_string();
        let allowed = AllowedMethods::from_spec(&spec);
        assert_eq!(allowed.for_path("/api/knowledge/rules"), "GET, POST");
        assert_eq!(allowed.for_path("/api/knowledge/regression"), "POST");
        assert_eq!(
            allowed.for_path("/api/knowledge/rules/x"),
            "DELETE, GET, PUT"
        );
        assert_eq!(allowed.for_path("/api/knowledge/suggestions/x"), "DELETE");
        assert_eq!(allowed.for_path("/knowledge"), "GET, HEAD");
    }
}
