//! The lines of a period's VAT return (`docs/bookkeeping-rules.md`, "The Dutch VAT return"),
//! aggregated in SQL so that a quarter of a busy shop is a few hundred grouped rows, not every
//! document.
//!
//! Orders count in their current version, by invoice date, else by order date; receipts by
//! business date. The rows
//! are grouped by everything the domain's `box_for` looks at (category, rate, country, date)
//! and, for intra-EU supplies, the buyer's VAT number for the ICP listing; sums of groups are
//! exact, so `VatReturn::from_lines` over the groups equals it over every line.

use chrono::{DateTime, NaiveDate, Utc};
use koppel_domain::identifiers::{CountryCode, VatNumber};
use koppel_domain::vat::VatCategory;
use koppel_domain::vat_return::ReturnLine;
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

use crate::StoreError;

/// The period and the company settings a return is computed with.
#[derive(Debug, Clone)]
pub struct VatPeriod {
    /// Orders placed at or after this moment count.
    pub from: DateTime<Utc>,
    /// Orders placed before this moment count.
    pub to: DateTime<Utc>,
    /// Receipts of this business date or later count.
    pub from_date: NaiveDate,
    /// Receipts of business dates before this one count.
    pub to_date: NaiveDate,
    /// The company's timezone (IANA name): an order is dated on its local date there.
    pub timezone: String,
    /// The company's currency: only documents in it are reported.
    pub currency: String,
}

/// The grouped lines of a period and the documents they came from.
#[derive(Debug, Clone, Default)]
pub struct ReturnLines {
    /// One line per group of (category, rate, country, date, buyer VAT number).
    pub lines: Vec<ReturnLine>,
    /// Orders counted (current version not cancelled, in the company's currency or with an
    /// exchange rate to it).
    pub orders: i64,
    /// Receipts counted (in the company's currency or with an exchange rate to it).
    pub receipts: i64,
    /// Orders and receipts of the period in another currency without an exchange rate (orders
    /// stored before rates were taken; receipts were refused then), left out of the return.
    pub other_currency: i64,
}

#[derive(sqlx::FromRow)]
struct GroupRow {
    category: String,
    percentage: Decimal,
    country: String,
    date: NaiveDate,
    buyer_vat_number: Option<String>,
    base: Decimal,
    vat: Decimal,
}

#[derive(sqlx::FromRow)]
struct CountRow {
    orders: i64,
    receipts: i64,
    other_currency: i64,
}

/// A stored value that the migrations' checks make impossible.
fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Database(sqlx::Error::InvalidArgument(format!(
        "stored {what} {value:?} is not valid"
    )))
}

impl GroupRow {
    fn into_line(self) -> Result<ReturnLine, StoreError> {
        let category = VatCategory::parse(&self.category)
            .ok_or_else(|| corrupt("vat category", &self.category))?;
        let country =
            CountryCode::parse(&self.country).map_err(|_| corrupt("country", &self.country))?;
        Ok(ReturnLine {
            category,
            percentage: self.percentage.normalize(),
            country,
            date: self.date,
            base: self.base,
            vat: self.vat,
            // Stored normalised from a validated order; one that no longer parses is listed
            // under an empty buyer rather than failing the whole return.
            buyer_vat_number: self
                .buyer_vat_number
                .and_then(|v| VatNumber::parse(&v).ok()),
        })
    }
}

/// The grouped lines of the period's orders and receipts: three statements, whatever the
/// number of documents.
pub async fn lines(
    pool: &PgPool,
    company_id: Uuid,
    period: &VatPeriod,
) -> Result<ReturnLines, StoreError> {
    // The current version of each order whose tax point is in the period, its VAT breakdown and
    // buyer by primary key. The tax point is the invoice date when there is one, else the day the
    // order was placed in the company's time zone (docs/bookkeeping-rules.md, "tax point"): two
    // index ranges, orders_invoice_date_idx and orders_order_date_idx. A cancelled order was never
    // a supply; a refund is a credit order with negative amounts and counts like any other. An
    // order refunded in full without a credit order counts zero: its figures and its refund cancel
    // (docs/bookkeeping-rules.md, v1.1); with credit orders, each counts its own figures.
    let order_groups = sqlx::query_as::<_, GroupRow>(
        "select g.category, g.percentage, g.country,
                coalesce(o.invoice_date, (o.order_date at time zone $5)::date) as date,
                case when g.category = 'intra_eu' then v.customer ->> 'vat_number' end
                    as buyer_vat_number,
                sum(coalesce(g.base_company, g.base)) as base,
                sum(coalesce(g.vat_company, g.vat)) as vat
           from orders o
           join order_versions v
             on v.company_id = o.company_id and v.order_id = o.id and v.version = o.version
           join order_vat_breakdown g
             on g.company_id = o.company_id and g.order_id = o.id and g.version = o.version
          where o.company_id = $1
            and ((o.invoice_date is null and o.order_date >= $2 and o.order_date < $3)
                 or (o.invoice_date >= $6 and o.invoice_date < $7))
            and o.status <> 'cancelled'
            and not (o.status = 'refunded' and o.credit_of is null
                     and not exists (select 1 from orders c
                                      where c.company_id = o.company_id and c.credit_of = o.id))
            and (o.currency = $4 or g.base_company is not null)
          group by 1, 2, 3, 4, 5",
    )
    .bind(company_id)
    .bind(period.from)
    .bind(period.to)
    .bind(&period.currency)
    .bind(&period.timezone)
    .bind(period.from_date)
    .bind(period.to_date)
    .fetch_all(pool)
    .await?;
    // Every line of the period's receipts (receipts_business_date_idx, then the lines by
    // primary key), in the company's currency (a receipt in another currency with its lines'
    // converted figures); tips and multi-purpose gift cards carry `outside_scope` and so land
    // in "not reported". What single-purpose vouchers redeemed comes off its rate (kept in
    // the company's currency): its VAT was due when the voucher was sold.
    let receipt_groups = sqlx::query_as::<_, GroupRow>(
        "select x.category, x.percentage, x.country, x.date, x.buyer_vat_number,
                sum(x.base) as base, sum(x.vat) as vat
           from (select l.vat_category as category, l.vat_percentage as percentage,
                        l.vat_country as country, r.business_date as date,
                        case when l.vat_category = 'intra_eu' then r.customer ->> 'vat_number' end
                            as buyer_vat_number,
                        -- In the company's currency, and under the margin scheme the margin
                        -- less its VAT (each column null where it equals the next).
                        coalesce(l.margin_base_company, l.total_excl_vat_company, l.margin_base,
                                 l.total_excl_vat) as base,
                        coalesce(l.vat_amount_company, l.vat_amount) as vat
                   from receipts r
                   join receipt_lines l on l.company_id = r.company_id and l.receipt_id = r.id
                  where r.company_id = $1 and r.business_date >= $2 and r.business_date < $3
                    and (r.currency = $4 or r.exchange_rate is not null)
                 union all
                 select v.vat_category, v.vat_percentage, v.vat_country, r.business_date,
                        null, -v.base, -v.vat
                   from receipts r
                   join receipt_voucher_redemptions v
                     on v.company_id = r.company_id and v.receipt_id = r.id
                  where r.company_id = $1 and r.business_date >= $2 and r.business_date < $3
                    and (r.currency = $4 or r.exchange_rate is not null)) x
          group by 1, 2, 3, 4, 5",
    )
    .bind(company_id)
    .bind(period.from_date)
    .bind(period.to_date)
    .bind(&period.currency)
    .fetch_all(pool)
    .await?;
    let counts = sqlx::query_as::<_, CountRow>(
        "select
           (select count(*) from orders o
             where o.company_id = $1
               and ((o.invoice_date is null and o.order_date >= $2 and o.order_date < $3)
                    or (o.invoice_date >= $4 and o.invoice_date < $5))
               and o.status <> 'cancelled'
            and not (o.status = 'refunded' and o.credit_of is null
                     and not exists (select 1 from orders c
                                      where c.company_id = o.company_id and c.credit_of = o.id))
            and (o.currency = $6 or exists (select 1 from order_versions v
                                   where v.company_id = o.company_id and v.order_id = o.id
                                     and v.version = o.version
                                     and v.total_excl_vat_company is not null))) as orders,
           (select count(*) from receipts r
             where r.company_id = $1 and r.business_date >= $4 and r.business_date < $5
               and (r.currency = $6 or r.exchange_rate is not null)) as receipts,
           (select count(*) from orders o
             where o.company_id = $1
               and ((o.invoice_date is null and o.order_date >= $2 and o.order_date < $3)
                    or (o.invoice_date >= $4 and o.invoice_date < $5))
               and o.status <> 'cancelled'
            and not (o.status = 'refunded' and o.credit_of is null
                     and not exists (select 1 from orders c
                                      where c.company_id = o.company_id and c.credit_of = o.id))
            and o.currency <> $6 and not exists (select 1 from order_versions v
                                   where v.company_id = o.company_id and v.order_id = o.id
                                     and v.version = o.version
                                     and v.total_excl_vat_company is not null))
           + (select count(*) from receipts r
             where r.company_id = $1 and r.business_date >= $4 and r.business_date < $5
               and r.currency <> $6 and r.exchange_rate is null) as other_currency",
    )
    .bind(company_id)
    .bind(period.from)
    .bind(period.to)
    .bind(period.from_date)
    .bind(period.to_date)
    .bind(&period.currency)
    .fetch_one(pool)
    .await?;
    let lines = order_groups
        .into_iter()
        .chain(receipt_groups)
        .map(GroupRow::into_line)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ReturnLines {
        lines,
        orders: counts.orders,
        receipts: counts.receipts,
        other_currency: counts.other_currency,
    })
}
