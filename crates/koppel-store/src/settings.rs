//! VAT rates, payment methods and categories: upserted by external id, each
//! change written to the event feed in the same statement.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

use crate::StoreError;

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A new row.
    Created,
    /// An existing row changed; its version went up.
    Updated,
    /// The row already held exactly this; nothing was written.
    Unchanged,
}

/// A row and what the upsert did to it.
#[derive(Debug, Clone)]
pub struct Upserted<T> {
    /// The row as it now is.
    pub record: T,
    /// What happened.
    pub outcome: Outcome,
}

/// Filters and page position of a settings list.
#[derive(Debug, Clone, Default)]
pub struct SettingsFilter {
    /// Only the row with this external id.
    pub external_id: Option<String>,
    /// Only rows changed at or after this moment.
    pub updated_since: Option<DateTime<Utc>>,
    /// The last (updated_at, id) of the previous page.
    pub after: Option<(DateTime<Utc>, Uuid)>,
    /// Page size.
    pub limit: i64,
}

/// A VAT rate as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct VatRateRecord {
    /// Our id.
    pub id: Uuid,
    /// The vendor's id.
    pub external_id: String,
    /// Name.
    pub name: String,
    /// Percentage, e.g. 21.
    pub percentage: Decimal,
    /// VAT category.
    pub category: String,
    /// ISO 3166-1 country.
    pub country: String,
    /// Whether the rate is in use.
    pub active: bool,
    /// Number of changes so far, starting at 1.
    pub version: i32,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A VAT rate to upsert; the caller has validated it.
#[derive(Debug, Clone)]
pub struct NewVatRate {
    /// The vendor's id.
    pub external_id: String,
    /// Name.
    pub name: String,
    /// Percentage.
    pub percentage: Decimal,
    /// VAT category.
    pub category: String,
    /// Country.
    pub country: String,
    /// In use.
    pub active: bool,
}

/// A payment method as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PaymentMethodRecord {
    /// Our id.
    pub id: Uuid,
    /// The vendor's id.
    pub external_id: String,
    /// Name.
    pub name: String,
    /// Kind, e.g. `cash`.
    pub kind: String,
    /// Whether the method is in use.
    pub active: bool,
    /// Number of changes so far.
    pub version: i32,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A payment method to upsert.
#[derive(Debug, Clone)]
pub struct NewPaymentMethod {
    /// The vendor's id.
    pub external_id: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: String,
    /// In use.
    pub active: bool,
}

/// A category as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CategoryRecord {
    /// Our id.
    pub id: Uuid,
    /// The vendor's id.
    pub external_id: String,
    /// Name.
    pub name: String,
    /// The parent category.
    pub parent_id: Option<Uuid>,
    /// Whether the category is in use.
    pub active: bool,
    /// Number of changes so far.
    pub version: i32,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A category to upsert.
#[derive(Debug, Clone)]
pub struct NewCategory {
    /// The vendor's id.
    pub external_id: String,
    /// Name.
    pub name: String,
    /// The parent category, which must exist in the company.
    pub parent_id: Option<Uuid>,
    /// In use.
    pub active: bool,
}

/// A row returned by an upsert, with whether it was inserted (`xmax = 0`).
#[derive(sqlx::FromRow)]
pub(crate) struct WithFlag<T> {
    #[sqlx(flatten)]
    record: T,
    inserted: bool,
}

/// What an upsert that returned `row` did; `None` when it returned nothing,
/// i.e. the stored row was already exactly this.
pub(crate) fn outcome<T>(row: Option<WithFlag<T>>) -> Option<Upserted<T>> {
    row.map(|r| Upserted {
        outcome: if r.inserted {
            Outcome::Created
        } else {
            Outcome::Updated
        },
        record: r.record,
    })
}

/// Queries on the settings tables.
#[derive(Debug)]
pub struct Settings<'a> {
    pool: &'a PgPool,
}

// The upserts below insert or update only when something differs, and write
// the event in the same statement (a data-modifying CTE), so a change and its
// event commit together in one round trip.

impl<'a> Settings<'a> {
    pub(crate) fn new(pool: &'a PgPool) -> Self {
        Self { pool }
    }

    /// Creates or updates a VAT rate by external id.
    pub async fn upsert_vat_rate(
        &self,
        company_id: Uuid,
        new: &NewVatRate,
    ) -> Result<Upserted<VatRateRecord>, StoreError> {
        let row = sqlx::query_as::<_, WithFlag<VatRateRecord>>(
            "with up as (
                insert into vat_rates as t (company_id, id, external_id, name, percentage, category, country, active)
                values ($1, $2, $3, $4, $5, $6, $7, $8)
                on conflict (company_id, external_id) do update
                   set name = excluded.name, percentage = excluded.percentage, category = excluded.category,
                       country = excluded.country, active = excluded.active,
                       version = t.version + 1, updated_at = now()
                 where (t.name, t.percentage, t.category, t.country, t.active)
                       is distinct from (excluded.name, excluded.percentage, excluded.category, excluded.country, excluded.active)
                returning t.*, (t.xmax = 0) as inserted
             ), ev as (
                insert into events (company_id, type, resource, resource_id, version)
                select company_id, case when inserted then 'vat_rate.created' else 'vat_rate.updated' end,
                       'vat_rates', id, version from up
             )
             select id, external_id, name, percentage, category, country, active, version, created_at, updated_at, inserted
             from up",
        )
        .bind(company_id)
        .bind(Uuid::now_v7())
        .bind(&new.external_id)
        .bind(&new.name)
        .bind(new.percentage)
        .bind(&new.category)
        .bind(&new.country)
        .bind(new.active)
        .fetch_optional(self.pool)
        .await?;
        if let Some(done) = outcome(row) {
            return Ok(done);
        }
        let record = self
            .vat_rates(
                company_id,
                &SettingsFilter {
                    external_id: Some(new.external_id.clone()),
                    limit: 1,
                    ..Default::default()
                },
            )
            .await?;
        let record = record.into_iter().next().ok_or(StoreError::NotFound)?;
        Ok(Upserted {
            record,
            outcome: Outcome::Unchanged,
        })
    }

    /// One VAT rate by id.
    pub async fn vat_rate(
        &self,
        company_id: Uuid,
        id: Uuid,
    ) -> Result<Option<VatRateRecord>, StoreError> {
        Ok(sqlx::query_as::<_, VatRateRecord>(
            "select id, external_id, name, percentage, category, country, active, version, created_at, updated_at
             from vat_rates where company_id = $1 and id = $2",
        )
        .bind(company_id)
        .bind(id)
        .fetch_optional(self.pool)
        .await?)
    }

    /// VAT rates by filter, in (updated_at, id) order.
    pub async fn vat_rates(
        &self,
        company_id: Uuid,
        filter: &SettingsFilter,
    ) -> Result<Vec<VatRateRecord>, StoreError> {
        let (after_at, after_id) = filter.after.unzip();
        Ok(sqlx::query_as::<_, VatRateRecord>(
            "select id, external_id, name, percentage, category, country, active, version, created_at, updated_at
             from vat_rates
             where company_id = $1
               and ($2::text is null or external_id = $2)
               and ($3::timestamptz is null or updated_at >= $3)
               and ($4::timestamptz is null or (updated_at, id) > ($4, $5))
             order by updated_at, id limit $6",
        )
        .bind(company_id)
        .bind(&filter.external_id)
        .bind(filter.updated_since)
        .bind(after_at)
        .bind(after_id)
        .bind(filter.limit)
        .fetch_all(self.pool)
        .await?)
    }

    /// Creates or updates a payment method by external id.
    pub async fn upsert_payment_method(
        &self,
        company_id: Uuid,
        new: &NewPaymentMethod,
    ) -> Result<Upserted<PaymentMethodRecord>, StoreError> {
        let row = sqlx::query_as::<_, WithFlag<PaymentMethodRecord>>(
            "with up as (
                insert into payment_methods as t (company_id, id, external_id, name, kind, active)
                values ($1, $2, $3, $4, $5, $6)
                on conflict (company_id, external_id) do update
                   set name = excluded.name, kind = excluded.kind, active = excluded.active,
                       version = t.version + 1, updated_at = now()
                 where (t.name, t.kind, t.active) is distinct from (excluded.name, excluded.kind, excluded.active)
                returning t.*, (t.xmax = 0) as inserted
             ), ev as (
                insert into events (company_id, type, resource, resource_id, version)
                select company_id, case when inserted then 'payment_method.created' else 'payment_method.updated' end,
                       'payment_methods', id, version from up
             )
             select id, external_id, name, kind, active, version, created_at, updated_at, inserted from up",
        )
        .bind(company_id)
        .bind(Uuid::now_v7())
        .bind(&new.external_id)
        .bind(&new.name)
        .bind(&new.kind)
        .bind(new.active)
        .fetch_optional(self.pool)
        .await?;
        if let Some(done) = outcome(row) {
            return Ok(done);
        }
        let record = self
            .payment_methods(
                company_id,
                &SettingsFilter {
                    external_id: Some(new.external_id.clone()),
                    limit: 1,
                    ..Default::default()
                },
            )
            .await?;
        let record = record.into_iter().next().ok_or(StoreError::NotFound)?;
        Ok(Upserted {
            record,
            outcome: Outcome::Unchanged,
        })
    }

    /// One payment method by id.
    pub async fn payment_method(
        &self,
        company_id: Uuid,
        id: Uuid,
    ) -> Result<Option<PaymentMethodRecord>, StoreError> {
        Ok(sqlx::query_as::<_, PaymentMethodRecord>(
            "select id, external_id, name, kind, active, version, created_at, updated_at
             from payment_methods where company_id = $1 and id = $2",
        )
        .bind(company_id)
        .bind(id)
        .fetch_optional(self.pool)
        .await?)
    }

    /// Payment methods by filter, in (updated_at, id) order.
    pub async fn payment_methods(
        &self,
        company_id: Uuid,
        filter: &SettingsFilter,
    ) -> Result<Vec<PaymentMethodRecord>, StoreError> {
        let (after_at, after_id) = filter.after.unzip();
        Ok(sqlx::query_as::<_, PaymentMethodRecord>(
            "select id, external_id, name, kind, active, version, created_at, updated_at
             from payment_methods
             where company_id = $1
               and ($2::text is null or external_id = $2)
               and ($3::timestamptz is null or updated_at >= $3)
               and ($4::timestamptz is null or (updated_at, id) > ($4, $5))
             order by updated_at, id limit $6",
        )
        .bind(company_id)
        .bind(&filter.external_id)
        .bind(filter.updated_since)
        .bind(after_at)
        .bind(after_id)
        .bind(filter.limit)
        .fetch_all(self.pool)
        .await?)
    }

    /// Creates or updates a category by external id. An unknown parent is a
    /// foreign key violation (`categories_parent_fkey`).
    pub async fn upsert_category(
        &self,
        company_id: Uuid,
        new: &NewCategory,
    ) -> Result<Upserted<CategoryRecord>, StoreError> {
        let row = sqlx::query_as::<_, WithFlag<CategoryRecord>>(
            "with up as (
                insert into categories as t (company_id, id, external_id, name, parent_id, active)
                values ($1, $2, $3, $4, $5, $6)
                on conflict (company_id, external_id) do update
                   set name = excluded.name, parent_id = excluded.parent_id, active = excluded.active,
                       version = t.version + 1, updated_at = now()
                 where (t.name, t.parent_id, t.active) is distinct from (excluded.name, excluded.parent_id, excluded.active)
                returning t.*, (t.xmax = 0) as inserted
             ), ev as (
                insert into events (company_id, type, resource, resource_id, version)
                select company_id, case when inserted then 'category.created' else 'category.updated' end,
                       'categories', id, version from up
             )
             select id, external_id, name, parent_id, active, version, created_at, updated_at, inserted from up",
        )
        .bind(company_id)
        .bind(Uuid::now_v7())
        .bind(&new.external_id)
        .bind(&new.name)
        .bind(new.parent_id)
        .bind(new.active)
        .fetch_optional(self.pool)
        .await?;
        if let Some(done) = outcome(row) {
            return Ok(done);
        }
        let record = self
            .categories(
                company_id,
                &SettingsFilter {
                    external_id: Some(new.external_id.clone()),
                    limit: 1,
                    ..Default::default()
                },
            )
            .await?;
        let record = record.into_iter().next().ok_or(StoreError::NotFound)?;
        Ok(Upserted {
            record,
            outcome: Outcome::Unchanged,
        })
    }

    /// One category by id.
    pub async fn category(
        &self,
        company_id: Uuid,
        id: Uuid,
    ) -> Result<Option<CategoryRecord>, StoreError> {
        Ok(sqlx::query_as::<_, CategoryRecord>(
            "select id, external_id, name, parent_id, active, version, created_at, updated_at
             from categories where company_id = $1 and id = $2",
        )
        .bind(company_id)
        .bind(id)
        .fetch_optional(self.pool)
        .await?)
    }

    /// Categories by filter, in (updated_at, id) order.
    pub async fn categories(
        &self,
        company_id: Uuid,
        filter: &SettingsFilter,
    ) -> Result<Vec<CategoryRecord>, StoreError> {
        let (after_at, after_id) = filter.after.unzip();
        Ok(sqlx::query_as::<_, CategoryRecord>(
            "select id, external_id, name, parent_id, active, version, created_at, updated_at
             from categories
             where company_id = $1
               and ($2::text is null or external_id = $2)
               and ($3::timestamptz is null or updated_at >= $3)
               and ($4::timestamptz is null or (updated_at, id) > ($4, $5))
             order by updated_at, id limit $6",
        )
        .bind(company_id)
        .bind(&filter.external_id)
        .bind(filter.updated_since)
        .bind(after_at)
        .bind(after_id)
        .bind(filter.limit)
        .fetch_all(self.pool)
        .await?)
    }
}
