//! The query parameters and bodies of the receipt routes.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;
use utoipa::IntoParams;

/// Filters of the receipt list; all optional and combined with "and".
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReceiptQuery {
    /// Only receipts with this number.
    pub number: Option<String>,
    /// Only receipts sold at or after this moment: RFC 3339 with offset, or a date meaning the
    /// start of that day in the company's timezone.
    pub from: Option<String>,
    /// Only receipts sold before this moment (exclusive): RFC 3339 with offset, or a date.
    pub to: Option<String>,
    /// Only receipts of this business date (YYYY-MM-DD).
    #[param(value_type = Option<String>, example = "2026-03-29")]
    pub business_date: Option<NaiveDate>,
    /// Only receipts of this location.
    pub location_id: Option<String>,
    /// Only receipts stored or changed at or after this moment (RFC 3339 with offset). The
    /// list is then sorted by that moment; otherwise, with any other filter, by the moment of
    /// sale, and without filters by the moment stored.
    pub updated_since: Option<DateTime<Utc>>,
    /// Only receipts with this `external_id` or a payment with this `reference`.
    pub reference: Option<String>,
    /// Only receipts this accounting package (a booking's `package`) has never booked.
    #[param(min_length = 1, example = "exact-online")]
    pub not_booked_by: Option<String>,
    /// Only receipts this accounting package booked in an older version than the current
    /// one; as receipts never change, always none. Accepted so every list filters alike.
    #[param(min_length = 1, example = "exact-online")]
    pub changed_since_booked: Option<String>,
    /// How many receipts to answer, 1 to 1000; default 100.
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The batch body as parsed (documented as [`ReceiptBatchInput`]): each item is kept as JSON
/// and parsed on its own, so that one broken item is refused alone.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchBody {
    /// The receipts, not yet parsed.
    pub receipts: Vec<Box<RawValue>>,
}
