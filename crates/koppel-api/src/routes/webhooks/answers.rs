//! Webhook endpoints and their deliveries as answered.

use chrono::{DateTime, Utc};
use koppel_store::webhooks::{AttemptRecord, DeliveryRecord, EndpointRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::closed_sets::EventType;

/// Why an endpoint is disabled.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum DisabledReason {
    /// Its client disabled it.
    ByClient,
    /// Every attempt failed for five days; the feed has a `webhook_endpoint.disabled` event.
    Failing,
}

/// A webhook endpoint.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookEndpoint {
    /// Koppel's id of the endpoint.
    pub id: Uuid,
    /// Where events are posted.
    pub url: String,
    /// The event types delivered; empty: all.
    #[schema(value_type = Vec<EventType>)]
    pub event_types: Vec<String>,
    /// Your note.
    pub description: Option<String>,
    /// Whether delivery is stopped.
    pub disabled: bool,
    /// Why it is stopped, when it is.
    #[schema(value_type = Option<DisabledReason>)]
    pub disabled_reason: Option<String>,
    /// Counts changes to the endpoint, from 1.
    pub version: i32,
    /// Since when every attempt has failed; null while deliveries succeed. Five days of
    /// failure disable the endpoint.
    pub failing_since: Option<DateTime<Utc>>,
    /// After a rotation: until when the previous secret also signs (a second signature in
    /// `webhook-signature`).
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<EndpointRecord> for WebhookEndpoint {
    fn from(r: EndpointRecord) -> Self {
        Self {
            id: r.id,
            url: r.url,
            event_types: r.event_types,
            description: r.description,
            disabled: r.disabled,
            disabled_reason: r.disabled_reason,
            version: r.version,
            failing_since: r.failing_since,
            previous_secret_expires_at: r.previous_secret_until.filter(|until| *until > Utc::now()),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// An endpoint with its signing secret: answered once, when created or rotated.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookEndpointWithSecret {
    /// The endpoint.
    #[serde(flatten)]
    pub endpoint: WebhookEndpoint,
    /// The signing secret (`whsec_` and base64): give it to your Standard Webhooks library to
    /// verify Koppel's requests. Shown this once; rotate it when lost.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
}

/// The webhook endpoint list, as the OpenAPI document names and describes its page.
#[derive(Debug)]
pub enum WebhookEndpointListing {}

impl crate::page::Listing for WebhookEndpointListing {
    type Item = WebhookEndpoint;
    const NAME: &'static str = "WebhookEndpointList";
    const DESCRIPTION: &'static str = "A page of endpoints.";
    const DATA: &'static str = "The endpoints, oldest first.";
    const CURSOR: &'static str = "Pass as `cursor` for the next page; null on the last.";
}

/// A page of endpoints.
pub type WebhookEndpointList = crate::page::Page<WebhookEndpointListing>;

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// To be attempted at `next_attempt_at`.
    Pending,
    /// The receiver answered 2xx.
    Succeeded,
    /// Given up after three days of attempts; can be retried by hand.
    Failed,
}

/// One attempt to deliver.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookAttempt {
    /// 1 for the first.
    pub attempt: i32,
    /// When it was made.
    pub attempted_at: DateTime<Utc>,
    /// The receiver's HTTP status; null when none came (no connection, time-out, address
    /// not allowed).
    pub status_code: Option<i32>,
    /// How long the request took, in milliseconds.
    pub latency_ms: i32,
    /// What went wrong; null for a success.
    pub error: Option<String>,
}

impl From<AttemptRecord> for WebhookAttempt {
    fn from(r: AttemptRecord) -> Self {
        Self {
            attempt: r.attempt,
            attempted_at: r.attempted_at,
            status_code: r.status_code,
            latency_ms: r.latency_ms,
            error: r.error,
        }
    }
}

/// One event's delivery to an endpoint.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookDelivery {
    /// The delivery's id.
    pub id: Uuid,
    /// The event's id in the feed, also the request's `webhook-id`.
    pub event_id: String,
    /// The event's type.
    #[schema(value_type = EventType)]
    pub event_type: String,
    /// The changed document's id.
    pub resource_id: Uuid,
    /// Where it stands.
    #[schema(value_type = DeliveryStatus)]
    pub status: String,
    /// How many attempts were made.
    pub attempt_count: i32,
    /// When the next attempt is due; null once it succeeded or was given up.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When it succeeded or was given up.
    pub finished_at: Option<DateTime<Utc>>,
    /// The attempts, newest first (the last 50).
    pub attempts: Vec<WebhookAttempt>,
}

impl From<DeliveryRecord> for WebhookDelivery {
    fn from(r: DeliveryRecord) -> Self {
        let pending = r.status == "pending";
        Self {
            id: r.id,
            event_id: format!("{}-{}", r.event_txid, r.event_seq),
            event_type: r.event_type,
            resource_id: r.resource_id,
            status: r.status,
            attempt_count: r.attempts,
            next_attempt_at: pending.then_some(r.next_attempt_at),
            created_at: r.created_at,
            finished_at: r.finished_at,
            attempts: r
                .attempt_log
                .into_iter()
                .map(WebhookAttempt::from)
                .collect(),
        }
    }
}

/// The webhook delivery list, as the OpenAPI document names and describes its page.
#[derive(Debug)]
pub enum WebhookDeliveryListing {}

impl crate::page::Listing for WebhookDeliveryListing {
    type Item = WebhookDelivery;
    const NAME: &'static str = "WebhookDeliveryList";
    const DESCRIPTION: &'static str = "A page of deliveries.";
    const DATA: &'static str = "The deliveries, newest event first.";
    const CURSOR: &'static str = "Pass as `cursor` for the next page; null on the last.";
}

/// A page of deliveries.
pub type WebhookDeliveryList = crate::page::Page<WebhookDeliveryListing>;
