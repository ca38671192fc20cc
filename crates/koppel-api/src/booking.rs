//! The bookings of a document as every document answer shows them, and whether the document
//! changed since it was booked. Below the routes, so that orders, receipts and days show their
//! bookings without importing the booking routes.

use chrono::{DateTime, Utc};
use koppel_store::bookings::BookingRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// What a connector booked.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Booking {
    /// The booking's id.
    pub id: Uuid,
    /// The version of the document that was booked (a business day's `revision`).
    pub version: i32,
    /// The accounting package it was booked in, e.g. `exact-online`.
    #[schema(example = "exact-online")]
    pub package: String,
    /// The connector's own reference, e.g. the journal entry number.
    #[schema(example = "MEM-2026-000123")]
    pub reference: String,
    /// The connector client that recorded it.
    pub client_id: Uuid,
    /// When it was recorded.
    pub booked_at: DateTime<Utc>,
}

impl From<BookingRecord> for Booking {
    fn from(b: BookingRecord) -> Self {
        Self {
            id: b.id,
            version: b.version,
            package: b.package,
            reference: b.reference,
            client_id: b.client_id,
            booked_at: b.created_at,
        }
    }
}

/// A document's bookings as answered, with whether it changed since.
pub(crate) fn bookings_of(
    current_version: i32,
    records: Vec<BookingRecord>,
) -> (Vec<Booking>, bool) {
    let needs = koppel_domain::booking::needs_correction(
        current_version,
        records.iter().map(|b| (b.package.as_str(), b.version)),
    );
    (records.into_iter().map(Booking::from).collect(), needs)
}
