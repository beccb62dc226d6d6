//! Executing a guided batch (SPEC §8): step entries against its master record, their
//! verification by a second person, and the exceptions QA reviews before release.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde::Deserialize;
use traza_domain::mbr::ParameterValue;
use traza_store::{ExceptionView, RecordedStep, StepEntryView, StepInput};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::List;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AppJson, AppPath, Auth};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_steps))
        .routes(routes!(record_step))
        .routes(routes!(verify_step))
        .routes(routes!(list_exceptions))
        .routes(routes!(resolve_exception))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LotTaken {
    lot_id: String,
    /// How much of the lot the step consumed, in the material's unit (a decimal string).
    #[schema(value_type = String)]
    quantity: Decimal,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepRequest {
    /// When the step was done (RFC 3339).
    performed_at: chrono::DateTime<chrono::Utc>,
    room_id: Option<String>,
    #[serde(default)]
    equipment_ids: Vec<String>,
    /// Every parameter of the step, `{name, value}` (decimals with a point).
    #[serde(default)]
    parameters: Vec<ParameterValue>,
    #[serde(default)]
    materials: Vec<LotTaken>,
    note: Option<String>,
    /// The entry this one corrects (of the same step), with `reason`.
    corrects: Option<i64>,
    reason: Option<String>,
}

/// The batch's step entries, oldest first.
#[utoipa::path(get, path = "/batches/{number}/steps", tag = "batches", security(("bearer" = [])), params(("number" = String, Path)),
    responses((status = 200, description = "the entries", body = List<StepEntryView>), (status = 404, description = "unknown or out of scope", body = ErrorBody)))]
async fn list_steps(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(number): AppPath<String>,
) -> Result<Json<List<StepEntryView>>, ApiError> {
    Ok(Json(List::all(
        state.store.list_steps(&actor, &number).await?,
    )))
}

/// Records an entry of step `code` of the batch's master record (staff or QA of the lab).
/// Equipment, lots and room are checked (409 `equipment_not_usable`, `material_not_usable`,
/// `room_not_suitable`); the exceptions the entry raises are recorded with it and returned.
#[utoipa::path(post, path = "/batches/{number}/steps/{code}", tag = "batches", security(("bearer" = [])), params(("number" = String, Path), ("code" = String, Path)), request_body = StepRequest,
    responses((status = 201, description = "the entry and the exceptions it raised", body = RecordedStep), (status = 403, description = "role forbids", body = ErrorBody), (status = 404, description = "unknown batch or step, or an unguided batch", body = ErrorBody), (status = 409, description = "equipment, lot or room not usable; the batch takes no more records", body = ErrorBody), (status = 422, description = "invalid fields", body = ErrorBody)))]
async fn record_step(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath((number, code)): AppPath<(String, String)>,
    AppJson(r): AppJson<StepRequest>,
) -> Result<(StatusCode, Json<RecordedStep>), ApiError> {
    let input = StepInput {
        performed_at: r.performed_at,
        room_id: r.room_id,
        equipment_ids: r.equipment_ids,
        parameters: r.parameters,
        materials: r
            .materials
            .into_iter()
            .map(|m| (m.lot_id, m.quantity))
            .collect(),
        note: r.note,
        corrects: r.corrects,
        reason: r.reason,
    };
    let recorded = state
        .store
        .record_step(&actor, &number, &code, input)
        .await?;
    Ok((StatusCode::CREATED, Json(recorded)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The verifier: another person of the laboratory, who signs with their own password.
    username: String,
    password: String,
}

/// A second person verifies the current entry of step `code` with their electronic
/// signature (meaning `checked`); the performer may not (409 `four_eyes`).
#[utoipa::path(post, path = "/batches/{number}/steps/{code}/verify", tag = "batches", security(("bearer" = [])), params(("number" = String, Path), ("code" = String, Path)), request_body = VerifyRequest,
    responses((status = 200, description = "the entry, verified", body = StepEntryView), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "role forbids, or the verifier's username or password does not match (signature refused)", body = ErrorBody), (status = 404, description = "unknown batch, step or entry", body = ErrorBody), (status = 409, description = "the performer verifying, or nothing to verify", body = ErrorBody)))]
async fn verify_step(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath((number, code)): AppPath<(String, String)>,
    AppJson(r): AppJson<VerifyRequest>,
) -> Result<Json<StepEntryView>, ApiError> {
    Ok(Json(
        state
            .store
            .verify_step(&actor, &number, &code, &r.username, &r.password)
            .await?,
    ))
}

/// The batch's exceptions (review by exception), oldest first.
#[utoipa::path(get, path = "/batches/{number}/exceptions", tag = "batches", security(("bearer" = [])), params(("number" = String, Path)),
    responses((status = 200, description = "the exceptions", body = List<ExceptionView>), (status = 404, description = "unknown or out of scope", body = ErrorBody)))]
async fn list_exceptions(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(number): AppPath<String>,
) -> Result<Json<List<ExceptionView>>, ApiError> {
    Ok(Json(List::all(
        state.store.list_exceptions(&actor, &number).await?,
    )))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    comment: String,
    /// Required for a critical exception: an electronic signature (`exception_reviewed`).
    password: Option<String>,
}

/// QA of the laboratory resolves an exception with a comment (and a signature when critical).
#[utoipa::path(post, path = "/batches/{number}/exceptions/{id}/resolve", tag = "batches", security(("bearer" = [])), params(("number" = String, Path), ("id" = i64, Path)), request_body = ResolveRequest,
    responses((status = 200, description = "the exception, resolved", body = ExceptionView), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "role forbids, or the password does not match (signature refused)", body = ErrorBody), (status = 404, description = "unknown or out of scope", body = ErrorBody), (status = 409, description = "already resolved", body = ErrorBody), (status = 422, description = "no comment, or a critical one without a password", body = ErrorBody)))]
async fn resolve_exception(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath((number, id)): AppPath<(String, i64)>,
    AppJson(r): AppJson<ResolveRequest>,
) -> Result<Json<ExceptionView>, ApiError> {
    Ok(Json(
        state
            .store
            .resolve_exception(&actor, &number, id, &r.comment, r.password.as_deref())
            .await?,
    ))
}
