//! Login and the caller.

use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use traza_domain::access::Actor;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AppJson, Auth};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(me))
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    username: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// Opaque bearer token; send it as `Authorization: Bearer <token>`.
    token: String,
    expires_at: DateTime<Utc>,
}

/// Exchange a username and password for a bearer token.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody)))]
async fn login(
    axum::extract::State(state): axum::extract::State<AppState>,
    AppJson(req): AppJson<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    if req.username.len() > 64 || req.password.len() > 1024 {
        return Err(ApiError::unauthenticated());
    }
    let (_, issued) = state.store.login(&req.username, &req.password).await?;
    Ok(Json(LoginResponse {
        token: issued.token,
        expires_at: issued.expires_at,
    }))
}

/// The authenticated caller.
#[utoipa::path(get, path = "/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Actor), (status = 401, body = ErrorBody)))]
async fn me(Auth(actor): Auth) -> Json<Actor> {
    Json(actor)
}
