//! Biovigilance (SPEC §6) on both databases: an allogeneic donor whose material went to
//! several patients through batches of two laboratories; a reaction reported against one
//! administration answers the whole look-back across laboratories (codes only), stays on the
//! open work list until a coordinator concludes it, and is audited, on the batch view and in
//! the traceability views.

use serde_json::{Value, json};

use crate::support::*;

/// Lab staff at MAL-HRU.
const CRISTINA: &str = "cristina.vega";
/// QA at MAL-HRU.
const NURIA: &str = "nuria.blanco";
const MAL: &str = "MAL-HRU";
/// MAL-HRU's clinical trial of MSC-AD-ALO.
const MAL_TRIAL: &str = "2020-002941-65";
const DONOR: &str = "A999926700001";

/// Administers the batch to each patient; answers the administrations' ids.
/// (Today: an administration is never before the release, and these batches are released today.)
async fn give(api: &Api, qa: &str, number: &str, patients: &[&str]) -> Vec<i64> {
    let token = api.token(qa).await;
    let mut ids = Vec::new();
    for patient in patients {
        let a = api
            .post(&format!("/batches/{number}/administrations"))
            .token(&token)
            .json(json!({"patient_code": patient, "administered_on": today(), "hospital": "Hospital Regional de Málaga"}))
            .send()
            .await
            .ok(201);
        ids.push(a["id"].as_i64().expect("an administration id"));
    }
    ids
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap_or_default().to_owned())
        .collect()
}

fn ids(list: &Value) -> Vec<i64> {
    list["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .filter_map(|r| r["id"].as_i64())
        .collect()
}

#[both_backends]
async fn a_reaction_starts_a_donor_look_back_across_laboratories(api: Api) {
    // One donor: three patients through a GRA-UPCIT batch, one through a MAL-HRU batch
    // (one dose left), and a third batch still in production at GRA-UPCIT.
    let gra = api
        .released_batch(MARTA, ISABEL, ALLO, allo_batch(DONOR, &days_ago(20), 3))
        .await;
    let gra_given = give(&api, ISABEL, &gra, &["PAC-7001", "PAC-7002", "PAC-7003"]).await;
    let mal = api
        .released_batch(
            CRISTINA,
            NURIA,
            ALLO,
            json!({"product_code": ALLO, "lab_code": MAL, "access_route": "clinical_trial",
                   "trial_id": MAL_TRIAL, "donor_code": DONOR, "collection_date": days_ago(18),
                   "manufacturing_start": days_ago(18), "doses": 2}),
        )
        .await;
    let mal_given = give(&api, NURIA, &mal, &["PAC-7004"]).await;
    let marta = api.token(MARTA).await;
    let pending = api
        .create_batch(&marta, allo_batch(DONOR, &days_ago(3), 2))
        .await;
    let pending = pending["batch_number"].as_str().unwrap().to_owned();

    let isabel = api.token(ISABEL).await;
    let lucia = api.token(LUCIA).await;
    let nuria = api.token(NURIA).await;
    let teresa = api.token(TERESA).await;
    let elena = api.token(ELENA).await;
    let path = format!("/batches/{gra}/administrations/{}/reactions", gra_given[1]);
    let report = json!({"reported_on": today(), "severity": "serious",
            "description": "Fiebre de 39,5 °C y hipotensión a las 6 h de la infusión; ingreso en UCI",
            "imputability": "probable"});

    // Who may report: QA of the batch's laboratory, or a coordinator.
    api.post(&path)
        .token(&marta)
        .json(report.clone())
        .send()
        .await
        .err(403, "forbidden");
    api.post(&path)
        .token(&elena)
        .json(report.clone())
        .send()
        .await
        .err(403, "forbidden");
    api.post(&path)
        .token(&teresa)
        .json(report.clone())
        .send()
        .await
        .err(404, "not_found");
    // The administration must be one of this batch's.
    api.post(&format!(
        "/batches/{gra}/administrations/{}/reactions",
        mal_given[0]
    ))
    .token(&isabel)
    .json(report.clone())
    .send()
    .await
    .err(404, "not_found");
    // A reaction follows its administration, is not reported in the future, and says what happened.
    let mut early = report.clone();
    early["reported_on"] = json!(days_ago(1));
    let d = api
        .post(&path)
        .token(&isabel)
        .json(early)
        .send()
        .await
        .err(422, "validation_failed");
    assert_eq!(fields(&d), ["reported_on"]);
    let mut blank = report.clone();
    blank["reported_on"] = json!(days_ahead(1));
    blank["description"] = json!("  ");
    let d = api
        .post(&path)
        .token(&isabel)
        .json(blank)
        .send()
        .await
        .err(422, "validation_failed");
    assert_eq!(fields(&d), ["reported_on", "description"]);
    let mut bad = report.clone();
    bad["imputability"] = json!("likely");
    let r = api.post(&path).token(&isabel).json(bad).send().await;
    assert!(
        r.status.is_client_error(),
        "an unknown imputability is refused: {}",
        r.text
    );
    let (_, version_before) = api.batch(&isabel, &gra).await;

    // The report answers with the look-back: every other batch of the donor, whichever
    // laboratory made it, and every patient to follow up.
    let created = api
        .post(&path)
        .token(&isabel)
        .json(report.clone())
        .send()
        .await
        .ok(201);
    let id = created["id"].as_i64().expect("a reaction id");
    assert_eq!(created["status"], "open");
    assert_eq!(created["severity"], "serious");
    assert_eq!(created["imputability"], "probable");
    assert_eq!(created["patient_code"], "PAC-7002");
    assert_eq!(created["batch_number"], json!(gra));
    assert_eq!(created["reported_by"], ISABEL);
    let lb = &created["look_back"];
    assert_eq!(lb["donor_code"], DONOR);
    let same: Vec<_> = lb["same_batch_recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["patient_code"].clone())
        .collect();
    assert_eq!(same, [json!("PAC-7001"), json!("PAC-7003")]);
    let others = lb["other_batches"].as_array().unwrap();
    let numbers: Vec<_> = others
        .iter()
        .map(|b| b["batch_number"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(numbers, [mal.clone(), pending.clone()]);
    assert_eq!(others[0]["lab_code"], MAL);
    assert_eq!(others[0]["status"], "released");
    assert_eq!(others[0]["recipients"][0]["patient_code"], "PAC-7004");
    assert_eq!(others[1]["status"], "in_production");
    assert_eq!(
        strings(&lb["batches_to_hold"]),
        [mal.clone(), pending.clone()]
    );
    assert_eq!(
        strings(&lb["patients_to_follow_up"]),
        ["PAC-7001", "PAC-7003", "PAC-7004"]
    );
    // Codes only: the reporter belongs to another laboratory than MAL-HRU's batch.
    let look_back_text = lb.to_string();
    for private in ["Hospital", "hospital", CRISTINA, NURIA, "recorded_by"] {
        assert!(
            !look_back_text.contains(private),
            "the look-back shows {private}: {look_back_text}"
        );
    }

    // Read back: in scope of the batch's laboratory, and by the network roles.
    for token in [&isabel, &lucia, &elena] {
        let got = api
            .get(&format!("/reactions/{id}"))
            .token(token)
            .send()
            .await
            .ok(200);
        assert_eq!(got["look_back"], created["look_back"]);
    }
    api.get(&format!("/reactions/{id}"))
        .token(&nuria)
        .send()
        .await
        .err(404, "not_found");
    api.get("/reactions/999999")
        .token(&lucia)
        .send()
        .await
        .err(404, "not_found");

    // On the batch view (its version moved, so no stale view is served) and in traceability.
    let (b, version_after) = api.batch(&isabel, &gra).await;
    assert!(
        version_after > version_before,
        "reporting changes the batch record's version"
    );
    assert_eq!(b["reactions"][0]["id"], json!(id));
    assert_eq!(b["reactions"][0]["administration_id"], json!(gra_given[1]));
    let t = api
        .get(&format!("/trace/donors/{DONOR}"))
        .token(&lucia)
        .send()
        .await
        .ok(200);
    let traced = t["batches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["batch_number"] == json!(gra))
        .expect("the GRA batch");
    let adm = traced["administrations"].as_array().unwrap();
    assert_eq!(
        adm.len(),
        3,
        "one row per administration, reactions or not: {traced}"
    );
    assert_eq!(adm[1]["reactions"][0]["id"], json!(id));
    assert_eq!(adm[1]["reactions"][0]["status"], "open");
    assert!(adm[0]["reactions"].as_array().unwrap().is_empty());
    let p = api
        .get("/trace/patients/PAC-7002")
        .token(&isabel)
        .send()
        .await
        .ok(200);
    assert_eq!(
        p["batches"][0]["administrations"][1]["reactions"][0]["severity"],
        "serious"
    );

    // The work list: open reports in scope.
    let open = api
        .get("/reactions?status=open")
        .token(&lucia)
        .send()
        .await
        .ok(200);
    assert_eq!(ids(&open), [id]);
    assert_eq!(
        ids(&api
            .get("/reactions?status=open")
            .token(&isabel)
            .send()
            .await
            .ok(200)),
        [id]
    );
    assert!(
        ids(&api
            .get("/reactions?status=open")
            .token(&nuria)
            .send()
            .await
            .ok(200))
        .is_empty()
    );
    api.get("/reactions?status=pendiente")
        .token(&lucia)
        .send()
        .await
        .err(422, "validation_failed");

    // A coordinator reports one on the MAL-HRU batch too: its look-back names the GRA
    // batch with its three patients.
    let second = api
        .post(&format!(
            "/batches/{mal}/administrations/{}/reactions",
            mal_given[0]
        ))
        .token(&lucia)
        .json(json!({"reported_on": today(), "severity": "non_serious",
                "description": "Exantema leve en la zona de infusión", "imputability": "possible"}))
        .send()
        .await
        .ok(201);
    let second_id = second["id"].as_i64().unwrap();
    let back = &second["look_back"]["other_batches"];
    assert_eq!(back[0]["batch_number"], json!(gra));
    assert_eq!(back[0]["recipients"].as_array().unwrap().len(), 3);
    assert!(
        second["look_back"]["same_batch_recipients"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let page1 = api
        .get("/reactions?status=open&limit=1")
        .token(&lucia)
        .send()
        .await
        .ok(200);
    assert_eq!(ids(&page1), [second_id], "newest first");
    let cursor = page1["next_cursor"]
        .as_str()
        .expect("a second page")
        .to_owned();
    let page2 = api
        .get(&format!("/reactions?status=open&limit=1&cursor={cursor}"))
        .token(&lucia)
        .send()
        .await
        .ok(200);
    assert_eq!(ids(&page2), [id]);
    assert!(page2["next_cursor"].is_null());

    // Only a coordinator closes, with a conclusion, once.
    let close = format!("/reactions/{id}/close");
    api.post(&close)
        .token(&isabel)
        .json(json!({"conclusion": "x"}))
        .send()
        .await
        .err(403, "forbidden");
    let d = api
        .post(&close)
        .token(&lucia)
        .json(json!({"conclusion": " "}))
        .send()
        .await
        .err(422, "validation_failed");
    assert_eq!(fields(&d), ["conclusion"]);
    let conclusion = "Reacción febril no hemolítica; cultivos del lote y del donante negativos. Imputabilidad confirmada como posible.";
    let closed = api
        .post(&close)
        .token(&lucia)
        .json(json!({"conclusion": conclusion}))
        .send()
        .await
        .ok(200);
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["conclusion"], conclusion);
    assert_eq!(closed["closed_by"], LUCIA);
    assert!(closed["closed_at"].is_string());
    assert_eq!(
        closed["description"], report["description"],
        "closing changes nothing reported"
    );
    assert_eq!(
        strings(&closed["look_back"]["batches_to_hold"]),
        [mal.clone(), pending.clone()]
    );
    api.post(&close)
        .token(&lucia)
        .json(json!({"conclusion": "otra"}))
        .send()
        .await
        .err(409, "reaction_closed");
    assert_eq!(
        ids(&api
            .get("/reactions?status=open")
            .token(&lucia)
            .send()
            .await
            .ok(200)),
        [second_id]
    );
    assert_eq!(
        ids(&api
            .get("/reactions?status=closed")
            .token(&lucia)
            .send()
            .await
            .ok(200)),
        [id]
    );
    let (b, _) = api.batch(&isabel, &gra).await;
    assert_eq!(b["reactions"][0]["status"], "closed");

    // Audited on the batch, before and after, and the chain still verifies.
    let trail = api
        .get(&format!("/batches/{gra}/audit"))
        .token(&elena)
        .send()
        .await
        .ok(200);
    let events = trail["items"].as_array().unwrap();
    let reported = events
        .iter()
        .find(|e| e["action"] == "batch.reaction_report")
        .expect("the report's audit event");
    assert_eq!(reported["actor"], ISABEL);
    assert_eq!(reported["after"]["reaction"]["id"], json!(id));
    let concluded = events
        .iter()
        .find(|e| e["action"] == "batch.reaction_close")
        .expect("the closing's audit event");
    assert_eq!(concluded["actor"], LUCIA);
    assert_eq!(concluded["before"]["status"], "open");
    assert_eq!(concluded["after"]["status"], "closed");
    assert_eq!(concluded["reason"], conclusion);
    let verify = api
        .store
        .verify_audit_chain()
        .await
        .expect("verify the chain");
    assert!(
        matches!(verify, traza_store::VerifyReport::Intact { .. }),
        "{verify:?}"
    );
}
