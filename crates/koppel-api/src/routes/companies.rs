//! The companies a vendor or connector is granted.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::App;
use crate::auth::extract::{CompanyAccess, Principal, SettingsRead};
use crate::error::{ApiError, Problem};
use crate::onboarding::Company;
use crate::params::CompanyPath;

/// The company routes.
pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_my_companies))
        .routes(routes!(get_company))
}

/// The companies a client is granted.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MyCompanies {
    /// Every company this client may act on, by id.
    pub data: Vec<Company>,
    /// Always null: a client is granted few companies, so this list has one page.
    pub next_cursor: Option<String>,
}

/// List the companies this client is granted.
///
/// The companies the calling client is granted, with their settings: where a vendor or
/// connector finds the `company_id` every other path needs. Any valid token.
#[utoipa::path(get, path = "/v1/companies", tag = "companies",
    security(("oauth2" = [])),
    responses(
        (status = 200, description = "The granted companies", body = MyCompanies),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_my_companies(
    State(app): State<App>,
    principal: Principal,
) -> Result<Json<MyCompanies>, ApiError> {
    let ids: Vec<Uuid> = principal.client.companies.iter().copied().collect();
    let records = app.store.companies().find_many(&ids).await?;
    Ok(Json(MyCompanies {
        data: records.into_iter().map(Company::from).collect(),
        next_cursor: None,
    }))
}

/// Get a company's settings: timezone, currency and business-day cutoff.
///
/// The settings a document depends on: the timezone and business-day cutoff that decide a
/// receipt's business date, and the currency of the books. A company the client is not granted
/// is a 404. Any valid token.
#[utoipa::path(get, path = "/v1/companies/{company_id}", tag = "companies",
    params(CompanyPath),
    security(("oauth2" = ["settings:read"])),
    responses(
        (status = 200, description = "The company", body = Company),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_company(
    State(app): State<App>,
    access: CompanyAccess<SettingsRead>,
) -> Result<Json<Company>, ApiError> {
    let record = app
        .store
        .companies()
        .find(access.company_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(record.into()))
}
