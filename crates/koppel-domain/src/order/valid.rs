//! An order that passed every rule: its parts resolved and normalised, with Koppel's totals,
//! VAT breakdown and, for another currency, the company-currency figures.

use chrono::{DateTime, FixedOffset};
use rust_decimal::Decimal;
use serde::Serialize;

use super::draft::{CostKind, LineKind, OrderDetails, OrderStatus, PaymentStatus};
use crate::document::{Converted, Totals, ValidVat, VatGroup};
use crate::identifiers::{CountryCode, KvkNumber, VatNumber};

/// A validated address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ValidAddress {
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
    /// Country.
    pub country: Option<CountryCode>,
}

/// A validated customer snapshot, identifiers normalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ValidCustomer {
    /// The customer in Koppel.
    pub id: Option<String>,
    /// That customer's external id. Not part of the canonical form (it follows from the id)
    /// nor of the stored snapshot; kept in its own column.
    #[serde(skip)]
    pub external_id: Option<String>,
    /// The person's name.
    pub name: Option<String>,
    /// The business's name.
    pub company_name: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// Normalised VAT number.
    pub vat_number: Option<VatNumber>,
    /// KvK number.
    pub coc_number: Option<KvkNumber>,
    /// Billing address.
    pub billing_address: Option<ValidAddress>,
    /// Shipping address.
    pub shipping_address: Option<ValidAddress>,
}

/// A validated order line with both totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ValidLine {
    /// The product in Koppel.
    pub product_id: Option<String>,
    /// That product's external id; not part of the canonical form (it follows from the id).
    #[serde(skip)]
    pub product_external_id: Option<String>,
    /// The product's SKU.
    pub sku: Option<String>,
    /// What was sold.
    pub description: Option<String>,
    /// How many.
    pub quantity: Decimal,
    /// Price per unit in the order's basis.
    pub unit_price: Decimal,
    /// Discount on the whole line.
    pub discount: Decimal,
    /// Resolved VAT.
    pub vat: ValidVat,
    /// Line total excluding VAT.
    pub total_excl_vat: Decimal,
    /// Line total including VAT.
    pub total_incl_vat: Decimal,
    /// The revenue category.
    pub category_id: Option<String>,
    /// That category's external id; not part of the canonical form (it follows from the id).
    #[serde(skip)]
    pub category_external_id: Option<String>,
    /// Under the margin scheme: the purchase price per unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_price: Option<Decimal>,
    /// Under the margin scheme: the taxable base, the margin less its VAT; follows from the
    /// figures, so not part of the canonical form.
    #[serde(skip)]
    pub margin_base: Option<Decimal>,
    /// What the line is. The details below are left out of the canonical form when absent,
    /// so an order sent before they existed hashes as it did.
    #[serde(skip_serializing_if = "LineKind::is_sale")]
    pub kind: LineKind,
    /// The unit the quantity counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// The index of the line this one belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_line: Option<usize>,
    /// The discount code used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discount_code: Option<String>,
    /// The discount's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discount_name: Option<String>,
}

/// A validated cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ValidCost {
    /// What the cost is for.
    pub kind: CostKind,
    /// Free text.
    pub description: Option<String>,
    /// Amount excluding VAT.
    pub amount_excl_vat: Decimal,
    /// Resolved VAT.
    pub vat: ValidVat,
    /// Amount including VAT.
    pub amount_incl_vat: Decimal,
}

/// A validated payment-provider fee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ValidFee {
    /// Amount excluding VAT.
    pub amount_excl_vat: Decimal,
    /// Resolved VAT.
    pub vat: ValidVat,
    /// Amount including VAT.
    pub amount_incl_vat: Decimal,
}

/// A validated payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ValidPayment {
    /// The payment method in Koppel.
    pub method_id: String,
    /// That method's external id; not part of the canonical form (it follows from the id).
    #[serde(skip)]
    pub method_external_id: Option<String>,
    /// Amount.
    pub amount: Decimal,
    /// The provider's reference.
    pub reference: Option<String>,
    /// When it was paid.
    pub paid_at: Option<DateTime<FixedOffset>>,
    /// Where the payment stands. Left out of the canonical form when `paid`, and the
    /// provider fields when absent, so that an order sent before these fields existed
    /// hashes as it did (no new version on an identical resend).
    #[serde(skip_serializing_if = "PaymentStatus::is_paid")]
    pub status: PaymentStatus,
    /// The payment provider.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The provider's own id of the transaction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_reference: Option<String>,
    /// The payout that settled it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payout_reference: Option<String>,
    /// What the provider charged for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fee: Option<ValidFee>,
}

/// An order that passed every rule, with the totals and breakdown Koppel computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ValidOrder {
    /// The vendor's own id.
    pub external_id: String,
    /// The order number.
    pub number: Option<String>,
    /// Status.
    pub status: OrderStatus,
    /// When the order was placed.
    pub order_date: DateTime<FixedOffset>,
    /// ISO 4217 currency code.
    pub currency: String,
    /// Whether unit prices include VAT.
    pub prices_include_vat: bool,
    /// The buyer.
    pub customer: Option<ValidCustomer>,
    /// The lines.
    pub lines: Vec<ValidLine>,
    /// The costs.
    pub costs: Vec<ValidCost>,
    /// The payments.
    pub payments: Vec<ValidPayment>,
    /// The order this one corrects.
    pub credit_of: Option<String>,
    /// Totals computed from the lines and costs.
    pub totals: Totals,
    /// Base and VAT per category, rate and country.
    pub vat_breakdown: Vec<VatGroup>,
    /// Invoice and channel details.
    #[serde(skip_serializing_if = "OrderDetails::is_empty")]
    pub details: OrderDetails,
    /// For an order in another currency than the company's: its figures in the company's
    /// currency. Follows from the breakdown and the rate, so not part of the canonical form.
    #[serde(skip)]
    pub company_currency: Option<Converted>,
}

impl ValidOrder {
    /// The sum of the payments (refunds paid back on the order count negative).
    pub fn paid(&self) -> Decimal {
        self.payments.iter().map(|p| p.amount).sum()
    }
}
