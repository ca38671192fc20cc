//! Journals (#17): an order's, a receipt's and a day's entry, balanced to the cent, posted to
//! the accounts of the company's ledger mapping (or shown by role before there is one), the
//! correcting entry between two revisions of a day, and the mapping's rules and rights.

use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use chrono::Duration;
use koppel_api::auth::scopes::ClientKind;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::daily_revenue::{at, local, new_receipt, today};
use crate::harness::TestResponse;
use crate::receipts::{Setup, receipt, setup};

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn amount(v: &Value) -> Decimal {
    d(v.as_str().unwrap_or_else(|| panic!("not an amount: {v}")))
}

/// Each line as (account, debit, credit, role).
fn lines(journal: &Value) -> Vec<(String, String, String, String)> {
    journal["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["account"].as_str().unwrap().to_owned(),
                l["debit"].as_str().unwrap().to_owned(),
                l["credit"].as_str().unwrap().to_owned(),
                l["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Σ debit = Σ credit, and the totals say so.
fn assert_balanced(journal: &Value) {
    let debit: Decimal = journal["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| amount(&l["debit"]))
        .sum();
    let credit: Decimal = journal["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| amount(&l["credit"]))
        .sum();
    assert_eq!(debit, credit, "{journal:#}");
    assert_eq!(amount(&journal["total_debit"]), debit);
    assert_eq!(amount(&journal["total_credit"]), credit);
}

async fn created(r: TestResponse) -> String {
    assert!(r.status.is_success(), "{}", r.text);
    r.json()["id"].as_str().unwrap().to_owned()
}

async fn put(s: &Setup, token: &str, body: Value) -> TestResponse {
    s.app
        .call(
            Method::PUT,
            &format!("/v1/companies/{}/ledger-mapping", s.company),
            Some(token),
            Some(body),
        )
        .await
}

/// The setup with a 21% rate, an iDEAL method and an order paid by iDEAL with a fee.
async fn with_order(s: &Setup) -> (String, String, String) {
    let base = format!("/v1/companies/{}", s.company);
    let high = created(
        s.app
            .post(
                &format!("{base}/vat-rates"),
                &s.vendor,
                json!({"external_id": "hoog", "name": "Hoog", "percentage": "21",
                       "category": "standard"}),
            )
            .await,
    )
    .await;
    let ideal = created(
        s.app
            .post(
                &format!("{base}/payment-methods"),
                &s.vendor,
                json!({"external_id": "ideal", "name": "iDEAL", "kind": "ideal"}),
            )
            .await,
    )
    .await;
    // 100.00 at 21% and 50.00 at 9%, 4.13 shipping at 21%: 154.13 + 26.37 VAT = 180.50,
    // paid by iDEAL; Mollie kept 0.29 + 0.06 VAT.
    let order = json!({
        "external_id": "web-1001", "number": "1001", "status": "paid",
        "order_date": "2026-03-02T10:00:00+01:00", "invoice_date": "2026-03-03",
        "currency": "EUR", "prices_include_vat": false,
        "lines": [
            {"sku": "BOOK", "quantity": 1, "unit_price": "100.00", "total_excl_vat": "100.00",
             "vat": {"rate_id": high, "amount": "21.00"}, "category_id": s.other},
            {"sku": "BREAD", "quantity": 2, "unit_price": "25.00", "total_excl_vat": "50.00",
             "vat": {"percentage": "9", "category": "reduced", "amount": "4.50"},
             "category_id": s.food}
        ],
        "costs": [{"kind": "shipping", "amount_excl_vat": "4.13",
                   "vat": {"percentage": "21", "category": "standard", "amount": "0.87"},
                   "amount_incl_vat": "5.00"}],
        "payments": [{"method_id": ideal, "amount": "180.50", "status": "paid",
                      "provider": "mollie", "provider_reference": "tr_7UhSN1zuXS",
                      "fee": {"amount_excl_vat": "0.29",
                              "vat": {"percentage": "21", "category": "standard",
                                      "amount": "0.06"},
                              "amount_incl_vat": "0.35"}}]
    });
    let order = created(
        s.app
            .post(&format!("{base}/orders"), &s.vendor, order)
            .await,
    )
    .await;
    (high, ideal, order)
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn an_orders_journal_balances_and_posts_to_the_mapped_accounts(pool: PgPool) {
    let s = setup(pool).await;
    let (high, ideal, order) = with_order(&s).await;
    let uri = format!("/v1/companies/{}/orders/{order}/journal", s.company);

    // Before any mapping: a preview, every account the role's name.
    let preview = s.app.get(&uri, &s.connector).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    let preview = preview.json();
    assert_balanced(&preview);
    assert_eq!(preview["mapping_version"], Value::Null);
    assert_eq!(
        preview["date"], "2026-03-03",
        "the invoice date is the tax point"
    );
    assert_eq!(preview["reference"], "1001");
    assert_eq!(preview["currency"], "EUR");
    let row = |a: &str, dr: &str, cr: &str, role: &str| {
        (a.to_owned(), dr.to_owned(), cr.to_owned(), role.to_owned())
    };
    assert_eq!(
        lines(&preview),
        vec![
            row("revenue", "0.00", "100.00", "revenue"),
            row("shipping_revenue", "0.00", "4.13", "shipping_revenue"),
            row("vat_payable", "0.00", "21.87", "vat_payable"),
            row("revenue", "0.00", "50.00", "revenue"),
            row("vat_payable", "0.00", "4.50", "vat_payable"),
            row("receivable", "180.50", "0.00", "receivable"),
            row("payment_clearing", "180.50", "0.00", "payment_clearing"),
            row("receivable", "0.00", "180.50", "receivable"),
            row("psp_fees", "0.29", "0.00", "psp_fees"),
            row("vat_receivable", "0.06", "0.00", "vat_receivable"),
            row("payment_clearing", "0.00", "0.35", "payment_clearing"),
        ]
    );
    assert_eq!(preview["lines"][0]["source"], "/lines/0");
    assert_eq!(preview["lines"][0]["category_id"], json!(s.other));
    assert_eq!(preview["lines"][3]["source"], "/lines/1");
    assert_eq!(preview["lines"][3]["category_id"], json!(s.food));
    assert_eq!(
        preview["lines"][2]["vat_rate"],
        json!({"category": "standard", "percentage": "21", "country": "NL"})
    );
    assert_eq!(preview["lines"][6]["method_id"], json!(ideal));
    assert_eq!(preview["lines"][8]["source"], "/payments/0/fee");
    assert_eq!(
        preview["unmapped"],
        json!([
            "revenue",
            "shipping_revenue",
            "vat_payable",
            "vat_receivable",
            "receivable",
            "payment_clearing",
            "psp_fees"
        ])
    );

    // The connector maps: revenue at 21% apart (by the vendor's id of the rate), the rest
    // to catch-alls.
    let mapping = json!({"package": "exact-online", "accounts": [
        {"role": "revenue", "account": "8000", "vat_code": "1"},
        {"role": "revenue", "account": "8010", "vat_code": "2", "rate_external_id": "hoog"},
        {"role": "shipping_revenue", "account": "8050", "vat_code": "2"},
        {"role": "vat_payable", "account": "1500"},
        {"role": "vat_payable", "account": "1510", "rate_id": high},
        {"role": "vat_receivable", "account": "1520"},
        {"role": "receivable", "account": "1300"},
        {"role": "payment_clearing", "account": "1100", "method_id": ideal},
        {"role": "psp_fees", "account": "4500"}
    ]});
    let put1 = put(&s, &s.connector, mapping.clone()).await;
    assert_eq!(put1.status, StatusCode::OK, "{}", put1.text);
    let put1 = put1.json();
    assert_eq!(put1["version"], 1);
    assert_eq!(put1["accounts"][1]["rate_id"], json!(high));
    assert_eq!(put1["accounts"][1]["rate_external_id"], "hoog");
    assert!(
        !put1["unmapped"]
            .as_array()
            .unwrap()
            .contains(&json!("revenue"))
    );
    assert!(
        put1["unmapped"]
            .as_array()
            .unwrap()
            .contains(&json!("cash"))
    );
    // The same again is the same version; a change is the next.
    assert_eq!(
        put(&s, &s.connector, mapping.clone()).await.json()["version"],
        1
    );

    let journal = s.app.get(&uri, &s.connector).await.json();
    assert_balanced(&journal);
    assert_eq!(journal["mapping_version"], 1);
    assert_eq!(journal["package"], "exact-online");
    assert_eq!(journal["unmapped"], json!([]));
    let accounts: Vec<(String, Value)> = journal["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["account"].as_str().unwrap().to_owned(),
                l["vat_code"].clone(),
            )
        })
        .collect();
    assert_eq!(
        accounts,
        vec![
            ("8010".to_owned(), json!("2")),
            ("8050".to_owned(), json!("2")),
            ("1510".to_owned(), Value::Null),
            ("8000".to_owned(), json!("1")),
            ("1500".to_owned(), Value::Null),
            ("1300".to_owned(), Value::Null),
            ("1100".to_owned(), Value::Null),
            ("1300".to_owned(), Value::Null),
            ("4500".to_owned(), Value::Null),
            ("1520".to_owned(), Value::Null),
            ("1100".to_owned(), Value::Null),
        ]
    );

    let mut changed = mapping.clone();
    changed["accounts"][6]["account"] = json!("1310");
    let put2 = put(&s, &s.connector, changed).await.json();
    assert_eq!(put2["version"], 2);
    let journal = s.app.get(&uri, &s.connector).await.json();
    assert_eq!(journal["mapping_version"], 2);
    assert_eq!(journal["lines"][5]["account"], "1310");

    // A cancelled order posts nothing.
    let cancelled = s
        .app
        .post(
            &format!("/v1/companies/{}/orders", s.company),
            &s.vendor,
            json!({"external_id": "web-1002", "status": "cancelled",
                   "order_date": "2026-03-02T11:00:00+01:00", "currency": "EUR",
                   "prices_include_vat": false,
                   "lines": [{"sku": "BOOK", "quantity": 1, "unit_price": "10.00",
                              "total_excl_vat": "10.00",
                              "vat": {"percentage": "21", "category": "standard",
                                      "amount": "2.10"}}]}),
        )
        .await;
    let cancelled = created(cancelled).await;
    let journal = s
        .app
        .get(
            &format!("/v1/companies/{}/orders/{cancelled}/journal", s.company),
            &s.connector,
        )
        .await
        .json();
    assert_eq!(journal["lines"], json!([]));
    assert_eq!(journal["total_debit"], "0.00");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_bad_mapping_is_refused_with_pointers_and_rights_are_checked(pool: PgPool) {
    let s = setup(pool).await;
    let (_, _, order) = with_order(&s).await;
    let bad = put(
        &s,
        &s.connector,
        json!({"package": "moneybird", "accounts": [
            {"role": "sales", "account": "8000"},
            {"role": "revenue", "account": " "},
            {"role": "cash", "account": "1".repeat(65)},
            {"role": "revenue", "account": "8001", "rate_external_id": "laag"},
            {"role": "revenue", "account": "8002", "rate_id": uuid::Uuid::nil()},
            {"role": "bank", "account": "1100", "method_id": s.cash},
            {"role": "cash", "account": "1000"},
            {"role": "cash", "account": "1001"}
        ]}),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    let problem = bad.problem();
    let at: Vec<(String, String)> = problem
        .errors
        .unwrap_or_default()
        .iter()
        .map(|e| (e.pointer.clone(), e.code.clone()))
        .collect();
    let want = |p: &str, c: &str| (p.to_owned(), c.to_owned());
    assert_eq!(
        at,
        vec![
            want("/accounts/0/role", "unknown_ledger_role"),
            want("/accounts/1/account", "missing_field"),
            want("/accounts/2/account", "text_too_long"),
            want("/accounts/3/rate_external_id", "unknown_vat_rate"),
            want("/accounts/4/rate_id", "unknown_vat_rate"),
            want("/accounts/5/method_id", "ledger_qualifier_not_for_role"),
            want("/accounts/7", "duplicate_ledger_entry"),
        ]
    );
    // Nothing was stored.
    let got = s
        .app
        .get(
            &format!("/v1/companies/{}/ledger-mapping", s.company),
            &s.connector,
        )
        .await
        .json();
    assert_eq!(got["version"], 0);
    assert_eq!(
        got["unmapped"].as_array().unwrap().len(),
        koppel_domain::journal::Role::ALL.len()
    );

    // A vendor may not map or read journals; another company's connector sees nothing.
    let minimal = json!({"package": "p", "accounts": []});
    assert_eq!(
        put(&s, &s.vendor, minimal.clone()).await.status,
        StatusCode::FORBIDDEN
    );
    let journal = format!("/v1/companies/{}/orders/{order}/journal", s.company);
    assert_eq!(
        s.app.get(&journal, &s.vendor).await.status,
        StatusCode::FORBIDDEN
    );
    let other = s.app.company("Andere B.V.").await;
    let stranger = s.app.client(ClientKind::Connector, &[other]).await;
    let stranger = s.app.token(&stranger).await;
    assert_eq!(
        s.app.get(&journal, &stranger).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.app
            .get(
                &format!("/v1/companies/{other}/orders/{order}/journal"),
                &stranger
            )
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        put(&s, &stranger, minimal.clone()).await.status,
        StatusCode::NOT_FOUND
    );

    // The platform operator may set up any company's mapping; a company that does not
    // exist is a 404.
    let admin = s.app.admin_token().await;
    let by_admin = put(
        &s,
        &admin,
        json!({"package": "snelstart", "accounts": [
        {"role": "cash", "account": "1000"}]}),
    )
    .await;
    assert_eq!(by_admin.status, StatusCode::OK, "{}", by_admin.text);
    assert_eq!(by_admin.json()["version"], 1);
    let nowhere = s
        .app
        .call(
            Method::PUT,
            &format!("/v1/companies/{}/ledger-mapping", uuid::Uuid::now_v7()),
            Some(&admin),
            Some(minimal),
        )
        .await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
    // It reads the mapping, but not a company's journals: those are its connector's.
    assert_eq!(
        s.app
            .get(
                &format!("/v1/companies/{}/ledger-mapping", s.company),
                &admin
            )
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        s.app.get(&journal, &admin).await.status,
        StatusCode::FORBIDDEN
    );
}

/// (role, description, source) → signed amount, over a journal's lines.
fn book(journal: &Value, into: &mut BTreeMap<(String, String, String), Decimal>) {
    for l in journal["lines"].as_array().unwrap() {
        let key = (
            l["role"].as_str().unwrap().to_owned(),
            l["description"].as_str().unwrap().to_owned(),
            l["source"].as_str().unwrap().to_owned(),
        );
        *into.entry(key).or_default() += amount(&l["debit"]) - amount(&l["credit"]);
    }
    into.retain(|_, v| !v.is_zero());
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_days_journal_per_revision_and_its_correction_bring_the_books_to_the_latest(
    pool: PgPool,
) {
    let s = setup(pool).await;
    let date = today() - Duration::days(3);
    for (i, hour) in [9, 17].iter().enumerate() {
        let sold = local(date, *hour, 0);
        let new = new_receipt(&s, &receipt(&s, &format!("p-{i}"), &sold));
        s.app
            .app
            .store
            .receipts()
            .insert(s.company, &[new], at(&sold) + Duration::seconds(5))
            .await
            .unwrap();
    }
    let uri = format!("{}/journal", s.day(&date.to_string()));
    let first = s.app.get(&uri, &s.connector).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let first = first.json();
    assert_balanced(&first);
    assert_eq!(first["revision"], 1);
    assert_eq!(first["date"], json!(date.to_string()));
    // Two receipts of 2 croissants (3.50 at 9%) and a coffee (2.80 at 21%), paid cash.
    let by_role = |j: &Value, role: &str| -> Decimal {
        j["lines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["role"] == role)
            .map(|l| amount(&l["debit"]) - amount(&l["credit"]))
            .sum()
    };
    assert_eq!(by_role(&first, "revenue"), d("-11.04"));
    assert_eq!(by_role(&first, "vat_payable"), d("-1.56"));
    assert_eq!(by_role(&first, "cash"), d("12.60"));

    // A late coffee paid by pin revises the day.
    let mut coffee = receipt(&s, "p-coffee", &local(date, 21, 0));
    coffee["lines"] = json!([coffee["lines"][1].clone()]);
    coffee["payments"] = json!([{"method_id": s.pin, "amount": "2.80"}]);
    let stored = s.post_receipt(&coffee).await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.text);

    let latest = s.app.get(&uri, &s.connector).await.json();
    assert_balanced(&latest);
    assert_eq!(latest["revision"], 2);
    assert_eq!(by_role(&latest, "payment_clearing"), d("2.80"));
    let again_first = s
        .app
        .get(&format!("{uri}?revision=1"), &s.connector)
        .await
        .json();
    assert_eq!(again_first["lines"], first["lines"]);

    let fix = s
        .app
        .get(&format!("{uri}?correction_of=1"), &s.connector)
        .await;
    assert_eq!(fix.status, StatusCode::OK, "{}", fix.text);
    let fix = fix.json();
    assert_balanced(&fix);
    assert_eq!(fix["correction_of"], 1);
    assert_eq!(fix["revision"], 2);
    // Only what the coffee changed: 2.31 revenue and 0.49 VAT at 21%, 2.80 by pin.
    assert_eq!(fix["lines"].as_array().unwrap().len(), 3, "{fix:#}");
    let mut books = BTreeMap::new();
    book(&first, &mut books);
    book(&fix, &mut books);
    let mut wanted = BTreeMap::new();
    book(&latest, &mut wanted);
    assert_eq!(books, wanted);

    // No revision 3; a correction must come from an earlier revision; a bad query is a 400.
    assert_eq!(
        s.app
            .get(&format!("{uri}?revision=3"), &s.connector)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.app
            .get(&format!("{uri}?correction_of=2"), &s.connector)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        s.app
            .get(&format!("{uri}?revision=x"), &s.connector)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    // A receipt's own journal balances too; the unmapped roles of the period name what the
    // day and its receipts post to.
    let receipt_id = stored.json()["id"].as_str().unwrap().to_owned();
    let one = s
        .app
        .get(
            &format!("/v1/companies/{}/receipts/{receipt_id}/journal", s.company),
            &s.connector,
        )
        .await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    let one = one.json();
    assert_balanced(&one);
    assert_eq!(
        lines(&one),
        vec![
            (
                "revenue".into(),
                "0.00".into(),
                "2.31".into(),
                "revenue".into()
            ),
            (
                "vat_payable".into(),
                "0.00".into(),
                "0.49".into(),
                "vat_payable".into()
            ),
            (
                "payment_clearing".into(),
                "2.80".into(),
                "0.00".into(),
                "payment_clearing".into()
            ),
        ]
    );
    put(
        &s,
        &s.connector,
        json!({"package": "e-boekhouden", "accounts": [
            {"role": "revenue", "account": "8000"}, {"role": "cash", "account": "1000"}]}),
    )
    .await;
    let unmapped = s
        .app
        .get(
            &format!(
                "/v1/companies/{}/ledger-mapping/unmapped?from={date}&to={}",
                s.company,
                date + Duration::days(1)
            ),
            &s.connector,
        )
        .await;
    assert_eq!(unmapped.status, StatusCode::OK, "{}", unmapped.text);
    let unmapped = unmapped.json();
    assert_eq!(unmapped["mapping_version"], 1);
    assert_eq!(
        unmapped["unmapped"],
        json!(["vat_payable", "payment_clearing"])
    );
    let missing: Vec<(Value, Value, Value)> = unmapped["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["role"].clone(),
                m["vat_rate"]["percentage"].clone(),
                m["method_id"].clone(),
            )
        })
        .collect();
    assert_eq!(
        missing,
        vec![
            (json!("vat_payable"), json!("21"), Value::Null),
            (json!("vat_payable"), json!("9"), Value::Null),
            (json!("payment_clearing"), Value::Null, json!(s.pin)),
        ]
    );
    // A period with nothing in it needs nothing.
    let empty = s
        .app
        .get(
            &format!(
                "/v1/companies/{}/ledger-mapping/unmapped?from=2020-01-01&to=2020-02-01",
                s.company
            ),
            &s.connector,
        )
        .await
        .json();
    assert_eq!(empty["unmapped"], json!([]));
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn the_example_mappings_in_docs_are_accepted_and_map_every_role(pool: PgPool) {
    let s = setup(pool).await;
    let (_, _, order) = with_order(&s).await;
    let base = format!("/v1/companies/{}", s.company);
    // The examples name the rates `hoog` (made by `with_order`) and `laag`, and the methods
    // `ideal` and `pin`.
    created(
        s.app
            .post(
                &format!("{base}/vat-rates"),
                &s.vendor,
                json!({"external_id": "laag", "name": "Laag", "percentage": "9",
                       "category": "reduced"}),
            )
            .await,
    )
    .await;
    let files = [
        include_str!("../../../../docs/ledger-mappings/exact-online.json"),
        include_str!("../../../../docs/ledger-mappings/moneybird.json"),
        include_str!("../../../../docs/ledger-mappings/e-boekhouden.json"),
    ];
    for (n, file) in files.iter().enumerate() {
        let mapping: Value = serde_json::from_str(file).unwrap();
        let put = put(&s, &s.connector, mapping.clone()).await;
        assert_eq!(
            put.status,
            StatusCode::OK,
            "{}: {}",
            mapping["package"],
            put.text
        );
        let put = put.json();
        assert_eq!(put["version"], n + 1);
        assert_eq!(put["unmapped"], json!([]), "{}", mapping["package"]);
        let journal = s
            .app
            .get(&format!("{base}/orders/{order}/journal"), &s.connector)
            .await
            .json();
        assert_balanced(&journal);
        assert_eq!(journal["unmapped"], json!([]), "{journal:#}");
        assert_eq!(journal["package"], mapping["package"]);
    }
    // Under e-Boekhouden (the last put): 21% revenue on 8000 with HOOG_VERK_21, 9% on 8010.
    let journal = s
        .app
        .get(&format!("{base}/orders/{order}/journal"), &s.connector)
        .await
        .json();
    let revenue: Vec<(Value, Value)> = journal["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["role"] == "revenue")
        .map(|l| (l["account"].clone(), l["vat_code"].clone()))
        .collect();
    assert_eq!(
        revenue,
        vec![
            (json!("8000"), json!("HOOG_VERK_21")),
            (json!("8010"), json!("LAAG_VERK_9"))
        ]
    );
}
