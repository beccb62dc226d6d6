//! The rules that keep a batch from reaching a patient unchecked, attacked the way users and
//! attackers tried them (SPEC §2), on both databases: an imported "released" row, testing into
//! compliance, a held batch, and batch numbers of another laboratory's form.

use serde_json::{Value, json};

use crate::support::*;

const HEADER: &str = "batch_number,product_code,lab_code,origin,donor_code,patient_code,collection_date,manufacturing_start,manufacturing_end,expiry_date,status,cell_count,viability_percent,volume_ml,doses,released_by,release_date,access_route,trial_id,notes";

/// One historical row of MSC-AD-ALO at GRA-UPCIT, released nine days ago with 3 doses.
fn released_row(number: &str, donor: &str) -> String {
    format!(
        "{HEADER}\n{number},{ALLO},{GRA},allogeneic,{donor},,{},{},{},{},released,,,,3,Dra. Isabel Morales,{},clinical_trial,{ALLO_TRIAL},\n",
        days_ago(20),
        days_ago(20),
        days_ago(10),
        days_ahead(60),
        days_ago(9)
    )
}

async fn import_csv(api: &Api, token: &str, query: &str, csv: &str) -> Resp {
    api.post(&format!("/imports/batches{query}"))
        .token(token)
        .raw(Some("text/csv"), csv.as_bytes().to_vec())
        .send()
        .await
}

async fn administer(api: &Api, token: &str, number: &str, patient: &str) -> Resp {
    api.post(&format!("/batches/{number}/administrations"))
        .token(token)
        .json(json!({"patient_code": patient, "administered_on": today(), "hospital": "Hospital Universitario Virgen de las Nieves"}))
        .send()
        .await
}

#[both_backends]
async fn an_imported_released_row_reaches_no_patient_until_qa_confirms_it(api: Api) {
    let marta = api.token(MARTA).await;
    let isabel = api.token(ISABEL).await;
    // The attack: a technician types a recent "released" row with a QP's name.
    import_csv(
        &api,
        &marta,
        "",
        &released_row("HIST-GRA-0001", "DON-H-0001"),
    )
    .await
    .ok(200);
    let refused = administer(&api, &isabel, "HIST-GRA-0001", "PT-GRA-9001")
        .await
        .err(409, "history_not_confirmed");
    assert!(refused.is_empty());
    // Only QA confirms, with the right password.
    api.post("/batches/HIST-GRA-0001/confirm-history")
        .token(&marta)
        .json(json!({"password": api.password(MARTA)}))
        .send()
        .await
        .err(403, "forbidden");
    api.post("/batches/HIST-GRA-0001/confirm-history")
        .token(&isabel)
        .json(json!({"password": "not-her-password"}))
        .send()
        .await
        .err(403, "invalid_signature");
    let confirmed = api
        .post("/batches/HIST-GRA-0001/confirm-history")
        .token(&isabel)
        .json(json!({"password": api.password(ISABEL)}))
        .send()
        .await
        .ok(200);
    let meanings: Vec<&str> = confirmed["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["meaning"].as_str())
        .collect();
    assert_eq!(meanings, ["historical_release_confirmed"]);
    // Once is enough; a second confirmation is refused.
    api.post("/batches/HIST-GRA-0001/confirm-history")
        .token(&isabel)
        .json(json!({"password": api.password(ISABEL)}))
        .send()
        .await
        .err(409, "invalid_transition");
    administer(&api, &isabel, "HIST-GRA-0001", "PT-GRA-9001")
        .await
        .ok(201);
    let audit = api
        .get("/batches/HIST-GRA-0001/audit")
        .token(&isabel)
        .send()
        .await
        .ok(200);
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .or(audit.as_array())
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"batch.confirm_history"), "{actions:?}");

    // The QA who imported a row does not vouch for it: another QA does.
    import_csv(
        &api,
        &isabel,
        "",
        &released_row("HIST-GRA-0002", "DON-H-0002"),
    )
    .await
    .ok(200);
    api.post("/batches/HIST-GRA-0002/confirm-history")
        .token(&isabel)
        .json(json!({"password": api.password(ISABEL)}))
        .send()
        .await
        .err(409, "four_eyes");
    let carmen = api.second_gra_qa().await;
    api.post("/batches/HIST-GRA-0002/confirm-history")
        .token(&carmen)
        .json(json!({"password": CARMEN_PW}))
        .send()
        .await
        .ok(200);
}

#[both_backends]
async fn a_failing_result_cannot_be_replaced_by_typing_another(api: Api) {
    let marta = api.token(MARTA).await;
    let b = api
        .create_batch(&marta, allo_batch("DON-OOS-0001", &days_ago(10), 2))
        .await;
    let number = b["batch_number"].as_str().unwrap().to_owned();
    let qc = |body: Value| {
        api.post(&format!("/batches/{number}/qc-results"))
            .token(&marta)
            .json(body)
    };
    let failed = qc(json!({"test": "viability", "value": "50", "unit": "%"}))
        .send()
        .await
        .ok(201);
    assert_eq!(failed["outcome"], "fail");
    let failed_id = failed["id"].as_i64().unwrap();
    // The attack: a second, passing value without saying it replaces the first.
    let refused = qc(json!({"test": "viability", "value": "95", "unit": "%"}))
        .send()
        .await;
    assert_eq!(refused.status.as_u16(), 409);
    assert_eq!(refused.code(), "result_exists");
    // A retest of the OOS result must name its investigation.
    let details = qc(json!({"test": "viability", "value": "95", "unit": "%",
                "supersedes": failed_id, "reason": "retest"}))
    .send()
    .await
    .err(422, "validation_failed");
    assert_eq!(fields(&details), ["deviation_id"]);
    let dev = api
        .post(&format!("/batches/{number}/deviations"))
        .token(&marta)
        .json(json!({"description": "viability OOS: investigation", "severity": "major"}))
        .send()
        .await
        .ok(201);
    let retest = qc(json!({"test": "viability", "value": "95", "unit": "%",
                "supersedes": failed_id, "reason": "retained sample retested",
                "deviation_id": dev["id"]}))
    .send()
    .await
    .ok(201);
    assert_eq!(retest["outcome"], "pass");
    // Both results are shown; the first is marked superseded by the retest.
    let (view, _) = api.batch(&marta, &number).await;
    let results: Vec<(i64, Value)> = view["qc_results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["test"] == "viability")
        .map(|r| (r["id"].as_i64().unwrap(), r["superseded_by"].clone()))
        .collect();
    assert_eq!(
        results,
        [
            (failed_id, retest["id"].clone()),
            (retest["id"].as_i64().unwrap(), Value::Null)
        ]
    );
    // And the batch page shows the superseded result, marked.
    let page = api
        .get(&format!("/lotes/{number}"))
        .header("cookie", &format!("traza_sesion={marta}"))
        .send()
        .await;
    assert_eq!(page.status.as_u16(), 200);
    assert!(
        page.text.contains("SUSTITUIDO"),
        "the page marks the superseded result"
    );
}

#[both_backends]
async fn a_held_batch_reaches_no_new_patient_until_a_coordinator_lifts_the_hold(api: Api) {
    let number = api
        .released_batch(
            MARTA,
            ISABEL,
            ALLO,
            allo_batch("DON-HOLD-0001", &days_ago(20), 3),
        )
        .await;
    let isabel = api.token(ISABEL).await;
    let lucia = api.token(LUCIA).await;
    let adm = administer(&api, &isabel, &number, "PT-GRA-7001")
        .await
        .ok(201);
    let reaction = api
                .post(&format!("/batches/{number}/administrations/{}/reactions", adm["id"]))
                .token(&isabel)
                .json(json!({"reported_on": today(), "severity": "serious",
                    "description": "fiebre alta y hipotensión tras la infusión", "imputability": "probable"}))
                .send()
                .await
                .ok(201);
    assert!(strings_of(&reaction["look_back"]["batches_to_hold"]).contains(&number));
    let (view, _) = api.batch(&isabel, &number).await;
    assert_eq!(view["on_hold"], true);
    let holds = view["holds"].as_array().unwrap();
    assert_eq!(holds.len(), 1);
    assert_eq!(holds[0]["reaction_id"], reaction["id"]);
    let listed = api
        .get("/batches?donor=DON-HOLD-0001")
        .token(&isabel)
        .send()
        .await
        .ok(200);
    assert_eq!(listed["items"][0]["on_hold"], true, "lists carry on_hold");
    // The attack: the next patient.
    administer(&api, &isabel, &number, "PT-GRA-7002")
        .await
        .err(409, "batch_on_hold");
    // A new batch of that donor starts held while the reaction is open.
    let marta = api.token(MARTA).await;
    let sibling = api
        .create_batch(&marta, allo_batch("DON-HOLD-0001", &days_ago(1), 2))
        .await;
    assert_eq!(sibling["on_hold"], true);
    // QA did not place the reaction's hold: only a coordinator lifts it, with a reason.
    let hold_id = holds[0]["id"].as_i64().unwrap();
    let lift = |token: &str, body: Value| {
        api.post(&format!("/batches/{number}/holds/{hold_id}/lift"))
            .token(token)
            .json(body)
    };
    lift(&isabel, json!({"reason": "investigated"}))
        .send()
        .await
        .err(403, "forbidden");
    lift(&lucia, json!({"reason": "  "}))
        .send()
        .await
        .err(422, "validation_failed");
    let lifted = lift(
        &lucia,
        json!({"reason": "reaction not imputable to the product"}),
    )
    .send()
    .await
    .ok(200);
    assert_eq!(lifted["lifted_by"], LUCIA);
    lift(&lucia, json!({"reason": "again"}))
        .send()
        .await
        .err(409, "invalid_transition");
    administer(&api, &isabel, &number, "PT-GRA-7002")
        .await
        .ok(201);
}

#[both_backends]
async fn qa_holds_a_batch_by_hand_and_release_is_blocked_until_it_is_lifted(api: Api) {
    let marta = api.token(MARTA).await;
    let isabel = api.token(ISABEL).await;
    let b = api
        .create_batch(&marta, allo_batch("DON-HOLD-0002", &days_ago(10), 2))
        .await;
    let number = b["batch_number"].as_str().unwrap().to_owned();
    api.pass_required_tests(&marta, &number, ALLO, &[]).await;
    api.post(&format!("/batches/{number}/complete"))
        .token(&marta)
        .json(json!({"manufacturing_end": days_ago(1)}))
        .send()
        .await
        .ok(200);
    // Lab staff may not hold; QA may.
    api.post(&format!("/batches/{number}/holds"))
        .token(&marta)
        .json(json!({"reason": "doubt"}))
        .send()
        .await
        .err(403, "forbidden");
    let hold = api
        .post(&format!("/batches/{number}/holds"))
        .token(&isabel)
        .json(json!({"reason": "incubator alarm under review"}))
        .send()
        .await
        .ok(201);
    let details = api
        .post(&format!("/batches/{number}/release"))
        .token(&isabel)
        .json(json!({"password": api.password(ISABEL), "meaning": "qp_certified"}))
        .send()
        .await
        .err(409, "release_blocked");
    assert_eq!(rules(&details), ["on_hold"]);
    // Another laboratory's QA does not see the batch at all.
    let teresa = api.token(TERESA).await;
    api.post(&format!("/batches/{number}/holds/{}/lift", hold["id"]))
        .token(&teresa)
        .json(json!({"reason": "x"}))
        .send()
        .await
        .err(404, "not_found");
    // The QA who placed it lifts it.
    api.post(&format!("/batches/{number}/holds/{}/lift", hold["id"]))
        .token(&isabel)
        .json(json!({"reason": "alarm was a sensor fault"}))
        .send()
        .await
        .ok(200);
    api.post(&format!("/batches/{number}/release"))
        .token(&isabel)
        .json(json!({"password": api.password(ISABEL), "meaning": "qp_certified"}))
        .send()
        .await
        .ok(200);
}

#[both_backends]
async fn another_laboratorys_numbers_can_be_neither_taken_nor_probed(api: Api) {
    let marta = api.token(MARTA).await;
    let lucia = api.token(LUCIA).await;
    let year = year_of(&today()).to_owned();
    // Squatting SEV-UPRC's sequence, through the API and through an import.
    let mut body = allo_batch("DON-SQ-0001", &days_ago(3), 1);
    body["batch_number"] = json!(format!("SEV-UPRC-{year}-00001"));
    api.post("/batches")
        .token(&marta)
        .json(body)
        .send()
        .await
        .err(422, "foreign_batch_number");
    let squat = import_csv(
        &api,
        &marta,
        "?dry_run=true",
        &released_row(&format!("SEV-UPRC-{year}-00002"), "DON-SQ-0002"),
    )
    .await;
    let details = squat.err(422, "import_rejected");
    let codes: Vec<&str> = details.iter().filter_map(|e| e["code"].as_str()).collect();
    assert_eq!(codes, ["foreign_batch_number"]);

    // A batch of another laboratory, imported by the coordination unit…
    let sevilla =
        released_row("L-SEV-2019-0042", "DON-SECRET-7").replace(&format!(",{GRA},"), ",SEV-UPRC,");
    import_csv(&api, &lucia, "", &sevilla).await.ok(200);
    // …cannot be probed by a Granada technician guessing its donor code.
    let probe = import_csv(
        &api,
        &marta,
        "?dry_run=true",
        &released_row("L-SEV-2019-0042", "DON-SECRET-7"),
    )
    .await;
    assert_eq!(probe.status.as_u16(), 422);
    let text = probe.text;
    assert!(text.contains("\"duplicate\""), "{text}");
    assert!(
        !text.contains("donor_code"),
        "nothing about the stored batch: {text}"
    );
    assert!(
        !text.contains("lab_code"),
        "nothing about the stored batch: {text}"
    );
}

fn strings_of(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("an array: {v}"))
        .iter()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect()
}

#[both_backends]
async fn a_generated_number_skips_over_history_that_holds_its_form(api: Api) {
    let lucia = api.token(LUCIA).await;
    let marta = api.token(MARTA).await;
    let year = year_of(&today()).to_owned();
    // 600 historical batches already numbered in this year's sequence of GRA-UPCIT.
    let mut csv = String::from(
        "batch_number,product_code,lab_code,origin,donor_code,manufacturing_start,status,access_route,trial_id\n",
    );
    for n in 1..=600 {
        csv.push_str(&format!(
                    "GRA-UPCIT-{year}-{n:05},{ALLO},{GRA},allogeneic,DON-SEQ-{n:04},2019-05-02,in_production,clinical_trial,{ALLO_TRIAL}\n"
                ));
    }
    let imported = import_csv(&api, &lucia, "", &csv).await.ok(200);
    assert_eq!(imported["created"], 600);
    let made = api
        .create_batch(&marta, allo_batch("DON-SEQ-9999", &today(), 1))
        .await;
    assert_eq!(made["batch_number"], format!("GRA-UPCIT-{year}-00601"));
    let next = api
        .create_batch(&marta, allo_batch("DON-SEQ-9998", &today(), 1))
        .await;
    assert_eq!(next["batch_number"], format!("GRA-UPCIT-{year}-00602"));
}
