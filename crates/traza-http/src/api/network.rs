//! Laboratories and products (read: everyone; write: coordinator).

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::Deserialize;
use traza_domain::network::{Laboratory, Product};
use traza_domain::spec::{SpecTest, Specification};
use traza_domain::vocab::{AccessRoute, AtmpClass, LabStatus, ProductStatus};
use traza_store::{LabUpdate, ProductUpdate};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{List, nullable};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AppJson, AppPath, Auth};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_labs, create_lab))
        .routes(routes!(get_lab, update_lab))
        .routes(routes!(list_products, create_product))
        .routes(routes!(get_product, update_product))
}

#[utoipa::path(get, path = "/labs", tag = "network", security(("bearer" = [])), responses((status = 200, body = List<Laboratory>)))]
async fn list_labs(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> Result<Json<List<Laboratory>>, ApiError> {
    Ok(Json(List::all(state.store.list_labs(&actor).await?)))
}

#[utoipa::path(post, path = "/labs", tag = "network", security(("bearer" = [])), request_body = Laboratory,
    responses((status = 201, body = Laboratory), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_lab(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppJson(lab): AppJson<Laboratory>,
) -> Result<(StatusCode, Json<Laboratory>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(state.store.create_lab(&actor, lab).await?),
    ))
}

#[utoipa::path(get, path = "/labs/{code}", tag = "network", security(("bearer" = [])), params(("code" = String, Path)),
    responses((status = 200, body = Laboratory), (status = 404, body = ErrorBody)))]
async fn get_lab(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(code): AppPath<String>,
) -> Result<Json<Laboratory>, ApiError> {
    Ok(Json(state.store.get_lab(&actor, &code).await?))
}

/// Fields to change; absent fields stay, `null` clears an optional one.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabPatch {
    name: Option<String>,
    city: Option<String>,
    province: Option<String>,
    institution: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    authorisation_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    gmp_certificate_valid_until: Option<Option<NaiveDate>>,
    status: Option<LabStatus>,
    training_only: Option<bool>,
    specialisations: Option<BTreeSet<AtmpClass>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<u32>)]
    capacity_per_month: Option<Option<u32>>,
}

#[utoipa::path(patch, path = "/labs/{code}", tag = "network", security(("bearer" = [])), params(("code" = String, Path)), request_body = LabPatch,
    responses((status = 200, body = Laboratory), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_lab(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(code): AppPath<String>,
    AppJson(p): AppJson<LabPatch>,
) -> Result<Json<Laboratory>, ApiError> {
    let update = LabUpdate {
        name: p.name,
        city: p.city,
        province: p.province,
        institution: p.institution,
        authorisation_number: p.authorisation_number,
        gmp_certificate_valid_until: p.gmp_certificate_valid_until,
        status: p.status,
        training_only: p.training_only,
        specialisations: p.specialisations,
        capacity_per_month: p.capacity_per_month,
    };
    Ok(Json(state.store.update_lab(&actor, &code, update).await?))
}

#[utoipa::path(get, path = "/products", tag = "network", security(("bearer" = [])), responses((status = 200, body = List<Product>)))]
async fn list_products(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> Result<Json<List<Product>>, ApiError> {
    Ok(Json(List::all(state.store.list_products(&actor).await?)))
}

#[utoipa::path(post, path = "/products", tag = "network", security(("bearer" = [])), request_body = Product,
    responses((status = 201, body = Product), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_product(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppJson(product): AppJson<Product>,
) -> Result<(StatusCode, Json<Product>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(state.store.create_product(&actor, product).await?),
    ))
}

#[utoipa::path(get, path = "/products/{code}", tag = "network", security(("bearer" = [])), params(("code" = String, Path)),
    responses((status = 200, body = Product), (status = 404, body = ErrorBody)))]
async fn get_product(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(code): AppPath<String>,
) -> Result<Json<Product>, ApiError> {
    Ok(Json(state.store.get_product(&actor, &code).await?))
}

/// Fields to change. A new `specification` becomes a new version of it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductPatch {
    name: Option<String>,
    access_routes: Option<BTreeSet<AccessRoute>>,
    shelf_life_days: Option<u32>,
    status: Option<ProductStatus>,
    specification: Option<Vec<SpecTest>>,
    /// Conditions treated, in patients' words (public registry search); replaces the list.
    indications: Option<Vec<String>>,
    /// Other words patients search with; replaces the list.
    keywords: Option<Vec<String>>,
}

#[utoipa::path(patch, path = "/products/{code}", tag = "network", security(("bearer" = [])), params(("code" = String, Path)), request_body = ProductPatch,
    responses((status = 200, body = Product), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_product(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(code): AppPath<String>,
    AppJson(p): AppJson<ProductPatch>,
) -> Result<Json<Product>, ApiError> {
    let specification = p.specification.map(Specification::new).transpose()?;
    let update = ProductUpdate {
        name: p.name,
        access_routes: p.access_routes,
        shelf_life_days: p.shelf_life_days,
        status: p.status,
        specification,
        indications: p.indications,
        keywords: p.keywords,
    };
    Ok(Json(
        state.store.update_product(&actor, &code, update).await?,
    ))
}
