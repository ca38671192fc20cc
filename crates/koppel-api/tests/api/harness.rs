//! The test application: a router over a test database, with helpers to make
//! companies, clients and tokens, and to send requests.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use koppel_api::auth::scopes::ClientKind;
use koppel_api::auth::tokens::TokenKeys;
use koppel_api::error::Problem;
use koppel_api::onboarding::{self, CreateClient, CreateCompany};
use koppel_api::{App, Config};
use koppel_store::Store;
use serde_json::Value;
use sqlx::PgPool;
use tower::ServiceExt;
use uuid::Uuid;

/// The signing key every test app uses.
pub const TEST_KEY: &[u8] = b"a test signing key of at least thirty-two bytes";

/// A client made for a test, with its secret.
#[derive(Debug, Clone)]
pub struct TestClient {
    pub id: Uuid,
    pub secret: String,
}

/// The application under test.
pub struct TestApp {
    pub app: App,
    pub router: Router,
}

impl TestApp {
    pub fn new(pool: PgPool) -> Self {
        Self::with_store(Store::from_pool(pool))
    }

    pub fn with_store(store: Store) -> Self {
        Self::with_config(store, Config::default())
    }

    pub fn with_config(store: Store, config: Config) -> Self {
        let keys = TokenKeys::new(TEST_KEY, Duration::from_secs(3600), &config.public_url).unwrap();
        let app = App::new(store, keys, config);
        let router = koppel_api::router(app.clone());
        Self { app, router }
    }

    pub async fn company(&self, name: &str) -> Uuid {
        let input = CreateCompany {
            name: name.to_owned(),
            timezone: None,
            currency: None,
            business_day_cutoff: None,
        };
        onboarding::create_company(&self.app.store, input)
            .await
            .unwrap()
            .id
    }

    pub async fn client(&self, kind: ClientKind, companies: &[Uuid]) -> TestClient {
        let input = CreateClient {
            name: format!("test {}", kind.as_str()),
            kind,
            scopes: None,
            company_ids: companies.to_vec(),
            rate_limit: None,
        };
        let (record, secret) = onboarding::create_client(&self.app.store, input)
            .await
            .unwrap();
        self.app.auth.registry.update(&record);
        TestClient {
            id: record.id,
            secret,
        }
    }

    /// A token for `client` through the real token endpoint.
    pub async fn token(&self, client: &TestClient) -> String {
        let response = self
            .send(
                Request::post("/oauth/token")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(Body::from(format!(
                        "grant_type=client_credentials&client_id={}&client_secret={}",
                        client.id, client.secret
                    )))
                    .unwrap(),
            )
            .await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "token request failed: {}",
            response.text
        );
        response.json()["access_token"].as_str().unwrap().to_owned()
    }

    /// An admin client's token.
    pub async fn admin_token(&self) -> String {
        let admin = self.client(ClientKind::Admin, &[]).await;
        self.token(&admin).await
    }

    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        TestResponse {
            status,
            headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        let body = match body {
            Some(json) => {
                builder = builder.header("content-type", "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        self.send(builder.body(body).unwrap()).await
    }

    pub async fn get(&self, uri: &str, token: &str) -> TestResponse {
        self.call(Method::GET, uri, Some(token), None).await
    }

    pub async fn post(&self, uri: &str, token: &str, body: Value) -> TestResponse {
        self.call(Method::POST, uri, Some(token), Some(body)).await
    }
}

/// A finished response, body read.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// The problem body, checked to be one: right content type, the request
    /// id of the header, the status of the response.
    pub fn problem(&self) -> Problem {
        assert_eq!(
            self.headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
            "not a problem body: {}",
            self.text
        );
        let problem: Problem = serde_json::from_str(&self.text).unwrap();
        assert_eq!(problem.status, self.status.as_u16());
        let header_id = self
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap();
        assert_eq!(problem.request_id, header_id);
        assert!(!problem.request_id.is_empty());
        problem
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Fails naming each answer (by what it is) that has an amount with fewer than two decimals.
pub fn assert_every_amount_has_cents(answers: &[(&str, &Value)]) {
    for (what, answer) in answers {
        assert_eq!(
            amounts_without_cents(answer),
            Vec::<String>::new(),
            "{what}: {answer}"
        );
    }
}

/// Every amount in an answer that is written with fewer than two decimals, by its JSON
/// pointer: SPEC answers money as `"12.10"`, so a zero must be `"0.00"`, never `"0"`.
/// Decimal strings under keys that are not money (percentages, quantities, the whole euros
/// of a VAT return, numbers and ids) are left alone.
pub fn amounts_without_cents(answer: &Value) -> Vec<String> {
    fn is_money(key: &str) -> bool {
        !(matches!(
            key,
            "percentage" | "quantity" | "number" | "version" | "revision" | "product_code"
        ) || key.ends_with("_whole")
            || key.ends_with("_id")
            || key.ends_with("_number"))
    }
    fn walk(value: &Value, pointer: String, key: &str, found: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    walk(v, format!("{pointer}/{k}"), k, found);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, format!("{pointer}/{i}"), key, found);
                }
            }
            Value::String(s) if is_money(key) => {
                let digits = s.strip_prefix('-').unwrap_or(s);
                let (whole, decimals) = digits.split_once('.').unwrap_or((digits, ""));
                let numeric = !whole.is_empty()
                    && whole.bytes().all(|b| b.is_ascii_digit())
                    && decimals.bytes().all(|b| b.is_ascii_digit());
                if numeric && decimals.len() < 2 {
                    found.push(format!("{pointer} = {s:?}"));
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(answer, String::new(), "", &mut found);
    found
}
