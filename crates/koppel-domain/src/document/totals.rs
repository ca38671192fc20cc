//! A document's totals and VAT breakdown: the groups its lines and costs add up to, their
//! group tolerance check, and their conversion to the company's currency.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::LineFigures;
use crate::identifiers::CountryCode;
use crate::money::{group_tolerance, round_cents};
use crate::problem::{Violation, codes};
use crate::vat::VatCategory;

/// A document's totals as a vendor may send them; each one sent must match exactly.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TotalsDraft {
    /// The sum of the amounts excluding VAT.
    #[serde(default, with = "crate::money::exact::option")]
    pub total_excl_vat: Option<Decimal>,
    /// The sum of the VAT amounts.
    #[serde(default, with = "crate::money::exact::option")]
    pub total_vat: Option<Decimal>,
    /// The sum of the amounts including VAT.
    #[serde(default, with = "crate::money::exact::option")]
    pub total_incl_vat: Option<Decimal>,
}

/// A document's totals, computed by Koppel from its lines and costs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// The sum of the amounts excluding VAT.
    pub total_excl_vat: Decimal,
    /// The sum of the VAT amounts.
    pub total_vat: Decimal,
    /// The sum of the amounts including VAT; always `total_excl_vat + total_vat`.
    pub total_incl_vat: Decimal,
}

impl Totals {
    /// Adds one line's or cost's figures.
    pub fn add(&mut self, excl: Decimal, vat: Decimal) {
        self.total_excl_vat += excl;
        self.total_vat += vat;
        self.total_incl_vat += excl + vat;
    }
}

/// One group of the VAT breakdown: a category, rate and country with its base and VAT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VatGroup {
    /// The category.
    pub category: VatCategory,
    /// The rate in percent.
    pub percentage: Decimal,
    /// The country whose rate applies.
    pub country: CountryCode,
    /// The sum of the amounts excluding VAT; of a margin group, the margins less their VAT.
    pub base: Decimal,
    /// The sum of the VAT amounts.
    pub vat: Decimal,
    /// The sum of the amounts excluding VAT, also of a margin group; follows from the lines,
    /// so not part of the canonical form.
    #[serde(skip)]
    pub excl: Decimal,
}

/// A document's figures in the company's currency (`docs/bookkeeping-rules.md`, "Foreign
/// currency"): each group's base and VAT converted and rounded to the cent on its own, the
/// totals the sums of the groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    /// The totals in the company's currency.
    pub totals: Totals,
    /// The VAT breakdown in the company's currency.
    pub vat_breakdown: Vec<VatGroup>,
}

impl Converted {
    /// Converts a breakdown at `rate` (company currency per unit of the document's).
    pub fn at(rate: Decimal, breakdown: &[VatGroup]) -> Converted {
        let mut totals = Totals::default();
        let vat_breakdown = breakdown
            .iter()
            .map(|g| {
                let group = VatGroup {
                    base: round_cents(g.base * rate),
                    vat: round_cents(g.vat * rate),
                    excl: round_cents(g.excl * rate),
                    ..g.clone()
                };
                totals.add(group.excl, group.vat);
                group
            })
            .collect();
        Converted {
            totals,
            vat_breakdown,
        }
    }
}

/// The key of a VAT breakdown group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct GroupKey {
    pub category: VatCategory,
    pub percentage: Decimal,
    pub country: CountryCode,
}

#[derive(Debug, Default)]
struct GroupSum {
    excl: Decimal,
    base: Decimal,
    vat: Decimal,
    gross: Decimal,
    units: Decimal,
    first_pointer: String,
}

/// Collects the breakdown groups of one document.
#[derive(Debug, Default)]
pub(crate) struct Groups(BTreeMap<GroupKey, GroupSum>);

impl Groups {
    pub fn add(&mut self, figures: &LineFigures, units: Decimal, pointer: &str) {
        let key = GroupKey {
            category: figures.vat.category,
            percentage: figures.vat.percentage,
            country: figures.vat.country,
        };
        let sum = self.0.entry(key).or_insert_with(|| GroupSum {
            first_pointer: format!("{pointer}/vat/amount"),
            ..GroupSum::default()
        });
        sum.excl += figures.excl;
        sum.base += figures.margin.map_or(figures.excl, |m| m.base);
        sum.vat += figures.vat.amount;
        sum.gross += figures.incl;
        sum.units += units.abs();
    }

    /// Checks each group against its rate with the group tolerance (`docs/bookkeeping-rules.md`); a
    /// violation points at the group's first line, the request having no breakdown of its own.
    pub fn check(&self, prices_include_vat: bool, out: &mut Vec<Violation>) {
        for (key, sum) in &self.0 {
            if key.category.is_zero_rated() {
                continue;
            }
            let p = key.percentage;
            // A margin group's base is its taxable margin, never a gross amount.
            let (expected, formula_en, formula_nl) = if key.category == VatCategory::Margin {
                (
                    round_cents(sum.base * p / Decimal::ONE_HUNDRED),
                    format!("margin base {} × {p}%", sum.base),
                    format!("margegrondslag {} × {p}%", sum.base),
                )
            } else if prices_include_vat {
                (
                    round_cents(sum.gross * p / (Decimal::ONE_HUNDRED + p)),
                    format!("gross {} × {p}/(100+{p})", sum.gross),
                    format!("bruto {} × {p}/(100+{p})", sum.gross),
                )
            } else {
                (
                    round_cents(sum.base * p / Decimal::ONE_HUNDRED),
                    format!("base {} × {p}%", sum.base),
                    format!("grondslag {} × {p}%", sum.base),
                )
            };
            let diff = (sum.vat - expected).abs();
            let tolerance = group_tolerance(sum.units);
            if diff > tolerance {
                out.push(Violation::new(
                    sum.first_pointer.clone(),
                    codes::VAT_GROUP_MISMATCH,
                    format!(
                        "the vat of group {} {p}% {} is {} but {formula_en} is {expected}: a difference of {diff}, more than the group tolerance of {tolerance}",
                        key.category, key.country, sum.vat
                    ),
                    format!(
                        "de btw van groep {} {p}% {} is {} maar {formula_nl} is {expected}: een verschil van {diff}, meer dan de groepsmarge van {tolerance}",
                        key.category, key.country, sum.vat
                    ),
                ));
            }
        }
    }

    pub fn breakdown(&self) -> Vec<VatGroup> {
        self.0
            .iter()
            .map(|(key, sum)| VatGroup {
                category: key.category,
                percentage: key.percentage,
                country: key.country,
                base: sum.base,
                vat: sum.vat,
                excl: sum.excl,
            })
            .collect()
    }
}
