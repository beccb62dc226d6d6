//! Traceability: donor → batches → patients, and patient → batches → donors.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use traza_domain::codes::{DonorCode, PatientCode};
use traza_store::TraceBatch;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AppPath, Auth};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(trace_donor))
        .routes(routes!(trace_patient))
        .routes(routes!(trace_lot))
}

#[derive(Serialize, ToSchema)]
pub struct LotTrace {
    lot: traza_store::LotView,
    batches: Vec<TraceBatch>,
}

/// A recall: every batch (in the caller's scope) whose step entries consumed the lot, and
/// every patient who received one.
#[utoipa::path(get, path = "/trace/lots/{lot_id}", tag = "traceability", security(("bearer" = [])), params(("lot_id" = String, Path)),
    responses((status = 200, body = LotTrace), (status = 404, description = "unknown lot, or another laboratory's", body = ErrorBody)))]
async fn trace_lot(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(lot_id): AppPath<String>,
) -> Result<Json<LotTrace>, ApiError> {
    let (lot, batches) = state.store.trace_lot(&actor, &lot_id).await?;
    Ok(Json(LotTrace { lot, batches }))
}

#[derive(Serialize, ToSchema)]
pub struct Trace {
    /// The code asked for, in canonical form.
    code: String,
    batches: Vec<TraceBatch>,
}

/// Every batch made from a donor (in the caller's scope) and every patient who received it.
#[utoipa::path(get, path = "/trace/donors/{code}", tag = "traceability", security(("bearer" = [])), params(("code" = String, Path)),
    responses((status = 200, body = Trace), (status = 422, body = ErrorBody)))]
async fn trace_donor(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(code): AppPath<String>,
) -> Result<Json<Trace>, ApiError> {
    let donor = DonorCode::parse(&code).map_err(|e| ApiError::validation("code", e))?;
    let batches = state.store.trace_donor(&actor, &donor).await?;
    Ok(Json(Trace {
        code: donor.as_str().to_owned(),
        batches,
    }))
}

/// Every batch made for or given to a patient (in the caller's scope), with its donor.
#[utoipa::path(get, path = "/trace/patients/{code}", tag = "traceability", security(("bearer" = [])), params(("code" = String, Path)),
    responses((status = 200, body = Trace), (status = 422, body = ErrorBody)))]
async fn trace_patient(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(code): AppPath<String>,
) -> Result<Json<Trace>, ApiError> {
    let patient = PatientCode::parse(&code).map_err(|e| ApiError::validation("code", e))?;
    let batches = state.store.trace_patient(&actor, &patient).await?;
    Ok(Json(Trace {
        code: patient.as_str().to_owned(),
        batches,
    }))
}
