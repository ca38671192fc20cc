//! The order answers: an order with its lines, costs, payments, totals and VAT groups, and the
//! lists, batch results and validation results built of them.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use koppel_domain::document::{Totals, VatGroup};
use koppel_domain::order::{Channel, amount_paid};
use koppel_store::orders::{
    CostRecord, FeeRecord, LineRecord, OrderRecord, PaymentRecord, VatGroupRecord, VatRecord,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::flow::cents;
use super::input::{
    ChannelInput, OrderCostKindInput, OrderLineKindInput, OrderStatusInput, PaymentStatusInput,
};
use crate::buyer::OrderCustomer;
use crate::error::ProblemItem;

/// The VAT of a line or cost, resolved.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrderVat {
    /// The company's VAT rate, when the order named one.
    pub rate_id: Option<Uuid>,
    /// That rate's external id (the vendor's own).
    pub rate_external_id: Option<String>,
    /// The rate in percent.
    #[schema(value_type = String, example = "21")]
    pub percentage: Decimal,
    /// The VAT category.
    #[schema(value_type = crate::closed_sets::VatCategory)]
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
            rate_external_id: v.rate_external_id,
            percentage: v.percentage.normalize(),
            category: v.category,
            country: v.country,
            amount: v.amount,
            exemption_reason: v.exemption_reason,
        }
    }
}

/// A stored order line.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrderLine {
    /// The product's id in Koppel: as sent, or else the company's product that has this
    /// line's `sku` at the time of reading (null when none has it).
    pub product_id: Option<Uuid>,
    /// That product's external id (the vendor's own), when the line named the product.
    pub product_external_id: Option<String>,
    /// The article code, as sent.
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
    /// That category's external id (the vendor's own).
    pub category_external_id: Option<String>,
    /// Under the margin scheme only: the purchase price per unit, as sent.
    #[schema(value_type = Option<String>, example = "150.00")]
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::money::serialize_option"
    )]
    pub purchase_price: Option<Decimal>,
    /// What the line is.
    #[schema(value_type = OrderLineKindInput)]
    pub kind: String,
    /// The unit the quantity counts.
    pub unit: Option<String>,
    /// The index of the line this one belongs to (a bundle part or modifier).
    pub parent_line: Option<i32>,
    /// The discount code the buyer used.
    pub discount_code: Option<String>,
    /// The discount's name.
    pub discount_name: Option<String>,
}

impl From<LineRecord> for OrderLine {
    fn from(l: LineRecord) -> Self {
        Self {
            product_id: l.product_id,
            product_external_id: l.product_external_id,
            sku: l.sku,
            description: l.description,
            quantity: l.quantity,
            unit_price: l.unit_price,
            discount: l.discount,
            vat: l.vat.into(),
            total_excl_vat: l.total_excl_vat,
            total_incl_vat: l.total_incl_vat,
            category_id: l.category_id,
            category_external_id: l.category_external_id,
            purchase_price: l.purchase_price,
            kind: l.kind,
            unit: l.unit,
            parent_line: l.parent_line,
            discount_code: l.discount_code,
            discount_name: l.discount_name,
        }
    }
}

/// A stored cost.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrderCost {
    /// What the cost is for.
    #[schema(value_type = OrderCostKindInput)]
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
    /// That payment method's external id (the vendor's own).
    pub method_external_id: Option<String>,
    /// Amount; negative for money paid back.
    #[schema(value_type = String, example = "12.10")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub amount: Decimal,
    /// The payment provider's reference.
    pub reference: Option<String>,
    /// When it was paid, with the offset it was sent with.
    pub paid_at: Option<DateTime<FixedOffset>>,
    /// Where the payment stands; only `paid` counts towards `amount_paid`.
    #[schema(value_type = PaymentStatusInput)]
    pub status: String,
    /// The payment provider.
    pub provider: Option<String>,
    /// The provider's own id of the transaction.
    pub provider_reference: Option<String>,
    /// The payout that settled it.
    pub payout_reference: Option<String>,
    /// What the payment provider charged for it; not part of the order's figures.
    pub fee: Option<OrderFee>,
}

/// A payment provider's fee for one payment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrderFee {
    /// Amount excluding VAT.
    #[schema(value_type = String, example = "0.29")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub amount_excl_vat: Decimal,
    /// The fee's VAT.
    pub vat: OrderVat,
    /// Amount including VAT.
    #[schema(value_type = String, example = "0.35")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub amount_incl_vat: Decimal,
}

impl From<FeeRecord> for OrderFee {
    fn from(f: FeeRecord) -> Self {
        Self {
            amount_excl_vat: f.amount_excl_vat,
            vat: f.vat.into(),
            amount_incl_vat: f.amount_incl_vat,
        }
    }
}

impl From<PaymentRecord> for OrderPayment {
    fn from(p: PaymentRecord) -> Self {
        Self {
            method_id: p.method_id,
            method_external_id: p.method_external_id,
            amount: p.amount,
            reference: p.reference,
            paid_at: p.paid_at,
            status: p.status.as_str().to_owned(),
            provider: p.provider,
            provider_reference: p.provider_reference,
            payout_reference: p.payout_reference,
            fee: p.fee.map(OrderFee::from),
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
    #[schema(value_type = crate::closed_sets::VatCategory)]
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
    /// Where the order is in its life.
    #[schema(value_type = OrderStatusInput)]
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
    /// What the payments with status `paid` add up to.
    #[schema(value_type = String, example = "12.10")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub amount_paid: Decimal,
    /// What is still to be paid: `total_incl_vat` − `amount_paid`.
    #[schema(value_type = String, example = "0.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub balance_due: Decimal,
    /// Base and VAT per category, rate and country, computed by Koppel.
    pub vat_breakdown: Vec<OrderVatGroup>,
    /// For a credit order or refund: the id of the order it corrects.
    pub credit_of: Option<Uuid>,
    /// That order's external id (the vendor's own).
    pub credit_of_external_id: Option<String>,
    /// The invoice number.
    pub invoice_number: Option<String>,
    /// The invoice date, the tax point (else `order_date` is).
    pub invoice_date: Option<NaiveDate>,
    /// When the invoice is due.
    pub due_date: Option<NaiveDate>,
    /// When the goods were delivered.
    pub delivery_date: Option<NaiveDate>,
    /// The sales channel.
    #[schema(value_type = Option<ChannelInput>)]
    pub channel: Option<Channel>,
    /// The marketplace.
    pub marketplace: Option<String>,
    /// The marketplace's own order id.
    pub marketplace_order_id: Option<String>,
    /// For an order in another currency than the company's: the company's currency per 1
    /// unit of the order's, as sent; null for an order in the company's currency.
    #[schema(value_type = Option<String>, example = "1.1702")]
    #[serde(serialize_with = "crate::money::serialize_rate")]
    pub exchange_rate: Option<Decimal>,
    /// The date the exchange rate is of.
    pub exchange_rate_date: Option<NaiveDate>,
    /// For an order in another currency: `totals` in the company's currency, the sums of
    /// `vat_breakdown_company_currency`; null otherwise. The VAT return uses these.
    pub totals_company_currency: Option<OrderTotals>,
    /// For an order in another currency: each group of `vat_breakdown` converted at the
    /// exchange rate, base and VAT each rounded to the cent on its own; null otherwise.
    pub vat_breakdown_company_currency: Option<Vec<OrderVatGroup>>,
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
        let amount_paid = cents(amount_paid(r.payments.iter().map(|p| (p.status, p.amount))));
        let balance_due = cents(r.total_incl_vat - amount_paid);
        let company_breakdown = r.totals_company.map(|_| {
            r.vat_breakdown
                .iter()
                .map(|g| OrderVatGroup {
                    base: g.base_company.unwrap_or(g.base),
                    vat: g.vat_company.unwrap_or(g.vat),
                    ..OrderVatGroup::from(g.clone())
                })
                .collect()
        });
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
            // fields this type mirrors; the external id is kept beside it.
            customer: r
                .customer
                .and_then(|c| serde_json::from_value::<OrderCustomer>(c).ok())
                .map(|c| OrderCustomer {
                    external_id: r.customer_external_id,
                    ..c
                }),
            lines: r.lines.into_iter().map(OrderLine::from).collect(),
            costs: r.costs.into_iter().map(OrderCost::from).collect(),
            payments: r.payments.into_iter().map(OrderPayment::from).collect(),
            totals: OrderTotals {
                total_excl_vat: r.total_excl_vat,
                total_vat: r.total_vat,
                total_incl_vat: r.total_incl_vat,
            },
            amount_paid,
            balance_due,
            vat_breakdown: r
                .vat_breakdown
                .into_iter()
                .map(OrderVatGroup::from)
                .collect(),
            credit_of: r.credit_of,
            credit_of_external_id: r.credit_of_external_id,
            invoice_number: r.details.invoice_number,
            invoice_date: r.details.invoice_date,
            due_date: r.details.due_date,
            delivery_date: r.details.delivery_date,
            channel: r.details.channel,
            marketplace: r.details.marketplace,
            marketplace_order_id: r.details.marketplace_order_id,
            exchange_rate: r.details.exchange_rate,
            exchange_rate_date: r.details.exchange_rate_date,
            totals_company_currency: r.totals_company.map(|(excl, vat, incl)| OrderTotals {
                total_excl_vat: excl,
                total_vat: vat,
                total_incl_vat: incl,
            }),
            vat_breakdown_company_currency: company_breakdown,
            created_at: r.created_at,
            updated_at: r.recorded_at,
            bookings,
            needs_correction,
        }
    }
}

/// The order list, as the OpenAPI document names and describes its page.
#[derive(Debug)]
pub enum OrderListing {}

impl crate::page::Listing for OrderListing {
    type Item = Order;
    const NAME: &'static str = "OrderList";
    const DESCRIPTION: &'static str = "A page of orders.";
    const DATA: &'static str = "The orders on this page, each in its current version.";
}

/// A page of orders.
pub type OrderList = crate::page::Page<OrderListing>;

/// The order version list, as the OpenAPI document names and describes its page.
#[derive(Debug)]
pub enum OrderVersionListing {}

impl crate::page::Listing for OrderVersionListing {
    type Item = Order;
    const NAME: &'static str = "OrderVersionList";
    const DESCRIPTION: &'static str = "A page of an order's versions, oldest first.";
    const DATA: &'static str = "Each version as it was stored, complete.";
}

/// A page of an order's versions, oldest first.
pub type OrderVersionList = crate::page::Page<OrderVersionListing>;

/// What storing an order did.
#[derive(Debug, Clone, Copy, ToSchema)]
#[expect(
    dead_code,
    reason = "documents `outcome`; the answer names it by `flow::outcome_str`"
)]
#[schema(rename_all = "snake_case")]
pub enum OrderOutcome {
    /// A new order (`201`).
    Created,
    /// A new version of an order Koppel had (`200`).
    Updated,
    /// An identical resend: nothing changed (`200`).
    Unchanged,
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
    /// What storing it did, when stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<OrderOutcome>)]
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

#[cfg(test)]
mod tests {
    use koppel_store::orders::Outcome;

    use super::super::flow::outcome_str;
    use super::*;
    use crate::closed_sets::tests::values;

    #[test]
    fn the_documented_outcomes_are_the_ones_answered() {
        let answered: Vec<&str> = [Outcome::Created, Outcome::Updated, Outcome::Unchanged]
            .into_iter()
            .map(outcome_str)
            .collect();
        assert_eq!(values::<OrderOutcome>(), answered);
    }
}
