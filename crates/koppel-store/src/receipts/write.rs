//! Inserting receipts with their lines, payments and events: the first statement of a write.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::NewReceipt;
use super::days::{day_keys, location_key};
use crate::StoreError;
use crate::daily_revenue::DayKey;

/// Our ids as the domain holds them (text), parsed; validation has checked they exist, so
/// they are UUIDs.
pub(super) fn uuid_of(id: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(id).map_err(|_| {
        StoreError::Database(sqlx::Error::InvalidArgument(format!("not an id: {id:?}")))
    })
}

/// The columns of the receipts to insert, one array per column.
#[derive(Default)]
struct ReceiptColumns {
    id: Vec<Uuid>,
    external_id: Vec<String>,
    number: Vec<Option<String>>,
    location_id: Vec<Option<String>>,
    register_id: Vec<Option<String>>,
    created_at: Vec<DateTime<Utc>>,
    utc_offset: Vec<i32>,
    business_date: Vec<NaiveDate>,
    currency: Vec<String>,
    prices_include_vat: Vec<bool>,
    cash_rounding: Vec<Decimal>,
    total_excl_vat: Vec<Decimal>,
    total_vat: Vec<Decimal>,
    total_incl_vat: Vec<Decimal>,
    revenue_excl_vat: Vec<Decimal>,
    revenue_vat: Vec<Decimal>,
    tips: Vec<Decimal>,
    gift_cards: Vec<Decimal>,
    deposits: Vec<Decimal>,
    content_hash: Vec<Vec<u8>>,
    refund_of: Vec<Option<Uuid>>,
    refund_of_external_id: Vec<Option<String>>,
    refund_reason: Vec<Option<String>>,
    customer_id: Vec<Option<Uuid>>,
    customer_external_id: Vec<Option<String>>,
    customer: Vec<Option<String>>,
    exchange_rate: Vec<Option<Decimal>>,
    exchange_rate_date: Vec<Option<NaiveDate>>,
    total_excl_vat_company: Vec<Option<Decimal>>,
    total_vat_company: Vec<Option<Decimal>>,
    total_incl_vat_company: Vec<Option<Decimal>>,
}

#[derive(Default)]
struct LineColumns {
    receipt_id: Vec<Uuid>,
    position: Vec<i32>,
    kind: Vec<&'static str>,
    product_code: Vec<String>,
    description: Vec<Option<String>>,
    category_id: Vec<Uuid>,
    quantity: Vec<Decimal>,
    unit_price: Vec<Decimal>,
    discount: Vec<Decimal>,
    vat_rate_id: Vec<Option<Uuid>>,
    vat_rate_external_id: Vec<Option<String>>,
    vat_percentage: Vec<Decimal>,
    vat_category: Vec<&'static str>,
    vat_country: Vec<&'static str>,
    vat_amount: Vec<Decimal>,
    exemption_reason: Vec<Option<String>>,
    total_excl_vat: Vec<Decimal>,
    total_incl_vat: Vec<Decimal>,
    total_excl_vat_company: Vec<Option<Decimal>>,
    vat_amount_company: Vec<Option<Decimal>>,
    purchase_price: Vec<Option<Decimal>>,
    margin_base: Vec<Option<Decimal>>,
    margin_base_company: Vec<Option<Decimal>>,
}

#[derive(Default)]
struct PaymentColumns {
    receipt_id: Vec<Uuid>,
    position: Vec<i32>,
    method_id: Vec<Uuid>,
    amount: Vec<Decimal>,
    change: Vec<Decimal>,
    reference: Vec<Option<String>>,
}

#[derive(sqlx::FromRow)]
pub(super) struct Inserted {
    pub(super) external_id: String,
    pub(super) inserted_id: Option<Uuid>,
    pub(super) existing_id: Option<Uuid>,
    pub(super) existing_hash: Option<Vec<u8>>,
}

/// Inserts the receipts (first of each external id only) with their lines, payments and
/// `receipt.created` events, after finalising their days that are due; answers per external
/// id whether it was inserted or what was stored before.
pub(super) async fn insert_receipts(
    conn: &mut PgConnection,
    company_id: Uuid,
    receipts: &[&NewReceipt],
    now: DateTime<Utc>,
) -> Result<Vec<Inserted>, StoreError> {
    let mut r = ReceiptColumns::default();
    let mut l = LineColumns::default();
    let mut p = PaymentColumns::default();
    let mut keys: BTreeMap<DayKey, ()> = BTreeMap::new();
    for new in receipts {
        let v = &new.receipt;
        for key in day_keys(new) {
            keys.insert(key, ());
        }
        r.id.push(new.id);
        r.external_id.push(v.external_id.clone());
        r.number.push(v.number.clone());
        r.location_id.push(location_key(v).map(str::to_owned));
        r.register_id.push(v.register_id.clone());
        r.created_at.push(v.created_at.with_timezone(&Utc));
        r.utc_offset.push(v.created_at.offset().local_minus_utc());
        r.business_date.push(new.business_date);
        r.currency.push(v.currency.clone());
        r.prices_include_vat.push(v.prices_include_vat);
        r.cash_rounding.push(v.cash_rounding);
        r.total_excl_vat.push(v.totals.total_excl_vat);
        r.total_vat.push(v.totals.total_vat);
        r.total_incl_vat.push(v.totals.total_incl_vat);
        r.revenue_excl_vat.push(v.split.revenue.total_excl_vat);
        r.revenue_vat.push(v.split.revenue.total_vat);
        r.tips.push(v.split.tips);
        r.gift_cards.push(v.split.gift_cards_multi_purpose);
        r.deposits.push(v.split.deposits);
        r.content_hash.push(new.content_hash.clone());
        r.refund_of
            .push(v.refund_of.as_deref().map(uuid_of).transpose()?);
        r.refund_of_external_id
            .push(v.refund_of_external_id.clone());
        r.refund_reason.push(v.refund_reason.clone());
        let buyer = v.customer.as_ref();
        r.customer_id.push(
            buyer
                .and_then(|c| c.id.as_deref())
                .map(uuid_of)
                .transpose()?,
        );
        r.customer_external_id
            .push(buyer.and_then(|c| c.external_id.clone()));
        r.customer
            .push(buyer.map(|c| serde_json::to_string(c).unwrap_or_default()));
        r.exchange_rate.push(v.exchange_rate);
        r.exchange_rate_date.push(v.exchange_rate_date);
        let converted = v.company_currency.as_ref();
        r.total_excl_vat_company
            .push(converted.map(|c| c.totals.total_excl_vat));
        r.total_vat_company
            .push(converted.map(|c| c.totals.total_vat));
        r.total_incl_vat_company
            .push(converted.map(|c| c.totals.total_incl_vat));
        for (i, line) in v.lines.iter().enumerate() {
            l.receipt_id.push(new.id);
            l.position.push(i32::try_from(i).unwrap_or(i32::MAX));
            l.kind.push(line.kind.as_str());
            l.product_code.push(line.product_code.clone());
            l.description.push(line.description.clone());
            l.category_id.push(uuid_of(&line.category_id)?);
            l.quantity.push(line.quantity);
            l.unit_price.push(line.unit_price);
            l.discount.push(line.discount);
            l.vat_rate_id
                .push(line.vat.rate_id.as_deref().map(uuid_of).transpose()?);
            l.vat_rate_external_id
                .push(line.vat.rate_external_id.clone());
            l.vat_percentage.push(line.vat.percentage);
            l.vat_category.push(line.vat.category.as_str());
            l.vat_country.push(line.vat.country.as_str());
            l.vat_amount.push(line.vat.amount);
            l.exemption_reason.push(line.vat.exemption_reason.clone());
            l.total_excl_vat.push(line.total_excl_vat);
            l.total_incl_vat.push(line.total_incl_vat);
            let in_company = converted.map(|c| c.lines[i]);
            l.total_excl_vat_company.push(in_company.map(|c| c.excl));
            l.vat_amount_company.push(in_company.map(|c| c.vat));
            l.purchase_price.push(line.purchase_price);
            l.margin_base.push(line.margin_base);
            l.margin_base_company
                .push(line.margin_base.and(in_company.map(|c| c.base)));
        }
        for (i, payment) in v.payments.iter().enumerate() {
            p.receipt_id.push(new.id);
            p.position.push(i32::try_from(i).unwrap_or(i32::MAX));
            p.method_id.push(uuid_of(&payment.method_id)?);
            p.amount.push(payment.amount);
            p.change.push(payment.change);
            p.reference.push(payment.reference.clone());
        }
    }
    let (key_locations, key_dates): (Vec<String>, Vec<NaiveDate>) = keys
        .into_keys()
        .map(|k| (k.location_key, k.business_date))
        .unzip();
    let rows = sqlx::query_as::<_, Inserted>(
        "with fin as (
            update daily_revenue d
               set status = 'final', finalized_at = d.final_at, updated_at = $2
             where d.company_id = $1 and d.status = 'open' and d.final_at <= $2
               and (d.location_key, d.business_date) in (select * from unnest($3::text[], $4::date[]))
            returning d.company_id, d.id, d.revision
         ), fin_events as (
            insert into events (company_id, type, resource, resource_id, version)
            select company_id, 'daily_revenue.final', 'daily_revenue', id, revision from fin
         ), input as (
            select * from unnest($5::uuid[], $6::text[], $7::text[], $8::text[], $9::text[],
                                 $10::timestamptz[], $11::int[], $12::date[], $13::text[], $14::bool[],
                                 $15::numeric[], $16::numeric[], $17::numeric[], $18::numeric[],
                                 $19::numeric[], $20::numeric[], $21::numeric[], $22::numeric[],
                                 $23::numeric[], $24::bytea[], $49::uuid[], $50::text[], $51::text[],
                                 $52::uuid[], $53::text[], $54::text[], $55::numeric[], $56::date[],
                                 $57::numeric[], $58::numeric[], $59::numeric[])
              as i(id, external_id, number, location_id, register_id, created_at, utc_offset_seconds,
                   business_date, currency, prices_include_vat, cash_rounding, total_excl_vat,
                   total_vat, total_incl_vat, revenue_excl_vat, revenue_vat, tips,
                   gift_cards_multi_purpose, deposits, content_hash, refund_of,
                   refund_of_external_id, refund_reason, customer_id, customer_external_id,
                   customer, exchange_rate, exchange_rate_date, total_excl_vat_company,
                   total_vat_company, total_incl_vat_company)
         ), ins as (
            insert into receipts (company_id, id, external_id, number, location_id, register_id,
                                  created_at, utc_offset_seconds, business_date, currency,
                                  prices_include_vat, cash_rounding, total_excl_vat, total_vat,
                                  total_incl_vat, revenue_excl_vat, revenue_vat, tips,
                                  gift_cards_multi_purpose, deposits, content_hash, received_at,
                                  updated_at, refund_of, refund_of_external_id, refund_reason,
                                  customer_id, customer_external_id, customer, exchange_rate,
                                  exchange_rate_date, total_excl_vat_company, total_vat_company,
                                  total_incl_vat_company)
            select $1, i.id, i.external_id, i.number, i.location_id, i.register_id, i.created_at,
                   i.utc_offset_seconds, i.business_date, i.currency, i.prices_include_vat,
                   i.cash_rounding, i.total_excl_vat, i.total_vat, i.total_incl_vat,
                   i.revenue_excl_vat, i.revenue_vat, i.tips, i.gift_cards_multi_purpose,
                   i.deposits, i.content_hash, $2, $2, i.refund_of, i.refund_of_external_id,
                   i.refund_reason, i.customer_id, i.customer_external_id, i.customer::jsonb,
                   i.exchange_rate, i.exchange_rate_date, i.total_excl_vat_company,
                   i.total_vat_company, i.total_incl_vat_company
              from input i
             -- One order for every writer, so two batches holding the same receipts wait
             -- for each other instead of deadlocking on the external id index.
             order by i.external_id
            on conflict (company_id, external_id) do nothing
            returning id, external_id
         ), lines as (
            insert into receipt_lines (company_id, receipt_id, position, kind, product_code,
                                       description, category_id, quantity, unit_price, discount,
                                       vat_rate_id, vat_percentage, vat_category, vat_country,
                                       vat_amount, exemption_reason, total_excl_vat, total_incl_vat,
                                       vat_rate_external_id, total_excl_vat_company,
                                       vat_amount_company, purchase_price, margin_base,
                                       margin_base_company)
            select $1, l.* from unnest($25::uuid[], $26::int[], $27::text[], $28::text[], $29::text[],
                                      $30::uuid[], $31::numeric[], $32::numeric[], $33::numeric[],
                                      $34::uuid[], $35::numeric[], $36::text[], $37::text[],
                                      $38::numeric[], $39::text[], $40::numeric[], $41::numeric[],
                                      $48::text[], $60::numeric[], $61::numeric[],
                                      $62::numeric[], $63::numeric[], $64::numeric[])
                           as l(receipt_id, position, kind, product_code, description, category_id,
                                quantity, unit_price, discount, vat_rate_id, vat_percentage,
                                vat_category, vat_country, vat_amount, exemption_reason,
                                total_excl_vat, total_incl_vat, vat_rate_external_id,
                                total_excl_vat_company, vat_amount_company, purchase_price,
                                margin_base, margin_base_company)
             where l.receipt_id in (select id from ins)
         ), payments as (
            insert into receipt_payments (company_id, receipt_id, position, method_id, amount,
                                          change, reference)
            select $1, p.* from unnest($42::uuid[], $43::int[], $44::uuid[], $45::numeric[],
                                      $46::numeric[], $47::text[])
                           as p(receipt_id, position, method_id, amount, change, reference)
             where p.receipt_id in (select id from ins)
         ), created_events as (
            insert into events (company_id, type, resource, resource_id, version)
            select $1, 'receipt.created', 'receipts', ins.id, 1
              from ins join input i on i.id = ins.id
             order by i.created_at, ins.id
         )
         select i.external_id, ins.id as inserted_id, r.id as existing_id,
                r.content_hash as existing_hash
           from input i
           left join ins on ins.id = i.id
           left join receipts r on r.company_id = $1 and r.external_id = i.external_id",
    )
    .bind(company_id)
    .bind(now)
    .bind(key_locations)
    .bind(key_dates)
    .bind(r.id)
    .bind(r.external_id)
    .bind(r.number)
    .bind(r.location_id)
    .bind(r.register_id)
    .bind(r.created_at)
    .bind(r.utc_offset)
    .bind(r.business_date)
    .bind(r.currency)
    .bind(r.prices_include_vat)
    .bind(r.cash_rounding)
    .bind(r.total_excl_vat)
    .bind(r.total_vat)
    .bind(r.total_incl_vat)
    .bind(r.revenue_excl_vat)
    .bind(r.revenue_vat)
    .bind(r.tips)
    .bind(r.gift_cards)
    .bind(r.deposits)
    .bind(r.content_hash)
    .bind(l.receipt_id)
    .bind(l.position)
    .bind(l.kind)
    .bind(l.product_code)
    .bind(l.description)
    .bind(l.category_id)
    .bind(l.quantity)
    .bind(l.unit_price)
    .bind(l.discount)
    .bind(l.vat_rate_id)
    .bind(l.vat_percentage)
    .bind(l.vat_category)
    .bind(l.vat_country)
    .bind(l.vat_amount)
    .bind(l.exemption_reason)
    .bind(l.total_excl_vat)
    .bind(l.total_incl_vat)
    .bind(p.receipt_id)
    .bind(p.position)
    .bind(p.method_id)
    .bind(p.amount)
    .bind(p.change)
    .bind(p.reference)
    .bind(l.vat_rate_external_id)
    .bind(r.refund_of)
    .bind(r.refund_of_external_id)
    .bind(r.refund_reason)
    .bind(r.customer_id)
    .bind(r.customer_external_id)
    .bind(r.customer)
    .bind(r.exchange_rate)
    .bind(r.exchange_rate_date)
    .bind(r.total_excl_vat_company)
    .bind(r.total_vat_company)
    .bind(r.total_incl_vat_company)
    .bind(l.total_excl_vat_company)
    .bind(l.vat_amount_company)
    .bind(l.purchase_price)
    .bind(l.margin_base)
    .bind(l.margin_base_company)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows)
}
