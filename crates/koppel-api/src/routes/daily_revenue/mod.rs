//! The daily revenue (dagomzet, K5): per business day, for the whole company or one location,
//! the figures a bookkeeping connector posts, kept up to date as receipts arrive; its status
//! (`open`, `final` at 05:00 the next morning or when the vendor closes the day, `revised`
//! when a late receipt changed it), and the close (the Z-report).

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, NaiveDate, Utc};
use koppel_domain::business_day;
use koppel_store::daily_revenue::{COMPANY_WIDE, DayFilter, DayKey, DayRecord};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::App;
use crate::auth::extract::{CompanyAccess, ReceiptsRead};
use crate::clock::{Clock, company_clock};
use crate::error::{ApiError, Problem};
use crate::extract::{AppPath, AppQuery};
use crate::params::{Cursor, DayPath, LocationQuery, Page, PageParams};
use answers::{DailyRevenue, DailyRevenueList};

pub mod answers;
pub mod cash;
pub mod close;
pub mod journal;
pub mod revisions;

/// The daily revenue routes.
pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_daily_revenue))
        .routes(routes!(get_daily_revenue))
        .routes(routes!(close::close_daily_revenue))
        .routes(routes!(revisions::list_day_revisions))
        .routes(routes!(revisions::get_day_revision))
        .routes(routes!(journal::get_day_journal))
}

/// Filters of the list of days.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DayListQuery {
    /// The first business date (inclusive), YYYY-MM-DD.
    #[param(value_type = Option<String>, example = "2026-03-01")]
    pub from: Option<NaiveDate>,
    /// The business date to stop before (exclusive), YYYY-MM-DD.
    #[param(value_type = Option<String>, example = "2026-04-01")]
    pub to: Option<NaiveDate>,
    /// The vendor's location id; the whole company's days when left out.
    pub location_id: Option<String>,
    /// Only days this accounting package (a booking's `package`) has never booked.
    #[param(min_length = 1, example = "exact-online")]
    pub not_booked_by: Option<String>,
    /// Only days this accounting package booked in an older revision than the current one:
    /// the corrections it still has to post.
    #[param(min_length = 1, example = "exact-online")]
    pub changed_since_booked: Option<String>,
    /// How many days to answer, 1 to 1000; default 100.
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

fn key_of(date: NaiveDate, location: Option<String>) -> Result<DayKey, ApiError> {
    let location_key = match location {
        None => COMPANY_WIDE.to_owned(),
        Some(l) if l.trim().is_empty() => {
            return Err(ApiError::InvalidParameter(
                "location_id must not be empty".to_owned(),
            ));
        }
        Some(l) => l.trim().to_owned(),
    };

    Ok(DayKey {
        location_key,
        business_date: date,
    })
}

fn date_of(raw: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| ApiError::NotFound)
}

fn final_at(clock: Clock, date: NaiveDate) -> DateTime<Utc> {
    business_day::final_at(date, clock.tz, clock.cutoff)
}

/// Get one business day's revenue, for the whole company or one location.
///
/// The figures count every receipt of the day, late ones included; the status is as of now
/// (a day past 05:00 the next morning is `final` even if nothing else happened).
#[utoipa::path(get, path = "/v1/companies/{company_id}/daily-revenue/{date}", tag = "receipts",
    params(DayPath, LocationQuery),
    security(("oauth2" = ["receipts:read"])),
    responses(
        (status = 200, description = "The day's revenue", body = DailyRevenue),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_daily_revenue(
    State(app): State<App>,
    access: CompanyAccess<ReceiptsRead>,
    AppPath(path): AppPath<DayPath>,
    AppQuery(query): AppQuery<LocationQuery>,
) -> Result<Json<DailyRevenue>, ApiError> {
    let company_id = access.company_id;
    let (company, clock) = company_clock(&app, company_id).await?;
    let now = Utc::now();
    let days = app.store.daily_revenue();
    if let Ok(id) = Uuid::parse_str(&path.date) {
        let day = days
            .find_by_id(company_id, id, now)
            .await?
            .ok_or(ApiError::NotFound)?;
        let day = DailyRevenue::from_record(day, &company.currency);
        return Ok(Json(day.with_number_gaps(&app, company_id).await?));
    }
    let key = key_of(date_of(&path.date)?, query.location_id)?;
    let day = match days.find(company_id, &key, now).await? {
        Some(day) => {
            DailyRevenue::from_record(day, &company.currency)
                .with_number_gaps(&app, company_id)
                .await?
        }
        None => {
            let final_at = final_at(clock, key.business_date);
            DailyRevenue::empty(key, final_at, now, &company.currency)
        }
    };
    Ok(Json(day))
}

/// List the business days with revenue from `from` (inclusive) to `to` (exclusive).
///
/// Only days in which a receipt counted (or that were closed) are listed, oldest first.
#[utoipa::path(get, path = "/v1/companies/{company_id}/daily-revenue", tag = "receipts",
    params(crate::params::CompanyPath, DayListQuery),
    security(("oauth2" = ["receipts:read"])),
    responses(
        (status = 200, description = "A page of days, oldest first", body = DailyRevenueList),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_daily_revenue(
    State(app): State<App>,
    access: CompanyAccess<ReceiptsRead>,
    AppQuery(query): AppQuery<DayListQuery>,
) -> Result<Json<DailyRevenueList>, ApiError> {
    let company_id = access.company_id;
    let page = PageParams {
        limit: query.limit,
        cursor: query.cursor.clone(),
    };
    let limit = page.limit()?;
    let (company, _) = company_clock(&app, company_id).await?;
    let location_key = key_of(NaiveDate::MIN, query.location_id)?.location_key;
    let filter = DayFilter {
        location_key,
        from: query.from,
        to: query.to,
        after: page.cursor::<NaiveDate>()?,
        limit: i64::from(limit) + 1,
        bookings: koppel_store::bookings::BookingFilter {
            not_booked_by: query.not_booked_by,
            changed_since_booked: query.changed_since_booked,
        },
    };
    let rows = app
        .store
        .daily_revenue()
        .list(company_id, &filter, Utc::now())
        .await?;
    let Page { items, next } = Page::from_overfetch(rows, limit, |d: &DayRecord| {
        Cursor::encode(&d.business_date)
    });
    let mut data = Vec::with_capacity(items.len());
    for day in items {
        data.push(
            DailyRevenue::from_record(day, &company.currency)
                .with_number_gaps(&app, company_id)
                .await?,
        );
    }
    Ok(Json(DailyRevenueList {
        data,
        next_cursor: next,
    }))
}
