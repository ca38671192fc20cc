//! Per-client rate limits: the headers, the 429, recovery, overrides and
//! `GET /v1/rate-limit`.

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use koppel_api::auth::scopes::ClientKind;
use serde_json::json;
use sqlx::PgPool;

use crate::harness::{TestApp, TestClient, TestResponse};

/// A vendor client with its own rate limit, created through the admin API.
async fn client_with_limit(app: &TestApp, per_second: u32, burst: u32) -> TestClient {
    let admin = app.admin_token().await;
    let response = app
        .post(
            "/v1/admin/clients",
            &admin,
            json!({
                "name": "Kassa met eigen limiet",
                "kind": "vendor",
                "rate_limit": {"per_second": per_second, "burst": burst},
            }),
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    let body = response.json();
    TestClient {
        id: body["client_id"].as_str().unwrap().parse().unwrap(),
        secret: body["client_secret"].as_str().unwrap().to_owned(),
    }
}

fn remaining(response: &TestResponse) -> u32 {
    response
        .header("x-ratelimit-remaining")
        .unwrap_or_else(|| panic!("no X-RateLimit-Remaining on {}", response.status))
        .parse()
        .unwrap()
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_default_client_sees_the_generous_default_policy_in_both_header_styles(pool: PgPool) {
    let app = TestApp::new(pool);
    let vendor = app.client(ClientKind::Vendor, &[]).await;
    let token = app.token(&vendor).await;

    let response = app.get("/v1/companies", &token).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        response.header("ratelimit-policy"),
        Some("\"default\";q=1000;w=10;koppel-per-second=100")
    );
    assert_eq!(response.header("ratelimit"), Some("\"default\";r=999;t=1"));
    assert_eq!(response.header("x-ratelimit-limit"), Some("1000"));
    assert_eq!(response.header("x-ratelimit-remaining"), Some("999"));
    assert_eq!(response.header("x-ratelimit-reset"), Some("1"));
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn every_authenticated_response_counts_down(pool: PgPool) {
    let app = TestApp::new(pool);
    // One token a second, so nothing refills while the test runs.
    let vendor = client_with_limit(&app, 1, 10).await;
    let token = app.token(&vendor).await;

    let mut seen = Vec::new();
    for _ in 0..3 {
        let response = app.get("/v1/companies", &token).await;
        assert_eq!(response.status, StatusCode::OK);
        let left = remaining(&response);
        assert_eq!(
            response.header("ratelimit"),
            Some(format!("\"client\";r={left};t={}", 10 - left).as_str()),
            "t is the seconds until the bucket is full again"
        );
        assert_eq!(
            response.header("x-ratelimit-reset"),
            Some((10 - left).to_string().as_str())
        );
        seen.push(left);
    }
    assert_eq!(seen, [9, 8, 7]);

    // A problem answer of an authenticated client is counted and labelled too.
    let missing = app.get("/v1/companies/not-a-company", &token).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(remaining(&missing), 6);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn requests_without_a_valid_token_carry_no_rate_limit_headers(pool: PgPool) {
    let app = TestApp::new(pool);
    let health = app.call(Method::GET, "/health/live", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.header("ratelimit"), None);

    let unauthenticated = app
        .call(Method::GET, "/v1/companies", Some("not-a-token"), None)
        .await;
    assert_eq!(unauthenticated.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unauthenticated.problem().code, "unauthorized");
    assert_eq!(unauthenticated.header("x-ratelimit-remaining"), None);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_spent_burst_is_a_429_with_retry_after_and_the_client_recovers_after_it(pool: PgPool) {
    let app = TestApp::new(pool);
    // 5 a second with a burst of 3: a token every 200 ms.
    let vendor = client_with_limit(&app, 5, 3).await;
    let token = app.token(&vendor).await;

    let mut counts = Vec::new();
    let refused = loop {
        let response = app.get("/v1/companies", &token).await;
        if response.status == StatusCode::TOO_MANY_REQUESTS {
            break response;
        }
        assert_eq!(response.status, StatusCode::OK);
        counts.push(remaining(&response));
        assert!(counts.len() <= 10, "never refused: {counts:?}");
    };
    assert_eq!(counts[..3], [2, 1, 0], "the burst of 3, counted down");

    let problem = refused.problem();
    assert_eq!(problem.code, "rate_limited");
    assert_eq!(problem.status, 429);
    assert!(
        problem.detail.contains("retry in 1 seconds"),
        "{}",
        problem.detail
    );
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert_eq!(remaining(&refused), 0);
    assert_eq!(refused.header("ratelimit"), Some("\"client\";r=0;t=1"));

    // Dutch callers are told the same in Dutch.
    let dutch = app
        .send(
            axum::http::Request::get("/v1/companies")
                .header("authorization", format!("Bearer {token}"))
                .header("accept-language", "nl")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    if dutch.status == StatusCode::TOO_MANY_REQUESTS {
        assert!(dutch.problem().detail.contains("probeer het over"));
    }

    // Recovery: within Retry-After, a request goes through again. Poll the
    // limit (which spends nothing) with a deadline rather than sleeping.
    let refused_at = Instant::now();
    let deadline = refused_at + Duration::from_secs(5);
    loop {
        let status = app.get("/v1/rate-limit", &token).await.json();
        if status["remaining"].as_u64().unwrap() > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the bucket never refilled");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        refused_at.elapsed() <= Duration::from_millis(1200),
        "a token comes back within Retry-After: {:?}",
        refused_at.elapsed()
    );
    let again = app.get("/v1/companies", &token).await;
    assert_eq!(again.status, StatusCode::OK);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_client_with_its_own_limit_has_its_own_policy_and_bucket(pool: PgPool) {
    let app = TestApp::new(pool);
    let small = client_with_limit(&app, 5, 3).await;
    let small_token = app.token(&small).await;
    let ordinary = app.client(ClientKind::Vendor, &[]).await;
    let ordinary_token = app.token(&ordinary).await;

    let response = app.get("/v1/companies", &small_token).await;
    assert_eq!(
        response.header("ratelimit-policy"),
        Some("\"client\";q=3;w=1;koppel-per-second=5")
    );
    assert_eq!(response.header("x-ratelimit-limit"), Some("3"));
    for _ in 0..5 {
        app.get("/v1/companies", &small_token).await;
    }
    assert_eq!(
        app.get("/v1/companies", &small_token).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );

    // The other client is not touched by the first one's spending.
    let other = app.get("/v1/companies", &ordinary_token).await;
    assert_eq!(other.status, StatusCode::OK);
    assert_eq!(other.header("x-ratelimit-limit"), Some("1000"));
    assert_eq!(remaining(&other), 999);

    let status = app.get("/v1/rate-limit", &small_token).await.json();
    assert_eq!(status["policy"], "client");
    assert_eq!(status["per_second"], 5);
    assert_eq!(status["burst"], 3);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn asking_for_the_rate_limit_spends_none_of_it(pool: PgPool) {
    let app = TestApp::new(pool);
    // One token a second, so nothing refills while the test runs.
    let vendor = client_with_limit(&app, 1, 5).await;
    let token = app.token(&vendor).await;
    app.get("/v1/companies", &token).await;
    app.get("/v1/companies", &token).await;

    let mut reported = Vec::new();
    for _ in 0..10 {
        let response = app.get("/v1/rate-limit", &token).await;
        assert_eq!(response.status, StatusCode::OK);
        let body = response.json();
        assert_eq!(
            body["remaining"].as_u64().unwrap(),
            u64::from(remaining(&response)),
            "the body and the headers agree"
        );
        reported.push(body["remaining"].as_u64().unwrap());
    }
    assert!(
        reported.iter().all(|&r| r >= 3),
        "ten calls did not reduce what is left: {reported:?}"
    );
    assert!(remaining(&app.get("/v1/companies", &token).await) >= 2);

    // An empty bucket still answers, and says when to come back.
    while app.get("/v1/companies", &token).await.status != StatusCode::TOO_MANY_REQUESTS {}
    let empty = app.get("/v1/rate-limit", &token).await;
    assert_eq!(empty.status, StatusCode::OK);
    let body = empty.json();
    assert_eq!(body["remaining"], 0);
    assert_eq!(body["retry_after_seconds"], 1);
    assert_eq!(body["policy"], "client");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_body_the_size_of_a_batch_of_1000_orders_is_within_the_limit(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.admin_token().await;
    // 1000 orders of 5 lines measure 4.7 MB pretty-printed (docs/limits.md);
    // a body that large must reach the handler, which then refuses the field.
    let padding = "x".repeat(5_000_000);
    for key in [None, Some("big")] {
        let mut builder = axum::http::Request::post("/v1/admin/companies")
            .header("authorization", format!("Bearer {admin}"))
            .header("content-type", "application/json");
        if let Some(key) = key {
            builder = builder.header("idempotency-key", key);
        }
        let body = json!({"name": "Groot", "padding": padding}).to_string();
        let response = app
            .send(builder.body(axum::body::Body::from(body)).unwrap())
            .await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "key {key:?}");
        assert_eq!(response.problem().errors.unwrap()[0].pointer, "/padding");
    }
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_body_over_the_limit_is_a_413_with_or_without_an_idempotency_key(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.admin_token().await;
    let padding = "x".repeat(koppel_api::MAX_BODY_BYTES);
    for key in [None, Some("huge")] {
        let mut builder = axum::http::Request::post("/v1/admin/companies")
            .header("authorization", format!("Bearer {admin}"))
            .header("content-type", "application/json");
        if let Some(key) = key {
            builder = builder.header("idempotency-key", key);
        }
        let body = json!({"name": "Te Groot", "padding": padding}).to_string();
        let response = app
            .send(builder.body(axum::body::Body::from(body)).unwrap())
            .await;
        assert_eq!(
            response.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "key {key:?}"
        );
        assert_eq!(response.problem().code, "payload_too_large");
    }
}

/// A company with a vendor token, and the orders URI.
async fn vendor_orders(app: &TestApp) -> (String, String) {
    let company = app.company("Grenzen B.V.").await;
    let vendor = app.client(ClientKind::Vendor, &[company]).await;
    let token = app.token(&vendor).await;
    (token, format!("/v1/companies/{company}/orders"))
}

fn order_with_lines(lines: Vec<serde_json::Value>) -> serde_json::Value {
    json!({
        "external_id": "groot", "status": "open", "order_date": "2026-03-02T10:00:00+01:00",
        "currency": "EUR", "prices_include_vat": true, "lines": lines,
    })
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_document_over_5000_lines_is_one_problem_not_one_per_line(pool: PgPool) {
    let app = TestApp::new(pool);
    let (token, orders) = vendor_orders(&app).await;
    let response = app
        .post(&orders, &token, order_with_lines(vec![json!({}); 5_001]))
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    let problem = response.problem();
    let errors = problem.errors.unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].pointer, "/lines");
    assert_eq!(errors[0].code, "too_many_items");
    assert_eq!(problem.error_count, Some(1));
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_problem_lists_100_errors_and_counts_them_all(pool: PgPool) {
    let app = TestApp::new(pool);
    let (token, orders) = vendor_orders(&app).await;
    // 300 lines, each missing its quantity, price and VAT: several problems a line.
    let response = app
        .post(
            &orders,
            &token,
            order_with_lines(vec![json!({"sku": "X"}); 300]),
        )
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    let problem = response.problem();
    assert_eq!(problem.errors.as_ref().unwrap().len(), 100);
    let count = problem.error_count.unwrap();
    assert!(count >= 300, "{count} errors counted");
    assert_eq!(
        problem.errors.unwrap()[0].pointer.split('/').nth(2),
        Some("0")
    );
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_text_over_its_fields_bound_is_refused_at_its_pointer(pool: PgPool) {
    let app = TestApp::new(pool);
    let company = app.company("Lange Namen B.V.").await;
    let vendor = app.client(ClientKind::Vendor, &[company]).await;
    let token = app.token(&vendor).await;
    let customers = format!("/v1/companies/{company}/customers");
    let response = app
        .post(
            &customers,
            &token,
            json!({"external_id": "lang", "name": "n".repeat(12_000)}),
        )
        .await;
    assert_eq!(
        response.status,
        StatusCode::BAD_REQUEST,
        "{}",
        response.text
    );
    let errors = response.problem().errors.unwrap();
    assert_eq!(errors[0].pointer, "/name");
    assert_eq!(errors[0].code, "text_too_long");
    // The bounds of SPEC "Bounds", as the OpenAPI document states them: a name 500, an
    // e-mail address 254, a reference 255; each refused one over, accepted at it.
    let over = app
        .post(
            &customers,
            &token,
            json!({"external_id": "over", "name": "n".repeat(501),
                   "email": format!("{}@example.nl", "e".repeat(244)),
                   "number": "9".repeat(256)}),
        )
        .await;
    assert_eq!(over.status, StatusCode::BAD_REQUEST, "{}", over.text);
    let mut pointers: Vec<String> = over
        .problem()
        .errors
        .unwrap()
        .into_iter()
        .map(|e| e.pointer)
        .collect();
    pointers.sort();
    assert_eq!(pointers, ["/email", "/name", "/number"]);
    let fits = app
        .post(
            &customers,
            &token,
            json!({"external_id": "kort", "name": "n".repeat(500),
                   "number": "9".repeat(255)}),
        )
        .await;
    assert_eq!(fits.status, StatusCode::CREATED, "{}", fits.text);
    let spec = serde_json::to_value(koppel_api::openapi()).unwrap();
    let input = &spec["components"]["schemas"]["CustomerInput"]["properties"];
    assert_eq!(
        (
            &input["name"]["maxLength"],
            &input["email"]["maxLength"],
            &input["number"]["maxLength"]
        ),
        (&json!(500), &json!(254), &json!(255))
    );
}
