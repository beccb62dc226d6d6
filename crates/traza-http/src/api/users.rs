//! Users (admin).

use std::collections::BTreeSet;
use traza_store::ErrorCode;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use traza_domain::codes::{LabCode, Username};
use traza_domain::validation::Fields;
use traza_domain::vocab::Role;
use traza_store::{NewUser, UserUpdate, UserView};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::List;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AppJson, AppPath, Auth};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(update_user))
        .routes(routes!(unlock_user))
}

/// Lift a lockout (admin): the account may log in and sign again at once.
#[utoipa::path(post, path = "/users/{username}/unlock", tag = "users", security(("bearer" = [])), params(("username" = String, Path)),
    responses((status = 204, description = "unlocked"), (status = 403, description = "not an admin", body = ErrorBody), (status = 404, description = "no such user", body = ErrorBody)))]
async fn unlock_user(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(username): AppPath<String>,
) -> Result<StatusCode, ApiError> {
    let username = Username::parse(&username)
        .map_err(|_| ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "user not found"))?;
    state.store.unlock_user(&actor, username.as_str()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct CreateUserRequest {
    username: String,
    full_name: String,
    role: Role,
    #[serde(default)]
    labs: BTreeSet<String>,
    password: String,
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateUserRequest {
    full_name: Option<String>,
    role: Option<Role>,
    labs: Option<BTreeSet<String>>,
    active: Option<bool>,
    password: Option<String>,
}

fn parse_labs(fields: &mut Fields, labs: &BTreeSet<String>) -> BTreeSet<LabCode> {
    labs.iter()
        .filter_map(|l| fields.check("labs", LabCode::parse(l)))
        .collect()
}

#[utoipa::path(get, path = "/users", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = List<UserView>), (status = 403, body = ErrorBody)))]
async fn list_users(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> Result<Json<List<UserView>>, ApiError> {
    Ok(Json(List::all(state.store.list_users(&actor).await?)))
}

#[utoipa::path(post, path = "/users", tag = "users", security(("bearer" = [])), request_body = CreateUserRequest,
    responses((status = 201, body = UserView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_user(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppJson(req): AppJson<CreateUserRequest>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let mut f = Fields::default();
    let username = f.check("username", Username::parse(&req.username));
    let labs = parse_labs(&mut f, &req.labs);
    f.finish()?;
    let new = NewUser {
        username: username.ok_or_else(|| ApiError::validation("username", "invalid"))?,
        full_name: req.full_name,
        role: req.role,
        labs,
        password: req.password,
    };
    Ok((
        StatusCode::CREATED,
        Json(state.store.create_user(&actor, new).await?),
    ))
}

#[utoipa::path(patch, path = "/users/{username}", tag = "users", security(("bearer" = [])), request_body = UpdateUserRequest,
    params(("username" = String, Path)),
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_user(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(username): AppPath<String>,
    AppJson(req): AppJson<UpdateUserRequest>,
) -> Result<Json<UserView>, ApiError> {
    let mut f = Fields::default();
    let labs = req.labs.as_ref().map(|l| parse_labs(&mut f, l));
    f.finish()?;
    let update = UserUpdate {
        full_name: req.full_name,
        role: req.role,
        labs,
        active: req.active,
        password: req.password,
    };
    Ok(Json(
        state.store.update_user(&actor, &username, update).await?,
    ))
}
