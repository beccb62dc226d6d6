//! The operational endpoints answer through the real router.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;
use traza_http::{AppState, router};
use traza_store::Store;

#[tokio::test]
async fn healthz_and_readyz_answer_and_carry_a_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("t.db").display()
    ))
    .await
    .unwrap();
    store.migrate().await.unwrap();
    let app = router(AppState::new(store.clone()));

    let health = app
        .clone()
        .oneshot(Request::get("/healthz").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert!(health.headers().contains_key("x-request-id"));

    let ready = app
        .clone()
        .oneshot(Request::get("/readyz").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    // Each request has an id of its own (a process prefix and a counter), and a client's own
    // id is kept.
    let id =
        |r: &axum::response::Response| r.headers()["x-request-id"].to_str().unwrap().to_owned();
    let (first, second) = (id(&health), id(&ready));
    assert_ne!(first, second);
    assert_eq!(first.split('-').next(), second.split('-').next());
    let given = app
        .clone()
        .oneshot(
            Request::get("/healthz")
                .header("x-request-id", "mine-42")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(id(&given), "mine-42");

    store.close().await.unwrap();
    let closed = app
        .oneshot(Request::get("/readyz").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(closed.status(), StatusCode::SERVICE_UNAVAILABLE);
}
