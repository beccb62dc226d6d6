//! The page handlers, driven in process like the API (`oneshot`): every form refuses a
//! missing or foreign CSRF token and writes nothing, and each action of the batch page does
//! what its button says, through the same store calls as the API.

use axum::http::Method;
use serde_json::{Value, json};

use crate::support::*;

/// A signed-in browser of `user`: its session cookie and the CSRF token its forms carry.
struct Browser {
    cookie: String,
    csrf: String,
}

impl Browser {
    async fn of(api: &Api, user: &str) -> Browser {
        let cookie = format!("traza_sesion={}", api.token(user).await);
        let page = api
            .site(Method::GET, "/lotes")
            .header("cookie", &cookie)
            .send_page()
            .await;
        assert_eq!(page.status.as_u16(), 200, "{}", page.text);
        let csrf = page
            .text
            .split(r#"name="csrf" value=""#)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a form with its CSRF token")
            .to_owned();
        Browser { cookie, csrf }
    }

    /// Posts `fields` (with this browser's CSRF token unless `csrf` overrides it) to `path`.
    async fn post(
        &self,
        api: &Api,
        path: &str,
        fields: &[(&str, &str)],
        csrf: Option<&str>,
    ) -> Resp {
        let mut body = format!("csrf={}", csrf.unwrap_or(&self.csrf));
        for (name, value) in fields {
            body.push_str(&format!("&{name}={}", form_escape(value)));
        }
        api.site(Method::POST, path)
            .header("cookie", &self.cookie)
            .raw(Some("application/x-www-form-urlencoded"), body)
            .send_page()
            .await
    }

    /// Posts a form that must succeed: a redirect back to the batch page saying what was done.
    async fn done(&self, api: &Api, number: &str, action: &str, fields: &[(&str, &str)]) -> String {
        let r = self
            .post(api, &format!("/lotes/{number}/{action}"), fields, None)
            .await;
        assert_eq!(r.status.as_u16(), 303, "{action}: {}", r.text);
        let to = r.header("location").unwrap_or_default();
        assert!(
            to.starts_with(&format!("/lotes/{number}?hecho=")),
            "{action}: {to}"
        );
        to
    }
}

fn form_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn events(api: &Api) -> i64 {
    match api.store.verify_audit_chain().await.expect("verify") {
        traza_store::VerifyReport::Intact { events, .. } => events,
        broken => panic!("the chain is broken: {broken:?}"),
    }
}

#[both_backends]
async fn every_page_form_refuses_a_missing_or_foreign_csrf_token(api: Api) {
    let marta = Browser::of(&api, MARTA).await;
    let isabel = Browser::of(&api, ISABEL).await;
    let lucia = Browser::of(&api, LUCIA).await;
    let token = api.token(MARTA).await;
    let b = api
        .create_batch(&token, allo_batch("DON-CSRF-0001", &days_ago(5), 2))
        .await;
    let number = b["batch_number"].as_str().expect("a number").to_owned();
    let before = events(&api).await;

    let batch_forms = [
        "paso",
        "qc",
        "desviacion",
        "completar",
        "rechazar",
        "administracion",
        "retener",
        "confirmar-historico",
        "levantar-1",
        "cerrar-1",
        "liberar",
    ];
    for (who, path) in batch_forms
        .iter()
        .map(|a| (&marta, format!("/lotes/{number}/{a}")))
        .chain([
            (&marta, "/lotes/nuevo".to_owned()),
            (&isabel, format!("/lotes/{number}/liberar")),
            (&lucia, "/red/asignaciones".to_owned()),
            (&lucia, "/red/asignaciones/1/fin".to_owned()),
            (&marta, "/salir".to_owned()),
        ])
    {
        // Someone else's token (Isabel's session is not Marta's) and no token at all.
        let foreign = if std::ptr::eq(who, &isabel) {
            &marta.csrf
        } else {
            &isabel.csrf
        };
        for csrf in ["", foreign.as_str()] {
            let r = who
                .post(
                    &api,
                    &path,
                    &[("reason", "sin token"), ("step", "x"), ("password", "x")],
                    Some(csrf),
                )
                .await;
            assert_eq!(
                r.status.as_u16(),
                403,
                "{path} with csrf {csrf:?}: {}",
                r.text
            );
            assert!(
                r.header("content-type")
                    .is_some_and(|c| c.starts_with("text/html")),
                "{path}: a refusal is a page"
            );
        }
    }
    assert_eq!(events(&api).await, before, "a refused form writes nothing");
    // The session survived: the same browser's real token still works.
    marta
        .done(
            &api,
            &number,
            "paso",
            &[("step", "siembra"), ("performed_at", "2026-11-30T09:15")],
        )
        .await;
    assert_eq!(events(&api).await, before + 1);
}

#[both_backends]
async fn each_action_of_the_batch_page_writes_its_record(api: Api) {
    let marta = Browser::of(&api, MARTA).await;
    let isabel = Browser::of(&api, ISABEL).await;
    let token = api.token(MARTA).await;
    let b = api
        .create_batch(&token, allo_batch("DON-PAGE-0001", &days_ago(6), 2))
        .await;
    let number = b["batch_number"].as_str().expect("a number").to_owned();

    // Staff: a step, every required result, a deviation; then the end of manufacture.
    marta
        .done(
            &api,
            &number,
            "paso",
            &[
                ("step", "Siembra en frasco T175"),
                ("performed_at", "2026-11-30T09:15"),
                ("note", "lote de medio 24-117"),
            ],
        )
        .await;
    for t in api.spec(&token, ALLO).await {
        if t["required"] != json!(true) {
            continue;
        }
        let value = passing_value(&t).replace('.', ",");
        marta
            .done(
                &api,
                &number,
                "qc",
                &[
                    ("test", t["test"].as_str().unwrap_or_default()),
                    ("value", &value),
                ],
            )
            .await;
    }
    marta
        .done(
            &api,
            &number,
            "desviacion",
            &[
                (
                    "description",
                    "Temperatura del incubador 37,9 °C durante 20 min",
                ),
                ("severity", "minor"),
            ],
        )
        .await;
    let (view, _) = api.batch(&token, &number).await;
    let deviation = view["deviations"][0]["id"].as_i64().expect("a deviation");
    assert_eq!(
        view["events"][0]["step"], "Siembra en frasco T175",
        "{view}"
    );
    assert!(
        view["qc_results"]
            .as_array()
            .is_some_and(|r| r.iter().all(|r| r["outcome"] == "pass")),
        "decimal commas read as the API reads points: {view}"
    );

    // QA closes the deviation; staff ends manufacture; QA holds and lifts the batch.
    isabel
        .done(
            &api,
            &number,
            &format!("cerrar-{deviation}"),
            &[("resolution", "Sin impacto: dentro del intervalo validado")],
        )
        .await;
    marta
        .done(
            &api,
            &number,
            "completar",
            &[("manufacturing_end", &days_ago(1))],
        )
        .await;
    isabel
        .done(
            &api,
            &number,
            "retener",
            &[("reason", "Revisión del registro de temperatura")],
        )
        .await;
    let (view, _) = api.batch(&token, &number).await;
    assert_eq!(view["status"], "quarantine", "{view}");
    assert_eq!(view["on_hold"], true, "{view}");
    let hold = view["holds"][0]["id"].as_i64().expect("a hold");
    isabel
        .done(
            &api,
            &number,
            &format!("levantar-{hold}"),
            &[("reason", "Registro revisado: conforme")],
        )
        .await;

    // A wrong signature password on the release page writes nothing; the right one releases.
    let release = format!("/lotes/{number}/liberar");
    let wrong = isabel
        .post(&api, &release, &[("password", "no-es-mi-clave")], None)
        .await;
    assert_eq!(wrong.status.as_u16(), 403, "{}", wrong.text);
    assert!(
        wrong
            .text
            .contains("La contraseña de la firma no es correcta"),
        "{}",
        wrong.text
    );
    assert_eq!(api.batch(&token, &number).await.0["status"], "quarantine");
    let right = isabel
        .post(&api, &release, &[("password", &api.password(ISABEL))], None)
        .await;
    assert_eq!(right.status.as_u16(), 303, "{}", right.text);

    // An administration from the page, recorded by QA (staff may not: refused, nothing
    // written); a second batch rejected with a signature.
    let on = today();
    let administration = [
        ("patient_code", "PAC-PAGE-0001"),
        ("administered_on", on.as_str()),
        ("hospital", "Hospital Universitario Virgen de las Nieves"),
    ];
    let before = events(&api).await;
    let refused = marta
        .post(
            &api,
            &format!("/lotes/{number}/administracion"),
            &administration,
            None,
        )
        .await;
    assert_eq!(refused.status.as_u16(), 403, "{}", refused.text);
    assert_eq!(events(&api).await, before);
    isabel
        .done(&api, &number, "administracion", &administration)
        .await;
    let (view, _) = api.batch(&token, &number).await;
    assert_eq!(view["status"], "released", "one of two doses used: {view}");
    assert_eq!(view["administrations"][0]["patient_code"], "PAC-PAGE-0001");
    assert_eq!(view["signatures"][0]["meaning"], "qp_certified");

    let other = api
        .create_batch(&token, allo_batch("DON-PAGE-0002", &days_ago(3), 1))
        .await;
    let other = other["batch_number"].as_str().expect("a number").to_owned();
    isabel
        .done(
            &api,
            &other,
            "rechazar",
            &[
                ("reason", "Contaminación visible en el frasco"),
                ("password", &api.password(ISABEL)),
            ],
        )
        .await;
    let (view, _) = api.batch(&token, &other).await;
    assert_eq!(view["status"], "rejected", "{view}");
    assert_eq!(view["signatures"][0]["meaning"], "rejected");

    // A form that is not one of the page's: 404, as a page.
    let r = marta
        .post(&api, &format!("/lotes/{number}/borrar"), &[], None)
        .await;
    assert_eq!(r.status.as_u16(), 404, "{}", r.text);
    let verified: Value = json!(matches!(
        api.store.verify_audit_chain().await.expect("verify"),
        traza_store::VerifyReport::Intact { .. }
    ));
    assert_eq!(verified, json!(true));
}

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

    let page = api
        .site(Method::GET, &format!("/lotes/{number}"))
        .header("cookie", &marta.cookie)
        .send_page()
        .await;
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
    let page = api
        .site(Method::GET, &format!("/lotes/{number}"))
        .header("cookie", &marta.cookie)
        .send_page()
        .await;
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
    let page = api
        .site(Method::GET, "/lotes/GRA-UPCIT-2018-00003")
        .header("cookie", &isabel.cookie)
        .send_page()
        .await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.text);
    assert!(page.text.contains("CADUCADO"), "{}", page.text);
    assert!(
        !page
            .text
            .contains("/lotes/GRA-UPCIT-2018-00003/administracion"),
        "no administration form on an expired batch: {}",
        page.text
    );
    let list = api
        .site(Method::GET, "/lotes")
        .header("cookie", &isabel.cookie)
        .send_page()
        .await;
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
    let queue = api
        .site(Method::GET, "/liberacion")
        .header("cookie", &isabel.cookie)
        .send_page()
        .await;
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
    let queue = api
        .site(Method::GET, "/liberacion")
        .header("cookie", &teresa.cookie)
        .send_page()
        .await;
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
    let form = api
        .site(Method::GET, "/lotes/nuevo")
        .header("cookie", &marta.cookie)
        .send_page()
        .await;
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
