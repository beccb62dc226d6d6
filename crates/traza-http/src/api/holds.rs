//! Holds on a batch and the confirmation of imported released history (SPEC §2, §3).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use traza_domain::hold::Hold;
use traza_store::BatchView;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AppJson, AppPath, Auth, if_match};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(place_hold))
        .routes(routes!(lift_hold))
        .routes(routes!(confirm_history))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldRequest {
    /// Why the batch is held, or why the hold is lifted.
    reason: String,
}

/// Hold a batch (QA of its laboratory, or a coordinator): while held it is neither certified
/// nor administered.
#[utoipa::path(post, path = "/batches/{number}/holds", tag = "batches", security(("bearer" = [])), params(("number" = String, Path)), request_body = HoldRequest,
    responses((status = 201, description = "the hold placed", body = Hold), (status = 403, description = "role forbids", body = ErrorBody), (status = 404, description = "unknown or out of scope", body = ErrorBody), (status = 422, description = "no reason", body = ErrorBody)))]
async fn place_hold(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(number): AppPath<String>,
    headers: HeaderMap,
    AppJson(r): AppJson<HoldRequest>,
) -> Result<(StatusCode, Json<Hold>), ApiError> {
    let hold = state
        .store
        .place_hold(&actor, &number, if_match(&headers)?, &r.reason)
        .await?;
    Ok((StatusCode::CREATED, Json(hold)))
}

/// Lift a hold with a reason: a coordinator any hold, QA of the laboratory a hold it placed.
#[utoipa::path(post, path = "/batches/{number}/holds/{id}/lift", tag = "batches", security(("bearer" = [])), params(("number" = String, Path), ("id" = i64, Path)), request_body = HoldRequest,
    responses((status = 200, description = "the hold, lifted", body = Hold), (status = 403, description = "role forbids, or a hold QA did not place", body = ErrorBody), (status = 404, description = "unknown or out of scope", body = ErrorBody), (status = 409, description = "already lifted", body = ErrorBody)))]
async fn lift_hold(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath((number, id)): AppPath<(String, i64)>,
    headers: HeaderMap,
    AppJson(r): AppJson<HoldRequest>,
) -> Result<Json<Hold>, ApiError> {
    Ok(Json(
        state
            .store
            .lift_hold(&actor, &number, if_match(&headers)?, id, &r.reason)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmHistoryRequest {
    /// The signer's password, re-entered: an electronic signature of meaning
    /// `historical_release_confirmed`.
    password: String,
}

/// QA of the laboratory (not the importer) confirms a batch imported as released, so that it
/// may be administered.
#[utoipa::path(post, path = "/batches/{number}/confirm-history", tag = "batches", security(("bearer" = [])), params(("number" = String, Path)), request_body = ConfirmHistoryRequest,
    responses((status = 200, description = "the batch with its new signature", body = BatchView), (status = 403, description = "role forbids, or wrong password", body = ErrorBody), (status = 404, description = "unknown or out of scope", body = ErrorBody), (status = 409, description = "not an imported release with doses left, already confirmed, expired, chain of identity broken, or the importer signing", body = ErrorBody)))]
async fn confirm_history(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(number): AppPath<String>,
    headers: HeaderMap,
    AppJson(r): AppJson<ConfirmHistoryRequest>,
) -> Result<Json<BatchView>, ApiError> {
    Ok(Json(
        state
            .store
            .confirm_history(&actor, &number, if_match(&headers)?, &r.password)
            .await?,
    ))
}
