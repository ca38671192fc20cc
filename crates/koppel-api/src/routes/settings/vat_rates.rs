//! VAT rates (W5f, K7c): the rates a company uses, by external id.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use koppel_domain::identifiers::CountryCode;
use koppel_domain::problem::codes;
use koppel_domain::vat::{self, VatCategory};
use koppel_store::settings::{NewVatRate, Upserted, VatRateRecord};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::App;
use crate::auth::extract::{CompanyAccess, SettingsRead, SettingsWrite};
use crate::error::{ApiError, Problem};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::params::{SettingsQuery, change_page, upsert_status};
use crate::validate::{check_external_id_and_name, violation};

/// The routes of this setting.
pub(super) fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(upsert_vat_rate, list_vat_rates))
        .routes(routes!(get_vat_rate))
}

/// A VAT rate to create or update, matched by `external_id`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VatRateInput {
    /// The vendor's own id of the rate; the upsert key.
    #[schema(example = "btw-hoog")]
    pub external_id: String,
    /// The rate's name as the vendor shows it.
    #[schema(example = "BTW hoog")]
    pub name: String,
    /// The percentage, as a decimal string or JSON number (parsed exactly), e.g. `"21"`.
    #[serde(with = "koppel_domain::money::exact")]
    #[schema(value_type = String, example = "21")]
    pub percentage: Decimal,
    /// The VAT category.
    #[schema(value_type = crate::closed_sets::VatCategory, example = "standard")]
    pub category: VatCategory,
    /// ISO 3166-1 alpha-2 country of the rate; default `NL`.
    #[schema(example = "NL")]
    pub country: Option<String>,
    /// Whether the rate is in use; default true.
    pub active: Option<bool>,
}

/// A VAT rate.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VatRate {
    /// Our id; never changes.
    pub id: Uuid,
    /// The vendor's id.
    pub external_id: String,
    /// The rate's name.
    pub name: String,
    /// The percentage as a decimal string.
    #[schema(value_type = String, example = "21")]
    pub percentage: Decimal,
    /// The VAT category.
    #[schema(value_type = crate::closed_sets::VatCategory)]
    pub category: String,
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
    /// Whether the rate is in use.
    pub active: bool,
    /// How often the rate changed, starting at 1.
    pub version: i32,
    /// When the rate was created.
    pub created_at: DateTime<Utc>,
    /// When the rate last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<VatRateRecord> for VatRate {
    fn from(r: VatRateRecord) -> Self {
        Self {
            id: r.id,
            external_id: r.external_id,
            name: r.name,
            percentage: r.percentage.normalize(),
            category: r.category,
            country: r.country,
            active: r.active,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// The vat rate list, as the OpenAPI document names and describes its page.
#[derive(Debug)]
pub enum VatRateListing {}

impl crate::page::Listing for VatRateListing {
    type Item = VatRate;
    const NAME: &'static str = "VatRateList";
    const DESCRIPTION: &'static str = "A page of VAT rates.";
    const DATA: &'static str = "The rates on this page.";
}

/// A page of VAT rates.
pub type VatRateList = crate::page::Page<VatRateListing>;

/// The `company_id` and `vat_rate_id` path parameters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct VatRatePath {
    /// The company's id.
    pub company_id: Uuid,
    /// The VAT rate's id.
    pub vat_rate_id: Uuid,
}

/// Create or update a VAT rate by its `external_id`.
///
/// The vendor's `external_id` is the key: a new one creates the rate (201), a known one updates
/// it (200, a new version) or answers it unchanged. The percentage must fit the category: 0 for
/// zero-rated categories, more than 0 for standard and reduced. Each change is an event in the
/// feed. Scope `settings:write`.
#[utoipa::path(post, path = "/v1/companies/{company_id}/vat-rates", tag = "settings",
    params(crate::params::CompanyPath),
    request_body(content = VatRateInput, description = "The VAT rate"),
    security(("oauth2" = ["settings:write"])),
    responses(
        (status = 201, description = "The rate was created", body = VatRate),
        (status = 200, description = "The rate was updated, or was already exactly this", body = VatRate),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn upsert_vat_rate(
    State(app): State<App>,
    access: CompanyAccess<SettingsWrite>,
    AppJson(input): AppJson<VatRateInput>,
) -> Result<(StatusCode, Json<VatRate>), ApiError> {
    let mut errors = Vec::new();
    check_external_id_and_name(&input.external_id, &input.name, &mut errors);
    let country = input.country.unwrap_or_else(|| "NL".to_owned());
    if CountryCode::parse(&country).is_err() {
        errors.push(violation(
            "/country",
            codes::INVALID_COUNTRY,
            "not an ISO 3166-1 alpha-2 country code",
            "geen ISO 3166-1 alpha-2 landcode",
        ));
    }
    let percentage = input.percentage;
    errors.extend(vat::check_rate_percentage(input.category, percentage));
    if !errors.is_empty() {
        return Err(ApiError::InvalidRequest(errors));
    }
    let new = NewVatRate {
        external_id: input.external_id,
        name: input.name.trim().to_owned(),
        percentage: percentage.normalize(),
        category: input.category.as_str().to_owned(),
        country,
        active: input.active.unwrap_or(true),
    };
    let Upserted { record, outcome } = app
        .store
        .settings()
        .upsert_vat_rate(access.company_id, &new)
        .await?;
    Ok((upsert_status(outcome), Json(record.into())))
}

/// List VAT rates, by `external_id` or changed since a moment.
///
/// VAT rates of the company, oldest change first. `external_id` finds one by the vendor's id;
/// `updated_since` gives those changed since a moment. Scope `settings:read`.
#[utoipa::path(get, path = "/v1/companies/{company_id}/vat-rates", tag = "settings",
    params(crate::params::CompanyPath, SettingsQuery),
    security(("oauth2" = ["settings:read"])),
    responses(
        (status = 200, description = "A page of VAT rates, oldest change first", body = VatRateList),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_vat_rates(
    State(app): State<App>,
    access: CompanyAccess<SettingsRead>,
    AppQuery(query): AppQuery<SettingsQuery>,
) -> Result<Json<VatRateList>, ApiError> {
    let (filter, limit) = query.filter()?;
    let rows = app
        .store
        .settings()
        .vat_rates(access.company_id, &filter)
        .await?;
    let (data, next_cursor) = change_page(rows, limit, |r: &VatRateRecord| (r.updated_at, r.id));
    Ok(Json(VatRateList { data, next_cursor }))
}

/// Get one VAT rate.
///
/// By Koppel's id, as a line's `vat.rate_id` names it. Scope `settings:read`.
#[utoipa::path(get, path = "/v1/companies/{company_id}/vat-rates/{vat_rate_id}", tag = "settings",
    params(VatRatePath),
    security(("oauth2" = ["settings:read"])),
    responses(
        (status = 200, description = "The VAT rate", body = VatRate),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_vat_rate(
    State(app): State<App>,
    access: CompanyAccess<SettingsRead>,
    AppPath(path): AppPath<VatRatePath>,
) -> Result<Json<VatRate>, ApiError> {
    let record = app
        .store
        .settings()
        .vat_rate(access.company_id, path.vat_rate_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(record.into()))
}
