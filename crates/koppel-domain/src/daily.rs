//! A business day's figures (dagomzet): what a bookkeeping connector posts per day. Pure
//! aggregation over valid receipts, with [`DailyFigures::add`] so a store can keep the
//! figures up to date one receipt at a time.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::document::{Totals, VatGroup};
use crate::identifiers::CountryCode;
use crate::receipt::ValidReceipt;
use crate::vat::VatCategory;

/// Revenue of one VAT rate on one day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateFigures {
    /// Revenue excluding VAT.
    pub base: Decimal,
    /// VAT.
    pub vat: Decimal,
}

/// The key of a VAT rate in the day's figures.
pub type RateKey = (VatCategory, Decimal, CountryCode);

/// A day's check that its payments equal what was sold: the one place this rule is written,
/// for the figures kept one receipt at a time and for a day read back from the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentsCheck {
    /// What the payments must make: revenue including VAT plus what was collected beside it.
    pub expected: Decimal,
    /// `payments_total + cash_rounding − expected`: 0.00 on a sound day.
    pub difference: Decimal,
}

impl PaymentsCheck {
    /// The check of payments (net of change) and cash rounding against revenue including VAT
    /// and what was collected beside it (tips, multi-purpose gift cards sold, deposits).
    pub fn of(
        payments_total: Decimal,
        cash_rounding: Decimal,
        revenue_incl_vat: Decimal,
        collected_beside: Decimal,
    ) -> PaymentsCheck {
        let expected = revenue_incl_vat + collected_beside;
        PaymentsCheck {
            expected,
            difference: payments_total + cash_rounding - expected,
        }
    }
}

/// The figures of one business day (optionally one location).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DailyFigures {
    /// How many receipts (refunds included).
    pub receipt_count: u64,
    /// Totals of every line, revenue or not.
    pub totals: Totals,
    /// Revenue only: sales and single-purpose gift cards.
    pub revenue: Totals,
    /// Revenue and VAT per category, rate and country.
    pub by_vat_rate: BTreeMap<RateKey, RateFigures>,
    /// Revenue per category id.
    pub by_category: BTreeMap<String, Totals>,
    /// Payments per method id, net of change.
    pub by_payment_method: BTreeMap<String, Decimal>,
    /// Tips: not revenue, no VAT.
    pub tips: Decimal,
    /// Multi-purpose gift cards sold: not revenue until redeemed.
    pub gift_cards_multi_purpose: Decimal,
    /// Deposits.
    pub deposits: Decimal,
    /// Cash rounding.
    pub cash_rounding: Decimal,
    /// Single-purpose vouchers redeemed, per rate: taken out of `by_vat_rate` and `revenue`.
    pub voucher_redemptions: BTreeMap<RateKey, RateFigures>,
}

/// What changed in a day's breakdown between two revisions: for every key in either,
/// `later − earlier` figure by figure (a key missing on one side counts as zero there),
/// leaving out the keys where nothing changed. It is the correction a connector posts for a
/// day it booked at the earlier revision; the changes from revision 1 to n, added up, are
/// revision n minus revision 1.
pub fn change<K: Ord + Clone, const N: usize>(
    earlier: &BTreeMap<K, [Decimal; N]>,
    later: &BTreeMap<K, [Decimal; N]>,
) -> BTreeMap<K, [Decimal; N]> {
    let zero = [Decimal::ZERO; N];
    earlier
        .keys()
        .chain(later.keys())
        .filter_map(|key| {
            let (before, after) = (
                earlier.get(key).unwrap_or(&zero),
                later.get(key).unwrap_or(&zero),
            );
            let mut difference = zero;
            for ((d, a), b) in difference.iter_mut().zip(after).zip(before) {
                *d = a - b;
            }
            difference
                .iter()
                .any(|d| !d.is_zero())
                .then(|| (key.clone(), difference))
        })
        .collect()
}

/// How a single-purpose voucher's redemption `amount` (incl. VAT) comes out of a receipt's
/// revenue (VAT.md, "Single-purpose vouchers"): split over the revenue groups in proportion
/// to their amounts incl. VAT, each share rounded to the cent and the last group taking the
/// remainder; each share's VAT at its group's rate, rounded to the cent. `groups` are (rate,
/// base, VAT) in a stable order; `None` when the amount is more than their total.
pub fn voucher_shares(
    amount: Decimal,
    groups: &[(RateKey, Decimal, Decimal)],
) -> Option<Vec<(RateKey, RateFigures)>> {
    let total: Decimal = groups.iter().map(|(_, base, vat)| base + vat).sum();
    if amount.is_zero() {
        return Some(Vec::new());
    }
    if amount > total || total <= Decimal::ZERO {
        return None;
    }
    let mut shares = Vec::with_capacity(groups.len());
    let mut left = amount;
    for (i, (key, base, vat)) in groups.iter().enumerate() {
        let incl = base + vat;
        let share = if i + 1 == groups.len() {
            left
        } else {
            crate::money::round_cents(amount * incl / total)
        };
        left -= share;
        let share_vat = if incl.is_zero() {
            Decimal::ZERO
        } else {
            crate::money::round_cents(share * vat / incl)
        };
        shares.push((
            *key,
            RateFigures {
                base: share - share_vat,
                vat: share_vat,
            },
        ));
    }
    Some(shares)
}

/// A receipt number that counts for gaps: 1 to 18 digits and nothing else (a number with a
/// prefix, such as `N-1001`, says nothing about a register's sequence).
pub fn sequence_number(number: &str) -> Option<i64> {
    let digits = number.trim();
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The numbers missing between the lowest and the highest of `numbers`, as inclusive ranges
/// in order (duplicates and order of `numbers` do not matter), with how many there are.
pub fn number_gaps(numbers: &[i64]) -> (Vec<(i64, i64)>, i64) {
    let mut sorted = numbers.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut gaps = Vec::new();
    let mut missing = 0;
    for pair in sorted.windows(2) {
        if pair[1] > pair[0] + 1 {
            gaps.push((pair[0] + 1, pair[1] - 1));
            missing += pair[1] - pair[0] - 1;
        }
    }
    (gaps, missing)
}

impl DailyFigures {
    /// Aggregates receipts at once.
    pub fn from_receipts(receipts: &[ValidReceipt]) -> DailyFigures {
        let mut figures = DailyFigures::default();
        for r in receipts {
            figures.add(r);
        }
        figures
    }

    /// Adds one receipt; adding is commutative, so the order of arrival does not matter.
    /// A receipt in another currency counts in the company's (VAT.md, "Foreign currency").
    pub fn add(&mut self, receipt: &ValidReceipt) {
        let totals = receipt.booked_totals();
        let split = receipt.booked_split();
        self.receipt_count += 1;
        self.totals.add(totals.total_excl_vat, totals.total_vat);
        self.revenue
            .add(split.revenue.total_excl_vat, split.revenue.total_vat);
        for (i, line) in receipt.lines.iter().enumerate() {
            if !line.kind.is_revenue() {
                continue;
            }
            let (excl, vat) = receipt.booked_line(i);
            let key = (line.vat.category, line.vat.percentage, line.vat.country);
            let rate = self.by_vat_rate.entry(key).or_default();
            rate.base += excl;
            rate.vat += vat;
            self.by_category
                .entry(line.category_id.clone())
                .or_default()
                .add(excl, vat);
        }
        for (i, p) in receipt.payments.iter().enumerate() {
            *self
                .by_payment_method
                .entry(p.method_id.clone())
                .or_default() += receipt.booked_payment(i);
        }
        for (key, share) in receipt.booked_voucher_redemptions() {
            let rate = self.by_vat_rate.entry(*key).or_default();
            rate.base -= share.base;
            rate.vat -= share.vat;
            self.revenue.add(-share.base, -share.vat);
            let redeemed = self.voucher_redemptions.entry(*key).or_default();
            redeemed.base += share.base;
            redeemed.vat += share.vat;
        }
        self.tips += split.tips;
        self.gift_cards_multi_purpose += split.gift_cards_multi_purpose;
        self.deposits += split.deposits;
        self.cash_rounding += receipt.booked_cash_rounding();
    }

    /// What single-purpose vouchers paid, incl. VAT: taken out of the revenue, still paid.
    pub fn vouchers_redeemed(&self) -> Decimal {
        self.voucher_redemptions
            .values()
            .map(|r| r.base + r.vat)
            .sum()
    }

    /// The sum of the payments, net of change.
    pub fn payments_total(&self) -> Decimal {
        self.by_payment_method.values().copied().sum()
    }

    /// Whether the payments (plus cash rounding) equal the revenue plus what was collected
    /// beside it (tips, multi-purpose gift cards, deposits). Every valid receipt balances, so
    /// this fails only when stored figures were damaged: a check for the connector.
    pub fn payments_equal_revenue(&self) -> bool {
        PaymentsCheck::of(
            self.payments_total(),
            self.cash_rounding,
            self.revenue.total_incl_vat,
            self.tips + self.gift_cards_multi_purpose + self.deposits + self.vouchers_redeemed(),
        )
        .difference
        .is_zero()
    }

    /// The revenue per rate as breakdown groups, in a stable order.
    pub fn vat_groups(&self) -> Vec<VatGroup> {
        self.by_vat_rate
            .iter()
            .map(|(&(category, percentage, country), f)| VatGroup {
                category,
                percentage,
                country,
                base: f.base,
                vat: f.vat,
                excl: f.base,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_voucher_comes_out_of_the_receipts_rates_in_proportion_to_their_amounts() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        let nl = CountryCode::parse("NL").unwrap();
        let high = (VatCategory::Standard, d("21"), nl);
        let low = (VatCategory::Reduced, d("9"), nl);
        // The whole 25.00 cake at 21%: all of it, 4.34 VAT.
        let shares = voucher_shares(d("25.00"), &[(high, d("20.66"), d("4.34"))]).unwrap();
        assert_eq!(
            shares,
            vec![(
                high,
                RateFigures {
                    base: d("20.66"),
                    vat: d("4.34")
                }
            )]
        );
        // 10.00 of a 12.10 cake at 21% and a 10.90 bread at 9%: 5.26 and 4.74 (the last
        // takes the remainder), each with its rate's share of VAT.
        let shares = voucher_shares(
            d("10.00"),
            &[(high, d("10.00"), d("2.10")), (low, d("10.00"), d("0.90"))],
        )
        .unwrap();
        assert_eq!(shares[0].1.base + shares[0].1.vat, d("5.26"));
        assert_eq!(shares[0].1.vat, d("0.91"));
        assert_eq!(shares[1].1.base + shares[1].1.vat, d("4.74"));
        assert_eq!(shares[1].1.vat, d("0.39"));
        // More than the goods: refused; nothing redeemed: nothing taken out.
        assert_eq!(
            voucher_shares(d("30.00"), &[(high, d("20.66"), d("4.34"))]),
            None
        );
        assert_eq!(voucher_shares(d("0"), &[]), Some(vec![]));
    }

    #[test]
    fn a_register_missing_1003_has_one_gap_and_numbers_with_text_do_not_count() {
        assert_eq!(
            number_gaps(&[1001, 1002, 1004, 1005]),
            (vec![(1003, 1003)], 1)
        );
        assert_eq!(number_gaps(&[5, 1, 1, 9]), (vec![(2, 4), (6, 8)], 6));
        assert_eq!(number_gaps(&[7]), (vec![], 0));
        assert_eq!(sequence_number(" 1003 "), Some(1003));
        assert_eq!(sequence_number("N-1003"), None);
        assert_eq!(sequence_number("1234567890123456789"), None);
        assert_eq!(sequence_number(""), None);
    }

    #[test]
    fn a_change_lists_what_changed_per_key_and_changes_add_up() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        let one: BTreeMap<&str, [Decimal; 2]> = [
            ("21", [d("100.00"), d("21.00")]),
            ("9", [d("50.00"), d("4.50")]),
        ]
        .into();
        let two: BTreeMap<&str, [Decimal; 2]> = [
            ("21", [d("110.00"), d("23.10")]),
            ("9", [d("50.00"), d("4.50")]),
            ("0", [d("5.00"), d("0.00")]),
        ]
        .into();
        let three: BTreeMap<&str, [Decimal; 2]> = [("21", [d("90.00"), d("18.90")])].into();
        let first = change(&one, &two);
        assert_eq!(
            first,
            [
                ("0", [d("5.00"), d("0.00")]),
                ("21", [d("10.00"), d("2.10")])
            ]
            .into()
        );
        let second = change(&two, &three);
        assert_eq!(second["9"], [d("-50.00"), d("-4.50")]);
        assert_eq!(second["0"], [d("-5.00"), d("0.00")]);
        // The changes added up are the last revision minus the first.
        let mut summed: BTreeMap<&str, [Decimal; 2]> = BTreeMap::new();
        for (k, v) in first.iter().chain(second.iter()) {
            let s = summed.entry(*k).or_default();
            s[0] += v[0];
            s[1] += v[1];
        }
        summed.retain(|_, v| v.iter().any(|x| !x.is_zero()));
        assert_eq!(summed, change(&one, &three));
        assert!(change(&one, &one).is_empty());
    }
}
