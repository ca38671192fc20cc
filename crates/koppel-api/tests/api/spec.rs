//! The committed OpenAPI document is the one the server serves, and it
//! documents every field (seed W3).

use axum::http::{Method, StatusCode};
use serde_json::Value;
use sqlx::PgPool;

use crate::harness::TestApp;

/// Regenerates `openapi/openapi.json`; when it was stale, rewrites it and
/// fails, so that running the tests and committing fixes it.
#[test]
fn the_committed_openapi_document_is_up_to_date() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi/openapi.json");
    let fresh = koppel_api::openapi().to_pretty_json().unwrap() + "\n";
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != fresh {
        std::fs::write(&path, &fresh).unwrap();
        panic!("openapi/openapi.json was stale and has been rewritten; commit it");
    }
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn the_served_spec_is_the_generated_one_and_swagger_ui_is_served(pool: PgPool) {
    let app = TestApp::new(pool);
    let served = app.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(served.status, StatusCode::OK);
    let generated = serde_json::to_value(koppel_api::openapi()).unwrap();
    assert_eq!(served.json(), generated);
    let docs = app.call(Method::GET, "/docs/", None, None).await;
    assert_eq!(docs.status, StatusCode::OK);
    assert!(
        docs.text.contains("swagger-ui"),
        "{}",
        &docs.text[..docs.text.len().min(300)]
    );
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn the_docs_pages_carry_a_content_security_policy_they_can_live_with(pool: PgPool) {
    let app = TestApp::new(pool);
    let docs = app.call(Method::GET, "/docs/", None, None).await;
    assert_eq!(docs.status, StatusCode::OK);
    let csp = docs
        .header("content-security-policy")
        .expect("a CSP on /docs");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(docs.header("x-frame-options"), Some("DENY"));
    assert_eq!(docs.header("x-content-type-options"), Some("nosniff"));
    // script-src 'self' holds only while the page has no inline script.
    let html = docs.text.to_ascii_lowercase();
    let scripts: Vec<&str> = html.split("<script").skip(1).collect();
    assert!(!scripts.is_empty());
    for script in scripts {
        let tag = &script[..script.find('>').unwrap()];
        assert!(
            tag.contains("src="),
            "an inline script in /docs/: <script{tag}>"
        );
    }
    let initializer = app
        .call(Method::GET, "/docs/swagger-initializer.js", None, None)
        .await;
    assert_eq!(initializer.status, StatusCode::OK);
    assert!(initializer.header("content-security-policy").is_some());
    // The API's answers carry nosniff too.
    let spec = app.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(spec.header("x-content-type-options"), Some("nosniff"));
}

fn walk_schema(name: &str, schema: &Value, missing: &mut Vec<String>) {
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (property, definition) in properties {
            // On the property itself, where linters and code generators look: not
            // on a `$ref` inside its `oneOf` (`openapi::lift_reference_descriptions`).
            if definition.get("description").is_none() {
                missing.push(format!("{name}.{property}"));
            }
            walk_schema(&format!("{name}.{property}"), definition, missing);
        }
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(items) = schema.get(key).and_then(Value::as_array) {
            for item in items {
                walk_schema(name, item, missing);
            }
        }
    }
    if let Some(items) = schema.get("items") {
        walk_schema(name, items, missing);
    }
}

#[test]
fn every_schema_property_has_a_description_and_every_operation_a_summary_and_a_description() {
    let spec = serde_json::to_value(koppel_api::openapi()).unwrap();
    let mut missing = Vec::new();
    for (name, schema) in spec["components"]["schemas"].as_object().unwrap() {
        walk_schema(name, schema, &mut missing);
    }
    assert!(
        missing.is_empty(),
        "properties without a description: {missing:#?}"
    );
    for (path, operations) in spec["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            assert!(
                operation.get("summary").is_some(),
                "{method} {path} has no summary"
            );
            assert!(
                operation.get("description").is_some(),
                "{method} {path} has no description (a second paragraph of its doc comment)"
            );
            if method == "post" && !path.starts_with("/oauth") {
                // A POST that takes JSON must say so, or Swagger shows no form for it.
                let takes_no_body = path.ends_with("/rotate-secret")
                    || path.ends_with("/close")
                    || path.ends_with("/retry");
                assert!(
                    takes_no_body || operation.get("requestBody").is_some(),
                    "{method} {path} documents no body"
                );
            }
            for (status, response) in operation["responses"].as_object().unwrap() {
                assert!(
                    response.get("description").is_some(),
                    "{method} {path} {status} has no description"
                );
            }
        }
    }
}

#[test]
fn operation_ids_are_unique_and_the_document_names_its_servers_contact_and_release() {
    let spec = serde_json::to_value(koppel_api::openapi()).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for (path, operations) in spec["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap();
            assert!(
                seen.insert(id.to_owned()),
                "{method} {path}: {id} is not unique"
            );
        }
    }
    assert_eq!(spec["servers"][0]["url"], "/");
    assert!(spec["info"]["contact"]["name"].is_string());
    assert_eq!(spec["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_ne!(spec["info"]["version"], "0.0.0");
}

/// Every schema a JSON request body reaches, through `$ref`s, arrays and `oneOf`s.
fn request_schemas(spec: &Value) -> std::collections::BTreeSet<String> {
    fn collect(schema: &Value, into: &mut Vec<String>) {
        if let Some(name) = schema["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
        {
            into.push(name.to_owned());
        }
        for key in ["oneOf", "allOf", "anyOf"] {
            for item in schema[key].as_array().into_iter().flatten() {
                collect(item, into);
            }
        }
        collect_children(schema, into);
    }
    fn collect_children(schema: &Value, into: &mut Vec<String>) {
        for property in schema["properties"].as_object().into_iter().flatten() {
            collect(property.1, into);
        }
        if schema.get("items").is_some() {
            collect(&schema["items"], into);
        }
    }
    let mut pending = Vec::new();
    for operations in spec["paths"].as_object().unwrap().values() {
        for operation in operations.as_object().unwrap().values() {
            collect(
                &operation["requestBody"]["content"]["application/json"]["schema"],
                &mut pending,
            );
        }
    }
    let mut names = std::collections::BTreeSet::new();
    while let Some(name) = pending.pop() {
        if names.insert(name.clone()) {
            collect(&spec["components"]["schemas"][&name], &mut pending);
        }
    }
    names
}

#[test]
fn every_request_schema_is_closed_as_the_server_refuses_unknown_fields() {
    let spec = serde_json::to_value(koppel_api::openapi()).unwrap();
    let names = request_schemas(&spec);
    assert!(names.contains("OrderInput") && names.contains("ReceiptLineInput"));
    for name in names {
        let schema = &spec["components"]["schemas"][&name];
        if schema.get("properties").is_some() {
            assert_eq!(
                schema["additionalProperties"],
                Value::Bool(false),
                "{name} is not closed"
            );
        }
        // SPEC "Bounds": every request string has a maxLength, pattern, format or enum.
        for (property, definition) in schema["properties"].as_object().into_iter().flatten() {
            let candidates = std::iter::once(definition)
                .chain(definition["oneOf"].as_array().into_iter().flatten())
                .chain(std::iter::once(&definition["items"]));
            for candidate in candidates {
                let is_string = candidate["type"] == "string"
                    || candidate["type"]
                        .as_array()
                        .is_some_and(|t| t.contains(&Value::from("string")));
                if is_string {
                    assert!(
                        ["maxLength", "pattern", "format", "enum"]
                            .iter()
                            .any(|k| candidate.get(k).is_some()),
                        "{name}.{property} is an unbounded string"
                    );
                }
            }
        }
    }
    // The token form stays open: RFC 6749 §3.2 wants unknown parameters ignored.
    assert_ne!(
        spec["components"]["schemas"]["TokenRequest"]["additionalProperties"],
        Value::Bool(false)
    );
}

#[test]
fn the_oauth2_scheme_is_client_credentials_at_the_token_endpoint() {
    let spec = serde_json::to_value(koppel_api::openapi()).unwrap();
    let flow = &spec["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"];
    assert_eq!(flow["tokenUrl"], "/oauth/token");
    assert!(flow["scopes"].get("orders:write").is_some());
}

#[test]
fn every_post_but_the_token_endpoint_documents_the_idempotency_key() {
    let spec = serde_json::to_value(koppel_api::openapi()).unwrap();
    let mut posts = 0;
    for (path, operations) in spec["paths"].as_object().unwrap() {
        let Some(post) = operations.get("post") else {
            continue;
        };
        let documented = post["parameters"].as_array().is_some_and(|ps| {
            ps.iter()
                .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header")
        });
        assert_eq!(documented, !path.starts_with("/oauth"), "POST {path}");
        posts += 1;
    }
    assert!(posts > 10);
}

#[test]
fn every_operation_documents_its_request_id_rate_limit_language_and_unavailable_answers() {
    let spec = serde_json::to_value(koppel_api::openapi()).unwrap();
    let mut operations = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let takes_token = operation["security"]
                .as_array()
                .is_some_and(|r| r.iter().any(|s| s != &serde_json::json!({})));
            let responses = operation["responses"].as_object().unwrap();
            for (status, response) in responses {
                let headers = &response["headers"];
                assert!(
                    headers.get("X-Request-Id").is_some(),
                    "{method} {path} {status}"
                );
                for name in [
                    "RateLimit-Policy",
                    "RateLimit",
                    "X-RateLimit-Limit",
                    "X-RateLimit-Remaining",
                    "X-RateLimit-Reset",
                ] {
                    assert_eq!(
                        headers.get(name).is_some(),
                        takes_token,
                        "{name} on {method} {path} {status}"
                    );
                }
                // Problems and journals say their language and that it follows the
                // request's Accept-Language.
                let in_words = response["content"]
                    .get("application/problem+json")
                    .is_some()
                    || (path.ends_with("/journal") && status.starts_with('2'));
                for name in ["Content-Language", "Vary"] {
                    assert_eq!(
                        headers.get(name).is_some(),
                        in_words,
                        "{name} on {method} {path} {status}"
                    );
                }
            }
            if takes_token && path != "/v1/rate-limit" {
                assert!(responses.contains_key("503"), "{method} {path} has no 503");
                assert!(responses["503"]["headers"].get("Retry-After").is_some());
            }
            operations += 1;
        }
    }
    assert!(operations > 40);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn the_headers_documented_on_an_answer_are_on_the_answer(pool: PgPool) {
    // Every company-scoped list a connector can call, answered 200 (or a 4XX
    // where a parameter is required): each header its documented response
    // names is there, but for Retry-After, which only a 409, 429 or 503 has.
    let app = TestApp::new(pool);
    let company = app.company("Kopregels B.V.").await;
    let connector = app
        .client(koppel_api::auth::scopes::ClientKind::Connector, &[company])
        .await;
    let token = app.token(&connector).await;
    let spec = serde_json::to_value(koppel_api::openapi()).unwrap();
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        let Some(get) = item.get("get") else {
            continue;
        };
        let Some(rest) = path.strip_prefix("/v1/companies/{company_id}") else {
            continue;
        };
        if rest.contains('{') {
            continue;
        }
        let uri = format!("/v1/companies/{company}{rest}");
        let response = app.get(&uri, &token).await;
        let status = response.status.as_u16().to_string();
        let documented = get["responses"]
            .get(&status)
            .or_else(|| get["responses"].get(format!("{}XX", &status[..1]).as_str()))
            .unwrap_or_else(|| panic!("GET {path} answered an undocumented {status}"));
        for name in documented["headers"].as_object().unwrap().keys() {
            if name == "Retry-After" {
                continue;
            }
            assert!(
                response.header(name).is_some(),
                "GET {path} answered {status} without {name}"
            );
        }
        checked += 1;
    }
    assert!(checked > 8, "only {checked} lists checked");
}
