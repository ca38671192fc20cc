//! Customers (debiteuren): upserted by external id, found by e-mail, number,
//! external id or change time.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::StoreError;
use crate::settings::{Outcome, Upserted, WithFlag, outcome};

/// A customer as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CustomerRecord {
    /// Our id.
    pub id: Uuid,
    /// The vendor's id.
    pub external_id: String,
    /// The customer number.
    pub number: Option<String>,
    /// `person` or `business`.
    pub kind: String,
    /// The customer's name.
    pub name: String,
    /// The business name.
    pub company_name: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// Normalised VAT number.
    pub vat_number: Option<String>,
    /// KvK number.
    pub coc_number: Option<String>,
    /// Billing address as JSON.
    pub billing_address: Option<serde_json::Value>,
    /// Shipping address as JSON.
    pub shipping_address: Option<serde_json::Value>,
    /// ISO 639-1 language.
    pub language: Option<String>,
    /// Number of changes so far.
    pub version: i32,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A customer to upsert; the caller has validated and normalised it.
#[derive(Debug, Clone)]
pub struct NewCustomer {
    /// The vendor's id.
    pub external_id: String,
    /// The customer number.
    pub number: Option<String>,
    /// `person` or `business`.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Business name.
    pub company_name: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// VAT number.
    pub vat_number: Option<String>,
    /// KvK number.
    pub coc_number: Option<String>,
    /// Billing address.
    pub billing_address: Option<serde_json::Value>,
    /// Shipping address.
    pub shipping_address: Option<serde_json::Value>,
    /// Language.
    pub language: Option<String>,
}

/// Filters and page position of a customer list.
#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    /// E-mail, compared case-insensitively.
    pub email: Option<String>,
    /// External id.
    pub external_id: Option<String>,
    /// Customer number.
    pub number: Option<String>,
    /// Changed at or after.
    pub updated_since: Option<DateTime<Utc>>,
    /// The last (updated_at, id) of the previous page.
    pub after: Option<(DateTime<Utc>, Uuid)>,
    /// Page size.
    pub limit: i64,
}

/// The columns of a [`CustomerRecord`], for `concat!` (sqlx takes only static SQL).
macro_rules! columns {
    () => {
        "id, external_id, number, kind, name, company_name, email, phone, vat_number, coc_number,
         billing_address, shipping_address, language, version, created_at, updated_at"
    };
}

/// Queries on customers.
#[derive(Debug)]
pub struct Customers<'a> {
    pool: &'a PgPool,
}

impl<'a> Customers<'a> {
    pub(crate) fn new(pool: &'a PgPool) -> Self {
        Self { pool }
    }

    /// Creates or updates a customer by external id, with its event.
    pub async fn upsert(
        &self,
        company_id: Uuid,
        new: &NewCustomer,
    ) -> Result<Upserted<CustomerRecord>, StoreError> {
        let row = sqlx::query_as::<_, WithFlag<CustomerRecord>>(
            "with up as (
                insert into customers as t (company_id, id, external_id, number, kind, name, company_name, email,
                    phone, vat_number, coc_number, billing_address, shipping_address, language)
                values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                on conflict (company_id, external_id) do update
                   set number = excluded.number, kind = excluded.kind, name = excluded.name,
                       company_name = excluded.company_name, email = excluded.email, phone = excluded.phone,
                       vat_number = excluded.vat_number, coc_number = excluded.coc_number,
                       billing_address = excluded.billing_address, shipping_address = excluded.shipping_address,
                       language = excluded.language, version = t.version + 1, updated_at = now()
                 where (t.number, t.kind, t.name, t.company_name, t.email, t.phone, t.vat_number, t.coc_number,
                        t.billing_address, t.shipping_address, t.language)
                       is distinct from
                       (excluded.number, excluded.kind, excluded.name, excluded.company_name, excluded.email,
                        excluded.phone, excluded.vat_number, excluded.coc_number, excluded.billing_address,
                        excluded.shipping_address, excluded.language)
                returning t.*, (t.xmax = 0) as inserted
             ), ev as (
                insert into events (company_id, type, resource, resource_id, version)
                select company_id, case when inserted then 'customer.created' else 'customer.updated' end,
                       'customers', id, version from up
             )
             select id, external_id, number, kind, name, company_name, email, phone, vat_number, coc_number,
                    billing_address, shipping_address, language, version, created_at, updated_at, inserted
             from up",
        )
        .bind(company_id)
        .bind(Uuid::now_v7())
        .bind(&new.external_id)
        .bind(&new.number)
        .bind(&new.kind)
        .bind(&new.name)
        .bind(&new.company_name)
        .bind(&new.email)
        .bind(&new.phone)
        .bind(&new.vat_number)
        .bind(&new.coc_number)
        .bind(&new.billing_address)
        .bind(&new.shipping_address)
        .bind(&new.language)
        .fetch_optional(self.pool)
        .await?;
        if let Some(done) = outcome(row) {
            return Ok(done);
        }
        let filter = CustomerFilter {
            external_id: Some(new.external_id.clone()),
            limit: 1,
            ..Default::default()
        };
        let record = self
            .list(company_id, &filter)
            .await?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound)?;
        Ok(Upserted {
            record,
            outcome: Outcome::Unchanged,
        })
    }

    /// One customer by id.
    pub async fn find(
        &self,
        company_id: Uuid,
        id: Uuid,
    ) -> Result<Option<CustomerRecord>, StoreError> {
        Ok(sqlx::query_as::<_, CustomerRecord>(concat!(
            "select ",
            columns!(),
            " from customers where company_id = $1 and id = $2"
        ))
        .bind(company_id)
        .bind(id)
        .fetch_optional(self.pool)
        .await?)
    }

    /// Customers by filter, in (updated_at, id) order.
    pub async fn list(
        &self,
        company_id: Uuid,
        filter: &CustomerFilter,
    ) -> Result<Vec<CustomerRecord>, StoreError> {
        let (after_at, after_id) = filter.after.unzip();
        let sql = concat!(
            "select ",
            columns!(),
            " from customers
             where company_id = $1
               and ($2::text is null or lower(email) = lower($2))
               and ($3::text is null or external_id = $3)
               and ($4::text is null or number = $4)
               and ($5::timestamptz is null or updated_at >= $5)
               and ($6::timestamptz is null or (updated_at, id) > ($6, $7))
             order by updated_at, id limit $8"
        );
        Ok(sqlx::query_as::<_, CustomerRecord>(sql)
            .bind(company_id)
            .bind(&filter.email)
            .bind(&filter.external_id)
            .bind(&filter.number)
            .bind(filter.updated_since)
            .bind(after_at)
            .bind(after_id)
            .bind(filter.limit)
            .fetch_all(self.pool)
            .await?)
    }
}
