//! A receipt in another currency than the company's, in the company's currency
//! (`docs/bookkeeping-rules.md`, "Foreign currency"): each VAT group's base and VAT converted
//! and rounded to the cent on its own, as an order's are, the totals their sums. The day and
//! the VAT return add up lines and payments, not groups, so those are converted too and
//! allocated: within each group every line rounded on its own and the group's last line taking
//! the remainder, the last payment taking what makes the payments equal the converted total.
//! The day's rule that payments equal revenue then holds in the company's currency exactly as
//! it does in the receipt's.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::daily::{RateFigures, RateKey, voucher_shares};
use crate::document::{Converted, Totals, VatGroup};
use crate::money::round_cents;
use crate::problem::{Violation, codes};

use super::{ReceiptSplit, ValidReceiptLine, ValidReceiptPayment};

/// A receipt's figures in the company's currency, in the receipt's order of lines and
/// payments.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InCompanyCurrency {
    /// The totals: the sums of the groups.
    pub totals: Totals,
    /// The VAT breakdown, each group converted on its own.
    pub vat_breakdown: Vec<VatGroup>,
    /// Per line: its amounts.
    pub lines: Vec<LineAmounts>,
    /// Per payment: what it counts for, net of change.
    pub payments: Vec<Decimal>,
    /// The cash rounding.
    pub cash_rounding: Decimal,
    /// Revenue apart from tips, gift cards and deposits.
    pub split: ReceiptSplit,
    /// What single-purpose vouchers redeemed, per revenue rate.
    pub voucher_redemptions: Vec<(RateKey, RateFigures)>,
}

impl InCompanyCurrency {
    /// Every amount sent is below a trillion, and so is a rate; at an extreme rate their
    /// product need not be, and no day or return can hold that: refused at the rate.
    pub(super) fn within_bounds(&self) -> Result<(), Violation> {
        let largest = self
            .lines
            .iter()
            .flat_map(|l| [l.excl, l.vat, l.base])
            .chain(self.payments.iter().copied())
            .chain([self.totals.total_excl_vat, self.totals.total_incl_vat])
            .map(|v| v.abs())
            .max()
            .unwrap_or_default();
        if largest < crate::document::amount_limit() {
            return Ok(());
        }
        Err(Violation::new(
            "/exchange_rate",
            codes::AMOUNT_OUT_OF_RANGE,
            format!(
                "at this exchange rate an amount of the receipt would be {largest} in the company's currency, more than the trillion an amount may be"
            ),
            format!(
                "tegen deze wisselkoers zou een bedrag van de bon {largest} zijn in de valuta van de administratie, meer dan het biljoen dat een bedrag mag zijn"
            ),
        ))
    }
}

/// A receipt's payments (net of change) and cash rounding at `rate`, given its total already
/// converted: each rounded on its own, the last payment taking what makes them, with the cash
/// rounding, that total (without payments the cash rounding is the whole total). The day and
/// the receipt's journal both use this, so they agree to the cent.
pub fn converted_payments(
    rate: Decimal,
    nets: &[Decimal],
    cash_rounding: Decimal,
    total: Decimal,
) -> (Vec<Decimal>, Decimal) {
    let mut cash_rounding = round_cents(cash_rounding * rate);
    let mut converted: Vec<Decimal> = nets.iter().map(|n| round_cents(n * rate)).collect();
    match converted.split_last_mut() {
        Some((last, others)) => {
            *last = total - cash_rounding - others.iter().sum::<Decimal>();
        }
        None => cash_rounding = total,
    }
    (converted, cash_rounding)
}

/// A line's amounts in the company's currency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineAmounts {
    /// Excluding VAT.
    pub excl: Decimal,
    /// The VAT.
    pub vat: Decimal,
    /// The base in the VAT return: under the margin scheme the margin less its VAT, else
    /// `excl`.
    pub base: Decimal,
}

/// The key of the VAT group a line belongs to.
fn key(line: &ValidReceiptLine) -> RateKey {
    (line.vat.category, line.vat.percentage, line.vat.country)
}

/// Converts a valid receipt's figures at `rate` (company currency per unit of the receipt's).
/// `is_voucher` tells, per payment, whether its method redeems single-purpose vouchers.
pub(super) fn convert(
    rate: Decimal,
    lines: &[ValidReceiptLine],
    payments: &[ValidReceiptPayment],
    cash_rounding: Decimal,
    breakdown: &[VatGroup],
    is_voucher: &[bool],
) -> InCompanyCurrency {
    let Converted {
        totals,
        vat_breakdown,
    } = Converted::at(rate, breakdown);

    // Lines: each rounded on its own; the last line of each group takes what is left of the
    // group's converted figures (its base too, which differs from its amount excluding VAT
    // under the margin scheme).
    let mut converted: Vec<LineAmounts> = lines
        .iter()
        .map(|l| LineAmounts {
            excl: round_cents(l.total_excl_vat * rate),
            vat: round_cents(l.vat.amount * rate),
            base: round_cents(l.vat_base() * rate),
        })
        .collect();
    for group in &vat_breakdown {
        let members: Vec<usize> = (0..lines.len())
            .filter(|&i| key(&lines[i]) == (group.category, group.percentage, group.country))
            .collect();
        if let Some((&last, others)) = members.split_last() {
            let mut left = LineAmounts {
                excl: group.excl,
                vat: group.vat,
                base: group.base,
            };
            for &i in others {
                left.excl -= converted[i].excl;
                left.vat -= converted[i].vat;
                left.base -= converted[i].base;
            }
            converted[last] = left;
        }
    }

    let (_, split) = ReceiptSplit::of(
        lines
            .iter()
            .zip(&converted)
            .map(|(line, amounts)| (line.kind, amounts.excl, amounts.vat)),
    );
    let mut revenue: BTreeMap<RateKey, (Decimal, Decimal)> = BTreeMap::new();
    for (line, amounts) in lines.iter().zip(&converted) {
        if line.kind.is_revenue() {
            let group = revenue.entry(key(line)).or_default();
            group.0 += amounts.excl;
            group.1 += amounts.vat;
        }
    }

    let nets: Vec<Decimal> = payments.iter().map(ValidReceiptPayment::net).collect();
    let (nets, cash_rounding) =
        converted_payments(rate, &nets, cash_rounding, totals.total_incl_vat);

    // Vouchers: what they paid, converted, split over the converted revenue rates as the
    // receipt's own redemption was; never more than the revenue it can pay for, which a
    // cent of rounding could otherwise make it.
    let revenue: Vec<(RateKey, Decimal, Decimal)> =
        revenue.into_iter().map(|(k, (b, v))| (k, b, v)).collect();
    let mut redeemed: Decimal = nets
        .iter()
        .zip(is_voucher)
        .filter(|(_, voucher)| **voucher)
        .map(|(net, _)| *net)
        .sum();
    if redeemed > Decimal::ZERO {
        redeemed = redeemed.min(split.revenue.total_incl_vat);
    }
    let voucher_redemptions = voucher_shares(redeemed, &revenue).unwrap_or_default();

    InCompanyCurrency {
        totals,
        vat_breakdown,
        lines: converted,
        payments: nets,
        cash_rounding,
        split,
        voucher_redemptions,
    }
}
