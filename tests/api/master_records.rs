//! Master batch records over HTTP (SPEC §8): a draft by QA, refused edits and approvals, the
//! approval by another QA person of the laboratory, and the version a new batch carries.

use serde_json::json;

use crate::support::*;

/// Today on the laboratories' clock (Europe/Madrid): master records take effect by it.
fn lab_today() -> chrono::NaiveDate {
    traza_domain::clock::lab_date(chrono::Utc::now())
}

fn steps(title: &str) -> serde_json::Value {
    json!([
        {"code": "siembra", "title": title, "room_grade": "B",
         "materials": [{"material_code": "MED-ALFA", "quantity": "10", "unit": "ml"}],
         "equipment": ["biosafety_cabinet"]},
        {"code": "expansion", "title": "Expansión", "room_grade": "B", "verification_required": true,
         "parameters": [{"name": "temperatura", "unit": "°C", "min": "36.5", "max": "37.5", "critical": true}]}
    ])
}

#[both_backends]
async fn a_draft_is_approved_by_another_qa_and_new_batches_carry_its_version(api: Api) {
    let isabel = api.token(ISABEL).await;
    let carmen = api.second_gra_qa().await;
    let marta = api.token(MARTA).await;
    // Before any master record: unguided, and its page says so.
    let unguided = api
        .create_batch(&marta, allo_batch("DON-MBR-API-0", &today(), 1))
        .await;
    assert_eq!(unguided["mbr_version"], serde_json::Value::Null);
    let page = crate::pages::Browser::of(&api, MARTA)
        .await
        .page(
            &api,
            &format!(
                "/lotes/{}",
                unguided["batch_number"].as_str().unwrap_or_default()
            ),
        )
        .await
        .text;
    assert!(page.contains("Lote no guiado"), "{page}");
    // Invalid content: every problem at once, by field.
    let bad = api
        .post("/master-records")
        .token(&isabel)
        .json(json!({"product_code": ALLO, "lab_code": GRA, "steps": [
            {"code": "a", "title": "", "materials": [{"material_code": "X", "quantity": "0", "unit": "ml"}]},
            {"code": "a", "title": "B"}
        ]}))
        .send()
        .await;
    let details = bad.err(422, "validation_failed");
    assert_eq!(
        fields(&details),
        [
            "steps[0].title",
            "steps[0].materials[0].material_code",
            "steps[0].materials[0].quantity",
            "steps[1].code"
        ]
    );
    let draft = api
        .post("/master-records")
        .token(&isabel)
        .json(json!({"product_code": ALLO, "lab_code": GRA, "steps": steps("Siembra")}))
        .send()
        .await
        .ok(201);
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["version"], 1);
    assert_eq!(draft["steps"][1]["parameters"][0]["min"], "36.5");
    let id = draft["id"].as_i64().expect("an id");
    let own = api
        .post(&format!("/master-records/{id}/approve"))
        .token(&isabel)
        .json(json!({"password": api.password(ISABEL), "effective_from": lab_today().to_string()}))
        .send()
        .await;
    own.err(409, "four_eyes");
    let approved = api
        .post(&format!("/master-records/{id}/approve"))
        .token(&carmen)
        .json(json!({"password": api.password(CARMEN), "effective_from": lab_today().to_string()}))
        .send()
        .await
        .ok(200);
    assert_eq!(approved["status"], "effective");
    api.req(axum::http::Method::PUT, &format!("/master-records/{id}"))
        .token(&isabel)
        .json(json!({"steps": steps("Otra")}))
        .send()
        .await
        .err(409, "record_locked");
    let batch = api
        .create_batch(&marta, allo_batch("DON-MBR-API-1", &today(), 1))
        .await;
    assert_eq!(batch["mbr_version"], 1, "{batch}");
    assert_eq!(batch["mbr_id"], id);
    // Its page walks the master record's steps, each pending.
    let number = batch["batch_number"].as_str().expect("a number");
    let page = crate::pages::Browser::of(&api, MARTA)
        .await
        .page(&api, &format!("/lotes/{number}"))
        .await
        .text;
    assert!(
        page.contains(r#"id="pasos-guiados""#)
            && page.contains("Siembra")
            && page.contains("pendiente"),
        "{page}"
    );
    let listed = api
        .get(&format!("/master-records?product={ALLO}&lab={GRA}"))
        .token(&marta)
        .send()
        .await
        .ok(200);
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1));
}
