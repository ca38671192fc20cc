//! Every kind of bad request gets the right status and a problem body with
//! the request id, in English or Dutch.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use koppel_api::Config;
use koppel_api::auth::scopes::ClientKind;
use koppel_store::Store;
use serde_json::json;
use sqlx::PgPool;

use crate::harness::TestApp;

const COMPANIES: &str = "/v1/admin/companies";

async fn post_raw(
    app: &TestApp,
    token: &str,
    content_type: &str,
    body: &str,
    language: Option<&str>,
) -> crate::harness::TestResponse {
    let mut builder = Request::post(COMPANIES)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", content_type);
    if let Some(language) = language {
        builder = builder.header("accept-language", language);
    }
    app.send(builder.body(Body::from(body.to_owned())).unwrap())
        .await
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn malformed_json_is_a_400_with_code_malformed_json(pool: PgPool) {
    let app = TestApp::new(pool);
    let token = app.admin_token().await;
    let response = post_raw(&app, &token, "application/json", "{\"name\": ", None).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(response.problem().code, "malformed_json");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_wrong_field_type_is_a_400_pointing_at_the_field(pool: PgPool) {
    let app = TestApp::new(pool);
    let token = app.admin_token().await;
    let response = app.post(COMPANIES, &token, json!({"name": 42})).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    let problem = response.problem();
    assert_eq!(problem.code, "invalid_request");
    let errors = problem.errors.unwrap();
    assert_eq!(errors[0].pointer, "/name");
    assert_eq!(errors[0].code, "invalid_type");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_missing_required_field_is_a_400_naming_it(pool: PgPool) {
    let app = TestApp::new(pool);
    let token = app.admin_token().await;
    let response = app
        .post(COMPANIES, &token, json!({"timezone": "Europe/Amsterdam"}))
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    let errors = response.problem().errors.unwrap();
    assert_eq!(errors[0].pointer, "/name");
    assert_eq!(errors[0].code, "missing_field");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_misspelt_field_is_refused_rather_than_dropped(pool: PgPool) {
    let app = TestApp::new(pool);
    let token = app.admin_token().await;
    let response = app
        .post(
            COMPANIES,
            &token,
            json!({"name": "X", "timezne": "Europe/Amsterdam"}),
        )
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    let errors = response.problem().errors.unwrap();
    assert_eq!(errors[0].pointer, "/timezne");
    assert_eq!(errors[0].code, "unknown_field");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn every_invalid_value_is_listed_at_once(pool: PgPool) {
    let app = TestApp::new(pool);
    let token = app.admin_token().await;
    let response = app
        .post(COMPANIES, &token, json!({"name": " ", "timezone": "Mars/Olympus", "currency": "euro", "business_day_cutoff": "25:00"}))
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    let pointers: Vec<String> = response
        .problem()
        .errors
        .unwrap()
        .into_iter()
        .map(|e| e.pointer)
        .collect();
    assert_eq!(
        pointers,
        ["/name", "/timezone", "/currency", "/business_day_cutoff"]
    );
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_body_that_is_not_json_is_a_415(pool: PgPool) {
    let app = TestApp::new(pool);
    let token = app.admin_token().await;
    let response = post_raw(&app, &token, "text/plain", "{\"name\": \"X\"}", None).await;
    assert_eq!(response.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(response.problem().code, "unsupported_media_type");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn an_oversized_body_is_a_413(pool: PgPool) {
    let config = Config {
        max_body_bytes: 1024,
        ..Config::default()
    };
    let app = TestApp::with_config(Store::from_pool(pool), config);
    let token = app.admin_token().await;
    let body = json!({"name": "x".repeat(2000)}).to_string();
    let response = post_raw(&app, &token, "application/json", &body, None).await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(response.problem().code, "payload_too_large");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_declared_length_over_the_limit_is_a_413_before_any_body_is_read(pool: PgPool) {
    // The body never ends: were it read, the request would hang instead.
    let app = TestApp::new(pool);
    let token = app.admin_token().await;
    let endless = Body::from_stream(futures_stream_pending());
    let request = Request::post("/v1/admin/companies")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("content-length", "10000000000")
        .header("expect", "100-continue")
        .body(endless)
        .unwrap();
    let response = tokio::time::timeout(std::time::Duration::from_secs(5), app.send(request))
        .await
        .expect("answered from the head alone");
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(response.problem().code, "payload_too_large");
    assert!(response.header("x-request-id").is_some());
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_body_that_stalls_is_a_408(pool: PgPool) {
    let config = Config {
        body_read_timeout: std::time::Duration::from_millis(300),
        ..Config::default()
    };
    let app = TestApp::with_config(Store::from_pool(pool), config);
    let token = app.admin_token().await;
    let request = Request::post("/v1/admin/companies")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from_stream(futures_stream_pending()))
        .unwrap();
    let response = tokio::time::timeout(std::time::Duration::from_secs(5), app.send(request))
        .await
        .expect("the deadline ends the request");
    assert_eq!(
        response.status,
        StatusCode::REQUEST_TIMEOUT,
        "{}",
        response.text
    );
    assert_eq!(response.problem().code, "request_timeout");
}

/// A body stream that sends one byte and then never another.
fn futures_stream_pending()
-> impl futures_util::Stream<Item = Result<axum::body::Bytes, std::io::Error>> + Send + 'static {
    use futures_util::StreamExt as _;
    futures_util::stream::iter([Ok(axum::body::Bytes::from_static(b"{"))])
        .chain(futures_util::stream::pending())
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn an_unknown_route_is_a_404_problem(pool: PgPool) {
    let app = TestApp::new(pool);
    let response = app.call(Method::GET, "/v1/no-such-thing", None, None).await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(response.problem().code, "not_found");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_wrong_method_is_a_405_problem(pool: PgPool) {
    let app = TestApp::new(pool);
    let response = app.call(Method::DELETE, "/health/live", None, None).await;
    assert_eq!(response.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.problem().code, "method_not_allowed");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_malformed_id_in_the_path_is_a_404(pool: PgPool) {
    let app = TestApp::new(pool);
    let token = app.admin_token().await;
    let response = app.get("/v1/admin/companies/not-a-uuid", &token).await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    response.problem();
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_bad_query_parameter_is_a_400(pool: PgPool) {
    let app = TestApp::new(pool);
    let token = app.admin_token().await;
    for uri in [
        "/v1/admin/companies?limit=abc",
        "/v1/admin/companies?limit=0",
        "/v1/admin/companies?cursor=%21%21",
    ] {
        let response = app.get(uri, &token).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(response.problem().code, "invalid_parameter");
    }
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn accept_language_nl_gives_dutch_texts_with_the_same_codes(pool: PgPool) {
    let app = TestApp::new(pool);
    let token = app.admin_token().await;
    let body = json!({"name": "X", "currency": "euro"}).to_string();
    let english_response = post_raw(&app, &token, "application/json", &body, None).await;
    assert_eq!(english_response.header("content-language"), Some("en"));
    assert_eq!(english_response.header("vary"), Some("accept-language"));
    let english = english_response.problem();
    let dutch_response = post_raw(
        &app,
        &token,
        "application/json",
        &body,
        Some("nl-NL,nl;q=0.9,en;q=0.5"),
    )
    .await;
    assert_eq!(dutch_response.header("content-language"), Some("nl"));
    assert_eq!(dutch_response.header("vary"), Some("accept-language"));
    let dutch = dutch_response.problem();
    assert_eq!(dutch.code, english.code);
    assert_eq!(dutch.title, "Het verzoek bevat fouten");
    assert_eq!(english.title, "The request contains errors");
    let (en, nl) = (&english.errors.unwrap()[0], &dutch.errors.unwrap()[0]);
    assert_eq!(en.code, nl.code);
    assert_ne!(en.message, nl.message);
    assert!(nl.message.contains("valutacode"), "{}", nl.message);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_sane_request_id_is_echoed_and_an_unsafe_one_replaced(pool: PgPool) {
    let app = TestApp::new(pool);
    let echoed = app
        .send(
            Request::get("/v1/nothing")
                .header("x-request-id", "vendor-req-42")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(echoed.header("x-request-id"), Some("vendor-req-42"));
    assert_eq!(echoed.problem().request_id, "vendor-req-42");
    let replaced = app
        .send(
            Request::get("/health/live")
                .header("x-request-id", "bad id with spaces")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let id = replaced.header("x-request-id").unwrap();
    assert_ne!(id, "bad id with spaces");
    assert_eq!(id.len(), 32);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_request_rolled_back_by_a_deadlock_is_a_503_that_says_to_send_it_again(pool: PgPool) {
    use axum::response::IntoResponse;
    use koppel_api::error::ApiError;
    use koppel_store::StoreError;

    // Two transactions that each hold a row the other wants: PostgreSQL
    // breaks the deadlock by rolling one of them back (SQLSTATE 40P01).
    sqlx::query("create table deadlock_test (id int primary key, n int not null)")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("insert into deadlock_test values (1, 0), (2, 0)")
        .execute(&pool)
        .await
        .unwrap();
    let bump = "update deadlock_test set n = n + 1 where id = $1";
    let mut first = pool.begin().await.unwrap();
    let mut second = pool.begin().await.unwrap();
    sqlx::query(bump)
        .bind(1)
        .execute(&mut *first)
        .await
        .unwrap();
    sqlx::query(bump)
        .bind(2)
        .execute(&mut *second)
        .await
        .unwrap();
    let (a, b) = tokio::join!(
        sqlx::query(bump).bind(2).execute(&mut *first),
        sqlx::query(bump).bind(1).execute(&mut *second),
    );
    let error = match (a, b) {
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => e,
        other => panic!("expected exactly one deadlock victim, got {other:?}"),
    };

    let store_error = StoreError::from(error);
    assert!(
        matches!(store_error, StoreError::Contention(_)),
        "{store_error:?}"
    );
    let response = ApiError::from(store_error).into_response();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "1");
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["code"], "service_unavailable");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("collided with a concurrent one"),
        "{problem}"
    );
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_body_declared_in_another_charset_than_utf8_is_a_415(pool: PgPool) {
    let app = TestApp::new(pool);
    let token = app.admin_token().await;
    let body = "{\"name\": \"Caf\u{e9} B.V.\"}";
    for (content_type, status) in [
        (
            "application/json; charset=latin1",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "application/json; charset=ISO-8859-1",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        ("application/json; charset=\"UTF-8\"", StatusCode::CREATED),
        ("application/json;charset=utf-8", StatusCode::CREATED),
    ] {
        let response = post_raw(&app, &token, content_type, body, None).await;
        assert_eq!(response.status, status, "{content_type}: {}", response.text);
    }
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_leap_second_is_refused_rather_than_moved_into_the_next_year(pool: PgPool) {
    // 2026-12-31T23:59:60Z would be stored as 2027-01-01T00:00:00Z: another VAT period.
    let app = TestApp::new(pool);
    let company = app.company("Oudjaar B.V.").await;
    let vendor = app.client(ClientKind::Vendor, &[company]).await;
    let token = app.token(&vendor).await;
    let order = json!({
        "external_id": "oudjaar", "status": "open", "order_date": "2026-12-31T23:59:60Z",
        "currency": "EUR", "prices_include_vat": false,
        "lines": [{"sku": "X", "quantity": 1, "unit_price": "10.00", "total_excl_vat": "10.00",
                   "vat": {"percentage": 21, "category": "standard", "amount": "2.10"}}]
    });
    let response = app
        .post(&format!("/v1/companies/{company}/orders"), &token, order)
        .await;
    assert_eq!(
        response.status,
        StatusCode::BAD_REQUEST,
        "{}",
        response.text
    );
    let errors = response.problem().errors.unwrap();
    assert_eq!(errors[0].pointer, "/order_date");
    assert_eq!(errors[0].code, "invalid_timestamp");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn an_unknown_query_parameter_is_a_400_naming_it(pool: PgPool) {
    // Unknown body fields are refused; so are unknown query parameters (SPEC "Bounds"), so
    // that a misspelt filter (`?from_date=`) is not silently ignored and answers everything.
    let app = TestApp::new(pool);
    let company = app.company("Filters B.V.").await;
    let connector = app.client(ClientKind::Connector, &[company]).await;
    let token = app.token(&connector).await;
    let response = app
        .get(
            &format!("/v1/companies/{company}/orders?from_date=2026-01-01"),
            &token,
        )
        .await;
    assert_eq!(
        response.status,
        StatusCode::BAD_REQUEST,
        "{}",
        response.text
    );
    let problem = response.problem();
    assert_eq!(problem.code, "invalid_parameter");
    assert!(problem.detail.contains("from_date"), "{}", problem.detail);
    let known = app
        .get(&format!("/v1/companies/{company}/orders?limit=5"), &token)
        .await;
    assert_eq!(known.status, StatusCode::OK, "{}", known.text);
}
