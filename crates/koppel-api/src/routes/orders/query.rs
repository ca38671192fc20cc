//! The query parameters and bodies of the order routes.

use chrono::{DateTime, Utc};
use koppel_domain::order::OrderStatus;
use serde::Deserialize;
use serde_json::value::RawValue;
use utoipa::IntoParams;
use uuid::Uuid;

/// Filters of the order list; all optional and combined with "and".
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrderQuery {
    /// Only orders with this number.
    pub number: Option<String>,
    /// Only orders placed at or after this moment: RFC 3339 with offset, or a date meaning
    /// the start of that day in the company's timezone. The list is then sorted by order date.
    pub from: Option<String>,
    /// Only orders placed before this moment (exclusive): RFC 3339 with offset, or a date
    /// meaning the start of that day in the company's timezone.
    pub to: Option<String>,
    /// Only orders changed at or after this moment (RFC 3339 with offset); the list is
    /// sorted by change time.
    pub updated_since: Option<DateTime<Utc>>,
    /// Only orders with this `external_id` or a payment with this `reference`.
    pub reference: Option<String>,
    /// Only orders of this customer.
    pub customer_id: Option<Uuid>,
    /// Only orders with this status: `open`, `paid`, `shipped`, `completed`, `cancelled`, `refunded`.
    #[param(value_type = Option<String>)]
    pub status: Option<OrderStatus>,
    /// Only orders this accounting package (a booking's `package`) has never booked.
    #[param(min_length = 1, example = "exact-online")]
    pub not_booked_by: Option<String>,
    /// Only orders this accounting package booked in an older version than the current
    /// one: the corrections it still has to post.
    #[param(min_length = 1, example = "exact-online")]
    pub changed_since_booked: Option<String>,
    /// How many orders to answer, 1 to 1000; default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

/// The page parameters of the version list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// How many versions to answer, 1 to 1000; default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

/// The batch body as parsed (documented as [`OrderBatchInput`]): each item is
/// kept as JSON and parsed on its own, so that one broken item is refused alone.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchBody {
    /// The orders, not yet parsed.
    pub orders: Vec<Box<RawValue>>,
}
