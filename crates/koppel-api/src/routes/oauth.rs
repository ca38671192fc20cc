//! The OAuth 2.0 token endpoint (RFC 6749 §4.4, client credentials) and the
//! authorization server metadata (RFC 8414).
//!
//! This is the one place that does not answer with problem bodies: OAuth
//! clients expect the error bodies of RFC 6749 §5.2.

use std::net::SocketAddr;
use std::time::Instant;

use axum::Json;
use axum::extract::{ConnectInfo, FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::App;
use crate::auth::scopes::SCOPES;
use crate::auth::secrets::secret_matches;
use crate::auth::{FAILED_TOKEN_QUOTA_PER_PEER, FailureKey, TOKEN_ISSUE_QUOTA_PER_PEER};
use crate::error::{Problem, UNAVAILABLE_RETRY_AFTER_SECS};
use crate::extract::AppQuery;
use crate::gcra::Quota;
use crate::params::NoParams;

/// A token request, form-encoded (`application/x-www-form-urlencoded`).
#[derive(Debug, Deserialize, ToSchema, IntoParams)]
#[expect(
    dead_code,
    reason = "documents the form; the handler reads the raw pairs"
)]
pub struct TokenRequest {
    /// The grant: only client credentials.
    #[schema(value_type = GrantType, example = "client_credentials")]
    grant_type: String,
    /// The client id, unless sent by HTTP Basic authentication.
    client_id: Option<String>,
    /// The client secret, unless sent by HTTP Basic authentication.
    client_secret: Option<String>,
    /// Space-separated scopes to narrow the token to; all of the client's scopes when absent.
    #[schema(example = "orders:read orders:write")]
    scope: Option<String>,
}

/// The grant types the token endpoint takes.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum GrantType {
    /// OAuth 2.0 client credentials (RFC 6749 §4.4).
    ClientCredentials,
}

/// The kind of token issued.
#[derive(Debug, Clone, Copy, ToSchema)]
pub enum TokenType {
    /// Sent as `Authorization: Bearer <token>` (RFC 6750).
    Bearer,
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    /// The bearer token to send as `Authorization: Bearer <token>`.
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(value_type = TokenType, example = "Bearer")]
    pub token_type: String,
    /// Seconds until the token expires.
    #[schema(example = 3600)]
    pub expires_in: u64,
    /// The scopes granted, space-separated.
    pub scope: String,
}

/// The `error` of a token response (RFC 6749 §5.2, and `slow_down` and
/// `temporarily_unavailable` from its extensions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OAuthErrorCode {
    /// The form is malformed: a missing or repeated parameter, or no `grant_type`.
    InvalidRequest,
    /// Unknown client, wrong secret, revoked client or malformed Basic authentication (401).
    InvalidClient,
    /// A `scope` the client does not hold.
    InvalidScope,
    /// A `grant_type` other than `client_credentials`.
    UnsupportedGrantType,
    /// Too many failed attempts from this address for this client: wait `Retry-After` (429).
    SlowDown,
    /// The database is out of reach: try again after `Retry-After` (503).
    TemporarilyUnavailable,
    /// An unexpected fault on Koppel's side (500); the log has the request id.
    ServerError,
}

/// An error response of the token endpoint (RFC 6749 §5.2).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OAuthError {
    /// What went wrong.
    #[schema(example = "invalid_client")]
    pub error: OAuthErrorCode,
    /// A human-readable explanation.
    pub error_description: String,
}

struct TokenError {
    status: StatusCode,
    error: OAuthErrorCode,
    description: String,
    basic_challenge: bool,
    retry_after: Option<u64>,
}

impl TokenError {
    fn new(status: StatusCode, error: OAuthErrorCode, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
            basic_challenge: false,
            retry_after: None,
        }
    }

    fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            OAuthErrorCode::InvalidRequest,
            description,
        )
    }
}

impl IntoResponse for TokenError {
    fn into_response(self) -> Response {
        let body = OAuthError {
            error: self.error,
            error_description: self.description,
        };
        let mut response = (self.status, Json(body)).into_response();
        let headers = response.headers_mut();
        no_store(headers);
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6749 §5.2: a client that used Basic gets a Basic challenge.
            let challenge = if self.basic_challenge {
                "Basic realm=\"koppel\""
            } else {
                "Bearer realm=\"koppel\""
            };
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

fn no_store(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// Credentials from an `Authorization: Basic` header, if one was sent.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, TokenError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = || {
        let mut e = TokenError::new(
            StatusCode::UNAUTHORIZED,
            OAuthErrorCode::InvalidClient,
            "malformed basic authentication",
        );
        e.basic_challenge = true;
        e
    };
    let value = value.to_str().map_err(|_| bad())?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Err(bad());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(bad());
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    Ok(Some((id.to_owned(), secret.to_owned())))
}

/// Get an access token with the client credentials grant.
///
/// Send the client id and secret by HTTP Basic authentication (preferred) or as
/// `client_id` and `client_secret` form fields. Errors follow RFC 6749 §5.2.
#[utoipa::path(post, path = "/oauth/token", tag = "oauth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded",
        description = "The token request"),
    security(()),
    responses(
        (status = 200, description = "A new access token", body = TokenResponse),
        (status = 400, description = "invalid_request, invalid_scope or unsupported_grant_type", body = OAuthError),
        (status = 401, description = "invalid_client: unknown client, wrong secret or revoked client", body = OAuthError),
        (status = 429, description = "Too many failed attempts; see Retry-After", body = OAuthError),
        (status = 503, description = "The database is unavailable", body = OAuthError),
    ))]
pub async fn issue_token(State(app): State<App>, request: Request) -> Response {
    match token(app, request).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn token(app: App, request: Request) -> Result<Response, TokenError> {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let basic = basic_credentials(request.headers())?;
    let axum::Form(pairs) = axum::Form::<Vec<(String, String)>>::from_request(request, &())
        .await
        .map_err(|e| {
            TokenError::invalid_request(format!("the body must be form-encoded: {}", e.body_text()))
        })?;
    let field = |name: &str| -> Result<Option<String>, TokenError> {
        let mut values = pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone());
        let first = values.next();
        if values.next().is_some() {
            return Err(TokenError::invalid_request(format!("{name} is repeated")));
        }
        Ok(first)
    };
    match field("grant_type")?.as_deref() {
        None => return Err(TokenError::invalid_request("grant_type is missing")),
        Some("client_credentials") => {}
        Some(_) => {
            return Err(TokenError::new(
                StatusCode::BAD_REQUEST,
                OAuthErrorCode::UnsupportedGrantType,
                "only client_credentials is supported",
            ));
        }
    }
    let used_basic = basic.is_some();
    let (client_id, secret) = match (basic, field("client_id")?, field("client_secret")?) {
        (Some(_), _, Some(_)) => {
            return Err(TokenError::invalid_request(
                "send the credentials once: by basic authentication or in the body",
            ));
        }
        (Some(credentials), _, None) => credentials,
        (None, Some(id), Some(secret)) => (id, secret),
        (None, _, _) => {
            return Err(TokenError::new(
                StatusCode::UNAUTHORIZED,
                OAuthErrorCode::InvalidClient,
                "client credentials are missing",
            ));
        }
    };
    let invalid_client = |description: &str| {
        let mut e = TokenError::new(
            StatusCode::UNAUTHORIZED,
            OAuthErrorCode::InvalidClient,
            description,
        );
        e.basic_challenge = used_basic;
        e
    };

    // Each attempt takes a token from its failure buckets before the secret is
    // checked, and gives it back when the secret was right: parallel guesses
    // cannot all pass a check that nothing has counted yet.
    let id = Uuid::parse_str(&client_id).ok();
    let mut keys: Vec<(FailureKey, Quota)> = Vec::with_capacity(3);
    if let Some(id) = id {
        keys.push((FailureKey::ClientPeer(id, peer), app.auth.failure_quota));
    }
    if let Some(peer) = peer {
        keys.push((FailureKey::Peer(peer), FAILED_TOKEN_QUOTA_PER_PEER));
        keys.push((FailureKey::Issued(peer), TOKEN_ISSUE_QUOTA_PER_PEER));
    }
    let now = Instant::now();
    for (taken, (key, quota)) in keys.iter().enumerate() {
        let decision = app.auth.failures.check(key, *quota, now);
        if !decision.allowed {
            for (key, quota) in &keys[..taken] {
                app.auth.failures.refund(key, *quota, now);
            }
            let mut e = TokenError::new(
                StatusCode::TOO_MANY_REQUESTS,
                OAuthErrorCode::SlowDown,
                "too many attempts; wait before trying again",
            );
            e.retry_after = Some(decision.retry_after.as_secs().max(1));
            return Err(e);
        }
    }
    // A right secret (or a database that could not answer) is no failure; the
    // issue bucket keeps its token whatever happened.
    let not_a_failure = |app: &App| {
        for (key, quota) in &keys {
            if !matches!(key, FailureKey::Issued(_)) {
                app.auth.failures.refund(key, *quota, now);
            }
        }
    };

    let Some(id) = id else {
        return Err(invalid_client("unknown client or wrong secret"));
    };
    let record = match app.store.clients().find(id).await {
        Ok(record) => record,
        Err(e) if e.is_unavailable() => {
            not_a_failure(&app);
            let mut e = TokenError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                OAuthErrorCode::TemporarilyUnavailable,
                "the database is unavailable; retry later",
            );
            e.retry_after = Some(UNAVAILABLE_RETRY_AFTER_SECS);
            return Err(e);
        }
        Err(e) => {
            not_a_failure(&app);
            tracing::error!(error = %crate::error::ErrorChain(&e), "token request failed");
            return Err(TokenError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                OAuthErrorCode::ServerError,
                "internal error",
            ));
        }
    };
    let Some(record) = record.filter(|r| secret_matches(&secret, &r.secret_hash)) else {
        tracing::info!(
            client.id = %id,
            peer = ?peer,
            "token refused: unknown client or wrong secret"
        );
        return Err(invalid_client("unknown client or wrong secret"));
    };
    app.auth.registry.update(&record);
    if record.revoked_at.is_some() {
        return Err(invalid_client("the client is revoked"));
    }
    not_a_failure(&app);

    let granted: Vec<String> = match field("scope")? {
        None => record.scopes.clone(),
        Some(requested) => {
            let requested: Vec<String> = requested.split_whitespace().map(str::to_owned).collect();
            if let Some(unknown) = requested.iter().find(|s| !record.scopes.contains(s)) {
                return Err(TokenError::new(
                    StatusCode::BAD_REQUEST,
                    OAuthErrorCode::InvalidScope,
                    format!("scope {unknown} is not granted to this client"),
                ));
            }
            if requested.is_empty() {
                record.scopes.clone()
            } else {
                requested
            }
        }
    };
    let (access_token, _) = app
        .auth
        .keys
        .issue(
            record.id,
            &granted,
            record.secret_version,
            chrono::Utc::now(),
        )
        .map_err(|e| {
            tracing::error!(error = %e, "could not sign a token");
            TokenError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                OAuthErrorCode::ServerError,
                "internal error",
            )
        })?;
    tracing::Span::current().record("client.id", tracing::field::display(record.id));
    let body = TokenResponse {
        access_token,
        token_type: "Bearer".to_owned(),
        expires_in: app.auth.keys.ttl.as_secs(),
        scope: granted.join(" "),
    };
    let mut response = Json(body).into_response();
    no_store(response.headers_mut());
    Ok(response)
}

/// Authorization server metadata (RFC 8414).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ServerMetadata {
    /// The issuer identifier: this server's base URL.
    pub issuer: String,
    /// Where to get tokens.
    pub token_endpoint: String,
    /// Always `["client_credentials"]`.
    pub grant_types_supported: Vec<String>,
    /// `client_secret_basic` and `client_secret_post`.
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// Every scope a client may be granted.
    pub scopes_supported: Vec<String>,
    /// Empty: there is no authorization endpoint.
    pub response_types_supported: Vec<String>,
    /// Where the API is documented.
    pub service_documentation: String,
}

/// Describe this authorization server (RFC 8414).
///
/// OAuth 2.0 authorization server metadata: the issuer, the token endpoint, the one grant type
/// (`client_credentials`), the token endpoint's authentication methods and every scope a client
/// can be granted. Needs no token; answers the same to everyone.
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = "oauth",
    security(()),
    responses(
        (status = 200, description = "The server's OAuth metadata", body = ServerMetadata),
        (status = 400, description = "A query parameter was sent; this operation takes none", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn server_metadata(
    State(app): State<App>,
    _: AppQuery<NoParams>,
) -> Json<ServerMetadata> {
    let base = app.config.public_url.trim_end_matches('/');
    Json(ServerMetadata {
        issuer: base.to_owned(),
        token_endpoint: format!("{base}/oauth/token"),
        grant_types_supported: vec!["client_credentials".to_owned()],
        token_endpoint_auth_methods_supported: vec![
            "client_secret_basic".to_owned(),
            "client_secret_post".to_owned(),
        ],
        scopes_supported: SCOPES.iter().map(|(s, _)| (*s).to_owned()).collect(),
        response_types_supported: vec![],
        service_documentation: format!("{base}/docs"),
    })
}
