//! Per-client rate limiting: a token bucket per authenticated client, and the
//! headers that let a vendor see and plan for it.
//!
//! The bucket is our own GCRA ([`crate::gcra`]) rather than the `governor`
//! crate, because governor can neither report what is left without spending
//! a token (which `GET /v1/rate-limit` must do) nor give each key a quota of
//! its own (which per-client overrides need).
//!
//! The middleware [`limit`] runs inside [`crate::middleware::observe`], after routing. It
//! authenticates a bearer token once and puts the [`Principal`] in the
//! request's extensions, where the extractors find it instead of verifying the
//! token again. Requests without a valid bearer token (health, docs, the
//! token endpoint, and every 401) pass through unlimited: there is no client
//! to count them against, and the token endpoint has its own, stricter limit
//! on failed attempts ([`crate::auth::FAILED_TOKEN_QUOTA`]).
//!
//! The headers follow draft-ietf-httpapi-ratelimit-headers-11 (structured
//! fields: `RateLimit-Policy: "default";q=1000;w=10` and
//! `RateLimit: "default";r=998;t=1`), plus the widely used `X-RateLimit-*`
//! trio. The buckets live in this process's memory: behind a load balancer
//! with several instances, each instance counts on its own.

use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::App;
use crate::auth::extract::Principal;
use crate::auth::registry::ClientState;
use crate::auth::{BAD_BEARER_QUOTA_PER_PEER, FailureKey};
use crate::error::{ApiError, Problem};
use crate::gcra::{Decision, KeyedLimiter, Quota};

/// Requests a client earns per second unless it has its own limit.
///
/// Generous on purpose (SPEC "Limits"): a till pushing every receipt as it
/// happens needs a few a second, and a nightly sync of 100 000 orders is 100
/// batch requests, which fit in one burst. One instance serves about 10 000
/// single-document writes a second (STACK-NOTES), so the limit protects the
/// service from one runaway client, not from honest traffic.
pub const DEFAULT_PER_SECOND: u32 = 100;

/// Requests a client can save up unless it has its own limit: ten seconds'
/// worth, so a client that was idle can send a burst of batches at once.
pub const DEFAULT_BURST: u32 = 1000;

/// The path of the endpoint that reports the limit without spending it.
pub const RATE_LIMIT_PATH: &str = "/v1/rate-limit";

/// The token buckets of every client, by client id.
#[derive(Debug, Default)]
pub struct RateLimits {
    buckets: KeyedLimiter<Uuid>,
}

impl RateLimits {
    /// Spends one token of `client_id`'s bucket, if there is one.
    pub fn check(&self, client_id: Uuid, policy: Policy, now: Instant) -> Decision {
        self.buckets.check(&client_id, policy.quota(), now)
    }

    /// What is left in `client_id`'s bucket, spending nothing.
    pub fn peek(&self, client_id: Uuid, policy: Policy, now: Instant) -> Decision {
        self.buckets.peek(&client_id, policy.quota(), now)
    }
}

/// The rate limit that applies to a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// `default`, or `client` for a client with a limit of its own; the name
    /// that ties the `RateLimit` header to the `RateLimit-Policy` header.
    pub name: &'static str,
    /// Requests earned per second.
    pub per_second: u32,
    /// Requests that can be saved up: the largest burst.
    pub burst: u32,
}

impl Policy {
    /// The default policy.
    pub const DEFAULT: Policy = Policy {
        name: "default",
        per_second: DEFAULT_PER_SECOND,
        burst: DEFAULT_BURST,
    };

    /// The client's own limit if it has one, else the default.
    pub fn for_client(client: &ClientState) -> Self {
        match client.rate_limit {
            Some((per_second, burst)) => Policy {
                name: "client",
                per_second,
                burst,
            },
            None => Policy::DEFAULT,
        }
    }

    /// The bucket behind this policy.
    pub fn quota(&self) -> Quota {
        Quota::per_second(self.per_second, self.burst)
    }

    /// The window of the `RateLimit-Policy` header: the seconds an empty
    /// bucket takes to fill, rounded up because the draft allows whole
    /// seconds only. Rounding up under-promises, so a client that paces
    /// itself by `q` and `w` alone never gets a 429.
    pub fn window_seconds(&self) -> u64 {
        u64::from(self.burst)
            .div_ceil(u64::from(self.per_second.max(1)))
            .max(1)
    }
}

/// Whole seconds, rounded up, so that waiting that long is always enough.
pub fn ceil_seconds(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

/// The `RateLimit` effective window `t`: while tokens remain, the seconds
/// until the bucket is full (the client can use no more than `r` before then
/// without waiting); once it is empty, the seconds until the next token, so
/// that a `Retry-After` never points before the end of the window (draft §6).
fn effective_window(decision: &Decision) -> u64 {
    if decision.remaining == 0 {
        ceil_seconds(decision.retry_after.max(Duration::from_nanos(1)))
    } else {
        ceil_seconds(decision.reset)
    }
}

/// Sets the rate-limit headers of a response.
pub fn set_headers(headers: &mut HeaderMap, policy: Policy, decision: &Decision) {
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    };
    set(
        "ratelimit-policy",
        format!(
            "\"{}\";q={};w={};koppel-per-second={}",
            policy.name,
            policy.burst,
            policy.window_seconds(),
            policy.per_second
        ),
    );
    set(
        "ratelimit",
        format!(
            "\"{}\";r={};t={}",
            policy.name,
            decision.remaining,
            effective_window(decision)
        ),
    );
    set("x-ratelimit-limit", policy.burst.to_string());
    set("x-ratelimit-remaining", decision.remaining.to_string());
    set(
        "x-ratelimit-reset",
        ceil_seconds(decision.reset).to_string(),
    );
}

/// Authenticates the bearer token once, spends a token of the client's
/// bucket, and answers 429 when there is none; see the module documentation.
pub async fn limit(State(app): State<App>, request: Request, next: Next) -> Response {
    if !request.headers().contains_key(AUTHORIZATION) {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    // On success the extractor leaves the principal in the extensions, so the
    // handler's extractor does not verify the token a second time. On failure
    // the request goes on unlimited: a route that needs a client answers 401
    // itself, and one that does not (the token endpoint takes Basic
    // credentials in the same header) must not be refused here.
    let Ok(principal) = Principal::from_request_parts(&mut parts, &app).await else {
        // Bearer tokens that do not verify are counted per address, so that no one can
        // try forged or stolen-and-expired tokens at full speed (Basic credentials
        // belong to the token endpoint, which has its own limits).
        if let Some(retry_after) = bad_bearer_limited(&app, &parts) {
            return ApiError::RateLimited { retry_after }.into_response();
        }
        return next.run(Request::from_parts(parts, body)).await;
    };
    let policy = Policy::for_client(&principal.client);
    let now = Instant::now();
    let spends_nothing = parts
        .extensions
        .get::<MatchedPath>()
        .is_some_and(|path| path.as_str() == RATE_LIMIT_PATH);
    let request = Request::from_parts(parts, body);
    let (decision, mut response) = if spends_nothing {
        let decision = app.limits.peek(principal.client_id, policy, now);
        (decision, next.run(request).await)
    } else {
        let decision = app.limits.check(principal.client_id, policy, now);
        if decision.allowed {
            (decision, next.run(request).await)
        } else {
            tracing::info!(
                retry_after_ms = decision.retry_after.as_millis() as u64,
                "rate limited"
            );
            let retry_after = ceil_seconds(decision.retry_after).max(1);
            (
                decision,
                ApiError::RateLimited { retry_after }.into_response(),
            )
        }
    };
    set_headers(response.headers_mut(), policy, &decision);
    response
}

/// Which rate limit applies to a client.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum RateLimitPolicy {
    /// The limit every client has unless it has its own.
    Default,
    /// A limit of this client's own, set when it was created.
    Client,
}

/// A client's rate limit and what is left of it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RateLimitStatus {
    /// The policy's name, as in the `RateLimit-Policy` header.
    #[schema(value_type = RateLimitPolicy, example = "default")]
    pub policy: String,
    /// Requests earned per second.
    #[schema(example = 100)]
    pub per_second: u32,
    /// The most requests that can be saved up, and so the largest burst.
    #[schema(example = 1000)]
    pub burst: u32,
    /// Requests that can be sent right now.
    #[schema(example = 998)]
    pub remaining: u32,
    /// Seconds until the bucket is full again (rounded up).
    #[schema(example = 1)]
    pub reset_seconds: u64,
    /// Seconds until the next request is allowed (rounded up); 0 while
    /// `remaining` is positive.
    #[schema(example = 0)]
    pub retry_after_seconds: u64,
}

/// Get this client's rate limit and what is left of it, without spending any.
///
/// Calling this endpoint does not count against the limit, so a client may
/// poll it while it waits for its bucket to refill.
#[utoipa::path(get, path = "/v1/rate-limit", tag = "limits",
    security(("oauth2" = [])),
    responses(
        (status = 200, description = "The client's rate limit and what is left", body = RateLimitStatus),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_rate_limit(State(app): State<App>, principal: Principal) -> Json<RateLimitStatus> {
    let policy = Policy::for_client(&principal.client);
    let decision = app.limits.peek(principal.client_id, policy, Instant::now());
    Json(RateLimitStatus {
        policy: policy.name.to_owned(),
        per_second: policy.per_second,
        burst: policy.burst,
        remaining: decision.remaining,
        reset_seconds: ceil_seconds(decision.reset),
        retry_after_seconds: ceil_seconds(decision.retry_after),
    })
}

/// After a bearer token that did not verify: whether its address has tried too many, and
/// then the seconds to wait.
fn bad_bearer_limited(app: &App, parts: &axum::http::request::Parts) -> Option<u64> {
    let is_bearer = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"));
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()?
        .0
        .ip();
    if !is_bearer {
        return None;
    }
    let decision = app.auth.failures.check(
        &FailureKey::BadBearer(peer),
        BAD_BEARER_QUOTA_PER_PEER,
        Instant::now(),
    );
    (!decision.allowed).then(|| ceil_seconds(decision.retry_after).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_the_time_to_fill_an_empty_bucket_rounded_up() {
        assert_eq!(Policy::DEFAULT.window_seconds(), 10);
        let small = Policy {
            name: "client",
            per_second: 5,
            burst: 3,
        };
        assert_eq!(small.window_seconds(), 1);
        let slow = Policy {
            name: "client",
            per_second: 3,
            burst: 10,
        };
        assert_eq!(slow.window_seconds(), 4);
    }

    #[test]
    fn seconds_are_rounded_up_so_waiting_them_is_enough() {
        assert_eq!(ceil_seconds(Duration::ZERO), 0);
        assert_eq!(ceil_seconds(Duration::from_millis(1)), 1);
        assert_eq!(ceil_seconds(Duration::from_secs(2)), 2);
        assert_eq!(ceil_seconds(Duration::from_millis(2001)), 3);
    }

    #[test]
    fn the_headers_use_the_draft_structured_field_syntax() {
        let limits = RateLimits::default();
        let client = Uuid::now_v7();
        let now = Instant::now();
        limits.check(client, Policy::DEFAULT, now);
        let decision = limits.check(client, Policy::DEFAULT, now);
        let mut headers = HeaderMap::new();
        set_headers(&mut headers, Policy::DEFAULT, &decision);
        assert_eq!(
            headers["ratelimit-policy"],
            "\"default\";q=1000;w=10;koppel-per-second=100"
        );
        assert_eq!(headers["ratelimit"], "\"default\";r=998;t=1");
        assert_eq!(headers["x-ratelimit-limit"], "1000");
        assert_eq!(headers["x-ratelimit-remaining"], "998");
        assert_eq!(headers["x-ratelimit-reset"], "1");
    }
}
