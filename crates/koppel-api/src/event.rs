//! One change of the feed as connectors read it: an element of `GET …/events` and the body of
//! every webhook. Below the routes, so that the feed route and the webhook delivery job answer
//! the same thing.

use chrono::{DateTime, Utc};
use koppel_store::events::EventRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// One change.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Event {
    /// The event's id: unique and stable, increasing along the feed.
    pub id: String,
    /// What happened: `<resource>.created`, `<resource>.updated` (a new version),
    /// `daily_revenue.final` or `daily_revenue.revised`.
    #[schema(value_type = crate::closed_sets::EventType, example = "order.updated")]
    pub r#type: String,
    /// The collection of the changed document, as in its path.
    #[schema(value_type = crate::closed_sets::EventResource, example = "orders")]
    pub resource: String,
    /// The changed document's id.
    pub resource_id: Uuid,
    /// The document's version after the change.
    pub version: i32,
    /// When the change was made.
    pub occurred_at: DateTime<Utc>,
}

impl From<EventRecord> for Event {
    fn from(r: EventRecord) -> Self {
        Self {
            id: format!("{}-{}", r.txid, r.seq),
            r#type: r.r#type,
            resource: r.resource,
            resource_id: r.resource_id,
            version: r.version,
            occurred_at: r.occurred_at,
        }
    }
}
