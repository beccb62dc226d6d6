//! The public registry of authorised therapies (SPEC §6), without login.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use traza_store::PublicRegistry;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::AppQuery;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(therapies))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegistryQuery {
    /// Words of a product name (any case, accents optional) or a trial id.
    q: Option<String>,
}

fn json(body: String) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=2"),
    );
    r
}

/// The therapies authorised in the network today: active products with an assignment in force,
/// the laboratories making them (name, city), access routes and trial ids. No login.
#[utoipa::path(get, path = "/therapies", tag = "public", params(RegistryQuery),
    responses((status = 200, body = PublicRegistry), (status = 400, body = ErrorBody)))]
async fn therapies(
    State(state): State<AppState>,
    AppQuery(q): AppQuery<RegistryQuery>,
) -> Result<Response, ApiError> {
    let published = state.store.public_registry().await?;
    let query = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let Some(query) = query else {
        return Ok(json(published.json.clone()));
    };
    if query.chars().count() > 200 {
        return Err(ApiError::validation("q", "is longer than 200 characters"));
    }
    let found = PublicRegistry {
        generated_at: published.registry.generated_at,
        therapies: published
            .registry
            .search(query)
            .into_iter()
            .cloned()
            .collect(),
    };
    let body =
        serde_json::to_string(&found).map_err(|e| ApiError::internal(format!("registry: {e}")))?;
    Ok(json(body))
}
