//! What an order is made of as a vendor sends it: the drafts serde reads (unknown fields
//! refused, amounts read exactly) and the closed sets they name.

use chrono::{DateTime, FixedOffset, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::document::{TotalsDraft, VatDraft};

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Placed, not (fully) paid.
    Open,
    /// Paid.
    Paid,
    /// Shipped.
    Shipped,
    /// Done.
    Completed,
    /// Cancelled; the document stays, marked so.
    Cancelled,
    /// Refunded (the refund itself is a credit order).
    Refunded,
}

impl OrderStatus {
    /// The snake_case name used on the wire and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Open => "open",
            OrderStatus::Paid => "paid",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Completed => "completed",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Refunded => "refunded",
        }
    }
}

/// An address as it was on the order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AddressDraft {
    /// Street name.
    #[serde(default)]
    pub street: Option<String>,
    /// House number.
    #[serde(default)]
    pub house_number: Option<String>,
    /// Addition to the house number (`A`, `bis`).
    #[serde(default)]
    pub house_number_addition: Option<String>,
    /// Postal code.
    #[serde(default)]
    pub postal_code: Option<String>,
    /// City.
    #[serde(default)]
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    #[serde(default)]
    pub country: Option<String>,
}

/// The customer on an order: a reference plus the details as they were on the order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerDraft {
    /// The customer in Koppel, when the vendor pushed it.
    #[serde(default)]
    pub id: Option<String>,
    /// The same customer by the vendor's own id (its `external_id`), instead of `id`.
    #[serde(default)]
    pub external_id: Option<String>,
    /// The person's name.
    #[serde(default)]
    pub name: Option<String>,
    /// The business's name.
    #[serde(default)]
    pub company_name: Option<String>,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone number, as typed.
    #[serde(default)]
    pub phone: Option<String>,
    /// The buyer's VAT number; required for an intra-EU supply.
    #[serde(default)]
    pub vat_number: Option<String>,
    /// The buyer's KvK number.
    #[serde(default)]
    pub coc_number: Option<String>,
    /// Billing address.
    #[serde(default)]
    pub billing_address: Option<AddressDraft>,
    /// Shipping address.
    #[serde(default)]
    pub shipping_address: Option<AddressDraft>,
}

/// One order line as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LineDraft {
    /// The product in Koppel.
    #[serde(default)]
    pub product_id: Option<String>,
    /// The product by the vendor's own id, instead of `product_id`.
    #[serde(default)]
    pub product_external_id: Option<String>,
    /// The product's SKU.
    #[serde(default)]
    pub sku: Option<String>,
    /// What was sold.
    #[serde(default)]
    pub description: Option<String>,
    /// How many; negative on a refund line. Up to 6 decimals.
    #[serde(default, with = "crate::money::exact::option")]
    pub quantity: Option<Decimal>,
    /// Price per unit in the order's basis (incl. or excl. VAT). Up to 6 decimals.
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
    /// The revenue category in Koppel.
    #[serde(default)]
    pub category_id: Option<String>,
    /// The revenue category by the vendor's own id, instead of `category_id`.
    #[serde(default)]
    pub category_external_id: Option<String>,
    /// Under the margin scheme (VAT category `margin`): what one unit was bought for,
    /// including any VAT paid on it, in the order's currency. Up to 6 decimals.
    #[serde(default, with = "crate::money::exact::option")]
    pub purchase_price: Option<Decimal>,
    /// What the line is; `sale` when left out.
    #[serde(default)]
    pub kind: Option<LineKind>,
    /// The unit the quantity counts, e.g. `piece`, `kg`, `hour`.
    #[serde(default)]
    pub unit: Option<String>,
    /// The index (from 0) of the line this one belongs to: a part of a bundle, or a modifier.
    #[serde(default)]
    pub parent_line: Option<usize>,
    /// The discount code the buyer used on this line.
    #[serde(default)]
    pub discount_code: Option<String>,
    /// The discount's name as the shop shows it.
    #[serde(default)]
    pub discount_name: Option<String>,
}

/// What an order line is, for keeping revenue apart (`docs/bookkeeping-rules.md`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// Goods or a service sold: revenue.
    #[default]
    Sale,
    /// A multi-purpose gift card sold: not revenue until redeemed, no VAT.
    GiftCardMultiPurpose,
    /// A single-purpose gift card sold: revenue when sold, with the VAT of what it buys.
    GiftCardSinglePurpose,
    /// A deposit on returnable packaging (statiegeld): no VAT, kept apart.
    Deposit,
    /// A service charge: revenue, with VAT.
    ServiceCharge,
}

impl LineKind {
    /// Whether this kind is revenue (and so carries VAT as a sale does).
    pub fn is_revenue(self) -> bool {
        !matches!(self, LineKind::GiftCardMultiPurpose | LineKind::Deposit)
    }

    /// Whether this is the default kind, left out of the canonical form.
    pub fn is_sale(&self) -> bool {
        *self == LineKind::Sale
    }

    /// The snake_case name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::Sale => "sale",
            LineKind::GiftCardMultiPurpose => "gift_card_multi_purpose",
            LineKind::GiftCardSinglePurpose => "gift_card_single_purpose",
            LineKind::Deposit => "deposit",
            LineKind::ServiceCharge => "service_charge",
        }
    }

    /// The kind with this wire name.
    pub fn parse(value: &str) -> Option<LineKind> {
        [
            LineKind::Sale,
            LineKind::GiftCardMultiPurpose,
            LineKind::GiftCardSinglePurpose,
            LineKind::Deposit,
            LineKind::ServiceCharge,
        ]
        .into_iter()
        .find(|k| k.as_str() == value)
    }
}

/// What a cost is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CostKind {
    /// Shipping.
    Shipping,
    /// A payment fee.
    Payment,
    /// An order-level discount: negative.
    Discount,
    /// A surcharge.
    Surcharge,
    /// Anything else.
    Other,
    /// The difference of a platform that rounds lines and totals independently: no VAT.
    Rounding,
}

impl CostKind {
    /// The snake_case name used on the wire and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            CostKind::Shipping => "shipping",
            CostKind::Payment => "payment",
            CostKind::Discount => "discount",
            CostKind::Surcharge => "surcharge",
            CostKind::Other => "other",
            CostKind::Rounding => "rounding",
        }
    }
}

/// A cost on an order as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CostDraft {
    /// What the cost is for.
    #[serde(default)]
    pub kind: Option<CostKind>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Amount excluding VAT, 2 decimals.
    #[serde(default, with = "crate::money::exact::option")]
    pub amount_excl_vat: Option<Decimal>,
    /// VAT information.
    #[serde(default)]
    pub vat: Option<VatDraft>,
    /// Amount including VAT, 2 decimals.
    #[serde(default, with = "crate::money::exact::option")]
    pub amount_incl_vat: Option<Decimal>,
}

/// What a payment provider charged for a payment, as sent: a purchase by the merchant, so
/// checked as a cost is but never part of the order's sales figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FeeDraft {
    /// Amount excluding VAT, 2 decimals.
    #[serde(default, with = "crate::money::exact::option")]
    pub amount_excl_vat: Option<Decimal>,
    /// VAT information: the provider's VAT, or `reverse_charge` for a provider elsewhere in
    /// the EU.
    #[serde(default)]
    pub vat: Option<VatDraft>,
    /// Amount including VAT, 2 decimals.
    #[serde(default, with = "crate::money::exact::option")]
    pub amount_incl_vat: Option<Decimal>,
}

/// A payment on an order as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentDraft {
    /// The payment method in Koppel.
    #[serde(default)]
    pub method_id: Option<String>,
    /// The payment method by the vendor's own id, instead of `method_id`.
    #[serde(default)]
    pub method_external_id: Option<String>,
    /// Amount, 2 decimals; negative for money paid back.
    #[serde(default, with = "crate::money::exact::option")]
    pub amount: Option<Decimal>,
    /// The payment provider's reference, e.g. a transaction id.
    #[serde(default)]
    pub reference: Option<String>,
    /// When it was paid.
    #[serde(default)]
    pub paid_at: Option<DateTime<FixedOffset>>,
    /// Where the payment stands; `paid` when absent.
    #[serde(default)]
    pub status: Option<PaymentStatus>,
    /// The payment provider, e.g. `mollie`.
    #[serde(default)]
    pub provider: Option<String>,
    /// The provider's own id of the transaction.
    #[serde(default)]
    pub provider_reference: Option<String>,
    /// The provider's payout (settlement) that paid this out.
    #[serde(default)]
    pub payout_reference: Option<String>,
    /// What the provider charged for this payment.
    #[serde(default)]
    pub fee: Option<FeeDraft>,
}

/// Where a payment stands, as payment providers report it. Only [`PaymentStatus::Paid`]
/// counts as money received.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Started, not completed (an iDEAL payment the buyer has not confirmed yet).
    Pending,
    /// Reserved on the buyer's card, not yet captured.
    Authorized,
    /// Received.
    #[default]
    Paid,
    /// Failed.
    Failed,
    /// Cancelled before it was paid.
    Cancelled,
    /// Paid, then paid back in full.
    Refunded,
    /// Paid, then taken back by the buyer's bank.
    ChargedBack,
}

impl PaymentStatus {
    /// Every status, in the order of the contract.
    pub const ALL: [PaymentStatus; 7] = [
        PaymentStatus::Pending,
        PaymentStatus::Authorized,
        PaymentStatus::Paid,
        PaymentStatus::Failed,
        PaymentStatus::Cancelled,
        PaymentStatus::Refunded,
        PaymentStatus::ChargedBack,
    ];

    /// The status as stored and answered.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Authorized => "authorized",
            PaymentStatus::Paid => "paid",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Cancelled => "cancelled",
            PaymentStatus::Refunded => "refunded",
            PaymentStatus::ChargedBack => "charged_back",
        }
    }

    /// The status stored as `text`.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether the payment was received; `paid` is left out of the canonical form.
    pub(crate) fn is_paid(&self) -> bool {
        *self == PaymentStatus::Paid
    }
}

/// What an order's payments brought in: the sum of the `paid` ones (SPEC "Real vendor data":
/// only `paid` counts as received). `balance_due` is the total minus this.
pub fn amount_paid(payments: impl IntoIterator<Item = (PaymentStatus, Decimal)>) -> Decimal {
    payments
        .into_iter()
        .filter(|(status, _)| status.is_paid())
        .map(|(_, amount)| amount)
        .sum()
}

/// A sales order as a webshop sends it: every field as sent, missing ones `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OrderDraft {
    /// The vendor's own id; writes are upserts by it.
    #[serde(default)]
    pub external_id: Option<String>,
    /// The order number the customer sees.
    #[serde(default)]
    pub number: Option<String>,
    /// Where the order is in its life.
    #[serde(default)]
    pub status: Option<OrderStatus>,
    /// When the order was placed, with its offset.
    #[serde(default)]
    pub order_date: Option<DateTime<FixedOffset>>,
    /// ISO 4217 currency code.
    #[serde(default)]
    pub currency: Option<String>,
    /// Whether unit prices include VAT; decides which totals are the basis.
    #[serde(default)]
    pub prices_include_vat: Option<bool>,
    /// The buyer.
    #[serde(default)]
    pub customer: Option<CustomerDraft>,
    /// The lines; at least one.
    #[serde(default)]
    pub lines: Vec<LineDraft>,
    /// Shipping, fees, order discounts, rounding.
    #[serde(default)]
    pub costs: Vec<CostDraft>,
    /// Payments received (or paid back).
    #[serde(default)]
    pub payments: Vec<PaymentDraft>,
    /// Totals, when the vendor sends them; they must match Koppel's exactly.
    #[serde(default)]
    pub totals: Option<TotalsDraft>,
    /// For a credit order or refund: the order it corrects.
    #[serde(default)]
    pub credit_of: Option<String>,
    /// The same order by the vendor's own id, instead of `credit_of`.
    #[serde(default)]
    pub credit_of_external_id: Option<String>,
    /// The invoice number the customer got.
    #[serde(default)]
    pub invoice_number: Option<String>,
    /// The invoice date: the tax point, which places the order in a VAT period.
    #[serde(default)]
    pub invoice_date: Option<NaiveDate>,
    /// When the invoice is due.
    #[serde(default)]
    pub due_date: Option<NaiveDate>,
    /// When the goods were delivered.
    #[serde(default)]
    pub delivery_date: Option<NaiveDate>,
    /// The sales channel.
    #[serde(default)]
    pub channel: Option<Channel>,
    /// The marketplace it was sold on, e.g. `bol` or `amazon`.
    #[serde(default)]
    pub marketplace: Option<String>,
    /// The marketplace's own order id.
    #[serde(default)]
    pub marketplace_order_id: Option<String>,
    /// Company currency per unit of the order's currency (`1.1702` EUR per GBP), up to 6
    /// decimals; required when the order is not in the company's currency.
    #[serde(default, with = "crate::money::exact::option")]
    pub exchange_rate: Option<Decimal>,
    /// The date the exchange rate is of.
    #[serde(default)]
    pub exchange_rate_date: Option<NaiveDate>,
}

/// Where an order was sold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The merchant's own webshop.
    Webshop,
    /// A marketplace such as bol or Amazon.
    Marketplace,
    /// A till.
    Pos,
    /// By phone.
    Phone,
    /// Anything else.
    Other,
}

/// An order's invoice and channel details, as sent (checked for order of dates). Left out
/// of the canonical form when empty, so that an order sent before these fields existed
/// hashes as it did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDetails {
    /// The invoice number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_number: Option<String>,
    /// The invoice date, the tax point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_date: Option<NaiveDate>,
    /// When the invoice is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<NaiveDate>,
    /// When the goods were delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_date: Option<NaiveDate>,
    /// The sales channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// The marketplace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketplace: Option<String>,
    /// The marketplace's own order id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketplace_order_id: Option<String>,
    /// Company currency per unit of the order's currency, for an order in another currency.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::money::exact::option"
    )]
    pub exchange_rate: Option<Decimal>,
    /// The date the exchange rate is of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange_rate_date: Option<NaiveDate>,
}

impl OrderDetails {
    /// Whether nothing was sent.
    pub fn is_empty(&self) -> bool {
        *self == OrderDetails::default()
    }
}
