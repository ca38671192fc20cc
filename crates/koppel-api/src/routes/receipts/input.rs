//! The documented shape of a receipt as a till sends it.
//!
//! Requests are parsed straight into the domain's drafts
//! (`koppel_domain::receipt::ReceiptDraft` and its parts), which refuse unknown fields and
//! read amounts exactly; these types only describe that shape in the OpenAPI document,
//! because the domain crate does not depend on utoipa. `tests/api/receipts.rs` proves that the
//! two agree: every field a draft accepts is documented and every documented property is
//! accepted.

use chrono::{DateTime, FixedOffset, NaiveDate};
use utoipa::ToSchema;

/// What a receipt line is, for keeping revenue apart (`docs/bookkeeping-rules.md` "POS days").
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ReceiptLineKindInput {
    /// A sale: revenue with VAT. The default.
    Sale,
    /// A tip (fooi) passed on to staff: not revenue, no VAT, category `outside_scope`.
    Tip,
    /// A multi-purpose gift card sold: not revenue until redeemed, no VAT, `outside_scope`.
    GiftCardMultiPurpose,
    /// A single-purpose gift card sold: revenue when sold, with VAT.
    GiftCardSinglePurpose,
    /// A deposit on returnable packaging (statiegeld): no VAT, `outside_scope`, kept apart.
    Deposit,
}

/// A VAT category (`docs/bookkeeping-rules.md`).
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ReceiptVatCategoryInput {
    /// Standard rate (NL 21%).
    Standard,
    /// Reduced rate (NL 9%).
    Reduced,
    /// Zero rate.
    Zero,
    /// Exempt; needs `exemption_reason`.
    Exempt,
    /// Domestic reverse charge.
    ReverseCharge,
    /// Intra-EU supply; refused on a receipt, which has no buyer VAT number.
    IntraEu,
    /// Export outside the EU.
    Export,
    /// EU distance sale under OSS; needs `country`.
    Oss,
    /// Outside the scope of VAT: tips, multi-purpose gift cards, deposits.
    OutsideScope,
}

/// The VAT of a line: a `rate_id`, or a `percentage` and `category`; plus the `amount`.
#[derive(Debug, Clone, ToSchema)]
pub struct ReceiptVatInput {
    /// A VAT rate of the company (our id); its percentage, category and country then apply.
    #[schema(example = "0190d4a2-8c1e-7b7e-9f0a-1c2d3e4f5a6b")]
    pub rate_id: Option<String>,
    /// The same rate by the vendor's own id (the rate's `external_id`), instead of `rate_id`.
    #[schema(example = "btw-laag")]
    pub rate_external_id: Option<String>,
    /// The rate in percent, a decimal string or JSON number; needed without `rate_id`.
    #[schema(value_type = Option<String>, example = "9")]
    pub percentage: Option<String>,
    /// The VAT category; needed without `rate_id`.
    pub category: Option<ReceiptVatCategoryInput>,
    /// ISO 3166-1 country whose rate applies; `NL` when left out.
    #[schema(example = "NL")]
    pub country: Option<String>,
    /// The VAT amount of the line, 2 decimals, a decimal string or JSON number.
    #[schema(value_type = String, example = "0.29")]
    pub amount: Option<String>,
    /// Why the line is exempt (the legal ground); required for category `exempt`.
    pub exemption_reason: Option<String>,
}

/// One receipt line.
#[derive(Debug, Clone, ToSchema)]
pub struct ReceiptLineInput {
    /// What the line is; `sale` when left out.
    pub kind: Option<ReceiptLineKindInput>,
    /// The till's product code (PLU); required.
    #[schema(example = "1001")]
    pub product_code: String,
    /// What was sold.
    #[schema(example = "Croissant")]
    pub description: Option<String>,
    /// The revenue category (our id); this or `category_external_id` is required.
    #[schema(example = "0190d4a2-8c1e-7b7e-9f0a-1c2d3e4f5a6c")]
    pub category_id: Option<String>,
    /// The same category by your own id (its `external_id`): unknown, or naming another
    /// category than `category_id`, is a 400 at this pointer.
    #[schema(example = "brood")]
    pub category_external_id: Option<String>,
    /// How many; negative on a refund. Up to 6 decimals, a decimal string or JSON number.
    #[schema(value_type = String, example = "2")]
    pub quantity: String,
    /// Price per unit, in the basis `prices_include_vat` says. Up to 6 decimals.
    #[schema(value_type = String, example = "1.75")]
    pub unit_price: String,
    /// Discount on the whole line in the same basis; 0 when left out.
    #[schema(value_type = Option<String>, example = "0")]
    pub discount: Option<String>,
    /// The line's VAT; required.
    pub vat: ReceiptVatInput,
    /// Line total excluding VAT, 2 decimals; required when prices exclude VAT.
    #[schema(value_type = Option<String>, example = "3.21")]
    pub total_excl_vat: Option<String>,
    /// Line total including VAT, 2 decimals; required when prices include VAT.
    #[schema(value_type = Option<String>, example = "3.50")]
    pub total_incl_vat: Option<String>,
    /// Under the margin scheme (VAT category `margin`), and only there: what one unit was
    /// bought for, including any VAT paid on it, in the receipt's currency; up to 6
    /// decimals. The VAT is then on the margin `total_incl_vat − purchase_price × quantity`
    /// only (0 when that is not positive).
    #[schema(value_type = Option<String>, example = "150.00")]
    pub purchase_price: Option<String>,
}

/// A payment on a receipt.
#[derive(Debug, Clone, ToSchema)]
pub struct ReceiptPaymentInput {
    /// The payment method (our id); this or `method_external_id` is required.
    #[schema(example = "0190d4a2-8c1e-7b7e-9f0a-1c2d3e4f5a6d")]
    pub method_id: Option<String>,
    /// The same method by your own id (the method's `external_id`): unknown, or naming
    /// another method than `method_id`, is a 400 at this pointer.
    #[schema(example = "contant")]
    pub method_external_id: Option<String>,
    /// The amount handed over (cash) or charged; negative for money paid back. 2 decimals.
    #[schema(value_type = String, example = "5.00")]
    pub amount: String,
    /// The terminal's or provider's reference; `reference=` finds the receipt by it.
    pub reference: Option<String>,
    /// Cash given back from this payment; 0 when left out. The payment counts `amount − change`.
    #[schema(value_type = Option<String>, example = "1.50")]
    pub change: Option<String>,
}

/// Totals a till may send; each one sent must equal the sum of the lines exactly.
#[derive(Debug, Clone, ToSchema)]
pub struct ReceiptTotalsInput {
    /// The sum of the lines' `total_excl_vat`.
    #[schema(value_type = Option<String>, example = "3.21")]
    pub total_excl_vat: Option<String>,
    /// The sum of the lines' VAT.
    #[schema(value_type = Option<String>, example = "0.29")]
    pub total_vat: Option<String>,
    /// The sum of the lines' `total_incl_vat`.
    #[schema(value_type = Option<String>, example = "3.50")]
    pub total_incl_vat: Option<String>,
}

/// A receipt as a till sends it. Amounts are decimal strings or JSON numbers, read exactly.
#[derive(Debug, Clone, ToSchema)]
pub struct ReceiptInput {
    /// The vendor's own id of the receipt: resending the same receipt is harmless, other
    /// content under the same id is refused (a correction is a new, refund receipt).
    #[schema(example = "kassa-1-000123")]
    pub external_id: String,
    /// The receipt number printed on it.
    #[schema(example = "000123")]
    pub number: Option<String>,
    /// The vendor's id of the shop or location; the day's figures are also kept per location.
    #[schema(example = "amsterdam-centrum")]
    pub location_id: Option<String>,
    /// The vendor's id of the till.
    #[schema(example = "kassa-1")]
    pub register_id: Option<String>,
    /// The moment of sale, RFC 3339 with its UTC offset (a local time without offset is
    /// refused: in the October night it happens twice).
    #[schema(value_type = String, example = "2026-03-29T14:05:00+02:00")]
    pub created_at: DateTime<FixedOffset>,
    /// ISO 4217 currency. Another currency than the company's takes `exchange_rate` and
    /// `exchange_rate_date`; the day and the VAT return then count the receipt in the
    /// company's currency.
    #[schema(example = "EUR")]
    pub currency: String,
    /// Required when `currency` is not the company's: the company's currency per 1 unit of
    /// the receipt's (EUR per GBP), more than 0, up to 6 decimals. A receipt in the
    /// company's currency takes none, or 1.
    #[schema(value_type = Option<String>, example = "1.1702")]
    pub exchange_rate: Option<String>,
    /// The date the exchange rate is of; required with it.
    pub exchange_rate_date: Option<NaiveDate>,
    /// Whether unit prices include VAT (usual for a till); required.
    pub prices_include_vat: bool,
    /// The lines; at least one.
    pub lines: Vec<ReceiptLineInput>,
    /// The payments: minus change, plus `cash_rounding`, they equal the total exactly.
    pub payments: Vec<ReceiptPaymentInput>,
    /// Cash rounding added to the payments to reach the total (paying 10.05 cash for 10.03 is
    /// −0.02); at most 0.02 either way, no VAT.
    #[schema(value_type = Option<String>, example = "0.00")]
    pub cash_rounding: Option<String>,
    /// The totals, if the till sends them; they must match the lines exactly.
    pub totals: Option<ReceiptTotalsInput>,
    /// For a refund (a receipt with negative amounts): the receipt it refunds, by our id.
    #[schema(example = "0190d4a2-8c1e-7b7e-9f0a-1c2d3e4f5a6b")]
    pub refund_of: Option<String>,
    /// The same receipt by the vendor's own id (its `external_id`), instead of `refund_of`.
    #[schema(example = "kassa-1-000120")]
    pub refund_of_external_id: Option<String>,
    /// Why it was refunded, as the till recorded it.
    #[schema(example = "Product defect")]
    pub refund_reason: Option<String>,
    /// The buyer, for a sale on account or to a business, as on an order; an `intra_eu` line
    /// needs its VAT number (of another member state).
    pub customer: Option<crate::buyer::OrderCustomerInput>,
}

/// Up to 1000 receipts, each stored or refused on its own.
#[derive(Debug, Clone, ToSchema)]
pub struct ReceiptBatchInput {
    /// The receipts; at most 1000.
    pub receipts: Vec<ReceiptInput>,
}
