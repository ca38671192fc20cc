//! The receipt answers: a receipt with its lines, payments, totals and VAT groups, and the
//! lists, batch results and validation results built of them.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use koppel_store::receipts::{ReceiptLineRecord, ReceiptPaymentRecord, ReceiptRecord};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::input::ReceiptLineKindInput;
use crate::error::ProblemItem;

/// Money as a decimal string with at least two decimals, as every amount is answered.
pub(super) fn cents(value: Decimal) -> Decimal {
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
    /// That rate's external id (the vendor's own).
    pub rate_external_id: Option<String>,
    /// The rate in percent.
    #[schema(value_type = String, example = "9")]
    pub percentage: Decimal,
    /// The VAT category.
    #[schema(value_type = crate::closed_sets::VatCategory, example = "reduced")]
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
    /// What the line is.
    #[schema(value_type = ReceiptLineKindInput)]
    pub kind: String,
    /// The till's product code, as sent.
    pub product_code: String,
    /// The company's product whose SKU is this product code, at the time of reading; null
    /// when none has it (a product code is never refused for lack of a product).
    pub product_id: Option<Uuid>,
    /// What was sold.
    pub description: Option<String>,
    /// The revenue category.
    pub category_id: Uuid,
    /// The category's external id (yours).
    pub category_external_id: String,
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
    /// Under the margin scheme: the purchase price per unit, as sent; absent otherwise.
    #[schema(value_type = Option<String>, example = "150.00")]
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::money::serialize_option"
    )]
    pub purchase_price: Option<Decimal>,
}

impl From<ReceiptLineRecord> for ReceiptLine {
    fn from(l: ReceiptLineRecord) -> Self {
        Self {
            kind: l.kind,
            product_code: l.product_code,
            product_id: l.product_id,
            description: l.description,
            category_id: l.category_id,
            category_external_id: l.category_external_id,
            quantity: l.quantity.normalize(),
            unit_price: cents(l.unit_price),
            discount: cents(l.discount),
            vat: ReceiptVat {
                rate_id: l.vat.rate_id,
                rate_external_id: l.vat.rate_external_id,
                percentage: l.vat.percentage.normalize(),
                category: l.vat.category,
                country: l.vat.country,
                amount: l.vat.amount,
                exemption_reason: l.vat.exemption_reason,
            },
            total_excl_vat: l.total_excl_vat,
            total_incl_vat: l.total_incl_vat,
            purchase_price: l.purchase_price,
        }
    }
}

/// A stored receipt payment.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReceiptPayment {
    /// The payment method.
    pub method_id: Uuid,
    /// The method's external id (yours).
    pub method_external_id: String,
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
            method_external_id: p.method_external_id,
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
    #[schema(value_type = crate::closed_sets::VatCategory)]
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

/// The location a receipt was sold at, as pushed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReceiptLocation {
    /// Koppel's id of the location.
    pub id: Uuid,
    /// Its name now.
    pub name: String,
    /// Its cost centre now.
    pub cost_centre: Option<String>,
}

/// The register a receipt was rung up on, as pushed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReceiptRegister {
    /// Koppel's id of the register.
    pub id: Uuid,
    /// Its name now.
    pub name: String,
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
    /// The location `location_id` names, once the vendor pushed it (`…/locations`); null
    /// before.
    pub location: Option<ReceiptLocation>,
    /// The register `register_id` names within that location, once pushed; null before.
    pub register: Option<ReceiptRegister>,
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
    /// For a receipt in another currency than the company's: the company's currency per 1
    /// unit of the receipt's, as sent; null for a receipt in the company's currency.
    #[schema(value_type = Option<String>, example = "1.1702")]
    #[serde(serialize_with = "crate::money::serialize_rate")]
    pub exchange_rate: Option<Decimal>,
    /// The date the exchange rate is of.
    pub exchange_rate_date: Option<NaiveDate>,
    /// For a receipt in another currency: `totals` in the company's currency, the sums of
    /// `vat_breakdown_company_currency`; null otherwise. The day, the VAT return and the
    /// journal count these.
    pub totals_company_currency: Option<ReceiptTotals>,
    /// For a receipt in another currency: each group of `vat_breakdown` converted at the
    /// exchange rate, base and VAT each rounded to the cent on its own; null otherwise.
    pub vat_breakdown_company_currency: Option<Vec<ReceiptVatGroup>>,
    /// Whether it arrived after its day was final; its day was then revised.
    pub late: bool,
    /// For a refund: the receipt it refunds (our id).
    pub refund_of: Option<Uuid>,
    /// That receipt's external id (the vendor's own).
    pub refund_of_external_id: Option<String>,
    /// Why it was refunded.
    pub refund_reason: Option<String>,
    /// The receipts that refund this one (our ids), oldest first.
    pub refunds: Vec<Uuid>,
    /// The buyer, when the receipt named one.
    pub customer: Option<crate::buyer::OrderCustomer>,
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
        // Per group: base and VAT, and in the company's currency (the lines' converted
        // figures were allocated so that they add up to each group's conversion).
        type Sums = [Decimal; 4];
        let mut groups: BTreeMap<(String, Decimal, String), Sums> = BTreeMap::new();
        for l in &r.lines {
            let key = (
                l.vat.category.clone(),
                l.vat.percentage.normalize(),
                l.vat.country.clone(),
            );
            let group = groups.entry(key).or_default();
            // A margin line's base is its margin less VAT (VAT.md), as on an order.
            group[0] += l.margin_base.unwrap_or(l.total_excl_vat);
            group[1] += l.vat.amount;
            group[2] += l
                .margin_base_company
                .or(l.total_excl_vat_company)
                .unwrap_or_default();
            group[3] += l.vat_amount_company.unwrap_or_default();
        }
        let breakdown = |base: usize| -> Vec<ReceiptVatGroup> {
            groups
                .iter()
                .map(|((category, percentage, country), sums)| ReceiptVatGroup {
                    category: category.clone(),
                    percentage: *percentage,
                    country: country.clone(),
                    base: sums[base],
                    vat: sums[base + 1],
                })
                .collect()
        };
        let vat_breakdown = breakdown(0);
        let vat_breakdown_company_currency = r.totals_company.map(|_| breakdown(2));
        Self {
            id: r.id,
            external_id: r.external_id,
            number: r.number,
            location_id: r.location_id,
            register_id: r.register_id,
            location: r.location.map(|l| ReceiptLocation {
                id: l.id,
                name: l.name,
                cost_centre: l.cost_centre,
            }),
            register: r.register.map(|g| ReceiptRegister {
                id: g.id,
                name: g.name,
            }),
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
            vat_breakdown,
            exchange_rate: r.exchange_rate,
            exchange_rate_date: r.exchange_rate_date,
            totals_company_currency: r.totals_company.map(|(excl, vat, incl)| ReceiptTotals {
                total_excl_vat: excl,
                total_vat: vat,
                total_incl_vat: incl,
            }),
            vat_breakdown_company_currency,
            late: r.late,
            refund_of: r.refund_of,
            refund_of_external_id: r.refund_of_external_id,
            refund_reason: r.refund_reason,
            refunds: r.refunds,
            customer: r
                .customer
                .and_then(|c| serde_json::from_value::<crate::buyer::OrderCustomer>(c).ok())
                .map(|c| crate::buyer::OrderCustomer {
                    external_id: r.customer_external_id,
                    ..c
                }),
            version: r.version,
            received_at: r.received_at,
            updated_at: r.updated_at,
            bookings,
            needs_correction,
        }
    }
}

/// The receipt list, as the OpenAPI document names and describes its page.
#[derive(Debug)]
pub enum ReceiptListing {}

impl crate::page::Listing for ReceiptListing {
    type Item = Receipt;
    const NAME: &'static str = "ReceiptList";
    const DESCRIPTION: &'static str = "A page of receipts.";
    const DATA: &'static str = "The receipts on this page.";
}

/// A page of receipts.
pub type ReceiptList = crate::page::Page<ReceiptListing>;

/// What storing a receipt did. A receipt never changes, so there is no `updated`.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ReceiptOutcome {
    /// A new receipt (`201`).
    Created,
    /// An identical resend: nothing changed (`200`).
    Unchanged,
}

impl ReceiptOutcome {
    /// The name answered in a batch item's `outcome`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReceiptOutcome::Created => "created",
            ReceiptOutcome::Unchanged => "unchanged",
        }
    }
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
    /// What storing it did, when stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ReceiptOutcome>)]
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
    /// For a receipt in another currency: `totals` in the company's currency; null otherwise.
    pub totals_company_currency: Option<ReceiptTotals>,
    /// For a receipt in another currency: `vat_breakdown` converted, each group on its own;
    /// null otherwise.
    pub vat_breakdown_company_currency: Option<Vec<ReceiptVatGroup>>,
}

impl ReceiptVatGroup {
    /// A domain breakdown group as answered.
    pub(crate) fn of(g: &koppel_domain::document::VatGroup) -> ReceiptVatGroup {
        ReceiptVatGroup {
            category: g.category.as_str().to_owned(),
            percentage: g.percentage,
            country: g.country.as_str().to_owned(),
            base: g.base,
            vat: g.vat,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::closed_sets::tests::values;

    #[test]
    fn amounts_are_answered_with_at_least_two_decimals() {
        assert_eq!(cents(Decimal::new(121, 1)).to_string(), "12.10");
        assert_eq!(cents(Decimal::new(12, 0)).to_string(), "12.00");
        assert_eq!(cents(Decimal::new(12345, 4)).to_string(), "1.2345");
    }

    #[test]
    fn the_documented_outcomes_are_the_ones_answered() {
        let answered: Vec<&str> = [ReceiptOutcome::Created, ReceiptOutcome::Unchanged]
            .into_iter()
            .map(ReceiptOutcome::as_str)
            .collect();
        assert_eq!(values::<ReceiptOutcome>(), answered);
    }
}
