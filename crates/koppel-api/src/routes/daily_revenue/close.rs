//! Closing a day with its Z-report (SPEC "POS days, complete"): the day becomes final, and
//! the drawer's count is kept with it, so the day answers `cash`: what the drawer should
//! hold, what was counted, and the difference. The rules of the report and of the count are
//! `koppel_domain::z_report`; these types only document the body.

use axum::Json;
use axum::extract::State;
use chrono::Utc;
use koppel_domain::business_day;
use koppel_domain::problem::{Violation, codes};
use koppel_domain::z_report::{ZReport, ZReportDraft, check_z_report};
use koppel_store::daily_revenue::{Closed, DayKey};
use koppel_store::references::Wanted;
use utoipa::ToSchema;
use uuid::Uuid;

use super::answers::DailyRevenue;
use super::{date_of, final_at, key_of};
use crate::App;
use crate::auth::extract::{CompanyAccess, ReceiptsWrite};
use crate::clock::company_clock;
use crate::error::{ApiError, Problem};
use crate::extract::{AppPath, AppQuery, OptionalJson};
use crate::params::{DayPath, LocationQuery};

/// The till's Z-report, sent with the close; every field may be left out.
#[derive(Debug, Clone, ToSchema)]
pub struct ZReportInput {
    /// The location whose day this is: the same as `?location_id=`, which it may replace
    /// (both given and different is a 400).
    #[schema(example = "centrum")]
    pub location_id: Option<String>,
    /// The till's number of this report.
    #[schema(example = "Z-0412")]
    pub z_number: Option<String>,
    /// Cash in the drawer when the day started.
    #[schema(value_type = Option<String>, example = "150.00")]
    pub opening_float: Option<String>,
    /// What was counted at the end, per payment method (the cash in the drawer, the card
    /// terminal's total); each method once.
    #[schema(max_items = 100)]
    pub counted: Option<Vec<CountedInput>>,
    /// Cash put into the drawer beside sales.
    #[schema(max_items = 100)]
    pub pay_ins: Option<Vec<CashMoveInput>>,
    /// Cash taken out beside change: flowers, a supplier paid in cash.
    #[schema(max_items = 100)]
    pub pay_outs: Option<Vec<CashMoveInput>>,
    /// Cash taken to the bank.
    #[schema(value_type = Option<String>, example = "400.00")]
    pub bank_deposit: Option<String>,
}

/// A counted amount.
#[derive(Debug, Clone, ToSchema)]
pub struct CountedInput {
    /// The payment method (Koppel's id).
    pub method_id: Option<Uuid>,
    /// The payment method by your own id, instead of `method_id`.
    #[schema(example = "contant")]
    pub method_external_id: Option<String>,
    /// What was counted, not negative.
    #[schema(value_type = String, example = "142.30")]
    pub amount: String,
}

/// Cash into or out of the drawer.
#[derive(Debug, Clone, ToSchema)]
pub struct CashMoveInput {
    /// How much, above zero.
    #[schema(value_type = String, example = "20.00")]
    pub amount: String,
    /// What for.
    #[schema(example = "Bloemen voor de toonbank")]
    pub description: Option<String>,
}

/// Checks the report and fills in the kinds of the counted methods.
async fn z_report(app: &App, company_id: Uuid, draft: &ZReportDraft) -> Result<ZReport, ApiError> {
    let wanted = Wanted {
        payment_methods: draft
            .counted
            .iter()
            .filter_map(|c| c.method_id.clone())
            .collect(),
        payment_method_external_ids: draft
            .counted
            .iter()
            .filter_map(|c| c.method_external_id.clone())
            .collect(),
        ..Wanted::default()
    };
    let known = app.store.references(company_id, &wanted).await?;
    let mut report = check_z_report(draft, &known).map_err(ApiError::InvalidRequest)?;
    let ids: Vec<Uuid> = report
        .counted
        .iter()
        .filter_map(|c| Uuid::parse_str(&c.method_id).ok())
        .collect();
    let kinds = app
        .store
        .daily_revenue()
        .payment_method_kinds(company_id, &ids)
        .await?;
    for counted in &mut report.counted {
        counted.kind = Uuid::parse_str(&counted.method_id)
            .ok()
            .and_then(|id| kinds.get(&id).cloned());
    }
    Ok(report)
}

/// Close a business day (the Z-report): it is final from now on.
///
/// Without `location_id` the whole company's day closes, every location's with it; with it,
/// only that location's. A receipt that arrives for the day afterwards is still stored,
/// marked `late`, and revises the day. The optional body is the till's Z-report (opening
/// float, counted amounts, pay-ins, pay-outs, bank deposit); the day then answers `cash`
/// with what the drawer should hold and the difference. Closing again changes nothing, with
/// the same report or none; with another report it is a 400 `day_already_closed`.
#[utoipa::path(post, path = "/v1/companies/{company_id}/daily-revenue/{date}/close", tag = "receipts",
    params(DayPath, LocationQuery),
    request_body(content = Option<ZReportInput>, description = "The Z-report (optional)"),
    security(("oauth2" = ["receipts:write"])),
    responses(
        (status = 200, description = "The day, now final", body = DailyRevenue),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn close_daily_revenue(
    State(app): State<App>,
    access: CompanyAccess<ReceiptsWrite>,
    AppPath(path): AppPath<DayPath>,
    AppQuery(query): AppQuery<LocationQuery>,
    OptionalJson(draft): OptionalJson<ZReportDraft>,
) -> Result<Json<DailyRevenue>, ApiError> {
    let company_id = access.company_id;
    let (company, clock) = company_clock(&app, company_id).await?;
    let location = match (
        query.location_id,
        draft.as_ref().and_then(|d| d.location_id.clone()),
    ) {
        (Some(q), Some(b)) if q.trim() != b.trim() => {
            return Err(ApiError::InvalidRequest(vec![Violation::new(
                "/location_id",
                codes::LOCATION_MISMATCH,
                format!("the body names location {b:?}, the query {q:?}"),
                format!("de body noemt locatie {b:?}, de query {q:?}"),
            )]));
        }
        (q, b) => q.or(b),
    };
    let key: DayKey = key_of(date_of(&path.date)?, location)?;
    let now = Utc::now();
    let (start, _) = business_day::day_bounds(key.business_date, clock.tz, clock.cutoff);
    if now < start {
        return Err(ApiError::invalid(
            "#date",
            codes::DAY_NOT_STARTED,
            format!(
                "business day {} has not started yet, so it cannot be closed",
                key.business_date
            ),
            format!(
                "bedrijfsdag {} is nog niet begonnen en kan dus niet worden afgesloten",
                key.business_date
            ),
        ));
    }
    let report = match &draft {
        Some(draft) if !draft.is_empty() => Some(z_report(&app, company_id, draft).await?),
        _ => None,
    };
    let stored = report
        .as_ref()
        .map(|r| serde_json::to_value(r).map_err(|e| ApiError::internal(&e)))
        .transpose()?;
    let days = app.store.daily_revenue();
    let closed = days
        .close(
            company_id,
            &key,
            final_at(clock, key.business_date),
            now,
            stored.as_ref(),
        )
        .await?;
    if let Closed::ZReportThere(there) = closed {
        let same = serde_json::from_value::<ZReport>(there)
            .is_ok_and(|there| Some(&there) == report.as_ref());
        if !same {
            return Err(ApiError::invalid(
                "",
                codes::DAY_ALREADY_CLOSED,
                "the day was closed with another Z-report; it is not changed".to_owned(),
                "de dag is met een ander Z-rapport afgesloten; hij wordt niet gewijzigd".to_owned(),
            ));
        }
    }
    let day = days
        .find(company_id, &key, now)
        .await?
        .ok_or(ApiError::NotFound)?;
    let day = DailyRevenue::from_record(day, &company.currency);
    Ok(Json(day.with_number_gaps(&app, company_id).await?))
}
