//! POS receipts (K5, K6, K7a, K7b): pushed one at a time or up to 1000 per batch, checked
//! against every rule of `VAT.md`, stored immutably, counted in their business day's figures
//! (see `daily_revenue.rs`), and searched.

mod input;

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use koppel_domain::business_day;
use koppel_domain::document::KnownReferences;
use koppel_domain::problem::Violation;
use koppel_domain::receipt::{ReceiptDraft, ValidReceipt, validate_receipt};
use koppel_store::CompanyRecord;
use koppel_store::receipts::{
    InsertOutcome, NewReceipt, ReceiptFilter, ReceiptLineRecord, ReceiptOrder,
    ReceiptPaymentRecord, ReceiptRecord,
};
use koppel_store::references::{self, Wanted};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::App;
use crate::auth::extract::{CompanyAccess, ReceiptsRead, ReceiptsWrite};
use crate::clock::Clock;
use crate::clock::company_clock;
use crate::error::{ApiError, Problem, ProblemItem};
use crate::extract::{AppJson, AppPath, AppQuery, parse_item};
use crate::language::Language;
use crate::params::ReceiptPath;
use crate::params::{Cursor, Page, PageParams};

pub use input::{
    ReceiptBatchInput, ReceiptInput, ReceiptLineInput, ReceiptLineKindInput, ReceiptPaymentInput,
    ReceiptTotalsInput, ReceiptVatCategoryInput, ReceiptVatInput,
};

/// The most receipts one batch may hold (SPEC "Limits").
pub const MAX_BATCH: usize = 1000;

/// The code of a different body sent for a stored receipt's `external_id`.
pub const RECEIPT_IMMUTABLE: &str = "receipt_immutable";
/// The code of a receipt in another currency than the company's books.
pub const CURRENCY_NOT_COMPANY_CURRENCY: &str = "currency_not_company_currency";

/// The receipt routes.
pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(create_receipt, list_receipts))
        .routes(routes!(get_receipt))
        .routes(routes!(create_receipts_batch))
        .routes(routes!(validate_receipt_only))
}

// ------------------------------------------------------------------ responses

/// Money as a decimal string with at least two decimals, as every amount is answered.
fn cents(value: Decimal) -> Decimal {
    let mut value = value.normalize();
    if value.scale() < 2 {
        value.rescale(2);
    }
    value
}

/// The VAT of a receipt line.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReceiptVat {
    /// The company's VAT rate, when the receipt named one.
    pub rate_id: Option<Uuid>,
    /// The rate in percent.
    #[schema(value_type = String, example = "9")]
    pub percentage: Decimal,
    /// The VAT category.
    #[schema(example = "reduced")]
    pub category: String,
    /// ISO 3166-1 country whose rate applies.
    #[schema(example = "NL")]
    pub country: String,
    /// The VAT amount.
    #[schema(value_type = String, example = "0.29")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub amount: Decimal,
    /// Why the line is exempt.
    pub exemption_reason: Option<String>,
}

/// A stored receipt line.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReceiptLine {
    /// `sale`, `tip`, `gift_card_multi_purpose`, `gift_card_single_purpose` or `deposit`.
    pub kind: String,
    /// The till's product code.
    pub product_code: String,
    /// What was sold.
    pub description: Option<String>,
    /// The revenue category.
    pub category_id: Uuid,
    /// How many.
    #[schema(value_type = String, example = "2")]
    pub quantity: Decimal,
    /// Price per unit.
    #[schema(value_type = String, example = "1.75")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub unit_price: Decimal,
    /// Discount on the whole line.
    #[schema(value_type = String, example = "0.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub discount: Decimal,
    /// VAT.
    pub vat: ReceiptVat,
    /// Line total excluding VAT.
    #[schema(value_type = String, example = "3.21")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub total_excl_vat: Decimal,
    /// Line total including VAT.
    #[schema(value_type = String, example = "3.50")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub total_incl_vat: Decimal,
}

impl From<ReceiptLineRecord> for ReceiptLine {
    fn from(l: ReceiptLineRecord) -> Self {
        Self {
            kind: l.kind,
            product_code: l.product_code,
            description: l.description,
            category_id: l.category_id,
            quantity: l.quantity.normalize(),
            unit_price: cents(l.unit_price),
            discount: cents(l.discount),
            vat: ReceiptVat {
                rate_id: l.vat.rate_id,
                percentage: l.vat.percentage.normalize(),
                category: l.vat.category,
                country: l.vat.country,
                amount: l.vat.amount,
                exemption_reason: l.vat.exemption_reason,
            },
            total_excl_vat: l.total_excl_vat,
            total_incl_vat: l.total_incl_vat,
        }
    }
}

/// A stored receipt payment.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReceiptPayment {
    /// The payment method.
    pub method_id: Uuid,
    /// The amount handed over or charged.
    #[schema(value_type = String, example = "5.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub amount: Decimal,
    /// Cash given back from it.
    #[schema(value_type = String, example = "1.50")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub change: Decimal,
    /// What the payment counts for: `amount − change`.
    #[schema(value_type = String, example = "3.50")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub net_amount: Decimal,
    /// The terminal's or provider's reference.
    pub reference: Option<String>,
}

impl From<ReceiptPaymentRecord> for ReceiptPayment {
    fn from(p: ReceiptPaymentRecord) -> Self {
        Self {
            method_id: p.method_id,
            amount: p.amount,
            change: p.change,
            net_amount: p.amount - p.change,
            reference: p.reference,
        }
    }
}

/// Amounts excluding VAT, VAT and including VAT.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReceiptTotals {
    /// Excluding VAT.
    #[schema(value_type = String, example = "3.21")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub total_excl_vat: Decimal,
    /// VAT.
    #[schema(value_type = String, example = "0.29")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub total_vat: Decimal,
    /// Including VAT.
    #[schema(value_type = String, example = "3.50")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub total_incl_vat: Decimal,
}

/// One group of a receipt's VAT breakdown.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReceiptVatGroup {
    /// The VAT category.
    pub category: String,
    /// The rate in percent.
    #[schema(value_type = String, example = "9")]
    pub percentage: Decimal,
    /// ISO 3166-1 country whose rate applies.
    pub country: String,
    /// The sum of the group's amounts excluding VAT.
    #[schema(value_type = String, example = "3.21")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub base: Decimal,
    /// The sum of the group's VAT.
    #[schema(value_type = String, example = "0.29")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub vat: Decimal,
}

/// A stored receipt.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Receipt {
    /// Our id; never changes.
    pub id: Uuid,
    /// The vendor's id.
    pub external_id: String,
    /// The receipt number.
    pub number: Option<String>,
    /// The vendor's location id.
    pub location_id: Option<String>,
    /// The vendor's till id.
    pub register_id: Option<String>,
    /// The moment of sale, with the offset it was sent with.
    #[schema(value_type = String, example = "2026-03-29T14:05:00+02:00")]
    pub created_at: DateTime<FixedOffset>,
    /// The business day it counts for, from the company's timezone and cutoff.
    #[schema(value_type = String, example = "2026-03-29")]
    pub business_date: NaiveDate,
    /// ISO 4217 currency.
    pub currency: String,
    /// Whether unit prices include VAT.
    pub prices_include_vat: bool,
    /// The lines, in the order sent.
    pub lines: Vec<ReceiptLine>,
    /// The payments, in the order sent.
    pub payments: Vec<ReceiptPayment>,
    /// Cash rounding added to the payments to reach the total.
    #[schema(value_type = String, example = "0.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub cash_rounding: Decimal,
    /// Totals of all lines, tips and gift cards included.
    pub totals: ReceiptTotals,
    /// Revenue only: sales and single-purpose gift cards.
    pub revenue: ReceiptTotals,
    /// Tips: not revenue, no VAT.
    #[schema(value_type = String, example = "0.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub tips: Decimal,
    /// Multi-purpose gift cards sold: not revenue until redeemed.
    #[schema(value_type = String, example = "0.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub gift_cards_multi_purpose: Decimal,
    /// Deposits (statiegeld).
    #[schema(value_type = String, example = "0.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub deposits: Decimal,
    /// Base and VAT per category, rate and country, of all lines.
    pub vat_breakdown: Vec<ReceiptVatGroup>,
    /// Whether it arrived after its day was final; its day was then revised.
    pub late: bool,
    /// Always 1: a receipt never changes (a correction is a new, refund receipt).
    pub version: i32,
    /// When Koppel stored it.
    pub received_at: DateTime<Utc>,
    /// When it last changed; equal to `received_at`.
    pub updated_at: DateTime<Utc>,
    /// What bookkeeping connectors booked of the receipt, oldest first.
    pub bookings: Vec<crate::booking::Booking>,
    /// Always false: a receipt never changes after it was booked.
    pub needs_correction: bool,
}

impl From<ReceiptRecord> for Receipt {
    fn from(r: ReceiptRecord) -> Self {
        let (bookings, needs_correction) = crate::booking::bookings_of(r.version, r.bookings);
        let mut groups: BTreeMap<(String, Decimal, String), (Decimal, Decimal)> = BTreeMap::new();
        for l in &r.lines {
            let key = (
                l.vat.category.clone(),
                l.vat.percentage.normalize(),
                l.vat.country.clone(),
            );
            let group = groups.entry(key).or_default();
            group.0 += l.total_excl_vat;
            group.1 += l.vat.amount;
        }
        Self {
            id: r.id,
            external_id: r.external_id,
            number: r.number,
            location_id: r.location_id,
            register_id: r.register_id,
            created_at: r.created_at,
            business_date: r.business_date,
            currency: r.currency,
            prices_include_vat: r.prices_include_vat,
            lines: r.lines.into_iter().map(ReceiptLine::from).collect(),
            payments: r.payments.into_iter().map(ReceiptPayment::from).collect(),
            cash_rounding: r.cash_rounding,
            totals: ReceiptTotals {
                total_excl_vat: r.total_excl_vat,
                total_vat: r.total_vat,
                total_incl_vat: r.total_incl_vat,
            },
            revenue: ReceiptTotals {
                total_excl_vat: r.revenue_excl_vat,
                total_vat: r.revenue_vat,
                total_incl_vat: r.revenue_excl_vat + r.revenue_vat,
            },
            tips: r.tips,
            gift_cards_multi_purpose: r.gift_cards_multi_purpose,
            deposits: r.deposits,
            vat_breakdown: groups
                .into_iter()
                .map(
                    |((category, percentage, country), (base, vat))| ReceiptVatGroup {
                        category,
                        percentage,
                        country,
                        base,
                        vat,
                    },
                )
                .collect(),
            late: r.late,
            version: r.version,
            received_at: r.received_at,
            updated_at: r.updated_at,
            bookings,
            needs_correction,
        }
    }
}

/// A page of receipts.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReceiptList {
    /// The receipts on this page.
    pub data: Vec<Receipt>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// What happened to one item of a batch.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReceiptBatchItem {
    /// The item's position in the request's `receipts`, from 0.
    pub index: usize,
    /// Whether the item is stored (now, or before with exactly this content).
    pub success: bool,
    /// The receipt's id, when stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    /// `created`, or `unchanged` for an identical resend, when stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Whether it arrived after its day was final, when created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub late: Option<bool>,
    /// Every problem of the item, with pointers into the item, when refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<ProblemItem>>,
}

/// The answer to a batch: one entry per item, in the order sent.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReceiptBatchResult {
    /// One entry per item of the request.
    pub data: Vec<ReceiptBatchItem>,
}

/// The answer to a validation that passed: what Koppel would store.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReceiptValidation {
    /// Always true: a receipt that fails is answered with a 400 listing every problem.
    pub valid: bool,
    /// The business day it would count for.
    #[schema(value_type = String, example = "2026-03-29")]
    pub business_date: NaiveDate,
    /// Totals of all lines.
    pub totals: ReceiptTotals,
    /// Revenue only: sales and single-purpose gift cards.
    pub revenue: ReceiptTotals,
    /// Tips.
    #[schema(value_type = String, example = "0.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub tips: Decimal,
    /// Multi-purpose gift cards sold.
    #[schema(value_type = String, example = "0.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub gift_cards_multi_purpose: Decimal,
    /// Deposits.
    #[schema(value_type = String, example = "0.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub deposits: Decimal,
    /// Base and VAT per category, rate and country.
    pub vat_breakdown: Vec<ReceiptVatGroup>,
}

// ------------------------------------------------------------------ parameters

/// Filters of the receipt list; all optional and combined with "and".
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReceiptQuery {
    /// Only receipts with this number.
    pub number: Option<String>,
    /// Only receipts sold at or after this moment: RFC 3339 with offset, or a date meaning the
    /// start of that day in the company's timezone.
    pub from: Option<String>,
    /// Only receipts sold before this moment (exclusive): RFC 3339 with offset, or a date.
    pub to: Option<String>,
    /// Only receipts of this business date (YYYY-MM-DD).
    #[param(value_type = Option<String>, example = "2026-03-29")]
    pub business_date: Option<NaiveDate>,
    /// Only receipts of this location.
    pub location_id: Option<String>,
    /// Only receipts stored or changed at or after this moment (RFC 3339 with offset). The
    /// list is then sorted by that moment; otherwise, with any other filter, by the moment of
    /// sale, and without filters by the moment stored.
    pub updated_since: Option<DateTime<Utc>>,
    /// Only receipts with this `external_id` or a payment with this `reference`.
    pub reference: Option<String>,
    /// Only receipts this accounting package (a booking's `package`) has never booked.
    #[param(min_length = 1, example = "exact-online")]
    pub not_booked_by: Option<String>,
    /// Only receipts this accounting package booked in an older version than the current
    /// one; as receipts never change, always none. Accepted so every list filters alike.
    #[param(min_length = 1, example = "exact-online")]
    pub changed_since_booked: Option<String>,
    /// How many receipts to answer, 1 to 1000; default 100.
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The batch body as parsed (documented as [`ReceiptBatchInput`]): each item is kept as JSON
/// and parsed on its own, so that one broken item is refused alone.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchBody {
    /// The receipts, not yet parsed.
    pub receipts: Vec<Box<RawValue>>,
}

// ------------------------------------------------------------------ the flow

/// Everything a set of drafts names, loaded in one query.
async fn load_references(
    app: &App,
    company_id: Uuid,
    drafts: &[&ReceiptDraft],
) -> Result<KnownReferences, ApiError> {
    let mut wanted = Wanted::default();
    for draft in drafts {
        for line in &draft.lines {
            wanted.categories.extend(line.category_id.clone());
            if let Some(rate) = line.vat.as_ref().and_then(|v| v.rate_id.clone()) {
                wanted.vat_rates.push(rate);
            }
        }
        for payment in &draft.payments {
            wanted.payment_methods.extend(payment.method_id.clone());
        }
    }
    for list in [
        &mut wanted.categories,
        &mut wanted.vat_rates,
        &mut wanted.payment_methods,
    ] {
        list.sort();
        list.dedup();
    }
    Ok(references::load(app.store.pool(), company_id, &wanted).await?)
}

/// The receipt with every amount in one canonical form, so that "12.1" and "12.10" hash alike.
fn canonical(mut receipt: ValidReceipt) -> ValidReceipt {
    for l in &mut receipt.lines {
        l.quantity = l.quantity.normalize();
        l.unit_price = cents(l.unit_price);
        l.discount = cents(l.discount);
        l.total_excl_vat = cents(l.total_excl_vat);
        l.total_incl_vat = cents(l.total_incl_vat);
        l.vat.amount = cents(l.vat.amount);
        l.vat.percentage = l.vat.percentage.normalize();
    }
    for p in &mut receipt.payments {
        p.amount = cents(p.amount);
        p.change = cents(p.change);
    }
    receipt.cash_rounding = cents(receipt.cash_rounding);
    receipt.totals.total_excl_vat = cents(receipt.totals.total_excl_vat);
    receipt.totals.total_vat = cents(receipt.totals.total_vat);
    receipt.totals.total_incl_vat = cents(receipt.totals.total_incl_vat);
    for g in &mut receipt.vat_breakdown {
        g.base = cents(g.base);
        g.vat = cents(g.vat);
    }
    receipt
}

fn content_hash(receipt: &ValidReceipt) -> Vec<u8> {
    let bytes = serde_json::to_vec(receipt).unwrap_or_default();
    Sha256::digest(bytes).to_vec()
}

/// Validates one draft: every rule of the domain, plus the company's currency.
fn check(
    draft: &ReceiptDraft,
    known: &KnownReferences,
    company: &CompanyRecord,
) -> Result<ValidReceipt, Vec<Violation>> {
    let currency_violation = draft
        .currency
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty() && *c != company.currency)
        .map(|c| {
            Violation::new(
                "/currency",
                CURRENCY_NOT_COMPANY_CURRENCY,
                format!(
                    "the books of this company are kept in {}, so its receipts are too; got {c:?}",
                    company.currency
                ),
                format!(
                    "de administratie van dit bedrijf is in {}, dus de bonnen ook; ontvangen: {c:?}",
                    company.currency
                ),
            )
        });
    match (validate_receipt(draft, known), currency_violation) {
        (Ok(valid), None) => Ok(canonical(valid)),
        (Ok(_), Some(v)) => Err(vec![v]),
        (Err(mut errors), Some(v)) => {
            if !errors.iter().any(|e| e.pointer == "/currency") {
                errors.push(v);
            }
            Err(errors)
        }
        (Err(errors), None) => Err(errors),
    }
}

/// A valid receipt ready for the store: its id, business date, final_at and hash.
fn prepare(receipt: ValidReceipt, clock: Clock) -> NewReceipt {
    let business_date = receipt.business_date(clock.tz, clock.cutoff);
    let final_at = business_day::final_at(business_date, clock.tz, clock.cutoff);
    let content_hash = content_hash(&receipt);
    NewReceipt {
        id: Uuid::now_v7(),
        receipt,
        business_date,
        final_at,
        content_hash,
    }
}

fn immutable(id: Uuid) -> Violation {
    Violation::new(
        "/external_id",
        RECEIPT_IMMUTABLE,
        format!(
            "receipt {id} was stored with this external_id and other content; a stored receipt never changes, so send a correction as a new (refund) receipt with its own external_id"
        ),
        format!(
            "bon {id} is met deze external_id en andere inhoud opgeslagen; een opgeslagen bon verandert nooit, dus stuur een correctie als nieuwe (retour)bon met een eigen external_id"
        ),
    )
}

/// Turns `from`/`to`: an instant with offset, or a date meaning its start in `tz`.
fn moment(name: &str, raw: &str, tz: Tz) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Ok(at.with_timezone(&Utc));
    }
    match NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        Ok(date) => Ok(business_day::first_instant_at_or_after(
            tz,
            date.and_time(NaiveTime::MIN),
        )),
        Err(_) => Err(ApiError::InvalidParameter(format!(
            "{name} must be an RFC 3339 time with offset or a date (YYYY-MM-DD)"
        ))),
    }
}

// ------------------------------------------------------------------ handlers

/// Store a receipt.
///
/// The receipt is checked against every rule (lines add up, payments minus change plus cash
/// rounding equal the total, every line has VAT, a product code and a category, …) and every
/// problem is listed in one 400. A stored receipt counts at once in its business day's
/// figures; one that arrives after its day was final is stored, marked `late`, and revises
/// the day. Receipts are immutable: an identical resend answers the stored receipt with 200,
/// other content under the same `external_id` is a 400.
#[utoipa::path(post, path = "/v1/companies/{company_id}/receipts", tag = "receipts",
    params(crate::params::CompanyPath),
    request_body(content = ReceiptInput, description = "The receipt"),
    security(("oauth2" = ["receipts:write"])),
    responses(
        (status = 201, description = "The receipt was stored", body = Receipt),
        (status = 200, description = "The receipt was already stored with exactly this content", body = Receipt),
        (status = "4XX", description = "The request was refused; a 400 lists every problem with its pointer", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_receipt(
    State(app): State<App>,
    access: CompanyAccess<ReceiptsWrite>,
    AppJson(draft): AppJson<ReceiptDraft>,
) -> Result<(StatusCode, Json<Receipt>), ApiError> {
    let company_id = access.company_id;
    let (company, clock) = company_clock(&app, company_id).await?;
    let known = load_references(&app, company_id, &[&draft]).await?;
    let valid = check(&draft, &known, &company).map_err(ApiError::InvalidRequest)?;
    let new = prepare(valid, clock);
    let outcome = app
        .store
        .receipts()
        .insert(company_id, std::slice::from_ref(&new), Utc::now())
        .await?
        .pop()
        .ok_or(ApiError::Internal)?;
    let (status, id) = match outcome {
        InsertOutcome::Created { id, .. } => (StatusCode::CREATED, id),
        InsertOutcome::Unchanged { id } => (StatusCode::OK, id),
        InsertOutcome::Conflict { id } => {
            return Err(ApiError::InvalidRequest(vec![immutable(id)]));
        }
    };
    let record = app
        .store
        .receipts()
        .find(company_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((status, Json(record.into())))
}

/// Store up to 1000 receipts, each on its own.
///
/// Each item is checked and stored (or refused) independently, all in one transaction; the
/// answer lists for every item `success` with its `id`, or its `errors` with pointers into
/// the item. More than 1000 items is a 400.
#[utoipa::path(post, path = "/v1/companies/{company_id}/receipts/batch", tag = "receipts",
    params(crate::params::CompanyPath),
    request_body(content = ReceiptBatchInput, description = "The receipts"),
    security(("oauth2" = ["receipts:write"])),
    responses(
        (status = 200, description = "Every item with its outcome, in the order sent", body = ReceiptBatchResult),
        (status = "4XX", description = "The request as a whole was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_receipts_batch(
    State(app): State<App>,
    access: CompanyAccess<ReceiptsWrite>,
    headers: HeaderMap,
    AppJson(body): AppJson<BatchBody>,
) -> Result<Json<ReceiptBatchResult>, ApiError> {
    let company_id = access.company_id;
    if body.receipts.len() > MAX_BATCH {
        return Err(ApiError::invalid(
            "/receipts",
            "too_many_items",
            format!(
                "a batch holds at most {MAX_BATCH} receipts, got {}",
                body.receipts.len()
            ),
            format!(
                "een batch bevat hoogstens {MAX_BATCH} bonnen, ontvangen: {}",
                body.receipts.len()
            ),
        ));
    }
    let language = Language::from_headers(&headers);
    let (company, clock) = company_clock(&app, company_id).await?;
    let parsed: Vec<Result<ReceiptDraft, Vec<Violation>>> =
        body.receipts.iter().map(|item| parse_item(item)).collect();
    let drafts: Vec<&ReceiptDraft> = parsed.iter().filter_map(|p| p.as_ref().ok()).collect();
    let known = load_references(&app, company_id, &drafts).await?;
    let checked: Vec<Result<NewReceipt, Vec<Violation>>> = parsed
        .into_iter()
        .map(|p| {
            p.and_then(|draft| check(&draft, &known, &company))
                .map(|valid| prepare(valid, clock))
        })
        .collect();
    let news: Vec<NewReceipt> = checked
        .iter()
        .filter_map(|c| c.as_ref().ok())
        .cloned()
        .collect();
    let mut outcomes = if news.is_empty() {
        Vec::new()
    } else {
        app.store
            .receipts()
            .insert(company_id, &news, Utc::now())
            .await?
    }
    .into_iter();
    let failed = |index, violations: &[Violation]| ReceiptBatchItem {
        index,
        success: false,
        id: None,
        outcome: None,
        late: None,
        errors: Some(ProblemItem::all(violations, language)),
    };
    let data = checked
        .iter()
        .enumerate()
        .map(
            |(index, c)| match (c, if c.is_ok() { outcomes.next() } else { None }) {
                (Err(violations), _) => failed(index, violations),
                (Ok(_), Some(InsertOutcome::Created { id, late })) => ReceiptBatchItem {
                    index,
                    success: true,
                    id: Some(id),
                    outcome: Some("created".to_owned()),
                    late: Some(late),
                    errors: None,
                },
                (Ok(_), Some(InsertOutcome::Unchanged { id })) => ReceiptBatchItem {
                    index,
                    success: true,
                    id: Some(id),
                    outcome: Some("unchanged".to_owned()),
                    late: None,
                    errors: None,
                },
                (Ok(_), Some(InsertOutcome::Conflict { id })) => failed(index, &[immutable(id)]),
                (Ok(_), None) => failed(index, &[]),
            },
        )
        .collect();
    Ok(Json(ReceiptBatchResult { data }))
}

/// Check a receipt against every rule without storing it.
///
/// Answers the business date, totals and VAT breakdown Koppel would store, or a 400 that
/// lists every problem with its pointer; other content under the `external_id` of a stored
/// receipt is refused as storing it would be (`receipt_immutable`).
#[utoipa::path(post, path = "/v1/companies/{company_id}/receipts/validate", tag = "receipts",
    params(crate::params::CompanyPath),
    request_body(content = ReceiptInput, description = "The receipt to check"),
    security(("oauth2" = ["receipts:write"])),
    responses(
        (status = 200, description = "The receipt passes every rule; nothing was stored", body = ReceiptValidation),
        (status = "4XX", description = "The receipt breaks rules; a 400 lists every problem with its pointer", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn validate_receipt_only(
    State(app): State<App>,
    access: CompanyAccess<ReceiptsWrite>,
    AppJson(draft): AppJson<ReceiptDraft>,
) -> Result<Json<ReceiptValidation>, ApiError> {
    let company_id = access.company_id;
    let (company, clock) = company_clock(&app, company_id).await?;
    let known = load_references(&app, company_id, &[&draft]).await?;
    let valid = check(&draft, &known, &company).map_err(ApiError::InvalidRequest)?;
    // Storing it would also compare it with a receipt stored under its external id.
    let hash = content_hash(&valid);
    if let Some((id, stored)) = app
        .store
        .receipts()
        .stored_hash(company_id, &valid.external_id)
        .await?
        && stored != hash
    {
        return Err(ApiError::InvalidRequest(vec![immutable(id)]));
    }
    let totals = |t: koppel_domain::document::Totals| ReceiptTotals {
        total_excl_vat: t.total_excl_vat,
        total_vat: t.total_vat,
        total_incl_vat: t.total_incl_vat,
    };
    Ok(Json(ReceiptValidation {
        valid: true,
        business_date: valid.business_date(clock.tz, clock.cutoff),
        totals: totals(valid.totals),
        revenue: totals(valid.split.revenue),
        tips: cents(valid.split.tips),
        gift_cards_multi_purpose: cents(valid.split.gift_cards_multi_purpose),
        deposits: cents(valid.split.deposits),
        vat_breakdown: valid
            .vat_breakdown
            .iter()
            .map(|g| ReceiptVatGroup {
                category: g.category.as_str().to_owned(),
                percentage: g.percentage,
                country: g.country.as_str().to_owned(),
                base: g.base,
                vat: g.vat,
            })
            .collect(),
    }))
}

/// Get one receipt, with its lines and payments.
#[utoipa::path(get, path = "/v1/companies/{company_id}/receipts/{receipt_id}", tag = "receipts",
    params(ReceiptPath),
    security(("oauth2" = ["receipts:read"])),
    responses(
        (status = 200, description = "The receipt", body = Receipt),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_receipt(
    State(app): State<App>,
    access: CompanyAccess<ReceiptsRead>,
    AppPath(path): AppPath<ReceiptPath>,
) -> Result<Json<Receipt>, ApiError> {
    let record = app
        .store
        .receipts()
        .find(access.company_id, path.receipt_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(record.into()))
}

/// The sort key a cursor carries: which order, then the timestamp and id of the last item.
#[derive(Debug, Serialize, Deserialize)]
struct ReceiptCursor(char, DateTime<Utc>, Uuid);

/// List receipts by number, period, business date, location, change time or reference.
///
/// Keyset-paginated: a deep page costs the same as the first.
#[utoipa::path(get, path = "/v1/companies/{company_id}/receipts", tag = "receipts",
    params(crate::params::CompanyPath, ReceiptQuery),
    security(("oauth2" = ["receipts:read"])),
    responses(
        (status = 200, description = "A page of receipts", body = ReceiptList),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_receipts(
    State(app): State<App>,
    access: CompanyAccess<ReceiptsRead>,
    AppQuery(query): AppQuery<ReceiptQuery>,
) -> Result<Json<ReceiptList>, ApiError> {
    let company_id = access.company_id;
    let page = PageParams {
        limit: query.limit,
        cursor: query.cursor.clone(),
    };
    let limit = page.limit()?;
    let tz = if query.from.is_some() || query.to.is_some() {
        Some(company_clock(&app, company_id).await?.1.tz)
    } else {
        None
    };
    let tz = tz.unwrap_or(chrono_tz::Europe::Amsterdam);
    let from = query
        .from
        .as_deref()
        .map(|raw| moment("from", raw, tz))
        .transpose()?;
    let to = query
        .to
        .as_deref()
        .map(|raw| moment("to", raw, tz))
        .transpose()?;
    let narrowed = query.number.is_some()
        || from.is_some()
        || to.is_some()
        || query.business_date.is_some()
        || query.location_id.is_some()
        || query.reference.is_some();
    let (order, tag) = if query.updated_since.is_none() && narrowed {
        (ReceiptOrder::Created, 'c')
    } else {
        (ReceiptOrder::Updated, 'u')
    };
    let after = match page.cursor::<ReceiptCursor>()? {
        None => None,
        Some(ReceiptCursor(t, at, id)) if t == tag => Some((at, id)),
        Some(_) => {
            return Err(ApiError::InvalidParameter(
                "cursor belongs to a list with other filters".to_owned(),
            ));
        }
    };
    let filter = ReceiptFilter {
        number: query.number,
        from,
        to,
        business_date: query.business_date,
        location_id: query.location_id,
        updated_since: query.updated_since,
        reference: query.reference,
        bookings: koppel_store::bookings::BookingFilter {
            not_booked_by: query.not_booked_by,
            changed_since_booked: query.changed_since_booked,
        },
        order,
        after,
        limit: i64::from(limit) + 1,
    };
    let rows = app.store.receipts().list(company_id, &filter).await?;
    let Page { items, next } = Page::from_overfetch(rows, limit, |r: &ReceiptRecord| {
        let at = match order {
            ReceiptOrder::Created => r.created_at.with_timezone(&Utc),
            ReceiptOrder::Updated => r.updated_at,
        };
        Cursor::encode(&ReceiptCursor(tag, at, r.id))
    });
    Ok(Json(ReceiptList {
        data: items.into_iter().map(Receipt::from).collect(),
        next_cursor: next,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_answered_with_at_least_two_decimals() {
        assert_eq!(cents(Decimal::new(121, 1)).to_string(), "12.10");
        assert_eq!(cents(Decimal::new(12, 0)).to_string(), "12.00");
        assert_eq!(cents(Decimal::new(12345, 4)).to_string(), "1.2345");
    }

    #[test]
    fn the_hash_does_not_depend_on_how_an_amount_was_written() {
        let mut known = KnownReferences::default();
        known.categories.insert("c".to_owned());
        known.payment_methods.insert("p".to_owned());
        let body = |price: &str, paid: &str| {
            serde_json::from_str::<ReceiptDraft>(&format!(
                r#"{{"external_id": "x", "created_at": "2026-06-10T12:00:00+02:00",
                    "currency": "EUR", "prices_include_vat": true,
                    "lines": [{{"product_code": "1", "category_id": "c", "quantity": 1,
                               "unit_price": {price}, "total_incl_vat": {price},
                               "vat": {{"percentage": 9, "category": "reduced", "amount": "0.29"}}}}],
                    "payments": [{{"method_id": "p", "amount": {paid}}}]}}"#
            ))
            .unwrap()
        };
        let company = CompanyRecord {
            id: Uuid::nil(),
            name: "x".to_owned(),
            timezone: "Europe/Amsterdam".to_owned(),
            currency: "EUR".to_owned(),
            business_day_cutoff: NaiveTime::MIN,
            created_at: Utc::now(),
        };
        let a = check(&body("3.5", "3.5"), &known, &company).unwrap();
        let b = check(&body("\"3.50\"", "\"3.50\""), &known, &company).unwrap();
        assert_eq!(content_hash(&a), content_hash(&b));
        let c = check(&body("4.00", "4.00"), &known, &company);
        assert!(c.is_err(), "the vat no longer fits");
    }
}
