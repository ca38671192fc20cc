//! Sales orders (W5b–d, W5h): upserted by `external_id` under a stable id,
//! every change a new version with the full history kept; searched by number,
//! order date, change time, reference, customer and status; sent one at a
//! time, up to 1000 per batch, or only validated.
//!
//! A request is parsed into the domain's `OrderDraft`, its references are
//! loaded in one query, `validate_order` collects every violation with its
//! pointer, and the store writes the order with all its parts in one
//! transaction.

pub mod input;

use std::collections::{BTreeSet, HashMap};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Utc};
use koppel_domain::business_day::first_instant_at_or_after;
use koppel_domain::document::{KnownReferences, Totals, VatGroup};
use koppel_domain::order::{OrderDraft, OrderStatus, ValidOrder, validate_order};
use koppel_domain::problem::Violation;
use koppel_store::orders::{
    CostRecord, LineRecord, OrderFilter, OrderRecord, OrderSort, OrderWrite, Outcome,
    PaymentRecord, VatGroupRecord, VatRecord, Written,
};
use koppel_store::references::Wanted;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::App;
use crate::auth::extract::{CompanyAccess, OrdersRead, OrdersWrite};
use crate::error::{ApiError, Problem, ProblemItem};
use crate::extract::{AppJson, AppPath, AppQuery, parse_item};
use crate::language::Language;
use crate::params::OrderPath;
use crate::params::{Cursor, Page, PageParams};

pub use input::{OrderBatchInput, OrderInput};

/// The most orders one batch may hold (SPEC "Limits").
pub const MAX_BATCH: usize = 1000;

/// How many orders of a batch are written per part: a batch of 1000 takes
/// five, each a constant number of statements, so that checking the next part
/// overlaps with the database writing this one (bench/README.md, P2).
const WRITE_PART: usize = 200;

/// The order routes.
pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(upsert_order, list_orders))
        .routes(routes!(get_order))
        .routes(routes!(list_order_versions))
        .routes(routes!(upsert_orders_batch))
        .routes(routes!(validate_order_only))
}

// ------------------------------------------------------------------ answers

/// The VAT of a line or cost, resolved.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrderVat {
    /// The company's VAT rate, when the order named one.
    pub rate_id: Option<Uuid>,
    /// The rate in percent.
    #[schema(value_type = String, example = "21")]
    pub percentage: Decimal,
    /// The VAT category, e.g. `standard`.
    pub category: String,
    /// ISO 3166-1 alpha-2 country whose rate applies.
    pub country: String,
    /// The VAT amount.
    #[schema(value_type = String, example = "2.10")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub amount: Decimal,
    /// Why the line is exempt, for category `exempt`.
    pub exemption_reason: Option<String>,
}

impl From<VatRecord> for OrderVat {
    fn from(v: VatRecord) -> Self {
        Self {
            rate_id: v.rate_id,
            percentage: v.percentage.normalize(),
            category: v.category,
            country: v.country,
            amount: v.amount,
            exemption_reason: v.exemption_reason,
        }
    }
}

/// An address as it was on the order.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct OrderAddress {
    /// Street name.
    pub street: Option<String>,
    /// House number.
    pub house_number: Option<String>,
    /// Addition to the house number.
    pub house_number_addition: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// City.
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    pub country: Option<String>,
}

/// The buyer as on the order, identifiers normalised.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct OrderCustomer {
    /// The customer's id in Koppel, when the order named one.
    pub id: Option<String>,
    /// The person's name.
    pub name: Option<String>,
    /// The business's name.
    pub company_name: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// The buyer's VAT number, normalised (`NL000099998B57`).
    pub vat_number: Option<String>,
    /// The buyer's KvK number.
    pub coc_number: Option<String>,
    /// Billing address.
    pub billing_address: Option<OrderAddress>,
    /// Shipping address.
    pub shipping_address: Option<OrderAddress>,
}

/// A stored order line.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrderLine {
    /// The product's id in Koppel.
    pub product_id: Option<Uuid>,
    /// The product's SKU.
    pub sku: Option<String>,
    /// What was sold.
    pub description: Option<String>,
    /// How many.
    #[schema(value_type = String, example = "2")]
    pub quantity: Decimal,
    /// Price per unit in the order's basis.
    #[schema(value_type = String, example = "5.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub unit_price: Decimal,
    /// Discount on the whole line, in the same basis.
    #[schema(value_type = String, example = "0.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub discount: Decimal,
    /// The line's VAT.
    pub vat: OrderVat,
    /// Line total excluding VAT.
    #[schema(value_type = String, example = "10.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub total_excl_vat: Decimal,
    /// Line total including VAT.
    #[schema(value_type = String, example = "12.10")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub total_incl_vat: Decimal,
    /// The revenue category's id in Koppel.
    pub category_id: Option<Uuid>,
}

impl From<LineRecord> for OrderLine {
    fn from(l: LineRecord) -> Self {
        Self {
            product_id: l.product_id,
            sku: l.sku,
            description: l.description,
            quantity: l.quantity,
            unit_price: l.unit_price,
            discount: l.discount,
            vat: l.vat.into(),
            total_excl_vat: l.total_excl_vat,
            total_incl_vat: l.total_incl_vat,
            category_id: l.category_id,
        }
    }
}

/// A stored cost.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrderCost {
    /// What the cost is for: `shipping`, `payment`, `discount`, `surcharge`, `other` or `rounding`.
    pub kind: String,
    /// Free text.
    pub description: Option<String>,
    /// Amount excluding VAT.
    #[schema(value_type = String, example = "4.13")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub amount_excl_vat: Decimal,
    /// The cost's VAT.
    pub vat: OrderVat,
    /// Amount including VAT.
    #[schema(value_type = String, example = "5.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub amount_incl_vat: Decimal,
}

impl From<CostRecord> for OrderCost {
    fn from(k: CostRecord) -> Self {
        Self {
            kind: k.kind,
            description: k.description,
            amount_excl_vat: k.amount_excl_vat,
            vat: k.vat.into(),
            amount_incl_vat: k.amount_incl_vat,
        }
    }
}

/// A stored payment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrderPayment {
    /// The payment method's id in Koppel.
    pub method_id: Uuid,
    /// Amount; negative for money paid back.
    #[schema(value_type = String, example = "12.10")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub amount: Decimal,
    /// The payment provider's reference.
    pub reference: Option<String>,
    /// When it was paid, with the offset it was sent with.
    pub paid_at: Option<DateTime<FixedOffset>>,
}

impl From<PaymentRecord> for OrderPayment {
    fn from(p: PaymentRecord) -> Self {
        Self {
            method_id: p.method_id,
            amount: p.amount,
            reference: p.reference,
            paid_at: p.paid_at,
        }
    }
}

/// The totals, computed by Koppel from the lines and costs.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrderTotals {
    /// The sum of the amounts excluding VAT.
    #[schema(value_type = String, example = "10.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub total_excl_vat: Decimal,
    /// The sum of the VAT amounts.
    #[schema(value_type = String, example = "2.10")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub total_vat: Decimal,
    /// The sum of the amounts including VAT.
    #[schema(value_type = String, example = "12.10")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub total_incl_vat: Decimal,
}

impl From<Totals> for OrderTotals {
    fn from(t: Totals) -> Self {
        Self {
            total_excl_vat: t.total_excl_vat,
            total_vat: t.total_vat,
            total_incl_vat: t.total_incl_vat,
        }
    }
}

/// One group of the VAT breakdown: a category, rate and country with its base and VAT.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrderVatGroup {
    /// The VAT category.
    pub category: String,
    /// The rate in percent.
    #[schema(value_type = String, example = "21")]
    pub percentage: Decimal,
    /// ISO 3166-1 alpha-2 country whose rate applies.
    pub country: String,
    /// The sum of the amounts excluding VAT in this group.
    #[schema(value_type = String, example = "10.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub base: Decimal,
    /// The sum of the VAT amounts in this group.
    #[schema(value_type = String, example = "2.10")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub vat: Decimal,
}

impl From<VatGroupRecord> for OrderVatGroup {
    fn from(g: VatGroupRecord) -> Self {
        Self {
            category: g.category,
            percentage: g.percentage.normalize(),
            country: g.country,
            base: g.base,
            vat: g.vat,
        }
    }
}

impl From<&VatGroup> for OrderVatGroup {
    fn from(g: &VatGroup) -> Self {
        Self {
            category: g.category.as_str().to_owned(),
            percentage: g.percentage.normalize(),
            country: g.country.as_str().to_owned(),
            base: cents(g.base),
            vat: cents(g.vat),
        }
    }
}

/// A sales order (one version of it).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Order {
    /// Our id; the same for every version.
    pub id: Uuid,
    /// The vendor's id; the upsert key.
    pub external_id: String,
    /// The order number the customer sees.
    pub number: Option<String>,
    /// The version, starting at 1; each change of the order is a new version.
    pub version: i32,
    /// One of `open`, `paid`, `shipped`, `completed`, `cancelled`, `refunded`.
    pub status: String,
    /// When the order was placed, with the offset it was sent with.
    pub order_date: DateTime<FixedOffset>,
    /// ISO 4217 currency code.
    pub currency: String,
    /// Whether unit prices include VAT.
    pub prices_include_vat: bool,
    /// The buyer as on the order.
    pub customer: Option<OrderCustomer>,
    /// The lines, in the order sent.
    pub lines: Vec<OrderLine>,
    /// The costs, in the order sent.
    pub costs: Vec<OrderCost>,
    /// The payments, in the order sent.
    pub payments: Vec<OrderPayment>,
    /// The totals, computed by Koppel.
    pub totals: OrderTotals,
    /// Base and VAT per category, rate and country, computed by Koppel.
    pub vat_breakdown: Vec<OrderVatGroup>,
    /// For a credit order or refund: the id of the order it corrects.
    pub credit_of: Option<Uuid>,
    /// When the order was first stored.
    pub created_at: DateTime<Utc>,
    /// When this version was stored.
    pub updated_at: DateTime<Utc>,
    /// What bookkeeping connectors booked of the order (any version), oldest first.
    pub bookings: Vec<crate::booking::Booking>,
    /// Whether the order changed after it was booked: some package's latest booking is of a
    /// version older than the order's current one. Find your own with `changed_since_booked`.
    pub needs_correction: bool,
}

impl From<OrderRecord> for Order {
    fn from(r: OrderRecord) -> Self {
        let (bookings, needs_correction) =
            crate::booking::bookings_of(r.current_version, r.bookings);
        Self {
            id: r.id,
            external_id: r.external_id,
            number: r.number,
            version: r.version,
            status: r.status,
            order_date: r.order_date,
            currency: r.currency,
            prices_include_vat: r.prices_include_vat,
            // The snapshot was written from the domain's customer, whose
            // fields this type mirrors.
            customer: r.customer.and_then(|c| serde_json::from_value(c).ok()),
            lines: r.lines.into_iter().map(OrderLine::from).collect(),
            costs: r.costs.into_iter().map(OrderCost::from).collect(),
            payments: r.payments.into_iter().map(OrderPayment::from).collect(),
            totals: OrderTotals {
                total_excl_vat: r.total_excl_vat,
                total_vat: r.total_vat,
                total_incl_vat: r.total_incl_vat,
            },
            vat_breakdown: r
                .vat_breakdown
                .into_iter()
                .map(OrderVatGroup::from)
                .collect(),
            credit_of: r.credit_of,
            created_at: r.created_at,
            updated_at: r.recorded_at,
            bookings,
            needs_correction,
        }
    }
}

/// A page of orders.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrderList {
    /// The orders on this page, each in its current version.
    pub data: Vec<Order>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// A page of an order's versions, oldest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrderVersionList {
    /// Each version as it was stored, complete.
    pub data: Vec<Order>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// What happened to one item of a batch.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrderBatchItem {
    /// The item's position in the request's `orders`, from 0.
    pub index: usize,
    /// Whether the item was stored (or already stored exactly so).
    pub success: bool,
    /// The order's id, when stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    /// The order's version after this item, when stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i32>,
    /// `created`, `updated` (a new version) or `unchanged` (an identical resend), when stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Every problem of the item, with pointers into the item, when refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<ProblemItem>>,
}

/// The answer to a batch: one entry per item, in the order sent.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrderBatchResult {
    /// One entry per item of the request.
    pub data: Vec<OrderBatchItem>,
}

/// The answer to a validation that passed: what Koppel would store.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrderValidation {
    /// Always true: an order that fails is answered with a 400 listing every problem.
    pub valid: bool,
    /// The totals Koppel computed.
    pub totals: OrderTotals,
    /// The VAT breakdown Koppel computed.
    pub vat_breakdown: Vec<OrderVatGroup>,
}

// ------------------------------------------------------------------ parameters

/// Filters of the order list; all optional and combined with "and".
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderQuery {
    /// Only orders with this number.
    pub number: Option<String>,
    /// Only orders placed at or after this moment: RFC 3339 with offset, or a date meaning
    /// the start of that day in the company's timezone. The list is then sorted by order date.
    pub from: Option<String>,
    /// Only orders placed before this moment (exclusive): RFC 3339 with offset, or a date
    /// meaning the start of that day in the company's timezone.
    pub to: Option<String>,
    /// Only orders changed at or after this moment (RFC 3339 with offset); the list is
    /// sorted by change time.
    pub updated_since: Option<DateTime<Utc>>,
    /// Only orders with this `external_id` or a payment with this `reference`.
    pub reference: Option<String>,
    /// Only orders of this customer.
    pub customer_id: Option<Uuid>,
    /// Only orders with this status: `open`, `paid`, `shipped`, `completed`, `cancelled`, `refunded`.
    #[param(value_type = Option<String>)]
    pub status: Option<OrderStatus>,
    /// Only orders this accounting package (a booking's `package`) has never booked.
    #[param(min_length = 1, example = "exact-online")]
    pub not_booked_by: Option<String>,
    /// Only orders this accounting package booked in an older version than the current
    /// one: the corrections it still has to post.
    #[param(min_length = 1, example = "exact-online")]
    pub changed_since_booked: Option<String>,
    /// How many orders to answer, 1 to 1000; default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

/// The page parameters of the version list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// How many versions to answer, 1 to 1000; default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

/// The batch body as parsed (documented as [`OrderBatchInput`]): each item is
/// kept as JSON and parsed on its own, so that one broken item is refused alone.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchBody {
    /// The orders, not yet parsed.
    pub orders: Vec<Box<RawValue>>,
}

// ------------------------------------------------------------------ the flow

fn status_str(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Open => "open",
        OrderStatus::Paid => "paid",
        OrderStatus::Shipped => "shipped",
        OrderStatus::Completed => "completed",
        OrderStatus::Cancelled => "cancelled",
        OrderStatus::Refunded => "refunded",
    }
}

fn outcome_str(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Created => "created",
        Outcome::Updated => "updated",
        Outcome::Unchanged => "unchanged",
    }
}

/// An amount with exactly two decimals, as a bookkeeping total is written.
fn cents(value: Decimal) -> Decimal {
    let mut v = value;
    v.rescale(2);
    v
}

/// An amount kept as sent but without trailing zeros beyond the cents.
fn price(value: Decimal) -> Decimal {
    let v = value.normalize();
    if v.scale() < 2 { cents(v) } else { v }
}

/// Adds what a draft names to the references to load.
fn want(draft: &OrderDraft, wanted: &mut Wanted) {
    let vats = draft
        .lines
        .iter()
        .filter_map(|l| l.vat.as_ref())
        .chain(draft.costs.iter().filter_map(|k| k.vat.as_ref()));
    wanted
        .vat_rates
        .extend(vats.filter_map(|v| v.rate_id.clone()));
    for l in &draft.lines {
        wanted.products.extend(l.product_id.clone());
        wanted.skus.extend(l.sku.clone());
        wanted.categories.extend(l.category_id.clone());
    }
    wanted
        .payment_methods
        .extend(draft.payments.iter().filter_map(|p| p.method_id.clone()));
    wanted
        .customers
        .extend(draft.customer.as_ref().and_then(|c| c.id.clone()));
    wanted.orders.extend(draft.credit_of.clone());
}

/// Everything the drafts of one request reference, loaded in one query,
/// plus the orders `credit_of` names (by our id or the vendor's external id).
async fn references(
    app: &App,
    company_id: Uuid,
    drafts: &[&OrderDraft],
) -> Result<(KnownReferences, HashMap<String, Uuid>), ApiError> {
    let mut wanted = Wanted::default();
    for draft in drafts {
        want(draft, &mut wanted);
    }
    for list in [
        &mut wanted.vat_rates,
        &mut wanted.products,
        &mut wanted.skus,
        &mut wanted.payment_methods,
        &mut wanted.categories,
        &mut wanted.customers,
        &mut wanted.orders,
    ] {
        let unique: BTreeSet<String> = list.drain(..).collect();
        list.extend(unique);
    }
    let mut known = app.store.references(company_id, &wanted).await?;
    let orders = app
        .store
        .orders()
        .resolve(company_id, &wanted.orders)
        .await?;
    known.orders.extend(orders.keys().cloned());
    Ok((known, orders))
}

/// Puts a valid order in its canonical form: references to our ids, amounts
/// with the scale they are stored with. The content hash is taken of this
/// form, so `12.1` and `"12.10"` are the same order.
fn canonical(mut order: ValidOrder, orders: &HashMap<String, Uuid>) -> ValidOrder {
    order.credit_of = order
        .credit_of
        .and_then(|c| orders.get(&c).map(Uuid::to_string));
    for l in &mut order.lines {
        l.quantity = l.quantity.normalize();
        l.unit_price = price(l.unit_price);
        l.discount = price(l.discount);
        l.total_excl_vat = cents(l.total_excl_vat);
        l.total_incl_vat = cents(l.total_incl_vat);
        l.vat.amount = cents(l.vat.amount);
    }
    for k in &mut order.costs {
        k.amount_excl_vat = cents(k.amount_excl_vat);
        k.amount_incl_vat = cents(k.amount_incl_vat);
        k.vat.amount = cents(k.vat.amount);
    }
    for p in &mut order.payments {
        p.amount = cents(p.amount);
    }
    for g in &mut order.vat_breakdown {
        g.base = cents(g.base);
        g.vat = cents(g.vat);
    }
    order.totals.total_excl_vat = cents(order.totals.total_excl_vat);
    order.totals.total_vat = cents(order.totals.total_vat);
    order.totals.total_incl_vat = cents(order.totals.total_incl_vat);
    order
}

/// SHA-256 of the canonical order's JSON: the fields in declaration order,
/// amounts as strings, so equal orders hash equally.
fn content_hash(order: &ValidOrder) -> Vec<u8> {
    let bytes = serde_json::to_vec(order).unwrap_or_default();
    Sha256::digest(bytes).to_vec()
}

/// A valid order in canonical form with its content hash, or every violation.
type Checked = Result<(ValidOrder, Vec<u8>), Vec<Violation>>;

/// Validates one draft against the loaded references.
fn check(draft: &OrderDraft, known: &KnownReferences, orders: &HashMap<String, Uuid>) -> Checked {
    let valid = canonical(validate_order(draft, known)?, orders);
    let hash = content_hash(&valid);
    Ok((valid, hash))
}

fn status_code(outcome: Outcome) -> StatusCode {
    match outcome {
        Outcome::Created => StatusCode::CREATED,
        Outcome::Updated | Outcome::Unchanged => StatusCode::OK,
    }
}

/// Turns `from`/`to`: an instant with offset, or a date meaning its start in `tz`.
fn moment(name: &str, raw: &str, tz: Option<chrono_tz::Tz>) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Ok(at.with_timezone(&Utc));
    }
    match (NaiveDate::parse_from_str(raw, "%Y-%m-%d"), tz) {
        (Ok(date), Some(tz)) => Ok(first_instant_at_or_after(tz, date.and_time(NaiveTime::MIN))),
        _ => Err(ApiError::InvalidParameter(format!(
            "{name} must be an RFC 3339 time with offset or a date (YYYY-MM-DD)"
        ))),
    }
}

// ------------------------------------------------------------------ handlers

/// Create an order, or store a new version of it, by its `external_id`.
///
/// An identical resend changes nothing and answers the stored order with 200;
/// a different body for the same `external_id` becomes the next `version`
/// under the same `id`. Every broken rule is listed in one 400.
#[utoipa::path(post, path = "/v1/companies/{company_id}/orders", tag = "orders",
    params(crate::params::CompanyPath),
    request_body(content = OrderInput, description = "The order"),
    security(("oauth2" = ["orders:write"])),
    responses(
        (status = 201, description = "The order was created (version 1)", body = Order),
        (status = 200, description = "A new version was stored, or the order was already exactly this", body = Order),
        (status = "4XX", description = "The request was refused; a 400 lists every problem with its pointer", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn upsert_order(
    State(app): State<App>,
    access: CompanyAccess<OrdersWrite>,
    AppJson(draft): AppJson<OrderDraft>,
) -> Result<(StatusCode, Json<Order>), ApiError> {
    let company_id = access.company_id;
    let (known, orders) = references(&app, company_id, &[&draft]).await?;
    let (valid, hash) = check(&draft, &known, &orders).map_err(ApiError::InvalidRequest)?;
    let written = app
        .store
        .orders()
        .write(
            company_id,
            &[OrderWrite {
                order: &valid,
                content_hash: &hash,
            }],
        )
        .await?;
    let Some(Written {
        id,
        version,
        outcome,
    }) = written.first().copied()
    else {
        return Err(ApiError::Internal);
    };
    // The version this request stored (or found identical), even when a
    // concurrent request has stored a later one since.
    let record = app
        .store
        .orders()
        .version(company_id, id, version)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((status_code(outcome), Json(record.into())))
}

/// Store up to 1000 orders, each on its own.
///
/// Each item is checked and stored (or refused) independently; the answer
/// lists for every item `success` with its `id`, or its `errors` with
/// pointers into the item. More than 1000 items is a 400.
#[utoipa::path(post, path = "/v1/companies/{company_id}/orders/batch", tag = "orders",
    params(crate::params::CompanyPath),
    request_body(content = OrderBatchInput, description = "The orders"),
    security(("oauth2" = ["orders:write"])),
    responses(
        (status = 200, description = "Every item with its outcome, in the order sent", body = OrderBatchResult),
        (status = "4XX", description = "The request as a whole was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn upsert_orders_batch(
    State(app): State<App>,
    access: CompanyAccess<OrdersWrite>,
    headers: HeaderMap,
    AppJson(body): AppJson<BatchBody>,
) -> Result<Json<OrderBatchResult>, ApiError> {
    let company_id = access.company_id;
    if body.orders.len() > MAX_BATCH {
        return Err(ApiError::invalid(
            "/orders",
            "too_many_items",
            format!(
                "a batch holds at most {MAX_BATCH} orders, got {}",
                body.orders.len()
            ),
            format!(
                "een batch bevat hoogstens {MAX_BATCH} orders, ontvangen: {}",
                body.orders.len()
            ),
        ));
    }
    let language = Language::from_headers(&headers);
    // Parsing a thousand orders is milliseconds of CPU: not on an async worker.
    let parsed: Vec<Result<OrderDraft, Vec<Violation>>> = tokio::task::spawn_blocking(move || {
        body.orders.iter().map(|item| parse_item(item)).collect()
    })
    .await
    .map_err(|e| ApiError::internal(&e))?;
    let drafts: Vec<&OrderDraft> = parsed.iter().filter_map(|p| p.as_ref().ok()).collect();
    let (known, orders) = references(&app, company_id, &drafts).await?;

    // What could not be parsed is answered as it is; the rest is checked and
    // written part by part in ascending external id (the heads' lock order,
    // see `OrderBatch`), the next part checked on a blocking thread while the
    // database writes this one.
    let mut answers: Vec<Option<OrderBatchItem>> = Vec::with_capacity(parsed.len());
    let mut pending: Vec<(usize, OrderDraft)> = Vec::with_capacity(parsed.len());
    for (index, item) in parsed.into_iter().enumerate() {
        match item {
            Ok(draft) => {
                answers.push(None);
                pending.push((index, draft));
            }
            Err(violations) => answers.push(Some(refused(index, &violations, language))),
        }
    }
    pending.sort_by(|(_, a), (_, b)| lock_key(a).cmp(&lock_key(b)));
    let (parts, mut checked_parts) = tokio::sync::mpsc::channel::<Vec<(usize, Checked)>>(2);
    let checker = tokio::task::spawn_blocking(move || {
        for part in pending.chunks(WRITE_PART) {
            let checked = part
                .iter()
                .map(|(index, draft)| (*index, check(draft, &known, &orders)))
                .collect();
            if parts.blocking_send(checked).is_err() {
                // The writer gave up (its error is what the request answers).
                return;
            }
        }
    });
    let mut batch = app.store.orders().begin_batch(company_id).await?;
    while let Some(part) = checked_parts.recv().await {
        let writes: Vec<OrderWrite<'_>> = part
            .iter()
            .filter_map(|(_, c)| c.as_ref().ok())
            .map(|(order, hash)| OrderWrite {
                order,
                content_hash: hash,
            })
            .collect();
        let mut written = batch.write(&writes).await?.into_iter();
        for (index, c) in &part {
            answers[*index] = Some(match c {
                Ok(_) => {
                    let w = written.next().ok_or(ApiError::Internal)?;
                    OrderBatchItem {
                        index: *index,
                        success: true,
                        id: Some(w.id),
                        version: Some(w.version),
                        outcome: Some(outcome_str(w.outcome).to_owned()),
                        errors: None,
                    }
                }
                Err(violations) => refused(*index, violations, language),
            });
        }
    }
    // The checker ends after its last part; a panic in it is a bug.
    checker.await.map_err(|e| ApiError::internal(&e))?;
    batch.commit().await?;
    let data = answers
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .ok_or(ApiError::Internal)?;
    Ok(Json(OrderBatchResult { data }))
}

/// The external id a draft's head is stored (and locked) under, as
/// validation trims it. The sort is stable, so repeats keep the order sent.
fn lock_key(draft: &OrderDraft) -> Option<&str> {
    draft.external_id.as_deref().map(str::trim)
}

/// The answer for a refused item of a batch.
fn refused(index: usize, violations: &[Violation], language: Language) -> OrderBatchItem {
    OrderBatchItem {
        index,
        success: false,
        id: None,
        version: None,
        outcome: None,
        errors: Some(ProblemItem::all(violations, language)),
    }
}

/// Check an order against every rule without storing it.
///
/// Answers the totals and VAT breakdown Koppel would store, or a 400 that
/// lists every problem with its pointer.
#[utoipa::path(post, path = "/v1/companies/{company_id}/orders/validate", tag = "orders",
    params(crate::params::CompanyPath),
    request_body(content = OrderInput, description = "The order to check"),
    security(("oauth2" = ["orders:write"])),
    responses(
        (status = 200, description = "The order passes every rule; nothing was stored", body = OrderValidation),
        (status = "4XX", description = "The order breaks rules (a 400 lists them all) or the request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn validate_order_only(
    State(app): State<App>,
    access: CompanyAccess<OrdersWrite>,
    AppJson(draft): AppJson<OrderDraft>,
) -> Result<Json<OrderValidation>, ApiError> {
    let (known, orders) = references(&app, access.company_id, &[&draft]).await?;
    let (valid, _) = check(&draft, &known, &orders).map_err(ApiError::InvalidRequest)?;
    Ok(Json(OrderValidation {
        valid: true,
        totals: valid.totals.into(),
        vat_breakdown: valid
            .vat_breakdown
            .iter()
            .map(OrderVatGroup::from)
            .collect(),
    }))
}

/// Get one order in its current version, with its lines, costs and payments.
#[utoipa::path(get, path = "/v1/companies/{company_id}/orders/{order_id}", tag = "orders",
    params(OrderPath),
    security(("oauth2" = ["orders:read"])),
    responses(
        (status = 200, description = "The order", body = Order),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_order(
    State(app): State<App>,
    access: CompanyAccess<OrdersRead>,
    AppPath(path): AppPath<OrderPath>,
) -> Result<Json<Order>, ApiError> {
    let record = app
        .store
        .orders()
        .find(access.company_id, path.order_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(record.into()))
}

/// Get every version of an order, oldest first.
#[utoipa::path(get, path = "/v1/companies/{company_id}/orders/{order_id}/versions", tag = "orders",
    params(OrderPath, VersionQuery),
    security(("oauth2" = ["orders:read"])),
    responses(
        (status = 200, description = "A page of the order's versions, each complete", body = OrderVersionList),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_order_versions(
    State(app): State<App>,
    access: CompanyAccess<OrdersRead>,
    AppPath(path): AppPath<OrderPath>,
    AppQuery(query): AppQuery<VersionQuery>,
) -> Result<Json<OrderVersionList>, ApiError> {
    let page = PageParams {
        limit: query.limit,
        cursor: query.cursor,
    };
    let limit = page.limit()?;
    let after: i32 = page.cursor()?.unwrap_or(0);
    let orders = app.store.orders();
    let rows = orders
        .versions(
            access.company_id,
            path.order_id,
            after,
            i64::from(limit) + 1,
        )
        .await?;
    if rows.is_empty() && !orders.exists(access.company_id, path.order_id).await? {
        return Err(ApiError::NotFound);
    }
    let Page { items, next } =
        Page::from_overfetch(rows, limit, |r: &OrderRecord| Cursor::encode(&r.version));
    Ok(Json(OrderVersionList {
        data: items.into_iter().map(Order::from).collect(),
        next_cursor: next,
    }))
}

/// List orders by number, order date, change time, reference, customer or status.
///
/// Sorted by change time, or by order date when `from` or `to` is given
/// without `updated_since`; each filter has an index, so a deep page costs
/// the same as the first.
#[utoipa::path(get, path = "/v1/companies/{company_id}/orders", tag = "orders",
    params(crate::params::CompanyPath, OrderQuery),
    security(("oauth2" = ["orders:read"])),
    responses(
        (status = 200, description = "A page of orders, each in its current version", body = OrderList),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_orders(
    State(app): State<App>,
    access: CompanyAccess<OrdersRead>,
    AppQuery(query): AppQuery<OrderQuery>,
) -> Result<Json<OrderList>, ApiError> {
    let company_id = access.company_id;
    let page = PageParams {
        limit: query.limit,
        cursor: query.cursor.clone(),
    };
    let limit = page.limit()?;
    let bare_date = [&query.from, &query.to]
        .into_iter()
        .flatten()
        .any(|raw| DateTime::parse_from_rfc3339(raw).is_err());
    let tz = if bare_date {
        let company = app
            .store
            .companies()
            .find(company_id)
            .await?
            .ok_or(ApiError::NotFound)?;
        Some(
            company
                .timezone
                .parse::<chrono_tz::Tz>()
                .unwrap_or(chrono_tz::Europe::Amsterdam),
        )
    } else {
        None
    };
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
    let sort = if (from.is_some() || to.is_some()) && query.updated_since.is_none() {
        OrderSort::OrderDate
    } else {
        OrderSort::UpdatedAt
    };
    let after = match page.cursor::<(OrderSort, DateTime<Utc>, Uuid)>()? {
        Some((cursor_sort, at, id)) if cursor_sort == sort => Some((at, id)),
        Some(_) => {
            return Err(ApiError::InvalidParameter(
                "cursor belongs to a list with other filters".to_owned(),
            ));
        }
        None => None,
    };
    let filter = OrderFilter {
        number: query.number,
        from,
        to,
        updated_since: query.updated_since,
        reference: query.reference,
        customer_id: query.customer_id,
        status: query.status.map(|s| status_str(s).to_owned()),
        bookings: koppel_store::bookings::BookingFilter {
            not_booked_by: query.not_booked_by,
            changed_since_booked: query.changed_since_booked,
        },
        sort,
        after,
        limit: i64::from(limit) + 1,
    };
    let rows = app.store.orders().list(company_id, &filter).await?;
    let Page { items, next } = Page::from_overfetch(rows, limit, |r: &OrderRecord| {
        let at = match sort {
            OrderSort::UpdatedAt => r.updated_at,
            OrderSort::OrderDate => r.order_date.with_timezone(&Utc),
        };
        Cursor::encode(&(sort, at, r.id))
    });
    Ok(Json(OrderList {
        data: items.into_iter().map(Order::from).collect(),
        next_cursor: next,
    }))
}
