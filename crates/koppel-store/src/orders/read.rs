//! Reading complete order versions back: the head, every part as a JSON array and the
//! bookings, in one round trip.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Offset as _, Utc};
use koppel_domain::order::{OrderDetails, PaymentStatus};
use rust_decimal::Decimal;
use serde::Deserialize;
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, Postgres, QueryBuilder};
use uuid::Uuid;

use super::{
    CostRecord, FeeRecord, LineRecord, OrderFilter, OrderRecord, OrderSort, Orders, PaymentRecord,
    VatGroupRecord,
};
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
    lines: Json<Vec<LineRecord>>,
    costs: Json<Vec<CostRecord>>,
    payments: Json<Vec<PaymentRow>>,
    vat_breakdown: Json<Vec<VatGroupRecord>>,
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

/// A version's lines, costs, payments and VAT groups as JSON arrays in the order sent, for a
/// row `h` of `HEADER_COLUMNS`: each a correlated lookup on the part table's primary key.
/// Amounts go as text, so JSON's numbers never touch them.
///
/// Each part is a JSON *array* of its values, positional, in the order of the fields of the
/// record it is read into (`LineRecord`, `VatRecord`, `CostRecord`, `PaymentRow`,
/// `VatGroupRecord`; serde reads a struct from a sequence as well as from a map). Keyed
/// objects cost the database a third more per read for the keys alone (`json_build_object`
/// takes every key as an argument and writes it out for every line), and Koppel parses
/// them back; measured in bench/README.md (#20).
const PARTS_JSON: &str = "
    coalesce((select json_agg(json_build_array(
            -- A line sent with only a SKU names the company's product with that SKU
            -- when one exists now (pushed before or after the order); SKUs may repeat
            -- across variants, so the lowest id (ids are UUIDv7: the oldest), for a stable
            -- answer, found as the first entry of products_sku_idx.
            coalesce(l.product_id, by_sku.id),
            coalesce(l.product_external_id, by_sku.external_id),
            l.sku, l.description, l.quantity::text, l.unit_price::text, l.discount::text,
            json_build_array(l.vat_rate_id, l.vat_rate_external_id, l.vat_percentage::text,
                   l.vat_category, l.vat_country, l.vat_amount::text, l.exemption_reason),
            l.total_excl_vat::text, l.total_incl_vat::text,
            l.category_id, l.category_external_id, l.purchase_price::text, l.kind, l.unit,
            l.parent_line, l.discount_code, l.discount_name)
            order by l.position)
        from order_lines l
        left join lateral (
            select p.id, p.external_id from products p
             where l.product_id is null and p.company_id = l.company_id and p.sku = l.sku
             order by p.id limit 1) by_sku on true
       where l.company_id = h.company_id and l.order_id = h.id and l.version = h.version),
      '[]') as lines,
    coalesce((select json_agg(json_build_array(
            c.kind, c.description, c.amount_excl_vat::text,
            json_build_array(c.vat_rate_id, c.vat_rate_external_id, c.vat_percentage::text,
                   c.vat_category, c.vat_country, c.vat_amount::text, c.exemption_reason),
            c.amount_incl_vat::text) order by c.position)
        from order_costs c
       where c.company_id = h.company_id and c.order_id = h.id and c.version = h.version),
      '[]') as costs,
    coalesce((select json_agg(json_build_array(
            p.method_id, p.method_external_id, p.status, p.provider, p.provider_reference,
            p.payout_reference, p.amount::text, p.reference, p.paid_at, p.paid_at_offset,
            p.fee)
            order by p.position)
        from order_payments p
       where p.company_id = h.company_id and p.order_id = h.id and p.version = h.version),
      '[]') as payments,
    coalesce((select json_agg(json_build_array(
            g.category, g.percentage::text, g.country, g.base::text, g.vat::text,
            g.base_company::text, g.vat_company::text)
            order by g.position)
        from order_vat_breakdown g
       where g.company_id = h.company_id and g.order_id = h.id and g.version = h.version),
      '[]') as vat_breakdown";

/// The query answering complete versions: `inner` selects `HEADER_COLUMNS` (and may
/// filter, sort and limit as it likes); its rows get their parts and bookings, in `order`.
/// The parts are looked up only for the rows `inner` answers, whatever its limit, and the
/// whole document comes in one round trip.
fn with_parts(inner: &str, order: &str) -> String {
    format!("{}{inner}) h order by {order}", parts_of_rows())
}

/// The start of [`with_parts`], up to where its inner query goes.
fn parts_of_rows() -> String {
    format!("select h.*, {PARTS_JSON}, {ORDER_BOOKINGS_JSON} from (")
}

/// A stored instant with the offset it was sent with; the migration keeps
/// offsets within a day, so the fallback to UTC is never taken.
fn with_offset(at: DateTime<Utc>, offset: i32) -> DateTime<FixedOffset> {
    let offset = FixedOffset::east_opt(offset).unwrap_or_else(|| Utc.fix());
    at.with_timezone(&offset)
}

/// A payment as `PARTS_JSON` answers it: positional, so the fields keep that order.
#[derive(Deserialize)]
struct PaymentRow {
    method_id: Uuid,
    #[serde(default)]
    method_external_id: Option<String>,
    status: String,
    provider: Option<String>,
    provider_reference: Option<String>,
    payout_reference: Option<String>,
    amount: Decimal,
    reference: Option<String>,
    paid_at: Option<DateTime<Utc>>,
    paid_at_offset: Option<i32>,
    #[serde(default)]
    fee: Option<FeeRecord>,
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
            lines: h.lines.0,
            costs: h.costs.0,
            payments: h
                .payments
                .0
                .into_iter()
                .map(|p| PaymentRecord {
                    method_id: p.method_id,
                    method_external_id: p.method_external_id,
                    // The column's check constraint admits only known statuses.
                    status: PaymentStatus::parse(&p.status).unwrap_or_default(),
                    provider: p.provider,
                    provider_reference: p.provider_reference,
                    payout_reference: p.payout_reference,
                    amount: p.amount,
                    reference: p.reference,
                    paid_at: p
                        .paid_at
                        .map(|at| with_offset(at, p.paid_at_offset.unwrap_or(0))),
                    fee: p.fee,
                })
                .collect(),
            vat_breakdown: h.vat_breakdown.0,
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
