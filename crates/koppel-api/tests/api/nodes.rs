//! Two instances on one database, as two `koppel serve` behind a load balancer (#15, item 7):
//! each has its own in-memory client registry, and a client created, revoked, rotated or
//! granted through one is honoured or refused by the other at once (a created client) or
//! within a second (the rest, through the database's change announcements).

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use koppel_api::auth::registry::follow_changes;
use koppel_api::auth::scopes::ClientKind;
use sqlx::PgPool;

use crate::harness::TestApp;

/// How soon a change on one node must be seen on the other.
const PROPAGATION: Duration = Duration::from_secs(1);

/// Polls `uri` on `node` until it answers `status`; fails after [`PROPAGATION`].
async fn within_a_second(node: &TestApp, uri: &str, token: &str, status: StatusCode) {
    let started = Instant::now();
    loop {
        let answer = node.get(uri, token).await.status;
        if answer == status {
            return;
        }
        assert!(
            started.elapsed() < PROPAGATION,
            "still {answer} after {PROPAGATION:?}, expected {status}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_client_created_on_one_node_works_on_the_other_at_once(pool: PgPool) {
    let first = TestApp::new(pool.clone());
    let second = TestApp::new(pool);
    let company = first.company("Twee Nodes B.V.").await;
    let vendor = first.client(ClientKind::Vendor, &[company]).await;
    let token = first.token(&vendor).await;
    // The second node has never heard of the client and runs no listener: its
    // registry misses and looks in the database.
    assert!(second.app.auth.registry.get(vendor.id).is_none());
    let answer = second
        .get(&format!("/v1/companies/{company}"), &token)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn revocation_rotation_and_grants_on_one_node_reach_the_other_within_a_second(pool: PgPool) {
    let first = TestApp::new(pool.clone());
    let second = TestApp::new(pool);
    let follower = tokio::spawn(follow_changes(
        std::sync::Arc::clone(&second.app.auth),
        second.app.store.clone(),
    ));
    let admin = first.admin_token().await;
    let company = first.company("Twee Nodes B.V.").await;
    let other = first.company("Ander B.V.").await;
    let uri = format!("/v1/companies/{other}");

    // A grant on the first node opens the company on the second.
    let vendor = first.client(ClientKind::Vendor, &[company]).await;
    let token = first.token(&vendor).await;
    assert_eq!(second.get(&uri, &token).await.status, StatusCode::NOT_FOUND);
    let grant = format!("/v1/admin/clients/{}/companies/{other}", vendor.id);
    let granted = first.call(Method::PUT, &grant, Some(&admin), None).await;
    assert_eq!(granted.status, StatusCode::OK);
    within_a_second(&second, &uri, &token, StatusCode::OK).await;

    // A rotation on the first node ends the old token on the second.
    let rotate = format!("/v1/admin/clients/{}/rotate-secret", vendor.id);
    let rotated = first.call(Method::POST, &rotate, Some(&admin), None).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);
    within_a_second(&second, &uri, &token, StatusCode::UNAUTHORIZED).await;

    // A revocation on the first node ends a fresh token on the second.
    let connector = first.client(ClientKind::Connector, &[other]).await;
    let token = first.token(&connector).await;
    assert_eq!(second.get(&uri, &token).await.status, StatusCode::OK);
    let revoke = format!("/v1/admin/clients/{}", connector.id);
    let revoked = first
        .call(Method::DELETE, &revoke, Some(&admin), None)
        .await;
    assert_eq!(revoked.status, StatusCode::OK);
    within_a_second(&second, &uri, &token, StatusCode::UNAUTHORIZED).await;
    follower.abort();
}
