//! The application: its shared state ([`App`]), its settings ([`Config`]) and the router that
//! puts every resource's routes, the OpenAPI document and the middleware together.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use koppel_store::Store;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::{self, Auth};
use crate::error::{self, ApiError};
use crate::middleware::client_address::{self, TrustedProxy};
use crate::middleware::metrics::Metrics;
use crate::middleware::{body, idempotency, observe, ratelimit};
use crate::openapi::{self as document, Document};
use crate::routes::{self, health, oauth};

/// The largest request body accepted: room for a batch of 1000 orders.
///
/// Measured: 1000 orders of 5 lines, with a customer, an address, a shipping
/// cost and a payment, are 3.4 MB as compact JSON and 4.7 MB pretty-printed,
/// so 16 MiB leaves room for about 25 lines an order. More is refused with 413.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// How long a request body may take to arrive unless configured otherwise:
/// the largest body, 16 MiB, at 8 Mbit/s takes 17 s.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Settings of the API that do not come from the database.
#[derive(Debug, Clone)]
pub struct Config {
    /// The base URL clients reach this server at, for the OAuth metadata.
    pub public_url: String,
    /// The largest request body accepted.
    pub max_body_bytes: usize,
    /// How long a request body may take to arrive, from its request's head.
    pub body_read_timeout: Duration,
    /// The bearer token `/metrics` requires; without one, only loopback
    /// peers may read it.
    pub metrics_token: Option<String>,
    /// How long an idempotency claim lasts unless its request renews it.
    pub idempotency_lease: Duration,
    /// How many idempotency keys a client may hold at once (within their 7 days); a new
    /// key beyond it is refused with 429 `idempotency_quota_exceeded`.
    pub idempotency_quota: u64,
    /// Proxies believed about `X-Forwarded-For` (none by default).
    pub trusted_proxies: Vec<TrustedProxy>,
    /// Where webhooks may go and how they are retried.
    pub webhooks: crate::webhooks::WebhookConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".to_owned(),
            max_body_bytes: MAX_BODY_BYTES,
            body_read_timeout: BODY_READ_TIMEOUT,
            metrics_token: None,
            idempotency_lease: idempotency::LEASE,
            idempotency_quota: idempotency::QUOTA,
            trusted_proxies: Vec::new(),
            webhooks: crate::webhooks::WebhookConfig::default(),
        }
    }
}

/// The application's shared state; cheap to clone.
#[derive(Debug, Clone)]
pub struct App {
    /// The database.
    pub store: Store,
    /// Tokens, clients and failed-login limits.
    pub auth: Arc<Auth>,
    /// Request metrics.
    pub metrics: Arc<Metrics>,
    /// Every client's rate-limit bucket.
    pub limits: Arc<ratelimit::RateLimits>,
    /// Settings.
    pub config: Arc<Config>,
    /// What each client's idempotency keys count, as last read.
    pub idempotency_usage: Arc<idempotency::Usage>,
}

impl App {
    /// An application over `store` with the given token keys and settings.
    pub fn new(store: Store, keys: auth::tokens::TokenKeys, config: Config) -> Self {
        Self {
            store,
            auth: Arc::new(Auth::new(keys)),
            metrics: Arc::new(Metrics::default()),
            limits: Arc::default(),
            config: Arc::new(config),
            idempotency_usage: Arc::default(),
        }
    }
}

#[derive(utoipa::OpenApi)]
#[openapi(
    modifiers(&Document),
    components(schemas(error::Problem, error::ProblemItem)),
    tags(
        (name = "oauth", description = "Getting an access token"),
        (name = "admin", description = "Onboarding companies and clients (platform operator)"),
        (name = "companies", description = "The companies a client is granted"),
        (name = "settings", description = "VAT rates, payment methods and categories"),
        (name = "customers", description = "Customers (debiteuren)"),
        (name = "products", description = "Products"),
        (name = "orders", description = "Sales orders: upserts, versions, search, batch and validation"),
        (name = "receipts", description = "POS receipts and the daily revenue (dagomzet)"),
        (name = "events", description = "The change feed for bookkeeping connectors"),
        (name = "webhooks", description = "Webhook endpoints: the change feed pushed, signed as Standard Webhooks"),
        (name = "connectors", description = "Bookings, search by any reference and the VAT return, for bookkeeping connectors"),
        (name = "settlements", description = "Payouts of payment providers, matched to the sales they pay out"),
        (name = "journals", description = "Journal entries ready to post, balanced to the cent, and the ledger mapping to the company's accounts"),
        (name = "operations", description = "Health and metrics"),
        (name = "limits", description = "Rate limits: what a client may send and what is left"),
    )
)]
struct ApiDoc;

fn api_router() -> OpenApiRouter<App> {
    let mut router = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(oauth::issue_token))
        .routes(routes!(oauth::server_metadata))
        .routes(routes!(health::live))
        .routes(routes!(health::ready))
        .routes(routes!(health::metrics))
        .routes(routes!(ratelimit::get_rate_limit))
        .merge(routes::admin::router())
        .merge(routes::companies::router())
        .merge(routes::settings::router())
        .merge(routes::locations::router())
        .merge(routes::ledger::router())
        .merge(routes::settlements::router())
        .merge(routes::customers::router())
        .merge(routes::products::router())
        .merge(routes::orders::router())
        .merge(routes::receipts::router())
        .merge(routes::daily_revenue::router())
        .merge(routes::connectors::events::router())
        .merge(routes::connectors::bookings::router())
        .merge(routes::connectors::search::router())
        .merge(routes::connectors::vat_return::router())
        .merge(routes::webhooks::router());
    document::document_idempotency_key(router.get_openapi_mut());
    document::document_response_headers(router.get_openapi_mut());
    document::lift_reference_descriptions(router.get_openapi_mut());
    document::close_request_schemas(router.get_openapi_mut());
    document::anonymous_security_as_empty(router.get_openapi_mut());
    router
}

/// What a browser may do with the Swagger UI pages: load their own scripts,
/// styles and images, call this server, and nothing else. Swagger UI's page
/// has no inline script (tested); its React components set inline styles.
pub const DOCS_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

async fn docs_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DOCS_CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// The OpenAPI document the server serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_router().into_openapi()
}

/// The whole application: every route, Swagger UI at `/docs`, the spec at
/// `/openapi.json`, problem bodies for unknown routes and methods, and the
/// middleware that gives every response its request id.
pub fn router(app: App) -> Router {
    let (routes, spec) = api_router().split_for_parts();
    routes
        .merge(
            Router::from(SwaggerUi::new("/docs").url("/openapi.json", spec))
                .layer(axum::middleware::map_response(docs_headers)),
        )
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(app.config.max_body_bytes))
        // Inside the rate limit, which authenticates the client it keys by.
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            idempotency::idempotency,
        ))
        // Inside `observe`, so that a 429 gets its problem body and request id.
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            ratelimit::limit,
        ))
        // Before authentication: a body too large is refused from its head, and
        // every body gets its deadline, whoever sends it.
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            body::guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            observe::observe,
        ))
        // Outermost: everything that counts by address sees the client's.
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            client_address::resolve,
        ))
        .with_state(app)
}
