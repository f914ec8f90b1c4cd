//! The published OpenAPI document (harden, #13): poem-openapi's spec of the routes, completed
//! with what it cannot express from the handlers' types, so that the document matches the
//! responses (schemathesis `--checks all` runs against it, `scripts/schemathesis`):
//!
//! - the curation key as a `bearer` security scheme, on the curation routes (Swagger UI shows an
//!   Authorize button);
//! - the event stream as `text/event-stream` text, not a JSON array;
//! - the answers every route can give besides its own: 400 `invalid_body`, 413
//!   `payload_too_large` and 415 `unsupported_content_type` for a route with a body, 405 with
//!   `Allow` for any route, 503 `database_unavailable` for the routes that read a database.

use serde_json::{json, Map, Value};

/// The completed document, as JSON text, from poem-openapi's (`OpenApiService::spec`).
pub fn complete_spec(spec: &str) -> String {
    let Ok(mut doc) = serde_json::from_str::<Value>(spec) else {
        return spec.to_string();
    };
    complete(&mut doc);
    serde_json::to_string_pretty(&doc).unwrap_or_else(|_| spec.to_string())
}

/// Swagger UI's page for the completed document: poem-openapi's page with its document
/// replaced.
pub fn swagger_ui_html(original_spec: &str, page: &str) -> String {
    page.replace(original_spec, &complete_spec(original_spec))
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json; charset=utf-8": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } }
    })
}

fn complete(doc: &mut Value) {
    let components = doc
        .as_object_mut()
        .map(|d| d.entry("components").or_insert_with(|| json!({})));
    if let Some(Value::Object(components)) = components {
        let schemes = components
            .entry("securitySchemes")
            .or_insert_with(|| json!({}));
        schemes["curator_key"] = json!({
            "type": "http",
            "scheme": "bearer",
            "description": "The curation key (QUERENT_API_KEY or a named key of QUERENT_API_KEYS), sent as `Authorization: Bearer KEY`. Knowledge writes need it; reads need it when QUERENT_KEY_FOR_READS is set."
        });
    }
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, operations) in paths.iter_mut() {
        let Some(operations) = operations.as_object_mut() else {
            continue;
        };
        let reads_a_database = path.starts_with("/api/query")
            || path.starts_with("/api/sql")
            || path.starts_with("/api/knowledge");
        for operation in operations.values_mut() {
            let Some(operation) = operation.as_object_mut() else {
                continue;
            };
            let curation = path.starts_with("/api/knowledge");
            if curation {
                operation.insert("security".into(), json!([{ "curator_key": [] }]));
            }
            let has_body = operation.contains_key("requestBody");
            let responses = operation
                .entry("responses")
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .expect("responses is an object");
            if path == "/api/query/stream" {
                if let Some(ok) = responses.get_mut("200") {
                    ok["content"] = json!({
                        "text/event-stream": {
                            "schema": {
                                "type": "string",
                                "description": "Server-sent events: `event: NAME` and `data: JSON` lines, one event per stage (analysis, retrieval, sql, rows, chart, summary_token), then `answer` or `error`."
                            }
                        }
                    });
                }
            }
            add(responses, "400", || {
                error_response("The request is malformed: the body or a parameter is not what the route takes (`invalid_body`, `invalid_parameter`, `invalid_request`).")
            });
            if has_body {
                add(responses, "413", || {
                    error_response("The request body is larger than 1 MiB (`payload_too_large`).")
                });
                add(responses, "415", || {
                    error_response(
                        "The body is not `application/json` (`unsupported_content_type`).",
                    )
                });
            }
            if curation {
                add(responses, "401", || {
                    error_response("The route needs the curation key (`unauthorized`).")
                });
                add(responses, "403", || {
                    error_response(
                        "No curation key is configured: writes are disabled (`writes_disabled`).",
                    )
                });
            }
            add(responses, "405", || {
                let mut r = error_response("The method is not allowed on this path (`method_not_allowed`); `Allow` lists those that are.");
                r["headers"] = json!({ "Allow": { "description": "The methods the path accepts.", "schema": { "type": "string" } } });
                r
            });
            if reads_a_database {
                add(responses, "503", || {
                    error_response("A database cannot be read now: its file is missing or broken (`database_unavailable`).")
                });
            }
            add(responses, "500", || {
                error_response("Something failed on our side (`internal`).")
            });
        }
    }
}

fn add(responses: &mut Map<String, Value>, status: &str, make: impl FnOnce() -> Value) {
    responses.entry(status).or_insert_with(make);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_is_text_the_curation_routes_are_secured_and_errors_are_documented() {
        let spec = json!({
            "openapi": "3.0.0",
            "paths": {
                "/api/query/stream": { "post": { "requestBody": {}, "responses": { "200": { "content": { "text/event-stream": { "schema": { "type": "array", "format": "event-stream" } } } } } } },
                "/api/knowledge/rules": { "post": { "requestBody": {}, "responses": {} }, "get": { "responses": {} } },
                "/api/health": { "get": { "responses": { "200": {} } } }
            },
            "components": { "schemas": {} }
        })
        .to_string();
        let doc: Value = serde_json::from_str(&complete_spec(&spec)).unwrap();
        assert_eq!(
            doc["components"]["securitySchemes"]["curator_key"]["scheme"],
            "bearer"
        );
        let stream = &doc["paths"]["/api/query/stream"]["post"]["responses"];
        assert_eq!(
            stream["200"]["content"]["text/event-stream"]["schema"]["type"],
            "string"
        );
        assert!(stream["415"].is_object() && stream["413"].is_object());
        let rules = &doc["paths"]["/api/knowledge/rules"];
        assert_eq!(rules["post"]["security"][0]["curator_key"], json!([]));
        assert!(rules["post"]["responses"]["401"].is_object());
        assert!(rules["get"]["responses"]["415"].is_null());
        let health = &doc["paths"]["/api/health"]["get"];
        assert!(health["security"].is_null());
        assert!(health["responses"]["405"]["headers"]["Allow"].is_object());
    }
}
