//! What is refused from a request's head alone, before its body is read: a
//! `Content-Length` over the limit is a 413 at once (so a client that sent
//! `Expect: 100-continue` never gets `100 Continue` and never sends the
//! body), and every body gets its read deadline ([`crate::body`]).

use axum::body::{Body, HttpBody as _};
use axum::extract::{Request, State};
use axum::http::header::CONTENT_LENGTH;
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};

use crate::App;
use crate::body::DeadlineBody;
use crate::error::ApiError;

/// The middleware; see the module documentation.
pub async fn guard(State(app): State<App>, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let limit = u64::try_from(app.config.max_body_bytes).unwrap_or(u64::MAX);
    if declared.is_some_and(|length| length > limit) {
        return ApiError::PayloadTooLarge.into_response();
    }
    if request.body().is_end_stream() {
        return next.run(request).await;
    }
    let timeout = app.config.body_read_timeout;
    next.run(request.map(|body| Body::new(DeadlineBody::new(body, timeout))))
        .await
}
