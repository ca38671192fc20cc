//! The OpenAPI document: metadata, the OAuth2 security scheme and shared schemas.

use utoipa::Modify;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayItems, ObjectBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::security::{ClientCredentials, Flow, OAuth2, Scopes, SecurityScheme};
use utoipa::openapi::server::ServerBuilder;
use utoipa::openapi::{ContactBuilder, InfoBuilder, LicenseBuilder, OpenApi, Ref, RefOr, Required};

use crate::auth::scopes::SCOPES;

const DESCRIPTION: &str = "Koppel is one REST API that webshop platforms and POS (kassa) vendors \
integrate with once. Vendors push their merchants' customers, products, sales orders, receipts, \
VAT rates, payment methods and categories; Koppel checks every document against Dutch \
bookkeeping rules and stores it; bookkeeping connectors read it back.\n\n\
Authenticate with OAuth 2.0 client credentials at `/oauth/token`, then send \
`Authorization: Bearer <token>`. Every error is an RFC 9457 problem body \
(`application/problem+json`) with a stable `code` and the `request_id`; send \
`Accept-Language: nl` for Dutch texts.";

/// Fills in what the derive cannot: info, licence, servers, the security scheme.
pub struct Document;

impl Modify for Document {
    fn modify(&self, openapi: &mut OpenApi) {
        openapi.info = InfoBuilder::new()
            .title("Koppel API")
            .version(env!("CARGO_PKG_VERSION"))
            .description(Some(DESCRIPTION))
            .contact(Some(
                ContactBuilder::new()
                    .name(Some("Koppel maintainers (see docs/contract.md)"))
                    .build(),
            ))
            .license(Some(
                LicenseBuilder::new()
                    .name("MIT OR Apache-2.0")
                    .identifier(Some("MIT OR Apache-2.0"))
                    .build(),
            ))
            .build();
        // A relative URL: requests go to the host that served the document,
        // wherever Koppel is deployed (OpenAPI 3.1 §4.8.5).
        openapi.servers = Some(vec![
            ServerBuilder::new()
                .url("/")
                .description(Some("The Koppel that serves this document"))
                .build(),
        ]);
        let scopes = Scopes::from_iter(SCOPES.iter().map(|(name, what)| (*name, *what)));
        let flow = Flow::ClientCredentials(ClientCredentials::new("/oauth/token", scopes));
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "oauth2",
                SecurityScheme::OAuth2(OAuth2::with_description(
                    [flow],
                    "OAuth 2.0 client credentials (RFC 6749 §4.4)",
                )),
            );
    }
}

/// Documents the `Idempotency-Key` header on every POST of the API (not the
/// token endpoint, which ignores it). The header is handled by middleware for
/// all of them at once, so it is added here rather than on each handler, and
/// a new POST route gets it without anyone remembering.
pub fn document_idempotency_key(openapi: &mut OpenApi) {
    for (path, item) in openapi.paths.paths.iter_mut() {
        let Some(operation) = item.post.as_mut().filter(|_| !path.starts_with("/oauth")) else {
            continue;
        };
        let parameter = ParameterBuilder::new()
            .name("Idempotency-Key")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "Makes a retry safe: the same key with the same body within 7 days replays the \
                 first answer (with `Idempotent-Replayed: true`); with another body it is a 400. \
                 1 to 255 printable ASCII characters, unique per client; see docs/limits.md.",
            ))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(255))
                    .pattern(Some("^[ -~]+$")),
            ))
            .build();
        operation
            .parameters
            .get_or_insert_with(Vec::new)
            .push(parameter.into());
    }
}

/// The headers every response of `operation` carries, documented on each of its responses:
/// `X-Request-Id` always; the rate-limit fields when the operation takes a bearer token
/// (the middleware in [`crate::middleware::ratelimit`] sets them on every response to a valid one);
/// `Retry-After` on the responses a 409, 429 or 503 can be among; `Content-Language` and
/// `Vary` on the answers whose words follow `Accept-Language` (problems, and journals, whose
/// descriptions are Dutch for `nl`). Like the `Idempotency-Key`,
/// these come from middleware for all routes at once, so they are added here for all of them,
/// each described once under `components/headers` and referred to from every response.
///
/// Every operation that reads or writes the database also gets its 503, which a
/// handler never declares: any of them answers it while the database is out of reach.
pub fn document_response_headers(openapi: &mut OpenApi) {
    openapi
        .components
        .get_or_insert_with(Default::default)
        .headers
        .extend(
            shared_headers()
                .into_iter()
                .map(|(name, header)| (name.to_owned(), header.into())),
        );
    for (path, item) in openapi.paths.paths.iter_mut() {
        let uses_database = path.as_str() != crate::middleware::ratelimit::RATE_LIMIT_PATH;
        for operation in [
            item.get.as_mut(),
            item.put.as_mut(),
            item.post.as_mut(),
            item.delete.as_mut(),
            item.patch.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            document_unavailable(operation, uses_database);
            document_operation_headers(operation, path.ends_with("/journal"));
        }
    }
}

/// The rate-limit fields of SPEC "Limits", in the order they are documented.
const RATE_LIMIT_HEADERS: [&str; 5] = [
    "RateLimit-Policy",
    "RateLimit",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
];

fn shared_headers() -> Vec<(&'static str, Header)> {
    vec![
        (
            "X-Request-Id",
            text_header(
                "This request's id, also in every log line of it and in a problem body: the \
                 one sent when it was 1 to 128 of `A-Z a-z 0-9 - _ . :`, else a new one.",
                "2f1c9b7e8d6a4c3b9e0f1a2b3c4d5e6f",
            ),
        ),
        (
            "RateLimit-Policy",
            text_header(
                "The client's bucket (draft-ietf-httpapi-ratelimit-headers): `q` requests at \
                 most in a burst, refilled over `w` seconds; `koppel-per-second` is the refill \
                 rate. Each server instance keeps its own buckets: behind a load balancer with \
                 several, a client may be allowed more, never less. See docs/limits.md.",
                "\"default\";q=1000;w=10;koppel-per-second=100",
            ),
        ),
        (
            "RateLimit",
            text_header(
                "What is left: `r` requests may be sent now; `t` seconds until the bucket is \
                 full again (or, when it is empty, until the next request may be sent).",
                "\"default\";r=998;t=1",
            ),
        ),
        (
            "X-RateLimit-Limit",
            integer_header("The burst: requests the full bucket holds.", 1000),
        ),
        (
            "X-RateLimit-Remaining",
            integer_header("Requests that may be sent now.", 998),
        ),
        (
            "X-RateLimit-Reset",
            integer_header("Seconds until the bucket is full again.", 1),
        ),
        (
            "Content-Language",
            text_header(
                "The language of the answer's words: `nl` when the request asked for Dutch \
                 with `Accept-Language` (a problem's title, detail and messages; a journal's \
                 descriptions), else `en`.",
                "nl",
            ),
        ),
        (
            "Vary",
            text_header(
                "`accept-language`: the answer's words follow the request's `Accept-Language`, \
                 so a shared cache keeps the languages apart.",
                "accept-language",
            ),
        ),
        (
            "Retry-After",
            integer_header(
                "On a 409 (the same `Idempotency-Key` is still running), a 429 (rate limit \
                 spent) or a 503 (database unavailable, or a collision with a concurrent \
                 request): whole seconds to wait before sending the request again.",
                1,
            ),
        ),
    ]
}

/// Whether the operation takes a bearer token: a security requirement other than `{}`.
fn takes_token(operation: &Operation) -> bool {
    operation.security.as_ref().is_some_and(|requirements| {
        requirements.iter().any(|r| {
            serde_json::to_value(r).is_ok_and(|v| v.as_object().is_some_and(|o| !o.is_empty()))
        })
    })
}

fn document_unavailable(operation: &mut Operation, uses_database: bool) {
    if !uses_database
        || !takes_token(operation)
        || operation.responses.responses.contains_key("503")
    {
        return;
    }
    let response = ResponseBuilder::new()
        .description(
            "The database is out of reach, or the request collided with a concurrent one and \
             was rolled back: nothing was stored; send it again after `Retry-After` seconds",
        )
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build();
    operation
        .responses
        .responses
        .insert("503".to_owned(), response.into());
}

/// The headers of an answer whose words follow `Accept-Language`.
const LANGUAGE_HEADERS: [&str; 2] = ["Content-Language", "Vary"];

fn document_operation_headers(operation: &mut Operation, journal: bool) {
    let limited = takes_token(operation);
    for (status, response) in operation.responses.responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        let retry = matches!(status.as_str(), "4XX" | "409" | "429" | "5XX" | "503");
        let in_words = response.content.contains_key("application/problem+json")
            || (journal && status.starts_with('2'));
        let names = std::iter::once("X-Request-Id")
            .chain(RATE_LIMIT_HEADERS.into_iter().filter(|_| limited))
            .chain(std::iter::once("Retry-After").filter(|_| retry))
            .chain(LANGUAGE_HEADERS.into_iter().filter(|_| in_words));
        for name in names {
            response
                .headers
                .entry(name.to_owned())
                .or_insert_with(|| RefOr::Ref(Ref::new(format!("#/components/headers/{name}"))));
        }
    }
}

fn text_header(description: &str, example: &str) -> Header {
    HeaderBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .description(Some(description))
        .example(Some(example.into()))
        .build()
}

fn integer_header(description: &str, example: u64) -> Header {
    HeaderBuilder::new()
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0)),
        ))
        .description(Some(description))
        .example(Some(example.into()))
        .build()
}

/// Writes "no token needed" as OpenAPI says it: `security: []`. utoipa's
/// `security(())` gives `[{}]` (an empty requirement), which means the same to
/// a validator, but code generators read it as "authenticated" and demand a
/// token for the token endpoint itself.
pub fn anonymous_security_as_empty(openapi: &mut OpenApi) {
    for item in openapi.paths.paths.values_mut() {
        for operation in [
            item.get.as_mut(),
            item.put.as_mut(),
            item.post.as_mut(),
            item.delete.as_mut(),
            item.patch.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            if operation.security.is_some() && !takes_token(operation) {
                operation.security = Some(Vec::new());
            }
        }
    }
}

/// Gives every property its description where a reader sees it. utoipa puts
/// the doc comment of an optional reference (`Option<Address>`) on the
/// `$ref` inside `oneOf: [$ref, null]`, where Spectral, Redocly and code
/// generators do not look; this lifts it onto the property itself.
pub fn lift_reference_descriptions(openapi: &mut OpenApi) {
    let Some(components) = openapi.components.as_mut() else {
        return;
    };
    for schema in components.schemas.values_mut() {
        let RefOr::T(Schema::Object(object)) = schema else {
            continue;
        };
        for property in object.properties.values_mut() {
            let RefOr::T(Schema::OneOf(one_of)) = property else {
                continue;
            };
            if one_of.description.is_some() {
                continue;
            }
            let described = one_of.items.iter_mut().find_map(|item| match item {
                RefOr::Ref(reference) if !reference.description.is_empty() => {
                    Some(std::mem::take(&mut reference.description))
                }
                _ => None,
            });
            one_of.description = described;
        }
    }
}

/// Marks every schema a JSON request body can hold, directly or nested, with
/// `additionalProperties: false`: the server refuses unknown fields in all of
/// them (`tests/api/errors.rs`), and a generated client should know. The form
/// of `/oauth/token` is left open, as RFC 6749 §3.2 wants unknown parameters
/// ignored.
pub fn close_request_schemas(openapi: &mut OpenApi) {
    let mut pending: Vec<String> = Vec::new();
    for item in openapi.paths.paths.values() {
        for operation in [&item.post, &item.put, &item.patch].into_iter().flatten() {
            let Some(RefOr::T(body)) = &operation.request_body else {
                continue;
            };
            if let Some(RefOr::T(content)) = body.content.get("application/json")
                && let Some(schema) = &content.schema
            {
                collect_references(schema, &mut pending);
            }
        }
    }
    let Some(components) = openapi.components.as_mut() else {
        return;
    };
    let mut closed = std::collections::BTreeSet::new();
    while let Some(name) = pending.pop() {
        if !closed.insert(name.clone()) {
            continue;
        }
        let Some(RefOr::T(schema)) = components.schemas.get_mut(&name) else {
            continue;
        };
        collect_schema_references(schema, &mut pending);
        if let Schema::Object(object) = schema
            && !object.properties.is_empty()
        {
            object.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
            for (name, property) in object.properties.iter_mut() {
                bound_text(name, property);
            }
        }
    }
}

/// States the bound of a request text as the body parser enforces it ([`crate::bounds`]):
/// a decimal's pattern, or the field's `maxLength`; a string already bounded by a format,
/// pattern or enum is left as it is. A string array's items count under its name.
fn bound_text(name: &str, property: &mut RefOr<Schema>) {
    let RefOr::T(schema) = property else {
        return;
    };
    let text = match schema {
        Schema::Object(object) => object,
        Schema::Array(array) => match &mut array.items {
            ArrayItems::RefOrSchema(items) => match items.as_mut() {
                RefOr::T(Schema::Object(object)) => object,
                _ => return,
            },
            _ => return,
        },
        Schema::OneOf(one_of) => {
            for item in one_of.items.iter_mut() {
                bound_text(name, item);
            }
            return;
        }
        _ => return,
    };
    let is_string = match &text.schema_type {
        SchemaType::Type(Type::String) => true,
        SchemaType::Array(types) => types.contains(&Type::String),
        _ => false,
    };
    if !is_string
        || text.max_length.is_some()
        || text.pattern.is_some()
        || text.format.is_some()
        || text.enum_values.is_some()
    {
        return;
    }
    if crate::bounds::is_decimal(name) {
        text.pattern = Some(crate::bounds::DECIMAL_PATTERN.to_owned());
    } else {
        text.max_length = Some(crate::bounds::max_chars(name));
    }
}

fn collect_references(schema: &RefOr<Schema>, names: &mut Vec<String>) {
    match schema {
        RefOr::Ref(reference) => {
            if let Some(name) = reference.ref_location.strip_prefix("#/components/schemas/") {
                names.push(name.to_owned());
            }
        }
        RefOr::T(schema) => collect_schema_references(schema, names),
    }
}

fn collect_schema_references(schema: &Schema, names: &mut Vec<String>) {
    match schema {
        Schema::Object(object) => {
            for property in object.properties.values() {
                collect_references(property, names);
            }
        }
        Schema::Array(array) => {
            if let ArrayItems::RefOrSchema(items) = &array.items {
                collect_references(items, names);
            }
        }
        Schema::OneOf(one_of) => one_of
            .items
            .iter()
            .for_each(|s| collect_references(s, names)),
        Schema::AllOf(all_of) => all_of
            .items
            .iter()
            .for_each(|s| collect_references(s, names)),
        Schema::AnyOf(any_of) => any_of
            .items
            .iter()
            .for_each(|s| collect_references(s, names)),
        _ => {}
    }
}
