//! The documented shape of an order as a vendor sends it.
//!
//! Requests are parsed straight into the domain's drafts
//! (`koppel_domain::order::OrderDraft` and its parts), which refuse unknown
//! fields and read amounts exactly; these types only describe that shape in
//! the OpenAPI document, because the domain crate does not depend on utoipa.
//! `tests/api/orders.rs` proves that the two agree: an example holding every
//! documented property parses into a draft, and every field a draft accepts
//! is documented.

use chrono::{DateTime, FixedOffset, NaiveDate};
use utoipa::ToSchema;

use crate::buyer::OrderCustomerInput;

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum OrderStatusInput {
    /// Placed, not (fully) paid.
    Open,
    /// Paid.
    Paid,
    /// Shipped.
    Shipped,
    /// Done.
    Completed,
    /// Cancelled; the order stays, marked so.
    Cancelled,
    /// Refunded (the refund itself is a credit order).
    Refunded,
}

/// What a cost is for.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum OrderCostKindInput {
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
    /// The difference of a platform that rounds lines and totals
    /// independently: `outside_scope`, no VAT, at most 0.99 either way.
    Rounding,
}

/// Where a payment stands, as the payment provider reports it; only `paid` counts as received.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum PaymentStatusInput {
    /// Started, not completed (an iDEAL payment not yet confirmed).
    Pending,
    /// Reserved on the buyer's card, not yet captured.
    Authorized,
    /// Received (the default).
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

/// A VAT category (`docs/bookkeeping-rules.md`).
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum OrderVatCategoryInput {
    /// Standard rate (NL 21%).
    Standard,
    /// Reduced rate (NL 9%).
    Reduced,
    /// Zero rate.
    Zero,
    /// Exempt; needs `exemption_reason`.
    Exempt,
    /// Domestic reverse charge: the buyer pays the VAT.
    ReverseCharge,
    /// Intra-EU supply (ICP); needs the buyer's VAT number.
    IntraEu,
    /// Export outside the EU.
    Export,
    /// EU distance sale under OSS, taxed at the destination rate; needs `country`.
    Oss,
    /// Outside the scope of VAT, e.g. a rounding cost.
    OutsideScope,
    /// The margin scheme for second-hand goods, art and antiques, at the standard or a
    /// reduced rate: a line needs its `purchase_price`, and its VAT is on the margin
    /// `total_incl_vat − purchase_price × quantity` only (0 when that is not positive).
    Margin,
}

/// The VAT of a line or cost: a `rate_id`, or a `percentage` and `category`; plus the `amount`.
#[derive(Debug, Clone, ToSchema)]
pub struct OrderVatInput {
    /// A VAT rate of the company; its percentage, category and country then apply.
    #[schema(example = "0190d4a2-8c1e-7b7e-9f0a-1c2d3e4f5a6b")]
    pub rate_id: Option<String>,
    /// The same rate by the vendor's own id (the rate's `external_id`), instead of `rate_id`.
    #[schema(example = "btw-hoog")]
    pub rate_external_id: Option<String>,
    /// The rate in percent, as a decimal string or JSON number (`21`, `9`, `5.5`); needed without `rate_id`.
    #[schema(value_type = Option<String>, example = "21")]
    pub percentage: Option<String>,
    /// The VAT category; needed without `rate_id`.
    pub category: Option<OrderVatCategoryInput>,
    /// ISO 3166-1 alpha-2 country whose rate applies; `NL` when left out, except for `oss`, where it is the destination and must be sent.
    #[schema(example = "NL")]
    pub country: Option<String>,
    /// The VAT amount, 2 decimals, as a decimal string or JSON number.
    #[schema(value_type = String, example = "2.10")]
    pub amount: String,
    /// Why the line is exempt (the legal ground); required for category `exempt`.
    pub exemption_reason: Option<String>,
}

/// One order line. Of `total_excl_vat` and `total_incl_vat` only the one in
/// the order's price basis (`prices_include_vat`) is required; the other is
/// derived, and must match exactly when sent.
#[derive(Debug, Clone, ToSchema)]
pub struct OrderLineInput {
    /// The product's id in Koppel; a line needs a `product_id`, a `product_external_id` or a
    /// `sku`.
    pub product_id: Option<String>,
    /// The product by the vendor's own id (the product's `external_id`), instead of
    /// `product_id`.
    #[schema(example = "art-1001")]
    pub product_external_id: Option<String>,
    /// The article code the vendor sold under. Stored as sent, whether or not a product has
    /// it: when a product of the company has this SKU (now or later), reads fill `product_id`.
    #[schema(example = "KOFFIE-250")]
    pub sku: Option<String>,
    /// What was sold.
    #[schema(example = "Koffiebonen 250 g")]
    pub description: Option<String>,
    /// How many; negative on a refund line. Up to 6 decimals, as a decimal string or JSON number.
    #[schema(value_type = String, example = "2")]
    pub quantity: String,
    /// Price per unit in the order's basis (incl. or excl. VAT). Up to 6 decimals.
    #[schema(value_type = String, example = "5.00")]
    pub unit_price: String,
    /// Discount on the whole line, in the same basis as `unit_price`; 0 when left out.
    #[schema(value_type = Option<String>, example = "0")]
    pub discount: Option<String>,
    /// The line's VAT.
    pub vat: OrderVatInput,
    /// Line total excluding VAT, 2 decimals: quantity × unit_price − discount for prices excluding VAT.
    #[schema(value_type = Option<String>, example = "10.00")]
    pub total_excl_vat: Option<String>,
    /// Line total including VAT, 2 decimals: total_excl_vat + VAT.
    #[schema(value_type = Option<String>, example = "12.10")]
    pub total_incl_vat: Option<String>,
    /// The revenue category's id in Koppel.
    pub category_id: Option<String>,
    /// The revenue category by the vendor's own id, instead of `category_id`.
    #[schema(example = "koffie")]
    pub category_external_id: Option<String>,
    /// Under the margin scheme (VAT category `margin`), and only there: what one unit was
    /// bought for, including any VAT paid on it, in the order's currency; up to 6 decimals.
    #[schema(value_type = Option<String>, example = "150.00")]
    pub purchase_price: Option<String>,
    /// What the line is; `sale` when left out. A multi-purpose gift card or a deposit carries
    /// no VAT and must be `outside_scope`.
    pub kind: Option<OrderLineKindInput>,
    /// The unit the quantity counts, e.g. `piece`, `kg`, `hour`.
    #[schema(example = "piece")]
    pub unit: Option<String>,
    /// The index (from 0) of another line of this order that this one belongs to: a part of a
    /// bundle, or a modifier.
    #[schema(minimum = 0, example = 0)]
    pub parent_line: Option<u32>,
    /// The discount code the buyer used on this line.
    #[schema(example = "PASEN10")]
    pub discount_code: Option<String>,
    /// The discount's name as the shop shows it.
    #[schema(example = "Paaskorting 10%")]
    pub discount_name: Option<String>,
}

/// What an order line is, for keeping revenue apart.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum OrderLineKindInput {
    /// Goods or a service sold: revenue (the default).
    Sale,
    /// A multi-purpose gift card sold: not revenue until redeemed; `outside_scope`.
    GiftCardMultiPurpose,
    /// A single-purpose gift card sold: revenue when sold, with the VAT of what it buys.
    GiftCardSinglePurpose,
    /// A deposit on returnable packaging (statiegeld): `outside_scope`, kept apart.
    Deposit,
    /// A service charge: revenue, with VAT.
    ServiceCharge,
}

/// A cost on the order: shipping, a fee, an order discount (negative), a surcharge, rounding.
#[derive(Debug, Clone, ToSchema)]
pub struct OrderCostInput {
    /// What the cost is for.
    pub kind: OrderCostKindInput,
    /// Free text.
    #[schema(example = "Verzending")]
    pub description: Option<String>,
    /// Amount excluding VAT, 2 decimals; required when prices exclude VAT.
    #[schema(value_type = Option<String>, example = "4.13")]
    pub amount_excl_vat: Option<String>,
    /// The cost's VAT.
    pub vat: OrderVatInput,
    /// Amount including VAT, 2 decimals; required when prices include VAT.
    #[schema(value_type = Option<String>, example = "5.00")]
    pub amount_incl_vat: Option<String>,
}

/// A payment received on the order (negative for money paid back).
#[derive(Debug, Clone, ToSchema)]
pub struct OrderPaymentInput {
    /// The payment method's id in Koppel; required unless `method_external_id` is given.
    pub method_id: Option<String>,
    /// The payment method by the vendor's own id, instead of `method_id` (no need to look up
    /// Koppel's id of "iDEAL" first).
    #[schema(example = "ideal")]
    pub method_external_id: Option<String>,
    /// Amount, 2 decimals, as a decimal string or JSON number.
    #[schema(value_type = String, example = "12.10")]
    pub amount: String,
    /// The payment provider's reference, e.g. a transaction id; `reference=` finds the order by it.
    #[schema(example = "tr_WDqYK6vllg")]
    pub reference: Option<String>,
    /// When it was paid, RFC 3339 with offset.
    pub paid_at: Option<DateTime<FixedOffset>>,
    /// Where the payment stands; `paid` when absent. Only `paid` counts towards
    /// `amount_paid`, so a pending payment can be sent before it completes.
    pub status: Option<PaymentStatusInput>,
    /// The payment provider, e.g. `mollie`, `stripe`, `adyen`, `paypal`, `bol`.
    #[schema(example = "mollie")]
    pub provider: Option<String>,
    /// The provider's own id of the transaction; `reference=` finds the order by it.
    #[schema(example = "tr_WDqYK6vllg")]
    pub provider_reference: Option<String>,
    /// The provider's payout (settlement) that paid this payment out.
    #[schema(example = "stl_jDk30akdN")]
    pub payout_reference: Option<String>,
    /// What the payment provider charged for this payment: a purchase by the merchant, checked
    /// as a cost is but never part of the order's totals, breakdown or VAT return.
    pub fee: Option<OrderFeeInput>,
}

/// A payment provider's fee for one payment. Send the amount excluding VAT, including VAT,
/// or both; the one sent is the basis the VAT is checked on.
#[derive(Debug, Clone, ToSchema)]
pub struct OrderFeeInput {
    /// Amount excluding VAT, 2 decimals.
    #[schema(value_type = Option<String>, example = "0.29")]
    pub amount_excl_vat: Option<String>,
    /// The fee's VAT: the provider's rate, or `reverse_charge` for a provider in another EU
    /// country, or `exempt` with its reason.
    pub vat: OrderVatInput,
    /// Amount including VAT, 2 decimals.
    #[schema(value_type = Option<String>, example = "0.35")]
    pub amount_incl_vat: Option<String>,
}

/// The totals as the vendor computed them; each one sent must equal Koppel's exactly.
#[derive(Debug, Clone, ToSchema)]
pub struct OrderTotalsInput {
    /// The sum of the amounts excluding VAT.
    #[schema(value_type = Option<String>, example = "10.00")]
    pub total_excl_vat: Option<String>,
    /// The sum of the VAT amounts.
    #[schema(value_type = Option<String>, example = "2.10")]
    pub total_vat: Option<String>,
    /// The sum of the amounts including VAT.
    #[schema(value_type = Option<String>, example = "12.10")]
    pub total_incl_vat: Option<String>,
}

/// A sales order as a vendor sends it; upserted by `external_id`. Unknown
/// fields are refused. Amounts are decimal strings or JSON numbers, read exactly.
#[derive(Debug, Clone, ToSchema)]
pub struct OrderInput {
    /// The vendor's own id of the order; the upsert key.
    #[schema(example = "shop-1001")]
    pub external_id: String,
    /// The order number the customer sees.
    #[schema(example = "1001")]
    pub number: Option<String>,
    /// Where the order is in its life; a cancellation is a status, never a deletion.
    pub status: OrderStatusInput,
    /// When the order was placed, RFC 3339 with offset; the VAT rates are checked on this date.
    pub order_date: DateTime<FixedOffset>,
    /// ISO 4217 currency code.
    #[schema(example = "EUR")]
    pub currency: String,
    /// Whether unit prices include VAT; decides which line totals are the basis.
    pub prices_include_vat: bool,
    /// The buyer.
    pub customer: Option<OrderCustomerInput>,
    /// The lines; at least one.
    pub lines: Vec<OrderLineInput>,
    /// Shipping, fees, order discounts, rounding; none when left out.
    #[schema(required = false)]
    pub costs: Vec<OrderCostInput>,
    /// Payments received (or paid back); none when left out.
    #[schema(required = false)]
    pub payments: Vec<OrderPaymentInput>,
    /// The totals as the vendor computed them; optional, checked exactly when sent.
    pub totals: Option<OrderTotalsInput>,
    /// For a credit order or refund: the order it corrects, by our id or the vendor's `external_id`.
    pub credit_of: Option<String>,
    /// The same order by the vendor's own id only (its `external_id`), instead of
    /// `credit_of`; unknown, or naming another order than `credit_of`: 400 at this field.
    #[schema(example = "web-1001")]
    pub credit_of_external_id: Option<String>,
    /// The invoice number the customer got.
    #[schema(example = "F2026-0042")]
    pub invoice_number: Option<String>,
    /// The invoice date (`YYYY-MM-DD`): the tax point. The VAT return places the order in the
    /// period of this date, or of `order_date` when there is none.
    pub invoice_date: Option<NaiveDate>,
    /// When the invoice is due; not before `invoice_date`.
    pub due_date: Option<NaiveDate>,
    /// When the goods were delivered.
    pub delivery_date: Option<NaiveDate>,
    /// The sales channel.
    pub channel: Option<ChannelInput>,
    /// The marketplace it was sold on, e.g. `bol` or `amazon`.
    #[schema(example = "bol")]
    pub marketplace: Option<String>,
    /// The marketplace's own order id; `reference=` finds the order by it.
    #[schema(example = "A2K8F9XJ4M")]
    pub marketplace_order_id: Option<String>,
    /// For an order in another currency than the company's books, required: the company's
    /// currency per 1 unit of the order's (`1.1702` EUR per GBP), more than 0, up to 6
    /// decimals. An order in the company's currency takes none, or 1.
    #[schema(value_type = Option<String>, example = "1.1702")]
    pub exchange_rate: Option<String>,
    /// The date the exchange rate is of; required with it.
    pub exchange_rate_date: Option<NaiveDate>,
}

/// Where an order was sold.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ChannelInput {
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

/// Up to 1000 orders, each stored or refused on its own.
#[derive(Debug, Clone, ToSchema)]
pub struct OrderBatchInput {
    /// The orders; at most 1000.
    pub orders: Vec<OrderInput>,
}
