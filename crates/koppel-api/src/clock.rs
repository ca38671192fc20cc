//! A company's clock: its timezone and business-day cutoff, which put a sale in its business day.

use chrono::NaiveTime;
use chrono_tz::Tz;
use koppel_store::CompanyRecord;
use uuid::Uuid;

use crate::App;
use crate::error::ApiError;

/// A company's clock: its timezone and business-day cutoff.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    pub tz: Tz,
    pub cutoff: NaiveTime,
}

/// Loads the company with its clock. The company exists: the access extractor checked the
/// grant, and companies are never deleted.
pub(crate) async fn company_clock(
    app: &App,
    company_id: Uuid,
) -> Result<(CompanyRecord, Clock), ApiError> {
    let company = app
        .store
        .companies()
        .find(company_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    // The timezone was checked when the company was created; the default is only a guard.
    let tz = company
        .timezone
        .parse::<Tz>()
        .unwrap_or(chrono_tz::Europe::Amsterdam);
    let clock = Clock {
        tz,
        cutoff: company.business_day_cutoff,
    };
    Ok((company, clock))
}
