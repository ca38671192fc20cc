//! POS receipts (`docs/contract.md`, "Documents"; `docs/bookkeeping-rules.md` "POS days"): the
//! draft as a till sends it, and its validation into a [`ValidReceipt`] whose revenue is kept apart
//! from tips, gift cards and deposits.
//!
//! Choices where the spec is silent:
//! - Cash change is a `change` amount on the payment it was given back from (usually cash):
//!   the customer hands over `amount`, gets `change` back, so the payment counts
//!   `amount − change`. Change lies between 0 and the amount; a refund payment (negative) has
//!   no change. Then `Σ (amount − change) + cash_rounding = total` exactly.
//! - `cash_rounding` is what is added to the payments to reach the total: paying 10.05 cash
//!   for 10.03 is a cash rounding of −0.02. At most 0.02 either way, no VAT.
//! - A line's `kind`: `sale` (default) and `gift_card_single_purpose` are revenue with VAT as
//!   usual; `tip`, `gift_card_multi_purpose` and `deposit` carry no VAT (`outside_scope`)
//!   and are reported apart. That a returnable deposit (statiegeld) is outside the VAT scope
//!   is our reading; verify with an accountant.
//! - Every line, tips included, needs a product code and a category, as `docs/contract.md` says.
//! - An `intra_eu` line needs a buyer with a VAT number of another member state: a receipt
//!   of a sale to a business names its `customer`, as an order does.
//! - A second-hand shop's till sells under the margin scheme as a webshop does: a `margin`
//!   line carries its `purchase_price`, its VAT is on the margin, and the VAT return reports
//!   the margin. The day counts such a line's revenue as every other: its price less VAT.
//!
//! - A receipt in another currency than the company's (a tourist paying in pounds at a till
//!   that takes them) carries an exchange rate, as an order does; the day and the VAT return
//!   count its figures in the company's currency ([`convert`]).
//!
//! The draft and its kinds are here, the validated receipt in [`valid`], the checks in
//! [`check`], its figures in the company's currency in [`convert`].

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::document::{TotalsDraft, VatDraft};
use crate::order::CustomerDraft;

mod check;
mod convert;
mod valid;

pub use check::{parse_moment, parse_moment_at, validate_receipt};
pub use convert::{InCompanyCurrency, LineAmounts, converted_payments};
pub use valid::{ReceiptSplit, ValidReceipt, ValidReceiptLine, ValidReceiptPayment};

/// The most a cash rounding may be, either way.
pub fn max_cash_rounding() -> Decimal {
    Decimal::new(2, 2)
}

/// What a receipt line is, for keeping revenue apart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptLineKind {
    /// A sale: revenue.
    #[default]
    Sale,
    /// A tip (fooi) passed on to staff: not revenue, no VAT.
    Tip,
    /// A multi-purpose gift card sold: not revenue until redeemed, no VAT.
    GiftCardMultiPurpose,
    /// A single-purpose gift card sold: revenue when sold, with VAT.
    GiftCardSinglePurpose,
    /// A deposit on returnable packaging (statiegeld): no VAT, kept apart.
    Deposit,
}

impl ReceiptLineKind {
    /// The snake_case name used on the wire and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            ReceiptLineKind::Sale => "sale",
            ReceiptLineKind::Tip => "tip",
            ReceiptLineKind::GiftCardMultiPurpose => "gift_card_multi_purpose",
            ReceiptLineKind::GiftCardSinglePurpose => "gift_card_single_purpose",
            ReceiptLineKind::Deposit => "deposit",
        }
    }

    /// Whether this kind is revenue (and so carries VAT as a sale does).
    pub fn is_revenue(self) -> bool {
        matches!(
            self,
            ReceiptLineKind::Sale | ReceiptLineKind::GiftCardSinglePurpose
        )
    }
}

/// One receipt line as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptLineDraft {
    /// What the line is; `sale` when left out.
    #[serde(default)]
    pub kind: Option<ReceiptLineKind>,
    /// The till's product code.
    #[serde(default)]
    pub product_code: Option<String>,
    /// What was sold.
    #[serde(default)]
    pub description: Option<String>,
    /// The revenue category in Koppel.
    #[serde(default)]
    pub category_id: Option<String>,
    /// The same category by the vendor's own id, instead of (or agreeing with) `category_id`.
    #[serde(default)]
    pub category_external_id: Option<String>,
    /// How many; negative on a refund. Up to 6 decimals.
    #[serde(default, with = "crate::money::exact::option")]
    pub quantity: Option<Decimal>,
    /// Price per unit in the receipt's basis. Up to 6 decimals.
    #[serde(default, with = "crate::money::exact::option")]
    pub unit_price: Option<Decimal>,
    /// Discount on the whole line in the same basis; 0 when left out.
    #[serde(default, with = "crate::money::exact::option")]
    pub discount: Option<Decimal>,
    /// VAT information.
    #[serde(default)]
    pub vat: Option<VatDraft>,
    /// Line total excluding VAT, 2 decimals.
    #[serde(default, with = "crate::money::exact::option")]
    pub total_excl_vat: Option<Decimal>,
    /// Line total including VAT, 2 decimals.
    #[serde(default, with = "crate::money::exact::option")]
    pub total_incl_vat: Option<Decimal>,
    /// Under the margin scheme (VAT category `margin`): what one unit was bought for,
    /// including any VAT paid on it, in the receipt's currency. Up to 6 decimals.
    #[serde(default, with = "crate::money::exact::option")]
    pub purchase_price: Option<Decimal>,
}

/// A payment on a receipt as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptPaymentDraft {
    /// The payment method in Koppel.
    #[serde(default)]
    pub method_id: Option<String>,
    /// The same method by the vendor's own id, instead of (or agreeing with) `method_id`.
    #[serde(default)]
    pub method_external_id: Option<String>,
    /// The amount handed over (cash) or charged; negative for money paid back.
    #[serde(default, with = "crate::money::exact::option")]
    pub amount: Option<Decimal>,
    /// The terminal's or provider's reference.
    #[serde(default)]
    pub reference: Option<String>,
    /// Cash given back from this payment; 0 when left out.
    #[serde(default, with = "crate::money::exact::option")]
    pub change: Option<Decimal>,
}

/// A receipt as a till sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptDraft {
    /// The vendor's own id.
    #[serde(default)]
    pub external_id: Option<String>,
    /// The receipt number.
    #[serde(default)]
    pub number: Option<String>,
    /// The shop or location.
    #[serde(default)]
    pub location_id: Option<String>,
    /// The till.
    #[serde(default)]
    pub register_id: Option<String>,
    /// The moment of sale as sent: RFC 3339 with an offset, kept as text so a missing offset
    /// can be named instead of failing the whole body.
    #[serde(default)]
    pub created_at: Option<String>,
    /// ISO 4217 currency code.
    #[serde(default)]
    pub currency: Option<String>,
    /// Company currency per unit of the receipt's currency (`1.1702` EUR per GBP), up to 6
    /// decimals; required when the receipt is not in the company's currency.
    #[serde(default, with = "crate::money::exact::option")]
    pub exchange_rate: Option<Decimal>,
    /// The date the exchange rate is of.
    #[serde(default)]
    pub exchange_rate_date: Option<NaiveDate>,
    /// Whether unit prices include VAT (usual for a till).
    #[serde(default)]
    pub prices_include_vat: Option<bool>,
    /// The lines; at least one.
    #[serde(default)]
    pub lines: Vec<ReceiptLineDraft>,
    /// The payments.
    #[serde(default)]
    pub payments: Vec<ReceiptPaymentDraft>,
    /// Cash rounding added to the payments to reach the total; at most 0.02 either way.
    #[serde(default, with = "crate::money::exact::option")]
    pub cash_rounding: Option<Decimal>,
    /// Totals, when the till sends them; they must match exactly.
    #[serde(default)]
    pub totals: Option<TotalsDraft>,
    /// For a refund: the receipt it refunds, by our id.
    #[serde(default)]
    pub refund_of: Option<String>,
    /// The same receipt by the vendor's own id, instead of `refund_of`.
    #[serde(default)]
    pub refund_of_external_id: Option<String>,
    /// Why it was refunded, as the till recorded it.
    #[serde(default)]
    pub refund_reason: Option<String>,
    /// The buyer, for a sale on account or to a business; an `intra_eu` line needs its VAT
    /// number.
    #[serde(default)]
    pub customer: Option<CustomerDraft>,
}
