//! Settings a vendor pushes and a connector reads: VAT rates, payment methods
//! and categories (W5f, W5g, K7c–e). Each is upserted by the vendor's
//! `external_id`: 201 when created, 200 when updated or already identical.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use koppel_store::settings::{Outcome, SettingsFilter};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

use crate::App;
use crate::error::ApiError;
use crate::params::{Cursor, Page, PageParams};

pub mod categories;
pub mod payment_methods;
pub mod vat_rates;

/// The settings routes.
pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .merge(vat_rates::router())
        .merge(payment_methods::router())
        .merge(categories::router())
}

/// Filters of a settings list.
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
    pub(super) fn filter(&self) -> Result<(SettingsFilter, u32), ApiError> {
        let page = PageParams {
            limit: self.limit,
            cursor: self.cursor.clone(),
        };
        let limit = page.limit()?;
        let filter = SettingsFilter {
            external_id: self.external_id.clone(),
            updated_since: self.updated_since,
            after: page.cursor()?,
            limit: i64::from(limit) + 1,
        };

        Ok((filter, limit))
    }
}

pub(super) fn page<R, T: From<R>>(
    rows: Vec<R>,
    limit: u32,
    key: impl Fn(&R) -> (DateTime<Utc>, Uuid),
) -> (Vec<T>, Option<String>) {
    let Page { items, next } = Page::from_overfetch(rows, limit, |r| Cursor::encode(&key(r)));
    (items.into_iter().map(T::from).collect(), next)
}

pub(super) fn status(outcome: Outcome) -> StatusCode {
    match outcome {
        Outcome::Created => StatusCode::CREATED,
        Outcome::Updated | Outcome::Unchanged => StatusCode::OK,
    }
}
