//! What a bookkeeping connector does besides following the feed: booking orders, receipts
//! and days (and seeing which changed since), finding any document by any reference, and the
//! Dutch VAT return over a mixed period, checked against figures worked out by hand.

use axum::http::StatusCode;
use chrono::Utc;
use chrono_tz::Europe::Amsterdam;
use koppel_api::auth::scopes::ClientKind;
use koppel_api::onboarding::{self, CreateClient};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::harness::{TestApp, TestResponse};
use crate::receipts::{Setup, receipt, setup};

/// A receipts setup plus what orders need: a product and a payment method for webshop orders.
struct World {
    s: Setup,
    ideal: String,
}

impl World {
    async fn new(pool: PgPool) -> Self {
        let s = setup(pool).await;
        let base = format!("/v1/companies/{}", s.company);
        let created = |r: TestResponse| {
            assert!(r.status.is_success(), "{}", r.text);
            r.json()["id"].as_str().unwrap().to_owned()
        };
        created(
            s.app
                .post(
                    &format!("{base}/products"),
                    &s.vendor,
                    json!({"external_id": "ART", "sku": "ART", "name": "Artikel"}),
                )
                .await,
        );
        let ideal = created(
            s.app
                .post(
                    &format!("{base}/payment-methods"),
                    &s.vendor,
                    json!({"external_id": "ideal", "name": "iDEAL", "kind": "ideal"}),
                )
                .await,
        );
        World { s, ideal }
    }

    fn app(&self) -> &TestApp {
        &self.s.app
    }

    fn uri(&self, rest: &str) -> String {
        format!("/v1/companies/{}{rest}", self.s.company)
    }

    /// Pushes an order as the vendor; answers it.
    async fn order(&self, body: Value) -> Value {
        let response = self
            .app()
            .post(&self.uri("/orders"), &self.s.vendor, body)
            .await;
        assert!(response.status.is_success(), "{}", response.text);
        response.json()
    }

    async fn get(&self, rest: &str) -> Value {
        let response = self.app().get(&self.uri(rest), &self.s.connector).await;
        assert_eq!(response.status, StatusCode::OK, "{rest}: {}", response.text);
        response.json()
    }

    async fn book(&self, rest: &str, version: i64, reference: &str) -> TestResponse {
        self.app()
            .post(
                &self.uri(rest),
                &self.s.connector,
                json!({"version": version, "reference": reference, "package": "exact-online"}),
            )
            .await
    }

    /// A client of `kind` with only these scopes, and its token.
    async fn token_with(&self, kind: ClientKind, scopes: &[&str]) -> String {
        let (record, secret) = onboarding::create_client(
            &self.app().app.store,
            CreateClient {
                name: "limited".to_owned(),
                kind,
                scopes: Some(scopes.iter().map(|s| (*s).to_owned()).collect()),
                company_ids: vec![self.s.company],
                rate_limit: None,
            },
        )
        .await
        .unwrap();
        self.app().app.auth.registry.update(&record);
        self.app()
            .token(&crate::harness::TestClient {
                id: record.id,
                secret,
            })
            .await
    }
}

/// One line of one unit at `base` excluding VAT.
fn line(base: &str, vat: Value) -> Value {
    json!({"sku": "ART", "quantity": 1, "unit_price": base, "total_excl_vat": base, "vat": vat})
}

fn vat(percentage: &str, category: &str, amount: &str) -> Value {
    json!({"percentage": percentage, "category": category, "amount": amount})
}

/// An order of the given lines, excluding VAT, on `date`.
fn order(external_id: &str, date: &str, lines: Vec<Value>) -> Value {
    json!({
        "external_id": external_id,
        "number": format!("N-{external_id}"),
        "status": "paid",
        "order_date": date,
        "currency": "EUR",
        "prices_include_vat": false,
        "lines": lines,
    })
}

fn ids(list: &Value, field: &str) -> Vec<String> {
    let mut out: Vec<String> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d[field].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

fn codes(response: &TestResponse) -> Vec<(String, String)> {
    response
        .problem()
        .errors
        .unwrap_or_default()
        .into_iter()
        .map(|e| (e.pointer, e.code))
        .collect()
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_booked_order_that_changes_needs_a_correction_until_the_new_version_is_booked(
    pool: PgPool,
) {
    let w = World::new(pool).await;
    let first = w
        .order(order(
            "web-1",
            "2026-01-15T10:00:00+01:00",
            vec![line("10.00", vat("21", "standard", "2.10"))],
        ))
        .await;
    let id = first["id"].as_str().unwrap().to_owned();
    assert_eq!(first["bookings"], json!([]));
    assert_eq!(first["needs_correction"], false);
    w.order(order(
        "web-2",
        "2026-01-15T11:00:00+01:00",
        vec![line("5.00", vat("21", "standard", "1.05"))],
    ))
    .await;
    let order_uri = format!("/orders/{id}");

    // Book version 1; the same booking again is recorded once.
    let booked = w
        .book(&format!("{order_uri}/bookings"), 1, "MEM-0001")
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text);
    let booking = booked.json();
    assert_eq!(booking["version"], 1);
    assert_eq!(booking["package"], "exact-online");
    assert_eq!(booking["reference"], "MEM-0001");
    let again = w
        .book(&format!("{order_uri}/bookings"), 1, "MEM-0001")
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.json(), booking, "a re-post answers the first booking");
    let read = w.get(&order_uri).await;
    assert_eq!(read["bookings"], json!([booking]));
    assert_eq!(read["needs_correction"], false);
    let recorded: Vec<(String, i32)> = sqlx::query_as(
        "select type, version from events where company_id = $1 and type = 'booking.created'",
    )
    .bind(w.s.company)
    .fetch_all(w.app().app.store.pool())
    .await
    .unwrap();
    assert_eq!(recorded, [("booking.created".to_owned(), 1)], "one event");

    // Not yet booked by exact-online: only the other order; by moneybird: both.
    let list = w.get("/orders?not_booked_by=exact-online").await;
    assert_eq!(ids(&list, "external_id"), ["web-2"]);
    let list = w.get("/orders?not_booked_by=moneybird").await;
    assert_eq!(ids(&list, "external_id"), ["web-1", "web-2"]);
    let list = w.get("/orders?changed_since_booked=exact-online").await;
    assert_eq!(ids(&list, "external_id"), Vec::<String>::new());

    // The vendor sends version 2: the booked order now needs a correction.
    let mut changed = order(
        "web-1",
        "2026-01-15T10:00:00+01:00",
        vec![line("12.00", vat("21", "standard", "2.52"))],
    );
    changed["status"] = json!("completed");
    assert_eq!(w.order(changed).await["version"], 2);
    let read = w.get(&order_uri).await;
    assert_eq!(read["version"], 2);
    assert_eq!(read["needs_correction"], true);
    assert_eq!(read["bookings"][0]["version"], 1);
    let list = w.get("/orders?changed_since_booked=exact-online").await;
    assert_eq!(ids(&list, "external_id"), ["web-1"]);
    assert_eq!(list["data"][0]["needs_correction"], true);
    let list = w.get("/orders?not_booked_by=exact-online").await;
    assert_eq!(ids(&list, "external_id"), ["web-2"]);
    // Every version shows the order's bookings.
    let versions = w.get(&format!("{order_uri}/versions")).await;
    assert_eq!(versions["data"][0]["bookings"], read["bookings"]);

    // A version that does not exist, a bad package and an empty reference: one 400.
    let refused = w
        .app()
        .post(
            &w.uri(&format!("{order_uri}/bookings")),
            &w.s.connector,
            json!({"version": 3, "reference": " ", "package": "Exact Online"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(
        codes(&refused),
        [
            ("/package".to_owned(), "invalid_value".to_owned()),
            ("/reference".to_owned(), "missing_field".to_owned()),
            ("/version".to_owned(), "unknown_version".to_owned()),
        ]
    );
    let unknown = w
        .book(
            &format!("/orders/{}/bookings", uuid::Uuid::new_v4()),
            1,
            "X",
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    // The correction is booked: clean again, with both bookings listed.
    let corrected = w
        .book(&format!("{order_uri}/bookings"), 2, "MEM-0002")
        .await;
    assert_eq!(corrected.status, StatusCode::CREATED, "{}", corrected.text);
    let read = w.get(&order_uri).await;
    assert_eq!(read["needs_correction"], false);
    let versions: Vec<i64> = read["bookings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [1, 2]);
    let list = w.get("/orders?changed_since_booked=exact-online").await;
    assert_eq!(ids(&list, "external_id"), Vec::<String>::new());
    // Another package that booked only version 1 still has a correction to post.
    let moneybird = w
        .app()
        .post(
            &w.uri(&format!("{order_uri}/bookings")),
            &w.s.connector,
            json!({"version": 1, "reference": "MB-1", "package": "moneybird"}),
        )
        .await;
    assert_eq!(moneybird.status, StatusCode::CREATED, "{}", moneybird.text);
    let list = w.get("/orders?changed_since_booked=moneybird").await;
    assert_eq!(ids(&list, "external_id"), ["web-1"]);
    assert_eq!(w.get(&order_uri).await["needs_correction"], true);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn only_a_client_with_bookings_write_may_book(pool: PgPool) {
    let w = World::new(pool).await;
    let created = w
        .order(order(
            "web-1",
            "2026-01-15T10:00:00+01:00",
            vec![line("10.00", vat("21", "standard", "2.10"))],
        ))
        .await;
    let uri = w.uri(&format!(
        "/orders/{}/bookings",
        created["id"].as_str().unwrap()
    ));
    let body = json!({"version": 1, "reference": "MEM-1", "package": "exact-online"});
    let reader = w
        .token_with(ClientKind::Connector, &["orders:read", "events:read"])
        .await;
    for token in [&reader, &w.s.vendor] {
        let refused = w.app().post(&uri, token, body.clone()).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
        assert!(refused.problem().detail.contains("bookings:write"));
    }
    assert_eq!(
        w.get(&format!("/orders/{}", created["id"].as_str().unwrap()))
            .await["bookings"],
        json!([])
    );
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn receipts_and_days_are_booked_and_a_revised_day_needs_a_correction(pool: PgPool) {
    let w = World::new(pool).await;
    let s = &w.s;
    // A receipt of a past day, and one of today, whose day is still open.
    let old = s
        .post_receipt(&receipt(s, "r-old", "2026-02-10T12:00:00+01:00"))
        .await
        .json();
    let now = Utc::now().with_timezone(&Amsterdam);
    let today = now.date_naive().to_string();
    let r1 = s
        .post_receipt(&receipt(s, "r-1", &now.to_rfc3339()))
        .await
        .json();

    let booked = w
        .book(
            &format!("/receipts/{}/bookings", old["id"].as_str().unwrap()),
            1,
            "KAS-1",
        )
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text);
    let read = w
        .get(&format!("/receipts/{}", old["id"].as_str().unwrap()))
        .await;
    assert_eq!(read["bookings"][0]["reference"], "KAS-1");
    assert_eq!(read["needs_correction"], false);
    let list = w.get("/receipts?not_booked_by=exact-online").await;
    assert_eq!(ids(&list, "external_id"), ["r-1"]);
    let refused = w
        .book(
            &format!("/receipts/{}/bookings", r1["id"].as_str().unwrap()),
            2,
            "KAS-2",
        )
        .await;
    assert_eq!(
        codes(&refused),
        [("/version".to_owned(), "unknown_version".to_owned())]
    );

    // Today's figures still change: they cannot be booked before the day is final.
    let day = format!("/daily-revenue/{today}");
    let open = w.book(&format!("{day}/bookings"), 1, "DAG-1").await;
    assert_eq!(open.status, StatusCode::BAD_REQUEST, "{}", open.text);
    assert_eq!(codes(&open), [(String::new(), "day_not_final".to_owned())]);
    let closed = s
        .app
        .post(&w.uri(&format!("{day}/close")), &s.vendor, json!({}))
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.text);
    let booked = w.book(&format!("{day}/bookings"), 1, "DAG-1").await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.text);
    // The location's figures are a day of their own, booked apart.
    let location = w
        .book(&format!("{day}/bookings?location_id=centrum"), 1, "DAG-1-C")
        .await;
    assert_eq!(location.status, StatusCode::CREATED, "{}", location.text);
    let read = w.get(&day).await;
    assert_eq!(
        (read["revision"].as_i64(), &read["needs_correction"]),
        (Some(1), &json!(false))
    );
    assert_eq!(read["bookings"][0]["reference"], "DAG-1");
    assert_eq!(read["bookings"].as_array().unwrap().len(), 1);

    // A late receipt revises the booked day: it needs a correction until revision 2 is booked.
    let late = s
        .post_receipt(&receipt(
            s,
            "r-late",
            &Utc::now().with_timezone(&Amsterdam).to_rfc3339(),
        ))
        .await;
    assert_eq!(late.json()["late"], true, "{}", late.text);
    let read = w.get(&day).await;
    assert_eq!(read["status"], "revised");
    assert_eq!(read["revision"], 2);
    assert_eq!(read["needs_correction"], true);
    let list = w
        .get(&format!(
            "/daily-revenue?from={today}&changed_since_booked=exact-online"
        ))
        .await;
    assert_eq!(ids(&list, "date"), [today.as_str()]);
    let list = w
        .get(&format!(
            "/daily-revenue?from={today}&not_booked_by=exact-online"
        ))
        .await;
    assert_eq!(ids(&list, "date"), Vec::<String>::new());
    // By the day's id from the event feed, as a connector following the feed would.
    let by_id = w
        .book(
            &format!("/daily-revenue/{}/bookings", read["id"].as_str().unwrap()),
            2,
            "DAG-1-CORR",
        )
        .await;
    assert_eq!(by_id.status, StatusCode::CREATED, "{}", by_id.text);
    assert_eq!(w.get(&day).await["needs_correction"], false);
    let list = w
        .get(&format!(
            "/daily-revenue?from={today}&changed_since_booked=exact-online"
        ))
        .await;
    assert_eq!(ids(&list, "date"), Vec::<String>::new());
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn the_search_finds_each_document_by_each_kind_of_reference(pool: PgPool) {
    let w = World::new(pool).await;
    let s = &w.s;
    let customer = s
        .app
        .post(
            &w.uri("/customers"),
            &s.vendor,
            json!({"external_id": "cust-7", "number": "K-100", "name": "Jan Jansen"}),
        )
        .await
        .json();
    let mut body = order(
        "web-1",
        "2026-01-15T10:00:00+01:00",
        vec![line("10.00", vat("21", "standard", "2.10"))],
    );
    // The order's number is also a receipt's number: both are found.
    body["number"] = json!("2026-0001");
    body["payments"] =
        json!([{"method_id": w.ideal, "amount": "12.10", "reference": "tr_WDqYK6vllg"}]);
    let order = w.order(body).await;
    let order_id = order["id"].as_str().unwrap().to_owned();
    let mut till = receipt(s, "r-1", "2026-02-10T12:00:00+01:00");
    till["number"] = json!("2026-0001");
    let receipt = s.post_receipt(&till).await.json();
    let receipt_id = receipt["id"].as_str().unwrap().to_owned();
    assert_eq!(
        w.book(&format!("/orders/{order_id}/bookings"), 1, "MEM-42")
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(
        w.book(&format!("/receipts/{receipt_id}/bookings"), 1, "KAS-42")
            .await
            .status,
        StatusCode::CREATED
    );

    let search = |reference: String| {
        let w = &w;
        async move {
            let list = w.get(&format!("/search?reference={reference}")).await;
            list["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    (
                        m["resource"].as_str().unwrap().to_owned(),
                        m["id"].as_str().unwrap().to_owned(),
                        m["matched_on"].as_str().unwrap().to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let hit =
        |resource: &str, id: &str, on: &str| (resource.to_owned(), id.to_owned(), on.to_owned());
    let customer_id = customer["id"].as_str().unwrap();
    assert_eq!(
        search(order_id.clone()).await,
        [hit("orders", &order_id, "id")]
    );
    assert_eq!(
        search("web-1".to_owned()).await,
        [hit("orders", &order_id, "external_id")]
    );
    assert_eq!(
        search("tr_WDqYK6vllg".to_owned()).await,
        [hit("orders", &order_id, "payment_reference")]
    );
    assert_eq!(
        search("MEM-42".to_owned()).await,
        [hit("orders", &order_id, "booking_reference")]
    );
    assert_eq!(
        search(receipt_id.clone()).await,
        [hit("receipts", &receipt_id, "id")]
    );
    assert_eq!(
        search("r-1".to_owned()).await,
        [hit("receipts", &receipt_id, "external_id")]
    );
    assert_eq!(
        search("kas-r-1".to_owned()).await,
        [hit("receipts", &receipt_id, "payment_reference")]
    );
    assert_eq!(
        search("KAS-42".to_owned()).await,
        [hit("receipts", &receipt_id, "booking_reference")]
    );
    assert_eq!(
        search(customer_id.to_owned()).await,
        [hit("customers", customer_id, "id")]
    );
    assert_eq!(
        search("cust-7".to_owned()).await,
        [hit("customers", customer_id, "external_id")]
    );
    assert_eq!(
        search("K-100".to_owned()).await,
        [hit("customers", customer_id, "number")]
    );
    assert_eq!(search("nothing-like-it".to_owned()).await, []);
    let mut both = vec![
        hit("orders", &order_id, "number"),
        hit("receipts", &receipt_id, "number"),
    ];
    both.sort();
    assert_eq!(search("2026-0001".to_owned()).await, both);

    // What a match answers, and the pages of a list.
    let first = w.get("/search?reference=MEM-42").await;
    let m = &first["data"][0];
    assert_eq!(m["path"], w.uri(&format!("/orders/{order_id}")));
    assert_eq!(
        (&m["external_id"], &m["number"], &m["version"]),
        (&json!("web-1"), &json!("2026-0001"), &json!(1))
    );
    assert_eq!(
        m["booking"],
        json!({"package": "exact-online", "version": 1})
    );
    let page = w.get("/search?reference=2026-0001&limit=1").await;
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    let next = w
        .get(&format!(
            "/search?reference=2026-0001&limit=1&cursor={}",
            page["next_cursor"].as_str().unwrap()
        ))
        .await;
    assert_eq!(next["data"].as_array().unwrap().len(), 1);
    assert_eq!(next["next_cursor"], Value::Null);
    assert_ne!(page["data"][0]["id"], next["data"][0]["id"]);

    // The search needs events:read, and shows only the collections the token may read.
    let vendor = s
        .app
        .get(&w.uri("/search?reference=web-1"), &s.vendor)
        .await;
    assert_eq!(vendor.status, StatusCode::FORBIDDEN);
    let orders_only = w
        .token_with(ClientKind::Connector, &["events:read", "orders:read"])
        .await;
    let limited = s
        .app
        .get(&w.uri("/search?reference=2026-0001"), &orders_only)
        .await
        .json();
    assert_eq!(ids(&limited, "resource"), ["orders"]);
    let missing = s.app.get(&w.uri("/search"), &s.connector).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn the_vat_return_of_a_mixed_quarter_equals_the_figures_worked_out_by_hand(pool: PgPool) {
    let w = World::new(pool).await;
    let s = &w.s;
    let q1 = "2026-02-15T12:00:00+01:00";
    let business = |vat_number: &str, country: &str| {
        json!({"name": "Inkoop", "company_name": "Kunde GmbH", "vat_number": vat_number,
               "billing_address": {"street": "Hauptstraße", "house_number": "1",
                                   "postal_code": "10115", "city": "Berlin", "country": country}})
    };

    // 1a: 100.00 + 21.00 with 4.13 + 0.87 shipping, and 0.99 + 0.21.
    let mut o21 = order(
        "o-21",
        q1,
        vec![line("100.00", vat("21", "standard", "21.00"))],
    );
    o21["costs"] = json!([{"kind": "shipping", "amount_excl_vat": "4.13",
                           "vat": vat("21", "standard", "0.87")}]);
    let o21 = w.order(o21).await;
    w.order(order(
        "o-21b",
        q1,
        vec![line("0.99", vat("21", "standard", "0.21"))],
    ))
    .await;
    // 1b: 50.55 at 9% (4.5495 → 4.55).
    w.order(order(
        "o-9",
        q1,
        vec![line("50.55", vat("9", "reduced", "4.55"))],
    ))
    .await;
    // 1c: a refund of o-21 at the old standard rate of 19% (before 2012-10-01): -10.00, -1.90.
    let mut credit = order(
        "o-credit",
        q1,
        vec![line("-10.00", vat("19", "standard", "-1.90"))],
    );
    credit["lines"][0]["quantity"] = json!(-1);
    credit["lines"][0]["unit_price"] = json!("10.00");
    credit["status"] = json!("refunded");
    credit["credit_of"] = o21["id"].clone();
    w.order(credit).await;
    // 1e: zero rate 30.00 and domestic reverse charge 200.00.
    let mut domestic = order(
        "o-1e",
        q1,
        vec![
            line("30.00", vat("0", "zero", "0")),
            line("200.00", vat("0", "reverse_charge", "0")),
        ],
    );
    domestic["customer"] = json!({"name": "Bouw B.V.", "vat_number": "NL000099998B57"});
    w.order(domestic).await;
    // 3a: export 80.40.
    w.order(order(
        "o-export",
        q1,
        vec![line("80.40", vat("0", "export", "0"))],
    ))
    .await;
    // 3b and the ICP listing: DE136695976 buys 100.00 and 50.50, BE0776091951 99.99.
    for (id, base, buyer, country) in [
        ("o-icp-de-1", "100.00", "DE136695976", "DE"),
        ("o-icp-de-2", "50.50", "DE 136 695 976", "DE"),
        ("o-icp-be", "99.99", "BE0776091951", "BE"),
    ] {
        let mut o = order(id, q1, vec![line(base, vat("0", "intra_eu", "0"))]);
        o["customer"] = business(buyer, country);
        w.order(o).await;
    }
    // OSS: Germany 10.00 at 19% and 20.00 at 7%; France 15.00 at 20%.
    let oss = |pct: &str, country: &str, amount: &str| json!({"percentage": pct, "category": "oss", "country": country, "amount": amount});
    w.order(order(
        "o-oss",
        q1,
        vec![
            line("10.00", oss("19", "DE", "1.90")),
            line("20.00", oss("7", "DE", "1.40")),
            line("15.00", oss("20", "FR", "3.00")),
        ],
    ))
    .await;
    // Not reported: exempt 40.00 and outside the scope 5.00.
    let mut exempt = vat("0", "exempt", "0");
    exempt["exemption_reason"] = json!("medische zorg, art. 11 lid 1 sub g Wet OB");
    w.order(order(
        "o-exempt",
        q1,
        vec![
            line("40.00", exempt),
            line("5.00", vat("0", "outside_scope", "0")),
        ],
    ))
    .await;
    // Only the current version counts: 500.00 at 21% became 60.00 at 9% (5.40).
    w.order(order(
        "o-v",
        q1,
        vec![line("500.00", vat("21", "standard", "105.00"))],
    ))
    .await;
    let v2 = w
        .order(order(
            "o-v",
            q1,
            vec![line("60.00", vat("9", "reduced", "5.40"))],
        ))
        .await;
    assert_eq!(v2["version"], 2);
    // A cancelled order was never a supply.
    let mut cancelled = order(
        "o-cancelled",
        q1,
        vec![line("1000.00", vat("21", "standard", "210.00"))],
    );
    cancelled["status"] = json!("cancelled");
    w.order(cancelled).await;
    // The period's edges are local days: 00:15 on 1 January and 23:30 on 31 March count,
    // 23:45 on 31 December and 00:30 on 1 April do not, though in UTC it is the other way.
    w.order(order(
        "o-first",
        "2026-01-01T00:15:00+01:00",
        vec![line("10.00", vat("21", "standard", "2.10"))],
    ))
    .await;
    w.order(order(
        "o-last",
        "2026-03-31T23:30:00+02:00",
        vec![line("20.00", vat("21", "standard", "4.20"))],
    ))
    .await;
    for (id, date) in [
        ("o-before", "2025-12-31T23:45:00+01:00"),
        ("o-after", "2026-04-01T00:30:00+02:00"),
    ] {
        w.order(order(
            id,
            date,
            vec![line("1000.00", vat("21", "standard", "210.00"))],
        ))
        .await;
    }
    // Receipts by business date, each a croissant pair (3.50 incl. 9%: 3.21 + 0.29) and a
    // coffee (2.80 incl. 21%: 2.31 + 0.49): three in the quarter, one on 1 April.
    for (id, at) in [
        ("r-1", "2026-02-10T12:00:00+01:00"),
        ("r-2", "2026-03-01T09:00:00+01:00"),
        ("r-3", "2026-03-31T23:30:00+02:00"),
        ("r-april", "2026-04-01T00:10:00+02:00"),
    ] {
        let response = s.post_receipt(&receipt(s, id, at)).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    }

    let response = s
        .app
        .get(
            &w.uri("/vat-return?from=2026-01-01&to=2026-04-01"),
            &s.connector,
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    let ret = response.json();
    let figures = |b: &str| {
        let f = &ret["boxes"][b];
        [&f["base"], &f["vat"], &f["base_whole"], &f["vat_whole"]]
            .map(|v| v.as_str().unwrap().to_owned())
    };
    // 1a: orders 104.13 + 0.99 + 10.00 + 20.00 = 135.12, VAT 21.87 + 0.21 + 2.10 + 4.20 = 28.38;
    //     receipts 3 × 2.31 = 6.93, VAT 3 × 0.49 = 1.47; together 142.05 and 29.85.
    assert_eq!(figures("1a"), ["142.05", "29.85", "142", "29"]);
    // 1b: orders 50.55 + 60.00 = 110.55, VAT 4.55 + 5.40 = 9.95;
    //     receipts 3 × 3.21 = 9.63, VAT 3 × 0.29 = 0.87; together 120.18 and 10.82.
    assert_eq!(figures("1b"), ["120.18", "10.82", "120", "10"]);
    // 1c: the refund at 19%; rounded down, -1.90 is filed as -2 (in the taxpayer's favour).
    assert_eq!(figures("1c"), ["-10.00", "-1.90", "-10", "-2"]);
    // 1e: 30.00 + 200.00, base only.
    assert_eq!(figures("1e"), ["230.00", "0.00", "230", "0"]);
    assert_eq!(figures("3a"), ["80.40", "0.00", "80", "0"]);
    // 3b: 100.00 + 50.50 + 99.99 = 250.49.
    assert_eq!(figures("3b"), ["250.49", "0.00", "250", "0"]);
    assert_eq!(figures("3c"), ["0.00", "0.00", "0", "0"]);
    assert_eq!(ret["boxes"]["1a"]["reports_vat"], true);
    assert_eq!(ret["boxes"]["3b"]["reports_vat"], false);
    // VAT due: 29.85 + 10.82 − 1.90 = 38.77 exact; filed 29 + 10 − 2 = 37.
    assert_eq!(
        (&ret["vat_due"], &ret["vat_due_whole"]),
        (&json!("38.77"), &json!("37"))
    );
    // The ICP listing per buyer: DE 100.00 + 50.50 (the number normalised), BE 99.99.
    assert_eq!(
        ret["icp"],
        json!([
            {"vat_number": "BE0776091951", "country": "BE", "base": "99.99", "base_whole": "99"},
            {"vat_number": "DE136695976", "country": "DE", "base": "150.50", "base_whole": "150"},
        ])
    );
    // OSS: DE 10.00 + 20.00 = 30.00, VAT 1.90 + 1.40 = 3.30; FR 15.00 and 3.00.
    assert_eq!(
        ret["oss"],
        json!([
            {"country": "DE", "base": "30.00", "vat": "3.30", "base_whole": "30", "vat_whole": "3"},
            {"country": "FR", "base": "15.00", "vat": "3.00", "base_whole": "15", "vat_whole": "3"},
        ])
    );
    // Not reported: exempt 40.00 + outside the scope 5.00.
    assert_eq!(ret["not_reported"], json!({"base": "45.00", "vat": "0.00"}));
    // Orders counted: o-21, o-21b, o-9, o-credit, o-1e, o-export, three ICP, o-oss, o-exempt,
    // o-v, o-first and o-last = 14; receipts r-1, r-2 and r-3.
    assert_eq!(
        ret["sources"],
        json!({"orders": 14, "receipts": 3, "other_currency": 0})
    );
    assert_eq!(ret["currency"], "EUR");
    assert_eq!(
        (&ret["from_date"], &ret["to_date"]),
        (&json!("2026-01-01"), &json!("2026-04-01"))
    );

    // A period is required and must end after it starts; the vendor may not read the return.
    for query in [
        "?from=2026-04-01&to=2026-01-01",
        "?from=2026-13-01&to=2026-04-01",
        "",
    ] {
        let refused = s
            .app
            .get(&w.uri(&format!("/vat-return{query}")), &s.connector)
            .await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            refused.text
        );
    }
    let vendor = s
        .app
        .get(
            &w.uri("/vat-return?from=2026-01-01&to=2026-04-01"),
            &s.vendor,
        )
        .await;
    assert_eq!(vendor.status, StatusCode::FORBIDDEN);
}
