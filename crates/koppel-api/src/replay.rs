//! An idempotent replay, served by the route's authorising extractor.
//!
//! The idempotency middleware finds a request's stored answer before the route runs, but it
//! does not know what the route requires. So it leaves the answer in the request as a
//! [`PendingReplay`], and the extractor every POST route takes first
//! ([`crate::auth::extract::CompanyAccess`] or [`crate::auth::extract::Admin`]) serves it
//! once it has authorised the request as it stands now, instead of letting the handler act
//! again. A client whose grant, scope or secret is gone meanwhile gets 404, 403 or 401.

use axum::body::{Body, Bytes};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use koppel_store::StoredResponse;

use crate::error::PROBLEM_JSON;

/// The response header that marks a replayed answer.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// A stored answer waiting for the route's authorisation.
#[derive(Debug, Clone)]
pub struct PendingReplay {
    /// The first request's answer.
    pub stored: StoredResponse,
    /// This request's id, which a replayed problem body names.
    pub request_id: String,
}

/// Marks a response as a served replay (a response extension).
#[derive(Debug, Clone, Copy)]
pub struct ReplayServed;

impl PendingReplay {
    /// The stored answer as this request's response, with `Idempotent-Replayed: true`.
    pub fn into_response(self) -> Response {
        let PendingReplay { stored, request_id } = self;
        let is_problem = stored
            .headers
            .iter()
            .any(|(name, value)| name == header::CONTENT_TYPE.as_str() && value == PROBLEM_JSON);
        let body = if is_problem {
            // A problem names the request it answers; give it this one's id, as
            // in the `X-Request-Id` header the replay carries.
            with_request_id(&stored.body, &request_id).unwrap_or(stored.body)
        } else {
            stored.body
        };
        let mut response = Response::new(Body::from(Bytes::from(body)));
        *response.status_mut() = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
        for (name, value) in &stored.headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::try_from(name.as_str()),
                HeaderValue::from_str(value),
            ) {
                response.headers_mut().append(name, value);
            }
        }
        response
            .headers_mut()
            .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
        response.extensions_mut().insert(ReplayServed);
        response
    }
}

fn with_request_id(body: &[u8], request_id: &str) -> Option<Vec<u8>> {
    let mut problem: serde_json::Value = serde_json::from_slice(body).ok()?;
    problem
        .as_object_mut()?
        .insert("request_id".to_owned(), request_id.into());
    serde_json::to_vec(&problem).ok()
}
