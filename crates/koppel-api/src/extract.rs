//! Extractors that answer every rejection with our problem body.
//!
//! axum's own rejections are `text/plain`; these wrap them so that a client
//! always gets `application/problem+json` with a pointer to what was wrong.

use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{StatusCode, header};
use koppel_domain::problem::{Violation, codes};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::bounds;
use crate::error::ApiError;

/// A JSON body, parsed exactly once, with errors that point at the field.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

impl<S, T> FromRequest<S> for AppJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::UnsupportedMediaType {
                expected: "application/json",
            });
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else if crate::body::timed_out(&rejection) {
                ApiError::RequestTimeout
            } else {
                ApiError::MalformedJson(rejection.body_text())
            }
        })?;
        parse_json(&bytes).map(AppJson)
    }
}

/// An optional JSON body: `None` when the request has no body at all (no bytes, whatever
/// its content type), else parsed as [`AppJson`] parses it, content type included.
#[derive(Debug, Clone, Default)]
pub struct OptionalJson<T>(pub Option<T>);

impl<S, T> FromRequest<S> for OptionalJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = is_json(req.headers());
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else if crate::body::timed_out(&rejection) {
                ApiError::RequestTimeout
            } else {
                ApiError::MalformedJson(rejection.body_text())
            }
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(None));
        }
        if !json {
            return Err(ApiError::UnsupportedMediaType {
                expected: "application/json",
            });
        }
        parse_json(&bytes).map(|v| OptionalJson(Some(v)))
    }
}

/// Whether the request says its body is JSON (`application/json` or any
/// `application/*+json`), in UTF-8 if it names a charset at all.
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    // JSON is UTF-8 (RFC 8259 §8.1); a body declared in another charset would be read
    // as UTF-8 all the same and mangled, so it is refused.
    let other_charset = parts.any(|param| {
        param.split_once('=').is_some_and(|(name, charset)| {
            name.trim().eq_ignore_ascii_case("charset")
                && !charset
                    .trim()
                    .trim_matches('"')
                    .eq_ignore_ascii_case("utf-8")
                && !charset
                    .trim()
                    .trim_matches('"')
                    .eq_ignore_ascii_case("utf8")
        })
    });
    !other_charset
        && (essence == "application/json"
            || (essence.starts_with("application/") && essence.ends_with("+json")))
}

/// Parses a JSON document into `T`, turning serde's first complaint into a
/// violation with a JSON pointer.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Most documents parse: they take serde_json's own, faster path. Only a
    // refused one is parsed again, tracking where it is, for the pointer
    // (tracking every step of every document cost a tenth of a batch's CPU).
    let value = match serde_json::from_slice(bytes) {
        Ok(value) => value,
        Err(first) => return Err(refusal::<T>(bytes, &first)),
    };
    if may_have_long_text(bytes) {
        let long = long_texts(bytes);
        if !long.is_empty() {
            return Err(ApiError::InvalidRequest(long));
        }
    }
    if contains_escaped_nul(bytes) {
        // PostgreSQL text cannot hold U+0000; refusing it here turns what
        // would be a database error into a clear 400.
        return Err(ApiError::InvalidRequest(vec![Violation {
            pointer: String::new(),
            code: codes::INVALID_CHARACTER,
            message_en: "text must not contain the NUL character (\\u0000)".to_owned(),
            message_nl: "tekst mag het NUL-teken (\\u0000) niet bevatten".to_owned(),
        }]));
    }
    Ok(value)
}

/// Parses one item of a batch from its own text, so that its violations
/// point into the item and one broken item is refused alone.
pub fn parse_item<T: DeserializeOwned>(item: &RawValue) -> Result<T, Vec<Violation>> {
    parse_json(item.get().as_bytes()).map_err(|e| match e {
        ApiError::InvalidRequest(v) => v,
        other => vec![Violation::new(
            "",
            codes::INVALID_VALUE,
            other.to_string(),
            other.to_string(),
        )],
    })
}

/// Why a document that serde_json refused is refused, with the pointer of
/// the value it failed at.
fn refusal<T: DeserializeOwned>(bytes: &[u8], first: &serde_json::Error) -> ApiError {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
        Err(error) => {
            let pointer = pointer_of(error.path());
            let inner = error.into_inner();
            match inner.classify() {
                serde_json::error::Category::Data => data_violation(pointer, &inner),
                _ => ApiError::MalformedJson(inner.to_string()),
            }
        }
        // What follows the document (serde_json checks it last), or a
        // refusal the second parse did not repeat: the first one's words.
        Ok(_) => ApiError::MalformedJson(
            deserializer
                .end()
                .err()
                .map_or_else(|| first.to_string(), |e| e.to_string()),
        ),
    }
}

/// Whether a (valid) JSON document holds the escape `\u0000`. An unescaped
/// NUL cannot occur in valid JSON, and in valid JSON every backslash starts an
/// escape of its own, so jumping from one backslash to the next past the
/// character it escapes sees exactly the escapes, `\\u0000` (text) not among
/// them. One `memchr` pass: this runs over every body, batches of megabytes too.
/// Whether some string in valid JSON text may be longer than the shortest bound of any field
/// ([`bounds::SHORTEST_BOUND`]): its raw form (escapes included, so never shorter than the
/// text) is. A scan from quote to quote, as cheap as the NUL check; only a body that has such
/// a string is looked at closer.
fn may_have_long_text(bytes: &[u8]) -> bool {
    let mut at = 0;
    while let Some(open) = memchr::memchr(b'"', &bytes[at..]) {
        let start = at + open + 1;
        let mut scan = start;
        let end = loop {
            match memchr::memchr2(b'"', b'\\', &bytes[scan..]) {
                None => return false,
                Some(k) if bytes[scan + k] == b'\\' => scan += k + 2,
                Some(k) => break scan + k,
            }
            if scan >= bytes.len() {
                return false;
            }
        };
        if end - start > bounds::SHORTEST_BOUND {
            return true;
        }
        at = end + 1;
    }
    false
}

/// Every string in the JSON text longer than its field's bound ([`bounds::max_chars`]), as
/// violations at its pointer; at most [`crate::error::MAX_PROBLEM_ITEMS`].
fn long_texts(bytes: &[u8]) -> Vec<Violation> {
    fn walk(
        value: &serde_json::Value,
        field: &str,
        pointer: &mut String,
        out: &mut Vec<Violation>,
    ) {
        if out.len() >= crate::error::MAX_PROBLEM_ITEMS {
            return;
        }
        match value {
            serde_json::Value::String(text) => {
                let bound = bounds::max_chars(field);
                let chars = text.chars().count();
                if chars > bound {
                    out.push(Violation::new(
                        pointer.clone(),
                        codes::TEXT_TOO_LONG,
                        format!("at most {bound} characters, not {chars}"),
                        format!("hoogstens {bound} tekens, geen {chars}"),
                    ));
                }
            }
            serde_json::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = pointer.len();
                    pointer.push_str(&format!("/{i}"));
                    walk(item, field, pointer, out);
                    pointer.truncate(len);
                }
            }
            serde_json::Value::Object(fields) => {
                for (key, item) in fields {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&escape_pointer(key));
                    walk(item, key, pointer, out);
                    pointer.truncate(len);
                }
            }
            _ => {}
        }
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    walk(&value, "", &mut String::new(), &mut out);
    out
}

fn contains_escaped_nul(bytes: &[u8]) -> bool {
    let mut rest = bytes;
    while let Some(at) = memchr::memchr(b'\\', rest) {
        let escape = &rest[at + 1..];
        if escape.len() >= 5 && escape[0] == b'u' && &escape[1..5] == b"0000" {
            return true;
        }
        rest = escape.get(1..).unwrap_or_default();
    }
    false
}

fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Map { key } => {
                pointer.push('/');
                pointer.push_str(&escape_pointer(key));
            }
            Segment::Enum { .. } | Segment::Unknown => {}
        }
    }
    pointer
}

fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The name between the first pair of backticks in a serde message.
fn quoted_name(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(&message[start..end])
}

fn data_violation(mut pointer: String, error: &serde_json::Error) -> ApiError {
    // serde_json appends " at line L column C"; the pointer says where.
    let message = error.to_string();
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .to_owned();
    let (code, nl) = if message.starts_with("missing field") {
        if let Some(name) = quoted_name(&message) {
            pointer.push('/');
            pointer.push_str(&escape_pointer(name));
        }
        ("missing_field", "dit veld is verplicht".to_owned())
    } else if message.starts_with("unknown field") {
        // serde_path_to_error's path already ends at the unknown key.
        (
            codes::UNKNOWN_FIELD,
            "onbekend veld; controleer de spelling, zodat er geen gegevens verloren gaan"
                .to_owned(),
        )
    } else if message.starts_with("invalid type") {
        ("invalid_type", format!("verkeerd type ({message})"))
    } else {
        ("invalid_value", format!("ongeldige waarde ({message})"))
    };
    ApiError::InvalidRequest(vec![Violation {
        pointer,
        code,
        message_en: message,
        message_nl: nl,
    }])
}

/// Query parameters, with a 400 problem body when they do not parse.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct AppQuery<T>(pub T);

/// Path parameters, with a 400 (or 404) problem body when they do not parse.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct AppPath<T>(pub T);

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::InvalidParameter(rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        // An id that is not even well-formed names nothing that exists.
        match rejection {
            PathRejection::FailedToDeserializePathParams(_) => ApiError::NotFound,
            other => ApiError::internal(&other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_over_its_fields_bound_is_refused_at_its_pointer_and_escapes_count_as_one() {
        // A reference (255), a description (500) and a note (4,000), each one over.
        let body = format!(
            r#"{{"external_id": "{}", "lines": [{{"description": "a\"b"}},
                {{"description": "{}", "vat": {{"exemption_reason": "{}"}}}}],
                "company_ids": ["{}"]}}"#,
            "i".repeat(256),
            "d".repeat(501),
            "n".repeat(4_001),
            "c".repeat(256)
        );
        assert!(may_have_long_text(body.as_bytes()));
        let mut found: Vec<(String, String)> = long_texts(body.as_bytes())
            .into_iter()
            .map(|v| (v.pointer, v.message_en))
            .collect();
        found.sort();
        assert_eq!(
            found,
            [
                (
                    "/company_ids/0".to_owned(),
                    "at most 255 characters, not 256".to_owned()
                ),
                (
                    "/external_id".to_owned(),
                    "at most 255 characters, not 256".to_owned()
                ),
                (
                    "/lines/1/description".to_owned(),
                    "at most 500 characters, not 501".to_owned()
                ),
                (
                    "/lines/1/vat/exemption_reason".to_owned(),
                    "at most 4000 characters, not 4001".to_owned()
                ),
            ]
        );
        // Exactly the bounds pass; 500 characters written as escapes are longer raw, but
        // not too long.
        let escaped = "\\u00e9".repeat(500);
        let body = format!(
            r#"{{"description": "{escaped}", "email": "{}", "sku": "{}"}}"#,
            "e".repeat(254),
            "s".repeat(255)
        );
        assert!(may_have_long_text(body.as_bytes()));
        assert!(long_texts(body.as_bytes()).is_empty());
        // Below the shortest bound the cheap scan is enough; escaped quotes do not end a text.
        let body = format!(r#"{{"a": "{}", "b": "\"\\"}}"#, "y".repeat(254));
        assert!(!may_have_long_text(body.as_bytes()));
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "fields are only deserialized")]
    struct Doc {
        name: String,
        lines: Vec<Line>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "fields are only deserialized")]
    struct Line {
        quantity: u32,
    }

    fn violation(body: &str) -> Violation {
        match parse_json::<Doc>(body.as_bytes()) {
            Err(ApiError::InvalidRequest(mut v)) => v.remove(0),
            other => panic!("expected a violation, got {other:?}"),
        }
    }

    #[test]
    fn a_missing_field_points_at_the_field_itself() {
        let v = violation(r#"{"lines": [{"quantity": 1}, {}]}"#);
        assert_eq!(v.code, "missing_field");
        // The first problem serde meets is the missing line field.
        assert_eq!(v.pointer, "/lines/1/quantity");
    }

    #[test]
    fn an_unknown_field_is_named_in_the_pointer() {
        let v = violation(r#"{"name": "x", "lines": [], "nmae": "y"}"#);
        assert_eq!(v.code, "unknown_field");
        assert_eq!(v.pointer, "/nmae");
    }

    #[test]
    fn a_wrong_type_points_at_the_value() {
        let v = violation(r#"{"name": "x", "lines": [{"quantity": "three"}]}"#);
        assert_eq!(v.code, "invalid_type");
        assert_eq!(v.pointer, "/lines/0/quantity");
    }

    #[test]
    fn a_nul_character_is_refused_but_an_escaped_backslash_before_u0000_is_text() {
        let nul = violation(r#"{"name": "a\u0000b", "lines": []}"#);
        assert_eq!(nul.code, "invalid_character");
        assert!(parse_json::<Doc>(br#"{"name": "a\\u0000b", "lines": []}"#).is_ok());
        assert_eq!(
            violation(r#"{"name": "a\\\u0000b", "lines": []}"#).code,
            codes::INVALID_CHARACTER,
            "an escaped backslash, then the NUL escape"
        );
        assert!(contains_escaped_nul(br#""\u0000""#));
        assert!(contains_escaped_nul(br#""x\"\u0000""#));
        assert!(!contains_escaped_nul(br#""\u000"#), "a cut-off escape");
        assert!(!contains_escaped_nul(br#""\\u0000" "\u0001" "\\\\u0000""#));
    }

    #[test]
    fn broken_json_and_trailing_garbage_are_malformed() {
        assert!(matches!(
            parse_json::<Doc>(b"{\"name\": "),
            Err(ApiError::MalformedJson(_))
        ));
        assert!(matches!(
            parse_json::<Doc>(br#"{"name": "x", "lines": []} extra"#),
            Err(ApiError::MalformedJson(_))
        ));
    }
}
