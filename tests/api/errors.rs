//! Hostile and malformed requests: one error body for everything, never a 5xx (the harness
//! checks both on every answer).

use serde_json::json;

use crate::support::*;

#[both_backends]
async fn malformed_requests_get_the_error_body(api: Api) {
    let marta = api.token(MARTA).await;

    // Broken JSON → 400; JSON of the wrong shape → 422; wrong content type → 415.
    api.post("/batches")
        .token(&marta)
        .raw(Some("application/json"), "{\"product_code\": ")
        .send()
        .await
        .err(400, "bad_request");
    let shape = api
        .post("/batches")
        .token(&marta)
        .json(json!({"product_code": 7, "doses": "many"}))
        .send()
        .await;
    assert_eq!(shape.status.as_u16(), 422, "{}", shape.text);
    assert_eq!(shape.code(), "validation_failed");
    api.post("/batches")
        .token(&marta)
        .raw(Some("text/plain"), "product_code=UGRSKIN")
        .send()
        .await
        .err(415, "unsupported_media_type");
    api.post("/batches")
        .token(&marta)
        .raw(None, "{}")
        .send()
        .await
        .err(415, "unsupported_media_type");

    // Too large → 413.
    let huge = format!(
        "{{\"notes\": \"{}\"}}",
        "x".repeat(traza_http::BODY_LIMIT + 10)
    );
    api.post("/batches")
        .token(&marta)
        .raw(Some("application/json"), huge)
        .send()
        .await
        .err(413, "payload_too_large");

    // Unknown routes and methods; bad path parameters and queries.
    api.get("/no-such-thing")
        .token(&marta)
        .send()
        .await
        .err(404, "not_found");
    api.req(axum::http::Method::DELETE, "/batches/GRA-UPCIT-2026-00001")
        .token(&marta)
        .send()
        .await
        .err(405, "method_not_allowed");
    api.post("/batches/X/deviations/not-a-number/close")
        .token(&marta)
        .json(json!({"resolution": "x"}))
        .send()
        .await;
    api.get("/batches?limit=-3").token(&marta).send().await;
    api.get("/batches?from=31-02-2026")
        .token(&marta)
        .send()
        .await
        .err(400, "bad_request");
    api.get("/batches?cursor=%00%FF%20garbage")
        .token(&marta)
        .send()
        .await;
    api.get("/batches/%E2%82%AC%00").token(&marta).send().await;
    api.get("/trace/donors/%20").token(&marta).send().await;
    // A NUL byte in any key that reaches the database (PostgreSQL refuses NUL in text).
    let elena = api.token(ELENA).await;
    let admin = api.token(ADMIN).await;
    api.get("/audit?after_id=abc").token(&elena).send().await;
    api.get("/audit?entity_type=batch&entity_key=a%00b")
        .token(&elena)
        .send()
        .await;
    api.get("/audit?entity_type=%00").token(&elena).send().await;
    api.get("/labs/GRA%00")
        .token(&marta)
        .send()
        .await
        .err(400, "bad_request");
    api.get("/products/UGR%00SKIN")
        .token(&marta)
        .send()
        .await
        .err(400, "bad_request");
    api.patch("/users/marta%00")
        .token(&admin)
        .json(json!({"active": false}))
        .send()
        .await
        .err(400, "bad_request");
    api.get("/batches?donor=A%00B").token(&marta).send().await;
    api.get("/batches?lab=GRA%00").token(&marta).send().await;
    api.get("/trace/patients/P%00Q").token(&marta).send().await;
    api.post("/auth/login")
        .json(json!({"username": "marta\u{0}", "password": "x\u{0}"}))
        .send()
        .await
        .err(401, "unauthenticated");

    // Stale or malformed If-Match.
    let b = api
        .create_batch(&marta, allo_batch("DON-ERR-01", &days_ago(2), 1))
        .await;
    let number = b["batch_number"].as_str().unwrap().to_owned();
    api.patch(&format!("/batches/{number}"))
        .token(&marta)
        .header("if-match", "W/\"garbage\"")
        .json(json!({"notes": "x", "reason": "y"}))
        .send()
        .await;
    api.post(&format!("/batches/{number}/events"))
        .token(&marta)
        .if_match(41)
        .json(json!({"step": "x", "performed_at": minutes_ago(1)}))
        .send()
        .await
        .err(412, "version_mismatch");

    // Absurd values in an otherwise valid body.
    let mut absurd = allo_batch("DON-ERR-02", &days_ago(2), 1);
    absurd["viability_percent"] = json!("140");
    absurd["cell_count"] = json!("1e999999");
    absurd["volume_ml"] = json!("-3");
    let d = api
        .post("/batches")
        .token(&marta)
        .json(absurd)
        .send()
        .await
        .err(422, "validation_failed");
    assert!(!d.is_empty());
    let mut zero = allo_batch("DON-ERR-03", &days_ago(2), 1);
    zero["doses"] = json!(0);
    let d = api
        .post("/batches")
        .token(&marta)
        .json(zero)
        .send()
        .await
        .err(422, "validation_failed");
    assert_eq!(fields(&d), ["doses"]);

    // Health and readiness sit outside the API and need no token.
    let h = api.get("/healthz").send().await.ok(200);
    assert_eq!(h["status"], "ok");
    let r = api.get("/readyz").send().await.ok(200);
    assert_eq!(r["database"], api.backend());

    // Every answer carries a request id.
    let resp = api.get("/me").token(&marta).send().await;
    assert!(resp.header("x-request-id").is_some_and(|id| !id.is_empty()));
}
