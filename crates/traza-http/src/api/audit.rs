//! The audit trail (auditor, admin, coordinator).

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use traza_store::{AuditPage, AuditQuery};
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AppQuery, Auth};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(audit_trail))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    entity_type: Option<String>,
    entity_key: Option<String>,
    /// Continue after this event id (the previous page's `next_cursor`).
    after_id: Option<i64>,
    /// 1 to 1000; 100 by default.
    limit: Option<u64>,
}

/// The audit trail in chain order, keyset-paginated.
#[utoipa::path(get, path = "/audit", tag = "audit", security(("bearer" = [])), params(AuditParams),
    responses((status = 200, body = AuditPage), (status = 403, body = ErrorBody)))]
async fn audit_trail(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppQuery(p): AppQuery<AuditParams>,
) -> Result<Json<AuditPage>, ApiError> {
    let q = AuditQuery {
        entity_type: p.entity_type,
        entity_key: p.entity_key,
        after_id: p.after_id,
        limit: p.limit.unwrap_or(100),
    };
    Ok(Json(state.store.audit_trail(&actor, &q).await?))
}
