//! SPEC §8 materials: the network's catalogue (read: everyone; write: coordinator) and each
//! laboratory's lots (staff and QA of the laboratory; released or rejected by its QA, signed).
//! Quantities travel as decimal strings (`"2.5"`), in the material's unit.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::Deserialize;
use traza_domain::codes::{LabCode, MaterialCode};
use traza_domain::materials::{LotReceipt, LotStatus, Material, MaterialKind, quantity};
use traza_domain::validation::Fields;
use traza_store::{LotQuery, LotView, MaterialUpdate};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::List;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery, Auth};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_materials, create_material))
        .routes(routes!(get_material, update_material))
        .routes(routes!(list_lots, receive_lot))
        .routes(routes!(get_lot))
        .routes(routes!(release_lot))
        .routes(routes!(reject_lot))
}

#[utoipa::path(get, path = "/materials", tag = "materials", security(("bearer" = [])),
    responses((status = 200, description = "the network's catalogue, by code", body = List<Material>)))]
async fn list_materials(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> Result<Json<List<Material>>, ApiError> {
    Ok(Json(List::all(state.store.list_materials(&actor).await?)))
}

/// Add a material to the network's catalogue (coordinator).
#[utoipa::path(post, path = "/materials", tag = "materials", security(("bearer" = [])), request_body = Material,
    responses((status = 201, body = Material), (status = 403, description = "role forbids", body = ErrorBody), (status = 409, description = "code taken", body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_material(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppJson(material): AppJson<Material>,
) -> Result<(StatusCode, Json<Material>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(state.store.create_material(&actor, material).await?),
    ))
}

#[utoipa::path(get, path = "/materials/{code}", tag = "materials", security(("bearer" = [])), params(("code" = String, Path)),
    responses((status = 200, body = Material), (status = 404, body = ErrorBody)))]
async fn get_material(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(code): AppPath<String>,
) -> Result<Json<Material>, ApiError> {
    Ok(Json(state.store.get_material(&actor, &code).await?))
}

/// Fields to change; absent fields stay.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaterialPatch {
    name: Option<String>,
    kind: Option<MaterialKind>,
    /// Fixed once a lot of the material has been received (409 `record_locked`).
    unit: Option<String>,
}

/// Change a material of the catalogue (coordinator).
#[utoipa::path(patch, path = "/materials/{code}", tag = "materials", security(("bearer" = [])), params(("code" = String, Path)), request_body = MaterialPatch,
    responses((status = 200, body = Material), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "a unit change once lots exist", body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_material(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(code): AppPath<String>,
    AppJson(p): AppJson<MaterialPatch>,
) -> Result<Json<Material>, ApiError> {
    let update = MaterialUpdate {
        name: p.name,
        kind: p.kind,
        unit: p.unit,
    };
    Ok(Json(
        state.store.update_material(&actor, &code, update).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LotFilter {
    /// A laboratory code.
    lab: Option<String>,
    /// A material code.
    material: Option<String>,
    /// `quarantine`, `released` or `rejected`.
    status: Option<String>,
}

/// The lots of the caller's laboratories (every laboratory's for coordinators, auditors and
/// admins), by lot id.
#[utoipa::path(get, path = "/lots", tag = "materials", security(("bearer" = [])), params(LotFilter),
    responses((status = 200, body = List<LotView>), (status = 422, body = ErrorBody)))]
async fn list_lots(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppQuery(q): AppQuery<LotFilter>,
) -> Result<Json<List<LotView>>, ApiError> {
    let mut f = Fields::default();
    let query = LotQuery {
        lab: f
            .check_opt("lab", q.lab.as_deref(), LabCode::parse)
            .flatten(),
        material: f
            .check_opt("material", q.material.as_deref(), MaterialCode::parse)
            .flatten(),
        status: f
            .check_opt("status", q.status.as_deref(), str::parse::<LotStatus>)
            .flatten(),
    };
    f.finish()?;
    Ok(Json(List::all(
        state.store.list_lots(&actor, &query).await?,
    )))
}

/// The receipt of a lot. Quantities are decimal strings in the material's unit.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LotReceiptRequest {
    lab_code: String,
    material_code: String,
    supplier: String,
    /// The supplier's own lot number.
    supplier_lot: String,
    /// Not after today.
    received_on: NaiveDate,
    /// The last day the lot may be used; not before `received_on`.
    expiry_date: NaiveDate,
    /// Above zero (`"500"`, `"2.5"`).
    quantity_received: String,
}

/// Record the receipt of a material lot (staff or QA of the laboratory): it starts in
/// quarantine, with a lot id of the laboratory's.
#[utoipa::path(post, path = "/lots", tag = "materials", security(("bearer" = [])), request_body = LotReceiptRequest,
    responses((status = 201, description = "the lot, in quarantine", body = LotView), (status = 403, description = "role forbids", body = ErrorBody), (status = 404, description = "laboratory out of scope", body = ErrorBody), (status = 422, description = "invalid fields, unknown material", body = ErrorBody)))]
async fn receive_lot(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppJson(r): AppJson<LotReceiptRequest>,
) -> Result<(StatusCode, Json<LotView>), ApiError> {
    let mut f = Fields::default();
    let lab_code = f.check("lab_code", LabCode::parse(&r.lab_code));
    let material_code = f.check("material_code", MaterialCode::parse(&r.material_code));
    let quantity_received = f.check("quantity_received", quantity(&r.quantity_received));
    f.finish()?;
    let (Some(lab_code), Some(material_code), Some(quantity_received)) =
        (lab_code, material_code, quantity_received)
    else {
        // `finish` has refused already when one of them did not parse.
        return Err(ApiError::bad_request("the receipt did not parse"));
    };
    let receipt = LotReceipt {
        lab_code,
        material_code,
        supplier: r.supplier,
        supplier_lot: r.supplier_lot,
        received_on: r.received_on,
        expiry_date: r.expiry_date,
        quantity_received,
    };
    Ok((
        StatusCode::CREATED,
        Json(state.store.receive_lot(&actor, receipt).await?),
    ))
}

#[utoipa::path(get, path = "/lots/{lot_id}", tag = "materials", security(("bearer" = [])), params(("lot_id" = String, Path)),
    responses((status = 200, body = LotView), (status = 404, description = "unknown or out of scope", body = ErrorBody)))]
async fn get_lot(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(lot_id): AppPath<String>,
) -> Result<Json<LotView>, ApiError> {
    Ok(Json(state.store.get_lot(&actor, &lot_id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LotReleaseRequest {
    /// The signer's password, re-entered: an electronic signature of meaning
    /// `material_released`.
    password: String,
}

/// QA of the laboratory releases a lot from quarantine, signed.
#[utoipa::path(post, path = "/lots/{lot_id}/release", tag = "materials", security(("bearer" = [])), params(("lot_id" = String, Path)), request_body = LotReleaseRequest,
    responses((status = 200, description = "the lot, released, with its signature", body = LotView), (status = 403, description = "role forbids, or wrong password (`invalid_signature`)", body = ErrorBody), (status = 404, description = "unknown or out of scope", body = ErrorBody), (status = 409, description = "not in quarantine, or expired", body = ErrorBody), (status = 423, description = "account locked", body = ErrorBody)))]
async fn release_lot(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(lot_id): AppPath<String>,
    AppJson(r): AppJson<LotReleaseRequest>,
) -> Result<Json<LotView>, ApiError> {
    Ok(Json(
        state
            .store
            .release_lot(&actor, &lot_id, &r.password)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LotRejectRequest {
    /// The signer's password, re-entered: an electronic signature of meaning
    /// `material_rejected`.
    password: String,
    /// Why the lot is rejected.
    reason: String,
}

/// QA of the laboratory rejects a lot, signed, with a reason.
#[utoipa::path(post, path = "/lots/{lot_id}/reject", tag = "materials", security(("bearer" = [])), params(("lot_id" = String, Path)), request_body = LotRejectRequest,
    responses((status = 200, description = "the lot, rejected, with its signature", body = LotView), (status = 403, description = "role forbids, or wrong password (`invalid_signature`)", body = ErrorBody), (status = 404, description = "unknown or out of scope", body = ErrorBody), (status = 409, description = "not in quarantine", body = ErrorBody), (status = 422, description = "no reason", body = ErrorBody), (status = 423, description = "account locked", body = ErrorBody)))]
async fn reject_lot(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(lot_id): AppPath<String>,
    AppJson(r): AppJson<LotRejectRequest>,
) -> Result<Json<LotView>, ApiError> {
    Ok(Json(
        state
            .store
            .reject_lot(&actor, &lot_id, &r.password, &r.reason)
            .await?,
    ))
}
