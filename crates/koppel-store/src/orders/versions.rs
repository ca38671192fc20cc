//! The new versions of a round's changed orders, with every part and their events, in one
//! statement.

use chrono::Utc;
use koppel_domain::order::ValidFee;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{OrderWrite, Written};
use crate::StoreError;

/// The columns of a line's or cost's VAT, as arrays.
#[derive(Default)]
struct VatColumns {
    rate_ids: Vec<Option<String>>,
    percentages: Vec<Decimal>,
    categories: Vec<&'static str>,
    countries: Vec<&'static str>,
    amounts: Vec<Decimal>,
    reasons: Vec<Option<String>>,
}

impl VatColumns {
    fn push(&mut self, v: &koppel_domain::document::ValidVat) {
        self.rate_ids.push(v.rate_id.clone());
        self.percentages.push(v.percentage);
        self.categories.push(v.category.as_str());
        self.countries.push(v.country.as_str());
        self.amounts.push(v.amount);
        self.reasons.push(v.exemption_reason.clone());
    }
}

/// Inserts the version rows of every changed order, and their events, in one
/// statement.
pub(super) async fn insert_versions(
    conn: &mut PgConnection,
    company_id: Uuid,
    changed: &[(&OrderWrite<'_>, Written)],
) -> Result<(), StoreError> {
    // Versions.
    let mut v_ids = Vec::new();
    let mut v_versions = Vec::new();
    let mut v_numbers = Vec::new();
    let mut v_statuses = Vec::new();
    let mut v_dates = Vec::new();
    let mut v_offsets = Vec::new();
    let mut v_currencies = Vec::new();
    let mut v_incl_basis = Vec::new();
    let mut v_customer_ids = Vec::new();
    let mut v_customers = Vec::new();
    let mut v_credits = Vec::new();
    let mut v_excl = Vec::new();
    let mut v_vat = Vec::new();
    let mut v_incl = Vec::new();
    let mut v_hashes = Vec::new();
    let mut v_details = Vec::new();
    let mut v_customer_external_ids = Vec::new();
    // Lines.
    let mut l_ids = Vec::new();
    let mut l_versions = Vec::new();
    let mut l_positions = Vec::new();
    let mut l_products = Vec::new();
    let mut l_skus = Vec::new();
    let mut l_descriptions = Vec::new();
    let mut l_quantities = Vec::new();
    let mut l_prices = Vec::new();
    let mut l_discounts = Vec::new();
    let mut l_vat = VatColumns::default();
    let mut l_excl = Vec::new();
    let mut l_incl = Vec::new();
    let mut l_categories = Vec::new();
    let mut l_category_external_ids = Vec::new();
    let mut l_purchase_prices = Vec::new();
    let mut l_kinds = Vec::new();
    let mut l_units = Vec::new();
    let mut l_parents: Vec<Option<i32>> = Vec::new();
    let mut l_discount_codes = Vec::new();
    let mut l_discount_names = Vec::new();
    let mut l_product_external_ids = Vec::new();
    let mut l_rate_external_ids = Vec::new();
    let mut c_rate_external_ids = Vec::new();
    // Costs.
    let mut c_ids = Vec::new();
    let mut c_versions = Vec::new();
    let mut c_positions = Vec::new();
    let mut c_kinds = Vec::new();
    let mut c_descriptions = Vec::new();
    let mut c_excl = Vec::new();
    let mut c_vat = VatColumns::default();
    let mut c_incl = Vec::new();
    // Payments.
    let mut p_ids = Vec::new();
    let mut p_versions = Vec::new();
    let mut p_positions = Vec::new();
    let mut p_methods = Vec::new();
    let mut p_amounts = Vec::new();
    let mut p_references = Vec::new();
    let mut p_paid_at = Vec::new();
    let mut p_offsets = Vec::new();
    let mut p_statuses = Vec::new();
    let mut p_providers = Vec::new();
    let mut p_provider_references = Vec::new();
    let mut p_payout_references = Vec::new();
    let mut p_method_external_ids = Vec::new();
    let mut p_fees = Vec::new();
    // VAT breakdown.
    let mut b_ids = Vec::new();
    let mut b_versions = Vec::new();
    let mut b_positions = Vec::new();
    let mut b_categories = Vec::new();
    let mut b_percentages = Vec::new();
    let mut b_countries = Vec::new();
    let mut b_bases = Vec::new();
    let mut b_vat = Vec::new();
    let mut b_bases_company: Vec<Option<Decimal>> = Vec::new();
    let mut b_vat_company: Vec<Option<Decimal>> = Vec::new();
    let mut v_totals_company: [Vec<Option<Decimal>>; 3] = Default::default();

    for (w, done) in changed {
        let o = w.order;
        let (id, version) = (done.id, done.version);
        v_ids.push(id);
        v_versions.push(version);
        v_numbers.push(o.number.as_deref());
        v_statuses.push(o.status.as_str());
        v_dates.push(o.order_date.with_timezone(&Utc));
        v_offsets.push(o.order_date.offset().local_minus_utc());
        v_currencies.push(o.currency.as_str());
        v_incl_basis.push(o.prices_include_vat);
        v_customer_ids.push(o.customer.as_ref().and_then(|c| c.id.as_deref()));
        v_customer_external_ids.push(o.customer.as_ref().and_then(|c| c.external_id.as_deref()));
        v_customers.push(
            o.customer
                .as_ref()
                .map(|c| serde_json::to_string(c).unwrap_or_default()),
        );
        v_credits.push(o.credit_of.as_deref());
        v_excl.push(o.totals.total_excl_vat);
        v_vat.push(o.totals.total_vat);
        v_incl.push(o.totals.total_incl_vat);
        v_hashes.push(w.content_hash);
        v_details.push(
            (!o.details.is_empty()).then(|| serde_json::to_string(&o.details).unwrap_or_default()),
        );
        for (i, l) in (0i32..).zip(&o.lines) {
            l_ids.push(id);
            l_versions.push(version);
            l_positions.push(i);
            l_products.push(l.product_id.as_deref());
            l_skus.push(l.sku.as_deref());
            l_descriptions.push(l.description.as_deref());
            l_quantities.push(l.quantity);
            l_prices.push(l.unit_price);
            l_discounts.push(l.discount);
            l_vat.push(&l.vat);
            l_excl.push(l.total_excl_vat);
            l_incl.push(l.total_incl_vat);
            l_categories.push(l.category_id.as_deref());
            l_category_external_ids.push(l.category_external_id.as_deref());
            l_purchase_prices.push(l.purchase_price);
            l_kinds.push(l.kind.as_str());
            l_units.push(l.unit.as_deref());
            // Bounded by the lines of one order (at most MAX_LINES), so it fits.
            l_parents.push(l.parent_line.and_then(|p| i32::try_from(p).ok()));
            l_discount_codes.push(l.discount_code.as_deref());
            l_discount_names.push(l.discount_name.as_deref());
            l_product_external_ids.push(l.product_external_id.as_deref());
            l_rate_external_ids.push(l.vat.rate_external_id.as_deref());
        }
        for (i, k) in (0i32..).zip(&o.costs) {
            c_ids.push(id);
            c_versions.push(version);
            c_positions.push(i);
            c_kinds.push(k.kind.as_str());
            c_descriptions.push(k.description.as_deref());
            c_excl.push(k.amount_excl_vat);
            c_vat.push(&k.vat);
            c_incl.push(k.amount_incl_vat);
            c_rate_external_ids.push(k.vat.rate_external_id.as_deref());
        }
        for (i, p) in (0i32..).zip(&o.payments) {
            p_ids.push(id);
            p_versions.push(version);
            p_positions.push(i);
            p_methods.push(p.method_id.as_str());
            p_amounts.push(p.amount);
            p_references.push(p.reference.as_deref());
            p_paid_at.push(p.paid_at.map(|t| t.with_timezone(&Utc)));
            p_offsets.push(p.paid_at.map(|t| t.offset().local_minus_utc()));
            p_statuses.push(p.status.as_str());
            p_providers.push(p.provider.as_deref());
            p_provider_references.push(p.provider_reference.as_deref());
            p_payout_references.push(p.payout_reference.as_deref());
            p_method_external_ids.push(p.method_external_id.as_deref());
            p_fees.push(p.fee.as_ref().map(fee_json));
        }
        let converted = o.company_currency.as_ref();
        v_totals_company[0].push(converted.map(|c| c.totals.total_excl_vat));
        v_totals_company[1].push(converted.map(|c| c.totals.total_vat));
        v_totals_company[2].push(converted.map(|c| c.totals.total_incl_vat));
        for (i, g) in (0i32..).zip(&o.vat_breakdown) {
            let in_company = converted.and_then(|c| c.vat_breakdown.get(i as usize));
            b_bases_company.push(in_company.map(|c| c.base));
            b_vat_company.push(in_company.map(|c| c.vat));
            b_ids.push(id);
            b_versions.push(version);
            b_positions.push(i);
            b_categories.push(g.category.as_str());
            b_percentages.push(g.percentage);
            b_countries.push(g.country.as_str());
            b_bases.push(g.base);
            b_vat.push(g.vat);
        }
    }

    sqlx::query(
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
              from unnest($2::uuid[], $3::int[], $4::text[], $5::text[], $6::timestamptz[], $7::int[],
                          $8::text[], $9::bool[], $10::text[], $11::text[], $12::text[], $13::numeric[],
                          $14::numeric[], $15::numeric[], $16::bytea[], $68::text[],
                          $69::text[], $74::numeric[], $75::numeric[], $76::numeric[])
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
              from unnest($17::uuid[], $18::int[], $19::int[], $20::text[], $21::text[], $22::text[],
                          $23::numeric[], $24::numeric[], $25::numeric[], $26::text[], $27::numeric[],
                          $28::text[], $29::text[], $30::numeric[], $31::text[], $32::numeric[],
                          $33::numeric[], $34::text[], $70::text[], $72::numeric[], $79::text[],
                          $80::text[], $81::int[], $82::text[], $83::text[], $84::text[],
                          $85::text[])
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
              from unnest($35::uuid[], $36::int[], $37::int[], $38::text[], $39::text[], $40::numeric[],
                          $41::text[], $42::numeric[], $43::text[], $44::text[], $45::numeric[],
                          $46::text[], $47::numeric[], $86::text[])
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
              from unnest($48::uuid[], $49::int[], $50::int[], $51::text[], $52::numeric[], $53::text[],
                          $54::timestamptz[], $55::int[], $64::text[], $65::text[], $66::text[],
                          $67::text[], $71::text[], $73::text[])
                   as t(order_id, version, position, method_id, amount, reference, paid_at,
                        paid_at_offset, status, provider, provider_reference, payout_reference,
                        method_external_id, fee)
         ), b as (
            insert into order_vat_breakdown (company_id, order_id, version, position, category,
                   percentage, country, base, vat, base_company, vat_company)
            select $1, t.order_id, t.version, t.position, t.category, t.percentage, t.country, t.base,
                   t.vat, t.base_company, t.vat_company
              from unnest($56::uuid[], $57::int[], $58::int[], $59::text[], $60::numeric[], $61::text[],
                          $62::numeric[], $63::numeric[], $77::numeric[], $78::numeric[])
                   as t(order_id, version, position, category, percentage, country, base, vat,
                        base_company, vat_company)
         )
         insert into events (company_id, type, resource, resource_id, version)
         select $1, case when t.version = 1 then 'order.created' else 'order.updated' end, 'orders',
                t.order_id, t.version
           from unnest($2::uuid[], $3::int[]) with ordinality as t(order_id, version, n)
          order by t.n",
    )
    .bind(company_id)
    .bind(&v_ids)
    .bind(&v_versions)
    .bind(&v_numbers)
    .bind(&v_statuses)
    .bind(&v_dates)
    .bind(&v_offsets)
    .bind(&v_currencies)
    .bind(&v_incl_basis)
    .bind(&v_customer_ids)
    .bind(&v_customers)
    .bind(&v_credits)
    .bind(&v_excl)
    .bind(&v_vat)
    .bind(&v_incl)
    .bind(&v_hashes)
    .bind(&l_ids)
    .bind(&l_versions)
    .bind(&l_positions)
    .bind(&l_products)
    .bind(&l_skus)
    .bind(&l_descriptions)
    .bind(&l_quantities)
    .bind(&l_prices)
    .bind(&l_discounts)
    .bind(&l_vat.rate_ids)
    .bind(&l_vat.percentages)
    .bind(&l_vat.categories)
    .bind(&l_vat.countries)
    .bind(&l_vat.amounts)
    .bind(&l_vat.reasons)
    .bind(&l_excl)
    .bind(&l_incl)
    .bind(&l_categories)
    .bind(&c_ids)
    .bind(&c_versions)
    .bind(&c_positions)
    .bind(&c_kinds)
    .bind(&c_descriptions)
    .bind(&c_excl)
    .bind(&c_vat.rate_ids)
    .bind(&c_vat.percentages)
    .bind(&c_vat.categories)
    .bind(&c_vat.countries)
    .bind(&c_vat.amounts)
    .bind(&c_vat.reasons)
    .bind(&c_incl)
    .bind(&p_ids)
    .bind(&p_versions)
    .bind(&p_positions)
    .bind(&p_methods)
    .bind(&p_amounts)
    .bind(&p_references)
    .bind(&p_paid_at)
    .bind(&p_offsets)
    .bind(&b_ids)
    .bind(&b_versions)
    .bind(&b_positions)
    .bind(&b_categories)
    .bind(&b_percentages)
    .bind(&b_countries)
    .bind(&b_bases)
    .bind(&b_vat)
    .bind(&p_statuses)
    .bind(&p_providers)
    .bind(&p_provider_references)
    .bind(&p_payout_references)
    .bind(&v_details)
    .bind(&v_customer_external_ids)
    .bind(&l_category_external_ids)
    .bind(&p_method_external_ids)
    .bind(&l_purchase_prices)
    .bind(&p_fees)
    .bind(&v_totals_company[0])
    .bind(&v_totals_company[1])
    .bind(&v_totals_company[2])
    .bind(&b_bases_company)
    .bind(&b_vat_company)
    .bind(&l_kinds)
    .bind(&l_units)
    .bind(&l_parents)
    .bind(&l_discount_codes)
    .bind(&l_discount_names)
    .bind(&l_product_external_ids)
    .bind(&l_rate_external_ids)
    .bind(&c_rate_external_ids)
    .execute(&mut *conn)
    .await?;
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
