//! The `/api/v1` resources, one module each; every handler is registered with its OpenAPI
//! description so the document cannot drift from the routes.

pub mod assignments;
pub mod audit;
pub mod auth;
pub mod batches;
pub mod equipment;
pub mod holds;
pub mod imports;
pub mod master_records;
pub mod materials;
pub mod network;
pub mod public;
pub mod steps;
pub mod trace;
pub mod users;
pub mod vigilance;

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(auth::router())
        .merge(users::router())
        .merge(network::router())
        .merge(assignments::router())
        .merge(batches::router())
        .merge(holds::router())
        .merge(trace::router())
        .merge(audit::router())
        .merge(imports::router())
        .merge(vigilance::router())
        .merge(materials::router())
        .merge(equipment::router())
        .merge(master_records::router())
        .merge(steps::router())
}

/// Routes that may run for minutes; they get a long timeout of their own.
pub fn long_router() -> OpenApiRouter<AppState> {
    imports::long_router()
}

/// A list answer: `{items, next_cursor}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct List<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> List<T> {
    pub fn all(items: Vec<T>) -> Self {
        List {
            items,
            next_cursor: None,
        }
    }
}

/// For PATCH bodies: tells "absent" (`None`) from "set to null" (`Some(None)`).
pub fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}
