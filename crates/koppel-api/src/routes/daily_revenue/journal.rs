//! A business day's journal entry (SPEC "Journals"), of its latest revision or one named,
//! and the correcting entry between two revisions: from the day's figures only, never its
//! receipts, so a day of any size costs the same.

use axum::extract::State;
use chrono::Utc;
use koppel_domain::journal::{CashMove, DayCash, DayFacts, DayPayment, DayRate, Entry, day_entry};
use serde::Deserialize;
use utoipa::IntoParams;

use super::answers::DailyRevenue;
use super::revisions::{day_key, revisions};
use crate::App;
use crate::auth::extract::{CompanyAccess, JournalsRead};
use crate::error::{ApiError, Problem};
use crate::extract::{AppPath, AppQuery};
use crate::journal::{self, CurrentMapping, Heading, Journal};
use crate::language::Language;
use crate::params::DayPath;

/// Which revision to post, or which correction.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DayJournalQuery {
    /// The vendor's location id; the whole company's day when left out.
    pub location_id: Option<String>,
    /// The revision to post; the latest when left out.
    #[param(minimum = 1, example = 2)]
    pub revision: Option<i32>,
    /// Answer the correcting entry from this revision to `revision` (or the latest): post it
    /// after the entry of this revision to bring the books to the later one.
    #[param(minimum = 1, example = 1)]
    pub correction_of: Option<i32>,
}

/// The facts of a day as answered.
fn facts(day: &DailyRevenue) -> Result<DayFacts, ApiError> {
    let mut by_vat_rate = Vec::with_capacity(day.by_vat_rate.len());
    for r in &day.by_vat_rate {
        by_vat_rate.push(DayRate {
            rate: journal::rate_key(&r.category, r.percentage, &r.country)
                .ok_or(ApiError::Internal)?,
            base: r.base,
            vat: r.vat,
        });
    }
    Ok(DayFacts {
        by_vat_rate,
        by_payment_method: day
            .by_payment_method
            .iter()
            .map(|p| DayPayment {
                method_id: p.method_id.to_string(),
                kind: p.kind.clone(),
                amount: p.amount,
            })
            .collect(),
        tips: day.tips,
        gift_cards_multi_purpose: day.gift_cards.sold_multi_purpose,
        deposits: day.deposits,
        cash_rounding: day.cash_rounding,
        cash: day.cash.as_ref().map(|c| {
            let moves = |list: &[super::cash::DayCashMove]| {
                list.iter()
                    .map(|m| CashMove {
                        amount: m.amount,
                        description: m.description.clone(),
                    })
                    .collect()
            };
            DayCash {
                difference: c.difference,
                bank_deposit: c.bank_deposit,
                pay_ins: moves(&c.pay_ins),
                pay_outs: moves(&c.pay_outs),
            }
        }),
    })
}

/// Get a business day's journal entry, or the correction between two of its revisions.
///
/// One entry on the business date, from the day's figures (never its receipts): revenue and
/// VAT payable per rate (net of single-purpose vouchers redeemed), tips, multi-purpose gift
/// cards sold and deposits credited to their roles; payments debited per method (`cash`,
/// `payment_clearing`, `gift_card_liability` for gift cards taken); cash rounding to
/// `rounding`. Where the figures leave a difference, at most 0.01 per rate goes to
/// `rounding` and more to `cash_difference`, never hidden. A day closed with a Z-report also
/// posts the counted cash difference (`cash` against `cash_difference`), the bank deposit
/// (`bank` against `cash`) and each pay-in and pay-out (`cash` against `cash_transfers`, a
/// suspense account the bookkeeper clears). `?revision=n` posts revision n; `?correction_of=m` answers what to
/// post after revision m's entry to reach the later one. Scope `ledger:read`.
#[utoipa::path(get, path = "/v1/companies/{company_id}/daily-revenue/{date}/journal", tag = "journals",
    params(DayPath, DayJournalQuery),
    security(("oauth2" = ["ledger:read"])),
    responses(
        (status = 200, description = "The day's journal entry", body = Journal),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_day_journal(
    State(app): State<App>,
    access: CompanyAccess<JournalsRead>,
    AppPath(path): AppPath<DayPath>,
    AppQuery(query): AppQuery<DayJournalQuery>,
    language: Language,
) -> Result<journal::JournalAnswer, ApiError> {
    let company_id = access.company_id;
    let key = day_key(&app, company_id, &path.date, query.location_id).await?;
    // The context (company, mapping) and the day are read side by side.
    let (context, day) = tokio::try_join!(journal::context(&app, company_id, None, None), async {
        Ok::<_, ApiError>(
            app.store
                .daily_revenue()
                .find(company_id, &key, Utc::now())
                .await?,
        )
    },)?;
    let current = day
        .map(|d| DailyRevenue::from_record(d, &context.currency))
        .ok_or(ApiError::NotFound)?;
    // A kept revision, or the current figures when it is the latest.
    let figures = async |revision: i32| -> Result<DailyRevenue, ApiError> {
        if revision < 1 || revision > current.revision {
            return Err(ApiError::NotFound);
        }
        if revision == current.revision {
            return Ok(current.clone());
        }
        let (_, rows) = revisions(&app, company_id, &key, revision - 1, 1).await?;
        rows.into_iter()
            .map(|(_, day)| day)
            .find(|day| day.revision == revision)
            .ok_or(ApiError::NotFound)
    };
    let target = figures(query.revision.unwrap_or(current.revision)).await?;
    let mut entry = day_entry(&facts(&target)?);
    if let Some(from) = query.correction_of {
        if from >= target.revision {
            return Err(ApiError::InvalidParameter(format!(
                "correction_of must be an earlier revision than {}",
                target.revision
            )));
        }
        let earlier = figures(from).await?;
        entry = Entry::correction(&day_entry(&facts(&earlier)?), &entry);
    }
    let mapping = CurrentMapping::of(&context);
    let reference = match &target.location_id {
        Some(location) => format!("{} {location}", target.date),
        None => target.date.to_string(),
    };
    let revision = target.revision;
    let (description, description_nl) = match query.correction_of {
        Some(from) => (
            format!("daily revenue {reference}: correction from revision {from} to {revision}"),
            format!("dagomzet {reference}: correctie van revisie {from} naar {revision}"),
        ),
        None => (
            format!("daily revenue {reference}, revision {revision}"),
            format!("dagomzet {reference}, revisie {revision}"),
        ),
    };
    Ok(journal::answer(
        &entry,
        mapping.as_ref(),
        Heading {
            date: target.date,
            reference,
            description,
            description_nl,
            currency: context.currency.clone(),
            revision: Some(target.revision),
            correction_of: query.correction_of,
        },
        language,
    ))
}
