//! Payouts from payment providers: the rules of a settlement and its balanced entry.

use koppel_domain::document::{KnownReferences, VatDraft};
use koppel_domain::journal::{FeeFacts, Role};
use koppel_domain::money::round_cents;
use koppel_domain::order::FeeDraft;
use koppel_domain::problem::codes;
use koppel_domain::settlement::{
    SettlementDraft, TransactionDraft, TransactionFacts, TransactionType, settlement_entry,
    validate_settlement,
};
use koppel_domain::vat::VatCategory;
use proptest::prelude::*;
use rust_decimal::Decimal;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn refs() -> KnownReferences {
    KnownReferences {
        company_currency: Some("EUR".to_owned()),
        ..KnownReferences::default()
    }
}

fn fee(excl: &str, vat: &str, incl: &str) -> Option<FeeDraft> {
    Some(FeeDraft {
        amount_excl_vat: Some(d(excl)),
        vat: Some(VatDraft {
            percentage: Some(d("21")),
            category: Some(VatCategory::Standard),
            amount: Some(d(vat)),
            ..VatDraft::default()
        }),
        amount_incl_vat: Some(d(incl)),
    })
}

fn tx(
    kind: TransactionType,
    reference: &str,
    gross: &str,
    fee: Option<FeeDraft>,
    net: &str,
) -> TransactionDraft {
    TransactionDraft {
        kind: Some(kind),
        provider_reference: Some(reference.to_owned()),
        gross: Some(d(gross)),
        fee,
        net: Some(d(net)),
        ..TransactionDraft::default()
    }
}

/// A Mollie payout: two iDEAL payments with their fees and a refund.
fn payout() -> SettlementDraft {
    SettlementDraft {
        external_id: Some("stl_jDk30akdN".to_owned()),
        provider: Some("mollie".to_owned()),
        paid_out_at: Some("2026-03-30T06:00:00+02:00".to_owned()),
        currency: Some("EUR".to_owned()),
        amount: Some(d("66.67")),
        transactions: vec![
            tx(
                TransactionType::Payment,
                "tr_WDqYK6vllg",
                "30.85",
                fee("0.29", "0.06", "0.35"),
                "30.50",
            ),
            tx(
                TransactionType::Payment,
                "tr_Kx7RmQ2pTz",
                "48.40",
                fee("0.29", "0.06", "0.35"),
                "48.05",
            ),
            tx(
                TransactionType::Refund,
                "tr_P3nVb8sLqa",
                "-11.88",
                None,
                "-11.88",
            ),
        ],
        ..SettlementDraft::default()
    }
}

#[test]
fn a_payout_whose_nets_add_up_is_valid_and_its_entry_balances() {
    let valid = validate_settlement(&payout(), &refs()).unwrap();
    assert_eq!(valid.transactions.len(), 3);
    assert_eq!(valid.transactions[0].fee_incl(), d("0.35"));
    let facts: Vec<TransactionFacts> = valid
        .transactions
        .iter()
        .map(|t| TransactionFacts {
            kind: t.kind,
            gross: t.gross,
            fee: t.fee.as_ref().map(|f| FeeFacts {
                rate: (f.vat.category, f.vat.percentage, f.vat.country),
                excl: f.amount_excl_vat,
                vat: f.vat.amount,
            }),
            method_id: Some("ideal".to_owned()),
        })
        .collect();
    let entry = settlement_entry(valid.amount, None, &facts);
    assert!(entry.is_balanced());
    let sum = |role: Role| entry.total_of(role);
    assert_eq!(sum(Role::Bank), d("66.67"));
    assert_eq!(sum(Role::PaymentClearing), d("-67.37"));
    assert_eq!(sum(Role::PspFees), d("0.58"));
    assert_eq!(sum(Role::VatReceivable), d("0.12"));
    assert!(entry.postings.iter().all(|p| p.role != Role::Rounding));
}

#[test]
fn nets_that_do_not_add_up_and_a_wrong_net_are_refused_at_their_pointers() {
    let mut draft = payout();
    draft.amount = Some(d("66.66"));
    draft.transactions[1].net = Some(d("48.40"));
    draft.transactions[2].provider_reference = None;
    draft.transactions[0].fee = fee("0.29", "0.16", "0.45");
    let refused = validate_settlement(&draft, &refs()).unwrap_err();
    let at: Vec<(&str, &str)> = refused
        .iter()
        .map(|v| (v.pointer.as_str(), v.code))
        .collect();
    assert!(
        at.contains(&("/transactions/1/net", codes::SETTLEMENT_NET_MISMATCH)),
        "{at:?}"
    );
    assert!(
        at.contains(&("/transactions/2/provider_reference", codes::MISSING_FIELD)),
        "{at:?}"
    );
    assert!(
        at.contains(&("/transactions/0/fee/vat/amount", codes::VAT_AMOUNT_MISMATCH)),
        "{at:?}"
    );
    // The sum is not checked over transactions that are wrong themselves.
    assert!(
        !at.iter()
            .any(|(_, c)| *c == codes::SETTLEMENT_AMOUNT_MISMATCH)
    );

    let mut draft = payout();
    draft.amount = Some(d("66.66"));
    let refused = validate_settlement(&draft, &refs()).unwrap_err();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].pointer, "/amount");
    assert_eq!(refused[0].code, codes::SETTLEMENT_AMOUNT_MISMATCH);
}

#[test]
fn a_payout_in_pounds_needs_its_rate_and_a_time_its_offset() {
    let mut draft = payout();
    draft.currency = Some("GBP".to_owned());
    draft.paid_out_at = Some("2026-03-30T06:00:00".to_owned());
    let refused = validate_settlement(&draft, &refs()).unwrap_err();
    let at: Vec<(&str, &str)> = refused
        .iter()
        .map(|v| (v.pointer.as_str(), v.code))
        .collect();
    assert!(
        at.contains(&("/exchange_rate", codes::EXCHANGE_RATE_REQUIRED)),
        "{at:?}"
    );
    assert!(
        at.contains(&("/paid_out_at", codes::TIMESTAMP_WITHOUT_OFFSET)),
        "{at:?}"
    );
    let rate = refused
        .iter()
        .find(|v| v.pointer == "/exchange_rate")
        .unwrap();
    assert!(
        rate.message_en.starts_with("the settlement is in GBP"),
        "{}",
        rate.message_en
    );
    // A fee line of the provider's own needs no payment reference.
    let mut draft = payout();
    draft.transactions.push(TransactionDraft {
        kind: Some(TransactionType::Fee),
        gross: Some(d("0")),
        fee: fee("2.00", "0.42", "2.42"),
        net: Some(d("-2.42")),
        ..TransactionDraft::default()
    });
    draft.amount = Some(d("64.25"));
    assert!(validate_settlement(&draft, &refs()).is_ok());
}

proptest! {
    #[test]
    fn every_settlement_entry_balances_in_any_currency(
        txs in prop::collection::vec((0usize..5, -50_000i64..50_000, prop::option::of(1i64..500)), 1..60),
        rate in prop::option::of(5_000i64..20_000),
    ) {
        let facts: Vec<TransactionFacts> = txs
            .iter()
            .map(|(kind, gross, fee)| TransactionFacts {
                kind: TransactionType::ALL[*kind],
                gross: Decimal::new(*gross, 2),
                fee: fee.map(|f| FeeFacts {
                    rate: (VatCategory::Standard, d("21"), koppel_domain::identifiers::CountryCode::NL),
                    excl: Decimal::new(f, 2),
                    vat: round_cents(Decimal::new(f, 2) * d("0.21")),
                }),
                method_id: None,
            })
            .collect();
        let amount: Decimal = facts
            .iter()
            .map(|t| t.gross - t.fee.as_ref().map_or(Decimal::ZERO, |f| f.excl + f.vat))
            .sum();
        let entry = settlement_entry(amount, rate.map(|r| Decimal::new(r, 4)), &facts);
        prop_assert!(entry.is_balanced());
        for p in &entry.postings {
            prop_assert!(!p.amount.is_zero());
            prop_assert!(koppel_domain::journal::dutch(&p.description).is_some(), "{}", p.description);
            if p.role == Role::Rounding {
                prop_assert!(p.amount.abs() <= Decimal::new(1, 2) * Decimal::from(facts.len()));
            }
        }
        if rate.is_none() {
            prop_assert!(entry.postings.iter().all(|p| p.role != Role::Rounding && p.role != Role::CashDifference));
        }
    }
}
