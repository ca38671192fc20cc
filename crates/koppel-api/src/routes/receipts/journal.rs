//! A receipt's journal entry (SPEC "Journals"): its revenue and VAT per group, tips, gift
//! cards and deposits on their own roles, against what was paid, on its business date.

use axum::extract::State;
use koppel_domain::daily::RateFigures;
use koppel_domain::journal::{
    DocumentFacts, PartFacts, PaymentFacts, document_entry, payment_role, receipt_line_role,
};
use koppel_domain::receipt::ReceiptLineKind;
use koppel_store::ledger::JournalContext;
use koppel_store::receipts::ReceiptRecord;

use crate::App;
use crate::auth::extract::{CompanyAccess, JournalsRead};
use crate::error::{ApiError, Problem};
use crate::extract::AppPath;
use crate::journal::{self, CurrentMapping, Heading, Journal};
use crate::language::Language;
use crate::params::ReceiptPath;

/// The facts of a stored receipt, as the domain's `receipt_facts` makes them of a valid one.
fn facts(receipt: &ReceiptRecord, context: &JournalContext) -> Result<DocumentFacts, ApiError> {
    let mut parts = Vec::with_capacity(receipt.lines.len());
    for (i, l) in receipt.lines.iter().enumerate() {
        let kind: ReceiptLineKind =
            serde_json::from_value(serde_json::Value::String(l.kind.clone()))
                .map_err(|_| ApiError::Internal)?;
        parts.push(PartFacts {
            role: receipt_line_role(kind),
            rate: journal::rate_key(&l.vat.category, l.vat.percentage, &l.vat.country)
                .ok_or(ApiError::Internal)?,
            category_id: Some(l.category_id.to_string()),
            excl: l.total_excl_vat,
            vat: l.vat.amount,
            source: format!("/lines/{i}"),
        });
    }
    let payments = receipt
        .payments
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let method_id = p.method_id.to_string();
            let kind = journal::method_kind(context, &method_id);
            PaymentFacts {
                role: payment_role(kind.as_deref().unwrap_or("other"), true),
                method_id,
                status: None,
                amount: p.amount - p.change,
                fee: None,
                source: format!("/payments/{i}"),
            }
        })
        .collect();
    let mut voucher_redemptions = Vec::new();
    for v in &context.voucher_shares.0 {
        voucher_redemptions.push((
            journal::rate_key(&v.vat_category, v.vat_percentage, &v.vat_country)
                .ok_or(ApiError::Internal)?,
            RateFigures {
                base: v.base,
                vat: v.vat,
            },
        ));
    }
    Ok(DocumentFacts {
        parts,
        payments,
        exchange_rate: receipt.totals_company.and(receipt.exchange_rate),
        on_account: false,
        cash_rounding: receipt.cash_rounding,
        voucher_redemptions,
        counts_zero: false,
    })
}

/// Get a receipt's journal entry, balanced to the cent.
///
/// One entry on the receipt's business date: revenue per VAT group and VAT payable per
/// group credited (tips to `tips_payable`, multi-purpose gift cards sold to
/// `gift_card_liability`, deposits to `deposits`), each payment debited to its method's role
/// net of change (`cash`, `payment_clearing`, `gift_card_liability` for a gift card taken,
/// `receivable` on account); what single-purpose vouchers paid is taken back out of revenue
/// and VAT (it was revenue when the voucher was sold) and not posted as a payment; cash
/// rounding to `rounding`. A receipt in another currency posts its company-currency figures
/// as its day counts them (each VAT group converted on its own, each payment too, the last
/// payment taking what makes them the converted total). Most connectors post the day's journal instead
/// (`…/daily-revenue/{date}/journal`). Scope `ledger:read`.
#[utoipa::path(get, path = "/v1/companies/{company_id}/receipts/{receipt_id}/journal", tag = "journals",
    params(ReceiptPath),
    security(("oauth2" = ["ledger:read"])),
    responses(
        (status = 200, description = "The receipt's journal entry", body = Journal),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_receipt_journal(
    State(app): State<App>,
    access: CompanyAccess<JournalsRead>,
    AppPath(path): AppPath<ReceiptPath>,
    language: Language,
) -> Result<journal::JournalAnswer, ApiError> {
    let (receipt, context) = tokio::try_join!(
        async {
            app.store
                .receipts()
                .find(access.company_id, path.receipt_id)
                .await?
                .ok_or(ApiError::NotFound)
        },
        journal::context(&app, access.company_id, None, Some(path.receipt_id)),
    )?;
    let entry = document_entry(&facts(&receipt, &context)?);
    let reference = receipt
        .number
        .clone()
        .unwrap_or_else(|| receipt.external_id.clone());
    let mapping = CurrentMapping::of(&context);
    Ok(journal::answer(
        &entry,
        mapping.as_ref(),
        Heading {
            date: receipt.business_date,
            description: format!("receipt {reference}"),
            description_nl: format!("kassabon {reference}"),
            reference,
            currency: context.currency.clone(),
            revision: None,
            correction_of: None,
        },
        language,
    ))
}
