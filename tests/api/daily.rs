//! The batch page and the release queue as the laboratories use them every day (issue 14):
//! categorical values in the page's language, expiry, the queue's order and named blockers,
//! the trial from the assignment, unknown addresses, colleagues writing at once, typed input
//! kept after a refusal, the four-eyes warning.

use axum::http::Method;
use serde_json::json;

use crate::pages::Browser;
use crate::support::*;

/// A categorical result takes one of its test's values: the page offers them in its language
/// and reads a Spanish word as the value it names; the API refuses a word outside the list
/// (it used to be judged out of specification).
#[both_backends]
async fn categorical_results_come_from_the_specification_values(api: Api) {
    let marta = Browser::of(&api, MARTA).await;
    let token = api.token(MARTA).await;
    let b = api
        .create_batch(&token, allo_batch("DON-LIST-0001", &days_ago(4), 1))
        .await;
    let number = b["batch_number"].as_str().expect("a number").to_owned();

    let page = marta.page(&api, &format!("/lotes/{number}")).await;
    assert!(
        page.text
            .contains(r#"<option value="sin crecimiento">sterility</option>"#),
        "the values are offered in Spanish: {}",
        page.text
    );
    // Over the API (which speaks the specification's words) a word outside the list is
    // refused with the field and the list, and nothing is recorded.
    let refused = api
        .post(&format!("/batches/{number}/qc-results"))
        .token(&token)
        .json(json!({"test": "mycoplasma", "value": "negativo", "unit": ""}))
        .send()
        .await;
    let details = refused.err(422, "validation_failed");
    assert_eq!(fields(&details), ["value"]);
    assert!(
        details[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("negative, positive")),
        "{details:?}"
    );
    marta
        .done(
            &api,
            &number,
            "qc",
            &[("test", "mycoplasma"), ("value", "Negativo")],
        )
        .await;
    marta
        .done(
            &api,
            &number,
            "qc",
            &[("test", "sterility"), ("value", "crecimiento")],
        )
        .await;
    let (view, _) = api.batch(&token, &number).await;
    let results: Vec<(String, String)> = view["qc_results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                format!(
                    "{}={}",
                    r["test"].as_str().unwrap_or_default(),
                    r["value"].as_str().unwrap_or_default()
                ),
                r["outcome"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        results,
        [
            ("mycoplasma=negative".to_owned(), "pass".to_owned()),
            ("sterility=growth".to_owned(), "fail".to_owned()),
        ]
    );
    let page = marta.page(&api, &format!("/lotes/{number}")).await;
    assert!(
        page.text.contains("negativo"),
        "shown in words: {}",
        page.text
    );
}

/// A released batch past its expiry says so on its page and in the list, and offers no
/// administration form (the history imported from 2018 expired long ago).
#[both_backends]
async fn an_expired_batch_shows_as_expired_without_an_administration_form(api: Api) {
    let lucia = api.token(LUCIA).await;
    api.post("/imports/batches?filename=lotes.csv")
        .token(&lucia)
        .raw(
            Some("text/csv"),
            include_bytes!("../../fixtures/history/lotes-historicos-cp1252.csv").to_vec(),
        )
        .send()
        .await
        .ok(200);
    let isabel = Browser::of(&api, ISABEL).await;
    let page = isabel.page(&api, "/lotes/GRA-UPCIT-2018-00003").await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.text);
    assert!(page.text.contains("CADUCADO"), "{}", page.text);
    assert!(
        !page
            .text
            .contains("/lotes/GRA-UPCIT-2018-00003/administracion"),
        "no administration form on an expired batch: {}",
        page.text
    );
    let list = isabel.page(&api, "/lotes").await;
    assert!(list.text.contains("CADUCADO"), "{}", list.text);
}

/// The release queue puts the soonest expiry first, names what blocks each batch (the test
/// missing, the deviation open) and keeps imported history apart.
#[both_backends]
async fn the_release_queue_is_ordered_by_urgency_and_names_each_blocker(api: Api) {
    let marta = api.token(MARTA).await;
    let mut numbers = Vec::new();
    for (donor, ended) in [("DON-QUEUE-0001", 1), ("DON-QUEUE-0002", 3)] {
        let b = api
            .create_batch(&marta, allo_batch(donor, &days_ago(10), 1))
            .await;
        let number = b["batch_number"].as_str().expect("a number").to_owned();
        api.pass_required_tests(&marta, &number, ALLO, &["sterility"])
            .await;
        api.post(&format!("/batches/{number}/complete"))
            .token(&marta)
            .json(json!({"manufacturing_end": days_ago(ended)}))
            .send()
            .await
            .ok(200);
        numbers.push(number);
    }
    api.post(&format!("/batches/{}/deviations", numbers[0]))
        .token(&marta)
        .json(json!({"description": "Alarma de CO2 del incubador", "severity": "minor"}))
        .send()
        .await
        .ok(201);
    let isabel = Browser::of(&api, ISABEL).await;
    let queue = isabel.page(&api, "/liberacion").await;
    assert_eq!(queue.status.as_u16(), 200, "{}", queue.text);
    let (first, second) = (
        queue.text.find(&numbers[1]).expect("listed"),
        queue.text.find(&numbers[0]).expect("listed"),
    );
    assert!(first < second, "the batch that expires first comes first");
    assert!(
        queue
            .text
            .contains("falta un ensayo obligatorio de la especificación: sterility"),
        "{}",
        queue.text
    );
    assert!(
        queue.text.contains(": #"),
        "the open deviation is named: {}",
        queue.text
    );

    // Imported history in quarantine is listed apart (Seville's, for Seville's QA).
    let lucia = api.token(LUCIA).await;
    api.post("/imports/batches?filename=lotes.csv")
        .token(&lucia)
        .raw(
            Some("text/csv"),
            include_bytes!("../../fixtures/history/lotes-historicos-cp1252.csv").to_vec(),
        )
        .send()
        .await
        .ok(200);
    let teresa = Browser::of(&api, TERESA).await;
    let queue = teresa.page(&api, "/liberacion").await;
    let history = queue
        .text
        .find("Historia importada en cuarentena")
        .expect("a history section");
    let imported = queue.text.find("SEV-UPRC-2021-00044").expect("listed");
    assert!(imported > history, "{}", queue.text);
}

/// A batch made from the page on a clinical-trial assignment carries that assignment's trial
/// when none is typed; the form marks each trial assignment with its trial for the script.
#[both_backends]
async fn a_batch_made_on_a_trial_assignment_takes_its_trial(api: Api) {
    let marta = Browser::of(&api, MARTA).await;
    let form = marta.page(&api, "/lotes/nuevo").await;
    let option = form
        .text
        .split("<option ")
        .find(|o| o.contains(&format!(r#"data-trial="{ALLO_TRIAL}""#)))
        .expect("the trial assignment, marked with its trial");
    let id = option
        .split(r#"value=""#)
        .nth(1)
        .and_then(|v| v.split('"').next())
        .expect("its id")
        .to_owned();
    let start = days_ago(2);
    let r = marta
        .post(
            &api,
            "/lotes/nuevo",
            &[
                ("assignment", id.as_str()),
                ("donor_code", "DON-TRIAL-0001"),
                ("manufacturing_start", start.as_str()),
                ("doses", "2"),
                ("trial_id", ""),
            ],
            None,
        )
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);
    let number = r
        .header("location")
        .and_then(|l| l.strip_prefix("/lotes/").map(str::to_owned))
        .expect("the new batch's page");
    let token = api.token(MARTA).await;
    let (view, _) = api
        .batch(&token, number.split('?').next().unwrap_or_default())
        .await;
    assert_eq!(view["trial_id"], ALLO_TRIAL, "{view}");
}

/// An unknown address answers a page in the reader's language; the API's paths keep the
/// JSON error body.
#[both_backends]
async fn an_unknown_address_answers_a_page_and_the_api_json(api: Api) {
    let page = api
        .site(Method::GET, "/lotes-que-no-existen")
        .send_page()
        .await;
    assert_eq!(page.status.as_u16(), 404);
    assert!(
        page.header("content-type")
            .is_some_and(|c| c.starts_with("text/html")),
        "{page:?}"
    );
    assert!(
        page.text.contains("Esta dirección no existe"),
        "{}",
        page.text
    );
    let english = api
        .site(Method::GET, "/nothing/here")
        .header("accept-language", "en-GB,en;q=0.9")
        .send_page()
        .await;
    assert!(
        english.text.contains("This address does not exist"),
        "{}",
        english.text
    );
    api.get("/no-such-resource")
        .send()
        .await
        .err(404, "not_found");
}

/// Two people on one batch page: an addition made meanwhile by one does not refuse the
/// other's addition; a change of the batch itself made from a page read before is refused and
/// explained in words (no raw JSON).
#[both_backends]
async fn a_colleague_s_addition_does_not_refuse_mine(api: Api) {
    let marta = Browser::of(&api, MARTA).await;
    let pablo = Browser::of(&api, PABLO).await;
    let token = api.token(MARTA).await;
    let b = api
        .create_batch(&token, allo_batch("DON-TWO-0001", &days_ago(3), 1))
        .await;
    let number = b["batch_number"].as_str().expect("a number").to_owned();
    let (_, read) = api.batch(&token, &number).await;
    let version = read.to_string();

    pablo
        .done(
            &api,
            &number,
            "paso",
            &[
                ("step", "Cambio de medio"),
                ("performed_at", "2026-11-30T10:00"),
                ("version", version.as_str()),
            ],
        )
        .await;
    // Marta's page still carries the version she read.
    marta
        .done(
            &api,
            &number,
            "desviacion",
            &[
                ("description", "Filtro de la cabina con presión baja"),
                ("severity", "minor"),
                ("version", version.as_str()),
            ],
        )
        .await;
    let end = days_ago(1);
    let stale = marta
        .post(
            &api,
            &format!("/lotes/{number}/completar"),
            &[
                ("manufacturing_end", end.as_str()),
                ("confirmar", "si"),
                ("version", version.as_str()),
            ],
            None,
        )
        .await;
    assert_eq!(stale.status.as_u16(), 412, "{}", stale.text);
    assert!(
        stale.text.contains("Otra persona ha cambiado el lote"),
        "{}",
        stale.text
    );
    assert!(!stale.text.contains("current_version"), "{}", stale.text);
    let (view, _) = api.batch(&token, &number).await;
    assert_eq!(view["status"], "in_production");
    assert_eq!(view["events"].as_array().map(Vec::len), Some(1));
    assert_eq!(view["deviations"].as_array().map(Vec::len), Some(1));
}

/// After a result is recorded the page opens at the result form with the next test chosen;
/// a refused entry comes back with what was typed, ready to be corrected.
#[both_backends]
async fn the_result_form_advances_and_keeps_what_was_typed(api: Api) {
    let marta = Browser::of(&api, MARTA).await;
    let token = api.token(MARTA).await;
    let b = api
        .create_batch(&token, allo_batch("DON-FORM-0001", &days_ago(3), 1))
        .await;
    let number = b["batch_number"].as_str().expect("a number").to_owned();
    let tests: Vec<String> = api
        .spec(&token, ALLO)
        .await
        .iter()
        .filter_map(|t| t["test"].as_str().map(str::to_owned))
        .collect();
    let to = marta
        .done(
            &api,
            &number,
            "qc",
            &[("test", tests[0].as_str()), ("value", "92,5")],
        )
        .await;
    assert!(to.ends_with("#form-qc"), "{to}");
    let page = marta.page(&api, &format!("/lotes/{number}")).await;
    assert!(
        page.text
            .contains(&format!(r#"<option value="{}" selected>"#, tests[1])),
        "the next test is chosen: {}",
        page.text
    );

    let refused = marta
        .post(
            &api,
            &format!("/lotes/{number}/qc"),
            &[("test", tests[1].as_str()), ("value", "noventa y ocho")],
            None,
        )
        .await;
    assert_eq!(refused.status.as_u16(), 422, "{}", refused.text);
    assert!(
        refused.text.contains(r#"value="noventa y ocho""#),
        "what was typed is kept: {}",
        refused.text
    );
    assert!(
        refused.text.contains("«noventa y ocho» no es un número")
            && !refused.text.contains("is not a decimal number"),
        "the refusal is said in the page's language: {}",
        refused.text
    );
    let refused = marta
        .post(
            &api,
            &format!("/lotes/{number}/desviacion"),
            &[
                ("description", "Cabina con alarma de flujo"),
                ("severity", "gravísima"),
            ],
            None,
        )
        .await;
    assert_eq!(refused.status.as_u16(), 422, "{}", refused.text);
    assert!(
        refused
            .text
            .contains("Cabina con alarma de flujo</textarea>"),
        "the deviation's text is kept: {}",
        refused.text
    );
    assert!(
        refused
            .text
            .contains("«gravísima» no es uno de los valores admitidos")
            && !refused.text.contains("expected one of"),
        "the refusal is said in the page's language: {}",
        refused.text
    );
}

/// QA is told before recording data that it would bar them from certifying, and told after.
#[both_backends]
async fn qa_is_warned_before_an_entry_bars_them_from_certifying(api: Api) {
    // Isabel the only QA of GRA-UPCIT at first: Carmen is away (deactivated).
    api.set_active(CARMEN, false).await;
    let isabel = Browser::of(&api, ISABEL).await;
    let token = api.token(MARTA).await;
    let b = api
        .create_batch(&token, allo_batch("DON-EYES-0001", &days_ago(3), 1))
        .await;
    let number = b["batch_number"].as_str().expect("a number").to_owned();
    let page = |api: &Api| {
        let (api, cookie, number) = (api.clone(), isabel.cookie.clone(), number.clone());
        async move {
            api.site(Method::GET, &format!("/lotes/{number}"))
                .header("cookie", &cookie)
                .send_page()
                .await
                .text
        }
    };
    assert!(page(&api).await.contains("ya no podrá certificarlo"));
    isabel
        .done(
            &api,
            &number,
            "paso",
            &[
                ("step", "Revisión de la siembra"),
                ("performed_at", "2026-11-30T11:00"),
            ],
        )
        .await;
    let after = page(&api).await;
    assert!(after.contains("no puede certificarlo"), "{after}");
    assert!(
        after.contains(r#"id="nadie-mas""#) && after.contains("Ninguna otra persona de calidad"),
        "the lab's only QA is told nobody else could sign: {after}"
    );
    // Carmen is back.
    api.set_active(CARMEN, true).await;
    let after = page(&api).await;
    assert!(
        after.contains(r#"id="otros-firmantes""#) && after.contains(CARMEN),
        "a second QA of the lab is named: {after}"
    );
    let release = isabel
        .page(&api, &format!("/lotes/{number}/liberar"))
        .await
        .text;
    assert!(release.contains(CARMEN), "{release}");
    // The release page offers the rejection, and a wrong signature keeps the reason typed.
    assert!(
        !release.contains(r#"id="form-rechazar""#),
        "in production: {release}"
    );
    Browser::of(&api, MARTA)
        .await
        .done(
            &api,
            &number,
            "completar",
            &[("manufacturing_end", &today()), ("confirmar", "si")],
        )
        .await;
    let release = isabel
        .page(&api, &format!("/lotes/{number}/liberar"))
        .await
        .text;
    assert!(release.contains(r#"id="form-rechazar""#), "{release}");
    let refused = isabel
        .post(
            &api,
            &format!("/lotes/{number}/rechazar"),
            &[
                ("reason", "Esterilidad no evaluable"),
                ("password", "not-her-password"),
            ],
            None,
        )
        .await;
    assert!(refused.status.is_client_error(), "{}", refused.text);
    assert!(
        refused.text.contains("Esterilidad no evaluable</textarea>"),
        "{}",
        refused.text
    );
}

/// Spanish headers import like the English ones; the template comes in both languages, over
/// the API and from the import page.
#[both_backends]
async fn spanish_headers_import_and_the_template_gives_them(api: Api) {
    let lucia = api.token(LUCIA).await;
    let es = api
        .get("/imports/template.csv?lang=es")
        .token(&lucia)
        .send()
        .await;
    assert_eq!(es.status.as_u16(), 200, "{}", es.text);
    let header = es.text.trim_start_matches('\u{feff}').trim_end().to_owned();
    assert!(
        header.starts_with("número de lote;producto;laboratorio"),
        "{header}"
    );
    let en = api.get("/imports/template.csv").token(&lucia).send().await;
    assert!(
        en.text.starts_with("batch_number,product_code"),
        "{}",
        en.text
    );
    api.get("/imports/template.csv?lang=fr")
        .token(&lucia)
        .send()
        .await
        .err(422, "validation_failed");

    // A file headed with the template's Spanish names, a percentage as a sheet shows it.
    let names: Vec<&str> = header.split(';').collect();
    let mut row = vec![""; names.len()];
    for (name, value) in [
        ("número de lote", "GRA-UPCIT-2016-00077"),
        ("producto", "MSC-AD-ALO"),
        ("laboratorio", "GRA-UPCIT"),
        ("origen", "alogénico"),
        ("donante", "A999916000077"),
        ("inicio de fabricación", "04/05/2016"),
        ("fin de fabricación", "25/05/2016"),
        ("estado", "rechazado"),
        ("viabilidad (%)", "95,5 %"),
        ("vía de acceso", "ensayo clínico"),
        ("ensayo clínico", "2015-001726-39"),
    ] {
        let i = names.iter().position(|n| *n == name).expect(name);
        row[i] = value;
    }
    let file = format!("{header}\n{}\n", row.join(";"));
    let report = api
        .post("/imports/batches?filename=plantilla.csv")
        .token(&lucia)
        .raw(Some("text/csv"), file)
        .send()
        .await
        .ok(200);
    assert_eq!(report["created"], 1, "{report}");
    let (batch, _) = api.batch(&lucia, "GRA-UPCIT-2016-00077").await;
    assert_eq!(batch["viability_percent"], "95.5");

    let marta = Browser::of(&api, MARTA).await;
    let page = marta.page(&api, "/importar").await;
    assert!(
        page.text.contains("/importar/plantilla.csv?lang=es"),
        "{}",
        page.text
    );
    let template = marta.page(&api, "/importar/plantilla.csv?lang=es").await;
    assert_eq!(
        template.text.trim_start_matches('\u{feff}').trim_end(),
        header
    );
}

/// The batch list finds a batch by its number (its page opens), by donor or by patient code,
/// filters by laboratory, and exports what it shows as CSV.
#[both_backends]
async fn the_batch_list_searches_filters_and_exports(api: Api) {
    let marta = api.token(MARTA).await;
    let b = api
        .create_batch(
            &marta,
            skin_batch("PAC-LIST-0001", "PAC-LIST-0001", &days_ago(2)),
        )
        .await;
    let number = b["batch_number"].as_str().expect("a number").to_owned();
    let lucia = Browser::of(&api, LUCIA).await;
    let get = |path: String| {
        let (api, cookie) = (api.clone(), lucia.cookie.clone());
        async move {
            api.site(Method::GET, &path)
                .header("cookie", &cookie)
                .send_page()
                .await
        }
    };
    let by_number = get(format!("/lotes?q={number}")).await;
    assert_eq!(by_number.status.as_u16(), 303);
    assert_eq!(
        by_number.header("location").as_deref(),
        Some(format!("/lotes/{number}").as_str())
    );
    let by_donor = get("/lotes?q=PAC-LIST-0001".into()).await;
    assert!(by_donor.text.contains(&number), "{}", by_donor.text);
    let nothing = get("/lotes?q=NO-SUCH-DONOR".into()).await;
    assert!(!nothing.text.contains(&number));

    // The coordinator chooses a laboratory; the export holds what the list shows.
    let list = get("/lotes".into()).await;
    assert!(
        list.text.contains(r#"<select id="laboratorio""#),
        "{}",
        list.text
    );
    let seville = get("/lotes?laboratorio=SEV-UPRC".into()).await;
    assert!(!seville.text.contains(&number), "{}", seville.text);
    let csv = get("/lotes/exportar.csv?x=1&laboratorio=GRA-UPCIT".into()).await;
    assert_eq!(csv.status.as_u16(), 200);
    assert!(
        csv.text.starts_with("batch_number,product_code"),
        "{}",
        csv.text
    );
    assert!(csv.text.contains(&number), "{}", csv.text);
    let csv = get("/lotes/exportar.csv?x=1&laboratorio=SEV-UPRC".into()).await;
    assert!(!csv.text.contains(&number), "{}", csv.text);
}

/// Ending manufacture with tests missing or a deviation open asks for a confirmation that
/// lists what is missing; confirmed, the batch goes to quarantine.
#[both_backends]
async fn ending_manufacture_with_something_missing_asks_first(api: Api) {
    let marta = Browser::of(&api, MARTA).await;
    let token = api.token(MARTA).await;
    let b = api
        .create_batch(&token, allo_batch("DON-END-0001", &days_ago(5), 1))
        .await;
    let number = b["batch_number"].as_str().expect("a number").to_owned();
    api.pass_required_tests(&token, &number, ALLO, &["sterility"])
        .await;
    let page = marta.page(&api, &format!("/lotes/{number}")).await;
    assert!(
        page.text
            .contains("Falta todavía para poder liberar el lote"),
        "{}",
        page.text
    );
    assert!(page.text.contains("sterility"), "{}", page.text);
    let end = days_ago(1);
    let refused = marta
        .post(
            &api,
            &format!("/lotes/{number}/completar"),
            &[("manufacturing_end", end.as_str())],
            None,
        )
        .await;
    assert_eq!(refused.status.as_u16(), 422, "{}", refused.text);
    assert_eq!(
        api.batch(&token, &number).await.0["status"],
        "in_production"
    );
    marta
        .done(
            &api,
            &number,
            "completar",
            &[("manufacturing_end", end.as_str()), ("confirmar", "si")],
        )
        .await;
    assert_eq!(api.batch(&token, &number).await.0["status"], "quarantine");
}

/// The batch page's audit trail says each action in words and what it changed.
#[both_backends]
async fn the_audit_trail_on_a_page_says_what_changed(api: Api) {
    let marta = Browser::of(&api, MARTA).await;
    let token = api.token(MARTA).await;
    let b = api
        .create_batch(&token, allo_batch("DON-TRAIL-0001", &days_ago(5), 1))
        .await;
    let number = b["batch_number"].as_str().expect("a number").to_owned();
    api.pass_required_tests(&token, &number, ALLO, &[]).await;
    api.post(&format!("/batches/{number}/complete"))
        .token(&token)
        .json(json!({"manufacturing_end": days_ago(1)}))
        .send()
        .await
        .ok(200);
    let page = marta.page(&api, &format!("/lotes/{number}")).await;
    for words in [
        "Lote creado",
        "Resultado de control de calidad",
        "Fin de fabricación: a cuarentena",
        "Estado: En producción → Cuarentena",
    ] {
        assert!(page.text.contains(words), "{words}: {}", page.text);
    }
    assert!(
        !page.text.contains("<code>batch.qc_result</code>"),
        "{}",
        page.text
    );
}
