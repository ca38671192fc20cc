//! The outermost middleware: request id, the request's span and log line,
//! metrics, and the final rendering of problem bodies.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::App;
use crate::error::PendingProblem;
use crate::language::Language;

/// The header that carries the request id both ways.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The id of the current request, in the request's extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Accepts an incoming request id only when it is short and made of safe
/// characters, so that it cannot forge log lines or bloat them.
fn sane_request_id(value: &str) -> bool {
    (1..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Wraps every request: see the module documentation.
pub async fn observe(State(app): State<App>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| sane_request_id(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let language = Language::from_headers(request.headers());
    // The route template, never the raw path: raw paths hold ids and would
    // give the metrics unbounded cardinality.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().clone();
    request
        .extensions_mut()
        .insert(RequestId(request_id.clone()));

    let span = tracing::info_span!(
        "request",
        request.id = %request_id,
        http.method = %method,
        http.route = %route,
        client.id = tracing::field::Empty,
        company.id = tracing::field::Empty,
    );
    let mut response = next.run(request).instrument(span.clone()).await;

    if let Some(PendingProblem(error)) = response.extensions_mut().remove::<PendingProblem>() {
        let problem = error.to_problem(language, &request_id);
        match serde_json::to_vec(&problem) {
            Ok(body) => {
                let (mut parts, _) = response.into_parts();
                parts.headers.remove(header::CONTENT_LENGTH);
                response = Response::from_parts(parts, axum::body::Body::from(body));
            }
            Err(e) => tracing::error!(parent: &span, error = %e, "could not render a problem"),
        }
        response.headers_mut().insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(language.tag()),
        );
        // A problem's words follow Accept-Language: a cache must keep them apart.
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("accept-language"));
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    // Every answer is what its Content-Type says; a browser must not guess.
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );

    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    app.metrics
        .observe(method.as_str(), &route, status, elapsed);
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    if status >= 500 {
        tracing::warn!(parent: &span, http.status = status, latency_ms, "request failed");
    } else {
        tracing::info!(parent: &span, http.status = status, latency_ms, "request finished");
    }
    response
}

#[cfg(test)]
mod tests {
    use super::sane_request_id;

    #[test]
    fn only_short_ids_of_safe_characters_are_echoed() {
        assert!(sane_request_id("abc-123_X.y:z"));
        assert!(!sane_request_id(""));
        assert!(!sane_request_id("has space"));
        assert!(!sane_request_id("line\nbreak"));
        assert!(!sane_request_id(&"a".repeat(129)));
    }
}
