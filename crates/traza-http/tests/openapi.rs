//! The OpenAPI document is generated from the handlers; this snapshot makes every API change
//! show up as a diff in review. After an intended change: `UPDATE_OPENAPI_SNAPSHOT=1 cargo test`.

#[test]
fn the_openapi_document_matches_its_snapshot() {
    let doc = serde_json::to_string_pretty(&traza_http::openapi())
        .expect("the document serialises")
        + "\n";
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.snapshot.json");
    if std::env::var_os("UPDATE_OPENAPI_SNAPSHOT").is_some() {
        std::fs::write(path, &doc).expect("write the snapshot");
        return;
    }
    let expected = std::fs::read_to_string(path)
        .expect("the snapshot exists (create it with UPDATE_OPENAPI_SNAPSHOT=1)");
    assert!(
        doc == expected,
        "the OpenAPI document changed; review `git diff` after running with UPDATE_OPENAPI_SNAPSHOT=1"
    );
}

#[test]
fn the_document_is_openapi_3_1_and_documents_every_route_of_the_spec() {
    let doc = serde_json::to_value(traza_http::openapi()).expect("serialises");
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/api/v1/auth/login",
        "/api/v1/me",
        "/api/v1/users",
        "/api/v1/users/{username}",
        "/api/v1/labs",
        "/api/v1/labs/{code}",
        "/api/v1/products",
        "/api/v1/products/{code}",
        "/api/v1/assignments",
        "/api/v1/assignments/{id}/end",
        "/api/v1/batches",
        "/api/v1/batches/{number}",
        "/api/v1/batches/{number}/events",
        "/api/v1/batches/{number}/qc-results",
        "/api/v1/batches/{number}/deviations",
        "/api/v1/batches/{number}/deviations/{id}/close",
        "/api/v1/batches/{number}/complete",
        "/api/v1/batches/{number}/release",
        "/api/v1/batches/{number}/reject",
        "/api/v1/batches/{number}/administrations",
        "/api/v1/batches/{number}/audit",
        "/api/v1/trace/donors/{code}",
        "/api/v1/trace/patients/{code}",
        "/api/v1/audit",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is not documented");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}
