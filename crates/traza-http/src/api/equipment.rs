//! SPEC §8 equipment and rooms of each laboratory (read: the laboratory, and coordinators,
//! auditors and admins; write: QA of the laboratory).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::Deserialize;
use traza_domain::codes::{EquipmentId, LabCode, RoomId};
use traza_domain::equipment::{Equipment, EquipmentClass, EquipmentStatus, Room};
use traza_domain::validation::Fields;
use traza_domain::vocab::RoomGrade;
use traza_store::EquipmentUpdate;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::List;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery, Auth};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_equipment, create_equipment))
        .routes(routes!(update_equipment))
        .routes(routes!(list_rooms, create_room))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LabFilter {
    /// A laboratory code; without it, every laboratory the caller sees.
    lab: Option<String>,
}

fn lab_of(q: &LabFilter) -> Result<Option<LabCode>, ApiError> {
    let mut f = Fields::default();
    let lab = f
        .check_opt("lab", q.lab.as_deref(), LabCode::parse)
        .flatten();
    f.finish()?;
    Ok(lab)
}

#[utoipa::path(get, path = "/equipment", tag = "equipment", security(("bearer" = [])), params(LabFilter),
    responses((status = 200, description = "by laboratory and id", body = List<Equipment>), (status = 422, body = ErrorBody)))]
async fn list_equipment(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppQuery(q): AppQuery<LabFilter>,
) -> Result<Json<List<Equipment>>, ApiError> {
    let lab = lab_of(&q)?;
    Ok(Json(List::all(
        state.store.list_equipment(&actor, lab.as_ref()).await?,
    )))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EquipmentRequest {
    lab_code: String,
    /// Unique within the laboratory: its asset tag (`BSC-02`).
    id: String,
    /// A snake_case word (`biosafety_cabinet`); typed with spaces it is stored so.
    class: String,
    /// `in_service` when absent.
    status: Option<EquipmentStatus>,
    /// The last day its calibration covers: usable on that day, not after.
    calibration_due: NaiveDate,
}

/// Add a piece of equipment to a laboratory (its QA).
#[utoipa::path(post, path = "/equipment", tag = "equipment", security(("bearer" = [])), request_body = EquipmentRequest,
    responses((status = 201, body = Equipment), (status = 403, description = "role forbids", body = ErrorBody), (status = 404, description = "laboratory out of scope", body = ErrorBody), (status = 409, description = "id taken in the laboratory", body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_equipment(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppJson(r): AppJson<EquipmentRequest>,
) -> Result<(StatusCode, Json<Equipment>), ApiError> {
    let mut f = Fields::default();
    let lab_code = f.check("lab_code", LabCode::parse(&r.lab_code));
    let id = f.check("id", EquipmentId::parse(&r.id));
    let class = f.check("class", EquipmentClass::parse(&r.class));
    f.finish()?;
    let (Some(lab_code), Some(id), Some(class)) = (lab_code, id, class) else {
        // `finish` has refused already when one of them did not parse.
        return Err(ApiError::bad_request("the equipment did not parse"));
    };
    let e = Equipment {
        lab_code,
        id,
        class,
        status: r.status.unwrap_or(EquipmentStatus::InService),
        calibration_due: r.calibration_due,
    };
    Ok((
        StatusCode::CREATED,
        Json(state.store.create_equipment(&actor, e).await?),
    ))
}

/// Fields to change; absent fields stay.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EquipmentPatch {
    class: Option<String>,
    status: Option<EquipmentStatus>,
    calibration_due: Option<NaiveDate>,
}

/// Change a piece of equipment (QA of its laboratory): out of service and back, a new
/// calibration due date, its class.
#[utoipa::path(patch, path = "/equipment/{lab_code}/{id}", tag = "equipment", security(("bearer" = [])), params(("lab_code" = String, Path), ("id" = String, Path)), request_body = EquipmentPatch,
    responses((status = 200, body = Equipment), (status = 403, description = "role forbids", body = ErrorBody), (status = 404, description = "unknown or out of scope", body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_equipment(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath((lab_code, id)): AppPath<(String, String)>,
    AppJson(p): AppJson<EquipmentPatch>,
) -> Result<Json<Equipment>, ApiError> {
    let mut f = Fields::default();
    let class = f
        .check_opt("class", p.class.as_deref(), EquipmentClass::parse)
        .flatten();
    f.finish()?;
    let update = EquipmentUpdate {
        class,
        status: p.status,
        calibration_due: p.calibration_due,
    };
    Ok(Json(
        state
            .store
            .update_equipment(&actor, &lab_code, &id, update)
            .await?,
    ))
}

#[utoipa::path(get, path = "/rooms", tag = "equipment", security(("bearer" = [])), params(LabFilter),
    responses((status = 200, description = "by laboratory and id", body = List<Room>), (status = 422, body = ErrorBody)))]
async fn list_rooms(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppQuery(q): AppQuery<LabFilter>,
) -> Result<Json<List<Room>>, ApiError> {
    let lab = lab_of(&q)?;
    Ok(Json(List::all(
        state.store.list_rooms(&actor, lab.as_ref()).await?,
    )))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoomRequest {
    lab_code: String,
    /// Unique within the laboratory (`SB-01`).
    id: String,
    /// EU GMP Annex 1 grade, `A` the cleanest.
    grade: RoomGrade,
}

/// Add a room to a laboratory (its QA).
#[utoipa::path(post, path = "/rooms", tag = "equipment", security(("bearer" = [])), request_body = RoomRequest,
    responses((status = 201, body = Room), (status = 403, description = "role forbids", body = ErrorBody), (status = 404, description = "laboratory out of scope", body = ErrorBody), (status = 409, description = "id taken in the laboratory", body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_room(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppJson(r): AppJson<RoomRequest>,
) -> Result<(StatusCode, Json<Room>), ApiError> {
    let mut f = Fields::default();
    let lab_code = f.check("lab_code", LabCode::parse(&r.lab_code));
    let id = f.check("id", RoomId::parse(&r.id));
    f.finish()?;
    let (Some(lab_code), Some(id)) = (lab_code, id) else {
        // `finish` has refused already when one of them did not parse.
        return Err(ApiError::bad_request("the room did not parse"));
    };
    let room = Room {
        lab_code,
        id,
        grade: r.grade,
    };
    Ok((
        StatusCode::CREATED,
        Json(state.store.create_room(&actor, room).await?),
    ))
}
