//! Webhooks (SPEC "Webhooks", #19): endpoints managed by their connector, the feed delivered
//! to a receiver on loopback in feed order, signed so the Standard Webhooks library verifies
//! it, retried, shared between two nodes, and disabled after days of failure.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::routing::any;
use koppel_api::Config;
use koppel_api::auth::scopes::ClientKind;
use koppel_api::webhooks::WebhookConfig;
use koppel_api::webhooks::address::AllowedHosts;
use koppel_api::webhooks::deliver;
use koppel_store::Store;
use koppel_store::events::EventPosition;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::harness::TestApp;

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn event_id(&self) -> String {
        self.header("webhook-id").to_owned()
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A webhook receiver on loopback: records every request; answers 500 to the first
/// `fail_first`, hangs while `hang` is set, and redirects while `redirect` is set.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    fail_first: Arc<AtomicUsize>,
    hang: Arc<AtomicBool>,
    redirect: Arc<AtomicBool>,
    base_url: String,
}

impl Receiver {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let receiver = Receiver {
            base_url: format!("http://{}", listener.local_addr().unwrap()),
            ..Receiver::default()
        };
        let app = Router::new()
            .fallback(any(
                |State(r): State<Receiver>, uri: Uri, headers: HeaderMap, body: Bytes| async move {
                    let path = uri.path().to_owned();
                    r.got.lock().unwrap().push(Received {
                        path: path.clone(),
                        headers,
                        body,
                    });
                    if r.redirect.load(Ordering::SeqCst) {
                        return (
                            StatusCode::FOUND,
                            [("location", "/elsewhere")],
                            String::new(),
                        );
                    }
                    if r.hang.load(Ordering::SeqCst) && path.contains("slow") {
                        tokio::time::sleep(Duration::from_secs(60)).await;
                    }
                    let failing = r
                        .fail_first
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok();
                    if failing {
                        (
                            StatusCode::INTERNAL_SERVER_ERROR,
                            [("content-type", "text/plain")],
                            "receiver down for maintenance".to_owned(),
                        )
                    } else {
                        (StatusCode::NO_CONTENT, [("x-ok", "1")], String::new())
                    }
                },
            ))
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        receiver
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits until `done` holds for what was received; fails after `limit`.
    async fn wait_for(&self, limit: Duration, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let started = Instant::now();
        loop {
            let got = self.received();
            if done(&got) {
                return got;
            }
            assert!(
                started.elapsed() < limit,
                "gave up after {limit:?} with {} requests received",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The event type [`write_events`] writes: endpoints of the delivery tests take only these,
/// so that no other event can take an attempt a test counts.
const WRITTEN: [&str; 1] = ["customer.created"];

/// An endpoint of `url` for the events [`write_events`] writes.
fn hook(url: String) -> Value {
    json!({"url": url, "event_types": WRITTEN})
}

/// Settings for fast tests: loopback allowed, short waits.
fn fast(node: &str) -> WebhookConfig {
    WebhookConfig {
        allowed_hosts: Arc::new(AllowedHosts::parse("127.0.0.1")),
        node: node.to_owned(),
        retry_base: Duration::from_millis(50),
        retry_cap: Duration::from_millis(200),
        tick: Duration::from_millis(20),
        ..WebhookConfig::default()
    }
}

fn app_with(pool: PgPool, webhooks: WebhookConfig) -> TestApp {
    TestApp::with_config(
        Store::from_pool(pool),
        Config {
            webhooks,
            ..Config::default()
        },
    )
}

/// Starts a node's delivery job.
fn deliver_from(app: &TestApp) -> tokio::task::JoinHandle<()> {
    tokio::spawn(deliver::run(
        app.app.store.clone(),
        app.app.config.webhooks.clone(),
    ))
}

/// A connector of `company` and its token.
async fn connector(app: &TestApp, company: Uuid) -> String {
    let client = app.client(ClientKind::Connector, &[company]).await;
    app.token(&client).await
}

async fn subscribe(app: &TestApp, token: &str, company: Uuid, body: Value) -> Value {
    let answer = app
        .post(
            &format!("/v1/companies/{company}/webhook-endpoints"),
            token,
            body,
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    answer.json()
}

/// Writes `count` events for `company` in transactions of 1 to 7 events.
async fn write_events(pool: &PgPool, company: Uuid, count: usize) {
    let mut written = 0;
    let mut size = 1;
    while written < count {
        let n = size.min(count - written);
        sqlx::query(
            "insert into events (company_id, type, resource, resource_id, version)
             select $1, 'customer.created', 'customers', gen_random_uuid(), 1
             from generate_series(1, $2)",
        )
        .bind(company)
        .bind(i32::try_from(n).unwrap())
        .execute(pool)
        .await
        .unwrap();
        written += n;
        size = size % 7 + 1;
    }
}

/// The ids of the `count` events [`write_events`] wrote for the company, as the feed lists
/// them, once it shows them all: an event is in the feed once every older transaction of the
/// cluster has ended, which under a loaded test run takes a moment.
async fn feed_of(store: &Store, company: Uuid, count: usize) -> Vec<String> {
    let started = Instant::now();
    loop {
        let ids = feed(store, company).await;
        if ids.len() >= count {
            assert_eq!(ids.len(), count);
            return ids;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{} of {count} events in the feed",
            ids.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The ids of the events [`write_events`] wrote for the company, as the feed lists them now
/// (the feed also has the events of the company's onboarding, from before any subscription).
async fn feed(store: &Store, company: Uuid) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after = None;
    loop {
        let page = store.events().list(company, after, 1000).await.unwrap();
        let Some(last) = page.last() else {
            return ids;
        };
        after = Some(EventPosition {
            txid: last.txid,
            seq: last.seq,
        });
        ids.extend(
            page.iter()
                .filter(|e| e.r#type == "customer.created")
                .map(|e| format!("{}-{}", e.txid, e.seq)),
        );
    }
}

/// The requests that carried events [`write_events`] wrote.
fn written(got: &[Received]) -> Vec<Received> {
    got.iter()
        .filter(|r| r.json()["type"] == json!("customer.created"))
        .cloned()
        .collect()
}

/// The endpoint's deliveries once every one has succeeded: a receiver has its request a
/// moment before Koppel records the attempt.
async fn succeeded(app: &TestApp, token: &str, uri: &str) -> Value {
    let started = Instant::now();
    loop {
        let answer = app.get(uri, token).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        let list = answer.json();
        let data = list["data"].as_array().unwrap();
        if !data.is_empty() && data.iter().all(|d| d["status"] == json!("succeeded")) {
            return list;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{list}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The ids in the order they first arrived.
fn first_arrivals<'a>(got: impl Iterator<Item = &'a Received>) -> Vec<String> {
    let mut seen = HashSet::new();
    got.map(Received::event_id)
        .filter(|id| seen.insert(id.clone()))
        .collect()
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn endpoints_are_managed_by_the_connector_that_made_them_and_the_secret_shown_once(
    pool: PgPool,
) {
    let app = app_with(pool, fast("a"));
    let company = app.company("Haak B.V.").await;
    let token = connector(&app, company).await;
    let other = connector(&app, company).await;
    let base = format!("/v1/companies/{company}/webhook-endpoints");
    let created = subscribe(
        &app,
        &token,
        company,
        json!({"url": "http://127.0.0.1:9/hook", "event_types": ["order.created", "order.updated", "order.created"],
               "description": "Exact sync"}),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let secret = created["secret"].as_str().unwrap();
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{secret}"
    );
    assert_eq!(
        created["event_types"],
        json!(["order.created", "order.updated"])
    );
    assert_eq!(created["disabled"], json!(false));
    assert_eq!(created["version"], json!(1));

    let got = app.get(&format!("{base}/{id}"), &token).await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(got.json().get("secret").is_none(), "{}", got.text);
    assert!(!got.text.contains(secret));
    let list = app.get(&base, &token).await.json();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains(secret));

    // Another connector of the same company sees nothing of it.
    assert_eq!(
        app.get(&format!("{base}/{id}"), &other).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get(&base, &other).await.json()["data"], json!([]));
    // A vendor has no webhook scopes.
    let vendor = app.client(ClientKind::Vendor, &[company]).await;
    let vendor = app.token(&vendor).await;
    assert_eq!(app.get(&base, &vendor).await.status, StatusCode::FORBIDDEN);

    let patched = app
        .call(
            Method::PATCH,
            &format!("{base}/{id}"),
            Some(&token),
            Some(json!({"event_types": [], "description": null, "disabled": true})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    let patched = patched.json();
    assert_eq!(patched["event_types"], json!([]));
    assert_eq!(patched["description"], Value::Null);
    assert_eq!(patched["disabled_reason"], json!("by_client"));
    assert_eq!(patched["version"], json!(2));

    let rotated = app
        .post(&format!("{base}/{id}/rotate-secret"), &token, json!(null))
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);
    let rotated = rotated.json();
    assert_ne!(rotated["secret"], json!(secret));
    assert!(rotated["previous_secret_expires_at"].is_string());

    assert_eq!(
        app.call(Method::DELETE, &format!("{base}/{id}"), Some(&other), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let deleted = app
        .call(Method::DELETE, &format!("{base}/{id}"), Some(&token), None)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&format!("{base}/{id}"), &token).await.status,
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_private_or_plain_http_address_is_refused_naming_url(pool: PgPool) {
    // No allowed hosts: as in production.
    let app = app_with(pool, WebhookConfig::default());
    let company = app.company("Haak B.V.").await;
    let token = connector(&app, company).await;
    let base = format!("/v1/companies/{company}/webhook-endpoints");
    for url in [
        "https://10.0.0.8/hook",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://[fd00::1]/hook",
        "https://169.254.169.254/latest/meta-data",
        "http://1.1.1.1/hook",
        "ftp://1.1.1.1/hook",
        "https://user:secret@1.1.1.1/hook",
    ] {
        let answer = app.post(&base, &token, json!({ "url": url })).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{url}: {}",
            answer.text
        );
        let errors = answer.problem().errors.unwrap();
        assert_eq!(errors.len(), 1, "{url}");
        assert_eq!(errors[0].pointer, "/url", "{url}");
        assert_eq!(errors[0].code, "url_not_allowed", "{url}");
    }
    let answer = app
        .post(
            &base,
            &token,
            json!({"url": "https://10.0.0.8/", "event_types": ["order.created", "order.deleted"]}),
        )
        .await;
    let errors = answer.problem().errors.unwrap();
    let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
    assert_eq!(pointers, ["/url", "/event_types/1"]);
    let too_long = format!("https://1.1.1.1/{}", "a".repeat(2048));
    let answer = app.post(&base, &token, json!({ "url": too_long })).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.problem().errors.unwrap()[0].pointer, "/url");
    // A public address over https is accepted (nothing is sent to it: no delivery job runs).
    let answer = app
        .post(&base, &token, json!({"url": "https://1.1.1.1/hook"}))
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    // Twenty endpoints per client and company at most: each multiplies every event.
    for _ in 1..20 {
        let more = app
            .post(&base, &token, json!({"url": "https://1.1.1.1/hook"}))
            .await;
        assert_eq!(more.status, StatusCode::CREATED, "{}", more.text);
    }
    let refused = app
        .post(&base, &token, json!({"url": "https://1.1.1.1/hook"}))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.problem().errors.unwrap()[0].code, "too_many_items");
    // And an update is checked the same way.
    let id = answer.json()["id"].as_str().unwrap().to_owned();
    let answer = app
        .call(
            Method::PATCH,
            &format!("{base}/{id}"),
            Some(&token),
            Some(json!({"url": "https://192.168.1.1/"})),
        )
        .await;
    assert_eq!(answer.problem().errors.unwrap()[0].pointer, "/url");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_thousand_events_of_three_companies_arrive_signed_in_feed_order(pool: PgPool) {
    let app = app_with(pool.clone(), fast("a"));
    let receiver = Receiver::start().await;
    let mut companies = Vec::new();
    let mut secrets = HashMap::new();
    for name in ["Een B.V.", "Twee B.V.", "Drie B.V."] {
        let company = app.company(name).await;
        let token = connector(&app, company).await;
        let endpoint = subscribe(
            &app,
            &token,
            company,
            json!({"url": receiver.url(&format!("/hook/{company}"))}),
        )
        .await;
        secrets.insert(
            format!("/hook/{company}"),
            endpoint["secret"].as_str().unwrap().to_owned(),
        );
        companies.push(company);
    }
    let job = deliver_from(&app);
    // Written concurrently, in transactions of several sizes, while delivery runs.
    let writers: Vec<_> = companies
        .iter()
        .map(|company| {
            let (pool, company) = (pool.clone(), *company);
            tokio::spawn(async move { write_events(&pool, company, 334).await })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let mut feeds = HashMap::new();
    for company in &companies {
        let ids = feed_of(&app.app.store, *company, 334).await;
        feeds.insert(format!("/hook/{company}"), ids);
    }
    let got = receiver
        .wait_for(Duration::from_secs(60), |got| {
            feeds.iter().all(|(path, ids)| {
                let arrived: HashSet<String> = got
                    .iter()
                    .filter(|r| &r.path == path)
                    .map(Received::event_id)
                    .collect();
                ids.iter().all(|id| arrived.contains(id))
            })
        })
        .await;
    job.abort();
    let got = written(&got);
    for (path, ids) in &feeds {
        let arrived: Vec<&Received> = got.iter().filter(|r| &r.path == path).collect();
        assert_eq!(&first_arrivals(arrived.iter().copied()), ids, "{path}");
        let hook = standardwebhooks::Webhook::new(&secrets[path]).unwrap();
        for request in arrived {
            hook.verify(&request.body, &request.headers)
                .unwrap_or_else(|e| panic!("{e}: {:?}", request.headers));
            let body = request.json();
            // The body is the feed's event.
            assert_eq!(body["id"], json!(request.event_id()));
            assert_eq!(body["type"], json!("customer.created"));
            assert_eq!(body["resource"], json!("customers"));
            assert_eq!(request.header("content-type"), "application/json");
        }
    }
    assert_eq!(got.len(), 1002, "a healthy receiver gets each event once");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_receiver_failing_three_attempts_gets_the_fourth_and_later_events_wait(pool: PgPool) {
    let app = app_with(pool.clone(), fast("a"));
    let receiver = Receiver::start().await;
    receiver.fail_first.store(3, Ordering::SeqCst);
    let company = app.company("Haak B.V.").await;
    let token = connector(&app, company).await;
    let endpoint = subscribe(&app, &token, company, hook(receiver.url("/hook"))).await;
    write_events(&pool, company, 1).await;
    write_events(&pool, company, 1).await;
    let job = deliver_from(&app);
    let got = receiver
        .wait_for(Duration::from_secs(20), |got| written(got).len() >= 5)
        .await;
    job.abort();
    let ids: Vec<String> = written(&got).iter().map(Received::event_id).collect();
    let feed = feed_of(&app.app.store, company, 2).await;
    // Four attempts of the first event, then the second: never the second before the first.
    assert_eq!(
        ids,
        [&feed[0], &feed[0], &feed[0], &feed[0], &feed[1]].map(String::clone)
    );
    let deliveries = succeeded(
        &app,
        &token,
        &format!(
            "/v1/companies/{company}/webhook-endpoints/{}/deliveries",
            endpoint["id"].as_str().unwrap()
        ),
    )
    .await;
    let first = &deliveries["data"][1];
    assert_eq!(first["event_id"], json!(feed[0]));
    assert_eq!(first["status"], json!("succeeded"));
    assert_eq!(first["attempt_count"], json!(4));
    assert_eq!(first["next_attempt_at"], Value::Null);
    let codes: Vec<&Value> = first["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["status_code"])
        .collect();
    assert_eq!(codes, [&json!(204), &json!(500), &json!(500), &json!(500)]);
    let failed = &first["attempts"][3];
    assert_eq!(failed["attempt"], json!(1));
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("500 Internal Server Error: receiver down for maintenance"),
        "{failed}"
    );
    assert!(failed["latency_ms"].as_i64().unwrap() >= 0);
    assert_eq!(first["attempts"][0]["error"], Value::Null);
    assert_eq!(deliveries["data"][0]["event_id"], json!(feed[1]));
    // Success ended the failure streak.
    let endpoint = app
        .get(
            &format!(
                "/v1/companies/{company}/webhook-endpoints/{}",
                endpoint["id"].as_str().unwrap()
            ),
            &token,
        )
        .await
        .json();
    assert_eq!(endpoint["failing_since"], Value::Null);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn two_nodes_deliver_each_event_once(pool: PgPool) {
    let first = app_with(pool.clone(), fast("node-a"));
    let second = app_with(pool.clone(), fast("node-b"));
    let receiver = Receiver::start().await;
    let mut companies = Vec::new();
    for name in ["Een B.V.", "Twee B.V.", "Drie B.V.", "Vier B.V."] {
        let company = first.company(name).await;
        let token = connector(&first, company).await;
        subscribe(
            &first,
            &token,
            company,
            hook(receiver.url(&format!("/hook/{company}"))),
        )
        .await;
        companies.push(company);
    }
    let jobs = [deliver_from(&first), deliver_from(&second)];
    for company in &companies {
        write_events(&pool, *company, 75).await;
    }
    receiver
        .wait_for(Duration::from_secs(30), |got| {
            written(got)
                .iter()
                .map(Received::event_id)
                .collect::<HashSet<_>>()
                .len()
                == 300
        })
        .await;
    // Let any double delivery arrive before counting.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = written(&receiver.received()).len();
    for job in jobs {
        job.abort();
    }
    assert_eq!(
        got, 300,
        "each event delivered once by one of the two nodes"
    );
    let attempts: i64 = sqlx::query_scalar(
        "select count(*) from webhook_attempts a join webhook_deliveries d on d.id = a.delivery_id
         where d.event_type = 'customer.created'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(attempts, 300, "each attempt recorded once");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn an_endpoint_failing_for_five_days_is_disabled_with_an_event_and_can_be_resumed(
    pool: PgPool,
) {
    let app = app_with(pool.clone(), fast("a"));
    let receiver = Receiver::start().await;
    receiver.fail_first.store(usize::MAX, Ordering::SeqCst);
    let company = app.company("Haak B.V.").await;
    let token = connector(&app, company).await;
    let endpoint = subscribe(&app, &token, company, hook(receiver.url("/hook"))).await;
    let id = endpoint["id"].as_str().unwrap().to_owned();
    let uri = format!("/v1/companies/{company}/webhook-endpoints/{id}");
    write_events(&pool, company, 1).await;
    let job = deliver_from(&app);
    receiver
        .wait_for(Duration::from_secs(10), |got| !got.is_empty())
        .await;
    // It has failed since five days ago (the clock is the database's).
    sqlx::query(
        "update webhook_endpoints set failing_since = now() - interval '5 days 1 minute'
         where id = $1",
    )
    .bind(Uuid::parse_str(&id).unwrap())
    .execute(&pool)
    .await
    .unwrap();
    let started = Instant::now();
    let disabled = loop {
        let got = app.get(&uri, &token).await.json();
        if got["disabled"] == json!(true) {
            break got;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{got}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(disabled["disabled_reason"], json!("failing"));
    let attempts_when_disabled = receiver.received().len();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receiver.received().len(),
        attempts_when_disabled,
        "a disabled endpoint gets nothing"
    );
    let events: Vec<(String, String, Uuid)> = sqlx::query_as(
        "select type, resource, resource_id from events
         where company_id = $1 and type like 'webhook%'",
    )
    .bind(company)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        events,
        [(
            "webhook_endpoint.disabled".to_owned(),
            "webhook_endpoints".to_owned(),
            Uuid::parse_str(&id).unwrap()
        )]
    );
    // The receiver is back; the client resumes the endpoint and the event arrives.
    receiver.fail_first.store(0, Ordering::SeqCst);
    let resumed = app
        .call(
            Method::PATCH,
            &uri,
            Some(&token),
            Some(json!({"disabled": false})),
        )
        .await
        .json();
    assert_eq!(resumed["failing_since"], Value::Null);
    assert_eq!(resumed["disabled_reason"], Value::Null);
    let before = receiver.received().len();
    receiver
        .wait_for(Duration::from_secs(10), |got| {
            got[before..]
                .iter()
                .any(|r| r.json()["type"] == json!("customer.created"))
        })
        .await;
    job.abort();
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_given_up_delivery_lets_later_ones_through_and_can_be_retried_by_hand(pool: PgPool) {
    let app = app_with(
        pool.clone(),
        WebhookConfig {
            give_up_after: Duration::from_millis(300),
            ..fast("a")
        },
    );
    let receiver = Receiver::start().await;
    receiver.fail_first.store(usize::MAX, Ordering::SeqCst);
    let company = app.company("Haak B.V.").await;
    let token = connector(&app, company).await;
    let endpoint = subscribe(&app, &token, company, hook(receiver.url("/hook"))).await;
    let base = format!(
        "/v1/companies/{company}/webhook-endpoints/{}",
        endpoint["id"].as_str().unwrap()
    );
    write_events(&pool, company, 1).await;
    let job = deliver_from(&app);
    let started = Instant::now();
    let given_up = loop {
        let list = app.get(&format!("{base}/deliveries"), &token).await.json();
        if list["data"][0]["status"] == json!("failed") {
            break list["data"][0].clone();
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{list}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(given_up["attempt_count"].as_i64().unwrap() >= 2);
    assert_eq!(given_up["next_attempt_at"], Value::Null);
    // The receiver is back: a later event is not held up by the given-up one.
    receiver.fail_first.store(0, Ordering::SeqCst);
    write_events(&pool, company, 1).await;
    let feed = feed_of(&app.app.store, company, 2).await;
    receiver
        .wait_for(Duration::from_secs(10), |got| {
            got.iter().any(|r| r.event_id() == feed[1])
        })
        .await;
    let retried = app
        .post(
            &format!(
                "{base}/deliveries/{}/retry",
                given_up["id"].as_str().unwrap()
            ),
            &token,
            json!(null),
        )
        .await;
    assert_eq!(retried.status, StatusCode::ACCEPTED, "{}", retried.text);
    assert_eq!(retried.json()["status"], json!("pending"));
    let got = receiver
        .wait_for(Duration::from_secs(10), |got| {
            got.last().is_some_and(|r| r.event_id() == feed[0])
                && got.iter().filter(|r| r.event_id() == feed[0]).count()
                    > given_up["attempt_count"].as_u64().unwrap() as usize
        })
        .await;
    job.abort();
    assert_eq!(got.last().unwrap().event_id(), feed[0]);
    // Retrying a delivery of another endpoint, or none, is a 404.
    let unknown = app
        .post(
            &format!("{base}/deliveries/{}/retry", Uuid::new_v4()),
            &token,
            json!(null),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn a_hanging_endpoint_times_out_without_holding_up_another(pool: PgPool) {
    let app = app_with(
        pool.clone(),
        WebhookConfig {
            timeout: Duration::from_secs(2),
            ..fast("a")
        },
    );
    let receiver = Receiver::start().await;
    receiver.hang.store(true, Ordering::SeqCst);
    let company = app.company("Haak B.V.").await;
    let token = connector(&app, company).await;
    let slow = subscribe(&app, &token, company, hook(receiver.url("/slow"))).await;
    subscribe(&app, &token, company, hook(receiver.url("/fast"))).await;
    write_events(&pool, company, 20).await;
    let job = deliver_from(&app);
    let started = Instant::now();
    receiver
        .wait_for(Duration::from_secs(10), |got| {
            got.iter().filter(|r| r.path == "/fast").count() == 20
        })
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the fast endpoint waited for the slow one: {:?}",
        started.elapsed()
    );
    // The slow endpoint's attempt timed out and was recorded as such.
    let uri = format!(
        "/v1/companies/{company}/webhook-endpoints/{}/deliveries",
        slow["id"].as_str().unwrap()
    );
    let started = Instant::now();
    let attempt = loop {
        let list = app.get(&uri, &token).await.json();
        let oldest = list["data"].as_array().unwrap().last().cloned();
        if let Some(attempt) = oldest.and_then(|d| d["attempts"].as_array()?.last().cloned()) {
            break attempt;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{list}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    job.abort();
    assert_eq!(attempt["status_code"], Value::Null);
    assert!(
        attempt["error"].as_str().unwrap().starts_with("timed out"),
        "{attempt}"
    );
    assert!(attempt["latency_ms"].as_i64().unwrap() >= 1900, "{attempt}");
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn redirects_are_not_followed_and_a_rotated_secret_signs_beside_the_new_one(pool: PgPool) {
    let app = app_with(pool.clone(), fast("a"));
    let receiver = Receiver::start().await;
    receiver.redirect.store(true, Ordering::SeqCst);
    let company = app.company("Haak B.V.").await;
    let token = connector(&app, company).await;
    let endpoint = subscribe(&app, &token, company, hook(receiver.url("/hook"))).await;
    let base = format!(
        "/v1/companies/{company}/webhook-endpoints/{}",
        endpoint["id"].as_str().unwrap()
    );
    let old_secret = endpoint["secret"].as_str().unwrap().to_owned();
    let rotated = app
        .post(&format!("{base}/rotate-secret"), &token, json!(null))
        .await
        .json();
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    write_events(&pool, company, 1).await;
    let job = deliver_from(&app);
    receiver
        .wait_for(Duration::from_secs(10), |got| !got.is_empty())
        .await;
    receiver.redirect.store(false, Ordering::SeqCst);
    let got = receiver
        .wait_for(Duration::from_secs(10), |got| got.len() >= 2)
        .await;
    job.abort();
    // Only the receiver's own path was ever requested: the redirect was not followed.
    assert!(got.iter().all(|r| r.path == "/hook"));
    let deliveries = succeeded(&app, &token, &format!("{base}/deliveries")).await;
    let attempts = &deliveries["data"][0]["attempts"];
    assert_eq!(attempts[1]["status_code"], json!(302));
    assert!(
        attempts[1]["error"]
            .as_str()
            .unwrap()
            .contains("redirects are not followed")
    );
    let last = got.last().unwrap();
    assert_eq!(last.header("webhook-signature").split(' ').count(), 2);
    for secret in [&old_secret, &new_secret] {
        standardwebhooks::Webhook::new(secret)
            .unwrap()
            .verify(&last.body, &last.headers)
            .unwrap();
    }
}

#[sqlx::test(migrator = "koppel_store::MIGRATOR")]
async fn an_endpoint_gets_only_the_events_committed_after_it_was_created(pool: PgPool) {
    let app = app_with(pool.clone(), fast("a"));
    let receiver = Receiver::start().await;
    // An older transaction still running holds the feed's horizon back: the company's
    // onboarding events (its VAT rates) are committed, yet above the horizon when the
    // endpoint is made.
    let mut older = pool.begin().await.unwrap();
    sqlx::query("select pg_current_xact_id()")
        .execute(&mut *older)
        .await
        .unwrap();
    let company = app.company("Haak B.V.").await;
    let token = connector(&app, company).await;
    subscribe(&app, &token, company, json!({"url": receiver.url("/hook")})).await;
    older.commit().await.unwrap();
    write_events(&pool, company, 1).await;
    let job = deliver_from(&app);
    let got = receiver
        .wait_for(Duration::from_secs(10), |got| !got.is_empty())
        .await;
    // Give an onboarding event, were it queued, the time to follow.
    tokio::time::sleep(Duration::from_millis(300)).await;
    job.abort();
    let types: Vec<Value> = receiver
        .received()
        .iter()
        .map(|r| r.json()["type"].clone())
        .collect();
    assert_eq!(types, [json!("customer.created")], "{got:?}");
}
