//! Ledger mappings (see `migrations/0027_ledger_mapping.sql`), every change a new version,
//! and what journals read beside the documents themselves: whether an order has credit
//! orders, what vouchers redeemed on a receipt, and what a period's documents post to.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, PgPool};
use uuid::Uuid;

use crate::StoreError;

/// One entry of a stored mapping, with the vendor's ids and the rate's figures as they are
/// now.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct MappingEntryRecord {
    /// The ledger role.
    pub role: String,
    /// The account code.
    pub account: String,
    /// The VAT code.
    pub vat_code: Option<String>,
    /// The VAT rate it is for.
    pub rate_id: Option<Uuid>,
    /// That rate's external id.
    pub rate_external_id: Option<String>,
    /// That rate's category.
    pub rate_category: Option<String>,
    /// That rate's percentage.
    pub rate_percentage: Option<Decimal>,
    /// That rate's country.
    pub rate_country: Option<String>,
    /// The payment method it is for.
    pub method_id: Option<Uuid>,
    /// That method's external id.
    pub method_external_id: Option<String>,
    /// The category it is for.
    pub category_id: Option<Uuid>,
    /// That category's external id.
    pub category_external_id: Option<String>,
}

/// A company's current mapping.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MappingRecord {
    /// Counts changes, from 1.
    pub version: i32,
    /// The bookkeeping package.
    pub package: String,
    /// When this version was put.
    pub created_at: DateTime<Utc>,
    /// The entries, in the order put.
    pub entries: Json<Vec<MappingEntryRecord>>,
}

/// What a period's documents post to: one row per distinct kind of posting.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NeedRow {
    /// `line`, `cost`, `payment`, `fee`, `order`, `day_rate`, `day_payment`, `tips`,
    /// `gift_cards`, `deposits`, `cash_rounding` or `drawer`.
    pub source: String,
    /// The line's, cost's or payment method's kind.
    pub kind: Option<String>,
    /// The VAT category.
    pub category: Option<String>,
    /// The VAT percentage.
    pub percentage: Option<Decimal>,
    /// The VAT country.
    pub country: Option<String>,
    /// The payment method or revenue category.
    pub ref_id: Option<Uuid>,
}

/// A receipt's single-purpose voucher redemption at one rate.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct VoucherShareRecord {
    /// The VAT category.
    pub vat_category: String,
    /// The percentage.
    pub vat_percentage: Decimal,
    /// The country.
    pub vat_country: String,
    /// Excluding VAT.
    pub base: Decimal,
    /// The VAT.
    pub vat: Decimal,
}

/// A mapping's entries as JSON, the vendor's ids and a rate's figures read beside our ids:
/// an expression over `ledger_mappings m`.
const MAPPING_ENTRIES: &str = "coalesce((select json_agg(json_build_object(
            'role', x.e->>'role', 'account', x.e->>'account', 'vat_code', x.e->>'vat_code',
            'rate_id', r.id, 'rate_external_id', r.external_id, 'rate_category', r.category,
            'rate_percentage', r.percentage::text, 'rate_country', r.country,
            'method_id', pm.id, 'method_external_id', pm.external_id,
            'category_id', c.id, 'category_external_id', c.external_id) order by x.n)
       from jsonb_array_elements(m.entries) with ordinality as x(e, n)
       left join vat_rates r
         on r.company_id = m.company_id and r.id = (x.e->>'rate_id')::uuid
       left join payment_methods pm
         on pm.company_id = m.company_id and pm.id = (x.e->>'method_id')::uuid
       left join categories c
         on c.company_id = m.company_id and c.id = (x.e->>'category_id')::uuid), '[]'::json)";

/// A payment method's kind.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct MethodKind {
    /// Our id.
    pub id: Uuid,
    /// Its kind, e.g. `cash`.
    pub kind: String,
}

/// What a journal reads beside its document ([`Ledger::context`]).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct JournalContext {
    /// The company's timezone.
    pub timezone: String,
    /// The company's currency.
    pub currency: String,
    /// The current mapping's version, `None` before the first.
    pub mapping_version: Option<i32>,
    /// Its package.
    pub mapping_package: Option<String>,
    /// Its entries.
    pub mapping_entries: Option<Json<Vec<MappingEntryRecord>>>,
    /// Every payment method's kind.
    pub method_kinds: Json<Vec<MethodKind>>,
    /// Whether the order has credit orders.
    pub has_credit_orders: bool,
    /// What vouchers redeemed on the receipt.
    pub voucher_shares: Json<Vec<VoucherShareRecord>>,
}

/// Ledger mappings and journal reads of one pool.
pub struct Ledger<'a> {
    pool: &'a PgPool,
}

impl<'a> Ledger<'a> {
    pub(crate) fn new(pool: &'a PgPool) -> Self {
        Ledger { pool }
    }

    /// The company's current mapping, `None` before the first.
    pub async fn current(&self, company_id: Uuid) -> Result<Option<MappingRecord>, StoreError> {
        // Only constants are formatted in.
        Ok(sqlx::query_as::<_, MappingRecord>(AssertSqlSafe(format!(
            "select m.version, m.package, m.created_at, {MAPPING_ENTRIES} as entries
               from ledger_mappings m
              where m.company_id = $1
              order by m.version desc
              limit 1"
        )))
        .bind(company_id)
        .fetch_optional(self.pool)
        .await?)
    }

    /// Everything a journal needs beside its document, in one statement: the company's
    /// timezone and currency, its current mapping, the kinds of its payment methods, and for
    /// an order whether it has credit orders, for a receipt what vouchers redeemed on it.
    /// `None` when the company does not exist.
    pub async fn context(
        &self,
        company_id: Uuid,
        order_id: Option<Uuid>,
        receipt_id: Option<Uuid>,
    ) -> Result<Option<JournalContext>, StoreError> {
        // Only constants are formatted in.
        Ok(sqlx::query_as::<_, JournalContext>(AssertSqlSafe(format!(
            "select c.timezone, c.currency,
                    m.version as mapping_version, m.package as mapping_package,
                    m.entries as mapping_entries,
                    coalesce((select json_agg(json_build_object('id', pm.id, 'kind', pm.kind))
                                from payment_methods pm where pm.company_id = c.id), '[]'::json)
                        as method_kinds,
                    exists (select 1 from orders o
                             where o.company_id = c.id and o.credit_of = $2)
                        as has_credit_orders,
                    coalesce((select json_agg(json_build_object(
                                  'vat_category', v.vat_category,
                                  'vat_percentage', v.vat_percentage::text,
                                  'vat_country', v.vat_country,
                                  'base', v.base::text, 'vat', v.vat::text)
                                  order by v.vat_category, v.vat_percentage, v.vat_country)
                                from receipt_voucher_redemptions v
                               where v.company_id = c.id and v.receipt_id = $3), '[]'::json)
                        as voucher_shares
               from companies c
               left join lateral (
                   select m.version, m.package, {MAPPING_ENTRIES} as entries
                     from ledger_mappings m
                    where m.company_id = c.id
                    order by m.version desc
                    limit 1) m on true
              where c.id = $1"
        )))
        .bind(company_id)
        .bind(order_id)
        .bind(receipt_id)
        .fetch_optional(self.pool)
        .await?)
    }

    /// Puts a mapping: a new version when it differs from the current one, else nothing.
    /// `entries` are the domain's entries as JSON (our ids). Answers the version that holds
    /// it and whether it is new. Two puts at once both land, one after the other.
    pub async fn put(
        &self,
        company_id: Uuid,
        client_id: Uuid,
        package: &str,
        entries: &serde_json::Value,
    ) -> Result<(i32, bool), StoreError> {
        let mut attempt = 0;
        loop {
            let result = sqlx::query_as::<_, (i32, bool)>(
                "with latest as (
                    select version, package, entries from ledger_mappings
                     where company_id = $1 order by version desc limit 1),
                 ins as (
                    insert into ledger_mappings (company_id, version, package, entries, client_id)
                    select $1, coalesce((select version from latest), 0) + 1, $2, $3, $4
                     where not exists (select 1 from latest
                                        where package = $2 and entries = $3)
                    returning version)
                 select coalesce((select version from ins), (select version from latest)),
                        exists (select 1 from ins)",
            )
            .bind(company_id)
            .bind(package)
            .bind(entries)
            .bind(client_id)
            .fetch_one(self.pool)
            .await
            .map_err(StoreError::from);
            match result {
                Err(StoreError::UniqueViolation { constraint })
                    if constraint == "ledger_mappings_pkey" && attempt < 5 =>
                {
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Every distinct kind of posting the period's documents make: orders by tax point
    /// (invoice date, else the order's local date in `timezone`; those counting zero left
    /// out, as in the VAT return), days (the company's rows) by business date. `to` is
    /// exclusive.
    pub async fn needs(
        &self,
        company_id: Uuid,
        from: NaiveDate,
        to: NaiveDate,
        timezone: &str,
    ) -> Result<Vec<NeedRow>, StoreError> {
        Ok(sqlx::query_as::<_, NeedRow>(
            "with period_orders as (
                select o.company_id, o.id, o.version from orders o
                 where o.company_id = $1
                   and ((o.invoice_date is null
                         and o.order_date >= ($2::date::timestamp at time zone $4)
                         and o.order_date < ($3::date::timestamp at time zone $4))
                        or (o.invoice_date >= $2 and o.invoice_date < $3))
                   and o.status <> 'cancelled'
                   and not (o.status = 'refunded' and o.credit_of is null
                            and not exists (select 1 from orders c
                                             where c.company_id = o.company_id
                                               and c.credit_of = o.id))),
             days as (
                select d.* from daily_revenue d
                 where d.company_id = $1 and d.location_key = ''
                   and d.business_date >= $2 and d.business_date < $3)
             select 'line' as source, l.kind, l.vat_category as category,
                    l.vat_percentage as percentage, l.vat_country as country,
                    l.category_id as ref_id
               from period_orders o
               join order_lines l on l.company_id = o.company_id and l.order_id = o.id
                and l.version = o.version
             union
             select 'cost', c.kind, c.vat_category, c.vat_percentage, c.vat_country, null
               from period_orders o
               join order_costs c on c.company_id = o.company_id and c.order_id = o.id
                and c.version = o.version
             union
             select 'payment', m.kind, null, null, null, p.method_id
               from period_orders o
               join order_payments p on p.company_id = o.company_id and p.order_id = o.id
                and p.version = o.version
               join payment_methods m on m.company_id = p.company_id and m.id = p.method_id
              where p.status = 'paid'
             union
             select 'fee', null, p.fee->'vat'->>'category',
                    (p.fee->'vat'->>'percentage')::numeric, p.fee->'vat'->>'country', null
               from period_orders o
               join order_payments p on p.company_id = o.company_id and p.order_id = o.id
                and p.version = o.version
              where p.status = 'paid' and p.fee is not null
             union
             select 'order', null, null, null, null, null
              where exists (select 1 from period_orders)
             union
             select 'day_rate', null, r.vat_category, r.vat_percentage, r.vat_country, null
               from days d
               join daily_revenue_vat_rates r on r.company_id = d.company_id
                and r.location_key = d.location_key and r.business_date = d.business_date
              where r.base <> 0 or r.vat <> 0 or r.voucher_base <> 0
             union
             select 'day_payment', m.kind, null, null, null, p.method_id
               from days d
               join daily_revenue_payments p on p.company_id = d.company_id
                and p.location_key = d.location_key and p.business_date = d.business_date
               join payment_methods m on m.company_id = p.company_id and m.id = p.method_id
              where p.amount <> 0
             union
             select x.source, null, null, null, null, null
               from days d
               cross join lateral (values
                   ('tips', d.tips <> 0),
                   ('gift_cards', d.gift_cards_multi_purpose <> 0),
                   ('deposits', d.deposits <> 0),
                   ('cash_rounding', d.cash_rounding <> 0),
                   ('drawer', d.z_report is not null)) as x(source, present)
              where x.present",
        )
        .bind(company_id)
        .bind(from)
        .bind(to)
        .bind(timezone)
        .fetch_all(self.pool)
        .await?)
    }
}
