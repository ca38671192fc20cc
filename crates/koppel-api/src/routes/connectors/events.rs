//! The change feed for connectors (W9 iii).

use axum::Json;
use axum::extract::State;
use koppel_store::events::EventPosition;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::App;
use crate::auth::extract::{CompanyAccess, EventsRead};
use crate::error::{ApiError, Problem};
use crate::event::Event;
use crate::extract::AppQuery;
use crate::params::{Cursor, PageParams};

/// The event routes.
pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(list_events))
}

/// Where to continue the feed.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// The `next_cursor` of the previous answer; from the beginning when absent.
    #[param(min_length = 1)]
    pub after: Option<String>,
    /// How many events to answer, 1 to 1000; default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// The event list, as the OpenAPI document names and describes its page.
#[derive(Debug)]
pub enum EventListing {}

impl crate::page::Listing for EventListing {
    type Item = Event;
    const NAME: &'static str = "EventList";
    const DESCRIPTION: &'static str = "A stretch of the feed.";
    const DATA: &'static str = "The events, in feed order.";
    const CURSOR: &'static str = "Pass as `after` next time. Also given when `data` is empty \
        (it is then\nthe `after` you sent), so a connector can always poll with the last \
        value;\nnull only before the first event of the company.";
}

/// A stretch of the feed.
pub type EventList = crate::page::Page<EventListing>;

/// Read the changes of a company, in an order that never misses or repeats one.
///
/// Follow `next_cursor`: an event is only answered once every transaction that
/// could still precede it has finished, so a reader that keeps passing the last
/// cursor sees every committed change exactly once, however many writers there are.
#[utoipa::path(get, path = "/v1/companies/{company_id}/events", tag = "events",
    params(crate::params::CompanyPath, EventsQuery),
    security(("oauth2" = ["events:read"])),
    responses(
        (status = 200, description = "The next events", body = EventList),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_events(
    State(app): State<App>,
    access: CompanyAccess<EventsRead>,
    AppQuery(query): AppQuery<EventsQuery>,
) -> Result<Json<EventList>, ApiError> {
    let page = PageParams {
        limit: query.limit,
        cursor: query.after.clone(),
    };
    let limit = page.limit()?;
    let after: Option<EventPosition> = page.cursor()?;
    let records = app
        .store
        .events()
        .list(access.company_id, after, i64::from(limit))
        .await?;
    let next_cursor = records
        .last()
        .map(|r| {
            Cursor::encode(&EventPosition {
                txid: r.txid,
                seq: r.seq,
            })
        })
        .or(query.after);
    Ok(Json(EventList {
        data: records.into_iter().map(Event::from).collect(),
        next_cursor,
    }))
}
