//! The daily revenue (dagomzet): the day rows that [`crate::receipts`] keeps up to date, their
//! reading, closing (the Z-report) and finalisation at 05:00 (see
//! `migrations/0007_receipts.sql`).
//!
//! Every read answers the status as of `now`: a row still `open` in the table but past its
//! `final_at` reads as `final`, so an answer never depends on when the finaliser last ran.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, PgPool};
use uuid::Uuid;

use crate::StoreError;
use crate::bookings::{BookingFilter, BookingRecord, DAY_BOOKINGS_JSON};

/// The `location_key` of the row for the whole company; a location's row has its id.
pub const COMPANY_WIDE: &str = "";

/// The key of one day row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DayKey {
    /// [`COMPANY_WIDE`] or a location id.
    pub location_key: String,
    /// The business date.
    pub business_date: NaiveDate,
}

/// Revenue and VAT of one rate on a day.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DayVatRate {
    /// The VAT category, e.g. `standard`.
    pub category: String,
    /// The rate in percent.
    pub percentage: Decimal,
    /// The country whose rate applies.
    pub country: String,
    /// Revenue excluding VAT, net of what single-purpose vouchers redeemed.
    pub base: Decimal,
    /// VAT, net of the same.
    pub vat: Decimal,
    /// What single-purpose vouchers redeemed at this rate, excluding VAT (0 in revisions
    /// kept before vouchers were).
    #[serde(default)]
    pub voucher_base: Decimal,
    /// Its VAT.
    #[serde(default)]
    pub voucher_vat: Decimal,
}

/// Revenue of one category on a day.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DayCategory {
    /// The category.
    pub category_id: Uuid,
    /// Its name now.
    pub name: String,
    /// Revenue excluding VAT.
    pub total_excl_vat: Decimal,
    /// VAT on it.
    pub total_vat: Decimal,
}

/// What one payment method took on a day, net of change.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DayPayment {
    /// The payment method.
    pub method_id: Uuid,
    /// Its name now.
    pub name: String,
    /// Its kind, e.g. `cash` or `gift_card`.
    pub kind: String,
    /// The amount, net of change.
    pub amount: Decimal,
}

/// One business day's figures as stored, with the status as of the moment of reading.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DayRecord {
    /// The day's id in the event feed.
    pub id: Uuid,
    /// [`COMPANY_WIDE`] or a location id.
    pub location_key: String,
    /// The business date.
    pub business_date: NaiveDate,
    /// `open`, `final` or `revised`, as of the moment of reading.
    pub status: String,
    /// 1, plus one per revision after the day was final.
    pub revision: i32,
    /// When the day becomes final by the clock: 05:00 local time the next day.
    pub final_at: DateTime<Utc>,
    /// When the vendor closed it, if it did before `final_at`.
    pub closed_at: Option<DateTime<Utc>>,
    /// How many receipts count in it.
    pub receipt_count: i64,
    /// How many of them arrived after it was final.
    pub late_receipt_count: i64,
    /// Total excluding VAT of every line.
    pub total_excl_vat: Decimal,
    /// Total VAT.
    pub total_vat: Decimal,
    /// Revenue excluding VAT.
    pub revenue_excl_vat: Decimal,
    /// VAT on the revenue.
    pub revenue_vat: Decimal,
    /// Tips.
    pub tips: Decimal,
    /// Multi-purpose gift cards sold.
    pub gift_cards_multi_purpose: Decimal,
    /// Deposits.
    pub deposits: Decimal,
    /// Cash rounding.
    pub cash_rounding: Decimal,
    /// When the figures last changed.
    pub updated_at: DateTime<Utc>,
    /// Revenue per rate.
    pub by_vat_rate: Json<Vec<DayVatRate>>,
    /// Revenue per category.
    pub by_category: Json<Vec<DayCategory>>,
    /// Payments per method.
    pub by_payment_method: Json<Vec<DayPayment>>,
    /// What connectors booked of the day (this row: the company's or one location's),
    /// oldest first.
    pub bookings: Json<Vec<BookingRecord>>,
    /// The Z-report the day was closed with, as the API stored it.
    pub z_report: Option<Json<serde_json::Value>>,
    /// Per register, the receipts with a numeric number and their range.
    pub registers: Json<Vec<RegisterNumbers>>,
    /// The location a location's row names, when the vendor pushed it.
    pub location: Option<Json<crate::receipts::LinkedLocation>>,
}

/// The numeric receipt numbers of one register on a day: how many, the lowest, the highest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RegisterNumbers {
    /// The register (`""` for receipts without one).
    pub register_id: String,
    /// How many receipts had a numeric number.
    pub numbered: i64,
    /// The lowest.
    pub min_number: i64,
    /// The highest.
    pub max_number: i64,
}

/// The day columns with the status as of `$now` and the breakdowns as JSON (amounts as text,
/// so no number passes through a float), for `from daily_revenue d`.
const DAY_COLUMNS: &str = "d.id, d.location_key, d.business_date,
    case when d.status = 'open' and d.final_at <= $now then 'final' else d.status end as status,
    d.revision, d.final_at, d.closed_at, d.receipt_count, d.late_receipt_count,
    d.total_excl_vat, d.total_vat, d.revenue_excl_vat, d.revenue_vat, d.tips,
    d.gift_cards_multi_purpose, d.deposits, d.cash_rounding, d.updated_at, d.z_report,
    coalesce((select json_agg(json_build_object('category', v.vat_category,
                  'percentage', v.vat_percentage::text, 'country', v.vat_country,
                  'base', v.base::text, 'vat', v.vat::text,
                  'voucher_base', v.voucher_base::text, 'voucher_vat', v.voucher_vat::text)
                  order by v.vat_category, v.vat_percentage desc, v.vat_country)
                from daily_revenue_vat_rates v
               where v.company_id = d.company_id and v.location_key = d.location_key
                 and v.business_date = d.business_date), '[]') as by_vat_rate,
    coalesce((select json_agg(json_build_object('category_id', c.category_id,
                  'name', k.name, 'total_excl_vat', c.total_excl_vat::text,
                  'total_vat', c.total_vat::text) order by k.name, c.category_id)
                from daily_revenue_categories c
                join categories k on k.company_id = c.company_id and k.id = c.category_id
               where c.company_id = d.company_id and c.location_key = d.location_key
                 and c.business_date = d.business_date), '[]') as by_category,
    coalesce((select json_agg(json_build_object('method_id', p.method_id, 'name', m.name,
                  'kind', m.kind, 'amount', p.amount::text) order by m.name, p.method_id)
                from daily_revenue_payments p
                join payment_methods m on m.company_id = p.company_id and m.id = p.method_id
               where p.company_id = d.company_id and p.location_key = d.location_key
                 and p.business_date = d.business_date), '[]') as by_payment_method,
    coalesce((select json_agg(json_build_object('register_id', g.register_key,
                  'numbered', g.numbered, 'min_number', g.min_number,
                  'max_number', g.max_number) order by g.register_key)
                from daily_revenue_registers g
               where g.company_id = d.company_id and g.location_key = d.location_key
                 and g.business_date = d.business_date), '[]') as registers,
    (select json_build_object('id', l.id, 'name', l.name, 'cost_centre', l.cost_centre)
       from locations l
      where d.location_key <> '' and l.company_id = d.company_id
        and l.external_id = d.location_key) as location";

/// What a close did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Closed {
    /// Closed (or already final); `finalised` rows became final now.
    Done {
        /// How many rows became final.
        finalised: u64,
    },
    /// The day already has this Z-report; nothing was written.
    ZReportThere(serde_json::Value),
}

/// Which days a list answers.
#[derive(Debug, Clone, Default)]
pub struct DayFilter {
    /// [`COMPANY_WIDE`] or a location id.
    pub location_key: String,
    /// The first date (inclusive).
    pub from: Option<NaiveDate>,
    /// The last date (exclusive).
    pub to: Option<NaiveDate>,
    /// The last date of the previous page.
    pub after: Option<NaiveDate>,
    /// Only days a package never booked, or booked in an earlier revision.
    pub bookings: BookingFilter,
    /// Page size.
    pub limit: i64,
}

fn day_query(condition: &str) -> String {
    // `$now` is always the second parameter.
    format!(
        "select {DAY_COLUMNS}, {DAY_BOOKINGS_JSON} from daily_revenue d
          where d.company_id = $1 and {condition}"
    )
    .replace("$now", "$2")
}

/// The most days one run of the finaliser finalises in one statement; it repeats until none
/// is left, so a long outage is caught up in bounded transactions.
const FINALISE_BATCH: i64 = 5_000;

/// Queries on the daily revenue.
#[derive(Debug)]
pub struct DailyRevenue<'a> {
    pool: &'a PgPool,
}

impl<'a> DailyRevenue<'a> {
    pub(crate) fn new(pool: &'a PgPool) -> Self {
        Self { pool }
    }

    /// One day's row (the whole company's, or a location's), as of `now`.
    pub async fn find(
        &self,
        company_id: Uuid,
        key: &DayKey,
        now: DateTime<Utc>,
    ) -> Result<Option<DayRecord>, StoreError> {
        Ok(sqlx::query_as::<_, DayRecord>(AssertSqlSafe(day_query(
            "d.location_key = $3 and d.business_date = $4",
        )))
        .bind(company_id)
        .bind(now)
        .bind(&key.location_key)
        .bind(key.business_date)
        .fetch_optional(self.pool)
        .await?)
    }

    /// One day's row by its id from the event feed, as of `now`.
    pub async fn find_by_id(
        &self,
        company_id: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<DayRecord>, StoreError> {
        Ok(
            sqlx::query_as::<_, DayRecord>(AssertSqlSafe(day_query("d.id = $3")))
                .bind(company_id)
                .bind(now)
                .bind(id)
                .fetch_optional(self.pool)
                .await?,
        )
    }

    /// The days with a row, by filter, in date order, as of `now`.
    pub async fn list(
        &self,
        company_id: Uuid,
        filter: &DayFilter,
        now: DateTime<Utc>,
    ) -> Result<Vec<DayRecord>, StoreError> {
        Ok(sqlx::query_as::<_, DayRecord>(AssertSqlSafe(format!(
            "{} order by d.business_date limit $7",
            day_query(
                "d.location_key = $3
                 and ($4::date is null or d.business_date >= $4)
                 and ($5::date is null or d.business_date < $5)
                 and ($6::date is null or d.business_date > $6)
                 and ($8::text is null or not exists (
                        select 1 from bookings b
                         where b.company_id = d.company_id and b.resource = 'daily_revenue'
                           and b.resource_id = d.id and b.package = $8))
                 and ($9::text is null or d.revision > (
                        select max(b.version) from bookings b
                         where b.company_id = d.company_id and b.resource = 'daily_revenue'
                           and b.resource_id = d.id and b.package = $9))"
            )
        )))
        .bind(company_id)
        .bind(now)
        .bind(&filter.location_key)
        .bind(filter.from)
        .bind(filter.to)
        .bind(filter.after)
        .bind(filter.limit)
        .bind(filter.bookings.not_booked_by.as_deref())
        .bind(filter.bookings.changed_since_booked.as_deref())
        .fetch_all(self.pool)
        .await?)
    }

    /// A day's kept revisions, oldest first, from `after` (exclusive) on, at most `limit`:
    /// each shaped as the day (status `final` for revision 1, `revised` after), its figures as
    /// they were when the revision came to be, `updated_at` that moment, no bookings. A day
    /// that reads as final but was not finalised in the table yet has none (its current
    /// figures are its revision 1).
    pub async fn revisions(
        &self,
        company_id: Uuid,
        key: &DayKey,
        after: i32,
        limit: i64,
    ) -> Result<Vec<DayRecord>, StoreError> {
        Ok(sqlx::query_as::<_, DayRecord>(
            "select d.id, d.location_key, d.business_date,
                    case when r.revision = 1 then 'final' else 'revised' end as status,
                    r.revision, d.final_at, d.closed_at,
                    (r.figures->>'receipt_count')::bigint as receipt_count,
                    (r.figures->>'late_receipt_count')::bigint as late_receipt_count,
                    (r.figures->>'total_excl_vat')::numeric as total_excl_vat,
                    (r.figures->>'total_vat')::numeric as total_vat,
                    (r.figures->>'revenue_excl_vat')::numeric as revenue_excl_vat,
                    (r.figures->>'revenue_vat')::numeric as revenue_vat,
                    (r.figures->>'tips')::numeric as tips,
                    (r.figures->>'gift_cards_multi_purpose')::numeric as gift_cards_multi_purpose,
                    (r.figures->>'deposits')::numeric as deposits,
                    (r.figures->>'cash_rounding')::numeric as cash_rounding,
                    r.recorded_at as updated_at,
                    (r.figures->'by_vat_rate')::json as by_vat_rate,
                    (r.figures->'by_category')::json as by_category,
                    (r.figures->'by_payment_method')::json as by_payment_method,
                    '[]'::json as bookings, d.z_report, '[]'::json as registers,
                    (select json_build_object('id', l.id, 'name', l.name,
                                              'cost_centre', l.cost_centre)
                       from locations l
                      where d.location_key <> '' and l.company_id = d.company_id
                        and l.external_id = d.location_key) as location
               from daily_revenue_revisions r
               join daily_revenue d on d.company_id = r.company_id
                and d.location_key = r.location_key and d.business_date = r.business_date
              where r.company_id = $1 and r.location_key = $2 and r.business_date = $3
                and r.revision > $4
              order by r.revision
              limit $5",
        )
        .bind(company_id)
        .bind(&key.location_key)
        .bind(key.business_date)
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool)
        .await?)
    }

    /// Closes a day (the vendor's Z-report): the location's row, or without a location the
    /// whole company's row and every location's row of that date. A row that does not exist
    /// yet is created, final and empty; an open row becomes final with a
    /// `daily_revenue.final` event; a final or revised row is left as it is. Answers how many
    /// rows became final.
    ///
    /// With a Z-report (as the API serialises it), the row keeps it when it has none yet;
    /// when it has one already, nothing is written at all and that one is answered
    /// ([`Closed::ZReportThere`]), for the caller to compare.
    pub async fn close(
        &self,
        company_id: Uuid,
        key: &DayKey,
        final_at: DateTime<Utc>,
        now: DateTime<Utc>,
        z_report: Option<&serde_json::Value>,
    ) -> Result<Closed, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Closing after final_at changes nothing the clock had not already decided, so the
        // day then records no closing moment and counts as final since final_at.
        let closed = sqlx::query_scalar::<_, i64>(
            "with closed as (
                insert into daily_revenue as t (company_id, location_key, business_date, id, status,
                            final_at, closed_at, finalized_at, created_at, updated_at)
                values ($1, $2, $3, $4, 'final', $5,
                        case when $6 < $5 then $6::timestamptz end, least($5, $6), $6, $6)
                on conflict (company_id, location_key, business_date) do update
                   set status = 'final',
                       closed_at = case when $6 < t.final_at then $6::timestamptz end,
                       finalized_at = least(t.final_at, $6), updated_at = $6
                 where t.status = 'open'
                returning t.company_id, t.id, t.revision, t.location_key
             ), locations as (
                update daily_revenue d
                   set status = 'final',
                       closed_at = case when $6 < d.final_at then $6::timestamptz end,
                       finalized_at = least(d.final_at, $6), updated_at = $6
                 where $2 = '' and d.company_id = $1 and d.business_date = $3
                   and d.location_key <> '' and d.status = 'open'
                returning d.company_id, d.id, d.revision, d.location_key
             ), finals as (
                insert into events (company_id, type, resource, resource_id, version)
                select company_id, 'daily_revenue.final', 'daily_revenue', id, revision
                  from (select * from closed union all select * from locations) f
                 order by location_key
                returning 1
             )
             select count(*) from finals",
        )
        .bind(company_id)
        .bind(&key.location_key)
        .bind(key.business_date)
        .bind(Uuid::now_v7())
        .bind(final_at)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let finalised = u64::try_from(closed).unwrap_or_default();
        if let Some(z_report) = z_report {
            // Not `updated_at`: the figures did not change, and the day's revision keeps the
            // moment it came to be.
            let stored = sqlx::query(
                "update daily_revenue set z_report = $4
                  where company_id = $1 and location_key = $2 and business_date = $3
                    and z_report is null",
            )
            .bind(company_id)
            .bind(&key.location_key)
            .bind(key.business_date)
            .bind(z_report)
            .execute(&mut *tx)
            .await?;
            if stored.rows_affected() == 0 {
                let there: Option<serde_json::Value> = sqlx::query_scalar(
                    "select z_report from daily_revenue
                      where company_id = $1 and location_key = $2 and business_date = $3",
                )
                .bind(company_id)
                .bind(&key.location_key)
                .bind(key.business_date)
                .fetch_one(&mut *tx)
                .await?;
                return Ok(Closed::ZReportThere(there.unwrap_or_default()));
            }
        }
        tx.commit().await?;
        Ok(Closed::Done { finalised })
    }

    /// The numeric receipt numbers of one register on a day (of one location, or of the whole
    /// company), for naming the gaps of a register whose range is wider than its count.
    pub async fn register_numbers(
        &self,
        company_id: Uuid,
        key: &DayKey,
        register_id: &str,
    ) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "select btrim(number)::bigint from receipts
              where company_id = $1 and business_date = $2
                and coalesce(btrim(register_id), '') = $3
                and ($4 = '' or btrim(location_id) = $4)
                and btrim(number) ~ '^[0-9]{1,18}$'",
        )
        .bind(company_id)
        .bind(key.business_date)
        .bind(register_id)
        .bind(&key.location_key)
        .fetch_all(self.pool)
        .await?)
    }

    /// The kinds of the company's payment methods among `ids`.
    pub async fn payment_method_kinds(
        &self,
        company_id: Uuid,
        ids: &[Uuid],
    ) -> Result<std::collections::HashMap<Uuid, String>, StoreError> {
        let rows: Vec<(Uuid, String)> = sqlx::query_as(
            "select id, kind from payment_methods where company_id = $1 and id = any($2)",
        )
        .bind(company_id)
        .bind(ids)
        .fetch_all(self.pool)
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// Finalises every open day whose `final_at` is at or before `now`, in every company,
    /// each with its `daily_revenue.final` event in the same statement. It looks only at the
    /// table, not at when it last ran, so a server that was down at 05:00 catches up on its
    /// first run. Rows a writer holds locked are skipped and taken on the next run; several
    /// servers may run it at once. Answers how many days became final.
    pub async fn finalise_due(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut total = 0u64;
        loop {
            let done = sqlx::query_scalar::<_, i64>(
                "with due as (
                    select company_id, location_key, business_date from daily_revenue
                     where status = 'open' and final_at <= $1
                     order by final_at
                     limit $2
                     for update skip locked
                 ), fin as (
                    update daily_revenue d
                       set status = 'final', finalized_at = d.final_at, updated_at = $1
                      from due
                     where d.company_id = due.company_id and d.location_key = due.location_key
                       and d.business_date = due.business_date
                    returning d.company_id, d.id, d.revision, d.location_key, d.business_date
                 ), finals as (
                    insert into events (company_id, type, resource, resource_id, version)
                    select company_id, 'daily_revenue.final', 'daily_revenue', id, revision
                      from fin order by company_id, business_date, location_key
                    returning 1
                 )
                 select count(*) from finals",
            )
            .bind(now)
            .bind(FINALISE_BATCH)
            .fetch_one(self.pool)
            .await?;
            let done = u64::try_from(done).unwrap_or_default();
            total += done;
            if done < u64::try_from(FINALISE_BATCH).unwrap_or_default() {
                return Ok(total);
            }
        }
    }
}
