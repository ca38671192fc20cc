//! An order version's parts as the read query answers them: lines, costs, payments and VAT
//! groups as arrays of anonymous records in PostgreSQL's binary format, decoded into tuples
//! and turned into the records of `mod.rs`.

use chrono::{DateTime, Utc};
use koppel_domain::order::PaymentStatus;
use rust_decimal::Decimal;
use sqlx::types::Json;
use uuid::Uuid;

use super::read::with_offset;
use super::{CostRecord, FeeRecord, LineRecord, PaymentRecord, VatGroupRecord, VatRecord};

/// A version's lines, costs, payments and VAT groups as arrays of rows in the order sent, for
/// a row `h` of `HEADER_COLUMNS`: each a correlated lookup on the part table's primary key.
///
/// Each part is an array of anonymous records, answered in PostgreSQL's binary format and
/// decoded into the tuples below (`LineRow`, `CostRow`, `PaymentRow`, `VatGroupRow`), in the
/// order of their fields. Building the parts as JSON cost the database a fifth more CPU for
/// the query, 10% more for a whole read; decoding the records costs Koppel about what parsing
/// the JSON did (bench/README.md, "An order's parts read as binary records"). sqlx decodes
/// records of at most 9 fields into tuples, so a line is four records (what was sold, its
/// figures, its VAT, its detail) and a payment's provider fields one.
pub(super) const PARTS: &str = "
    array(select row(
            -- A line sent with only a SKU names the company's product with that SKU
            -- when one exists now (pushed before or after the order); SKUs may repeat
            -- across variants, so the lowest id (ids are UUIDv7: the oldest), for a stable
            -- answer, found as the first entry of products_sku_idx.
            row(coalesce(l.product_id, by_sku.id),
                coalesce(l.product_external_id, by_sku.external_id), l.sku, l.description),
            row(l.quantity, l.unit_price, l.discount, l.total_excl_vat, l.total_incl_vat),
            row(l.vat_rate_id, l.vat_rate_external_id, l.vat_percentage, l.vat_category,
                l.vat_country, l.vat_amount, l.exemption_reason),
            row(l.category_id, l.category_external_id, l.purchase_price, l.kind, l.unit,
                l.parent_line, l.discount_code, l.discount_name))
        from order_lines l
        left join lateral (
            select p.id, p.external_id from products p
             where l.product_id is null and p.company_id = l.company_id and p.sku = l.sku
             order by p.id limit 1) by_sku on true
       where l.company_id = h.company_id and l.order_id = h.id and l.version = h.version
       order by l.position) as lines,
    array(select row(
            c.kind, c.description, c.amount_excl_vat,
            row(c.vat_rate_id, c.vat_rate_external_id, c.vat_percentage, c.vat_category,
                c.vat_country, c.vat_amount, c.exemption_reason),
            c.amount_incl_vat)
        from order_costs c
       where c.company_id = h.company_id and c.order_id = h.id and c.version = h.version
       order by c.position) as costs,
    array(select row(
            p.method_id, p.method_external_id, p.status, p.amount, p.reference,
            row(p.provider, p.provider_reference, p.payout_reference),
            p.paid_at, p.paid_at_offset, p.fee)
        from order_payments p
       where p.company_id = h.company_id and p.order_id = h.id and p.version = h.version
       order by p.position) as payments,
    array(select row(
            g.category, g.percentage, g.country, g.base, g.vat, g.base_company, g.vat_company)
        from order_vat_breakdown g
       where g.company_id = h.company_id and g.order_id = h.id and g.version = h.version
       order by g.position) as vat_breakdown";

/// A line or cost's VAT as `PARTS` answers it: rate id and external id, percentage,
/// category, country, amount, exemption reason.
type VatRow = (
    Option<Uuid>,
    Option<String>,
    Decimal,
    String,
    String,
    Decimal,
    Option<String>,
);

/// A line as `PARTS` answers it: what was sold (product id and external id, SKU,
/// description), its figures (quantity, unit price, discount, totals excluding and including
/// VAT), its VAT and its detail.
pub(super) type LineRow = (
    (Option<Uuid>, Option<String>, Option<String>, Option<String>),
    (Decimal, Decimal, Decimal, Decimal, Decimal),
    VatRow,
    LineDetailRow,
);

/// A line's detail: category id and external id, purchase price, kind, unit, parent line,
/// discount code and name.
type LineDetailRow = (
    Option<Uuid>,
    Option<String>,
    Option<Decimal>,
    String,
    Option<String>,
    Option<i32>,
    Option<String>,
    Option<String>,
);

/// A cost as `PARTS` answers it: kind, description, amount excluding VAT, VAT, amount
/// including VAT.
pub(super) type CostRow = (String, Option<String>, Decimal, VatRow, Decimal);

/// A payment as `PARTS` answers it: method id and external id, status, amount, reference,
/// the provider's (provider, its reference, the payout's reference), paid at and its offset,
/// fee.
pub(super) type PaymentRow = (
    Uuid,
    Option<String>,
    String,
    Decimal,
    Option<String>,
    (Option<String>, Option<String>, Option<String>),
    Option<DateTime<Utc>>,
    Option<i32>,
    Option<Json<FeeRecord>>,
);

/// A VAT group as `PARTS` answers it: category, percentage, country, base, VAT, and base and
/// VAT in the company's currency.
pub(super) type VatGroupRow = (
    String,
    Decimal,
    String,
    Decimal,
    Decimal,
    Option<Decimal>,
    Option<Decimal>,
);

fn vat_record(
    (rate_id, rate_external_id, percentage, category, country, amount, exemption_reason): VatRow,
) -> VatRecord {
    VatRecord {
        rate_id,
        rate_external_id,
        percentage,
        category,
        country,
        amount,
        exemption_reason,
    }
}

pub(super) fn line_record(
    (
        (product_id, product_external_id, sku, description),
        (quantity, unit_price, discount, total_excl_vat, total_incl_vat),
        vat,
        detail,
    ): LineRow,
) -> LineRecord {
    let (
        category_id,
        category_external_id,
        purchase_price,
        kind,
        unit,
        parent_line,
        discount_code,
        discount_name,
    ) = detail;
    LineRecord {
        product_id,
        product_external_id,
        sku,
        description,
        quantity,
        unit_price,
        discount,
        vat: vat_record(vat),
        total_excl_vat,
        total_incl_vat,
        category_id,
        category_external_id,
        purchase_price,
        kind,
        unit,
        parent_line,
        discount_code,
        discount_name,
    }
}

pub(super) fn cost_record(
    (kind, description, amount_excl_vat, vat, amount_incl_vat): CostRow,
) -> CostRecord {
    CostRecord {
        kind,
        description,
        amount_excl_vat,
        vat: vat_record(vat),
        amount_incl_vat,
    }
}

pub(super) fn payment_record(
    (
        method_id,
        method_external_id,
        status,
        amount,
        reference,
        (provider, provider_reference, payout_reference),
        paid_at,
        paid_at_offset,
        fee,
    ): PaymentRow,
) -> PaymentRecord {
    PaymentRecord {
        method_id,
        method_external_id,
        // The column's check constraint admits only known statuses.
        status: PaymentStatus::parse(&status).unwrap_or_default(),
        provider,
        provider_reference,
        payout_reference,
        amount,
        reference,
        paid_at: paid_at.map(|at| with_offset(at, paid_at_offset.unwrap_or(0))),
        fee: fee.map(|f| f.0),
    }
}

pub(super) fn vat_group_record(
    (category, percentage, country, base, vat, base_company, vat_company): VatGroupRow,
) -> VatGroupRecord {
    VatGroupRecord {
        category,
        percentage,
        country,
        base,
        vat,
        base_company,
        vat_company,
    }
}
