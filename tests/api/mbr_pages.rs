//! QA's master batch record pages (`/registros-maestros`): a draft written a step at a time
//! through the forms, its refusals in words with what was typed kept, the approval by another
//! QA person (the author's refused), version N+1 made from the approved one and the comparison
//! of the two; and laboratory staff, who read the pages but may not write.

use axum::http::Method;
use serde_json::json;

use crate::pages::{Browser, events};
use crate::support::*;

/// Today on the laboratories' clock (Europe/Madrid): master records take effect by it.
fn lab_today() -> chrono::NaiveDate {
    traza_domain::clock::lab_date(chrono::Utc::now())
}

/// A second QA person of GRA-UPCIT, made by the admin through the API for this test (the
/// fixture's own second QA may come and go).
const SOFIA: &str = "sofia.marin";
const SOFIA_PW: &str = "olivos-de-la-vega-granadina";

async fn second_qa(api: &Api) {
    let admin = api.token(ADMIN).await;
    api.post("/users")
        .token(&admin)
        .json(json!({
            "username": SOFIA, "full_name": "Sofía Marín Robles", "role": "qa",
            "labs": [GRA], "password": SOFIA_PW
        }))
        .send()
        .await
        .ok(201);
    api.remember(SOFIA, SOFIA_PW);
}

/// The value of the first hidden field `name` of a page.
fn hidden(page: &str, name: &str) -> String {
    page.split(&format!(r#"name="{name}" value=""#))
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("a hidden {name}: {page}"))
        .to_owned()
}

/// The id of the version a form's redirect leads to, checking what it says was done.
fn redirected(r: &Resp, done: &str) -> i64 {
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);
    let to = r.header("location").unwrap_or_default();
    let rest = to
        .strip_prefix("/registros-maestros/")
        .unwrap_or_else(|| panic!("back to a version: {to}"));
    let (id, query) = rest.split_once('?').unwrap_or((rest, ""));
    assert!(query.starts_with(&format!("hecho={done}")), "{to}");
    id.parse().unwrap_or_else(|_| panic!("a version id: {to}"))
}

/// The section of a version page about its step number `n`.
fn step_section(page: &str, n: usize) -> &str {
    let start = page
        .find(&format!(r#"id="paso-{n}""#))
        .unwrap_or_else(|| panic!("a step {n}: {page}"));
    let rest = &page[start..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

/// The fields of the step form for the expansion step, its maximum temperature `max`.
fn expansion(huella: &str, code: &str, max: &str) -> Vec<(&'static str, String)> {
    [
        ("huella", huella),
        ("code", code),
        ("title", "Expansión"),
        ("instructions", "Cambiar el medio cada 48 h."),
        ("room_grade", "B"),
        ("verification", "1"),
        ("p0_name", "temperatura"),
        ("p0_unit", "°C"),
        ("p0_min", "36,5"),
        ("p0_max", max),
        ("p0_critical", "1"),
        ("p1_name", "aspecto"),
        ("p1_expected", "claro"),
        ("p2_name", ""),
        ("m0_code", "MED-ALFA"),
        ("m0_quantity", "10"),
        ("m0_unit", "ml"),
        ("m1_code", ""),
        ("e0", "incubator"),
        ("e1", ""),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .collect()
}

fn refs<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'a str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[both_backends]
async fn qa_writes_a_draft_a_step_at_a_time_and_another_qa_approves_it(api: Api) {
    second_qa(&api).await;
    let isabel = Browser::of(&api, ISABEL).await;
    let sofia = Browser::of(&api, SOFIA).await;

    // The list offers QA a new master record; the new form, the laboratory's products.
    let list = isabel.page(&api, "/registros-maestros").await;
    assert_eq!(list.status.as_u16(), 200, "{}", list.text);
    assert!(
        list.text.contains(r#"id="nuevo-registro""#),
        "{}",
        list.text
    );
    let new = isabel.page(&api, "/registros-maestros/nuevo").await;
    assert_eq!(new.status.as_u16(), 200, "{}", new.text);
    assert!(
        new.text
            .contains(&format!(r#"<option value="{GRA}|{ALLO}""#)),
        "{}",
        new.text
    );

    // A draft with its first step.
    let before = events(&api).await;
    let r = isabel
        .post(
            &api,
            "/registros-maestros/nuevo",
            &[
                ("pair", &format!("{GRA}|{ALLO}")),
                ("base", ""),
                ("step_code", "siembra"),
                ("step_title", "Siembra"),
            ],
            None,
        )
        .await;
    let id = redirected(&r, "creado");
    assert_eq!(events(&api).await, before + 1);
    let page = isabel
        .page(&api, &format!("/registros-maestros/{id}?hecho=creado"))
        .await
        .ok_text(200);
    assert!(
        page.contains("Borrador creado.")
            && page.contains("borrador")
            && page.contains("Siembra")
            && page.contains(r#"id="anadir-paso""#),
        "{page}"
    );
    // Its author is not offered the approval, and is told why.
    assert!(
        !page.contains(r#"id="aprobar""#) && page.contains(r#"id="aprobacion-de-otro""#),
        "{page}"
    );

    // A second step, with parameters, a material and an equipment class.
    let form = isabel
        .page(&api, &format!("/registros-maestros/{id}/anadir-paso"))
        .await
        .ok_text(200);
    let huella = hidden(&form, "huella");
    let r = isabel
        .post(
            &api,
            &format!("/registros-maestros/{id}/anadir-paso"),
            &refs(&expansion(&huella, "expansion", "37,5")),
            None,
        )
        .await;
    assert_eq!(redirected(&r, "paso"), id);
    assert!(
        r.header("location")
            .unwrap_or_default()
            .ends_with("#paso-2")
    );

    // The first step edited: a material, a parameter with limits, an equipment class.
    let form = isabel
        .page(&api, &format!("/registros-maestros/{id}/pasos/siembra"))
        .await
        .ok_text(200);
    assert!(form.contains(r#"value="Siembra""#), "{form}");
    let huella = hidden(&form, "huella");
    let r = isabel
        .post(
            &api,
            &format!("/registros-maestros/{id}/pasos/siembra"),
            &[
                ("huella", &huella),
                ("code", "siembra"),
                ("title", "Siembra en frasco"),
                ("room_grade", "A"),
                ("p0_name", "ph"),
                ("p0_min", "7,0"),
                ("p0_max", "7,4"),
                ("m0_code", "FBS-01"),
                ("m0_quantity", "2,5"),
                ("m0_unit", "ml"),
                ("e0", "biosafety_cabinet"),
            ],
            None,
        )
        .await;
    assert_eq!(redirected(&r, "paso"), id);
    let page = isabel
        .page(&api, &format!("/registros-maestros/{id}"))
        .await
        .ok_text(200);
    let first = step_section(&page, 1);
    assert!(
        first.contains("Siembra en frasco")
            && first.contains("grado A")
            && first.contains("FBS-01")
            && first.contains("2,5")
            && first.contains("biosafety_cabinet"),
        "{first}"
    );
    let second = step_section(&page, 2);
    assert!(
        second.contains("Expansión")
            && second.contains("temperatura")
            && second.contains("36,5")
            && second.contains("37,5")
            && second.contains("MED-ALFA")
            && second.contains("incubator"),
        "{second}"
    );
    let huella = hidden(&page, "huella");

    // Refused in words, with what was typed kept: a minimum above the maximum, then a code
    // another step has. Nothing is written.
    let before = events(&api).await;
    let r = isabel
        .post(
            &api,
            &format!("/registros-maestros/{id}/anadir-paso"),
            &refs(&expansion(&huella, "control", "30")),
            None,
        )
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.text);
    assert!(
        r.text
            .contains("el mínimo no puede ser mayor que el máximo (30)")
            && r.text.contains("paso «control» — parámetro 1, mínimo")
            && r.text.contains(r#"id="err_p0_min""#)
            && r.text.contains(r#"value="control""#)
            && r.text.contains(r#"value="36,5""#)
            && r.text.contains(r#"value="30""#)
            && r.text.contains(r#"value="MED-ALFA""#),
        "{}",
        r.text
    );
    let r = isabel
        .post(
            &api,
            &format!("/registros-maestros/{id}/anadir-paso"),
            &refs(&expansion(&huella, "siembra", "37,5")),
            None,
        )
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.text);
    assert!(
        r.text.contains("«siembra» aparece más de una vez")
            && r.text.contains(r#"id="err_code""#)
            && r.text.contains(r#"value="siembra""#),
        "{}",
        r.text
    );
    assert_eq!(events(&api).await, before, "a refused step writes nothing");

    // A step moved up, and back down; an edit drawn on the steps before the move is not saved.
    let r = isabel
        .post(
            &api,
            &format!("/registros-maestros/{id}/pasos/expansion/subir"),
            &[("huella", &huella)],
            None,
        )
        .await;
    assert_eq!(redirected(&r, "movido"), id);
    let page = isabel
        .page(&api, &format!("/registros-maestros/{id}"))
        .await
        .ok_text(200);
    assert!(step_section(&page, 1).contains("Expansión"), "{page}");
    let stale = isabel
        .post(
            &api,
            &format!("/registros-maestros/{id}/pasos/siembra/quitar"),
            &[("huella", &huella)],
            None,
        )
        .await;
    assert_eq!(stale.status.as_u16(), 409, "{}", stale.text);
    assert!(
        stale.text.contains("ha cambiado desde que abrió"),
        "{}",
        stale.text
    );
    let r = isabel
        .post(
            &api,
            &format!("/registros-maestros/{id}/pasos/expansion/bajar"),
            &[("huella", &hidden(&page, "huella"))],
            None,
        )
        .await;
    assert_eq!(redirected(&r, "movido"), id);

    // The author's approval is refused, in words.
    let today = lab_today().to_string();
    let read = isabel
        .page(&api, &format!("/registros-maestros/{id}"))
        .await
        .ok_text(200);
    let print = hidden(&read, "huella");
    let before = events(&api).await;
    let own = isabel
        .post(
            &api,
            &format!("/registros-maestros/{id}/aprobar"),
            &[
                ("huella", &print),
                ("effective_from", &today),
                ("password", &api.password(ISABEL)),
            ],
            None,
        )
        .await;
    assert_eq!(own.status.as_u16(), 409, "{}", own.text);
    assert!(
        own.text
            .contains("Quien escribió el borrador no puede aprobarlo"),
        "{}",
        own.text
    );
    // Another QA of the laboratory: a wrong password refused, then the signature.
    let page = sofia
        .page(&api, &format!("/registros-maestros/{id}"))
        .await
        .ok_text(200);
    assert!(
        page.contains(r#"id="aprobar""#) && page.contains(&format!(r#"value="{today}""#)),
        "{page}"
    );
    let wrong = sofia
        .post(
            &api,
            &format!("/registros-maestros/{id}/aprobar"),
            &[
                ("huella", &print),
                ("effective_from", &today),
                ("password", "no-es-la-clave"),
            ],
            None,
        )
        .await;
    assert_eq!(wrong.status.as_u16(), 403, "{}", wrong.text);
    assert!(
        wrong
            .text
            .contains("La contraseña de la firma no es correcta"),
        "{}",
        wrong.text
    );
    assert_eq!(
        events(&api).await,
        before,
        "refused approvals write nothing"
    );
    // A form drawn on other steps than the draft's now signs nothing: what is read is signed.
    let stale = sofia
        .post(
            &api,
            &format!("/registros-maestros/{id}/aprobar"),
            &[
                ("huella", "0123456789abcdef01234567"),
                ("effective_from", &today),
                ("password", SOFIA_PW),
            ],
            None,
        )
        .await;
    assert_eq!(stale.status.as_u16(), 409, "{}", stale.text);
    assert_eq!(
        events(&api).await,
        before,
        "a stale approval writes nothing"
    );
    let r = sofia
        .post(
            &api,
            &format!("/registros-maestros/{id}/aprobar"),
            &[
                ("huella", &print),
                ("effective_from", &today),
                ("password", SOFIA_PW),
            ],
            None,
        )
        .await;
    assert_eq!(redirected(&r, "aprobado"), id);
    let page = isabel
        .page(&api, &format!("/registros-maestros/{id}"))
        .await
        .ok_text(200);
    assert!(
        page.contains("vigente")
            && page.contains(SOFIA)
            && page.contains("Huella de la aprobación")
            && !page.contains(r#"id="anadir-paso""#)
            && !page.contains(r#"name="huella""#),
        "{page}"
    );
    // An approved version never changes: its step form is refused, and so is a save.
    let locked = isabel
        .page(&api, &format!("/registros-maestros/{id}/pasos/siembra"))
        .await;
    assert_eq!(locked.status.as_u16(), 409, "{}", locked.text);
    assert!(
        locked.text.contains("Esta versión está aprobada"),
        "{}",
        locked.text
    );

    // Version 2 from the approved one, its maximum temperature raised.
    let r = isabel
        .post(
            &api,
            "/registros-maestros/nuevo",
            &[
                ("pair", &format!("{GRA}|{ALLO}")),
                ("base", &id.to_string()),
            ],
            None,
        )
        .await;
    let id2 = redirected(&r, "creado");
    let form = isabel
        .page(&api, &format!("/registros-maestros/{id2}/pasos/expansion"))
        .await
        .ok_text(200);
    assert!(form.contains(r#"value="37,5""#), "the copy's steps: {form}");
    let r = isabel
        .post(
            &api,
            &format!("/registros-maestros/{id2}/pasos/expansion"),
            &refs(&expansion(&hidden(&form, "huella"), "expansion", "38")),
            None,
        )
        .await;
    assert_eq!(redirected(&r, "paso"), id2);
    let page = isabel
        .page(&api, &format!("/registros-maestros/{id2}"))
        .await
        .ok_text(200);
    let compare = format!("/registros-maestros/comparar?a={id}&amp;b={id2}");
    assert!(
        page.contains("versión 2") && page.contains(&compare),
        "{page}"
    );
    let diff = isabel
        .page(
            &api,
            &format!("/registros-maestros/comparar?a={id}&b={id2}"),
        )
        .await
        .ok_text(200);
    assert!(
        diff.contains("Pasos cambiados")
            && diff.contains("Expansión")
            && diff.contains("Máximo: <del>37,5</del> → <ins>38</ins>")
            && !diff.contains("Pasos añadidos"),
        "{diff}"
    );
    // The same in English.
    let en = api
        .site(
            Method::GET,
            &format!("/registros-maestros/comparar?a={id2}&b={id}"),
        )
        .header("cookie", &format!("{}; traza_idioma=en", isabel.cookie))
        .send_page()
        .await
        .ok_text(200);
    assert!(
        en.contains("Comparison of versions")
            && en.contains("Maximum: <del>37.5</del> → <ins>38</ins>")
            && en.contains("effective")
            && en.contains("draft"),
        "{en}"
    );

    // The list, filtered to the product at the laboratory: both versions, in words.
    let list = isabel
        .page(
            &api,
            &format!("/registros-maestros?producto={ALLO}&laboratorio={GRA}"),
        )
        .await
        .ok_text(200);
    let row = |id: i64| {
        let start = list
            .find(&format!(r#"<tr id="registro-{id}">"#))
            .unwrap_or_else(|| panic!("a row of {id}: {list}"));
        list[start..]
            .split("</tr>")
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        row(id).contains("vigente") && row(id).contains(SOFIA) && row(id).contains(ISABEL),
        "{}",
        row(id)
    );
    assert!(row(id2).contains("borrador"), "{}", row(id2));
    assert!(
        list.contains(r#"<div class="scroll"><table id="registros-maestros">"#),
        "{list}"
    );
}

#[both_backends]
async fn staff_read_master_records_but_see_no_controls_and_may_not_write(api: Api) {
    let isabel = api.token(ISABEL).await;
    let draft = api
        .post("/master-records")
        .token(&isabel)
        .json(json!({"product_code": ALLO, "lab_code": GRA, "steps": [
            {"code": "siembra", "title": "Siembra", "room_grade": "B",
             "parameters": [{"name": "temperatura", "unit": "°C", "min": "36.5", "max": "37.5"}]}
        ]}))
        .send()
        .await
        .ok(201);
    let id = draft["id"].as_i64().expect("an id");
    let marta = Browser::of(&api, MARTA).await;

    let list = marta.page(&api, "/registros-maestros").await.ok_text(200);
    assert!(
        list.contains(&format!(r#"href="/registros-maestros/{id}""#))
            && list.contains("borrador")
            && !list.contains(r#"id="nuevo-registro""#),
        "{list}"
    );
    let page = marta
        .page(&api, &format!("/registros-maestros/{id}"))
        .await
        .ok_text(200);
    assert!(
        page.contains("Siembra") && page.contains("36,5") && page.contains("grado B"),
        "{page}"
    );
    for control in [
        r#"id="anadir-paso""#,
        r#"id="aprobar""#,
        r#"id="nueva-version""#,
        "/pasos/siembra",
    ] {
        assert!(!page.contains(control), "staff see no {control}: {page}");
    }
    // The forms' pages are refused; so is every write, in words, and nothing is written.
    for path in [
        "/registros-maestros/nuevo".to_owned(),
        format!("/registros-maestros/{id}/pasos/siembra"),
        format!("/registros-maestros/{id}/anadir-paso"),
    ] {
        let r = marta.page(&api, &path).await;
        assert_eq!(r.status.as_u16(), 403, "{path}: {}", r.text);
    }
    let before = events(&api).await;
    let writes: [(String, Vec<(&str, &str)>); 4] = [
        (
            "/registros-maestros/nuevo".to_owned(),
            vec![
                ("pair", "GRA-UPCIT|MSC-AD-ALO"),
                ("step_code", "a"),
                ("step_title", "A"),
            ],
        ),
        (
            format!("/registros-maestros/{id}/pasos/siembra"),
            vec![("code", "siembra"), ("title", "Otra")],
        ),
        (
            format!("/registros-maestros/{id}/pasos/siembra/quitar"),
            vec![],
        ),
        (
            format!("/registros-maestros/{id}/aprobar"),
            vec![("effective_from", "2099-01-01"), ("password", "x")],
        ),
    ];
    for (path, fields) in &writes {
        let r = marta.post(&api, path, fields, None).await;
        assert_eq!(r.status.as_u16(), 403, "{path}: {}", r.text);
        assert!(
            r.text.contains("Su función no permite esta acción"),
            "{path}: {}",
            r.text
        );
    }
    assert_eq!(events(&api).await, before);
    // A form without this session's token is refused before anything else.
    let r = Browser::of(&api, ISABEL)
        .await
        .post(
            &api,
            &format!("/registros-maestros/{id}/pasos/siembra/quitar"),
            &[],
            Some(""),
        )
        .await;
    assert_eq!(r.status.as_u16(), 403, "{}", r.text);
    assert_eq!(events(&api).await, before);
    // Another laboratory's QA does not find it.
    let teresa = Browser::of(&api, TERESA).await;
    let r = teresa
        .page(&api, &format!("/registros-maestros/{id}"))
        .await;
    assert_eq!(r.status.as_u16(), 404, "{}", r.text);
}
