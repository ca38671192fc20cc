//! Bookings (SPEC "For connectors"): a connector records that it booked a version of an
//! order, a receipt or a business day in its accounting package, with its own reference. The
//! document then lists its bookings and shows `needs_correction` once it changed after
//! booking; the lists filter on `not_booked_by` and `changed_since_booked`.
//!
//! Bookings are per package (`exact-online`), not per client: it is the package's books that
//! must match the document, and a connector reinstalled under a new client id must not book
//! everything again. The client that posted a booking is recorded beside it.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{NaiveDate, Utc};
use koppel_domain::problem::Violation;
use koppel_domain::problem::codes;
use koppel_store::bookings::{Bookable, NewBooking, Recorded, Target};
use koppel_store::daily_revenue::COMPANY_WIDE;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::App;
use crate::auth::extract::{BookingsWrite, CompanyAccess};
use crate::booking::Booking;
use crate::error::{ApiError, Problem};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::params::OrderPath;
use crate::params::ReceiptPath;
use crate::params::{DayPath, LocationQuery};

/// The booking routes.
pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(book_order))
        .routes(routes!(book_receipt))
        .routes(routes!(book_daily_revenue))
}

/// What a connector booked: which version, in which package, under which reference.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookingInput {
    /// The version that was booked: an order's `version`, a receipt's `version` (always 1) or
    /// a business day's `revision`. Book what you read; a later version is a correction.
    #[schema(minimum = 1, example = 2)]
    pub version: i32,
    /// Your own reference in the package, e.g. the journal entry number (1 to 255 characters).
    #[schema(min_length = 1, max_length = 255, example = "MEM-2026-000123")]
    pub reference: String,
    /// The accounting package: lowercase letters, digits, `.`, `_` and `-`, at most 64
    /// characters, e.g. `exact-online`, `moneybird`, `twinfield`.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = "^[a-z0-9][a-z0-9._-]{0,63}$",
        example = "exact-online"
    )]
    pub package: String,
}

fn package_ok(package: &str) -> bool {
    let mut chars = package.chars();
    package.len() <= 64
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}

/// Checks the input against the document; every problem at once.
fn check(input: &BookingInput, doc: &Bookable) -> Result<(), ApiError> {
    let mut problems = Vec::new();
    if !package_ok(&input.package) {
        problems.push(Violation::new(
            "/package",
            codes::INVALID_VALUE,
            "package must be 1 to 64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit",
            "package moet bestaan uit 1 tot 64 kleine letters, cijfers, '.', '_' of '-', beginnend met een letter of cijfer",
        ));
    }
    if input.reference.trim().is_empty() {
        problems.push(Violation::new(
            "/reference",
            codes::MISSING_FIELD,
            "reference must not be empty",
            "reference mag niet leeg zijn",
        ));
    } else if input.reference.chars().count() > 255 {
        problems.push(Violation::new(
            "/reference",
            codes::INVALID_VALUE,
            "reference is longer than 255 characters",
            "reference is langer dan 255 tekens",
        ));
    }
    if input.version < 1 || input.version > doc.current_version {
        problems.push(Violation::new(
            "/version",
            codes::UNKNOWN_VERSION,
            format!(
                "version {} does not exist; the current version is {}",
                input.version, doc.current_version
            ),
            format!(
                "versie {} bestaat niet; de huidige versie is {}",
                input.version, doc.current_version
            ),
        ));
    }
    if doc.open {
        problems.push(Violation::new(
            "",
            codes::DAY_NOT_FINAL,
            "the business day is still open: book it once it is final (at 05:00 the next day, or when closed)",
            "de bedrijfsdag is nog open: boek hem als hij definitief is (om 05:00 de volgende dag, of na afsluiten)",
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ApiError::InvalidRequest(problems))
    }
}

/// Checks and records a booking; 201 when new, 200 when the same booking was recorded before.
async fn record(
    app: &App,
    access: &CompanyAccess<BookingsWrite>,
    target: Target<'_>,
    input: &BookingInput,
) -> Result<(StatusCode, Json<Booking>), ApiError> {
    let company_id = access.company_id;
    let bookings = app.store.bookings();
    let doc = bookings
        .bookable(company_id, target, Utc::now())
        .await?
        .ok_or(ApiError::NotFound)?;
    check(input, &doc)?;
    let recorded = bookings
        .record(
            company_id,
            &NewBooking {
                resource: doc.resource,
                resource_id: doc.id,
                version: input.version,
                package: &input.package,
                reference: &input.reference,
                client_id: access.principal.client_id,
            },
        )
        .await?;
    Ok(match recorded {
        Recorded::Created(b) => (StatusCode::CREATED, Json(b.into())),
        Recorded::Existing(b) => (StatusCode::OK, Json(b.into())),
    })
}

/// Record that a version of an order was booked.
///
/// Posting the same booking again (same version, package and reference) answers the
/// booking recorded first with 200. After the order changes, it shows `needs_correction`
/// until the new version is booked too.
#[utoipa::path(post, path = "/v1/companies/{company_id}/orders/{order_id}/bookings", tag = "connectors",
    params(OrderPath),
    request_body(content = BookingInput, description = "What was booked"),
    security(("oauth2" = ["bookings:write"])),
    responses(
        (status = 201, description = "The booking was recorded", body = Booking),
        (status = 200, description = "This booking was recorded before; nothing changed", body = Booking),
        (status = "4XX", description = "The request was refused; a 400 lists every problem with its pointer", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn book_order(
    State(app): State<App>,
    access: CompanyAccess<BookingsWrite>,
    AppPath(path): AppPath<OrderPath>,
    AppJson(input): AppJson<BookingInput>,
) -> Result<(StatusCode, Json<Booking>), ApiError> {
    record(&app, &access, Target::Order(path.order_id), &input).await
}

/// Record that a receipt was booked.
///
/// A receipt never changes, so its `version` is always 1. Posting the same booking again
/// answers the booking recorded first with 200.
#[utoipa::path(post, path = "/v1/companies/{company_id}/receipts/{receipt_id}/bookings", tag = "connectors",
    params(ReceiptPath),
    request_body(content = BookingInput, description = "What was booked"),
    security(("oauth2" = ["bookings:write"])),
    responses(
        (status = 201, description = "The booking was recorded", body = Booking),
        (status = 200, description = "This booking was recorded before; nothing changed", body = Booking),
        (status = "4XX", description = "The request was refused; a 400 lists every problem with its pointer", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn book_receipt(
    State(app): State<App>,
    access: CompanyAccess<BookingsWrite>,
    AppPath(path): AppPath<ReceiptPath>,
    AppJson(input): AppJson<BookingInput>,
) -> Result<(StatusCode, Json<Booking>), ApiError> {
    record(&app, &access, Target::Receipt(path.receipt_id), &input).await
}

/// Record that a revision of a business day's revenue was booked.
///
/// The day is named by date (with `location_id` for one location's figures) or by its id
/// from the event feed; `version` is the day's `revision`. Only a final or revised day can be
/// booked: an open day's figures still change. A late receipt revises the day, which then
/// shows `needs_correction` until the new revision is booked.
#[utoipa::path(post, path = "/v1/companies/{company_id}/daily-revenue/{date}/bookings", tag = "connectors",
    params(DayPath, LocationQuery),
    request_body(content = BookingInput, description = "What was booked"),
    security(("oauth2" = ["bookings:write"])),
    responses(
        (status = 201, description = "The booking was recorded", body = Booking),
        (status = 200, description = "This booking was recorded before; nothing changed", body = Booking),
        (status = "4XX", description = "The request was refused; a 400 lists every problem with its pointer", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn book_daily_revenue(
    State(app): State<App>,
    access: CompanyAccess<BookingsWrite>,
    AppPath(path): AppPath<DayPath>,
    AppQuery(query): AppQuery<LocationQuery>,
    AppJson(input): AppJson<BookingInput>,
) -> Result<(StatusCode, Json<Booking>), ApiError> {
    let location = query.location_id.as_deref().map(str::trim);
    if location.is_some_and(str::is_empty) {
        return Err(ApiError::InvalidParameter(
            "location_id must not be empty".to_owned(),
        ));
    }
    let target = if let Ok(id) = Uuid::parse_str(&path.date) {
        Target::DayId(id)
    } else {
        let date =
            NaiveDate::parse_from_str(&path.date, "%Y-%m-%d").map_err(|_| ApiError::NotFound)?;
        Target::Day {
            location_key: location.unwrap_or(COMPANY_WIDE),
            date,
        }
    };
    record(&app, &access, target, &input).await
}
