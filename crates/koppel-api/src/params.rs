//! Keyset pagination: opaque cursors and the `limit`/`cursor` parameters.

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use koppel_store::settings::{Outcome, SettingsFilter};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::error::ApiError;

/// The default page size.
pub const DEFAULT_LIMIT: u32 = 100;
/// The largest page size.
pub const MAX_LIMIT: u32 = 1000;

/// The query of an operation that takes no parameters: any parameter sent is
/// refused with a 400 naming it, as an unknown parameter is everywhere else.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// Page parameters of a list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// How many items to answer, 1 to 1000; default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

impl PageParams {
    /// The page size, checked.
    pub fn limit(&self) -> Result<u32, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(ApiError::InvalidParameter(format!(
                "limit must be between 1 and {MAX_LIMIT}"
            ))),
        }
    }

    /// The decoded cursor, if one was given.
    pub fn cursor<T: DeserializeOwned>(&self) -> Result<Option<T>, ApiError> {
        self.cursor.as_deref().map(Cursor::decode).transpose()
    }
}

/// Cursors are base64url JSON of the last item's sort key: opaque to clients,
/// trivially checked by us.
pub struct Cursor;

impl Cursor {
    /// Encodes a sort key.
    pub fn encode<T: serde::Serialize>(key: &T) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
    }

    /// Decodes a sort key.
    pub fn decode<T: DeserializeOwned>(cursor: &str) -> Result<T, ApiError> {
        URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| {
                ApiError::InvalidParameter("cursor is not a cursor this API gave out".to_owned())
            })
    }
}

/// One page, cut from a query that fetched one item more than asked.
pub struct Page<T> {
    /// The items of the page.
    pub items: Vec<T>,
    /// The cursor of the next page, if there is one.
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// Cuts `rows` (fetched with `limit + 1`) to `limit` and makes the next
    /// cursor from the last item kept, when more rows exist.
    pub fn from_overfetch(mut rows: Vec<T>, limit: u32, key: impl Fn(&T) -> String) -> Self {
        let limit = limit as usize;
        let next = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(key)
        } else {
            None
        };
        Page { items: rows, next }
    }
}

/// The `company_id` path parameter of every company-scoped route.
#[derive(Debug, Deserialize, IntoParams)]
pub struct CompanyPath {
    /// The company's id.
    pub company_id: Uuid,
}

/// The `company_id` and `order_id` path parameters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct OrderPath {
    /// The company's id.
    pub company_id: Uuid,
    /// The order's id.
    pub order_id: Uuid,
}

/// The `company_id` and `receipt_id` path parameters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ReceiptPath {
    /// The company's id.
    pub company_id: Uuid,
    /// The receipt's id.
    pub receipt_id: Uuid,
}

/// The `company_id` and `date` path parameters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct DayPath {
    /// The company's id.
    pub company_id: Uuid,
    /// The business date (YYYY-MM-DD), or the day's `id` from the event feed.
    pub date: String,
}

/// Which location's figures.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LocationQuery {
    /// The vendor's location id; the whole company's figures when left out.
    pub location_id: Option<String>,
}

/// Filters of a list of upserted resources (the settings, locations and registers): by
/// external id, changed since a moment, and the page.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SettingsQuery {
    /// Only the item with this external id.
    pub external_id: Option<String>,
    /// Only items changed at or after this moment (RFC 3339 with offset).
    pub updated_since: Option<DateTime<Utc>>,
    /// How many items to answer, 1 to 1000; default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

impl SettingsQuery {
    pub fn filter(&self) -> Result<(SettingsFilter, u32), ApiError> {
        let page = PageParams {
            limit: self.limit,
            cursor: self.cursor.clone(),
        };
        let limit = page.limit()?;
        let filter = koppel_store::settings::SettingsFilter {
            external_id: self.external_id.clone(),
            updated_since: self.updated_since,
            after: page.cursor()?,
            limit: i64::from(limit) + 1,
        };

        Ok((filter, limit))
    }
}

/// One page of such a list, in (updated_at, id) order, as answers.
pub fn change_page<R, T: From<R>>(
    rows: Vec<R>,
    limit: u32,
    key: impl Fn(&R) -> (DateTime<Utc>, Uuid),
) -> (Vec<T>, Option<String>) {
    let Page { items, next } = Page::from_overfetch(rows, limit, |r| Cursor::encode(&key(r)));
    (items.into_iter().map(T::from).collect(), next)
}

/// The status of an upsert's answer: 201 when it created, 200 when it updated or found the
/// row already so.
pub fn upsert_status(outcome: Outcome) -> StatusCode {
    match outcome {
        Outcome::Created => StatusCode::CREATED,
        Outcome::Updated | Outcome::Unchanged => StatusCode::OK,
    }
}
