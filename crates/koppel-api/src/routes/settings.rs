//! Settings a vendor pushes and a connector reads: VAT rates, payment methods
//! and categories (W5f, W5g, K7c–e). Each is upserted by the vendor's
//! `external_id`: 201 when created, 200 when updated or already identical.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use koppel_domain::identifiers::CountryCode;
use koppel_domain::vat::VatCategory;
use koppel_store::StoreError;
use koppel_store::settings::{
    CategoryRecord, NewCategory, NewPaymentMethod, NewVatRate, Outcome, PaymentMethodRecord,
    SettingsFilter, Upserted, VatRateRecord,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::App;
use crate::auth::extract::{CompanyAccess, SettingsRead, SettingsWrite};
use crate::error::{ApiError, Problem};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::params::{Cursor, Page, PageParams};
use crate::validate::{check_external_id_and_name, violation};

/// The settings routes.
pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(upsert_vat_rate, list_vat_rates))
        .routes(routes!(get_vat_rate))
        .routes(routes!(upsert_payment_method, list_payment_methods))
        .routes(routes!(get_payment_method))
        .routes(routes!(upsert_category, list_categories))
        .routes(routes!(get_category))
}

/// Filters of a settings list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SettingsQuery {
    /// Only the item with this external id.
    pub external_id: Option<String>,
    /// Only items changed at or after this moment (RFC 3339 with offset).
    pub updated_since: Option<DateTime<Utc>>,
    /// How many items to answer, 1 to 1000; default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

impl SettingsQuery {
    fn filter(&self) -> Result<(SettingsFilter, u32), ApiError> {
        let page = PageParams {
            limit: self.limit,
            cursor: self.cursor.clone(),
        };
        let limit = page.limit()?;
        let filter = SettingsFilter {
            external_id: self.external_id.clone(),
            updated_since: self.updated_since,
            after: page.cursor()?,
            limit: i64::from(limit) + 1,
        };
        Ok((filter, limit))
    }
}

fn page<R, T: From<R>>(
    rows: Vec<R>,
    limit: u32,
    key: impl Fn(&R) -> (DateTime<Utc>, Uuid),
) -> (Vec<T>, Option<String>) {
    let Page { items, next } = Page::from_overfetch(rows, limit, |r| Cursor::encode(&key(r)));
    (items.into_iter().map(T::from).collect(), next)
}

fn status(outcome: Outcome) -> StatusCode {
    match outcome {
        Outcome::Created => StatusCode::CREATED,
        Outcome::Updated | Outcome::Unchanged => StatusCode::OK,
    }
}

// ---------------------------------------------------------------- VAT rates

/// A VAT rate to create or update, matched by `external_id`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VatRateInput {
    /// The vendor's own id of the rate; the upsert key.
    #[schema(example = "btw-hoog")]
    pub external_id: String,
    /// The rate's name as the vendor shows it.
    #[schema(example = "BTW hoog")]
    pub name: String,
    /// The percentage, as a decimal string or JSON number (parsed exactly), e.g. `"21"`.
    #[serde(with = "koppel_domain::money::exact")]
    #[schema(value_type = String, example = "21")]
    pub percentage: Decimal,
    /// The VAT category.
    #[schema(value_type = String, example = "standard")]
    pub category: VatCategory,
    /// ISO 3166-1 alpha-2 country of the rate; default `NL`.
    #[schema(example = "NL")]
    pub country: Option<String>,
    /// Whether the rate is in use; default true.
    pub active: Option<bool>,
}

/// A VAT rate.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VatRate {
    /// Our id; never changes.
    pub id: Uuid,
    /// The vendor's id.
    pub external_id: String,
    /// The rate's name.
    pub name: String,
    /// The percentage as a decimal string.
    #[schema(value_type = String, example = "21")]
    pub percentage: Decimal,
    /// One of `standard`, `reduced`, `zero`, `exempt`, `reverse_charge`, `intra_eu`, `export`, `oss`, `outside_scope`.
    pub category: String,
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
    /// Whether the rate is in use.
    pub active: bool,
    /// How often the rate changed, starting at 1.
    pub version: i32,
    /// When the rate was created.
    pub created_at: DateTime<Utc>,
    /// When the rate last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<VatRateRecord> for VatRate {
    fn from(r: VatRateRecord) -> Self {
        Self {
            id: r.id,
            external_id: r.external_id,
            name: r.name,
            percentage: r.percentage.normalize(),
            category: r.category,
            country: r.country,
            active: r.active,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A page of VAT rates.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VatRateList {
    /// The rates on this page.
    pub data: Vec<VatRate>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// The `company_id` and `vat_rate_id` path parameters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct VatRatePath {
    /// The company's id.
    pub company_id: Uuid,
    /// The VAT rate's id.
    pub vat_rate_id: Uuid,
}

/// Create or update a VAT rate by its `external_id`.
#[utoipa::path(post, path = "/v1/companies/{company_id}/vat-rates", tag = "settings",
    params(crate::params::CompanyPath),
    request_body(content = VatRateInput, description = "The VAT rate"),
    security(("oauth2" = ["settings:write"])),
    responses(
        (status = 201, description = "The rate was created", body = VatRate),
        (status = 200, description = "The rate was updated, or was already exactly this", body = VatRate),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn upsert_vat_rate(
    State(app): State<App>,
    access: CompanyAccess<SettingsWrite>,
    AppJson(input): AppJson<VatRateInput>,
) -> Result<(StatusCode, Json<VatRate>), ApiError> {
    let mut errors = Vec::new();
    check_external_id_and_name(&input.external_id, &input.name, &mut errors);
    let country = input.country.unwrap_or_else(|| "NL".to_owned());
    if CountryCode::parse(&country).is_err() {
        errors.push(violation(
            "/country",
            "invalid_country",
            "not an ISO 3166-1 alpha-2 country code",
            "geen ISO 3166-1 alpha-2 landcode",
        ));
    }
    let percentage = input.percentage;
    if percentage < Decimal::ZERO
        || percentage > Decimal::ONE_HUNDRED
        || percentage.normalize().scale() > 4
    {
        errors.push(violation(
            "/percentage",
            "invalid_percentage",
            "the percentage must be between 0 and 100 with at most 4 decimals",
            "het percentage moet tussen 0 en 100 liggen, met hoogstens 4 decimalen",
        ));
    } else if input.category.is_zero_rated() && !percentage.is_zero() {
        errors.push(violation(
            "/percentage",
            "vat_category_percentage_mismatch",
            format!("category {} has a percentage of 0", input.category),
            format!("categorie {} heeft een percentage van 0", input.category),
        ));
    } else if !input.category.is_zero_rated()
        && input.category != VatCategory::Oss
        && percentage.is_zero()
    {
        errors.push(violation(
            "/percentage",
            "vat_category_percentage_mismatch",
            format!("category {} needs a percentage above 0", input.category),
            format!("categorie {} vraagt een percentage boven 0", input.category),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::InvalidRequest(errors));
    }
    let new = NewVatRate {
        external_id: input.external_id,
        name: input.name.trim().to_owned(),
        percentage: percentage.normalize(),
        category: input.category.as_str().to_owned(),
        country,
        active: input.active.unwrap_or(true),
    };
    let Upserted { record, outcome } = app
        .store
        .settings()
        .upsert_vat_rate(access.company_id, &new)
        .await?;
    Ok((status(outcome), Json(record.into())))
}

/// List VAT rates, by `external_id` or changed since a moment.
#[utoipa::path(get, path = "/v1/companies/{company_id}/vat-rates", tag = "settings",
    params(crate::params::CompanyPath, SettingsQuery),
    security(("oauth2" = ["settings:read"])),
    responses(
        (status = 200, description = "A page of VAT rates, oldest change first", body = VatRateList),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_vat_rates(
    State(app): State<App>,
    access: CompanyAccess<SettingsRead>,
    AppQuery(query): AppQuery<SettingsQuery>,
) -> Result<Json<VatRateList>, ApiError> {
    let (filter, limit) = query.filter()?;
    let rows = app
        .store
        .settings()
        .vat_rates(access.company_id, &filter)
        .await?;
    let (data, next_cursor) = page(rows, limit, |r: &VatRateRecord| (r.updated_at, r.id));
    Ok(Json(VatRateList { data, next_cursor }))
}

/// Get one VAT rate.
#[utoipa::path(get, path = "/v1/companies/{company_id}/vat-rates/{vat_rate_id}", tag = "settings",
    params(VatRatePath),
    security(("oauth2" = ["settings:read"])),
    responses(
        (status = 200, description = "The VAT rate", body = VatRate),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_vat_rate(
    State(app): State<App>,
    access: CompanyAccess<SettingsRead>,
    AppPath(path): AppPath<VatRatePath>,
) -> Result<Json<VatRate>, ApiError> {
    let record = app
        .store
        .settings()
        .vat_rate(access.company_id, path.vat_rate_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(record.into()))
}

// ---------------------------------------------------------- payment methods

/// The kinds of payment method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethodKind {
    /// Cash.
    Cash,
    /// Debit card (pin).
    DebitCard,
    /// Credit card.
    CreditCard,
    /// iDEAL.
    Ideal,
    /// Bank transfer.
    BankTransfer,
    /// PayPal.
    Paypal,
    /// A gift card redeemed as payment.
    GiftCard,
    /// A voucher.
    Voucher,
    /// On account (op rekening): paid later by invoice.
    OnAccount,
    /// Anything else.
    Other,
}

impl PaymentMethodKind {
    fn as_str(self) -> &'static str {
        match self {
            PaymentMethodKind::Cash => "cash",
            PaymentMethodKind::DebitCard => "debit_card",
            PaymentMethodKind::CreditCard => "credit_card",
            PaymentMethodKind::Ideal => "ideal",
            PaymentMethodKind::BankTransfer => "bank_transfer",
            PaymentMethodKind::Paypal => "paypal",
            PaymentMethodKind::GiftCard => "gift_card",
            PaymentMethodKind::Voucher => "voucher",
            PaymentMethodKind::OnAccount => "on_account",
            PaymentMethodKind::Other => "other",
        }
    }
}

/// A payment method to create or update, matched by `external_id`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentMethodInput {
    /// The vendor's own id of the method; the upsert key.
    #[schema(example = "pin")]
    pub external_id: String,
    /// The method's name as the vendor shows it.
    #[schema(example = "PIN")]
    pub name: String,
    /// What kind of payment it is.
    pub kind: PaymentMethodKind,
    /// Whether the method is in use; default true.
    pub active: Option<bool>,
}

/// A payment method.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PaymentMethod {
    /// Our id; never changes.
    pub id: Uuid,
    /// The vendor's id.
    pub external_id: String,
    /// The method's name.
    pub name: String,
    /// One of `cash`, `debit_card`, `credit_card`, `ideal`, `bank_transfer`, `paypal`, `gift_card`, `voucher`, `on_account`, `other`.
    pub kind: String,
    /// Whether the method is in use.
    pub active: bool,
    /// How often the method changed, starting at 1.
    pub version: i32,
    /// When the method was created.
    pub created_at: DateTime<Utc>,
    /// When the method last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<PaymentMethodRecord> for PaymentMethod {
    fn from(r: PaymentMethodRecord) -> Self {
        Self {
            id: r.id,
            external_id: r.external_id,
            name: r.name,
            kind: r.kind,
            active: r.active,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A page of payment methods.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PaymentMethodList {
    /// The methods on this page.
    pub data: Vec<PaymentMethod>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// The `company_id` and `payment_method_id` path parameters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct PaymentMethodPath {
    /// The company's id.
    pub company_id: Uuid,
    /// The payment method's id.
    pub payment_method_id: Uuid,
}

/// Create or update a payment method by its `external_id`.
#[utoipa::path(post, path = "/v1/companies/{company_id}/payment-methods", tag = "settings",
    params(crate::params::CompanyPath),
    request_body(content = PaymentMethodInput, description = "The payment method"),
    security(("oauth2" = ["settings:write"])),
    responses(
        (status = 201, description = "The method was created", body = PaymentMethod),
        (status = 200, description = "The method was updated, or was already exactly this", body = PaymentMethod),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn upsert_payment_method(
    State(app): State<App>,
    access: CompanyAccess<SettingsWrite>,
    AppJson(input): AppJson<PaymentMethodInput>,
) -> Result<(StatusCode, Json<PaymentMethod>), ApiError> {
    let mut errors = Vec::new();
    check_external_id_and_name(&input.external_id, &input.name, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::InvalidRequest(errors));
    }
    let new = NewPaymentMethod {
        external_id: input.external_id,
        name: input.name.trim().to_owned(),
        kind: input.kind.as_str().to_owned(),
        active: input.active.unwrap_or(true),
    };
    let Upserted { record, outcome } = app
        .store
        .settings()
        .upsert_payment_method(access.company_id, &new)
        .await?;
    Ok((status(outcome), Json(record.into())))
}

/// List payment methods, by `external_id` or changed since a moment.
#[utoipa::path(get, path = "/v1/companies/{company_id}/payment-methods", tag = "settings",
    params(crate::params::CompanyPath, SettingsQuery),
    security(("oauth2" = ["settings:read"])),
    responses(
        (status = 200, description = "A page of payment methods, oldest change first", body = PaymentMethodList),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_payment_methods(
    State(app): State<App>,
    access: CompanyAccess<SettingsRead>,
    AppQuery(query): AppQuery<SettingsQuery>,
) -> Result<Json<PaymentMethodList>, ApiError> {
    let (filter, limit) = query.filter()?;
    let rows = app
        .store
        .settings()
        .payment_methods(access.company_id, &filter)
        .await?;
    let (data, next_cursor) = page(rows, limit, |r: &PaymentMethodRecord| (r.updated_at, r.id));
    Ok(Json(PaymentMethodList { data, next_cursor }))
}

/// Get one payment method.
#[utoipa::path(get, path = "/v1/companies/{company_id}/payment-methods/{payment_method_id}", tag = "settings",
    params(PaymentMethodPath),
    security(("oauth2" = ["settings:read"])),
    responses(
        (status = 200, description = "The payment method", body = PaymentMethod),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_payment_method(
    State(app): State<App>,
    access: CompanyAccess<SettingsRead>,
    AppPath(path): AppPath<PaymentMethodPath>,
) -> Result<Json<PaymentMethod>, ApiError> {
    let record = app
        .store
        .settings()
        .payment_method(access.company_id, path.payment_method_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(record.into()))
}

// --------------------------------------------------------------- categories

/// A category to create or update, matched by `external_id`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    /// The vendor's own id of the category; the upsert key.
    #[schema(example = "brood")]
    pub external_id: String,
    /// The category's name.
    #[schema(example = "Brood")]
    pub name: String,
    /// Our id of the parent category, if any.
    pub parent_id: Option<Uuid>,
    /// Whether the category is in use; default true.
    pub active: Option<bool>,
}

/// A product or revenue category.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Category {
    /// Our id; never changes.
    pub id: Uuid,
    /// The vendor's id.
    pub external_id: String,
    /// The category's name.
    pub name: String,
    /// Our id of the parent category, if any.
    pub parent_id: Option<Uuid>,
    /// Whether the category is in use.
    pub active: bool,
    /// How often the category changed, starting at 1.
    pub version: i32,
    /// When the category was created.
    pub created_at: DateTime<Utc>,
    /// When the category last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<CategoryRecord> for Category {
    fn from(r: CategoryRecord) -> Self {
        Self {
            id: r.id,
            external_id: r.external_id,
            name: r.name,
            parent_id: r.parent_id,
            active: r.active,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A page of categories.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CategoryList {
    /// The categories on this page.
    pub data: Vec<Category>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// The `company_id` and `category_id` path parameters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct CategoryPath {
    /// The company's id.
    pub company_id: Uuid,
    /// The category's id.
    pub category_id: Uuid,
}

/// Create or update a category by its `external_id`.
#[utoipa::path(post, path = "/v1/companies/{company_id}/categories", tag = "settings",
    params(crate::params::CompanyPath),
    request_body(content = CategoryInput, description = "The category"),
    security(("oauth2" = ["settings:write"])),
    responses(
        (status = 201, description = "The category was created", body = Category),
        (status = 200, description = "The category was updated, or was already exactly this", body = Category),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn upsert_category(
    State(app): State<App>,
    access: CompanyAccess<SettingsWrite>,
    AppJson(input): AppJson<CategoryInput>,
) -> Result<(StatusCode, Json<Category>), ApiError> {
    let mut errors = Vec::new();
    check_external_id_and_name(&input.external_id, &input.name, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::InvalidRequest(errors));
    }
    let new = NewCategory {
        external_id: input.external_id,
        name: input.name.trim().to_owned(),
        parent_id: input.parent_id,
        active: input.active.unwrap_or(true),
    };
    match app
        .store
        .settings()
        .upsert_category(access.company_id, &new)
        .await
    {
        Ok(Upserted { record, outcome }) => Ok((status(outcome), Json(record.into()))),
        Err(StoreError::ForeignKeyViolation { .. }) => {
            Err(ApiError::InvalidRequest(vec![violation(
                "/parent_id",
                "unknown_category",
                "no category with this id exists in the company",
                "er bestaat geen categorie met dit id in dit bedrijf",
            )]))
        }
        Err(e) => Err(e.into()),
    }
}

/// List categories, by `external_id` or changed since a moment.
#[utoipa::path(get, path = "/v1/companies/{company_id}/categories", tag = "settings",
    params(crate::params::CompanyPath, SettingsQuery),
    security(("oauth2" = ["settings:read"])),
    responses(
        (status = 200, description = "A page of categories, oldest change first", body = CategoryList),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_categories(
    State(app): State<App>,
    access: CompanyAccess<SettingsRead>,
    AppQuery(query): AppQuery<SettingsQuery>,
) -> Result<Json<CategoryList>, ApiError> {
    let (filter, limit) = query.filter()?;
    let rows = app
        .store
        .settings()
        .categories(access.company_id, &filter)
        .await?;
    let (data, next_cursor) = page(rows, limit, |r: &CategoryRecord| (r.updated_at, r.id));
    Ok(Json(CategoryList { data, next_cursor }))
}

/// Get one category.
#[utoipa::path(get, path = "/v1/companies/{company_id}/categories/{category_id}", tag = "settings",
    params(CategoryPath),
    security(("oauth2" = ["settings:read"])),
    responses(
        (status = 200, description = "The category", body = Category),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_category(
    State(app): State<App>,
    access: CompanyAccess<SettingsRead>,
    AppPath(path): AppPath<CategoryPath>,
) -> Result<Json<Category>, ApiError> {
    let record = app
        .store
        .settings()
        .category(access.company_id, path.category_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(record.into()))
}
