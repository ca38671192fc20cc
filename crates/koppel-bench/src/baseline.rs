//! The plain-SQL baselines: the same rows written and read by hand-written, prepared
//! statements (sqlx caches every statement per connection), with no HTTP, no JSON and no
//! validation in between. What Koppel adds on top of these is its own overhead.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::data::{Order, Refs, new_id};

/// Writes `orders` as version 1 in one transaction: the heads, the versions, and the
/// lines, costs, payments, VAT groups and events of all of them, one multi-row insert
/// per table. For one order this is the transaction of a single-order ingest; for a
/// thousand, the multi-row insert of a batch. Returns the new ids.
pub async fn insert_orders(
    pool: &PgPool,
    refs: &Refs,
    orders: &[Order],
) -> sqlx::Result<Vec<Uuid>> {
    let mut tx = pool.begin().await?;
    let ids = insert_orders_in(&mut tx, refs, orders).await?;
    tx.commit().await?;
    Ok(ids)
}

async fn insert_orders_in(
    conn: &mut PgConnection,
    refs: &Refs,
    orders: &[Order],
) -> sqlx::Result<Vec<Uuid>> {
    let n = orders.len();
    let ids: Vec<Uuid> = orders.iter().map(|_| new_id()).collect();
    let external: Vec<&str> = orders.iter().map(|o| o.external_id.as_str()).collect();
    let numbers: Vec<&str> = orders.iter().map(|o| o.number.as_str()).collect();
    let dates: Vec<DateTime<Utc>> = orders.iter().map(|o| o.order_date.to_utc()).collect();
    let offsets: Vec<i32> = orders
        .iter()
        .map(|o| o.order_date.offset().local_minus_utc())
        .collect();
    let excl: Vec<Decimal> = orders.iter().map(|o| o.total_excl).collect();
    let vat: Vec<Decimal> = orders.iter().map(|o| o.total_vat).collect();
    let incl: Vec<Decimal> = orders.iter().map(|o| o.total_incl).collect();
    let hashes: Vec<Vec<u8>> = orders.iter().map(Order::content_hash).collect();
    let customer = sqlx::types::Json(Order::customer(refs));
    let customers: Vec<&sqlx::types::Json<serde_json::Value>> = vec![&customer; n];
    let invoice_dates: Vec<chrono::NaiveDate> =
        orders.iter().map(|o| o.order_date.date_naive()).collect();
    let details: Vec<sqlx::types::Json<serde_json::Value>> = orders
        .iter()
        .map(|o| sqlx::types::Json(o.details()))
        .collect();
    let fee = sqlx::types::Json(Order::stored_fee());
    let fees: Vec<&sqlx::types::Json<serde_json::Value>> = vec![&fee; n];

    sqlx::query(
        "insert into orders (company_id, id, external_id, number, version, status, order_date,
                currency, customer_id, total_excl_vat, total_vat, total_incl_vat, content_hash,
                invoice_date)
         select $1, t.id, t.external_id, t.number, 1, 'paid', t.order_date, 'EUR', $2,
                t.excl, t.vat, t.incl, t.hash, t.invoice_date
           from unnest($3::uuid[], $4::text[], $5::text[], $6::timestamptz[], $7::numeric[],
                       $8::numeric[], $9::numeric[], $10::bytea[], $11::date[])
                as t(id, external_id, number, order_date, excl, vat, incl, hash, invoice_date)",
    )
    .bind(refs.company)
    .bind(refs.customer)
    .bind(&ids)
    .bind(&external)
    .bind(&numbers)
    .bind(&dates)
    .bind(&excl)
    .bind(&vat)
    .bind(&incl)
    .bind(&hashes)
    .bind(&invoice_dates)
    .execute(&mut *conn)
    .await?;

    sqlx::query(
        "insert into order_versions (company_id, order_id, version, number, status, order_date,
                order_date_offset, currency, prices_include_vat, customer_id, customer,
                total_excl_vat, total_vat, total_incl_vat, content_hash, details)
         select $1, t.id, 1, t.number, 'paid', t.order_date, t.off, 'EUR', false, $2, t.customer,
                t.excl, t.vat, t.incl, t.hash, t.details
           from unnest($3::uuid[], $4::text[], $5::timestamptz[], $6::int[], $7::jsonb[],
                       $8::numeric[], $9::numeric[], $10::numeric[], $11::bytea[], $12::jsonb[])
                as t(id, number, order_date, off, customer, excl, vat, incl, hash, details)",
    )
    .bind(refs.company)
    .bind(refs.customer)
    .bind(&ids)
    .bind(&numbers)
    .bind(&dates)
    .bind(&offsets)
    .bind(&customers)
    .bind(&excl)
    .bind(&vat)
    .bind(&incl)
    .bind(&hashes)
    .bind(&details)
    .execute(&mut *conn)
    .await?;

    let mut l_ids = Vec::new();
    let mut l_pos = Vec::new();
    let mut l_products = Vec::new();
    let mut l_skus = Vec::new();
    let mut l_desc = Vec::new();
    let mut l_qty = Vec::new();
    let mut l_price = Vec::new();
    let mut l_excl = Vec::new();
    let mut l_vat = Vec::new();
    let mut l_incl = Vec::new();
    let mut c_ids = Vec::new();
    let mut c_pos = Vec::new();
    let mut c_kinds = Vec::new();
    let mut c_desc = Vec::new();
    let mut c_excl = Vec::new();
    let mut c_vat = Vec::new();
    let mut c_incl = Vec::new();
    let mut p_refs = Vec::new();
    let mut p_paid = Vec::new();
    for (id, o) in ids.iter().zip(orders) {
        for (i, l) in (0i32..).zip(&o.lines) {
            l_ids.push(*id);
            l_pos.push(i);
            l_products.push(l.product_id);
            l_skus.push(l.sku.as_str());
            l_desc.push(l.description.as_str());
            l_qty.push(l.quantity);
            l_price.push(l.unit_price);
            l_excl.push(l.excl);
            l_vat.push(l.vat);
            l_incl.push(l.incl);
        }
        for (i, c) in (0i32..).zip(&o.costs) {
            c_ids.push(*id);
            c_pos.push(i);
            c_kinds.push(c.kind);
            c_desc.push(c.description);
            c_excl.push(c.excl);
            c_vat.push(c.vat);
            c_incl.push(c.incl);
        }
        p_refs.push(o.payment_reference.as_str());
        p_paid.push(o.paid_at.to_utc());
    }

    sqlx::query(
        "insert into order_lines (company_id, order_id, version, position, product_id, sku,
                description, quantity, unit_price, discount, vat_rate_id, vat_percentage,
                vat_category, vat_country, vat_amount, total_excl_vat, total_incl_vat, category_id,
                unit)
         select $1, t.id, 1, t.pos, t.product, t.sku, t.description, t.qty, t.price, 0, $2, 21,
                'standard', 'NL', t.vat, t.excl, t.incl, $3, 'piece'
           from unnest($4::uuid[], $5::int[], $6::uuid[], $7::text[], $8::text[], $9::numeric[],
                       $10::numeric[], $11::numeric[], $12::numeric[], $13::numeric[])
                as t(id, pos, product, sku, description, qty, price, excl, vat, incl)",
    )
    .bind(refs.company)
    .bind(refs.standard_rate)
    .bind(refs.category)
    .bind(&l_ids)
    .bind(&l_pos)
    .bind(&l_products)
    .bind(&l_skus)
    .bind(&l_desc)
    .bind(&l_qty)
    .bind(&l_price)
    .bind(&l_excl)
    .bind(&l_vat)
    .bind(&l_incl)
    .execute(&mut *conn)
    .await?;

    sqlx::query(
        "insert into order_costs (company_id, order_id, version, position, kind, description,
                amount_excl_vat, vat_percentage, vat_category, vat_country, vat_amount,
                amount_incl_vat)
         select $1, t.id, 1, t.pos, t.kind, t.description, t.excl, 21, 'standard', 'NL', t.vat,
                t.incl
           from unnest($2::uuid[], $3::int[], $4::text[], $5::text[], $6::numeric[],
                       $7::numeric[], $8::numeric[])
                as t(id, pos, kind, description, excl, vat, incl)",
    )
    .bind(refs.company)
    .bind(&c_ids)
    .bind(&c_pos)
    .bind(&c_kinds)
    .bind(&c_desc)
    .bind(&c_excl)
    .bind(&c_vat)
    .bind(&c_incl)
    .execute(&mut *conn)
    .await?;

    sqlx::query(
        "insert into order_payments (company_id, order_id, version, position, method_id, amount,
                reference, paid_at, paid_at_offset, provider, provider_reference, fee)
         select $1, t.id, 1, 0, $2, t.amount, t.reference, t.paid_at, 3600, $7, t.reference,
                t.fee
           from unnest($3::uuid[], $4::numeric[], $5::text[], $6::timestamptz[], $8::jsonb[])
                as t(id, amount, reference, paid_at, fee)",
    )
    .bind(refs.company)
    .bind(refs.method)
    .bind(&ids)
    .bind(&incl)
    .bind(&p_refs)
    .bind(&p_paid)
    .bind(crate::data::PROVIDER)
    .bind(&fees)
    .execute(&mut *conn)
    .await?;

    sqlx::query(
        "insert into order_vat_breakdown (company_id, order_id, version, position, category,
                percentage, country, base, vat)
         select $1, t.id, 1, 0, 'standard', 21, 'NL', t.base, t.vat
           from unnest($2::uuid[], $3::numeric[], $4::numeric[]) as t(id, base, vat)",
    )
    .bind(refs.company)
    .bind(&ids)
    .bind(&excl)
    .bind(&vat)
    .execute(&mut *conn)
    .await?;

    sqlx::query(
        "insert into events (company_id, type, resource, resource_id, version)
         select $1, 'order.created', 'orders', t.id, 1 from unnest($2::uuid[]) as t(id)",
    )
    .bind(refs.company)
    .bind(&ids)
    .execute(&mut *conn)
    .await?;
    Ok(ids)
}

#[derive(sqlx::FromRow)]
#[expect(
    dead_code,
    reason = "decoded so the baseline pays for decoding, as Koppel does"
)]
struct Header {
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
    customer: Option<serde_json::Value>,
    credit_of: Option<Uuid>,
    total_excl_vat: Decimal,
    total_vat: Decimal,
    total_incl_vat: Decimal,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    recorded_at: DateTime<Utc>,
    details: Option<serde_json::Value>,
}

#[derive(sqlx::FromRow)]
#[expect(
    dead_code,
    reason = "decoded so the baseline pays for decoding, as Koppel does"
)]
struct LineRow {
    product_id: Option<Uuid>,
    sku: Option<String>,
    description: Option<String>,
    quantity: Decimal,
    unit_price: Decimal,
    discount: Decimal,
    vat_rate_id: Option<Uuid>,
    vat_percentage: Decimal,
    vat_category: String,
    vat_country: String,
    vat_amount: Decimal,
    exemption_reason: Option<String>,
    total_excl_vat: Decimal,
    total_incl_vat: Decimal,
    category_id: Option<Uuid>,
    kind: String,
    unit: Option<String>,
}

#[derive(sqlx::FromRow)]
#[expect(
    dead_code,
    reason = "decoded so the baseline pays for decoding, as Koppel does"
)]
struct CostRow {
    kind: String,
    description: Option<String>,
    amount_excl_vat: Decimal,
    vat_rate_id: Option<Uuid>,
    vat_percentage: Decimal,
    vat_category: String,
    vat_country: String,
    vat_amount: Decimal,
    exemption_reason: Option<String>,
    amount_incl_vat: Decimal,
}

#[derive(sqlx::FromRow)]
#[expect(
    dead_code,
    reason = "decoded so the baseline pays for decoding, as Koppel does"
)]
struct PaymentRow {
    method_id: Uuid,
    amount: Decimal,
    reference: Option<String>,
    paid_at: Option<DateTime<Utc>>,
    paid_at_offset: Option<i32>,
    status: String,
    provider: Option<String>,
    provider_reference: Option<String>,
    fee: Option<serde_json::Value>,
}

#[derive(sqlx::FromRow)]
#[expect(
    dead_code,
    reason = "decoded so the baseline pays for decoding, as Koppel does"
)]
struct GroupRow {
    category: String,
    percentage: Decimal,
    country: String,
    base: Decimal,
    vat: Decimal,
}

/// Reads one order's current version with its lines, costs, payments and VAT groups:
/// the rows `GET …/orders/{id}` answers, one prepared query per table. Returns the
/// number of parts found, so that nothing is optimised away.
pub async fn read_order(pool: &PgPool, company: Uuid, id: Uuid) -> sqlx::Result<usize> {
    let mut conn = pool.acquire().await?;
    let Some(h) = sqlx::query_as::<_, Header>(
        "select o.id, o.external_id, v.version, v.number, v.status, v.order_date,
                v.order_date_offset, v.currency, v.prices_include_vat, v.customer_id, v.customer,
                v.credit_of, v.total_excl_vat, v.total_vat, v.total_incl_vat, o.created_at,
                o.updated_at, v.recorded_at, v.details
           from orders o
           join order_versions v
             on v.company_id = o.company_id and v.order_id = o.id and v.version = o.version
          where o.company_id = $1 and o.id = $2",
    )
    .bind(company)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(0);
    };
    let lines = sqlx::query_as::<_, LineRow>(
        "select product_id, sku, description, quantity, unit_price, discount, vat_rate_id,
                vat_percentage, vat_category, vat_country, vat_amount, exemption_reason,
                total_excl_vat, total_incl_vat, category_id, kind, unit
           from order_lines where company_id = $1 and order_id = $2 and version = $3
          order by position",
    )
    .bind(company)
    .bind(id)
    .bind(h.version)
    .fetch_all(&mut *conn)
    .await?;
    let costs = sqlx::query_as::<_, CostRow>(
        "select kind, description, amount_excl_vat, vat_rate_id, vat_percentage, vat_category,
                vat_country, vat_amount, exemption_reason, amount_incl_vat
           from order_costs where company_id = $1 and order_id = $2 and version = $3
          order by position",
    )
    .bind(company)
    .bind(id)
    .bind(h.version)
    .fetch_all(&mut *conn)
    .await?;
    let payments = sqlx::query_as::<_, PaymentRow>(
        "select method_id, amount, reference, paid_at, paid_at_offset, status, provider,
                provider_reference, fee
           from order_payments where company_id = $1 and order_id = $2 and version = $3
          order by position",
    )
    .bind(company)
    .bind(id)
    .bind(h.version)
    .fetch_all(&mut *conn)
    .await?;
    let groups = sqlx::query_as::<_, GroupRow>(
        "select category, percentage, country, base, vat
           from order_vat_breakdown where company_id = $1 and order_id = $2 and version = $3
          order by position",
    )
    .bind(company)
    .bind(id)
    .bind(h.version)
    .fetch_all(&mut *conn)
    .await?;
    Ok(1 + lines.len() + costs.len() + payments.len() + groups.len())
}

/// [`daily_revenue`], failing unless it counted `expected` receipts.
pub async fn daily_revenue_of(
    pool: &PgPool,
    company: Uuid,
    day: NaiveDate,
    expected: i64,
) -> anyhow::Result<()> {
    let count = daily_revenue(pool, company, day).await?;
    anyhow::ensure!(count == expected, "the aggregate counts {count} receipts");
    Ok(())
}

/// The daily revenue of `day` computed by hand from the receipts: totals, revenue by VAT
/// rate, by category and by payment method, in one statement.
pub async fn daily_revenue(pool: &PgPool, company: Uuid, day: NaiveDate) -> sqlx::Result<i64> {
    let (count, _): (i64, serde_json::Value) = sqlx::query_as(
        "with r as (
            select id, total_excl_vat, total_vat from receipts
             where company_id = $1 and business_date = $2
         )
         select (select count(*) from r),
                json_build_object(
                  'total_excl_vat', (select sum(total_excl_vat)::text from r),
                  'total_vat', (select sum(total_vat)::text from r),
                  'by_vat_rate', (select json_agg(g) from (
                      select l.vat_category, l.vat_percentage, l.vat_country,
                             sum(l.total_excl_vat)::text as base, sum(l.vat_amount)::text as vat
                        from receipt_lines l join r on l.receipt_id = r.id
                       where l.company_id = $1
                       group by 1, 2, 3) g),
                  'by_category', (select json_agg(g) from (
                      select l.category_id, sum(l.total_excl_vat)::text as excl,
                             sum(l.vat_amount)::text as vat
                        from receipt_lines l join r on l.receipt_id = r.id
                       where l.company_id = $1
                       group by 1) g),
                  'by_payment_method', (select json_agg(g) from (
                      select p.method_id, sum(p.amount - p.change)::text as amount
                        from receipt_payments p join r on p.receipt_id = r.id
                       where p.company_id = $1
                       group by 1) g))",
    )
    .bind(company)
    .bind(day)
    .fetch_one(pool)
    .await?;
    Ok(count)
}

/// Loads `count` orders (numbers `first..first + count`) into `company` straight from
/// `generate_series`, as Koppel would have stored them: a head, version 1, one line, one
/// payment, one VAT group and an `order.created` event each, placed 30 seconds apart
/// from `start`. One transaction per call.
pub async fn bulk_orders(
    pool: &PgPool,
    company: Uuid,
    standard_rate: Uuid,
    method: Uuid,
    start: DateTime<Utc>,
    first: i64,
    count: i64,
) -> sqlx::Result<()> {
    let last = first + count - 1;
    let mut tx = pool.begin().await?;
    // Every row is consistent by construction, so the foreign-key triggers, which would
    // check eight references per order one by one, are skipped for this load only, as
    // bulk loads commonly do (`replica` fires no ordinary triggers; superuser only).
    sqlx::query("set local session_replication_role = replica")
        .execute(&mut *tx)
        .await?;
    // Deterministic ids (md5 of the number), so every table can derive them again.
    sqlx::query(
        "insert into orders (company_id, id, external_id, number, version, status, order_date,
                currency, total_excl_vat, total_vat, total_incl_vat, content_hash)
         select $1, md5('bulk-' || g)::uuid, 'bulk-' || g, 'B' || g, 1, 'paid',
                $2::timestamptz + g * interval '30 seconds', 'EUR', 10.00, 2.10, 12.10,
                sha256(('bulk-' || g)::bytea)
           from generate_series($3::bigint, $4::bigint) g",
    )
    .bind(company)
    .bind(start)
    .bind(first)
    .bind(last)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "insert into order_versions (company_id, order_id, version, number, status, order_date,
                order_date_offset, currency, prices_include_vat, total_excl_vat, total_vat,
                total_incl_vat, content_hash)
         select $1, md5('bulk-' || g)::uuid, 1, 'B' || g, 'paid',
                $2::timestamptz + g * interval '30 seconds', 3600, 'EUR', false, 10.00, 2.10, 12.10,
                sha256(('bulk-' || g)::bytea)
           from generate_series($3::bigint, $4::bigint) g",
    )
    .bind(company)
    .bind(start)
    .bind(first)
    .bind(last)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "insert into order_lines (company_id, order_id, version, position, sku, description,
                quantity, unit_price, discount, vat_rate_id, vat_percentage, vat_category,
                vat_country, vat_amount, total_excl_vat, total_incl_vat)
         select $1, md5('bulk-' || g)::uuid, 1, 0, 'SKU-' || (g % 100), 'Artikel', 2, 5.00, 0, $2,
                21, 'standard', 'NL', 2.10, 10.00, 12.10
           from generate_series($3::bigint, $4::bigint) g",
    )
    .bind(company)
    .bind(standard_rate)
    .bind(first)
    .bind(last)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "insert into order_payments (company_id, order_id, version, position, method_id, amount,
                reference, paid_at, paid_at_offset)
         select $1, md5('bulk-' || g)::uuid, 1, 0, $2, 12.10, 'tr_bulk_' || g,
                $3::timestamptz + g * interval '30 seconds' + interval '5 minutes', 3600
           from generate_series($4::bigint, $5::bigint) g",
    )
    .bind(company)
    .bind(method)
    .bind(start)
    .bind(first)
    .bind(last)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "insert into order_vat_breakdown (company_id, order_id, version, position, category,
                percentage, country, base, vat)
         select $1, md5('bulk-' || g)::uuid, 1, 0, 'standard', 21, 'NL', 10.00, 2.10
           from generate_series($2::bigint, $3::bigint) g",
    )
    .bind(company)
    .bind(first)
    .bind(last)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "insert into events (company_id, type, resource, resource_id, version)
         select $1, 'order.created', 'orders', md5('bulk-' || g)::uuid, 1
           from generate_series($2::bigint, $3::bigint) g",
    )
    .bind(company)
    .bind(first)
    .bind(last)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}
