//! OAuth 2.0 client credentials (RFC 6749 §4.4, §5.2), scopes, expiry,
//! revocation, rotation and tenant isolation.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use koppel_api::auth::scopes::ClientKind;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::harness::{TestApp, TestClient, TestResponse};

async fn token_request(app: &TestApp, basic: Option<(&str, &str)>, form: &str) -> TestResponse {
    let mut builder =
        Request::post("/oauth/token").header("content-type", "application/x-www-form-urlencoded");
    if let Some((id, secret)) = basic {
        builder = builder.header(
            "authorization",
            format!("Basic {}", STANDARD.encode(format!("{id}:{secret}"))),
        );
    }
    app.send(builder.body(Body::from(form.to_owned())).unwrap())
        .await
}

fn oauth_error(response: &TestResponse) -> String {
    assert_eq!(response.header("cache-control"), Some("no-store"));
    response.json()["error"].as_str().unwrap().to_owned()
}

async fn vendor_of_new_company(app: &TestApp) -> (uuid::Uuid, TestClient) {
    let company = app.company("Webwinkel").await;
    let vendor = app.client(ClientKind::Vendor, &[company]).await;
    (company, vendor)
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn basic_authentication_and_body_credentials_both_give_a_bearer_token(pool: PgPool) {
    let app = TestApp::new(pool);
    let (company, vendor) = vendor_of_new_company(&app).await;
    let id = vendor.id.to_string();
    let basic = token_request(
        &app,
        Some((&id, &vendor.secret)),
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(basic.status, StatusCode::OK);
    assert_eq!(basic.header("cache-control"), Some("no-store"));
    let body = basic.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(body["scope"].as_str().unwrap().contains("orders:write"));

    let form = format!(
        "grant_type=client_credentials&client_id={id}&client_secret={}",
        vendor.secret
    );
    let in_body = token_request(&app, None, &form).await;
    assert_eq!(in_body.status, StatusCode::OK);

    let token = body["access_token"].as_str().unwrap();
    let company_response = app.get(&format!("/v1/companies/{company}"), token).await;
    assert_eq!(company_response.status, StatusCode::OK);
    assert_eq!(company_response.json()["timezone"], "Europe/Amsterdam");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn each_rfc_6749_error_has_its_code_and_status(pool: PgPool) {
    let app = TestApp::new(pool);
    let (_, vendor) = vendor_of_new_company(&app).await;
    let id = vendor.id.to_string();

    let wrong_secret =
        token_request(&app, Some((&id, "wrong")), "grant_type=client_credentials").await;
    assert_eq!(wrong_secret.status, StatusCode::UNAUTHORIZED);
    assert_eq!(oauth_error(&wrong_secret), "invalid_client");
    assert_eq!(
        wrong_secret.header("www-authenticate"),
        Some("Basic realm=\"koppel\"")
    );

    let unknown = token_request(
        &app,
        None,
        "grant_type=client_credentials&client_id=nobody&client_secret=x",
    )
    .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(oauth_error(&unknown), "invalid_client");

    let no_credentials = token_request(&app, None, "grant_type=client_credentials").await;
    assert_eq!(no_credentials.status, StatusCode::UNAUTHORIZED);
    assert_eq!(oauth_error(&no_credentials), "invalid_client");

    let no_grant = token_request(&app, Some((&id, &vendor.secret)), "scope=orders:read").await;
    assert_eq!(no_grant.status, StatusCode::BAD_REQUEST);
    assert_eq!(oauth_error(&no_grant), "invalid_request");

    let twice = format!(
        "grant_type=client_credentials&client_id={id}&client_secret={}",
        vendor.secret
    );
    let both = token_request(&app, Some((&id, &vendor.secret)), &twice).await;
    assert_eq!(both.status, StatusCode::BAD_REQUEST);
    assert_eq!(oauth_error(&both), "invalid_request");

    let repeated = token_request(
        &app,
        Some((&id, &vendor.secret)),
        "grant_type=client_credentials&grant_type=client_credentials",
    )
    .await;
    assert_eq!(oauth_error(&repeated), "invalid_request");

    let password = token_request(
        &app,
        Some((&id, &vendor.secret)),
        "grant_type=password&username=a&password=b",
    )
    .await;
    assert_eq!(password.status, StatusCode::BAD_REQUEST);
    assert_eq!(oauth_error(&password), "unsupported_grant_type");

    let admin_scope = token_request(
        &app,
        Some((&id, &vendor.secret)),
        "grant_type=client_credentials&scope=admin",
    )
    .await;
    assert_eq!(admin_scope.status, StatusCode::BAD_REQUEST);
    assert_eq!(oauth_error(&admin_scope), "invalid_scope");

    let json_body = app
        .send(
            Request::post("/oauth/token")
                .header("content-type", "application/json")
                .body(Body::from(r#"{"grant_type":"client_credentials"}"#))
                .unwrap(),
        )
        .await;
    assert_eq!(json_body.status, StatusCode::BAD_REQUEST);
    assert_eq!(oauth_error(&json_body), "invalid_request");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_narrowed_token_carries_only_the_scopes_asked_for(pool: PgPool) {
    let app = TestApp::new(pool);
    let (company, vendor) = vendor_of_new_company(&app).await;
    let id = vendor.id.to_string();
    let narrowed = token_request(
        &app,
        Some((&id, &vendor.secret)),
        "grant_type=client_credentials&scope=orders%3Aread",
    )
    .await;
    assert_eq!(narrowed.status, StatusCode::OK);
    let body = narrowed.json();
    assert_eq!(body["scope"], "orders:read");
    let token = body["access_token"].as_str().unwrap();
    let response = app.get(&format!("/v1/companies/{company}"), token).await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    let problem = response.problem();
    assert_eq!(problem.code, "insufficient_scope");
    assert!(
        problem.detail.contains("settings:read"),
        "{}",
        problem.detail
    );
    assert!(
        response
            .header("www-authenticate")
            .unwrap()
            .contains("scope=\"settings:read\"")
    );
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn no_token_a_bad_token_and_an_expired_token_are_401_with_a_bearer_challenge(pool: PgPool) {
    let app = TestApp::new(pool);
    let (company, vendor) = vendor_of_new_company(&app).await;
    let uri = format!("/v1/companies/{company}");
    let expired = {
        let past = chrono::Utc::now() - chrono::Duration::hours(2);
        let scopes = vec!["settings:read".to_owned()];
        app.app
            .auth
            .keys
            .issue(vendor.id, &scopes, 1, past)
            .unwrap()
            .0
    };
    for token in [None, Some("not-a-token"), Some(expired.as_str())] {
        let response = app.call(Method::GET, &uri, token, None).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{token:?}");
        assert!(
            response
                .header("www-authenticate")
                .unwrap()
                .starts_with("Bearer")
        );
        assert_eq!(response.problem().code, "unauthorized");
    }
    let expired_response = app.get(&uri, &expired).await;
    assert!(expired_response.problem().detail.contains("expired"));
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_revoked_client_loses_its_tokens_at_once_and_gets_no_new_one(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.admin_token().await;
    let (company, vendor) = vendor_of_new_company(&app).await;
    let token = app.token(&vendor).await;
    let uri = format!("/v1/companies/{company}");
    assert_eq!(app.get(&uri, &token).await.status, StatusCode::OK);

    let revoked = app
        .call(
            Method::DELETE,
            &format!("/v1/admin/clients/{}", vendor.id),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert!(revoked.json()["revoked_at"].is_string());

    assert_eq!(app.get(&uri, &token).await.status, StatusCode::UNAUTHORIZED);
    let id = vendor.id.to_string();
    let again = token_request(
        &app,
        Some((&id, &vendor.secret)),
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    assert_eq!(oauth_error(&again), "invalid_client");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_rotated_secret_ends_the_old_secret_and_its_tokens(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.admin_token().await;
    let (company, vendor) = vendor_of_new_company(&app).await;
    let old_token = app.token(&vendor).await;
    let rotated = app
        .call(
            Method::POST,
            &format!("/v1/admin/clients/{}/rotate-secret", vendor.id),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK);
    let new_secret = rotated.json()["client_secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, vendor.secret);

    let uri = format!("/v1/companies/{company}");
    assert_eq!(
        app.get(&uri, &old_token).await.status,
        StatusCode::UNAUTHORIZED
    );
    let id = vendor.id.to_string();
    let old = token_request(
        &app,
        Some((&id, &vendor.secret)),
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new_token = app
        .token(&TestClient {
            id: vendor.id,
            secret: new_secret,
        })
        .await;
    assert_eq!(app.get(&uri, &new_token).await.status, StatusCode::OK);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn repeated_failed_token_requests_are_slowed_down_per_client(pool: PgPool) {
    let app = TestApp::new(pool);
    let (_, vendor) = vendor_of_new_company(&app).await;
    let id = vendor.id.to_string();
    let burst = app.app.auth.failure_quota.burst;
    for _ in 0..burst {
        let response =
            token_request(&app, Some((&id, "guess")), "grant_type=client_credentials").await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    }
    // Now even the right secret waits: a guesser learns nothing more.
    let blocked = token_request(
        &app,
        Some((&id, &vendor.secret)),
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(oauth_error(&blocked), "slow_down");
    assert!(
        blocked
            .header("retry-after")
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
}

/// A token request with basic credentials, as if from `peer`.
async fn token_request_from(app: &TestApp, peer: [u8; 4], id: &str, secret: &str) -> TestResponse {
    let peer = std::net::SocketAddr::from((peer, 40_000));
    let request = Request::post("/oauth/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "authorization",
            format!("Basic {}", STANDARD.encode(format!("{id}:{secret}"))),
        )
        .extension(axum::extract::ConnectInfo(peer))
        .body(Body::from("grant_type=client_credentials"))
        .unwrap();
    app.send(request).await
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn failures_from_another_address_never_lock_out_the_right_secret(pool: PgPool) {
    // Client ids are not secret: someone who knows one and fails on purpose from
    // elsewhere must not lock out its owner.
    let app = TestApp::new(pool);
    let (_, vendor) = vendor_of_new_company(&app).await;
    let id = vendor.id.to_string();
    let attacker = [203, 0, 113, 9];
    let burst = app.app.auth.failure_quota.burst;
    let mut refused = 0;
    for _ in 0..burst + 5 {
        let response = token_request_from(&app, attacker, &id, "guess").await;
        if response.status == StatusCode::TOO_MANY_REQUESTS {
            refused += 1;
        }
    }
    assert_eq!(refused, 5, "the attacker's own attempts are limited");
    let owner = token_request_from(&app, [198, 51, 100, 7], &id, &vendor.secret).await;
    assert_eq!(owner.status, StatusCode::OK, "{}", owner.text);
    // From the attacker's address, the right secret waits too: a guesser learns nothing.
    let blocked = token_request_from(&app, attacker, &id, &vendor.secret).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn parallel_wrong_secrets_are_limited_as_if_they_came_one_by_one(pool: PgPool) {
    let app = Arc::new(TestApp::new(pool));
    let (_, vendor) = vendor_of_new_company(&app).await;
    let id = vendor.id.to_string();
    let attempts = (0..200).map(|_| {
        let app = Arc::clone(&app);
        let id = id.clone();
        tokio::spawn(async move {
            token_request_from(&app, [192, 0, 2, 1], &id, "guess")
                .await
                .status
        })
    });
    let mut statuses = Vec::new();
    for attempt in attempts.collect::<Vec<_>>() {
        statuses.push(attempt.await.unwrap());
    }
    let tried = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    let burst = app.app.auth.failure_quota.burst as usize;
    // A token may be earned while the 200 run (one every 6 s): allow one more.
    assert!(
        tried <= burst + 1,
        "{tried} wrong secrets were checked, the burst is {burst}"
    );
    assert_eq!(tried + limited, 200);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn token_requests_from_one_address_are_limited_even_when_they_succeed(pool: PgPool) {
    let app = TestApp::new(pool);
    let (_, vendor) = vendor_of_new_company(&app).await;
    let id = vendor.id.to_string();
    let burst = koppel_api::auth::TOKEN_ISSUE_QUOTA_PER_PEER.burst;
    let mut statuses = Vec::new();
    // 200 over the burst: at 10 earned a second, all would pass only if they took 20 s.
    for _ in 0..burst + 200 {
        statuses.push(
            token_request_from(&app, [192, 0, 2, 2], &id, &vendor.secret)
                .await
                .status,
        );
    }
    assert_eq!(statuses[0], StatusCode::OK);
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{} token requests from one address were all served",
        statuses.len()
    );
    // Another address is not affected.
    let other = token_request_from(&app, [192, 0, 2, 3], &id, &vendor.secret).await;
    assert_eq!(other.status, StatusCode::OK);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn grants_added_and_removed_take_effect_at_once(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.admin_token().await;
    let (_, vendor) = vendor_of_new_company(&app).await;
    let other = app.company("Other").await;
    let token = app.token(&vendor).await;
    let uri = format!("/v1/companies/{other}");
    let grant = format!("/v1/admin/clients/{}/companies/{other}", vendor.id);
    assert_eq!(app.get(&uri, &token).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.call(Method::PUT, &grant, Some(&admin), None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(app.get(&uri, &token).await.status, StatusCode::OK);
    let listed = app.get("/v1/companies", &token).await.json();
    assert_eq!(listed["data"].as_array().unwrap().len(), 2);
    assert_eq!(
        app.call(Method::DELETE, &grant, Some(&admin), None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(app.get(&uri, &token).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.call(Method::DELETE, &grant, Some(&admin), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn admin_routes_need_the_admin_scope(pool: PgPool) {
    let app = TestApp::new(pool);
    let (_, vendor) = vendor_of_new_company(&app).await;
    let token = app.token(&vendor).await;
    let response = app
        .post("/v1/admin/companies", &token, json!({"name": "X"}))
        .await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    assert_eq!(response.problem().code, "insufficient_scope");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_token_names_the_issuer_of_the_oauth_metadata_as_issuer_and_audience(pool: PgPool) {
    let config = koppel_api::Config {
        public_url: "https://api.koppel.example/".to_owned(),
        ..koppel_api::Config::default()
    };
    let app = TestApp::with_config(koppel_store::Store::from_pool(pool), config);
    let (_, vendor) = vendor_of_new_company(&app).await;
    let token = app.token(&vendor).await;
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    let metadata = app
        .call(
            Method::GET,
            "/.well-known/oauth-authorization-server",
            None,
            None,
        )
        .await
        .json();
    assert_eq!(metadata["issuer"], "https://api.koppel.example");
    assert_eq!(claims["iss"], metadata["issuer"]);
    assert_eq!(claims["aud"], metadata["issuer"]);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_token_claiming_scopes_its_client_lacks_gets_none_of_them(pool: PgPool) {
    // Someone who has the signing key signs a vendor token claiming admin and
    // bookings:write: the claim counts only as far as the client holds it.
    let app = TestApp::new(pool);
    let (company, vendor) = vendor_of_new_company(&app).await;
    let keys = koppel_api::auth::tokens::TokenKeys::new(
        crate::harness::TEST_KEY,
        std::time::Duration::from_secs(600),
        &app.app.config.public_url,
    )
    .unwrap();
    let claimed = ["admin", "bookings:write", "settings:read"].map(str::to_owned);
    let (forged, _) = keys
        .issue(vendor.id, &claimed, 1, chrono::Utc::now())
        .unwrap();

    let response = app
        .post("/v1/admin/companies", &forged, json!({"name": "X"}))
        .await;
    assert_eq!(response.status, StatusCode::FORBIDDEN, "{}", response.text);
    assert_eq!(response.problem().code, "insufficient_scope");
    let booking = app
        .post(
            &format!(
                "/v1/companies/{company}/orders/{}/bookings",
                uuid::Uuid::new_v4()
            ),
            &forged,
            json!({}),
        )
        .await;
    assert_eq!(booking.status, StatusCode::FORBIDDEN, "{}", booking.text);
    // A scope the vendor does hold still works with the same token.
    let read = app.get(&format!("/v1/companies/{company}"), &forged).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn onboarding_through_the_admin_api_gives_a_working_client(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.admin_token().await;
    let company = app
        .post(
            "/v1/admin/companies",
            &admin,
            json!({"name": "Bakkerij", "business_day_cutoff": "04:00"}),
        )
        .await;
    assert_eq!(company.status, StatusCode::CREATED);
    let company = company.json();
    assert_eq!(company["business_day_cutoff"], "04:00");
    let company_id = company["id"].as_str().unwrap();
    let created = app
        .post(
            "/v1/admin/clients",
            &admin,
            json!({"name": "Kassa", "kind": "connector", "company_ids": [company_id]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let created = created.json();
    let secret = created["client_secret"].as_str().unwrap();
    assert!(secret.len() >= 43, "a secret of at least 256 bits");
    assert!(
        created["scopes"]
            .as_array()
            .unwrap()
            .contains(&json!("events:read"))
    );
    let id = created["client_id"].as_str().unwrap();
    let shown = app
        .get(&format!("/v1/admin/clients/{id}"), &admin)
        .await
        .json();
    assert!(
        shown.get("client_secret").is_none(),
        "a secret is shown only once"
    );

    let bad = app
        .post("/v1/admin/clients", &admin, json!({"name": "V", "kind": "vendor", "scopes": ["admin", "nope"], "company_ids": [uuid::Uuid::new_v4()]}))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let codes: Vec<String> = bad
        .problem()
        .errors
        .unwrap()
        .into_iter()
        .map(|e| e.code)
        .collect();
    assert_eq!(codes, ["scope_not_allowed", "unknown_scope"]);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn the_oauth_metadata_names_the_token_endpoint_and_scopes(pool: PgPool) {
    let app = TestApp::new(pool);
    let response = app
        .call(
            Method::GET,
            "/.well-known/oauth-authorization-server",
            None,
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::OK);
    let body = response.json();
    assert!(
        body["token_endpoint"]
            .as_str()
            .unwrap()
            .ends_with("/oauth/token")
    );
    assert_eq!(body["grant_types_supported"], json!(["client_credentials"]));
    assert!(
        body["scopes_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("orders:write"))
    );
}

/// Every company-scoped operation of the served spec, called by a client of
/// company A on company B, answers 404: the same as a company that does not
/// exist. New routes are covered without touching this test.
#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_client_of_one_company_sees_nothing_of_another_on_any_company_route(pool: PgPool) {
    let app = TestApp::new(pool);
    let a = app.company("A").await;
    let b = app.company("B").await;
    let vendor = app.client(ClientKind::Vendor, &[a]).await;
    let connector = app.client(ClientKind::Connector, &[a]).await;
    let tokens = [app.token(&vendor).await, app.token(&connector).await];

    let spec: Value = serde_json::to_value(koppel_api::openapi()).unwrap();
    let mut checked = 0;
    for (path, operations) in spec["paths"].as_object().unwrap() {
        if !path.contains("{company_id}") {
            continue;
        }
        for (method, operation) in operations.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            let required: Vec<&str> = operation["security"][0]["oauth2"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            // Fill every other path parameter with a fresh id.
            let uri = fill_path(path, b);
            let body = (method == Method::POST || method == Method::PUT || method == Method::PATCH)
                .then(|| json!({}));
            for token in &tokens {
                let response = app
                    .call(method.clone(), &uri, Some(token), body.clone())
                    .await;
                let status = response.status;
                // A client without the scope is stopped earlier, with 403; a
                // client with it must not learn that company B exists.
                assert!(
                    status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN,
                    "{method} {uri} answered {status}: {}",
                    response.text
                );
                if status == StatusCode::FORBIDDEN {
                    assert!(
                        !required.is_empty(),
                        "{method} {path} is 403 without a declared scope"
                    );
                }
            }
            // The same call on company A itself is not a 404 for the company
            // (it may be a 404 for the inner id, or a 400 for the empty body).
            checked += 1;
        }
    }
    assert!(
        checked >= 1,
        "no company-scoped operation found in the spec"
    );
}

fn fill_path(path: &str, company: uuid::Uuid) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = start + rest[start..].find('}').unwrap();
        let name = &rest[start + 1..end];
        if name == "company_id" {
            out.push_str(&company.to_string());
        } else if name.contains("date") {
            out.push_str("2026-01-01");
        } else {
            out.push_str(&uuid::Uuid::new_v4().to_string());
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// A writer that keeps everything logged, to search it afterwards.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn no_secret_or_token_appears_in_the_logs(pool: PgPool) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_current_span(true)
        .with_span_list(true)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = TestApp::new(pool);
    let admin = app.admin_token().await;
    let (company, vendor) = vendor_of_new_company(&app).await;
    let token = app.token(&vendor).await;
    app.get(&format!("/v1/companies/{company}"), &token).await;
    let id = vendor.id.to_string();
    token_request(
        &app,
        Some((&id, "wrong-secret-attempt")),
        "grant_type=client_credentials",
    )
    .await;
    let rotated = app
        .call(
            Method::POST,
            &format!("/v1/admin/clients/{}/rotate-secret", vendor.id),
            Some(&admin),
            None,
        )
        .await
        .json();
    let new_secret = rotated["client_secret"].as_str().unwrap();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("request finished"),
        "the capture works: {logs}"
    );
    assert!(
        logs.contains(&vendor.id.to_string()),
        "client ids are logged"
    );
    for secret in [
        vendor.secret.as_str(),
        new_secret,
        "wrong-secret-attempt",
        token.as_str(),
        admin.as_str(),
    ] {
        assert!(
            !logs.contains(secret),
            "a secret or token leaked into the logs"
        );
    }
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_refused_token_request_is_logged_with_its_client_id_and_address(pool: PgPool) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = TestApp::new(pool);
    let (_, vendor) = vendor_of_new_company(&app).await;
    let id = vendor.id.to_string();
    let refused = token_request_from(&app, [203, 0, 113, 9], &id, "a-guess").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);

    // An operator looking into guessed secrets sees whose, and from where.
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let line = logs
        .lines()
        .find(|line| line.contains("token refused"))
        .unwrap_or_else(|| panic!("no log line of the refusal: {logs}"));
    assert!(line.contains(&id), "{line}");
    assert!(line.contains("203.0.113.9"), "{line}");
    assert!(!line.contains("a-guess"), "{line}");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn bearer_tokens_that_do_not_verify_are_limited_per_address(pool: PgPool) {
    let app = TestApp::new(pool);
    let (company, vendor) = vendor_of_new_company(&app).await;
    let good = app.token(&vendor).await;
    let uri = format!("/v1/companies/{company}");
    let from = |peer: [u8; 4], token: &str| {
        Request::get(&uri)
            .header("authorization", format!("Bearer {token}"))
            .extension(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                peer, 40_000,
            ))))
            .body(Body::empty())
            .unwrap()
    };
    let burst = koppel_api::auth::BAD_BEARER_QUOTA_PER_PEER.burst;
    let mut statuses = Vec::new();
    // 200 over the burst: at 10 earned a second, all would pass only if they took 20 s.
    for i in 0..burst + 200 {
        let forged = format!("eyJhbGciOiJIUzI1NiJ9.{i}.forged");
        statuses.push(app.send(from([192, 0, 2, 9], &forged)).await.status);
    }
    assert_eq!(statuses[0], StatusCode::UNAUTHORIZED);
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(
        limited >= 100,
        "only {limited} of {} limited",
        statuses.len()
    );
    // A valid token from the same address is served; forged ones from elsewhere get 401.
    assert_eq!(
        app.send(from([192, 0, 2, 9], &good)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.send(from([192, 0, 2, 10], "forged")).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn behind_a_trusted_proxy_limits_count_the_forwarded_client_not_the_proxy(pool: PgPool) {
    let config = koppel_api::Config {
        trusted_proxies: vec![
            koppel_api::middleware::client_address::TrustedProxy::parse("10.0.0.0/8").unwrap(),
        ],
        ..koppel_api::Config::default()
    };
    let app = TestApp::with_config(koppel_store::Store::from_pool(pool), config);
    let (company, _) = vendor_of_new_company(&app).await;
    let uri = format!("/v1/companies/{company}");
    let via = |peer: [u8; 4], forwarded: &str| {
        Request::get(&uri)
            .header("authorization", "Bearer forged")
            .header("x-forwarded-for", forwarded)
            .extension(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                peer, 40_000,
            ))))
            .body(Body::empty())
            .unwrap()
    };
    let burst = koppel_api::auth::BAD_BEARER_QUOTA_PER_PEER.burst;
    let mut last = StatusCode::OK;
    for _ in 0..burst + 200 {
        last = app.send(via([10, 0, 0, 5], "203.0.113.1")).await.status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    // Another client through the same proxy has its own count.
    assert_eq!(
        app.send(via([10, 0, 0, 5], "203.0.113.2")).await.status,
        StatusCode::UNAUTHORIZED
    );
    // A peer that is not a trusted proxy cannot pick its address with the header: it is
    // counted as itself, whatever it forwards.
    let mut statuses = Vec::new();
    for i in 0..burst + 200 {
        statuses.push(
            app.send(via([198, 51, 100, 7], &format!("203.0.113.{}", i % 250)))
                .await
                .status,
        );
    }
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS));
}
