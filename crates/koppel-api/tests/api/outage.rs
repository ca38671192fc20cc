//! A stopped database is a 503 (never a hang or a panic), and the service
//! recovers by itself when the database is back.

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use koppel_api::auth::scopes::ClientKind;
use koppel_pglocal::{Cluster, Options};
use koppel_store::{PoolConfig, Store};

use crate::harness::TestApp;

#[tokio::test]
async fn a_stopped_database_is_a_503_and_service_resumes_when_it_is_back() {
    // Its own cluster: this test stops it, which must not disturb the others.
    let cluster = tokio::task::spawn_blocking(|| Cluster::start(Options::default()))
        .await
        .unwrap()
        .expect("a local PostgreSQL");
    let config = PoolConfig {
        max_connections: 4,
        acquire_timeout: Duration::from_secs(1),
    };
    let store = Store::connect_lazy(&cluster.url("postgres"), &config).unwrap();
    store.migrate().await.unwrap();
    let app = TestApp::with_store(store);
    let company = app.company("Outage B.V.").await;
    let vendor = app.client(ClientKind::Vendor, &[company]).await;
    let token = app.token(&vendor).await;
    let data_route = format!("/v1/companies/{company}");
    assert_eq!(app.get(&data_route, &token).await.status, StatusCode::OK);

    let cluster = tokio::task::spawn_blocking(move || {
        cluster.stop().unwrap();
        cluster
    })
    .await
    .unwrap();

    let started = Instant::now();
    let down = app.get(&data_route, &token).await;
    assert_eq!(
        down.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        down.text
    );
    assert_eq!(down.problem().code, "service_unavailable");
    assert!(down.header("retry-after").is_some());
    // The token endpoint answers RFC 6749 bodies, and says when to come back too.
    let token_down = app
        .send(
            axum::http::Request::post("/oauth/token")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(axum::body::Body::from(format!(
                    "grant_type=client_credentials&client_id={}&client_secret={}",
                    vendor.id, vendor.secret
                )))
                .unwrap(),
        )
        .await;
    assert_eq!(token_down.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(token_down.json()["error"], "temporarily_unavailable");
    assert_eq!(token_down.header("retry-after"), Some("5"));
    let not_ready = app.call(Method::GET, "/health/ready", None, None).await;
    assert_eq!(not_ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "answered in bounded time"
    );
    // Liveness does not depend on the database.
    assert_eq!(
        app.call(Method::GET, "/health/live", None, None)
            .await
            .status,
        StatusCode::OK
    );

    let cluster = tokio::task::spawn_blocking(move || {
        cluster.resume().unwrap();
        cluster
    })
    .await
    .unwrap();

    // The pool reconnects on its own; poll with a deadline, never sleep blind.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let response = app.get(&data_route, &token).await;
        if response.status == StatusCode::OK {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no recovery: {} {}",
            response.status,
            response.text
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        app.call(Method::GET, "/health/ready", None, None)
            .await
            .status,
        StatusCode::OK
    );
    drop(app);
    tokio::task::spawn_blocking(move || drop(cluster))
        .await
        .unwrap();
}
