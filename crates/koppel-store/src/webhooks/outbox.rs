//! The outbox the delivery job works from: filled from the feed, claimed per endpoint under a
//! lease, every attempt recorded (see `migrations/0021_webhooks.sql` for why it is safe with
//! several nodes and through crashes).

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{StoreError, events};

/// How many events one fill takes per endpoint; the next fill takes the rest.
const FILL_BATCH: i64 = 1000;

/// An endpoint a node has claimed, with what it needs to sign and send.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedEndpoint {
    /// The endpoint.
    pub id: Uuid,
    /// Its company.
    pub company_id: Uuid,
    /// Where to post.
    pub url: String,
    /// The signing secret.
    pub secret: String,
    /// The secret before the last rotation, while it still signs.
    pub previous_secret: Option<String>,
}

/// A delivery to attempt.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingDelivery {
    /// The delivery.
    pub id: Uuid,
    /// The event's feed position.
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
    /// Attempts made so far.
    pub attempts: i32,
    /// When the first attempt was made: the retry schedule counts from here. A manual retry
    /// of a given-up delivery therefore gets one attempt.
    pub first_attempted_at: Option<DateTime<Utc>>,
}

/// What became of one attempt.
#[derive(Debug, Clone)]
pub struct Attempt<'a> {
    /// The delivery.
    pub delivery_id: Uuid,
    /// Its endpoint.
    pub endpoint_id: Uuid,
    /// The attempt's number, from 1.
    pub attempt: i32,
    /// When it was made.
    pub attempted_at: DateTime<Utc>,
    /// The receiver's status, when one came.
    pub status_code: Option<u16>,
    /// How long it took.
    pub latency: Duration,
    /// Why it failed; `None` for a success.
    pub error: Option<&'a str>,
    /// When to try again after a failure; `None` gives the delivery up.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// An endpoint failing since before this moment is disabled by this failure.
    pub disable_if_failing_since: DateTime<Utc>,
}

/// What recording an attempt changed about the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Go on with the endpoint's next delivery.
    Continue,
    /// The endpoint waits until the failed delivery's next attempt (or was given up on and
    /// goes on later).
    Paused,
    /// The endpoint failed too long and is now disabled.
    Disabled,
}

/// The outbox.
#[derive(Debug)]
pub struct Outbox<'a> {
    pool: &'a PgPool,
}

impl<'a> Outbox<'a> {
    pub(crate) fn new(pool: &'a PgPool) -> Self {
        Self { pool }
    }

    /// Moves the feed's new events into the deliveries of every enabled endpoint that
    /// subscribed to them, in one statement; answers how many deliveries were queued.
    /// Only endpoints with new events are locked (an idle one costs an index probe, no
    /// write); those another node is filling at this moment are skipped.
    pub async fn fill(&self) -> Result<u64, StoreError> {
        let queued: i64 = sqlx::query_scalar(
            "with endpoints as (
                 select e.id, e.company_id, e.event_types, e.feed_txid, e.feed_seq,
                        e.created_snapshot
                 from webhook_endpoints e
                 where not e.disabled
                   and exists (select 1 from events ev
                               where ev.company_id = e.company_id
                                 and (ev.txid, ev.seq) > (e.feed_txid, e.feed_seq)
                                 and ev.txid < pg_snapshot_xmin(pg_current_snapshot()))
                 for update of e skip locked
             ), batch as (
                 select e.id as endpoint_id, e.company_id, e.event_types, e.created_snapshot,
                        ev.*
                 from endpoints e
                 cross join lateral (
                     select txid, seq, type, resource, resource_id, version, occurred_at
                     from events
                     where company_id = e.company_id
                       and (txid, seq) > (e.feed_txid, e.feed_seq)
                       and txid < pg_snapshot_xmin(pg_current_snapshot())
                     order by txid, seq
                     limit $1
                 ) ev
             ), queued as (
                 insert into webhook_deliveries (id, endpoint_id, company_id, event_txid,
                     event_seq, event_type, resource, resource_id, version, occurred_at)
                 select gen_random_uuid(), endpoint_id, company_id, txid::text::bigint, seq,
                     type, resource, resource_id, version, occurred_at
                 from batch
                 where (cardinality(event_types) = 0 or type = any(event_types))
                   and not pg_visible_in_snapshot(txid, created_snapshot)
                 order by endpoint_id, txid, seq
                 on conflict on constraint webhook_deliveries_event_key do nothing
                 returning 1
             ), moved as (
                 update webhook_endpoints w set feed_txid = last.txid, feed_seq = last.seq
                 from (select distinct on (endpoint_id) endpoint_id, txid, seq
                       from batch order by endpoint_id, txid desc, seq desc) last
                 where w.id = last.endpoint_id
                 returning 1
             )
             select (select count(*) from queued) + 0 * (select count(*) from moved)",
        )
        .bind(FILL_BATCH)
        .fetch_one(self.pool)
        .await?;
        Ok(u64::try_from(queued).unwrap_or(0))
    }

    /// Drops the leases `node` held before it restarted: it is not delivering anything now.
    pub async fn release_all(&self, node: &str) -> Result<(), StoreError> {
        sqlx::query(
            "update webhook_endpoints set lease_owner = null, lease_until = null
             where lease_owner = $1",
        )
        .bind(node)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// Claims up to `limit` enabled endpoints that have a delivery to make, are not paused
    /// and that no other node holds, for `lease`.
    pub async fn claim(
        &self,
        node: &str,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<ClaimedEndpoint>, StoreError> {
        let claimed = sqlx::query_as::<_, ClaimedEndpoint>(
            "update webhook_endpoints w
             set lease_owner = $1, lease_until = now() + $2 * interval '1 millisecond'
             where w.id in (
                 select e.id from webhook_endpoints e
                 where not e.disabled
                   and (e.lease_until is null or e.lease_until < now())
                   and (e.paused_until is null or e.paused_until <= now())
                   and exists (select 1 from webhook_deliveries d
                               where d.endpoint_id = e.id and d.status = 'pending')
                 limit $3
                 for update skip locked)
             returning w.id, w.company_id, w.url, w.secret,
                 case when w.previous_secret_until > now() then w.previous_secret end
                     as previous_secret",
        )
        .bind(node)
        .bind(millis(lease))
        .bind(limit)
        .fetch_all(self.pool)
        .await?;
        Ok(claimed)
    }

    /// Extends `node`'s lease on an endpoint; `false` when it lost it (expired and taken, or
    /// the endpoint was disabled or deleted), and must stop.
    pub async fn renew(
        &self,
        endpoint_id: Uuid,
        node: &str,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let renewed = sqlx::query(
            "update webhook_endpoints
             set lease_until = now() + $3 * interval '1 millisecond'
             where id = $1 and lease_owner = $2 and not disabled",
        )
        .bind(endpoint_id)
        .bind(node)
        .bind(millis(lease))
        .execute(self.pool)
        .await?;
        Ok(renewed.rows_affected() == 1)
    }

    /// Gives the lease up.
    pub async fn release(&self, endpoint_id: Uuid, node: &str) -> Result<(), StoreError> {
        sqlx::query(
            "update webhook_endpoints set lease_owner = null, lease_until = null
             where id = $1 and lease_owner = $2",
        )
        .bind(endpoint_id)
        .bind(node)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// The endpoint's next pending deliveries, in feed order.
    pub async fn pending(
        &self,
        endpoint_id: Uuid,
        limit: i64,
    ) -> Result<Vec<PendingDelivery>, StoreError> {
        let pending = sqlx::query_as::<_, PendingDelivery>(
            "select id, event_txid, event_seq, event_type, resource, resource_id, version,
                    occurred_at, attempts,
                    (select min(attempted_at) from webhook_attempts a where a.delivery_id = d.id)
                        as first_attempted_at
             from webhook_deliveries d
             where endpoint_id = $1 and status = 'pending'
             order by event_txid, event_seq
             limit $2",
        )
        .bind(endpoint_id)
        .bind(limit)
        .fetch_all(self.pool)
        .await?;
        Ok(pending)
    }

    /// Records an attempt and what follows from it, in one transaction: the delivery
    /// succeeds, waits for its next attempt (pausing the endpoint until then) or is given up;
    /// the endpoint's failure streak starts or ends, and an endpoint failing for too long is
    /// disabled with a `webhook_endpoint.disabled` event.
    pub async fn record(&self, attempt: &Attempt<'_>) -> Result<Recorded, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "insert into webhook_attempts
                 (delivery_id, attempt, attempted_at, status_code, latency_ms, error)
             values ($1, $2, $3, $4, $5, $6)
             on conflict on constraint webhook_attempts_pkey do nothing",
        )
        .bind(attempt.delivery_id)
        .bind(attempt.attempt)
        .bind(attempt.attempted_at)
        .bind(attempt.status_code.map(i32::from))
        .bind(i32::try_from(attempt.latency.as_millis()).unwrap_or(i32::MAX))
        .bind(attempt.error)
        .execute(&mut *tx)
        .await?;
        let status = match (attempt.error, attempt.next_attempt_at) {
            (None, _) => "succeeded",
            (Some(_), Some(_)) => "pending",
            (Some(_), None) => "failed",
        };
        sqlx::query(
            "update webhook_deliveries
             set status = $2, attempts = greatest(attempts, $3),
                 next_attempt_at = coalesce($4, next_attempt_at),
                 finished_at = case when $2 = 'pending' then null else $5 end
             where id = $1",
        )
        .bind(attempt.delivery_id)
        .bind(status)
        .bind(attempt.attempt)
        .bind(attempt.next_attempt_at)
        .bind(attempt.attempted_at)
        .execute(&mut *tx)
        .await?;
        if attempt.error.is_none() {
            sqlx::query(
                "update webhook_endpoints set failing_since = null, paused_until = null
                 where id = $1 and (failing_since is not null or paused_until is not null)",
            )
            .bind(attempt.endpoint_id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(Recorded::Continue);
        }
        let (company_id, already_disabled, failing_since): (Uuid, bool, Option<DateTime<Utc>>) =
            sqlx::query_as(
                "select company_id, disabled, failing_since from webhook_endpoints
                 where id = $1 for update",
            )
            .bind(attempt.endpoint_id)
            .fetch_one(&mut *tx)
            .await?;
        let failing_since = failing_since.unwrap_or(attempt.attempted_at);
        let disabled = !already_disabled && failing_since <= attempt.disable_if_failing_since;
        let version: i32 = sqlx::query_scalar(
            "update webhook_endpoints
             set failing_since = $2, paused_until = $3,
                 disabled = disabled or $4,
                 disabled_reason = case when $4 then 'failing' else disabled_reason end,
                 version = version + case when $4 then 1 else 0 end,
                 updated_at = case when $4 then now() else updated_at end
             where id = $1
             returning version",
        )
        .bind(attempt.endpoint_id)
        .bind(failing_since)
        .bind(attempt.next_attempt_at)
        .bind(disabled)
        .fetch_one(&mut *tx)
        .await?;
        if disabled {
            events::append(
                &mut tx,
                company_id,
                "webhook_endpoint.disabled",
                "webhook_endpoints",
                attempt.endpoint_id,
                version,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(if disabled {
            Recorded::Disabled
        } else {
            Recorded::Paused
        })
    }

    /// Deletes finished deliveries (and their attempts) older than `before`; answers how many.
    pub async fn clean_up(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "delete from webhook_deliveries where status <> 'pending' and finished_at < $1",
        )
        .bind(before)
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
