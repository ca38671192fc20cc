//! POS receipts (K5, K6, K7a, K7b): pushed one at a time or up to 1000 per batch, checked against
//! every rule of `docs/bookkeeping-rules.md`, stored immutably, counted in their business day's
//! figures (see `daily_revenue.rs`), and searched.

mod input;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use koppel_domain::problem::Violation;
use koppel_domain::problem::codes;
use koppel_domain::receipt::ReceiptDraft;
use koppel_store::receipts::{
    InsertOutcome, NewReceipt, ReceiptFilter, ReceiptOrder, ReceiptRecord,
};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::App;
use crate::auth::extract::{CompanyAccess, ReceiptsRead, ReceiptsWrite};
use crate::clock::company_clock;
use crate::error::{ApiError, Problem, ProblemItem};
use crate::extract::{AppJson, AppPath, AppQuery, parse_item};
use crate::language::Language;
use crate::params::{Cursor, Page, PageParams, ReceiptPath};
use answers::{
    Receipt, ReceiptBatchItem, ReceiptBatchResult, ReceiptList, ReceiptOutcome, ReceiptTotals,
    ReceiptValidation, ReceiptVatGroup, cents,
};
use flow::{check, content_hash, immutable, load_references, moment, prepare};
use query::{BatchBody, ReceiptQuery};

pub use input::{
    ReceiptBatchInput, ReceiptInput, ReceiptLineInput, ReceiptLineKindInput, ReceiptPaymentInput,
    ReceiptTotalsInput, ReceiptVatCategoryInput, ReceiptVatInput,
};

mod answers;
mod flow;
mod journal;
mod query;

/// The most receipts one batch may hold (SPEC "Limits").
pub const MAX_BATCH: usize = 1000;

/// The receipt routes.
pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(create_receipt, list_receipts))
        .routes(routes!(get_receipt))
        .routes(routes!(create_receipts_batch))
        .routes(routes!(validate_receipt_only))
        .routes(routes!(journal::get_receipt_journal))
}

// ------------------------------------------------------------------ handlers

/// Store a receipt.
///
/// The receipt is checked against every rule (lines add up, payments minus change plus cash
/// rounding equal the total, every line has VAT, a product code and a category, …) and every
/// problem is listed in one 400. A stored receipt counts at once in its business day's
/// figures; one that arrives after its day was final is stored, marked `late`, and revises
/// the day. Receipts are immutable: an identical resend answers the stored receipt with 200,
/// other content under the same `external_id` is a 400.
#[utoipa::path(post, path = "/v1/companies/{company_id}/receipts", tag = "receipts",
    params(crate::params::CompanyPath),
    request_body(content = ReceiptInput, description = "The receipt"),
    security(("oauth2" = ["receipts:write"])),
    responses(
        (status = 201, description = "The receipt was stored", body = Receipt),
        (status = 200, description = "The receipt was already stored with exactly this content", body = Receipt),
        (status = "4XX", description = "The request was refused; a 400 lists every problem with its pointer", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_receipt(
    State(app): State<App>,
    access: CompanyAccess<ReceiptsWrite>,
    AppJson(draft): AppJson<ReceiptDraft>,
) -> Result<(StatusCode, Json<Receipt>), ApiError> {
    let company_id = access.company_id;
    let (_, clock) = company_clock(&app, company_id).await?;
    let known = load_references(&app, company_id, &[&draft]).await?;
    let valid = check(&draft, &known).map_err(ApiError::InvalidRequest)?;
    let new = prepare(valid, clock);
    let outcome = app
        .store
        .receipts()
        .insert(company_id, std::slice::from_ref(&new), Utc::now())
        .await?
        .pop()
        .ok_or(ApiError::Internal)?;
    let (status, id) = match outcome {
        InsertOutcome::Created { id, .. } => (StatusCode::CREATED, id),
        InsertOutcome::Unchanged { id } => (StatusCode::OK, id),
        InsertOutcome::Conflict { id } => {
            return Err(ApiError::InvalidRequest(vec![immutable(id)]));
        }
    };
    let record = app
        .store
        .receipts()
        .find(company_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((status, Json(record.into())))
}

/// Store up to 1000 receipts, each on its own.
///
/// Each item is checked and stored (or refused) independently, all in one transaction; the
/// answer lists for every item `success` with its `id`, or its `errors` with pointers into
/// the item. More than 1000 items is a 400.
#[utoipa::path(post, path = "/v1/companies/{company_id}/receipts/batch", tag = "receipts",
    params(crate::params::CompanyPath),
    request_body(content = ReceiptBatchInput, description = "The receipts"),
    security(("oauth2" = ["receipts:write"])),
    responses(
        (status = 200, description = "Every item with its outcome, in the order sent", body = ReceiptBatchResult),
        (status = "4XX", description = "The request as a whole was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_receipts_batch(
    State(app): State<App>,
    access: CompanyAccess<ReceiptsWrite>,
    headers: HeaderMap,
    AppJson(body): AppJson<BatchBody>,
) -> Result<Json<ReceiptBatchResult>, ApiError> {
    let company_id = access.company_id;
    if body.receipts.len() > MAX_BATCH {
        return Err(ApiError::invalid(
            "/receipts",
            codes::TOO_MANY_ITEMS,
            format!(
                "a batch holds at most {MAX_BATCH} receipts, got {}",
                body.receipts.len()
            ),
            format!(
                "een batch bevat hoogstens {MAX_BATCH} bonnen, ontvangen: {}",
                body.receipts.len()
            ),
        ));
    }
    let language = Language::from_headers(&headers);
    let (_, clock) = company_clock(&app, company_id).await?;
    let parsed: Vec<Result<ReceiptDraft, Vec<Violation>>> =
        body.receipts.iter().map(|item| parse_item(item)).collect();
    let drafts: Vec<&ReceiptDraft> = parsed.iter().filter_map(|p| p.as_ref().ok()).collect();
    let known = load_references(&app, company_id, &drafts).await?;
    let checked: Vec<Result<NewReceipt, Vec<Violation>>> = parsed
        .into_iter()
        .map(|p| {
            p.and_then(|draft| check(&draft, &known))
                .map(|valid| prepare(valid, clock))
        })
        .collect();
    let news: Vec<NewReceipt> = checked
        .iter()
        .filter_map(|c| c.as_ref().ok())
        .cloned()
        .collect();
    let mut outcomes = if news.is_empty() {
        Vec::new()
    } else {
        app.store
            .receipts()
            .insert(company_id, &news, Utc::now())
            .await?
    }
    .into_iter();
    let failed = |index, violations: &[Violation]| ReceiptBatchItem {
        index,
        success: false,
        id: None,
        outcome: None,
        late: None,
        errors: Some(ProblemItem::all(violations, language)),
    };
    let data = checked
        .iter()
        .enumerate()
        .map(
            |(index, c)| match (c, if c.is_ok() { outcomes.next() } else { None }) {
                (Err(violations), _) => failed(index, violations),
                (Ok(_), Some(InsertOutcome::Created { id, late })) => ReceiptBatchItem {
                    index,
                    success: true,
                    id: Some(id),
                    outcome: Some(ReceiptOutcome::Created.as_str().to_owned()),
                    late: Some(late),
                    errors: None,
                },
                (Ok(_), Some(InsertOutcome::Unchanged { id })) => ReceiptBatchItem {
                    index,
                    success: true,
                    id: Some(id),
                    outcome: Some(ReceiptOutcome::Unchanged.as_str().to_owned()),
                    late: None,
                    errors: None,
                },
                (Ok(_), Some(InsertOutcome::Conflict { id })) => failed(index, &[immutable(id)]),
                (Ok(_), None) => failed(index, &[]),
            },
        )
        .collect();
    Ok(Json(ReceiptBatchResult { data }))
}

/// Check a receipt against every rule without storing it.
///
/// Answers the business date, totals and VAT breakdown Koppel would store, or a 400 that
/// lists every problem with its pointer; other content under the `external_id` of a stored
/// receipt is refused as storing it would be (`receipt_immutable`).
#[utoipa::path(post, path = "/v1/companies/{company_id}/receipts/validate", tag = "receipts",
    params(crate::params::CompanyPath),
    request_body(content = ReceiptInput, description = "The receipt to check"),
    security(("oauth2" = ["receipts:write"])),
    responses(
        (status = 200, description = "The receipt passes every rule; nothing was stored", body = ReceiptValidation),
        (status = "4XX", description = "The receipt breaks rules; a 400 lists every problem with its pointer", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn validate_receipt_only(
    State(app): State<App>,
    access: CompanyAccess<ReceiptsWrite>,
    AppJson(draft): AppJson<ReceiptDraft>,
) -> Result<Json<ReceiptValidation>, ApiError> {
    let company_id = access.company_id;
    let (_, clock) = company_clock(&app, company_id).await?;
    let known = load_references(&app, company_id, &[&draft]).await?;
    let valid = check(&draft, &known).map_err(ApiError::InvalidRequest)?;
    // Storing it would also compare it with a receipt stored under its external id.
    let hash = content_hash(&valid);
    if let Some((id, stored)) = app
        .store
        .receipts()
        .stored_hash(company_id, &valid.external_id)
        .await?
        && stored != hash
    {
        return Err(ApiError::InvalidRequest(vec![immutable(id)]));
    }
    let totals = |t: koppel_domain::document::Totals| ReceiptTotals {
        total_excl_vat: t.total_excl_vat,
        total_vat: t.total_vat,
        total_incl_vat: t.total_incl_vat,
    };
    Ok(Json(ReceiptValidation {
        valid: true,
        business_date: valid.business_date(clock.tz, clock.cutoff),
        totals: totals(valid.totals),
        revenue: totals(valid.split.revenue),
        tips: cents(valid.split.tips),
        gift_cards_multi_purpose: cents(valid.split.gift_cards_multi_purpose),
        deposits: cents(valid.split.deposits),
        vat_breakdown: valid
            .vat_breakdown
            .iter()
            .map(ReceiptVatGroup::of)
            .collect(),
        totals_company_currency: valid.company_currency.as_ref().map(|c| totals(c.totals)),
        vat_breakdown_company_currency: valid
            .company_currency
            .as_ref()
            .map(|c| c.vat_breakdown.iter().map(ReceiptVatGroup::of).collect()),
    }))
}

/// Get one receipt, with its lines and payments.
///
/// The receipt as stored (receipts do not change), with its business date as Koppel derived it
/// from the company's timezone and cutoff, and its VAT breakdown per category, rate and
/// country. Scope `receipts:read`.
#[utoipa::path(get, path = "/v1/companies/{company_id}/receipts/{receipt_id}", tag = "receipts",
    params(ReceiptPath),
    security(("oauth2" = ["receipts:read"])),
    responses(
        (status = 200, description = "The receipt", body = Receipt),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_receipt(
    State(app): State<App>,
    access: CompanyAccess<ReceiptsRead>,
    AppPath(path): AppPath<ReceiptPath>,
) -> Result<Json<Receipt>, ApiError> {
    let record = app
        .store
        .receipts()
        .find(access.company_id, path.receipt_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(record.into()))
}

/// The sort key a cursor carries: which order, then the timestamp and id of the last item.
#[derive(Debug, Serialize, Deserialize)]
struct ReceiptCursor(char, DateTime<Utc>, Uuid);

/// List receipts by number, period, business date, location, change time or reference.
///
/// Keyset-paginated: a deep page costs the same as the first.
#[utoipa::path(get, path = "/v1/companies/{company_id}/receipts", tag = "receipts",
    params(crate::params::CompanyPath, ReceiptQuery),
    security(("oauth2" = ["receipts:read"])),
    responses(
        (status = 200, description = "A page of receipts", body = ReceiptList),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_receipts(
    State(app): State<App>,
    access: CompanyAccess<ReceiptsRead>,
    AppQuery(query): AppQuery<ReceiptQuery>,
) -> Result<Json<ReceiptList>, ApiError> {
    let company_id = access.company_id;
    let page = PageParams {
        limit: query.limit,
        cursor: query.cursor.clone(),
    };
    let limit = page.limit()?;
    let tz = if query.from.is_some() || query.to.is_some() {
        Some(company_clock(&app, company_id).await?.1.tz)
    } else {
        None
    };
    let tz = tz.unwrap_or(chrono_tz::Europe::Amsterdam);
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
    let narrowed = query.number.is_some()
        || from.is_some()
        || to.is_some()
        || query.business_date.is_some()
        || query.location_id.is_some()
        || query.reference.is_some();
    let (order, tag) = if query.updated_since.is_none() && narrowed {
        (ReceiptOrder::Created, 'c')
    } else {
        (ReceiptOrder::Updated, 'u')
    };
    let after = match page.cursor::<ReceiptCursor>()? {
        None => None,
        Some(ReceiptCursor(t, at, id)) if t == tag => Some((at, id)),
        Some(_) => {
            return Err(ApiError::InvalidParameter(
                "cursor belongs to a list with other filters".to_owned(),
            ));
        }
    };
    let filter = ReceiptFilter {
        number: query.number,
        from,
        to,
        business_date: query.business_date,
        location_id: query.location_id,
        updated_since: query.updated_since,
        reference: query.reference,
        bookings: koppel_store::bookings::BookingFilter {
            not_booked_by: query.not_booked_by,
            changed_since_booked: query.changed_since_booked,
        },
        order,
        after,
        limit: i64::from(limit) + 1,
    };
    let rows = app.store.receipts().list(company_id, &filter).await?;
    let Page { items, next } = Page::from_overfetch(rows, limit, |r: &ReceiptRecord| {
        let at = match order {
            ReceiptOrder::Created => r.created_at.with_timezone(&Utc),
            ReceiptOrder::Updated => r.updated_at,
        };
        Cursor::encode(&ReceiptCursor(tag, at, r.id))
    });
    Ok(Json(ReceiptList {
        data: items.into_iter().map(Receipt::from).collect(),
        next_cursor: next,
    }))
}
