//! Webhook endpoints and what was delivered to them (see `migrations/0021_webhooks.sql`).
//! Endpoints belong to a company and to the connector client that subscribed: every query
//! here is scoped by both. The outbox that the delivery job works from is [`outbox`].

pub mod outbox;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::StoreError;

/// The most endpoints one client may have for one company.
pub const MAX_ENDPOINTS: i64 = 20;

/// Who is asking: the company and the subscribing client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    /// The company.
    pub company_id: Uuid,
    /// The connector client.
    pub client_id: Uuid,
}

/// An endpoint, as stored (its secrets are not read back, apart from the outbox's use).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EndpointRecord {
    /// The endpoint's id.
    pub id: Uuid,
    /// Where events are posted.
    pub url: String,
    /// The event types delivered; empty: all.
    pub event_types: Vec<String>,
    /// The subscriber's note.
    pub description: Option<String>,
    /// Whether delivery is stopped.
    pub disabled: bool,
    /// Why: `by_client` or `failing`.
    pub disabled_reason: Option<String>,
    /// Counts changes, from 1.
    pub version: i32,
    /// Since when every attempt failed.
    pub failing_since: Option<DateTime<Utc>>,
    /// Until when the previous secret still signs, after a rotation.
    pub previous_secret_until: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

const ENDPOINT_COLUMNS: &str = "id, url, event_types, description, disabled, disabled_reason, \
     version, failing_since, previous_secret_until, created_at, updated_at";

/// An endpoint to create; the caller has checked the URL and the event types.
#[derive(Debug, Clone)]
pub struct NewEndpoint<'a> {
    /// Its id.
    pub id: Uuid,
    /// Where events go.
    pub url: &'a str,
    /// Which events; empty: all.
    pub event_types: &'a [String],
    /// A note.
    pub description: Option<&'a str>,
    /// The signing secret, `whsec_…`.
    pub secret: &'a str,
}

/// What an update changes; `None` keeps the stored value.
#[derive(Debug, Clone, Default)]
pub struct EndpointChange<'a> {
    /// A new URL, checked by the caller.
    pub url: Option<&'a str>,
    /// New event types.
    pub event_types: Option<&'a [String]>,
    /// A new note; `Some(None)` removes it.
    pub description: Option<Option<&'a str>>,
    /// Stop (`true`) or resume (`false`) delivery; resuming forgets past failures.
    pub disabled: Option<bool>,
}

/// One delivery of an event to an endpoint, with its attempts.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeliveryRecord {
    /// The delivery's id.
    pub id: Uuid,
    /// The event's transaction id (its feed position, with `event_seq`).
    pub event_txid: i64,
    /// The event's sequence number.
    pub event_seq: i64,
    /// The event's type.
    pub event_type: String,
    /// The changed document's collection.
    pub resource: String,
    /// The changed document.
    pub resource_id: Uuid,
    /// Its version after the change.
    pub version: i32,
    /// When the change was made.
    pub occurred_at: DateTime<Utc>,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    /// How many attempts were made.
    pub attempts: i32,
    /// When the next attempt is due (pending deliveries).
    pub next_attempt_at: DateTime<Utc>,
    /// When the delivery was queued.
    pub created_at: DateTime<Utc>,
    /// When it succeeded or was given up.
    pub finished_at: Option<DateTime<Utc>>,
    /// The latest attempts, newest first (at most [`ATTEMPTS_SHOWN`]).
    #[sqlx(json)]
    pub attempt_log: Vec<AttemptRecord>,
}

/// How many attempts a delivery lists: the schedule makes about thirty over three days.
pub const ATTEMPTS_SHOWN: i64 = 50;

/// One attempt to deliver.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct AttemptRecord {
    /// 1 for the first.
    pub attempt: i32,
    /// When it was made.
    pub attempted_at: DateTime<Utc>,
    /// The receiver's HTTP status, when one came.
    pub status_code: Option<i32>,
    /// How long it took, in milliseconds.
    pub latency_ms: i32,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

const DELIVERY_SELECT: &str = "select d.id, d.event_txid, d.event_seq, d.event_type, d.resource,
            d.resource_id, d.version, d.occurred_at, d.status, d.attempts, d.next_attempt_at,
            d.created_at, d.finished_at,
            coalesce((select json_agg(json_build_object(
                    'attempt', a.attempt, 'attempted_at', a.attempted_at,
                    'status_code', a.status_code, 'latency_ms', a.latency_ms, 'error', a.error)
                    order by a.attempt desc)
                from (select * from webhook_attempts a where a.delivery_id = d.id
                      order by a.attempt desc limit $4) a), '[]') as attempt_log
     from webhook_deliveries d
     join webhook_endpoints e on e.id = d.endpoint_id";

/// Webhook endpoints and their deliveries.
#[derive(Debug)]
pub struct Webhooks<'a> {
    pool: &'a PgPool,
}

impl<'a> Webhooks<'a> {
    pub(crate) fn new(pool: &'a PgPool) -> Self {
        Self { pool }
    }

    /// Creates an endpoint that delivers the events committed from now on: its feed position
    /// is this transaction's snapshot horizon, and the events that snapshot can see are
    /// skipped when the outbox is filled. `Ok(None)` when the owner has
    /// [`MAX_ENDPOINTS`] already: each endpoint multiplies every event of the company.
    pub async fn create(
        &self,
        owner: Owner,
        new: &NewEndpoint<'_>,
    ) -> Result<Option<EndpointRecord>, StoreError> {
        let record = sqlx::query_as::<_, EndpointRecord>(sqlx::AssertSqlSafe(format!(
            "insert into webhook_endpoints (id, company_id, client_id, url, event_types,
                 description, secret, feed_txid, created_snapshot)
             select $1, $2, $3, $4, $5, $6, $7, pg_snapshot_xmin(pg_current_snapshot()),
                    pg_current_snapshot()
              where (select count(*) from webhook_endpoints
                      where company_id = $2 and client_id = $3) < $8
             returning {ENDPOINT_COLUMNS}"
        )))
        .bind(new.id)
        .bind(owner.company_id)
        .bind(owner.client_id)
        .bind(new.url)
        .bind(new.event_types)
        .bind(new.description)
        .bind(new.secret)
        .bind(MAX_ENDPOINTS)
        .fetch_optional(self.pool)
        .await?;
        Ok(record)
    }

    /// One endpoint of the owner.
    pub async fn get(&self, owner: Owner, id: Uuid) -> Result<EndpointRecord, StoreError> {
        let record = sqlx::query_as::<_, EndpointRecord>(sqlx::AssertSqlSafe(format!(
            "select {ENDPOINT_COLUMNS} from webhook_endpoints
             where company_id = $1 and client_id = $2 and id = $3"
        )))
        .bind(owner.company_id)
        .bind(owner.client_id)
        .bind(id)
        .fetch_optional(self.pool)
        .await?;
        record.ok_or(StoreError::NotFound)
    }

    /// The owner's endpoints, oldest first, after `after` (the last id of the previous page).
    pub async fn list(
        &self,
        owner: Owner,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<EndpointRecord>, StoreError> {
        let records = sqlx::query_as::<_, EndpointRecord>(sqlx::AssertSqlSafe(format!(
            "select {ENDPOINT_COLUMNS} from webhook_endpoints
             where company_id = $1 and client_id = $2
               and ($3::uuid is null or (created_at, id) >
                    (select created_at, id from webhook_endpoints where id = $3))
             order by created_at, id
             limit $4"
        )))
        .bind(owner.company_id)
        .bind(owner.client_id)
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool)
        .await?;
        Ok(records)
    }

    /// Changes an endpoint; answers it as it is now.
    pub async fn update(
        &self,
        owner: Owner,
        id: Uuid,
        change: &EndpointChange<'_>,
    ) -> Result<EndpointRecord, StoreError> {
        let record = sqlx::query_as::<_, EndpointRecord>(sqlx::AssertSqlSafe(format!(
            "update webhook_endpoints set
                 url = coalesce($4, url),
                 event_types = coalesce($5, event_types),
                 description = case when $6 then $7 else description end,
                 disabled = coalesce($8, disabled),
                 disabled_reason = case
                     when $8 is null then disabled_reason
                     when $8 then coalesce(disabled_reason, 'by_client')
                     else null end,
                 failing_since = case when $8 = false then null else failing_since end,
                 paused_until = case when $8 = false then null else paused_until end,
                 version = version + 1,
                 updated_at = now()
             where company_id = $1 and client_id = $2 and id = $3
             returning {ENDPOINT_COLUMNS}"
        )))
        .bind(owner.company_id)
        .bind(owner.client_id)
        .bind(id)
        .bind(change.url)
        .bind(change.event_types)
        .bind(change.description.is_some())
        .bind(change.description.flatten())
        .bind(change.disabled)
        .fetch_optional(self.pool)
        .await?;
        record.ok_or(StoreError::NotFound)
    }

    /// Deletes an endpoint and its deliveries.
    pub async fn delete(&self, owner: Owner, id: Uuid) -> Result<(), StoreError> {
        let done = sqlx::query(
            "delete from webhook_endpoints where company_id = $1 and client_id = $2 and id = $3",
        )
        .bind(owner.company_id)
        .bind(owner.client_id)
        .bind(id)
        .execute(self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Replaces the signing secret; the old one keeps signing until `old_until`.
    pub async fn rotate_secret(
        &self,
        owner: Owner,
        id: Uuid,
        secret: &str,
        old_until: DateTime<Utc>,
    ) -> Result<EndpointRecord, StoreError> {
        let record = sqlx::query_as::<_, EndpointRecord>(sqlx::AssertSqlSafe(format!(
            "update webhook_endpoints set
                 previous_secret = secret, previous_secret_until = $5, secret = $4,
                 version = version + 1, updated_at = now()
             where company_id = $1 and client_id = $2 and id = $3
             returning {ENDPOINT_COLUMNS}"
        )))
        .bind(owner.company_id)
        .bind(owner.client_id)
        .bind(id)
        .bind(secret)
        .bind(old_until)
        .fetch_optional(self.pool)
        .await?;
        record.ok_or(StoreError::NotFound)
    }

    /// An endpoint's deliveries, newest event first, before `before` (the last delivery id of
    /// the previous page); `Err(NotFound)` when the endpoint is not the owner's.
    pub async fn deliveries(
        &self,
        owner: Owner,
        endpoint_id: Uuid,
        before: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        self.get(owner, endpoint_id).await?;
        let records = sqlx::query_as::<_, DeliveryRecord>(sqlx::AssertSqlSafe(format!(
            "{DELIVERY_SELECT}
             where e.company_id = $1 and e.client_id = $2 and d.endpoint_id = $3
               and ($5::uuid is null or (d.event_txid, d.event_seq) <
                    (select event_txid, event_seq from webhook_deliveries where id = $5))
             order by d.event_txid desc, d.event_seq desc
             limit $6"
        )))
        .bind(owner.company_id)
        .bind(owner.client_id)
        .bind(endpoint_id)
        .bind(ATTEMPTS_SHOWN)
        .bind(before)
        .bind(limit)
        .fetch_all(self.pool)
        .await?;
        Ok(records)
    }

    /// Queues a delivery again, due now, whatever its status; the endpoint's pause ends.
    pub async fn retry(
        &self,
        owner: Owner,
        endpoint_id: Uuid,
        delivery_id: Uuid,
    ) -> Result<DeliveryRecord, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "update webhook_deliveries d
             set status = 'pending', next_attempt_at = now(), finished_at = null
             from webhook_endpoints e
             where e.id = d.endpoint_id and e.company_id = $1 and e.client_id = $2
               and d.endpoint_id = $3 and d.id = $4",
        )
        .bind(owner.company_id)
        .bind(owner.client_id)
        .bind(endpoint_id)
        .bind(delivery_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("update webhook_endpoints set paused_until = null where id = $1")
            .bind(endpoint_id)
            .execute(&mut *tx)
            .await?;
        let record = sqlx::query_as::<_, DeliveryRecord>(sqlx::AssertSqlSafe(format!(
            "{DELIVERY_SELECT}
             where e.company_id = $1 and e.client_id = $2 and d.endpoint_id = $3 and d.id = $5"
        )))
        .bind(owner.company_id)
        .bind(owner.client_id)
        .bind(endpoint_id)
        .bind(ATTEMPTS_SHOWN)
        .bind(delivery_id)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(record)
    }
}
