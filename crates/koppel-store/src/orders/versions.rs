//! The new versions of a round's changed orders, with every part and their events, in one
//! statement.

use chrono::{DateTime, Utc};
use koppel_domain::document::{ValidVat, VatGroup};
use koppel_domain::order::{ValidCost, ValidFee, ValidLine, ValidPayment};
use rust_decimal::Decimal;
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::{PgConnection, Postgres};
use uuid::Uuid;

use super::{OrderWrite, Written};
use crate::StoreError;

/// A query whose parameters are being bound.
type Bound<'q> = Query<'q, Postgres, PgArguments>;

/// The columns of a line's or cost's VAT, as arrays, in the order of the statement's
/// `unnest` (rate id, percentage, category, country, amount, exemption reason).
#[derive(Default)]
struct VatColumns<'a> {
    rate_ids: Vec<Option<&'a str>>,
    percentages: Vec<Decimal>,
    categories: Vec<&'static str>,
    countries: Vec<&'static str>,
    amounts: Vec<Decimal>,
    reasons: Vec<Option<&'a str>>,
}

impl<'a> VatColumns<'a> {
    fn push(&mut self, v: &'a ValidVat) {
        self.rate_ids.push(v.rate_id.as_deref());
        self.percentages.push(v.percentage);
        self.categories.push(v.category.as_str());
        self.countries.push(v.country.as_str());
        self.amounts.push(v.amount);
        self.reasons.push(v.exemption_reason.as_deref());
    }

    fn bind<'q>(&'q self, q: Bound<'q>) -> Bound<'q> {
        q.bind(&self.rate_ids)
            .bind(&self.percentages)
            .bind(&self.categories)
            .bind(&self.countries)
            .bind(&self.amounts)
            .bind(&self.reasons)
    }
}

/// Which order version a part row belongs to, and where in it: the first columns of every
/// part table's `unnest`.
#[derive(Default)]
struct Keys {
    ids: Vec<Uuid>,
    versions: Vec<i32>,
    positions: Vec<i32>,
}

impl Keys {
    fn push(&mut self, id: Uuid, version: i32, position: i32) {
        self.ids.push(id);
        self.versions.push(version);
        self.positions.push(position);
    }

    fn bind<'q>(&'q self, q: Bound<'q>) -> Bound<'q> {
        q.bind(&self.ids).bind(&self.versions).bind(&self.positions)
    }
}

/// `order_versions` rows, one field per column of the statement's first `unnest`, in its
/// order ($2–$21).
#[derive(Default)]
struct VersionRows<'a> {
    ids: Vec<Uuid>,
    versions: Vec<i32>,
    numbers: Vec<Option<&'a str>>,
    statuses: Vec<&'static str>,
    dates: Vec<DateTime<Utc>>,
    offsets: Vec<i32>,
    currencies: Vec<&'a str>,
    prices_include_vat: Vec<bool>,
    customer_ids: Vec<Option<&'a str>>,
    customers: Vec<Option<String>>,
    credits: Vec<Option<&'a str>>,
    excl: Vec<Decimal>,
    vat: Vec<Decimal>,
    incl: Vec<Decimal>,
    hashes: Vec<&'a [u8]>,
    details: Vec<Option<String>>,
    customer_external_ids: Vec<Option<&'a str>>,
    excl_company: Vec<Option<Decimal>>,
    vat_company: Vec<Option<Decimal>>,
    incl_company: Vec<Option<Decimal>>,
}

impl<'a> VersionRows<'a> {
    fn push(&mut self, w: &'a OrderWrite<'a>, id: Uuid, version: i32) {
        let o = w.order;
        self.ids.push(id);
        self.versions.push(version);
        self.numbers.push(o.number.as_deref());
        self.statuses.push(o.status.as_str());
        self.dates.push(o.order_date.with_timezone(&Utc));
        self.offsets.push(o.order_date.offset().local_minus_utc());
        self.currencies.push(o.currency.as_str());
        self.prices_include_vat.push(o.prices_include_vat);
        self.customer_ids
            .push(o.customer.as_ref().and_then(|c| c.id.as_deref()));
        self.customers.push(
            o.customer
                .as_ref()
                .map(|c| serde_json::to_string(c).unwrap_or_default()),
        );
        self.credits.push(o.credit_of.as_deref());
        self.excl.push(o.totals.total_excl_vat);
        self.vat.push(o.totals.total_vat);
        self.incl.push(o.totals.total_incl_vat);
        self.hashes.push(w.content_hash);
        self.details.push(
            (!o.details.is_empty()).then(|| serde_json::to_string(&o.details).unwrap_or_default()),
        );
        self.customer_external_ids
            .push(o.customer.as_ref().and_then(|c| c.external_id.as_deref()));
        let converted = o.company_currency.as_ref().map(|c| &c.totals);
        self.excl_company.push(converted.map(|t| t.total_excl_vat));
        self.vat_company.push(converted.map(|t| t.total_vat));
        self.incl_company.push(converted.map(|t| t.total_incl_vat));
    }

    fn bind<'q>(&'q self, q: Bound<'q>) -> Bound<'q> {
        q.bind(&self.ids)
            .bind(&self.versions)
            .bind(&self.numbers)
            .bind(&self.statuses)
            .bind(&self.dates)
            .bind(&self.offsets)
            .bind(&self.currencies)
            .bind(&self.prices_include_vat)
            .bind(&self.customer_ids)
            .bind(&self.customers)
            .bind(&self.credits)
            .bind(&self.excl)
            .bind(&self.vat)
            .bind(&self.incl)
            .bind(&self.hashes)
            .bind(&self.details)
            .bind(&self.customer_external_ids)
            .bind(&self.excl_company)
            .bind(&self.vat_company)
            .bind(&self.incl_company)
    }
}

/// `order_lines` rows, in the order of the statement's second `unnest` ($22–$48).
#[derive(Default)]
struct LineRows<'a> {
    keys: Keys,
    products: Vec<Option<&'a str>>,
    skus: Vec<Option<&'a str>>,
    descriptions: Vec<Option<&'a str>>,
    quantities: Vec<Decimal>,
    prices: Vec<Decimal>,
    discounts: Vec<Decimal>,
    vat: VatColumns<'a>,
    excl: Vec<Decimal>,
    incl: Vec<Decimal>,
    categories: Vec<Option<&'a str>>,
    category_external_ids: Vec<Option<&'a str>>,
    purchase_prices: Vec<Option<Decimal>>,
    kinds: Vec<&'static str>,
    units: Vec<Option<&'a str>>,
    parents: Vec<Option<i32>>,
    discount_codes: Vec<Option<&'a str>>,
    discount_names: Vec<Option<&'a str>>,
    product_external_ids: Vec<Option<&'a str>>,
    rate_external_ids: Vec<Option<&'a str>>,
}

impl<'a> LineRows<'a> {
    fn push(&mut self, l: &'a ValidLine, id: Uuid, version: i32, position: i32) {
        self.keys.push(id, version, position);
        self.products.push(l.product_id.as_deref());
        self.skus.push(l.sku.as_deref());
        self.descriptions.push(l.description.as_deref());
        self.quantities.push(l.quantity);
        self.prices.push(l.unit_price);
        self.discounts.push(l.discount);
        self.vat.push(&l.vat);
        self.excl.push(l.total_excl_vat);
        self.incl.push(l.total_incl_vat);
        self.categories.push(l.category_id.as_deref());
        self.category_external_ids
            .push(l.category_external_id.as_deref());
        self.purchase_prices.push(l.purchase_price);
        self.kinds.push(l.kind.as_str());
        self.units.push(l.unit.as_deref());
        // Bounded by the lines of one order (at most MAX_LINES), so it fits.
        self.parents
            .push(l.parent_line.and_then(|p| i32::try_from(p).ok()));
        self.discount_codes.push(l.discount_code.as_deref());
        self.discount_names.push(l.discount_name.as_deref());
        self.product_external_ids
            .push(l.product_external_id.as_deref());
        self.rate_external_ids
            .push(l.vat.rate_external_id.as_deref());
    }

    fn bind<'q>(&'q self, q: Bound<'q>) -> Bound<'q> {
        let q = self
            .keys
            .bind(q)
            .bind(&self.products)
            .bind(&self.skus)
            .bind(&self.descriptions)
            .bind(&self.quantities)
            .bind(&self.prices)
            .bind(&self.discounts);
        self.vat
            .bind(q)
            .bind(&self.excl)
            .bind(&self.incl)
            .bind(&self.categories)
            .bind(&self.category_external_ids)
            .bind(&self.purchase_prices)
            .bind(&self.kinds)
            .bind(&self.units)
            .bind(&self.parents)
            .bind(&self.discount_codes)
            .bind(&self.discount_names)
            .bind(&self.product_external_ids)
            .bind(&self.rate_external_ids)
    }
}

/// `order_costs` rows, in the order of the statement's third `unnest` ($49–$62).
#[derive(Default)]
struct CostRows<'a> {
    keys: Keys,
    kinds: Vec<&'static str>,
    descriptions: Vec<Option<&'a str>>,
    excl: Vec<Decimal>,
    vat: VatColumns<'a>,
    incl: Vec<Decimal>,
    rate_external_ids: Vec<Option<&'a str>>,
}

impl<'a> CostRows<'a> {
    fn push(&mut self, k: &'a ValidCost, id: Uuid, version: i32, position: i32) {
        self.keys.push(id, version, position);
        self.kinds.push(k.kind.as_str());
        self.descriptions.push(k.description.as_deref());
        self.excl.push(k.amount_excl_vat);
        self.vat.push(&k.vat);
        self.incl.push(k.amount_incl_vat);
        self.rate_external_ids
            .push(k.vat.rate_external_id.as_deref());
    }

    fn bind<'q>(&'q self, q: Bound<'q>) -> Bound<'q> {
        let q = self
            .keys
            .bind(q)
            .bind(&self.kinds)
            .bind(&self.descriptions)
            .bind(&self.excl);
        self.vat
            .bind(q)
            .bind(&self.incl)
            .bind(&self.rate_external_ids)
    }
}

/// `order_payments` rows, in the order of the statement's fourth `unnest` ($63–$76).
#[derive(Default)]
struct PaymentRows<'a> {
    keys: Keys,
    methods: Vec<&'a str>,
    amounts: Vec<Decimal>,
    references: Vec<Option<&'a str>>,
    paid_at: Vec<Option<DateTime<Utc>>>,
    offsets: Vec<Option<i32>>,
    statuses: Vec<&'static str>,
    providers: Vec<Option<&'a str>>,
    provider_references: Vec<Option<&'a str>>,
    payout_references: Vec<Option<&'a str>>,
    method_external_ids: Vec<Option<&'a str>>,
    fees: Vec<Option<String>>,
}

impl<'a> PaymentRows<'a> {
    fn push(&mut self, p: &'a ValidPayment, id: Uuid, version: i32, position: i32) {
        self.keys.push(id, version, position);
        self.methods.push(p.method_id.as_str());
        self.amounts.push(p.amount);
        self.references.push(p.reference.as_deref());
        self.paid_at.push(p.paid_at.map(|t| t.with_timezone(&Utc)));
        self.offsets
            .push(p.paid_at.map(|t| t.offset().local_minus_utc()));
        self.statuses.push(p.status.as_str());
        self.providers.push(p.provider.as_deref());
        self.provider_references
            .push(p.provider_reference.as_deref());
        self.payout_references.push(p.payout_reference.as_deref());
        self.method_external_ids
            .push(p.method_external_id.as_deref());
        self.fees.push(p.fee.as_ref().map(fee_json));
    }

    fn bind<'q>(&'q self, q: Bound<'q>) -> Bound<'q> {
        self.keys
            .bind(q)
            .bind(&self.methods)
            .bind(&self.amounts)
            .bind(&self.references)
            .bind(&self.paid_at)
            .bind(&self.offsets)
            .bind(&self.statuses)
            .bind(&self.providers)
            .bind(&self.provider_references)
            .bind(&self.payout_references)
            .bind(&self.method_external_ids)
            .bind(&self.fees)
    }
}

/// `order_vat_breakdown` rows, in the order of the statement's last `unnest` ($77–$86).
#[derive(Default)]
struct GroupRows {
    keys: Keys,
    categories: Vec<&'static str>,
    percentages: Vec<Decimal>,
    countries: Vec<&'static str>,
    bases: Vec<Decimal>,
    vat: Vec<Decimal>,
    bases_company: Vec<Option<Decimal>>,
    vat_company: Vec<Option<Decimal>>,
}

impl GroupRows {
    fn push(&mut self, g: &VatGroup, company: Option<&VatGroup>, id: Uuid, version: i32, i: i32) {
        self.keys.push(id, version, i);
        self.categories.push(g.category.as_str());
        self.percentages.push(g.percentage);
        self.countries.push(g.country.as_str());
        self.bases.push(g.base);
        self.vat.push(g.vat);
        self.bases_company.push(company.map(|c| c.base));
        self.vat_company.push(company.map(|c| c.vat));
    }

    fn bind<'q>(&'q self, q: Bound<'q>) -> Bound<'q> {
        self.keys
            .bind(q)
            .bind(&self.categories)
            .bind(&self.percentages)
            .bind(&self.countries)
            .bind(&self.bases)
            .bind(&self.vat)
            .bind(&self.bases_company)
            .bind(&self.vat_company)
    }
}

/// Inserts the version rows of every changed order, and their events, in one
/// statement: each table's rows as columns of arrays, bound in the order of its `unnest`.
pub(super) async fn insert_versions(
    conn: &mut PgConnection,
    company_id: Uuid,
    changed: &[(&OrderWrite<'_>, Written)],
) -> Result<(), StoreError> {
    let mut versions = VersionRows::default();
    let mut lines = LineRows::default();
    let mut costs = CostRows::default();
    let mut payments = PaymentRows::default();
    let mut groups = GroupRows::default();
    for (w, done) in changed {
        let (id, version) = (done.id, done.version);
        let o = w.order;
        versions.push(w, id, version);
        for (i, l) in (0i32..).zip(&o.lines) {
            lines.push(l, id, version, i);
        }
        for (i, k) in (0i32..).zip(&o.costs) {
            costs.push(k, id, version, i);
        }
        for (i, p) in (0i32..).zip(&o.payments) {
            payments.push(p, id, version, i);
        }
        let converted = o.company_currency.as_ref();
        for (i, g) in (0i32..).zip(&o.vat_breakdown) {
            let in_company = converted.and_then(|c| c.vat_breakdown.get(i as usize));
            groups.push(g, in_company, id, version, i);
        }
    }
    let query = sqlx::query(
        "with v as (
            insert into order_versions (company_id, order_id, version, number, status, order_date,
                   order_date_offset, currency, prices_include_vat, customer_id, customer, credit_of,
                   total_excl_vat, total_vat, total_incl_vat, content_hash, details,
                   customer_external_id, total_excl_vat_company, total_vat_company,
                   total_incl_vat_company)
            select $1, t.order_id, t.version, t.number, t.status, t.order_date, t.order_date_offset,
                   t.currency, t.prices_include_vat, t.customer_id::uuid, t.customer::jsonb,
                   t.credit_of::uuid, t.total_excl_vat, t.total_vat, t.total_incl_vat, t.content_hash,
                   t.details::jsonb, t.customer_external_id, t.total_excl_vat_company,
                   t.total_vat_company, t.total_incl_vat_company
              from unnest($2::uuid[], $3::int[], $4::text[], $5::text[], $6::timestamptz[],
                          $7::int[], $8::text[], $9::bool[], $10::text[], $11::text[],
                          $12::text[], $13::numeric[], $14::numeric[], $15::numeric[], $16::bytea[],
                          $17::text[], $18::text[], $19::numeric[], $20::numeric[], $21::numeric[])
                   as t(order_id, version, number, status, order_date, order_date_offset, currency,
                        prices_include_vat, customer_id, customer, credit_of, total_excl_vat,
                        total_vat, total_incl_vat, content_hash, details, customer_external_id,
                        total_excl_vat_company, total_vat_company, total_incl_vat_company)
         ), l as (
            insert into order_lines (company_id, order_id, version, position, product_id, sku,
                   description, quantity, unit_price, discount, vat_rate_id, vat_percentage,
                   vat_category, vat_country, vat_amount, exemption_reason, total_excl_vat,
                   total_incl_vat, category_id, category_external_id, purchase_price, kind, unit,
                   parent_line, discount_code, discount_name, product_external_id,
                   vat_rate_external_id)
            select $1, t.order_id, t.version, t.position, t.product_id::uuid, t.sku, t.description,
                   t.quantity, t.unit_price, t.discount, t.vat_rate_id::uuid, t.vat_percentage,
                   t.vat_category, t.vat_country, t.vat_amount, t.exemption_reason, t.total_excl_vat,
                   t.total_incl_vat, t.category_id::uuid, t.category_external_id, t.purchase_price,
                   t.kind, t.unit, t.parent_line, t.discount_code, t.discount_name,
                   t.product_external_id, t.vat_rate_external_id
              from unnest($22::uuid[], $23::int[], $24::int[], $25::text[], $26::text[],
                          $27::text[], $28::numeric[], $29::numeric[], $30::numeric[], $31::text[],
                          $32::numeric[], $33::text[], $34::text[], $35::numeric[], $36::text[],
                          $37::numeric[], $38::numeric[], $39::text[], $40::text[], $41::numeric[],
                          $42::text[], $43::text[], $44::int[], $45::text[], $46::text[],
                          $47::text[], $48::text[])
                   as t(order_id, version, position, product_id, sku, description, quantity,
                        unit_price, discount, vat_rate_id, vat_percentage, vat_category, vat_country,
                        vat_amount, exemption_reason, total_excl_vat, total_incl_vat, category_id,
                        category_external_id, purchase_price, kind, unit, parent_line,
                        discount_code, discount_name, product_external_id, vat_rate_external_id)
         ), c as (
            insert into order_costs (company_id, order_id, version, position, kind, description,
                   amount_excl_vat, vat_rate_id, vat_percentage, vat_category, vat_country, vat_amount,
                   exemption_reason, amount_incl_vat, vat_rate_external_id)
            select $1, t.order_id, t.version, t.position, t.kind, t.description, t.amount_excl_vat,
                   t.vat_rate_id::uuid, t.vat_percentage, t.vat_category, t.vat_country, t.vat_amount,
                   t.exemption_reason, t.amount_incl_vat, t.vat_rate_external_id
              from unnest($49::uuid[], $50::int[], $51::int[], $52::text[], $53::text[],
                          $54::numeric[], $55::text[], $56::numeric[], $57::text[], $58::text[],
                          $59::numeric[], $60::text[], $61::numeric[], $62::text[])
                   as t(order_id, version, position, kind, description, amount_excl_vat, vat_rate_id,
                        vat_percentage, vat_category, vat_country, vat_amount, exemption_reason,
                        amount_incl_vat, vat_rate_external_id)
         ), p as (
            insert into order_payments (company_id, order_id, version, position, method_id, amount,
                   reference, paid_at, paid_at_offset, status, provider, provider_reference,
                   payout_reference, method_external_id, fee)
            select $1, t.order_id, t.version, t.position, t.method_id::uuid, t.amount, t.reference,
                   t.paid_at, t.paid_at_offset, t.status, t.provider, t.provider_reference,
                   t.payout_reference, t.method_external_id, t.fee::jsonb
              from unnest($63::uuid[], $64::int[], $65::int[], $66::text[], $67::numeric[],
                          $68::text[], $69::timestamptz[], $70::int[], $71::text[], $72::text[],
                          $73::text[], $74::text[], $75::text[], $76::text[])
                   as t(order_id, version, position, method_id, amount, reference, paid_at,
                        paid_at_offset, status, provider, provider_reference, payout_reference,
                        method_external_id, fee)
         ), b as (
            insert into order_vat_breakdown (company_id, order_id, version, position, category,
                   percentage, country, base, vat, base_company, vat_company)
            select $1, t.order_id, t.version, t.position, t.category, t.percentage, t.country, t.base,
                   t.vat, t.base_company, t.vat_company
              from unnest($77::uuid[], $78::int[], $79::int[], $80::text[], $81::numeric[],
                          $82::text[], $83::numeric[], $84::numeric[], $85::numeric[], $86::numeric[])
                   as t(order_id, version, position, category, percentage, country, base, vat,
                        base_company, vat_company)
         )
         insert into events (company_id, type, resource, resource_id, version)
         select $1, case when t.version = 1 then 'order.created' else 'order.updated' end, 'orders',
                t.order_id, t.version
           from unnest($2::uuid[], $3::int[]) with ordinality as t(order_id, version, n)
          order by t.n",
    )
    .bind(company_id);
    let query = groups.bind(payments.bind(costs.bind(lines.bind(versions.bind(query)))));
    query.execute(&mut *conn).await?;
    Ok(())
}

/// A fee as its stored JSON object, as text.
fn fee_json(fee: &ValidFee) -> String {
    fee_value(fee).to_string()
}

/// A fee as its stored JSON object (read back as a [`FeeRecord`]): the validated figures,
/// and the external id of the rate it named (which the canonical form leaves out).
pub fn fee_value(fee: &ValidFee) -> serde_json::Value {
    let vat = &fee.vat;
    serde_json::json!({
        "amount_excl_vat": fee.amount_excl_vat.to_string(),
        "vat": {
            "rate_id": vat.rate_id,
            "rate_external_id": vat.rate_external_id,
            "percentage": vat.percentage.to_string(),
            "category": vat.category.as_str(),
            "country": vat.country.as_str(),
            "amount": vat.amount.to_string(),
            "exemption_reason": vat.exemption_reason,
        },
        "amount_incl_vat": fee.amount_incl_vat.to_string(),
    })
}
