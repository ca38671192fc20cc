//! Authentication, scope checks and tenant isolation, in one place.
//!
//! Handlers never check tokens, scopes or grants themselves: they take a
//! [`Principal`], [`Admin`] or [`CompanyAccess`] argument, and the extractor
//! answers 401, 403 or 404 before the handler runs.

use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Path};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::registry::ClientState;
use super::tokens::TokenError;
use crate::App;
use crate::error::ApiError;
use crate::replay::PendingReplay;

/// An authenticated client, from a valid bearer token.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The client id.
    pub client_id: Uuid,
    /// The scopes granted to this token.
    pub scopes: Vec<String>,
    /// The client's current state.
    pub client: Arc<ClientState>,
}

impl Principal {
    /// Fails with 403 naming the scope unless the token carries it.
    pub fn require(&self, scope: &str) -> Result<(), ApiError> {
        if self.scopes.iter().any(|s| s == scope) {
            Ok(())
        } else {
            Err(ApiError::InsufficientScope(scope.to_owned()))
        }
    }
}

impl FromRequestParts<App> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        if let Some(principal) = parts.extensions.get::<Principal>() {
            return Ok(principal.clone());
        }
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or(ApiError::Unauthorized("no Authorization header"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .ok_or(ApiError::Unauthorized(
                "the Authorization header is not a bearer token",
            ))?;
        let claims = app.auth.keys.verify(token).map_err(|e| match e {
            TokenError::Expired => ApiError::Unauthorized("the token has expired"),
            TokenError::Invalid => ApiError::Unauthorized("the token is invalid"),
        })?;
        let client = app
            .auth
            .registry
            .find(claims.sub, &app.store)
            .await?
            .filter(|c| !c.revoked)
            .ok_or(ApiError::Unauthorized("the client is revoked or unknown"))?;
        if client.secret_version != claims.ver {
            return Err(ApiError::Unauthorized("the client secret was rotated"));
        }
        tracing::Span::current().record("client.id", tracing::field::display(claims.sub));
        // The claim is what the token was issued for; the registry is what the
        // client holds now. A scope counts only when both say so, so that a
        // token signed with a leaked key cannot claim more than its client has,
        // and a scope taken from a client ends with it.
        let scopes = claims
            .scope
            .split_whitespace()
            .filter(|s| client.scopes.contains(*s))
            .map(str::to_owned)
            .collect();
        let principal = Principal {
            client_id: claims.sub,
            scopes,
            client,
        };
        parts.extensions.insert(principal.clone());
        Ok(principal)
    }
}

/// A scope a route requires, as a type so that the requirement is part of
/// the handler's signature.
pub trait RequiredScope: Send + Sync + 'static {
    /// The scope's name.
    const SCOPE: &'static str;
    /// Whether the platform operator (scope `admin`) may act with it on any company, without
    /// a grant: setting up a company's ledger mapping is onboarding work.
    const ADMIN_TOO: bool = false;
}

macro_rules! scopes {
    ($($(#[$doc:meta])* $name:ident = $scope:literal $(, $admin:ident)?;)*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy)]
            pub struct $name;
            impl RequiredScope for $name {
                const SCOPE: &'static str = $scope;
                $(const ADMIN_TOO: bool = scopes!(@$admin);)?
            }
        )*
    };
    (@admin) => { true };
}

scopes! {
    /// `customers:read`
    CustomersRead = "customers:read";
    /// `customers:write`
    CustomersWrite = "customers:write";
    /// `products:read`
    ProductsRead = "products:read";
    /// `products:write`
    ProductsWrite = "products:write";
    /// `orders:read`
    OrdersRead = "orders:read";
    /// `orders:write`
    OrdersWrite = "orders:write";
    /// `receipts:read`
    ReceiptsRead = "receipts:read";
    /// `receipts:write`
    ReceiptsWrite = "receipts:write";
    /// `settings:read`
    SettingsRead = "settings:read";
    /// `settings:write`
    SettingsWrite = "settings:write";
    /// `events:read`
    EventsRead = "events:read";
    /// `bookings:write`
    BookingsWrite = "bookings:write";
    /// `webhooks:read`
    WebhooksRead = "webhooks:read";
    /// `webhooks:write`
    WebhooksWrite = "webhooks:write";
    /// `settlements:read`
    SettlementsRead = "settlements:read";
    /// `settlements:write`
    SettlementsWrite = "settlements:write";
    /// `ledger:read`, or `admin` on any company: the mapping, not the journals
    LedgerRead = "ledger:read", admin;
    /// `ledger:read` on a granted company: journals carry a company's figures, which the
    /// platform operator does not read
    JournalsRead = "ledger:read";
    /// `ledger:write`, or `admin` on any company
    LedgerWrite = "ledger:write", admin;
}

/// A client with the `admin` scope.
#[derive(Debug, Clone)]
pub struct Admin(pub Principal);

impl FromRequestParts<App> for Admin {
    type Rejection = AccessRejection;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let principal = Principal::from_request_parts(parts, app).await?;
        principal.require("admin")?;
        serve_pending_replay(parts)?;
        Ok(Admin(principal))
    }
}

/// Why [`Admin`] or [`CompanyAccess`] did not let the handler run: the request is not
/// authorised, or it is, and it is an idempotent retry whose stored answer is served instead
/// (see [`crate::replay`]).
#[derive(Debug)]
pub enum AccessRejection {
    /// 401, 403 or 404.
    Denied(ApiError),
    /// The first answer to this request, replayed.
    Replay(Box<PendingReplay>),
}

impl From<ApiError> for AccessRejection {
    fn from(error: ApiError) -> Self {
        AccessRejection::Denied(error)
    }
}

impl IntoResponse for AccessRejection {
    fn into_response(self) -> Response {
        match self {
            AccessRejection::Denied(error) => error.into_response(),
            AccessRejection::Replay(replay) => replay.into_response(),
        }
    }
}

/// Once a request is authorised: if it is a retry with a stored answer, that answer.
fn serve_pending_replay(parts: &mut Parts) -> Result<(), AccessRejection> {
    match parts.extensions.remove::<PendingReplay>() {
        Some(replay) => Err(AccessRejection::Replay(Box::new(replay))),
        None => Ok(()),
    }
}

#[derive(Deserialize)]
struct CompanyIdParam {
    company_id: String,
}

/// A client acting on a company it is granted, with scope `S`.
///
/// A company that does not exist and one the client is not granted both
/// answer 404, so that ids of other tenants cannot be probed.
#[derive(Debug, Clone)]
pub struct CompanyAccess<S> {
    /// The company.
    pub company_id: Uuid,
    /// The client acting on it.
    pub principal: Principal,
    scope: PhantomData<S>,
}

impl<S: RequiredScope> FromRequestParts<App> for CompanyAccess<S> {
    type Rejection = AccessRejection;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let principal = Principal::from_request_parts(parts, app).await?;
        let as_admin = S::ADMIN_TOO && principal.scopes.iter().any(|s| s == "admin");
        if !as_admin {
            principal.require(S::SCOPE)?;
        }
        let Path(param) = Path::<CompanyIdParam>::from_request_parts(parts, app)
            .await
            .map_err(|_| ApiError::NotFound)?;
        let company_id = Uuid::parse_str(&param.company_id).map_err(|_| ApiError::NotFound)?;
        let granted = if as_admin {
            app.store
                .companies()
                .find(company_id)
                .await
                .map_err(ApiError::from)?
                .is_some()
        } else {
            principal.client.companies.contains(&company_id)
        };
        if !granted {
            return Err(ApiError::NotFound.into());
        }
        tracing::Span::current().record("company.id", tracing::field::display(company_id));
        serve_pending_replay(parts)?;
        Ok(CompanyAccess {
            company_id,
            principal,
            scope: PhantomData,
        })
    }
}
