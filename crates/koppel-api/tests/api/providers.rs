//! Payouts as Mollie and Stripe answer them (`tests/fixtures/providers/`), mapped to Koppel's
//! settlement the way a connector or vendor would, pushed against the orders of the same
//! sample set: every transaction matched, the nets adding up to what reached the bank.

use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::receipts::{Setup, setup};

const MOLLIE: &str = include_str!("../fixtures/providers/mollie-settlement.json");
const STRIPE: &str = include_str!("../fixtures/providers/stripe-payout.json");

/// Cents (Stripe's unit) as a decimal string.
fn cents(n: &Value) -> String {
    Decimal::new(n.as_i64().unwrap(), 2).to_string()
}

/// A Mollie settlement: its payments and refunds with their settlement amounts (Mollie
/// deducts no fee per payment), and each period's costs as a fee of its own with its VAT.
fn from_mollie(sample: &Value) -> Value {
    let settlement = &sample["settlement"];
    let mut transactions = Vec::new();
    for p in sample["payments"].as_array().unwrap() {
        let amount = &p["settlementAmount"]["value"];
        transactions.push(json!({"type": "payment", "provider_reference": p["id"],
            "description": p["description"], "gross": amount, "net": amount}));
    }
    for r in sample["refunds"].as_array().unwrap() {
        // A refund names the payment it pays back; its own id goes in `reference`.
        let amount = &r["settlementAmount"]["value"];
        transactions.push(
            json!({"type": "refund", "provider_reference": r["paymentId"],
            "reference": r["id"], "description": r["description"],
            "gross": amount, "net": amount}),
        );
    }
    for year in settlement["periods"].as_object().unwrap().values() {
        for month in year.as_object().unwrap().values() {
            for cost in month["costs"].as_array().unwrap() {
                let gross: Decimal = cost["amountGross"]["value"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                transactions.push(json!({"type": "fee", "description": cost["description"],
                    "gross": "0.00",
                    "fee": {"amount_excl_vat": cost["amountNet"]["value"],
                            "vat": {"percentage": "21", "category": "standard",
                                    "amount": cost["amountVat"]["value"]},
                            "amount_incl_vat": cost["amountGross"]["value"]},
                    "net": (-gross).to_string()}));
            }
        }
    }
    json!({"external_id": settlement["id"], "provider": "mollie",
           "paid_out_at": settlement["settledAt"], "currency": settlement["amount"]["currency"],
           "amount": settlement["amount"]["value"], "reference": settlement["reference"],
           "transactions": transactions})
}

/// A Stripe payout: its balance transactions but the payout's own, each charge's or
/// refund's `source` as the provider's reference, Stripe's fee reverse-charged (Stripe
/// invoices from Ireland: no Dutch VAT on the invoice).
fn from_stripe(sample: &Value) -> Value {
    let payout = &sample["payout"];
    let transactions: Vec<Value> = sample["balance_transactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["type"] != "payout")
        .map(|t| {
            let kind = match t["type"].as_str().unwrap() {
                "charge" | "payment" => "payment",
                "refund" | "payment_refund" => "refund",
                "dispute" => "chargeback",
                _ => "adjustment",
            };
            let fee = (t["fee"].as_i64().unwrap() != 0).then(|| {
                json!({"amount_excl_vat": cents(&t["fee"]),
                       "vat": {"percentage": "0", "category": "reverse_charge", "country": "IE",
                               "amount": "0.00"},
                       "amount_incl_vat": cents(&t["fee"])})
            });
            json!({"type": kind, "provider_reference": t["source"], "reference": t["id"],
                   "gross": cents(&t["amount"]), "fee": fee, "net": cents(&t["net"])})
        })
        .collect();
    let paid_out_at = chrono::DateTime::from_timestamp(payout["arrival_date"].as_i64().unwrap(), 0)
        .unwrap()
        .to_rfc3339();
    json!({"external_id": payout["id"], "provider": "stripe", "paid_out_at": paid_out_at,
           "currency": payout["currency"].as_str().unwrap().to_uppercase(),
           "amount": cents(&payout["amount"]), "transactions": transactions})
}

/// Pushes an order paid in full under `provider_reference`; a negative amount is a credit
/// order of `credit_of`.
async fn order(
    s: &Setup,
    method: &str,
    id: &str,
    amount: &str,
    reference: &str,
    credit_of: Option<&str>,
) -> String {
    let gross: Decimal = amount.parse().unwrap();
    let vat = (gross * Decimal::from(21) / Decimal::from(121)).round_dp(2);
    let quantity = if gross < Decimal::ZERO { -1 } else { 1 };
    let body = json!({"external_id": id, "status": "paid", "credit_of": credit_of,
        "order_date": "2026-03-27T10:00:00+01:00", "currency": "EUR", "prices_include_vat": true,
        "lines": [{"sku": "ART", "quantity": quantity, "unit_price": gross.abs().to_string(),
                   "total_incl_vat": amount,
                   "vat": {"percentage": "21", "category": "standard", "amount": vat.to_string()}}],
        "payments": [{"method_id": method, "amount": amount, "provider_reference": reference}]});
    let r = s
        .app
        .post(
            &format!("/v1/companies/{}/orders", s.company),
            &s.vendor,
            body,
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    r.json()["id"].as_str().unwrap().to_owned()
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_mollie_settlement_and_a_stripe_payout_match_the_orders_they_pay_out(pool: PgPool) {
    let s = setup(pool).await;
    let method = s
        .app
        .post(
            &format!("/v1/companies/{}/payment-methods", s.company),
            &s.vendor,
            json!({"external_id": "psp", "name": "Online", "kind": "ideal"}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Mollie: three orders, a credit order for the returned knife (paid back under the
    // refund's own id).
    let mollie: Value = serde_json::from_str(MOLLIE).unwrap();
    let mut orders = Vec::new();
    for p in mollie["payments"].as_array().unwrap() {
        let id = p["metadata"]["order_id"].as_str().unwrap();
        orders.push(
            order(
                &s,
                &method,
                id,
                p["amount"]["value"].as_str().unwrap(),
                p["id"].as_str().unwrap(),
                None,
            )
            .await,
        );
    }
    let refund = &mollie["refunds"][0];
    let credit = order(
        &s,
        &method,
        "2026-2002-credit",
        &format!("-{}", refund["amount"]["value"].as_str().unwrap()),
        refund["id"].as_str().unwrap(),
        Some(&orders[1]),
    )
    .await;

    let pushed = s
        .app
        .post(
            &format!("/v1/companies/{}/settlements", s.company),
            &s.vendor,
            from_mollie(&mollie),
        )
        .await;
    assert_eq!(pushed.status, StatusCode::CREATED, "{}", pushed.text);
    let pushed = pushed.json();
    assert_eq!(pushed["amount"], "128.09");
    let matched: Vec<Value> = pushed["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["match"]["id"].clone())
        .collect();
    assert_eq!(
        matched,
        vec![
            json!(orders[0]),
            json!(orders[1]),
            json!(orders[2]),
            json!(credit),
            Value::Null,
            Value::Null
        ]
    );
    assert_eq!(pushed["unmatched_total"], "0.00");
    assert_eq!(pushed["conflict_count"], 0);

    // Stripe: the orders paid by card carry the charge's id; the refund's credit order
    // carries the refund's.
    let stripe: Value = serde_json::from_str(STRIPE).unwrap();
    let charges: Vec<&Value> = stripe["balance_transactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["type"] == "charge")
        .collect();
    let mut card = Vec::new();
    for (i, c) in charges.iter().enumerate() {
        card.push(
            order(
                &s,
                &method,
                &format!("shop-{i}"),
                &cents(&c["amount"]),
                c["source"].as_str().unwrap(),
                None,
            )
            .await,
        );
    }
    let refund = stripe["balance_transactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == "refund")
        .unwrap();
    let card_credit = order(
        &s,
        &method,
        "shop-1-credit",
        &cents(&refund["amount"]),
        refund["source"].as_str().unwrap(),
        Some(&card[1]),
    )
    .await;
    let pushed = s
        .app
        .post(
            &format!("/v1/companies/{}/settlements", s.company),
            &s.vendor,
            from_stripe(&stripe),
        )
        .await;
    assert_eq!(pushed.status, StatusCode::CREATED, "{}", pushed.text);
    let pushed = pushed.json();
    assert_eq!(pushed["amount"], "176.52");
    let matched: Vec<Value> = pushed["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["match"]["id"].clone())
        .collect();
    assert_eq!(
        matched,
        vec![
            json!(card[0]),
            json!(card[1]),
            json!(card[2]),
            json!(card_credit)
        ]
    );
    let journal = s
        .app
        .get(
            &format!(
                "/v1/companies/{}/settlements/{}/journal",
                s.company,
                pushed["id"].as_str().unwrap()
            ),
            &s.connector,
        )
        .await
        .json();
    assert_eq!(journal["total_debit"], journal["total_credit"]);
    // Stripe's reverse-charged fees: 3.68 to psp_fees, no input VAT line.
    let fees: Vec<&Value> = journal["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["role"] == "psp_fees" || l["role"] == "vat_receivable")
        .collect();
    assert_eq!(fees.len(), 3);
    assert!(fees.iter().all(|l| l["role"] == "psp_fees"));
}
