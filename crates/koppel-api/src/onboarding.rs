//! Creating companies and clients: shared by the admin API and the CLI, so
//! that both apply the same rules.

use chrono::NaiveTime;
use koppel_domain::problem::codes;
use koppel_store::settings::NewVatRate;
use koppel_store::{ClientRecord, CompanyRecord, NewClient, NewCompany, Store, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::scopes::{ClientKind, is_known_scope};
use crate::auth::secrets::{generate_secret, hash_secret};
use crate::error::ApiError;
use crate::validate::violation;

/// A company to create.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCompany {
    /// The merchant's name.
    #[schema(example = "Bakkerij De Korrel B.V.")]
    pub name: String,
    /// IANA timezone of the business; default `Europe/Amsterdam`.
    #[schema(example = "Europe/Amsterdam")]
    pub timezone: Option<String>,
    /// ISO 4217 currency of the books; default `EUR`.
    #[schema(example = "EUR")]
    pub currency: Option<String>,
    /// Local time (`HH:MM`) at which a business day starts; default `00:00`.
    #[schema(example = "04:00")]
    pub business_day_cutoff: Option<String>,
}

/// A company (administratie).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Company {
    /// Our id; never changes.
    pub id: Uuid,
    /// The merchant's name.
    pub name: String,
    /// IANA timezone of the business.
    pub timezone: String,
    /// ISO 4217 currency of the books.
    pub currency: String,
    /// Local time (`HH:MM`) at which a business day starts.
    pub business_day_cutoff: String,
    /// When the company was created.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<CompanyRecord> for Company {
    fn from(r: CompanyRecord) -> Self {
        Self {
            id: r.id,
            name: r.name,
            timezone: r.timezone,
            currency: r.currency,
            business_day_cutoff: r.business_day_cutoff.format("%H:%M").to_string(),
            created_at: r.created_at,
        }
    }
}

/// Validates and stores a new company.
pub async fn create_company(
    store: &Store,
    input: CreateCompany,
) -> Result<CompanyRecord, ApiError> {
    let mut errors = Vec::new();
    let name = input.name.trim().to_owned();
    if name.is_empty() {
        errors.push(violation(
            "/name",
            codes::REQUIRED,
            "the name must not be empty",
            "de naam mag niet leeg zijn",
        ));
    }
    let timezone = input
        .timezone
        .unwrap_or_else(|| "Europe/Amsterdam".to_owned());
    if timezone.parse::<chrono_tz::Tz>().is_err() {
        errors.push(violation(
            "/timezone",
            codes::INVALID_TIMEZONE,
            "not an IANA timezone such as Europe/Amsterdam",
            "geen IANA-tijdzone zoals Europe/Amsterdam",
        ));
    }
    let currency = input.currency.unwrap_or_else(|| "EUR".to_owned());
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        errors.push(violation(
            "/currency",
            codes::INVALID_CURRENCY,
            "not an ISO 4217 currency code such as EUR",
            "geen ISO 4217-valutacode zoals EUR",
        ));
    }
    let cutoff = match input.business_day_cutoff.as_deref() {
        None => Some(NaiveTime::MIN),
        Some(text) => NaiveTime::parse_from_str(text, "%H:%M").ok(),
    };
    if cutoff.is_none() {
        errors.push(violation(
            "/business_day_cutoff",
            codes::INVALID_TIME,
            "not a time of day as HH:MM",
            "geen tijdstip als UU:MM",
        ));
    }
    let Some(business_day_cutoff) = cutoff.filter(|_| errors.is_empty()) else {
        return Err(ApiError::InvalidRequest(errors));
    };
    let rates: Vec<NewVatRate> = koppel_domain::vat::default_dutch_rates()
        .into_iter()
        .map(|r| NewVatRate {
            external_id: r.external_id.to_owned(),
            name: r.name.to_owned(),
            percentage: r.percentage,
            category: r.category.as_str().to_owned(),
            country: r.country.to_owned(),
            active: true,
        })
        .collect();
    let company = NewCompany {
        name,
        timezone,
        currency,
        business_day_cutoff,
    };
    Ok(store.companies().create(&company, &rates).await?)
}

/// A per-client rate limit.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Requests earned per second.
    #[schema(example = 50)]
    pub per_second: u32,
    /// The largest burst: requests that can be saved up.
    #[schema(example = 500)]
    pub burst: u32,
}

/// A client to create.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClient {
    /// A human name, e.g. the vendor's product.
    #[schema(example = "Kassa Vendor B.V.")]
    pub name: String,
    /// The kind of client.
    pub kind: ClientKind,
    /// The scopes the client may ask for; default all of its kind.
    pub scopes: Option<Vec<String>>,
    /// The companies the client may act on.
    #[serde(default)]
    pub company_ids: Vec<Uuid>,
    /// A rate limit other than the default.
    pub rate_limit: Option<RateLimit>,
}

/// A client, as shown to the operator (never with its secret).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Client {
    /// The OAuth client id.
    pub client_id: Uuid,
    /// A human name.
    pub name: String,
    /// The kind of client.
    #[schema(value_type = crate::auth::scopes::ClientKind)]
    pub kind: String,
    /// The scopes the client may ask for.
    pub scopes: Vec<String>,
    /// The companies the client may act on.
    pub company_ids: Vec<Uuid>,
    /// The client's own rate limit, if it has one.
    pub rate_limit: Option<RateLimit>,
    /// When the client was created.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When the client was revoked; null while it is active.
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<ClientRecord> for Client {
    fn from(r: ClientRecord) -> Self {
        let rate_limit = match (r.rate_limit_per_second, r.rate_limit_burst) {
            (Some(rate), Some(burst)) => Some(RateLimit {
                per_second: u32::try_from(rate).unwrap_or(0),
                burst: u32::try_from(burst).unwrap_or(0),
            }),
            _ => None,
        };
        Self {
            client_id: r.id,
            name: r.name,
            kind: r.kind,
            scopes: r.scopes,
            company_ids: r.company_ids,
            rate_limit,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
        }
    }
}

/// A client with its secret, answered once: at creation and at rotation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ClientWithSecret {
    /// The client.
    #[serde(flatten)]
    pub client: Client,
    /// The client secret. Shown this once; only its hash is stored.
    pub client_secret: String,
}

/// Validates and stores a new client with a fresh secret.
pub async fn create_client(
    store: &Store,
    input: CreateClient,
) -> Result<(ClientRecord, String), ApiError> {
    let mut errors = Vec::new();
    let name = input.name.trim().to_owned();
    if name.is_empty() {
        errors.push(violation(
            "/name",
            codes::REQUIRED,
            "the name must not be empty",
            "de naam mag niet leeg zijn",
        ));
    }
    let allowed = input.kind.allowed_scopes();
    let scopes: Vec<String> = match input.scopes {
        None => allowed.iter().map(|s| (*s).to_owned()).collect(),
        Some(scopes) => {
            for (i, scope) in scopes.iter().enumerate() {
                if !is_known_scope(scope) {
                    errors.push(violation(
                        &format!("/scopes/{i}"),
                        codes::UNKNOWN_SCOPE,
                        "unknown scope",
                        "onbekende scope",
                    ));
                } else if !allowed.contains(&scope.as_str()) {
                    errors.push(violation(
                        &format!("/scopes/{i}"),
                        codes::SCOPE_NOT_ALLOWED,
                        format!("a {} client cannot hold this scope", input.kind.as_str()),
                        format!(
                            "een {}-client kan deze scope niet krijgen",
                            input.kind.as_str()
                        ),
                    ));
                }
            }
            scopes
        }
    };
    let rate_limit = input.rate_limit;
    if let Some(limit) = rate_limit
        && (limit.per_second == 0
            || limit.burst == 0
            || i32::try_from(limit.per_second.max(limit.burst)).is_err())
    {
        errors.push(violation(
            "/rate_limit",
            codes::INVALID_RATE_LIMIT,
            "per_second and burst must be positive whole numbers",
            "per_second en burst moeten positieve gehele getallen zijn",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::InvalidRequest(errors));
    }
    let secret = generate_secret();
    let new = NewClient {
        name,
        kind: input.kind.as_str().to_owned(),
        scopes,
        secret_hash: hash_secret(&secret),
        rate_limit_per_second: rate_limit.map(|l| l.per_second as i32),
        rate_limit_burst: rate_limit.map(|l| l.burst as i32),
        company_ids: input.company_ids,
    };
    match store.clients().create(&new).await {
        Ok(record) => Ok((record, secret)),
        Err(StoreError::ForeignKeyViolation { .. }) => {
            Err(ApiError::InvalidRequest(vec![violation(
                "/company_ids",
                codes::UNKNOWN_COMPANY,
                "a company in company_ids does not exist",
                "een bedrijf in company_ids bestaat niet",
            )]))
        }
        Err(other) => Err(other.into()),
    }
}
