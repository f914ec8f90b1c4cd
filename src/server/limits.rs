//! Request limits and the HTTP niceties around every route (harden, #13): a cap on the request
//! body, an `Allow` header on 405 answers, and a JSON string type that takes only strings.

use std::borrow::Cow;
use std::sync::Arc;

use poem::http::{header, Method, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response};
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};

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

/// A JSON string field that accepts only a JSON string (poem-openapi's `String` also takes
/// numbers and booleans, so `{"question": 42}` would be read as the question "42").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonString(pub String);

impl Type for JsonString {
    const IS_REQUIRED: bool = true;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        String::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        String::schema_ref()
    }

    fn register(registry: &mut Registry) {
        String::register(registry)
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

impl ParseFromJSON for JsonString {
    fn parse_from_json(value: Option<serde_json::Value>) -> ParseResult<Self> {
        match value {
            Some(serde_json::Value::String(s)) => Ok(Self(s)),
            other => Err(ParseError::expected_type(other.unwrap_or_default())),
        }
    }
}

impl ToJSON for JsonString {
    fn to_json(&self) -> Option<serde_json::Value> {
        Some(serde_json::Value::String(self.0.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
