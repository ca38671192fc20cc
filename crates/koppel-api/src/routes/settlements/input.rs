//! The documented request of a settlement. The body is parsed into the domain's
//! `SettlementDraft`; these types only describe it.

use utoipa::ToSchema;

/// What a transaction of a payout is.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum SettlementTransactionType {
    /// A payment received for a sale.
    Payment,
    /// Money paid back to a buyer.
    Refund,
    /// A payment the buyer's bank took back.
    Chargeback,
    /// A fee charged on its own, not on one payment.
    Fee,
    /// Anything else the provider added or withheld.
    Adjustment,
}

/// The VAT of a provider's fee.
#[derive(Debug, Clone, ToSchema)]
pub struct SettlementFeeVatInput {
    /// A VAT rate of the company, instead of `percentage` and `category`.
    pub rate_id: Option<String>,
    /// The same rate by your id.
    pub rate_external_id: Option<String>,
    /// The rate in percent.
    #[schema(value_type = Option<String>, example = "21")]
    pub percentage: Option<String>,
    /// The VAT category (`reverse_charge` for a provider in another EU country).
    #[schema(value_type = Option<crate::closed_sets::VatCategory>)]
    pub category: Option<String>,
    /// ISO 3166-1 alpha-2 country whose rate applies; `NL` when left out.
    #[schema(example = "NL")]
    pub country: Option<String>,
    /// The VAT amount, 2 decimals.
    #[schema(value_type = String, example = "0.06")]
    pub amount: String,
    /// Why the fee is exempt, for category `exempt`.
    pub exemption_reason: Option<String>,
}

/// What the provider withheld for a transaction; send the amount excluding VAT, including
/// VAT, or both.
#[derive(Debug, Clone, ToSchema)]
pub struct SettlementFeeInput {
    /// Amount excluding VAT, 2 decimals.
    #[schema(value_type = Option<String>, example = "0.29")]
    pub amount_excl_vat: Option<String>,
    /// The fee's VAT.
    pub vat: SettlementFeeVatInput,
    /// Amount including VAT, 2 decimals.
    #[schema(value_type = Option<String>, example = "0.35")]
    pub amount_incl_vat: Option<String>,
}

/// One transaction of a payout.
#[derive(Debug, Clone, ToSchema)]
pub struct SettlementTransactionInput {
    /// What it is.
    #[schema(rename = "type")]
    pub kind: SettlementTransactionType,
    /// The provider's id of the payment (or refund) it pays out, as on the order's payment
    /// (`provider_reference`) or a receipt's (`reference`); required for a payment, refund
    /// or chargeback.
    #[schema(example = "tr_WDqYK6vllg")]
    pub provider_reference: Option<String>,
    /// Another reference the provider gives.
    pub reference: Option<String>,
    /// What the provider says it is.
    pub description: Option<String>,
    /// The amount of the payment, negative for money going back; 2 decimals.
    #[schema(value_type = String, example = "30.85")]
    pub gross: String,
    /// What the provider withheld for it, with its VAT.
    pub fee: Option<SettlementFeeInput>,
    /// `gross` less the fee including VAT, exactly; 2 decimals.
    #[schema(value_type = String, example = "30.50")]
    pub net: String,
}

/// A payout of a payment provider, upserted by its `external_id`.
#[derive(Debug, Clone, ToSchema)]
pub struct SettlementInput {
    /// The provider's id of the payout; the upsert key.
    #[schema(example = "stl_jDk30akdN")]
    pub external_id: String,
    /// The provider, e.g. `mollie`, `stripe`, `adyen`, `paypal`, `bol`.
    #[schema(example = "mollie")]
    pub provider: String,
    /// When it was paid out, RFC 3339 with an offset.
    #[schema(example = "2026-03-30T06:00:00+02:00")]
    pub paid_out_at: String,
    /// ISO 4217 currency of every amount.
    #[schema(example = "EUR")]
    pub currency: String,
    /// Company currency per unit of the payout's currency; required when it is not the
    /// company's, with `exchange_rate_date`.
    #[schema(value_type = Option<String>, example = "1.1702")]
    pub exchange_rate: Option<String>,
    /// The date the exchange rate is of.
    #[schema(value_type = Option<String>, example = "2026-03-30")]
    pub exchange_rate_date: Option<String>,
    /// What reached the bank: the transactions' nets added up, exactly; 2 decimals.
    #[schema(value_type = String, example = "66.67")]
    pub amount: String,
    /// The reference on the bank statement.
    pub reference: Option<String>,
    /// The transactions; 1 to 5000.
    #[schema(min_items = 1, max_items = 5000)]
    pub transactions: Vec<SettlementTransactionInput>,
}

/// Up to 100 payouts, each stored or refused on its own.
#[derive(Debug, Clone, ToSchema)]
pub struct SettlementBatchInput {
    /// The payouts.
    #[schema(min_items = 1, max_items = 100)]
    pub settlements: Vec<SettlementInput>,
}
