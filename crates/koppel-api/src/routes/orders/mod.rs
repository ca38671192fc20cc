//! Sales orders (W5b–d, W5h): upserted by `external_id` under a stable id,
//! every change a new version with the full history kept; searched by number,
//! order date, change time, reference, customer and status; sent one at a
//! time, up to 1000 per batch, or only validated.
//!
//! A request is parsed into the domain's `OrderDraft`, its references are
//! loaded in one query, `validate_order` collects every violation with its
//! pointer, and the store writes the order with all its parts in one
//! transaction.

pub mod input;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use koppel_domain::order::OrderDraft;
use koppel_domain::problem::Violation;
use koppel_domain::problem::codes;
use koppel_store::orders::{OrderFilter, OrderRecord, OrderSort, OrderWrite, Written};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::App;
use crate::auth::extract::{CompanyAccess, OrdersRead, OrdersWrite};
use crate::error::{ApiError, Problem, ProblemItem};
use crate::extract::{AppJson, AppPath, AppQuery, parse_item};
use crate::language::Language;
use crate::params::{Cursor, OrderPath, Page, PageParams};
use answers::{
    Order, OrderBatchItem, OrderBatchResult, OrderList, OrderValidation, OrderVatGroup,
    OrderVersionList,
};
use flow::{Checked, check, moment, outcome_str, references};
use query::{BatchBody, OrderQuery, VersionQuery};

pub use input::{OrderBatchInput, OrderInput};

mod answers;
mod flow;
mod journal;
mod query;

/// The most orders one batch may hold (SPEC "Limits").
pub const MAX_BATCH: usize = 1000;

/// How many orders of a batch are written per part: a batch of 1000 takes
/// five, each a constant number of statements, so that checking the next part
/// overlaps with the database writing this one (bench/README.md, P2).
const WRITE_PART: usize = 200;

/// The order routes.
pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(upsert_order, list_orders))
        .routes(routes!(get_order))
        .routes(routes!(list_order_versions))
        .routes(routes!(upsert_orders_batch))
        .routes(routes!(validate_order_only))
        .routes(routes!(journal::get_order_journal))
}

// ------------------------------------------------------------------ handlers

/// Create an order, or store a new version of it, by its `external_id`.
///
/// An identical resend changes nothing and answers the stored order with 200;
/// a different body for the same `external_id` becomes the next `version`
/// under the same `id`. Every broken rule is listed in one 400.
#[utoipa::path(post, path = "/v1/companies/{company_id}/orders", tag = "orders",
    params(crate::params::CompanyPath),
    request_body(content = OrderInput, description = "The order"),
    security(("oauth2" = ["orders:write"])),
    responses(
        (status = 201, description = "The order was created (version 1)", body = Order),
        (status = 200, description = "A new version was stored, or the order was already exactly this", body = Order),
        (status = "4XX", description = "The request was refused; a 400 lists every problem with its pointer", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn upsert_order(
    State(app): State<App>,
    access: CompanyAccess<OrdersWrite>,
    AppJson(draft): AppJson<OrderDraft>,
) -> Result<(StatusCode, Json<Order>), ApiError> {
    let company_id = access.company_id;
    let (known, orders) = references(&app, company_id, &[&draft]).await?;
    let (valid, hash) = check(&draft, &known, &orders).map_err(ApiError::InvalidRequest)?;
    let written = app
        .store
        .orders()
        .write(
            company_id,
            &[OrderWrite {
                order: &valid,
                content_hash: &hash,
            }],
        )
        .await?;
    let Some(Written {
        id,
        version,
        outcome,
    }) = written.first().copied()
    else {
        return Err(ApiError::Internal);
    };
    // The version this request stored (or found identical), even when a
    // concurrent request has stored a later one since.
    let record = app
        .store
        .orders()
        .version(company_id, id, version)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((crate::params::upsert_status(outcome), Json(record.into())))
}

/// Store up to 1000 orders, each on its own.
///
/// Each item is checked and stored (or refused) independently; the answer
/// lists for every item `success` with its `id`, or its `errors` with
/// pointers into the item. More than 1000 items is a 400.
#[utoipa::path(post, path = "/v1/companies/{company_id}/orders/batch", tag = "orders",
    params(crate::params::CompanyPath),
    request_body(content = OrderBatchInput, description = "The orders"),
    security(("oauth2" = ["orders:write"])),
    responses(
        (status = 200, description = "Every item with its outcome, in the order sent", body = OrderBatchResult),
        (status = "4XX", description = "The request as a whole was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn upsert_orders_batch(
    State(app): State<App>,
    access: CompanyAccess<OrdersWrite>,
    headers: HeaderMap,
    AppJson(body): AppJson<BatchBody>,
) -> Result<Json<OrderBatchResult>, ApiError> {
    let company_id = access.company_id;
    if body.orders.len() > MAX_BATCH {
        return Err(ApiError::invalid(
            "/orders",
            codes::TOO_MANY_ITEMS,
            format!(
                "a batch holds at most {MAX_BATCH} orders, got {}",
                body.orders.len()
            ),
            format!(
                "een batch bevat hoogstens {MAX_BATCH} orders, ontvangen: {}",
                body.orders.len()
            ),
        ));
    }
    let language = Language::from_headers(&headers);
    // Parsing a thousand orders is milliseconds of CPU: not on an async worker.
    let parsed: Vec<Result<OrderDraft, Vec<Violation>>> = tokio::task::spawn_blocking(move || {
        body.orders.iter().map(|item| parse_item(item)).collect()
    })
    .await
    .map_err(|e| ApiError::internal(&e))?;
    let drafts: Vec<&OrderDraft> = parsed.iter().filter_map(|p| p.as_ref().ok()).collect();
    let (known, orders) = references(&app, company_id, &drafts).await?;

    // What could not be parsed is answered as it is; the rest is checked and
    // written part by part in ascending external id (the heads' lock order,
    // see `OrderBatch`), the next part checked on a blocking thread while the
    // database writes this one.
    let mut answers: Vec<Option<OrderBatchItem>> = Vec::with_capacity(parsed.len());
    let mut pending: Vec<(usize, OrderDraft)> = Vec::with_capacity(parsed.len());
    for (index, item) in parsed.into_iter().enumerate() {
        match item {
            Ok(draft) => {
                answers.push(None);
                pending.push((index, draft));
            }
            Err(violations) => answers.push(Some(refused(index, &violations, language))),
        }
    }
    pending.sort_by(|(_, a), (_, b)| lock_key(a).cmp(&lock_key(b)));
    let (parts, mut checked_parts) = tokio::sync::mpsc::channel::<Vec<(usize, Checked)>>(2);
    let checker = tokio::task::spawn_blocking(move || {
        for part in pending.chunks(WRITE_PART) {
            let checked = part
                .iter()
                .map(|(index, draft)| (*index, check(draft, &known, &orders)))
                .collect();
            if parts.blocking_send(checked).is_err() {
                // The writer gave up (its error is what the request answers).
                return;
            }
        }
    });
    let mut batch = app.store.orders().begin_batch(company_id).await?;
    while let Some(part) = checked_parts.recv().await {
        let writes: Vec<OrderWrite<'_>> = part
            .iter()
            .filter_map(|(_, c)| c.as_ref().ok())
            .map(|(order, hash)| OrderWrite {
                order,
                content_hash: hash,
            })
            .collect();
        let mut written = batch.write(&writes).await?.into_iter();
        for (index, c) in &part {
            answers[*index] = Some(match c {
                Ok(_) => {
                    let w = written.next().ok_or(ApiError::Internal)?;
                    OrderBatchItem {
                        index: *index,
                        success: true,
                        id: Some(w.id),
                        version: Some(w.version),
                        outcome: Some(outcome_str(w.outcome).to_owned()),
                        errors: None,
                    }
                }
                Err(violations) => refused(*index, violations, language),
            });
        }
    }
    // The checker ends after its last part; a panic in it is a bug.
    checker.await.map_err(|e| ApiError::internal(&e))?;
    batch.commit().await?;
    let data = answers
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .ok_or(ApiError::Internal)?;
    Ok(Json(OrderBatchResult { data }))
}

/// The external id a draft's head is stored (and locked) under, as
/// validation trims it. The sort is stable, so repeats keep the order sent.
fn lock_key(draft: &OrderDraft) -> Option<&str> {
    draft.external_id.as_deref().map(str::trim)
}

/// The answer for a refused item of a batch.
fn refused(index: usize, violations: &[Violation], language: Language) -> OrderBatchItem {
    OrderBatchItem {
        index,
        success: false,
        id: None,
        version: None,
        outcome: None,
        errors: Some(ProblemItem::all(violations, language)),
    }
}

/// Check an order against every rule without storing it.
///
/// Answers the totals and VAT breakdown Koppel would store, or a 400 that
/// lists every problem with its pointer.
#[utoipa::path(post, path = "/v1/companies/{company_id}/orders/validate", tag = "orders",
    params(crate::params::CompanyPath),
    request_body(content = OrderInput, description = "The order to check"),
    security(("oauth2" = ["orders:write"])),
    responses(
        (status = 200, description = "The order passes every rule; nothing was stored", body = OrderValidation),
        (status = "4XX", description = "The order breaks rules (a 400 lists them all) or the request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn validate_order_only(
    State(app): State<App>,
    access: CompanyAccess<OrdersWrite>,
    AppJson(draft): AppJson<OrderDraft>,
) -> Result<Json<OrderValidation>, ApiError> {
    let (known, orders) = references(&app, access.company_id, &[&draft]).await?;
    let (valid, _) = check(&draft, &known, &orders).map_err(ApiError::InvalidRequest)?;
    Ok(Json(OrderValidation {
        valid: true,
        totals: valid.totals.into(),
        vat_breakdown: valid
            .vat_breakdown
            .iter()
            .map(OrderVatGroup::from)
            .collect(),
    }))
}

/// Get one order in its current version, with its lines, costs and payments.
///
/// The order as last pushed, with Koppel's VAT breakdown per category, rate and country,
/// `amount_paid` and `balance_due`, and each line's `product_id` where a product of the company
/// has the line's SKU. Earlier versions are under `…/versions`. Scope `orders:read`.
#[utoipa::path(get, path = "/v1/companies/{company_id}/orders/{order_id}", tag = "orders",
    params(OrderPath),
    security(("oauth2" = ["orders:read"])),
    responses(
        (status = 200, description = "The order", body = Order),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_order(
    State(app): State<App>,
    access: CompanyAccess<OrdersRead>,
    AppPath(path): AppPath<OrderPath>,
) -> Result<Json<Order>, ApiError> {
    let record = app
        .store
        .orders()
        .find(access.company_id, path.order_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(record.into()))
}

/// Get every version of an order, oldest first.
///
/// Every version the vendor pushed, each complete as it was stored, oldest first: what a
/// connector needs to post the difference between the version it booked and the current one.
/// Scope `orders:read`.
#[utoipa::path(get, path = "/v1/companies/{company_id}/orders/{order_id}/versions", tag = "orders",
    params(OrderPath, VersionQuery),
    security(("oauth2" = ["orders:read"])),
    responses(
        (status = 200, description = "A page of the order's versions, each complete", body = OrderVersionList),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_order_versions(
    State(app): State<App>,
    access: CompanyAccess<OrdersRead>,
    AppPath(path): AppPath<OrderPath>,
    AppQuery(query): AppQuery<VersionQuery>,
) -> Result<Json<OrderVersionList>, ApiError> {
    let page = PageParams {
        limit: query.limit,
        cursor: query.cursor,
    };
    let limit = page.limit()?;
    let after: i32 = page.cursor()?.unwrap_or(0);
    let orders = app.store.orders();
    let rows = orders
        .versions(
            access.company_id,
            path.order_id,
            after,
            i64::from(limit) + 1,
        )
        .await?;
    if rows.is_empty() && !orders.exists(access.company_id, path.order_id).await? {
        return Err(ApiError::NotFound);
    }
    let Page { items, next } =
        Page::from_overfetch(rows, limit, |r: &OrderRecord| Cursor::encode(&r.version));
    Ok(Json(OrderVersionList {
        data: items.into_iter().map(Order::from).collect(),
        next_cursor: next,
    }))
}

/// List orders by number, order date, change time, reference, customer or status.
///
/// Sorted by change time, or by order date when `from` or `to` is given
/// without `updated_since`; each filter has an index, so a deep page costs
/// the same as the first.
#[utoipa::path(get, path = "/v1/companies/{company_id}/orders", tag = "orders",
    params(crate::params::CompanyPath, OrderQuery),
    security(("oauth2" = ["orders:read"])),
    responses(
        (status = 200, description = "A page of orders, each in its current version", body = OrderList),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_orders(
    State(app): State<App>,
    access: CompanyAccess<OrdersRead>,
    AppQuery(query): AppQuery<OrderQuery>,
) -> Result<Json<OrderList>, ApiError> {
    let company_id = access.company_id;
    let page = PageParams {
        limit: query.limit,
        cursor: query.cursor.clone(),
    };
    let limit = page.limit()?;
    let bare_date = [&query.from, &query.to]
        .into_iter()
        .flatten()
        .any(|raw| DateTime::parse_from_rfc3339(raw).is_err());
    let tz = if bare_date {
        let company = app
            .store
            .companies()
            .find(company_id)
            .await?
            .ok_or(ApiError::NotFound)?;
        Some(
            company
                .timezone
                .parse::<chrono_tz::Tz>()
                .unwrap_or(chrono_tz::Europe::Amsterdam),
        )
    } else {
        None
    };
    let from = query
        .from
        .as_deref()
        .map(|raw| moment("from", raw, tz))
        .transpose()?;
    let to = query
        .to
        .as_deref()
        .map(|raw| moment("to", raw, tz))
        .transpose()?;
    let sort = if (from.is_some() || to.is_some()) && query.updated_since.is_none() {
        OrderSort::OrderDate
    } else {
        OrderSort::UpdatedAt
    };
    let after = match page.cursor::<(OrderSort, DateTime<Utc>, Uuid)>()? {
        Some((cursor_sort, at, id)) if cursor_sort == sort => Some((at, id)),
        Some(_) => {
            return Err(ApiError::InvalidParameter(
                "cursor belongs to a list with other filters".to_owned(),
            ));
        }
        None => None,
    };
    let filter = OrderFilter {
        number: query.number,
        from,
        to,
        updated_since: query.updated_since,
        reference: query.reference,
        customer_id: query.customer_id,
        status: query.status.map(|s| s.as_str().to_owned()),
        bookings: koppel_store::bookings::BookingFilter {
            not_booked_by: query.not_booked_by,
            changed_since_booked: query.changed_since_booked,
        },
        sort,
        after,
        limit: i64::from(limit) + 1,
    };
    let rows = app.store.orders().list(company_id, &filter).await?;
    let Page { items, next } = Page::from_overfetch(rows, limit, |r: &OrderRecord| {
        let at = match sort {
            OrderSort::UpdatedAt => r.updated_at,
            OrderSort::OrderDate => r.order_date.with_timezone(&Utc),
        };
        Cursor::encode(&(sort, at, r.id))
    });
    Ok(Json(OrderList {
        data: items.into_iter().map(Order::from).collect(),
        next_cursor: next,
    }))
}
