//! Locations (shops, branches) and their registers (tills), pushed by POS vendors and read by
//! connectors (SPEC "POS days, complete"). Like the settings they are upserted by the
//! vendor's `external_id`, versioned, and every change is an event. The `external_id`s are the
//! codes receipts carry as `location_id` and `register_id`: a receipt is never refused for a
//! code Koppel does not know, and is linked to the location once it exists.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use koppel_domain::identifiers::CountryCode;
use koppel_domain::order::AddressDraft;
use koppel_domain::problem::{Violation, codes};
use koppel_store::locations::{LocationRecord, NewLocation, RegisterRecord};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::App;
use crate::auth::extract::{CompanyAccess, SettingsRead, SettingsWrite};
use crate::buyer::OrderAddress;
use crate::error::{ApiError, Problem};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::params::{SettingsQuery, change_page, upsert_status};
use crate::validate::check_external_id_and_name;

/// The location routes.
pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(upsert_location, list_locations))
        .routes(routes!(get_location))
        .routes(routes!(upsert_register, list_registers))
        .routes(routes!(get_register))
}

/// A location to create or update, matched by `external_id`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationInput {
    /// Your id of the location: the `location_id` your receipts carry; the upsert key.
    #[schema(example = "centrum")]
    pub external_id: String,
    /// The location's name.
    #[schema(example = "Bakkerij De Korrel, Centrum")]
    pub name: String,
    /// Its address.
    #[schema(value_type = Option<crate::buyer::OrderAddressInput>)]
    pub address: Option<AddressDraft>,
    /// The cost centre (kostenplaats) its revenue is booked to.
    #[schema(example = "KP-100")]
    pub cost_centre: Option<String>,
}

/// A location.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Location {
    /// Koppel's id; never changes.
    pub id: Uuid,
    /// Your id: the `location_id` receipts carry.
    pub external_id: String,
    /// The name.
    pub name: String,
    /// The address.
    pub address: Option<OrderAddress>,
    /// The cost centre its revenue is booked to.
    pub cost_centre: Option<String>,
    /// How often it changed, starting at 1.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<LocationRecord> for Location {
    fn from(r: LocationRecord) -> Self {
        Self {
            id: r.id,
            external_id: r.external_id,
            name: r.name,
            address: r.address.and_then(|a| serde_json::from_value(a.0).ok()),
            cost_centre: r.cost_centre,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// The location list, as the OpenAPI document names and describes its page.
#[derive(Debug)]
pub enum LocationListing {}

impl crate::page::Listing for LocationListing {
    type Item = Location;
    const NAME: &'static str = "LocationList";
    const DESCRIPTION: &'static str = "A page of locations.";
    const DATA: &'static str = "The locations, oldest change first.";
    const CURSOR: &'static str = "Pass as `cursor` for the next page; null on the last.";
}

/// A page of locations.
pub type LocationList = crate::page::Page<LocationListing>;

/// A register to create or update, matched by `external_id` within its location.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterInput {
    /// Your id of the register: the `register_id` your receipts carry; the upsert key within
    /// the location.
    #[schema(example = "kassa-1")]
    pub external_id: String,
    /// The register's name.
    #[schema(example = "Kassa bij de deur")]
    pub name: String,
}

/// A register (till) of a location.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Register {
    /// Koppel's id; never changes.
    pub id: Uuid,
    /// Koppel's id of its location.
    pub location_id: Uuid,
    /// Your id: the `register_id` receipts carry.
    pub external_id: String,
    /// The name.
    pub name: String,
    /// How often it changed, starting at 1.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<RegisterRecord> for Register {
    fn from(r: RegisterRecord) -> Self {
        Self {
            id: r.id,
            location_id: r.location_id,
            external_id: r.external_id,
            name: r.name,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// The register list, as the OpenAPI document names and describes its page.
#[derive(Debug)]
pub enum RegisterListing {}

impl crate::page::Listing for RegisterListing {
    type Item = Register;
    const NAME: &'static str = "RegisterList";
    const DESCRIPTION: &'static str = "A page of registers.";
    const DATA: &'static str = "The registers, oldest change first.";
    const CURSOR: &'static str = "Pass as `cursor` for the next page; null on the last.";
}

/// A page of registers.
pub type RegisterList = crate::page::Page<RegisterListing>;

/// The `company_id` and `location_id` path parameters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct LocationPath {
    /// The company's id.
    pub company_id: Uuid,
    /// Koppel's id of the location.
    pub location_id: Uuid,
}

/// The `company_id`, `location_id` and `register_id` path parameters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct RegisterPath {
    /// The company's id.
    pub company_id: Uuid,
    /// Koppel's id of the location.
    pub location_id: Uuid,
    /// Koppel's id of the register.
    pub register_id: Uuid,
}

fn trimmed(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Create or update a location by its `external_id`.
///
/// A new `external_id` creates the location (201), a known one updates it (200, a new
/// version) or, when nothing changed, answers it as it is (200). Receipts that name its
/// `external_id` as `location_id` are linked to it. Scope `settings:write`.
#[utoipa::path(post, path = "/v1/companies/{company_id}/locations", tag = "settings",
    params(crate::params::CompanyPath),
    request_body(content = LocationInput, description = "The location"),
    security(("oauth2" = ["settings:write"])),
    responses(
        (status = 201, description = "The location was created", body = Location),
        (status = 200, description = "The location was updated, or was already exactly this", body = Location),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn upsert_location(
    State(app): State<App>,
    access: CompanyAccess<SettingsWrite>,
    AppJson(input): AppJson<LocationInput>,
) -> Result<(StatusCode, Json<Location>), ApiError> {
    let mut errors = Vec::new();
    check_external_id_and_name(&input.external_id, &input.name, &mut errors);
    let mut address = input.address;
    if let Some(address) = address.as_mut()
        && let Some(country) = address.country.as_deref()
    {
        match CountryCode::parse(country) {
            Ok(code) => address.country = Some(code.as_str().to_owned()),
            Err(_) => errors.push(Violation::new(
                "/address/country",
                codes::INVALID_COUNTRY,
                format!("{country:?} is not an iso 3166-1 alpha-2 country code such as NL"),
                format!("{country:?} is geen iso 3166-1 alpha-2-landcode zoals NL"),
            )),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::InvalidRequest(errors));
    }
    let new = NewLocation {
        external_id: input.external_id,
        name: input.name.trim().to_owned(),
        address: address
            .map(|a| serde_json::to_value(a).map_err(|e| ApiError::internal(&e)))
            .transpose()?,
        cost_centre: trimmed(input.cost_centre),
    };
    let done = app
        .store
        .locations()
        .upsert(access.company_id, &new)
        .await?;
    Ok((upsert_status(done.outcome), Json(done.record.into())))
}

/// List locations, by `external_id` or changed since a moment.
///
/// Oldest change first. Scope `settings:read`.
#[utoipa::path(get, path = "/v1/companies/{company_id}/locations", tag = "settings",
    params(crate::params::CompanyPath, SettingsQuery),
    security(("oauth2" = ["settings:read"])),
    responses(
        (status = 200, description = "A page of locations, oldest change first", body = LocationList),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_locations(
    State(app): State<App>,
    access: CompanyAccess<SettingsRead>,
    AppQuery(query): AppQuery<SettingsQuery>,
) -> Result<Json<LocationList>, ApiError> {
    let (filter, limit) = query.filter()?;
    let rows = app
        .store
        .locations()
        .list(access.company_id, &filter)
        .await?;
    let (data, next_cursor) = change_page(rows, limit, |r: &LocationRecord| (r.updated_at, r.id));
    Ok(Json(LocationList { data, next_cursor }))
}

/// Get one location.
///
/// By Koppel's id, as events name it. Scope `settings:read`.
#[utoipa::path(get, path = "/v1/companies/{company_id}/locations/{location_id}", tag = "settings",
    params(LocationPath),
    security(("oauth2" = ["settings:read"])),
    responses(
        (status = 200, description = "The location", body = Location),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_location(
    State(app): State<App>,
    access: CompanyAccess<SettingsRead>,
    AppPath(path): AppPath<LocationPath>,
) -> Result<Json<Location>, ApiError> {
    let record = app
        .store
        .locations()
        .get(access.company_id, path.location_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(record.into()))
}

/// Create or update a register of a location by its `external_id`.
///
/// The `external_id` is unique within the location (two shops may both have a `kassa-1`).
/// Scope `settings:write`.
#[utoipa::path(post, path = "/v1/companies/{company_id}/locations/{location_id}/registers", tag = "settings",
    params(LocationPath),
    request_body(content = RegisterInput, description = "The register"),
    security(("oauth2" = ["settings:write"])),
    responses(
        (status = 201, description = "The register was created", body = Register),
        (status = 200, description = "The register was updated, or was already exactly this", body = Register),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn upsert_register(
    State(app): State<App>,
    access: CompanyAccess<SettingsWrite>,
    AppPath(path): AppPath<LocationPath>,
    AppJson(input): AppJson<RegisterInput>,
) -> Result<(StatusCode, Json<Register>), ApiError> {
    let mut errors = Vec::new();
    check_external_id_and_name(&input.external_id, &input.name, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::InvalidRequest(errors));
    }
    let done = app
        .store
        .locations()
        .upsert_register(
            access.company_id,
            path.location_id,
            &input.external_id,
            input.name.trim(),
        )
        .await?;
    Ok((upsert_status(done.outcome), Json(done.record.into())))
}

/// List a location's registers.
///
/// Oldest change first. Scope `settings:read`.
#[utoipa::path(get, path = "/v1/companies/{company_id}/locations/{location_id}/registers", tag = "settings",
    params(LocationPath, SettingsQuery),
    security(("oauth2" = ["settings:read"])),
    responses(
        (status = 200, description = "A page of registers, oldest change first", body = RegisterList),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_registers(
    State(app): State<App>,
    access: CompanyAccess<SettingsRead>,
    AppPath(path): AppPath<LocationPath>,
    AppQuery(query): AppQuery<SettingsQuery>,
) -> Result<Json<RegisterList>, ApiError> {
    let (filter, limit) = query.filter()?;
    let rows = app
        .store
        .locations()
        .registers(access.company_id, path.location_id, &filter)
        .await?;
    let (data, next_cursor) = change_page(rows, limit, |r: &RegisterRecord| (r.updated_at, r.id));
    Ok(Json(RegisterList { data, next_cursor }))
}

/// Get one register.
///
/// Scope `settings:read`.
#[utoipa::path(get, path = "/v1/companies/{company_id}/locations/{location_id}/registers/{register_id}", tag = "settings",
    params(RegisterPath),
    security(("oauth2" = ["settings:read"])),
    responses(
        (status = 200, description = "The register", body = Register),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_register(
    State(app): State<App>,
    access: CompanyAccess<SettingsRead>,
    AppPath(path): AppPath<RegisterPath>,
) -> Result<Json<Register>, ApiError> {
    let record = app
        .store
        .locations()
        .register(access.company_id, path.register_id)
        .await?
        .filter(|r| r.location_id == path.location_id)
        .ok_or(ApiError::NotFound)?;
    Ok(Json(record.into()))
}
