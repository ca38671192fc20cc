//! A receipt as the rules accepted it, its revenue kept apart from tips, gift cards and
//! deposits.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::daily::{RateFigures, RateKey};
use crate::document::{Totals, ValidVat, VatGroup};
use crate::order::ValidCustomer;

use super::{InCompanyCurrency, ReceiptLineKind};

/// A validated receipt line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ValidReceiptLine {
    /// What the line is.
    pub kind: ReceiptLineKind,
    /// The till's product code.
    pub product_code: String,
    /// What was sold.
    pub description: Option<String>,
    /// The revenue category.
    pub category_id: String,
    /// How many.
    pub quantity: Decimal,
    /// Price per unit.
    pub unit_price: Decimal,
    /// Discount on the whole line.
    pub discount: Decimal,
    /// Resolved VAT.
    pub vat: ValidVat,
    /// Line total excluding VAT.
    pub total_excl_vat: Decimal,
    /// Line total including VAT.
    pub total_incl_vat: Decimal,
    /// Under the margin scheme: the purchase price per unit. Left out of the canonical form
    /// when absent, so a receipt sent before receipts took it hashes as it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_price: Option<Decimal>,
    /// Under the margin scheme: the taxable base, the margin less its VAT; follows from the
    /// figures, so not part of the canonical form.
    #[serde(skip)]
    pub margin_base: Option<Decimal>,
}

impl ValidReceiptLine {
    /// The line's base in the VAT return: the margin less its VAT under the margin scheme,
    /// else the amount excluding VAT.
    pub fn vat_base(&self) -> Decimal {
        self.margin_base.unwrap_or(self.total_excl_vat)
    }
}

/// A validated receipt payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ValidReceiptPayment {
    /// The payment method.
    pub method_id: String,
    /// The amount handed over or charged.
    pub amount: Decimal,
    /// Cash given back.
    pub change: Decimal,
    /// The reference.
    pub reference: Option<String>,
}

impl ValidReceiptPayment {
    /// What the payment counts for: the amount minus the change.
    pub fn net(&self) -> Decimal {
        self.amount - self.change
    }
}

/// A receipt's figures split the way the day's bookkeeping needs them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReceiptSplit {
    /// Revenue: sales and single-purpose gift cards.
    pub revenue: Totals,
    /// Tips, including VAT (which is none).
    pub tips: Decimal,
    /// Multi-purpose gift cards sold.
    pub gift_cards_multi_purpose: Decimal,
    /// Deposits.
    pub deposits: Decimal,
}

impl ReceiptSplit {
    /// The totals and the split of lines given as (kind, amount excluding VAT, VAT): revenue
    /// apart from tips, multi-purpose gift cards and deposits (each of those incl. its VAT,
    /// which is none). The one place a line's kind decides where its amount counts.
    pub fn of(lines: impl Iterator<Item = (ReceiptLineKind, Decimal, Decimal)>) -> (Totals, Self) {
        let mut totals = Totals::default();
        let mut split = ReceiptSplit::default();
        for (kind, excl, vat) in lines {
            totals.add(excl, vat);
            match kind {
                ReceiptLineKind::Sale | ReceiptLineKind::GiftCardSinglePurpose => {
                    split.revenue.add(excl, vat)
                }
                ReceiptLineKind::Tip => split.tips += excl + vat,
                ReceiptLineKind::GiftCardMultiPurpose => {
                    split.gift_cards_multi_purpose += excl + vat
                }
                ReceiptLineKind::Deposit => split.deposits += excl + vat,
            }
        }
        (totals, split)
    }
}

/// A receipt that passed every rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ValidReceipt {
    /// The vendor's own id.
    pub external_id: String,
    /// The receipt number.
    pub number: Option<String>,
    /// The location.
    pub location_id: Option<String>,
    /// The till.
    pub register_id: Option<String>,
    /// The moment of sale with its offset.
    pub created_at: DateTime<FixedOffset>,
    /// ISO 4217 currency code.
    pub currency: String,
    /// Whether unit prices include VAT.
    pub prices_include_vat: bool,
    /// The lines.
    pub lines: Vec<ValidReceiptLine>,
    /// The payments.
    pub payments: Vec<ValidReceiptPayment>,
    /// Cash rounding.
    pub cash_rounding: Decimal,
    /// Totals of all lines.
    pub totals: Totals,
    /// Base and VAT per category, rate and country, of all lines.
    pub vat_breakdown: Vec<VatGroup>,
    /// Revenue apart from tips, gift cards and deposits.
    pub split: ReceiptSplit,
    /// What single-purpose vouchers paid, per revenue rate: taken out of the day's revenue
    /// and VAT (VAT.md). Derived from the payments, so not part of the canonical form.
    #[serde(skip)]
    pub voucher_redemptions: Vec<(RateKey, RateFigures)>,
    /// For a refund: the receipt it refunds (our id). Left out of the canonical form when
    /// absent, with the two below, so a receipt sent before they existed hashes as it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_of: Option<String>,
    /// That receipt's external id; follows from the id, so not in the canonical form.
    #[serde(skip)]
    pub refund_of_external_id: Option<String>,
    /// Why it was refunded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_reason: Option<String>,
    /// The buyer, when the receipt named one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<ValidCustomer>,
    /// For a receipt in another currency than the company's: company currency per unit of
    /// the receipt's. Left out of the canonical form when absent, with its date, so a receipt
    /// sent before receipts took rates hashes as it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange_rate: Option<Decimal>,
    /// The date the exchange rate is of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange_rate_date: Option<NaiveDate>,
    /// With an exchange rate: the receipt's figures in the company's currency, which the day
    /// and the VAT return count. Follows from the figures and the rate, so not part of the
    /// canonical form.
    #[serde(skip)]
    pub company_currency: Option<InCompanyCurrency>,
}

impl ValidReceipt {
    /// The business date of the sale in the company's timezone and cutoff.
    pub fn business_date(&self, tz: chrono_tz::Tz, cutoff: NaiveTime) -> NaiveDate {
        crate::business_day::business_date(self.created_at, tz, cutoff)
    }

    /// Line `i`'s amounts excluding VAT and VAT as the books count them: in the company's
    /// currency.
    pub fn booked_line(&self, i: usize) -> (Decimal, Decimal) {
        match &self.company_currency {
            Some(c) => (c.lines[i].excl, c.lines[i].vat),
            None => (self.lines[i].total_excl_vat, self.lines[i].vat.amount),
        }
    }

    /// Payment `i`'s amount net of change as the books count it: in the company's currency.
    pub fn booked_payment(&self, i: usize) -> Decimal {
        match &self.company_currency {
            Some(c) => c.payments[i],
            None => self.payments[i].net(),
        }
    }

    /// The totals in the company's currency.
    pub fn booked_totals(&self) -> Totals {
        self.company_currency
            .as_ref()
            .map_or(self.totals, |c| c.totals)
    }

    /// The revenue split in the company's currency.
    pub fn booked_split(&self) -> ReceiptSplit {
        self.company_currency
            .as_ref()
            .map_or(self.split, |c| c.split)
    }

    /// The cash rounding in the company's currency.
    pub fn booked_cash_rounding(&self) -> Decimal {
        self.company_currency
            .as_ref()
            .map_or(self.cash_rounding, |c| c.cash_rounding)
    }

    /// What single-purpose vouchers redeemed, per rate, in the company's currency.
    pub fn booked_voucher_redemptions(&self) -> &[(RateKey, RateFigures)] {
        self.company_currency
            .as_ref()
            .map_or(&self.voucher_redemptions, |c| &c.voucher_redemptions)
    }
}
