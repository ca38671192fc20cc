//! The sales side of the Dutch VAT return (`docs/bookkeeping-rules.md`): which box a line goes in,
//! the boxes in exact cents and in whole euros, the ICP listing and the OSS totals.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Serialize, Serializer};

use crate::identifiers::{CountryCode, VatNumber};
use crate::order::ValidOrder;
use crate::receipt::ValidReceipt;
use crate::vat::{self, VatCategory};

/// Where a line is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VatBox {
    /// 1a: NL standard rate, base and VAT.
    Box1a,
    /// 1b: NL reduced rate, base and VAT.
    Box1b,
    /// 1c: other NL rates (corrections at an old rate), base and VAT.
    Box1c,
    /// 1e: zero rate and domestic reverse charge, base only.
    Box1e,
    /// 3a: export outside the EU, base only.
    Box3a,
    /// 3b: intra-EU supplies, base only, plus the ICP listing.
    Box3b,
    /// 3c: distance sales taxed in another EU country without OSS, base only.
    Box3c,
    /// Not in the Dutch return: the OSS return of this destination country.
    Oss(CountryCode),
    /// Exempt and outside-scope: not reported.
    NotReported,
}

impl VatBox {
    /// Whether the box reports VAT beside the base.
    pub fn reports_vat(self) -> bool {
        matches!(
            self,
            VatBox::Box1a | VatBox::Box1b | VatBox::Box1c | VatBox::Oss(_)
        )
    }
}

impl fmt::Display for VatBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VatBox::Box1a => f.write_str("1a"),
            VatBox::Box1b => f.write_str("1b"),
            VatBox::Box1c => f.write_str("1c"),
            VatBox::Box1e => f.write_str("1e"),
            VatBox::Box3a => f.write_str("3a"),
            VatBox::Box3b => f.write_str("3b"),
            VatBox::Box3c => f.write_str("3c"),
            VatBox::Oss(country) => write!(f, "oss-{country}"),
            VatBox::NotReported => f.write_str("not_reported"),
        }
    }
}

impl Serialize for VatBox {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The box of a line with this category, rate and country on `date`, per the table of
/// `docs/bookkeeping-rules.md`.
pub fn box_for(
    category: VatCategory,
    percentage: Decimal,
    country: CountryCode,
    date: NaiveDate,
) -> VatBox {
    match category {
        VatCategory::Standard | VatCategory::Reduced | VatCategory::Margin
            if country != CountryCode::NL =>
        {
            VatBox::Box3c
        }
        // A margin line's base is its margin less the VAT on it (the breakdown's base for a
        // margin group), reported at its rate's box.
        VatCategory::Standard | VatCategory::Reduced | VatCategory::Margin => {
            let current = vat::rates_on("NL", date);
            let standard = current.is_some_and(|r| r.standard == percentage);
            let reduced = current.is_some_and(|r| r.reduced.contains(&percentage));
            match category {
                VatCategory::Standard | VatCategory::Margin if standard => VatBox::Box1a,
                VatCategory::Reduced | VatCategory::Margin if reduced => VatBox::Box1b,
                _ => VatBox::Box1c,
            }
        }
        VatCategory::Zero | VatCategory::ReverseCharge => VatBox::Box1e,
        VatCategory::Export => VatBox::Box3a,
        VatCategory::IntraEu => VatBox::Box3b,
        VatCategory::Oss => VatBox::Oss(country),
        VatCategory::Exempt | VatCategory::OutsideScope => VatBox::NotReported,
    }
}

/// One line or cost of a validated document, as the return needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnLine {
    /// The category.
    pub category: VatCategory,
    /// The rate in percent.
    pub percentage: Decimal,
    /// The country whose rate applies.
    pub country: CountryCode,
    /// The document's date (order date or business date).
    pub date: NaiveDate,
    /// The amount excluding VAT.
    pub base: Decimal,
    /// The VAT.
    pub vat: Decimal,
    /// The buyer's VAT number, for the ICP listing.
    pub buyer_vat_number: Option<VatNumber>,
}

/// The return lines of a valid order: its VAT breakdown's groups (in the company's currency
/// when the order is in another), dated on its tax point, the invoice date or else the order
/// date. A margin group's base is already its margins less VAT.
pub fn order_lines(order: &ValidOrder) -> Vec<ReturnLine> {
    let date = order
        .details
        .invoice_date
        .unwrap_or_else(|| order.order_date.date_naive());
    let buyer = order.customer.as_ref().and_then(|c| c.vat_number.clone());
    let groups = order
        .company_currency
        .as_ref()
        .map_or(&order.vat_breakdown, |c| &c.vat_breakdown);
    groups
        .iter()
        .map(|g| ReturnLine {
            category: g.category,
            percentage: g.percentage,
            country: g.country,
            date,
            base: g.base,
            vat: g.vat,
            buyer_vat_number: buyer.clone(),
        })
        .collect()
}

/// The return lines of a valid receipt on its business date; tips, multi-purpose gift cards
/// and deposits are outside the scope and so land in "not reported".
pub fn receipt_lines(receipt: &ValidReceipt, business_date: NaiveDate) -> Vec<ReturnLine> {
    receipt
        .lines
        .iter()
        .map(|l| ReturnLine {
            category: l.vat.category,
            percentage: l.vat.percentage,
            country: l.vat.country,
            date: business_date,
            base: l.total_excl_vat,
            vat: l.vat.amount,
            buyer_vat_number: None,
        })
        .collect()
}

/// Rounds down to whole euros: the Belastingdienst lets the taxpayer round in their own
/// favour, which for turnover and VAT due is down (towards negative infinity, so a negative
/// correction grows the refund rather than shrinking it).
pub fn whole_euros_in_favour(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(0, RoundingStrategy::ToNegativeInfinity)
}

/// One box's figures: exact cents and the whole euros to file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BoxFigures {
    /// The exact base.
    pub base: Decimal,
    /// The exact VAT (zero for a base-only box).
    pub vat: Decimal,
    /// The base in whole euros, rounded down.
    pub base_whole: Decimal,
    /// The VAT in whole euros, rounded down.
    pub vat_whole: Decimal,
}

impl BoxFigures {
    fn add(&mut self, base: Decimal, vat: Decimal) {
        self.base += base;
        self.vat += vat;
        self.base_whole = whole_euros_in_favour(self.base);
        self.vat_whole = whole_euros_in_favour(self.vat);
    }
}

/// The sales side of one period's VAT return.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VatReturn {
    /// The Dutch boxes (1a, 1b, 1c, 1e, 3a, 3b, 3c) that have lines.
    pub boxes: BTreeMap<String, BoxFigures>,
    /// The ICP listing: intra-EU base per buyer VAT number.
    pub icp: BTreeMap<String, BoxFigures>,
    /// OSS base and VAT per destination country.
    pub oss: BTreeMap<String, BoxFigures>,
    /// Exempt and outside-scope amounts, kept for reconciliation though not filed.
    pub not_reported: BoxFigures,
}

impl VatReturn {
    /// Builds the return from every line and cost of the period's documents.
    pub fn from_lines(lines: impl IntoIterator<Item = ReturnLine>) -> VatReturn {
        let mut ret = VatReturn::default();
        for line in lines {
            let vat_box = box_for(line.category, line.percentage, line.country, line.date);
            let vat = if vat_box.reports_vat() {
                line.vat
            } else {
                Decimal::ZERO
            };
            match vat_box {
                VatBox::Oss(country) => ret
                    .oss
                    .entry(country.to_string())
                    .or_default()
                    .add(line.base, vat),
                VatBox::NotReported => ret.not_reported.add(line.base, line.vat),
                other => {
                    ret.boxes
                        .entry(other.to_string())
                        .or_default()
                        .add(line.base, vat);
                    if other == VatBox::Box3b {
                        let buyer = line
                            .buyer_vat_number
                            .as_ref()
                            .map_or_else(String::new, |v| v.to_string());
                        ret.icp
                            .entry(buyer)
                            .or_default()
                            .add(line.base, Decimal::ZERO);
                    }
                }
            }
        }
        ret
    }

    /// The VAT due on sales in whole euros: the sum of the filed VAT of 1a, 1b and 1c.
    pub fn vat_due_whole(&self) -> Decimal {
        ["1a", "1b", "1c"]
            .iter()
            .filter_map(|b| self.boxes.get(*b))
            .map(|f| f.vat_whole)
            .sum()
    }

    /// The exact VAT due on sales.
    pub fn vat_due(&self) -> Decimal {
        ["1a", "1b", "1c"]
            .iter()
            .filter_map(|b| self.boxes.get(*b))
            .map(|f| f.vat)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn country(s: &str) -> CountryCode {
        CountryCode::parse(s).unwrap()
    }

    fn line(
        category: VatCategory,
        pct: &str,
        c: &str,
        date: &str,
        base: &str,
        vat: &str,
    ) -> ReturnLine {
        ReturnLine {
            category,
            percentage: d(pct),
            country: country(c),
            date: day(date),
            base: d(base),
            vat: d(vat),
            buyer_vat_number: None,
        }
    }

    #[test]
    fn each_category_lands_in_the_box_of_vat_md() {
        let nl = CountryCode::NL;
        let today = day("2026-05-01");
        assert_eq!(
            box_for(VatCategory::Standard, d("21"), nl, today),
            VatBox::Box1a
        );
        assert_eq!(
            box_for(VatCategory::Reduced, d("9"), nl, today),
            VatBox::Box1b
        );
        assert_eq!(
            box_for(VatCategory::Reduced, d("6"), nl, today),
            VatBox::Box1c
        );
        assert_eq!(
            box_for(VatCategory::Standard, d("19"), nl, today),
            VatBox::Box1c
        );
        assert_eq!(
            box_for(VatCategory::Standard, d("19"), nl, day("2011-05-01")),
            VatBox::Box1a
        );
        assert_eq!(
            box_for(VatCategory::Reduced, d("6"), nl, day("2015-01-09")),
            VatBox::Box1b
        );
        assert_eq!(box_for(VatCategory::Zero, d("0"), nl, today), VatBox::Box1e);
        assert_eq!(
            box_for(VatCategory::ReverseCharge, d("0"), nl, today),
            VatBox::Box1e
        );
        assert_eq!(
            box_for(VatCategory::Export, d("0"), nl, today),
            VatBox::Box3a
        );
        assert_eq!(
            box_for(VatCategory::IntraEu, d("0"), nl, today),
            VatBox::Box3b
        );
        assert_eq!(
            box_for(VatCategory::Standard, d("19"), country("DE"), today),
            VatBox::Box3c
        );
        assert_eq!(
            box_for(VatCategory::Oss, d("19"), country("DE"), today),
            VatBox::Oss(country("DE"))
        );
        assert_eq!(
            box_for(VatCategory::Exempt, d("0"), nl, today),
            VatBox::NotReported
        );
        assert_eq!(
            box_for(VatCategory::OutsideScope, d("0"), nl, today),
            VatBox::NotReported
        );
    }

    #[test]
    fn whole_euros_are_rounded_in_the_taxpayers_favour() {
        assert_eq!(whole_euros_in_favour(d("1234.99")), d("1234"));
        assert_eq!(whole_euros_in_favour(d("-10.01")), d("-11"));
        assert_eq!(whole_euros_in_favour(d("7.00")), d("7"));
    }

    #[test]
    fn a_period_is_reported_in_exact_cents_and_whole_euros() {
        let ret = VatReturn::from_lines([
            line(
                VatCategory::Standard,
                "21",
                "NL",
                "2026-05-01",
                "100.99",
                "21.21",
            ),
            line(
                VatCategory::Standard,
                "21",
                "NL",
                "2026-05-02",
                "0.50",
                "0.11",
            ),
            line(
                VatCategory::Reduced,
                "9",
                "NL",
                "2026-05-02",
                "240.75",
                "21.67",
            ),
            line(
                VatCategory::Reduced,
                "6",
                "NL",
                "2026-05-03",
                "-100.00",
                "-6.00",
            ),
            line(
                VatCategory::Export,
                "0",
                "NL",
                "2026-05-03",
                "80.40",
                "0.00",
            ),
            line(
                VatCategory::Exempt,
                "0",
                "NL",
                "2026-05-03",
                "50.00",
                "0.00",
            ),
            line(VatCategory::Oss, "19", "DE", "2026-05-03", "10.00", "1.90"),
            line(VatCategory::Oss, "7", "DE", "2026-05-03", "10.00", "0.70"),
            line(VatCategory::Oss, "20", "FR", "2026-05-03", "10.00", "2.00"),
        ]);
        let b1a = ret.boxes["1a"];
        assert_eq!(
            (b1a.base, b1a.vat, b1a.base_whole, b1a.vat_whole),
            (d("101.49"), d("21.32"), d("101"), d("21"))
        );
        assert_eq!(ret.boxes["1b"].vat_whole, d("21"));
        assert_eq!(
            (ret.boxes["1c"].base_whole, ret.boxes["1c"].vat_whole),
            (d("-100"), d("-6"))
        );
        assert_eq!(
            (ret.boxes["3a"].base_whole, ret.boxes["3a"].vat),
            (d("80"), d("0"))
        );
        assert_eq!(ret.not_reported.base, d("50.00"));
        assert_eq!(
            (ret.oss["DE"].base, ret.oss["DE"].vat),
            (d("20.00"), d("2.60"))
        );
        assert_eq!(ret.oss["FR"].vat, d("2.00"));
        assert!(!ret.boxes.contains_key("1e"));
        assert_eq!(ret.vat_due(), d("36.99"));
        assert_eq!(ret.vat_due_whole(), d("36"));
    }

    #[test]
    fn the_icp_listing_sums_intra_eu_supplies_per_buyer() {
        let buyer = |v: &str| Some(VatNumber::parse(v).unwrap());
        let mut a = line(
            VatCategory::IntraEu,
            "0",
            "NL",
            "2026-05-01",
            "100.00",
            "0.00",
        );
        a.buyer_vat_number = buyer("DE136695976");
        let mut b = a.clone();
        b.base = d("50.50");
        let mut c = a.clone();
        c.buyer_vat_number = buyer("BE0776091951");
        let ret = VatReturn::from_lines([a, b, c]);
        assert_eq!(ret.boxes["3b"].base, d("250.50"));
        assert_eq!(ret.icp["DE136695976"].base, d("150.50"));
        assert_eq!(ret.icp["DE136695976"].base_whole, d("150"));
        assert_eq!(ret.icp["BE0776091951"].base, d("100.00"));
    }
}
