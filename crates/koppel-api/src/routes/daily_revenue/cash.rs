//! The drawer of a day closed with a Z-report, as answered: what it should hold, what was
//! counted, the cash difference, and every counted amount beside what its method took. The
//! count itself is `koppel_domain::z_report`.

use koppel_domain::z_report::ZReport;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::answers::DayPaymentFigures;

/// Cash into or out of the drawer, as the Z-report gave it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DayCashMove {
    /// How much.
    #[schema(value_type = String, example = "20.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub amount: Decimal,
    /// What for.
    pub description: Option<String>,
}

/// One counted amount of the Z-report, beside what the method took.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DayCountedMethod {
    /// The payment method.
    pub method_id: Uuid,
    /// Its kind; `cash` counts in the drawer.
    #[schema(value_type = Option<crate::closed_sets::PaymentMethodKind>)]
    pub kind: Option<String>,
    /// What was counted.
    #[schema(value_type = String, example = "388.10")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub counted: Decimal,
    /// What the method took on the day, net of change.
    #[schema(value_type = String, example = "388.10")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub taken: Decimal,
    /// `counted − taken` for a method other than cash (a card terminal's total against the
    /// receipts); null for cash, whose difference is the drawer's (`cash.difference`).
    #[schema(value_type = Option<String>, example = "0.00")]
    #[serde(serialize_with = "crate::money::serialize_option")]
    pub difference: Option<Decimal>,
}

/// The drawer, from the Z-report the day was closed with: what it should hold, what was
/// counted, and the cash difference (kasverschil) to book.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DayCash {
    /// The till's number of the report.
    pub z_number: Option<String>,
    /// Cash at the start of the day.
    #[schema(value_type = String, example = "150.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub opening_float: Decimal,
    /// What the cash methods took, net of change.
    #[schema(value_type = String, example = "412.35")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub cash_takings: Decimal,
    /// Cash put in beside sales.
    pub pay_ins: Vec<DayCashMove>,
    /// Cash taken out beside change.
    pub pay_outs: Vec<DayCashMove>,
    /// Cash taken to the bank.
    #[schema(value_type = String, example = "400.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub bank_deposit: Decimal,
    /// Opening float + cash takings + pay-ins − pay-outs − bank deposit.
    #[schema(value_type = String, example = "142.35")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub expected: Decimal,
    /// What was counted of the cash methods; null when the report counted no cash.
    #[schema(value_type = Option<String>, example = "142.30")]
    #[serde(serialize_with = "crate::money::serialize_option")]
    pub counted: Option<Decimal>,
    /// `counted − expected`: negative when cash is missing; null without a count.
    #[schema(value_type = Option<String>, example = "-0.05")]
    #[serde(serialize_with = "crate::money::serialize_option")]
    pub difference: Option<Decimal>,
    /// Every counted amount, with what its method took.
    pub counted_by_method: Vec<DayCountedMethod>,
}

impl DayCash {
    pub(super) fn of(report: &ZReport, payments: &[DayPaymentFigures]) -> DayCash {
        let taken = |id: &str| {
            payments
                .iter()
                .filter(|p| p.method_id.to_string() == id)
                .map(|p| p.amount)
                .sum::<Decimal>()
        };
        let cash_takings = payments
            .iter()
            .filter(|p| p.kind == "cash")
            .map(|p| p.amount)
            .sum::<Decimal>();
        let count = report.cash(cash_takings, |c| c.kind.as_deref() == Some("cash"));
        let moves = |list: &[koppel_domain::z_report::CashMove]| {
            list.iter()
                .map(|m| DayCashMove {
                    amount: m.amount,
                    description: m.description.clone(),
                })
                .collect()
        };
        DayCash {
            z_number: report.z_number.clone(),
            opening_float: report.opening_float,
            cash_takings,
            pay_ins: moves(&report.pay_ins),
            pay_outs: moves(&report.pay_outs),
            bank_deposit: report.bank_deposit,
            expected: count.expected,
            counted: count.counted,
            difference: count.difference,
            counted_by_method: report
                .counted
                .iter()
                .filter_map(|c| {
                    let method_id = Uuid::parse_str(&c.method_id).ok()?;
                    let taken = taken(&c.method_id);
                    let cash = c.kind.as_deref() == Some("cash");
                    Some(DayCountedMethod {
                        method_id,
                        kind: c.kind.clone(),
                        counted: c.amount,
                        taken,
                        difference: (!cash).then(|| c.amount - taken),
                    })
                })
                .collect(),
        }
    }
}
