//! The page handlers, driven in process like the API (`oneshot`): every form refuses a
//! missing or foreign CSRF token and writes nothing, and each action of the batch page does
//! what its button says, through the same store calls as the API.

use axum::http::Method;
use serde_json::{Value, json};

use crate::support::*;

/// A signed-in browser of `user`: its session cookie and the CSRF token its forms carry.
pub(crate) struct Browser {
    pub(crate) cookie: String,
    csrf: String,
}

impl Browser {
    pub(crate) async fn of(api: &Api, user: &str) -> Browser {
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

    /// Reads a page as this browser.
    pub(crate) async fn page(&self, api: &Api, path: &str) -> Resp {
        api.site(Method::GET, path)
            .header("cookie", &self.cookie)
            .send_page()
            .await
    }

    /// Posts `fields` (with this browser's CSRF token unless `csrf` overrides it) to `path`.
    pub(crate) async fn post(
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
    pub(crate) async fn done(
        &self,
        api: &Api,
        number: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> String {
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

pub(crate) async fn events(api: &Api) -> i64 {
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
