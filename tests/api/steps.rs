//! Executing a guided batch over HTTP (SPEC §8): a step recorded with its room, equipment and
//! lot; a parameter out of its limits raising a critical exception that blocks release until QA
//! resolves it with a signature; a second person's verification; and two steps racing for the
//! last units of a lot — one wins, the other is refused, the lot never goes below zero.

use serde_json::{Value, json};

use crate::support::*;

fn lab_today() -> String {
    traza_domain::clock::lab_date(chrono::Utc::now()).to_string()
}

fn now_minus(minutes: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::minutes(minutes)).to_rfc3339()
}

/// GRA-UPCIT ready for guided batches: a released lot of 15 mL of medium, a cabinet, a grade
/// B room, an effective master record. Returns the lot id.
pub(crate) async fn ready(api: &Api) -> String {
    let lucia = api.token(LUCIA).await;
    let isabel = api.token(ISABEL).await;
    let marta = api.token(MARTA).await;
    let carmen = api.second_gra_qa().await;
    api.post("/materials")
        .token(&lucia)
        .json(json!({"code": "MED-ALFA", "name": "Medio alfa-MEM", "kind": "medium", "unit": "mL"}))
        .send()
        .await
        .ok(201);
    let lot = api
        .post("/lots")
        .token(&marta)
        .json(
            json!({"lab_code": GRA, "material_code": "MED-ALFA", "supplier": "Proveedor",
                     "supplier_lot": "L-77", "received_on": days_ago(1),
                     "expiry_date": days_ahead(90), "quantity_received": "15"}),
        )
        .send()
        .await
        .ok(201);
    let lot_id = lot["lot_id"].as_str().expect("a lot id").to_owned();
    api.post(&format!("/lots/{lot_id}/release"))
        .token(&isabel)
        .json(json!({"password": api.password(ISABEL)}))
        .send()
        .await
        .ok(200);
    api.post("/equipment")
        .token(&isabel)
        .json(
            json!({"lab_code": GRA, "id": "BSC-01", "class": "biosafety_cabinet",
                     "calibration_due": days_ahead(60)}),
        )
        .send()
        .await
        .ok(201);
    api.post("/rooms")
        .token(&isabel)
        .json(json!({"lab_code": GRA, "id": "SB-01", "grade": "B"}))
        .send()
        .await
        .ok(201);
    let mbr = api
        .post("/master-records")
        .token(&isabel)
        .json(json!({"product_code": ALLO, "lab_code": GRA, "steps": [
            {"code": "siembra", "title": "Siembra", "room_grade": "B",
             "materials": [{"material_code": "MED-ALFA", "quantity": "10", "unit": "mL"}],
             "equipment": ["biosafety_cabinet"]},
            {"code": "expansion", "title": "Expansión", "verification_required": true,
             "parameters": [{"name": "temperatura", "unit": "°C", "min": "36.5", "max": "37.5",
                             "critical": true}]}
        ]}))
        .send()
        .await
        .ok(201);
    api.post(&format!("/master-records/{}/approve", mbr["id"]))
        .token(&carmen)
        .json(json!({"password": api.password(CARMEN), "effective_from": lab_today()}))
        .send()
        .await
        .ok(200);
    lot_id
}

fn seeding(lot: &str) -> Value {
    json!({"performed_at": now_minus(30), "room_id": "SB-01", "equipment_ids": ["BSC-01"],
           "materials": [{"lot_id": lot, "quantity": "10"}]})
}

#[both_backends]
async fn a_guided_batch_is_executed_and_reviewed_by_exception(api: Api) {
    let lot = ready(&api).await;
    let marta = api.token(MARTA).await;
    let b = api
        .create_batch(&marta, allo_batch("DON-STEP-API-1", &days_ago(1), 1))
        .await;
    let number = b["batch_number"].as_str().expect("a number").to_owned();
    let sown = api
        .post(&format!("/batches/{number}/steps/siembra"))
        .token(&marta)
        .json(seeding(&lot))
        .send()
        .await
        .ok(201);
    assert_eq!(sown["exceptions"], json!([]));
    assert_eq!(sown["materials"][0]["quantity"], "10");
    let lot_now = api
        .get(&format!("/lots/{lot}"))
        .token(&marta)
        .send()
        .await
        .ok(200);
    assert_eq!(lot_now["quantity_available"], "5");
    // A step the master record does not have.
    api.post(&format!("/batches/{number}/steps/congelacion"))
        .token(&marta)
        .json(json!({"performed_at": now_minus(5)}))
        .send()
        .await
        .err(404, "not_found");
    let hot = api
        .post(&format!("/batches/{number}/steps/expansion"))
        .token(&marta)
        .json(json!({"performed_at": now_minus(10),
                     "parameters": [{"name": "temperatura", "value": "39"}]}))
        .send()
        .await
        .ok(201);
    assert_eq!(hot["exceptions"][0]["kind"], "parameter_out_of_limits");
    assert_eq!(hot["exceptions"][0]["severity"], "critical");
    let exception = hot["exceptions"][0]["id"].as_i64().expect("an id");
    // Four eyes on the verification; then Isabel verifies with her own password.
    api.post(&format!("/batches/{number}/steps/expansion/verify"))
        .token(&marta)
        .json(json!({"username": MARTA, "password": api.password(MARTA)}))
        .send()
        .await
        .err(409, "four_eyes");
    api.post(&format!("/batches/{number}/steps/expansion/verify"))
        .token(&marta)
        .json(json!({"username": ISABEL, "password": api.password(ISABEL)}))
        .send()
        .await
        .ok(200);
    let listed = api
        .get(&format!("/batches/{number}/exceptions"))
        .token(&marta)
        .send()
        .await
        .ok(200);
    assert_eq!(listed["items"][0]["status"], "open");
    // QA resolves it from the release page, where exceptions come first: a critical one only
    // with a signature.
    let carmen_page = crate::pages::Browser::of(&api, CARMEN).await;
    let release = carmen_page
        .page(&api, &format!("/lotes/{number}/liberar"))
        .await
        .text;
    assert!(
        release.contains(r#"id="revision""#) && release.contains("parámetro fuera de límites"),
        "{release}"
    );
    let action = format!("/lotes/{number}/excepciones/{exception}");
    let refused = carmen_page
        .post(
            &api,
            &action,
            &[("comment", "Sonda del incubador revisada")],
            None,
        )
        .await;
    assert_eq!(refused.status.as_u16(), 422, "{}", refused.text);
    let done = carmen_page
        .post(
            &api,
            &action,
            &[
                ("comment", "Sonda del incubador revisada"),
                ("password", api.password(CARMEN).as_str()),
            ],
            None,
        )
        .await;
    assert_eq!(done.status.as_u16(), 303, "{}", done.text);
    let carmen = api.token(CARMEN).await;
    let listed = api
        .get(&format!("/batches/{number}/exceptions"))
        .token(&carmen)
        .send()
        .await
        .ok(200);
    let resolved = &listed["items"][0];
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["resolved_by"], CARMEN);
    // Resolved once: a second resolution is refused.
    api.post(&format!("/batches/{number}/exceptions/{exception}/resolve"))
        .token(&carmen)
        .json(json!({"comment": "Otra vez", "password": api.password(CARMEN)}))
        .send()
        .await
        .err(409, "invalid_transition");
    // The record as a document: each entry with its lot, room, verification; the exception
    // and its resolution.
    use crate::record_pdf::{bearer, download, pdf_pages};
    let pdf = download(
        &api,
        &format!("/api/v1/batches/{number}/record.pdf"),
        &bearer(&marta),
    )
    .await;
    assert_eq!(pdf.status, 200);
    let text = pdf_pages(&pdf.bytes).join("\n");
    for needle in [
        "Ejecución frente al registro maestro",
        lot.as_str(),
        "SB-01",
        "BSC-01",
        "temperatura = 39",
        "Verificado por",
        "parámetro fuera de límites",
        "Sonda del incubador revisada",
    ] {
        assert!(text.contains(needle), "{needle} in the PDF: {text}");
    }
}

#[both_backends]
async fn two_steps_racing_for_the_last_units_of_a_lot_one_wins(api: Api) {
    let lot = ready(&api).await;
    let marta = api.token(MARTA).await;
    let mut numbers = Vec::new();
    for donor in ["DON-RACE-0001", "DON-RACE-0002"] {
        let b = api
            .create_batch(&marta, allo_batch(donor, &days_ago(1), 1))
            .await;
        numbers.push(b["batch_number"].as_str().expect("a number").to_owned());
    }
    // 15 mL in the lot; each step takes 10.
    let race = |number: String| {
        let (api, token, body) = (api.clone(), marta.clone(), seeding(&lot));
        tokio::spawn(async move {
            api.post(&format!("/batches/{number}/steps/siembra"))
                .token(&token)
                .json(body)
                .send()
                .await
        })
    };
    let (a, b) = tokio::join!(race(numbers[0].clone()), race(numbers[1].clone()));
    let mut codes: Vec<u16> = [a, b]
        .into_iter()
        .map(|r| r.expect("the task ran").status.as_u16())
        .collect();
    codes.sort_unstable();
    assert_eq!(codes, [201, 409], "exactly one step got the medium");
    let lot_now = api
        .get(&format!("/lots/{lot}"))
        .token(&marta)
        .send()
        .await
        .ok(200);
    assert_eq!(lot_now["quantity_available"], "5");
}

#[both_backends]
async fn staff_walk_a_batch_through_its_master_record_on_the_batch_page(api: Api) {
    let lot = ready(&api).await;
    let marta = api.token(MARTA).await;
    // A second lot in quarantine: offered disabled, with the reason.
    let quarantined = api
        .post("/lots")
        .token(&marta)
        .json(
            json!({"lab_code": GRA, "material_code": "MED-ALFA", "supplier": "Proveedor",
                     "supplier_lot": "L-78", "received_on": days_ago(1),
                     "expiry_date": days_ahead(90), "quantity_received": "50"}),
        )
        .send()
        .await
        .ok(201)["lot_id"]
        .as_str()
        .expect("a lot id")
        .to_owned();
    let b = api
        .create_batch(&marta, allo_batch("DON-STEP-PAGE-1", &days_ago(1), 1))
        .await;
    let number = b["batch_number"].as_str().expect("a number").to_owned();
    let browser = crate::pages::Browser::of(&api, MARTA).await;
    let page = browser.page(&api, &format!("/lotes/{number}")).await.text;
    assert!(page.contains(r#"id="form-paso-guiado""#), "{page}");
    assert!(
        page.contains(&format!(r#"<option value="{quarantined}" disabled>"#))
            && page.contains("el lote no está liberado"),
        "the quarantined lot is shown, refused with its reason: {page}"
    );
    let performed = (chrono::Utc::now() - chrono::Duration::hours(1))
        .with_timezone(&traza_domain::clock::LAB_ZONE)
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    // A step dated later than now is refused, in words.
    let ahead = (chrono::Utc::now() + chrono::Duration::hours(3))
        .with_timezone(&traza_domain::clock::LAB_ZONE)
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let refused = browser
        .post(
            &api,
            &format!("/lotes/{number}/pasos/siembra"),
            &[
                ("performed_at", ahead.as_str()),
                ("room_id", "SB-01"),
                ("equipment_ids", "BSC-01"),
                ("lot", lot.as_str()),
                ("qty", "10"),
            ],
            None,
        )
        .await;
    assert_eq!(refused.status.as_u16(), 422, "{}", refused.text);
    assert!(
        refused.text.contains("no puede ser posterior a ahora"),
        "{}",
        refused.text
    );
    let sown = browser
        .post(
            &api,
            &format!("/lotes/{number}/pasos/siembra"),
            &[
                ("performed_at", performed.as_str()),
                ("room_id", "SB-01"),
                ("equipment_ids", "BSC-01"),
                ("lot", lot.as_str()),
                ("qty", "10"),
            ],
            None,
        )
        .await;
    assert_eq!(sown.status.as_u16(), 303, "{}", sown.text);
    // The next step: a parameter typed with a decimal comma, within its limits.
    let grown = browser
        .post(
            &api,
            &format!("/lotes/{number}/pasos/expansion"),
            &[
                ("performed_at", performed.as_str()),
                ("p.temperatura", "37,0"),
            ],
            None,
        )
        .await;
    assert_eq!(grown.status.as_u16(), 303, "{}", grown.text);
    let page = browser.page(&api, &format!("/lotes/{number}")).await.text;
    assert!(
        page.contains("Verificación por una segunda persona"),
        "{page}"
    );
    // Marta cannot verify her own step; Isabel does, at Marta's screen.
    let own = browser
        .post(
            &api,
            &format!("/lotes/{number}/verificar/expansion"),
            &[
                ("username", MARTA),
                ("password", api.password(MARTA).as_str()),
            ],
            None,
        )
        .await;
    assert_eq!(own.status.as_u16(), 409, "{}", own.text);
    let checked = browser
        .post(
            &api,
            &format!("/lotes/{number}/verificar/expansion"),
            &[
                ("username", ISABEL),
                ("password", api.password(ISABEL).as_str()),
            ],
            None,
        )
        .await;
    assert_eq!(checked.status.as_u16(), 303, "{}", checked.text);
    let steps = api
        .get(&format!("/batches/{number}/steps"))
        .token(&marta)
        .send()
        .await
        .ok(200);
    assert_eq!(steps["items"][1]["verified_by"], ISABEL);
    assert_eq!(steps["items"][1]["parameters"][0]["value"], "37.0");
    let rules: Vec<String> = api
        .get(&format!("/batches/{number}/exceptions"))
        .token(&marta)
        .send()
        .await
        .ok(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["kind"].as_str().map(str::to_owned))
        .collect();
    assert!(
        rules.is_empty(),
        "in order, within limits, on time: {rules:?}"
    );
}

/// Attacks on the execution record: a step recorded twice without saying it corrects the
/// first; quantities whose sum overflows a decimal; an exception resolved after the batch was
/// rejected (its signature covers the exceptions as they were).
#[both_backends]
async fn a_step_recorded_twice_an_overflowing_quantity_and_a_late_resolution_are_refused(api: Api) {
    let lot = ready(&api).await;
    let marta = api.token(MARTA).await;
    let isabel = api.token(ISABEL).await;
    let b = api
        .create_batch(&marta, allo_batch("DON-STEP-ATTACK-1", &days_ago(1), 1))
        .await;
    let number = b["batch_number"].as_str().expect("a number").to_owned();
    let huge = "79228162514264337593543950335";
    let overflow = api
        .post(&format!("/batches/{number}/steps/siembra"))
        .token(&marta)
        .json(json!({"performed_at": now_minus(30), "room_id": "SB-01",
                     "equipment_ids": ["BSC-01"],
                     "materials": [{"lot_id": lot, "quantity": huge},
                                   {"lot_id": lot, "quantity": "1"}]}))
        .send()
        .await;
    assert!(
        overflow.status.is_client_error(),
        "a 4xx, not a panic: {} {}",
        overflow.status,
        overflow.text
    );
    api.post(&format!("/batches/{number}/steps/siembra"))
        .token(&marta)
        .json(seeding(&lot))
        .send()
        .await
        .ok(201);
    // The same step again without `corrects`: refused, nothing consumed twice.
    let twice = api
        .post(&format!("/batches/{number}/steps/siembra"))
        .token(&marta)
        .json(json!({"performed_at": now_minus(20), "room_id": "SB-01",
                     "equipment_ids": ["BSC-01"],
                     "materials": [{"lot_id": lot, "quantity": "5"}]}))
        .send()
        .await
        .err(422, "validation_failed");
    assert!(twice.iter().any(|d| d["field"] == "corrects"), "{twice:?}");
    let lot_now = api
        .get(&format!("/lots/{lot}"))
        .token(&marta)
        .send()
        .await
        .ok(200);
    assert_eq!(lot_now["quantity_available"], "5");
    // A correction may take again what the corrected entry took: here the lot's whole balance.
    let first = api
        .get(&format!("/batches/{number}/steps"))
        .token(&marta)
        .send()
        .await
        .ok(200)["items"][0]["id"]
        .as_i64()
        .expect("the seeding's id");
    api.post(&format!("/batches/{number}/steps/siembra"))
        .token(&marta)
        .json(json!({"performed_at": now_minus(25), "room_id": "SB-01",
                     "equipment_ids": ["BSC-01"], "corrects": first,
                     "reason": "se sembró todo el medio",
                     "materials": [{"lot_id": lot, "quantity": "15"}]}))
        .send()
        .await
        .ok(201);
    let lot_now = api
        .get(&format!("/lots/{lot}"))
        .token(&marta)
        .send()
        .await
        .ok(200);
    assert_eq!(lot_now["quantity_available"], "0");
    // An exception (out of limits), then the batch rejected: the exception stays as signed.
    let hot = api
        .post(&format!("/batches/{number}/steps/expansion"))
        .token(&marta)
        .json(json!({"performed_at": now_minus(10),
                     "parameters": [{"name": "temperatura", "value": "39"}]}))
        .send()
        .await
        .ok(201);
    let exception = hot["exceptions"][0]["id"].as_i64().expect("an id");
    api.post(&format!("/batches/{number}/reject"))
        .token(&isabel)
        .json(json!({"password": api.password(ISABEL), "reason": "temperatura fuera de límites"}))
        .send()
        .await
        .ok(200);
    api.post(&format!("/batches/{number}/exceptions/{exception}/resolve"))
        .token(&isabel)
        .json(json!({"comment": "revisado", "password": api.password(ISABEL)}))
        .send()
        .await
        .err(409, "invalid_transition");
}
