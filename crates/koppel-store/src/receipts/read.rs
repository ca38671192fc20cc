//! Reading receipts back, with their lines, payments and bookings.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, NaiveDate, Offset as _, Utc};
use rust_decimal::Decimal;
use sqlx::{AssertSqlSafe, Postgres, QueryBuilder};
use uuid::Uuid;

use super::{
    LinkedLocation, LinkedRegister, ReceiptFilter, ReceiptLineRecord, ReceiptOrder,
    ReceiptPaymentRecord, ReceiptRecord, Receipts,
};
use crate::StoreError;
use crate::bookings::{self, BookedResource, BookingRecord};

#[derive(Debug, Clone, sqlx::FromRow)]
struct ReceiptRow {
    location: Option<sqlx::types::Json<LinkedLocation>>,
    register: Option<sqlx::types::Json<LinkedRegister>>,
    id: Uuid,
    external_id: String,
    number: Option<String>,
    location_id: Option<String>,
    register_id: Option<String>,
    created_at: DateTime<Utc>,
    utc_offset_seconds: i32,
    business_date: NaiveDate,
    currency: String,
    prices_include_vat: bool,
    cash_rounding: Decimal,
    total_excl_vat: Decimal,
    total_vat: Decimal,
    total_incl_vat: Decimal,
    revenue_excl_vat: Decimal,
    revenue_vat: Decimal,
    tips: Decimal,
    gift_cards_multi_purpose: Decimal,
    deposits: Decimal,
    late: bool,
    version: i32,
    received_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    refund_of: Option<Uuid>,
    refund_of_external_id: Option<String>,
    refund_reason: Option<String>,
    refunds: Vec<Uuid>,
    customer_id: Option<Uuid>,
    customer_external_id: Option<String>,
    customer: Option<serde_json::Value>,
    exchange_rate: Option<Decimal>,
    exchange_rate_date: Option<NaiveDate>,
    total_excl_vat_company: Option<Decimal>,
    total_vat_company: Option<Decimal>,
    total_incl_vat_company: Option<Decimal>,
}

const RECEIPT_COLUMNS: &str = "r.id, r.external_id, r.number, r.location_id, r.register_id, \
     r.created_at, r.utc_offset_seconds, r.business_date, r.currency, r.prices_include_vat, \
     r.cash_rounding, r.total_excl_vat, r.total_vat, r.total_incl_vat, r.revenue_excl_vat, \
     r.revenue_vat, r.tips, r.gift_cards_multi_purpose, r.deposits, r.late, r.version, \
     r.received_at, r.updated_at, r.refund_of, r.refund_of_external_id, r.refund_reason, \
     r.customer_id, r.customer_external_id, r.customer, r.exchange_rate, r.exchange_rate_date, \
     r.total_excl_vat_company, r.total_vat_company, r.total_incl_vat_company, \
     (select json_build_object('id', l.id, 'name', l.name, 'cost_centre', l.cost_centre) \
        from locations l \
       where l.company_id = r.company_id and l.external_id = btrim(r.location_id)) as location, \
     (select json_build_object('id', g.id, 'name', g.name) \
        from locations l \
        join registers g on g.company_id = l.company_id and g.location_id = l.id \
       where l.company_id = r.company_id and l.external_id = btrim(r.location_id) \
         and g.external_id = btrim(r.register_id)) as register, \
     array(select x.id from receipts x \
            where x.company_id = r.company_id and x.refund_of = r.id order by x.id) as refunds";

/// The location a receipt's `location_id` names, when the vendor pushed it.
fn with_offset(at: DateTime<Utc>, offset_seconds: i32) -> DateTime<FixedOffset> {
    let offset = FixedOffset::east_opt(offset_seconds).unwrap_or(Utc.fix());
    at.with_timezone(&offset)
}

impl ReceiptRow {
    fn into_record(
        self,
        lines: Vec<ReceiptLineRecord>,
        payments: Vec<ReceiptPaymentRecord>,
        bookings: Vec<BookingRecord>,
    ) -> ReceiptRecord {
        ReceiptRecord {
            id: self.id,
            external_id: self.external_id,
            number: self.number,
            location_id: self.location_id,
            register_id: self.register_id,
            created_at: with_offset(self.created_at, self.utc_offset_seconds),
            business_date: self.business_date,
            currency: self.currency,
            prices_include_vat: self.prices_include_vat,
            cash_rounding: self.cash_rounding,
            total_excl_vat: self.total_excl_vat,
            total_vat: self.total_vat,
            total_incl_vat: self.total_incl_vat,
            revenue_excl_vat: self.revenue_excl_vat,
            revenue_vat: self.revenue_vat,
            tips: self.tips,
            gift_cards_multi_purpose: self.gift_cards_multi_purpose,
            deposits: self.deposits,
            exchange_rate: self.exchange_rate.map(|r| r.normalize()),
            exchange_rate_date: self.exchange_rate_date,
            totals_company: match (
                self.total_excl_vat_company,
                self.total_vat_company,
                self.total_incl_vat_company,
            ) {
                (Some(excl), Some(vat), Some(incl)) => Some((excl, vat, incl)),
                _ => None,
            },
            late: self.late,
            version: self.version,
            received_at: self.received_at,
            updated_at: self.updated_at,
            refund_of: self.refund_of,
            refund_of_external_id: self.refund_of_external_id,
            refund_reason: self.refund_reason,
            refunds: self.refunds,
            location: self.location.map(|l| l.0),
            register: self.register.map(|r| r.0),
            customer_id: self.customer_id,
            customer_external_id: self.customer_external_id,
            customer: self.customer,
            lines,
            payments,
            bookings,
        }
    }
}

impl Receipts<'_> {
    /// One receipt by id, with its lines and payments.
    pub async fn find(
        &self,
        company_id: Uuid,
        id: Uuid,
    ) -> Result<Option<ReceiptRecord>, StoreError> {
        let row = sqlx::query_as::<_, ReceiptRow>(AssertSqlSafe(format!(
            "select {RECEIPT_COLUMNS} from receipts r where r.company_id = $1 and r.id = $2"
        )))
        .bind(company_id)
        .bind(id)
        .fetch_optional(self.pool)
        .await?;
        match row {
            None => Ok(None),
            Some(row) => Ok(self.complete(company_id, vec![row]).await?.pop()),
        }
    }

    /// The id and content hash of the receipt stored under `external_id`, if any: what a
    /// check without storing compares a receipt with.
    pub async fn stored_hash(
        &self,
        company_id: Uuid,
        external_id: &str,
    ) -> Result<Option<(Uuid, Vec<u8>)>, StoreError> {
        Ok(sqlx::query_as::<_, (Uuid, Vec<u8>)>(
            "select id, content_hash from receipts where company_id = $1 and external_id = $2",
        )
        .bind(company_id)
        .bind(external_id)
        .fetch_optional(self.pool)
        .await?)
    }

    /// Receipts by filter, in the filter's order.
    pub async fn list(
        &self,
        company_id: Uuid,
        filter: &ReceiptFilter,
    ) -> Result<Vec<ReceiptRecord>, StoreError> {
        let mut q = QueryBuilder::<Postgres>::new(format!(
            "select {RECEIPT_COLUMNS} from receipts r where r.company_id = "
        ));
        q.push_bind(company_id);
        if let Some(number) = &filter.number {
            q.push(" and r.number = ").push_bind(number);
        }
        if let Some(from) = filter.from {
            q.push(" and r.created_at >= ").push_bind(from);
        }
        if let Some(to) = filter.to {
            q.push(" and r.created_at < ").push_bind(to);
        }
        if let Some(date) = filter.business_date {
            q.push(" and r.business_date = ").push_bind(date);
        }
        if let Some(location) = &filter.location_id {
            q.push(" and r.location_id = ").push_bind(location);
        }
        if let Some(since) = filter.updated_since {
            q.push(" and r.updated_at >= ").push_bind(since);
        }
        if let Some(reference) = &filter.reference {
            // Two index lookups (external id, payment reference) joined by a union, so neither
            // turns into a scan of the company's receipts.
            q.push(" and r.id in (select x.id from receipts x where x.company_id = ")
                .push_bind(company_id)
                .push(" and x.external_id = ")
                .push_bind(reference)
                .push(" union select p.receipt_id from receipt_payments p where p.company_id = ")
                .push_bind(company_id)
                .push(" and p.reference = ")
                .push_bind(reference)
                .push(")");
        }
        filter.bookings.push(
            &mut q,
            company_id,
            BookedResource::Receipts,
            "r.id",
            "r.version",
        );
        let column = match filter.order {
            ReceiptOrder::Updated => "r.updated_at",
            ReceiptOrder::Created => "r.created_at",
        };
        if let Some((at, id)) = filter.after {
            q.push(format!(" and ({column}, r.id) > ("))
                .push_bind(at)
                .push(", ")
                .push_bind(id)
                .push(")");
        }
        q.push(format!(" order by {column}, r.id limit "))
            .push_bind(filter.limit);
        let rows = q
            .build_query_as::<ReceiptRow>()
            .fetch_all(self.pool)
            .await?;
        self.complete(company_id, rows).await
    }

    /// Adds the lines and payments to receipt rows: two queries for any number of receipts.
    async fn complete(
        &self,
        company_id: Uuid,
        rows: Vec<ReceiptRow>,
    ) -> Result<Vec<ReceiptRecord>, StoreError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let lines = sqlx::query_as::<_, ReceiptLineRecord>(
            "select receipt_id, kind, product_code,
                    -- The product code is the till's article code: linked to the company's
                    -- product with that SKU when one exists now (as order lines are).
                    (select p.id from products p
                      where p.company_id = l.company_id and p.sku = l.product_code
                      order by p.id limit 1) as product_id,
                    description, category_id,
                    (select k.external_id from categories k
                      where k.company_id = l.company_id and k.id = l.category_id)
                        as category_external_id,
                    quantity, unit_price,
                    discount, vat_rate_id, vat_rate_external_id, vat_percentage, vat_category,
                    vat_country, vat_amount, exemption_reason, total_excl_vat, total_incl_vat,
                    total_excl_vat_company, vat_amount_company, purchase_price, margin_base,
                    margin_base_company
               from receipt_lines l where company_id = $1 and receipt_id = any($2)
              order by receipt_id, position",
        )
        .bind(company_id)
        .bind(&ids)
        .fetch_all(self.pool)
        .await?;
        let payments = sqlx::query_as::<_, ReceiptPaymentRecord>(
            "select p.receipt_id, p.method_id, m.external_id as method_external_id, p.amount,
                    p.change, p.reference
               from receipt_payments p
               join payment_methods m on m.company_id = p.company_id and m.id = p.method_id
              where p.company_id = $1 and p.receipt_id = any($2)
              order by p.receipt_id, p.position",
        )
        .bind(company_id)
        .bind(&ids)
        .fetch_all(self.pool)
        .await?;
        let mut lines_of: HashMap<Uuid, Vec<ReceiptLineRecord>> = HashMap::new();
        for line in lines {
            lines_of.entry(line.receipt_id).or_default().push(line);
        }
        let mut bookings_of =
            bookings::load(self.pool, company_id, BookedResource::Receipts, &ids).await?;
        let mut payments_of: HashMap<Uuid, Vec<ReceiptPaymentRecord>> = HashMap::new();
        for payment in payments {
            payments_of
                .entry(payment.receipt_id)
                .or_default()
                .push(payment);
        }
        Ok(rows
            .into_iter()
            .map(|row| {
                let lines = lines_of.remove(&row.id).unwrap_or_default();
                let payments = payments_of.remove(&row.id).unwrap_or_default();
                let bookings = bookings_of.remove(&row.id).unwrap_or_default();
                row.into_record(lines, payments, bookings)
            })
            .collect())
    }
}
