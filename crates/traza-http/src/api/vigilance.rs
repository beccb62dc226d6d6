//! Biovigilance (SPEC §6): adverse reactions against administrations, their donor look-back,
//! the coordinator's conclusion and the open work list.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::Deserialize;
use traza_domain::vigilance::{Imputability, ReactionSeverity, ReactionStatus};
use traza_store::{NewReaction, ReactionReport, ReactionView};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::List;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery, Auth};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(report_reaction))
        .routes(routes!(list_reactions))
        .routes(routes!(get_reaction))
        .routes(routes!(close_reaction))
}

/// An adverse reaction or event observed in the patient of an administration.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReactionRequest {
    /// The day it was reported: not before the administration, not after today.
    reported_on: NaiveDate,
    severity: ReactionSeverity,
    description: String,
    imputability: Imputability,
}

/// Report an adverse reaction against an administration (QA of the batch's laboratory, or a
/// coordinator). The answer carries the donor look-back: every other batch from the same donor,
/// in any laboratory, and every patient who received one.
#[utoipa::path(post, path = "/batches/{number}/administrations/{id}/reactions", tag = "vigilance", security(("bearer" = [])),
    params(("number" = String, Path), ("id" = i64, Path, description = "The administration")),
    request_body = ReactionRequest,
    responses((status = 201, body = ReactionReport), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn report_reaction(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath((number, id)): AppPath<(String, i64)>,
    AppJson(r): AppJson<ReactionRequest>,
) -> Result<(StatusCode, Json<ReactionReport>), ApiError> {
    let report = state
        .store
        .report_reaction(
            &actor,
            &number,
            id,
            NewReaction {
                reported_on: r.reported_on,
                severity: r.severity,
                imputability: r.imputability,
                description: r.description,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(report)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReactionQuery {
    /// `open` for the vigilance work list, `closed` for concluded reports; all when absent.
    status: Option<String>,
    cursor: Option<String>,
    /// 1 to 500; 50 by default.
    limit: Option<u64>,
}

/// Reaction reports on batches in the caller's scope, newest first.
#[utoipa::path(get, path = "/reactions", tag = "vigilance", security(("bearer" = [])), params(ReactionQuery),
    responses((status = 200, body = List<ReactionView>), (status = 422, body = ErrorBody)))]
async fn list_reactions(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppQuery(q): AppQuery<ReactionQuery>,
) -> Result<Json<List<ReactionView>>, ApiError> {
    let status = q
        .status
        .as_deref()
        .map(str::parse::<ReactionStatus>)
        .transpose()
        .map_err(|e| ApiError::validation("status", e))?;
    let page = state
        .store
        .list_reactions(&actor, status, q.cursor.as_deref(), q.limit.unwrap_or(50))
        .await?;
    Ok(Json(List {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// A reaction report with its donor look-back (codes only).
#[utoipa::path(get, path = "/reactions/{id}", tag = "vigilance", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = ReactionReport), (status = 404, body = ErrorBody)))]
async fn get_reaction(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(id): AppPath<i64>,
) -> Result<Json<ReactionReport>, ApiError> {
    Ok(Json(state.store.get_reaction(&actor, id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseReactionRequest {
    /// What the investigation concluded.
    conclusion: String,
}

/// Close a reaction report with its conclusion (coordinators only).
#[utoipa::path(post, path = "/reactions/{id}/close", tag = "vigilance", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body = CloseReactionRequest,
    responses((status = 200, body = ReactionReport), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn close_reaction(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(id): AppPath<i64>,
    AppJson(r): AppJson<CloseReactionRequest>,
) -> Result<Json<ReactionReport>, ApiError> {
    Ok(Json(
        state
            .store
            .close_reaction(&actor, id, &r.conclusion)
            .await?,
    ))
}
