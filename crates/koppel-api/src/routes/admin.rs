//! The operator's API: onboarding companies and clients.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::App;
use crate::auth::extract::Admin;
use crate::auth::secrets::{generate_secret, hash_secret};
use crate::error::{ApiError, Problem};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::onboarding::{self, Client, ClientWithSecret, Company, CreateClient, CreateCompany};
use crate::params::CompanyPath;
use crate::params::{Cursor, Page, PageParams};

/// The admin routes.
pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(create_company, list_companies))
        .routes(routes!(get_company))
        .routes(routes!(create_client))
        .routes(routes!(get_client, revoke_client))
        .routes(routes!(rotate_client_secret))
        .routes(routes!(grant_company, ungrant_company))
}

/// The `client_id` path parameter.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ClientPath {
    /// The client's id.
    pub client_id: Uuid,
}

/// The `client_id` and `company_id` path parameters of a grant.
#[derive(Debug, Deserialize, IntoParams)]
pub struct GrantPath {
    /// The client's id.
    pub client_id: Uuid,
    /// The company's id.
    pub company_id: Uuid,
}

/// The company list, as the OpenAPI document names and describes its page.
#[derive(Debug)]
pub enum CompanyListing {}

impl crate::page::Listing for CompanyListing {
    type Item = Company;
    const NAME: &'static str = "CompanyList";
    const DESCRIPTION: &'static str = "A page of companies.";
    const DATA: &'static str = "The companies on this page.";
}

/// A page of companies.
pub type CompanyList = crate::page::Page<CompanyListing>;

/// Create a company (administratie).
///
/// A company is one merchant's set of books. Its timezone and business-day cutoff decide which
/// business date a receipt counts for, its currency the currency of every document. Scope
/// `admin`.
#[utoipa::path(post, path = "/v1/admin/companies", tag = "admin",
    request_body(content = CreateCompany, description = "The company to create"),
    security(("oauth2" = ["admin"])),
    responses(
        (status = 201, description = "The company was created", body = Company),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_company(
    State(app): State<App>,
    _admin: Admin,
    AppJson(input): AppJson<CreateCompany>,
) -> Result<(StatusCode, Json<Company>), ApiError> {
    let record = onboarding::create_company(&app.store, input).await?;
    Ok((StatusCode::CREATED, Json(record.into())))
}

/// List companies, oldest first.
///
/// Every company on this Koppel, oldest first, a page at a time (`limit`, `cursor`). Scope
/// `admin`.
#[utoipa::path(get, path = "/v1/admin/companies", tag = "admin",
    params(PageParams),
    security(("oauth2" = ["admin"])),
    responses(
        (status = 200, description = "A page of companies", body = CompanyList),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_companies(
    State(app): State<App>,
    _admin: Admin,
    AppQuery(params): AppQuery<PageParams>,
) -> Result<Json<CompanyList>, ApiError> {
    let limit = params.limit()?;
    let after = params.cursor::<Uuid>()?;
    let records = app
        .store
        .companies()
        .list(after, i64::from(limit) + 1)
        .await?;
    let Page { items, next } = Page::from_overfetch(records, limit, |r| Cursor::encode(&r.id));
    Ok(Json(CompanyList {
        data: items.into_iter().map(Company::from).collect(),
        next_cursor: next,
    }))
}

/// Get one company.
///
/// Any company on this Koppel, granted to a client or not. Scope `admin`.
#[utoipa::path(get, path = "/v1/admin/companies/{company_id}", tag = "admin",
    operation_id = "admin_get_company",
    params(CompanyPath),
    security(("oauth2" = ["admin"])),
    responses(
        (status = 200, description = "The company", body = Company),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_company(
    State(app): State<App>,
    _admin: Admin,
    AppPath(path): AppPath<CompanyPath>,
) -> Result<Json<Company>, ApiError> {
    let record = app
        .store
        .companies()
        .find(path.company_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(record.into()))
}

/// Create a client; its secret is in this answer only.
///
/// A client is one integration: a `vendor` (a webshop platform or till that pushes documents),
/// a `connector` (a bookkeeping link that reads them) or an `admin`. It gets every scope of its
/// kind unless `scopes` narrows them, and access to the companies in `company_ids`. Only a hash
/// of the secret is stored: keep it from this answer, or rotate it later. Scope `admin`.
#[utoipa::path(post, path = "/v1/admin/clients", tag = "admin",
    request_body(content = CreateClient, description = "The client to create"),
    security(("oauth2" = ["admin"])),
    responses(
        (status = 201, description = "The client was created; store the secret now", body = ClientWithSecret),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_client(
    State(app): State<App>,
    _admin: Admin,
    AppJson(input): AppJson<CreateClient>,
) -> Result<(StatusCode, Json<ClientWithSecret>), ApiError> {
    let (record, client_secret) = onboarding::create_client(&app.store, input).await?;
    app.auth.registry.update(&record);
    Ok((
        StatusCode::CREATED,
        Json(ClientWithSecret {
            client: record.into(),
            client_secret,
        }),
    ))
}

/// Get one client (without its secret).
///
/// The client's kind, scopes, granted companies, own rate limit and whether it is revoked;
/// never its secret, which Koppel does not keep. Scope `admin`.
#[utoipa::path(get, path = "/v1/admin/clients/{client_id}", tag = "admin",
    params(ClientPath),
    security(("oauth2" = ["admin"])),
    responses(
        (status = 200, description = "The client", body = Client),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_client(
    State(app): State<App>,
    _admin: Admin,
    AppPath(path): AppPath<ClientPath>,
) -> Result<Json<Client>, ApiError> {
    let record = app
        .store
        .clients()
        .find(path.client_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(record.into()))
}

/// Revoke a client: its tokens stop working at once. The record is kept.
///
/// Revoking is immediate on every node: the client's tokens are refused from the next request
/// and its secret no longer gets tokens. The record and everything it pushed stay, for the
/// audit trail. Revoking twice answers the same. Scope `admin`.
#[utoipa::path(delete, path = "/v1/admin/clients/{client_id}", tag = "admin",
    params(ClientPath),
    security(("oauth2" = ["admin"])),
    responses(
        (status = 200, description = "The client, now revoked", body = Client),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke_client(
    State(app): State<App>,
    _admin: Admin,
    AppPath(path): AppPath<ClientPath>,
) -> Result<Json<Client>, ApiError> {
    let record = app
        .store
        .clients()
        .revoke(path.client_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    app.auth.registry.update(&record);
    tracing::info!(client.id = %record.id, "client revoked");
    Ok(Json(record.into()))
}

/// Give a client a new secret: the old secret and its tokens stop working at once.
///
/// The new secret is in this answer only; the old secret stops working at once, and so do
/// tokens issued with it. Use it when a secret may have leaked. Scope `admin`.
#[utoipa::path(post, path = "/v1/admin/clients/{client_id}/rotate-secret", tag = "admin",
    params(ClientPath),
    security(("oauth2" = ["admin"])),
    responses(
        (status = 200, description = "The client with its new secret; store it now", body = ClientWithSecret),
        (status = "4XX", description = "The request was refused (a revoked client is not found)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn rotate_client_secret(
    State(app): State<App>,
    _admin: Admin,
    AppPath(path): AppPath<ClientPath>,
) -> Result<Json<ClientWithSecret>, ApiError> {
    let client_secret = generate_secret();
    let record = app
        .store
        .clients()
        .rotate_secret(path.client_id, &hash_secret(&client_secret))
        .await?
        .ok_or(ApiError::NotFound)?;
    app.auth.registry.update(&record);
    tracing::info!(client.id = %record.id, "client secret rotated");
    Ok(Json(ClientWithSecret {
        client: record.into(),
        client_secret,
    }))
}

/// Grant a client access to a company.
///
/// From now on the client's tokens reach this company's routes, with the scopes the client
/// holds. Granting a company it already has changes nothing. Scope `admin`.
#[utoipa::path(put, path = "/v1/admin/clients/{client_id}/companies/{company_id}", tag = "admin",
    params(GrantPath),
    security(("oauth2" = ["admin"])),
    responses(
        (status = 200, description = "The client with its grants", body = Client),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn grant_company(
    State(app): State<App>,
    _admin: Admin,
    AppPath(path): AppPath<GrantPath>,
) -> Result<Json<Client>, ApiError> {
    match app
        .store
        .clients()
        .grant(path.client_id, path.company_id)
        .await
    {
        Ok(()) => {}
        Err(koppel_store::StoreError::ForeignKeyViolation { .. }) => {
            return Err(ApiError::NotFound);
        }
        Err(e) => return Err(e.into()),
    }
    let record = app
        .store
        .clients()
        .find(path.client_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    app.auth.registry.update(&record);
    Ok(Json(record.into()))
}

/// Withdraw a client's access to a company.
///
/// From the next request on, the client's tokens no longer reach this company: a 404, as for a
/// company that does not exist. What the client pushed stays. Scope `admin`.
#[utoipa::path(delete, path = "/v1/admin/clients/{client_id}/companies/{company_id}", tag = "admin",
    params(GrantPath),
    security(("oauth2" = ["admin"])),
    responses(
        (status = 200, description = "The client with its remaining grants", body = Client),
        (status = "4XX", description = "The request was refused (no such grant)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn ungrant_company(
    State(app): State<App>,
    _admin: Admin,
    AppPath(path): AppPath<GrantPath>,
) -> Result<Json<Client>, ApiError> {
    if !app
        .store
        .clients()
        .ungrant(path.client_id, path.company_id)
        .await?
    {
        return Err(ApiError::NotFound);
    }
    let record = app
        .store
        .clients()
        .find(path.client_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    app.auth.registry.update(&record);
    Ok(Json(record.into()))
}
