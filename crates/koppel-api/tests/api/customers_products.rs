//! Customers (W5a) and products (W5e): upserts, identifier checks, searches.

use axum::http::StatusCode;
use koppel_api::auth::scopes::ClientKind;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::harness::TestApp;

async fn setup(pool: PgPool) -> (TestApp, Uuid, String) {
    let app = TestApp::new(pool);
    let company = app.company("Klanten B.V.").await;
    let vendor = app.client(ClientKind::Vendor, &[company]).await;
    let token = app.token(&vendor).await;
    (app, company, token)
}

fn external_ids(list: &Value) -> Vec<&str> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["external_id"].as_str().unwrap())
        .collect()
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn customers_are_found_by_email_case_insensitively_number_and_external_id(pool: PgPool) {
    let (app, company, token) = setup(pool).await;
    let uri = format!("/v1/companies/{company}/customers");
    for (id, email, number) in [
        ("c1", "Jan@Example.NL", "1001"),
        ("c2", "piet@example.nl", "1002"),
        ("c3", "jan@example.nl", "1003"),
    ] {
        let r = app
            .post(
                &uri,
                &token,
                json!({"external_id": id, "name": id, "email": email, "number": number}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let by_email = app
        .get(&format!("{uri}?email=JAN@example.nl"), &token)
        .await
        .json();
    let mut found = external_ids(&by_email);
    found.sort();
    assert_eq!(found, ["c1", "c3"]);
    assert_eq!(
        external_ids(&app.get(&format!("{uri}?number=1002"), &token).await.json()),
        ["c2"]
    );
    let c3 = app
        .get(&format!("{uri}?external_id=c3"), &token)
        .await
        .json();
    assert_eq!(external_ids(&c3), ["c3"]);
    let id = c3["data"][0]["id"].as_str().unwrap();
    let one = app.get(&format!("{uri}/{id}"), &token).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.json()["email"], "jan@example.nl");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn vat_numbers_from_the_shared_test_vectors_are_accepted_or_refused(pool: PgPool) {
    let (app, company, token) = setup(pool).await;
    let uri = format!("/v1/companies/{company}/customers");
    let vectors: Value = serde_json::from_str(include_str!(
        "../../../koppel-domain/tests/data/identifiers.json"
    ))
    .unwrap();
    for (i, number) in vectors["vat_valid"].as_array().unwrap().iter().enumerate() {
        let r = app.post(&uri, &token, json!({"external_id": format!("v{i}"), "name": "B.V.", "kind": "business", "vat_number": number})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{number}: {}", r.text);
        let stored = r.json()["vat_number"].as_str().unwrap().to_owned();
        assert!(
            stored
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()),
            "normalised: {stored}"
        );
    }
    for (i, number) in vectors["vat_invalid"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let r = app
            .post(
                &uri,
                &token,
                json!({"external_id": format!("x{i}"), "name": "B.V.", "vat_number": number}),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{number} was accepted");
        assert_eq!(r.problem().errors.unwrap()[0].pointer, "/vat_number");
    }
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_customer_with_several_bad_identifiers_gets_every_problem_at_once(pool: PgPool) {
    let (app, company, token) = setup(pool).await;
    let uri = format!("/v1/companies/{company}/customers");
    let r = app
        .post(&uri, &token, json!({
            "external_id": "bad", "name": "Bad", "email": "not-an-email", "vat_number": "NL123456789B01",
            "coc_number": "1234", "language": "dutch", "billing_address": {"country": "Holland"}
        }))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let pointers: Vec<String> = r
        .problem()
        .errors
        .unwrap()
        .into_iter()
        .map(|e| e.pointer)
        .collect();
    assert_eq!(
        pointers,
        [
            "/email",
            "/vat_number",
            "/coc_number",
            "/language",
            "/billing_address/country"
        ]
    );
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn products_are_found_by_sku_and_keep_their_id_across_updates(pool: PgPool) {
    let (app, company, token) = setup(pool).await;
    let uri = format!("/v1/companies/{company}/products");
    let rates = app
        .get(
            &format!("/v1/companies/{company}/vat-rates?external_id=nl-reduced"),
            &token,
        )
        .await
        .json();
    let reduced = rates["data"][0]["id"].clone();
    let created = app
        .post(&uri, &token, json!({"external_id": "p1", "sku": "BRD-800", "ean": "8710398500014", "name": "Brood", "unit_price": 3.49, "vat_rate_id": reduced}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let created = created.json();
    assert_eq!(created["unit_price"], "3.49");
    let updated = app.post(&uri, &token, json!({"external_id": "p1", "sku": "BRD-800", "name": "Brood volkoren", "unit_price": "3.4900", "vat_rate_id": reduced})).await;
    assert_eq!(updated.status, StatusCode::OK);
    let updated = updated.json();
    assert_eq!(updated["id"], created["id"]);
    assert_eq!(updated["version"], 2);
    app.post(
        &uri,
        &token,
        json!({"external_id": "p2", "sku": "KRNT", "name": "Krant"}),
    )
    .await;

    let by_sku = app.get(&format!("{uri}?sku=BRD-800"), &token).await.json();
    assert_eq!(external_ids(&by_sku), ["p1"]);
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("{uri}/{id}"), &token).await.json()["name"],
        "Brood volkoren"
    );
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_product_with_a_bad_ean_or_an_unknown_vat_rate_is_refused(pool: PgPool) {
    let (app, company, token) = setup(pool).await;
    let uri = format!("/v1/companies/{company}/products");
    let bad_ean = app
        .post(
            &uri,
            &token,
            json!({"external_id": "p", "name": "P", "ean": "8710398500015"}),
        )
        .await;
    assert_eq!(bad_ean.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_ean.problem().errors.unwrap()[0].code, "invalid_ean");
    let unknown_rate = app
        .post(
            &uri,
            &token,
            json!({"external_id": "p", "name": "P", "vat_rate_id": Uuid::new_v4()}),
        )
        .await;
    assert_eq!(unknown_rate.status, StatusCode::BAD_REQUEST);
    let error = &unknown_rate.problem().errors.unwrap()[0];
    assert_eq!(
        (error.pointer.as_str(), error.code.as_str()),
        ("/vat_rate_id", "unknown_vat_rate")
    );
    let unknown_category = app
        .post(
            &uri,
            &token,
            json!({"external_id": "p", "name": "P", "category_id": Uuid::new_v4()}),
        )
        .await;
    assert_eq!(
        unknown_category.status,
        StatusCode::BAD_REQUEST,
        "{}",
        unknown_category.text
    );
    let error = &unknown_category.problem().errors.unwrap()[0];
    assert_eq!(
        (error.pointer.as_str(), error.code.as_str()),
        ("/category_id", "unknown_category")
    );
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_nul_character_in_a_body_or_a_query_is_a_400_not_a_500(pool: PgPool) {
    let (app, company, token) = setup(pool).await;
    let uri = format!("/v1/companies/{company}/customers");
    let body = app
        .post(&uri, &token, json!({"external_id": "n", "name": "a\u{0}b"}))
        .await;
    assert_eq!(body.status, StatusCode::BAD_REQUEST);
    assert_eq!(body.problem().errors.unwrap()[0].code, "invalid_character");
    let query = app.get(&format!("{uri}?email=a%00b"), &token).await;
    assert_eq!(query.status, StatusCode::BAD_REQUEST, "{}", query.text);
    let problem = query.problem();
    // In Koppel's words, not PostgreSQL's ("invalid byte sequence for encoding UTF8").
    assert!(problem.detail.contains("NUL"), "{}", problem.detail);
    assert!(!query.text.contains("UTF8"), "{}", query.text);
    assert!(!query.text.contains("byte sequence"), "{}", query.text);
}
