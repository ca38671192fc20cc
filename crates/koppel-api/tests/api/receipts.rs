//! Receipts over HTTP: every rule a 400 with its pointer, immutability, each search filter,
//! batch and validate, business dates across the October night, and the documented schema
//! against the fields the parser accepts.

use axum::http::StatusCode;
use koppel_api::auth::scopes::ClientKind;
use koppel_api::onboarding::{self, CreateCompany};
use koppel_domain::receipt::ReceiptDraft;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::harness::TestApp;

/// A company with a vendor and a connector, and the settings a till needs.
pub struct Setup {
    pub app: TestApp,
    pub company: Uuid,
    pub vendor: String,
    pub connector: String,
    /// Category ids: `food`, `drinks`, `other`.
    pub food: String,
    pub drinks: String,
    pub other: String,
    /// Payment method ids: cash, pin (debit card), a gift card.
    pub cash: String,
    pub pin: String,
    pub gift_card: String,
}

impl Setup {
    pub fn receipts(&self) -> String {
        format!("/v1/companies/{}/receipts", self.company)
    }

    pub fn day(&self, date: &str) -> String {
        format!("/v1/companies/{}/daily-revenue/{date}", self.company)
    }

    pub async fn post_receipt(&self, body: &Value) -> crate::harness::TestResponse {
        self.app
            .post(&self.receipts(), &self.vendor, body.clone())
            .await
    }
}

async fn setting(app: &TestApp, company: Uuid, token: &str, path: &str, body: Value) -> String {
    let response = app
        .post(&format!("/v1/companies/{company}/{path}"), token, body)
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    response.json()["id"].as_str().unwrap().to_owned()
}

/// Sets up a company with the given business-day cutoff (`None`: the default midnight).
pub async fn setup_with_cutoff(pool: PgPool, cutoff: Option<&str>) -> Setup {
    let app = TestApp::new(pool);
    let company = onboarding::create_company(
        &app.app.store,
        CreateCompany {
            name: "Bakkerij De Korrel B.V.".to_owned(),
            timezone: None,
            currency: None,
            business_day_cutoff: cutoff.map(str::to_owned),
        },
    )
    .await
    .unwrap()
    .id;
    let vendor = app.client(ClientKind::Vendor, &[company]).await;
    let connector = app.client(ClientKind::Connector, &[company]).await;
    let vendor = app.token(&vendor).await;
    let connector = app.token(&connector).await;
    let category = |name: &str| json!({"external_id": name.to_lowercase(), "name": name});
    let food = setting(&app, company, &vendor, "categories", category("Food")).await;
    let drinks = setting(&app, company, &vendor, "categories", category("Drinks")).await;
    let other = setting(&app, company, &vendor, "categories", category("Other")).await;
    let method = |id: &str, kind: &str| json!({"external_id": id, "name": id, "kind": kind});
    let cash = setting(
        &app,
        company,
        &vendor,
        "payment-methods",
        method("cash", "cash"),
    )
    .await;
    let pin = setting(
        &app,
        company,
        &vendor,
        "payment-methods",
        method("pin", "debit_card"),
    )
    .await;
    let gift_card = setting(
        &app,
        company,
        &vendor,
        "payment-methods",
        method("cadeaubon", "gift_card"),
    )
    .await;
    Setup {
        app,
        company,
        vendor,
        connector,
        food,
        drinks,
        other,
        cash,
        pin,
        gift_card,
    }
}

pub async fn setup(pool: PgPool) -> Setup {
    setup_with_cutoff(pool, None).await
}

/// A valid receipt: two croissants at 1.75 incl. 9% and a coffee at 2.80 incl. 21%, paid
/// with a 10 euro note and 3.45 change.
pub fn receipt(s: &Setup, external_id: &str, created_at: &str) -> Value {
    json!({
        "external_id": external_id,
        "number": format!("N-{external_id}"),
        "location_id": "centrum",
        "register_id": "kassa-1",
        "created_at": created_at,
        "currency": "EUR",
        "prices_include_vat": true,
        "lines": [
            {"product_code": "1001", "description": "Croissant", "category_id": s.food,
             "quantity": 2, "unit_price": "1.75", "total_incl_vat": "3.50",
             "vat": {"percentage": "9", "category": "reduced", "amount": "0.29"}},
            {"product_code": "2001", "description": "Koffie", "category_id": s.drinks,
             "quantity": 1, "unit_price": 2.80, "total_incl_vat": 2.80,
             "vat": {"percentage": 21, "category": "standard", "amount": "0.49"}}
        ],
        "payments": [
            {"method_id": s.cash, "amount": "10.00", "change": "3.70", "reference": format!("kas-{external_id}")}
        ]
    })
}

/// The (pointer, code) of every error of a 400, sorted.
pub fn pointers(response: &crate::harness::TestResponse) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = response
        .problem()
        .errors
        .unwrap_or_default()
        .into_iter()
        .map(|e| (e.pointer, e.code))
        .collect();
    found.sort();
    found
}

fn external_ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["external_id"].as_str().unwrap().to_owned())
        .collect()
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_receipt_is_stored_with_its_business_date_and_answered_as_stored(pool: PgPool) {
    let s = setup(pool).await;
    let created = s
        .post_receipt(&receipt(&s, "r-1", "2026-06-10T14:05:00+02:00"))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let body = created.json();
    assert_eq!(body["business_date"], "2026-06-10");
    assert_eq!(body["created_at"], "2026-06-10T14:05:00+02:00");
    assert_eq!(body["totals"]["total_incl_vat"], "6.30");
    assert_eq!(body["totals"]["total_vat"], "0.78");
    assert_eq!(body["revenue"]["total_incl_vat"], "6.30");
    assert_eq!(body["lines"][1]["unit_price"], "2.80");
    assert_eq!(body["lines"][0]["quantity"], "2");
    assert_eq!(body["payments"][0]["net_amount"], "6.30");
    assert_eq!(body["vat_breakdown"].as_array().unwrap().len(), 2);
    assert_eq!(body["late"], true, "a day of 2026-06-10 is long final");
    let id = body["id"].as_str().unwrap();
    let fetched = s
        .app
        .get(&format!("{}/{id}", s.receipts()), &s.connector)
        .await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.json(), body);
    let missing = s
        .app
        .get(
            &format!("{}/{}", s.receipts(), Uuid::now_v7()),
            &s.connector,
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_receipt_whose_lines_and_payments_do_not_add_up_and_a_line_without_category_is_one_400_with_every_pointer(
    pool: PgPool,
) {
    let s = setup(pool).await;
    let mut body = receipt(&s, "r-bad", "2026-06-10T14:05:00+02:00");
    // Two croissants at 1.75 are not 4.00.
    body["lines"][0]["total_incl_vat"] = json!("4.00");
    body["lines"][1]
        .as_object_mut()
        .unwrap()
        .remove("category_id");
    // 10.00 − 3.00 is not the total.
    body["payments"][0]["change"] = json!("3.00");
    let response = s.post_receipt(&body).await;
    assert_eq!(
        response.status,
        StatusCode::BAD_REQUEST,
        "{}",
        response.text
    );
    let found = pointers(&response);
    for expected in [
        ("/lines/0/total_incl_vat", "line_total_mismatch"),
        ("/lines/1/category_id", "missing_field"),
    ] {
        assert!(
            found.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} not in {found:?}"
        );
    }

    // With the lines right, the payments are checked against the total.
    let mut body = receipt(&s, "r-bad", "2026-06-10T14:05:00+02:00");
    body["payments"][0]["change"] = json!("3.00");
    let response = s.post_receipt(&body).await;
    assert_eq!(
        pointers(&response),
        [(
            "/payments".to_owned(),
            "payments_do_not_match_total".to_owned()
        )]
    );

    // A line without VAT, a missing product code, a timestamp without offset, another
    // currency without an exchange rate and an unknown payment method: all at once.
    let mut body = receipt(&s, "r-bad", "2026-06-10T14:05:00");
    body["currency"] = json!("USD");
    body["lines"][0].as_object_mut().unwrap().remove("vat");
    body["lines"][1]["product_code"] = json!(" ");
    body["payments"][0]["method_id"] = json!(Uuid::now_v7().to_string());
    let response = s.post_receipt(&body).await;
    let found = pointers(&response);
    for expected in [
        ("/created_at", "timestamp_without_offset"),
        ("/exchange_rate", "exchange_rate_required"),
        ("/lines/0/vat", "vat_missing"),
        ("/lines/1/product_code", "missing_field"),
        ("/payments/0/method_id", "unknown_payment_method"),
    ] {
        assert!(
            found.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} not in {found:?}"
        );
    }

    // An unknown field names itself.
    let mut body = receipt(&s, "r-bad", "2026-06-10T14:05:00+02:00");
    body["lines"][0]["vat_rate"] = json!("9");
    let response = s.post_receipt(&body).await;
    assert_eq!(
        pointers(&response),
        [("/lines/0/vat_rate".to_owned(), "unknown_field".to_owned())]
    );

    let list = s.app.get(&s.receipts(), &s.connector).await.json();
    assert!(
        list["data"].as_array().unwrap().is_empty(),
        "nothing was stored"
    );
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn an_identical_resend_is_harmless_and_a_different_body_is_a_400_asking_for_a_refund_receipt(
    pool: PgPool,
) {
    let s = setup(pool).await;
    let body = receipt(&s, "r-1", "2030-06-10T14:05:00+02:00");
    let first = s.post_receipt(&body).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let first = first.json();

    // The same receipt with amounts written differently is the same receipt.
    let mut same = body.clone();
    same["lines"][0]["unit_price"] = json!(1.750);
    same["payments"][0]["amount"] = json!(10);
    let again = s.post_receipt(&same).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.json(), first);

    let mut changed = body.clone();
    changed["lines"][1]["description"] = json!("Cappuccino");
    let refused = s.post_receipt(&changed).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let problem = refused.problem();
    let error = &problem.errors.unwrap()[0];
    assert_eq!(error.pointer, "/external_id");
    assert_eq!(error.code, "receipt_immutable");
    assert!(error.message.contains("refund"), "{}", error.message);

    let day = s.app.get(&s.day("2030-06-10"), &s.connector).await.json();
    assert_eq!(day["receipt_count"], 1, "the resend counted once: {day}");
    assert_eq!(day["revenue"]["total_incl_vat"], "6.30");
    let created_events: i64 = sqlx::query_scalar(
        "select count(*) from events where company_id = $1 and type = 'receipt.created'",
    )
    .bind(s.company)
    .fetch_one(s.app.app.store.pool())
    .await
    .unwrap();
    assert_eq!(created_events, 1);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn receipts_are_found_by_each_filter_with_keyset_pages(pool: PgPool) {
    let s = setup(pool).await;
    let mut bodies = vec![
        receipt(&s, "a", "2026-06-10T09:00:00+02:00"),
        receipt(&s, "b", "2026-06-10T23:30:00+02:00"),
        receipt(&s, "c", "2026-06-11T00:30:00+02:00"),
        receipt(&s, "d", "2026-06-11T12:00:00+02:00"),
    ];
    bodies[3]["location_id"] = json!("noord");
    bodies[2]["payments"][0]["reference"] = json!("PSP-777");
    for body in &bodies {
        let response = s.post_receipt(body).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    }
    let since = chrono::Utc::now();
    let late = receipt(&s, "e", "2026-06-09T12:00:00+02:00");
    assert_eq!(s.post_receipt(&late).await.status, StatusCode::CREATED);

    let find = |query: &'static str| {
        let s = &s;
        async move {
            let response = s
                .app
                .get(&format!("{}?{query}", s.receipts()), &s.connector)
                .await;
            assert_eq!(
                response.status,
                StatusCode::OK,
                "{query}: {}",
                response.text
            );
            external_ids(&response.json())
        }
    };
    assert_eq!(find("number=N-c").await, ["c"]);
    assert_eq!(
        find("from=2026-06-10T23:00:00%2B02:00&to=2026-06-11T12:00:00%2B02:00").await,
        ["b", "c"]
    );
    // A bare date is that day in the company's timezone.
    assert_eq!(find("from=2026-06-11&to=2026-06-12").await, ["c", "d"]);
    assert_eq!(find("business_date=2026-06-10").await, ["a", "b"]);
    assert_eq!(find("location_id=noord").await, ["d"]);
    assert_eq!(find("reference=PSP-777").await, ["c"]);
    assert_eq!(find("reference=a").await, ["a"]);
    assert_eq!(find("reference=nothing").await, Vec::<String>::new());
    let query = format!("updated_since={}", since.to_rfc3339().replace('+', "%2B"));
    let response = s
        .app
        .get(&format!("{}?{query}", s.receipts()), &s.connector)
        .await;
    assert_eq!(external_ids(&response.json()), ["e"]);

    // Pages of two by moment of sale, then by moment stored.
    for (query, all) in [
        ("from=2026-01-01&limit=2", ["e", "a", "b", "c", "d"]),
        ("limit=2", ["a", "b", "c", "d", "e"]),
    ] {
        let mut seen = Vec::new();
        let mut uri = format!("{}?{query}", s.receipts());
        loop {
            let page = s.app.get(&uri, &s.connector).await.json();
            let ids = external_ids(&page);
            assert!(ids.len() <= 2);
            seen.extend(ids);
            match page["next_cursor"].as_str() {
                Some(cursor) => uri = format!("{}?{query}&cursor={cursor}", s.receipts()),
                None => break,
            }
        }
        assert_eq!(seen, all, "{query}");
    }
    let bad = s
        .app
        .get(&format!("{}?from=yesterday", s.receipts()), &s.connector)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let no_scope = s.app.get(&s.receipts(), &s.vendor).await;
    assert_eq!(no_scope.status, StatusCode::OK, "vendors may read back");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_batch_stores_or_refuses_each_receipt_on_its_own(pool: PgPool) {
    let s = setup(pool).await;
    let stored = receipt(&s, "x", "2030-06-10T10:00:00+02:00");
    assert_eq!(s.post_receipt(&stored).await.status, StatusCode::CREATED);
    let mut changed = stored.clone();
    changed["number"] = json!("other");
    let mut broken = receipt(&s, "z", "2030-06-10T10:00:00+02:00");
    broken["lines"][0]["vat"]["amount"] = json!("0.90");
    let items = json!({"receipts": [
        receipt(&s, "y", "2030-06-10T11:00:00+02:00"),
        broken,
        stored,
        changed,
        {"external_id": "w", "lines": "none"},
        receipt(&s, "y", "2030-06-10T11:00:00+02:00"),
    ]});
    let response = s
        .app
        .post(&format!("{}/batch", s.receipts()), &s.vendor, items)
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    let data = response.json()["data"].clone();
    let item = |i: usize| data[i].clone();
    assert_eq!(item(0)["success"], true);
    assert_eq!(item(0)["outcome"], "created");
    assert_eq!(item(1)["success"], false);
    assert_eq!(item(1)["errors"][0]["pointer"], "/lines/0/vat/amount");
    assert_eq!(item(2)["outcome"], "unchanged");
    assert_eq!(item(3)["errors"][0]["code"], "receipt_immutable");
    assert_eq!(item(4)["errors"][0]["pointer"], "/lines");
    assert_eq!(item(5)["outcome"], "unchanged");
    assert_eq!(item(5)["id"], item(0)["id"]);

    let day = s.app.get(&s.day("2030-06-10"), &s.connector).await.json();
    assert_eq!(day["receipt_count"], 2);

    let too_many = json!({"receipts": vec![json!({}); 1001]});
    let response = s
        .app
        .post(&format!("{}/batch", s.receipts()), &s.vendor, too_many)
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(response.problem().errors.unwrap()[0].pointer, "/receipts");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn validate_answers_what_would_be_stored_and_stores_nothing(pool: PgPool) {
    let s = setup(pool).await;
    let uri = format!("{}/validate", s.receipts());
    let body = receipt(&s, "v", "2026-10-25T02:30:00+01:00");
    let response = s.app.post(&uri, &s.vendor, body.clone()).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    let answer = response.json();
    assert_eq!(answer["valid"], true);
    assert_eq!(answer["business_date"], "2026-10-25");
    assert_eq!(answer["totals"]["total_incl_vat"], "6.30");
    let mut bad = body;
    bad["lines"][1]["total_incl_vat"] = json!("2.90");
    let response = s.app.post(&uri, &s.vendor, bad).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    let list = s.app.get(&s.receipts(), &s.connector).await.json();
    assert!(list["data"].as_array().unwrap().is_empty());

    // Checked against a stored receipt as storing would be: the same content passes,
    // other content under its external id is refused before it is ever sent for real.
    let stored = receipt(&s, "v-stored", "2026-10-25T02:30:00+01:00");
    let created = s.post_receipt(&stored).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let response = s.app.post(&uri, &s.vendor, stored.clone()).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    let mut changed = stored;
    changed["number"] = json!("another number");
    let response = s.app.post(&uri, &s.vendor, changed).await;
    assert_eq!(
        response.status,
        StatusCode::BAD_REQUEST,
        "{}",
        response.text
    );
    let errors = response.problem().errors.unwrap();
    assert_eq!(
        (errors[0].pointer.as_str(), errors[0].code.as_str()),
        ("/external_id", "receipt_immutable")
    );
    assert!(
        errors[0]
            .message
            .contains(created.json()["id"].as_str().unwrap()),
        "{}",
        errors[0].message
    );
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn business_dates_follow_the_cutoff_through_the_doubled_october_hour(pool: PgPool) {
    let s = setup_with_cutoff(pool, Some("04:00")).await;
    let cases = [
        ("2026-10-24T23:59:00+02:00", "2026-10-24"),
        ("2026-10-25T00:01:00+02:00", "2026-10-24"),
        // 02:30 happens twice: first at +02:00, an hour later at +01:00.
        ("2026-10-25T02:30:00+02:00", "2026-10-24"),
        ("2026-10-25T02:30:00+01:00", "2026-10-24"),
        ("2026-10-25T03:59:00+01:00", "2026-10-24"),
        ("2026-10-25T04:00:00+01:00", "2026-10-25"),
        // The same instant as the second 02:30, sent in UTC.
        ("2026-10-25T01:30:00Z", "2026-10-24"),
    ];
    for (i, (at, date)) in cases.iter().enumerate() {
        let response = s.post_receipt(&receipt(&s, &format!("o-{i}"), at)).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
        let body = response.json();
        assert_eq!(body["business_date"], *date, "{at}");
        assert_eq!(body["created_at"], *at, "answered with the offset sent");
    }
    let day = s.app.get(&s.day("2026-10-24"), &s.connector).await.json();
    assert_eq!(day["receipt_count"], 6);
    // The day of the October change is 25 hours long: 04:00 +02:00 to 04:00 +01:00 the next day.
    assert_eq!(day["final_at"], "2026-10-25T04:00:00Z");
    let list = s
        .app
        .get(
            &format!("{}?business_date=2026-10-24", s.receipts()),
            &s.connector,
        )
        .await
        .json();
    assert_eq!(list["data"].as_array().unwrap().len(), 6);
}

/// The properties of a documented schema, following a `$ref` and the `oneOf` utoipa uses for
/// optional references.
fn properties(spec: &Value, name: &str) -> Vec<String> {
    let schema = &spec["components"]["schemas"][name];
    let mut keys: Vec<String> = schema["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("{name} has no properties"))
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

#[test]
fn the_documented_receipt_schema_lists_exactly_the_fields_the_parser_accepts() {
    let spec = serde_json::to_value(koppel_api::openapi()).unwrap();
    // A serialized draft holds every field the parser accepts (absent ones as null).
    let mut draft = ReceiptDraft::default();
    draft.lines.push(Default::default());
    draft.payments.push(Default::default());
    draft.totals = Some(Default::default());
    draft.lines[0].vat = Some(Default::default());
    let draft = serde_json::to_value(&draft).unwrap();
    assert_eq!(properties(&spec, "ReceiptInput"), keys(&draft));
    assert_eq!(
        properties(&spec, "ReceiptLineInput"),
        keys(&draft["lines"][0])
    );
    assert_eq!(
        properties(&spec, "ReceiptVatInput"),
        keys(&draft["lines"][0]["vat"])
    );
    assert_eq!(
        properties(&spec, "ReceiptPaymentInput"),
        keys(&draft["payments"][0])
    );
    assert_eq!(
        properties(&spec, "ReceiptTotalsInput"),
        keys(&draft["totals"])
    );
    assert_eq!(properties(&spec, "ReceiptBatchInput"), ["receipts"]);
    let kinds = spec["components"]["schemas"]["ReceiptLineKindInput"]["enum"].clone();
    for kind in kinds.as_array().unwrap() {
        let line: Result<koppel_domain::receipt::ReceiptLineDraft, _> =
            serde_json::from_value(json!({"kind": kind}));
        assert!(line.is_ok(), "documented kind {kind} is not accepted");
    }
    let categories = spec["components"]["schemas"]["ReceiptVatCategoryInput"]["enum"].clone();
    for category in categories.as_array().unwrap() {
        let vat: Result<koppel_domain::document::VatDraft, _> =
            serde_json::from_value(json!({"category": category}));
        assert!(
            vat.is_ok(),
            "documented category {category} is not accepted"
        );
    }
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn every_amount_of_a_receipt_and_its_day_has_two_decimals_zeros_too(pool: PgPool) {
    // Nothing on this receipt is a tip, a deposit or a gift card, and it has no cash
    // rounding and no discount: each of those is a zero, and a zero is "0.00".
    let s = setup(pool).await;
    let mut body = receipt(&s, "z-1", "2030-06-10T14:05:00+02:00");
    body["payments"][0]["change"] = json!("3.70");
    let created = s.post_receipt(&body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let stored = created.json();
    let read = s
        .app
        .get(
            &format!("{}/{}", s.receipts(), stored["id"].as_str().unwrap()),
            &s.connector,
        )
        .await
        .json();
    let day = s.app.get(&s.day("2030-06-10"), &s.connector).await.json();
    let empty_day = s.app.get(&s.day("2030-06-11"), &s.connector).await.json();
    crate::harness::assert_every_amount_has_cents(&[
        ("the stored receipt", &stored),
        ("the receipt read back", &read),
        ("its day", &day),
        ("a day without receipts", &empty_day),
    ]);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_product_code_names_the_product_with_that_sku_once_one_exists(pool: PgPool) {
    let s = setup(pool).await;
    let sent = s
        .app
        .post(
            &s.receipts(),
            &s.vendor,
            receipt(&s, "r-sku", "2026-03-02T09:15:00+01:00"),
        )
        .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.text);
    let id = sent.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(sent.json()["lines"][0]["product_id"], Value::Null);

    let product = s
        .app
        .post(
            &format!("/v1/companies/{}/products", s.company),
            &s.vendor,
            json!({"external_id": "croissant", "sku": "1001", "name": "Croissant"}),
        )
        .await;
    assert_eq!(product.status, StatusCode::CREATED, "{}", product.text);
    let read = s
        .app
        .get(&format!("{}/{id}", s.receipts()), &s.connector)
        .await
        .json();
    assert_eq!(read["lines"][0]["product_id"], product.json()["id"]);
    assert_eq!(read["lines"][1]["product_id"], Value::Null);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_receipt_line_names_its_vat_rate_by_the_vendors_own_id(pool: PgPool) {
    let s = setup(pool).await;
    let mut body = receipt(&s, "r-ext", "2026-06-10T14:05:00+02:00");
    body["lines"][0]["vat"] = json!({"rate_external_id": "nl-reduced", "amount": "0.29"});
    let response = s.post_receipt(&body).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    let vat = &response.json()["lines"][0]["vat"];
    assert!(vat["rate_id"].is_string(), "{vat}");
    assert_eq!(vat["rate_external_id"], "nl-reduced");
    assert_eq!(vat["percentage"], "9");

    body["external_id"] = json!("r-ext-unknown");
    body["lines"][0]["vat"]["rate_external_id"] = json!("no-such-rate");
    let refused = s.post_receipt(&body).await;
    assert_eq!(
        pointers(&refused),
        [(
            "/lines/0/vat/rate_external_id".to_owned(),
            "unknown_vat_rate".to_owned()
        )]
    );
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_refund_names_the_receipt_it_refunds_and_that_receipt_lists_it(pool: PgPool) {
    let s = setup(pool).await;
    let sale = s
        .post_receipt(&receipt(&s, "r-sale", "2026-06-10T14:05:00+02:00"))
        .await;
    assert_eq!(sale.status, StatusCode::CREATED, "{}", sale.text);
    let sale_id = sale.json()["id"].as_str().unwrap().to_owned();

    // The coffee comes back: a receipt with negative amounts, naming the sale by the till's id.
    let refund = json!({
        "external_id": "r-refund", "number": "N-r-refund", "location_id": "centrum",
        "register_id": "kassa-1", "created_at": "2026-06-10T15:00:00+02:00", "currency": "EUR",
        "prices_include_vat": true,
        "lines": [{"product_code": "2001", "description": "Koffie", "category_id": s.drinks,
                   "quantity": -1, "unit_price": "2.80", "total_incl_vat": "-2.80",
                   "vat": {"percentage": "21", "category": "standard", "amount": "-0.49"}}],
        "payments": [{"method_id": s.cash, "amount": "-2.80"}],
        "refund_of_external_id": "r-sale", "refund_reason": "Koud"
    });
    let stored = s.post_receipt(&refund).await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.text);
    let stored = stored.json();
    assert_eq!(stored["refund_of"], json!(sale_id));
    assert_eq!(stored["refund_of_external_id"], "r-sale");
    assert_eq!(stored["refund_reason"], "Koud");
    let read = s
        .app
        .get(&format!("{}/{sale_id}", s.receipts()), &s.connector)
        .await
        .json();
    assert_eq!(read["refunds"], json!([stored["id"]]));

    // Unknown, or disagreeing with refund_of: a 400 at the pointer.
    let mut unknown = refund.clone();
    unknown["external_id"] = json!("r-refund-2");
    unknown["refund_of_external_id"] = json!("r-no-such");
    assert_eq!(
        pointers(&s.post_receipt(&unknown).await),
        [(
            "/refund_of_external_id".to_owned(),
            "unknown_receipt".to_owned()
        )]
    );
    let mut mismatch = refund;
    mismatch["external_id"] = json!("r-refund-3");
    mismatch["refund_of"] = json!(stored["id"]);
    assert_eq!(
        pointers(&s.post_receipt(&mismatch).await),
        [(
            "/refund_of_external_id".to_owned(),
            "reference_mismatch".to_owned()
        )]
    );
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_receipt_of_a_sale_to_a_belgian_business_is_an_intra_eu_supply(pool: PgPool) {
    let s = setup(pool).await;
    let mut body = receipt(&s, "r-b2b", "2026-06-10T14:05:00+02:00");
    body["lines"] = json!([{"product_code": "9001", "description": "Taart (zakelijk)",
        "category_id": s.food, "quantity": 1, "unit_price": "40.00", "total_incl_vat": "40.00",
        "vat": {"percentage": "0", "category": "intra_eu", "amount": "0.00"}}]);
    body["payments"] = json!([{"method_id": s.cash, "amount": "40.00"}]);

    // Without a buyer the intra-EU supply has no VAT number: refused, as on an order.
    let refused = s.post_receipt(&body).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(
        pointers(&refused)[0].1,
        "intra_eu_requires_buyer_vat_number".to_owned()
    );

    body["customer"] = json!({"company_name": "Bakkerij Janssens BV",
                              "vat_number": "BE 0776.091.951"});
    let stored = s.post_receipt(&body).await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.text);
    assert_eq!(stored.json()["customer"]["vat_number"], "BE0776091951");
    let answer = s
        .app
        .get(
            &format!(
                "/v1/companies/{}/vat-return?from=2026-06-01&to=2026-07-01",
                s.company
            ),
            &s.connector,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let answer = answer.json();
    assert_eq!(answer["boxes"]["3b"]["base"], "40.00");
    assert_eq!(
        answer["icp"],
        json!([{"vat_number": "BE0776091951", "country": "BE", "base": "40.00",
                "base_whole": "40"}])
    );
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_payment_and_a_line_name_their_method_and_category_by_the_vendors_own_id(pool: PgPool) {
    let s = setup(pool).await;
    let sold = chrono::Utc::now().to_rfc3339();
    let mut body = receipt(&s, "ext-1", &sold);
    body["payments"] = json!([{"method_external_id": "cash", "amount": "10.00", "change": "3.70"}]);
    let stored = s.post_receipt(&body).await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.text);
    let payment = &stored.json()["payments"][0];
    assert_eq!(payment["method_id"], json!(s.cash));
    assert_eq!(payment["method_external_id"], "cash");
    assert_eq!(stored.json()["lines"][0]["category_external_id"], "food");
    // The same receipt with our id is the same document: a resend, not a conflict.
    let mut by_id = body.clone();
    by_id["payments"] = json!([{"method_id": s.cash, "amount": "10.00", "change": "3.70"}]);
    assert_eq!(s.post_receipt(&by_id).await.status, StatusCode::OK);
    // A line's category by the vendor's id, the same way.
    let mut by_code = receipt(&s, "ext-2", &sold);
    by_code["lines"][0]["category_id"] = Value::Null;
    by_code["lines"][0]["category_external_id"] = json!("food");
    let stored = s.post_receipt(&by_code).await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.text);
    assert_eq!(stored.json()["lines"][0]["category_id"], json!(s.food));
    by_code["external_id"] = json!("ext-3");
    by_code["lines"][0]["category_external_id"] = json!("taart");
    let refused = s.post_receipt(&by_code).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.problem().errors.unwrap()[0].pointer,
        "/lines/0/category_external_id"
    );
    // Unknown, or naming another method than method_id: a 400 at the external id.
    for (i, payment) in [
        json!({"method_external_id": "bitcoin", "amount": "6.30"}),
        json!({"method_id": s.pin, "method_external_id": "cash", "amount": "6.30"}),
    ]
    .into_iter()
    .enumerate()
    {
        let mut bad = receipt(&s, &format!("ext-bad-{i}"), &sold);
        bad["payments"] = json!([payment]);
        let refused = s.post_receipt(&bad).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
        let errors = refused.problem().errors.unwrap();
        assert_eq!(errors[0].pointer, "/payments/0/method_external_id", "{i}");
    }
}
