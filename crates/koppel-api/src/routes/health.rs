//! Liveness, readiness and metrics.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;
use utoipa::ToSchema;

use crate::App;
use crate::error::{ApiError, Problem};
use crate::extract::AppQuery;
use crate::params::NoParams;

/// How long readiness waits for the database before calling it unavailable.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// What a health check found.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum HealthStatus {
    /// The process is up (`/health/live`).
    Live,
    /// The database is reachable (`/health/ready`).
    Ready,
}

/// The answer of a health check.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// What the check found.
    #[schema(value_type = HealthStatus, example = "ready")]
    pub status: String,
}

/// Whether the process is up (it does not look at the database).
///
/// For a liveness probe: answers 200 as long as the process serves HTTP, without touching the
/// database, so a database outage does not get healthy processes restarted. Needs no token.
#[utoipa::path(get, path = "/health/live", tag = "operations", security(()),
    responses(
        (status = 200, description = "The process is up", body = Health),
        (status = 400, description = "A query parameter was sent; this operation takes none", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn live(_: AppQuery<NoParams>) -> Json<Health> {
    Json(Health {
        status: "live".to_owned(),
    })
}

/// Whether the service can answer requests: the database is reachable.
///
/// For a readiness probe or load balancer: 200 when the database answers within 2 seconds, else
/// 503, so traffic goes to nodes that can serve it. Needs no token.
#[utoipa::path(get, path = "/health/ready", tag = "operations", security(()),
    responses(
        (status = 200, description = "Ready to serve", body = Health),
        (status = 400, description = "A query parameter was sent; this operation takes none", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unreachable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn ready(
    State(app): State<App>,
    _: AppQuery<NoParams>,
) -> Result<Json<Health>, ApiError> {
    match tokio::time::timeout(READY_TIMEOUT, app.store.ping()).await {
        Ok(Ok(())) => Ok(Json(Health {
            status: "ready".to_owned(),
        })),
        Ok(Err(e)) if e.is_unavailable() => Err(ApiError::Unavailable),
        Ok(Err(e)) => Err(e.into()),
        Err(_) => Err(ApiError::Unavailable),
    }
}

/// Request counts and latency histograms, in the Prometheus text format.
///
/// With `KOPPEL_METRICS_TOKEN` set, the scraper sends it as a bearer token;
/// without, only clients on the server's own host (loopback) may read it.
#[utoipa::path(get, path = "/metrics", tag = "operations", security(()),
    responses(
        (status = 200, description = "Prometheus text exposition format 0.0.4", body = String, content_type = "text/plain"),
        (status = 401, description = "Not the metrics token, or not from loopback when none is configured", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn metrics(
    State(app): State<App>,
    request: Parts,
) -> Result<impl IntoResponse, ApiError> {
    let peer = request.extensions.get::<ConnectInfo<SocketAddr>>();
    let allowed = match &app.config.metrics_token {
        Some(token) => request
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|sent| bool::from(sent.as_bytes().ct_eq(token.as_bytes()))),
        // No peer: called in-process, as the tests do.
        None => peer.is_none_or(|ConnectInfo(addr)| addr.ip().is_loopback()),
    };
    if !allowed {
        return Err(ApiError::Unauthorized(
            "the metrics need the configured metrics token, or a loopback peer",
        ));
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app.metrics.render(),
    ))
}
