//! Bookings: what a connector booked in its accounting package (see
//! `migrations/0008_bookings.sql`), the bookings of a page of documents in one query, and the
//! `not_booked_by` / `changed_since_booked` list filters.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use sqlx::{AssertSqlSafe, PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::StoreError;
use crate::events;

/// The collections a booking can name, as in their paths and in the event feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BookedResource {
    /// A sales order version.
    Orders,
    /// A receipt (always version 1).
    Receipts,
    /// A business day's revision, of the whole company or one location.
    DailyRevenue,
}

impl BookedResource {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            BookedResource::Orders => "orders",
            BookedResource::Receipts => "receipts",
            BookedResource::DailyRevenue => "daily_revenue",
        }
    }
}

/// One booking, as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Deserialize)]
pub struct BookingRecord {
    /// The booking's id.
    pub id: Uuid,
    /// The booked document's id.
    pub resource_id: Uuid,
    /// The version (or day revision) that was booked.
    pub version: i32,
    /// The accounting package, e.g. `exact-online`.
    pub package: String,
    /// The connector's own reference, e.g. a journal entry number.
    pub reference: String,
    /// The client that recorded it.
    pub client_id: Uuid,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}

/// A booking to record.
#[derive(Debug, Clone)]
pub struct NewBooking<'a> {
    /// The booked collection.
    pub resource: BookedResource,
    /// The booked document's id.
    pub resource_id: Uuid,
    /// The booked version or revision; the caller has checked that it exists.
    pub version: i32,
    /// The accounting package.
    pub package: &'a str,
    /// The connector's reference.
    pub reference: &'a str,
    /// The client recording it.
    pub client_id: Uuid,
}

/// The `not_booked_by` and `changed_since_booked` filters of a list, by package.
#[derive(Debug, Clone, Default)]
pub struct BookingFilter {
    /// Only documents this package never booked.
    pub not_booked_by: Option<String>,
    /// Only documents this package booked in an earlier version than the current one.
    pub changed_since_booked: Option<String>,
}

impl BookingFilter {
    /// Adds the filters as conditions on the document whose id and current version are the
    /// SQL expressions `id` and `version`. Each is an index probe of
    /// `bookings_booking_key` per candidate document (company, resource, id, package), whose
    /// last entry is the latest version booked.
    pub(crate) fn push(
        &self,
        q: &mut QueryBuilder<Postgres>,
        company_id: Uuid,
        resource: BookedResource,
        id: &str,
        version: &str,
    ) {
        if let Some(package) = &self.not_booked_by {
            q.push(" and not exists (select 1 from bookings b where b.company_id = ")
                .push_bind(company_id)
                .push(" and b.resource = ")
                .push_bind(resource.as_str())
                .push(format!(" and b.resource_id = {id} and b.package = "))
                .push_bind(package.clone())
                .push(")");
        }
        if let Some(package) = &self.changed_since_booked {
            q.push(format!(
                " and {version} > (select max(b.version) from bookings b where b.company_id = "
            ))
            .push_bind(company_id)
            .push(" and b.resource = ")
            .push_bind(resource.as_str())
            .push(format!(" and b.resource_id = {id} and b.package = "))
            .push_bind(package.clone())
            .push(")");
        }
    }
}

/// The bookings of the given documents, oldest first per document: one query for a whole page.
pub(crate) async fn load<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    company_id: Uuid,
    resource: BookedResource,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<BookingRecord>>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = sqlx::query_as::<_, BookingRecord>(
        "select id, resource_id, version, package, reference, client_id, created_at
           from bookings
          where company_id = $1 and resource = $2 and resource_id = any($3)
          order by resource_id, created_at, id",
    )
    .bind(company_id)
    .bind(resource.as_str())
    .bind(ids)
    .fetch_all(executor)
    .await?;
    let mut of: HashMap<Uuid, Vec<BookingRecord>> = HashMap::new();
    for row in rows {
        of.entry(row.resource_id).or_default().push(row);
    }
    Ok(of)
}

/// The SQL of a JSON array of one document's bookings, as column `bookings`, for a resource
/// and the expressions of the document's company and id; amounts are not involved, so JSON
/// loses nothing.
macro_rules! bookings_json {
    ($resource:literal, $company:literal, $id:literal) => {
        concat!(
            "coalesce((select json_agg(json_build_object(
                'id', b.id, 'resource_id', b.resource_id, 'version', b.version, 'package', b.package,
                'reference', b.reference, 'client_id', b.client_id, 'created_at', b.created_at)
                order by b.created_at, b.id)
              from bookings b
             where b.company_id = ",
            $company,
            " and b.resource = '",
            $resource,
            "' and b.resource_id = ",
            $id,
            "), '[]') as bookings"
        )
    };
}

/// A day's bookings, for `from daily_revenue d`.
pub(crate) const DAY_BOOKINGS_JSON: &str = bookings_json!("daily_revenue", "d.company_id", "d.id");

/// An order's bookings, for a row `h` of an order's head (see `orders/read.rs`).
pub(crate) const ORDER_BOOKINGS_JSON: &str = bookings_json!("orders", "h.company_id", "h.id");

/// The document a booking is posted for.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// An order, by id.
    Order(Uuid),
    /// A receipt, by id.
    Receipt(Uuid),
    /// A business day by its id from the event feed.
    DayId(Uuid),
    /// A business day by date, of the whole company (`COMPANY_WIDE`) or one location.
    Day {
        /// `COMPANY_WIDE` or a location id.
        location_key: &'a str,
        /// The business date.
        date: NaiveDate,
    },
}

/// A bookable document as it stands now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bookable {
    /// The collection.
    pub resource: BookedResource,
    /// The document's id (a day's id from the event feed).
    pub id: Uuid,
    /// Its current version (a day's revision).
    pub current_version: i32,
    /// A business day that is still open: its figures can change without a new revision, so
    /// it cannot be booked yet.
    pub open: bool,
}

#[derive(sqlx::FromRow)]
struct BookableRow {
    id: Uuid,
    current_version: i32,
    open: bool,
}

/// What recording a booking did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// A new booking, with its `booking.created` event.
    Created(BookingRecord),
    /// The same booking (document, version, package and reference) was recorded before;
    /// nothing was written.
    Existing(BookingRecord),
}

/// Records and reads bookings.
#[derive(Debug)]
pub struct Bookings<'a> {
    pool: &'a PgPool,
}

impl<'a> Bookings<'a> {
    pub(crate) fn new(pool: &'a PgPool) -> Self {
        Self { pool }
    }

    /// Records a booking with its `booking.created` event in one transaction, or finds the
    /// same booking recorded before. Concurrent posts of one booking meet at the unique key:
    /// the second waits for the first and then finds its row.
    pub async fn record(
        &self,
        company_id: Uuid,
        booking: &NewBooking<'_>,
    ) -> Result<Recorded, StoreError> {
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query_as::<_, BookingRecord>(
            "insert into bookings (company_id, id, resource, resource_id, version, package,
                                   reference, client_id)
             values ($1, $2, $3, $4, $5, $6, $7, $8)
             on conflict on constraint bookings_booking_key do nothing
             returning id, resource_id, version, package, reference, client_id, created_at",
        )
        .bind(company_id)
        .bind(Uuid::now_v7())
        .bind(booking.resource.as_str())
        .bind(booking.resource_id)
        .bind(booking.version)
        .bind(booking.package)
        .bind(booking.reference)
        .bind(booking.client_id)
        .fetch_optional(&mut *tx)
        .await?;
        let recorded = match inserted {
            Some(record) => {
                events::append(
                    &mut tx,
                    company_id,
                    "booking.created",
                    booking.resource.as_str(),
                    booking.resource_id,
                    booking.version,
                )
                .await?;
                Recorded::Created(record)
            }
            None => Recorded::Existing(
                sqlx::query_as::<_, BookingRecord>(
                    "select id, resource_id, version, package, reference, client_id, created_at
                       from bookings
                      where company_id = $1 and resource = $2 and resource_id = $3
                        and package = $4 and version = $5 and reference = $6",
                )
                .bind(company_id)
                .bind(booking.resource.as_str())
                .bind(booking.resource_id)
                .bind(booking.package)
                .bind(booking.version)
                .bind(booking.reference)
                .fetch_one(&mut *tx)
                .await?,
            ),
        };
        tx.commit().await?;
        Ok(recorded)
    }

    /// The document a booking names, with its current version, if it exists. A day reads as
    /// open only before its `final_at` and while not closed, as every day read does.
    pub async fn bookable(
        &self,
        company_id: Uuid,
        target: Target<'_>,
        now: DateTime<Utc>,
    ) -> Result<Option<Bookable>, StoreError> {
        const DAY: &str = "select id, revision as current_version,
                                  (status = 'open' and final_at > $3) as open
                             from daily_revenue where company_id = $1";
        let (resource, query) = match target {
            Target::Order(id) => (
                BookedResource::Orders,
                sqlx::query_as::<_, BookableRow>(
                    "select id, version as current_version, false as open
                       from orders where company_id = $1 and id = $2",
                )
                .bind(company_id)
                .bind(id),
            ),
            Target::Receipt(id) => (
                BookedResource::Receipts,
                sqlx::query_as::<_, BookableRow>(
                    "select id, version as current_version, false as open
                       from receipts where company_id = $1 and id = $2",
                )
                .bind(company_id)
                .bind(id),
            ),
            Target::DayId(id) => (
                BookedResource::DailyRevenue,
                sqlx::query_as::<_, BookableRow>(AssertSqlSafe(format!("{DAY} and id = $2")))
                    .bind(company_id)
                    .bind(id)
                    .bind(now),
            ),
            Target::Day { location_key, date } => (
                BookedResource::DailyRevenue,
                sqlx::query_as::<_, BookableRow>(AssertSqlSafe(format!(
                    "{DAY} and location_key = $2 and business_date = $4"
                )))
                .bind(company_id)
                .bind(location_key)
                .bind(now)
                .bind(date),
            ),
        };
        Ok(query.fetch_optional(self.pool).await?.map(|row| Bookable {
            resource,
            id: row.id,
            current_version: row.current_version,
            open: row.open,
        }))
    }

    /// The bookings of one document, oldest first.
    pub async fn of(
        &self,
        company_id: Uuid,
        resource: BookedResource,
        id: Uuid,
    ) -> Result<Vec<BookingRecord>, StoreError> {
        Ok(load(self.pool, company_id, resource, &[id])
            .await?
            .remove(&id)
            .unwrap_or_default())
    }
}
