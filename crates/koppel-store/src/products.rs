//! Products: upserted by external id, found by SKU, external id or change time.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

use crate::settings::{Outcome, Upserted, WithFlag, outcome};
use crate::{Reference, StoreError};

/// A product as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProductRecord {
    /// Our id.
    pub id: Uuid,
    /// The vendor's id.
    pub external_id: String,
    /// Stock keeping unit.
    pub sku: Option<String>,
    /// EAN/GTIN barcode.
    pub ean: Option<String>,
    /// Name.
    pub name: String,
    /// Category.
    pub category_id: Option<Uuid>,
    /// Unit price, up to 6 decimals.
    pub unit_price: Option<Decimal>,
    /// Whether the unit price includes VAT.
    pub prices_include_vat: bool,
    /// The VAT rate that applies.
    pub vat_rate_id: Option<Uuid>,
    /// Whether the product is sold.
    pub active: bool,
    /// Number of changes so far.
    pub version: i32,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A product to upsert; the caller has validated it.
#[derive(Debug, Clone)]
pub struct NewProduct {
    /// The vendor's id.
    pub external_id: String,
    /// SKU.
    pub sku: Option<String>,
    /// EAN.
    pub ean: Option<String>,
    /// Name.
    pub name: String,
    /// Category, which must exist in the company.
    pub category_id: Option<Uuid>,
    /// Unit price.
    pub unit_price: Option<Decimal>,
    /// Whether the unit price includes VAT.
    pub prices_include_vat: bool,
    /// VAT rate, which must exist in the company.
    pub vat_rate_id: Option<Uuid>,
    /// Sold.
    pub active: bool,
}

/// Filters and page position of a product list.
#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    /// SKU.
    pub sku: Option<String>,
    /// External id.
    pub external_id: Option<String>,
    /// Changed at or after.
    pub updated_since: Option<DateTime<Utc>>,
    /// The last (updated_at, id) of the previous page.
    pub after: Option<(DateTime<Utc>, Uuid)>,
    /// Page size.
    pub limit: i64,
}

/// The columns of a [`ProductRecord`], for `concat!` (sqlx takes only static SQL).
macro_rules! columns {
    () => {
        "id, external_id, sku, ean, name, category_id, unit_price, prices_include_vat, vat_rate_id, active,
         version, created_at, updated_at"
    };
}

/// Queries on products.
#[derive(Debug)]
pub struct Products<'a> {
    pool: &'a PgPool,
}

impl<'a> Products<'a> {
    pub(crate) fn new(pool: &'a PgPool) -> Self {
        Self { pool }
    }

    /// Creates or updates a product by external id, with its event. An unknown
    /// category or VAT rate is a foreign key violation naming the constraint.
    pub async fn upsert(
        &self,
        company_id: Uuid,
        new: &NewProduct,
    ) -> Result<Upserted<ProductRecord>, StoreError> {
        let row = sqlx::query_as::<_, WithFlag<ProductRecord>>(concat!(
            "with up as (
                insert into products as t (company_id, id, external_id, sku, ean, name, category_id, unit_price,
                    prices_include_vat, vat_rate_id, active)
                values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                on conflict (company_id, external_id) do update
                   set sku = excluded.sku, ean = excluded.ean, name = excluded.name,
                       category_id = excluded.category_id, unit_price = excluded.unit_price,
                       prices_include_vat = excluded.prices_include_vat, vat_rate_id = excluded.vat_rate_id,
                       active = excluded.active, version = t.version + 1, updated_at = now()
                 where (t.sku, t.ean, t.name, t.category_id, t.unit_price, t.prices_include_vat, t.vat_rate_id, t.active)
                       is distinct from
                       (excluded.sku, excluded.ean, excluded.name, excluded.category_id, excluded.unit_price,
                        excluded.prices_include_vat, excluded.vat_rate_id, excluded.active)
                returning t.*, (t.xmax = 0) as inserted
             ), ev as (
                insert into events (company_id, type, resource, resource_id, version)
                select company_id, case when inserted then 'product.created' else 'product.updated' end,
                       'products', id, version from up
             )
             select ",
            columns!(),
            ", inserted from up"
        ))
        .bind(company_id)
        .bind(Uuid::now_v7())
        .bind(&new.external_id)
        .bind(&new.sku)
        .bind(&new.ean)
        .bind(&new.name)
        .bind(new.category_id)
        .bind(new.unit_price)
        .bind(new.prices_include_vat)
        .bind(new.vat_rate_id)
        .bind(new.active)
        .fetch_optional(self.pool)
        .await
        .map_err(|e| match StoreError::from(e) {
            // The constraints of migrations/0005: which reference was unknown.
            StoreError::ForeignKeyViolation { constraint } => match constraint.as_str() {
                "products_vat_rate_fkey" => StoreError::UnknownReference(Reference::VatRate),
                "products_category_fkey" => StoreError::UnknownReference(Reference::Category),
                _ => StoreError::ForeignKeyViolation { constraint },
            },
            other => other,
        })?;
        if let Some(done) = outcome(row) {
            return Ok(done);
        }
        let filter = ProductFilter {
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

    /// One product by id.
    pub async fn find(
        &self,
        company_id: Uuid,
        id: Uuid,
    ) -> Result<Option<ProductRecord>, StoreError> {
        Ok(sqlx::query_as::<_, ProductRecord>(concat!(
            "select ",
            columns!(),
            " from products where company_id = $1 and id = $2"
        ))
        .bind(company_id)
        .bind(id)
        .fetch_optional(self.pool)
        .await?)
    }

    /// Products by filter, in (updated_at, id) order.
    pub async fn list(
        &self,
        company_id: Uuid,
        filter: &ProductFilter,
    ) -> Result<Vec<ProductRecord>, StoreError> {
        let (after_at, after_id) = filter.after.unzip();
        Ok(sqlx::query_as::<_, ProductRecord>(concat!(
            "select ",
            columns!(),
            " from products
             where company_id = $1
               and ($2::text is null or sku = $2)
               and ($3::text is null or external_id = $3)
               and ($4::timestamptz is null or updated_at >= $4)
               and ($5::timestamptz is null or (updated_at, id) > ($5, $6))
             order by updated_at, id limit $7"
        ))
        .bind(company_id)
        .bind(&filter.sku)
        .bind(&filter.external_id)
        .bind(filter.updated_since)
        .bind(after_at)
        .bind(after_id)
        .bind(filter.limit)
        .fetch_all(self.pool)
        .await?)
    }
}
