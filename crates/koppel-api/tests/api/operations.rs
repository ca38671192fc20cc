//! Health, readiness and metrics.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use koppel_api::Config;
use koppel_store::Store;
use sqlx::PgPool;

use crate::harness::TestApp;

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn live_and_ready_answer_200_when_the_database_is_up(pool: PgPool) {
    let app = TestApp::new(pool);
    let live = app.call(Method::GET, "/health/live", None, None).await;
    assert_eq!(live.status, StatusCode::OK);
    let ready = app.call(Method::GET, "/health/ready", None, None).await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.json()["status"], "ready");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn metrics_count_requests_by_route_template_and_status(pool: PgPool) {
    let app = TestApp::new(pool);
    let token = app.admin_token().await;
    for _ in 0..3 {
        app.get(
            "/v1/admin/companies/00000000-0000-0000-0000-000000000000",
            &token,
        )
        .await;
    }
    let metrics = app.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(
        metrics
            .header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(
        metrics.text.contains(
            "koppel_http_requests_total{method=\"GET\",route=\"/v1/admin/companies/{company_id}\",status=\"404\"} 3"
        ),
        "{}",
        metrics.text
    );
    assert!(metrics.text.contains("koppel_http_request_duration_seconds_bucket{method=\"POST\",route=\"/oauth/token\",status=\"200\",le=\"+Inf\"} 1"));
}

fn metrics_request(peer: [u8; 4], bearer: Option<&str>) -> Request<Body> {
    let mut builder =
        Request::get("/metrics").extension(ConnectInfo(SocketAddr::from((peer, 50_000))));
    if let Some(token) = bearer {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    builder.body(Body::empty()).unwrap()
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn metrics_are_for_loopback_only_unless_a_token_is_configured(pool: PgPool) {
    let app = TestApp::new(pool);
    let local = app.send(metrics_request([127, 0, 0, 1], None)).await;
    assert_eq!(local.status, StatusCode::OK);
    let remote = app.send(metrics_request([203, 0, 113, 5], None)).await;
    assert_eq!(remote.status, StatusCode::UNAUTHORIZED);
    assert_eq!(remote.problem().code, "unauthorized");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn with_a_metrics_token_only_its_bearer_reads_the_metrics(pool: PgPool) {
    let config = Config {
        metrics_token: Some("scrape-7f3a9c".to_owned()),
        ..Config::default()
    };
    let app = TestApp::with_config(Store::from_pool(pool), config);
    for (peer, bearer, status) in [
        ([203, 0, 113, 5], Some("scrape-7f3a9c"), StatusCode::OK),
        (
            [203, 0, 113, 5],
            Some("scrape-7f3a9d"),
            StatusCode::UNAUTHORIZED,
        ),
        ([203, 0, 113, 5], None, StatusCode::UNAUTHORIZED),
        ([127, 0, 0, 1], None, StatusCode::UNAUTHORIZED),
    ] {
        let response = app.send(metrics_request(peer, bearer)).await;
        assert_eq!(response.status, status, "{peer:?} {bearer:?}");
    }
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn made_up_methods_do_not_grow_the_metrics(pool: PgPool) {
    let app = TestApp::new(pool);
    for i in 0..50 {
        let method = Method::from_bytes(format!("FOO{i}").as_bytes()).unwrap();
        app.call(method, "/", None, None).await;
    }
    let metrics = app.call(Method::GET, "/metrics", None, None).await;
    assert!(!metrics.text.contains("FOO"), "{}", metrics.text);
    assert!(
        metrics.text.contains("method=\"other\""),
        "{}",
        metrics.text
    );
}
