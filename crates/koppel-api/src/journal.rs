//! A journal entry as answered (SPEC "Journals"), shared by the order, receipt and day
//! routes: the domain's postings with the account and VAT code the company's current ledger
//! mapping gives each, or the role's name where it gives none, so that a journal is a preview
//! before any mapping exists.

use axum::Json;
use axum::http::header::{CONTENT_LANGUAGE, VARY};
use axum::http::{HeaderName, HeaderValue};
use chrono::NaiveDate;
use koppel_domain::daily::RateKey;
use koppel_domain::identifiers::CountryCode;
use koppel_domain::journal::{Entry, Role};
use koppel_domain::ledger::{LedgerMapping, MappingEntry};
use koppel_domain::vat::VatCategory;
use koppel_store::ledger::{JournalContext, MappingEntryRecord};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::App;
use crate::error::ApiError;
use crate::language::Language;

/// The VAT rate a journal line is of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct JournalRate {
    /// The VAT category.
    #[schema(value_type = crate::closed_sets::VatCategory, example = "standard")]
    pub category: String,
    /// The rate in percent.
    #[schema(example = "21")]
    pub percentage: String,
    /// The country whose rate applies.
    #[schema(example = "NL")]
    pub country: String,
}

impl JournalRate {
    /// The answer of a rate key.
    pub fn of(rate: &RateKey) -> JournalRate {
        JournalRate {
            category: rate.0.as_str().to_owned(),
            percentage: rate.1.normalize().to_string(),
            country: rate.2.as_str().to_owned(),
        }
    }
}

/// One line of a journal entry: a debit or a credit on an account.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JournalLine {
    /// The company's account for the line's role (and rate, method or category) in its
    /// ledger mapping; the role's name where the mapping has none.
    #[schema(example = "8000")]
    pub account: String,
    /// The mapping's VAT code for the line, if it gives one.
    #[schema(example = "2")]
    pub vat_code: Option<String>,
    /// Debit; `0.00` on a credit line.
    #[schema(value_type = String, example = "0.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub debit: Decimal,
    /// Credit; `0.00` on a debit line.
    #[schema(value_type = String, example = "100.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub credit: Decimal,
    /// The ledger role.
    #[schema(value_type = crate::closed_sets::LedgerRole, example = "revenue")]
    pub role: String,
    /// Whether the mapping gives the line an account.
    pub mapped: bool,
    /// What the line is, in words: in Dutch for `Accept-Language: nl` (`omzet 21% standard
    /// NL`), else in English. A till's own text (a pay-out's description) stays as sent.
    #[schema(example = "revenue 21% standard NL")]
    pub description: String,
    /// The JSON pointer of the part of the document (or day) the line comes from.
    #[schema(example = "/vat_breakdown/0")]
    pub source: String,
    /// The VAT rate of a line per rate.
    pub vat_rate: Option<JournalRate>,
    /// The payment method of a line per method.
    pub method_id: Option<String>,
    /// The revenue category of a line per category.
    pub category_id: Option<String>,
}

/// A journal entry: lines whose debits equal their credits to the cent.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Journal {
    /// The date to post on: an order's tax point (invoice date, else order date), a
    /// receipt's or day's business date.
    #[schema(value_type = String, example = "2026-03-29")]
    pub date: NaiveDate,
    /// The document's number (else its external id), or the day's date and location.
    #[schema(example = "1001")]
    pub reference: String,
    /// What the entry is, in words, in the language `Accept-Language` asks for (English or
    /// Dutch).
    #[schema(example = "order 1001")]
    pub description: String,
    /// Of a day: the revision posted (the latest, or `?revision=`); null for a document.
    pub revision: Option<i32>,
    /// Of a day's correcting entry: the revision it corrects from; null otherwise.
    pub correction_of: Option<i32>,
    /// The company's currency: every amount is in it.
    #[schema(example = "EUR")]
    pub currency: String,
    /// The version of the ledger mapping the accounts come from; null before any mapping.
    pub mapping_version: Option<i32>,
    /// The mapping's bookkeeping package; null before any mapping.
    pub package: Option<String>,
    /// The roles of lines the mapping gives no account, each once: post only when empty.
    #[schema(value_type = Vec<crate::closed_sets::LedgerRole>)]
    pub unmapped: Vec<String>,
    /// The lines. Empty for a document that counts zero (cancelled, or refunded in full
    /// without a credit order).
    pub lines: Vec<JournalLine>,
    /// Σ debit.
    #[schema(value_type = String, example = "121.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub total_debit: Decimal,
    /// Σ credit; always equal to `total_debit`.
    #[schema(value_type = String, example = "121.00")]
    #[serde(serialize_with = "crate::money::serialize")]
    pub total_credit: Decimal,
}

/// The domain's mapping of a stored one: entries whose role the domain knows, each rate's
/// figures as the company's rate has them now.
pub fn mapping_of(entries: &[MappingEntryRecord], package: &str) -> LedgerMapping {
    LedgerMapping {
        package: package.to_owned(),
        entries: entries
            .iter()
            .filter_map(|e| {
                let rate = match (&e.rate_category, e.rate_percentage, &e.rate_country) {
                    (Some(category), Some(percentage), Some(country)) => {
                        rate_key(category, percentage, country)
                    }
                    _ => None,
                };
                Some(MappingEntry {
                    role: Role::parse(&e.role)?,
                    account: e.account.clone(),
                    vat_code: e.vat_code.clone(),
                    rate_id: e.rate_id.map(|id| id.to_string()),
                    rate,
                    method_id: e.method_id.map(|id| id.to_string()),
                    category_id: e.category_id.map(|id| id.to_string()),
                })
            })
            .collect(),
    }
}

/// The company's current mapping with its version, from a journal's context.
pub struct CurrentMapping {
    /// The version.
    pub version: i32,
    /// The mapping.
    pub mapping: LedgerMapping,
}

impl CurrentMapping {
    /// The mapping in a journal's context, if the company has one.
    pub fn of(context: &JournalContext) -> Option<CurrentMapping> {
        let version = context.mapping_version?;
        let entries = context.mapping_entries.as_ref()?;
        Some(CurrentMapping {
            version,
            mapping: mapping_of(
                &entries.0,
                context.mapping_package.as_deref().unwrap_or_default(),
            ),
        })
    }
}

/// A journal as answered: its words depend on `Accept-Language`, so the answer says in which
/// language it is and that it varies with that header (a cache must not give a Dutch
/// journal to an English reader).
pub type JournalAnswer = ([(HeaderName, HeaderValue); 2], Json<Journal>);

/// What a journal says of itself beside its lines.
pub struct Heading {
    /// The date to post on.
    pub date: NaiveDate,
    /// The reference.
    pub reference: String,
    /// The description.
    pub description: String,
    /// The same in Dutch.
    pub description_nl: String,
    /// The company's currency.
    pub currency: String,
    /// Of a day: the revision posted.
    pub revision: Option<i32>,
    /// Of a day's correcting entry: the revision it corrects from.
    pub correction_of: Option<i32>,
}

/// The journal of `entry` under `mapping`, answered in `language`: descriptions in Dutch
/// from the domain's table, or in English as posted, with the headers that say so.
pub fn answer(
    entry: &Entry,
    mapping: Option<&CurrentMapping>,
    heading: Heading,
    language: Language,
) -> JournalAnswer {
    let tag = language.tag();
    let journal = journal(entry, mapping, heading, language);
    (
        [
            (CONTENT_LANGUAGE, HeaderValue::from_static(tag)),
            (VARY, HeaderValue::from_static("accept-language")),
        ],
        Json(journal),
    )
}

fn journal(
    entry: &Entry,
    mapping: Option<&CurrentMapping>,
    heading: Heading,
    language: Language,
) -> Journal {
    let words = |en: &str| match language {
        Language::Dutch => koppel_domain::journal::dutch(en).unwrap_or_else(|| en.to_owned()),
        Language::English => en.to_owned(),
    };
    let mut unmapped: Vec<Role> = Vec::new();
    let lines = entry
        .postings
        .iter()
        .map(|p| {
            let found = mapping.and_then(|m| m.mapping.resolve(p));
            if found.is_none() && !unmapped.contains(&p.role) {
                unmapped.push(p.role);
            }
            JournalLine {
                account: found.map_or_else(|| p.role.as_str().to_owned(), |e| e.account.clone()),
                vat_code: found.and_then(|e| e.vat_code.clone()),
                debit: p.debit(),
                credit: p.credit(),
                role: p.role.as_str().to_owned(),
                mapped: found.is_some(),
                description: words(&p.description),
                source: p.source.clone(),
                vat_rate: p.rate.as_ref().map(JournalRate::of),
                method_id: p.method_id.clone(),
                category_id: p.category_id.clone(),
            }
        })
        .collect();
    unmapped.sort_unstable();
    Journal {
        date: heading.date,
        reference: heading.reference,
        description: match language {
            Language::Dutch => heading.description_nl,
            Language::English => heading.description,
        },
        revision: heading.revision,
        correction_of: heading.correction_of,
        currency: heading.currency,
        mapping_version: mapping.map(|m| m.version),
        package: mapping.map(|m| m.mapping.package.clone()),
        unmapped: unmapped.iter().map(|r| r.as_str().to_owned()).collect(),
        lines,
        total_debit: entry.total_debit(),
        total_credit: entry.total_credit(),
    }
}

/// A journal's context: the company's, with what the order or receipt needs; 404 when the
/// company is gone.
pub async fn context(
    app: &App,
    company_id: Uuid,
    order_id: Option<Uuid>,
    receipt_id: Option<Uuid>,
) -> Result<JournalContext, ApiError> {
    app.store
        .ledger()
        .context(company_id, order_id, receipt_id)
        .await?
        .ok_or(ApiError::NotFound)
}

/// A payment method's kind in a journal's context.
pub fn method_kind(context: &JournalContext, method_id: &str) -> Option<String> {
    context
        .method_kinds
        .0
        .iter()
        .find(|m| m.id.to_string() == method_id)
        .map(|m| m.kind.clone())
}

/// A stored VAT figure's rate key; `None` for a category or country the domain does not
/// know (a stored value is always one it wrote).
pub fn rate_key(category: &str, percentage: Decimal, country: &str) -> Option<RateKey> {
    Some((
        VatCategory::parse(category)?,
        percentage,
        CountryCode::parse(country).ok()?,
    ))
}
