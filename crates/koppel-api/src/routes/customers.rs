//! Customers (debiteuren, W5a): upserted by external id; found by id, e-mail
//! (case-insensitive), number, external id or change time.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use koppel_domain::customer::{ContactIds, check_contact};
use koppel_domain::identifiers::CountryCode;
use koppel_domain::problem::Violation;
use koppel_domain::problem::codes;
use koppel_store::customers::{CustomerFilter, CustomerRecord, NewCustomer};
use koppel_store::settings::{Outcome, Upserted};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::App;
use crate::auth::extract::{CompanyAccess, CustomersRead, CustomersWrite};
use crate::error::{ApiError, Problem};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::params::{Cursor, Page, PageParams};
use crate::validate::{check_external_id_and_name, violation};

/// The customer routes.
pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(upsert_customer, list_customers))
        .routes(routes!(get_customer))
}

/// Whether a customer is a person or a business.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CustomerKind {
    /// A consumer.
    #[default]
    Person,
    /// A business (B2B).
    Business,
}

/// A postal address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// Street name.
    #[schema(example = "Damrak")]
    pub street: Option<String>,
    /// House number.
    #[schema(example = "1")]
    pub house_number: Option<String>,
    /// Addition to the house number (toevoeging).
    #[schema(example = "A")]
    pub house_number_addition: Option<String>,
    /// Postal code.
    #[schema(example = "1012 LG")]
    pub postal_code: Option<String>,
    /// City.
    #[schema(example = "Amsterdam")]
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    #[schema(example = "NL")]
    pub country: Option<String>,
}

/// A customer to create or update, matched by `external_id`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    /// The vendor's own id of the customer; the upsert key.
    #[schema(example = "cust-1001")]
    pub external_id: String,
    /// The customer number the merchant uses.
    #[schema(example = "1001")]
    pub number: Option<String>,
    /// `person` (default) or `business`.
    pub kind: Option<CustomerKind>,
    /// The customer's (contact) name.
    #[schema(example = "Jan de Vries")]
    pub name: String,
    /// The business name, for a business customer.
    pub company_name: Option<String>,
    /// E-mail address.
    #[schema(example = "jan@example.nl")]
    pub email: Option<String>,
    /// Phone number as the customer gave it.
    pub phone: Option<String>,
    /// EU VAT number; spaces, dots and dashes are removed and it is checked (NL by its check digits).
    #[schema(example = "NL000099998B57")]
    pub vat_number: Option<String>,
    /// Dutch Chamber of Commerce (KvK) number: 8 digits.
    #[schema(example = "12345678")]
    pub coc_number: Option<String>,
    /// Billing address.
    pub billing_address: Option<Address>,
    /// Shipping address.
    pub shipping_address: Option<Address>,
    /// ISO 639-1 language code for correspondence, e.g. `nl`.
    #[schema(example = "nl")]
    pub language: Option<String>,
}

/// A customer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Customer {
    /// Our id; never changes.
    pub id: Uuid,
    /// The vendor's id.
    pub external_id: String,
    /// The customer number.
    pub number: Option<String>,
    /// A person or a business.
    #[schema(value_type = CustomerKind)]
    pub kind: String,
    /// The customer's (contact) name.
    pub name: String,
    /// The business name.
    pub company_name: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// VAT number, normalised (upper case, no separators).
    pub vat_number: Option<String>,
    /// KvK number.
    pub coc_number: Option<String>,
    /// Billing address.
    pub billing_address: Option<Address>,
    /// Shipping address.
    pub shipping_address: Option<Address>,
    /// ISO 639-1 language code.
    pub language: Option<String>,
    /// How often the customer changed, starting at 1.
    pub version: i32,
    /// When the customer was created.
    pub created_at: DateTime<Utc>,
    /// When the customer last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<CustomerRecord> for Customer {
    fn from(r: CustomerRecord) -> Self {
        let address = |v: Option<serde_json::Value>| v.and_then(|v| serde_json::from_value(v).ok());
        Self {
            id: r.id,
            external_id: r.external_id,
            number: r.number,
            kind: r.kind,
            name: r.name,
            company_name: r.company_name,
            email: r.email,
            phone: r.phone,
            vat_number: r.vat_number,
            coc_number: r.coc_number,
            billing_address: address(r.billing_address),
            shipping_address: address(r.shipping_address),
            language: r.language,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// The customer list, as the OpenAPI document names and describes its page.
#[derive(Debug)]
pub enum CustomerListing {}

impl crate::page::Listing for CustomerListing {
    type Item = Customer;
    const NAME: &'static str = "CustomerList";
    const DESCRIPTION: &'static str = "A page of customers.";
    const DATA: &'static str = "The customers on this page.";
}

/// A page of customers.
pub type CustomerList = crate::page::Page<CustomerListing>;

/// Filters of the customer list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CustomerQuery {
    /// Only customers with this e-mail address, compared case-insensitively.
    pub email: Option<String>,
    /// Only the customer with this external id.
    pub external_id: Option<String>,
    /// Only customers with this customer number.
    pub number: Option<String>,
    /// Only customers changed at or after this moment (RFC 3339 with offset).
    pub updated_since: Option<DateTime<Utc>>,
    /// How many items to answer, 1 to 1000; default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

/// The `company_id` and `customer_id` path parameters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct CustomerPath {
    /// The company's id.
    pub company_id: Uuid,
    /// The customer's id.
    pub customer_id: Uuid,
}

fn check_address(
    pointer: &str,
    address: &Option<Address>,
    errors: &mut Vec<Violation>,
) -> Option<serde_json::Value> {
    let address = address.as_ref()?;
    let mut normalised = address.clone();
    if let Some(country) = &address.country {
        match CountryCode::parse(country) {
            Ok(code) => normalised.country = Some(code.as_str().to_owned()),
            Err(_) => errors.push(violation(
                &format!("{pointer}/country"),
                codes::INVALID_COUNTRY,
                "not an ISO 3166-1 alpha-2 country code",
                "geen ISO 3166-1 alpha-2 landcode",
            )),
        }
    }
    serde_json::to_value(normalised).ok()
}

/// Checks and normalises a customer, listing every problem.
fn parse_customer(input: CustomerInput) -> Result<NewCustomer, ApiError> {
    let mut errors = Vec::new();
    check_external_id_and_name(&input.external_id, &input.name, &mut errors);
    let ContactIds {
        email,
        vat_number,
        coc_number,
    } = check_contact(
        "",
        input.email.as_deref(),
        input.vat_number.as_deref(),
        input.coc_number.as_deref(),
        &mut errors,
    );
    let vat_number = vat_number.map(|v| v.as_str().to_owned());
    let coc_number = coc_number.map(|k| k.as_str().to_owned());
    let language = input.language.map(|l| l.trim().to_ascii_lowercase());
    if let Some(language) = &language
        && (language.len() != 2 || !language.bytes().all(|b| b.is_ascii_lowercase()))
    {
        errors.push(violation(
            "/language",
            codes::INVALID_LANGUAGE,
            "not an ISO 639-1 language code such as nl",
            "geen ISO 639-1-taalcode zoals nl",
        ));
    }
    let billing_address = check_address("/billing_address", &input.billing_address, &mut errors);
    let shipping_address = check_address("/shipping_address", &input.shipping_address, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::InvalidRequest(errors));
    }
    let kind = match input.kind.unwrap_or_default() {
        CustomerKind::Person => "person",
        CustomerKind::Business => "business",
    };
    Ok(NewCustomer {
        external_id: input.external_id,
        number: input.number,
        kind: kind.to_owned(),
        name: input.name.trim().to_owned(),
        company_name: input.company_name,
        email,
        phone: input.phone,
        vat_number,
        coc_number,
        billing_address,
        shipping_address,
        language,
    })
}

/// Create or update a customer by its `external_id`.
///
/// The vendor's `external_id` is the key: a new one creates the customer (201), a known one
/// updates it (200, a new version) or answers it unchanged. A VAT number is normalised and
/// checked (NL by its check digits); a KvK number must have 8 digits. Each change is an event
/// in the feed. Scope `customers:write`.
#[utoipa::path(post, path = "/v1/companies/{company_id}/customers", tag = "customers",
    params(crate::params::CompanyPath),
    request_body(content = CustomerInput, description = "The customer"),
    security(("oauth2" = ["customers:write"])),
    responses(
        (status = 201, description = "The customer was created", body = Customer),
        (status = 200, description = "The customer was updated, or was already exactly this", body = Customer),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn upsert_customer(
    State(app): State<App>,
    access: CompanyAccess<CustomersWrite>,
    AppJson(input): AppJson<CustomerInput>,
) -> Result<(StatusCode, Json<Customer>), ApiError> {
    let new = parse_customer(input)?;
    let Upserted { record, outcome } = app
        .store
        .customers()
        .upsert(access.company_id, &new)
        .await?;
    let status = if outcome == Outcome::Created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(record.into())))
}

/// Find customers by e-mail, number, external id or change time.
///
/// Customers (debiteuren) of the company, oldest change first. Filter by `email`, `number` or
/// `external_id`, or by `updated_since` to follow changes. Scope `customers:read`.
#[utoipa::path(get, path = "/v1/companies/{company_id}/customers", tag = "customers",
    params(crate::params::CompanyPath, CustomerQuery),
    security(("oauth2" = ["customers:read"])),
    responses(
        (status = 200, description = "A page of customers, oldest change first", body = CustomerList),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_customers(
    State(app): State<App>,
    access: CompanyAccess<CustomersRead>,
    AppQuery(query): AppQuery<CustomerQuery>,
) -> Result<Json<CustomerList>, ApiError> {
    let page = PageParams {
        limit: query.limit,
        cursor: query.cursor,
    };
    let limit = page.limit()?;
    let filter = CustomerFilter {
        email: query.email.map(|e| e.trim().to_owned()),
        external_id: query.external_id,
        number: query.number,
        updated_since: query.updated_since,
        after: page.cursor()?,
        limit: i64::from(limit) + 1,
    };
    let rows = app
        .store
        .customers()
        .list(access.company_id, &filter)
        .await?;
    let Page { items, next } =
        Page::from_overfetch(rows, limit, |r| Cursor::encode(&(r.updated_at, r.id)));
    Ok(Json(CustomerList {
        data: items.into_iter().map(Customer::from).collect(),
        next_cursor: next,
    }))
}

/// Get one customer.
///
/// By Koppel's id, as orders and events name it. Scope `customers:read`.
#[utoipa::path(get, path = "/v1/companies/{company_id}/customers/{customer_id}", tag = "customers",
    params(CustomerPath),
    security(("oauth2" = ["customers:read"])),
    responses(
        (status = 200, description = "The customer", body = Customer),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_customer(
    State(app): State<App>,
    access: CompanyAccess<CustomersRead>,
    AppPath(path): AppPath<CustomerPath>,
) -> Result<Json<Customer>, ApiError> {
    let record = app
        .store
        .customers()
        .find(access.company_id, path.customer_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(record.into()))
}
