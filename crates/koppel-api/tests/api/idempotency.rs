//! `Idempotency-Key` on POST: replays, a key reused with another body, and
//! concurrent duplicates producing exactly one effect. The visible effect is
//! a company created through the admin API.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, StatusCode};
use http_body_util::BodyExt;
use koppel_api::auth::scopes::ClientKind;
use koppel_api::middleware::idempotency::{LEASE, RETENTION, request_hash};
use koppel_store::{Claim, StoredResponse};
use serde_json::{Value, json};
use sqlx::PgPool;
use tower::ServiceExt;
use uuid::Uuid;

use crate::harness::{TestApp, TestResponse};

const COMPANIES: &str = "/v1/admin/companies";

fn post_request(token: &str, key: Option<HeaderValue>, body: &Value) -> Request<Body> {
    let mut builder = Request::post(COMPANIES)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json");
    if let Some(key) = key {
        builder = builder.header("idempotency-key", key);
    }
    builder.body(Body::from(body.to_string())).unwrap()
}

/// Sends through a clone of the router, so that it can run in its own task.
async fn send(router: Router, request: Request<Body>) -> TestResponse {
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    TestResponse {
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn create(app: &TestApp, token: &str, key: &str, body: &Value) -> TestResponse {
    let key = HeaderValue::from_str(key).unwrap();
    app.send(post_request(token, Some(key), body)).await
}

async fn company_count(app: &TestApp, token: &str) -> usize {
    let list = app.get(COMPANIES, token).await;
    assert_eq!(list.status, StatusCode::OK);
    list.json()["data"].as_array().unwrap().len()
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn without_a_key_every_post_acts_so_the_effect_is_visible(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.admin_token().await;
    let body = json!({"name": "Bakkerij De Korenbloem"});
    app.post(COMPANIES, &admin, body.clone()).await;
    app.post(COMPANIES, &admin, body).await;
    assert_eq!(company_count(&app, &admin).await, 2);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn the_same_key_and_body_replay_the_first_answer_without_acting_again(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.admin_token().await;
    let body = json!({"name": "Bakkerij De Korenbloem"});

    let first = create(&app, &admin, "nightly-2024-05-01", &body).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(first.header("idempotent-replayed"), None);

    let again = create(&app, &admin, "nightly-2024-05-01", &body).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json(), first.json(), "the very same answer");
    assert_eq!(again.header("content-type"), Some("application/json"));
    assert_ne!(again.header("x-request-id"), first.header("x-request-id"));
    assert!(
        again.header("x-ratelimit-remaining").is_some(),
        "a replay is a response of its own, with fresh rate-limit headers"
    );

    assert_eq!(company_count(&app, &admin).await, 1);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_key_reused_with_another_body_is_a_400_and_acts_not(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.admin_token().await;
    let first = create(&app, &admin, "k-1", &json!({"name": "Bakkerij"})).await;
    assert_eq!(first.status, StatusCode::CREATED);

    let reused = create(&app, &admin, "k-1", &json!({"name": "Slagerij"})).await;
    assert_eq!(reused.status, StatusCode::BAD_REQUEST);
    let problem = reused.problem();
    assert_eq!(problem.code, "idempotency_key_reused");
    assert!(problem.detail.contains("new key"), "{}", problem.detail);
    assert_eq!(reused.header("idempotent-replayed"), None);

    // Keys belong to a client: another client may use the same key.
    let other_admin = app.admin_token().await;
    let other = create(&app, &other_admin, "k-1", &json!({"name": "Slagerij"})).await;
    assert_eq!(other.status, StatusCode::CREATED);
    assert_eq!(other.header("idempotent-replayed"), None);

    assert_eq!(company_count(&app, &admin).await, 2);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn concurrent_duplicates_produce_exactly_one_company(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.admin_token().await;
    let body = json!({"name": "Tegelijk B.V."});

    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let request = post_request(&admin, Some(HeaderValue::from_static("same")), &body);
            tokio::spawn(send(app.router.clone(), request))
        })
        .collect();
    let mut responses = Vec::new();
    for task in tasks {
        responses.push(task.await.unwrap());
    }

    for response in &responses {
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    }
    let originals = responses
        .iter()
        .filter(|r| r.header("idempotent-replayed").is_none())
        .count();
    assert_eq!(originals, 1, "one request acted, the others replayed it");
    let ids: Vec<Value> = responses.iter().map(|r| r.json()["id"].clone()).collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(company_count(&app, &admin).await, 1);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_duplicate_waits_for_the_request_in_progress_and_replays_its_answer(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.client(ClientKind::Admin, &[]).await;
    let token = app.token(&admin).await;
    let body = json!({"name": "Langzaam B.V."});
    let hash = request_hash(&Method::POST, COMPANIES, body.to_string().as_bytes());

    // A request with this key is in progress (claimed, no answer yet).
    let keys = app.app.store.idempotency();
    let owner = Uuid::new_v4();
    let claim = keys
        .claim(admin.id, "slow", &hash, owner, RETENTION, LEASE)
        .await
        .unwrap();
    assert_eq!(claim, Claim::Claimed);

    let request = post_request(&token, Some(HeaderValue::from_static("slow")), &body);
    let mut waiting = tokio::spawn(send(app.router.clone(), request));
    assert!(
        tokio::time::timeout(Duration::from_millis(300), &mut waiting)
            .await
            .is_err(),
        "the duplicate waits rather than acting"
    );

    let answer = StoredResponse {
        status: 201,
        headers: vec![("content-type".to_owned(), "application/json".to_owned())],
        body: br#"{"id":"from-the-first"}"#.to_vec(),
    };
    assert!(
        keys.complete(admin.id, "slow", owner, &answer)
            .await
            .unwrap()
    );
    let replayed = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("the duplicate finished once the first had")
        .unwrap();
    assert_eq!(replayed.status, StatusCode::CREATED);
    assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
    assert_eq!(replayed.json(), json!({"id": "from-the-first"}));
    assert_eq!(company_count(&app, &token).await, 0, "nothing acted twice");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_duplicate_of_a_request_that_gave_up_its_key_runs_itself(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.client(ClientKind::Admin, &[]).await;
    let token = app.token(&admin).await;
    let body = json!({"name": "Tweede Kans B.V."});
    let hash = request_hash(&Method::POST, COMPANIES, body.to_string().as_bytes());
    let keys = app.app.store.idempotency();
    let owner = Uuid::new_v4();
    keys.claim(admin.id, "retry", &hash, owner, RETENTION, LEASE)
        .await
        .unwrap();

    let request = post_request(&token, Some(HeaderValue::from_static("retry")), &body);
    let waiting = tokio::spawn(send(app.router.clone(), request));
    // The first request failed with a 5xx, which is never stored.
    keys.release(admin.id, "retry", owner).await.unwrap();
    let response = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(response.status, StatusCode::CREATED);
    assert_eq!(response.header("idempotent-replayed"), None);
    assert_eq!(company_count(&app, &token).await, 1);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_content_error_is_stored_and_replayed_with_the_new_request_id(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.admin_token().await;
    let body = json!({"name": " "});
    let first = create(&app, &admin, "bad", &body).await;
    assert_eq!(first.status, StatusCode::BAD_REQUEST);
    let first_problem = first.problem();

    let again = create(&app, &admin, "bad", &body).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    // `problem()` checks the body's request id is this response's own.
    let replayed = again.problem();
    assert_eq!(replayed.code, first_problem.code);
    assert_eq!(replayed.detail, first_problem.detail);
    assert_eq!(
        replayed.errors.unwrap()[0].pointer,
        first_problem.errors.unwrap()[0].pointer
    );
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn answers_that_may_change_are_not_stored(pool: PgPool) {
    let app = TestApp::new(pool);
    let vendor = app.client(ClientKind::Vendor, &[]).await;
    let token = app.token(&vendor).await;
    let body = json!({"name": "Niet Van Mij"});
    let refused = create(&app, &token, "403", &body).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let stored = app
        .app
        .store
        .idempotency()
        .find(vendor.id, "403")
        .await
        .unwrap();
    assert_eq!(stored, None, "a 403 depends on grants, so the key is freed");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_key_that_is_empty_too_long_or_not_ascii_is_a_400(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.admin_token().await;
    let body = json!({"name": "Sleutelbos"});
    for key in [
        HeaderValue::from_static(""),
        HeaderValue::from_str(&"k".repeat(256)).unwrap(),
        HeaderValue::from_bytes("café".as_bytes()).unwrap(),
        HeaderValue::from_bytes(b"tab\there").unwrap(),
    ] {
        let response = app
            .send(post_request(&admin, Some(key.clone()), &body))
            .await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{key:?}");
        let problem = response.problem();
        assert_eq!(problem.code, "invalid_parameter");
        assert!(problem.detail.contains("Idempotency-Key"));
    }
    let longest = HeaderValue::from_str(&"k".repeat(255)).unwrap();
    let fine = app.send(post_request(&admin, Some(longest), &body)).await;
    assert_eq!(fine.status, StatusCode::CREATED);
    assert_eq!(company_count(&app, &admin).await, 1);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn the_token_endpoint_ignores_the_key_and_stores_no_token(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let vendor = app.client(ClientKind::Vendor, &[]).await;
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        vendor.id, vendor.secret
    );
    for _ in 0..2 {
        let response = app
            .send(
                Request::post("/oauth/token")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("idempotency-key", "token-1")
                    .body(Body::from(form.clone()))
                    .unwrap(),
            )
            .await;
        assert_eq!(response.status, StatusCode::OK);
        assert_eq!(response.header("idempotent-replayed"), None);
    }
    let rows: i64 = sqlx::query_scalar("select count(*) from idempotency_keys")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 0);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn expired_keys_are_deleted_and_an_expired_key_acts_afresh(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let admin = app.client(ClientKind::Admin, &[]).await;
    let token = app.token(&admin).await;
    let keys = app.app.store.idempotency();
    let hash = [7u8; 32];
    for key in ["old-1", "old-2"] {
        let claim = keys
            .claim(admin.id, key, &hash, Uuid::new_v4(), Duration::ZERO, LEASE)
            .await
            .unwrap();
        assert_eq!(claim, Claim::Claimed);
    }
    keys.claim(admin.id, "fresh", &hash, Uuid::new_v4(), RETENTION, LEASE)
        .await
        .unwrap();

    // A batch of one still deletes every expired key, one statement at a time.
    assert_eq!(keys.delete_expired(1).await.unwrap(), 2);
    assert_eq!(keys.delete_expired(1).await.unwrap(), 0);
    assert!(keys.find(admin.id, "fresh").await.unwrap().is_some());

    // A key past its week acts again, even with another body.
    let first = create(&app, &token, "weekly", &json!({"name": "Week 1"})).await;
    assert_eq!(first.status, StatusCode::CREATED);
    sqlx::query(
        "update idempotency_keys set expires_at = now() - interval '1 second' where key = 'weekly'",
    )
    .execute(&pool)
    .await
    .unwrap();
    let later = create(&app, &token, "weekly", &json!({"name": "Week 2"})).await;
    assert_eq!(later.status, StatusCode::CREATED);
    assert_eq!(later.header("idempotent-replayed"), None);
    assert_eq!(company_count(&app, &token).await, 2);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_key_whose_request_died_is_free_once_its_lease_ends(pool: PgPool) {
    // The server that claimed the key crashed, or could not release it because the
    // database was gone: nothing renews the claim. The client's retry waits for the
    // lease, then runs; it does not get 409 for minutes.
    let app = TestApp::new(pool);
    let admin = app.client(ClientKind::Admin, &[]).await;
    let token = app.token(&admin).await;
    let body = json!({"name": "Na De Storing B.V."});
    let hash = request_hash(&Method::POST, COMPANIES, body.to_string().as_bytes());
    let keys = app.app.store.idempotency();
    let lease = Duration::from_secs(1);
    keys.claim(admin.id, "orphan", &hash, Uuid::new_v4(), RETENTION, lease)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let retry = create(&app, &token, "orphan", &body).await;
    assert_eq!(retry.status, StatusCode::CREATED, "{}", retry.text);
    assert_eq!(retry.header("idempotent-replayed"), None);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(company_count(&app, &token).await, 1);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_request_longer_than_its_lease_keeps_its_key_by_renewing_it(pool: PgPool) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::routing::post;
    use koppel_api::middleware::{idempotency, ratelimit};

    let config = koppel_api::Config {
        idempotency_lease: Duration::from_millis(600),
        ..koppel_api::Config::default()
    };
    let app = TestApp::with_config(koppel_store::Store::from_pool(pool), config);
    let admin = app.client(ClientKind::Admin, &[]).await;
    let token = app.token(&admin).await;
    // A handler that takes three leases to answer, and counts how often it ran.
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    // Like every POST route, it takes an authorising extractor first, which is what serves a
    // replay (see koppel_api::replay).
    let slow = post(move |_admin: koppel_api::auth::extract::Admin| {
        let counted = Arc::clone(&counted);
        async move {
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(1800)).await;
            (StatusCode::CREATED, "done")
        }
    });
    let router = Router::new()
        .route("/v1/slow", slow)
        .layer(axum::middleware::from_fn_with_state(
            app.app.clone(),
            idempotency::idempotency,
        ))
        .layer(axum::middleware::from_fn_with_state(
            app.app.clone(),
            ratelimit::limit,
        ))
        .with_state(app.app.clone());
    let request = || {
        Request::post("/v1/slow")
            .header("authorization", format!("Bearer {token}"))
            .header("idempotency-key", "long")
            .body(Body::from("{}"))
            .unwrap()
    };
    let first = tokio::spawn(send(router.clone(), request()));
    // Two leases later, a retry: the claim must still be held (renewed), so the retry
    // waits for the first answer instead of running the handler a second time.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let second = send(router.clone(), request()).await;
    let first = first.await.unwrap();
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(runs.load(Ordering::SeqCst), 1, "the handler ran twice");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_replay_is_served_only_to_a_client_still_authorised_for_it(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.admin_token().await;
    let company = app.company("Ingetrokken B.V.").await;
    let vendor = app.client(ClientKind::Vendor, &[company]).await;
    let token = app.token(&vendor).await;
    let uri = format!("/v1/companies/{company}/customers");
    let body = json!({"external_id": "c-1", "name": "Jan"});
    let send_it = || {
        Request::post(&uri)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .header("idempotency-key", "once")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    assert_eq!(app.send(send_it()).await.status, StatusCode::CREATED);
    let again = app.send(send_it()).await;
    assert_eq!(again.header("idempotent-replayed"), Some("true"));

    // The grant is withdrawn: the stored answer is no longer this client's to see.
    let ungrant = format!("/v1/admin/clients/{}/companies/{company}", vendor.id);
    let withdrawn = app.call(Method::DELETE, &ungrant, Some(&admin), None).await;
    assert!(withdrawn.status.is_success(), "{}", withdrawn.text);
    let refused = app.send(send_it()).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.text);
    assert_eq!(refused.header("idempotent-replayed"), None);
    assert_eq!(refused.problem().code, "not_found");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_client_holding_its_quota_of_keys_gets_no_new_one_but_its_replays(pool: PgPool) {
    let config = koppel_api::Config {
        idempotency_quota: 3,
        ..koppel_api::Config::default()
    };
    let app = TestApp::with_config(koppel_store::Store::from_pool(pool), config);
    let admin = app.admin_token().await;
    for i in 0..3 {
        let r = create(
            &app,
            &admin,
            &format!("key-{i}"),
            &json!({"name": format!("B.V. {i}")}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    // A fourth key: refused, with when the oldest expires (within the 7 days), nothing done.
    let refused = create(&app, &admin, "key-3", &json!({"name": "B.V. 3"})).await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.text
    );
    assert_eq!(refused.problem().code, "idempotency_quota_exceeded");
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= RETENTION.as_secs(), "{retry}");
    assert_eq!(company_count(&app, &admin).await, 3);
    // A key it holds is replayed; a request without a key acts as ever.
    let replay = create(&app, &admin, "key-1", &json!({"name": "B.V. 1"})).await;
    assert_eq!(replay.status, StatusCode::CREATED, "{}", replay.text);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    let plain = app
        .send(post_request(&admin, None, &json!({"name": "B.V. 4"})))
        .await;
    assert_eq!(plain.status, StatusCode::CREATED, "{}", plain.text);
    assert_eq!(company_count(&app, &admin).await, 4);
    // Another client's keys do not count against this one's.
    let other = app.client(ClientKind::Admin, &[]).await;
    let other = app.token(&other).await;
    let r = create(&app, &other, "key-3", &json!({"name": "B.V. 5"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}
