//! Locations and their registers (see `migrations/0025_locations.sql`): upserted by the
//! vendor's external id like the settings, every change an event.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use sqlx::types::Json;
use uuid::Uuid;

use crate::StoreError;
use crate::settings::{Outcome, SettingsFilter, Upserted, WithFlag, outcome};

/// A location as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct LocationRecord {
    /// Our id.
    pub id: Uuid,
    /// The vendor's id: the code its receipts carry as `location_id`.
    pub external_id: String,
    /// The name.
    pub name: String,
    /// The address, as the API stored it.
    pub address: Option<Json<serde_json::Value>>,
    /// The cost centre its revenue is booked to.
    pub cost_centre: Option<String>,
    /// Counts changes, from 1.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A location to create or update.
#[derive(Debug, Clone)]
pub struct NewLocation {
    /// The upsert key.
    pub external_id: String,
    /// The name.
    pub name: String,
    /// The address.
    pub address: Option<serde_json::Value>,
    /// The cost centre.
    pub cost_centre: Option<String>,
}

/// A register as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RegisterRecord {
    /// Our id.
    pub id: Uuid,
    /// Our id of its location.
    pub location_id: Uuid,
    /// The vendor's id: the code its receipts carry as `register_id`.
    pub external_id: String,
    /// The name.
    pub name: String,
    /// Counts changes, from 1.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

const LOCATION_COLUMNS: &str =
    "id, external_id, name, address, cost_centre, version, created_at, updated_at";
const REGISTER_COLUMNS: &str =
    "id, location_id, external_id, name, version, created_at, updated_at";

/// Queries on locations and registers.
#[derive(Debug)]
pub struct Locations<'a> {
    pool: &'a PgPool,
}

impl<'a> Locations<'a> {
    pub(crate) fn new(pool: &'a PgPool) -> Self {
        Self { pool }
    }

    /// Creates or updates a location by external id, with its event.
    pub async fn upsert(
        &self,
        company_id: Uuid,
        new: &NewLocation,
    ) -> Result<Upserted<LocationRecord>, StoreError> {
        let row = sqlx::query_as::<_, WithFlag<LocationRecord>>(sqlx::AssertSqlSafe(format!(
            "with up as (
                insert into locations as t (company_id, id, external_id, name, address, cost_centre)
                values ($1, $2, $3, $4, $5, $6)
                on conflict (company_id, external_id) do update
                   set name = excluded.name, address = excluded.address,
                       cost_centre = excluded.cost_centre,
                       version = t.version + 1, updated_at = now()
                 where (t.name, t.address, t.cost_centre)
                       is distinct from (excluded.name, excluded.address, excluded.cost_centre)
                returning t.*, (t.xmax = 0) as inserted
             ), ev as (
                insert into events (company_id, type, resource, resource_id, version)
                select company_id, case when inserted then 'location.created' else 'location.updated' end,
                       'locations', id, version from up
             )
             select {LOCATION_COLUMNS}, inserted from up"
        )))
        .bind(company_id)
        .bind(Uuid::now_v7())
        .bind(&new.external_id)
        .bind(&new.name)
        .bind(&new.address)
        .bind(&new.cost_centre)
        .fetch_optional(self.pool)
        .await?;
        if let Some(done) = outcome(row) {
            return Ok(done);
        }
        let record = self
            .list(
                company_id,
                &SettingsFilter {
                    external_id: Some(new.external_id.clone()),
                    limit: 1,
                    ..Default::default()
                },
            )
            .await?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound)?;
        Ok(Upserted {
            record,
            outcome: Outcome::Unchanged,
        })
    }

    /// One location by our id.
    pub async fn get(
        &self,
        company_id: Uuid,
        id: Uuid,
    ) -> Result<Option<LocationRecord>, StoreError> {
        Ok(
            sqlx::query_as::<_, LocationRecord>(sqlx::AssertSqlSafe(format!(
                "select {LOCATION_COLUMNS} from locations where company_id = $1 and id = $2"
            )))
            .bind(company_id)
            .bind(id)
            .fetch_optional(self.pool)
            .await?,
        )
    }

    /// Locations by filter, in (updated_at, id) order.
    pub async fn list(
        &self,
        company_id: Uuid,
        filter: &SettingsFilter,
    ) -> Result<Vec<LocationRecord>, StoreError> {
        let (after_at, after_id) = filter.after.unzip();
        Ok(
            sqlx::query_as::<_, LocationRecord>(sqlx::AssertSqlSafe(format!(
                "select {LOCATION_COLUMNS} from locations
             where company_id = $1
               and ($2::text is null or external_id = $2)
               and ($3::timestamptz is null or updated_at >= $3)
               and ($4::timestamptz is null or (updated_at, id) > ($4, $5))
             order by updated_at, id
             limit $6"
            )))
            .bind(company_id)
            .bind(&filter.external_id)
            .bind(filter.updated_since)
            .bind(after_at)
            .bind(after_id)
            .bind(filter.limit)
            .fetch_all(self.pool)
            .await?,
        )
    }

    /// Locations by the codes receipts carry.
    pub async fn by_external_ids(
        &self,
        company_id: Uuid,
        external_ids: &[String],
    ) -> Result<Vec<LocationRecord>, StoreError> {
        Ok(
            sqlx::query_as::<_, LocationRecord>(sqlx::AssertSqlSafe(format!(
                "select {LOCATION_COLUMNS} from locations
             where company_id = $1 and external_id = any($2)"
            )))
            .bind(company_id)
            .bind(external_ids)
            .fetch_all(self.pool)
            .await?,
        )
    }

    /// Creates or updates a register of a location by external id, with its event;
    /// `Err(NotFound)` when the location is not the company's.
    pub async fn upsert_register(
        &self,
        company_id: Uuid,
        location_id: Uuid,
        external_id: &str,
        name: &str,
    ) -> Result<Upserted<RegisterRecord>, StoreError> {
        if self.get(company_id, location_id).await?.is_none() {
            return Err(StoreError::NotFound);
        }
        let row = sqlx::query_as::<_, WithFlag<RegisterRecord>>(sqlx::AssertSqlSafe(format!(
            "with up as (
                insert into registers as t (company_id, id, location_id, external_id, name)
                values ($1, $2, $3, $4, $5)
                on conflict (company_id, location_id, external_id) do update
                   set name = excluded.name, version = t.version + 1, updated_at = now()
                 where t.name is distinct from excluded.name
                returning t.*, (t.xmax = 0) as inserted
             ), ev as (
                insert into events (company_id, type, resource, resource_id, version)
                select company_id, case when inserted then 'register.created' else 'register.updated' end,
                       'registers', id, version from up
             )
             select {REGISTER_COLUMNS}, inserted from up"
        )))
        .bind(company_id)
        .bind(Uuid::now_v7())
        .bind(location_id)
        .bind(external_id)
        .bind(name)
        .fetch_optional(self.pool)
        .await?;
        if let Some(done) = outcome(row) {
            return Ok(done);
        }
        let record = sqlx::query_as::<_, RegisterRecord>(sqlx::AssertSqlSafe(format!(
            "select {REGISTER_COLUMNS} from registers
             where company_id = $1 and location_id = $2 and external_id = $3"
        )))
        .bind(company_id)
        .bind(location_id)
        .bind(external_id)
        .fetch_one(self.pool)
        .await?;
        Ok(Upserted {
            record,
            outcome: Outcome::Unchanged,
        })
    }

    /// A location's registers, in (updated_at, id) order; `Err(NotFound)` for a location
    /// that is not the company's.
    pub async fn registers(
        &self,
        company_id: Uuid,
        location_id: Uuid,
        filter: &SettingsFilter,
    ) -> Result<Vec<RegisterRecord>, StoreError> {
        if self.get(company_id, location_id).await?.is_none() {
            return Err(StoreError::NotFound);
        }
        let (after_at, after_id) = filter.after.unzip();
        Ok(
            sqlx::query_as::<_, RegisterRecord>(sqlx::AssertSqlSafe(format!(
                "select {REGISTER_COLUMNS} from registers
             where company_id = $1 and location_id = $2
               and ($3::text is null or external_id = $3)
               and ($4::timestamptz is null or updated_at >= $4)
               and ($5::timestamptz is null or (updated_at, id) > ($5, $6))
             order by updated_at, id
             limit $7"
            )))
            .bind(company_id)
            .bind(location_id)
            .bind(&filter.external_id)
            .bind(filter.updated_since)
            .bind(after_at)
            .bind(after_id)
            .bind(filter.limit)
            .fetch_all(self.pool)
            .await?,
        )
    }

    /// One register by our id.
    pub async fn register(
        &self,
        company_id: Uuid,
        id: Uuid,
    ) -> Result<Option<RegisterRecord>, StoreError> {
        Ok(
            sqlx::query_as::<_, RegisterRecord>(sqlx::AssertSqlSafe(format!(
                "select {REGISTER_COLUMNS} from registers where company_id = $1 and id = $2"
            )))
            .bind(company_id)
            .bind(id)
            .fetch_optional(self.pool)
            .await?,
        )
    }
}
