//! The whole life of a batch through the API, autologous and allogeneic, with every refusal
//! of SPEC §3 on the way.

use serde_json::json;

use crate::support::*;

#[both_backends]
async fn autologous_skin_from_creation_to_its_patient(api: Api) {
    let marta = api.token(MARTA).await;
    let isabel = api.token(ISABEL).await;
    let subject = "G123498654321H";
    // Stored and shown in canonical form: the DIN without its check character.
    let canonical = "G123498654321";
    let start = days_ago(10);

    // Autologous without a patient, or with another patient: chain of identity.
    let mut no_patient = skin_batch(subject, subject, &start);
    no_patient.as_object_mut().unwrap().remove("patient_code");
    api.post("/batches")
        .token(&marta)
        .json(no_patient)
        .send()
        .await
        .err(409, "chain_of_identity_mismatch");
    api.post("/batches")
        .token(&marta)
        .json(skin_batch(subject, "PAC-OTRO-01", &start))
        .send()
        .await
        .err(409, "chain_of_identity_mismatch");
    // A DIN with a wrong check character is invalid.
    let bad = api
        .post("/batches")
        .token(&marta)
        .json(skin_batch("G123498654321X", "G123498654321X", &start))
        .send()
        .await
        .err(422, "validation_failed");
    assert!(fields(&bad).contains(&"donor_code".to_owned()), "{bad:?}");
    // Before the hospital exemption started, no assignment covers it.
    api.post("/batches")
        .token(&marta)
        .json(skin_batch(subject, subject, "2024-03-01"))
        .send()
        .await
        .err(409, "no_assignment");

    // Created: generated number, in production, version 1, ETag.
    let created = api
        .post("/batches")
        .token(&marta)
        .json(skin_batch(subject, subject, &start))
        .send()
        .await;
    assert_eq!(created.header("etag").as_deref(), Some("\"1\""));
    let b = created.ok(201);
    let number = b["batch_number"].as_str().expect("number").to_owned();
    assert!(
        number.starts_with(&format!("{GRA}-{}-", year_of(&start))),
        "{number}"
    );
    assert_eq!(
        (b["status"].as_str(), b["version"].as_i64()),
        (Some("in_production"), Some(1))
    );
    assert_eq!(b["origin"], "autologous");

    // A given number that is taken is a duplicate.
    let mut again = skin_batch(subject, subject, &start);
    again["batch_number"] = json!(number);
    api.post("/batches")
        .token(&marta)
        .json(again)
        .send()
        .await
        .err(409, "duplicate");

    // Steps, a failing QC result, then its retest; an open deviation.
    api.post(&format!("/batches/{number}/events"))
            .token(&marta)
            .json(json!({"step": "siembra de queratinocitos", "performed_at": minutes_ago(90), "note": "P2"}))
            .send()
            .await
            .ok(201);
    let spec = api.spec(&marta, SKIN).await;
    let viability = spec
        .iter()
        .find(|t| t["test"] == "viability")
        .expect("viability test")
        .clone();
    let failing = api
            .post(&format!("/batches/{number}/qc-results"))
            .token(&marta)
            .json(json!({"test": "viability", "value": failing_value(&viability), "unit": viability["unit"]}))
            .send()
            .await
            .ok(201);
    assert_eq!(failing["outcome"], "fail");
    // A retest needs a reason.
    api.post(&format!("/batches/{number}/qc-results"))
            .token(&marta)
            .json(json!({"test": "viability", "value": passing_value(&viability), "unit": viability["unit"],
                          "supersedes": failing["id"]}))
            .send()
            .await
            .err(422, "validation_failed");
    api.pass_required_tests(&marta, &number, SKIN, &["viability", "sterility"])
        .await;
    let dev = api
        .post(&format!("/batches/{number}/deviations"))
        .token(&marta)
        .json(
            json!({"description": "Excursión de temperatura en incubador 3", "severity": "major"}),
        )
        .send()
        .await
        .ok(201);
    assert_eq!(dev["status"], "open");

    // Complete: not before the start; not twice.
    api.post(&format!("/batches/{number}/complete"))
        .token(&marta)
        .json(json!({"manufacturing_end": days_ago(30)}))
        .send()
        .await
        .err(422, "validation_failed");
    let q = api
        .post(&format!("/batches/{number}/complete"))
        .token(&marta)
        .json(json!({"manufacturing_end": today()}))
        .send()
        .await
        .ok(200);
    assert_eq!(q["status"], "quarantine");
    api.post(&format!("/batches/{number}/complete"))
        .token(&marta)
        .json(json!({"manufacturing_end": today()}))
        .send()
        .await
        .err(409, "invalid_transition");

    // Release as Isabel: every unmet rule at once (failing result, missing sterility,
    // open deviation). Marta cannot sign: her role forbids it.
    api.post(&format!("/batches/{number}/release"))
        .token(&marta)
        .json(json!({"password": api.password(MARTA), "meaning": "qp_certified"}))
        .send()
        .await
        .err(403, "forbidden");
    api.post(&format!("/batches/{number}/release"))
        .token(&isabel)
        .json(json!({"password": "no-es-mi-clave", "meaning": "qp_certified"}))
        .send()
        .await
        .err(403, "invalid_signature");
    let blocked = api
        .post(&format!("/batches/{number}/release"))
        .token(&isabel)
        .json(json!({"password": api.password(ISABEL), "meaning": "qp_certified"}))
        .send()
        .await
        .err(409, "release_blocked");
    let mut got = rules(&blocked);
    got.sort();
    assert_eq!(
        got,
        ["failing_result", "missing_required_test", "open_deviation"],
        "{blocked:?}"
    );

    // Fix it: retest with a reason, sterility, close the deviation (QA only).
    let retest = api
            .post(&format!("/batches/{number}/qc-results"))
            .token(&marta)
            .json(json!({"test": "viability", "value": passing_value(&viability), "unit": viability["unit"],
                          "supersedes": failing["id"], "reason": "Error de lectura del contador; repetido",
                          "deviation_id": dev["id"]}))
            .send()
            .await
            .ok(201);
    assert_eq!(retest["outcome"], "pass");
    api.post(&format!("/batches/{number}/qc-results"))
        .token(&marta)
        .json(json!({"test": "sterility", "value": "no_growth"}))
        .send()
        .await
        .ok(201);
    let close = format!("/batches/{number}/deviations/{}/close", dev["id"]);
    api.post(&close)
        .token(&marta)
        .json(json!({"resolution": "x"}))
        .send()
        .await
        .err(403, "forbidden");
    api.post(&close)
        .token(&isabel)
        .json(json!({"resolution": "Registro revisado: sin impacto en la calidad"}))
        .send()
        .await
        .ok(200);

    // A stale If-Match on release is refused; the right one certifies.
    let (_, version) = api.batch(&isabel, &number).await;
    api.post(&format!("/batches/{number}/release"))
        .token(&isabel)
        .if_match(version - 1)
        .json(json!({"password": api.password(ISABEL), "meaning": "qp_certified"}))
        .send()
        .await
        .err(412, "version_mismatch");
    let released = api
        .post(&format!("/batches/{number}/release"))
        .token(&isabel)
        .if_match(version)
        .json(json!({"password": api.password(ISABEL), "meaning": "qp_certified"}))
        .send()
        .await
        .ok(200);
    assert_eq!(released["status"], "released");
    assert_eq!(released["released_by"], "Isabel Morales Vílchez");
    assert_eq!(released["release_date"], today());
    let sig = &released["signatures"][0];
    assert_eq!(sig["meaning"], "qp_certified");
    assert_eq!(sig["signer"], ISABEL);
    assert!(
        sig["record_hash"].as_str().is_some_and(|h| h.len() == 64),
        "{sig}"
    );

    // Locked now: corrections and new records refused.
    let (_, version) = api.batch(&isabel, &number).await;
    api.patch(&format!("/batches/{number}"))
        .token(&marta)
        .if_match(version)
        .json(json!({"notes": "cambio", "reason": "prueba"}))
        .send()
        .await
        .err(409, "record_locked");
    api.post(&format!("/batches/{number}/events"))
        .token(&marta)
        .json(json!({"step": "tarde", "performed_at": minutes_ago(1)}))
        .send()
        .await
        .err(409, "invalid_transition");

    // Only to its own patient; then administered, and no dose left.
    let give = format!("/batches/{number}/administrations");
    api.post(&give)
        .token(&isabel)
        .json(
            json!({"patient_code": "PAC-OTRO-01", "administered_on": today(), "hospital": "HUVN"}),
        )
        .send()
        .await
        .err(409, "chain_of_identity_mismatch");
    api.post(&give)
        .token(&isabel)
        .json(json!({"patient_code": subject, "administered_on": today(),
                          "hospital": "Hospital Universitario Virgen de las Nieves"}))
        .send()
        .await
        .ok(201);
    let (b, _) = api.batch(&isabel, &number).await;
    assert_eq!(b["status"], "administered");
    api.post(&give)
        .token(&isabel)
        .json(json!({"patient_code": subject, "administered_on": today(), "hospital": "HUVN"}))
        .send()
        .await
        .err(409, "doses_exhausted");

    // Traced both ways; the batch's trail has every step in order.
    let d = api
        .get(&format!("/trace/donors/{subject}"))
        .token(&isabel)
        .send()
        .await
        .ok(200);
    assert_eq!(d["batches"][0]["batch_number"], json!(number));
    assert_eq!(
        d["batches"][0]["administrations"][0]["patient_code"],
        canonical
    );
    let p = api
        .get(&format!("/trace/patients/{subject}"))
        .token(&isabel)
        .send()
        .await
        .ok(200);
    assert_eq!(p["batches"][0]["donor_code"], canonical);
    let trail = api
        .get(&format!("/batches/{number}/audit"))
        .token(&isabel)
        .send()
        .await
        .ok(200);
    let actions: Vec<&str> = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for a in [
        "batch.create",
        "batch.complete",
        "batch.release",
        "batch.administer",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    // Rocío, of Sevilla, does not see it at all.
    let rocio = api.token(ROCIO).await;
    api.get(&format!("/batches/{number}"))
        .token(&rocio)
        .send()
        .await
        .err(404, "not_found");
    api.get(&format!("/batches/{number}/audit"))
        .token(&rocio)
        .send()
        .await
        .err(404, "not_found");
    let t = api
        .get(&format!("/trace/donors/{subject}"))
        .token(&rocio)
        .send()
        .await
        .ok(200);
    assert_eq!(t["batches"], json!([]));
}

#[both_backends]
async fn allogeneic_donor_to_many_patients(api: Api) {
    let marta = api.token(MARTA).await;
    let isabel = api.token(ISABEL).await;
    let donor = "A999921123456";

    // A clinical-trial batch needs its trial id.
    let mut no_trial = allo_batch(donor, &days_ago(15), 3);
    no_trial.as_object_mut().unwrap().remove("trial_id");
    let d = api
        .post("/batches")
        .token(&marta)
        .json(no_trial)
        .send()
        .await
        .err(422, "validation_failed");
    assert_eq!(fields(&d), ["trial_id"]);

    // Isabel makes this one herself: she may not certify it (four eyes), Carmen may.
    let b = api
        .create_batch(&isabel, allo_batch(donor, &days_ago(15), 3))
        .await;
    let number = b["batch_number"].as_str().unwrap().to_owned();
    api.pass_required_tests(&marta, &number, ALLO, &[]).await;
    api.post(&format!("/batches/{number}/complete"))
        .token(&marta)
        .json(json!({"manufacturing_end": days_ago(1)}))
        .send()
        .await
        .ok(200);
    let blocked = api
        .post(&format!("/batches/{number}/release"))
        .token(&isabel)
        .json(json!({"password": api.password(ISABEL), "meaning": "qp_certified"}))
        .send()
        .await
        .err(409, "release_blocked");
    assert_eq!(rules(&blocked), ["four_eyes"]);
    let carmen = api.second_gra_qa().await;
    api.post(&format!("/batches/{number}/release"))
        .token(&carmen)
        .json(json!({"password": CARMEN_PW, "meaning": "qp_certified"}))
        .send()
        .await
        .ok(200);

    // Three doses to three patients; the last dose administers the batch; no fourth.
    let give = format!("/batches/{number}/administrations");
    // An administration is recorded after the fact: a date in the future is invalid.
    let future = api
            .post(&give)
            .token(&carmen)
            .json(json!({"patient_code": "PAC-0001", "administered_on": days_ahead(3), "hospital": "HURS"}))
            .send()
            .await
            .err(422, "validation_failed");
    assert_eq!(fields(&future), ["administered_on"]);
    for (i, patient) in ["PAC-0001", "PAC-0002", "PAC-0003"].iter().enumerate() {
        api.post(&give)
                .token(&carmen)
                .json(json!({"patient_code": patient, "administered_on": today(), "hospital": "HU Reina Sofía"}))
                .send()
                .await
                .ok(201);
        let (b, _) = api.batch(&carmen, &number).await;
        let want = if i == 2 { "administered" } else { "released" };
        assert_eq!(b["status"], want);
    }
    api.post(&give)
        .token(&carmen)
        .json(json!({"patient_code": "PAC-0004", "administered_on": today(), "hospital": "HURS"}))
        .send()
        .await
        .err(409, "doses_exhausted");

    // A second batch of the same donor, rejected.
    let r = api
        .create_batch(&marta, allo_batch(donor, &days_ago(5), 2))
        .await;
    let rejected = r["batch_number"].as_str().unwrap().to_owned();
    api.post(&format!("/batches/{rejected}/reject"))
            .token(&carmen)
            .json(json!({"password": CARMEN_PW, "reason": "Micoplasma positivo en el control intermedio"}))
            .send()
            .await
            .ok(200);
    api.post(&format!("/batches/{rejected}/release"))
        .token(&carmen)
        .json(json!({"password": CARMEN_PW, "meaning": "qp_certified"}))
        .send()
        .await
        .err(409, "release_blocked");

    // The donor's look-forward lists both batches, and the three patients on the first.
    let t = api
        .get(&format!("/trace/donors/{donor}"))
        .token(&marta)
        .send()
        .await
        .ok(200);
    let batches = t["batches"].as_array().unwrap();
    assert_eq!(batches.len(), 2, "{t}");
    let first = batches
        .iter()
        .find(|b| b["batch_number"] == json!(number))
        .expect("first batch");
    assert_eq!(first["administrations"].as_array().unwrap().len(), 3);
    let p = api
        .get("/trace/patients/PAC-0002")
        .token(&marta)
        .send()
        .await
        .ok(200);
    assert_eq!(p["batches"][0]["donor_code"], donor);

    // Listing with filters and keyset pages: newest first, no repeats.
    let page1 = api
        .get(&format!("/batches?donor={donor}&limit=1"))
        .token(&marta)
        .send()
        .await
        .ok(200);
    assert_eq!(page1["items"].as_array().unwrap().len(), 1);
    let cursor = page1["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let page2 = api
        .get(&format!("/batches?donor={donor}&limit=1&cursor={cursor}"))
        .token(&marta)
        .send()
        .await
        .ok(200);
    assert_ne!(
        page1["items"][0]["batch_number"],
        page2["items"][0]["batch_number"]
    );
    let rej = api
        .get(&format!("/batches?status=rejected&donor={donor}"))
        .token(&marta)
        .send()
        .await
        .ok(200);
    assert_eq!(rej["items"].as_array().unwrap().len(), 1);
    api.get("/batches?status=perdido")
        .token(&marta)
        .send()
        .await
        .err(422, "validation_failed");
}

#[both_backends]
async fn corrections_need_if_match_and_a_reason(api: Api) {
    let marta = api.token(MARTA).await;
    let b = api
        .create_batch(&marta, allo_batch("DON-CORR-01", &days_ago(3), 2))
        .await;
    let number = b["batch_number"].as_str().unwrap().to_owned();
    let path = format!("/batches/{number}");
    api.patch(&path)
        .token(&marta)
        .json(json!({"volume_ml": "14.5", "reason": "Volumen medido de nuevo"}))
        .send()
        .await
        .err(428, "precondition_required");
    api.patch(&path)
        .token(&marta)
        .if_match(1)
        .json(json!({"volume_ml": "14.5"}))
        .send()
        .await
        .err(422, "validation_failed");
    let fixed = api
        .patch(&path)
        .token(&marta)
        .if_match(1)
        .json(json!({"volume_ml": "14.5", "reason": "Volumen medido de nuevo"}))
        .send()
        .await;
    assert_eq!(fixed.header("etag").as_deref(), Some("\"2\""));
    let fixed = fixed.ok(200);
    assert_eq!(
        (fixed["volume_ml"].as_str(), fixed["version"].as_i64()),
        (Some("14.5"), Some(2))
    );
    api.patch(&path)
        .token(&marta)
        .if_match(1)
        .json(json!({"volume_ml": "99", "reason": "otra"}))
        .send()
        .await
        .err(412, "version_mismatch");
    // The trail keeps the before, the after and the reason.
    let trail = api
        .get(&format!("{path}/audit"))
        .token(&marta)
        .send()
        .await
        .ok(200);
    let correction = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["reason"] == "Volumen medido de nuevo")
        .expect("the correction's event")
        .clone();
    assert_eq!(correction["before"]["volume_ml"], "15");
    assert_eq!(correction["after"]["volume_ml"], "14.5");
    // An exact decimal survives the round trip.
    let exact = api
        .patch(&path)
        .token(&marta)
        .if_match(2)
        .json(json!({"cell_count": "12345678901234.567891", "reason": "Recuento corregido"}))
        .send()
        .await
        .ok(200);
    assert_eq!(exact["cell_count"], "12345678901234.567891");
}

#[both_backends]
async fn monthly_capacity_is_enforced(api: Api) {
    // SEV-CABIMER makes at most 8 batches a month.
    let laura = api.token("laura.nieto").await;
    let body = |i: u32| {
        json!({"product_code": ALLO, "lab_code": "SEV-CABIMER", "access_route": "compassionate_use",
                   "donor_code": format!("DON-CAP-{i:02}"), "manufacturing_start": "2026-03-1".to_owned() + &(i % 9).to_string(),
                   "doses": 1})
    };
    for i in 0..8 {
        api.post("/batches")
            .token(&laura)
            .json(body(i))
            .send()
            .await
            .ok(201);
    }
    let d = api
        .post("/batches")
        .token(&laura)
        .json(body(8))
        .send()
        .await
        .err(409, "capacity_exceeded");
    assert!(d.is_empty() || d[0]["message"].is_string());
    // Another month is free.
    let mut april = body(9);
    april["manufacturing_start"] = json!("2026-04-02");
    api.post("/batches")
        .token(&laura)
        .json(april)
        .send()
        .await
        .ok(201);
}
