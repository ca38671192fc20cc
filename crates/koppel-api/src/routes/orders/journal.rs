//! An order's journal entry (SPEC "Journals"): its revenue and VAT per group against what
//! the buyer owes, the paid payments and their providers' fees, in the company's currency.

use axum::extract::State;
use chrono_tz::Tz;
use koppel_domain::journal::{
    DocumentFacts, FeeFacts, PartFacts, PaymentFacts, cost_role, document_entry, line_role,
    order_counts_zero, payment_role,
};
use koppel_domain::order::{CostKind, LineKind, OrderStatus};
use koppel_store::ledger::JournalContext;
use koppel_store::orders::{OrderRecord, VatRecord};

use crate::App;
use crate::auth::extract::{CompanyAccess, JournalsRead};
use crate::error::{ApiError, Problem};
use crate::extract::AppPath;
use crate::journal::{self, CurrentMapping, Heading, Journal};
use crate::language::Language;
use crate::params::OrderPath;

/// A closed value the store wrote, read back through the domain's serde names.
fn closed<T: serde::de::DeserializeOwned>(value: &str) -> Result<T, ApiError> {
    serde_json::from_value(serde_json::Value::String(value.to_owned()))
        .map_err(|_| ApiError::Internal)
}

fn rate(vat: &VatRecord) -> Result<koppel_domain::daily::RateKey, ApiError> {
    journal::rate_key(&vat.category, vat.percentage, &vat.country).ok_or(ApiError::Internal)
}

/// The facts of a stored order, as the domain's `order_facts` makes them of a valid one.
fn facts(order: &OrderRecord, context: &JournalContext) -> Result<DocumentFacts, ApiError> {
    let mut parts = Vec::with_capacity(order.lines.len() + order.costs.len());
    for (i, l) in order.lines.iter().enumerate() {
        parts.push(PartFacts {
            role: line_role(closed::<LineKind>(&l.kind)?),
            rate: rate(&l.vat)?,
            category_id: l.category_id.map(|id| id.to_string()),
            excl: l.total_excl_vat,
            vat: l.vat.amount,
            source: format!("/lines/{i}"),
        });
    }
    for (i, c) in order.costs.iter().enumerate() {
        parts.push(PartFacts {
            role: cost_role(closed::<CostKind>(&c.kind)?),
            rate: rate(&c.vat)?,
            category_id: None,
            excl: c.amount_excl_vat,
            vat: c.vat.amount,
            source: format!("/costs/{i}"),
        });
    }
    let mut payments = Vec::with_capacity(order.payments.len());
    for (i, p) in order.payments.iter().enumerate() {
        let method_id = p.method_id.to_string();
        let kind = journal::method_kind(context, &method_id);
        payments.push(PaymentFacts {
            role: payment_role(kind.as_deref().unwrap_or("other"), false),
            method_id,
            status: Some(p.status),
            amount: p.amount,
            fee: match &p.fee {
                Some(f) => Some(FeeFacts {
                    rate: rate(&f.vat)?,
                    excl: f.amount_excl_vat,
                    vat: f.vat.amount,
                }),
                None => None,
            },
            source: format!("/payments/{i}"),
        });
    }
    Ok(DocumentFacts {
        parts,
        payments,
        exchange_rate: order.totals_company.and(order.details.exchange_rate),
        on_account: true,
        cash_rounding: Default::default(),
        voucher_redemptions: Vec::new(),
        counts_zero: order_counts_zero(
            closed::<OrderStatus>(&order.status)?,
            context.has_credit_orders,
        ),
    })
}

/// Get an order's journal entry, balanced to the cent.
///
/// The order's current version as one entry on its tax point (invoice date, else the order's
/// date in the company's timezone): revenue per VAT group (shipping, payment costs,
/// surcharges, discounts, gift cards and deposits on their own roles) and VAT payable per
/// group, credited against `receivable` for the total; each paid payment moves from
/// `receivable` to its method's role (`payment_clearing`, `cash`, `gift_card_liability`),
/// and a provider's fee is debited to `psp_fees` with its VAT to `vat_receivable`. An
/// order in another currency posts its company-currency figures. A cancelled order, or one
/// refunded in full without a credit order, has no lines. Accounts come from the company's
/// ledger mapping; a role it does not map shows its name and is listed in `unmapped`.
/// Scope `ledger:read`.
#[utoipa::path(get, path = "/v1/companies/{company_id}/orders/{order_id}/journal", tag = "journals",
    params(OrderPath),
    security(("oauth2" = ["ledger:read"])),
    responses(
        (status = 200, description = "The order's journal entry", body = Journal),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_order_journal(
    State(app): State<App>,
    access: CompanyAccess<JournalsRead>,
    AppPath(path): AppPath<OrderPath>,
    language: Language,
) -> Result<journal::JournalAnswer, ApiError> {
    let (order, context) = tokio::try_join!(
        async {
            app.store
                .orders()
                .find(access.company_id, path.order_id)
                .await?
                .ok_or(ApiError::NotFound)
        },
        journal::context(&app, access.company_id, Some(path.order_id), None),
    )?;
    let entry = document_entry(&facts(&order, &context)?);
    let tz: Tz = context
        .timezone
        .parse()
        .unwrap_or(chrono_tz::Europe::Amsterdam);
    let date = order
        .details
        .invoice_date
        .unwrap_or_else(|| order.order_date.with_timezone(&tz).date_naive());
    let reference = order
        .number
        .clone()
        .unwrap_or_else(|| order.external_id.clone());
    let mapping = CurrentMapping::of(&context);
    Ok(journal::answer(
        &entry,
        mapping.as_ref(),
        Heading {
            date,
            description: format!("order {reference}"),
            description_nl: format!("order {reference}"),
            reference,
            currency: context.currency.clone(),
            revision: None,
            correction_of: None,
        },
        language,
    ))
}
