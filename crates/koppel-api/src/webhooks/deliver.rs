//! The delivery job: fills the outbox from the feed, claims endpoints that have deliveries to
//! make, and sends each endpoint's deliveries one at a time, in feed order, recording every
//! attempt. Every node runs it; the store's leases make each attempt one node's.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use koppel_store::Store;
use koppel_store::events::EventRecord;
use koppel_store::webhooks::outbox::{Attempt, ClaimedEndpoint, PendingDelivery, Recorded};
use reqwest::Url;
use tokio::sync::Semaphore;

use super::address::{PublicResolver, may_connect};
use super::{MAX_RESPONSE_BYTES, WebhookConfig, next_attempt, signature};
use crate::event::Event;

/// How many of an endpoint's deliveries are read at a time.
const BATCH: i64 = 50;

/// How long finished deliveries stay readable.
const KEEP_FINISHED: chrono::Duration = chrono::Duration::days(30);

/// How often finished deliveries are cleaned up.
const CLEAN_UP_EVERY: Duration = Duration::from_secs(600);

/// How much of a receiver's answer an attempt's error keeps.
const ERROR_EXCERPT: usize = 500;

/// Runs the delivery job for as long as the server runs.
pub async fn run(store: Store, config: WebhookConfig) {
    let client = match client(&config) {
        Ok(client) => client,
        Err(e) => {
            tracing::error!(error = %e, "webhooks cannot be sent: no HTTP client");
            return;
        }
    };
    let config = Arc::new(config);
    if let Err(e) = store.webhook_outbox().release_all(&config.node).await {
        tracing::warn!(error = %e, "could not release this node's earlier webhook leases");
    }
    let slots = Arc::new(Semaphore::new(config.concurrency.max(1)));
    let mut tick = tokio::time::interval(config.tick);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_clean_up = Instant::now();
    loop {
        tick.tick().await;
        if let Err(e) = store.webhook_outbox().fill().await {
            tracing::warn!(error = %e, "could not fill the webhook outbox");
        }
        let free = slots.available_permits();
        if free > 0 {
            let outbox = store.webhook_outbox();
            match outbox.claim(&config.node, config.lease, free as i64).await {
                Ok(claimed) => {
                    for endpoint in claimed {
                        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
                            // Cannot happen (we claimed no more than were free); the lease
                            // runs out and the endpoint is claimed again.
                            break;
                        };
                        let (store, client, config) =
                            (store.clone(), client.clone(), Arc::clone(&config));
                        tokio::spawn(async move {
                            deliver_endpoint(&store, &client, &config, endpoint).await;
                            drop(slot);
                        });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not claim webhook endpoints"),
            }
        }
        if last_clean_up.elapsed() >= CLEAN_UP_EVERY {
            last_clean_up = Instant::now();
            match store
                .webhook_outbox()
                .clean_up(Utc::now() - KEEP_FINISHED)
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(deliveries = n, "removed old webhook deliveries"),
                Err(e) => tracing::warn!(error = %e, "could not remove old webhook deliveries"),
            }
        }
    }
}

/// The client webhooks are sent with: no redirects, the timeout, and the resolver that only
/// answers public addresses.
fn client(config: &WebhookConfig) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(config.timeout)
        .connect_timeout(config.timeout)
        .dns_resolver(Arc::new(PublicResolver::new(Arc::clone(
            &config.allowed_hosts,
        ))))
        .user_agent(concat!("Koppel-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Sends the endpoint's pending deliveries in feed order until none is left, one fails, or
/// the lease is lost; then gives the lease up.
async fn deliver_endpoint(
    store: &Store,
    client: &reqwest::Client,
    config: &WebhookConfig,
    endpoint: ClaimedEndpoint,
) {
    let outbox = store.webhook_outbox();
    'endpoint: loop {
        let pending = match outbox.pending(endpoint.id, BATCH).await {
            Ok(pending) if pending.is_empty() => break,
            Ok(pending) => pending,
            Err(e) => {
                tracing::warn!(error = %e, endpoint = %endpoint.id, "could not read deliveries");
                break;
            }
        };
        for delivery in pending {
            match outbox.renew(endpoint.id, &config.node, config.lease).await {
                Ok(true) => {}
                // Another node holds it now (the release below leaves its lease alone), or it
                // was disabled or deleted (the release clears ours, so that a re-enabled
                // endpoint is claimed at once).
                Ok(false) => break 'endpoint,
                Err(e) => {
                    tracing::warn!(error = %e, endpoint = %endpoint.id, "could not renew the lease");
                    break 'endpoint;
                }
            }
            let attempted_at = Utc::now();
            let started = Instant::now();
            let outcome = send(client, config, &endpoint, &delivery).await;
            let latency = started.elapsed();
            let attempt = delivery.attempts.saturating_add(1);
            let error = outcome.as_ref().err().map(|(_, e)| e.as_str());
            let recorded = outbox
                .record(&Attempt {
                    delivery_id: delivery.id,
                    endpoint_id: endpoint.id,
                    attempt,
                    attempted_at,
                    status_code: match &outcome {
                        Ok(status) => Some(*status),
                        Err((status, _)) => *status,
                    },
                    latency,
                    error,
                    next_attempt_at: error.and_then(|_| {
                        next_attempt(
                            config,
                            attempt,
                            delivery.first_attempted_at.unwrap_or(attempted_at),
                            attempted_at,
                        )
                    }),
                    disable_if_failing_since: attempted_at
                        - chrono::Duration::from_std(config.disable_after)
                            .unwrap_or(chrono::Duration::MAX),
                })
                .await;
            match recorded {
                Ok(Recorded::Continue) => {}
                // The endpoint waits for the failed delivery's next attempt: a later claim.
                Ok(Recorded::Paused) => break 'endpoint,
                Ok(Recorded::Disabled) => {
                    tracing::warn!(endpoint = %endpoint.id, "webhook endpoint disabled after failing too long");
                    break 'endpoint;
                }
                Err(e) => {
                    tracing::warn!(error = %e, endpoint = %endpoint.id, "could not record a webhook attempt");
                    break 'endpoint;
                }
            }
        }
    }
    if let Err(e) = outbox.release(endpoint.id, &config.node).await {
        tracing::warn!(error = %e, endpoint = %endpoint.id, "could not release the lease");
    }
}

/// The event as the feed answers it: the body of the request.
pub fn body(delivery: &PendingDelivery) -> (String, Vec<u8>) {
    let event = Event::from(EventRecord {
        txid: delivery.event_txid,
        seq: delivery.event_seq,
        r#type: delivery.event_type.clone(),
        resource: delivery.resource.clone(),
        resource_id: delivery.resource_id,
        version: delivery.version,
        occurred_at: delivery.occurred_at,
    });
    let bytes = serde_json::to_vec(&event).unwrap_or_default();
    (event.id, bytes)
}

/// One attempt: the receiver's status when it answered 2xx, else the status (if any) and
/// what went wrong.
async fn send(
    client: &reqwest::Client,
    config: &WebhookConfig,
    endpoint: &ClaimedEndpoint,
    delivery: &PendingDelivery,
) -> Result<u16, (Option<u16>, String)> {
    let url = Url::parse(&endpoint.url).map_err(|_| (None, "the URL is not valid".to_owned()))?;
    if !may_connect(&url, &config.allowed_hosts) {
        return Err((None, "the address is not allowed".to_owned()));
    }
    let (id, body) = body(delivery);
    let timestamp = Utc::now().timestamp();
    let Some(signature) = signature(
        &endpoint.secret,
        endpoint.previous_secret.as_deref(),
        &id,
        timestamp,
        &body,
    ) else {
        return Err((None, "the signing secret is not valid".to_owned()));
    };
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await
        .map_err(|e| (None, describe(&e)))?;
    let status = response.status();
    let excerpt = read_excerpt(response).await;
    if status.is_success() {
        Ok(status.as_u16())
    } else {
        let mut error = format!("the receiver answered {status}");
        if status.is_redirection() {
            error.push_str(" (redirects are not followed)");
        }
        if !excerpt.is_empty() {
            error.push_str(": ");
            error.push_str(&excerpt);
        }
        Err((Some(status.as_u16()), error))
    }
}

/// Reads at most [`MAX_RESPONSE_BYTES`] of the answer and keeps the start of it as text.
async fn read_excerpt(mut response: reqwest::Response) -> String {
    let mut read = Vec::new();
    while read.len() < MAX_RESPONSE_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => read.extend_from_slice(&chunk),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&read);
    text.trim().chars().take(ERROR_EXCERPT).collect()
}

/// What went wrong, without the URL (it may hold the receiver's token in its query).
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut text = kind.to_owned();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.chars().take(ERROR_EXCERPT).collect()
}
