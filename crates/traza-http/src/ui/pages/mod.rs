//! The pages, by who uses them: laboratory staff (batches, the batch record and its forms),
//! QA (release queue, certification, rejection, deviations, administrations), the
//! coordination unit (network, dashboard), and everyone's import and traceability search.
//!
//! One module per feature: `batches` (the list and a new batch), `batch_record` (the batch page
//! and its forms), `release` (QA's queue and certification), `network` (laboratories, products),
//! `products` (a product's page), `assignments` (the assignments of products to laboratories),
//! `users`, `dashboard`, `import` and `trace`. What they share is in `super::widgets`.

mod assignments;
mod batch_record;
mod batches;
mod dashboard;
mod equipment;
mod exceptions;
mod guided;
mod guided_forms;
mod import;
mod imported;
mod lots;
mod master_records;
mod network;
mod products;
mod release;
mod trace;
mod users;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/lotes", get(batches::batches))
        .route("/lotes/exportar.csv", get(batches::export))
        .route(
            "/lotes/nuevo",
            get(batches::new_batch_page).post(batches::create_batch),
        )
        .route("/lotes/{number}", get(batch_record::batch_page))
        .route("/lotes/{number}/registro.pdf", get(super::pdf::download))
        .route(
            "/lotes/{number}/{action}",
            axum::routing::post(batch_record::batch_action),
        )
        .route(
            "/lotes/{number}/liberar",
            get(release::release_page).post(release::release),
        )
        .route(
            "/lotes/{number}/pasos/{code}",
            axum::routing::post(guided_forms::record),
        )
        .route(
            "/lotes/{number}/verificar/{code}",
            axum::routing::post(guided_forms::verify),
        )
        .route(
            "/lotes/{number}/excepciones/{id}",
            axum::routing::post(exceptions::resolve),
        )
        .route("/liberacion", get(release::release_queue))
        .route("/red", get(network::network))
        .route("/panel", get(dashboard::dashboard))
        .route("/importar", get(import::import_page))
        .route("/importar/plantilla.csv", get(import::template))
        .route("/trazabilidad", get(trace::trace))
        .merge(users::routes())
        .merge(products::routes())
        .merge(assignments::routes())
        .merge(master_records::routes())
        .merge(lots::routes())
        .merge(equipment::routes())
}

/// The pages whose requests may take minutes (an uploaded import).
pub fn long_routes() -> Router<AppState> {
    Router::new().route(
        "/importar",
        axum::routing::post(import::import).layer(DefaultBodyLimit::max(IMPORT_FORM_LIMIT)),
    )
}

/// The import form as the browser sends it: a file as large as the API takes
/// (`MAX_IMPORT_BYTES`, checked again as it is spooled), plus the CSRF token, the mode and
/// the multipart boundaries. Every other form keeps the router's `BODY_LIMIT`.
const IMPORT_FORM_LIMIT: usize = crate::api::imports::MAX_IMPORT_BYTES as usize + 64 * 1024;
