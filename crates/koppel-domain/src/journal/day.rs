//! The entry of a business day (dagomzet): revenue and VAT per rate from the day's figures,
//! payments per method, what was collected beside revenue, and the drawer's count. It reads
//! the day's figures only, never its receipts, so a day of any size costs the same.

use rust_decimal::Decimal;

use super::{Entry, Role, payment_role, rate_words};
use crate::daily::RateKey;

/// Revenue and VAT of one rate on the day, net of single-purpose vouchers redeemed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayRate {
    /// The rate.
    pub rate: RateKey,
    /// Revenue excluding VAT.
    pub base: Decimal,
    /// VAT.
    pub vat: Decimal,
}

/// What one payment method took on the day, net of change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayPayment {
    /// Our id of the method.
    pub method_id: String,
    /// Its kind, e.g. `cash`.
    pub kind: String,
    /// The amount.
    pub amount: Decimal,
}

/// The drawer of a day closed with a Z-report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayCash {
    /// Counted minus expected (negative when cash is missing); `None` when nothing was
    /// counted.
    pub difference: Option<Decimal>,
    /// Cash taken to the bank.
    pub bank_deposit: Decimal,
    /// Cash put in beside sales.
    pub pay_ins: Vec<CashMove>,
    /// Cash taken out beside sales.
    pub pay_outs: Vec<CashMove>,
}

/// Cash put into or taken out of the till beside sales, as the Z-report gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CashMove {
    /// How much; positive.
    pub amount: Decimal,
    /// What for, as the till recorded it.
    pub description: Option<String>,
}

/// A day's figures as its entry needs them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayFacts {
    /// Revenue per rate, in the day's order (`/by_vat_rate/{i}`).
    pub by_vat_rate: Vec<DayRate>,
    /// Payments per method, in the day's order (`/by_payment_method/{i}`).
    pub by_payment_method: Vec<DayPayment>,
    /// Tips.
    pub tips: Decimal,
    /// Multi-purpose gift cards sold.
    pub gift_cards_multi_purpose: Decimal,
    /// Deposits.
    pub deposits: Decimal,
    /// Cash rounding.
    pub cash_rounding: Decimal,
    /// The drawer, once the day was closed with a Z-report.
    pub cash: Option<DayCash>,
}

/// The day's entry: revenue and VAT per rate credited, tips, multi-purpose gift cards and
/// deposits credited to their roles, payments debited per method (single-purpose vouchers
/// redeemed are not: the day's revenue is already net of them), cash rounding to
/// `rounding`; what the figures leave over to `rounding` (at most 0.01 per rate) or
/// `cash_difference`. Then the drawer: the counted difference between `cash` and
/// `cash_difference`, the bank deposit from `cash` to `bank`, and each pay-in and pay-out
/// between `cash` and `cash_transfers`. The drawer's postings to `cash` then add up to what
/// the till holds more than at the start of the day: counted minus the opening float.
pub fn day_entry(day: &DayFacts) -> Entry {
    let mut entry = Entry::default();
    for (i, r) in day.by_vat_rate.iter().enumerate() {
        let source = format!("/by_vat_rate/{i}");
        let words = rate_words(&r.rate);
        if let Some(p) = entry.post(Role::Revenue, -r.base, format!("revenue {words}"), &source) {
            p.rate = Some(r.rate);
        }
        if let Some(p) = entry.post(Role::VatPayable, -r.vat, format!("VAT {words}"), &source) {
            p.rate = Some(r.rate);
        }
    }
    entry.post(Role::TipsPayable, -day.tips, "tips", "/tips");
    entry.post(
        Role::GiftCardLiability,
        -day.gift_cards_multi_purpose,
        "multi-purpose gift cards sold",
        "/gift_cards/sold_multi_purpose",
    );
    entry.post(Role::Deposits, -day.deposits, "deposits", "/deposits");
    let mut cash_method = None;
    for (i, payment) in day.by_payment_method.iter().enumerate() {
        let Some(role) = payment_role(&payment.kind, true) else {
            continue;
        };
        if role == Role::Cash && cash_method.is_none() {
            cash_method = Some(payment.method_id.clone());
        }
        let source = format!("/by_payment_method/{i}");
        if let Some(p) = entry.post(role, payment.amount, "payments", source) {
            p.method_id = Some(payment.method_id.clone());
        }
    }
    entry.post(
        Role::Rounding,
        day.cash_rounding,
        "cash rounding",
        "/cash_rounding",
    );
    entry.balance(day.by_vat_rate.len(), "/payments_check/difference");
    if let Some(cash) = &day.cash {
        let difference = cash.difference.unwrap_or_default();
        if let Some(p) = entry.post(Role::Cash, difference, "cash counted", "/cash/difference") {
            p.method_id = cash_method.clone();
        }
        entry.post(
            Role::CashDifference,
            -difference,
            "cash counted",
            "/cash/difference",
        );
        entry.post(
            Role::Bank,
            cash.bank_deposit,
            "cash to the bank",
            "/cash/bank_deposit",
        );
        if let Some(p) = entry.post(
            Role::Cash,
            -cash.bank_deposit,
            "cash to the bank",
            "/cash/bank_deposit",
        ) {
            p.method_id = cash_method.clone();
        }
        let moves = [
            ("pay_ins", "cash paid in", Decimal::ONE, &cash.pay_ins),
            (
                "pay_outs",
                "cash paid out",
                Decimal::NEGATIVE_ONE,
                &cash.pay_outs,
            ),
        ];
        for (field, words, sign, list) in moves {
            for (i, m) in list.iter().enumerate() {
                let source = format!("/cash/{field}/{i}");
                let words = match m.description.as_deref().map(str::trim) {
                    Some(what) if !what.is_empty() => format!("{words}: {what}"),
                    _ => words.to_owned(),
                };
                if let Some(p) = entry.post(Role::Cash, sign * m.amount, words.clone(), &source) {
                    p.method_id = cash_method.clone();
                }
                entry.post(Role::CashTransfers, -sign * m.amount, words, &source);
            }
        }
    }
    entry
}
