//! A payout from a payment provider (a settlement: SPEC "Payouts from payment providers";
//! VAT.md, "Payment-provider fees"). Mollie, Stripe, Adyen, PayPal or bol.com pay out the sum
//! of many payments less refunds, chargebacks and their fees; a settlement lists each
//! transaction with its gross, its fee (with that fee's VAT, checked as a cost's) and its
//! net, and the nets add up to what reached the bank. Matching the transactions to the sales
//! they pay out is the store's (one set-based statement); the rules and the journal entry are
//! here.

use chrono::{DateTime, FixedOffset, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::document::{Checker, References, within_bounds};
use crate::journal::{Entry, FeeFacts, Role, rate_words};
use crate::money::round_cents;
use crate::order::{FeeDraft, ValidFee};
use crate::problem::{Violation, codes};

/// The most transactions one settlement may list (SPEC "Bounds": as a document's lines).
pub const MAX_TRANSACTIONS: usize = 5_000;

/// What a transaction of a payout is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransactionType {
    /// A payment received for a sale.
    Payment,
    /// Money paid back to a buyer.
    Refund,
    /// A payment the buyer's bank took back.
    Chargeback,
    /// A fee charged on its own (an invoice of the provider, not of one payment).
    Fee,
    /// Anything else the provider added or withheld (a reserve, a correction).
    Adjustment,
}

impl TransactionType {
    /// Every type, in the order of the contract.
    pub const ALL: [TransactionType; 5] = [
        TransactionType::Payment,
        TransactionType::Refund,
        TransactionType::Chargeback,
        TransactionType::Fee,
        TransactionType::Adjustment,
    ];

    /// The snake_case name used on the wire and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            TransactionType::Payment => "payment",
            TransactionType::Refund => "refund",
            TransactionType::Chargeback => "chargeback",
            TransactionType::Fee => "fee",
            TransactionType::Adjustment => "adjustment",
        }
    }

    /// Whether a transaction of this type pays out (or back) a sale, and so is matched to a
    /// payment of an order or a receipt; fees and adjustments stand on their own.
    pub fn is_matched(self) -> bool {
        matches!(
            self,
            TransactionType::Payment | TransactionType::Refund | TransactionType::Chargeback
        )
    }
}

/// One transaction as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TransactionDraft {
    /// What it is.
    #[serde(default, rename = "type")]
    pub kind: Option<TransactionType>,
    /// The provider's id of the payment (or refund) it pays out, as on the order's payment.
    #[serde(default)]
    pub provider_reference: Option<String>,
    /// Another reference the provider gives (an order number, a description).
    #[serde(default)]
    pub reference: Option<String>,
    /// What the provider says it is.
    #[serde(default)]
    pub description: Option<String>,
    /// The amount of the payment (negative for money going back), 2 decimals.
    #[serde(default, with = "crate::money::exact::option")]
    pub gross: Option<Decimal>,
    /// What the provider withheld for it, with its VAT.
    #[serde(default)]
    pub fee: Option<FeeDraft>,
    /// `gross − fee`, 2 decimals.
    #[serde(default, with = "crate::money::exact::option")]
    pub net: Option<Decimal>,
}

/// A settlement as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SettlementDraft {
    /// The provider's id of the payout; the upsert key.
    #[serde(default)]
    pub external_id: Option<String>,
    /// The provider, e.g. `mollie`.
    #[serde(default)]
    pub provider: Option<String>,
    /// When it was paid out, RFC 3339 with an offset.
    #[serde(default)]
    pub paid_out_at: Option<String>,
    /// ISO 4217 currency of every amount.
    #[serde(default)]
    pub currency: Option<String>,
    /// Company currency per unit of the settlement's, when it is another currency.
    #[serde(default, with = "crate::money::exact::option")]
    pub exchange_rate: Option<Decimal>,
    /// The date the exchange rate is of.
    #[serde(default)]
    pub exchange_rate_date: Option<NaiveDate>,
    /// What reached the bank, 2 decimals.
    #[serde(default, with = "crate::money::exact::option")]
    pub amount: Option<Decimal>,
    /// The reference on the bank statement.
    #[serde(default)]
    pub reference: Option<String>,
    /// The transactions; at least one.
    #[serde(default)]
    pub transactions: Vec<TransactionDraft>,
}

/// A transaction that passed every rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ValidTransaction {
    /// What it is.
    #[serde(rename = "type")]
    pub kind: TransactionType,
    /// The provider's id of the payment it pays out.
    pub provider_reference: Option<String>,
    /// Another reference.
    pub reference: Option<String>,
    /// The provider's description.
    pub description: Option<String>,
    /// The gross amount.
    pub gross: Decimal,
    /// The fee withheld.
    pub fee: Option<ValidFee>,
    /// `gross − fee`.
    pub net: Decimal,
}

impl ValidTransaction {
    /// The fee withheld including its VAT; 0 without a fee.
    pub fn fee_incl(&self) -> Decimal {
        self.fee
            .as_ref()
            .map_or(Decimal::ZERO, |f| f.amount_incl_vat)
    }
}

/// A settlement that passed every rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ValidSettlement {
    /// The provider's id of the payout.
    pub external_id: String,
    /// The provider.
    pub provider: String,
    /// When it was paid out.
    pub paid_out_at: DateTime<FixedOffset>,
    /// The currency.
    pub currency: String,
    /// The exchange rate, for another currency than the company's.
    pub exchange_rate: Option<Decimal>,
    /// Its date.
    pub exchange_rate_date: Option<NaiveDate>,
    /// What reached the bank.
    pub amount: Decimal,
    /// The bank statement's reference.
    pub reference: Option<String>,
    /// The transactions.
    pub transactions: Vec<ValidTransaction>,
}

/// Checks a settlement: its payout id, provider, moment (with an offset), currency (with an
/// exchange rate when it is not the company's) and amount; per transaction its type, the
/// provider's reference of a payment, refund or chargeback, its gross, its fee (figures and
/// VAT as a cost's) and `net = gross − fee` exactly; and that the nets add up to the amount
/// exactly. Every problem with its pointer; nothing half-valid.
pub fn validate_settlement(
    draft: &SettlementDraft,
    refs: &dyn References,
) -> Result<ValidSettlement, Vec<Violation>> {
    within_bounds(&[("/transactions", draft.transactions.len(), MAX_TRANSACTIONS)])?;
    let mut c = Checker::new(refs);
    let external_id = c
        .text("/external_id".to_owned(), draft.external_id.as_deref())
        .map(str::to_owned);
    let provider = c
        .text("/provider".to_owned(), draft.provider.as_deref())
        .map(str::to_owned);
    let paid_out_at = match draft.paid_out_at.as_deref() {
        None => {
            c.missing("/paid_out_at".to_owned());
            None
        }
        Some(raw) => match crate::receipt::parse_moment_at(raw, "/paid_out_at") {
            Ok(at) => Some(at),
            Err(v) => {
                c.out.push(v);
                None
            }
        },
    };
    let currency = c.currency(draft.currency.as_deref());
    let (exchange_rate, exchange_rate_date) = crate::document::exchange_rate(
        &mut c,
        ("settlement", "uitbetaling"),
        draft.currency.as_deref(),
        draft.exchange_rate,
        draft.exchange_rate_date,
    );
    let amount = c.amount("/amount".to_owned(), draft.amount, 2);
    if draft.transactions.is_empty() {
        c.push(
            "/transactions",
            codes::NO_LINES,
            "a settlement needs at least one transaction".to_owned(),
            "een uitbetaling heeft minstens een transactie nodig".to_owned(),
        );
    }
    let mut transactions = Vec::with_capacity(draft.transactions.len());
    let mut complete = true;
    for (i, t) in draft.transactions.iter().enumerate() {
        let p = format!("/transactions/{i}");
        match transaction(&mut c, &p, t) {
            Some(valid) => transactions.push(valid),
            None => complete = false,
        }
    }
    if complete && let Some(amount) = amount {
        let nets: Decimal = transactions.iter().map(|t| t.net).sum();
        if nets != amount {
            c.push(
                "/amount",
                codes::SETTLEMENT_AMOUNT_MISMATCH,
                format!("the transactions' nets add up to {nets}, not the amount {amount}"),
                format!("de netto bedragen van de transacties zijn samen {nets}, niet het bedrag {amount}"),
            );
        }
    }
    match (external_id, provider, paid_out_at, currency, amount) {
        (Some(external_id), Some(provider), Some(paid_out_at), Some(currency), Some(amount))
            if c.out.is_empty() =>
        {
            Ok(ValidSettlement {
                external_id,
                provider,
                paid_out_at,
                currency,
                exchange_rate,
                exchange_rate_date,
                amount,
                reference: draft
                    .reference
                    .as_deref()
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(str::to_owned),
                transactions,
            })
        }
        _ => Err(c.out),
    }
}

fn transaction(c: &mut Checker<'_>, p: &str, t: &TransactionDraft) -> Option<ValidTransaction> {
    let before = c.out.len();
    let kind = t.kind;
    if kind.is_none() {
        c.missing(format!("{p}/type"));
    }
    let provider_reference = match t.provider_reference.as_deref().map(str::trim) {
        Some(r) if !r.is_empty() => Some(r.to_owned()),
        _ => {
            if kind.is_some_and(TransactionType::is_matched) {
                c.missing(format!("{p}/provider_reference"));
            }
            None
        }
    };
    let gross = c.amount(format!("{p}/gross"), t.gross, 2);
    let fee = match &t.fee {
        Some(fee) => crate::order::payment_fee(c, p, fee),
        None => None,
    };
    let net = c.amount(format!("{p}/net"), t.net, 2);
    if let (Some(gross), Some(net)) = (gross, net) {
        let withheld = fee.as_ref().map_or(Decimal::ZERO, |f| f.amount_incl_vat);
        if t.fee.is_none() || fee.is_some() {
            let want = gross - withheld;
            if net != want {
                c.push(
                    format!("{p}/net"),
                    codes::SETTLEMENT_NET_MISMATCH,
                    format!("net is {net} but gross {gross} less the fee {withheld} is {want}"),
                    format!("netto is {net} maar bruto {gross} min de kosten {withheld} is {want}"),
                );
            }
        }
    }
    if c.out.len() > before {
        return None;
    }
    let text = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    Some(ValidTransaction {
        kind: kind?,
        provider_reference,
        reference: text(&t.reference),
        description: text(&t.description),
        gross: gross?,
        fee,
        net: net?,
    })
}

/// One transaction as the settlement's entry needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionFacts {
    /// What it is.
    pub kind: TransactionType,
    /// The gross amount, in the settlement's currency.
    pub gross: Decimal,
    /// Its fee.
    pub fee: Option<FeeFacts>,
    /// The method of the payment it was matched to (our id), if any.
    pub method_id: Option<String>,
}

/// The entry of a settlement (SPEC "Payouts", item 4): the bank debited with what reached
/// it; per transaction the gross credited to the payment clearing account of the matched
/// payment's method (a refund or chargeback, being negative, debited back), each fee debited
/// to `psp_fees` with its VAT to `vat_receivable` (input VAT), a fee or adjustment without a
/// payment to the clearing catch-all. In another currency every figure is converted and
/// rounded on its own; what that leaves goes to `rounding` (at most 0.01 per transaction) or
/// `cash_difference`.
pub fn settlement_entry(
    amount: Decimal,
    exchange_rate: Option<Decimal>,
    transactions: &[TransactionFacts],
) -> Entry {
    let convert = |v: Decimal| match exchange_rate {
        Some(rate) => round_cents(v * rate),
        None => v,
    };
    let mut entry = Entry::default();
    entry.post(Role::Bank, convert(amount), "payout", "/amount");
    for (i, t) in transactions.iter().enumerate() {
        let source = format!("/transactions/{i}");
        let words = match t.kind {
            TransactionType::Payment => "payment paid out",
            TransactionType::Refund => "refund",
            TransactionType::Chargeback => "chargeback",
            TransactionType::Fee => "fee",
            TransactionType::Adjustment => "adjustment",
        };
        if let Some(p) = entry.post(Role::PaymentClearing, -convert(t.gross), words, &source) {
            p.method_id = t.method_id.clone();
        }
        if let Some(fee) = &t.fee {
            let words = format!("payment-provider fee {}", rate_words(&fee.rate));
            let fee_source = format!("{source}/fee");
            if let Some(p) =
                entry.post(Role::PspFees, convert(fee.excl), words.clone(), &fee_source)
            {
                p.rate = Some(fee.rate);
            }
            if let Some(p) = entry.post(Role::VatReceivable, convert(fee.vat), words, &fee_source) {
                p.rate = Some(fee.rate);
            }
        }
    }
    entry.balance(transactions.len(), "/amount");
    entry
}
