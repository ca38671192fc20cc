//! Finding documents by any of their references (W9 iii): our id, the vendor's external id,
//! the number, a payment reference or a booking reference.
//!
//! One statement: a `union all` of one branch per (collection, kind of reference), each an
//! equality lookup on an index that leads with `company_id` (see
//! `migrations/0008_bookings.sql` for which index serves which branch), so the cost depends
//! on the number of matches, not on the size of the company.

use sqlx::{AssertSqlSafe, PgPool};
use uuid::Uuid;

use crate::StoreError;

/// Which collections to search; a caller leaves out those its client may not read.
#[derive(Debug, Clone, Copy, Default)]
pub struct SearchIn {
    /// Sales orders.
    pub orders: bool,
    /// Receipts, and business days by their booking references.
    pub receipts: bool,
    /// Customers.
    pub customers: bool,
}

/// One document that carries the reference.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SearchHit {
    /// `orders`, `receipts`, `customers` or `daily_revenue`.
    pub resource: String,
    /// The document's id.
    pub id: Uuid,
    /// `id`, `external_id`, `number`, `payment_reference` or `booking_reference`.
    pub matched_on: String,
    /// The vendor's id of the document (none for a business day).
    pub external_id: Option<String>,
    /// Its number.
    pub number: Option<String>,
    /// Its current version (a day's revision).
    pub version: i32,
    /// For a business day: its date, as text (YYYY-MM-DD).
    pub business_date: Option<String>,
    /// For a business day: its location, none for the whole company.
    pub location_id: Option<String>,
    /// For a booking reference: the package that booked it.
    pub booking_package: Option<String>,
    /// For a booking reference: the version that was booked.
    pub booking_version: Option<i32>,
}

/// The page position: the last hit's sort key (resource, id, matched_on, booking package or
/// "", booked version or 0).
pub type SearchAfter = (String, Uuid, String, String, i32);

/// The columns every branch answers, in [`SearchHit`]'s order after `matched_on`.
const NO_DAY: &str = "null::text, null::text";
const NO_BOOKING: &str = "null::text, null::int";

/// Searches the company's documents for `reference`.
pub async fn search(
    pool: &PgPool,
    company_id: Uuid,
    reference: &str,
    within: SearchIn,
    after: Option<&SearchAfter>,
    limit: i64,
) -> Result<Vec<SearchHit>, StoreError> {
    let id: Option<Uuid> = Uuid::parse_str(reference).ok();
    let mut branches: Vec<String> = Vec::new();
    // $1 is the company, $2 the reference, $3 the reference as our id (null if it is none).
    let simple = |resource: &str, table: &str, version: &str| {
        let mut out = Vec::new();
        let cols = format!("t.external_id, t.number, {version}, {NO_DAY}, {NO_BOOKING}");
        // With a reference that is no id, $3 is null and this branch finds nothing.
        out.push(format!(
            "select '{resource}', t.id, 'id', {cols} from {table} t
              where t.company_id = $1 and t.id = $3"
        ));
        out.push(format!(
            "select '{resource}', t.id, 'external_id', {cols} from {table} t
              where t.company_id = $1 and t.external_id = $2"
        ));
        out.push(format!(
            "select '{resource}', t.id, 'number', {cols} from {table} t
              where t.company_id = $1 and t.number = $2"
        ));
        out
    };
    let booked = |resource: &str, table: &str, version: &str| {
        format!(
            "select '{resource}', t.id, 'booking_reference', t.external_id, t.number, {version},
                    {NO_DAY}, b.package, b.version
               from bookings b
               join {table} t on t.company_id = b.company_id and t.id = b.resource_id
              where b.company_id = $1 and b.reference = $2 and b.resource = '{resource}'"
        )
    };
    if within.orders {
        branches.extend(simple("orders", "orders", "t.version"));
        branches.push(format!(
            "select 'orders', t.id, 'payment_reference', t.external_id, t.number, t.version,
                    {NO_DAY}, {NO_BOOKING}
               from orders t
              where t.company_id = $1
                and t.id in (select p.order_id from order_payments p
                              where p.company_id = $1 and p.reference = $2
                             union
                             select p.order_id from order_payments p
                              where p.company_id = $1 and p.provider_reference = $2)"
        ));
        branches.push(booked("orders", "orders", "t.version"));
    }
    if within.receipts {
        branches.extend(simple("receipts", "receipts", "t.version"));
        branches.push(format!(
            "select 'receipts', t.id, 'payment_reference', t.external_id, t.number, t.version,
                    {NO_DAY}, {NO_BOOKING}
               from receipts t
              where t.company_id = $1
                and t.id in (select p.receipt_id from receipt_payments p
                              where p.company_id = $1 and p.reference = $2)"
        ));
        branches.push(booked("receipts", "receipts", "t.version"));
        branches.push(
            "select 'daily_revenue', d.id, 'booking_reference', null::text, null::text,
                    d.revision, d.business_date::text, nullif(d.location_key, ''),
                    b.package, b.version
               from bookings b
               join daily_revenue d on d.company_id = b.company_id and d.id = b.resource_id
              where b.company_id = $1 and b.reference = $2 and b.resource = 'daily_revenue'"
                .to_owned(),
        );
    }
    if within.customers {
        branches.extend(simple("customers", "customers", "t.version"));
    }
    if branches.is_empty() {
        return Ok(Vec::new());
    }
    // $1..$3 are named by the branches; the page position and limit come after them. The
    // sort key is unique: a document matched on several bookings with one reference is
    // listed once per booking.
    let (position, limit_param) = match after {
        Some(_) => (
            " where (resource, id, matched_on, coalesce(booking_package, ''),
                     coalesce(booking_version, 0)) > ($4, $5, $6, $7, $8)",
            "$9",
        ),
        None => ("", "$4"),
    };
    let sql = format!(
        "select resource, id, matched_on, external_id, number, version, business_date,
                location_id, booking_package, booking_version
           from ({}) as h(resource, id, matched_on, external_id, number, version, business_date,
                          location_id, booking_package, booking_version)
          {position}
          order by resource, id, matched_on, coalesce(booking_package, ''),
                   coalesce(booking_version, 0)
          limit {limit_param}",
        branches.join("\n union all\n")
    );
    let mut query = sqlx::query_as::<_, SearchHit>(AssertSqlSafe(sql))
        .bind(company_id)
        .bind(reference)
        .bind(id);
    if let Some((resource, id, matched_on, package, version)) = after {
        query = query
            .bind(resource)
            .bind(id)
            .bind(matched_on)
            .bind(package)
            .bind(version);
    }
    Ok(query.bind(limit).fetch_all(pool).await?)
}
