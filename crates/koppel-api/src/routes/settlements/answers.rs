//! The documented answers of the settlement routes.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use koppel_store::orders::FeeRecord;
use koppel_store::settlements::{SettlementRecord, TransactionRecord};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// The VAT of a fee.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SettlementFeeVat {
    /// The rate in percent.
    #[schema(value_type = String, example = "21")]
    pub percentage: Decimal,
    /// The VAT category.
    #[schema(value_type = crate::closed_sets::VatCategory)]
    pub category: String,
    /// The country whose rate applies.
    pub country: String,
    /// The VAT amount: input VAT.
    #[schema(value_type = String, example = "0.06")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub amount: Decimal,
}

/// What the provider withheld for a transaction.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SettlementFee {
    /// Excluding VAT.
    #[schema(value_type = String, example = "0.29")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub amount_excl_vat: Decimal,
    /// Its VAT.
    pub vat: SettlementFeeVat,
    /// Including VAT.
    #[schema(value_type = String, example = "0.35")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub amount_incl_vat: Decimal,
}

/// The payment a transaction pays out.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SettlementMatch {
    /// `order` or `receipt`.
    #[serde(rename = "type")]
    #[schema(value_type = SettlementMatchType)]
    pub kind: String,
    /// The order's or receipt's id.
    pub id: Uuid,
    /// The payment's index in its `payments`.
    pub payment_index: i32,
}

/// What a transaction is matched to.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum SettlementMatchType {
    /// An order's payment.
    Order,
    /// A receipt's payment.
    Receipt,
}

/// One transaction of a payout, with what it pays out.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SettlementTransaction {
    /// What it is.
    #[serde(rename = "type")]
    #[schema(value_type = super::input::SettlementTransactionType)]
    pub kind: String,
    /// The provider's reference of the payment it pays out.
    pub provider_reference: Option<String>,
    /// Another reference.
    pub reference: Option<String>,
    /// The provider's description.
    pub description: Option<String>,
    /// Gross.
    #[schema(value_type = String, example = "30.85")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub gross: Decimal,
    /// The fee withheld.
    pub fee: Option<SettlementFee>,
    /// Net.
    #[schema(value_type = String, example = "30.50")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub net: Decimal,
    /// The payment it pays out; null while no pushed order or receipt has it (a document
    /// pushed later is matched when it arrives, with a `settlement.matched` event). Fees and
    /// adjustments are not matched.
    #[serde(rename = "match")]
    pub matched: Option<SettlementMatch>,
    /// Whether another transaction (of this payout or another) claims the same payment:
    /// look at both before booking either.
    pub conflict: bool,
}

impl From<TransactionRecord> for SettlementTransaction {
    fn from(t: TransactionRecord) -> Self {
        let fee = t
            .fee
            .and_then(|f| serde_json::from_value::<FeeRecord>(f).ok())
            .map(|f| SettlementFee {
                amount_excl_vat: f.amount_excl_vat,
                vat: SettlementFeeVat {
                    percentage: f.vat.percentage.normalize(),
                    category: f.vat.category,
                    country: f.vat.country,
                    amount: f.vat.amount,
                },
                amount_incl_vat: f.amount_incl_vat,
            });
        SettlementTransaction {
            kind: t.kind,
            provider_reference: t.provider_reference,
            reference: t.reference,
            description: t.description,
            gross: t.gross,
            fee,
            net: t.net,
            matched: t.matched.map(|m| SettlementMatch {
                kind: m.kind,
                id: m.id,
                payment_index: m.payment_index,
            }),
            conflict: t.conflict,
        }
    }
}

/// A payout of a payment provider.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Settlement {
    /// Koppel's id; never changes.
    pub id: Uuid,
    /// The provider's id of the payout.
    pub external_id: String,
    /// The provider.
    pub provider: String,
    /// When it was paid out, with the offset it was sent with.
    pub paid_out_at: DateTime<FixedOffset>,
    /// The currency.
    pub currency: String,
    /// The exchange rate, for another currency than the company's.
    #[schema(value_type = Option<String>, example = "1.1702")]
    #[serde(serialize_with = "crate::money::serialize_rate")]
    pub exchange_rate: Option<Decimal>,
    /// Its date.
    #[schema(value_type = Option<String>)]
    pub exchange_rate_date: Option<NaiveDate>,
    /// What reached the bank.
    #[schema(value_type = String, example = "66.67")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub amount: Decimal,
    /// The bank statement's reference.
    pub reference: Option<String>,
    /// Σ gross of the matched transactions.
    #[schema(value_type = String, example = "67.37")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub matched_total: Decimal,
    /// Σ gross of the payments, refunds and chargebacks not matched yet.
    #[schema(value_type = String, example = "0.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub unmatched_total: Decimal,
    /// How many transactions claim a payment another transaction claims too.
    pub conflict_count: i64,
    /// How many transactions it has.
    pub transaction_count: i32,
    /// Counts changes from 1.
    pub version: i32,
    /// When it was first pushed.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// The transactions, in the order sent; left out (empty) in a list.
    pub transactions: Vec<SettlementTransaction>,
}

impl From<SettlementRecord> for Settlement {
    fn from(r: SettlementRecord) -> Self {
        let offset = FixedOffset::east_opt(r.paid_out_offset)
            .unwrap_or(FixedOffset::east_opt(0).expect("0 is an offset"));
        Settlement {
            id: r.id,
            external_id: r.external_id,
            provider: r.provider,
            paid_out_at: r.paid_out_at.with_timezone(&offset),
            currency: r.currency,
            exchange_rate: r.exchange_rate,
            exchange_rate_date: r.exchange_rate_date,
            amount: r.amount,
            reference: r.reference,
            matched_total: r.matched_total,
            unmatched_total: r.unmatched_total,
            conflict_count: r.conflicts,
            transaction_count: r.transaction_count,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
            transactions: r
                .transactions
                .0
                .into_iter()
                .map(SettlementTransaction::from)
                .collect(),
        }
    }
}

/// The settlement list, as the OpenAPI document names and describes its page.
#[derive(Debug)]
pub enum SettlementListing {}

impl crate::page::Listing for SettlementListing {
    type Item = Settlement;
    const NAME: &'static str = "SettlementList";
    const DESCRIPTION: &'static str = "A page of payouts, oldest first.";
    const DATA: &'static str = "The payouts, without their transactions.";
    const CURSOR: &'static str = "Pass as `cursor` for the next page; null on the last.";
}

/// A page of payouts, oldest first.
pub type SettlementList = crate::page::Page<SettlementListing>;

/// What happened to one payout of a batch.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SettlementBatchItem {
    /// The item's position in the request's `settlements`, from 0.
    pub index: usize,
    /// Whether the payout was stored (or already stored exactly so).
    pub success: bool,
    /// The payout's id, when stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    /// What storing it did (`created`, `updated`, `unchanged`), when stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<SettlementOutcome>)]
    pub outcome: Option<String>,
    /// Every problem of the item, with pointers into the item, when refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<crate::error::ProblemItem>>,
}

/// What storing a payout did.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum SettlementOutcome {
    /// A new payout.
    Created,
    /// A changed payout: its next version.
    Updated,
    /// The same again: nothing written.
    Unchanged,
}

/// The answer to a batch of payouts: one entry per item, in the order sent.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SettlementBatchResult {
    /// One entry per item of the request.
    pub data: Vec<SettlementBatchItem>,
}
