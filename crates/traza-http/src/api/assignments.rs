//! Assignments of products to laboratories (read: everyone; write: coordinator).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::Deserialize;
use traza_domain::codes::{LabCode, ProductCode};
use traza_domain::network::{Assignment, AssignmentProposal, Period};
use traza_domain::validation::Fields;
use traza_domain::vocab::AccessRoute;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::List;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery, Auth};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_assignments, create_assignment))
        .routes(routes!(end_assignment))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AssignmentFilter {
    product: Option<String>,
    lab: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct AssignmentRequest {
    product_code: String,
    lab_code: String,
    access_route: AccessRoute,
    authorisation_ref: Option<String>,
    valid_from: NaiveDate,
    valid_until: Option<NaiveDate>,
    reason: String,
}

#[derive(Deserialize, ToSchema)]
pub struct EndAssignmentRequest {
    /// Last day the assignment is valid.
    valid_until: NaiveDate,
    reason: String,
}

#[utoipa::path(get, path = "/assignments", tag = "network", security(("bearer" = [])), params(AssignmentFilter),
    responses((status = 200, body = List<Assignment>)))]
async fn list_assignments(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppQuery(q): AppQuery<AssignmentFilter>,
) -> Result<Json<List<Assignment>>, ApiError> {
    Ok(Json(List::all(
        state
            .store
            .list_assignments(&actor, q.product.as_deref(), q.lab.as_deref())
            .await?,
    )))
}

/// Assign a product to a laboratory; refused with `lab_not_eligible` listing every reason.
#[utoipa::path(post, path = "/assignments", tag = "network", security(("bearer" = [])), request_body = AssignmentRequest,
    responses((status = 201, body = Assignment), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_assignment(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppJson(req): AppJson<AssignmentRequest>,
) -> Result<(StatusCode, Json<Assignment>), ApiError> {
    let mut f = Fields::default();
    let product_code = f.check("product_code", ProductCode::parse(&req.product_code));
    let lab_code = f.check("lab_code", LabCode::parse(&req.lab_code));
    f.finish()?;
    let (Some(product_code), Some(lab_code)) = (product_code, lab_code) else {
        return Err(ApiError::validation("product_code", "invalid"));
    };
    let proposal = AssignmentProposal {
        product_code,
        lab_code,
        access_route: req.access_route,
        authorisation_ref: req.authorisation_ref,
        period: Period {
            valid_from: req.valid_from,
            valid_until: req.valid_until,
        },
        reason: req.reason,
    };
    Ok((
        StatusCode::CREATED,
        Json(state.store.create_assignment(&actor, proposal).await?),
    ))
}

/// End an assignment (it is never deleted).
#[utoipa::path(post, path = "/assignments/{id}/end", tag = "network", security(("bearer" = [])), params(("id" = i64, Path)), request_body = EndAssignmentRequest,
    responses((status = 200, body = Assignment), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn end_assignment(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<EndAssignmentRequest>,
) -> Result<Json<Assignment>, ApiError> {
    Ok(Json(
        state
            .store
            .end_assignment(&actor, id, req.valid_until, &req.reason)
            .await?,
    ))
}
