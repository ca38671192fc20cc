//! Idempotency keys: claiming a key before a request runs, storing its answer
//! afterwards, finding it again for a replay, and forgetting it after expiry.
//!
//! The claim is a row of its own, committed at once, rather than a lock held
//! in an open transaction: the request it guards needs database connections
//! of its own, and holding one more per request for its whole duration could
//! exhaust the pool under load. Whoever finds a claimed row waits by polling
//! it (see the API's idempotency middleware).

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::StoreError;

/// An idempotency key as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IdempotencyRecord {
    /// The client the key belongs to.
    pub client_id: Uuid,
    /// The key, as the client sent it.
    pub key: String,
    /// SHA-256 of the request the key was first used with.
    pub request_hash: Vec<u8>,
    /// The request that claimed the key.
    pub owner: Uuid,
    /// When the key was claimed.
    pub created_at: DateTime<Utc>,
    /// When the key is forgotten.
    pub expires_at: DateTime<Utc>,
    /// Until when an unfinished claim is honoured; after it, another request
    /// with the same body may take the key over.
    pub locked_until: DateTime<Utc>,
    /// The answer's status; null while the request is in progress.
    pub status: Option<i16>,
    /// The answer's stored headers, as `[[name, value], …]`.
    pub headers: Option<serde_json::Value>,
    /// The answer's body.
    pub body: Option<Vec<u8>>,
    /// When the answer was stored.
    pub completed_at: Option<DateTime<Utc>>,
}

impl IdempotencyRecord {
    /// The stored answer, once the request that claimed the key has finished.
    pub fn response(&self) -> Option<StoredResponse> {
        let status = u16::try_from(self.status?).ok()?;
        let headers = serde_json::from_value(self.headers.clone()?).ok()?;
        Some(StoredResponse {
            status,
            headers,
            body: self.body.clone()?,
        })
    }
}

/// An answer to replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// The HTTP status.
    pub status: u16,
    /// The headers worth replaying, by name and value.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is ours: run the request, then complete or release it.
    Claimed,
    /// The key is held by an earlier request, finished or not.
    Taken(IdempotencyRecord),
}

/// Queries on idempotency keys.
#[derive(Debug)]
pub struct IdempotencyKeys<'a> {
    pool: &'a PgPool,
}

impl<'a> IdempotencyKeys<'a> {
    pub(crate) fn new(pool: &'a PgPool) -> Self {
        Self { pool }
    }

    /// Claims `key` for a request by `owner`, kept for `retention` and locked
    /// against other requests for `lease`, unless an earlier request holds it.
    ///
    /// An expired key is claimed afresh; an unfinished claim whose lease has
    /// run out (its server died mid-request) is taken over, but only by the
    /// same request, so that a key stays bound to its first body.
    pub async fn claim(
        &self,
        client_id: Uuid,
        key: &str,
        request_hash: &[u8],
        owner: Uuid,
        retention: Duration,
        lease: Duration,
    ) -> Result<Claim, StoreError> {
        // A row deleted between the insert and the select (a release, or the
        // clean-up) makes the claim worth trying again; twice is plenty.
        for _ in 0..3 {
            let claimed = sqlx::query_scalar::<_, Uuid>(
                "insert into idempotency_keys
                     (client_id, key, request_hash, owner, expires_at, locked_until)
                 values ($1, $2, $3, $4,
                         now() + make_interval(secs => $5), now() + make_interval(secs => $6))
                 on conflict on constraint idempotency_keys_pkey do update set
                     request_hash = excluded.request_hash, owner = excluded.owner,
                     created_at = now(), expires_at = excluded.expires_at,
                     locked_until = excluded.locked_until,
                     status = null, headers = null, body = null, completed_at = null
                 where idempotency_keys.expires_at <= now()
                    or (idempotency_keys.status is null
                        and idempotency_keys.locked_until <= now()
                        and idempotency_keys.request_hash = excluded.request_hash)
                 returning owner",
            )
            .bind(client_id)
            .bind(key)
            .bind(request_hash)
            .bind(owner)
            .bind(retention.as_secs_f64())
            .bind(lease.as_secs_f64())
            .fetch_optional(self.pool)
            .await?;
            if claimed.is_some() {
                return Ok(Claim::Claimed);
            }
            if let Some(record) = self.find(client_id, key).await? {
                return Ok(Claim::Taken(record));
            }
        }
        Err(StoreError::Database(sqlx::Error::Protocol(
            "an idempotency key kept disappearing while it was claimed".to_owned(),
        )))
    }

    /// The key's row, unless it has expired.
    pub async fn find(
        &self,
        client_id: Uuid,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        Ok(sqlx::query_as::<_, IdempotencyRecord>(
            "select client_id, key, request_hash, owner, created_at, expires_at, locked_until,
                    status, headers, body, completed_at
             from idempotency_keys
             where client_id = $1 and key = $2 and expires_at > now()",
        )
        .bind(client_id)
        .bind(key)
        .fetch_optional(self.pool)
        .await?)
    }

    /// Stores the answer of the request that claimed the key. False when the
    /// claim was lost (taken over after its lease ran out).
    pub async fn complete(
        &self,
        client_id: Uuid,
        key: &str,
        owner: Uuid,
        response: &StoredResponse,
    ) -> Result<bool, StoreError> {
        let headers = serde_json::to_value(&response.headers)
            .map_err(|e| StoreError::Database(sqlx::Error::Encode(Box::new(e))))?;
        let done = sqlx::query(
            "update idempotency_keys
             set status = $4, headers = $5, body = $6, completed_at = now()
             where client_id = $1 and key = $2 and owner = $3 and status is null",
        )
        .bind(client_id)
        .bind(key)
        .bind(owner)
        .bind(i16::try_from(response.status).unwrap_or(i16::MAX))
        .bind(headers)
        .bind(&response.body)
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Renews a running request's claim for another `lease`: its heartbeat.
    /// False when the claim is no longer this owner's (finished, released, or
    /// taken over after the lease ran out).
    pub async fn extend(
        &self,
        client_id: Uuid,
        key: &str,
        owner: Uuid,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let renewed = sqlx::query(
            "update idempotency_keys set locked_until = now() + make_interval(secs => $4)
             where client_id = $1 and key = $2 and owner = $3 and status is null",
        )
        .bind(client_id)
        .bind(key)
        .bind(owner)
        .bind(lease.as_secs_f64())
        .execute(self.pool)
        .await?;
        Ok(renewed.rows_affected() == 1)
    }

    /// Gives up a claim without an answer to keep, so that the next request
    /// with the key runs afresh.
    pub async fn release(&self, client_id: Uuid, key: &str, owner: Uuid) -> Result<(), StoreError> {
        sqlx::query(
            "delete from idempotency_keys
             where client_id = $1 and key = $2 and owner = $3 and status is null",
        )
        .bind(client_id)
        .bind(key)
        .bind(owner)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// How many keys `client_id` holds that have not expired, and in how many whole seconds
    /// the oldest of them expires (0 when it holds none): what its quota is checked against.
    pub async fn usage(&self, client_id: Uuid) -> Result<(i64, i64), StoreError> {
        Ok(sqlx::query_as(
            "select count(*),
                    coalesce(ceil(extract(epoch from min(expires_at) - now())), 0)::bigint
               from idempotency_keys
              where client_id = $1 and expires_at > now()",
        )
        .bind(client_id)
        .fetch_one(self.pool)
        .await?)
    }

    /// Deletes expired keys, `batch` rows per statement so that no statement
    /// holds many locks or runs long; returns how many were deleted.
    pub async fn delete_expired(&self, batch: i64) -> Result<u64, StoreError> {
        let mut total = 0;
        loop {
            let deleted = sqlx::query(
                "with doomed as (
                     select client_id, key from idempotency_keys
                     where expires_at <= now()
                     order by expires_at
                     limit $1
                     for update skip locked
                 )
                 delete from idempotency_keys k using doomed d
                 where k.client_id = d.client_id and k.key = d.key",
            )
            .bind(batch.max(1))
            .execute(self.pool)
            .await?
            .rows_affected();
            total += deleted;
            if deleted < batch.max(1) as u64 {
                return Ok(total);
            }
        }
    }
}
