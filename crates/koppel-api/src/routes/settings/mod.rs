//! Settings a vendor pushes and a connector reads: VAT rates, payment methods
//! and categories (W5f, W5g, K7c–e). Each is upserted by the vendor's
//! `external_id`: 201 when created, 200 when updated or already identical.

use utoipa_axum::router::OpenApiRouter;

use crate::App;

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
