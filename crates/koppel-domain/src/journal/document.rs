//! The entry of one document, an order or a receipt: revenue and VAT per VAT group, against
//! what the buyer owes (an order) or what was paid (a receipt), with the payments and the
//! providers' fees.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::{Entry, Role, rate_words};
use crate::daily::{RateFigures, RateKey};
use crate::money::round_cents;
use crate::order::{CostKind, LineKind, OrderStatus, PaymentStatus, ValidOrder};
use crate::receipt::{ReceiptLineKind, ValidReceipt};

/// One revenue-side part of a document: a line or a cost, in the document's currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartFacts {
    /// The role it is credited to ([`line_role`], [`cost_role`], [`receipt_line_role`]).
    pub role: Role,
    /// Its VAT group.
    pub rate: RateKey,
    /// Its revenue category (our id), if any.
    pub category_id: Option<String>,
    /// Excluding VAT (of a margin line: the total including VAT less the VAT).
    pub excl: Decimal,
    /// The VAT.
    pub vat: Decimal,
    /// Its pointer, e.g. `/lines/2`.
    pub source: String,
}

/// A payment-provider fee on a payment, in the document's currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeFacts {
    /// The fee's VAT rate.
    pub rate: RateKey,
    /// Excluding VAT.
    pub excl: Decimal,
    /// Its VAT: input VAT.
    pub vat: Decimal,
}

/// One payment, in the document's currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentFacts {
    /// The role the money is on ([`payment_role`]); `None` when the payment is not posted
    /// (a single-purpose voucher redeemed on a receipt: its value was revenue when sold).
    pub role: Option<Role>,
    /// Our id of the method.
    pub method_id: String,
    /// Where an order's payment stands; only `paid` counts. `None` on a receipt.
    pub status: Option<PaymentStatus>,
    /// The amount, net of change; negative for money paid back.
    pub amount: Decimal,
    /// What the provider charged for it.
    pub fee: Option<FeeFacts>,
    /// Its pointer, e.g. `/payments/0`.
    pub source: String,
}

/// What a document's entry is built from: the same for an order as validated and as read
/// back from the store, and for a receipt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentFacts {
    /// The lines and costs.
    pub parts: Vec<PartFacts>,
    /// The payments.
    pub payments: Vec<PaymentFacts>,
    /// Company currency per unit of the document's, for a document in another currency.
    pub exchange_rate: Option<Decimal>,
    /// An order: the total is owed by the buyer (`receivable`) and payments settle it. A
    /// receipt is paid on the spot: its payments are the counterpart.
    pub on_account: bool,
    /// A receipt's cash rounding.
    pub cash_rounding: Decimal,
    /// What single-purpose vouchers paid, per revenue rate: not revenue again. In the
    /// company's currency (a receipt's converted figures), never converted again.
    pub voucher_redemptions: Vec<(RateKey, RateFigures)>,
    /// An order that counts zero ([`order_counts_zero`]): its entry is empty.
    pub counts_zero: bool,
}

/// Whether an order counts zero in journals and the VAT return (VAT.md, v1.1): cancelled,
/// or refunded in full without a credit order (its figures and its refund cancel).
pub fn order_counts_zero(status: OrderStatus, has_credit_orders: bool) -> bool {
    status == OrderStatus::Cancelled || (status == OrderStatus::Refunded && !has_credit_orders)
}

/// The role an order line is credited to.
pub fn line_role(kind: LineKind) -> Role {
    match kind {
        LineKind::Sale | LineKind::ServiceCharge | LineKind::GiftCardSinglePurpose => Role::Revenue,
        LineKind::GiftCardMultiPurpose => Role::GiftCardLiability,
        LineKind::Deposit => Role::Deposits,
    }
}

/// The role a receipt line is credited to.
pub fn receipt_line_role(kind: ReceiptLineKind) -> Role {
    match kind {
        ReceiptLineKind::Sale | ReceiptLineKind::GiftCardSinglePurpose => Role::Revenue,
        ReceiptLineKind::Tip => Role::TipsPayable,
        ReceiptLineKind::GiftCardMultiPurpose => Role::GiftCardLiability,
        ReceiptLineKind::Deposit => Role::Deposits,
    }
}

/// The role an order cost is credited to.
pub fn cost_role(kind: CostKind) -> Role {
    match kind {
        CostKind::Shipping => Role::ShippingRevenue,
        CostKind::Payment => Role::PaymentRevenue,
        CostKind::Surcharge => Role::SurchargeRevenue,
        CostKind::Discount => Role::Discounts,
        CostKind::Other => Role::Revenue,
        CostKind::Rounding => Role::Rounding,
    }
}

/// The role money taken by a payment method of `kind` is on: cash in the till, a gift card
/// or voucher against its liability, on account against the receivable, anything else on
/// its way through a clearing account. A single-purpose voucher redeemed on a receipt is not
/// posted (`None`); on an order it is cleared as any payment (orders take no vouchers out of
/// revenue).
pub fn payment_role(kind: &str, on_receipt: bool) -> Option<Role> {
    match kind {
        "cash" => Some(Role::Cash),
        "gift_card" | "voucher" => Some(Role::GiftCardLiability),
        "on_account" => Some(Role::Receivable),
        "single_purpose_voucher" if on_receipt => None,
        _ => Some(Role::PaymentClearing),
    }
}

/// The facts of a validated order; `method_kind` answers a payment method's kind.
pub fn order_facts(
    order: &ValidOrder,
    method_kind: impl Fn(&str) -> Option<String>,
    has_credit_orders: bool,
) -> DocumentFacts {
    let key = |v: &crate::document::ValidVat| (v.category, v.percentage, v.country);
    let parts = order
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| PartFacts {
            role: line_role(l.kind),
            rate: key(&l.vat),
            category_id: l.category_id.clone(),
            excl: l.total_excl_vat,
            vat: l.vat.amount,
            source: format!("/lines/{i}"),
        })
        .chain(order.costs.iter().enumerate().map(|(i, c)| PartFacts {
            role: cost_role(c.kind),
            rate: key(&c.vat),
            category_id: None,
            excl: c.amount_excl_vat,
            vat: c.vat.amount,
            source: format!("/costs/{i}"),
        }))
        .collect();
    let payments = order
        .payments
        .iter()
        .enumerate()
        .map(|(i, p)| PaymentFacts {
            role: payment_role(
                method_kind(&p.method_id).as_deref().unwrap_or("other"),
                false,
            ),
            method_id: p.method_id.clone(),
            status: Some(p.status),
            amount: p.amount,
            fee: p.fee.as_ref().map(|f| FeeFacts {
                rate: key(&f.vat),
                excl: f.amount_excl_vat,
                vat: f.vat.amount,
            }),
            source: format!("/payments/{i}"),
        })
        .collect();
    DocumentFacts {
        parts,
        payments,
        exchange_rate: order
            .company_currency
            .as_ref()
            .and(order.details.exchange_rate),
        on_account: true,
        cash_rounding: Decimal::ZERO,
        voucher_redemptions: Vec::new(),
        counts_zero: order_counts_zero(order.status, has_credit_orders),
    }
}

/// The facts of a validated receipt; `method_kind` answers a payment method's kind.
pub fn receipt_facts(
    receipt: &ValidReceipt,
    method_kind: impl Fn(&str) -> Option<String>,
) -> DocumentFacts {
    DocumentFacts {
        parts: receipt
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| PartFacts {
                role: receipt_line_role(l.kind),
                rate: (l.vat.category, l.vat.percentage, l.vat.country),
                category_id: Some(l.category_id.clone()),
                excl: l.total_excl_vat,
                vat: l.vat.amount,
                source: format!("/lines/{i}"),
            })
            .collect(),
        payments: receipt
            .payments
            .iter()
            .enumerate()
            .map(|(i, p)| PaymentFacts {
                role: payment_role(
                    method_kind(&p.method_id).as_deref().unwrap_or("other"),
                    true,
                ),
                method_id: p.method_id.clone(),
                status: None,
                amount: p.net(),
                fee: None,
                source: format!("/payments/{i}"),
            })
            .collect(),
        exchange_rate: receipt.company_currency.as_ref().and(receipt.exchange_rate),
        on_account: false,
        cash_rounding: receipt.cash_rounding,
        voucher_redemptions: receipt.booked_voucher_redemptions().to_vec(),
        counts_zero: false,
    }
}

/// The entry of a document: per VAT group (in the breakdown's order) its parts credited by
/// role (and category), summed, and its VAT to `vat_payable`; an order's total debited to
/// `receivable` and each paid payment moved from it to the method's role; a receipt's
/// payments debited as they are; each fee debited to `psp_fees` and its VAT to
/// `vat_receivable` against the payment's role. In another currency every group's base and
/// VAT are converted and rounded on their own (VAT.md, "Foreign currency"), the group's parts
/// sharing its base with the last taking the remainder, so revenue and VAT per group equal
/// the company-currency breakdown to the cent; a receipt's payments are converted as its day
/// converts them ([`crate::receipt::converted_payments`]).
pub fn document_entry(facts: &DocumentFacts) -> Entry {
    let mut entry = Entry::default();
    if facts.counts_zero {
        return entry;
    }
    let convert = |v: Decimal| match facts.exchange_rate {
        Some(rate) => round_cents(v * rate),
        None => v,
    };
    let mut groups: BTreeMap<RateKey, Vec<&PartFacts>> = BTreeMap::new();
    for part in &facts.parts {
        groups.entry(part.rate).or_default().push(part);
    }
    let mut total = Decimal::ZERO;
    for (i, (rate, parts)) in groups.iter().enumerate() {
        let group_source = format!("/vat_breakdown/{i}");
        let excl = convert(parts.iter().map(|p| p.excl).sum());
        let vat = convert(parts.iter().map(|p| p.vat).sum());
        total += excl + vat;
        // The group's parts summed per role and category, in the order they first appear.
        let mut shares: Vec<Share<'_>> = Vec::new();
        for p in parts {
            let k = (p.role, p.category_id.as_deref());
            match shares.iter_mut().find(|(key, ..)| *key == k) {
                Some((_, sum, sources)) => {
                    *sum += p.excl;
                    sources.push(&p.source);
                }
                None => shares.push((k, p.excl, vec![&p.source])),
            }
        }
        let mut left = excl;
        let count = shares.len();
        for (n, ((role, category), amount, sources)) in shares.into_iter().enumerate() {
            let share = if n + 1 == count {
                left
            } else {
                convert(amount)
            };
            left -= share;
            let source = match sources.as_slice() {
                [one] => (*one).to_owned(),
                _ => group_source.clone(),
            };
            let words = format!("{} {}", role_words(role), rate_words(rate));
            if let Some(p) = entry.post(role, -share, words, source) {
                p.rate = Some(*rate);
                p.category_id = category.map(str::to_owned);
            }
        }
        let words = format!("VAT {}", rate_words(rate));
        if let Some(p) = entry.post(Role::VatPayable, -vat, words, group_source) {
            p.rate = Some(*rate);
        }
    }
    for (rate, share) in &facts.voucher_redemptions {
        let words = format!("single-purpose voucher redeemed {}", rate_words(rate));
        if let Some(p) = entry.post(Role::Revenue, share.base, words.clone(), "/payments") {
            p.rate = Some(*rate);
        }
        if let Some(p) = entry.post(Role::VatPayable, share.vat, words, "/payments") {
            p.rate = Some(*rate);
        }
    }
    if facts.on_account {
        let source = if facts.exchange_rate.is_some() {
            "/totals_company_currency/total_incl_vat"
        } else {
            "/totals/total_incl_vat"
        };
        entry.post(Role::Receivable, total, "owed by the buyer", source);
    }
    // A receipt in another currency: its payments and cash rounding as its day counts them,
    // the last payment taking what makes them the converted total.
    let (receipt_payments, cash_rounding) = match facts.exchange_rate {
        Some(rate) if !facts.on_account => {
            let nets: Vec<Decimal> = facts.payments.iter().map(|p| p.amount).collect();
            let (converted, rounding) =
                crate::receipt::converted_payments(rate, &nets, facts.cash_rounding, total);
            (Some(converted), rounding)
        }
        _ => (None, convert(facts.cash_rounding)),
    };
    for (i, payment) in facts.payments.iter().enumerate() {
        let Some(role) = payment.role else { continue };
        if payment.status.is_some_and(|s| s != PaymentStatus::Paid) {
            continue;
        }
        let amount = match &receipt_payments {
            Some(converted) => converted[i],
            None => convert(payment.amount),
        };
        let method = Some(payment.method_id.clone());
        if let Some(p) = entry.post(role, amount, "payment", &payment.source) {
            p.method_id = method.clone();
        }
        if facts.on_account
            && let Some(p) = entry.post(Role::Receivable, -amount, "paid", &payment.source)
        {
            p.method_id = None;
        }
        if let Some(fee) = &payment.fee {
            let (excl, vat) = (convert(fee.excl), convert(fee.vat));
            let source = format!("{}/fee", payment.source);
            let words = format!("payment-provider fee {}", rate_words(&fee.rate));
            if let Some(p) = entry.post(Role::PspFees, excl, words.clone(), &source) {
                p.rate = Some(fee.rate);
            }
            if let Some(p) = entry.post(Role::VatReceivable, vat, words, &source) {
                p.rate = Some(fee.rate);
            }
            if let Some(p) = entry.post(role, -(excl + vat), "fee withheld", &source) {
                p.method_id = method;
            }
        }
    }
    entry.post(
        Role::Rounding,
        cash_rounding,
        "cash rounding",
        "/cash_rounding",
    );
    entry.balance(groups.len(), "/totals");
    entry
}

/// A group's parts of one role and category: their sum and their pointers.
type Share<'a> = ((Role, Option<&'a str>), Decimal, Vec<&'a str>);

fn role_words(role: Role) -> &'static str {
    match role {
        Role::Revenue => "revenue",
        Role::ShippingRevenue => "shipping",
        Role::PaymentRevenue => "payment costs",
        Role::SurchargeRevenue => "surcharge",
        Role::Discounts => "discount",
        Role::GiftCardLiability => "multi-purpose gift card sold",
        Role::TipsPayable => "tips",
        Role::Deposits => "deposits",
        Role::Rounding => "rounding",
        other => other.as_str(),
    }
}
