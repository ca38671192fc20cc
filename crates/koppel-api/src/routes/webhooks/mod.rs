//! Webhook endpoints (SPEC "Webhooks"): a connector subscribes a URL to a company's events;
//! Koppel posts each event of the feed to it, signed as Standard Webhooks says, and shows every
//! attempt. An endpoint belongs to the client that created it: another client of the same
//! company neither sees nor changes it. Delivery itself is [`crate::webhooks::deliver`].

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use koppel_domain::problem::{Violation, codes};
use koppel_store::webhooks::{EndpointChange, MAX_ENDPOINTS, NewEndpoint, Owner};
use serde::{Deserialize, Deserializer};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::App;
use crate::auth::extract::{CompanyAccess, WebhooksRead, WebhooksWrite};
use crate::closed_sets::EventType;
use crate::error::{ApiError, Problem};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::params::{Cursor, Page, PageParams};
use crate::webhooks::address::check_url;
use crate::webhooks::{PREVIOUS_SECRET_SIGNS_FOR, generate_secret};

pub mod answers;

use answers::{
    WebhookDelivery, WebhookDeliveryList, WebhookEndpoint, WebhookEndpointList,
    WebhookEndpointWithSecret,
};

/// The most event types one endpoint lists (there are fewer types than this).
const MAX_EVENT_TYPES: usize = 100;

/// The webhook routes.
pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(create_webhook_endpoint, list_webhook_endpoints))
        .routes(routes!(
            get_webhook_endpoint,
            update_webhook_endpoint,
            delete_webhook_endpoint
        ))
        .routes(routes!(rotate_webhook_secret))
        .routes(routes!(list_webhook_deliveries))
        .routes(routes!(retry_webhook_delivery))
}

/// The `company_id` and `endpoint_id` path parameters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct EndpointPath {
    /// The company's id.
    pub company_id: Uuid,
    /// The webhook endpoint's id.
    pub endpoint_id: Uuid,
}

/// The `company_id`, `endpoint_id` and `delivery_id` path parameters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct DeliveryPath {
    /// The company's id.
    pub company_id: Uuid,
    /// The webhook endpoint's id.
    pub endpoint_id: Uuid,
    /// The delivery's id.
    pub delivery_id: Uuid,
}

/// A URL to subscribe.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookEndpointInput {
    /// Where events are posted: `https` on a public address (hosts in the server's
    /// `KOPPEL_WEBHOOK_ALLOW_HOSTS` also over `http`, whatever their address).
    #[schema(example = "https://connector.example.com/koppel/hooks")]
    pub url: String,
    /// The event types to deliver; all when left out or empty.
    #[schema(value_type = Option<Vec<EventType>>, max_items = 100)]
    pub event_types: Option<Vec<String>>,
    /// Your note, e.g. which installation this is (at most 500 characters).
    #[schema(max_length = 500, example = "Exact Online sync, production")]
    pub description: Option<String>,
}

/// What to change; a field left out stays as it is.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookEndpointUpdate {
    /// A new URL, checked as when created.
    pub url: Option<String>,
    /// New event types; empty: all.
    #[schema(value_type = Option<Vec<EventType>>, max_items = 100)]
    pub event_types: Option<Vec<String>>,
    /// A new note; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub description: Option<Option<String>>,
    /// `true` stops delivery; `false` resumes it (also after Koppel disabled a failing
    /// endpoint), forgetting earlier failures. A stopped endpoint keeps its place in the feed:
    /// once resumed, it gets the events of the time in between.
    pub disabled: Option<bool>,
}

/// A field that is present, even as `null`, is `Some`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

fn owner<S>(access: &CompanyAccess<S>) -> Owner {
    Owner {
        company_id: access.company_id,
        client_id: access.principal.client_id,
    }
}

/// Checks the URL (form, scheme, resolved addresses) and the event types; every problem at
/// once.
async fn check(
    app: &App,
    url: Option<&str>,
    event_types: Option<&[String]>,
    errors: &mut Vec<Violation>,
) {
    if let Some(url) = url
        && let Err(refusal) = check_url(url, &app.config.webhooks.allowed_hosts).await
    {
        let (en, nl) = refusal.messages();
        errors.push(Violation::new("/url", codes::URL_NOT_ALLOWED, en, nl));
    }
    let known = EventType::names();
    for (i, event_type) in event_types.unwrap_or_default().iter().enumerate() {
        if !known.contains(event_type) {
            errors.push(Violation::new(
                format!("/event_types/{i}"),
                codes::UNKNOWN_EVENT_TYPE,
                format!("{event_type:?} is not an event type of the feed"),
                format!("{event_type:?} is geen soort gebeurtenis van de feed"),
            ));
        }
    }
    if event_types.is_some_and(|t| t.len() > MAX_EVENT_TYPES) {
        errors.push(Violation::new(
            "/event_types",
            codes::TOO_MANY_ITEMS,
            format!("at most {MAX_EVENT_TYPES} event types"),
            format!("hoogstens {MAX_EVENT_TYPES} soorten gebeurtenissen"),
        ));
    }
}

/// The event types as stored: each once, in the order given.
fn dedup(types: Option<Vec<String>>) -> Option<Vec<String>> {
    types.map(|types| {
        let mut seen = Vec::with_capacity(types.len());
        for t in types {
            if !seen.contains(&t) {
                seen.push(t);
            }
        }
        seen
    })
}

/// Subscribe a URL to the company's events.
///
/// Answers the endpoint with its signing secret, which is shown only here (and after a
/// rotation). Events committed from now on are posted to the URL, each once it is in the
/// feed, in feed order, at least once; see the connector guide. A client has at most 20
/// endpoints per company. Scope `webhooks:write`.
#[utoipa::path(post, path = "/v1/companies/{company_id}/webhook-endpoints", tag = "webhooks",
    params(crate::params::CompanyPath),
    request_body = WebhookEndpointInput,
    security(("oauth2" = ["webhooks:write"])),
    responses(
        (status = 201, description = "Subscribed; the secret is shown this once", body = WebhookEndpointWithSecret),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_webhook_endpoint(
    State(app): State<App>,
    access: CompanyAccess<WebhooksWrite>,
    AppJson(input): AppJson<WebhookEndpointInput>,
) -> Result<(StatusCode, Json<WebhookEndpointWithSecret>), ApiError> {
    let mut errors = Vec::new();
    check(
        &app,
        Some(&input.url),
        input.event_types.as_deref(),
        &mut errors,
    )
    .await;
    if !errors.is_empty() {
        return Err(ApiError::InvalidRequest(errors));
    }
    let event_types = dedup(input.event_types).unwrap_or_default();
    let secret = generate_secret();
    let record = app
        .store
        .webhooks()
        .create(
            owner(&access),
            &NewEndpoint {
                id: Uuid::now_v7(),
                url: &input.url,
                event_types: &event_types,
                description: input.description.as_deref(),
                secret: &secret,
            },
        )
        .await?
        .ok_or_else(|| {
            ApiError::invalid(
                "",
                codes::TOO_MANY_ITEMS,
                format!("a client has at most {MAX_ENDPOINTS} webhook endpoints per company"),
                format!(
                    "een client heeft hoogstens {MAX_ENDPOINTS} webhook-endpoints per administratie"
                ),
            )
        })?;
    Ok((
        StatusCode::CREATED,
        Json(WebhookEndpointWithSecret {
            endpoint: record.into(),
            secret,
        }),
    ))
}

/// List your webhook endpoints of the company.
///
/// Only the endpoints this client created. Scope `webhooks:read`.
#[utoipa::path(get, path = "/v1/companies/{company_id}/webhook-endpoints", tag = "webhooks",
    params(crate::params::CompanyPath, PageParams),
    security(("oauth2" = ["webhooks:read"])),
    responses(
        (status = 200, description = "A page of endpoints", body = WebhookEndpointList),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_webhook_endpoints(
    State(app): State<App>,
    access: CompanyAccess<WebhooksRead>,
    AppQuery(page): AppQuery<PageParams>,
) -> Result<Json<WebhookEndpointList>, ApiError> {
    let limit = page.limit()?;
    let after: Option<Uuid> = page.cursor()?;
    let rows = app
        .store
        .webhooks()
        .list(owner(&access), after, i64::from(limit) + 1)
        .await?;
    let Page { items, next } = Page::from_overfetch(rows, limit, |r| Cursor::encode(&r.id));
    Ok(Json(WebhookEndpointList {
        data: items.into_iter().map(WebhookEndpoint::from).collect(),
        next_cursor: next,
    }))
}

/// Get one of your webhook endpoints.
///
/// Scope `webhooks:read`.
#[utoipa::path(get, path = "/v1/companies/{company_id}/webhook-endpoints/{endpoint_id}", tag = "webhooks",
    params(EndpointPath),
    security(("oauth2" = ["webhooks:read"])),
    responses(
        (status = 200, description = "The endpoint", body = WebhookEndpoint),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_webhook_endpoint(
    State(app): State<App>,
    access: CompanyAccess<WebhooksRead>,
    AppPath(path): AppPath<EndpointPath>,
) -> Result<Json<WebhookEndpoint>, ApiError> {
    let record = app
        .store
        .webhooks()
        .get(owner(&access), path.endpoint_id)
        .await?;
    Ok(Json(record.into()))
}

/// Change a webhook endpoint: its URL, event types, note, or whether it is disabled.
///
/// Re-enabling an endpoint Koppel disabled resumes delivery where it stopped: the events of
/// the time in between follow, since the endpoint keeps its place in the feed. Scope
/// `webhooks:write`.
#[utoipa::path(patch, path = "/v1/companies/{company_id}/webhook-endpoints/{endpoint_id}", tag = "webhooks",
    params(EndpointPath),
    request_body = WebhookEndpointUpdate,
    security(("oauth2" = ["webhooks:write"])),
    responses(
        (status = 200, description = "The endpoint as it is now", body = WebhookEndpoint),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_webhook_endpoint(
    State(app): State<App>,
    access: CompanyAccess<WebhooksWrite>,
    AppPath(path): AppPath<EndpointPath>,
    AppJson(input): AppJson<WebhookEndpointUpdate>,
) -> Result<Json<WebhookEndpoint>, ApiError> {
    let mut errors = Vec::new();
    check(
        &app,
        input.url.as_deref(),
        input.event_types.as_deref(),
        &mut errors,
    )
    .await;
    if !errors.is_empty() {
        return Err(ApiError::InvalidRequest(errors));
    }
    let event_types = dedup(input.event_types);
    let record = app
        .store
        .webhooks()
        .update(
            owner(&access),
            path.endpoint_id,
            &EndpointChange {
                url: input.url.as_deref(),
                event_types: event_types.as_deref(),
                description: input.description.as_ref().map(Option::as_deref),
                disabled: input.disabled,
            },
        )
        .await?;
    Ok(Json(record.into()))
}

/// Delete a webhook endpoint, with its queued and past deliveries.
///
/// Scope `webhooks:write`.
#[utoipa::path(delete, path = "/v1/companies/{company_id}/webhook-endpoints/{endpoint_id}", tag = "webhooks",
    params(EndpointPath),
    security(("oauth2" = ["webhooks:write"])),
    responses(
        (status = 204, description = "Deleted"),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_webhook_endpoint(
    State(app): State<App>,
    access: CompanyAccess<WebhooksWrite>,
    AppPath(path): AppPath<EndpointPath>,
) -> Result<StatusCode, ApiError> {
    app.store
        .webhooks()
        .delete(owner(&access), path.endpoint_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Give a webhook endpoint a new signing secret.
///
/// Answers the new secret, shown this once. The old one keeps signing for 24 hours, as a
/// second signature in `webhook-signature`, so a receiver can switch without missing a
/// request. Scope `webhooks:write`.
#[utoipa::path(post, path = "/v1/companies/{company_id}/webhook-endpoints/{endpoint_id}/rotate-secret", tag = "webhooks",
    params(EndpointPath),
    security(("oauth2" = ["webhooks:write"])),
    responses(
        (status = 200, description = "The endpoint with its new secret", body = WebhookEndpointWithSecret),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn rotate_webhook_secret(
    State(app): State<App>,
    access: CompanyAccess<WebhooksWrite>,
    AppPath(path): AppPath<EndpointPath>,
) -> Result<Json<WebhookEndpointWithSecret>, ApiError> {
    let secret = generate_secret();
    let old_until = Utc::now()
        + chrono::Duration::from_std(PREVIOUS_SECRET_SIGNS_FOR).unwrap_or(chrono::Duration::zero());
    let record = app
        .store
        .webhooks()
        .rotate_secret(owner(&access), path.endpoint_id, &secret, old_until)
        .await?;
    Ok(Json(WebhookEndpointWithSecret {
        endpoint: record.into(),
        secret,
    }))
}

/// List a webhook endpoint's deliveries, each with its attempts.
///
/// Newest event first: status, every attempt's HTTP status, latency and error, and when the
/// next attempt is due. Scope `webhooks:read`.
#[utoipa::path(get, path = "/v1/companies/{company_id}/webhook-endpoints/{endpoint_id}/deliveries", tag = "webhooks",
    params(EndpointPath, PageParams),
    security(("oauth2" = ["webhooks:read"])),
    responses(
        (status = 200, description = "A page of deliveries", body = WebhookDeliveryList),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_webhook_deliveries(
    State(app): State<App>,
    access: CompanyAccess<WebhooksRead>,
    AppPath(path): AppPath<EndpointPath>,
    AppQuery(page): AppQuery<PageParams>,
) -> Result<Json<WebhookDeliveryList>, ApiError> {
    let limit = page.limit()?;
    let before: Option<Uuid> = page.cursor()?;
    let rows = app
        .store
        .webhooks()
        .deliveries(
            owner(&access),
            path.endpoint_id,
            before,
            i64::from(limit) + 1,
        )
        .await?;
    let Page { items, next } = Page::from_overfetch(rows, limit, |r| Cursor::encode(&r.id));
    Ok(Json(WebhookDeliveryList {
        data: items.into_iter().map(WebhookDelivery::from).collect(),
        next_cursor: next,
    }))
}

/// Send a delivery again, now.
///
/// Whatever its status: a failed one is tried again, a succeeded one sent once more. It goes
/// before the endpoint's later deliveries, and ends a pause after a failure. Scope
/// `webhooks:write`.
#[utoipa::path(post, path = "/v1/companies/{company_id}/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/retry", tag = "webhooks",
    params(DeliveryPath),
    security(("oauth2" = ["webhooks:write"])),
    responses(
        (status = 202, description = "Queued; due now", body = WebhookDelivery),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn retry_webhook_delivery(
    State(app): State<App>,
    access: CompanyAccess<WebhooksWrite>,
    AppPath(path): AppPath<DeliveryPath>,
) -> Result<(StatusCode, Json<WebhookDelivery>), ApiError> {
    let record = app
        .store
        .webhooks()
        .retry(owner(&access), path.endpoint_id, path.delivery_id)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(record.into())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_are_kept_once_in_the_order_given() {
        let types = |t: &[&str]| Some(t.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        assert_eq!(
            dedup(types(&[
                "order.created",
                "receipt.created",
                "order.created"
            ])),
            types(&["order.created", "receipt.created"])
        );
        assert_eq!(dedup(None), None);
    }
}
