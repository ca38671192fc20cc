//! Keeping the days up to date as receipts are stored, in the receipts' transaction: each
//! receipt's figures added to its day rows (the whole company's and its location's) with the
//! domain's own aggregation, and its number to its register's range on the day.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use koppel_domain::daily::DailyFigures;
use koppel_domain::receipt::ValidReceipt;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::NewReceipt;
use super::write::uuid_of;
use crate::StoreError;
use crate::daily_revenue::{COMPANY_WIDE, DayKey};

/// The location key of a receipt's own location row, if it has a location.
pub(crate) fn location_key(receipt: &ValidReceipt) -> Option<&str> {
    receipt
        .location_id
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
}

/// The day rows a receipt counts in: the whole company's, and its location's.
pub(super) fn day_keys(new: &NewReceipt) -> Vec<DayKey> {
    let mut keys = vec![DayKey {
        location_key: COMPANY_WIDE.to_owned(),
        business_date: new.business_date,
    }];
    if let Some(location) = location_key(&new.receipt) {
        keys.push(DayKey {
            location_key: location.to_owned(),
            business_date: new.business_date,
        });
    }
    keys
}

/// The deltas the new receipts add to their day rows, one array per column.
#[derive(Default)]
struct DayDeltas {
    location_key: Vec<String>,
    business_date: Vec<NaiveDate>,
    id: Vec<Uuid>,
    final_at: Vec<DateTime<Utc>>,
    receipt_count: Vec<i64>,
    total_excl_vat: Vec<Decimal>,
    total_vat: Vec<Decimal>,
    revenue_excl_vat: Vec<Decimal>,
    revenue_vat: Vec<Decimal>,
    tips: Vec<Decimal>,
    gift_cards: Vec<Decimal>,
    deposits: Vec<Decimal>,
    cash_rounding: Vec<Decimal>,
    rate_location: Vec<String>,
    rate_date: Vec<NaiveDate>,
    rate_category: Vec<&'static str>,
    rate_percentage: Vec<Decimal>,
    rate_country: Vec<&'static str>,
    rate_base: Vec<Decimal>,
    rate_vat: Vec<Decimal>,
    rate_voucher_base: Vec<Decimal>,
    rate_voucher_vat: Vec<Decimal>,
    category_location: Vec<String>,
    category_date: Vec<NaiveDate>,
    category_id: Vec<Uuid>,
    category_excl: Vec<Decimal>,
    category_vat: Vec<Decimal>,
    method_location: Vec<String>,
    method_date: Vec<NaiveDate>,
    method_id: Vec<Uuid>,
    method_amount: Vec<Decimal>,
}

/// Keeps what single-purpose vouchers redeemed on each new receipt, per rate, for the VAT
/// return (the day's rate rows keep their own sums).
pub(super) async fn add_voucher_redemptions(
    conn: &mut PgConnection,
    company_id: Uuid,
    created: &[&NewReceipt],
) -> Result<(), StoreError> {
    let (mut receipt, mut category, mut percentage, mut country, mut base, mut vat) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    for new in created {
        for ((c, p, k), share) in new.receipt.booked_voucher_redemptions() {
            receipt.push(new.id);
            category.push(c.as_str());
            percentage.push(*p);
            country.push(k.as_str());
            base.push(share.base);
            vat.push(share.vat);
        }
    }
    if receipt.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "insert into receipt_voucher_redemptions
             (company_id, receipt_id, vat_category, vat_percentage, vat_country, base, vat)
         select $1, v.* from unnest($2::uuid[], $3::text[], $4::numeric[], $5::text[],
                                   $6::numeric[], $7::numeric[])
                        as v(receipt_id, vat_category, vat_percentage, vat_country, base, vat)",
    )
    .bind(company_id)
    .bind(receipt)
    .bind(category)
    .bind(percentage)
    .bind(country)
    .bind(base)
    .bind(vat)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Adds the new receipts' numbers to their day rows' register ranges (count, lowest,
/// highest), for the number gaps; after [`add_to_days`], which made the day rows.
pub(super) async fn add_to_registers(
    conn: &mut PgConnection,
    company_id: Uuid,
    created: &[&NewReceipt],
) -> Result<(), StoreError> {
    let mut ranges: BTreeMap<(DayKey, String), (i64, i64, i64)> = BTreeMap::new();
    for new in created {
        let Some(number) = new
            .receipt
            .number
            .as_deref()
            .and_then(koppel_domain::daily::sequence_number)
        else {
            continue;
        };
        let register = new
            .receipt
            .register_id
            .as_deref()
            .map(str::trim)
            .unwrap_or_default()
            .to_owned();
        for key in day_keys(new) {
            let range = ranges
                .entry((key, register.clone()))
                .or_insert((0, number, number));
            range.0 += 1;
            range.1 = range.1.min(number);
            range.2 = range.2.max(number);
        }
    }
    if ranges.is_empty() {
        return Ok(());
    }
    let mut location = Vec::with_capacity(ranges.len());
    let mut date = Vec::with_capacity(ranges.len());
    let mut register = Vec::with_capacity(ranges.len());
    let (mut count, mut low, mut high) = (Vec::new(), Vec::new(), Vec::new());
    for ((key, r), (n, min, max)) in ranges {
        location.push(key.location_key);
        date.push(key.business_date);
        register.push(r);
        count.push(n);
        low.push(min);
        high.push(max);
    }
    sqlx::query(
        "insert into daily_revenue_registers as t (company_id, location_key, business_date,
                    register_key, numbered, min_number, max_number)
         select $1, r.* from unnest($2::text[], $3::date[], $4::text[], $5::bigint[],
                                    $6::bigint[], $7::bigint[])
                        as r(location_key, business_date, register_key, numbered, lo, hi)
          order by 1, 2, 3, 4
         on conflict (company_id, location_key, business_date, register_key) do update
            set numbered = t.numbered + excluded.numbered,
                min_number = least(t.min_number, excluded.min_number),
                max_number = greatest(t.max_number, excluded.max_number)",
    )
    .bind(company_id)
    .bind(location)
    .bind(date)
    .bind(register)
    .bind(count)
    .bind(low)
    .bind(high)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Adds the new receipts to their days; answers the ids of the receipts that turned out late.
pub(super) async fn add_to_days(
    conn: &mut PgConnection,
    company_id: Uuid,
    created: &[&NewReceipt],
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, StoreError> {
    // The domain's own aggregation, one figure set per day row; keys in a fixed order so that
    // concurrent writers lock the rows of several days in the same order and cannot deadlock.
    let mut days: BTreeMap<DayKey, (DateTime<Utc>, DailyFigures)> = BTreeMap::new();
    for new in created {
        for key in day_keys(new) {
            days.entry(key)
                .or_insert_with(|| (new.final_at, DailyFigures::default()))
                .1
                .add(&new.receipt);
        }
    }
    let mut d = DayDeltas::default();
    for (key, (final_at, f)) in &days {
        d.location_key.push(key.location_key.clone());
        d.business_date.push(key.business_date);
        d.id.push(Uuid::now_v7());
        d.final_at.push(*final_at);
        d.receipt_count
            .push(i64::try_from(f.receipt_count).unwrap_or(i64::MAX));
        d.total_excl_vat.push(f.totals.total_excl_vat);
        d.total_vat.push(f.totals.total_vat);
        d.revenue_excl_vat.push(f.revenue.total_excl_vat);
        d.revenue_vat.push(f.revenue.total_vat);
        d.tips.push(f.tips);
        d.gift_cards.push(f.gift_cards_multi_purpose);
        d.deposits.push(f.deposits);
        d.cash_rounding.push(f.cash_rounding);
        for (&(category, percentage, country), rate) in &f.by_vat_rate {
            d.rate_location.push(key.location_key.clone());
            d.rate_date.push(key.business_date);
            d.rate_category.push(category.as_str());
            d.rate_percentage.push(percentage);
            d.rate_country.push(country.as_str());
            d.rate_base.push(rate.base);
            d.rate_vat.push(rate.vat);
            let redeemed = f
                .voucher_redemptions
                .get(&(category, percentage, country))
                .copied()
                .unwrap_or_default();
            d.rate_voucher_base.push(redeemed.base);
            d.rate_voucher_vat.push(redeemed.vat);
        }
        for (category, totals) in &f.by_category {
            d.category_location.push(key.location_key.clone());
            d.category_date.push(key.business_date);
            d.category_id.push(uuid_of(category)?);
            d.category_excl.push(totals.total_excl_vat);
            d.category_vat.push(totals.total_vat);
        }
        for (method, amount) in &f.by_payment_method {
            d.method_location.push(key.location_key.clone());
            d.method_date.push(key.business_date);
            d.method_id.push(uuid_of(method)?);
            d.method_amount.push(*amount);
        }
    }
    let ids: Vec<Uuid> = created.iter().map(|n| n.id).collect();
    // A day is "still open" for an existing row only while it is open and not past final_at
    // (the first statement finalised the due ones, so the second test only guards a clock
    // that moved between the two). A new row is late when its final_at has passed or the
    // whole company's day was closed; then it starts as revision 2, the empty day having
    // been final before.
    let late = sqlx::query_scalar::<_, Uuid>(
        "with input as (
            select k.*,
                   (k.final_at <= $2 or exists (
                        select 1 from daily_revenue c
                         where c.company_id = $1 and c.location_key = '' and c.business_date = k.business_date
                           and c.status <> 'open')) as late
              from unnest($3::text[], $4::date[], $5::uuid[], $6::timestamptz[], $7::bigint[],
                          $8::numeric[], $9::numeric[], $10::numeric[], $11::numeric[], $12::numeric[],
                          $13::numeric[], $14::numeric[], $15::numeric[])
                as k(location_key, business_date, id, final_at, receipt_count, total_excl_vat,
                     total_vat, revenue_excl_vat, revenue_vat, tips, gift_cards_multi_purpose,
                     deposits, cash_rounding)
         ), up as (
            insert into daily_revenue as t (company_id, location_key, business_date, id, status,
                        revision, final_at, finalized_at, receipt_count, late_receipt_count,
                        total_excl_vat, total_vat, revenue_excl_vat, revenue_vat, tips,
                        gift_cards_multi_purpose, deposits, cash_rounding, created_at, updated_at)
            select $1, i.location_key, i.business_date, i.id,
                   case when i.late then 'revised' else 'open' end,
                   case when i.late then 2 else 1 end,
                   i.final_at, case when i.late then least(i.final_at, $2) end,
                   i.receipt_count, case when i.late then i.receipt_count else 0 end,
                   i.total_excl_vat, i.total_vat, i.revenue_excl_vat, i.revenue_vat, i.tips,
                   i.gift_cards_multi_purpose, i.deposits, i.cash_rounding, $2, $2
              from input i
             order by i.location_key, i.business_date
            on conflict (company_id, location_key, business_date) do update set
                receipt_count = t.receipt_count + excluded.receipt_count,
                late_receipt_count = t.late_receipt_count
                    + case when t.status = 'open' and t.final_at > $2 then 0 else excluded.receipt_count end,
                total_excl_vat = t.total_excl_vat + excluded.total_excl_vat,
                total_vat = t.total_vat + excluded.total_vat,
                revenue_excl_vat = t.revenue_excl_vat + excluded.revenue_excl_vat,
                revenue_vat = t.revenue_vat + excluded.revenue_vat,
                tips = t.tips + excluded.tips,
                gift_cards_multi_purpose = t.gift_cards_multi_purpose + excluded.gift_cards_multi_purpose,
                deposits = t.deposits + excluded.deposits,
                cash_rounding = t.cash_rounding + excluded.cash_rounding,
                status = case when t.status = 'open' and t.final_at > $2 then 'open' else 'revised' end,
                revision = t.revision + case when t.status = 'open' and t.final_at > $2 then 0 else 1 end,
                finalized_at = coalesce(t.finalized_at,
                    case when t.status = 'open' and t.final_at > $2 then null else t.final_at end),
                updated_at = $2
            returning t.company_id, t.id, t.location_key, t.business_date, t.status, t.revision
         ), revised_events as (
            insert into events (company_id, type, resource, resource_id, version)
            select company_id, 'daily_revenue.revised', 'daily_revenue', id, revision
              from up where status = 'revised'
             order by location_key, business_date
         ), rates as (
            insert into daily_revenue_vat_rates as t (company_id, location_key, business_date,
                        vat_category, vat_percentage, vat_country, base, vat, voucher_base,
                        voucher_vat)
            select $1, v.* from unnest($16::text[], $17::date[], $18::text[], $19::numeric[],
                                      $20::text[], $21::numeric[], $22::numeric[],
                                      $33::numeric[], $34::numeric[])
                           as v(location_key, business_date, vat_category, vat_percentage,
                                vat_country, base, vat, voucher_base, voucher_vat)
             order by 1, 2, 3, 4, 5, 6
            on conflict (company_id, location_key, business_date, vat_category, vat_percentage, vat_country)
            do update set base = t.base + excluded.base, vat = t.vat + excluded.vat,
                          voucher_base = t.voucher_base + excluded.voucher_base,
                          voucher_vat = t.voucher_vat + excluded.voucher_vat
         ), categories as (
            insert into daily_revenue_categories as t (company_id, location_key, business_date,
                        category_id, total_excl_vat, total_vat)
            select $1, c.* from unnest($23::text[], $24::date[], $25::uuid[], $26::numeric[],
                                      $27::numeric[])
                           as c(location_key, business_date, category_id, total_excl_vat, total_vat)
             order by 1, 2, 3, 4
            on conflict (company_id, location_key, business_date, category_id)
            do update set total_excl_vat = t.total_excl_vat + excluded.total_excl_vat,
                          total_vat = t.total_vat + excluded.total_vat
         ), methods as (
            insert into daily_revenue_payments as t (company_id, location_key, business_date,
                        method_id, amount)
            select $1, m.* from unnest($28::text[], $29::date[], $30::uuid[], $31::numeric[])
                           as m(location_key, business_date, method_id, amount)
             order by 1, 2, 3, 4
            on conflict (company_id, location_key, business_date, method_id)
            do update set amount = t.amount + excluded.amount
         ), late as (
            update receipts r set late = true
              from up
             where up.status = 'revised' and r.company_id = $1 and r.id = any($32)
               and r.business_date = up.business_date
               and (up.location_key = '' or r.location_id = up.location_key)
            returning r.id
         )
         select id from late",
    )
    .bind(company_id)
    .bind(now)
    .bind(d.location_key)
    .bind(d.business_date)
    .bind(d.id)
    .bind(d.final_at)
    .bind(d.receipt_count)
    .bind(d.total_excl_vat)
    .bind(d.total_vat)
    .bind(d.revenue_excl_vat)
    .bind(d.revenue_vat)
    .bind(d.tips)
    .bind(d.gift_cards)
    .bind(d.deposits)
    .bind(d.cash_rounding)
    .bind(d.rate_location)
    .bind(d.rate_date)
    .bind(d.rate_category)
    .bind(d.rate_percentage)
    .bind(d.rate_country)
    .bind(d.rate_base)
    .bind(d.rate_vat)
    .bind(d.category_location)
    .bind(d.category_date)
    .bind(d.category_id)
    .bind(d.category_excl)
    .bind(d.category_vat)
    .bind(d.method_location)
    .bind(d.method_date)
    .bind(d.method_id)
    .bind(d.method_amount)
    .bind(ids)
    .bind(d.rate_voucher_base)
    .bind(d.rate_voucher_vat)
    .fetch_all(&mut *conn)
    .await?;
    Ok(late)
}
