//! Payouts from payment providers (#18): stored when the nets add up, each transaction
//! matched to the order or receipt payment it pays out (also when the document comes later,
//! with an event), conflicts shown, refunds to the credit order's refund, and a balanced
//! journal entry.

use axum::http::StatusCode;
use koppel_api::auth::scopes::ClientKind;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::harness::TestResponse;
use crate::receipts::{Setup, receipt, setup};

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

struct Shop {
    s: Setup,
    ideal: String,
}

impl Shop {
    async fn new(pool: PgPool) -> Shop {
        let s = setup(pool).await;
        let ideal = s
            .app
            .post(
                &format!("/v1/companies/{}/payment-methods", s.company),
                &s.vendor,
                json!({"external_id": "ideal", "name": "iDEAL", "kind": "ideal"}),
            )
            .await;
        assert_eq!(ideal.status, StatusCode::CREATED, "{}", ideal.text);
        let ideal = ideal.json()["id"].as_str().unwrap().to_owned();
        Shop { s, ideal }
    }

    fn uri(&self, rest: &str) -> String {
        format!("/v1/companies/{}{rest}", self.s.company)
    }

    /// An order of one 21% line of `incl` paid by iDEAL under the provider's `tr`.
    async fn order(&self, external_id: &str, incl: &str, tr: &str) -> String {
        let gross = d(incl);
        let vat = (gross * d("21") / d("121")).round_dp(2);
        let body = json!({
            "external_id": external_id, "status": "paid",
            "order_date": "2026-03-27T10:00:00+01:00", "currency": "EUR",
            "prices_include_vat": true,
            "lines": [{"sku": "ART", "quantity": 1, "unit_price": incl, "total_incl_vat": incl,
                       "vat": {"percentage": "21", "category": "standard",
                               "amount": vat.to_string()}}],
            "payments": [{"method_id": self.ideal, "amount": incl, "status": "paid",
                          "provider": "mollie", "provider_reference": tr}]
        });
        let r = self
            .s
            .app
            .post(&self.uri("/orders"), &self.s.vendor, body)
            .await;
        assert!(r.status.is_success(), "{}", r.text);
        r.json()["id"].as_str().unwrap().to_owned()
    }

    async fn push(&self, body: Value) -> TestResponse {
        self.s
            .app
            .post(&self.uri("/settlements"), &self.s.vendor, body)
            .await
    }

    async fn get(&self, rest: &str) -> Value {
        let r = self.s.app.get(&self.uri(rest), &self.s.connector).await;
        assert_eq!(r.status, StatusCode::OK, "{rest}: {}", r.text);
        r.json()
    }

    async fn events(&self, event_type: &str) -> Vec<uuid::Uuid> {
        sqlx::query_scalar(
            "select resource_id from events where company_id = $1 and type = $2
              order by txid, seq",
        )
        .bind(self.s.company)
        .bind(event_type)
        .fetch_all(self.s.app.app.store.pool())
        .await
        .unwrap()
    }
}

fn fee() -> Value {
    json!({"amount_excl_vat": "0.29",
           "vat": {"percentage": "21", "category": "standard", "amount": "0.06"},
           "amount_incl_vat": "0.35"})
}

/// A Mollie payout of two payments (with fees) and a monthly fee line of its own.
fn payout(id: &str, first: &str, second: &str) -> Value {
    json!({
        "external_id": id, "provider": "mollie",
        "paid_out_at": "2026-03-30T06:00:00+02:00", "currency": "EUR", "amount": "90.53",
        "reference": "MOLLIE-PAYOUT-0330",
        "transactions": [
            {"type": "payment", "provider_reference": first, "gross": "30.85", "fee": fee(),
             "net": "30.50"},
            {"type": "payment", "provider_reference": second, "gross": "60.50", "fee": fee(),
             "net": "60.15"},
            {"type": "fee", "description": "Monthly fee", "gross": "0.00",
             "fee": {"amount_excl_vat": "0.10",
                     "vat": {"percentage": "21", "category": "standard", "amount": "0.02"},
                     "amount_incl_vat": "0.12"},
             "net": "-0.12"}
        ]
    })
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_payout_is_matched_to_its_orders_and_its_journal_balances(pool: PgPool) {
    let shop = Shop::new(pool).await;
    let first = shop.order("web-1", "30.85", "tr_one").await;

    // Pushed before the second order exists: one transaction waits.
    let created = shop.push(payout("stl_1", "tr_one", "tr_two")).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let created = created.json();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["version"], 1);
    assert_eq!(created["matched_total"], "30.85");
    assert_eq!(created["unmatched_total"], "60.50");
    assert_eq!(
        created["transactions"][0]["match"],
        json!({"type": "order", "id": first, "payment_index": 0})
    );
    assert_eq!(created["transactions"][0]["conflict"], false);
    assert_eq!(created["transactions"][1]["match"], Value::Null);
    assert_eq!(created["transactions"][2]["match"], Value::Null);
    assert_eq!(created["transactions"][2]["fee"]["vat"]["amount"], "0.02");
    assert_eq!(shop.events("settlement.created").await.len(), 1);
    let waiting = shop.get("/settlements?unmatched=true").await;
    assert_eq!(waiting["data"].as_array().unwrap().len(), 1);
    assert_eq!(waiting["data"][0]["transactions"], json!([]));

    // The second order arrives: matched in its own transaction, with an event.
    let second = shop.order("web-2", "60.50", "tr_two").await;
    let got = shop.get(&format!("/settlements/{id}")).await;
    assert_eq!(
        got["transactions"][1]["match"],
        json!({"type": "order", "id": second, "payment_index": 0})
    );
    assert_eq!(got["matched_total"], "91.35");
    assert_eq!(got["unmatched_total"], "0.00");
    assert_eq!(
        shop.events("settlement.matched").await,
        vec![got["id"].as_str().unwrap().parse::<uuid::Uuid>().unwrap()]
    );
    let waiting = shop.get("/settlements?unmatched=true").await;
    assert_eq!(waiting["data"], json!([]));

    // The same again changes nothing; another amount with its transactions is version 2.
    let again = shop.push(payout("stl_1", "tr_one", "tr_two")).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["version"], 1);

    // Its journal: the bank gets 90.53, clearing is credited 91.35, fees 0.68 with 0.14 VAT.
    let journal = shop.get(&format!("/settlements/{id}/journal")).await;
    let sum = |role: &str| -> Decimal {
        journal["lines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["role"] == role)
            .map(|l| d(l["debit"].as_str().unwrap()) - d(l["credit"].as_str().unwrap()))
            .sum()
    };
    assert_eq!(journal["total_debit"], journal["total_credit"]);
    assert_eq!(sum("bank"), d("90.53"));
    assert_eq!(sum("payment_clearing"), d("-91.35"));
    assert_eq!(sum("psp_fees"), d("0.68"));
    assert_eq!(sum("vat_receivable"), d("0.14"));
    assert_eq!(journal["date"], "2026-03-30");
    assert_eq!(journal["reference"], "stl_1");
    assert_eq!(journal["lines"][1]["method_id"], json!(shop.ideal));

    // Mollie drops the monthly fee from the payout: version 2, its transactions replaced and
    // matched again, and version 1 kept whole as it was.
    let mut changed = payout("stl_1", "tr_one", "tr_two");
    changed["transactions"].as_array_mut().unwrap().pop();
    changed["amount"] = json!("90.65");
    let updated = shop.push(changed).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    let updated = updated.json();
    assert_eq!(updated["version"], 2);
    let now = shop.get(&format!("/settlements/{id}")).await;
    assert_eq!(now["transactions"].as_array().unwrap().len(), 2);
    // Both payments matched again: their gross, 30.85 + 60.50.
    assert_eq!(now["matched_total"], "91.35", "{now:#}");
    let kept: Vec<(i32, Value, Value)> = sqlx::query_as(
        "select version, settlement, transactions from settlement_versions
          where company_id = $1 and settlement_id = $2::uuid",
    )
    .bind(shop.s.company)
    .bind(id.as_str())
    .fetch_all(shop.s.app.app.store.pool())
    .await
    .unwrap();
    assert_eq!(kept.len(), 1);
    let (version, header, transactions) = &kept[0];
    assert_eq!(*version, 1);
    assert_eq!(header["amount"], json!(90.53));
    assert_eq!(transactions.as_array().unwrap().len(), 3);
    assert_eq!(transactions[2]["kind"], "fee");
    assert_eq!(transactions[0]["match_type"], "order");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn two_payouts_claiming_one_payment_are_a_conflict_and_refunds_find_the_credit_order(
    pool: PgPool,
) {
    let shop = Shop::new(pool).await;
    let original = shop.order("web-1", "30.85", "tr_one").await;
    // A partial refund as a credit order whose payment paid 10.00 back.
    let credit = shop
        .s
        .app
        .post(
            &shop.uri("/orders"),
            &shop.s.vendor,
            json!({"external_id": "web-1-credit", "status": "paid", "credit_of": original,
                   "order_date": "2026-03-28T10:00:00+01:00", "currency": "EUR",
                   "prices_include_vat": true,
                   "lines": [{"sku": "ART", "quantity": -1, "unit_price": "10.00",
                              "total_incl_vat": "-10.00",
                              "vat": {"percentage": "21", "category": "standard",
                                      "amount": "-1.74"}}],
                   "payments": [{"method_id": shop.ideal, "amount": "-10.00",
                                 "provider": "mollie", "provider_reference": "re_one"}]}),
        )
        .await;
    assert!(credit.status.is_success(), "{}", credit.text);
    let credit = credit.json()["id"].as_str().unwrap().to_owned();

    // The refund names the original payment, as Mollie's settlement lines do.
    let one = shop
        .push(json!({"external_id": "stl_a", "provider": "mollie",
                     "paid_out_at": "2026-03-30T06:00:00+02:00", "currency": "EUR",
                     "amount": "20.50",
                     "transactions": [
                        {"type": "payment", "provider_reference": "tr_one", "gross": "30.85",
                         "fee": fee(), "net": "30.50"},
                        {"type": "refund", "provider_reference": "tr_one", "gross": "-10.00",
                         "net": "-10.00"}]}))
        .await;
    assert_eq!(one.status, StatusCode::CREATED, "{}", one.text);
    let one = one.json();
    assert_eq!(one["transactions"][0]["match"]["id"], json!(original));
    assert_eq!(
        one["transactions"][1]["match"],
        json!({"type": "order", "id": credit, "payment_index": 0})
    );
    assert_eq!(one["conflict_count"], 0);

    // A second payout (a provider's resend under another id) claims the same payment.
    let two = shop
        .push(json!({"external_id": "stl_b", "provider": "mollie",
                     "paid_out_at": "2026-03-31T06:00:00+02:00", "currency": "EUR",
                     "amount": "30.50",
                     "transactions": [{"type": "payment", "provider_reference": "tr_one",
                                       "gross": "30.85", "fee": fee(), "net": "30.50"}]}))
        .await
        .json();
    assert_eq!(two["transactions"][0]["conflict"], true);
    assert_eq!(two["conflict_count"], 1);
    let one = shop
        .get(&format!("/settlements/{}", one["id"].as_str().unwrap()))
        .await;
    assert_eq!(one["transactions"][0]["conflict"], true);
    assert_eq!(one["transactions"][1]["conflict"], false);
    let attention = shop.get("/settlements?unmatched=true").await;
    assert_eq!(attention["data"].as_array().unwrap().len(), 2);
    let mollie = shop
        .get("/settlements?provider=mollie&from=2026-03-31T00:00:00Z")
        .await;
    assert_eq!(mollie["data"].as_array().unwrap().len(), 1);
    assert_eq!(mollie["data"][0]["external_id"], "stl_b");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_card_payout_matches_receipts_and_a_bad_one_is_refused_whole(pool: PgPool) {
    let shop = Shop::new(pool).await;
    // A till's pin payment with the terminal's reference.
    let mut sale = receipt(&shop.s, "bon-1", "2026-03-27T10:00:00+01:00");
    sale["payments"] = json!([{"method_id": shop.s.pin, "amount": "6.30",
                               "reference": "PIN-4711"}]);
    let stored = shop.s.post_receipt(&sale).await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.text);
    let receipt_id = stored.json()["id"].as_str().unwrap().to_owned();
    let body = json!({"external_id": "wl-0328", "provider": "worldline",
                      "paid_out_at": "2026-03-28T08:00:00+01:00", "currency": "EUR",
                      "amount": "6.28",
                      "transactions": [{"type": "payment", "provider_reference": "PIN-4711",
                                        "gross": "6.30",
                                        "fee": {"amount_excl_vat": "0.02",
                                                "vat": {"percentage": "0",
                                                        "category": "exempt",
                                                        "exemption_reason": "financial service",
                                                        "amount": "0.00"}},
                                        "net": "6.28"}]});
    let bad = {
        let mut b = body.clone();
        b["amount"] = json!("6.30");
        b["transactions"][0]["net"] = json!("6.30");
        b["transactions"]
            .as_array_mut()
            .unwrap()
            .push(json!({"type": "refund", "gross": "-1.00", "net": "-1.00"}));
        b
    };
    let refused = shop.push(bad).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    let pointers: Vec<(String, String)> = refused
        .problem()
        .errors
        .unwrap_or_default()
        .iter()
        .map(|e| (e.pointer.clone(), e.code.clone()))
        .collect();
    assert_eq!(
        pointers,
        vec![
            (
                "/transactions/0/net".to_owned(),
                "settlement_net_mismatch".to_owned()
            ),
            (
                "/transactions/1/provider_reference".to_owned(),
                "missing_field".to_owned()
            ),
        ]
    );
    assert_eq!(shop.get("/settlements").await["data"], json!([]));

    let ok = shop.push(body).await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text);
    assert_eq!(
        ok.json()["transactions"][0]["match"],
        json!({"type": "receipt", "id": receipt_id, "payment_index": 0})
    );

    // Connectors read payouts but do not push them; another company's client sees nothing.
    let r = shop
        .s
        .app
        .post(&shop.uri("/settlements"), &shop.s.connector, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let other = shop.s.app.company("Andere B.V.").await;
    let stranger = shop.s.app.client(ClientKind::Vendor, &[other]).await;
    let stranger = shop.s.app.token(&stranger).await;
    let r = shop.s.app.get(&shop.uri("/settlements"), &stranger).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_batch_of_payouts_stores_each_on_its_own(pool: PgPool) {
    let shop = Shop::new(pool).await;
    shop.order("web-1", "30.85", "tr_one").await;
    let good = payout("stl_1", "tr_one", "tr_two");
    let mut bad = payout("stl_2", "tr_one", "tr_two");
    bad["amount"] = json!("1.00");
    let r = shop
        .s
        .app
        .post(
            &shop.uri("/settlements/batch"),
            &shop.s.vendor,
            json!({"settlements": [good.clone(), bad, good, {"external_id": 7}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let data = r.json()["data"].clone();
    let outcomes: Vec<(Value, Value)> = data
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["success"].clone(), i["outcome"].clone()))
        .collect();
    assert_eq!(
        outcomes,
        vec![
            (json!(true), json!("created")),
            (json!(false), Value::Null),
            (json!(true), json!("unchanged")),
            (json!(false), Value::Null),
        ]
    );
    assert_eq!(data[1]["errors"][0]["pointer"], "/amount");
    assert_eq!(data[1]["errors"][0]["code"], "settlement_amount_mismatch");
    assert_eq!(data[3]["errors"][0]["pointer"], "/external_id");
    assert_eq!(data[0]["id"], data[2]["id"]);
    assert_eq!(
        shop.get("/settlements").await["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let too_many: Vec<Value> = (0..101)
        .map(|i| payout(&format!("s{i}"), "a", "b"))
        .collect();
    let r = shop
        .s
        .app
        .post(
            &shop.uri("/settlements/batch"),
            &shop.s.vendor,
            json!({"settlements": too_many}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn the_same_new_payout_pushed_twice_at_once_is_stored_once(pool: PgPool) {
    let shop = Shop::new(pool).await;
    shop.order("web-1", "30.85", "tr_one").await;
    for round in 0..5 {
        let body = payout(&format!("stl_{round}"), "tr_one", "tr_two");
        let (a, b) = tokio::join!(shop.push(body.clone()), shop.push(body));
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 201], "{} / {}", a.text, b.text);
        assert_eq!(a.json()["id"], b.json()["id"]);
    }
    assert_eq!(
        shop.get("/settlements").await["data"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(shop.events("settlement.created").await.len(), 5);
}
