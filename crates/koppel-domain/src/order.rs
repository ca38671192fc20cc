//! Sales orders (`docs/contract.md`, "Documents"): the draft as a webshop sends it, and its
//! validation into a [`ValidOrder`] with Koppel's own totals and VAT breakdown.
//!
//! Choices where the spec is silent, kept here so they can change in one place:
//! - `discount` on a line is an amount for the whole line, in the same basis (incl. or excl.
//!   VAT) as `unit_price`, with the sign of the line: the line total is
//!   `quantity × unit_price − discount`, within the line tolerance, so a vendor that rounds
//!   per unit or converts between bases per unit is accepted.
//! - Of `total_excl_vat` and `total_incl_vat` only the one in the order's price basis is
//!   required; the other is derived (`incl = excl + VAT`) and, when sent, must match exactly.
//! - A line needs a `product_id` or a `sku`; a `product_id` must exist, and a `sku` sent
//!   without a `product_id` must be a known product's SKU (that is how the line references
//!   its product).
//! - An order without `credit_of` has a total of zero or more; a credit order (refund) has
//!   a total of zero or less and may use a rate that was valid at an earlier date, because it
//!   corrects a sale made at that rate (box 1c).
//! - Payments: their sum may be less than the total (an open order may be unpaid) but lies
//!   between zero and the total, on the total's side of zero. A refund paid back on the order
//!   itself is a negative payment and lowers the sum; a credit order's payments are negative.
//! - A `rounding` cost is `outside_scope` without VAT and at most 0.99 either way (the group
//!   bound of EN 16931), so it can absorb rounding but never hide a real difference.

use chrono::{DateTime, FixedOffset, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::customer::{ContactIds, check_contact};
use crate::document::{
    Checker, Converted, ExternalKind, Groups, LineInput, MAX_COSTS_OR_PAYMENTS, MAX_LINES, Priced,
    Purchase, References, Resolved, SentPrices, Totals, TotalsDraft, ValidVat, VatDraft, VatGroup,
    is_leap_second, leap_second_refused, within_bounds,
};
use crate::identifiers::{CountryCode, KvkNumber, VatNumber};
use crate::money::{MAX_INPUT_SCALE, max_group_tolerance};
use crate::problem::{Violation, codes};
use crate::vat::VatCategory;

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

    fn is_paid(&self) -> bool {
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

fn details(c: &mut Checker<'_>, draft: &OrderDraft) -> OrderDetails {
    if let (Some(invoice), Some(due)) = (draft.invoice_date, draft.due_date)
        && due < invoice
    {
        c.push(
            "/due_date",
            codes::DUE_BEFORE_INVOICE,
            format!("the due date {due} is before the invoice date {invoice}"),
            format!("de vervaldatum {due} ligt voor de factuurdatum {invoice}"),
        );
    }
    let (exchange_rate, exchange_rate_date) = exchange_rate(c, draft);
    OrderDetails {
        exchange_rate,
        exchange_rate_date,
        invoice_number: draft.invoice_number.clone(),
        invoice_date: draft.invoice_date,
        due_date: draft.due_date,
        delivery_date: draft.delivery_date,
        channel: draft.channel,
        marketplace: draft.marketplace.clone(),
        marketplace_order_id: draft.marketplace_order_id.clone(),
    }
}

/// The exchange rate of an order in another currency than the company's books
/// (`docs/bookkeeping-rules.md`, "Foreign currency"): required then, with its date; a rate
/// sent for an order in the company's own currency must be 1.
fn exchange_rate(c: &mut Checker<'_>, draft: &OrderDraft) -> (Option<Decimal>, Option<NaiveDate>) {
    let rate = draft
        .exchange_rate
        .and_then(|r| c.bounded("/exchange_rate".to_owned(), r, MAX_INPUT_SCALE));
    if let Some(r) = rate
        && r <= Decimal::ZERO
    {
        c.push(
            "/exchange_rate",
            codes::AMOUNT_OUT_OF_RANGE,
            format!("an exchange rate is more than 0, got {r}"),
            format!("een wisselkoers is meer dan 0, ontvangen: {r}"),
        );
    }
    let (Some(company), Some(currency)) = (c.refs.company_currency(), draft.currency.as_deref())
    else {
        return (rate, draft.exchange_rate_date);
    };
    let currency = currency.trim();
    if currency.eq_ignore_ascii_case(company) {
        if let Some(r) = rate.filter(|r| *r != Decimal::ONE) {
            c.push(
                "/exchange_rate",
                codes::EXCHANGE_RATE_NOT_ONE,
                format!("the order is in the company's own currency {company}, so its exchange rate is 1, got {r}"),
                format!("de order is in de eigen valuta {company} van de administratie, dus de wisselkoers is 1, ontvangen: {r}"),
            );
        }
        return (None, None);
    }
    if draft.exchange_rate.is_none() {
        c.push(
            "/exchange_rate",
            codes::EXCHANGE_RATE_REQUIRED,
            format!("the order is in {currency} and the company's books in {company}: send exchange_rate ({company} per 1 {currency}) and exchange_rate_date"),
            format!("de order is in {currency} en de administratie in {company}: stuur exchange_rate ({company} per 1 {currency}) en exchange_rate_date"),
        );
    }
    if draft.exchange_rate_date.is_none() {
        c.missing("/exchange_rate_date".to_owned());
    }
    (rate, draft.exchange_rate_date)
}

/// The order a credit order corrects: `credit_of` (our id or, as before, the vendor's), or
/// `credit_of_external_id`, which must exist and, when both are sent, name the same order.
fn credited(c: &mut Checker<'_>, draft: &OrderDraft) -> Option<String> {
    let Some(external_id) = draft.credit_of_external_id.as_deref() else {
        return draft.credit_of.clone();
    };
    let pointer = "/credit_of_external_id";
    let Some(ours) = c.refs.by_external_id(ExternalKind::Order, external_id) else {
        c.push(
            pointer,
            codes::UNKNOWN_ORDER,
            format!("no order has the external_id {external_id:?}"),
            format!("geen order heeft de external_id {external_id:?}"),
        );
        return draft.credit_of.clone();
    };
    if let Some(sent) = draft.credit_of.as_deref() {
        let sent_ours = c
            .refs
            .by_external_id(ExternalKind::Order, sent)
            .unwrap_or_else(|| sent.to_owned());
        if !sent_ours.eq_ignore_ascii_case(&ours) {
            c.push(
                pointer,
                codes::REFERENCE_MISMATCH,
                format!("the order with external_id {external_id:?} is not {sent}"),
                format!("de order met external_id {external_id:?} is niet {sent}"),
            );
        }
    }
    Some(ours)
}

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

fn address(c: &mut Checker<'_>, pointer: &str, a: &AddressDraft) -> ValidAddress {
    ValidAddress {
        street: a.street.clone(),
        house_number: a.house_number.clone(),
        house_number_addition: a.house_number_addition.clone(),
        postal_code: a.postal_code.clone(),
        city: a.city.clone(),
        country: c.country(format!("{pointer}/country"), a.country.as_deref()),
    }
}

/// Checks a document's buyer: its reference, identifiers and addresses; a VAT number it
/// carries is the buyer's for the intra-EU rule. Orders and receipts share it.
pub(crate) fn customer(c: &mut Checker<'_>, draft: &CustomerDraft) -> ValidCustomer {
    c.reference(
        "/customer/id".to_owned(),
        draft.id.as_deref(),
        |r, id| r.customer_exists(id),
        codes::UNKNOWN_CUSTOMER,
        "customer",
        "klant",
    );
    let Resolved { id, external_id } = c.resolve(
        "/customer/external_id",
        draft.id.as_deref(),
        draft.external_id.as_deref(),
        ExternalKind::Customer,
    );
    let ContactIds {
        email,
        vat_number,
        coc_number,
    } = check_contact(
        "/customer",
        draft.email.as_deref(),
        draft.vat_number.as_deref(),
        draft.coc_number.as_deref(),
        &mut c.out,
    );
    c.buyer_vat = vat_number.clone();
    ValidCustomer {
        id,
        external_id,
        name: draft.name.clone(),
        company_name: draft.company_name.clone(),
        email,
        phone: draft.phone.clone(),
        vat_number,
        coc_number,
        billing_address: draft
            .billing_address
            .as_ref()
            .map(|a| address(c, "/customer/billing_address", a)),
        shipping_address: draft
            .shipping_address
            .as_ref()
            .map(|a| address(c, "/customer/shipping_address", a)),
    }
}

fn line(
    c: &mut Checker<'_>,
    groups: &mut Groups,
    (i, count): (usize, usize),
    l: &LineDraft,
) -> Option<ValidLine> {
    let p = format!("/lines/{i}");
    if let Some(parent) = l.parent_line
        && (parent >= count || parent == i)
    {
        c.push(
            format!("{p}/parent_line"),
            codes::PARENT_LINE_INVALID,
            format!("parent_line {parent} is not another line of this order (it has {count})"),
            format!(
                "parent_line {parent} is geen andere regel van deze order (die heeft er {count})"
            ),
        );
    }
    if l.product_id.is_none() && l.product_external_id.is_none() && l.sku.is_none() {
        c.push(
            p.clone(),
            codes::LINE_PRODUCT_MISSING,
            "a line needs a product_id, a product_external_id or a sku".to_owned(),
            "een regel heeft een product_id, een product_external_id of een sku nodig".to_owned(),
        );
    }
    let Resolved {
        id: product_id,
        external_id: product_external_id,
    } = c.resolve(
        &format!("{p}/product_external_id"),
        l.product_id.as_deref(),
        l.product_external_id.as_deref(),
        ExternalKind::Product,
    );
    c.reference(
        format!("{p}/product_id"),
        l.product_id.as_deref(),
        |r, id| r.product_exists(id),
        codes::UNKNOWN_PRODUCT,
        "product",
        "product",
    );
    // A SKU is the vendor's article code, not a reference: stored as sent, and
    // linked to a product of the company that has it when read (SPEC "Real
    // vendor data"). Products get deleted and marketplaces sell articles the
    // shop never listed; a bookkeeper books such a line all the same.
    c.reference(
        format!("{p}/category_id"),
        l.category_id.as_deref(),
        |r, id| r.category_exists(id),
        codes::UNKNOWN_CATEGORY,
        "category",
        "categorie",
    );
    let Resolved {
        id: category_id,
        external_id: category_external_id,
    } = c.resolve(
        &format!("{p}/category_external_id"),
        l.category_id.as_deref(),
        l.category_external_id.as_deref(),
        ExternalKind::Category,
    );
    let (figures, priced) = c.priced_line(
        &p,
        SentPrices {
            quantity: l.quantity,
            unit_price: l.unit_price,
            discount: l.discount,
        },
        (l.total_excl_vat, l.total_incl_vat),
        l.vat.as_ref(),
        Purchase::Price(l.purchase_price),
    );
    let figures = figures?;
    let kind = l.kind.unwrap_or_default();
    if !kind.is_revenue() && figures.vat.category != VatCategory::OutsideScope {
        c.push(
            format!("{p}/vat/category"),
            codes::LINE_KIND_NOT_OUTSIDE_SCOPE,
            format!(
                "a {} line carries no vat and must be outside_scope, got {}",
                kind.as_str(),
                figures.vat.category
            ),
            format!(
                "een regel van soort {} heeft geen btw en hoort in outside_scope, ontvangen: {}",
                kind.as_str(),
                figures.vat.category
            ),
        );
        return None;
    }
    let Priced {
        quantity,
        unit_price,
        discount,
    } = priced?;
    groups.add(&figures, quantity, &p);
    Some(ValidLine {
        product_id,
        product_external_id,
        sku: l.sku.clone(),
        description: l.description.clone(),
        quantity,
        unit_price,
        discount,
        vat: figures.vat,
        total_excl_vat: figures.excl,
        total_incl_vat: figures.incl,
        category_id,
        category_external_id,
        purchase_price: figures.margin.map(|m| m.purchase_price),
        margin_base: figures.margin.map(|m| m.base),
        kind,
        unit: l.unit.clone(),
        parent_line: l.parent_line,
        discount_code: l.discount_code.clone(),
        discount_name: l.discount_name.clone(),
    })
}

fn cost(c: &mut Checker<'_>, groups: &mut Groups, i: usize, k: &CostDraft) -> Option<ValidCost> {
    let p = format!("/costs/{i}");
    if k.kind.is_none() {
        c.missing(format!("{p}/kind"));
    }
    let figures = c.line(LineInput {
        pointer: p.clone(),
        excl_field: "amount_excl_vat",
        incl_field: "amount_incl_vat",
        quantity: Decimal::ONE,
        priced: None,
        excl: k.amount_excl_vat,
        incl: k.amount_incl_vat,
        vat: k.vat.as_ref(),
        purchase: Purchase::NotTaken,
    })?;
    let kind = k.kind?;
    let basis_field = if c.prices_include_vat {
        "amount_incl_vat"
    } else {
        "amount_excl_vat"
    };
    let mut ok = true;
    match kind {
        CostKind::Discount
            if (c.credit && figures.incl < Decimal::ZERO)
                || (!c.credit && figures.incl > Decimal::ZERO) =>
        {
            ok = false;
            let (en, nl) = if c.credit {
                (
                    "zero or more on a credit order",
                    "nul of meer op een creditorder",
                )
            } else {
                ("zero or less", "nul of minder")
            };
            c.push(
                format!("{p}/{basis_field}"),
                codes::DISCOUNT_COST_WRONG_SIGN,
                format!(
                    "a discount must lower the total, so it is {en}, got {}",
                    figures.incl
                ),
                format!(
                    "een korting moet het totaal verlagen en is dus {nl}, ontvangen: {}",
                    figures.incl
                ),
            );
        }
        CostKind::Rounding => {
            if figures.vat.category != VatCategory::OutsideScope {
                ok = false;
                c.push(
                    format!("{p}/vat/category"),
                    codes::ROUNDING_NOT_OUTSIDE_SCOPE,
                    format!("a rounding cost carries no vat and must be outside_scope, got {}", figures.vat.category),
                    format!("een afrondingspost heeft geen btw en hoort in outside_scope, ontvangen: {}", figures.vat.category),
                );
            }
            if figures.incl.abs() > max_group_tolerance() {
                ok = false;
                c.push(
                    format!("{p}/{basis_field}"),
                    codes::ROUNDING_TOO_LARGE,
                    format!(
                        "a rounding cost is at most 0.99 either way, got {}",
                        figures.incl
                    ),
                    format!(
                        "een afrondingspost is hoogstens 0.99 in beide richtingen, ontvangen: {}",
                        figures.incl
                    ),
                );
            }
        }
        _ => {}
    }
    groups.add(&figures, Decimal::ONE, &p);
    ok.then(|| ValidCost {
        kind,
        description: k.description.clone(),
        amount_excl_vat: figures.excl,
        vat: figures.vat,
        amount_incl_vat: figures.incl,
    })
}

fn payment(c: &mut Checker<'_>, i: usize, pay: &PaymentDraft) -> Option<ValidPayment> {
    let p = format!("/payments/{i}");
    let method_id = if pay.method_external_id.is_some() {
        pay.method_id.as_deref()
    } else {
        c.text(format!("{p}/method_id"), pay.method_id.as_deref())
    };
    if let Some(id) = method_id {
        c.reference(
            format!("{p}/method_id"),
            Some(id),
            |r, id| r.payment_method_exists(id),
            codes::UNKNOWN_PAYMENT_METHOD,
            "payment method",
            "betaalmethode",
        );
    }
    let Resolved {
        id: method_id,
        external_id: method_external_id,
    } = c.resolve(
        &format!("{p}/method_external_id"),
        method_id,
        pay.method_external_id.as_deref(),
        ExternalKind::PaymentMethod,
    );
    if let Some(at) = pay.paid_at.filter(is_leap_second) {
        c.out.push(leap_second_refused(&format!("{p}/paid_at"), at));
    }
    let fee = match &pay.fee {
        Some(fee) => Some(payment_fee(c, &p, fee)?),
        None => None,
    };
    let amount = c.amount(format!("{p}/amount"), pay.amount, 2)?;
    Some(ValidPayment {
        method_id: method_id?,
        method_external_id,
        amount,
        reference: pay.reference.clone(),
        paid_at: pay.paid_at,
        status: pay.status.unwrap_or_default(),
        provider: pay.provider.clone(),
        provider_reference: pay.provider_reference.clone(),
        payout_reference: pay.payout_reference.clone(),
        fee,
    })
}

/// A payment's fee (`docs/bookkeeping-rules.md`, "Orders"): its figures and VAT
/// are checked as a cost's, with the amount it was sent in as its basis, but it is a
/// purchase, so it joins neither the totals nor the VAT breakdown nor the VAT return.
fn payment_fee(c: &mut Checker<'_>, p: &str, fee: &FeeDraft) -> Option<ValidFee> {
    let order_basis = c.prices_include_vat;
    c.prices_include_vat = match (fee.amount_excl_vat, fee.amount_incl_vat) {
        (None, Some(_)) => true,
        (Some(_), None) => false,
        _ => order_basis,
    };
    let figures = c.line(LineInput {
        pointer: format!("{p}/fee"),
        excl_field: "amount_excl_vat",
        incl_field: "amount_incl_vat",
        quantity: Decimal::ONE,
        priced: None,
        excl: fee.amount_excl_vat,
        incl: fee.amount_incl_vat,
        vat: fee.vat.as_ref(),
        purchase: Purchase::NotTaken,
    });
    c.prices_include_vat = order_basis;
    let figures = figures?;
    Some(ValidFee {
        amount_excl_vat: figures.excl,
        vat: figures.vat,
        amount_incl_vat: figures.incl,
    })
}

/// Checks every rule of `docs/bookkeeping-rules.md` and `docs/contract.md` for an order and returns
/// the normalised order with its computed totals and VAT breakdown, or every violation found, each
/// with a pointer.
pub fn validate_order(
    draft: &OrderDraft,
    refs: &dyn References,
) -> Result<ValidOrder, Vec<Violation>> {
    within_bounds(&[
        ("/lines", draft.lines.len(), MAX_LINES),
        ("/costs", draft.costs.len(), MAX_COSTS_OR_PAYMENTS),
        ("/payments", draft.payments.len(), MAX_COSTS_OR_PAYMENTS),
    ])?;
    let mut c = Checker::new(refs);
    if draft.prices_include_vat.is_none() {
        c.missing("/prices_include_vat".to_owned());
    }
    c.prices_include_vat = draft.prices_include_vat.unwrap_or(false);
    c.date = draft.order_date.map(|d| d.date_naive());
    c.credit = draft.credit_of.is_some() || draft.credit_of_external_id.is_some();
    c.buyer_vat_pointer = Some("/customer/vat_number");

    let external_id = c
        .text("/external_id".to_owned(), draft.external_id.as_deref())
        .map(str::to_owned);
    if draft.status.is_none() {
        c.missing("/status".to_owned());
    }
    match draft.order_date {
        None => c.missing("/order_date".to_owned()),
        Some(at) if is_leap_second(&at) => c.out.push(leap_second_refused("/order_date", at)),
        Some(_) => {}
    }
    let currency = c.currency(draft.currency.as_deref());
    let customer = draft.customer.as_ref().map(|d| customer(&mut c, d));
    c.reference(
        "/credit_of".to_owned(),
        draft.credit_of.as_deref(),
        |r, id| r.order_exists(id),
        codes::UNKNOWN_ORDER,
        "order",
        "order",
    );
    let credit_of = credited(&mut c, draft);

    if draft.lines.is_empty() {
        c.push(
            "/lines",
            codes::NO_LINES,
            "an order needs at least one line".to_owned(),
            "een order heeft minstens een regel nodig".to_owned(),
        );
    }
    let mut groups = Groups::default();
    let lines: Vec<Option<ValidLine>> = draft
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| line(&mut c, &mut groups, (i, draft.lines.len()), l))
        .collect();
    let costs: Vec<Option<ValidCost>> = draft
        .costs
        .iter()
        .enumerate()
        .map(|(i, k)| cost(&mut c, &mut groups, i, k))
        .collect();
    let payments: Vec<Option<ValidPayment>> = draft
        .payments
        .iter()
        .enumerate()
        .map(|(i, pay)| payment(&mut c, i, pay))
        .collect();

    // Document-level sums only mean something when every line and cost is known; otherwise
    // they would repeat a line's problem as a confusing total problem.
    let all_lines: Option<Vec<ValidLine>> = lines.into_iter().collect();
    let all_costs: Option<Vec<ValidCost>> = costs.into_iter().collect();
    let all_payments: Option<Vec<ValidPayment>> = payments.into_iter().collect();
    let mut totals = Totals::default();
    if let (Some(lines), Some(costs)) = (&all_lines, &all_costs) {
        for l in lines {
            totals.add(l.total_excl_vat, l.vat.amount);
        }
        for k in costs {
            totals.add(k.amount_excl_vat, k.vat.amount);
        }
        groups.check(c.prices_include_vat, &mut c.out);
        c.totals(draft.totals.as_ref(), &totals);
        let total = totals.total_incl_vat;
        if c.credit && total > Decimal::ZERO {
            c.push(
                "",
                codes::CREDIT_NOT_NEGATIVE,
                format!("a credit order has a total of zero or less, got {total}"),
                format!("een creditorder heeft een totaal van nul of minder, ontvangen: {total}"),
            );
        } else if !c.credit && total < Decimal::ZERO {
            c.push(
                "/credit_of",
                codes::NEGATIVE_TOTAL_WITHOUT_CREDIT_OF,
                format!("the total is {total}: a negative order is a credit order and must name the order it corrects in credit_of"),
                format!("het totaal is {total}: een negatieve order is een creditorder en moet in credit_of de order noemen die ze corrigeert"),
            );
        }
        if let Some(payments) = &all_payments {
            let paid = amount_paid(payments.iter().map(|p| (p.status, p.amount)));
            let within = if total >= Decimal::ZERO {
                Decimal::ZERO <= paid && paid <= total
            } else {
                total <= paid && paid <= Decimal::ZERO
            };
            if !within {
                c.push(
                    "/payments",
                    codes::PAYMENTS_EXCEED_TOTAL,
                    format!("the payments received (status paid) add up to {paid}, which is not between 0 and the total of {total}"),
                    format!("de ontvangen betalingen (status paid) tellen op tot {paid}, wat niet tussen 0 en het totaal van {total} ligt"),
                );
            }
        }
    }

    let details = details(&mut c, draft);
    match (
        external_id,
        draft.status,
        draft.order_date,
        currency,
        all_lines,
        all_costs,
        all_payments,
    ) {
        (
            Some(external_id),
            Some(status),
            Some(order_date),
            Some(currency),
            Some(lines),
            Some(costs),
            Some(payments),
        ) if c.out.is_empty() => Ok(ValidOrder {
            external_id,
            number: draft.number.clone(),
            status,
            order_date,
            currency,
            prices_include_vat: c.prices_include_vat,
            customer,
            lines,
            costs,
            payments,
            credit_of,
            totals,
            company_currency: details
                .exchange_rate
                .map(|rate| Converted::at(rate, &groups.breakdown())),
            vat_breakdown: groups.breakdown(),
            details,
        }),
        _ => {
            // Every path that leaves a part unknown has reported why.
            debug_assert!(!c.out.is_empty(), "an invalid order without a violation");
            Err(c.out)
        }
    }
}
