//! `GET …/search?reference=`: any order, receipt, customer or booked business day by any of
//! its references (W9 iii: support asks about "payment tr_WDqYK6vllg" or "journal entry
//! 2026-0042" and the connector must find the transaction).
//!
//! The scope is `events:read`, the connector's scope for reading across collections (as the
//! feed does). The answer then only holds the collections the token may also read
//! (`orders:read`, `receipts:read`, `customers:read`), so a search never shows more than
//! reading the documents would.

use axum::Json;
use axum::extract::State;
use koppel_store::search::{SearchAfter, SearchHit, SearchIn};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::App;
use crate::auth::extract::{CompanyAccess, EventsRead};
use crate::error::{ApiError, Problem};
use crate::extract::AppQuery;
use crate::params::{Cursor, Page, PageParams};

/// The search route.
pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(search_by_reference))
}

/// What to look for.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// The reference, matched exactly (case-sensitive): our id, an `external_id`, a number,
    /// a payment reference or a booking reference.
    #[param(min_length = 1, max_length = 255, example = "tr_WDqYK6vllg")]
    pub reference: String,
    /// How many matches to answer, 1 to 1000; default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

/// The booking a booking reference matched.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MatchedBooking {
    /// The package it was booked in.
    pub package: String,
    /// The version (a day's revision) that was booked.
    pub version: i32,
}

/// The collections a search looks in.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum SearchResource {
    /// An order.
    Orders,
    /// A receipt.
    Receipts,
    /// A customer.
    Customers,
    /// A booked business day.
    DailyRevenue,
}

/// The references a search compares.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum MatchedOn {
    /// Koppel's id.
    Id,
    /// The vendor's `external_id`.
    ExternalId,
    /// The document's number.
    Number,
    /// A payment's `reference` (or an order payment's `provider_reference`).
    PaymentReference,
    /// A connector's booking `reference`.
    BookingReference,
}
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SearchMatch {
    /// The collection.
    #[schema(value_type = SearchResource, example = "orders")]
    pub resource: String,
    /// The document's id.
    pub id: Uuid,
    /// Which of its references matched. A document that matches in several ways is
    /// listed once per way.
    #[schema(value_type = MatchedOn, example = "payment_reference")]
    pub matched_on: String,
    /// Where to read the document.
    #[schema(
        example = "/v1/companies/0192f4a0-0000-7000-8000-000000000000/orders/0192f4a0-0000-7000-8000-000000000001"
    )]
    pub path: String,
    /// The vendor's id of the document; null for a business day.
    pub external_id: Option<String>,
    /// Its number, if it has one.
    pub number: Option<String>,
    /// Its current version (a business day's revision).
    pub version: i32,
    /// For a business day: its date.
    #[schema(value_type = Option<String>, example = "2026-03-29")]
    pub business_date: Option<String>,
    /// For a business day: its location; null for the whole company.
    pub location_id: Option<String>,
    /// For a match on a booking reference: the booking.
    pub booking: Option<MatchedBooking>,
}

/// The matches, in a stable order (collection, id, kind of match).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SearchResult {
    /// The matches on this page.
    pub data: Vec<SearchMatch>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

fn path_of(company_id: Uuid, hit: &SearchHit) -> String {
    let collection = match hit.resource.as_str() {
        "daily_revenue" => "daily-revenue",
        other => other,
    };
    format!("/v1/companies/{company_id}/{collection}/{}", hit.id)
}

fn sort_key(hit: &SearchHit) -> SearchAfter {
    (
        hit.resource.clone(),
        hit.id,
        hit.matched_on.clone(),
        hit.booking_package.clone().unwrap_or_default(),
        hit.booking_version.unwrap_or_default(),
    )
}

/// Find orders, receipts, customers and booked business days by any reference.
///
/// Matches exactly on our id, `external_id`, `number`, a payment's `reference` (in any version
/// of an order) and the `reference` of a booking. Every kind of match is an index lookup, so
/// the answer costs the same in a company of ten documents as in one of ten million. Only
/// the collections the token may read (`orders:read`, `receipts:read`, `customers:read`) are
/// searched.
#[utoipa::path(get, path = "/v1/companies/{company_id}/search", tag = "connectors",
    params(crate::params::CompanyPath, SearchQuery),
    security(("oauth2" = ["events:read"])),
    responses(
        (status = 200, description = "Every document that carries the reference; empty when none does", body = SearchResult),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn search_by_reference(
    State(app): State<App>,
    access: CompanyAccess<EventsRead>,
    AppQuery(query): AppQuery<SearchQuery>,
) -> Result<Json<SearchResult>, ApiError> {
    let reference = query.reference.as_str();
    if reference.is_empty() || reference.chars().count() > 255 {
        return Err(ApiError::InvalidParameter(
            "reference must be 1 to 255 characters".to_owned(),
        ));
    }
    let page = PageParams {
        limit: query.limit,
        cursor: query.cursor.clone(),
    };
    let limit = page.limit()?;
    let after: Option<SearchAfter> = page.cursor()?;
    let scopes = &access.principal.scopes;
    let may = |scope: &str| scopes.iter().any(|s| s == scope);
    let within = SearchIn {
        orders: may("orders:read"),
        receipts: may("receipts:read"),
        customers: may("customers:read"),
    };
    let company_id = access.company_id;
    let hits = app
        .store
        .search(
            company_id,
            reference,
            within,
            after.as_ref(),
            i64::from(limit) + 1,
        )
        .await?;
    let Page { items, next } =
        Page::from_overfetch(hits, limit, |h: &SearchHit| Cursor::encode(&sort_key(h)));
    Ok(Json(SearchResult {
        data: items
            .into_iter()
            .map(|h| SearchMatch {
                path: path_of(company_id, &h),
                booking: h
                    .booking_package
                    .clone()
                    .zip(h.booking_version)
                    .map(|(package, version)| MatchedBooking { package, version }),
                resource: h.resource,
                id: h.id,
                matched_on: h.matched_on,
                external_id: h.external_id,
                number: h.number,
                version: h.version,
                business_date: h.business_date,
                location_id: h.location_id,
            })
            .collect(),
        next_cursor: next,
    }))
}
