//! `GET …/vat-return?from=&to=`: the sales side of the Dutch VAT return
//! (`docs/bookkeeping-rules.md`) for a period, box by box, with the ICP listing and the OSS totals
//! per country.
//!
//! The store aggregates the current versions of the period's orders (by order date in the
//! company's timezone) and its receipts (by business date) into groups in SQL; the domain's
//! `VatReturn::from_lines` puts each group in its box. The scope is `events:read`, the
//! connector's scope for figures across collections, as `auth::scopes::SCOPES` says.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use koppel_domain::business_day::first_instant_at_or_after;
use koppel_domain::identifiers::VatNumber;
use koppel_domain::vat_return::{BoxFigures, VatReturn};
use koppel_store::vat_return::VatPeriod;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::App;
use crate::auth::extract::{CompanyAccess, EventsRead};
use crate::error::{ApiError, Problem};
use crate::extract::AppQuery;

/// The VAT return route.
pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(get_vat_return))
}

/// The period.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VatReturnQuery {
    /// The first day (YYYY-MM-DD, that day in the company's timezone) or moment (RFC 3339
    /// with offset) of the period, inclusive.
    #[param(example = "2026-01-01")]
    pub from: String,
    /// The day or moment the period ends before (exclusive): `2026-04-01` for the first
    /// quarter of 2026.
    #[param(example = "2026-04-01")]
    pub to: String,
}

/// One box's figures.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VatBoxFigures {
    /// The box's name on the Belastingdienst's form.
    #[schema(example = "Leveringen/diensten belast met hoog tarief")]
    pub label: String,
    /// Whether the box reports VAT beside the base (1a, 1b, 1c); the others report only
    /// the base and their `vat` is 0.
    pub reports_vat: bool,
    /// The base (omzet), exact.
    #[schema(value_type = String, example = "12345.67")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub base: Decimal,
    /// The VAT, exact.
    #[schema(value_type = String, example = "2592.59")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub vat: Decimal,
    /// The base in whole euros as filed, rounded down (in the taxpayer's favour).
    #[schema(value_type = String, example = "12345")]
    pub base_whole: Decimal,
    /// The VAT in whole euros as filed, rounded down (in the taxpayer's favour).
    #[schema(value_type = String, example = "2592")]
    pub vat_whole: Decimal,
}

/// Intra-EU supplies to one buyer: a line of the ICP listing (opgaaf intracommunautaire
/// prestaties).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IcpEntry {
    /// The buyer's VAT number, normalised; empty if an order had none (which validation
    /// refuses, so this does not happen for orders stored by Koppel).
    #[schema(example = "DE136695976")]
    pub vat_number: String,
    /// The buyer's country, from the VAT number's prefix.
    #[schema(example = "DE")]
    pub country: String,
    /// The base, exact.
    #[schema(value_type = String, example = "1500.50")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub base: Decimal,
    /// The base in whole euros, rounded down.
    #[schema(value_type = String, example = "1500")]
    pub base_whole: Decimal,
}

/// Distance sales to consumers in one EU country under the OSS (not in the Dutch return).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OssEntry {
    /// The destination country.
    #[schema(example = "DE")]
    pub country: String,
    /// The base, exact.
    #[schema(value_type = String, example = "100.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub base: Decimal,
    /// The destination country's VAT, exact.
    #[schema(value_type = String, example = "19.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub vat: Decimal,
    /// The base in whole euros, rounded down.
    #[schema(value_type = String, example = "100")]
    pub base_whole: Decimal,
    /// The VAT in whole euros, rounded down.
    #[schema(value_type = String, example = "19")]
    pub vat_whole: Decimal,
}

/// Exempt and outside-scope amounts: not filed, shown to reconcile the return with revenue.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NotReported {
    /// The base, exact.
    #[schema(value_type = String, example = "50.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub base: Decimal,
    /// The VAT on it (0 unless a document says otherwise).
    #[schema(value_type = String, example = "0.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub vat: Decimal,
}

/// What the return was computed from.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VatReturnSources {
    /// Orders counted: their current version, with its tax point (invoice date, else order
    /// date) in the period, not cancelled, in the company's currency or converted to it at
    /// the order's exchange rate.
    pub orders: i64,
    /// Receipts counted: of a business date in the period, in the company's currency.
    pub receipts: i64,
    /// Orders of the period in another currency stored without an exchange rate (before
    /// Koppel took one), left out: convert them in the package.
    pub other_currency: i64,
}

/// The sales side of the Dutch VAT return (omzetbelasting) for a period.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VatReturnAnswer {
    /// The start of the period (inclusive).
    pub from: DateTime<Utc>,
    /// The end of the period (exclusive).
    pub to: DateTime<Utc>,
    /// The first business date of the period.
    #[schema(value_type = String, example = "2026-01-01")]
    pub from_date: NaiveDate,
    /// The business date the period ends before.
    #[schema(value_type = String, example = "2026-04-01")]
    pub to_date: NaiveDate,
    /// The currency of every amount: the company's.
    pub currency: String,
    /// Boxes 1a, 1b, 1c, 1e, 3a, 3b and 3c, always all seven.
    pub boxes: BTreeMap<String, VatBoxFigures>,
    /// The VAT due on sales (1a + 1b + 1c), exact.
    #[schema(value_type = String, example = "2617.12")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub vat_due: Decimal,
    /// The VAT due on sales as filed: the sum of the boxes' whole euros.
    #[schema(value_type = String, example = "2616")]
    pub vat_due_whole: Decimal,
    /// The ICP listing: intra-EU supplies (box 3b) per buyer VAT number.
    pub icp: Vec<IcpEntry>,
    /// OSS: base and VAT per destination country, for the separate OSS return.
    pub oss: Vec<OssEntry>,
    /// Exempt and outside-scope amounts, not filed.
    pub not_reported: NotReported,
    /// What the figures were computed from.
    pub sources: VatReturnSources,
}

/// The boxes in the order of the form, with their labels there.
const BOXES: [(&str, &str, bool); 7] = [
    ("1a", "Leveringen/diensten belast met hoog tarief", true),
    ("1b", "Leveringen/diensten belast met laag tarief", true),
    (
        "1c",
        "Leveringen/diensten belast met overige tarieven, behalve 0%",
        true,
    ),
    (
        "1e",
        "Leveringen/diensten belast met 0% of niet bij u belast",
        false,
    ),
    ("3a", "Leveringen naar landen buiten de EU (uitvoer)", false),
    (
        "3b",
        "Leveringen naar of diensten in landen binnen de EU",
        false,
    ),
    ("3c", "Installatie/afstandsverkopen binnen de EU", false),
];

/// An exact amount with its cents.
fn cents(value: Decimal) -> Decimal {
    let mut v = value;
    v.rescale(2);
    v
}

/// Whole euros without a negative zero.
fn whole(value: Decimal) -> Decimal {
    let mut v = value;
    v.rescale(0);
    if v.is_zero() {
        v.set_sign_positive(true);
    }
    v
}

/// An instant (RFC 3339 with offset) or a date meaning its start in `tz`; with the local
/// business date it stands for.
fn bound(name: &str, raw: &str, tz: Tz) -> Result<(DateTime<Utc>, NaiveDate), ApiError> {
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        let at = at.with_timezone(&Utc);
        return Ok((at, at.with_timezone(&tz).date_naive()));
    }
    match NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        Ok(date) => Ok((
            first_instant_at_or_after(tz, date.and_time(NaiveTime::MIN)),
            date,
        )),
        Err(_) => Err(ApiError::InvalidParameter(format!(
            "{name} must be a date (YYYY-MM-DD) or an RFC 3339 time with offset"
        ))),
    }
}

fn answer(ret: &VatReturn, period: &VatPeriod, sources: VatReturnSources) -> VatReturnAnswer {
    let boxes = BOXES
        .iter()
        .map(|(name, label, reports_vat)| {
            let f = ret.boxes.get(*name).copied().unwrap_or_default();
            (
                (*name).to_owned(),
                VatBoxFigures {
                    label: (*label).to_owned(),
                    reports_vat: *reports_vat,
                    base: cents(f.base),
                    vat: cents(f.vat),
                    base_whole: whole(f.base_whole),
                    vat_whole: whole(f.vat_whole),
                },
            )
        })
        .collect();
    let icp = ret
        .icp
        .iter()
        .map(|(vat_number, f): (&String, &BoxFigures)| IcpEntry {
            country: VatNumber::parse(vat_number)
                .map(|v| v.as_str().chars().take(2).collect())
                .unwrap_or_default(),
            vat_number: vat_number.clone(),
            base: cents(f.base),
            base_whole: whole(f.base_whole),
        })
        .collect();
    let oss = ret
        .oss
        .iter()
        .map(|(country, f)| OssEntry {
            country: country.clone(),
            base: cents(f.base),
            vat: cents(f.vat),
            base_whole: whole(f.base_whole),
            vat_whole: whole(f.vat_whole),
        })
        .collect();
    VatReturnAnswer {
        from: period.from,
        to: period.to,
        from_date: period.from_date,
        to_date: period.to_date,
        currency: period.currency.clone(),
        boxes,
        vat_due: cents(ret.vat_due()),
        vat_due_whole: whole(ret.vat_due_whole()),
        icp,
        oss,
        not_reported: NotReported {
            base: cents(ret.not_reported.base),
            vat: cents(ret.not_reported.vat),
        },
        sources,
    }
}

/// Get the sales side of the Dutch VAT return for a period, box by box.
///
/// Counts the current version of every order placed in the period (by order date in the
/// company's timezone; cancelled orders are not supplies and are left out, credit orders
/// count with their negative amounts) and every receipt of a business date in the period.
/// Each box has its exact base and VAT and the whole euros to file, rounded down in the
/// taxpayer's favour; the ICP listing sums box 3b per buyer VAT number, and OSS sales are
/// totalled per destination country for the separate OSS return.
#[utoipa::path(get, path = "/v1/companies/{company_id}/vat-return", tag = "connectors",
    params(crate::params::CompanyPath, VatReturnQuery),
    security(("oauth2" = ["events:read"])),
    responses(
        (status = 200, description = "The return's figures for the period", body = VatReturnAnswer),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_vat_return(
    State(app): State<App>,
    access: CompanyAccess<EventsRead>,
    AppQuery(query): AppQuery<VatReturnQuery>,
) -> Result<Json<VatReturnAnswer>, ApiError> {
    let company_id = access.company_id;
    let company = app
        .store
        .companies()
        .find(company_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let tz: Tz = company
        .timezone
        .parse()
        .unwrap_or(chrono_tz::Europe::Amsterdam);
    let (from, from_date) = bound("from", &query.from, tz)?;
    let (to, to_date) = bound("to", &query.to, tz)?;
    if to <= from {
        return Err(ApiError::InvalidParameter(
            "to must be after from".to_owned(),
        ));
    }
    let period = VatPeriod {
        from,
        to,
        from_date,
        to_date,
        timezone: tz.name().to_owned(),
        currency: company.currency.clone(),
    };
    let lines = app.store.vat_return_lines(company_id, &period).await?;
    let sources = VatReturnSources {
        orders: lines.orders,
        receipts: lines.receipts,
        other_currency: lines.other_currency,
    };
    let ret = VatReturn::from_lines(lines.lines);
    Ok(Json(answer(&ret, &period, sources)))
}
