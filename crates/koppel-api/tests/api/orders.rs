//! Sales orders over HTTP: upserts under a stable id with versions, identical
//! resends, concurrent sends, every search filter, batch and validate, the 400
//! bodies with their pointers, credit orders, Mollie's sample order, and the
//! documented request schema against what the API accepts.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use koppel_api::auth::scopes::ClientKind;
use koppel_domain::document::{TotalsDraft, VatDraft};
use koppel_domain::order::{
    AddressDraft, CostDraft, CostKind, CustomerDraft, LineDraft, OrderDraft, OrderStatus,
    PaymentDraft,
};
use koppel_domain::vat::VatCategory;
use serde_json::{Value, json};
use sqlx::PgPool;
use tower::ServiceExt;
use uuid::Uuid;

use crate::harness::TestApp;

struct Setup {
    app: TestApp,
    company: Uuid,
    vendor: String,
    connector: String,
    ideal: String,
    toys: String,
    standard: String,
    customer: String,
}

async fn setup(pool: PgPool) -> Setup {
    setup_with_products(
        pool,
        &[
            ("KOFFIE", "Koffiebonen"),
            ("5702016116977", "LEGO 42083 Bugatti Chiron"),
            ("5702015594028", "LEGO 42056 Porsche 911 GT3 RS"),
        ],
    )
    .await
}

/// A company with a payment method, a category, a customer and these products (SKU, name).
async fn setup_with_products(pool: PgPool, products: &[(&str, &str)]) -> Setup {
    let app = TestApp::new(pool);
    let company = app.company("Webwinkel B.V.").await;
    let vendor = app.client(ClientKind::Vendor, &[company]).await;
    let connector = app.client(ClientKind::Connector, &[company]).await;
    let vendor = app.token(&vendor).await;
    let connector = app.token(&connector).await;
    let base = format!("/v1/companies/{company}");
    let created = |r: crate::harness::TestResponse| {
        assert!(r.status.is_success(), "{}", r.text);
        r.json()["id"].as_str().unwrap().to_owned()
    };
    let ideal = created(
        app.post(
            &format!("{base}/payment-methods"),
            &vendor,
            json!({"external_id": "ideal", "name": "iDEAL", "kind": "ideal"}),
        )
        .await,
    );
    let toys = created(
        app.post(
            &format!("{base}/categories"),
            &vendor,
            json!({"external_id": "toys", "name": "Speelgoed"}),
        )
        .await,
    );
    let customer = created(
        app.post(
            &format!("{base}/customers"),
            &vendor,
            json!({"external_id": "c-1", "name": "Jan Jansen", "email": "jan@example.nl"}),
        )
        .await,
    );
    for &(sku, name) in products {
        created(
            app.post(
                &format!("{base}/products"),
                &vendor,
                json!({"external_id": sku, "sku": sku, "name": name}),
            )
            .await,
        );
    }
    let rates = app
        .get(&format!("{base}/vat-rates"), &connector)
        .await
        .json();
    let standard = rates["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["external_id"] == "nl-standard")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Setup {
        app,
        company,
        vendor,
        connector,
        ideal,
        toys,
        standard,
        customer,
    }
}

impl Setup {
    fn uri(&self, rest: &str) -> String {
        format!("/v1/companies/{}/orders{rest}", self.company)
    }

    /// 2 × 5.00 excl. 21% plus 5.00 shipping incl. VAT, paid in full: 17.10.
    fn order(&self, external_id: &str) -> Value {
        json!({
            "external_id": external_id,
            "number": format!("N-{external_id}"),
            "status": "paid",
            "order_date": "2026-01-15T10:00:00+01:00",
            "currency": "EUR",
            "prices_include_vat": false,
            "customer": {"id": self.customer, "name": "Jan Jansen", "email": "jan@example.nl",
                         "billing_address": {"street": "Damrak", "house_number": "1",
                                             "postal_code": "1012 LG", "city": "Amsterdam",
                                             "country": "NL"}},
            "lines": [{
                "sku": "KOFFIE", "description": "Koffiebonen", "quantity": 2, "unit_price": "5.00",
                "vat": {"rate_id": self.standard, "amount": 2.1},
                "total_excl_vat": 10, "category_id": self.toys
            }],
            "costs": [{
                "kind": "shipping", "amount_excl_vat": "4.13",
                "vat": {"percentage": 21, "category": "standard", "amount": "0.87"}
            }],
            "payments": [{"method_id": self.ideal, "amount": "17.10",
                          "reference": format!("tr_{external_id}"),
                          "paid_at": "2026-01-15T10:05:00+01:00"}],
            "totals": {"total_incl_vat": "17.10"}
        })
    }

    async fn post(&self, body: Value) -> crate::harness::TestResponse {
        self.app.post(&self.uri(""), &self.vendor, body).await
    }

    async fn list(&self, query: &str) -> Value {
        let response = self
            .app
            .get(&self.uri(&format!("?{query}")), &self.connector)
            .await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "{query}: {}",
            response.text
        );
        response.json()
    }

    /// The order events in feed order, read from the table: the feed itself
    /// holds back events while any transaction in the cluster is running.
    async fn events(&self) -> Vec<(String, i64)> {
        sqlx::query_as::<_, (String, i32)>(
            "select type, version from events
              where company_id = $1 and resource = 'orders' order by txid, seq",
        )
        .bind(self.company)
        .fetch_all(self.app.app.store.pool())
        .await
        .unwrap()
        .into_iter()
        .map(|(t, v)| (t, i64::from(v)))
        .collect()
    }
}

fn external_ids(list: &Value) -> Vec<String> {
    let mut ids: Vec<String> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["external_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn pointers(problem_errors: &[koppel_api::error::ProblemItem]) -> Vec<(String, String)> {
    problem_errors
        .iter()
        .map(|e| (e.pointer.clone(), e.code.clone()))
        .collect()
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn an_order_is_stored_with_koppels_totals_and_answered_with_amounts_as_strings(pool: PgPool) {
    let s = setup(pool).await;
    let created = s.post(s.order("web-1")).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let order = created.json();
    assert_eq!(order["version"], 1);
    assert_eq!(order["status"], "paid");
    assert_eq!(order["order_date"], "2026-01-15T10:00:00+01:00");
    assert_eq!(
        order["totals"],
        json!({"total_excl_vat": "14.13", "total_vat": "2.97", "total_incl_vat": "17.10"})
    );
    assert_eq!(
        order["vat_breakdown"],
        json!([{"category": "standard", "percentage": "21", "country": "NL",
                "base": "14.13", "vat": "2.97"}])
    );
    let line = &order["lines"][0];
    assert_eq!(line["quantity"], "2");
    assert_eq!(line["unit_price"], "5.00");
    assert_eq!(line["vat"]["amount"], "2.10");
    assert_eq!(line["vat"]["rate_id"], s.standard.as_str());
    assert_eq!(line["total_excl_vat"], "10.00");
    assert_eq!(line["total_incl_vat"], "12.10");
    assert_eq!(line["category_id"], s.toys.as_str());
    assert_eq!(order["costs"][0]["amount_incl_vat"], "5.00");
    assert_eq!(order["payments"][0]["amount"], "17.10");
    assert_eq!(order["payments"][0]["paid_at"], "2026-01-15T10:05:00+01:00");
    assert_eq!(order["customer"]["id"], s.customer.as_str());
    assert_eq!(order["customer"]["billing_address"]["city"], "Amsterdam");

    let id = order["id"].as_str().unwrap();
    let fetched = s.app.get(&s.uri(&format!("/{id}")), &s.connector).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.json(), order);

    let unknown = s
        .app
        .get(&s.uri(&format!("/{}", Uuid::new_v4())), &s.connector)
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_changed_resend_is_a_new_version_under_the_same_id_and_an_identical_one_changes_nothing(
    pool: PgPool,
) {
    let s = setup(pool).await;
    let first = s.post(s.order("web-1")).await.json();
    let id = first["id"].as_str().unwrap().to_owned();

    // The same order with its amounts spelt differently is the same order.
    let mut same = s.order("web-1");
    same["lines"][0]["vat"]["amount"] = json!("2.10");
    same["lines"][0]["total_excl_vat"] = json!("10.0");
    let again = s.post(same).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(
        again.json(),
        first,
        "an identical resend answers the stored order"
    );
    assert_eq!(s.events().await, [("order.created".to_owned(), 1)]);

    let mut cancelled = s.order("web-1");
    cancelled["status"] = json!("cancelled");
    let second = s.post(cancelled).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text);
    let second = second.json();
    assert_eq!(second["id"], id.as_str());
    assert_eq!(second["version"], 2);
    assert_eq!(second["status"], "cancelled");
    assert_eq!(second["created_at"], first["created_at"]);
    assert_eq!(
        s.events().await,
        [
            ("order.created".to_owned(), 1),
            ("order.updated".to_owned(), 2)
        ]
    );

    let current = s
        .app
        .get(&s.uri(&format!("/{id}")), &s.connector)
        .await
        .json();
    assert_eq!(current["version"], 2);

    let history = s
        .app
        .get(&s.uri(&format!("/{id}/versions")), &s.connector)
        .await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.text);
    let history = history.json();
    let versions: Vec<(i64, &str)> = history["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_i64().unwrap(),
                v["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(versions, [(1, "paid"), (2, "cancelled")]);
    assert_eq!(history["data"][0], first, "version 1 is kept as it was");
    assert_eq!(history["next_cursor"], Value::Null);

    // Versions page like every list.
    let page = s
        .app
        .get(&s.uri(&format!("/{id}/versions?limit=1")), &s.connector)
        .await
        .json();
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = s
        .app
        .get(
            &s.uri(&format!("/{id}/versions?limit=1&cursor={cursor}")),
            &s.connector,
        )
        .await
        .json();
    assert_eq!(rest["data"][0]["version"], 2);

    let unknown = s
        .app
        .get(
            &s.uri(&format!("/{}/versions", Uuid::new_v4())),
            &s.connector,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn concurrent_sends_of_one_order_make_one_order_and_never_a_500(pool: PgPool) {
    let s = setup(pool.clone()).await;
    let send = |body: Value| {
        let router = s.app.router.clone();
        let request = Request::post(s.uri(""))
            .header("authorization", format!("Bearer {}", s.vendor))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        tokio::spawn(async move {
            let response = router.oneshot(request).await.unwrap();
            let status = response.status();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            let body: Value = serde_json::from_slice(&bytes).unwrap();
            (status, body)
        })
    };

    // Eight identical sends: one creates, seven find it unchanged.
    let tasks: Vec<_> = (0..8).map(|_| send(s.order("race-1"))).collect();
    let mut statuses = Vec::new();
    let mut ids = BTreeSet::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert!(status.is_success(), "{status}: {body}");
        statuses.push(status);
        ids.insert(body["id"].as_str().unwrap().to_owned());
        assert_eq!(body["version"], 1);
    }
    assert_eq!(ids.len(), 1, "one order, one id");
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1
    );

    // Twenty different sends at once (#15): one order with twenty versions, numbered
    // without a gap or a duplicate, none lost.
    const CHANGES: i64 = 20;
    let tasks: Vec<_> = (0..CHANGES)
        .map(|i| {
            let mut body = s.order("race-2");
            body["number"] = json!(format!("variant-{i}"));
            send(body)
        })
        .collect();
    let mut versions = BTreeSet::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert!(status.is_success(), "{status}: {body}");
        versions.insert(body["version"].as_i64().unwrap());
    }
    assert_eq!(versions, (1..=CHANGES).collect());
    let (orders, stored_versions): (i64, i64) = sqlx::query_as(
        "select (select count(*) from orders where external_id = 'race-2'),
                (select count(*) from order_versions v join orders o on o.id = v.order_id
                  where o.external_id = 'race-2')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((orders, stored_versions), (1, CHANGES));
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn every_search_filter_finds_its_orders_and_pages_follow_the_cursor(pool: PgPool) {
    let s = setup(pool.clone()).await;
    let other_customer = s
        .app
        .post(
            &format!("/v1/companies/{}/customers", s.company),
            &s.vendor,
            json!({"external_id": "c-2", "name": "Piet"}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // a: 14 January 23:30 in Amsterdam (22:30 UTC), open
    // b: 15 January 10:00, paid, other customer
    // c: 16 January 00:30 in Amsterdam, paid, no payment reference
    let mut a = s.order("a");
    a["order_date"] = json!("2026-01-14T22:30:00Z");
    a["status"] = json!("open");
    let mut b = s.order("b");
    b["customer"]["id"] = json!(other_customer);
    let mut c = s.order("c");
    c["order_date"] = json!("2026-01-16T00:30:00+01:00");
    c["payments"][0]["reference"] = Value::Null;
    for body in [a, b, c] {
        let r = s.post(body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let before_update = s.list("").await["data"][2]["updated_at"]
        .as_str()
        .unwrap()
        .to_owned();
    // `b` changes later, so it alone is "updated since".
    let mut b2 = s.order("b");
    b2["customer"]["id"] = json!(other_customer);
    b2["status"] = json!("shipped");
    assert_eq!(s.post(b2).await.status, StatusCode::OK);
    let b_updated = s.list("reference=b").await["data"][0]["updated_at"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(b_updated > before_update);

    assert_eq!(external_ids(&s.list("").await), ["a", "b", "c"]);
    assert_eq!(external_ids(&s.list("number=N-b").await), ["b"]);
    assert_eq!(
        external_ids(&s.list("number=none").await),
        Vec::<String>::new()
    );
    // Bare dates are days in the company's timezone (Europe/Amsterdam).
    assert_eq!(
        external_ids(&s.list("from=2026-01-15&to=2026-01-16").await),
        ["b"]
    );
    assert_eq!(
        external_ids(&s.list("from=2026-01-14&to=2026-01-15").await),
        ["a"]
    );
    assert_eq!(external_ids(&s.list("from=2026-01-16").await), ["c"]);
    assert_eq!(
        external_ids(&s.list("to=2026-01-15T09:30:00%2B00:00").await),
        ["a", "b"]
    );
    let since = b_updated.replace('+', "%2B");
    assert_eq!(
        external_ids(&s.list(&format!("updated_since={since}")).await),
        ["b"]
    );
    assert_eq!(external_ids(&s.list("reference=tr_a").await), ["a"]);
    assert_eq!(external_ids(&s.list("reference=c").await), ["c"]);
    assert_eq!(
        external_ids(&s.list("reference=nothing").await),
        Vec::<String>::new()
    );
    assert_eq!(
        external_ids(&s.list(&format!("customer_id={}", s.customer)).await),
        ["a", "c"]
    );
    assert_eq!(external_ids(&s.list("status=paid").await), ["c"]);
    assert_eq!(external_ids(&s.list("status=open").await), ["a"]);
    assert_eq!(
        external_ids(&s.list("status=paid&from=2026-01-15").await),
        ["c"]
    );

    // A period lists by order date; a page of one at a time walks a, b, c.
    let mut seen = Vec::new();
    let mut query = "from=2026-01-01&limit=1".to_owned();
    loop {
        let page = s.list(&query).await;
        seen.extend(external_ids(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => query = format!("from=2026-01-01&limit=1&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ["a", "b", "c"]);
    // By change time (the default) the updated `b` comes last.
    let page = s.list("limit=2").await;
    let cursor = page["next_cursor"].as_str().unwrap();
    let last = s.list(&format!("limit=2&cursor={cursor}")).await;
    assert_eq!(external_ids(&last), ["b"]);
    assert_eq!(last["next_cursor"], Value::Null);

    for bad in [
        "status=lost",
        "from=yesterday",
        "limit=1001",
        "cursor=nonsense",
        &format!("from=2026-01-01&cursor={cursor}"),
    ] {
        let r = s.app.get(&s.uri(&format!("?{bad}")), &s.connector).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text);
        r.problem();
    }
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_broken_order_is_a_400_listing_every_problem_with_its_pointer(pool: PgPool) {
    let s = setup(pool).await;
    let mut broken = s.order("web-1");
    broken["currency"] = json!("euro");
    broken["lines"][0]["vat"]["amount"] = json!("3.10");
    broken["costs"][0]["vat"] = Value::Null;
    broken["payments"][0]["method_id"] = json!(Uuid::new_v4().to_string());
    broken["credit_of"] = json!("no-such-order");
    let response = s.post(broken).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    let problem = response.problem();
    assert_eq!(problem.code, "invalid_request");
    let found = pointers(problem.errors.as_deref().unwrap());
    for expected in [
        ("/currency", "invalid_currency"),
        ("/credit_of", "unknown_order"),
        ("/lines/0/vat/amount", "vat_amount_mismatch"),
        ("/costs/0/vat", "vat_missing"),
        ("/payments/0/method_id", "unknown_payment_method"),
    ] {
        assert!(
            found.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} not in {found:?}"
        );
    }

    // Dutch messages on request.
    let mut wrong = s.order("web-1");
    wrong["lines"][0]["vat"]["amount"] = json!("3.10");
    let dutch = s
        .app
        .send(
            Request::post(s.uri(""))
                .header("authorization", format!("Bearer {}", s.vendor))
                .header("content-type", "application/json")
                .header("accept-language", "nl")
                .body(Body::from(wrong.to_string()))
                .unwrap(),
        )
        .await;
    let problem = dutch.problem();
    let errors = problem.errors.unwrap();
    assert_eq!(errors[0].pointer, "/lines/0/vat/amount");
    assert!(
        errors[0].message.starts_with("btw is 3.10"),
        "{}",
        errors[0].message
    );

    // A misspelt field is refused with its name, never dropped.
    let mut misspelt = s.order("web-1");
    misspelt["lines"][0]["quantitty"] = json!(2);
    let response = s.post(misspelt).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        pointers(&response.problem().errors.unwrap()),
        [("/lines/0/quantitty".to_owned(), "unknown_field".to_owned())]
    );
    assert_eq!(s.list("").await["data"], json!([]), "nothing was stored");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn an_unknown_field_is_refused_at_every_depth_of_an_order(pool: PgPool) {
    // The OpenAPI document closes every request schema (`additionalProperties: false`);
    // this is the server keeping that promise in each of an order's nested objects.
    let s = setup(pool).await;
    for pointer in [
        "/nickname",
        "/customer/nickname",
        "/customer/billing_address/county",
        "/lines/0/colour",
        "/lines/0/vat/rate",
        "/costs/0/carrier",
        "/payments/0/fee_amount",
        "/totals/total_paid",
    ] {
        let mut order = s.order("web-1");
        let (parent, field) = pointer.rsplit_once('/').unwrap();
        order.pointer_mut(parent).unwrap()[field] = json!("x");
        let response = s.post(order).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{pointer}");
        assert_eq!(
            pointers(&response.problem().errors.unwrap()),
            [(pointer.to_owned(), "unknown_field".to_owned())],
            "{pointer}"
        );
    }
    assert_eq!(s.list("").await["data"], json!([]), "nothing was stored");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn validate_checks_everything_and_stores_nothing(pool: PgPool) {
    let s = setup(pool).await;
    let ok = s
        .app
        .post(&s.uri("/validate"), &s.vendor, s.order("v-1"))
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    let ok = ok.json();
    assert_eq!(ok["valid"], true);
    assert_eq!(ok["totals"]["total_incl_vat"], "17.10");
    assert_eq!(ok["vat_breakdown"][0]["vat"], "2.97");

    let mut broken = s.order("v-1");
    broken["lines"][0]["vat"]["amount"] = json!("3.10");
    let refused = s.app.post(&s.uri("/validate"), &s.vendor, broken).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        pointers(&refused.problem().errors.unwrap()),
        [(
            "/lines/0/vat/amount".to_owned(),
            "vat_amount_mismatch".to_owned()
        )]
    );

    assert_eq!(s.list("").await["data"], json!([]));
    assert_eq!(s.events().await, Vec::<(String, i64)>::new());
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_batch_stores_or_refuses_each_item_on_its_own(pool: PgPool) {
    let s = setup(pool).await;
    let existing = s.post(s.order("b-0")).await.json();
    let mut wrong_vat = s.order("b-2");
    wrong_vat["lines"][0]["vat"]["amount"] = json!("3.10");
    let mut misspelt = s.order("b-3");
    misspelt["nmuber"] = json!("x");
    let mut second_version = s.order("b-1");
    second_version["status"] = json!("shipped");
    let batch = json!({"orders": [
        s.order("b-1"),
        wrong_vat,
        misspelt,
        s.order("b-0"),
        second_version,
    ]});
    let response = s.app.post(&s.uri("/batch"), &s.vendor, batch).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    let data = response.json()["data"].clone();
    let summary: Vec<(i64, bool, Value, Value)> = data
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["index"].as_i64().unwrap(),
                i["success"].as_bool().unwrap(),
                i["version"].clone(),
                i["outcome"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (0, true, json!(1), json!("created")),
            (1, false, Value::Null, Value::Null),
            (2, false, Value::Null, Value::Null),
            (3, true, json!(1), json!("unchanged")),
            (4, true, json!(2), json!("updated")),
        ]
    );
    assert_eq!(data[0]["id"], data[4]["id"], "both items are one order");
    assert_eq!(data[3]["id"], existing["id"]);
    assert_eq!(data[1]["errors"][0]["pointer"], "/lines/0/vat/amount");
    assert_eq!(data[1]["errors"][0]["code"], "vat_amount_mismatch");
    assert_eq!(data[2]["errors"][0]["pointer"], "/nmuber");
    assert_eq!(data[2]["errors"][0]["code"], "unknown_field");

    assert_eq!(external_ids(&s.list("").await), ["b-0", "b-1"]);
    let b1 = s.list("reference=b-1").await;
    assert_eq!(b1["data"][0]["status"], "shipped");
    assert_eq!(
        s.events().await,
        [
            ("order.created".to_owned(), 1),
            ("order.created".to_owned(), 1),
            ("order.updated".to_owned(), 2)
        ]
    );
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_batch_of_a_thousand_is_stored_and_one_more_is_refused(pool: PgPool) {
    let s = setup(pool).await;
    let orders: Vec<Value> = (0..1000)
        .map(|i| s.order(&format!("bulk-{i:04}")))
        .collect();
    let started = std::time::Instant::now();
    let response = s
        .app
        .post(&s.uri("/batch"), &s.vendor, json!({"orders": orders}))
        .await;
    let elapsed = started.elapsed();
    assert_eq!(response.status, StatusCode::OK, "{}", &response.text[..300]);
    let data = response.json()["data"].as_array().unwrap().clone();
    assert_eq!(data.len(), 1000);
    assert!(data.iter().all(|i| i["success"] == true));
    eprintln!("a batch of 1000 orders took {elapsed:?} (debug build)");
    let page = s.list("limit=1000").await;
    assert_eq!(page["data"].as_array().unwrap().len(), 1000);

    let too_many: Vec<Value> = (0..1001).map(|i| s.order(&format!("x-{i}"))).collect();
    let response = s
        .app
        .post(&s.uri("/batch"), &s.vendor, json!({"orders": too_many}))
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        pointers(&response.problem().errors.unwrap()),
        [("/orders".to_owned(), "too_many_items".to_owned())]
    );
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn repeats_of_one_order_in_a_batch_become_its_versions_in_the_order_sent(pool: PgPool) {
    // A batch is written in parts of a few hundred orders, in external-id
    // order; 300 items of one order, between 250 others that sort before it
    // and 50 after, span several parts.
    let s = setup(pool).await;
    let mut items = Vec::new();
    let mut repeats = Vec::new();
    for i in 0..600 {
        if i % 2 == 1 {
            let mut repeat = s.order("m-repeated");
            // Items 101 and 103 are the same content: the second is unchanged.
            let n = if i == 103 { 101 } else { i };
            repeat["number"] = json!(format!("R-{n}"));
            repeats.push((items.len(), n));
            items.push(repeat);
        } else if i < 500 {
            items.push(s.order(&format!("a-{i:03}")));
        } else {
            items.push(s.order(&format!("z-{i:03}")));
        }
    }
    let response = s
        .app
        .post(&s.uri("/batch"), &s.vendor, json!({"orders": items}))
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", &response.text[..300]);
    let data = response.json()["data"].as_array().unwrap().clone();
    assert_eq!(data.len(), 600);
    assert!(data.iter().all(|i| i["success"] == true));
    let indexes: Vec<i64> = data.iter().map(|i| i["index"].as_i64().unwrap()).collect();
    assert_eq!(
        indexes,
        (0..600).collect::<Vec<_>>(),
        "answered in the order sent"
    );

    let id = data[repeats[0].0]["id"].clone();
    let mut expected = 0;
    for (index, n) in &repeats {
        let item = &data[*index];
        assert_eq!(item["id"], id, "item {index} is the same order");
        let outcome = if *n == 101 && expected == 51 {
            "unchanged"
        } else {
            expected += 1;
            if expected == 1 { "created" } else { "updated" }
        };
        assert_eq!(
            (
                item["version"].as_i64().unwrap(),
                item["outcome"].as_str().unwrap()
            ),
            (expected, outcome),
            "item {index}"
        );
    }
    assert_eq!(expected, 299);

    let versions = s
        .app
        .get(
            &s.uri(&format!("/{}/versions?limit=1000", id.as_str().unwrap())),
            &s.connector,
        )
        .await
        .json();
    let numbers: Vec<&str> = versions["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["number"].as_str().unwrap())
        .collect();
    let sent: Vec<String> = repeats
        .iter()
        .filter(|(index, _)| *index != 103)
        .map(|(_, n)| format!("R-{n}"))
        .collect();
    assert_eq!(
        numbers, sent,
        "the versions hold what was sent, in that order"
    );
    assert_eq!(
        s.list("limit=1000").await["data"].as_array().unwrap().len(),
        301
    );
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn concurrent_batches_of_the_same_orders_in_opposite_orders_both_succeed(pool: PgPool) {
    // Each batch locks the heads it writes until it commits, part after part.
    // Were the parts taken in the order sent, the first batch would hold the
    // low ids and wait for the high ones, the second the other way round: a
    // deadlock, which PostgreSQL breaks by failing one of them (a 503).
    let s = setup(pool).await;
    let batch = |status: &str, reversed: bool| {
        let mut orders: Vec<Value> = (0..600)
            .map(|i| {
                let mut order = s.order(&format!("shared-{i:03}"));
                order["status"] = json!(status);
                order
            })
            .collect();
        if reversed {
            orders.reverse();
        }
        json!({"orders": orders})
    };
    let uri = s.uri("/batch");
    for round in 0..3 {
        let (up, down) = tokio::join!(
            s.app.post(&uri, &s.vendor, batch("paid", false)),
            s.app.post(&uri, &s.vendor, batch("shipped", true)),
        );
        for response in [up, down] {
            assert_eq!(
                response.status,
                StatusCode::OK,
                "round {round}: {}",
                &response.text[..response.text.len().min(300)]
            );
            let data = response.json()["data"].as_array().unwrap().clone();
            assert!(data.iter().all(|i| i["success"] == true), "round {round}");
        }
    }
    assert_eq!(
        s.list("limit=1000").await["data"].as_array().unwrap().len(),
        600
    );
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_key_sent_twice_in_a_batch_item_refuses_that_item_as_it_does_a_single_order(
    pool: PgPool,
) {
    // Two values for one field: which one counts would be a guess, and a guess in
    // bookkeeping data is a silent loss. serde_json's Value would keep the last one.
    let s = setup(pool).await;
    let order = s.order("twice").to_string();
    let twice = order.replacen(
        "\"status\":\"paid\"",
        "\"status\":\"paid\",\"status\":\"open\"",
        1,
    );
    assert_ne!(order, twice, "the order has a status to repeat");
    let send = |uri: String, body: String| {
        Request::post(uri)
            .header("authorization", format!("Bearer {}", s.vendor))
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap()
    };
    let single = s.app.send(send(s.uri(""), twice.clone())).await;
    assert_eq!(single.status, StatusCode::BAD_REQUEST, "{}", single.text);
    let batch = format!("{{\"orders\": [{twice}, {}]}}", s.order("once"));
    let response = s.app.send(send(s.uri("/batch"), batch)).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    let data = response.json()["data"].clone();
    assert_eq!(data[0]["success"], false, "{data}");
    assert_eq!(
        data[0]["errors"][0]["code"],
        single.problem().errors.unwrap()[0].code,
        "refused for the same reason as the single order"
    );
    assert_eq!(data[1]["success"], true, "{data}");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn every_amount_of_an_order_has_two_decimals_zeros_too(pool: PgPool) {
    // A free sample: a line of 0.00 at 0% next to the paid one, no discount anywhere.
    let s = setup(pool).await;
    let mut order = s.order("free-sample");
    order["lines"].as_array_mut().unwrap().push(json!({
        "sku": "KOFFIE", "description": "Proefzakje", "quantity": 1, "unit_price": 0,
        "vat": {"percentage": 0, "category": "zero", "amount": 0}, "total_excl_vat": 0
    }));
    let created = s.post(order).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let stored = created.json();
    let read = s
        .app
        .get(
            &s.uri(&format!("/{}", stored["id"].as_str().unwrap())),
            &s.connector,
        )
        .await
        .json();
    let vat_return = s
        .app
        .get(
            &format!(
                "/v1/companies/{}/vat-return?from=2026-01-01&to=2026-04-01",
                s.company
            ),
            &s.connector,
        )
        .await
        .json();
    crate::harness::assert_every_amount_has_cents(&[
        ("the stored order", &stored),
        ("the order read back", &read),
        ("the VAT return", &vat_return),
    ]);
    assert_eq!(read["lines"][1]["total_incl_vat"], "0.00");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_credit_order_names_the_order_it_corrects_and_has_negative_amounts(pool: PgPool) {
    let s = setup(pool).await;
    let original = s.post(s.order("web-1")).await.json();
    let credit = json!({
        "external_id": "credit-1",
        "status": "refunded",
        "order_date": "2026-01-20T12:00:00+01:00",
        "currency": "EUR",
        "prices_include_vat": false,
        // The vendor may name the order by its own id.
        "credit_of": "web-1",
        "lines": [{
            "sku": "KOFFIE", "quantity": -1, "unit_price": "5.00",
            "vat": {"percentage": "21", "category": "standard", "amount": "-1.05"},
            "total_excl_vat": "-5.00"
        }],
        "payments": [{"method_id": s.ideal, "amount": "-6.05", "reference": "re_1"}]
    });
    let response = s.post(credit).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    let credit = response.json();
    assert_eq!(credit["credit_of"], original["id"]);
    assert_eq!(credit["totals"]["total_incl_vat"], "-6.05");
    assert_eq!(credit["vat_breakdown"][0]["vat"], "-1.05");

    // By our id, with its amounts as numbers, it is the same order: the
    // resend changes nothing.
    let by_id = json!({
        "external_id": "credit-1", "status": "refunded",
        "order_date": "2026-01-20T12:00:00+01:00", "currency": "EUR",
        "prices_include_vat": false, "credit_of": original["id"],
        "lines": [{"sku": "KOFFIE", "quantity": "-1", "unit_price": 5,
                   "vat": {"percentage": 21, "category": "standard", "amount": -1.05},
                   "total_excl_vat": -5}],
        "payments": [{"method_id": s.ideal, "amount": -6.05, "reference": "re_1"}]
    });
    let again = s.post(by_id).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.json()["version"], 1);

    // A negative order without credit_of is refused.
    let mut negative = s.order("neg");
    negative["lines"][0]["quantity"] = json!(-2);
    negative["lines"][0]["vat"]["amount"] = json!("-2.10");
    negative["lines"][0]["total_excl_vat"] = json!("-10.00");
    negative["costs"] = json!([]);
    negative["payments"] = json!([]);
    negative["totals"] = Value::Null;
    let refused = s.post(negative).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        pointers(&refused.problem().errors.unwrap()),
        [(
            "/credit_of".to_owned(),
            "negative_total_without_credit_of".to_owned()
        )]
    );
}

/// Mollie's example order (`crates/koppel-domain/tests/data/mollie_order_single_with_embeds.json`,
/// its source in `SOURCE.md` there), mapped to Koppel's JSON the way the domain test maps it to
/// a draft.
fn mollie(s: &Setup) -> (Value, Value) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../koppel-domain/tests/data/mollie_order_single_with_embeds.json"
    );
    let m: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let lines: Vec<Value> = m["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let mut line = json!({
                "sku": l["sku"],
                "description": l["name"],
                "quantity": l["quantity"],
                "unit_price": l["unitPrice"]["value"],
                "vat": {"percentage": l["vatRate"], "category": "standard",
                        "amount": l["vatAmount"]["value"]},
                "total_incl_vat": l["totalAmount"]["value"],
                "category_id": s.toys,
            });
            if let Some(discount) = l.get("discountAmount") {
                line["discount"] = discount["value"].clone();
            }
            line
        })
        .collect();
    let billing = &m["billingAddress"];
    let payment = &m["_embedded"]["payments"][0];
    let order = json!({
        "external_id": m["id"],
        "number": m["orderNumber"],
        "status": "open",
        "order_date": m["createdAt"],
        "currency": m["amount"]["currency"],
        "prices_include_vat": true,
        "customer": {
            "name": format!("{} {}", billing["givenName"].as_str().unwrap(),
                            billing["familyName"].as_str().unwrap()),
            "company_name": billing["organizationName"],
            "email": billing["email"],
            "billing_address": {"postal_code": billing["postalCode"], "city": billing["city"],
                                "country": billing["country"].as_str().unwrap().to_uppercase()},
        },
        "lines": lines,
        "payments": [{"method_id": s.ideal, "amount": payment["amount"]["value"],
                      "reference": payment["id"], "paid_at": payment["createdAt"]}],
        "totals": {"total_incl_vat": m["amount"]["value"]},
    });
    (m, order)
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn mollies_example_order_is_accepted_with_its_own_totals_and_vat(pool: PgPool) {
    let s = setup(pool).await;
    let (m, order) = mollie(&s);
    let response = s.post(order).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    let stored = response.json();
    assert_eq!(stored["totals"]["total_incl_vat"], m["amount"]["value"]);
    assert_eq!(
        stored["totals"],
        json!({"total_excl_vat": "849.58", "total_vat": "178.41", "total_incl_vat": "1027.99"})
    );
    assert_eq!(
        stored["vat_breakdown"],
        json!([{"category": "standard", "percentage": "21", "country": "NL",
                "base": "849.58", "vat": "178.41"}])
    );
    for (line, sent) in stored["lines"]
        .as_array()
        .unwrap()
        .iter()
        .zip(m["lines"].as_array().unwrap())
    {
        assert_eq!(line["vat"]["amount"], sent["vatAmount"]["value"]);
        assert_eq!(line["total_incl_vat"], sent["totalAmount"]["value"]);
    }
    assert_eq!(stored["lines"][0]["total_excl_vat"], "576.86");
    assert_eq!(stored["payments"][0]["reference"], "tr_ncaPcAhuUV");
    let found = s.list("reference=tr_ncaPcAhuUV").await;
    assert_eq!(external_ids(&found), ["ord_kEn1PlbGa"]);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn an_order_of_skus_no_product_has_is_accepted_and_linked_once_the_product_exists(
    pool: PgPool,
) {
    // A shop that never pushed its LEGO products: the order is booked all the same.
    let s = setup_with_products(pool, &[]).await;
    let (_, order) = mollie(&s);
    let response = s.post(order).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    let stored = response.json();
    let id = stored["id"].as_str().unwrap().to_owned();
    assert_eq!(stored["lines"][0]["sku"], "5702016116977");
    assert_eq!(stored["lines"][0]["product_id"], Value::Null);

    // The product is pushed later: every read now names it, the order is unchanged.
    let product = s
        .app
        .post(
            &format!("/v1/companies/{}/products", s.company),
            &s.vendor,
            json!({"external_id": "bugatti", "sku": "5702016116977",
                   "name": "LEGO 42083 Bugatti Chiron"}),
        )
        .await;
    assert_eq!(product.status, StatusCode::CREATED, "{}", product.text);
    let product_id = product.json()["id"].clone();
    let read = s
        .app
        .get(&s.uri(&format!("/{id}")), &s.connector)
        .await
        .json();
    assert_eq!(read["lines"][0]["product_id"], product_id);
    assert_eq!(
        read["lines"][1]["product_id"],
        Value::Null,
        "no product has this SKU"
    );
    assert_eq!(read["version"], stored["version"]);
    let listed = s.list("number=18475").await;
    assert_eq!(listed["data"][0]["lines"][0]["product_id"], product_id);
    let versions = s
        .app
        .get(&s.uri(&format!("/{id}/versions")), &s.connector)
        .await
        .json();
    assert_eq!(versions["data"][0]["lines"][0]["product_id"], product_id);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn an_order_names_its_payment_method_customer_and_category_by_the_vendors_own_ids(
    pool: PgPool,
) {
    let s = setup(pool).await;
    let mut order = s.order("by-external-id");
    order["customer"] = json!({"external_id": "c-1", "name": "Jan Jansen"});
    order["lines"][0]
        .as_object_mut()
        .unwrap()
        .remove("category_id");
    order["lines"][0]["category_external_id"] = json!("toys");
    order["payments"][0]
        .as_object_mut()
        .unwrap()
        .remove("method_id");
    order["payments"][0]["method_external_id"] = json!("ideal");
    let response = s.post(order.clone()).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    let stored = response.json();
    // Answers carry both ids.
    assert_eq!(stored["customer"]["id"], s.customer);
    assert_eq!(stored["customer"]["external_id"], "c-1");
    assert_eq!(stored["lines"][0]["category_id"], s.toys);
    assert_eq!(stored["lines"][0]["category_external_id"], "toys");
    assert_eq!(stored["payments"][0]["method_id"], s.ideal);
    assert_eq!(stored["payments"][0]["method_external_id"], "ideal");
    // Sending the same order by our ids is the same content: no new version.
    let mut by_ids = s.order("by-external-id");
    by_ids["customer"] = json!({"id": s.customer, "name": "Jan Jansen"});
    let again = s.post(by_ids).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.json()["version"], 1);

    // Unknown external ids, and an id and external id naming different resources: 400s at
    // the external id's pointer.
    let mut wrong = order.clone();
    wrong["external_id"] = json!("wrong-refs");
    wrong["payments"][0]["method_external_id"] = json!("bitcoin");
    wrong["lines"][0]["category_id"] = json!(s.toys);
    wrong["lines"][0]["category_external_id"] = json!("toys");
    wrong["customer"]["id"] = json!(Uuid::new_v4().to_string());
    let refused = s.post(wrong).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let mut found: Vec<(String, String)> = refused
        .problem()
        .errors
        .unwrap()
        .into_iter()
        .map(|e| (e.pointer, e.code))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            (
                "/customer/external_id".to_owned(),
                "reference_mismatch".to_owned()
            ),
            ("/customer/id".to_owned(), "unknown_customer".to_owned()),
            (
                "/payments/0/method_external_id".to_owned(),
                "unknown_payment_method".to_owned()
            ),
        ]
    );
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_pending_payment_counts_once_it_is_paid_and_the_balance_follows(pool: PgPool) {
    let s = setup(pool).await;
    let mut order = s.order("ideal-pending");
    order["status"] = json!("open");
    order["payments"][0]["status"] = json!("pending");
    order["payments"][0]["provider"] = json!("mollie");
    order["payments"][0]["provider_reference"] = json!("tr_pending1");
    let first = s.post(order.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let first = first.json();
    assert_eq!(first["payments"][0]["status"], "pending");
    assert_eq!(first["amount_paid"], "0.00");
    assert_eq!(first["balance_due"], "17.10");

    // The buyer confirms: the same payment, now paid, with the payout that settles it and
    // Mollie's fee of 0.29 plus 21% VAT.
    order["status"] = json!("paid");
    order["payments"][0]["status"] = json!("paid");
    order["payments"][0]["payout_reference"] = json!("stl_1");
    order["payments"][0]["fee"] = json!({"amount_excl_vat": "0.29",
        "vat": {"percentage": "21", "category": "standard", "amount": "0.06"}});
    let mut wrong_fee = order.clone();
    wrong_fee["payments"][0]["fee"]["vat"]["amount"] = json!("0.60");
    let refused = s.post(wrong_fee).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(
        pointers(&refused.problem().errors.unwrap()),
        [(
            "/payments/0/fee/vat/amount".to_owned(),
            "vat_amount_mismatch".to_owned()
        )]
    );
    let second = s.post(order).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text);
    let second = second.json();
    assert_eq!(second["version"], 2);
    assert_eq!(second["amount_paid"], "17.10");
    assert_eq!(second["balance_due"], "0.00");
    assert_eq!(second["payments"][0]["provider"], "mollie");
    assert_eq!(second["payments"][0]["payout_reference"], "stl_1");
    let fee = &second["payments"][0]["fee"];
    assert_eq!(
        (
            &fee["amount_excl_vat"],
            &fee["vat"]["amount"],
            &fee["amount_incl_vat"]
        ),
        (&json!("0.29"), &json!("0.06"), &json!("0.35"))
    );
    // A fee is a purchase: the order's sales figures are those of the first version.
    assert_eq!(second["totals"], first["totals"]);
    assert_eq!(second["vat_breakdown"], first["vat_breakdown"]);
    assert_eq!(first["payments"][0]["fee"], Value::Null);
    // The provider's transaction id finds the order.
    let found = s.list("reference=tr_pending1").await;
    assert_eq!(external_ids(&found), ["ideal-pending"]);
    // An old-style payment (no status) is paid, as before.
    let plain = s.post(s.order("plain")).await.json();
    assert_eq!(plain["payments"][0]["status"], "paid");
    assert_eq!(plain["balance_due"], "0.00");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn an_unknown_payment_status_is_a_400_at_its_pointer(pool: PgPool) {
    let s = setup(pool).await;
    let mut order = s.order("odd-status");
    order["payments"][0]["status"] = json!("settled");
    let response = s.post(order).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    let errors = response.problem().errors.unwrap();
    assert_eq!(errors[0].pointer, "/payments/0/status", "{errors:?}");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn an_order_invoiced_in_the_next_quarter_lands_in_that_quarters_vat_return(pool: PgPool) {
    let s = setup(pool).await;
    let order = |id: &str, date: &str, excl: &str, vat: &str| {
        json!({
            "external_id": id, "status": "open", "order_date": date, "currency": "EUR",
            "prices_include_vat": false,
            "lines": [{"sku": "KOFFIE", "quantity": 1, "unit_price": excl, "total_excl_vat": excl,
                       "vat": {"percentage": 21, "category": "standard", "amount": vat}}]
        })
    };
    let mut invoiced = order(
        "march-order",
        "2026-03-30T10:00:00+02:00",
        "100.00",
        "21.00",
    );
    invoiced["invoice_number"] = json!("F2026-0042");
    invoiced["invoice_date"] = json!("2026-04-02");
    invoiced["due_date"] = json!("2026-04-16");
    invoiced["channel"] = json!("marketplace");
    invoiced["marketplace"] = json!("bol");
    invoiced["marketplace_order_id"] = json!("A2K8F9XJ4M");
    let stored = s.post(invoiced).await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.text);
    let stored = stored.json();
    assert_eq!(stored["invoice_date"], "2026-04-02");
    assert_eq!(stored["channel"], "marketplace");
    let plain = s
        .post(order(
            "february",
            "2026-02-01T10:00:00+01:00",
            "10.00",
            "2.10",
        ))
        .await;
    assert_eq!(plain.status, StatusCode::CREATED, "{}", plain.text);

    let box_1a = |quarter: &'static str| {
        let uri = format!("/v1/companies/{}/vat-return?{quarter}", s.company);
        let app = &s.app;
        let connector = s.connector.clone();
        async move {
            let answer = app.get(&uri, &connector).await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
            let answer = answer.json();
            (
                answer["boxes"]["1a"]["base"].clone(),
                answer["boxes"]["1a"]["vat"].clone(),
            )
        }
    };
    // Placed in March, invoiced in April: the second quarter's supply.
    assert_eq!(
        box_1a("from=2026-01-01&to=2026-04-01").await,
        (json!("10.00"), json!("2.10"))
    );
    assert_eq!(
        box_1a("from=2026-04-01&to=2026-07-01").await,
        (json!("100.00"), json!("21.00"))
    );
    // The marketplace's order id finds it.
    let found = s.list("reference=A2K8F9XJ4M").await;
    assert_eq!(external_ids(&found), ["march-order"]);

    // A due date before the invoice date is a mistake.
    let mut wrong = order("wrong-dates", "2026-03-30T10:00:00+02:00", "1.00", "0.21");
    wrong["invoice_date"] = json!("2026-04-02");
    wrong["due_date"] = json!("2026-04-01");
    let refused = s.post(wrong).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.problem().errors.unwrap()[0].code,
        "due_before_invoice"
    );
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn an_order_refunded_in_full_counts_zero_and_a_partial_refund_counts_both_ways(pool: PgPool) {
    let s = setup(pool).await;
    let order = |id: &str, status: &str, qty: i32, excl: &str, vat: &str| {
        json!({
            "external_id": id, "status": status, "order_date": "2026-02-10T10:00:00+01:00",
            "currency": "EUR", "prices_include_vat": false,
            "lines": [{"sku": "KOFFIE", "quantity": qty, "unit_price": "100.00",
                       "total_excl_vat": excl,
                       "vat": {"percentage": 21, "category": "standard", "amount": vat}}]
        })
    };
    // Refunded in full, no credit order: its figures and its refund cancel.
    let full = s
        .post(order("refunded-full", "refunded", 1, "100.00", "21.00"))
        .await;
    assert_eq!(full.status, StatusCode::CREATED, "{}", full.text);
    // Two sold, one sent back: the order counts 200.00, its credit order -100.00.
    let partial = s
        .post(order("refunded-part", "completed", 2, "200.00", "42.00"))
        .await;
    assert_eq!(partial.status, StatusCode::CREATED, "{}", partial.text);
    let mut credit = order("credit-part", "refunded", -1, "-100.00", "-21.00");
    credit["credit_of"] = json!("refunded-part");
    let credit = s.post(credit).await;
    assert_eq!(credit.status, StatusCode::CREATED, "{}", credit.text);

    let answer = s
        .app
        .get(
            &format!(
                "/v1/companies/{}/vat-return?from=2026-01-01&to=2026-04-01",
                s.company
            ),
            &s.connector,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let answer = answer.json();
    // By hand: 200.00 − 100.00 = 100.00 base, 42.00 − 21.00 = 21.00 VAT; the full refund 0.
    assert_eq!(answer["boxes"]["1a"]["base"], "100.00");
    assert_eq!(answer["boxes"]["1a"]["vat"], "21.00");
}

// ------------------------------------------------ the documented request schema

/// Resolves `$ref`s and the `oneOf`/type lists utoipa makes of optional fields.
fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.rsplit('/').next().unwrap();
        return resolve(spec, &spec["components"]["schemas"][name]);
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(items) = schema.get(key).and_then(Value::as_array)
            && let Some(item) = items.iter().find(|i| i.get("type") != Some(&json!("null")))
        {
            return resolve(spec, item);
        }
    }
    schema
}

/// An example value holding every property the schema documents.
fn example(spec: &Value, schema: &Value) -> Value {
    let schema = resolve(spec, schema);
    if let Some(example) = schema.get("example") {
        return example.clone();
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return values[0].clone();
    }
    let kind = match &schema["type"] {
        Value::Array(kinds) => kinds
            .iter()
            .find(|k| *k != "null")
            .and_then(Value::as_str)
            .unwrap_or("object"),
        Value::String(kind) => kind.as_str(),
        _ => "object",
    };
    match kind {
        "object" => Value::Object(
            schema["properties"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(name, property)| (name.clone(), example(spec, property)))
                .collect(),
        ),
        "array" => json!([example(spec, &schema["items"])]),
        "boolean" => json!(true),
        "integer" | "number" => json!(1),
        _ if schema.get("format") == Some(&json!("date-time")) => {
            json!("2026-01-15T10:00:00+01:00")
        }
        _ if schema.get("format") == Some(&json!("date")) => json!("2026-01-15"),
        _ => json!("x"),
    }
}

fn keys(value: &Value, path: &str, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let here = format!("{path}/{key}");
                out.insert(here.clone());
                keys(inner, &here, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                keys(item, &format!("{path}/*"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn the_documented_order_schema_and_the_accepted_fields_agree() {
    let spec = serde_json::to_value(koppel_api::openapi()).unwrap();
    let input = json!({"$ref": "#/components/schemas/OrderInput"});

    // Every documented property is accepted: an example holding all of them
    // parses into the domain's draft, which refuses unknown fields.
    let documented = example(&spec, &input);
    let parsed: OrderDraft = serde_json::from_value(documented.clone())
        .unwrap_or_else(|e| panic!("the documented example does not parse: {e}\n{documented:#}"));
    assert!(!parsed.lines.is_empty());
    let mut documented_keys = BTreeSet::new();
    keys(&documented, "", &mut documented_keys);

    // Every field the draft accepts is documented: a draft with every field
    // set, written out, has no key the schema lacks.
    let vat = Some(VatDraft {
        rate_external_id: Some("x".to_owned()),
        rate_id: Some("r".to_owned()),
        percentage: Some(1.into()),
        category: Some(VatCategory::Exempt),
        country: Some("NL".to_owned()),
        amount: Some(1.into()),
        exemption_reason: Some("x".to_owned()),
    });
    let address = Some(AddressDraft {
        street: Some("x".to_owned()),
        house_number: Some("x".to_owned()),
        house_number_addition: Some("x".to_owned()),
        postal_code: Some("x".to_owned()),
        city: Some("x".to_owned()),
        country: Some("NL".to_owned()),
    });
    let full = OrderDraft {
        external_id: Some("x".to_owned()),
        number: Some("x".to_owned()),
        status: Some(OrderStatus::Open),
        order_date: Some(
            chrono::DateTime::parse_from_rfc3339("2026-01-15T10:00:00+01:00").unwrap(),
        ),
        currency: Some("EUR".to_owned()),
        prices_include_vat: Some(true),
        customer: Some(CustomerDraft {
            id: Some("x".to_owned()),
            external_id: Some("x".to_owned()),
            name: Some("x".to_owned()),
            company_name: Some("x".to_owned()),
            email: Some("x".to_owned()),
            phone: Some("x".to_owned()),
            vat_number: Some("x".to_owned()),
            coc_number: Some("x".to_owned()),
            billing_address: address.clone(),
            shipping_address: address,
        }),
        lines: vec![LineDraft {
            product_external_id: Some("x".to_owned()),
            product_id: Some("x".to_owned()),
            sku: Some("x".to_owned()),
            description: Some("x".to_owned()),
            quantity: Some(1.into()),
            unit_price: Some(1.into()),
            discount: Some(1.into()),
            vat: vat.clone(),
            total_excl_vat: Some(1.into()),
            total_incl_vat: Some(1.into()),
            category_id: Some("x".to_owned()),
            category_external_id: Some("x".to_owned()),
            purchase_price: Some(1.into()),
            kind: Some(koppel_domain::order::LineKind::ServiceCharge),
            unit: Some("x".to_owned()),
            parent_line: Some(0),
            discount_code: Some("x".to_owned()),
            discount_name: Some("x".to_owned()),
        }],
        costs: vec![CostDraft {
            kind: Some(CostKind::Shipping),
            description: Some("x".to_owned()),
            amount_excl_vat: Some(1.into()),
            vat: vat.clone(),
            amount_incl_vat: Some(1.into()),
        }],
        payments: vec![PaymentDraft {
            method_id: Some("x".to_owned()),
            status: Some(koppel_domain::order::PaymentStatus::Pending),
            provider: Some("x".to_owned()),
            provider_reference: Some("x".to_owned()),
            payout_reference: Some("x".to_owned()),
            method_external_id: Some("x".to_owned()),
            amount: Some(1.into()),
            reference: Some("x".to_owned()),
            paid_at: Some(
                chrono::DateTime::parse_from_rfc3339("2026-01-15T10:00:00+01:00").unwrap(),
            ),
            fee: Some(koppel_domain::order::FeeDraft {
                amount_excl_vat: Some(1.into()),
                vat,
                amount_incl_vat: Some(1.into()),
            }),
        }],
        totals: Some(TotalsDraft {
            total_excl_vat: Some(1.into()),
            total_vat: Some(1.into()),
            total_incl_vat: Some(1.into()),
        }),
        credit_of: Some("x".to_owned()),
        credit_of_external_id: Some("x".to_owned()),
        invoice_number: Some("x".to_owned()),
        invoice_date: Some(chrono::NaiveDate::from_ymd_opt(2026, 1, 15).unwrap()),
        due_date: Some(chrono::NaiveDate::from_ymd_opt(2026, 1, 29).unwrap()),
        delivery_date: Some(chrono::NaiveDate::from_ymd_opt(2026, 1, 16).unwrap()),
        channel: Some(koppel_domain::order::Channel::Marketplace),
        marketplace: Some("x".to_owned()),
        marketplace_order_id: Some("x".to_owned()),
        exchange_rate: Some(1.into()),
        exchange_rate_date: Some(chrono::NaiveDate::from_ymd_opt(2026, 1, 15).unwrap()),
    };
    let mut accepted_keys = BTreeSet::new();
    keys(
        &serde_json::to_value(&full).unwrap(),
        "",
        &mut accepted_keys,
    );
    assert_eq!(accepted_keys, documented_keys);

    // The batch body is documented as the orders it holds.
    let batch = example(
        &spec,
        &json!({"$ref": "#/components/schemas/OrderBatchInput"}),
    );
    assert_eq!(
        batch.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["orders"]
    );
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_second_hand_phone_under_the_margin_scheme_is_stored_and_reported_on_its_margin(
    pool: PgPool,
) {
    // Bought for 150.00, sold for 242.00 including 21%: VAT 15.97 on the margin of 92.00.
    let s = setup_with_products(pool, &[]).await;
    let phone = |vat_amount: &str| {
        json!({
            "external_id": "refurb-1", "number": "R-1", "status": "paid",
            "order_date": "2026-03-10T12:00:00+01:00", "currency": "EUR",
            "prices_include_vat": true,
            "lines": [{"sku": "IPHONE-12-REFURB", "description": "iPhone 12, refurbished",
                       "quantity": 1, "unit_price": "242.00", "total_incl_vat": "242.00",
                       "purchase_price": "150.00",
                       "vat": {"percentage": "21", "category": "margin", "amount": vat_amount}}]
        })
    };
    // The VAT of the whole price, as if it were an ordinary sale, is refused.
    let wrong = s.post(phone("42.00")).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.text);
    assert_eq!(
        pointers(&wrong.problem().errors.unwrap()),
        [(
            "/lines/0/vat/amount".to_owned(),
            "vat_amount_mismatch".to_owned()
        )]
    );

    let stored = s.post(phone("15.97")).await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.text);
    let id = stored.json()["id"].as_str().unwrap().to_owned();
    let read = s
        .app
        .get(&s.uri(&format!("/{id}")), &s.connector)
        .await
        .json();
    assert_eq!(read["lines"][0]["purchase_price"], "150.00");
    assert_eq!(read["lines"][0]["total_excl_vat"], "226.03");
    assert_eq!(
        read["vat_breakdown"],
        json!([{"category": "margin", "percentage": "21", "country": "NL",
                "base": "76.03", "vat": "15.97"}])
    );
    let answer = s
        .app
        .get(
            &format!(
                "/v1/companies/{}/vat-return?from=2026-01-01&to=2026-04-01",
                s.company
            ),
            &s.connector,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let answer = answer.json();
    assert_eq!(
        (
            answer["boxes"]["1a"]["base"].clone(),
            answer["boxes"]["1a"]["vat"].clone()
        ),
        (json!("76.03"), json!("15.97"))
    );
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn an_order_in_pounds_needs_a_rate_and_is_reported_in_euros(pool: PgPool) {
    let s = setup_with_products(pool, &[]).await;
    let pounds = json!({
        "external_id": "uk-1", "number": "UK-1", "status": "paid",
        "order_date": "2026-03-10T12:00:00+00:00", "currency": "GBP",
        "prices_include_vat": false,
        "lines": [{"sku": "TEA", "description": "Tea", "quantity": 4, "unit_price": "25.00",
                   "total_excl_vat": "100.00",
                   "vat": {"percentage": "21", "category": "standard", "amount": "21.00"}}]
    });
    let refused = s.post(pounds.clone()).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(
        pointers(&refused.problem().errors.unwrap()),
        [
            (
                "/exchange_rate".to_owned(),
                "exchange_rate_required".to_owned()
            ),
            ("/exchange_rate_date".to_owned(), "missing_field".to_owned())
        ]
    );

    let mut with_rate = pounds;
    with_rate["exchange_rate"] = json!("1.1702");
    with_rate["exchange_rate_date"] = json!("2026-03-10");
    let stored = s.post(with_rate).await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.text);
    let id = stored.json()["id"].as_str().unwrap().to_owned();
    let read = s
        .app
        .get(&s.uri(&format!("/{id}")), &s.connector)
        .await
        .json();
    assert_eq!(read["exchange_rate"], "1.1702");
    assert_eq!(read["exchange_rate_date"], "2026-03-10");
    assert_eq!(read["totals"]["total_incl_vat"], "121.00");
    assert_eq!(
        read["totals_company_currency"],
        json!({"total_excl_vat": "117.02", "total_vat": "24.57", "total_incl_vat": "141.59"})
    );
    assert_eq!(
        read["vat_breakdown_company_currency"],
        json!([{"category": "standard", "percentage": "21", "country": "NL",
                "base": "117.02", "vat": "24.57"}])
    );
    let answer = s
        .app
        .get(
            &format!(
                "/v1/companies/{}/vat-return?from=2026-01-01&to=2026-04-01",
                s.company
            ),
            &s.connector,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let answer = answer.json();
    assert_eq!(
        (
            answer["boxes"]["1a"]["base"].clone(),
            answer["boxes"]["1a"]["vat"].clone()
        ),
        (json!("117.02"), json!("24.57"))
    );
    assert_eq!(answer["sources"]["orders"], 1);
    assert_eq!(answer["sources"]["other_currency"], 0);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn line_detail_is_stored_and_read_back(pool: PgPool) {
    let s = setup(pool).await;
    let mut order = s.order("bundle-1");
    order["lines"][0]["unit"] = json!("kg");
    order["lines"][0]["discount_code"] = json!("PASEN10");
    order["lines"][0]["discount_name"] = json!("Paaskorting");
    order["lines"][0]["kind"] = json!("service_charge");
    let mut part = order["lines"][0].clone();
    part["parent_line"] = json!(0);
    part["kind"] = json!("sale");
    part["unit_price"] = json!("0.00");
    part["total_excl_vat"] = json!("0.00");
    part["vat"] = json!({"percentage": "21", "category": "standard", "amount": "0.00"});
    order["lines"].as_array_mut().unwrap().push(part);
    let stored = s.post(order).await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.text);
    let id = stored.json()["id"].as_str().unwrap().to_owned();
    let read = s
        .app
        .get(&s.uri(&format!("/{id}")), &s.connector)
        .await
        .json();
    let lines = &read["lines"];
    assert_eq!(
        (
            &lines[0]["kind"],
            &lines[0]["unit"],
            &lines[0]["discount_code"],
            &lines[0]["discount_name"],
            &lines[0]["parent_line"]
        ),
        (
            &json!("service_charge"),
            &json!("kg"),
            &json!("PASEN10"),
            &json!("Paaskorting"),
            &Value::Null
        )
    );
    assert_eq!(
        (&lines[1]["kind"], &lines[1]["parent_line"]),
        (&json!("sale"), &json!(0))
    );
    // An order sent before line detail existed is unchanged by it: a resend is no new version.
    let plain = s.post(s.order("plain-1")).await.json();
    assert_eq!(plain["lines"][0]["kind"], "sale");
    let again = s.post(s.order("plain-1")).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["version"], 1);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn products_and_vat_rates_can_be_named_by_the_vendors_own_ids(pool: PgPool) {
    // The default rates have external ids (`nl-standard`), the products theirs (the SKU here).
    let s = setup(pool).await;
    let mut order = s.order("by-external-ids");
    order["lines"][0] = json!({
        "product_external_id": "KOFFIE", "description": "Koffiebonen", "quantity": 2,
        "unit_price": "5.00", "total_excl_vat": "10.00",
        "vat": {"rate_external_id": "nl-standard", "amount": "2.10"}});
    order["costs"][0]["vat"] = json!({"rate_external_id": "nl-standard", "amount": "0.87"});
    let stored = s.post(order.clone()).await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.text);
    let stored = stored.json();
    let line = &stored["lines"][0];
    assert!(line["product_id"].is_string(), "{line}");
    assert_eq!(line["product_external_id"], "KOFFIE");
    assert_eq!(line["vat"]["rate_id"], json!(s.standard));
    assert_eq!(line["vat"]["rate_external_id"], "nl-standard");
    assert_eq!(stored["costs"][0]["vat"]["rate_external_id"], "nl-standard");

    // Unknown, or disagreeing with the id sent beside it: a 400 at the pointer.
    let mut unknown = order.clone();
    unknown["external_id"] = json!("unknown-refs");
    unknown["lines"][0]["product_external_id"] = json!("NO-SUCH");
    unknown["lines"][0]["vat"]["rate_external_id"] = json!("no-such-rate");
    let refused = s.post(unknown).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    let mut found = pointers(&refused.problem().errors.unwrap());
    found.sort();
    assert_eq!(
        found,
        [
            (
                "/lines/0/product_external_id".to_owned(),
                "unknown_product".to_owned()
            ),
            (
                "/lines/0/vat/rate_external_id".to_owned(),
                "unknown_vat_rate".to_owned()
            )
        ]
    );
    let mut mismatch = order;
    mismatch["external_id"] = json!("mismatch");
    mismatch["lines"][0]["vat"]["rate_id"] = json!(s.standard);
    mismatch["lines"][0]["vat"]["rate_external_id"] = json!("nl-reduced");
    let refused = s.post(mismatch).await;
    assert_eq!(
        pointers(&refused.problem().errors.unwrap()),
        [(
            "/lines/0/vat/rate_external_id".to_owned(),
            "reference_mismatch".to_owned()
        )]
    );
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_credit_order_names_the_order_it_corrects_by_the_vendors_own_id(pool: PgPool) {
    let s = setup(pool).await;
    let original = s.post(s.order("web-1")).await;
    assert_eq!(original.status, StatusCode::CREATED, "{}", original.text);
    let original_id = original.json()["id"].clone();

    let mut credit = s.order("web-1-credit");
    credit["credit_of_external_id"] = json!("web-1");
    credit["status"] = json!("refunded");
    credit["lines"][0]["quantity"] = json!(-2);
    credit["lines"][0]["total_excl_vat"] = json!("-10.00");
    credit["lines"][0]["vat"]["amount"] = json!("-2.10");
    credit["costs"] = json!([]);
    credit["payments"][0]["amount"] = json!("-12.10");
    credit["totals"] = json!({"total_incl_vat": "-12.10"});
    let stored = s.post(credit.clone()).await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.text);
    let stored = stored.json();
    assert_eq!(stored["credit_of"], original_id);
    assert_eq!(stored["credit_of_external_id"], "web-1");

    let mut unknown = credit.clone();
    unknown["external_id"] = json!("web-2-credit");
    unknown["credit_of_external_id"] = json!("web-404");
    let refused = s.post(unknown).await;
    assert_eq!(
        pointers(&refused.problem().errors.unwrap()),
        [(
            "/credit_of_external_id".to_owned(),
            "unknown_order".to_owned()
        )]
    );
    let other = s.post(s.order("web-3")).await.json();
    let mut mismatch = credit;
    mismatch["external_id"] = json!("web-3-credit");
    mismatch["credit_of"] = other["id"].clone();
    let refused = s.post(mismatch).await;
    assert_eq!(
        pointers(&refused.problem().errors.unwrap()),
        [(
            "/credit_of_external_id".to_owned(),
            "reference_mismatch".to_owned()
        )]
    );
}
