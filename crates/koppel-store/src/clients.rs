use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::StoreError;

/// An OAuth client as stored, with the companies it is granted.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ClientRecord {
    /// The public client id.
    pub id: Uuid,
    /// A human name, e.g. the vendor's product.
    pub name: String,
    /// `admin`, `vendor` or `connector`.
    pub kind: String,
    /// The scopes the client may ask for.
    pub scopes: Vec<String>,
    /// SHA-256 of the client secret.
    pub secret_hash: Vec<u8>,
    /// Incremented on every secret rotation.
    pub secret_version: i32,
    /// Per-client rate limit: tokens added per second, if overridden.
    pub rate_limit_per_second: Option<i32>,
    /// Per-client rate limit: bucket size, if overridden.
    pub rate_limit_burst: Option<i32>,
    /// When the client was created.
    pub created_at: DateTime<Utc>,
    /// When the client was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
    /// The companies the client may act on.
    pub company_ids: Vec<Uuid>,
}

/// A client to create; the caller has validated kind and scopes.
#[derive(Debug, Clone)]
pub struct NewClient {
    /// A human name.
    pub name: String,
    /// `admin`, `vendor` or `connector`.
    pub kind: String,
    /// The scopes the client may ask for.
    pub scopes: Vec<String>,
    /// SHA-256 of the secret, which itself is never stored.
    pub secret_hash: Vec<u8>,
    /// Rate limit override: tokens per second.
    pub rate_limit_per_second: Option<i32>,
    /// Rate limit override: bucket size.
    pub rate_limit_burst: Option<i32>,
    /// Companies granted from the start.
    pub company_ids: Vec<Uuid>,
}

/// The one select of a client with its grants, completed by a `where` or
/// `order by` clause. A macro, because sqlx 0.9 takes only `&'static str` SQL.
macro_rules! select_client {
    ($tail:literal) => {
        concat!(
            "select c.id, c.name, c.kind, c.scopes, c.secret_hash, c.secret_version,
        c.rate_limit_per_second, c.rate_limit_burst, c.created_at, c.revoked_at,
        coalesce(array(select g.company_id from client_companies g
                       where g.client_id = c.id order by g.company_id), '{}') as company_ids
     from clients c ",
            $tail
        )
    };
}

/// Queries on OAuth clients.
#[derive(Debug)]
pub struct Clients<'a> {
    pool: &'a PgPool,
}

impl<'a> Clients<'a> {
    pub(crate) fn new(pool: &'a PgPool) -> Self {
        Self { pool }
    }

    /// Creates a client and its grants in one transaction. An unknown company
    /// fails the whole creation with a foreign key violation.
    pub async fn create(&self, new: &NewClient) -> Result<ClientRecord, StoreError> {
        let id = Uuid::now_v7();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "insert into clients (id, name, kind, scopes, secret_hash,
                                  rate_limit_per_second, rate_limit_burst)
             values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(&new.name)
        .bind(&new.kind)
        .bind(&new.scopes)
        .bind(&new.secret_hash)
        .bind(new.rate_limit_per_second)
        .bind(new.rate_limit_burst)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "insert into client_companies (company_id, client_id)
             select unnest($1::uuid[]), $2 on conflict do nothing",
        )
        .bind(&new.company_ids)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.find(id).await?.ok_or(StoreError::NotFound)
    }

    /// Finds a client by id, revoked or not.
    pub async fn find(&self, id: Uuid) -> Result<Option<ClientRecord>, StoreError> {
        Ok(
            sqlx::query_as::<_, ClientRecord>(select_client!("where c.id = $1"))
                .bind(id)
                .fetch_optional(self.pool)
                .await?,
        )
    }

    /// Every client, revoked ones included, in id order.
    pub async fn all(&self) -> Result<Vec<ClientRecord>, StoreError> {
        Ok(
            sqlx::query_as::<_, ClientRecord>(select_client!("order by c.id"))
                .fetch_all(self.pool)
                .await?,
        )
    }

    /// Replaces the secret hash and bumps the secret version, so tokens issued
    /// under the old secret stop working. A revoked client cannot be rotated.
    pub async fn rotate_secret(
        &self,
        id: Uuid,
        secret_hash: &[u8],
    ) -> Result<Option<ClientRecord>, StoreError> {
        let updated = sqlx::query(
            "update clients set secret_hash = $2, secret_version = secret_version + 1
             where id = $1 and revoked_at is null",
        )
        .bind(id)
        .bind(secret_hash)
        .execute(self.pool)
        .await?;
        if updated.rows_affected() == 0 {
            return Ok(None);
        }
        self.find(id).await
    }

    /// Revokes a client. Nothing is deleted: the record stays for the audit
    /// trail. Revoking twice keeps the first moment.
    pub async fn revoke(&self, id: Uuid) -> Result<Option<ClientRecord>, StoreError> {
        let updated = sqlx::query(
            "update clients set revoked_at = coalesce(revoked_at, now()) where id = $1",
        )
        .bind(id)
        .execute(self.pool)
        .await?;
        if updated.rows_affected() == 0 {
            return Ok(None);
        }
        self.find(id).await
    }

    /// Grants a client access to a company; granting twice is harmless.
    pub async fn grant(&self, client_id: Uuid, company_id: Uuid) -> Result<(), StoreError> {
        sqlx::query(
            "insert into client_companies (company_id, client_id) values ($1, $2)
             on conflict do nothing",
        )
        .bind(company_id)
        .bind(client_id)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// Withdraws a client's access to a company. Answers whether there was a
    /// grant to withdraw.
    pub async fn ungrant(&self, client_id: Uuid, company_id: Uuid) -> Result<bool, StoreError> {
        let deleted =
            sqlx::query("delete from client_companies where company_id = $1 and client_id = $2")
                .bind(company_id)
                .bind(client_id)
                .execute(self.pool)
                .await?;
        Ok(deleted.rows_affected() > 0)
    }
}

/// The channel on which every change to a client is announced (migration
/// 0009's trigger), with the client's id as payload.
const CLIENT_CHANNEL: &str = "koppel_clients";

/// What [`ClientChanges::next`] saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientChange {
    /// This client changed: created, rotated, revoked, granted or ungranted.
    Changed(Uuid),
    /// The connection was lost and has been made again: announcements in
    /// between are gone, so the caller must reload every client.
    Missed,
}

/// Announcements of client changes from every process on the database.
pub struct ClientChanges {
    listener: sqlx::postgres::PgListener,
}

impl std::fmt::Debug for ClientChanges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientChanges").finish_non_exhaustive()
    }
}

impl ClientChanges {
    /// Starts listening. Changes committed from now on are announced.
    pub async fn listen(pool: &sqlx::PgPool) -> Result<Self, StoreError> {
        let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
        listener.listen(CLIENT_CHANNEL).await?;
        Ok(Self { listener })
    }

    /// Waits for the next announcement. A payload that is not a client id
    /// (someone else's NOTIFY on our channel) counts as [`ClientChange::Missed`],
    /// which makes the caller reload: never wrong, only slower.
    pub async fn next(&mut self) -> Result<ClientChange, StoreError> {
        match self.listener.try_recv().await? {
            Some(notification) => Ok(Uuid::parse_str(notification.payload())
                .map_or(ClientChange::Missed, ClientChange::Changed)),
            None => Ok(ClientChange::Missed),
        }
    }
}
