//! Products (W5e): upserted by external id; found by id, SKU, external id or
//! change time.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use koppel_domain::identifiers::gtin_is_valid;
use koppel_domain::money::has_at_most_decimals;
use koppel_domain::problem::codes;
use koppel_store::products::{NewProduct, ProductFilter, ProductRecord};
use koppel_store::settings::{Outcome, Upserted};
use koppel_store::{Reference, StoreError};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::App;
use crate::auth::extract::{CompanyAccess, ProductsRead, ProductsWrite};
use crate::error::{ApiError, Problem};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::params::{Cursor, Page, PageParams};
use crate::validate::{check_external_id_and_name, violation};

/// The product routes.
pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(upsert_product, list_products))
        .routes(routes!(get_product))
}

/// A product to create or update, matched by `external_id`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    /// The vendor's own id of the product; the upsert key.
    #[schema(example = "prod-77")]
    pub external_id: String,
    /// Stock keeping unit.
    #[schema(example = "BRD-VLK-800")]
    pub sku: Option<String>,
    /// EAN/GTIN barcode (8, 12, 13 or 14 digits with a valid check digit).
    #[schema(example = "8710398500014")]
    pub ean: Option<String>,
    /// The product's name.
    #[schema(example = "Volkorenbrood 800 g")]
    pub name: String,
    /// Our id of the product's category.
    pub category_id: Option<Uuid>,
    /// The unit price as a decimal string or JSON number (parsed exactly), up to 6 decimals.
    #[serde(default, with = "koppel_domain::money::exact::option")]
    #[schema(value_type = Option<String>, example = "3.49")]
    pub unit_price: Option<Decimal>,
    /// Whether `unit_price` includes VAT; default true (consumer prices).
    pub prices_include_vat: Option<bool>,
    /// Our id of the VAT rate that applies to the product.
    pub vat_rate_id: Option<Uuid>,
    /// Whether the product is sold; default true.
    pub active: Option<bool>,
}

/// A product.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Product {
    /// Our id; never changes.
    pub id: Uuid,
    /// The vendor's id.
    pub external_id: String,
    /// Stock keeping unit.
    pub sku: Option<String>,
    /// EAN/GTIN barcode.
    pub ean: Option<String>,
    /// The product's name.
    pub name: String,
    /// Our id of the product's category.
    pub category_id: Option<Uuid>,
    /// The unit price as a decimal string, with at least two decimals (`3.49`, `0.1234`).
    #[schema(value_type = Option<String>, example = "3.49")]
    #[serde(serialize_with = "crate::money::serialize_option")]
    pub unit_price: Option<Decimal>,
    /// Whether `unit_price` includes VAT.
    pub prices_include_vat: bool,
    /// Our id of the VAT rate.
    pub vat_rate_id: Option<Uuid>,
    /// Whether the product is sold.
    pub active: bool,
    /// How often the product changed, starting at 1.
    pub version: i32,
    /// When the product was created.
    pub created_at: DateTime<Utc>,
    /// When the product last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<ProductRecord> for Product {
    fn from(r: ProductRecord) -> Self {
        Self {
            id: r.id,
            external_id: r.external_id,
            sku: r.sku,
            ean: r.ean,
            name: r.name,
            category_id: r.category_id,
            unit_price: r.unit_price.map(|p| p.normalize()),
            prices_include_vat: r.prices_include_vat,
            vat_rate_id: r.vat_rate_id,
            active: r.active,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// The product list, as the OpenAPI document names and describes its page.
#[derive(Debug)]
pub enum ProductListing {}

impl crate::page::Listing for ProductListing {
    type Item = Product;
    const NAME: &'static str = "ProductList";
    const DESCRIPTION: &'static str = "A page of products.";
    const DATA: &'static str = "The products on this page.";
}

/// A page of products.
pub type ProductList = crate::page::Page<ProductListing>;

/// Filters of the product list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProductQuery {
    /// Only products with this SKU.
    pub sku: Option<String>,
    /// Only the product with this external id.
    pub external_id: Option<String>,
    /// Only products changed at or after this moment (RFC 3339 with offset).
    pub updated_since: Option<DateTime<Utc>>,
    /// How many items to answer, 1 to 1000; default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

/// The `company_id` and `product_id` path parameters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ProductPath {
    /// The company's id.
    pub company_id: Uuid,
    /// The product's id.
    pub product_id: Uuid,
}

/// Create or update a product by its `external_id`.
///
/// The vendor's `external_id` is the key: a new one creates the product (201), a known one
/// updates it (200, a new version) or answers it unchanged. Two products of a company cannot
/// share a SKU. Order lines that name the SKU link to the product from then on. Each change is
/// an event in the feed. Scope `products:write`.
#[utoipa::path(post, path = "/v1/companies/{company_id}/products", tag = "products",
    params(crate::params::CompanyPath),
    request_body(content = ProductInput, description = "The product"),
    security(("oauth2" = ["products:write"])),
    responses(
        (status = 201, description = "The product was created", body = Product),
        (status = 200, description = "The product was updated, or was already exactly this", body = Product),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn upsert_product(
    State(app): State<App>,
    access: CompanyAccess<ProductsWrite>,
    AppJson(input): AppJson<ProductInput>,
) -> Result<(StatusCode, Json<Product>), ApiError> {
    let mut errors = Vec::new();
    check_external_id_and_name(&input.external_id, &input.name, &mut errors);
    if let Some(ean) = &input.ean
        && !gtin_is_valid(ean)
    {
        errors.push(violation(
            "/ean",
            codes::INVALID_EAN,
            "not an EAN/GTIN of 8, 12, 13 or 14 digits with a valid check digit",
            "geen EAN/GTIN van 8, 12, 13 of 14 cijfers met een geldig controlecijfer",
        ));
    }
    if let Some(price) = input.unit_price
        && !has_at_most_decimals(price, 6)
    {
        errors.push(violation(
            "/unit_price",
            codes::TOO_MANY_DECIMALS,
            "a unit price has at most 6 decimals",
            "een stuksprijs heeft hoogstens 6 decimalen",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::InvalidRequest(errors));
    }
    let new = NewProduct {
        external_id: input.external_id,
        sku: input.sku,
        ean: input.ean,
        name: input.name.trim().to_owned(),
        category_id: input.category_id,
        unit_price: input.unit_price,
        prices_include_vat: input.prices_include_vat.unwrap_or(true),
        vat_rate_id: input.vat_rate_id,
        active: input.active.unwrap_or(true),
    };
    match app.store.products().upsert(access.company_id, &new).await {
        Ok(Upserted { record, outcome }) => {
            let status = if outcome == Outcome::Created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok((status, Json(record.into())))
        }
        Err(StoreError::UnknownReference(reference)) => {
            let (pointer, code, what_en, what_nl) = match reference {
                Reference::VatRate => (
                    "/vat_rate_id",
                    codes::UNKNOWN_VAT_RATE,
                    "VAT rate",
                    "btw-tarief",
                ),
                Reference::Category => (
                    "/category_id",
                    codes::UNKNOWN_CATEGORY,
                    "category",
                    "categorie",
                ),
            };
            Err(ApiError::InvalidRequest(vec![violation(
                pointer,
                code,
                format!("no {what_en} with this id exists in the company"),
                format!("er bestaat geen {what_nl} met dit id in dit bedrijf"),
            )]))
        }
        Err(e) => Err(e.into()),
    }
}

/// Find products by SKU, external id or change time.
///
/// Products of the company, oldest change first. Filter by `sku` or `external_id`, or by
/// `updated_since` to follow changes. Scope `products:read`.
#[utoipa::path(get, path = "/v1/companies/{company_id}/products", tag = "products",
    params(crate::params::CompanyPath, ProductQuery),
    security(("oauth2" = ["products:read"])),
    responses(
        (status = 200, description = "A page of products, oldest change first", body = ProductList),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_products(
    State(app): State<App>,
    access: CompanyAccess<ProductsRead>,
    AppQuery(query): AppQuery<ProductQuery>,
) -> Result<Json<ProductList>, ApiError> {
    let page = PageParams {
        limit: query.limit,
        cursor: query.cursor,
    };
    let limit = page.limit()?;
    let filter = ProductFilter {
        sku: query.sku,
        external_id: query.external_id,
        updated_since: query.updated_since,
        after: page.cursor()?,
        limit: i64::from(limit) + 1,
    };
    let rows = app
        .store
        .products()
        .list(access.company_id, &filter)
        .await?;
    let Page { items, next } =
        Page::from_overfetch(rows, limit, |r| Cursor::encode(&(r.updated_at, r.id)));
    Ok(Json(ProductList {
        data: items.into_iter().map(Product::from).collect(),
        next_cursor: next,
    }))
}

/// Get one product.
///
/// By Koppel's id, as order lines name it. Scope `products:read`.
#[utoipa::path(get, path = "/v1/companies/{company_id}/products/{product_id}", tag = "products",
    params(ProductPath),
    security(("oauth2" = ["products:read"])),
    responses(
        (status = 200, description = "The product", body = Product),
        (status = "4XX", description = "The request was refused", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_product(
    State(app): State<App>,
    access: CompanyAccess<ProductsRead>,
    AppPath(path): AppPath<ProductPath>,
) -> Result<Json<Product>, ApiError> {
    let record = app
        .store
        .products()
        .find(access.company_id, path.product_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(record.into()))
}
