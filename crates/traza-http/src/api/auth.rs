//! Login and the caller.

use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use traza_domain::access::Actor;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AppJson, Auth, ClientAddress, bearer};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(change_password))
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

/// Exchange a username and password for a bearer token. Five consecutive wrong passwords lock
/// the account for 15 minutes (423, `Retry-After`); more than 20 failures a minute from one
/// address are refused (429).
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, description = "a bearer token", body = LoginResponse),
        (status = 401, description = "unknown user or wrong password", body = ErrorBody),
        (status = 423, description = "account locked (`account_locked`); see Retry-After", body = ErrorBody),
        (status = 429, description = "too many failures from this address (`too_many_attempts`)", body = ErrorBody)))]
async fn login(
    axum::extract::State(state): axum::extract::State<AppState>,
    ClientAddress(address): ClientAddress,
    AppJson(req): AppJson<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    if req.username.len() > 64 || req.password.len() > 1024 {
        return Err(ApiError::unauthenticated());
    }
    let (_, issued) = state
        .store
        .login(&req.username, &req.password, address)
        .await?;
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

/// End the caller's session: its token is revoked.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "the token is revoked"), (status = 401, description = "no valid token", body = ErrorBody)))]
async fn logout(
    axum::extract::State(state): axum::extract::State<AppState>,
    Auth(_): Auth,
    headers: axum::http::HeaderMap,
) -> Result<axum::http::StatusCode, ApiError> {
    let token = bearer(&headers).ok_or_else(ApiError::unauthenticated)?;
    state.store.logout(token).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    current_password: String,
    /// At least 12 characters, not containing the username, not a common password.
    new_password: String,
}

/// Change one's own password. Every session of the user ends, this one included: log in again.
#[utoipa::path(post, path = "/me/password", tag = "auth", security(("bearer" = [])), request_body = ChangePasswordRequest,
    responses((status = 204, description = "changed; every token of the user is revoked"),
        (status = 401, description = "no valid token", body = ErrorBody),
        (status = 403, description = "the current password is wrong (`invalid_signature`)", body = ErrorBody),
        (status = 422, description = "the new password breaks the policy", body = ErrorBody),
        (status = 423, description = "account locked", body = ErrorBody)))]
async fn change_password(
    axum::extract::State(state): axum::extract::State<AppState>,
    Auth(actor): Auth,
    AppJson(req): AppJson<ChangePasswordRequest>,
) -> Result<axum::http::StatusCode, ApiError> {
    state
        .store
        .change_own_password(&actor, &req.current_password, &req.new_password)
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
