use chrono::{DateTime, NaiveTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::StoreError;
use crate::settings::NewVatRate;

/// A company (administratie) as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CompanyRecord {
    /// Our id.
    pub id: Uuid,
    /// The merchant's name.
    pub name: String,
    /// IANA timezone name, e.g. `Europe/Amsterdam`.
    pub timezone: String,
    /// ISO 4217 currency of the books.
    pub currency: String,
    /// Local time at which a business day starts.
    pub business_day_cutoff: NaiveTime,
    /// When the company was created.
    pub created_at: DateTime<Utc>,
}

/// A company to create; the caller has validated the values.
#[derive(Debug, Clone)]
pub struct NewCompany {
    /// The merchant's name.
    pub name: String,
    /// IANA timezone name.
    pub timezone: String,
    /// ISO 4217 currency.
    pub currency: String,
    /// Local time at which a business day starts.
    pub business_day_cutoff: NaiveTime,
}

/// Queries on companies.
#[derive(Debug)]
pub struct Companies<'a> {
    pool: &'a PgPool,
}

impl<'a> Companies<'a> {
    pub(crate) fn new(pool: &'a PgPool) -> Self {
        Self { pool }
    }

    /// Creates a company with a fresh id and the VAT rates it starts with, in
    /// one transaction (with their events), so a company never exists without
    /// its rates.
    pub async fn create(
        &self,
        new: &NewCompany,
        vat_rates: &[NewVatRate],
    ) -> Result<CompanyRecord, StoreError> {
        let mut tx = self.pool.begin().await?;
        let record = sqlx::query_as::<_, CompanyRecord>(
            "insert into companies (id, name, timezone, currency, business_day_cutoff)
             values ($1, $2, $3, $4, $5)
             returning id, name, timezone, currency, business_day_cutoff, created_at",
        )
        .bind(Uuid::now_v7())
        .bind(&new.name)
        .bind(&new.timezone)
        .bind(&new.currency)
        .bind(new.business_day_cutoff)
        .fetch_one(&mut *tx)
        .await?;
        let ids: Vec<Uuid> = vat_rates.iter().map(|_| Uuid::now_v7()).collect();
        sqlx::query(
            "with rates as (
                insert into vat_rates (company_id, id, external_id, name, percentage, category, country)
                select $1, * from unnest($2::uuid[], $3::text[], $4::text[], $5::numeric[], $6::text[], $7::text[])
                returning company_id, id, version
             )
             insert into events (company_id, type, resource, resource_id, version)
             select company_id, 'vat_rate.created', 'vat_rates', id, version from rates",
        )
        .bind(record.id)
        .bind(&ids)
        .bind(vat_rates.iter().map(|r| r.external_id.clone()).collect::<Vec<_>>())
        .bind(vat_rates.iter().map(|r| r.name.clone()).collect::<Vec<_>>())
        .bind(vat_rates.iter().map(|r| r.percentage).collect::<Vec<_>>())
        .bind(vat_rates.iter().map(|r| r.category.clone()).collect::<Vec<_>>())
        .bind(vat_rates.iter().map(|r| r.country.clone()).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Finds a company by id.
    pub async fn find(&self, id: Uuid) -> Result<Option<CompanyRecord>, StoreError> {
        let record = sqlx::query_as::<_, CompanyRecord>(
            "select id, name, timezone, currency, business_day_cutoff, created_at
             from companies where id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool)
        .await?;
        Ok(record)
    }

    /// The companies with these ids, in id order; unknown ids are skipped.
    pub async fn find_many(&self, ids: &[Uuid]) -> Result<Vec<CompanyRecord>, StoreError> {
        let records = sqlx::query_as::<_, CompanyRecord>(
            "select id, name, timezone, currency, business_day_cutoff, created_at
             from companies where id = any($1) order by id",
        )
        .bind(ids)
        .fetch_all(self.pool)
        .await?;
        Ok(records)
    }

    /// Lists companies in id order, after `after` if given (keyset pagination).
    pub async fn list(
        &self,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<CompanyRecord>, StoreError> {
        let records = sqlx::query_as::<_, CompanyRecord>(
            "select id, name, timezone, currency, business_day_cutoff, created_at
             from companies where $1::uuid is null or id > $1
             order by id limit $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool)
        .await?;
        Ok(records)
    }
}
