//! Reading complete order versions back: the head, every part as an array of rows
//! (`parts.rs`) and the bookings, in one round trip.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Offset as _, Utc};
use koppel_domain::order::OrderDetails;
use rust_decimal::Decimal;
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, Postgres, QueryBuilder};
use uuid::Uuid;

use super::{OrderFilter, OrderRecord, OrderSort, Orders, parts};
use crate::StoreError;
use crate::bookings::{BookedResource, BookingRecord, ORDER_BOOKINGS_JSON};

#[derive(sqlx::FromRow)]
struct HeaderRow {
    id: Uuid,
    external_id: String,
    version: i32,
    number: Option<String>,
    status: String,
    order_date: DateTime<Utc>,
    order_date_offset: i32,
    currency: String,
    prices_include_vat: bool,
    customer_id: Option<Uuid>,
    customer_external_id: Option<String>,
    customer: Option<serde_json::Value>,
    details: Option<Json<OrderDetails>>,
    credit_of: Option<Uuid>,
    credit_of_external_id: Option<String>,
    total_excl_vat: Decimal,
    total_vat: Decimal,
    total_incl_vat: Decimal,
    total_excl_vat_company: Option<Decimal>,
    total_vat_company: Option<Decimal>,
    total_incl_vat_company: Option<Decimal>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    recorded_at: DateTime<Utc>,
    current_version: i32,
    lines: Vec<parts::LineRow>,
    costs: Vec<parts::CostRow>,
    payments: Vec<parts::PaymentRow>,
    vat_breakdown: Vec<parts::VatGroupRow>,
    bookings: Json<Vec<BookingRecord>>,
}

/// The columns of an order version joined to its head, for the inner query of
/// [`with_parts`].
const HEADER_COLUMNS: &str = "o.company_id, o.id, o.external_id, v.version, v.number, v.status,
    v.order_date, v.order_date_offset, v.currency, v.prices_include_vat, v.customer_id,
    v.customer_external_id, v.customer, v.details,
    v.credit_of, (select c.external_id from orders c
                   where c.company_id = v.company_id and c.id = v.credit_of) as credit_of_external_id,
    v.total_excl_vat, v.total_vat, v.total_incl_vat, v.total_excl_vat_company,
    v.total_vat_company, v.total_incl_vat_company, o.created_at, o.updated_at,
    v.recorded_at, o.version as current_version";

/// The query answering complete versions: `inner` selects `HEADER_COLUMNS` (and may
/// filter, sort and limit as it likes); its rows get their parts and bookings, in `order`.
/// The parts are looked up only for the rows `inner` answers, whatever its limit, and the
/// whole document comes in one round trip.
fn with_parts(inner: &str, order: &str) -> String {
    format!("{}{inner}) h order by {order}", parts_of_rows())
}

/// The start of [`with_parts`], up to where its inner query goes.
fn parts_of_rows() -> String {
    format!("select h.*, {}, {ORDER_BOOKINGS_JSON} from (", parts::PARTS)
}

/// A stored instant with the offset it was sent with; the migration keeps
/// offsets within a day, so the fallback to UTC is never taken.
pub(super) fn with_offset(at: DateTime<Utc>, offset: i32) -> DateTime<FixedOffset> {
    let offset = FixedOffset::east_opt(offset).unwrap_or_else(|| Utc.fix());
    at.with_timezone(&offset)
}

impl From<HeaderRow> for OrderRecord {
    fn from(h: HeaderRow) -> Self {
        OrderRecord {
            id: h.id,
            external_id: h.external_id,
            version: h.version,
            number: h.number,
            status: h.status,
            order_date: with_offset(h.order_date, h.order_date_offset),
            currency: h.currency,
            prices_include_vat: h.prices_include_vat,
            customer_id: h.customer_id,
            customer_external_id: h.customer_external_id,
            customer: h.customer,
            details: h.details.map(|d| d.0).unwrap_or_default(),
            credit_of: h.credit_of,
            credit_of_external_id: h.credit_of_external_id,
            total_excl_vat: h.total_excl_vat,
            total_vat: h.total_vat,
            total_incl_vat: h.total_incl_vat,
            totals_company: match (
                h.total_excl_vat_company,
                h.total_vat_company,
                h.total_incl_vat_company,
            ) {
                (Some(excl), Some(vat), Some(incl)) => Some((excl, vat, incl)),
                _ => None,
            },
            created_at: h.created_at,
            recorded_at: h.recorded_at,
            updated_at: h.updated_at,
            lines: h.lines.into_iter().map(parts::line_record).collect(),
            costs: h.costs.into_iter().map(parts::cost_record).collect(),
            payments: h.payments.into_iter().map(parts::payment_record).collect(),
            vat_breakdown: h
                .vat_breakdown
                .into_iter()
                .map(parts::vat_group_record)
                .collect(),
            current_version: h.current_version,
            // Every version of an order shows the order's bookings.
            bookings: h.bookings.0,
        }
    }
}

impl<'a> Orders<'a> {
    /// The current version of one order.
    pub async fn find(
        &self,
        company_id: Uuid,
        id: Uuid,
    ) -> Result<Option<OrderRecord>, StoreError> {
        let row = sqlx::query_as::<_, HeaderRow>(AssertSqlSafe(with_parts(
            &format!(
                "select {HEADER_COLUMNS}
                   from orders o
                   join order_versions v
                     on v.company_id = o.company_id and v.order_id = o.id and v.version = o.version
                  where o.company_id = $1 and o.id = $2"
            ),
            "h.id",
        )))
        .bind(company_id)
        .bind(id)
        .fetch_optional(self.pool)
        .await?;
        Ok(row.map(OrderRecord::from))
    }

    /// One version of one order.
    pub async fn version(
        &self,
        company_id: Uuid,
        id: Uuid,
        version: i32,
    ) -> Result<Option<OrderRecord>, StoreError> {
        Ok(self.versions(company_id, id, version - 1, 1).await?.pop())
    }

    /// Every version of one order from `after_version` on, oldest first; empty
    /// when the order does not exist.
    pub async fn versions(
        &self,
        company_id: Uuid,
        id: Uuid,
        after_version: i32,
        limit: i64,
    ) -> Result<Vec<OrderRecord>, StoreError> {
        let rows = sqlx::query_as::<_, HeaderRow>(AssertSqlSafe(with_parts(
            &format!(
                "select {HEADER_COLUMNS}
                   from orders o
                   join order_versions v on v.company_id = o.company_id and v.order_id = o.id
                  where o.company_id = $1 and o.id = $2 and v.version > $3
                  order by v.version limit $4"
            ),
            "h.version",
        )))
        .bind(company_id)
        .bind(id)
        .bind(after_version)
        .bind(limit)
        .fetch_all(self.pool)
        .await?;
        Ok(rows.into_iter().map(OrderRecord::from).collect())
    }

    /// Finds orders by our id or the vendor's external id, as `credit_of` may
    /// name them: each key found, with the order's id.
    pub async fn resolve(
        &self,
        company_id: Uuid,
        keys: &[String],
    ) -> Result<HashMap<String, Uuid>, StoreError> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let ids: Vec<Uuid> = keys
            .iter()
            .filter_map(|k| Uuid::parse_str(k).ok())
            .collect();
        let rows = sqlx::query_as::<_, (String, Uuid)>(
            "select id::text, id from orders where company_id = $1 and id = any($2)
             union all
             select external_id, id from orders where company_id = $1 and external_id = any($3)",
        )
        .bind(company_id)
        .bind(&ids)
        .bind(keys)
        .fetch_all(self.pool)
        .await?;
        let mut found: HashMap<String, Uuid> = rows.into_iter().collect();
        // A key may spell our id in capitals; it names the same order.
        for key in keys {
            if let Ok(id) = Uuid::parse_str(key)
                && ids.contains(&id)
                && found.values().any(|v| *v == id)
            {
                found.entry(key.clone()).or_insert(id);
            }
        }
        Ok(found)
    }

    /// Whether the order exists.
    pub async fn exists(&self, company_id: Uuid, id: Uuid) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar::<_, bool>(
            "select exists (select 1 from orders where company_id = $1 and id = $2)",
        )
        .bind(company_id)
        .bind(id)
        .fetch_one(self.pool)
        .await?)
    }

    /// The current versions of the orders that match `filter`, in the sort
    /// order it asks for. Only the filters given become SQL conditions, so
    /// each combination gets a plan that uses its index.
    pub async fn list(
        &self,
        company_id: Uuid,
        filter: &OrderFilter,
    ) -> Result<Vec<OrderRecord>, StoreError> {
        let mut q = QueryBuilder::<Postgres>::new(format!(
            "{}select {HEADER_COLUMNS}
               from orders o
               join order_versions v
                 on v.company_id = o.company_id and v.order_id = o.id and v.version = o.version
              where o.company_id = ",
            parts_of_rows()
        ));
        q.push_bind(company_id);
        if let Some(number) = &filter.number {
            q.push(" and o.number = ").push_bind(number.clone());
        }
        if let Some(from) = filter.from {
            q.push(" and o.order_date >= ").push_bind(from);
        }
        if let Some(to) = filter.to {
            q.push(" and o.order_date < ").push_bind(to);
        }
        if let Some(since) = filter.updated_since {
            q.push(" and o.updated_at >= ").push_bind(since);
        }
        if let Some(customer) = filter.customer_id {
            q.push(" and o.customer_id = ").push_bind(customer);
        }
        if let Some(status) = &filter.status {
            q.push(" and o.status = ").push_bind(status.clone());
        }
        filter.bookings.push(
            &mut q,
            company_id,
            BookedResource::Orders,
            "o.id",
            "o.version",
        );
        if let Some(reference) = &filter.reference {
            // A union of index lookups: the external id and the marketplace's order id on
            // the heads, the payment reference and the provider's transaction id on the
            // payments of any version.
            q.push(" and o.id in (select id from orders where company_id = ")
                .push_bind(company_id)
                .push(" and external_id = ")
                .push_bind(reference.clone())
                .push(" union select id from orders where company_id = ")
                .push_bind(company_id)
                .push(" and marketplace_order_id = ")
                .push_bind(reference.clone())
                .push(" union select order_id from order_payments where company_id = ")
                .push_bind(company_id)
                .push(" and reference = ")
                .push_bind(reference.clone())
                .push(" union select order_id from order_payments where company_id = ")
                .push_bind(company_id)
                .push(" and provider_reference = ")
                .push_bind(reference.clone())
                .push(")");
        }
        let column = match filter.sort {
            OrderSort::UpdatedAt => "o.updated_at",
            OrderSort::OrderDate => "o.order_date",
        };
        if let Some((at, id)) = filter.after {
            q.push(format!(" and ({column}, o.id) > ("))
                .push_bind(at)
                .push(", ")
                .push_bind(id)
                .push(")");
        }
        q.push(format!(" order by {column}, o.id limit "))
            .push_bind(filter.limit);
        // The page, then its parts (as `with_parts` does, by hand because the
        // inner query is built with binds), in the same order.
        let outer = match filter.sort {
            OrderSort::UpdatedAt => "h.updated_at",
            OrderSort::OrderDate => "h.order_date",
        };
        q.push(format!(") h order by {outer}, h.id"));
        let rows = q.build_query_as::<HeaderRow>().fetch_all(self.pool).await?;
        Ok(rows.into_iter().map(OrderRecord::from).collect())
    }
}
