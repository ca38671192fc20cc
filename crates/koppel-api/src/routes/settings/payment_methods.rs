//! Payment methods (W5g, K7d): how a company is paid, and what kind of payment each is.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use koppel_store::settings::{NewPaymentMethod, PaymentMethodRecord, Upserted};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::App;
use crate::auth::extract::{CompanyAccess, SettingsRead, SettingsWrite};
use crate::closed_sets::PaymentMethodKind;
use crate::error::{ApiError, Problem};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::params::{SettingsQuery, change_page, upsert_status};
use crate::validate::check_external_id_and_name;

/// The routes of this setting.
pub(super) fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(upsert_payment_method, list_payment_methods))
        .routes(routes!(get_payment_method))
}

/// A payment method to create or update, matched by `external_id`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentMethodInput {
    /// The vendor's own id of the method; the upsert key.
    #[schema(example = "pin")]
    pub external_id: String,
    /// The method's name as the vendor shows it.
    #[schema(example = "PIN")]
    pub name: String,
    /// What kind of payment it is.
    pub kind: PaymentMethodKind,
    /// Whether the method is in use; default true.
    pub active: Option<bool>,
}

/// A payment method.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PaymentMethod {
    /// Our id; never changes.
    pub id: Uuid,
    /// The vendor's id.
    pub external_id: String,
    /// The method's name.
    pub name: String,
    /// What kind of payment it is.
    #[schema(value_type = PaymentMethodKind)]
    pub kind: String,
    /// Whether the method is in use.
    pub active: bool,
    /// How often the method changed, starting at 1.
    pub version: i32,
    /// When the method was created.
    pub created_at: DateTime<Utc>,
    /// When the method last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<PaymentMethodRecord> for PaymentMethod {
    fn from(r: PaymentMethodRecord) -> Self {
        Self {
            id: r.id,
            external_id: r.external_id,
            name: r.name,
            kind: r.kind,
            active: r.active,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// The payment method list, as the OpenAPI document names and describes its page.
#[derive(Debug)]
pub enum PaymentMethodListing {}

impl crate::page::Listing for PaymentMethodListing {
    type Item = PaymentMethod;
    const NAME: &'static str = "PaymentMethodList";
    const DESCRIPTION: &'static str = "A page of payment methods.";
    const DATA: &'static str = "The methods on this page.";
}

/// A page of payment methods.
pub type PaymentMethodList = crate::page::Page<PaymentMethodListing>;

/// The `company_id` and `payment_method_id` path parameters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct PaymentMethodPath {
    /// The company's id.
    pub company_id: Uuid,
    /// The payment method's id.
    pub payment_method_id: Uuid,
}

/// Create or update a payment method by its `external_id`.
///
/// The vendor's `external_id` is the key: a new one creates the method (201), a known one
/// updates it (200, a new version) or answers it unchanged. Its `kind` tells a connector how to
/// book it (cash, card, gift card, on account). Each change is an event in the feed. Scope
/// `settings:write`.
#[utoipa::path(post, path = "/v1/companies/{company_id}/payment-methods", tag = "settings",
    params(crate::params::CompanyPath),
    request_body(content = PaymentMethodInput, description = "The payment method"),
    security(("oauth2" = ["settings:write"])),
    responses(
        (status = 201, description = "The method was created", body = PaymentMethod),
        (status = 200, description = "The method was updated, or was already exactly this", body = PaymentMethod),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn upsert_payment_method(
    State(app): State<App>,
    access: CompanyAccess<SettingsWrite>,
    AppJson(input): AppJson<PaymentMethodInput>,
) -> Result<(StatusCode, Json<PaymentMethod>), ApiError> {
    let mut errors = Vec::new();
    check_external_id_and_name(&input.external_id, &input.name, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::InvalidRequest(errors));
    }
    let new = NewPaymentMethod {
        external_id: input.external_id,
        name: input.name.trim().to_owned(),
        kind: input.kind.as_str().to_owned(),
        active: input.active.unwrap_or(true),
    };
    let Upserted { record, outcome } = app
        .store
        .settings()
        .upsert_payment_method(access.company_id, &new)
        .await?;
    Ok((upsert_status(outcome), Json(record.into())))
}

/// List payment methods, by `external_id` or changed since a moment.
///
/// Payment methods of the company, oldest change first. `external_id` finds one by the vendor's
/// id; `updated_since` gives those changed since a moment. Scope `settings:read`.
#[utoipa::path(get, path = "/v1/companies/{company_id}/payment-methods", tag = "settings",
    params(crate::params::CompanyPath, SettingsQuery),
    security(("oauth2" = ["settings:read"])),
    responses(
        (status = 200, description = "A page of payment methods, oldest change first", body = PaymentMethodList),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_payment_methods(
    State(app): State<App>,
    access: CompanyAccess<SettingsRead>,
    AppQuery(query): AppQuery<SettingsQuery>,
) -> Result<Json<PaymentMethodList>, ApiError> {
    let (filter, limit) = query.filter()?;
    let rows = app
        .store
        .settings()
        .payment_methods(access.company_id, &filter)
        .await?;
    let (data, next_cursor) =
        change_page(rows, limit, |r: &PaymentMethodRecord| (r.updated_at, r.id));
    Ok(Json(PaymentMethodList { data, next_cursor }))
}

/// Get one payment method.
///
/// By Koppel's id, as order and receipt payments name it. Scope `settings:read`.
#[utoipa::path(get, path = "/v1/companies/{company_id}/payment-methods/{payment_method_id}", tag = "settings",
    params(PaymentMethodPath),
    security(("oauth2" = ["settings:read"])),
    responses(
        (status = 200, description = "The payment method", body = PaymentMethod),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_payment_method(
    State(app): State<App>,
    access: CompanyAccess<SettingsRead>,
    AppPath(path): AppPath<PaymentMethodPath>,
) -> Result<Json<PaymentMethod>, ApiError> {
    let record = app
        .store
        .settings()
        .payment_method(access.company_id, path.payment_method_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(record.into()))
}
