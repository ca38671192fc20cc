//! Sales orders: append-only versions under a stable id (see
//! `migrations/0006_orders.sql`).
//!
//! A write of any number of orders takes a constant number of round trips:
//! one multi-row upsert of the heads (`insert … select from unnest(…) on
//! conflict`), then one statement whose data-modifying CTEs insert the new
//! versions with all their lines, costs, payments, VAT groups and events, all
//! in one transaction; a batch may be written as several such parts in one
//! transaction ([`OrderBatch`]). The upsert is what makes concurrent sends of
//! the same order safe: the second waits on the first's row lock, then finds
//! the same content hash (nothing to do) or appends the next version; it never
//! creates a second order.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Offset as _, Utc};
use koppel_domain::order::{
    CostKind, OrderDetails, OrderStatus, PaymentStatus, ValidFee, ValidOrder,
};
use rust_decimal::Decimal;
use serde::Deserialize;
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, PgConnection, PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::StoreError;
use crate::bookings::{BookedResource, BookingFilter, BookingRecord, ORDER_BOOKINGS_JSON};
pub use crate::settings::Outcome;

/// An order to store: validated, with the hash of its canonical form.
#[derive(Debug, Clone, Copy)]
pub struct OrderWrite<'a> {
    /// The order. Its references (customer, products, rates, categories,
    /// payment methods, `credit_of`) are our ids, checked to exist.
    pub order: &'a ValidOrder,
    /// SHA-256 of the canonical document; equal hashes mean an identical resend.
    pub content_hash: &'a [u8],
}

/// What a write did to one order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// The order's id, the same for every version.
    pub id: Uuid,
    /// The order's version after the write.
    pub version: i32,
    /// Created (version 1), updated (a new version) or unchanged.
    pub outcome: Outcome,
}

/// The VAT of a stored line or cost.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct VatRecord {
    /// The company's VAT rate, when the document named one.
    pub rate_id: Option<Uuid>,
    /// That rate's external id (the vendor's), written with the document.
    #[serde(default)]
    pub rate_external_id: Option<String>,
    /// The rate in percent.
    pub percentage: Decimal,
    /// The VAT category, e.g. `standard`.
    pub category: String,
    /// The country whose rate applies.
    pub country: String,
    /// The VAT amount.
    pub amount: Decimal,
    /// Why the line is exempt.
    pub exemption_reason: Option<String>,
}

/// A stored order line.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LineRecord {
    /// The product.
    pub product_id: Option<Uuid>,
    /// That product's external id (the vendor's), written with the line.
    #[serde(default)]
    pub product_external_id: Option<String>,
    /// The product's SKU as sent.
    pub sku: Option<String>,
    /// What was sold.
    pub description: Option<String>,
    /// How many.
    pub quantity: Decimal,
    /// Price per unit in the order's basis.
    pub unit_price: Decimal,
    /// Discount on the whole line.
    pub discount: Decimal,
    /// The VAT.
    pub vat: VatRecord,
    /// Line total excluding VAT.
    pub total_excl_vat: Decimal,
    /// Line total including VAT.
    pub total_incl_vat: Decimal,
    /// The revenue category.
    pub category_id: Option<Uuid>,
    /// The category's external id (the vendor's), written with the line.
    #[serde(default)]
    pub category_external_id: Option<String>,
    /// Under the margin scheme: the purchase price per unit.
    #[serde(default)]
    pub purchase_price: Option<Decimal>,
    /// What the line is, e.g. `sale`.
    #[serde(default = "sale")]
    pub kind: String,
    /// The unit of the quantity.
    #[serde(default)]
    pub unit: Option<String>,
    /// The index of the line this one belongs to.
    #[serde(default)]
    pub parent_line: Option<i32>,
    /// The discount code used.
    #[serde(default)]
    pub discount_code: Option<String>,
    /// The discount's name.
    #[serde(default)]
    pub discount_name: Option<String>,
}

fn sale() -> String {
    "sale".to_owned()
}

/// A stored cost.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CostRecord {
    /// What the cost is for, e.g. `shipping`.
    pub kind: String,
    /// Free text.
    pub description: Option<String>,
    /// Amount excluding VAT.
    pub amount_excl_vat: Decimal,
    /// The VAT.
    pub vat: VatRecord,
    /// Amount including VAT.
    pub amount_incl_vat: Decimal,
}

/// A stored payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    /// The payment method.
    pub method_id: Uuid,
    /// Where the payment stands.
    pub status: PaymentStatus,
    /// The payment provider.
    pub provider: Option<String>,
    /// The provider's own id of the transaction.
    pub provider_reference: Option<String>,
    /// The payout that settled it.
    pub payout_reference: Option<String>,
    /// The payment method's external id (the vendor's), written with the payment.
    pub method_external_id: Option<String>,
    /// Amount; negative for money paid back.
    pub amount: Decimal,
    /// The provider's reference.
    pub reference: Option<String>,
    /// When it was paid, with the offset it was sent with.
    pub paid_at: Option<DateTime<FixedOffset>>,
    /// What the provider charged for it.
    pub fee: Option<FeeRecord>,
}

/// A stored payment-provider fee.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FeeRecord {
    /// Amount excluding VAT.
    pub amount_excl_vat: Decimal,
    /// The VAT.
    pub vat: VatRecord,
    /// Amount including VAT.
    pub amount_incl_vat: Decimal,
}

/// One group of a stored VAT breakdown.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct VatGroupRecord {
    /// The category.
    pub category: String,
    /// The rate in percent.
    pub percentage: Decimal,
    /// The country whose rate applies.
    pub country: String,
    /// The sum of the amounts excluding VAT.
    pub base: Decimal,
    /// The sum of the VAT amounts.
    pub vat: Decimal,
    /// The base in the company's currency, for an order in another.
    #[serde(default)]
    pub base_company: Option<Decimal>,
    /// The VAT in the company's currency, for an order in another.
    #[serde(default)]
    pub vat_company: Option<Decimal>,
}

/// One version of an order, complete.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderRecord {
    /// Our id.
    pub id: Uuid,
    /// The vendor's id.
    pub external_id: String,
    /// This version's number, starting at 1.
    pub version: i32,
    /// The order number.
    pub number: Option<String>,
    /// Status, e.g. `open`.
    pub status: String,
    /// When the order was placed, with the offset it was sent with.
    pub order_date: DateTime<FixedOffset>,
    /// ISO 4217 currency.
    pub currency: String,
    /// Whether unit prices include VAT.
    pub prices_include_vat: bool,
    /// The customer in Koppel.
    pub customer_id: Option<Uuid>,
    /// That customer's external id (the vendor's), written with the order.
    pub customer_external_id: Option<String>,
    /// Invoice and channel details as sent.
    pub details: OrderDetails,
    /// The buyer as on the order: the domain's validated customer as JSON.
    pub customer: Option<serde_json::Value>,
    /// The order this one corrects.
    pub credit_of: Option<Uuid>,
    /// That order's external id (read with the order: an external id never changes).
    pub credit_of_external_id: Option<String>,
    /// Sum of the amounts excluding VAT.
    pub total_excl_vat: Decimal,
    /// Sum of the VAT.
    pub total_vat: Decimal,
    /// Sum of the amounts including VAT.
    pub total_incl_vat: Decimal,
    /// For an order in another currency than the company's: its totals in the company's
    /// (excluding VAT, VAT, including VAT).
    pub totals_company: Option<(Decimal, Decimal, Decimal)>,
    /// When the order was first stored.
    pub created_at: DateTime<Utc>,
    /// When this version was stored.
    pub recorded_at: DateTime<Utc>,
    /// When the order last changed (the head's time; equals `recorded_at`
    /// for the current version).
    pub updated_at: DateTime<Utc>,
    /// The lines, in the order sent.
    pub lines: Vec<LineRecord>,
    /// The costs, in the order sent.
    pub costs: Vec<CostRecord>,
    /// The payments, in the order sent.
    pub payments: Vec<PaymentRecord>,
    /// Base and VAT per category, rate and country.
    pub vat_breakdown: Vec<VatGroupRecord>,
    /// The order's current version (the head's), whichever version this record is.
    pub current_version: i32,
    /// What connectors booked of the order, any version, oldest first.
    pub bookings: Vec<BookingRecord>,
}

/// How a list of orders is sorted; each has an index behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum OrderSort {
    /// By (updated_at, id): the default, and what `updated_since` needs.
    #[serde(rename = "u")]
    UpdatedAt,
    /// By (order_date, id): for a period filter.
    #[serde(rename = "d")]
    OrderDate,
}

/// Filters and page position of an order list; every filter is optional.
#[derive(Debug, Clone)]
pub struct OrderFilter {
    /// Only orders with this number.
    pub number: Option<String>,
    /// Only orders placed at or after this moment.
    pub from: Option<DateTime<Utc>>,
    /// Only orders placed before this moment.
    pub to: Option<DateTime<Utc>>,
    /// Only orders changed at or after this moment.
    pub updated_since: Option<DateTime<Utc>>,
    /// Only orders with this external id or payment reference.
    pub reference: Option<String>,
    /// Only orders of this customer.
    pub customer_id: Option<Uuid>,
    /// Only orders with this status.
    pub status: Option<String>,
    /// Only orders a package never booked, or booked in an earlier version.
    pub bookings: BookingFilter,
    /// The sort order.
    pub sort: OrderSort,
    /// The sort key (time, id) of the last item of the previous page.
    pub after: Option<(DateTime<Utc>, Uuid)>,
    /// Page size.
    pub limit: i64,
}

/// Queries on orders.
#[derive(Debug)]
pub struct Orders<'a> {
    pool: &'a PgPool,
}

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

fn cost_kind_str(kind: CostKind) -> &'static str {
    match kind {
        CostKind::Shipping => "shipping",
        CostKind::Payment => "payment",
        CostKind::Discount => "discount",
        CostKind::Surcharge => "surcharge",
        CostKind::Other => "other",
        CostKind::Rounding => "rounding",
    }
}

/// Splits a batch into rounds in which every external id occurs once, each
/// round sorted by external id. One statement cannot upsert a row twice, and
/// locking heads in one global order keeps concurrent batches from
/// deadlocking each other. A later item for the same order lands in a later
/// round, so it becomes the later version.
fn rounds(orders: &[OrderWrite<'_>]) -> Vec<Vec<usize>> {
    let mut rounds: Vec<Vec<usize>> = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, w) in orders.iter().enumerate() {
        let n = seen.entry(w.order.external_id.as_str()).or_insert(0);
        if rounds.len() <= *n {
            rounds.push(Vec::new());
        }
        rounds[*n].push(i);
        *n += 1;
    }
    for round in &mut rounds {
        round.sort_by(|a, b| {
            orders[*a]
                .order
                .external_id
                .cmp(&orders[*b].order.external_id)
        });
    }
    rounds
}

#[derive(sqlx::FromRow)]
struct HeadRow {
    id: Uuid,
    external_id: String,
    version: i32,
    inserted: bool,
}

#[derive(sqlx::FromRow)]
struct ExistingRow {
    id: Uuid,
    external_id: String,
    version: i32,
}

/// Upserts the heads of one round; returns what happened to each item.
async fn write_round(
    conn: &mut PgConnection,
    company_id: Uuid,
    items: &[OrderWrite<'_>],
) -> Result<Vec<Written>, StoreError> {
    let n = items.len();
    let mut ids = Vec::with_capacity(n);
    let mut external_ids = Vec::with_capacity(n);
    let mut numbers = Vec::with_capacity(n);
    let mut statuses = Vec::with_capacity(n);
    let mut dates = Vec::with_capacity(n);
    let mut currencies = Vec::with_capacity(n);
    let mut customers = Vec::with_capacity(n);
    let mut credits = Vec::with_capacity(n);
    let mut excl = Vec::with_capacity(n);
    let mut vat = Vec::with_capacity(n);
    let mut incl = Vec::with_capacity(n);
    let mut hashes = Vec::with_capacity(n);
    let mut invoice_dates = Vec::with_capacity(n);
    let mut marketplace_ids = Vec::with_capacity(n);
    for w in items {
        let o = w.order;
        invoice_dates.push(o.details.invoice_date);
        marketplace_ids.push(o.details.marketplace_order_id.as_deref());
        ids.push(Uuid::now_v7());
        external_ids.push(o.external_id.as_str());
        numbers.push(o.number.as_deref());
        statuses.push(status_str(o.status));
        dates.push(o.order_date.with_timezone(&Utc));
        currencies.push(o.currency.as_str());
        customers.push(o.customer.as_ref().and_then(|c| c.id.as_deref()));
        credits.push(o.credit_of.as_deref());
        excl.push(o.totals.total_excl_vat);
        vat.push(o.totals.total_vat);
        incl.push(o.totals.total_incl_vat);
        hashes.push(w.content_hash);
    }
    // Only a different hash updates the head, so an identical resend returns
    // no row and writes nothing.
    let heads = sqlx::query_as::<_, HeadRow>(
        "insert into orders as o (company_id, id, external_id, number, version, status, order_date,
                currency, customer_id, credit_of, total_excl_vat, total_vat, total_incl_vat, content_hash,
                invoice_date, marketplace_order_id)
         select $1, t.id, t.external_id, t.number, 1, t.status, t.order_date, t.currency,
                t.customer_id::uuid, t.credit_of::uuid, t.total_excl_vat, t.total_vat, t.total_incl_vat,
                t.content_hash, t.invoice_date, t.marketplace_order_id
           from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[],
                       $8::text[], $9::text[], $10::numeric[], $11::numeric[], $12::numeric[], $13::bytea[],
                       $14::date[], $15::text[])
                with ordinality
                as t(id, external_id, number, status, order_date, currency, customer_id, credit_of,
                     total_excl_vat, total_vat, total_incl_vat, content_hash, invoice_date,
                     marketplace_order_id, n)
          order by t.n
         on conflict (company_id, external_id) do update
            set number = excluded.number, version = o.version + 1, status = excluded.status,
                order_date = excluded.order_date, currency = excluded.currency,
                customer_id = excluded.customer_id, credit_of = excluded.credit_of,
                total_excl_vat = excluded.total_excl_vat, total_vat = excluded.total_vat,
                total_incl_vat = excluded.total_incl_vat, content_hash = excluded.content_hash,
                invoice_date = excluded.invoice_date,
                marketplace_order_id = excluded.marketplace_order_id, updated_at = now()
          where o.content_hash <> excluded.content_hash
         returning o.id, o.external_id, o.version, (o.xmax = 0) as inserted",
    )
    .bind(company_id)
    .bind(&ids)
    .bind(&external_ids)
    .bind(&numbers)
    .bind(&statuses)
    .bind(&dates)
    .bind(&currencies)
    .bind(&customers)
    .bind(&credits)
    .bind(&excl)
    .bind(&vat)
    .bind(&incl)
    .bind(&hashes)
    .bind(&invoice_dates)
    .bind(&marketplace_ids)
    .fetch_all(&mut *conn)
    .await?;

    let mut done: HashMap<String, Written> = heads
        .into_iter()
        .map(|h| {
            let outcome = if h.inserted {
                Outcome::Created
            } else {
                Outcome::Updated
            };
            (
                h.external_id,
                Written {
                    id: h.id,
                    version: h.version,
                    outcome,
                },
            )
        })
        .collect();

    // Identical resends: their ids, in a statement of its own so that it sees
    // a head that a concurrent transaction committed while this one waited.
    let unchanged: Vec<&str> = external_ids
        .iter()
        .copied()
        .filter(|e| !done.contains_key(*e))
        .collect();
    if !unchanged.is_empty() {
        let rows = sqlx::query_as::<_, ExistingRow>(
            "select id, external_id, version from orders
             where company_id = $1 and external_id = any($2)",
        )
        .bind(company_id)
        .bind(&unchanged)
        .fetch_all(&mut *conn)
        .await?;
        for r in rows {
            done.entry(r.external_id).or_insert(Written {
                id: r.id,
                version: r.version,
                outcome: Outcome::Unchanged,
            });
        }
    }

    let changed: Vec<(&OrderWrite<'_>, Written)> = items
        .iter()
        .filter_map(|w| {
            done.get(&w.order.external_id)
                .filter(|d| d.outcome != Outcome::Unchanged)
                .map(|d| (w, *d))
        })
        .collect();
    if !changed.is_empty() {
        insert_versions(conn, company_id, &changed).await?;
    }

    items
        .iter()
        .map(|w| {
            done.get(&w.order.external_id)
                .copied()
                .ok_or(StoreError::NotFound)
        })
        .collect()
}

/// The columns of a line's or cost's VAT, as arrays.
#[derive(Default)]
struct VatColumns {
    rate_ids: Vec<Option<String>>,
    percentages: Vec<Decimal>,
    categories: Vec<&'static str>,
    countries: Vec<&'static str>,
    amounts: Vec<Decimal>,
    reasons: Vec<Option<String>>,
}

impl VatColumns {
    fn push(&mut self, v: &koppel_domain::document::ValidVat) {
        self.rate_ids.push(v.rate_id.clone());
        self.percentages.push(v.percentage);
        self.categories.push(v.category.as_str());
        self.countries.push(v.country.as_str());
        self.amounts.push(v.amount);
        self.reasons.push(v.exemption_reason.clone());
    }
}

/// Inserts the version rows of every changed order, and their events, in one
/// statement.
async fn insert_versions(
    conn: &mut PgConnection,
    company_id: Uuid,
    changed: &[(&OrderWrite<'_>, Written)],
) -> Result<(), StoreError> {
    // Versions.
    let mut v_ids = Vec::new();
    let mut v_versions = Vec::new();
    let mut v_numbers = Vec::new();
    let mut v_statuses = Vec::new();
    let mut v_dates = Vec::new();
    let mut v_offsets = Vec::new();
    let mut v_currencies = Vec::new();
    let mut v_incl_basis = Vec::new();
    let mut v_customer_ids = Vec::new();
    let mut v_customers = Vec::new();
    let mut v_credits = Vec::new();
    let mut v_excl = Vec::new();
    let mut v_vat = Vec::new();
    let mut v_incl = Vec::new();
    let mut v_hashes = Vec::new();
    let mut v_details = Vec::new();
    let mut v_customer_external_ids = Vec::new();
    // Lines.
    let mut l_ids = Vec::new();
    let mut l_versions = Vec::new();
    let mut l_positions = Vec::new();
    let mut l_products = Vec::new();
    let mut l_skus = Vec::new();
    let mut l_descriptions = Vec::new();
    let mut l_quantities = Vec::new();
    let mut l_prices = Vec::new();
    let mut l_discounts = Vec::new();
    let mut l_vat = VatColumns::default();
    let mut l_excl = Vec::new();
    let mut l_incl = Vec::new();
    let mut l_categories = Vec::new();
    let mut l_category_external_ids = Vec::new();
    let mut l_purchase_prices = Vec::new();
    let mut l_kinds = Vec::new();
    let mut l_units = Vec::new();
    let mut l_parents: Vec<Option<i32>> = Vec::new();
    let mut l_discount_codes = Vec::new();
    let mut l_discount_names = Vec::new();
    let mut l_product_external_ids = Vec::new();
    let mut l_rate_external_ids = Vec::new();
    let mut c_rate_external_ids = Vec::new();
    // Costs.
    let mut c_ids = Vec::new();
    let mut c_versions = Vec::new();
    let mut c_positions = Vec::new();
    let mut c_kinds = Vec::new();
    let mut c_descriptions = Vec::new();
    let mut c_excl = Vec::new();
    let mut c_vat = VatColumns::default();
    let mut c_incl = Vec::new();
    // Payments.
    let mut p_ids = Vec::new();
    let mut p_versions = Vec::new();
    let mut p_positions = Vec::new();
    let mut p_methods = Vec::new();
    let mut p_amounts = Vec::new();
    let mut p_references = Vec::new();
    let mut p_paid_at = Vec::new();
    let mut p_offsets = Vec::new();
    let mut p_statuses = Vec::new();
    let mut p_providers = Vec::new();
    let mut p_provider_references = Vec::new();
    let mut p_payout_references = Vec::new();
    let mut p_method_external_ids = Vec::new();
    let mut p_fees = Vec::new();
    // VAT breakdown.
    let mut b_ids = Vec::new();
    let mut b_versions = Vec::new();
    let mut b_positions = Vec::new();
    let mut b_categories = Vec::new();
    let mut b_percentages = Vec::new();
    let mut b_countries = Vec::new();
    let mut b_bases = Vec::new();
    let mut b_vat = Vec::new();
    let mut b_bases_company: Vec<Option<Decimal>> = Vec::new();
    let mut b_vat_company: Vec<Option<Decimal>> = Vec::new();
    let mut v_totals_company: [Vec<Option<Decimal>>; 3] = Default::default();

    for (w, done) in changed {
        let o = w.order;
        let (id, version) = (done.id, done.version);
        v_ids.push(id);
        v_versions.push(version);
        v_numbers.push(o.number.as_deref());
        v_statuses.push(status_str(o.status));
        v_dates.push(o.order_date.with_timezone(&Utc));
        v_offsets.push(o.order_date.offset().local_minus_utc());
        v_currencies.push(o.currency.as_str());
        v_incl_basis.push(o.prices_include_vat);
        v_customer_ids.push(o.customer.as_ref().and_then(|c| c.id.as_deref()));
        v_customer_external_ids.push(o.customer.as_ref().and_then(|c| c.external_id.as_deref()));
        v_customers.push(
            o.customer
                .as_ref()
                .map(|c| serde_json::to_string(c).unwrap_or_default()),
        );
        v_credits.push(o.credit_of.as_deref());
        v_excl.push(o.totals.total_excl_vat);
        v_vat.push(o.totals.total_vat);
        v_incl.push(o.totals.total_incl_vat);
        v_hashes.push(w.content_hash);
        v_details.push(
            (!o.details.is_empty()).then(|| serde_json::to_string(&o.details).unwrap_or_default()),
        );
        for (i, l) in (0i32..).zip(&o.lines) {
            l_ids.push(id);
            l_versions.push(version);
            l_positions.push(i);
            l_products.push(l.product_id.as_deref());
            l_skus.push(l.sku.as_deref());
            l_descriptions.push(l.description.as_deref());
            l_quantities.push(l.quantity);
            l_prices.push(l.unit_price);
            l_discounts.push(l.discount);
            l_vat.push(&l.vat);
            l_excl.push(l.total_excl_vat);
            l_incl.push(l.total_incl_vat);
            l_categories.push(l.category_id.as_deref());
            l_category_external_ids.push(l.category_external_id.as_deref());
            l_purchase_prices.push(l.purchase_price);
            l_kinds.push(l.kind.as_str());
            l_units.push(l.unit.as_deref());
            // Bounded by the lines of one order (at most MAX_LINES), so it fits.
            l_parents.push(l.parent_line.and_then(|p| i32::try_from(p).ok()));
            l_discount_codes.push(l.discount_code.as_deref());
            l_discount_names.push(l.discount_name.as_deref());
            l_product_external_ids.push(l.product_external_id.as_deref());
            l_rate_external_ids.push(l.vat.rate_external_id.as_deref());
        }
        for (i, k) in (0i32..).zip(&o.costs) {
            c_ids.push(id);
            c_versions.push(version);
            c_positions.push(i);
            c_kinds.push(cost_kind_str(k.kind));
            c_descriptions.push(k.description.as_deref());
            c_excl.push(k.amount_excl_vat);
            c_vat.push(&k.vat);
            c_incl.push(k.amount_incl_vat);
            c_rate_external_ids.push(k.vat.rate_external_id.as_deref());
        }
        for (i, p) in (0i32..).zip(&o.payments) {
            p_ids.push(id);
            p_versions.push(version);
            p_positions.push(i);
            p_methods.push(p.method_id.as_str());
            p_amounts.push(p.amount);
            p_references.push(p.reference.as_deref());
            p_paid_at.push(p.paid_at.map(|t| t.with_timezone(&Utc)));
            p_offsets.push(p.paid_at.map(|t| t.offset().local_minus_utc()));
            p_statuses.push(p.status.as_str());
            p_providers.push(p.provider.as_deref());
            p_provider_references.push(p.provider_reference.as_deref());
            p_payout_references.push(p.payout_reference.as_deref());
            p_method_external_ids.push(p.method_external_id.as_deref());
            p_fees.push(p.fee.as_ref().map(fee_json));
        }
        let converted = o.company_currency.as_ref();
        v_totals_company[0].push(converted.map(|c| c.totals.total_excl_vat));
        v_totals_company[1].push(converted.map(|c| c.totals.total_vat));
        v_totals_company[2].push(converted.map(|c| c.totals.total_incl_vat));
        for (i, g) in (0i32..).zip(&o.vat_breakdown) {
            let in_company = converted.and_then(|c| c.vat_breakdown.get(i as usize));
            b_bases_company.push(in_company.map(|c| c.base));
            b_vat_company.push(in_company.map(|c| c.vat));
            b_ids.push(id);
            b_versions.push(version);
            b_positions.push(i);
            b_categories.push(g.category.as_str());
            b_percentages.push(g.percentage);
            b_countries.push(g.country.as_str());
            b_bases.push(g.base);
            b_vat.push(g.vat);
        }
    }

    sqlx::query(
        "with v as (
            insert into order_versions (company_id, order_id, version, number, status, order_date,
                   order_date_offset, currency, prices_include_vat, customer_id, customer, credit_of,
                   total_excl_vat, total_vat, total_incl_vat, content_hash, details,
                   customer_external_id, total_excl_vat_company, total_vat_company,
                   total_incl_vat_company)
            select $1, t.order_id, t.version, t.number, t.status, t.order_date, t.order_date_offset,
                   t.currency, t.prices_include_vat, t.customer_id::uuid, t.customer::jsonb,
                   t.credit_of::uuid, t.total_excl_vat, t.total_vat, t.total_incl_vat, t.content_hash,
                   t.details::jsonb, t.customer_external_id, t.total_excl_vat_company,
                   t.total_vat_company, t.total_incl_vat_company
              from unnest($2::uuid[], $3::int[], $4::text[], $5::text[], $6::timestamptz[], $7::int[],
                          $8::text[], $9::bool[], $10::text[], $11::text[], $12::text[], $13::numeric[],
                          $14::numeric[], $15::numeric[], $16::bytea[], $68::text[],
                          $69::text[], $74::numeric[], $75::numeric[], $76::numeric[])
                   as t(order_id, version, number, status, order_date, order_date_offset, currency,
                        prices_include_vat, customer_id, customer, credit_of, total_excl_vat,
                        total_vat, total_incl_vat, content_hash, details, customer_external_id,
                        total_excl_vat_company, total_vat_company, total_incl_vat_company)
         ), l as (
            insert into order_lines (company_id, order_id, version, position, product_id, sku,
                   description, quantity, unit_price, discount, vat_rate_id, vat_percentage,
                   vat_category, vat_country, vat_amount, exemption_reason, total_excl_vat,
                   total_incl_vat, category_id, category_external_id, purchase_price, kind, unit,
                   parent_line, discount_code, discount_name, product_external_id,
                   vat_rate_external_id)
            select $1, t.order_id, t.version, t.position, t.product_id::uuid, t.sku, t.description,
                   t.quantity, t.unit_price, t.discount, t.vat_rate_id::uuid, t.vat_percentage,
                   t.vat_category, t.vat_country, t.vat_amount, t.exemption_reason, t.total_excl_vat,
                   t.total_incl_vat, t.category_id::uuid, t.category_external_id, t.purchase_price,
                   t.kind, t.unit, t.parent_line, t.discount_code, t.discount_name,
                   t.product_external_id, t.vat_rate_external_id
              from unnest($17::uuid[], $18::int[], $19::int[], $20::text[], $21::text[], $22::text[],
                          $23::numeric[], $24::numeric[], $25::numeric[], $26::text[], $27::numeric[],
                          $28::text[], $29::text[], $30::numeric[], $31::text[], $32::numeric[],
                          $33::numeric[], $34::text[], $70::text[], $72::numeric[], $79::text[],
                          $80::text[], $81::int[], $82::text[], $83::text[], $84::text[],
                          $85::text[])
                   as t(order_id, version, position, product_id, sku, description, quantity,
                        unit_price, discount, vat_rate_id, vat_percentage, vat_category, vat_country,
                        vat_amount, exemption_reason, total_excl_vat, total_incl_vat, category_id,
                        category_external_id, purchase_price, kind, unit, parent_line,
                        discount_code, discount_name, product_external_id, vat_rate_external_id)
         ), c as (
            insert into order_costs (company_id, order_id, version, position, kind, description,
                   amount_excl_vat, vat_rate_id, vat_percentage, vat_category, vat_country, vat_amount,
                   exemption_reason, amount_incl_vat, vat_rate_external_id)
            select $1, t.order_id, t.version, t.position, t.kind, t.description, t.amount_excl_vat,
                   t.vat_rate_id::uuid, t.vat_percentage, t.vat_category, t.vat_country, t.vat_amount,
                   t.exemption_reason, t.amount_incl_vat, t.vat_rate_external_id
              from unnest($35::uuid[], $36::int[], $37::int[], $38::text[], $39::text[], $40::numeric[],
                          $41::text[], $42::numeric[], $43::text[], $44::text[], $45::numeric[],
                          $46::text[], $47::numeric[], $86::text[])
                   as t(order_id, version, position, kind, description, amount_excl_vat, vat_rate_id,
                        vat_percentage, vat_category, vat_country, vat_amount, exemption_reason,
                        amount_incl_vat, vat_rate_external_id)
         ), p as (
            insert into order_payments (company_id, order_id, version, position, method_id, amount,
                   reference, paid_at, paid_at_offset, status, provider, provider_reference,
                   payout_reference, method_external_id, fee)
            select $1, t.order_id, t.version, t.position, t.method_id::uuid, t.amount, t.reference,
                   t.paid_at, t.paid_at_offset, t.status, t.provider, t.provider_reference,
                   t.payout_reference, t.method_external_id, t.fee::jsonb
              from unnest($48::uuid[], $49::int[], $50::int[], $51::text[], $52::numeric[], $53::text[],
                          $54::timestamptz[], $55::int[], $64::text[], $65::text[], $66::text[],
                          $67::text[], $71::text[], $73::text[])
                   as t(order_id, version, position, method_id, amount, reference, paid_at,
                        paid_at_offset, status, provider, provider_reference, payout_reference,
                        method_external_id, fee)
         ), b as (
            insert into order_vat_breakdown (company_id, order_id, version, position, category,
                   percentage, country, base, vat, base_company, vat_company)
            select $1, t.order_id, t.version, t.position, t.category, t.percentage, t.country, t.base,
                   t.vat, t.base_company, t.vat_company
              from unnest($56::uuid[], $57::int[], $58::int[], $59::text[], $60::numeric[], $61::text[],
                          $62::numeric[], $63::numeric[], $77::numeric[], $78::numeric[])
                   as t(order_id, version, position, category, percentage, country, base, vat,
                        base_company, vat_company)
         )
         insert into events (company_id, type, resource, resource_id, version)
         select $1, case when t.version = 1 then 'order.created' else 'order.updated' end, 'orders',
                t.order_id, t.version
           from unnest($2::uuid[], $3::int[]) with ordinality as t(order_id, version, n)
          order by t.n",
    )
    .bind(company_id)
    .bind(&v_ids)
    .bind(&v_versions)
    .bind(&v_numbers)
    .bind(&v_statuses)
    .bind(&v_dates)
    .bind(&v_offsets)
    .bind(&v_currencies)
    .bind(&v_incl_basis)
    .bind(&v_customer_ids)
    .bind(&v_customers)
    .bind(&v_credits)
    .bind(&v_excl)
    .bind(&v_vat)
    .bind(&v_incl)
    .bind(&v_hashes)
    .bind(&l_ids)
    .bind(&l_versions)
    .bind(&l_positions)
    .bind(&l_products)
    .bind(&l_skus)
    .bind(&l_descriptions)
    .bind(&l_quantities)
    .bind(&l_prices)
    .bind(&l_discounts)
    .bind(&l_vat.rate_ids)
    .bind(&l_vat.percentages)
    .bind(&l_vat.categories)
    .bind(&l_vat.countries)
    .bind(&l_vat.amounts)
    .bind(&l_vat.reasons)
    .bind(&l_excl)
    .bind(&l_incl)
    .bind(&l_categories)
    .bind(&c_ids)
    .bind(&c_versions)
    .bind(&c_positions)
    .bind(&c_kinds)
    .bind(&c_descriptions)
    .bind(&c_excl)
    .bind(&c_vat.rate_ids)
    .bind(&c_vat.percentages)
    .bind(&c_vat.categories)
    .bind(&c_vat.countries)
    .bind(&c_vat.amounts)
    .bind(&c_vat.reasons)
    .bind(&c_incl)
    .bind(&p_ids)
    .bind(&p_versions)
    .bind(&p_positions)
    .bind(&p_methods)
    .bind(&p_amounts)
    .bind(&p_references)
    .bind(&p_paid_at)
    .bind(&p_offsets)
    .bind(&b_ids)
    .bind(&b_versions)
    .bind(&b_positions)
    .bind(&b_categories)
    .bind(&b_percentages)
    .bind(&b_countries)
    .bind(&b_bases)
    .bind(&b_vat)
    .bind(&p_statuses)
    .bind(&p_providers)
    .bind(&p_provider_references)
    .bind(&p_payout_references)
    .bind(&v_details)
    .bind(&v_customer_external_ids)
    .bind(&l_category_external_ids)
    .bind(&p_method_external_ids)
    .bind(&l_purchase_prices)
    .bind(&p_fees)
    .bind(&v_totals_company[0])
    .bind(&v_totals_company[1])
    .bind(&v_totals_company[2])
    .bind(&b_bases_company)
    .bind(&b_vat_company)
    .bind(&l_kinds)
    .bind(&l_units)
    .bind(&l_parents)
    .bind(&l_discount_codes)
    .bind(&l_discount_names)
    .bind(&l_product_external_ids)
    .bind(&l_rate_external_ids)
    .bind(&c_rate_external_ids)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A fee as its stored JSON object, as text.
fn fee_json(fee: &ValidFee) -> String {
    fee_value(fee).to_string()
}

/// A fee as its stored JSON object (read back as a [`FeeRecord`]): the validated figures,
/// and the external id of the rate it named (which the canonical form leaves out).
pub fn fee_value(fee: &ValidFee) -> serde_json::Value {
    let vat = &fee.vat;
    serde_json::json!({
        "amount_excl_vat": fee.amount_excl_vat.to_string(),
        "vat": {
            "rate_id": vat.rate_id,
            "rate_external_id": vat.rate_external_id,
            "percentage": vat.percentage.to_string(),
            "category": vat.category.as_str(),
            "country": vat.country.as_str(),
            "amount": vat.amount.to_string(),
            "exemption_reason": vat.exemption_reason,
        },
        "amount_incl_vat": fee.amount_incl_vat.to_string(),
    })
}

#[derive(sqlx::FromRow)]
struct HeaderRow {
    id: Uuid,
    external_id: String,
    version: i32,
    number: Option<String>,
    status: String,
    order_date: DateTime<Utc>,
    order_date_offset: i32,
    currency: String,
    prices_include_vat: bool,
    customer_id: Option<Uuid>,
    customer_external_id: Option<String>,
    customer: Option<serde_json::Value>,
    details: Option<Json<OrderDetails>>,
    credit_of: Option<Uuid>,
    credit_of_external_id: Option<String>,
    total_excl_vat: Decimal,
    total_vat: Decimal,
    total_incl_vat: Decimal,
    total_excl_vat_company: Option<Decimal>,
    total_vat_company: Option<Decimal>,
    total_incl_vat_company: Option<Decimal>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    recorded_at: DateTime<Utc>,
    current_version: i32,
    lines: Json<Vec<LineRecord>>,
    costs: Json<Vec<CostRecord>>,
    payments: Json<Vec<PaymentRow>>,
    vat_breakdown: Json<Vec<VatGroupRecord>>,
    bookings: Json<Vec<BookingRecord>>,
}

/// The columns of an order version joined to its head, for the inner query of
/// [`with_parts`].
const HEADER_COLUMNS: &str = "o.company_id, o.id, o.external_id, v.version, v.number, v.status,
    v.order_date, v.order_date_offset, v.currency, v.prices_include_vat, v.customer_id,
    v.customer_external_id, v.customer, v.details,
    v.credit_of, (select c.external_id from orders c
                   where c.company_id = v.company_id and c.id = v.credit_of) as credit_of_external_id,
    v.total_excl_vat, v.total_vat, v.total_incl_vat, v.total_excl_vat_company,
    v.total_vat_company, v.total_incl_vat_company, o.created_at, o.updated_at,
    v.recorded_at, o.version as current_version";

/// A version's lines, costs, payments and VAT groups as JSON arrays in the order sent, for a
/// row `h` of `HEADER_COLUMNS`: each a correlated lookup on the part table's primary key.
/// Amounts go as text, so JSON's numbers never touch them.
const PARTS_JSON: &str = "
    coalesce((select json_agg(json_build_object(
            -- A line sent with only a SKU names the company's product with that SKU
            -- when one exists now (pushed before or after the order); SKUs may repeat
            -- across variants, so the lowest id (ids are UUIDv7: the oldest), for a stable
            -- answer, found as the first entry of products_sku_idx.
            'product_id', coalesce(l.product_id, by_sku.id),
            'product_external_id', coalesce(l.product_external_id, by_sku.external_id),
            'sku', l.sku, 'description', l.description,
            'quantity', l.quantity::text, 'unit_price', l.unit_price::text,
            'discount', l.discount::text,
            'vat', json_build_object('rate_id', l.vat_rate_id,
                   'rate_external_id', l.vat_rate_external_id,
                   'percentage', l.vat_percentage::text, 'category', l.vat_category,
                   'country', l.vat_country, 'amount', l.vat_amount::text,
                   'exemption_reason', l.exemption_reason),
            'total_excl_vat', l.total_excl_vat::text, 'total_incl_vat', l.total_incl_vat::text,
            'category_id', l.category_id, 'category_external_id', l.category_external_id,
            'purchase_price', l.purchase_price::text, 'kind', l.kind, 'unit', l.unit,
            'parent_line', l.parent_line, 'discount_code', l.discount_code,
            'discount_name', l.discount_name)
            order by l.position)
        from order_lines l
        left join lateral (
            select p.id, p.external_id from products p
             where l.product_id is null and p.company_id = l.company_id and p.sku = l.sku
             order by p.id limit 1) by_sku on true
       where l.company_id = h.company_id and l.order_id = h.id and l.version = h.version),
      '[]') as lines,
    coalesce((select json_agg(json_build_object(
            'kind', c.kind, 'description', c.description,
            'amount_excl_vat', c.amount_excl_vat::text,
            'vat', json_build_object('rate_id', c.vat_rate_id,
                   'rate_external_id', c.vat_rate_external_id,
                   'percentage', c.vat_percentage::text, 'category', c.vat_category,
                   'country', c.vat_country, 'amount', c.vat_amount::text,
                   'exemption_reason', c.exemption_reason),
            'amount_incl_vat', c.amount_incl_vat::text) order by c.position)
        from order_costs c
       where c.company_id = h.company_id and c.order_id = h.id and c.version = h.version),
      '[]') as costs,
    coalesce((select json_agg(json_build_object(
            'method_id', p.method_id, 'method_external_id', p.method_external_id,
            'amount', p.amount::text, 'reference', p.reference, 'status', p.status,
            'provider', p.provider, 'provider_reference', p.provider_reference,
            'payout_reference', p.payout_reference,
            'paid_at', p.paid_at, 'paid_at_offset', p.paid_at_offset, 'fee', p.fee)
            order by p.position)
        from order_payments p
       where p.company_id = h.company_id and p.order_id = h.id and p.version = h.version),
      '[]') as payments,
    coalesce((select json_agg(json_build_object(
            'category', g.category, 'percentage', g.percentage::text, 'country', g.country,
            'base', g.base::text, 'vat', g.vat::text,
            'base_company', g.base_company::text, 'vat_company', g.vat_company::text)
            order by g.position)
        from order_vat_breakdown g
       where g.company_id = h.company_id and g.order_id = h.id and g.version = h.version),
      '[]') as vat_breakdown";

/// The query answering complete versions: `inner` selects `HEADER_COLUMNS` (and may
/// filter, sort and limit as it likes); its rows get their parts and bookings, in `order`.
/// The parts are looked up only for the rows `inner` answers, whatever its limit, and the
/// whole document comes in one round trip.
fn with_parts(inner: &str, order: &str) -> String {
    format!("{}{inner}) h order by {order}", parts_of_rows())
}

/// The start of [`with_parts`], up to where its inner query goes.
fn parts_of_rows() -> String {
    format!("select h.*, {PARTS_JSON}, {ORDER_BOOKINGS_JSON} from (")
}

/// A stored instant with the offset it was sent with; the migration keeps
/// offsets within a day, so the fallback to UTC is never taken.
fn with_offset(at: DateTime<Utc>, offset: i32) -> DateTime<FixedOffset> {
    let offset = FixedOffset::east_opt(offset).unwrap_or_else(|| Utc.fix());
    at.with_timezone(&offset)
}

#[derive(Deserialize)]
struct PaymentRow {
    method_id: Uuid,
    #[serde(default)]
    method_external_id: Option<String>,
    status: String,
    provider: Option<String>,
    provider_reference: Option<String>,
    payout_reference: Option<String>,
    amount: Decimal,
    reference: Option<String>,
    paid_at: Option<DateTime<Utc>>,
    paid_at_offset: Option<i32>,
    #[serde(default)]
    fee: Option<FeeRecord>,
}

impl From<HeaderRow> for OrderRecord {
    fn from(h: HeaderRow) -> Self {
        OrderRecord {
            id: h.id,
            external_id: h.external_id,
            version: h.version,
            number: h.number,
            status: h.status,
            order_date: with_offset(h.order_date, h.order_date_offset),
            currency: h.currency,
            prices_include_vat: h.prices_include_vat,
            customer_id: h.customer_id,
            customer_external_id: h.customer_external_id,
            customer: h.customer,
            details: h.details.map(|d| d.0).unwrap_or_default(),
            credit_of: h.credit_of,
            credit_of_external_id: h.credit_of_external_id,
            total_excl_vat: h.total_excl_vat,
            total_vat: h.total_vat,
            total_incl_vat: h.total_incl_vat,
            totals_company: match (
                h.total_excl_vat_company,
                h.total_vat_company,
                h.total_incl_vat_company,
            ) {
                (Some(excl), Some(vat), Some(incl)) => Some((excl, vat, incl)),
                _ => None,
            },
            created_at: h.created_at,
            recorded_at: h.recorded_at,
            updated_at: h.updated_at,
            lines: h.lines.0,
            costs: h.costs.0,
            payments: h
                .payments
                .0
                .into_iter()
                .map(|p| PaymentRecord {
                    method_id: p.method_id,
                    method_external_id: p.method_external_id,
                    // The column's check constraint admits only known statuses.
                    status: PaymentStatus::parse(&p.status).unwrap_or_default(),
                    provider: p.provider,
                    provider_reference: p.provider_reference,
                    payout_reference: p.payout_reference,
                    amount: p.amount,
                    reference: p.reference,
                    paid_at: p
                        .paid_at
                        .map(|at| with_offset(at, p.paid_at_offset.unwrap_or(0))),
                    fee: p.fee,
                })
                .collect(),
            vat_breakdown: h.vat_breakdown.0,
            current_version: h.current_version,
            // Every version of an order shows the order's bookings.
            bookings: h.bookings.0,
        }
    }
}

/// Orders written in parts within one transaction; nothing is stored unless
/// [`OrderBatch::commit`] is reached (dropping it rolls everything back).
///
/// Each part is written like [`Orders::write`] writes all of its orders, and a
/// later part sees what earlier ones wrote, so an external id that comes again
/// becomes the next version. Heads are locked as they are written: give the
/// parts in ascending external-id order, as one part's rounds are, and
/// concurrent batches lock in one global order and cannot deadlock.
#[derive(Debug)]
pub struct OrderBatch {
    tx: sqlx::Transaction<'static, Postgres>,
    company_id: Uuid,
    /// The references of the payments written: a payout that came first is matched by
    /// them when the batch commits.
    references: Vec<String>,
}

impl OrderBatch {
    /// Writes one part: answers one [`Written`] per item, in the order given.
    pub async fn write(&mut self, orders: &[OrderWrite<'_>]) -> Result<Vec<Written>, StoreError> {
        let mut results: Vec<Option<Written>> = vec![None; orders.len()];
        for p in orders.iter().flat_map(|o| o.order.payments.iter()) {
            self.references.extend(
                p.provider_reference
                    .iter()
                    .chain(p.reference.iter())
                    .cloned(),
            );
        }
        for round in rounds(orders) {
            let items: Vec<OrderWrite<'_>> = round.iter().map(|i| orders[*i]).collect();
            let written = write_round(&mut self.tx, self.company_id, &items).await?;
            for (i, w) in round.into_iter().zip(written) {
                results[i] = Some(w);
            }
        }
        results
            .into_iter()
            .map(|r| r.ok_or(StoreError::NotFound))
            .collect()
    }

    /// Matches the payouts that came before these orders' payments, then commits every
    /// part written.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        self.references.sort_unstable();
        self.references.dedup();
        crate::settlements::match_pending(&mut self.tx, self.company_id, &self.references).await?;
        self.tx.commit().await?;
        Ok(())
    }
}

impl<'a> Orders<'a> {
    pub(crate) fn new(pool: &'a PgPool) -> Self {
        Self { pool }
    }

    /// Stores orders in one transaction: each new order as version 1, each
    /// changed one as its next version, each identical resend not at all.
    /// Answers one [`Written`] per item, in the order given. Items with the
    /// same external id are applied in the order given.
    pub async fn write(
        &self,
        company_id: Uuid,
        orders: &[OrderWrite<'_>],
    ) -> Result<Vec<Written>, StoreError> {
        if orders.is_empty() {
            return Ok(Vec::new());
        }
        let mut batch = self.begin_batch(company_id).await?;
        let written = batch.write(orders).await?;
        batch.commit().await?;
        Ok(written)
    }

    /// Starts a transaction that stores orders part by part (see
    /// [`OrderBatch`]), so that a caller can prepare the next part while the
    /// database writes this one.
    pub async fn begin_batch(&self, company_id: Uuid) -> Result<OrderBatch, StoreError> {
        Ok(OrderBatch {
            tx: self.pool.begin().await?,
            company_id,
            references: Vec::new(),
        })
    }

    /// The current version of one order.
    pub async fn find(
        &self,
        company_id: Uuid,
        id: Uuid,
    ) -> Result<Option<OrderRecord>, StoreError> {
        let row = sqlx::query_as::<_, HeaderRow>(AssertSqlSafe(with_parts(
            &format!(
                "select {HEADER_COLUMNS}
                   from orders o
                   join order_versions v
                     on v.company_id = o.company_id and v.order_id = o.id and v.version = o.version
                  where o.company_id = $1 and o.id = $2"
            ),
            "h.id",
        )))
        .bind(company_id)
        .bind(id)
        .fetch_optional(self.pool)
        .await?;
        Ok(row.map(OrderRecord::from))
    }

    /// One version of one order.
    pub async fn version(
        &self,
        company_id: Uuid,
        id: Uuid,
        version: i32,
    ) -> Result<Option<OrderRecord>, StoreError> {
        Ok(self.versions(company_id, id, version - 1, 1).await?.pop())
    }

    /// Every version of one order from `after_version` on, oldest first; empty
    /// when the order does not exist.
    pub async fn versions(
        &self,
        company_id: Uuid,
        id: Uuid,
        after_version: i32,
        limit: i64,
    ) -> Result<Vec<OrderRecord>, StoreError> {
        let rows = sqlx::query_as::<_, HeaderRow>(AssertSqlSafe(with_parts(
            &format!(
                "select {HEADER_COLUMNS}
                   from orders o
                   join order_versions v on v.company_id = o.company_id and v.order_id = o.id
                  where o.company_id = $1 and o.id = $2 and v.version > $3
                  order by v.version limit $4"
            ),
            "h.version",
        )))
        .bind(company_id)
        .bind(id)
        .bind(after_version)
        .bind(limit)
        .fetch_all(self.pool)
        .await?;
        Ok(rows.into_iter().map(OrderRecord::from).collect())
    }

    /// Finds orders by our id or the vendor's external id, as `credit_of` may
    /// name them: each key found, with the order's id.
    pub async fn resolve(
        &self,
        company_id: Uuid,
        keys: &[String],
    ) -> Result<HashMap<String, Uuid>, StoreError> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let ids: Vec<Uuid> = keys
            .iter()
            .filter_map(|k| Uuid::parse_str(k).ok())
            .collect();
        let rows = sqlx::query_as::<_, (String, Uuid)>(
            "select id::text, id from orders where company_id = $1 and id = any($2)
             union all
             select external_id, id from orders where company_id = $1 and external_id = any($3)",
        )
        .bind(company_id)
        .bind(&ids)
        .bind(keys)
        .fetch_all(self.pool)
        .await?;
        let mut found: HashMap<String, Uuid> = rows.into_iter().collect();
        // A key may spell our id in capitals; it names the same order.
        for key in keys {
            if let Ok(id) = Uuid::parse_str(key)
                && ids.contains(&id)
                && found.values().any(|v| *v == id)
            {
                found.entry(key.clone()).or_insert(id);
            }
        }
        Ok(found)
    }

    /// Whether the order exists.
    pub async fn exists(&self, company_id: Uuid, id: Uuid) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar::<_, bool>(
            "select exists (select 1 from orders where company_id = $1 and id = $2)",
        )
        .bind(company_id)
        .bind(id)
        .fetch_one(self.pool)
        .await?)
    }

    /// The current versions of the orders that match `filter`, in the sort
    /// order it asks for. Only the filters given become SQL conditions, so
    /// each combination gets a plan that uses its index.
    pub async fn list(
        &self,
        company_id: Uuid,
        filter: &OrderFilter,
    ) -> Result<Vec<OrderRecord>, StoreError> {
        let mut q = QueryBuilder::<Postgres>::new(format!(
            "{}select {HEADER_COLUMNS}
               from orders o
               join order_versions v
                 on v.company_id = o.company_id and v.order_id = o.id and v.version = o.version
              where o.company_id = ",
            parts_of_rows()
        ));
        q.push_bind(company_id);
        if let Some(number) = &filter.number {
            q.push(" and o.number = ").push_bind(number.clone());
        }
        if let Some(from) = filter.from {
            q.push(" and o.order_date >= ").push_bind(from);
        }
        if let Some(to) = filter.to {
            q.push(" and o.order_date < ").push_bind(to);
        }
        if let Some(since) = filter.updated_since {
            q.push(" and o.updated_at >= ").push_bind(since);
        }
        if let Some(customer) = filter.customer_id {
            q.push(" and o.customer_id = ").push_bind(customer);
        }
        if let Some(status) = &filter.status {
            q.push(" and o.status = ").push_bind(status.clone());
        }
        filter.bookings.push(
            &mut q,
            company_id,
            BookedResource::Orders,
            "o.id",
            "o.version",
        );
        if let Some(reference) = &filter.reference {
            // A union of index lookups: the external id and the marketplace's order id on
            // the heads, the payment reference and the provider's transaction id on the
            // payments of any version.
            q.push(" and o.id in (select id from orders where company_id = ")
                .push_bind(company_id)
                .push(" and external_id = ")
                .push_bind(reference.clone())
                .push(" union select id from orders where company_id = ")
                .push_bind(company_id)
                .push(" and marketplace_order_id = ")
                .push_bind(reference.clone())
                .push(" union select order_id from order_payments where company_id = ")
                .push_bind(company_id)
                .push(" and reference = ")
                .push_bind(reference.clone())
                .push(" union select order_id from order_payments where company_id = ")
                .push_bind(company_id)
                .push(" and provider_reference = ")
                .push_bind(reference.clone())
                .push(")");
        }
        let column = match filter.sort {
            OrderSort::UpdatedAt => "o.updated_at",
            OrderSort::OrderDate => "o.order_date",
        };
        if let Some((at, id)) = filter.after {
            q.push(format!(" and ({column}, o.id) > ("))
                .push_bind(at)
                .push(", ")
                .push_bind(id)
                .push(")");
        }
        q.push(format!(" order by {column}, o.id limit "))
            .push_bind(filter.limit);
        // The page, then its parts (as `with_parts` does, by hand because the
        // inner query is built with binds), in the same order.
        let outer = match filter.sort {
            OrderSort::UpdatedAt => "h.updated_at",
            OrderSort::OrderDate => "h.order_date",
        };
        q.push(format!(") h order by {outer}, h.id"));
        let rows = q.build_query_as::<HeaderRow>().fetch_all(self.pool).await?;
        Ok(rows.into_iter().map(OrderRecord::from).collect())
    }
}
