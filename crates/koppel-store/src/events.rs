//! The change feed (see `migrations/0002_events.sql` for why it is ordered by
//! transaction id and sequence, and read only below the snapshot horizon).

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::StoreError;

/// One change, as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRecord {
    /// The writing transaction's id.
    pub txid: i64,
    /// The sequence number within the feed.
    pub seq: i64,
    /// What happened, e.g. `order.created`.
    pub r#type: String,
    /// The resource collection, e.g. `orders`.
    pub resource: String,
    /// The changed document's id.
    pub resource_id: Uuid,
    /// The document's version after the change.
    pub version: i32,
    /// When the change was made.
    pub occurred_at: DateTime<Utc>,
}

/// Where a reader of the feed stands: the last event it has seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EventPosition {
    /// The transaction id of the last event seen.
    pub txid: i64,
    /// Its sequence number.
    pub seq: i64,
}

/// Appends one event inside the caller's transaction.
pub async fn append(
    conn: &mut PgConnection,
    company_id: Uuid,
    event_type: &str,
    resource: &str,
    resource_id: Uuid,
    version: i32,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into events (company_id, type, resource, resource_id, version)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(company_id)
    .bind(event_type)
    .bind(resource)
    .bind(resource_id)
    .bind(version)
    .execute(conn)
    .await?;
    Ok(())
}

/// Reads the feed.
#[derive(Debug)]
pub struct Events<'a> {
    pool: &'a PgPool,
}

impl<'a> Events<'a> {
    pub(crate) fn new(pool: &'a PgPool) -> Self {
        Self { pool }
    }

    /// The events after `after` that no running transaction can still
    /// precede, in feed order.
    pub async fn list(
        &self,
        company_id: Uuid,
        after: Option<EventPosition>,
        limit: i64,
    ) -> Result<Vec<EventRecord>, StoreError> {
        let after = after.unwrap_or(EventPosition { txid: 0, seq: 0 });
        let records = sqlx::query_as::<_, EventRecord>(
            "select txid::text::bigint as txid, seq, type, resource, resource_id, version, occurred_at
             from events
             where company_id = $1
               and (txid, seq) > ($2::text::xid8, $3)
               and txid < pg_snapshot_xmin(pg_current_snapshot())
             order by txid, seq
             limit $4",
        )
        .bind(company_id)
        .bind(after.txid.to_string())
        .bind(after.seq)
        .bind(limit)
        .fetch_all(self.pool)
        .await?;
        Ok(records)
    }
}
