//! Every revision of a business day (SPEC "POS days, complete"): the figures as they were
//! when the day became final (revision 1) and after each late receipt (2, 3, …), each with
//! its `delta` to the revision before, the correction a connector posts for a day it booked
//! at that revision. The store keeps the revisions (a snapshot when a day becomes final or
//! is revised, `migrations/0022_day_revisions.sql`); the rule of what a delta is lives in
//! the domain ([`koppel_domain::daily::change`]).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use koppel_domain::daily::change;
use koppel_store::daily_revenue::DayKey;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::answers::{
    DailyRevenue, DayCategoryFigures, DayPaymentFigures, DayTotals, DayVatRateFigures,
};
use super::{date_of, key_of};
use crate::App;
use crate::auth::extract::{CompanyAccess, ReceiptsRead};
use crate::clock::company_clock;
use crate::error::{ApiError, Problem};
use crate::extract::{AppPath, AppQuery};
use crate::params::{Cursor, DayPath, LocationQuery, Page, PageParams};

/// The `company_id`, `date` and `revision` path parameters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct RevisionPath {
    /// The company's id.
    pub company_id: Uuid,
    /// The business date (YYYY-MM-DD), or the day's `id` from the event feed.
    pub date: String,
    /// The revision's number, from 1.
    pub revision: i32,
}

/// Which location's revisions, and which page.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RevisionListQuery {
    /// The vendor's location id; the whole company's day when left out.
    pub location_id: Option<String>,
    /// How many revisions to answer, 1 to 1000; default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

/// What changed from the previous revision (for revision 1: from nothing), figure by figure:
/// post it as the correction of a booking of the previous revision. The breakdowns list only
/// what changed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DayDelta {
    /// Receipts added.
    pub receipt_count: i64,
    /// Change of every line's totals.
    pub totals: DayTotals,
    /// Change of the revenue.
    pub revenue: DayTotals,
    /// Change per VAT rate.
    pub by_vat_rate: Vec<DayVatRateFigures>,
    /// Change per category.
    pub by_category: Vec<DayCategoryFigures>,
    /// Change per payment method.
    pub by_payment_method: Vec<DayPaymentFigures>,
    /// Change of the tips.
    #[schema(value_type = String, example = "0.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub tips: Decimal,
    /// Change of the multi-purpose gift cards sold.
    #[schema(value_type = String, example = "0.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub gift_cards_multi_purpose: Decimal,
    /// Change of the deposits.
    #[schema(value_type = String, example = "0.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub deposits: Decimal,
    /// Change of the cash rounding.
    #[schema(value_type = String, example = "0.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub cash_rounding: Decimal,
    /// Change of the single-purpose vouchers redeemed, per rate.
    pub voucher_redemptions: Vec<DayVatRateFigures>,
    /// Change of the drawer, once the day was closed with a Z-report: a late cash receipt
    /// changes what the drawer should have held, and so the cash difference. Null without
    /// a Z-report.
    pub cash: Option<DayCashDelta>,
}

/// What a revision changed about the drawer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DayCashDelta {
    /// Change of the cash takings.
    #[schema(value_type = String, example = "2.80")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub cash_takings: Decimal,
    /// Change of what the drawer should hold.
    #[schema(value_type = String, example = "2.80")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub expected: Decimal,
    /// Change of the cash difference; null without a cash count.
    #[schema(value_type = Option<String>, example = "-2.80")]
    #[serde(serialize_with = "crate::money::serialize_option")]
    pub difference: Option<Decimal>,
}

/// One revision of a business day.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DayRevision {
    /// The revision's number: 1 when the day became final, one more per late receipt.
    pub revision: i32,
    /// When it came to be.
    pub recorded_at: DateTime<Utc>,
    /// The day as it was at this revision (its `bookings` are empty: see the day itself).
    pub figures: DailyRevenue,
    /// What changed from the revision before.
    pub delta: DayDelta,
}

/// The day revision list, as the OpenAPI document names and describes its page.
#[derive(Debug)]
pub enum DayRevisionListing {}

impl crate::page::Listing for DayRevisionListing {
    type Item = DayRevision;
    const NAME: &'static str = "DayRevisionList";
    const DESCRIPTION: &'static str = "A page of a day's revisions.";
    const DATA: &'static str = "The revisions, oldest first.";
    const CURSOR: &'static str = "Pass as `cursor` for the next page; null on the last.";
}

/// A page of a day's revisions.
pub type DayRevisionList = crate::page::Page<DayRevisionListing>;

type Lines<K, const N: usize> = BTreeMap<K, [Decimal; N]>;

fn rates(day: Option<&DailyRevenue>) -> Lines<(String, String, String), 2> {
    day.map(|d| d.by_vat_rate.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let key = (
                r.category.clone(),
                r.percentage.normalize().to_string(),
                r.country.clone(),
            );
            (key, [r.base, r.vat])
        })
        .collect()
}

fn voucher_rates(day: Option<&DailyRevenue>) -> Lines<(String, String, String), 2> {
    day.map(|d| d.voucher_redemptions.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let key = (
                r.category.clone(),
                r.percentage.normalize().to_string(),
                r.country.clone(),
            );
            (key, [r.base, r.vat])
        })
        .collect()
}

fn categories(day: Option<&DailyRevenue>) -> Lines<Uuid, 2> {
    day.map(|d| d.by_category.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|c| (c.category_id, [c.total_excl_vat, c.total_vat]))
        .collect()
}

fn payments(day: Option<&DailyRevenue>) -> Lines<Uuid, 1> {
    day.map(|d| d.by_payment_method.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|p| (p.method_id, [p.amount]))
        .collect()
}

impl DayDelta {
    /// `later − earlier`; `earlier` is `None` for revision 1.
    fn between(earlier: Option<&DailyRevenue>, later: &DailyRevenue) -> DayDelta {
        let zero = Decimal::new(0, 2);
        let scalar = |f: fn(&DailyRevenue) -> Decimal| f(later) - earlier.map_or(zero, f);
        let names = |id: &Uuid| {
            let found = |d: &DailyRevenue| {
                d.by_category
                    .iter()
                    .find(|c| c.category_id == *id)
                    .map(|c| c.name.clone())
            };
            found(later)
                .or_else(|| earlier.and_then(found))
                .unwrap_or_default()
        };
        let method = |id: &Uuid| {
            let found = |d: &DailyRevenue| {
                d.by_payment_method
                    .iter()
                    .find(|p| p.method_id == *id)
                    .map(|p| (p.name.clone(), p.kind.clone()))
            };
            found(later)
                .or_else(|| earlier.and_then(found))
                .unwrap_or_default()
        };
        DayDelta {
            receipt_count: later.receipt_count - earlier.map_or(0, |e| e.receipt_count),
            totals: DayTotals::new(
                scalar(|d| d.totals.total_excl_vat),
                scalar(|d| d.totals.total_vat),
            ),
            revenue: DayTotals::new(
                scalar(|d| d.revenue.total_excl_vat),
                scalar(|d| d.revenue.total_vat),
            ),
            by_vat_rate: change(&rates(earlier), &rates(Some(later)))
                .into_iter()
                .map(
                    |((category, percentage, country), [base, vat])| DayVatRateFigures {
                        category,
                        percentage: percentage.parse().unwrap_or_default(),
                        country,
                        base,
                        vat,
                    },
                )
                .collect(),
            by_category: change(&categories(earlier), &categories(Some(later)))
                .into_iter()
                .map(|(category_id, [excl, vat])| DayCategoryFigures {
                    category_id,
                    name: names(&category_id),
                    total_excl_vat: excl,
                    total_vat: vat,
                    total_incl_vat: excl + vat,
                })
                .collect(),
            by_payment_method: change(&payments(earlier), &payments(Some(later)))
                .into_iter()
                .map(|(method_id, [amount])| {
                    let (name, kind) = method(&method_id);
                    DayPaymentFigures {
                        method_id,
                        name,
                        kind,
                        amount,
                    }
                })
                .collect(),
            tips: scalar(|d| d.tips),
            gift_cards_multi_purpose: scalar(|d| d.gift_cards.sold_multi_purpose),
            deposits: scalar(|d| d.deposits),
            cash_rounding: scalar(|d| d.cash_rounding),
            voucher_redemptions: change(&voucher_rates(earlier), &voucher_rates(Some(later)))
                .into_iter()
                .map(
                    |((category, percentage, country), [base, vat])| DayVatRateFigures {
                        category,
                        percentage: percentage.parse().unwrap_or_default(),
                        country,
                        base,
                        vat,
                    },
                )
                .collect(),
            cash: later.cash.as_ref().map(|now| {
                let before = earlier.and_then(|e| e.cash.as_ref());
                let was = |f: fn(&super::cash::DayCash) -> Decimal| before.map_or(zero, f);
                DayCashDelta {
                    cash_takings: now.cash_takings - was(|c| c.cash_takings),
                    expected: now.expected - was(|c| c.expected),
                    difference: now
                        .difference
                        .map(|d| d - before.and_then(|b| b.difference).unwrap_or(zero)),
                }
            }),
        }
    }
}

/// The day's key from the path (a date, or the day's id) and the location query.
pub(super) async fn day_key(
    app: &App,
    company_id: Uuid,
    date: &str,
    location_id: Option<String>,
) -> Result<DayKey, ApiError> {
    if let Ok(id) = Uuid::parse_str(date) {
        let day = app
            .store
            .daily_revenue()
            .find_by_id(company_id, id, Utc::now())
            .await?
            .ok_or(ApiError::NotFound)?;
        return Ok(DayKey {
            location_key: day.location_key,
            business_date: day.business_date,
        });
    }
    key_of(date_of(date)?, location_id)
}

/// The revisions after `after`, with the one before the first (for its delta), each as the
/// day; a day that reads as final without a kept revision (the finaliser did not reach it
/// yet) has its current figures as revision 1.
pub(super) async fn revisions(
    app: &App,
    company_id: Uuid,
    key: &DayKey,
    after: i32,
    limit: i64,
) -> Result<(Option<DailyRevenue>, Vec<(DateTime<Utc>, DailyRevenue)>), ApiError> {
    let (company, _) = company_clock(app, company_id).await?;
    let days = app.store.daily_revenue();
    let mut records = days
        .revisions(company_id, key, (after - 1).max(0), limit + 1)
        .await?;
    if records.is_empty()
        && after == 0
        && let Some(day) = days.find(company_id, key, Utc::now()).await?
        && day.status == "final"
    {
        records.push(day);
    }
    let mut answers: Vec<(DateTime<Utc>, DailyRevenue)> = records
        .into_iter()
        .map(|r| {
            (
                r.updated_at,
                DailyRevenue::from_record(r, &company.currency),
            )
        })
        .collect();
    let before = match answers.first() {
        Some((_, first)) if first.revision == after && after > 0 => Some(answers.remove(0).1),
        _ => None,
    };
    Ok((before, answers))
}

fn with_deltas(
    before: Option<DailyRevenue>,
    revisions: Vec<(DateTime<Utc>, DailyRevenue)>,
) -> Vec<DayRevision> {
    let mut previous = before;
    revisions
        .into_iter()
        .map(|(recorded_at, figures)| {
            let delta = DayDelta::between(previous.as_ref(), &figures);
            previous = Some(figures.clone());
            DayRevision {
                revision: figures.revision,
                recorded_at,
                figures,
                delta,
            }
        })
        .collect()
}

/// List a business day's revisions, each with its delta to the one before.
///
/// Revision 1 is the day as it became final (at 05:00 the next morning, or when it was
/// closed); each late receipt adds one. An open day has none yet. Post a revision's `delta`
/// as the correction of a booking of the revision before it. Scope `receipts:read`.
#[utoipa::path(get, path = "/v1/companies/{company_id}/daily-revenue/{date}/revisions", tag = "receipts",
    params(DayPath, RevisionListQuery),
    security(("oauth2" = ["receipts:read"])),
    responses(
        (status = 200, description = "The revisions, oldest first", body = DayRevisionList),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_day_revisions(
    State(app): State<App>,
    access: CompanyAccess<ReceiptsRead>,
    AppPath(path): AppPath<DayPath>,
    AppQuery(query): AppQuery<RevisionListQuery>,
) -> Result<Json<DayRevisionList>, ApiError> {
    let page = PageParams {
        limit: query.limit,
        cursor: query.cursor.clone(),
    };
    let limit = page.limit()?;
    let after: i32 = page.cursor()?.unwrap_or(0);
    let key = day_key(&app, access.company_id, &path.date, query.location_id).await?;
    let (before, rows) = revisions(&app, access.company_id, &key, after, i64::from(limit)).await?;
    let Page { items, next } =
        Page::from_overfetch(rows, limit, |(_, d): &(DateTime<Utc>, DailyRevenue)| {
            Cursor::encode(&d.revision)
        });
    Ok(Json(DayRevisionList {
        data: with_deltas(before, items),
        next_cursor: next,
    }))
}

/// Get one revision of a business day, with its delta to the one before.
///
/// A revision the day does not have (yet) is a 404. Scope `receipts:read`.
#[utoipa::path(get, path = "/v1/companies/{company_id}/daily-revenue/{date}/revisions/{revision}", tag = "receipts",
    params(RevisionPath, LocationQuery),
    security(("oauth2" = ["receipts:read"])),
    responses(
        (status = 200, description = "The revision", body = DayRevision),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_day_revision(
    State(app): State<App>,
    access: CompanyAccess<ReceiptsRead>,
    AppPath(path): AppPath<RevisionPath>,
    AppQuery(query): AppQuery<LocationQuery>,
) -> Result<Json<DayRevision>, ApiError> {
    let key = day_key(&app, access.company_id, &path.date, query.location_id).await?;
    if path.revision < 1 {
        return Err(ApiError::NotFound);
    }
    let (before, rows) = revisions(&app, access.company_id, &key, path.revision - 1, 1).await?;
    with_deltas(before, rows)
        .into_iter()
        .find(|r| r.revision == path.revision)
        .map(Json)
        .ok_or(ApiError::NotFound)
}
