//! Daily figures: adding receipts one by one equals aggregating them at once, and both equal
//! a recomputation straight from the generated receipts.

use koppel_domain::daily::DailyFigures;
use koppel_domain::document::{KnownReferences, VatDraft};
use koppel_domain::money::round_cents;
use koppel_domain::receipt::{
    ReceiptDraft, ReceiptLineDraft, ReceiptLineKind, ReceiptPaymentDraft, ValidReceipt,
    validate_receipt,
};
use koppel_domain::vat::VatCategory;
use proptest::prelude::*;
use rust_decimal::Decimal;

fn refs() -> KnownReferences {
    let mut r = KnownReferences::default();
    r.payment_methods.extend(["cash", "pin"].map(String::from));
    r.categories
        .extend(["food", "drinks", "other"].map(String::from));
    r
}

#[derive(Debug, Clone)]
struct GenLine {
    kind: ReceiptLineKind,
    quantity: i64,
    unit_cents: i64,
    rate: i64,
    category: &'static str,
}

#[derive(Debug, Clone)]
struct GenReceipt {
    lines: Vec<GenLine>,
    cash: bool,
    change_cents: i64,
}

fn gen_line() -> impl Strategy<Value = GenLine> {
    (
        prop::sample::select(vec![
            ReceiptLineKind::Sale,
            ReceiptLineKind::Sale,
            ReceiptLineKind::Tip,
            ReceiptLineKind::GiftCardMultiPurpose,
            ReceiptLineKind::GiftCardSinglePurpose,
        ]),
        prop_oneof![1i64..6, -3i64..0],
        1i64..5000,
        prop::sample::select(vec![9i64, 21]),
        prop::sample::select(vec!["food", "drinks", "other"]),
    )
        .prop_map(|(kind, quantity, unit_cents, rate, category)| GenLine {
            kind,
            quantity,
            unit_cents,
            rate,
            category,
        })
}

fn gen_receipt() -> impl Strategy<Value = GenReceipt> {
    (
        prop::collection::vec(gen_line(), 1..5),
        any::<bool>(),
        0i64..2000,
    )
        .prop_map(|(lines, cash, change_cents)| GenReceipt {
            lines,
            cash,
            change_cents,
        })
}

impl GenLine {
    fn gross(&self) -> Decimal {
        Decimal::new(self.unit_cents * self.quantity, 2)
    }

    fn vat(&self) -> Decimal {
        if self.kind.is_revenue() {
            let r = Decimal::from(self.rate);
            round_cents(self.gross() * r / (Decimal::ONE_HUNDRED + r))
        } else {
            Decimal::ZERO
        }
    }
}

impl GenReceipt {
    fn total(&self) -> Decimal {
        self.lines.iter().map(GenLine::gross).sum()
    }

    fn draft(&self, n: usize) -> ReceiptDraft {
        let lines = self
            .lines
            .iter()
            .map(|l| ReceiptLineDraft {
                kind: Some(l.kind),
                product_code: Some("P".to_owned()),
                category_id: Some(l.category.to_owned()),
                quantity: Some(Decimal::from(l.quantity)),
                unit_price: Some(Decimal::new(l.unit_cents, 2)),
                total_incl_vat: Some(l.gross()),
                vat: Some(VatDraft {
                    percentage: Some(if l.kind.is_revenue() {
                        Decimal::from(l.rate)
                    } else {
                        Decimal::ZERO
                    }),
                    category: Some(match (l.kind.is_revenue(), l.rate) {
                        (false, _) => VatCategory::OutsideScope,
                        (true, 9) => VatCategory::Reduced,
                        (true, _) => VatCategory::Standard,
                    }),
                    amount: Some(l.vat()),
                    ..VatDraft::default()
                }),
                ..ReceiptLineDraft::default()
            })
            .collect();
        let total = self.total();
        // Change only on a positive cash payment, as the rules require.
        let change = if self.cash && total > Decimal::ZERO {
            Decimal::new(self.change_cents, 2)
        } else {
            Decimal::ZERO
        };
        ReceiptDraft {
            external_id: Some(format!("r-{n}")),
            created_at: Some("2026-06-10T12:00:00+02:00".to_owned()),
            currency: Some("EUR".to_owned()),
            prices_include_vat: Some(true),
            lines,
            payments: vec![ReceiptPaymentDraft {
                method_id: Some(if self.cash { "cash" } else { "pin" }.to_owned()),
                amount: Some(total + change),
                change: Some(change),
                reference: None,
                ..ReceiptPaymentDraft::default()
            }],
            ..ReceiptDraft::default()
        }
    }
}

fn valid(receipts: &[GenReceipt]) -> Vec<ValidReceipt> {
    receipts
        .iter()
        .enumerate()
        .map(|(n, r)| validate_receipt(&r.draft(n), &refs()).expect("generated receipts are valid"))
        .collect()
}

proptest! {
    #[test]
    fn adding_receipts_one_by_one_equals_aggregating_them_at_once(receipts in prop::collection::vec(gen_receipt(), 0..12)) {
        let valid = valid(&receipts);
        let at_once = DailyFigures::from_receipts(&valid);
        let mut one_by_one = DailyFigures::default();
        for r in &valid {
            one_by_one.add(r);
        }
        prop_assert_eq!(&at_once, &one_by_one);
        let mut reversed = DailyFigures::default();
        for r in valid.iter().rev() {
            reversed.add(r);
        }
        prop_assert_eq!(&at_once, &reversed);
        prop_assert!(at_once.payments_equal_revenue());
    }

    #[test]
    fn the_day_figures_equal_an_independent_recomputation(receipts in prop::collection::vec(gen_receipt(), 0..12)) {
        let figures = DailyFigures::from_receipts(&valid(&receipts));
        let lines = || receipts.iter().flat_map(|r| r.lines.iter());
        let sum = |f: &dyn Fn(&GenLine) -> Option<Decimal>| lines().filter_map(f).sum::<Decimal>();
        prop_assert_eq!(figures.receipt_count, receipts.len() as u64);
        prop_assert_eq!(figures.revenue.total_incl_vat, sum(&|l| l.kind.is_revenue().then(|| l.gross())));
        prop_assert_eq!(figures.revenue.total_vat, sum(&|l| Some(l.vat())));
        prop_assert_eq!(figures.tips, sum(&|l| (l.kind == ReceiptLineKind::Tip).then(|| l.gross())));
        prop_assert_eq!(
            figures.gift_cards_multi_purpose,
            sum(&|l| (l.kind == ReceiptLineKind::GiftCardMultiPurpose).then(|| l.gross()))
        );
        for category in ["food", "drinks", "other"] {
            let expected = sum(&|l| (l.kind.is_revenue() && l.category == category).then(|| l.gross()));
            let actual = figures.by_category.get(category).map_or(Decimal::ZERO, |t| t.total_incl_vat);
            prop_assert_eq!(actual, expected);
        }
        for rate in [9i64, 21] {
            let expected = sum(&|l| (l.kind.is_revenue() && l.rate == rate).then(|| l.vat()));
            let actual: Decimal = figures.vat_groups().iter().filter(|g| g.percentage == Decimal::from(rate)).map(|g| g.vat).sum();
            prop_assert_eq!(actual, expected);
        }
        let cash: Decimal = receipts.iter().filter(|r| r.cash).map(GenReceipt::total).sum();
        prop_assert_eq!(figures.by_payment_method.get("cash").copied().unwrap_or_default(), cash);
        prop_assert_eq!(figures.payments_total(), receipts.iter().map(GenReceipt::total).sum::<Decimal>());
    }
}

#[test]
fn a_damaged_figure_breaks_the_payments_check() {
    let receipts = valid(&[GenReceipt {
        lines: vec![GenLine {
            kind: ReceiptLineKind::Sale,
            quantity: 1,
            unit_cents: 350,
            rate: 9,
            category: "drinks",
        }],
        cash: false,
        change_cents: 0,
    }]);
    let mut figures = DailyFigures::from_receipts(&receipts);
    assert!(figures.payments_equal_revenue());
    figures.tips += Decimal::ONE;
    assert!(!figures.payments_equal_revenue());
}

/// A generated receipt in pounds at `rate` euro per pound, paid by card and cash (the cash
/// part with change), so that conversion has two payments to round.
fn in_pounds(r: &GenReceipt, n: usize, rate: Decimal) -> ReceiptDraft {
    let mut draft = r.draft(n);
    draft.currency = Some("GBP".to_owned());
    draft.exchange_rate = Some(rate);
    draft.exchange_rate_date = Some(chrono::NaiveDate::from_ymd_opt(2026, 6, 10).unwrap());
    let total = r.total();
    if total > Decimal::ZERO {
        let card = round_cents(total / Decimal::from(3));
        let change = Decimal::new(r.change_cents, 2);
        draft.payments = vec![
            ReceiptPaymentDraft {
                method_id: Some("pin".to_owned()),
                amount: Some(card),
                ..ReceiptPaymentDraft::default()
            },
            ReceiptPaymentDraft {
                method_id: Some("cash".to_owned()),
                amount: Some(total - card + change),
                change: Some(change),
                ..ReceiptPaymentDraft::default()
            },
        ];
    }
    draft
}

fn gbp_refs() -> KnownReferences {
    KnownReferences {
        company_currency: Some("EUR".to_owned()),
        ..refs()
    }
}

proptest! {
    #[test]
    fn a_day_of_receipts_in_pounds_counts_in_euros_and_still_balances(
        receipts in prop::collection::vec(gen_receipt(), 1..8),
        rate_ten_thousandths in 5_000i64..20_000,
    ) {
        let rate = Decimal::new(rate_ten_thousandths, 4);
        let valid: Vec<ValidReceipt> = receipts
            .iter()
            .enumerate()
            .map(|(n, r)| validate_receipt(&in_pounds(r, n, rate), &gbp_refs()).expect("generated receipts are valid"))
            .collect();
        let figures = DailyFigures::from_receipts(&valid);
        // Payments equal revenue in euros as they did in pounds.
        prop_assert!(figures.payments_equal_revenue());
        let mut expected_totals = Decimal::ZERO;
        let mut expected_by_rate: std::collections::BTreeMap<Decimal, (Decimal, Decimal)> = Default::default();
        for v in &valid {
            let converted = v.company_currency.as_ref().expect("a receipt in pounds is converted");
            // VAT.md: each group's base and VAT converted and rounded on its own; the totals
            // their sums.
            for (group, own) in converted.vat_breakdown.iter().zip(&v.vat_breakdown) {
                prop_assert_eq!(group.base, round_cents(own.base * rate));
                prop_assert_eq!(group.vat, round_cents(own.vat * rate));
                if group.category != VatCategory::OutsideScope {
                    let e = expected_by_rate.entry(group.percentage).or_default();
                    e.0 += group.base;
                    e.1 += group.vat;
                }
            }
            let groups: Decimal = converted.vat_breakdown.iter().map(|g| g.base + g.vat).sum();
            prop_assert_eq!(converted.totals.total_incl_vat, groups);
            expected_totals += groups;
        }
        prop_assert_eq!(figures.totals.total_incl_vat, expected_totals);
        prop_assert_eq!(figures.payments_total(), expected_totals);
        for g in figures.vat_groups() {
            let (base, vat) = expected_by_rate.get(&g.percentage).copied().unwrap_or_default();
            prop_assert_eq!((g.base, g.vat), (base, vat));
        }
    }
}
