//! `Idempotency-Key` on POST: a retried request replays the first answer
//! instead of acting twice.
//!
//! The middleware [`idempotency`] runs after [`crate::middleware::ratelimit::limit`], which
//! has authenticated the client; keys belong to a client. For an
//! authenticated POST with the header it:
//!
//! 1. refuses a key that is not 1 to 255 printable ASCII characters (400);
//! 2. hashes method, path with query, and body (SHA-256);
//! 3. claims the key in PostgreSQL, or finds it held by an earlier request;
//! 4. if held with another hash: 400 `idempotency_key_reused`; if held and
//!    finished: replays the stored answer with `Idempotent-Replayed: true`,
//!    through the route's authorising extractor, so only to a client still
//!    allowed to make the request ([`crate::replay`]);
//!    if held and still running: polls until it finishes (then replays), or
//!    until it is released (then claims it itself), or until [`WAIT_LIMIT`]
//!    (then 409 `idempotency_key_in_use` with `Retry-After`);
//! 5. runs the request in a task of its own, so that a client that hangs up
//!    (a time-out, the usual reason to retry) does not cancel it halfway:
//!    the request finishes and its answer is stored for the retry;
//! 6. stores the answer if it is a 2xx or a 400, and otherwise releases the
//!    key.
//!
//! Only answers that the same request would get again are stored: a 2xx, and
//! a 400 (the content is wrong, and stays wrong). Every other answer depends
//! on something outside the request that may change before the retry: a
//! 401/403 on tokens and grants, a 404 on what exists, a 409/413/415/429 on
//! timing, headers and limits, a 5xx on the service's health. Storing one
//! would make a retry fail for ever although the cause went away, so the key
//! is released and the retry runs afresh.
//!
//! Requests without a client (the token endpoint) ignore the header: there is
//! no one to key them by, and access tokens must never be stored.
//!
//! What this cannot cover: if the server dies after the request's effect is
//! committed but before its answer is stored, a retry after [`LEASE`] (the
//! claim is no longer renewed) runs it again. Document writes are upserts by `external_id`, so even then nothing
//! is duplicated for them.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use koppel_store::{Claim, IdempotencyRecord, Store, StoredResponse};
use sha2::{Digest, Sha256};
use tokio::time::Instant;
use tracing::Instrument;
use uuid::Uuid;

use crate::App;
use crate::auth::extract::Principal;
use crate::error::{ApiError, PendingProblem};
use crate::language::Language;
use crate::middleware::observe::RequestId;
use crate::replay::{PendingReplay, ReplayServed};

/// The request header that carries the key.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

pub use crate::replay::IDEMPOTENT_REPLAYED;

/// How long a key is remembered: a week, so that a nightly batch that failed
/// can be retried the next night, and the night after (SPEC "Limits").
pub const RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

/// How long a claim keeps other requests with the key waiting unless it is
/// renewed. A running request renews it every third of the lease (its
/// heartbeat), so however long it takes, no retry runs it twice; a request
/// whose server died, or whose release failed because the database was gone,
/// frees its key within this long (SPEC "Bounds": within 10 s), so that the
/// retry the 503's `Retry-After` asks for is served (after a short wait), not
/// refused with 409.
pub const LEASE: Duration = Duration::from_secs(9);

/// How long a failed release is retried in the background: after this, the
/// lease has freed the key anyway.
const RELEASE_RETRY_FOR: Duration = LEASE;

/// How long a request waits for an earlier one with the same key before it
/// answers 409; long enough for the largest batch.
pub const WAIT_LIMIT: Duration = Duration::from_secs(60);

/// How many keys a client may hold at once by default: a hundred thousand requests a week
/// is far beyond any webshop's or till's, and bounds what one client can make Koppel keep.
pub const QUOTA: u64 = 100_000;

/// How long a client's count of keys is trusted before it is read again; within it, each
/// new key adds one.
const USAGE_FRESH_FOR: Duration = Duration::from_secs(10);

/// Each client's count of live keys and when its oldest expires, as last read.
#[derive(Debug, Default)]
pub struct Usage(std::sync::Mutex<std::collections::HashMap<Uuid, (u64, u64, Instant)>>);

impl Usage {
    /// Whether `client_id` may take one more key; refusals carry the seconds until its
    /// oldest key expires. Reads the database at most once per [`USAGE_FRESH_FOR`] per
    /// client; counts the key it allows.
    async fn take(&self, store: &Store, client_id: Uuid, quota: u64) -> Result<(), ApiError> {
        let cached = self
            .0
            .lock()
            .ok()
            .and_then(|map| map.get(&client_id).copied())
            .filter(|(.., read_at)| read_at.elapsed() < USAGE_FRESH_FOR);
        let (count, oldest, read_at) = match cached {
            Some(c) => c,
            None => {
                let (count, oldest) = store.idempotency().usage(client_id).await?;
                (
                    u64::try_from(count).unwrap_or(0),
                    u64::try_from(oldest).unwrap_or(0),
                    Instant::now(),
                )
            }
        };
        if count >= quota {
            if let Ok(mut map) = self.0.lock() {
                map.insert(client_id, (count, oldest, read_at));
            }
            let waited = read_at.elapsed().as_secs();
            return Err(ApiError::IdempotencyQuotaExceeded {
                retry_after: oldest.saturating_sub(waited).max(1),
            });
        }
        if let Ok(mut map) = self.0.lock() {
            map.insert(client_id, (count + 1, oldest, read_at));
        }
        Ok(())
    }
}

/// How often `koppel serve` deletes expired keys.
pub const CLEANUP_INTERVAL: Duration = Duration::from_secs(3600);

/// Expired keys deleted per statement by the clean-up.
const CLEANUP_BATCH: i64 = 10_000;

/// The answer headers that are part of the answer and so replayed. The rest
/// (request id, rate limit, date) describe the response that carries them and
/// are made afresh for the replay.
const STORED_HEADERS: [HeaderName; 5] = [
    header::CONTENT_TYPE,
    header::CONTENT_LANGUAGE,
    header::LOCATION,
    header::ETAG,
    header::LAST_MODIFIED,
];

/// A key must be 1 to 255 printable ASCII characters (space to tilde): long
/// enough for a UUID or a vendor's own batch id, short enough to index, and
/// nothing that could forge a log line.
pub fn sane_key(key: &[u8]) -> bool {
    (1..=255).contains(&key.len()) && key.iter().all(|b| (0x20..=0x7e).contains(b))
}

/// SHA-256 of what makes two requests the same: method, path with query,
/// and body, separated so that no two different requests run together.
pub fn request_hash(method: &Method, path_and_query: &str, body: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(method.as_str().as_bytes());
    hasher.update(b"\n");
    hasher.update(path_and_query.as_bytes());
    hasher.update(b"\n");
    hasher.update(body);
    hasher.finalize().into()
}

/// Whether an answer is kept for replay; see the module documentation.
pub fn is_stored(status: StatusCode) -> bool {
    status.is_success() || status == StatusCode::BAD_REQUEST
}

/// Makes POST requests with an `Idempotency-Key` run once; see the module
/// documentation.
pub async fn idempotency(State(app): State<App>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(key) = request.headers().get(&IDEMPOTENCY_KEY) else {
        return next.run(request).await;
    };
    let Some(client_id) = request
        .extensions()
        .get::<Principal>()
        .map(|principal| principal.client_id)
    else {
        return next.run(request).await;
    };
    if !sane_key(key.as_bytes()) {
        return ApiError::InvalidParameter(
            "the Idempotency-Key header must be 1 to 255 printable ASCII characters".to_owned(),
        )
        .into_response();
    }
    // Checked to be printable ASCII just above.
    let key = String::from_utf8_lossy(key.as_bytes()).into_owned();

    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, app.config.max_body_bytes).await {
        Ok(body) => body,
        Err(e) => return unreadable_body(&e).into_response(),
    };
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path(), |p| p.as_str())
        .to_owned();
    let hash = request_hash(&parts.method, &path, &body);
    let request_id = parts
        .extensions
        .get::<RequestId>()
        .map(|id| id.0.clone())
        .unwrap_or_default();
    let language = Language::from_headers(&parts.headers);
    let owner = Uuid::new_v4();
    let keys = app.store.idempotency();
    let lease = app.config.idempotency_lease;

    // A new key counts against the client's quota; one it holds already (a retry, a replay)
    // is served whatever the quota, looked up only when the quota is reached.
    if let Err(refused) = app
        .idempotency_usage
        .take(&app.store, client_id, app.config.idempotency_quota)
        .await
    {
        match keys.find(client_id, &key).await {
            Ok(Some(_)) => {}
            Ok(None) => return refused.into_response(),
            Err(e) => return ApiError::from(e).into_response(),
        }
    }

    let deadline = Instant::now() + WAIT_LIMIT;
    let mut pause = Duration::from_millis(10);
    loop {
        let claim = match keys
            .claim(client_id, &key, &hash, owner, RETENTION, lease)
            .await
        {
            Ok(claim) => claim,
            Err(e) => return ApiError::from(e).into_response(),
        };
        let record = match claim {
            Claim::Claimed => break,
            Claim::Taken(record) => record,
        };
        if record.request_hash != hash {
            return ApiError::IdempotencyKeyReused.into_response();
        }
        if let Some(stored) = record.response() {
            // Replayed only once the route's own extractor has authorised this
            // request as it stands now: a client whose grant or scope was
            // withdrawn gets 404 or 403, not the answer it once had.
            let mut request = Request::from_parts(parts, Body::from(body));
            request.extensions_mut().insert(PendingReplay {
                stored,
                request_id: request_id.clone(),
            });
            let response = next.run(request).await;
            if response.extensions().get::<ReplayServed>().is_none()
                && response.status().is_success()
            {
                tracing::error!(
                    "a route answered an idempotent replay without an authorising extractor"
                );
            }
            return response;
        }
        // Still running elsewhere: wait for it, backing off up to 200 ms.
        if Instant::now() + pause > deadline {
            let retry_after = waiting_left(&record);
            return ApiError::IdempotencyKeyInUse { retry_after }.into_response();
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(200));
    }

    let request = Request::from_parts(parts, Body::from(body));
    let store = app.store.clone();
    let heartbeat = tokio::spawn(renew_while_running(
        store.clone(),
        client_id,
        key.clone(),
        owner,
        lease,
    ));
    let run = async move {
        let response = next.run(request).await;
        heartbeat.abort();
        finish(
            &store,
            client_id,
            &key,
            owner,
            response,
            &request_id,
            language,
        )
        .await
    };
    // Its own task, so that a client hanging up does not cancel the request
    // between its effect and the storing of its answer.
    match tokio::spawn(run.instrument(tracing::Span::current())).await {
        Ok(response) => response,
        Err(e) => {
            // The handler panicked; the claim stays until its lease runs out,
            // which keeps a retry from running the half-done request at once.
            ApiError::internal(&e).into_response()
        }
    }
}

/// Stores or releases the key once the request has its answer, and gives the
/// answer back.
async fn finish(
    store: &Store,
    client_id: Uuid,
    key: &str,
    owner: Uuid,
    response: Response,
    request_id: &str,
    language: Language,
) -> Response {
    let keys = store.idempotency();
    let status = response.status();
    if !is_stored(status) {
        if let Err(e) = keys.release(client_id, key, owner).await {
            // Most likely the database is gone, which is why the answer is a
            // 503. Keep trying in the background so that the retry finds the
            // key free as soon as the database is back; the lease frees it
            // anyway once no heartbeat renews it.
            tracing::warn!(error = %e, "could not release an idempotency key; retrying");
            tokio::spawn(release_later(
                store.clone(),
                client_id,
                key.to_owned(),
                owner,
            ));
        }
        return response;
    }
    let (parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(e) => return ApiError::internal(&e).into_response(),
    };
    // A problem is rendered by `observe`, outside this middleware; store the
    // body it is about to write, in the caller's language.
    let stored_body = match parts.extensions.get::<PendingProblem>() {
        Some(PendingProblem(error)) => {
            serde_json::to_vec(&error.to_problem(language, request_id)).unwrap_or_default()
        }
        None => body.to_vec(),
    };
    let mut headers: Vec<(String, String)> = STORED_HEADERS
        .iter()
        .filter_map(|name| {
            let value = parts.headers.get(name)?.to_str().ok()?;
            Some((name.as_str().to_owned(), value.to_owned()))
        })
        .collect();
    if parts.extensions.get::<PendingProblem>().is_some() && language == Language::Dutch {
        headers.push((
            header::CONTENT_LANGUAGE.as_str().to_owned(),
            "nl".to_owned(),
        ));
    }
    let stored = StoredResponse {
        status: status.as_u16(),
        headers,
        body: stored_body,
    };
    match keys.complete(client_id, key, owner, &stored).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!("an idempotency key was taken over before its answer was stored")
        }
        // The effect has happened and the answer is right; only a replay is
        // lost, so this is no reason to fail the request.
        Err(e) => tracing::warn!(error = %e, "could not store an idempotent answer"),
    }
    Response::from_parts(parts, Body::from(body))
}

/// The stored answer, as a fresh response marked as a replay.
/// Renews the claim every third of its lease while the request runs; the
/// caller aborts it when the request has its answer.
async fn renew_while_running(
    store: Store,
    client_id: Uuid,
    key: String,
    owner: Uuid,
    lease: Duration,
) {
    let mut tick = tokio::time::interval(lease / 3);
    tick.tick().await;
    loop {
        tick.tick().await;
        match store
            .idempotency()
            .extend(client_id, &key, owner, lease)
            .await
        {
            Ok(true) => {}
            Ok(false) => return,
            // The database may be back at the next beat; if not, the lease ends.
            Err(e) => tracing::warn!(error = %e, "could not renew an idempotency key"),
        }
    }
}

/// Retries a release once a second until it goes through or the lease has
/// freed the key anyway.
async fn release_later(store: Store, client_id: Uuid, key: String, owner: Uuid) {
    let give_up = Instant::now() + RELEASE_RETRY_FOR;
    while Instant::now() < give_up {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if store
            .idempotency()
            .release(client_id, &key, owner)
            .await
            .is_ok()
        {
            return;
        }
    }
}

/// Whole seconds a waiter should come back after: at least one, at most the
/// lease that is left.
fn waiting_left(record: &IdempotencyRecord) -> u64 {
    let left = (record.locked_until - chrono::Utc::now()).num_seconds();
    u64::try_from(left).unwrap_or(1).clamp(1, 60)
}

/// A body that could not be read whole: too large, or the client went away.
fn unreadable_body(error: &axum::Error) -> ApiError {
    if crate::body::timed_out(error) {
        return ApiError::RequestTimeout;
    }
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(cause) = source {
        if cause.is::<http_body_util::LengthLimitError>() {
            return ApiError::PayloadTooLarge;
        }
        source = cause.source();
    }
    ApiError::MalformedJson("the body could not be read".to_owned())
}

/// Deletes expired keys every [`CLEANUP_INTERVAL`], for ever; `koppel serve`
/// spawns it.
pub async fn clean_up_expired_keys(store: Store) {
    let mut tick = tokio::time::interval(CLEANUP_INTERVAL);
    loop {
        tick.tick().await;
        match store.idempotency().delete_expired(CLEANUP_BATCH).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "deleted expired idempotency keys"),
            Err(e) => tracing::warn!(error = %e, "could not delete expired idempotency keys"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_short_printable_ascii() {
        assert!(sane_key(b"8e03978e-40d5-43e8-bc93-6894a57f9324"));
        assert!(sane_key(b"batch 2024-05-01 #3"));
        assert!(sane_key(&[b'a'; 255]));
        assert!(!sane_key(b""));
        assert!(!sane_key(&[b'a'; 256]));
        assert!(!sane_key(b"line\nbreak"));
        assert!(!sane_key("café".as_bytes()));
    }

    #[test]
    fn the_hash_tells_method_path_and_body_apart() {
        let a = request_hash(&Method::POST, "/v1/x", b"{}");
        assert_eq!(a, request_hash(&Method::POST, "/v1/x", b"{}"));
        assert_ne!(a, request_hash(&Method::POST, "/v1/y", b"{}"));
        assert_ne!(a, request_hash(&Method::PUT, "/v1/x", b"{}"));
        assert_ne!(a, request_hash(&Method::POST, "/v1/x", b"{ }"));
    }

    #[test]
    fn only_answers_the_same_request_would_get_again_are_stored() {
        assert!(is_stored(StatusCode::OK));
        assert!(is_stored(StatusCode::CREATED));
        assert!(is_stored(StatusCode::BAD_REQUEST));
        for status in [401, 403, 404, 409, 413, 415, 429, 500, 503] {
            assert!(
                !is_stored(StatusCode::from_u16(status).unwrap()),
                "{status}"
            );
        }
    }
}
