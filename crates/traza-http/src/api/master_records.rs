//! Master batch records (SPEC §8): drafts by the laboratory's QA, approval by another QA
//! person with an electronic signature, versions in effect from a date.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::Deserialize;
use traza_domain::codes::{LabCode, ProductCode};
use traza_domain::mbr::MbrStep;
use traza_domain::validation::Fields;
use traza_store::MbrView;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::List;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AppJson, AppPath, Auth};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_master_records, create_master_record))
        .routes(routes!(get_master_record, replace_master_record))
        .routes(routes!(approve_master_record))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MasterRecordQuery {
    /// Only this product's records.
    product: Option<String>,
    /// Only this laboratory's records.
    lab: Option<String>,
}

/// The master records the caller may read (their laboratories'; all for the network roles),
/// each version with its status today.
#[utoipa::path(get, path = "/master-records", tag = "master-records", security(("bearer" = [])), params(MasterRecordQuery),
    responses((status = 200, description = "every version, oldest first per product and laboratory", body = List<MbrView>), (status = 401, description = "not signed in", body = ErrorBody)))]
async fn list_master_records(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Query(q): Query<MasterRecordQuery>,
) -> Result<Json<List<MbrView>>, ApiError> {
    Ok(Json(List::all(
        state
            .store
            .list_master_records(&actor, q.product.as_deref(), q.lab.as_deref())
            .await?,
    )))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMasterRecord {
    product_code: String,
    lab_code: String,
    /// The steps, in the order they are performed.
    steps: Vec<MbrStep>,
}

/// A new draft: the next version of the product's record at the laboratory (QA of the lab).
#[utoipa::path(post, path = "/master-records", tag = "master-records", security(("bearer" = [])), request_body = NewMasterRecord,
    responses((status = 201, description = "the draft", body = MbrView), (status = 403, description = "role or laboratory forbids", body = ErrorBody), (status = 404, description = "unknown product or laboratory", body = ErrorBody), (status = 422, description = "invalid steps", body = ErrorBody)))]
async fn create_master_record(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppJson(r): AppJson<NewMasterRecord>,
) -> Result<(StatusCode, Json<MbrView>), ApiError> {
    let mut f = Fields::default();
    let product = f.check("product_code", ProductCode::parse(&r.product_code));
    let lab = f.check("lab_code", LabCode::parse(&r.lab_code));
    f.finish()?;
    let (Some(product), Some(lab)) = (product, lab) else {
        return Err(ApiError::bad_request("product_code and lab_code"));
    };
    let view = state
        .store
        .create_master_record(&actor, &product, &lab, r.steps)
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// One version with its status today.
#[utoipa::path(get, path = "/master-records/{id}", tag = "master-records", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, description = "the version", body = MbrView), (status = 404, description = "unknown or out of scope", body = ErrorBody)))]
async fn get_master_record(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(id): AppPath<i64>,
) -> Result<Json<MbrView>, ApiError> {
    Ok(Json(state.store.get_master_record(&actor, id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MasterRecordSteps {
    steps: Vec<MbrStep>,
}

/// Replaces a draft's steps; an approved version never changes (409 `record_locked`).
#[utoipa::path(put, path = "/master-records/{id}", tag = "master-records", security(("bearer" = [])), params(("id" = i64, Path)), request_body = MasterRecordSteps,
    responses((status = 200, description = "the draft", body = MbrView), (status = 403, description = "role or laboratory forbids", body = ErrorBody), (status = 404, description = "unknown or out of scope", body = ErrorBody), (status = 409, description = "approved: locked", body = ErrorBody), (status = 422, description = "invalid steps", body = ErrorBody)))]
async fn replace_master_record(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(id): AppPath<i64>,
    AppJson(r): AppJson<MasterRecordSteps>,
) -> Result<Json<MbrView>, ApiError> {
    Ok(Json(
        state
            .store
            .update_master_record(&actor, id, r.steps, None)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveMasterRecord {
    /// The approver's password, re-entered: an electronic signature of meaning
    /// `mbr_approved`.
    password: String,
    /// The first day (Europe/Madrid) the version guides new batches: today or later.
    effective_from: NaiveDate,
}

/// Another QA person of the laboratory than its author approves a draft; it is `approved`,
/// and `effective` from `effective_from` (the previous version is then `superseded`).
#[utoipa::path(post, path = "/master-records/{id}/approve", tag = "master-records", security(("bearer" = [])), params(("id" = i64, Path)), request_body = ApproveMasterRecord,
    responses((status = 200, description = "the approved version", body = MbrView), (status = 401, description = "not signed in", body = ErrorBody), (status = 403, description = "role or laboratory forbids, or the password does not match (signature refused)", body = ErrorBody), (status = 404, description = "unknown or out of scope", body = ErrorBody), (status = 409, description = "already approved (record_locked), or its author approving (four_eyes)", body = ErrorBody), (status = 422, description = "effective_from before today", body = ErrorBody)))]
async fn approve_master_record(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(id): AppPath<i64>,
    AppJson(r): AppJson<ApproveMasterRecord>,
) -> Result<Json<MbrView>, ApiError> {
    Ok(Json(
        state
            .store
            .approve_master_record(&actor, id, &r.password, r.effective_from, None)
            .await?,
    ))
}
