//! The order rules of `docs/bookkeeping-rules.md` and `docs/contract.md`, one behaviour per test,
//! plus two real documents.

use chrono::{DateTime, FixedOffset, Utc};
use koppel_domain::document::{KnownReferences, TotalsDraft, VatDraft, VatRateRef};
use koppel_domain::order::{
    CostDraft, CostKind, CustomerDraft, LineDraft, OrderDraft, OrderStatus, PaymentDraft,
    validate_order,
};
use koppel_domain::problem::Violation;
use koppel_domain::vat::VatCategory;
use rust_decimal::Decimal;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn refs() -> KnownReferences {
    let mut r = KnownReferences::default();
    for (id, pct, category) in [
        ("rate-21", "21", VatCategory::Standard),
        ("rate-9", "9", VatCategory::Reduced),
        ("rate-0", "0", VatCategory::Zero),
    ] {
        r.vat_rates.insert(
            id.to_owned(),
            VatRateRef {
                percentage: d(pct),
                category,
                country: "NL".to_owned(),
            },
        );
    }
    r.products.extend(["p1", "p2"].map(String::from));
    r.payment_methods
        .extend(["ideal", "cash", "bank"].map(String::from));
    r.categories.extend(["toys", "food"].map(String::from));
    r.customers.insert("c1".to_owned());
    r.orders.insert("ord_kEn1PlbGa".to_owned());
    r
}

fn vat(percentage: &str, category: VatCategory, amount: &str) -> Option<VatDraft> {
    Some(VatDraft {
        percentage: Some(d(percentage)),
        category: Some(category),
        amount: Some(d(amount)),
        ..VatDraft::default()
    })
}

fn line(quantity: &str, unit_price: &str, total: &str, vat: Option<VatDraft>) -> LineDraft {
    LineDraft {
        product_id: Some("p1".to_owned()),
        quantity: Some(d(quantity)),
        unit_price: Some(d(unit_price)),
        total_excl_vat: Some(d(total)),
        vat,
        ..LineDraft::default()
    }
}

fn order(date: &str, lines: Vec<LineDraft>) -> OrderDraft {
    OrderDraft {
        external_id: Some("web-1".to_owned()),
        number: Some("1001".to_owned()),
        status: Some(OrderStatus::Open),
        order_date: Some(at(date)),
        currency: Some("EUR".to_owned()),
        prices_include_vat: Some(false),
        lines,
        ..OrderDraft::default()
    }
}

fn codes_at(violations: &[Violation]) -> Vec<(&str, &str)> {
    violations
        .iter()
        .map(|v| (v.pointer.as_str(), v.code))
        .collect()
}

fn refused(draft: &OrderDraft) -> Vec<Violation> {
    let violations = validate_order(draft, &refs()).expect_err("the order should be refused");
    for v in &violations {
        assert!(
            !v.message_en.ends_with('.') && !v.message_nl.ends_with('.'),
            "{v:?}"
        );
        assert!(!v.message_en.starts_with(char::is_uppercase), "{v:?}");
    }
    violations
}

#[test]
fn an_order_exclusive_of_vat_gets_its_totals_and_breakdown_computed() {
    let mut draft = order(
        "2026-03-02T10:00:00+01:00",
        vec![
            line(
                "2",
                "10.00",
                "20.00",
                vat("21", VatCategory::Standard, "4.20"),
            ),
            line("3", "1.99", "5.97", vat("9", VatCategory::Reduced, "0.54")),
        ],
    );
    draft.costs.push(CostDraft {
        kind: Some(CostKind::Shipping),
        amount_excl_vat: Some(d("4.95")),
        vat: Some(VatDraft {
            rate_id: Some("rate-21".to_owned()),
            amount: Some(d("1.04")),
            ..VatDraft::default()
        }),
        ..CostDraft::default()
    });
    draft.totals = Some(TotalsDraft {
        total_excl_vat: Some(d("30.92")),
        total_vat: Some(d("5.78")),
        total_incl_vat: Some(d("36.70")),
    });
    let valid = validate_order(&draft, &refs()).unwrap();
    assert_eq!(valid.totals.total_excl_vat, d("30.92"));
    assert_eq!(valid.totals.total_vat, d("5.78"));
    assert_eq!(valid.totals.total_incl_vat, d("36.70"));
    assert_eq!(valid.lines[0].total_incl_vat, d("24.20"));
    let groups: Vec<_> = valid
        .vat_breakdown
        .iter()
        .map(|g| (g.category, g.percentage, g.base, g.vat))
        .collect();
    assert_eq!(
        groups,
        [
            (VatCategory::Standard, d("21"), d("24.95"), d("5.24")),
            (VatCategory::Reduced, d("9"), d("5.97"), d("0.54")),
        ]
    );
}

fn coffees(vat_amount: &str) -> OrderDraft {
    let mut draft = order(
        "2026-03-02T10:00:00+01:00",
        vec![LineDraft {
            product_id: Some("p2".to_owned()),
            quantity: Some(d("75")),
            unit_price: Some(d("3.50")),
            total_incl_vat: Some(d("262.50")),
            vat: vat("9", VatCategory::Reduced, vat_amount),
            ..LineDraft::default()
        }],
    );
    draft.prices_include_vat = Some(true);
    draft
}

#[test]
fn seventy_five_items_at_3_50_incl_9_percent_accept_vat_rounded_per_item() {
    let valid = validate_order(&coffees("21.75"), &refs()).unwrap();
    assert_eq!(valid.totals.total_excl_vat, d("240.75"));
    assert_eq!(valid.totals.total_incl_vat, d("262.50"));
}

#[test]
fn seventy_five_items_at_3_50_incl_9_percent_accept_vat_rounded_on_the_total() {
    let valid = validate_order(&coffees("21.67"), &refs()).unwrap();
    assert_eq!(valid.lines[0].total_excl_vat, d("240.83"));
}

#[test]
fn seventy_five_items_at_3_50_incl_9_percent_refuse_vat_beyond_the_tolerance() {
    // 21.67 + 0.39 is one cent past the tolerance of 0.38 for 75 items.
    let violations = refused(&coffees("22.06"));
    assert_eq!(
        codes_at(&violations),
        [("/lines/0/vat/amount", "vat_amount_mismatch")]
    );
    assert!(
        violations[0].message_en.contains("21.67"),
        "{}",
        violations[0].message_en
    );
    assert!(
        violations[0].message_en.contains("0.38"),
        "{}",
        violations[0].message_en
    );
    assert!(validate_order(&coffees("22.05"), &refs()).is_ok());
}

#[test]
fn an_old_reduced_rate_is_valid_on_an_old_date() {
    let draft = order(
        "2015-01-09T12:00:00+01:00",
        vec![line(
            "1",
            "100.00",
            "100.00",
            vat("6", VatCategory::Reduced, "6.00"),
        )],
    );
    assert!(validate_order(&draft, &refs()).is_ok());
}

#[test]
fn an_old_reduced_rate_is_refused_today() {
    let draft = order(
        "2026-01-09T12:00:00+01:00",
        vec![line(
            "1",
            "100.00",
            "100.00",
            vat("6", VatCategory::Reduced, "6.00"),
        )],
    );
    let violations = refused(&draft);
    assert_eq!(
        codes_at(&violations),
        [("/lines/0/vat/percentage", "vat_percentage_not_valid")]
    );
    assert!(
        violations[0].message_en.contains("valid then: 9"),
        "{}",
        violations[0].message_en
    );
}

#[test]
fn a_wrong_standard_rate_on_a_new_date_is_refused() {
    let draft = order(
        "2024-06-01T12:00:00+02:00",
        vec![line(
            "1",
            "100.00",
            "100.00",
            vat("19", VatCategory::Standard, "19.00"),
        )],
    );
    assert_eq!(
        codes_at(&refused(&draft)),
        [("/lines/0/vat/percentage", "vat_percentage_not_valid")]
    );
}

#[test]
fn the_rate_change_takes_effect_at_midnight_in_the_orders_own_offset() {
    let before = order(
        "2012-09-30T23:59:00+02:00",
        vec![line(
            "1",
            "100.00",
            "100.00",
            vat("19", VatCategory::Standard, "19.00"),
        )],
    );
    assert!(validate_order(&before, &refs()).is_ok());
    let after = order(
        "2012-10-01T00:00:00+02:00",
        vec![line(
            "1",
            "100.00",
            "100.00",
            vat("19", VatCategory::Standard, "19.00"),
        )],
    );
    assert!(validate_order(&after, &refs()).is_err());
}

#[test]
fn zero_rated_categories_carry_exactly_zero_vat_at_zero_percent() {
    let with_vat = order(
        "2026-01-09T12:00:00+01:00",
        vec![line(
            "1",
            "100.00",
            "100.00",
            vat("0", VatCategory::Export, "0.01"),
        )],
    );
    assert_eq!(
        codes_at(&refused(&with_vat)),
        [("/lines/0/vat/amount", "vat_amount_not_zero")]
    );
    let with_rate = order(
        "2026-01-09T12:00:00+01:00",
        vec![line(
            "1",
            "100.00",
            "100.00",
            vat("21", VatCategory::Zero, "0.00"),
        )],
    );
    assert_eq!(
        codes_at(&refused(&with_rate)),
        [(
            "/lines/0/vat/percentage",
            "vat_category_percentage_mismatch"
        )]
    );
    let fine = order(
        "2026-01-09T12:00:00+01:00",
        vec![line(
            "1",
            "100.00",
            "100.00",
            vat("0", VatCategory::Zero, "0.00"),
        )],
    );
    assert_eq!(
        validate_order(&fine, &refs()).unwrap().totals.total_vat,
        d("0.00")
    );
}

#[test]
fn a_standard_category_at_zero_percent_does_not_fit() {
    let draft = order(
        "2026-01-09T12:00:00+01:00",
        vec![line(
            "1",
            "100.00",
            "100.00",
            vat("0", VatCategory::Standard, "0.00"),
        )],
    );
    assert_eq!(
        codes_at(&refused(&draft)),
        [(
            "/lines/0/vat/percentage",
            "vat_category_percentage_mismatch"
        )]
    );
}

#[test]
fn a_negative_discount_raises_the_line_total() {
    let mut l = line(
        "1",
        "10.00",
        "12.00",
        vat("21", VatCategory::Standard, "2.52"),
    );
    l.discount = Some(d("-2.00"));
    let valid = validate_order(&order("2026-01-09T12:00:00+01:00", vec![l]), &refs()).unwrap();
    assert_eq!(valid.totals.total_incl_vat, d("14.52"));
}

#[test]
fn a_line_total_that_ignores_its_discount_is_refused() {
    let mut l = line(
        "2",
        "10.00",
        "20.00",
        vat("21", VatCategory::Standard, "4.20"),
    );
    l.discount = Some(d("5.00"));
    let violations = refused(&order("2026-01-09T12:00:00+01:00", vec![l]));
    assert_eq!(
        codes_at(&violations),
        [("/lines/0/total_excl_vat", "line_total_mismatch")]
    );
    assert!(violations[0].message_en.contains("15.00"));
}

#[test]
fn unit_prices_with_four_decimals_round_per_line_within_the_tolerance() {
    // 3 × 0.3333 = 0.9999, booked as 1.00.
    let draft = order(
        "2026-01-09T12:00:00+01:00",
        vec![line(
            "3",
            "0.3333",
            "1.00",
            vat("21", VatCategory::Standard, "0.21"),
        )],
    );
    assert!(validate_order(&draft, &refs()).is_ok());
}

#[test]
fn a_credit_order_has_negative_amounts_and_the_same_rules() {
    let mut draft = order(
        "2026-01-09T12:00:00+01:00",
        vec![line(
            "-2",
            "10.00",
            "-20.00",
            vat("21", VatCategory::Standard, "-4.20"),
        )],
    );
    draft.credit_of = Some("ord_kEn1PlbGa".to_owned());
    draft.payments.push(PaymentDraft {
        method_id: Some("ideal".to_owned()),
        status: None,
        provider: None,
        provider_reference: None,
        payout_reference: None,
        fee: None,
        method_external_id: None,
        amount: Some(d("-24.20")),
        ..PaymentDraft::default()
    });
    let valid = validate_order(&draft, &refs()).unwrap();
    assert_eq!(valid.totals.total_incl_vat, d("-24.20"));

    draft.lines[0].vat = vat("21", VatCategory::Standard, "-4.60");
    assert_eq!(
        codes_at(&refused(&draft)),
        [("/lines/0/vat/amount", "vat_amount_mismatch")]
    );
}

#[test]
fn a_credit_order_may_correct_a_sale_at_the_rate_of_its_time() {
    let mut draft = order(
        "2026-01-09T12:00:00+01:00",
        vec![line(
            "-1",
            "100.00",
            "-100.00",
            vat("6", VatCategory::Reduced, "-6.00"),
        )],
    );
    draft.credit_of = Some("ord_kEn1PlbGa".to_owned());
    assert!(validate_order(&draft, &refs()).is_ok());
}

#[test]
fn a_negative_order_without_credit_of_is_refused_and_a_positive_credit_too() {
    let negative = order(
        "2026-01-09T12:00:00+01:00",
        vec![line(
            "-1",
            "10.00",
            "-10.00",
            vat("21", VatCategory::Standard, "-2.10"),
        )],
    );
    assert_eq!(
        codes_at(&refused(&negative)),
        [("/credit_of", "negative_total_without_credit_of")]
    );
    let mut positive = order(
        "2026-01-09T12:00:00+01:00",
        vec![line(
            "1",
            "10.00",
            "10.00",
            vat("21", VatCategory::Standard, "2.10"),
        )],
    );
    positive.credit_of = Some("ord_kEn1PlbGa".to_owned());
    assert_eq!(codes_at(&refused(&positive)), [("", "credit_not_negative")]);
}

#[test]
fn an_intra_eu_supply_needs_a_foreign_buyer_vat_number() {
    let mut draft = order(
        "2026-01-09T12:00:00+01:00",
        vec![
            line(
                "1",
                "100.00",
                "100.00",
                vat("0", VatCategory::IntraEu, "0.00"),
            ),
            line(
                "1",
                "50.00",
                "50.00",
                vat("0", VatCategory::IntraEu, "0.00"),
            ),
        ],
    );
    // Reported once, for the buyer, however many lines are intra-EU.
    assert_eq!(
        codes_at(&refused(&draft)),
        [("/customer/vat_number", "intra_eu_requires_buyer_vat_number")]
    );
    draft.customer = Some(CustomerDraft {
        vat_number: Some("NL001241643B01".to_owned()),
        ..CustomerDraft::default()
    });
    assert_eq!(
        codes_at(&refused(&draft)),
        [("/customer/vat_number", "intra_eu_buyer_is_domestic")]
    );
    draft.customer = Some(CustomerDraft {
        vat_number: Some("DE 136 695 976".to_owned()),
        ..CustomerDraft::default()
    });
    let valid = validate_order(&draft, &refs()).unwrap();
    assert_eq!(
        valid.customer.unwrap().vat_number.unwrap().as_str(),
        "DE136695976"
    );
}

#[test]
fn an_exempt_line_needs_a_reason() {
    let mut draft = order(
        "2026-01-09T12:00:00+01:00",
        vec![line(
            "1",
            "100.00",
            "100.00",
            vat("0", VatCategory::Exempt, "0.00"),
        )],
    );
    assert_eq!(
        codes_at(&refused(&draft)),
        [("/lines/0/vat/exemption_reason", "exemption_reason_required")]
    );
    draft.lines[0].vat.as_mut().unwrap().exemption_reason =
        Some("medische zorg, art. 11 lid 1 sub g wet ob".to_owned());
    assert!(validate_order(&draft, &refs()).is_ok());
}

#[test]
fn the_vat_of_a_group_is_checked_with_the_group_tolerance() {
    // Each line is within its own tolerance (0.02 against 0.01, off by 0.01), but the ten
    // together are 0.09 off, more than the group's 0.06.
    let lines = (0..10)
        .map(|_| {
            line(
                "1",
                "0.05",
                "0.05",
                vat("21", VatCategory::Standard, "0.02"),
            )
        })
        .collect();
    let violations = refused(&order("2026-01-09T12:00:00+01:00", lines));
    assert_eq!(
        codes_at(&violations),
        [("/lines/0/vat/amount", "vat_group_mismatch")]
    );
    assert!(
        violations[0].message_en.contains("0.06"),
        "{}",
        violations[0].message_en
    );
}

#[test]
fn totals_sent_by_the_vendor_must_match_exactly() {
    let mut draft = order(
        "2026-01-09T12:00:00+01:00",
        vec![line(
            "1",
            "10.00",
            "10.00",
            vat("21", VatCategory::Standard, "2.10"),
        )],
    );
    draft.totals = Some(TotalsDraft {
        total_excl_vat: Some(d("10.00")),
        total_vat: Some(d("2.10")),
        total_incl_vat: Some(d("12.11")),
    });
    assert_eq!(
        codes_at(&refused(&draft)),
        [("/totals/total_incl_vat", "total_mismatch")]
    );
}

#[test]
fn incl_must_be_excl_plus_vat_to_the_cent() {
    let mut l = line(
        "1",
        "10.00",
        "10.00",
        vat("21", VatCategory::Standard, "2.10"),
    );
    l.total_incl_vat = Some(d("12.11"));
    assert_eq!(
        codes_at(&refused(&order("2026-01-09T12:00:00+01:00", vec![l]))),
        [("/lines/0/total_incl_vat", "incl_excl_vat_mismatch")]
    );
}

#[test]
fn an_unpaid_order_is_fine_but_overpayment_is_refused() {
    let mut draft = order(
        "2026-01-09T12:00:00+01:00",
        vec![line(
            "1",
            "10.00",
            "10.00",
            vat("21", VatCategory::Standard, "2.10"),
        )],
    );
    assert!(validate_order(&draft, &refs()).is_ok());
    draft.payments.push(PaymentDraft {
        method_id: Some("ideal".to_owned()),
        status: None,
        provider: None,
        provider_reference: None,
        payout_reference: None,
        fee: None,
        method_external_id: None,
        amount: Some(d("12.11")),
        reference: Some("tr_1".to_owned()),
        paid_at: None,
    });
    assert_eq!(
        codes_at(&refused(&draft)),
        [("/payments", "payments_exceed_total")]
    );
    // A refund paid back on the same order brings the sum back within the total.
    draft.payments.push(PaymentDraft {
        method_id: Some("ideal".to_owned()),
        status: None,
        provider: None,
        provider_reference: None,
        payout_reference: None,
        fee: None,
        method_external_id: None,
        amount: Some(d("-0.01")),
        ..PaymentDraft::default()
    });
    assert!(validate_order(&draft, &refs()).is_ok());
}

#[test]
fn a_rounding_cost_is_outside_scope_and_small() {
    let mut draft = order(
        "2026-01-09T12:00:00+01:00",
        vec![line(
            "1",
            "10.00",
            "10.00",
            vat("21", VatCategory::Standard, "2.10"),
        )],
    );
    draft.costs.push(CostDraft {
        kind: Some(CostKind::Rounding),
        amount_excl_vat: Some(d("-0.01")),
        vat: vat("0", VatCategory::OutsideScope, "0.00"),
        ..CostDraft::default()
    });
    assert_eq!(
        validate_order(&draft, &refs())
            .unwrap()
            .totals
            .total_incl_vat,
        d("12.09")
    );
    draft.costs[0].amount_excl_vat = Some(d("-1.00"));
    draft.costs[0].vat = vat("0", VatCategory::Zero, "0.00");
    assert_eq!(
        codes_at(&refused(&draft)),
        [
            ("/costs/0/vat/category", "rounding_not_outside_scope"),
            ("/costs/0/amount_excl_vat", "rounding_too_large"),
        ]
    );
}

#[test]
fn a_discount_cost_must_be_negative_on_an_order() {
    let mut draft = order(
        "2026-01-09T12:00:00+01:00",
        vec![line(
            "1",
            "10.00",
            "10.00",
            vat("21", VatCategory::Standard, "2.10"),
        )],
    );
    draft.costs.push(CostDraft {
        kind: Some(CostKind::Discount),
        amount_excl_vat: Some(d("1.00")),
        vat: vat("21", VatCategory::Standard, "0.21"),
        ..CostDraft::default()
    });
    assert_eq!(
        codes_at(&refused(&draft)),
        [("/costs/0/amount_excl_vat", "discount_cost_wrong_sign")]
    );
}

#[test]
fn a_broken_order_returns_every_violation_at_once_with_its_pointer() {
    let mut draft = order(
        "2026-01-09T12:00:00+01:00",
        vec![
            line(
                "1",
                "10.00",
                "10.00",
                vat("21", VatCategory::Standard, "2.10"),
            ),
            line("1", "10.00", "10.00", None),
            line(
                "2",
                "10.00",
                "20.00",
                vat("21", VatCategory::Standard, "4.30"),
            ),
            line(
                "1",
                "10.00",
                "10.00",
                vat("21", VatCategory::Standard, "2.10"),
            ),
        ],
    );
    draft.currency = Some("eur".to_owned());
    draft.external_id = None;
    draft.lines[3].product_id = Some("nope".to_owned());
    draft.lines[3].category_id = Some("nope".to_owned());
    draft.lines[0].vat.as_mut().unwrap().rate_id = Some("rate-9".to_owned());
    draft.customer = Some(CustomerDraft {
        id: Some("c404".to_owned()),
        email: Some("luke@".to_owned()),
        vat_number: Some("NL002455799B12".to_owned()),
        ..CustomerDraft::default()
    });
    draft.payments.push(PaymentDraft {
        method_id: Some("bitcoin".to_owned()),
        status: None,
        provider: None,
        provider_reference: None,
        payout_reference: None,
        fee: None,
        method_external_id: None,
        amount: Some(d("1.001")),
        ..PaymentDraft::default()
    });
    let violations = refused(&draft);
    let mut found = codes_at(&violations);
    found.sort();
    let mut expected = vec![
        ("/external_id", "missing_field"),
        ("/currency", "invalid_currency"),
        ("/customer/id", "unknown_customer"),
        ("/customer/email", "invalid_email"),
        ("/customer/vat_number", "invalid_vat_number"),
        ("/lines/0/vat/percentage", "vat_rate_conflict"),
        ("/lines/0/vat/category", "vat_rate_conflict"),
        ("/lines/1/vat", "vat_missing"),
        ("/lines/2/vat/amount", "vat_amount_mismatch"),
        ("/lines/3/product_id", "unknown_product"),
        ("/lines/3/category_id", "unknown_category"),
        ("/payments/0/method_id", "unknown_payment_method"),
        ("/payments/0/amount", "too_many_decimals"),
    ];
    expected.sort();
    assert_eq!(found, expected);
    let dutch = violations
        .iter()
        .find(|v| v.code == "vat_amount_mismatch")
        .unwrap();
    assert!(
        dutch.message_nl.contains("4.20") && dutch.message_nl.contains("marge"),
        "{}",
        dutch.message_nl
    );
}

#[test]
fn an_empty_order_names_each_missing_field() {
    let violations = refused(&OrderDraft::default());
    let mut found = codes_at(&violations);
    found.sort();
    assert_eq!(
        found,
        [
            ("/currency", "missing_field"),
            ("/external_id", "missing_field"),
            ("/lines", "no_lines"),
            ("/order_date", "missing_field"),
            ("/prices_include_vat", "missing_field"),
            ("/status", "missing_field"),
        ]
    );
}

#[test]
fn an_oss_line_is_taxed_at_the_destination_rate() {
    let mut oss = vat("19", VatCategory::Oss, "19.00").unwrap();
    let draft = order(
        "2026-01-09T12:00:00+01:00",
        vec![line("1", "100.00", "100.00", Some(oss.clone()))],
    );
    assert_eq!(
        codes_at(&refused(&draft)),
        [("/lines/0/vat/country", "oss_country_required")]
    );
    oss.country = Some("DE".to_owned());
    let draft = order(
        "2026-01-09T12:00:00+01:00",
        vec![line("1", "100.00", "100.00", Some(oss))],
    );
    let valid = validate_order(&draft, &refs()).unwrap();
    assert_eq!(valid.vat_breakdown[0].country.as_str(), "DE");
}

#[test]
fn an_order_is_read_from_json_with_numbers_and_strings_exactly() {
    let json = r#"{
        "external_id": "web-7", "status": "paid", "order_date": "2026-01-09T12:00:00+01:00",
        "currency": "EUR", "prices_include_vat": false,
        "lines": [{"sku": "166022", "quantity": 3, "unit_price": 0.1, "total_excl_vat": "0.30",
                   "vat": {"rate_id": "rate-21", "amount": 0.06}}],
        "payments": [{"method_id": "ideal", "amount": 0.36, "reference": "tr_7"}]
    }"#;
    let draft: OrderDraft = serde_json::from_str(json).unwrap();
    let valid = validate_order(&draft, &refs()).unwrap();
    assert_eq!(valid.totals.total_incl_vat, d("0.36"));
    assert_eq!(valid.paid(), valid.totals.total_incl_vat);
    let unknown = serde_json::from_str::<OrderDraft>(r#"{"external_idd": "x"}"#);
    assert!(unknown.unwrap_err().to_string().contains("external_idd"));
}

/// Mollie's example order (`tests/data/mollie_order_single_with_embeds.json`), mapped field
/// by field: VAT-inclusive lines with Mollie's discount as an amount for the whole line.
fn mollie() -> (serde_json::Value, OrderDraft) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/mollie_order_single_with_embeds.json"
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let money = |v: &serde_json::Value| d(v["value"].as_str().unwrap());
    let lines = m["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| LineDraft {
            sku: Some(l["sku"].as_str().unwrap().to_owned()),
            description: Some(l["name"].as_str().unwrap().to_owned()),
            quantity: Some(Decimal::from(l["quantity"].as_i64().unwrap())),
            unit_price: Some(money(&l["unitPrice"])),
            discount: l.get("discountAmount").map(money),
            vat: Some(VatDraft {
                percentage: Some(d(l["vatRate"].as_str().unwrap())),
                category: Some(VatCategory::Standard),
                amount: Some(money(&l["vatAmount"])),
                ..VatDraft::default()
            }),
            total_incl_vat: Some(money(&l["totalAmount"])),
            category_id: Some("toys".to_owned()),
            ..LineDraft::default()
        })
        .collect();
    let billing = &m["billingAddress"];
    let payment = &m["_embedded"]["payments"][0];
    let draft = OrderDraft {
        external_id: Some(m["id"].as_str().unwrap().to_owned()),
        number: Some(m["orderNumber"].as_str().unwrap().to_owned()),
        status: Some(OrderStatus::Open),
        order_date: Some(at(m["createdAt"].as_str().unwrap())),
        currency: Some(m["amount"]["currency"].as_str().unwrap().to_owned()),
        prices_include_vat: Some(true),
        customer: Some(CustomerDraft {
            name: Some(format!(
                "{} {}",
                billing["givenName"].as_str().unwrap(),
                billing["familyName"].as_str().unwrap()
            )),
            company_name: Some(billing["organizationName"].as_str().unwrap().to_owned()),
            email: Some(billing["email"].as_str().unwrap().to_owned()),
            ..CustomerDraft::default()
        }),
        lines,
        payments: vec![PaymentDraft {
            method_id: Some(m["method"].as_str().unwrap().to_owned()),
            status: None,
            provider: None,
            provider_reference: None,
            payout_reference: None,
            fee: None,
            method_external_id: None,
            amount: Some(money(&payment["amount"])),
            reference: Some(payment["id"].as_str().unwrap().to_owned()),
            paid_at: Some(at(payment["createdAt"].as_str().unwrap())),
        }],
        totals: Some(TotalsDraft {
            total_incl_vat: Some(money(&m["amount"])),
            ..TotalsDraft::default()
        }),
        ..OrderDraft::default()
    };
    (m, draft)
}

#[test]
fn mollies_example_order_validates_with_its_own_totals_and_vat() {
    let (m, draft) = mollie();
    let valid = validate_order(&draft, &refs()).unwrap();
    assert_eq!(
        valid.totals.total_incl_vat,
        d(m["amount"]["value"].as_str().unwrap())
    );
    assert_eq!(valid.totals.total_incl_vat, d("1027.99"));
    assert_eq!(valid.totals.total_vat, d("121.14") + d("57.27"));
    assert_eq!(valid.totals.total_excl_vat, d("849.58"));
    assert_eq!(valid.lines[0].total_excl_vat, d("576.86"));
    assert_eq!(valid.vat_breakdown.len(), 1);
    assert_eq!(valid.vat_breakdown[0].vat, d("178.41"));
    assert_eq!(
        valid.payments[0].reference.as_deref(),
        Some("tr_ncaPcAhuUV")
    );
}

#[test]
fn mollies_embedded_refund_is_a_valid_credit_order() {
    let (m, _) = mollie();
    let refund = &m["_embedded"]["refunds"][0];
    let l = &refund["lines"][0];
    let neg = |v: &serde_json::Value| -d(v["value"].as_str().unwrap());
    let draft = OrderDraft {
        external_id: Some(refund["id"].as_str().unwrap().to_owned()),
        status: Some(OrderStatus::Refunded),
        order_date: Some(at(refund["createdAt"].as_str().unwrap())),
        currency: Some("EUR".to_owned()),
        prices_include_vat: Some(true),
        credit_of: Some(refund["orderId"].as_str().unwrap().to_owned()),
        lines: vec![LineDraft {
            sku: Some(l["sku"].as_str().unwrap().to_owned()),
            quantity: Some(-Decimal::from(l["quantity"].as_i64().unwrap())),
            unit_price: Some(d(l["unitPrice"]["value"].as_str().unwrap())),
            vat: vat(
                "21",
                VatCategory::Standard,
                &neg(&l["vatAmount"]).to_string(),
            ),
            total_incl_vat: Some(neg(&l["totalAmount"])),
            ..LineDraft::default()
        }],
        payments: vec![PaymentDraft {
            method_id: Some("ideal".to_owned()),
            status: None,
            provider: None,
            provider_reference: None,
            payout_reference: None,
            fee: None,
            method_external_id: None,
            amount: Some(d(refund["settlementAmount"]["value"].as_str().unwrap())),
            reference: Some(refund["id"].as_str().unwrap().to_owned()),
            paid_at: None,
        }],
        ..OrderDraft::default()
    };
    let valid = validate_order(&draft, &refs()).unwrap();
    assert_eq!(valid.totals.total_incl_vat, d("-329.99"));
    assert_eq!(valid.totals.total_vat, d("-57.27"));
}

/// The figures of `tests/data/SI-UBL-2.0_ok_base.xml`, transcribed: IssueDate (line 11),
/// the three InvoiceLines (lines 118–174: 4 × 50.00 at S 21%, 1 × 100.00 at S 6%, −1 × 100.00
/// at S 21%) and the TaxTotal (lines 83–109: 21% 100.00 → 21.00, 6% 100.00 → 6.00, 27.00;
/// payable 227.00). UBL has no VAT per line, so each line's VAT is its base times its rate,
/// which adds up to the subtotals. UBL's "S" at 6% was the Dutch reduced rate in 2015. The
/// note says prices include VAT, but the figures are exclusive (LineExtensionAmount =
/// TaxExclusiveAmount), so the order is exclusive.
fn simplerinvoicing(issue_date: DateTime<FixedOffset>) -> OrderDraft {
    let ubl_line =
        |sku: &str, q: &str, price: &str, total: &str, pct: &str, cat, amount: &str| LineDraft {
            sku: Some(sku.to_owned()),
            quantity: Some(d(q)),
            unit_price: Some(d(price)),
            total_excl_vat: Some(d(total)),
            vat: vat(pct, cat, amount),
            ..LineDraft::default()
        };
    OrderDraft {
        external_id: Some("12115118".to_owned()),
        number: Some("12115118".to_owned()),
        status: Some(OrderStatus::Open),
        order_date: Some(issue_date),
        currency: Some("EUR".to_owned()),
        prices_include_vat: Some(false),
        lines: vec![
            ubl_line(
                "166022",
                "4",
                "50.00",
                "200.00",
                "21",
                VatCategory::Standard,
                "42.00",
            ),
            ubl_line(
                "661813",
                "1",
                "100.00",
                "100.00",
                "6",
                VatCategory::Reduced,
                "6.00",
            ),
            ubl_line(
                "438146",
                "-1",
                "100.00",
                "-100.00",
                "21",
                VatCategory::Standard,
                "-21.00",
            ),
        ],
        totals: Some(TotalsDraft {
            total_excl_vat: Some(d("200.00")),
            total_vat: Some(d("27.00")),
            total_incl_vat: Some(d("227.00")),
        }),
        ..OrderDraft::default()
    }
}

#[test]
fn the_simplerinvoicing_invoice_of_2015_is_valid_with_its_six_percent_line() {
    let valid =
        validate_order(&simplerinvoicing(at("2015-01-09T00:00:00+01:00")), &refs()).unwrap();
    assert_eq!(valid.totals.total_incl_vat, d("227.00"));
    let groups: Vec<_> = valid
        .vat_breakdown
        .iter()
        .map(|g| (g.percentage, g.base, g.vat))
        .collect();
    assert_eq!(
        groups,
        [
            (d("21"), d("100.00"), d("21.00")),
            (d("6"), d("100.00"), d("6.00"))
        ]
    );
}

#[test]
fn the_same_six_percent_line_dated_today_is_refused() {
    let today = Utc::now().fixed_offset();
    let violations = refused(&simplerinvoicing(today));
    assert_eq!(
        codes_at(&violations),
        [("/lines/1/vat/percentage", "vat_percentage_not_valid")]
    );
}

#[test]
fn the_simplerinvoicing_invoice_lands_in_boxes_1a_and_1b_of_its_time() {
    use koppel_domain::vat_return::{VatReturn, order_lines};
    let valid =
        validate_order(&simplerinvoicing(at("2015-01-09T00:00:00+01:00")), &refs()).unwrap();
    let ret = VatReturn::from_lines(order_lines(&valid));
    assert_eq!(
        (ret.boxes["1a"].base, ret.boxes["1a"].vat),
        (d("100.00"), d("21.00"))
    );
    assert_eq!(
        (ret.boxes["1b"].base, ret.boxes["1b"].vat),
        (d("100.00"), d("6.00"))
    );
    assert_eq!(ret.vat_due_whole(), d("27"));
}

/// A second-hand phone under the margin scheme (docs/bookkeeping-rules.md): bought for
/// 150.00, sold for 242.00 including 21%.
fn phone(vat_amount: &str, purchase_price: Option<&str>) -> OrderDraft {
    let mut draft = order(
        "2026-03-02T10:00:00+01:00",
        vec![LineDraft {
            sku: Some("IPHONE-12-REFURB".to_owned()),
            quantity: Some(d("1")),
            unit_price: Some(d("242.00")),
            total_incl_vat: Some(d("242.00")),
            vat: vat("21", VatCategory::Margin, vat_amount),
            purchase_price: purchase_price.map(d),
            ..LineDraft::default()
        }],
    );
    draft.prices_include_vat = Some(true);
    draft
}

#[test]
fn a_margin_scheme_line_carries_vat_on_its_margin_only() {
    use koppel_domain::vat_return::{VatReturn, order_lines};
    let valid = validate_order(&phone("15.97", Some("150.00")), &refs()).unwrap();
    let line = &valid.lines[0];
    assert_eq!(line.total_excl_vat, d("226.03"));
    assert_eq!(line.purchase_price, Some(d("150.00")));
    assert_eq!(valid.totals.total_vat, d("15.97"));
    assert_eq!(valid.totals.total_incl_vat, d("242.00"));
    // The group's base is the margin less its VAT: 92.00 − 15.97.
    let group = &valid.vat_breakdown[0];
    assert_eq!(
        (group.category, group.base, group.vat),
        (VatCategory::Margin, d("76.03"), d("15.97"))
    );
    // In the VAT return the margin goes to 1a, at its base.
    let ret = VatReturn::from_lines(order_lines(&valid));
    let box_1a = &ret.boxes["1a"];
    assert_eq!((box_1a.base, box_1a.vat), (d("76.03"), d("15.97")));
}

#[test]
fn a_margin_line_with_the_vat_of_its_full_price_is_refused() {
    // 242.00 × 21/121 = 42.00: VAT on the selling price, as if it were not the margin scheme.
    let violations = refused(&phone("42.00", Some("150.00")));
    assert_eq!(
        codes_at(&violations),
        [("/lines/0/vat/amount", "vat_amount_mismatch")]
    );
    assert!(
        violations[0]
            .message_en
            .contains("margin 242.00 − 150.00 × 1 = 92.00"),
        "{}",
        violations[0].message_en
    );
}

#[test]
fn a_margin_line_needs_its_purchase_price_and_only_a_margin_line_takes_one() {
    let violations = refused(&phone("15.97", None));
    assert_eq!(
        codes_at(&violations),
        [("/lines/0/purchase_price", "missing_field")]
    );
    let mut standard = phone("42.00", Some("150.00"));
    standard.lines[0].vat = vat("21", VatCategory::Standard, "42.00");
    assert_eq!(
        codes_at(&refused(&standard)),
        [("/lines/0/purchase_price", "purchase_price_without_margin")]
    );
    let mut on_a_cost = phone("15.97", Some("150.00"));
    on_a_cost.costs.push(CostDraft {
        kind: Some(CostKind::Shipping),
        amount_incl_vat: Some(d("6.05")),
        vat: vat("21", VatCategory::Margin, "1.05"),
        ..CostDraft::default()
    });
    assert_eq!(
        codes_at(&refused(&on_a_cost)),
        [("/costs/0/vat/category", "margin_needs_purchase_price")]
    );
    // Margin is at the standard or a reduced rate, nothing else.
    let mut at_13 = phone("10.58", Some("150.00"));
    at_13.lines[0].vat = vat("13", VatCategory::Margin, "10.58");
    assert_eq!(
        codes_at(&refused(&at_13)),
        [("/lines/0/vat/percentage", "vat_percentage_not_valid")]
    );
}

#[test]
fn a_margin_line_sold_at_a_loss_has_no_vat_and_a_refund_mirrors_the_sale() {
    // Bought for 300.00, sold for 242.00: no margin, no VAT (a loss is not set off).
    let valid = validate_order(&phone("0.00", Some("300.00")), &refs()).unwrap();
    assert_eq!(valid.vat_breakdown[0].base, d("0"));
    assert_eq!(
        codes_at(&refused(&phone("15.97", Some("300.00")))),
        [("/lines/0/vat/amount", "vat_amount_mismatch")]
    );
    // The phone comes back: a credit order with the negative margin and VAT.
    let mut refund = phone("-15.97", Some("150.00"));
    refund.credit_of = Some("ord_kEn1PlbGa".to_owned());
    refund.lines[0].quantity = Some(d("-1"));
    refund.lines[0].total_incl_vat = Some(d("-242.00"));
    let valid = validate_order(&refund, &refs()).unwrap();
    assert_eq!(
        (valid.vat_breakdown[0].base, valid.vat_breakdown[0].vat),
        (d("-76.03"), d("-15.97"))
    );
}

#[test]
fn a_payment_fee_is_checked_as_a_cost_but_stays_out_of_the_sales_figures() {
    use koppel_domain::order::FeeDraft;
    let mut draft = order(
        "2026-03-02T10:00:00+01:00",
        vec![line(
            "2",
            "10.00",
            "20.00",
            vat("21", VatCategory::Standard, "4.20"),
        )],
    );
    draft.payments.push(PaymentDraft {
        method_id: Some("ideal".to_owned()),
        amount: Some(d("24.20")),
        fee: Some(FeeDraft {
            amount_incl_vat: Some(d("0.35")),
            vat: vat("21", VatCategory::Standard, "0.06"),
            ..FeeDraft::default()
        }),
        ..PaymentDraft::default()
    });
    let valid = validate_order(&draft, &refs()).unwrap();
    let fee = valid.payments[0].fee.as_ref().unwrap();
    // Sent including VAT, although the order's prices exclude it: the basis is what was sent.
    assert_eq!(
        (fee.amount_excl_vat, fee.amount_incl_vat),
        (d("0.29"), d("0.35"))
    );
    assert_eq!(valid.totals.total_incl_vat, d("24.20"));
    assert_eq!(valid.vat_breakdown.len(), 1);
    assert_eq!(valid.vat_breakdown[0].vat, d("4.20"));

    // A provider elsewhere in the EU reverse-charges: 0.00 VAT, and more is refused.
    let mut reverse = draft.clone();
    reverse.payments[0].fee = Some(FeeDraft {
        amount_excl_vat: Some(d("0.25")),
        vat: vat("0", VatCategory::ReverseCharge, "0.05"),
        ..FeeDraft::default()
    });
    assert_eq!(
        codes_at(&refused(&reverse)),
        [("/payments/0/fee/vat/amount", "vat_amount_not_zero")]
    );
}

#[test]
fn an_order_in_pounds_is_reported_in_euros_at_its_exchange_rate() {
    use koppel_domain::vat_return::{VatReturn, order_lines};
    let mut known = refs();
    known.company_currency = Some("EUR".to_owned());
    let mut draft = order(
        "2026-03-02T10:00:00+01:00",
        vec![line(
            "4",
            "25.00",
            "100.00",
            vat("21", VatCategory::Standard, "21.00"),
        )],
    );
    draft.currency = Some("GBP".to_owned());

    // Without a rate the euros cannot be known.
    let violations = validate_order(&draft, &known).unwrap_err();
    assert_eq!(
        codes_at(&violations),
        [
            ("/exchange_rate", "exchange_rate_required"),
            ("/exchange_rate_date", "missing_field")
        ]
    );

    draft.exchange_rate = Some(d("1.1702"));
    draft.exchange_rate_date = Some(chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap());
    let valid = validate_order(&draft, &known).unwrap();
    assert_eq!(
        valid.totals.total_incl_vat,
        d("121.00"),
        "the order's own figures"
    );
    let euros = valid.company_currency.as_ref().unwrap();
    // Each group converted and rounded on its own: 100.00 × 1.1702 and 21.00 × 1.1702.
    assert_eq!(
        (euros.vat_breakdown[0].base, euros.vat_breakdown[0].vat),
        (d("117.02"), d("24.57"))
    );
    assert_eq!(euros.totals.total_incl_vat, d("141.59"));
    let ret = VatReturn::from_lines(order_lines(&valid));
    assert_eq!(
        (ret.boxes["1a"].base, ret.boxes["1a"].vat),
        (d("117.02"), d("24.57"))
    );

    // An order in euros takes no rate but 1.
    let mut euro = draft.clone();
    euro.currency = Some("EUR".to_owned());
    assert_eq!(
        codes_at(&validate_order(&euro, &known).unwrap_err()),
        [("/exchange_rate", "exchange_rate_not_one")]
    );
    euro.exchange_rate = Some(d("1"));
    assert!(
        validate_order(&euro, &known)
            .unwrap()
            .company_currency
            .is_none()
    );
}

#[test]
fn line_detail_keeps_gift_cards_and_deposits_apart_and_names_a_real_parent() {
    use koppel_domain::order::LineKind;
    let mut bundle = line(
        "1",
        "10.00",
        "10.00",
        vat("21", VatCategory::Standard, "2.10"),
    );
    bundle.unit = Some("piece".to_owned());
    bundle.discount_code = Some("PASEN10".to_owned());
    let mut part = line(
        "1",
        "0.00",
        "0.00",
        vat("21", VatCategory::Standard, "0.00"),
    );
    part.parent_line = Some(0);
    let mut card = line(
        "1",
        "25.00",
        "25.00",
        vat("0", VatCategory::OutsideScope, "0"),
    );
    card.kind = Some(LineKind::GiftCardMultiPurpose);
    let valid = validate_order(
        &order(
            "2026-03-02T10:00:00+01:00",
            vec![bundle.clone(), part.clone(), card.clone()],
        ),
        &refs(),
    )
    .unwrap();
    assert_eq!(valid.lines[1].parent_line, Some(0));
    assert_eq!(valid.lines[2].kind, LineKind::GiftCardMultiPurpose);
    // The gift card is in the total but not taxed: outside the scope of VAT.
    assert_eq!(valid.totals.total_excl_vat, d("35.00"));
    assert_eq!(valid.totals.total_vat, d("2.10"));

    // A multi-purpose gift card with VAT is refused; so is a parent that is no other line.
    let mut taxed_card = card;
    taxed_card.vat = vat("21", VatCategory::Standard, "5.25");
    let mut own_parent = part;
    own_parent.parent_line = Some(1);
    assert_eq!(
        codes_at(&refused(&order(
            "2026-03-02T10:00:00+01:00",
            vec![bundle, own_parent, taxed_card],
        ))),
        [
            ("/lines/1/parent_line", "parent_line_invalid"),
            ("/lines/2/vat/category", "line_kind_not_outside_scope")
        ]
    );
}

#[test]
fn an_order_status_and_a_cost_kind_are_named_as_serde_names_them() {
    for status in [
        OrderStatus::Open,
        OrderStatus::Paid,
        OrderStatus::Shipped,
        OrderStatus::Completed,
        OrderStatus::Cancelled,
        OrderStatus::Refunded,
    ] {
        assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
    }
    for kind in [
        CostKind::Shipping,
        CostKind::Payment,
        CostKind::Discount,
        CostKind::Surcharge,
        CostKind::Other,
        CostKind::Rounding,
    ] {
        assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
    }
}
