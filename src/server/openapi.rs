//! The published OpenAPI document (harden, #13): poem-openapi's spec of the routes, completed
//! with what it cannot express from the handlers' types, so that the document matches the
//! responses (schemathesis `--checks all` runs against it, `scripts/schemathesis`):
//!
//! - the curation key as a `bearer` security scheme, on the routes that need it: the curation
//!   writes always, the curation reads only when `--key-for-reads` is set (open reads declare
//!   no security, so Swagger UI shows an Authorize button where it matters);
//! - the event stream as `text/event-stream`, each event (`itemSchema`, OpenAPI 3.2's name for
//!   it) as `event` and its JSON `data` (`StreamEvent`), not poem-openapi's JSON array;
//! - the bodies of the curation writes, which the handlers take as free JSON: an object, with
//!   `version` (or `If-Match`) to update and delete;
//! - the answers every route can give besides its own: 400 `invalid_body`, 413
//!   `payload_too_large` and 415 `unsupported_content_type` for a route with a body, 405 with
//!   `Allow` for any route, 503 `database_unavailable` for the routes that read a database.

use serde_json::{json, Map, Value};

/// What the document depends on in the server's settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct SpecOptions {
    /// The curation reads need the key too (`--key-for-reads`).
    pub key_for_reads: bool,
}

/// The completed document, as JSON text, from poem-openapi's (`OpenApiService::spec`).
pub fn complete_spec(spec: &str, options: SpecOptions) -> String {
    let Ok(mut doc) = serde_json::from_str::<Value>(spec) else {
        return spec.to_string();
    };
    complete(&mut doc, options);
    serde_json::to_string_pretty(&doc).unwrap_or_else(|_| spec.to_string())
}

/// Swagger UI's page for the completed document: poem-openapi's page with its document
/// replaced.
pub fn swagger_ui_html(original_spec: &str, page: &str, options: SpecOptions) -> String {
    page.replace(original_spec, &complete_spec(original_spec, options))
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json; charset=utf-8": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } }
    })
}

/// The stream's stage events, in the order they come; then `answer` or `error`.
const STAGE_EVENTS: [&str; 6] = [
    "analysis",
    "retrieval",
    "sql",
    "rows",
    "chart",
    "summary_token",
];

/// One event of the stream with its `data` (a JSON text) of `content_schema`.
fn stream_event(events: &[&str], content_schema: Value) -> Value {
    json!({
        "type": "object",
        "required": ["event", "data"],
        "properties": {
            "event": { "type": "string", "enum": events },
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": content_schema
            }
        }
    })
}

/// `StreamEvent`: one server-sent event of `POST /api/query/stream`.
fn stream_event_schema() -> Value {
    json!({
        "title": "StreamEvent",
        "description": "One server-sent event: `event: NAME` and `data: JSON`. A stage's event carries what the stage found (and its own `event` name); `answer` carries the body of `POST /api/query`; `error` the error body.",
        "oneOf": [
            stream_event(&STAGE_EVENTS, json!({ "type": "object", "required": ["event"] })),
            stream_event(&["answer"], json!({ "$ref": "#/components/schemas/QueryResponseBody" })),
            stream_event(&["error"], json!({ "$ref": "#/components/schemas/ErrorBody" })),
        ]
    })
}

/// The stream's content: `itemSchema` (OpenAPI 3.2's name for the schema of each event of a
/// sequential media type) is one event; `schema`, the whole stream, is the array of them.
fn stream_content() -> Value {
    let event = json!({ "$ref": "#/components/schemas/StreamEvent" });
    json!({
        "text/event-stream": {
            "schema": { "type": "array", "items": event },
            "itemSchema": event
        }
    })
}

/// The body of a curation write (`create`: `POST /api/knowledge/{kind}`; else an update).
fn item_body(create: bool) -> Value {
    let mut schema = json!({
        "type": "object",
        "description": "The item's own fields (a table doc, an example or a rule, as `kind` says: see the items `GET` returns), flat.",
        "properties": {
            "database": { "type": "string", "description": "The item's database; needed when several are served (else 422 `database_required`)." }
        }
    });
    if !create {
        schema["properties"] = json!({
            "version": {
                "type": "string",
                "minLength": 1,
                "description": "The version being edited, as read. An `If-Match: VERSION` header may stand for it."
            }
        });
        schema["required"] = json!(["version"]);
    }
    json!({ "content": { "application/json; charset=utf-8": { "schema": schema } }, "required": true })
}

/// The range of an integer of a sized format, as the framework's parser enforces it.
fn integer_range(format: &str) -> Option<(Value, Value)> {
    Some(match format {
        "int8" => (json!(i8::MIN), json!(i8::MAX)),
        "int16" => (json!(i16::MIN), json!(i16::MAX)),
        "int32" => (json!(i32::MIN), json!(i32::MAX)),
        "int64" => (json!(i64::MIN), json!(i64::MAX)),
        "uint8" => (json!(0), json!(u8::MAX)),
        "uint16" => (json!(0), json!(u16::MAX)),
        "uint32" => (json!(0), json!(u32::MAX)),
        "uint64" => (json!(0), json!(u64::MAX)),
        _ => return None,
    })
}

/// Gives every sized integer (`format: uint32`, ...) its `minimum` and `maximum`: the format
/// alone does not bound the value in JSON Schema, but the parser refuses `-1` for a `u64`.
fn bound_integers(value: &mut Value) {
    match value {
        Value::Object(object) => {
            let range = (object.get("type") == Some(&json!("integer")))
                .then(|| object.get("format").and_then(Value::as_str))
                .flatten()
                .and_then(integer_range);
            if let Some((minimum, maximum)) = range {
                object.entry("minimum").or_insert(minimum);
                object.entry("maximum").or_insert(maximum);
            }
            object.values_mut().for_each(bound_integers);
        }
        Value::Array(items) => items.iter_mut().for_each(bound_integers),
        _ => {}
    }
}

fn complete(doc: &mut Value, options: SpecOptions) {
    bound_integers(doc);
    let components = doc
        .as_object_mut()
        .map(|d| d.entry("components").or_insert_with(|| json!({})));
    if let Some(Value::Object(components)) = components {
        if let Some(Value::Object(schemas)) = components.get_mut("schemas") {
            schemas.insert("StreamEvent".into(), stream_event_schema());
        }
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
        let curation = path.starts_with("/api/knowledge");
        for (method, operation) in operations.iter_mut() {
            let Some(operation) = operation.as_object_mut() else {
                continue;
            };
            // As `knowledge::Access`: writes need the key, reads only with --key-for-reads.
            let write = method != "get";
            let secured = curation && (write || options.key_for_reads);
            if secured {
                operation.insert("security".into(), json!([{ "curator_key": [] }]));
            }
            if curation && path == "/api/knowledge/{kind}" && method == "post" {
                operation.insert("requestBody".into(), item_body(true));
            }
            if curation && path == "/api/knowledge/{kind}/{id}" {
                match method.as_str() {
                    "put" => {
                        operation.insert("requestBody".into(), item_body(false));
                    }
                    "delete" => require_version(operation),
                    _ => {}
                }
            }
            let has_body = operation.contains_key("requestBody");
            let responses = operation
                .entry("responses")
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .expect("responses is an object");
            if path == "/api/query/stream" {
                if let Some(ok) = responses.get_mut("200") {
                    ok["content"] = stream_content();
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
            if secured {
                add(responses, "401", || {
                    error_response("The route needs the curation key (`unauthorized`).")
                });
            }
            if curation && write {
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

/// `DELETE /api/knowledge/{kind}/{id}`: the `version` parameter is required (an `If-Match`
/// header may stand for it; the handler says so when both are missing).
fn require_version(operation: &mut Map<String, Value>) {
    let Some(parameters) = operation
        .get_mut("parameters")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for parameter in parameters {
        if parameter["name"] == "version" && parameter["in"] == "query" {
            parameter["required"] = json!(true);
            parameter["schema"]["minLength"] = json!(1);
            parameter["description"] = json!("The version being deleted, as read. An `If-Match: VERSION` header may stand for it.");
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
    fn the_stream_is_text_the_curation_writes_are_secured_and_errors_are_documented() {
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
        let doc: Value =
            serde_json::from_str(&complete_spec(&spec, SpecOptions::default())).unwrap();
        assert_eq!(
            doc["components"]["securitySchemes"]["curator_key"]["scheme"],
            "bearer"
        );
        let stream = &doc["paths"]["/api/query/stream"]["post"]["responses"];
        let events = &stream["200"]["content"]["text/event-stream"];
        assert_eq!(events["schema"]["items"], events["itemSchema"]);
        assert_eq!(
            events["itemSchema"]["$ref"],
            "#/components/schemas/StreamEvent"
        );
        let event = &doc["components"]["schemas"]["StreamEvent"];
        assert_eq!(
            event["oneOf"][1]["properties"]["event"]["enum"],
            json!(["answer"])
        );
        assert!(stream["415"].is_object() && stream["413"].is_object());
        let rules = &doc["paths"]["/api/knowledge/rules"];
        assert_eq!(rules["post"]["security"][0]["curator_key"], json!([]));
        assert!(rules["post"]["responses"]["401"].is_object());
        assert!(rules["post"]["responses"]["403"].is_object());
        // reads are open by default: no security, no 401
        assert!(rules["get"]["security"].is_null());
        assert!(rules["get"]["responses"]["401"].is_null());
        assert!(rules["get"]["responses"]["415"].is_null());
        let health = &doc["paths"]["/api/health"]["get"];
        assert!(health["security"].is_null());
        assert!(health["responses"]["405"]["headers"]["Allow"].is_object());
    }

    #[test]
    fn sized_integers_get_the_range_their_parser_takes() {
        let spec = json!({
            "openapi": "3.0.0",
            "paths": { "/api/knowledge/changes/{seq}/revert": { "post": {
                "parameters": [{ "name": "seq", "in": "path", "schema": { "type": "integer", "format": "uint64" } }],
                "responses": {}
            } } },
        })
        .to_string();
        let doc: Value =
            serde_json::from_str(&complete_spec(&spec, SpecOptions::default())).unwrap();
        let seq = &doc["paths"]["/api/knowledge/changes/{seq}/revert"]["post"]["parameters"][0];
        assert_eq!(seq["schema"]["minimum"], json!(0));
        assert_eq!(seq["schema"]["maximum"], json!(u64::MAX));
    }

    #[test]
    fn with_a_key_for_reads_the_curation_reads_are_secured_too() {
        let spec = json!({
            "openapi": "3.0.0",
            "paths": { "/api/knowledge/rules": { "get": { "responses": {} } } },
        })
        .to_string();
        let options = SpecOptions {
            key_for_reads: true,
        };
        let doc: Value = serde_json::from_str(&complete_spec(&spec, options)).unwrap();
        let get = &doc["paths"]["/api/knowledge/rules"]["get"];
        assert_eq!(get["security"][0]["curator_key"], json!([]));
        assert!(get["responses"]["401"].is_object());
        assert!(get["responses"]["403"].is_null());
    }
}
