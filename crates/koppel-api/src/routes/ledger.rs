//! A company's ledger mapping (SPEC "Journals"): which account and VAT code each ledger role
//! posts to in the company's bookkeeping package, put by its connector (or the platform
//! operator) and versioned, so that every journal says which version it used; and which
//! roles a period's documents need that the mapping does not give an account.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, NaiveDate, Utc};
use koppel_domain::daily::RateKey;
use koppel_domain::journal::{Posting, Role, cost_role, line_role, payment_role};
use koppel_domain::ledger::{LedgerMapping, MappingDraft, check_mapping};
use koppel_domain::order::{CostKind, LineKind};
use koppel_store::ledger::{MappingEntryRecord, MappingRecord, NeedRow};
use koppel_store::references::Wanted;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::App;
use crate::auth::extract::{CompanyAccess, LedgerRead, LedgerWrite};
use crate::error::{ApiError, Problem};
use crate::extract::{AppJson, AppQuery};
use crate::journal::{self, JournalRate};

/// The ledger mapping routes.
pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(put_ledger_mapping, get_ledger_mapping))
        .routes(routes!(get_unmapped_roles))
}

/// A ledger mapping to put: it replaces the current one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LedgerMappingInput {
    /// The bookkeeping package the accounts are of, as connectors name it in bookings.
    #[schema(example = "exact-online")]
    pub package: String,
    /// The accounts per role; at most 1000. Per role, an entry may name a VAT rate, payment
    /// method or category (as the role allows); a posting goes to the entry that names most
    /// of what it has, so give each role an entry without them as its catch-all.
    #[schema(max_items = 1000)]
    pub accounts: Vec<LedgerAccountInput>,
}

/// One account of a mapping.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LedgerAccountInput {
    /// The ledger role.
    #[schema(value_type = crate::closed_sets::LedgerRole, example = "revenue")]
    pub role: String,
    /// The package's account code.
    #[schema(example = "8000")]
    pub account: String,
    /// The package's VAT code for postings of this entry.
    #[schema(example = "2")]
    pub vat_code: Option<String>,
    /// Only for postings at this VAT rate of the company (roles split by rate).
    pub rate_id: Option<Uuid>,
    /// The same rate by your id.
    pub rate_external_id: Option<String>,
    /// Only for postings of this payment method (roles split by method).
    pub method_id: Option<Uuid>,
    /// The same method by your id.
    pub method_external_id: Option<String>,
    /// Only for revenue of this category.
    pub category_id: Option<Uuid>,
    /// The same category by your id.
    pub category_external_id: Option<String>,
}

/// One account of the mapping, with both ids of what it is for.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LedgerAccount {
    /// The ledger role.
    #[schema(value_type = crate::closed_sets::LedgerRole, example = "revenue")]
    pub role: String,
    /// The account code.
    #[schema(example = "8000")]
    pub account: String,
    /// The VAT code.
    pub vat_code: Option<String>,
    /// The VAT rate it is for.
    pub rate_id: Option<Uuid>,
    /// That rate's external id.
    pub rate_external_id: Option<String>,
    /// The payment method it is for.
    pub method_id: Option<Uuid>,
    /// That method's external id.
    pub method_external_id: Option<String>,
    /// The category it is for.
    pub category_id: Option<Uuid>,
    /// That category's external id.
    pub category_external_id: Option<String>,
}

impl From<&MappingEntryRecord> for LedgerAccount {
    fn from(e: &MappingEntryRecord) -> Self {
        LedgerAccount {
            role: e.role.clone(),
            account: e.account.clone(),
            vat_code: e.vat_code.clone(),
            rate_id: e.rate_id,
            rate_external_id: e.rate_external_id.clone(),
            method_id: e.method_id,
            method_external_id: e.method_external_id.clone(),
            category_id: e.category_id,
            category_external_id: e.category_external_id.clone(),
        }
    }
}

/// A company's ledger mapping.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LedgerMappingAnswer {
    /// Counts changes from 1; 0 before the first mapping. Journals name the version they
    /// used.
    pub version: i32,
    /// The bookkeeping package; null before the first mapping.
    pub package: Option<String>,
    /// When this version was put; null before the first mapping.
    pub updated_at: Option<DateTime<Utc>>,
    /// The accounts, in the order put.
    pub accounts: Vec<LedgerAccount>,
    /// The roles without any account yet.
    #[schema(value_type = Vec<crate::closed_sets::LedgerRole>)]
    pub unmapped: Vec<String>,
}

impl LedgerMappingAnswer {
    fn of(record: Option<MappingRecord>) -> Self {
        let Some(record) = record else {
            return LedgerMappingAnswer {
                version: 0,
                package: None,
                updated_at: None,
                accounts: Vec::new(),
                unmapped: Role::ALL.iter().map(|r| r.as_str().to_owned()).collect(),
            };
        };
        let mapping = journal::mapping_of(&record.entries.0, &record.package);
        LedgerMappingAnswer {
            version: record.version,
            package: Some(record.package),
            updated_at: Some(record.created_at),
            accounts: record.entries.0.iter().map(LedgerAccount::from).collect(),
            unmapped: mapping
                .unmapped_roles()
                .iter()
                .map(|r| r.as_str().to_owned())
                .collect(),
        }
    }
}

/// Put the company's ledger mapping.
///
/// Replaces the mapping as a whole. A mapping that differs from the current one becomes a
/// new version; the same one again changes nothing (the same version is answered). Every
/// problem is answered at once with its pointer: an unknown role, an account that is empty
/// or longer than 64 characters, a rate, method or category the company does not have, one
/// the role is not split by, or the same role and qualifiers twice. Scope `ledger:write`
/// (connectors), or `admin` for any company.
#[utoipa::path(put, path = "/v1/companies/{company_id}/ledger-mapping", tag = "journals",
    params(crate::params::CompanyPath),
    request_body(content = LedgerMappingInput, description = "The mapping"),
    security(("oauth2" = ["ledger:write"])),
    responses(
        (status = 200, description = "The mapping as it now is", body = LedgerMappingAnswer),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_ledger_mapping(
    State(app): State<App>,
    access: CompanyAccess<LedgerWrite>,
    AppJson(draft): AppJson<MappingDraft>,
) -> Result<Json<LedgerMappingAnswer>, ApiError> {
    let mut wanted = Wanted::default();
    for e in &draft.accounts {
        wanted.vat_rates.extend(e.rate_id.clone());
        wanted
            .vat_rate_external_ids
            .extend(e.rate_external_id.clone());
        wanted.payment_methods.extend(e.method_id.clone());
        wanted
            .payment_method_external_ids
            .extend(e.method_external_id.clone());
        wanted.categories.extend(e.category_id.clone());
        wanted
            .category_external_ids
            .extend(e.category_external_id.clone());
    }
    let known = app.store.references(access.company_id, &wanted).await?;
    let mapping = check_mapping(&draft, &known).map_err(ApiError::InvalidRequest)?;
    let entries = serde_json::to_value(&mapping.entries).map_err(|e| ApiError::internal(&e))?;
    let ledger = app.store.ledger();
    ledger
        .put(
            access.company_id,
            access.principal.client_id,
            &mapping.package,
            &entries,
        )
        .await?;
    Ok(Json(LedgerMappingAnswer::of(
        ledger.current(access.company_id).await?,
    )))
}

/// Get the company's ledger mapping, with the roles it does not map yet.
///
/// Before the first mapping: version 0, no accounts, every role unmapped. Scope
/// `ledger:read` (connectors), or `admin` for any company.
#[utoipa::path(get, path = "/v1/companies/{company_id}/ledger-mapping", tag = "journals",
    params(crate::params::CompanyPath),
    security(("oauth2" = ["ledger:read"])),
    responses(
        (status = 200, description = "The mapping", body = LedgerMappingAnswer),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_ledger_mapping(
    State(app): State<App>,
    access: CompanyAccess<LedgerRead>,
) -> Result<Json<LedgerMappingAnswer>, ApiError> {
    Ok(Json(LedgerMappingAnswer::of(
        app.store.ledger().current(access.company_id).await?,
    )))
}

/// The period whose documents to look at.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UnmappedQuery {
    /// The first date (inclusive), YYYY-MM-DD: orders by tax point, days by business date.
    #[param(value_type = String, example = "2026-01-01")]
    pub from: NaiveDate,
    /// The date to stop before (exclusive), YYYY-MM-DD.
    #[param(value_type = String, example = "2026-04-01")]
    pub to: NaiveDate,
}

/// A kind of posting the mapping gives no account.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MissingAccount {
    /// The ledger role.
    #[schema(value_type = crate::closed_sets::LedgerRole, example = "psp_fees")]
    pub role: String,
    /// The VAT rate of the postings, for a role split by rate.
    pub vat_rate: Option<JournalRate>,
    /// The payment method of the postings, for a role split by method.
    pub method_id: Option<String>,
    /// The category of the postings, for revenue.
    pub category_id: Option<String>,
}

/// What a period's journals need that the mapping does not give.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UnmappedAnswer {
    /// The first date.
    #[schema(value_type = String, example = "2026-01-01")]
    pub from: NaiveDate,
    /// The date stopped before.
    #[schema(value_type = String, example = "2026-04-01")]
    pub to: NaiveDate,
    /// The mapping's version; 0 before the first.
    pub mapping_version: i32,
    /// The roles the period's journals post to without an account, each once.
    #[schema(value_type = Vec<crate::closed_sets::LedgerRole>)]
    pub unmapped: Vec<String>,
    /// Each kind of posting without an account: role with rate, method or category, in the
    /// order of the roles.
    pub missing: Vec<MissingAccount>,
}

/// The postings (of no amount) a period's kinds of document part make.
fn postings_of(needs: &[NeedRow]) -> Vec<Posting> {
    let posting = |role: Role, rate: Option<RateKey>, method: Option<Uuid>, category| Posting {
        role,
        amount: Default::default(),
        rate,
        method_id: method.map(|m| m.to_string()),
        category_id: category,
        description: String::new(),
        source: String::new(),
    };
    let closed =
        |kind: &Option<String>| serde_json::Value::String(kind.clone().unwrap_or_default());
    let mut out = Vec::new();
    for n in needs {
        let rate = match (&n.category, n.percentage, &n.country) {
            (Some(category), Some(percentage), Some(country)) => {
                journal::rate_key(category, percentage, country)
            }
            _ => None,
        };
        let taxed = rate.is_some_and(|r| !r.1.is_zero());
        match n.source.as_str() {
            "line" | "cost" | "day_rate" => {
                let role = match n.source.as_str() {
                    "line" => serde_json::from_value::<LineKind>(closed(&n.kind))
                        .map(line_role)
                        .ok(),
                    "cost" => serde_json::from_value::<CostKind>(closed(&n.kind))
                        .map(cost_role)
                        .ok(),
                    _ => Some(Role::Revenue),
                };
                let category = (role == Some(Role::Revenue))
                    .then(|| n.ref_id.map(|c| c.to_string()))
                    .flatten();
                out.extend(role.map(|r| posting(r, rate, None, category)));
                if taxed {
                    out.push(posting(Role::VatPayable, rate, None, None));
                }
            }
            "payment" | "day_payment" => {
                let on_receipt = n.source == "day_payment";
                if let Some(role) = payment_role(n.kind.as_deref().unwrap_or("other"), on_receipt) {
                    out.push(posting(role, None, n.ref_id, None));
                }
            }
            "fee" => {
                out.push(posting(Role::PspFees, rate, None, None));
                if taxed {
                    out.push(posting(Role::VatReceivable, rate, None, None));
                }
            }
            "order" => out.push(posting(Role::Receivable, None, None, None)),
            "tips" => out.push(posting(Role::TipsPayable, None, None, None)),
            "gift_cards" => out.push(posting(Role::GiftCardLiability, None, None, None)),
            "deposits" => out.push(posting(Role::Deposits, None, None, None)),
            "cash_rounding" => out.push(posting(Role::Rounding, None, None, None)),
            "drawer" => {
                out.push(posting(Role::Cash, None, None, None));
                out.push(posting(Role::CashDifference, None, None, None));
                out.push(posting(Role::Bank, None, None, None));
            }
            _ => {}
        }
    }
    out
}

/// List what a period's journals post to that the mapping gives no account.
///
/// Looks at the kinds of line, cost, payment and fee of the period's orders (by tax point;
/// cancelled ones and those refunded in full without a credit order post nothing) and at
/// the company's days (by business date), not at every document one by one. A connector
/// asks this before posting a period, and fills the gaps in the mapping first. Scope
/// `ledger:read` (connectors), or `admin` for any company.
#[utoipa::path(get, path = "/v1/companies/{company_id}/ledger-mapping/unmapped", tag = "journals",
    params(crate::params::CompanyPath, UnmappedQuery),
    security(("oauth2" = ["ledger:read"])),
    responses(
        (status = 200, description = "What the period needs without an account", body = UnmappedAnswer),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_unmapped_roles(
    State(app): State<App>,
    access: CompanyAccess<LedgerRead>,
    AppQuery(query): AppQuery<UnmappedQuery>,
) -> Result<Json<UnmappedAnswer>, ApiError> {
    if query.to <= query.from {
        return Err(ApiError::InvalidParameter(
            "to must be after from".to_owned(),
        ));
    }
    let context = journal::context(&app, access.company_id, None, None).await?;
    let needs = app
        .store
        .ledger()
        .needs(access.company_id, query.from, query.to, &context.timezone)
        .await?;
    let current = journal::CurrentMapping::of(&context);
    let empty = LedgerMapping::default();
    let mapping = current.as_ref().map_or(&empty, |m| &m.mapping);
    let mut postings = postings_of(&needs);
    postings.sort_by(|a, b| {
        (a.role, a.rate, &a.method_id, &a.category_id).cmp(&(
            b.role,
            b.rate,
            &b.method_id,
            &b.category_id,
        ))
    });
    let mut missing: Vec<MissingAccount> = Vec::new();
    for p in postings {
        if mapping.resolve(&p).is_some() {
            continue;
        }
        let m = MissingAccount {
            role: p.role.as_str().to_owned(),
            vat_rate: p.rate.as_ref().map(JournalRate::of),
            method_id: p.method_id,
            category_id: p.category_id,
        };
        if !missing.iter().any(|x| {
            (&x.role, &x.vat_rate, &x.method_id, &x.category_id)
                == (&m.role, &m.vat_rate, &m.method_id, &m.category_id)
        }) {
            missing.push(m);
        }
    }
    let mut roles: Vec<Role> = missing
        .iter()
        .filter_map(|m| Role::parse(&m.role))
        .collect();
    roles.sort_unstable();
    roles.dedup();
    Ok(Json(UnmappedAnswer {
        from: query.from,
        to: query.to,
        mapping_version: current.as_ref().map_or(0, |m| m.version),
        unmapped: roles.iter().map(|r| r.as_str().to_owned()).collect(),
        missing,
    }))
}
