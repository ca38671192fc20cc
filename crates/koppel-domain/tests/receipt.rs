//! The receipt rules of `docs/contract.md` and `docs/bookkeeping-rules.md` "POS days".

use koppel_domain::document::{KnownReferences, VatDraft};
use koppel_domain::problem::Violation;
use koppel_domain::receipt::{
    ReceiptDraft, ReceiptLineDraft, ReceiptLineKind, ReceiptPaymentDraft, validate_receipt,
};
use koppel_domain::vat::VatCategory;
use rust_decimal::Decimal;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn refs() -> KnownReferences {
    let mut r = KnownReferences::default();
    r.payment_methods.extend(["cash", "pin"].map(String::from));
    r.categories
        .extend(["drinks", "tips", "cards"].map(String::from));
    r
}

fn sale(code: &str, q: &str, unit: &str, total: &str, pct: &str, vat: &str) -> ReceiptLineDraft {
    ReceiptLineDraft {
        product_code: Some(code.to_owned()),
        category_id: Some("drinks".to_owned()),
        quantity: Some(d(q)),
        unit_price: Some(d(unit)),
        total_incl_vat: Some(d(total)),
        vat: Some(VatDraft {
            percentage: Some(d(pct)),
            category: Some(if pct == "9" {
                VatCategory::Reduced
            } else {
                VatCategory::Standard
            }),
            amount: Some(d(vat)),
            ..VatDraft::default()
        }),
        ..ReceiptLineDraft::default()
    }
}

fn apart(kind: ReceiptLineKind, amount: &str) -> ReceiptLineDraft {
    ReceiptLineDraft {
        kind: Some(kind),
        product_code: Some("X".to_owned()),
        category_id: Some("tips".to_owned()),
        quantity: Some(d("1")),
        unit_price: Some(d(amount)),
        total_incl_vat: Some(d(amount)),
        vat: Some(VatDraft {
            category: Some(VatCategory::OutsideScope),
            amount: Some(d("0.00")),
            ..VatDraft::default()
        }),
        ..ReceiptLineDraft::default()
    }
}

fn pay(method: &str, amount: &str, change: Option<&str>) -> ReceiptPaymentDraft {
    ReceiptPaymentDraft {
        method_id: Some(method.to_owned()),
        amount: Some(d(amount)),
        change: change.map(d),
        ..ReceiptPaymentDraft::default()
    }
}

fn receipt(lines: Vec<ReceiptLineDraft>, payments: Vec<ReceiptPaymentDraft>) -> ReceiptDraft {
    ReceiptDraft {
        external_id: Some("bon-1".to_owned()),
        number: Some("1".to_owned()),
        location_id: Some("amsterdam".to_owned()),
        register_id: Some("till-1".to_owned()),
        created_at: Some("2026-10-25T02:30:00+01:00".to_owned()),
        currency: Some("EUR".to_owned()),
        prices_include_vat: Some(true),
        lines,
        payments,
        ..ReceiptDraft::default()
    }
}

fn codes_at(violations: &[Violation]) -> Vec<(&str, &str)> {
    violations
        .iter()
        .map(|v| (v.pointer.as_str(), v.code))
        .collect()
}

fn refused(draft: &ReceiptDraft) -> Vec<Violation> {
    validate_receipt(draft, &refs()).expect_err("the receipt should be refused")
}

#[test]
fn a_cash_sale_with_a_tip_and_change_balances_and_keeps_the_tip_apart() {
    let draft = receipt(
        vec![
            sale("KOF", "2", "3.50", "7.00", "9", "0.58"),
            apart(ReceiptLineKind::Tip, "1.00"),
        ],
        vec![pay("cash", "10.00", Some("2.00"))],
    );
    let valid = validate_receipt(&draft, &refs()).unwrap();
    assert_eq!(valid.totals.total_incl_vat, d("8.00"));
    assert_eq!(valid.split.revenue.total_incl_vat, d("7.00"));
    assert_eq!(valid.split.revenue.total_vat, d("0.58"));
    assert_eq!(valid.split.tips, d("1.00"));
    assert_eq!(valid.payments[0].net(), d("8.00"));
}

#[test]
fn cash_rounding_of_up_to_two_cents_closes_the_gap_and_more_is_refused() {
    let mut draft = receipt(
        vec![sale("KOF", "1", "3.53", "3.53", "9", "0.29")],
        vec![pay("cash", "3.55", None)],
    );
    draft.cash_rounding = Some(d("-0.02"));
    assert!(validate_receipt(&draft, &refs()).is_ok());
    draft.cash_rounding = Some(d("-0.03"));
    draft.payments = vec![pay("cash", "3.56", None)];
    assert_eq!(
        codes_at(&refused(&draft)),
        [("/cash_rounding", "rounding_too_large")]
    );
}

#[test]
fn payments_that_do_not_make_the_total_are_refused() {
    let draft = receipt(
        vec![sale("KOF", "1", "3.50", "3.50", "9", "0.29")],
        vec![pay("pin", "3.49", None)],
    );
    let violations = refused(&draft);
    assert_eq!(
        codes_at(&violations),
        [("/payments", "payments_do_not_match_total")]
    );
    assert!(violations[0].message_en.contains("3.49") && violations[0].message_en.contains("3.50"));
}

#[test]
fn change_beyond_the_amount_handed_over_is_refused() {
    let draft = receipt(
        vec![sale("KOF", "1", "3.50", "3.50", "9", "0.29")],
        vec![pay("cash", "3.50", Some("5.00"))],
    );
    assert_eq!(
        codes_at(&refused(&draft)),
        [("/payments/0/change", "invalid_change")]
    );
}

#[test]
fn a_timestamp_without_offset_is_refused_by_name() {
    let mut draft = receipt(
        vec![sale("KOF", "1", "3.50", "3.50", "9", "0.29")],
        vec![pay("pin", "3.50", None)],
    );
    draft.created_at = Some("2026-10-25T02:30:00".to_owned());
    let violations = refused(&draft);
    assert_eq!(
        codes_at(&violations),
        [("/created_at", "timestamp_without_offset")]
    );
    assert!(violations[0].message_en.contains("twice"));
    draft.created_at = Some("yesterday".to_owned());
    assert_eq!(
        codes_at(&refused(&draft)),
        [("/created_at", "invalid_timestamp")]
    );
}

#[test]
fn every_line_needs_vat_a_product_code_and_a_category() {
    let mut bare = sale("KOF", "1", "3.50", "3.50", "9", "0.29");
    bare.product_code = None;
    bare.category_id = Some(" ".to_owned());
    bare.vat = None;
    let mut unknown = sale("KOF", "1", "3.50", "3.50", "9", "0.29");
    unknown.category_id = Some("shoes".to_owned());
    let draft = receipt(vec![bare, unknown], vec![pay("pin", "7.00", None)]);
    let violations = refused(&draft);
    let mut found = codes_at(&violations);
    found.sort();
    assert_eq!(
        found,
        [
            ("/lines/0/category_id", "missing_field"),
            ("/lines/0/product_code", "missing_field"),
            ("/lines/0/vat", "vat_missing"),
            ("/lines/1/category_id", "unknown_category"),
        ]
    );
}

#[test]
fn a_tip_with_vat_is_refused_because_a_tip_is_not_revenue() {
    let mut tip = sale("FOOI", "1", "1.00", "1.00", "21", "0.17");
    tip.kind = Some(ReceiptLineKind::Tip);
    let draft = receipt(vec![tip], vec![pay("pin", "1.00", None)]);
    assert_eq!(
        codes_at(&refused(&draft)),
        [("/lines/0/vat/category", "line_kind_not_outside_scope")]
    );
}

#[test]
fn gift_cards_are_revenue_only_when_single_purpose() {
    let mut single = sale("BON-SPV", "1", "25.00", "25.00", "21", "4.34");
    single.kind = Some(ReceiptLineKind::GiftCardSinglePurpose);
    let draft = receipt(
        vec![
            single,
            apart(ReceiptLineKind::GiftCardMultiPurpose, "50.00"),
        ],
        vec![pay("pin", "75.00", None)],
    );
    let valid = validate_receipt(&draft, &refs()).unwrap();
    assert_eq!(valid.split.revenue.total_incl_vat, d("25.00"));
    assert_eq!(valid.split.gift_cards_multi_purpose, d("50.00"));
    assert_eq!(valid.totals.total_incl_vat, d("75.00"));
}

#[test]
fn a_refund_receipt_has_negative_amounts_and_the_same_rules() {
    let draft = receipt(
        vec![sale("KOF", "-2", "3.50", "-7.00", "9", "-0.58")],
        vec![pay("cash", "-7.00", None)],
    );
    let valid = validate_receipt(&draft, &refs()).unwrap();
    assert_eq!(valid.split.revenue.total_vat, d("-0.58"));
    let wrong = receipt(
        vec![sale("KOF", "-2", "3.50", "-7.00", "9", "-0.70")],
        vec![pay("cash", "-7.00", Some("1.00"))],
    );
    let violations = refused(&wrong);
    let mut found = codes_at(&violations);
    found.sort();
    assert_eq!(
        found,
        [
            ("/lines/0/vat/amount", "vat_amount_mismatch"),
            ("/payments/0/change", "invalid_change")
        ]
    );
}

#[test]
fn a_receipt_reads_from_json_with_exact_numbers() {
    let json = r#"{"external_id": "b-9", "created_at": "2026-03-29T03:00:00+02:00",
        "currency": "EUR", "prices_include_vat": true,
        "lines": [{"product_code": "BIER", "category_id": "drinks", "quantity": 3,
                   "unit_price": 4.1, "total_incl_vat": 12.3,
                   "vat": {"percentage": 21, "category": "standard", "amount": 2.13}}],
        "payments": [{"method_id": "cash", "amount": 20, "change": 7.7}]}"#;
    let draft: ReceiptDraft = serde_json::from_str(json).unwrap();
    let valid = validate_receipt(&draft, &refs()).unwrap();
    assert_eq!(valid.totals.total_incl_vat, d("12.30"));
    assert_eq!(valid.split.revenue.total_excl_vat, d("10.17"));
}

#[test]
fn a_line_kind_is_named_as_serde_names_it() {
    for kind in [
        ReceiptLineKind::Sale,
        ReceiptLineKind::Tip,
        ReceiptLineKind::GiftCardMultiPurpose,
        ReceiptLineKind::GiftCardSinglePurpose,
        ReceiptLineKind::Deposit,
    ] {
        assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
    }
}

fn in_pounds(mut draft: ReceiptDraft) -> ReceiptDraft {
    draft.currency = Some("GBP".to_owned());
    draft
}

fn euro_books() -> KnownReferences {
    KnownReferences {
        company_currency: Some("EUR".to_owned()),
        ..refs()
    }
}

#[test]
fn a_receipt_in_pounds_needs_an_exchange_rate_and_counts_in_euros() {
    let lines = vec![
        sale("KOF", "3", "3.30", "9.90", "21", "1.72"),
        sale("BRD", "1", "6.50", "6.50", "9", "0.54"),
        apart(ReceiptLineKind::Tip, "2.00"),
    ];
    let payments = vec![
        pay("pin", "10.00", None),
        pay("cash", "10.00", Some("1.60")),
    ];
    let mut draft = in_pounds(receipt(lines, payments));
    let refused = validate_receipt(&draft, &euro_books()).expect_err("no rate");
    assert_eq!(
        codes_at(&refused),
        [
            ("/exchange_rate", "exchange_rate_required"),
            ("/exchange_rate_date", "missing_field")
        ]
    );

    draft.exchange_rate = Some(d("1.1702"));
    draft.exchange_rate_date = chrono::NaiveDate::from_ymd_opt(2026, 10, 24);
    let valid = validate_receipt(&draft, &euro_books()).unwrap();
    assert_eq!(valid.totals.total_incl_vat, d("18.40"));
    let euros = valid.company_currency.as_ref().unwrap();
    // By hand, each group on its own: 21%: 8.18 × 1.1702 = 9.572236 → 9.57, VAT 1.72 →
    // 2.012744 → 2.01; 9%: 5.96 → 6.974392 → 6.97, VAT 0.54 → 0.631908 → 0.63; the tip
    // 2.00 → 2.3404 → 2.34.
    let groups: Vec<_> = euros
        .vat_breakdown
        .iter()
        .map(|g| (g.percentage, g.base, g.vat))
        .collect();
    assert_eq!(
        groups,
        [
            (d("21"), d("9.57"), d("2.01")),
            (d("9"), d("6.97"), d("0.63")),
            (d("0"), d("2.34"), d("0.00")),
        ]
    );
    assert_eq!(euros.totals.total_incl_vat, d("21.52"));
    assert_eq!(euros.split.revenue.total_incl_vat, d("19.18"));
    assert_eq!(euros.split.tips, d("2.34"));
    // The card's 10.00 is 11.70; the cash's 8.40 alone would be 9.83 (8.40 × 1.1702 =
    // 9.82968), but it takes what is left of the total: 21.52 − 11.70 = 9.82.
    assert_eq!(euros.payments, [d("11.70"), d("9.82")]);

    let day = koppel_domain::daily::DailyFigures::from_receipts(&[valid]);
    assert!(day.payments_equal_revenue());
    assert_eq!(day.revenue.total_incl_vat, d("19.18"));
    assert_eq!(day.by_payment_method["cash"], d("9.82"));
}

#[test]
fn a_rate_on_a_receipt_in_the_companys_own_currency_must_be_one() {
    let mut draft = receipt(
        vec![sale("KOF", "1", "3.50", "3.50", "9", "0.29")],
        vec![pay("cash", "3.50", None)],
    );
    draft.exchange_rate = Some(d("1.1"));
    assert_eq!(
        codes_at(&validate_receipt(&draft, &euro_books()).unwrap_err()),
        [("/exchange_rate", "exchange_rate_not_one")]
    );
    draft.exchange_rate = Some(d("1"));
    let valid = validate_receipt(&draft, &euro_books()).unwrap();
    assert_eq!(valid.company_currency, None);
    assert_eq!(valid.exchange_rate, None);
}

#[test]
fn a_single_purpose_voucher_paid_in_pounds_comes_out_of_the_euro_revenue() {
    let mut refs = euro_books();
    refs.payment_methods.insert("voucher".to_owned());
    refs.single_purpose_vouchers.insert("voucher".to_owned());
    let mut draft = in_pounds(receipt(
        vec![
            sale("CAKE", "1", "12.10", "12.10", "21", "2.10"),
            sale("BRD", "1", "10.90", "10.90", "9", "0.90"),
        ],
        vec![pay("voucher", "10.00", None), pay("pin", "13.00", None)],
    ));
    draft.exchange_rate = Some(d("1.2"));
    draft.exchange_rate_date = chrono::NaiveDate::from_ymd_opt(2026, 10, 24);
    let valid = validate_receipt(&draft, &refs).unwrap();
    let euros = valid.company_currency.as_ref().unwrap();
    // The voucher's 10.00 is 12.00, split as in pounds: 21%: 12.00 × 14.52/27.60 = 6.31
    // (VAT 1.10), 9% the remainder 5.69 (VAT 0.47).
    let shares: Vec<_> = euros
        .voucher_redemptions
        .iter()
        .map(|(k, f)| (k.1, f.base + f.vat, f.vat))
        .collect();
    assert_eq!(
        shares,
        [
            (d("21"), d("6.31"), d("1.10")),
            (d("9"), d("5.69"), d("0.47"))
        ]
    );
    let day = koppel_domain::daily::DailyFigures::from_receipts(&[valid]);
    assert!(day.payments_equal_revenue());
    assert_eq!(day.vouchers_redeemed(), d("12.00"));
    assert_eq!(day.revenue.total_incl_vat, d("27.60") - d("12.00"));
}

/// A second-hand phone bought for 150.00 and sold at the till for 242.00 incl. 21% under the
/// margin scheme, with the VAT `vat` on it.
fn phone(vat: &str) -> ReceiptDraft {
    let mut line = sale("PHONE", "1", "242.00", "242.00", "21", vat);
    line.vat.as_mut().unwrap().category = Some(VatCategory::Margin);
    line.purchase_price = Some(d("150.00"));
    receipt(vec![line], vec![pay("pin", "242.00", None)])
}

#[test]
fn a_second_hand_phone_at_the_till_pays_vat_on_its_margin_only() {
    // Margin 92.00, VAT 92.00 × 21/121 = 15.97, base 76.03 (VAT.md).
    let valid = validate_receipt(&phone("15.97"), &refs()).unwrap();
    let line = &valid.lines[0];
    assert_eq!(line.total_excl_vat, d("226.03"));
    assert_eq!(line.purchase_price, Some(d("150.00")));
    assert_eq!(line.vat_base(), d("76.03"));
    assert_eq!(valid.vat_breakdown[0].base, d("76.03"));
    assert_eq!(valid.vat_breakdown[0].vat, d("15.97"));
    // The day counts what the shop took in: 226.03 of revenue, and balances.
    let day = koppel_domain::daily::DailyFigures::from_receipts(&[valid]);
    assert_eq!(day.revenue.total_excl_vat, d("226.03"));
    assert!(day.payments_equal_revenue());

    // VAT on the whole price is wrong under the margin scheme.
    assert_eq!(
        codes_at(&refused(&phone("42.00"))),
        [("/lines/0/vat/amount", "vat_amount_mismatch")]
    );
    // Without its purchase price the margin is unknown.
    let mut draft = phone("15.97");
    draft.lines[0].purchase_price = None;
    assert_eq!(
        codes_at(&refused(&draft)),
        [("/lines/0/purchase_price", "missing_field")]
    );
    // A purchase price on a line outside the margin scheme is refused.
    let mut draft = receipt(
        vec![sale("KOF", "1", "3.50", "3.50", "9", "0.29")],
        vec![pay("cash", "3.50", None)],
    );
    draft.lines[0].purchase_price = Some(d("1.00"));
    assert_eq!(
        codes_at(&refused(&draft)),
        [("/lines/0/purchase_price", "purchase_price_without_margin")]
    );
}

#[test]
fn a_second_hand_phone_sold_in_pounds_has_its_margin_converted_too() {
    let mut draft = in_pounds(phone("15.97"));
    draft.exchange_rate = Some(d("1.1702"));
    draft.exchange_rate_date = chrono::NaiveDate::from_ymd_opt(2026, 10, 24);
    let valid = validate_receipt(&draft, &euro_books()).unwrap();
    let euros = valid.company_currency.as_ref().unwrap();
    // 226.03 × 1.1702 = 264.500306, VAT 15.97 → 18.688094, base 76.03 → 88.970306.
    let group = &euros.vat_breakdown[0];
    assert_eq!(
        (group.excl, group.vat, group.base),
        (d("264.50"), d("18.69"), d("88.97"))
    );
    assert_eq!(
        (euros.lines[0].excl, euros.lines[0].vat, euros.lines[0].base),
        (d("264.50"), d("18.69"), d("88.97"))
    );
    assert_eq!(euros.payments, [d("283.19")]);
}

#[test]
fn an_exchange_rate_that_would_make_an_amount_too_large_is_refused_at_the_rate() {
    let mut draft = in_pounds(receipt(
        vec![sale("KOF", "1", "3.50", "3.50", "9", "0.29")],
        vec![pay("cash", "3.50", None)],
    ));
    draft.exchange_rate = Some(d("999999999999"));
    draft.exchange_rate_date = chrono::NaiveDate::from_ymd_opt(2026, 10, 24);
    assert_eq!(
        codes_at(&validate_receipt(&draft, &euro_books()).unwrap_err()),
        [("/exchange_rate", "amount_out_of_range")]
    );
    draft.exchange_rate = Some(d("2"));
    assert!(validate_receipt(&draft, &euro_books()).is_ok());
}

#[test]
fn a_receipt_in_pounds_journals_its_payments_as_its_day_counts_them() {
    use koppel_domain::journal::{Role, document_entry, receipt_facts};
    let mut draft = in_pounds(receipt(
        vec![
            sale("KOF", "3", "3.30", "9.90", "21", "1.72"),
            sale("BRD", "1", "6.50", "6.50", "9", "0.54"),
            apart(ReceiptLineKind::Tip, "2.00"),
        ],
        vec![
            pay("pin", "10.00", None),
            pay("cash", "10.00", Some("1.60")),
        ],
    ));
    draft.exchange_rate = Some(d("1.1702"));
    draft.exchange_rate_date = chrono::NaiveDate::from_ymd_opt(2026, 10, 24);
    let valid = validate_receipt(&draft, &euro_books()).unwrap();
    let kind = |id: &str| Some(if id == "cash" { "cash" } else { "debit_card" }.to_owned());
    let entry = document_entry(&receipt_facts(&valid, kind));
    assert!(entry.is_balanced());
    let sum = |role: Role| entry.total_of(role);
    // The cash's 8.40 alone would be 9.83; as in the day it takes what is left of 21.52.
    assert_eq!(sum(Role::Cash), d("9.82"));
    assert_eq!(sum(Role::PaymentClearing), d("11.70"));
    assert_eq!(sum(Role::Rounding), d("0"), "{entry:#?}");
}
