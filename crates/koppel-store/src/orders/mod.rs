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
//!
//! `write.rs` upserts the heads a round at a time and keeps a batch's transaction,
//! `versions.rs` inserts the new versions with all their parts in one statement, and
//! `read.rs` reads complete versions back in one round trip.

mod parts;
mod read;
mod versions;
mod write;

use chrono::{DateTime, FixedOffset, Utc};
use koppel_domain::order::{OrderDetails, PaymentStatus, ValidOrder};
use rust_decimal::Decimal;
use serde::Deserialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::StoreError;
use crate::bookings::{BookingFilter, BookingRecord};
pub use crate::settings::Outcome;

pub use versions::fee_value;
pub use write::OrderBatch;

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
///
/// Read from a part's row (`read.rs`), and by name from a stored fee's JSON object.
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRecord {
    /// The product.
    pub product_id: Option<Uuid>,
    /// That product's external id (the vendor's), written with the line.
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
    pub category_external_id: Option<String>,
    /// Under the margin scheme: the purchase price per unit.
    pub purchase_price: Option<Decimal>,
    /// What the line is, e.g. `sale`.
    pub kind: String,
    /// The unit of the quantity.
    pub unit: Option<String>,
    /// The index of the line this one belongs to.
    pub parent_line: Option<i32>,
    /// The discount code used.
    pub discount_code: Option<String>,
    /// The discount's name.
    pub discount_name: Option<String>,
}

/// A stored cost.
#[derive(Debug, Clone, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
    pub base_company: Option<Decimal>,
    /// The VAT in the company's currency, for an order in another.
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
        OrderBatch::begin(self.pool, company_id).await
    }
}
