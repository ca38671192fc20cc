//! Health, readiness and metrics.

use axum::http::{Method, StatusCode};
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
