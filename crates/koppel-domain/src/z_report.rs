//! The Z-report of a till's day: what the drawer held at the start (opening float), the cash
//! that went in and out beside sales (pay-ins, pay-outs, the bank deposit), and what was
//! counted at the end, per payment method. With the day's cash takings it gives what the
//! drawer should hold and the difference a bookkeeper books as a cash difference
//! (kasverschil).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::document::{Checker, ExternalKind, MAX_COSTS_OR_PAYMENTS, References, within_bounds};
use crate::problem::{Violation, codes};

/// A Z-report as the vendor sends it with the close of a day.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZReportDraft {
    /// The location whose day this is; the same as the close's `?location_id=`.
    pub location_id: Option<String>,
    /// The till's own number of the report.
    pub z_number: Option<String>,
    /// Cash in the drawer when the day started.
    #[serde(default, with = "crate::money::exact::option")]
    pub opening_float: Option<Decimal>,
    /// What was counted at the end, per payment method.
    #[serde(default)]
    pub counted: Vec<CountedDraft>,
    /// Cash put into the drawer beside sales.
    #[serde(default)]
    pub pay_ins: Vec<CashMoveDraft>,
    /// Cash taken out of the drawer beside change (flowers, a supplier paid cash).
    #[serde(default)]
    pub pay_outs: Vec<CashMoveDraft>,
    /// Cash taken to the bank.
    #[serde(default, with = "crate::money::exact::option")]
    pub bank_deposit: Option<Decimal>,
}

impl ZReportDraft {
    /// Whether it reports nothing (a body that only names the location, or `{}`): a close
    /// without a Z-report.
    pub fn is_empty(&self) -> bool {
        self.z_number.is_none()
            && self.opening_float.is_none()
            && self.counted.is_empty()
            && self.pay_ins.is_empty()
            && self.pay_outs.is_empty()
            && self.bank_deposit.is_none()
    }
}

/// One counted amount.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountedDraft {
    /// Koppel's id of the payment method.
    pub method_id: Option<String>,
    /// The vendor's id of the payment method.
    pub method_external_id: Option<String>,
    /// What was counted.
    #[serde(default, with = "crate::money::exact::option")]
    pub amount: Option<Decimal>,
}

/// Cash in or out of the drawer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CashMoveDraft {
    /// How much.
    #[serde(default, with = "crate::money::exact::option")]
    pub amount: Option<Decimal>,
    /// What for.
    pub description: Option<String>,
}

/// A checked Z-report, as stored with the day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZReport {
    /// The till's number of the report.
    pub z_number: Option<String>,
    /// Cash at the start (0 when not sent).
    pub opening_float: Decimal,
    /// Counted amounts, one per method, in the order sent.
    pub counted: Vec<Counted>,
    /// Pay-ins.
    pub pay_ins: Vec<CashMove>,
    /// Pay-outs.
    pub pay_outs: Vec<CashMove>,
    /// The bank deposit (0 when not sent).
    pub bank_deposit: Decimal,
}

/// A counted amount of one method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counted {
    /// The payment method (Koppel's id).
    pub method_id: String,
    /// What was counted.
    pub amount: Decimal,
    /// The method's kind (`cash` counts in the drawer), filled in from the company's
    /// settings when the report is stored.
    #[serde(default)]
    pub kind: Option<String>,
}

/// Cash in or out, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashMove {
    /// How much, above zero.
    pub amount: Decimal,
    /// What for.
    pub description: Option<String>,
}

/// Checks a Z-report: amounts are money (two decimals; the float, counts and deposit not
/// negative, pay-ins and pay-outs above zero), every counted method exists and is counted
/// once, lists within bounds. Every problem at once, with its pointer.
pub fn check_z_report(
    draft: &ZReportDraft,
    refs: &dyn References,
) -> Result<ZReport, Vec<Violation>> {
    within_bounds(&[
        ("/counted", draft.counted.len(), MAX_COSTS_OR_PAYMENTS),
        ("/pay_ins", draft.pay_ins.len(), MAX_COSTS_OR_PAYMENTS),
        ("/pay_outs", draft.pay_outs.len(), MAX_COSTS_OR_PAYMENTS),
    ])?;
    let mut c = Checker::new(refs);
    let zero = Decimal::new(0, 2);
    let not_negative = |c: &mut Checker<'_>, pointer: &str, value: Option<Decimal>| {
        let v = c.bounded(pointer.to_owned(), value?, 2)?;
        if v.is_sign_negative() && !v.is_zero() {
            c.push(
                pointer,
                codes::INVALID_VALUE,
                format!("{} must not be negative, got {v}", field(pointer)),
                format!("{} mag niet negatief zijn, ontvangen: {v}", field(pointer)),
            );
            return None;
        }
        Some(v)
    };
    let opening_float = not_negative(&mut c, "/opening_float", draft.opening_float);
    let bank_deposit = not_negative(&mut c, "/bank_deposit", draft.bank_deposit);
    let mut counted: Vec<Counted> = Vec::with_capacity(draft.counted.len());
    for (i, item) in draft.counted.iter().enumerate() {
        let p = format!("/counted/{i}");
        let before = c.out.len();
        let method = c.required_reference(
            &p,
            "method",
            item.method_id.as_deref(),
            item.method_external_id.as_deref(),
            ExternalKind::PaymentMethod,
            |r, id| r.payment_method_exists(id),
        );
        let amount = match item.amount {
            None => {
                c.missing(format!("{p}/amount"));
                None
            }
            some => not_negative(&mut c, &format!("{p}/amount"), some),
        };
        if c.out.len() > before {
            continue;
        }
        let (Some(method_id), Some(amount)) = (method.id, amount) else {
            continue;
        };
        if counted.iter().any(|k| k.method_id == method_id) {
            c.push(
                p,
                codes::DUPLICATE_PAYMENT_METHOD,
                format!("payment method {method_id} is counted twice"),
                format!("betaalmethode {method_id} is twee keer geteld"),
            );
            continue;
        }
        counted.push(Counted {
            method_id,
            amount,
            kind: None,
        });
    }
    let moves = |c: &mut Checker<'_>, list: &str, drafts: &[CashMoveDraft]| {
        let mut out = Vec::with_capacity(drafts.len());
        for (i, m) in drafts.iter().enumerate() {
            let pointer = format!("/{list}/{i}/amount");
            let Some(amount) = c.amount(pointer.clone(), m.amount, 2) else {
                continue;
            };
            if amount <= Decimal::ZERO {
                c.push(
                    pointer,
                    codes::INVALID_VALUE,
                    format!("a {list} amount is above zero, got {amount}"),
                    format!("een bedrag in {list} is groter dan nul, ontvangen: {amount}"),
                );
                continue;
            }
            out.push(CashMove {
                amount,
                description: m.description.clone(),
            });
        }
        out
    };
    let pay_ins = moves(&mut c, "pay_ins", &draft.pay_ins);
    let pay_outs = moves(&mut c, "pay_outs", &draft.pay_outs);
    if !c.out.is_empty() {
        return Err(c.out);
    }
    Ok(ZReport {
        z_number: draft.z_number.clone(),
        opening_float: opening_float.unwrap_or(zero),
        counted,
        pay_ins,
        pay_outs,
        bank_deposit: bank_deposit.unwrap_or(zero),
    })
}

fn field(pointer: &str) -> &str {
    pointer.rsplit('/').next().unwrap_or_default()
}

/// What the drawer should hold and what it held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CashCount {
    /// Opening float + cash takings (net of change) + pay-ins − pay-outs − bank deposit.
    pub expected: Decimal,
    /// What was counted of the cash methods; `None` when none was counted.
    pub counted: Option<Decimal>,
    /// `counted − expected`: negative when cash is missing.
    pub difference: Option<Decimal>,
}

impl ZReport {
    /// The total of the pay-ins.
    pub fn pay_ins_total(&self) -> Decimal {
        self.pay_ins.iter().map(|m| m.amount).sum()
    }

    /// The total of the pay-outs.
    pub fn pay_outs_total(&self) -> Decimal {
        self.pay_outs.iter().map(|m| m.amount).sum()
    }

    /// The drawer's count, given the day's cash takings net of change and which counted
    /// methods are cash.
    pub fn cash(&self, cash_takings: Decimal, is_cash: impl Fn(&Counted) -> bool) -> CashCount {
        let expected = self.opening_float + cash_takings + self.pay_ins_total()
            - self.pay_outs_total()
            - self.bank_deposit;
        let cash: Vec<Decimal> = self
            .counted
            .iter()
            .filter(|k| is_cash(k))
            .map(|k| k.amount)
            .collect();
        let counted = (!cash.is_empty()).then(|| cash.iter().copied().sum::<Decimal>());
        CashCount {
            expected,
            counted,
            difference: counted.map(|c| c - expected),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::KnownReferences;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn refs() -> KnownReferences {
        let mut known = KnownReferences::default();
        known
            .payment_methods
            .extend(["cash".to_owned(), "pin".to_owned()]);
        known.external.insert(
            (ExternalKind::PaymentMethod, "contant".to_owned()),
            "cash".to_owned(),
        );
        known
    }

    #[test]
    fn the_bakery_drawer_is_five_cents_short() {
        let draft: ZReportDraft = serde_json::from_str(
            r#"{"z_number": "Z-0412", "opening_float": "150.00",
                "counted": [{"method_external_id": "contant", "amount": "142.30"},
                            {"method_id": "pin", "amount": "388.10"}],
                "pay_outs": [{"amount": "20.00", "description": "bloemen"}],
                "bank_deposit": "400.00"}"#,
        )
        .unwrap();
        let z = check_z_report(&draft, &refs()).unwrap();
        assert_eq!(z.counted[0].method_id, "cash");
        let count = z.cash(d("412.35"), |k| k.method_id == "cash");
        assert_eq!(count.expected, d("142.35"));
        assert_eq!(count.counted, Some(d("142.30")));
        assert_eq!(count.difference, Some(d("-0.05")));
        // Without a cash count there is no difference, only what is expected.
        let mut uncounted = z.clone();
        uncounted.counted.retain(|k| k.method_id != "cash");
        assert_eq!(
            uncounted
                .cash(d("412.35"), |k| k.method_id == "cash")
                .difference,
            None
        );
    }

    #[test]
    fn a_z_report_is_refused_with_a_pointer_for_each_problem() {
        let draft: ZReportDraft = serde_json::from_str(
            r#"{"opening_float": "-5.00",
                "counted": [{"method_id": "pin", "amount": "1.005"},
                            {"method_id": "card", "amount": "3.00"},
                            {"method_external_id": "unknown", "amount": "1.00"},
                            {"amount": "1.00"},
                            {"method_id": "cash", "amount": "2.00"},
                            {"method_external_id": "contant", "amount": "2.00"}],
                "pay_ins": [{"amount": "0.00"}], "pay_outs": [{"description": "x"}],
                "bank_deposit": "10.001"}"#,
        )
        .unwrap();
        let problems = check_z_report(&draft, &refs()).unwrap_err();
        let pointers: Vec<&str> = problems.iter().map(|v| v.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/opening_float",
                "/bank_deposit",
                "/counted/0/amount",
                "/counted/1/method_id",
                "/counted/2/method_external_id",
                "/counted/3/method_id",
                "/counted/5",
                "/pay_ins/0/amount",
                "/pay_outs/0/amount",
            ]
        );
        // An empty report is a close without a count.
        let empty = check_z_report(&ZReportDraft::default(), &refs()).unwrap();
        assert_eq!(empty.opening_float, d("0.00"));
        assert!(empty.counted.is_empty());
    }
}
