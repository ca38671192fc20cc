//! Product and revenue categories (K7e).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use koppel_domain::problem::codes;
use koppel_store::StoreError;
use koppel_store::settings::{CategoryRecord, NewCategory, Upserted};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::App;
use crate::auth::extract::{CompanyAccess, SettingsRead, SettingsWrite};
use crate::error::{ApiError, Problem};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::params::{SettingsQuery, change_page, upsert_status};
use crate::validate::{check_external_id_and_name, violation};

/// The routes of this setting.
pub(super) fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(upsert_category, list_categories))
        .routes(routes!(get_category))
}

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

/// The category list, as the OpenAPI document names and describes its page.
#[derive(Debug)]
pub enum CategoryListing {}

impl crate::page::Listing for CategoryListing {
    type Item = Category;
    const NAME: &'static str = "CategoryList";
    const DESCRIPTION: &'static str = "A page of categories.";
    const DATA: &'static str = "The categories on this page.";
}

/// A page of categories.
pub type CategoryList = crate::page::Page<CategoryListing>;

/// The `company_id` and `category_id` path parameters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct CategoryPath {
    /// The company's id.
    pub company_id: Uuid,
    /// The category's id.
    pub category_id: Uuid,
}

/// Create or update a category by its `external_id`.
///
/// The vendor's `external_id` is the key: a new one creates the category (201), a known one
/// updates it (200, a new version) or, when nothing changed, answers it as it is (200). Each
/// change is an event in the feed. Scope `settings:write`.
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
        Ok(Upserted { record, outcome }) => Ok((upsert_status(outcome), Json(record.into()))),
        Err(StoreError::ForeignKeyViolation { .. }) => {
            Err(ApiError::InvalidRequest(vec![violation(
                "/parent_id",
                codes::UNKNOWN_CATEGORY,
                "no category with this id exists in the company",
                "er bestaat geen categorie met dit id in dit bedrijf",
            )]))
        }
        Err(e) => Err(e.into()),
    }
}

/// List categories, by `external_id` or changed since a moment.
///
/// Revenue categories (omzetgroepen) of the company, oldest change first. `external_id` finds
/// one by the vendor's id; `updated_since` gives those changed since a moment, for a connector
/// that keeps its copy in step. Scope `settings:read`.
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
    let (data, next_cursor) = change_page(rows, limit, |r: &CategoryRecord| (r.updated_at, r.id));
    Ok(Json(CategoryList { data, next_cursor }))
}

/// Get one category.
///
/// By Koppel's id, as documents and events name it. Scope `settings:read`.
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
