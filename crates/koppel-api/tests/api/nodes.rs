//! Two instances on one database, as two `koppel serve` behind a load balancer (#15, item 7):
//! each has its own in-memory client registry, and a client created, revoked, rotated or
//! granted through one is honoured or refused by the other at once (a created client) or
//! within a second (the rest, through the database's change announcements). The feed and
//! idempotency keys are shared through the database alone: the feed read through either node
//! gives each version once, and one key sent through both at once stores one order.

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

/// Order `i` of the two-node tests, its quantity `quantity`: a change of quantity is a new
/// version.
fn order(i: usize, quantity: u32) -> serde_json::Value {
    let excl = format!("{}.00", quantity * 10);
    let vat = format!("{}.{:02}", quantity * 210 / 100, quantity * 210 % 100);
    serde_json::json!({
        "external_id": format!("node-{i}"),
        "number": format!("N-{i}"),
        "status": "open",
        "order_date": "2026-02-03T10:00:00+01:00",
        "currency": "EUR",
        "prices_include_vat": false,
        "lines": [{"sku": "TEST", "quantity": quantity, "unit_price": "10.00",
                   "total_excl_vat": excl,
                   "vat": {"percentage": 21, "category": "standard", "amount": vat}}]
    })
}

/// Sends order `i` through `node`, with an idempotency key when one is given.
async fn push(
    node: &TestApp,
    uri: &str,
    token: &str,
    body: &serde_json::Value,
    key: Option<&str>,
) -> crate::harness::TestResponse {
    let mut request = axum::http::Request::post(uri)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json");
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    node.send(
        request
            .body(axum::body::Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn the_feed_read_through_either_node_gives_each_version_once(pool: PgPool) {
    let nodes = [TestApp::new(pool.clone()), TestApp::new(pool)];
    let company = nodes[0].company("Twee Nodes B.V.").await;
    let vendor = nodes[0].client(ClientKind::Vendor, &[company]).await;
    let connector = nodes[0].client(ClientKind::Connector, &[company]).await;
    let vendor = nodes[0].token(&vendor).await;
    let connector = nodes[1].token(&connector).await;
    let orders = format!("/v1/companies/{company}/orders");

    // Twenty orders written at once through both nodes, then each changed through the other.
    const ORDERS: usize = 20;
    for quantity in [1, 2] {
        let sends = (0..ORDERS).map(|i| {
            let node = &nodes[(i + quantity as usize) % 2];
            let body = order(i, quantity);
            let (orders, vendor) = (&orders, &vendor);
            async move { push(node, orders, vendor, &body, None).await }
        });
        for answer in futures_util::future::join_all(sends).await {
            assert!(answer.status.is_success(), "{}", answer.text);
        }
    }

    // Read page by page, each page through the other node, the cursor carried across.
    let feed = format!("/v1/companies/{company}/events");
    let mut seen: Vec<(String, i64)> = Vec::new();
    let mut cursor: Option<String> = None;
    let deadline = Instant::now() + Duration::from_secs(20);
    for page_number in 0.. {
        assert!(Instant::now() < deadline, "only {} events read", seen.len());
        let uri = match &cursor {
            Some(c) => format!("{feed}?limit=7&after={c}"),
            None => format!("{feed}?limit=7"),
        };
        let answer = nodes[page_number % 2].get(&uri, &connector).await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            let wait: u64 = answer.header("retry-after").unwrap().parse().unwrap();
            tokio::time::sleep(Duration::from_secs(wait)).await;
            continue;
        }
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        let page = answer.json();
        let data = page["data"].as_array().unwrap();
        for event in data.iter().filter(|e| e["resource"] == "orders") {
            seen.push((
                event["resource_id"].as_str().unwrap().to_owned(),
                event["version"].as_i64().unwrap(),
            ));
        }
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        if seen.len() >= 2 * ORDERS {
            break;
        }
        if data.is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let distinct: std::collections::BTreeSet<_> = seen.iter().cloned().collect();
    assert_eq!(distinct.len(), seen.len(), "an event read twice: {seen:?}");
    assert_eq!(seen.len(), 2 * ORDERS);
    let orders_seen: std::collections::BTreeSet<_> = seen.iter().map(|(id, _)| id).collect();
    assert_eq!(orders_seen.len(), ORDERS);
    assert!(seen.iter().all(|(_, version)| [1, 2].contains(version)));
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn one_idempotency_key_sent_through_both_nodes_at_once_is_stored_once(pool: PgPool) {
    let nodes = [TestApp::new(pool.clone()), TestApp::new(pool.clone())];
    let company = nodes[0].company("Twee Nodes B.V.").await;
    let vendor = nodes[0].client(ClientKind::Vendor, &[company]).await;
    let token = nodes[0].token(&vendor).await;
    let orders = format!("/v1/companies/{company}/orders");

    // Ten keys, each sent with its order through both nodes at the same moment, as a client
    // retrying through a load balancer: whichever node claims the key first stores the order,
    // the other waits for it and replays its answer.
    const KEYS: usize = 10;
    for i in 0..KEYS {
        let key = format!("both-nodes-{i}");
        let body = order(i, 1);
        let (first, second) = tokio::join!(
            push(&nodes[0], &orders, &token, &body, Some(&key)),
            push(&nodes[1], &orders, &token, &body, Some(&key)),
        );
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
        assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);
        assert_eq!(first.json(), second.json(), "the same answer through both");
    }
    let (orders, versions, events): (i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from orders where company_id = $1),
                (select count(*) from order_versions v join orders o on o.id = v.order_id
                  where o.company_id = $1),
                (select count(*) from events where company_id = $1 and resource = 'orders')",
    )
    .bind(company)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((orders, versions, events), (10, 10, 10));
}
