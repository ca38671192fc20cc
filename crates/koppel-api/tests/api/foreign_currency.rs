//! Receipts in another currency than the company's books (SPEC "Foreign currency"): refused
//! without an exchange rate; with one, answered with their company-currency figures and
//! counted in euros by the day, the VAT return and the journal. And a second-hand shop's till
//! selling under the margin scheme, in euros and in pounds: the VAT return reports the margin.

use axum::http::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::receipts::{Setup, pointers, receipt, setup};

/// The two croissants and a coffee of `receipt`, in pounds.
fn in_pounds(s: &Setup, external_id: &str) -> Value {
    let mut body = receipt(s, external_id, "2026-06-10T14:05:00+02:00");
    body["currency"] = json!("GBP");
    body
}

/// `(base, vat)` of each entry of `list` under its `percentage`.
fn per_rate(list: &Value) -> Vec<(String, String, String)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["percentage"].as_str().unwrap().to_owned(),
                g["base"].as_str().unwrap().to_owned(),
                g["vat"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The VAT return of April to June 2026.
async fn second_quarter_return(s: &Setup) -> Value {
    let answer = s
        .app
        .get(
            &format!(
                "/v1/companies/{}/vat-return?from=2026-04-01&to=2026-07-01",
                s.company
            ),
            &s.connector,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.json()
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_receipt_in_pounds_needs_a_rate_and_counts_in_euros_in_the_day_return_and_journal(
    pool: PgPool,
) {
    let s = setup(pool).await;
    let refused = s.post_receipt(&in_pounds(&s, "uk-1")).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(
        pointers(&refused),
        [
            (
                "/exchange_rate".to_owned(),
                "exchange_rate_required".to_owned()
            ),
            ("/exchange_rate_date".to_owned(), "missing_field".to_owned())
        ]
    );

    let mut body = in_pounds(&s, "uk-1");
    body["exchange_rate"] = json!("1.1702");
    body["exchange_rate_date"] = json!("2026-06-10");
    // Validating answers the euro figures it would store.
    let checked = s
        .app
        .post(
            &format!("{}/validate", s.receipts()),
            &s.vendor,
            body.clone(),
        )
        .await;
    assert_eq!(checked.status, StatusCode::OK, "{}", checked.text);
    assert_eq!(
        checked.json()["totals_company_currency"]["total_incl_vat"],
        "7.37"
    );
    let stored = s.post_receipt(&body).await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.text);
    // The same receipt in euros beside it, so the day adds the two.
    let euros = s
        .post_receipt(&receipt(&s, "nl-1", "2026-06-10T15:00:00+02:00"))
        .await;
    assert_eq!(euros.status, StatusCode::CREATED, "{}", euros.text);

    let id = stored.json()["id"].as_str().unwrap().to_owned();
    let read = s
        .app
        .get(&format!("{}/{id}", s.receipts()), &s.connector)
        .await
        .json();
    assert_eq!(read["currency"], "GBP");
    assert_eq!(read["exchange_rate"], "1.1702");
    assert_eq!(read["exchange_rate_date"], "2026-06-10");
    assert_eq!(read["totals"]["total_incl_vat"], "6.30");
    // By hand, each group on its own: 9%: 3.21 × 1.1702 = 3.756342 → 3.76, VAT 0.29 →
    // 0.339358 → 0.34; 21%: 2.31 → 2.703162 → 2.70, VAT 0.49 → 0.573398 → 0.57.
    assert_eq!(
        per_rate(&read["vat_breakdown_company_currency"]),
        [
            ("9".to_owned(), "3.76".to_owned(), "0.34".to_owned()),
            ("21".to_owned(), "2.70".to_owned(), "0.57".to_owned()),
        ]
    );
    assert_eq!(
        read["totals_company_currency"],
        json!({"total_excl_vat": "6.46", "total_vat": "0.91", "total_incl_vat": "7.37"})
    );
    let nl = s
        .app
        .get(&format!("{}?number=N-nl-1", s.receipts()), &s.connector)
        .await
        .json();
    assert_eq!(nl["data"][0]["exchange_rate"], Value::Null);
    assert_eq!(nl["data"][0]["totals_company_currency"], Value::Null);

    // The day: the euro receipt's 9% 3.21/0.29 and 21% 2.31/0.49 plus the converted ones;
    // the cash the euro receipt's 6.30 and the pounds' 7.37.
    let day = s.app.get(&s.day("2026-06-10"), &s.connector).await;
    assert_eq!(day.status, StatusCode::OK, "{}", day.text);
    let day = day.json();
    assert_eq!(
        per_rate(&day["by_vat_rate"]),
        [
            ("9".to_owned(), "6.97".to_owned(), "0.63".to_owned()),
            ("21".to_owned(), "5.01".to_owned(), "1.06".to_owned()),
        ]
    );
    assert_eq!(day["by_payment_method"][0]["amount"], "13.67");
    assert_eq!(day["payments_check"]["balanced"], true, "{day:#}");

    // The VAT return of the quarter: both receipts, in euros.
    let answer = second_quarter_return(&s).await;
    assert_eq!(answer["boxes"]["1a"]["base"], "5.01");
    assert_eq!(answer["boxes"]["1a"]["vat"], "1.06");
    assert_eq!(answer["boxes"]["1b"]["base"], "6.97");
    assert_eq!(answer["boxes"]["1b"]["vat"], "0.63");
    assert_eq!(answer["sources"]["receipts"], 2);
    assert_eq!(answer["sources"]["other_currency"], 0);

    // The receipt's journal posts euros: 7.37 of cash against revenue and VAT per group.
    let journal = s
        .app
        .get(&format!("{}/{id}/journal", s.receipts()), &s.connector)
        .await;
    assert_eq!(journal.status, StatusCode::OK, "{}", journal.text);
    let journal = journal.json();
    assert_eq!(journal["currency"], "EUR");
    assert_eq!(journal["total_debit"], "7.37", "{journal:#}");
    assert_eq!(journal["total_credit"], "7.37", "{journal:#}");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_resent_receipt_in_pounds_is_the_same_receipt_and_another_rate_is_not(pool: PgPool) {
    let s = setup(pool).await;
    let mut body = in_pounds(&s, "uk-2");
    body["exchange_rate"] = json!("1.17");
    body["exchange_rate_date"] = json!("2026-06-10");
    let first = s.post_receipt(&body).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    // The same rate written with more zeros is the same receipt.
    body["exchange_rate"] = json!("1.170000");
    let again = s.post_receipt(&body).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.json(), first.json());
    // Another rate is another receipt under the same id: refused, as any other change.
    body["exchange_rate"] = json!("1.18");
    let changed = s.post_receipt(&body).await;
    assert_eq!(changed.status, StatusCode::BAD_REQUEST, "{}", changed.text);
}

/// A second-hand phone bought for 150.00, sold at the till for 242.00 incl. 21% under the
/// margin scheme: VAT 15.97 on the margin of 92.00.
fn phone(s: &Setup, external_id: &str, created_at: &str) -> Value {
    let mut body = receipt(s, external_id, created_at);
    body["lines"] = json!([
        {"product_code": "IPH-12-REFURB", "description": "iPhone 12, refurbished",
         "category_id": s.other, "quantity": 1, "unit_price": "242.00",
         "total_incl_vat": "242.00", "purchase_price": "150.00",
         "vat": {"percentage": "21", "category": "margin", "amount": "15.97"}}
    ]);
    body["payments"] = json!([{"method_id": s.pin, "amount": "242.00"}]);
    body
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_second_hand_phone_at_the_till_is_reported_on_its_margin_in_euros_and_pounds(
    pool: PgPool,
) {
    let s = setup(pool).await;
    let mut wrong = phone(&s, "phone-0", "2026-06-10T11:00:00+02:00");
    wrong["lines"][0]["vat"]["amount"] = json!("42.00");
    let refused = s.post_receipt(&wrong).await;
    assert_eq!(
        pointers(&refused),
        [(
            "/lines/0/vat/amount".to_owned(),
            "vat_amount_mismatch".to_owned()
        )]
    );

    let stored = s
        .post_receipt(&phone(&s, "phone-1", "2026-06-10T11:00:00+02:00"))
        .await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.text);
    let stored = stored.json();
    assert_eq!(stored["lines"][0]["purchase_price"], "150.00");
    assert_eq!(stored["lines"][0]["total_excl_vat"], "226.03");
    assert_eq!(
        per_rate(&stored["vat_breakdown"]),
        [("21".to_owned(), "76.03".to_owned(), "15.97".to_owned())]
    );
    // The same phone once more, sold for pounds at 1.1702: base 76.03 → 88.97, VAT 15.97 →
    // 18.69, the price excl. VAT 226.03 → 264.50.
    let mut pounds = phone(&s, "phone-2", "2026-06-10T12:00:00+02:00");
    pounds["currency"] = json!("GBP");
    pounds["exchange_rate"] = json!("1.1702");
    pounds["exchange_rate_date"] = json!("2026-06-10");
    let stored = s.post_receipt(&pounds).await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.text);
    assert_eq!(
        per_rate(&stored.json()["vat_breakdown_company_currency"]),
        [("21".to_owned(), "88.97".to_owned(), "18.69".to_owned())]
    );

    // The day counts what the shop took in: 226.03 + 264.50 excl. VAT, and balances.
    let day = s.app.get(&s.day("2026-06-10"), &s.connector).await.json();
    assert_eq!(
        per_rate(&day["by_vat_rate"]),
        [("21".to_owned(), "490.53".to_owned(), "34.66".to_owned())]
    );
    assert_eq!(day["payments_check"]["balanced"], true, "{day:#}");

    // The VAT return reports the margins: 76.03 + 88.97 in box 1a.
    let answer = second_quarter_return(&s).await;
    assert_eq!(answer["boxes"]["1a"]["base"], "165.00", "{answer:#}");
    assert_eq!(answer["boxes"]["1a"]["vat"], "34.66");
}
