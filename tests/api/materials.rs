//! SPEC §8 through the API: the catalogue of materials, lots received into quarantine and
//! released or rejected by QA with a signature, equipment and rooms — their shapes (decimals as
//! strings), their refusals in the error body of §3, and laboratory scope.

use serde_json::{Value, json};

use crate::support::*;

const MEDIUM: &str = "MED-XVIVO15";

fn receipt(quantity: &str) -> Value {
    json!({
        "lab_code": GRA, "material_code": MEDIUM, "supplier": "Lonza Bioscience",
        "supplier_lot": "0000987654", "received_on": days_ago(1),
        "expiry_date": days_ahead(180), "quantity_received": quantity
    })
}

async fn catalogue(api: &Api) {
    api.post("/materials")
        .token(&api.token(LUCIA).await)
        .json(json!({"code": MEDIUM, "name": "X-VIVO 15", "kind": "medium", "unit": "mL"}))
        .send()
        .await
        .ok(201);
}

#[both_backends]
async fn the_catalogue_of_materials(api: Api) {
    let lucia = api.token(LUCIA).await;
    let marta = api.token(MARTA).await;
    let made = api
        .post("/materials")
        .token(&lucia)
        .json(json!({"code": MEDIUM, "name": "X-VIVO 15", "kind": "medium", "unit": "mL"}))
        .send()
        .await
        .ok(201);
    assert_eq!(
        made,
        json!({"code": MEDIUM, "name": "X-VIVO 15", "kind": "medium", "unit": "mL"})
    );
    api.post("/materials")
        .token(&marta)
        .json(json!({"code": "FBS-01", "name": "Suero", "kind": "reagent", "unit": "mL"}))
        .send()
        .await
        .err(403, "forbidden");
    api.post("/materials")
        .token(&lucia)
        .json(made.clone())
        .send()
        .await
        .err(409, "duplicate");
    let bad = api
        .post("/materials")
        .token(&lucia)
        .json(json!({"code": "fbs 01", "name": "Suero", "kind": "serum", "unit": "mL"}))
        .send()
        .await
        .err(422, "validation_failed");
    assert!(!fields(&bad).is_empty(), "{bad:?}");
    let list = api.get("/materials").token(&marta).send().await.ok(200);
    assert_eq!(list["items"], json!([made]));
    assert_eq!(list["next_cursor"], Value::Null);
    api.get(&format!("/materials/{MEDIUM}"))
        .token(&api.token(TERESA).await)
        .send()
        .await
        .ok(200);
    api.get("/materials/NO-EXISTE")
        .token(&marta)
        .send()
        .await
        .err(404, "not_found");
    let renamed = api
        .patch(&format!("/materials/{MEDIUM}"))
        .token(&lucia)
        .json(json!({"name": "X-VIVO 15 (Lonza)"}))
        .send()
        .await
        .ok(200);
    assert_eq!(renamed["name"], "X-VIVO 15 (Lonza)");
    // Once a lot is received, its unit stays.
    api.post("/lots")
        .token(&marta)
        .json(receipt("500"))
        .send()
        .await
        .ok(201);
    api.patch(&format!("/materials/{MEDIUM}"))
        .token(&lucia)
        .json(json!({"unit": "L"}))
        .send()
        .await
        .err(409, "record_locked");
}

#[both_backends]
async fn a_lot_from_receipt_to_signed_release_or_rejection(api: Api) {
    catalogue(&api).await;
    let marta = api.token(MARTA).await;
    let isabel = api.token(ISABEL).await;
    let teresa = api.token(TERESA).await;
    let lot = api
        .post("/lots")
        .token(&marta)
        .json(receipt("500.0"))
        .send()
        .await
        .ok(201);
    let id = lot["lot_id"].as_str().expect("a lot id").to_owned();
    assert!(id.starts_with("GRA-UPCIT-L"), "{id}");
    assert_eq!(lot["status"], "quarantine");
    // Decimals travel as strings, by value.
    assert_eq!(lot["quantity_received"], "500");
    assert_eq!(lot["quantity_consumed"], "0");
    assert_eq!(lot["quantity_available"], "500");
    assert_eq!(lot["unit"], "mL");
    assert_eq!(lot["received_by"], MARTA);
    assert_eq!(lot["disposition"], Value::Null);

    // Every invalid field at once; an unknown material is a field too.
    let bad = api
        .post("/lots")
        .token(&marta)
        .json(json!({
            "lab_code": GRA, "material_code": MEDIUM, "supplier": "Lonza",
            "supplier_lot": "1", "received_on": days_ahead(2),
            "expiry_date": today(), "quantity_received": "5"
        }))
        .send()
        .await
        .err(422, "validation_failed");
    assert_eq!(fields(&bad), ["received_on", "expiry_date"]);
    let bad = api
        .post("/lots")
        .token(&marta)
        .json(json!({
            "lab_code": GRA, "material_code": "fbs", "supplier": "Lonza",
            "supplier_lot": "1", "received_on": today(),
            "expiry_date": today(), "quantity_received": "0"
        }))
        .send()
        .await
        .err(422, "validation_failed");
    assert_eq!(fields(&bad), ["material_code", "quantity_received"]);
    let mut unknown = receipt("5");
    unknown["material_code"] = json!("FBS-NADIE");
    let bad = api
        .post("/lots")
        .token(&marta)
        .json(unknown)
        .send()
        .await
        .err(422, "validation_failed");
    assert_eq!(fields(&bad), ["material_code"]);

    // Scope: another laboratory neither sees it nor receives for this one.
    api.get(&format!("/lots/{id}"))
        .token(&teresa)
        .send()
        .await
        .err(404, "not_found");
    api.post("/lots")
        .token(&teresa)
        .json(receipt("1"))
        .send()
        .await
        .err(404, "not_found");
    let theirs = api
        .get(&format!("/lots?lab={GRA}"))
        .token(&teresa)
        .send()
        .await
        .ok(200);
    assert_eq!(theirs["items"], json!([]));
    api.get("/lots?status=opened")
        .token(&marta)
        .send()
        .await
        .err(422, "validation_failed");

    // Release: QA of the laboratory only, signed with the right password.
    api.post(&format!("/lots/{id}/release"))
        .token(&marta)
        .json(json!({"password": api.password(MARTA)}))
        .send()
        .await
        .err(403, "forbidden");
    api.post(&format!("/lots/{id}/release"))
        .token(&teresa)
        .json(json!({"password": api.password(TERESA)}))
        .send()
        .await
        .err(404, "not_found");
    api.post(&format!("/lots/{id}/release"))
        .token(&isabel)
        .json(json!({"password": "no-es-la-suya"}))
        .send()
        .await
        .err(403, "invalid_signature");
    let done = api
        .post(&format!("/lots/{id}/release"))
        .token(&isabel)
        .json(json!({"password": api.password(ISABEL)}))
        .send()
        .await
        .ok(200);
    assert_eq!(done["status"], "released");
    assert_eq!(done["quantity_available"], "500");
    assert_eq!(done["disposition"]["meaning"], "material_released");
    assert_eq!(done["disposition"]["signer"], ISABEL);
    api.post(&format!("/lots/{id}/reject"))
        .token(&isabel)
        .json(json!({"password": api.password(ISABEL), "reason": "tarde"}))
        .send()
        .await
        .err(409, "invalid_transition");
    let released = api
        .get("/lots?status=released")
        .token(&marta)
        .send()
        .await
        .ok(200);
    assert_eq!(released["items"][0]["lot_id"], id.as_str());

    // Rejection: with a reason.
    let other = api
        .post("/lots")
        .token(&marta)
        .json(receipt("2"))
        .send()
        .await
        .ok(201)["lot_id"]
        .as_str()
        .expect("a lot id")
        .to_owned();
    assert_ne!(other, id);
    let missing = api
        .post(&format!("/lots/{other}/reject"))
        .token(&isabel)
        .json(json!({"password": api.password(ISABEL), "reason": " "}))
        .send()
        .await
        .err(422, "validation_failed");
    assert_eq!(fields(&missing), ["reason"]);
    let rejected = api
        .post(&format!("/lots/{other}/reject"))
        .token(&isabel)
        .json(json!({"password": api.password(ISABEL), "reason": "Envase dañado en la recepción"}))
        .send()
        .await
        .ok(200);
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["disposition"]["meaning"], "material_rejected");
    assert_eq!(
        rejected["disposition"]["reason"],
        "Envase dañado en la recepción"
    );

    // Each write is in the trail.
    let trail = api
        .get(&format!("/audit?entity_type=material_lot&entity_key={id}"))
        .token(&api.token(ELENA).await)
        .send()
        .await
        .ok(200);
    let actions: Vec<_> = trail["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(actions, ["lot.receive", "lot.release"]);
}

#[both_backends]
async fn equipment_and_rooms_of_a_laboratory(api: Api) {
    let isabel = api.token(ISABEL).await;
    let marta = api.token(MARTA).await;
    let teresa = api.token(TERESA).await;
    let cabinet = json!({"lab_code": GRA, "id": "BSC-01", "class": "Biosafety cabinet",
                         "calibration_due": days_ahead(20)});
    let made = api
        .post("/equipment")
        .token(&isabel)
        .json(cabinet.clone())
        .send()
        .await
        .ok(201);
    assert_eq!(
        made,
        json!({"lab_code": GRA, "id": "BSC-01", "class": "biosafety_cabinet",
               "status": "in_service", "calibration_due": days_ahead(20)})
    );
    api.post("/equipment")
        .token(&isabel)
        .json(cabinet.clone())
        .send()
        .await
        .err(409, "duplicate");
    api.post("/equipment")
        .token(&marta)
        .json(cabinet.clone())
        .send()
        .await
        .err(403, "forbidden");
    api.post("/equipment")
        .token(&teresa)
        .json(cabinet)
        .send()
        .await
        .err(404, "not_found");
    let bad = api
        .post("/equipment")
        .token(&isabel)
        .json(json!({"lab_code": GRA, "id": "a/b", "class": "!", "calibration_due": today()}))
        .send()
        .await
        .err(422, "validation_failed");
    assert_eq!(fields(&bad), ["id", "class"]);
    let changed = api
        .patch(&format!("/equipment/{GRA}/BSC-01"))
        .token(&isabel)
        .json(json!({"status": "out_of_service", "calibration_due": days_ahead(365)}))
        .send()
        .await
        .ok(200);
    assert_eq!(changed["status"], "out_of_service");
    assert_eq!(changed["calibration_due"], days_ahead(365));
    assert_eq!(changed["class"], "biosafety_cabinet");
    api.patch(&format!("/equipment/{GRA}/BSC-01"))
        .token(&teresa)
        .json(json!({"status": "in_service"}))
        .send()
        .await
        .err(404, "not_found");
    api.patch(&format!("/equipment/{GRA}/NO-EXISTE"))
        .token(&isabel)
        .json(json!({"status": "in_service"}))
        .send()
        .await
        .err(404, "not_found");
    let seen = |token: String, path: &'static str| {
        let api = &api;
        async move {
            api.get(path).token(&token).send().await.ok(200)["items"]
                .as_array()
                .map_or(0, Vec::len)
        }
    };
    assert_eq!(seen(marta.clone(), "/equipment").await, 1);
    assert_eq!(seen(teresa.clone(), "/equipment?lab=GRA-UPCIT").await, 0);
    assert_eq!(seen(api.token(ELENA).await, "/equipment").await, 1);

    let room = api
        .post("/rooms")
        .token(&isabel)
        .json(json!({"lab_code": GRA, "id": "SB-01", "grade": "B"}))
        .send()
        .await
        .ok(201);
    assert_eq!(room, json!({"lab_code": GRA, "id": "SB-01", "grade": "B"}));
    api.post("/rooms")
        .token(&isabel)
        .json(json!({"lab_code": GRA, "id": "SB-02", "grade": "E"}))
        .send()
        .await
        .err(422, "validation_failed");
    api.post("/rooms")
        .token(&marta)
        .json(json!({"lab_code": GRA, "id": "SB-02", "grade": "A"}))
        .send()
        .await
        .err(403, "forbidden");
    assert_eq!(seen(marta, "/rooms").await, 1);
    assert_eq!(seen(teresa, "/rooms").await, 0);
    assert_eq!(
        seen(api.token(LUCIA).await, "/rooms?lab=GRA-UPCIT").await,
        1
    );
}
