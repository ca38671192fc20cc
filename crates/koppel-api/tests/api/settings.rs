//! VAT rates, payment methods and categories: upserts by external id, lists,
//! exact percentages, and the events they write.

use axum::http::StatusCode;
use koppel_api::auth::scopes::ClientKind;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::harness::TestApp;

struct Setup {
    app: TestApp,
    company: Uuid,
    vendor: String,
    connector: String,
}

async fn setup(pool: PgPool) -> Setup {
    let app = TestApp::new(pool);
    let company = app.company("Instellingen B.V.").await;
    let vendor = app.client(ClientKind::Vendor, &[company]).await;
    let connector = app.client(ClientKind::Connector, &[company]).await;
    let vendor = app.token(&vendor).await;
    let connector = app.token(&connector).await;
    Setup {
        app,
        company,
        vendor,
        connector,
    }
}

fn ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["external_id"].as_str().unwrap().to_owned())
        .collect()
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_new_company_starts_with_the_dutch_vat_rates(pool: PgPool) {
    let s = setup(pool).await;
    let list = s
        .app
        .get(
            &format!("/v1/companies/{}/vat-rates", s.company),
            &s.connector,
        )
        .await;
    assert_eq!(list.status, StatusCode::OK);
    let list = list.json();
    let mut external = ids(&list);
    external.sort();
    assert_eq!(
        external,
        [
            "nl-exempt",
            "nl-export",
            "nl-intra-eu",
            "nl-reduced",
            "nl-reverse-charge",
            "nl-standard",
            "nl-zero"
        ]
    );
    let standard = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["external_id"] == "nl-standard")
        .unwrap();
    assert_eq!(standard["percentage"], "21");
    assert_eq!(standard["category"], "standard");
    assert_eq!(standard["country"], "NL");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn an_upsert_creates_then_updates_under_the_same_id_and_an_identical_resend_changes_nothing(
    pool: PgPool,
) {
    let s = setup(pool).await;
    let uri = format!("/v1/companies/{}/vat-rates", s.company);
    let body =
        json!({"external_id": "hoog", "name": "Hoog", "percentage": 21, "category": "standard"});
    let created = s.app.post(&uri, &s.vendor, body.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let created = created.json();
    assert_eq!(created["version"], 1);

    let again = s.app.post(&uri, &s.vendor, body).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(
        again.json()["version"],
        1,
        "an identical resend is not a new version"
    );

    let changed = s.app.post(&uri, &s.vendor, json!({"external_id": "hoog", "name": "Hoog tarief", "percentage": "21.0", "category": "standard"})).await;
    assert_eq!(changed.status, StatusCode::OK);
    let changed = changed.json();
    assert_eq!(changed["id"], created["id"]);
    assert_eq!(changed["version"], 2);
    assert_eq!(changed["name"], "Hoog tarief");

    let id = created["id"].as_str().unwrap();
    let fetched = s.app.get(&format!("{uri}/{id}"), &s.connector).await.json();
    assert_eq!(fetched["name"], "Hoog tarief");
    let by_external = s
        .app
        .get(&format!("{uri}?external_id=hoog"), &s.connector)
        .await
        .json();
    assert_eq!(ids(&by_external), ["hoog"]);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn percentages_are_exact_from_strings_and_numbers_and_checked_against_the_category(
    pool: PgPool,
) {
    let s = setup(pool).await;
    let uri = format!("/v1/companies/{}/vat-rates", s.company);
    let odd = s.app.post(&uri, &s.vendor, json!({"external_id": "odd", "name": "Odd", "percentage": 5.5, "category": "reduced", "country": "FR"})).await;
    assert_eq!(odd.status, StatusCode::CREATED, "{}", odd.text);
    assert_eq!(odd.json()["percentage"], "5.5");

    let wrong = s.app.post(&uri, &s.vendor, json!({"external_id": "w", "name": " ", "percentage": "9", "category": "zero", "country": "XX"})).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    let codes: Vec<(String, String)> = wrong
        .problem()
        .errors
        .unwrap()
        .into_iter()
        .map(|e| (e.pointer, e.code))
        .collect();
    assert_eq!(
        codes,
        [
            ("/name".to_owned(), "required".to_owned()),
            ("/country".to_owned(), "invalid_country".to_owned()),
            (
                "/percentage".to_owned(),
                "vat_category_percentage_mismatch".to_owned()
            ),
        ]
    );

    let float_noise = s
        .app
        .post(
            &uri,
            &s.vendor,
            json!({"external_id": "x", "name": "X", "percentage": "abc", "category": "standard"}),
        )
        .await;
    assert_eq!(float_noise.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        float_noise.problem().errors.unwrap()[0].pointer,
        "/percentage"
    );
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn payment_methods_and_categories_upsert_and_list_with_pagination(pool: PgPool) {
    let s = setup(pool).await;
    let methods = format!("/v1/companies/{}/payment-methods", s.company);
    for (id, kind) in [
        ("contant", "cash"),
        ("pin", "debit_card"),
        ("ideal", "ideal"),
    ] {
        let r = s
            .app
            .post(
                &methods,
                &s.vendor,
                json!({"external_id": id, "name": id.to_uppercase(), "kind": kind}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let bad_kind = s
        .app
        .post(
            &methods,
            &s.vendor,
            json!({"external_id": "b", "name": "B", "kind": "bitcoin"}),
        )
        .await;
    assert_eq!(bad_kind.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_kind.problem().errors.unwrap()[0].pointer, "/kind");

    let first = s
        .app
        .get(&format!("{methods}?limit=2"), &s.connector)
        .await
        .json();
    assert_eq!(first["data"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = s
        .app
        .get(&format!("{methods}?limit=2&cursor={cursor}"), &s.connector)
        .await
        .json();
    assert_eq!(second["data"].as_array().unwrap().len(), 1);
    assert!(second["next_cursor"].is_null());
    let mut all = ids(&first);
    all.extend(ids(&second));
    all.sort();
    assert_eq!(all, ["contant", "ideal", "pin"]);

    let categories = format!("/v1/companies/{}/categories", s.company);
    let parent = s
        .app
        .post(
            &categories,
            &s.vendor,
            json!({"external_id": "brood", "name": "Brood"}),
        )
        .await
        .json();
    let child = s
        .app
        .post(
            &categories,
            &s.vendor,
            json!({"external_id": "bolletjes", "name": "Bolletjes", "parent_id": parent["id"]}),
        )
        .await;
    assert_eq!(child.status, StatusCode::CREATED);
    assert_eq!(child.json()["parent_id"], parent["id"]);
    let orphan = s
        .app
        .post(
            &categories,
            &s.vendor,
            json!({"external_id": "wees", "name": "Wees", "parent_id": Uuid::new_v4()}),
        )
        .await;
    assert_eq!(orphan.status, StatusCode::BAD_REQUEST);
    assert_eq!(orphan.problem().errors.unwrap()[0].code, "unknown_category");

    let since = s
        .app
        .get(
            &format!("{categories}?updated_since=2999-01-01T00:00:00Z"),
            &s.connector,
        )
        .await
        .json();
    assert!(since["data"].as_array().unwrap().is_empty());
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_connector_reads_settings_but_cannot_write_them(pool: PgPool) {
    let s = setup(pool).await;
    let uri = format!("/v1/companies/{}/categories", s.company);
    let response = s
        .app
        .post(&uri, &s.connector, json!({"external_id": "x", "name": "X"}))
        .await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    assert!(response.problem().detail.contains("settings:write"));
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn every_settings_change_is_in_the_feed_once_and_unchanged_resends_are_not(pool: PgPool) {
    let s = setup(pool).await;
    let uri = format!("/v1/companies/{}/payment-methods", s.company);
    let body = json!({"external_id": "pin", "name": "PIN", "kind": "debit_card"});
    s.app.post(&uri, &s.vendor, body.clone()).await;
    s.app.post(&uri, &s.vendor, body).await;
    s.app
        .post(
            &uri,
            &s.vendor,
            json!({"external_id": "pin", "name": "Pinnen", "kind": "debit_card"}),
        )
        .await;

    // The feed answers an event once no older transaction anywhere in the
    // cluster is still running; other tests run in parallel, so poll until
    // all 9 expected events are there rather than stopping at an empty page.
    let feed = format!("/v1/companies/{}/events", s.company);
    let mut types = Vec::new();
    let mut after: Option<String> = None;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while types.len() < 9 {
        assert!(
            std::time::Instant::now() < deadline,
            "only {types:?} arrived"
        );
        let uri = match &after {
            Some(c) => format!("{feed}?limit=3&after={c}"),
            None => format!("{feed}?limit=3"),
        };
        let page = s.app.get(&uri, &s.connector).await.json();
        let data = page["data"].as_array().unwrap().clone();
        if data.is_empty() {
            assert_eq!(
                page["next_cursor"].as_str(),
                after.as_deref(),
                "an empty page keeps the cursor"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        types.extend(data.iter().map(|e| {
            (
                e["type"].as_str().unwrap().to_owned(),
                e["version"].as_i64().unwrap(),
            )
        }));
        after = page["next_cursor"].as_str().map(str::to_owned).or(after);
    }
    let vat: Vec<_> = types
        .iter()
        .filter(|(t, _)| t == "vat_rate.created")
        .collect();
    assert_eq!(vat.len(), 7, "the seeded rates");
    let methods: Vec<_> = types
        .iter()
        .filter(|(t, _)| t.starts_with("payment_method"))
        .cloned()
        .collect();
    assert_eq!(
        methods,
        [
            ("payment_method.created".to_owned(), 1),
            ("payment_method.updated".to_owned(), 2)
        ]
    );
}
