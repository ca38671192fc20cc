//! Payouts from payment providers (SPEC "Payouts from payment providers"): a vendor pushes
//! each payout with its transactions, upserted by the provider's payout id; Koppel checks
//! that the nets add up, matches every payment, refund and chargeback to the order or
//! receipt payment it pays out (a document pushed later is matched when it arrives), shows
//! conflicts, and answers the payout's journal entry.

pub mod answers;
pub mod input;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use koppel_domain::journal::FeeFacts;
use koppel_domain::problem::codes;
use koppel_domain::settlement::{
    SettlementDraft, TransactionFacts, TransactionType, ValidSettlement, settlement_entry,
    validate_settlement,
};
use koppel_store::orders::{FeeRecord, fee_value};
use koppel_store::references::Wanted;
use koppel_store::settlements::{NewSettlement, NewTransaction, SettlementFilter, Upserted};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::App;
use crate::auth::extract::{CompanyAccess, JournalsRead, SettlementsRead, SettlementsWrite};
use crate::error::{ApiError, Problem, ProblemItem};
use crate::extract::{AppJson, AppPath, AppQuery, parse_item};
use crate::journal::{self, CurrentMapping, Heading, Journal};
use crate::language::Language;
use crate::params::{Cursor, Page, PageParams};
pub use answers::{Settlement, SettlementBatchItem, SettlementBatchResult, SettlementList};
pub use input::{SettlementBatchInput, SettlementInput};

/// The most payouts one batch may hold: each may have 5,000 transactions.
pub const MAX_BATCH: usize = 100;

/// The settlement routes.
pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(upsert_settlement, list_settlements))
        .routes(routes!(upsert_settlements_batch))
        .routes(routes!(get_settlement))
        .routes(routes!(get_settlement_journal))
}

/// The `company_id` and `settlement_id` path parameters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct SettlementPath {
    /// The company's id.
    pub company_id: Uuid,
    /// The settlement's id.
    pub settlement_id: Uuid,
}

/// Filters of the list of payouts.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SettlementQuery {
    /// Paid out at or after this moment (RFC 3339 with an offset).
    pub from: Option<DateTime<Utc>>,
    /// Paid out before this moment (RFC 3339 with an offset).
    pub to: Option<DateTime<Utc>>,
    /// Only this provider's.
    #[param(min_length = 1, example = "mollie")]
    pub provider: Option<String>,
    /// Only payouts that need attention: a payment, refund or chargeback not matched yet, or
    /// a conflict.
    pub unmatched: Option<bool>,
    /// How many payouts to answer, 1 to 1000; default 100.
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Push a payout of a payment provider, by the provider's payout id.
///
/// A new `external_id` creates it (201); the same one with other content replaces its
/// transactions, matched again (200, the next version); the same content again changes
/// nothing (200). Refused with every problem's pointer, nothing stored: a transaction whose
/// `net` is not its `gross` less its fee including VAT, nets that do not add up to `amount`,
/// a fee whose VAT is wrong, a payment, refund or chargeback without its
/// `provider_reference`, another currency without its exchange rate. Each payment, refund or
/// chargeback is matched to an order payment with that `provider_reference`, else one with
/// that `reference`, else a receipt payment with that `reference`; a refund or chargeback
/// first to a refund payment of a credit order of the order it names. Scope
/// `settlements:write`.
#[utoipa::path(post, path = "/v1/companies/{company_id}/settlements", tag = "settlements",
    params(crate::params::CompanyPath),
    request_body(content = SettlementInput, description = "The payout"),
    security(("oauth2" = ["settlements:write"])),
    responses(
        (status = 201, description = "The payout was created", body = Settlement),
        (status = 200, description = "The payout was updated, or was already exactly this", body = Settlement),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn upsert_settlement(
    State(app): State<App>,
    access: CompanyAccess<SettlementsWrite>,
    AppJson(draft): AppJson<SettlementDraft>,
) -> Result<(StatusCode, Json<Settlement>), ApiError> {
    let company_id = access.company_id;
    // Names no resource; loads the company's currency.
    let known = app.store.references(company_id, &Wanted::default()).await?;
    let valid = validate_settlement(&draft, &known).map_err(ApiError::InvalidRequest)?;
    let (id, done) = store(&app, company_id, &valid).await?;
    let record = app
        .store
        .settlements()
        .find(company_id, id)
        .await?
        .ok_or(ApiError::Internal)?;
    let status = if done == Upserted::Created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(record.into())))
}

/// Stores a valid payout: its id and what was done.
async fn store(
    app: &App,
    company_id: Uuid,
    valid: &ValidSettlement,
) -> Result<(Uuid, Upserted), ApiError> {
    let new = NewSettlement {
        id: Uuid::now_v7(),
        external_id: valid.external_id.clone(),
        provider: valid.provider.clone(),
        paid_out_at: valid.paid_out_at,
        currency: valid.currency.clone(),
        exchange_rate: valid.exchange_rate,
        exchange_rate_date: valid.exchange_rate_date,
        amount: valid.amount,
        reference: valid.reference.clone(),
        content_hash: koppel_domain::canonical::content_hash(&valid),
        transactions: valid
            .transactions
            .iter()
            .map(|t| NewTransaction {
                kind: t.kind.as_str().to_owned(),
                provider_reference: t.provider_reference.clone(),
                reference: t.reference.clone(),
                description: t.description.clone(),
                gross: t.gross,
                fee: t.fee.as_ref().map(fee_value),
                net: t.net,
            })
            .collect(),
    };
    Ok(app.store.settlements().upsert(company_id, &new).await?)
}

/// Push up to 100 payouts, each on its own.
///
/// Each item is checked and stored (or refused) independently, as `POST …/settlements`
/// would; the answer lists for every item `success` with its `id` and `outcome`, or its
/// `errors` with pointers into the item. More than 100 items is a 400. Scope
/// `settlements:write`.
#[utoipa::path(post, path = "/v1/companies/{company_id}/settlements/batch", tag = "settlements",
    params(crate::params::CompanyPath),
    request_body(content = SettlementBatchInput, description = "The payouts"),
    security(("oauth2" = ["settlements:write"])),
    responses(
        (status = 200, description = "Every item with its outcome, in the order sent", body = SettlementBatchResult),
        (status = "4XX", description = "The request as a whole was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn upsert_settlements_batch(
    State(app): State<App>,
    access: CompanyAccess<SettlementsWrite>,
    headers: HeaderMap,
    AppJson(body): AppJson<SettlementBatchBody>,
) -> Result<Json<SettlementBatchResult>, ApiError> {
    let company_id = access.company_id;
    if body.settlements.len() > MAX_BATCH {
        return Err(ApiError::invalid(
            "/settlements",
            codes::TOO_MANY_ITEMS,
            format!(
                "a batch holds at most {MAX_BATCH} settlements, got {}",
                body.settlements.len()
            ),
            format!(
                "een batch bevat hoogstens {MAX_BATCH} uitbetalingen, ontvangen: {}",
                body.settlements.len()
            ),
        ));
    }
    let language = Language::from_headers(&headers);
    let known = app.store.references(company_id, &Wanted::default()).await?;
    let mut data = Vec::with_capacity(body.settlements.len());
    for (index, item) in body.settlements.iter().enumerate() {
        let checked = parse_item::<SettlementDraft>(item)
            .and_then(|draft| validate_settlement(&draft, &known));
        data.push(match checked {
            Ok(valid) => {
                let (id, done) = store(&app, company_id, &valid).await?;
                SettlementBatchItem {
                    index,
                    success: true,
                    id: Some(id),
                    outcome: Some(
                        match done {
                            Upserted::Created => "created",
                            Upserted::Updated => "updated",
                            Upserted::Unchanged => "unchanged",
                        }
                        .to_owned(),
                    ),
                    errors: None,
                }
            }
            Err(violations) => SettlementBatchItem {
                index,
                success: false,
                id: None,
                outcome: None,
                errors: Some(ProblemItem::all(&violations, language)),
            },
        });
    }
    Ok(Json(SettlementBatchResult { data }))
}

/// A batch as sent: the items are parsed one by one, so one malformed item refuses only
/// itself.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettlementBatchBody {
    /// The payouts, not yet parsed.
    pub settlements: Vec<Box<serde_json::value::RawValue>>,
}

/// Get a payout with its transactions, each with the payment it pays out.
///
/// `match` is the order's or receipt's payment (`{"type", "id", "payment_index"}`), null
/// while none is pushed; `conflict` says another transaction claims the same payment.
/// `matched_total` and `unmatched_total` add up the gross of both. Scope
/// `settlements:read`.
#[utoipa::path(get, path = "/v1/companies/{company_id}/settlements/{settlement_id}", tag = "settlements",
    params(SettlementPath),
    security(("oauth2" = ["settlements:read"])),
    responses(
        (status = 200, description = "The payout", body = Settlement),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_settlement(
    State(app): State<App>,
    access: CompanyAccess<SettlementsRead>,
    AppPath(path): AppPath<SettlementPath>,
) -> Result<Json<Settlement>, ApiError> {
    let record = app
        .store
        .settlements()
        .find(access.company_id, path.settlement_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(record.into()))
}

/// List payouts by the moment they were paid out, provider, or what needs attention.
///
/// Oldest payout first, without their transactions (read one for those);
/// `unmatched=true` lists those with a payment, refund or chargeback not matched yet, or a
/// conflict. Scope `settlements:read`.
#[utoipa::path(get, path = "/v1/companies/{company_id}/settlements", tag = "settlements",
    params(crate::params::CompanyPath, SettlementQuery),
    security(("oauth2" = ["settlements:read"])),
    responses(
        (status = 200, description = "A page of payouts", body = SettlementList),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_settlements(
    State(app): State<App>,
    access: CompanyAccess<SettlementsRead>,
    AppQuery(query): AppQuery<SettlementQuery>,
) -> Result<Json<SettlementList>, ApiError> {
    let page = PageParams {
        limit: query.limit,
        cursor: query.cursor.clone(),
    };
    let limit = page.limit()?;
    let filter = SettlementFilter {
        from: query.from,
        to: query.to,
        provider: query.provider.clone(),
        unmatched: query.unmatched.unwrap_or(false),
        after: page.cursor::<(DateTime<Utc>, Uuid)>()?,
        limit: i64::from(limit) + 1,
    };
    let rows = app
        .store
        .settlements()
        .list(access.company_id, &filter)
        .await?;
    let Page { items, next } =
        Page::from_overfetch(rows, limit, |s| Cursor::encode(&(s.paid_out_at, s.id)));
    Ok(Json(SettlementList {
        data: items.into_iter().map(Settlement::from).collect(),
        next_cursor: next,
    }))
}

/// Get a payout's journal entry, balanced to the cent.
///
/// The bank debited with what reached it; each transaction's gross credited to
/// `payment_clearing` (per the matched payment's method; a refund or chargeback, being
/// negative, debited back), each fee debited to `psp_fees` with its VAT to `vat_receivable`.
/// Posted after the sales' journals, it clears what they put on `payment_clearing`. In
/// another currency every figure is converted on its own and the remainder goes to
/// `rounding`. Scope `ledger:read`.
#[utoipa::path(get, path = "/v1/companies/{company_id}/settlements/{settlement_id}/journal", tag = "journals",
    params(SettlementPath),
    security(("oauth2" = ["ledger:read"])),
    responses(
        (status = 200, description = "The payout's journal entry", body = Journal),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_settlement_journal(
    State(app): State<App>,
    access: CompanyAccess<JournalsRead>,
    AppPath(path): AppPath<SettlementPath>,
    language: Language,
) -> Result<journal::JournalAnswer, ApiError> {
    let (record, context) = tokio::try_join!(
        async {
            app.store
                .settlements()
                .find(access.company_id, path.settlement_id)
                .await?
                .ok_or(ApiError::NotFound)
        },
        journal::context(&app, access.company_id, None, None),
    )?;
    let mut facts = Vec::with_capacity(record.transactions.0.len());
    for t in &record.transactions.0 {
        let kind: TransactionType =
            serde_json::from_value(serde_json::Value::String(t.kind.clone()))
                .map_err(|_| ApiError::Internal)?;
        let fee = match &t.fee {
            Some(fee) => {
                let f: FeeRecord =
                    serde_json::from_value(fee.clone()).map_err(|_| ApiError::Internal)?;
                Some(FeeFacts {
                    rate: journal::rate_key(&f.vat.category, f.vat.percentage, &f.vat.country)
                        .ok_or(ApiError::Internal)?,
                    excl: f.amount_excl_vat,
                    vat: f.vat.amount,
                })
            }
            None => None,
        };
        facts.push(TransactionFacts {
            kind,
            gross: t.gross,
            fee,
            method_id: t
                .matched
                .as_ref()
                .and_then(|m| m.method_id)
                .map(|id| id.to_string()),
        });
    }
    let entry = settlement_entry(record.amount, record.exchange_rate, &facts);
    let settlement = Settlement::from(record);
    let mapping = CurrentMapping::of(&context);
    Ok(journal::answer(
        &entry,
        mapping.as_ref(),
        Heading {
            date: settlement.paid_out_at.date_naive(),
            description: format!("payout {} {}", settlement.provider, settlement.external_id),
            description_nl: format!(
                "uitbetaling {} {}",
                settlement.provider, settlement.external_id
            ),
            reference: settlement.external_id,
            currency: context.currency.clone(),
            revision: None,
            correction_of: None,
        },
        language,
    ))
}
