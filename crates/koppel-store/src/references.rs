//! Loads what a document names (VAT rates, products, payment methods, …) in
//! one round trip, so the domain can check references as plain functions.

use koppel_domain::document::{ExternalKind, KnownReferences, VatRateRef};
use koppel_domain::vat::VatCategory;
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

use crate::StoreError;

/// The ids a document (or a batch of documents) names. Ids that are not UUIDs
/// cannot exist, so they are simply not found. SKUs are not among them: they
/// are article codes, stored as sent and linked to products when read.
#[derive(Debug, Clone, Default)]
pub struct Wanted {
    /// VAT rate ids.
    pub vat_rates: Vec<String>,
    /// Product ids.
    pub products: Vec<String>,
    /// Payment method ids.
    pub payment_methods: Vec<String>,
    /// Category ids.
    pub categories: Vec<String>,
    /// Customer ids.
    pub customers: Vec<String>,
    /// Order ids (for `credit_of`).
    pub orders: Vec<String>,
    /// Customers by the vendor's external id.
    pub customer_external_ids: Vec<String>,
    /// Payment methods by the vendor's external id.
    pub payment_method_external_ids: Vec<String>,
    /// Categories by the vendor's external id.
    pub category_external_ids: Vec<String>,
    /// VAT rates by the vendor's external id.
    pub vat_rate_external_ids: Vec<String>,
    /// Products by the vendor's external id.
    pub product_external_ids: Vec<String>,
    /// Receipt ids (for `refund_of`).
    pub receipts: Vec<String>,
    /// Receipts by the vendor's external id.
    pub receipt_external_ids: Vec<String>,
}

fn uuids(ids: &[String]) -> Vec<Uuid> {
    ids.iter()
        .filter_map(|id| Uuid::parse_str(id).ok())
        .collect()
}

#[derive(sqlx::FromRow)]
struct Found {
    kind: String,
    key: String,
    percentage: Option<Decimal>,
    category: Option<String>,
    country: Option<String>,
    /// Our id, for a resource found by its external id (`key`).
    ours: Option<Uuid>,
    /// The external id, for a resource found by our id (`key`).
    external: Option<String>,
}

/// Loads the references a document names, in one query.
pub async fn load(
    pool: &PgPool,
    company_id: Uuid,
    wanted: &Wanted,
) -> Result<KnownReferences, StoreError> {
    let rows = sqlx::query_as::<_, Found>(
        "select 'vat_rate' as kind, id::text as key, percentage, category, country,
                null::uuid as ours, external_id as external
           from vat_rates where company_id = $1 and id = any($2)
         union all
         select 'vat_rate_ext', external_id, percentage, category, country, id, null
           from vat_rates where company_id = $1 and external_id = any($10)
         union all
         select 'product', id::text, null, null, null, null, external_id from products where company_id = $1 and id = any($3)
         union all
         select 'product_ext', external_id, null, null, null, id, null from products
          where company_id = $1 and external_id = any($11)
         union all
         select 'payment_method', id::text, null, kind, null, null, external_id from payment_methods where company_id = $1 and id = any($4)
         union all
         select 'category', id::text, null, null, null, null, external_id from categories where company_id = $1 and id = any($5)
         union all
         select 'customer', id::text, null, null, null, null, external_id from customers where company_id = $1 and id = any($6)
         union all
         select 'customer_ext', external_id, null, null, null, id, null from customers
          where company_id = $1 and external_id = any($7)
         union all
         select 'payment_method_ext', external_id, null, kind, null, id, null from payment_methods
          where company_id = $1 and external_id = any($8)
         union all
         select 'category_ext', external_id, null, null, null, id, null from categories
          where company_id = $1 and external_id = any($9)
         union all
         select 'receipt', id::text, null, null, null, null, external_id from receipts
          where company_id = $1 and id = any($12)
         union all
         select 'receipt_ext', external_id, null, null, null, id, null from receipts
          where company_id = $1 and external_id = any($13)
         union all
         select 'company', currency, null, null, null, null, null from companies where id = $1",
    )
    .bind(company_id)
    .bind(uuids(&wanted.vat_rates))
    .bind(uuids(&wanted.products))
    .bind(uuids(&wanted.payment_methods))
    .bind(uuids(&wanted.categories))
    .bind(uuids(&wanted.customers))
    .bind(&wanted.customer_external_ids)
    .bind(&wanted.payment_method_external_ids)
    .bind(&wanted.category_external_ids)
    .bind(&wanted.vat_rate_external_ids)
    .bind(&wanted.product_external_ids)
    .bind(uuids(&wanted.receipts))
    .bind(&wanted.receipt_external_ids)
    .fetch_all(pool)
    .await?;
    let mut known = KnownReferences::default();
    for row in rows {
        match row.kind.as_str() {
            "vat_rate" | "vat_rate_ext" => {
                let category = row.category.as_deref().and_then(VatCategory::parse);
                // By our id the key is the id; by the vendor's the key is its external id
                // and the id comes in `ours`.
                let (id, external) = match row.ours {
                    Some(ours) => {
                        let id = ours.to_string();
                        known
                            .external
                            .insert((ExternalKind::VatRate, row.key.clone()), id.clone());
                        (id, Some(row.key))
                    }
                    None => (row.key, row.external),
                };
                if let Some(external) = external {
                    known
                        .external_of
                        .insert((ExternalKind::VatRate, id.clone()), external);
                }
                if let (Some(percentage), Some(category), Some(country)) =
                    (row.percentage, category, row.country)
                {
                    known.vat_rates.insert(
                        id,
                        VatRateRef {
                            percentage: percentage.normalize(),
                            category,
                            country,
                        },
                    );
                }
            }
            "payment_method" | "category" | "customer" | "product" | "receipt" => {
                // A payment method's kind comes in `category`.
                if row.kind == "payment_method"
                    && row.category.as_deref() == Some("single_purpose_voucher")
                {
                    known.single_purpose_vouchers.insert(row.key.clone());
                }
                let (kind, set) = match row.kind.as_str() {
                    "payment_method" => (ExternalKind::PaymentMethod, &mut known.payment_methods),
                    "category" => (ExternalKind::Category, &mut known.categories),
                    "product" => (ExternalKind::Product, &mut known.products),
                    "receipt" => (ExternalKind::Receipt, &mut known.receipts),
                    _ => (ExternalKind::Customer, &mut known.customers),
                };
                if let Some(external) = row.external {
                    known.external_of.insert((kind, row.key.clone()), external);
                }
                set.insert(row.key);
            }
            "customer_ext" | "payment_method_ext" | "category_ext" | "product_ext"
            | "receipt_ext" => {
                let kind = match row.kind.as_str() {
                    "customer_ext" => ExternalKind::Customer,
                    "payment_method_ext" => ExternalKind::PaymentMethod,
                    "product_ext" => ExternalKind::Product,
                    "receipt_ext" => ExternalKind::Receipt,
                    _ => ExternalKind::Category,
                };
                if let Some(ours) = row.ours {
                    if row.kind == "payment_method_ext"
                        && row.category.as_deref() == Some("single_purpose_voucher")
                    {
                        known.single_purpose_vouchers.insert(ours.to_string());
                    }
                    known.external.insert((kind, row.key), ours.to_string());
                }
            }
            "company" => known.company_currency = Some(row.key),
            _ => {}
        }
    }
    Ok(known)
}
