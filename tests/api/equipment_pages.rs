//! The equipment and rooms page (`/equipos`, issue 15): QA of the laboratory add equipment and
//! rooms and change a piece's status and calibration; a calibration due within 30 days, or
//! past, is said in words; staff read the page without its forms, and a form they post is
//! refused.

use axum::http::Method;
use serde_json::json;

use crate::pages::{Browser, events};
use crate::support::*;

/// The laboratories' day (Europe/Madrid) `offset` days away: the day the store judges
/// calibrations on.
fn lab_day(offset: i64) -> String {
    (traza_domain::clock::lab_date(chrono::Utc::now()) + chrono::Duration::days(offset)).to_string()
}

/// A date as the Spanish pages show it (`dd/mm/yyyy`).
fn shown(date: &str) -> String {
    let d: chrono::NaiveDate = date.parse().expect("a date");
    d.format("%d/%m/%Y").to_string()
}

/// The table row of the element with id `id`.
fn row<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page
        .find(&format!(r#"id="{id}""#))
        .unwrap_or_else(|| panic!("a row {id}: {page}"));
    let rest = &page[start..];
    &rest[..rest.find("</tr>").unwrap_or(rest.len())]
}

#[both_backends]
async fn qa_keep_equipment_and_rooms_with_calibrations_said_in_words(api: Api) {
    let isabel = Browser::of(&api, ISABEL).await;
    let page = isabel.page(&api, "/equipos").await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.text);
    assert!(
        page.text.contains(r#"id="form-equipo""#) && page.text.contains(r#"id="form-sala""#),
        "{}",
        page.text
    );
    // Due in 10 days, added through the page.
    let soon = lab_day(10);
    let r = isabel
        .post(
            &api,
            "/equipos",
            &[
                ("lab_code", GRA),
                ("id", "BSC-10"),
                ("class", "biosafety_cabinet"),
                ("status", "in_service"),
                ("calibration_due", soon.as_str()),
            ],
            None,
        )
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);
    let to = r.header("location").unwrap_or_default();
    let page = isabel.page(&api, &to).await.text;
    assert!(page.contains("Equipo añadido"), "{page}");
    let bsc = row(&page, &format!("equipo-{GRA}-BSC-10"));
    assert!(
        bsc.contains("cabina de seguridad biológica")
            && bsc.contains("en servicio")
            && bsc.contains(&shown(&soon))
            && bsc.contains(r#"<span class="badge soon">la calibración vence en 10 días</span>"#),
        "{bsc}"
    );
    assert!(
        page.contains(r#"<div class="scroll"><table id="tabla-equipos">"#),
        "{page}"
    );
    // One past due, through the API: said so, from its due date.
    let isabel_token = api.token(ISABEL).await;
    let past = lab_day(-3);
    api.post("/equipment")
        .token(&isabel_token)
        .json(
            json!({"lab_code": GRA, "id": "INC-02", "class": "incubator",
                     "calibration_due": past}),
        )
        .send()
        .await
        .ok(201);
    let page = isabel.page(&api, "/equipos").await.text;
    let inc = row(&page, &format!("equipo-{GRA}-INC-02"));
    assert!(
        inc.contains("incubador")
            && inc.contains(&format!("calibración vencida desde el {}", shown(&past)))
            && inc.contains("badge expired"),
        "{inc}"
    );
    // QA records its new calibration and takes it out of service.
    let calibrated = lab_day(200);
    let r = isabel
        .post(
            &api,
            &format!("/equipos/{GRA}/INC-02"),
            &[
                ("status", "out_of_service"),
                ("calibration_due", calibrated.as_str()),
            ],
            None,
        )
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);
    let page = isabel.page(&api, "/equipos").await.text;
    let inc = row(&page, &format!("equipo-{GRA}-INC-02"));
    assert!(
        inc.contains("fuera de servicio")
            && inc.contains(&shown(&calibrated))
            && !inc.contains("vencida"),
        "{inc}"
    );
    // The same id again: refused in words, what was typed kept.
    let taken = isabel
        .post(
            &api,
            "/equipos",
            &[
                ("lab_code", GRA),
                ("id", "BSC-10"),
                ("class", "centrifuge"),
                ("status", "in_service"),
                ("calibration_due", soon.as_str()),
            ],
            None,
        )
        .await;
    assert_eq!(taken.status.as_u16(), 409, "{}", taken.text);
    assert!(
        taken.text.contains("Ya existe")
            && taken
                .text
                .contains("Identificador: el laboratorio ya tiene uno con ese identificador")
            && taken.text.contains(r#"value="centrifuge""#),
        "{}",
        taken.text
    );
    // A date that is not one: refused in words.
    let bad = isabel
        .post(
            &api,
            &format!("/equipos/{GRA}/BSC-10"),
            &[("status", "in_service"), ("calibration_due", "pronto")],
            None,
        )
        .await;
    assert_eq!(bad.status.as_u16(), 422, "{}", bad.text);
    assert!(
        bad.text
            .contains("Calibración válida hasta: no es una fecha"),
        "{}",
        bad.text
    );
    // A room: it appears with its grade in words.
    let r = isabel
        .post(
            &api,
            "/equipos/salas",
            &[("lab_code", GRA), ("id", "SB-05"), ("grade", "B")],
            None,
        )
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);
    let to = r.header("location").unwrap_or_default();
    let page = isabel.page(&api, &to).await.text;
    assert!(page.contains("Sala añadida"), "{page}");
    assert!(
        row(&page, &format!("sala-{GRA}-SB-05")).contains("grado B"),
        "{page}"
    );

    // In English, once.
    let english = api
        .site(Method::GET, "/equipos")
        .header("cookie", &format!("{}; traza_idioma=en", isabel.cookie))
        .send_page()
        .await
        .text;
    let bsc = row(&english, &format!("equipo-{GRA}-BSC-10"));
    assert!(
        bsc.contains("the calibration is due in 10 days") && bsc.contains("biosafety cabinet"),
        "{bsc}"
    );
    assert!(english.contains("Equipment and rooms"), "{english}");
}

#[both_backends]
async fn staff_read_the_equipment_but_may_not_change_it(api: Api) {
    let isabel_token = api.token(ISABEL).await;
    api.post("/equipment")
        .token(&isabel_token)
        .json(
            json!({"lab_code": GRA, "id": "CEN-01", "class": "centrifuge",
                     "calibration_due": lab_day(60)}),
        )
        .send()
        .await
        .ok(201);
    let marta = Browser::of(&api, MARTA).await;
    let page = marta.page(&api, "/equipos").await.text;
    let cen = row(&page, &format!("equipo-{GRA}-CEN-01"));
    assert!(
        cen.contains("centrífuga") && !cen.contains("badge"),
        "60 days away: nothing to say: {cen}"
    );
    assert!(
        !page.contains(r#"id="form-equipo""#)
            && !page.contains(r#"id="form-sala""#)
            && !page.contains(&format!(r#"action="/equipos/{GRA}/CEN-01""#)),
        "{page}"
    );
    let before = events(&api).await;
    for (path, fields) in [
        (
            "/equipos".to_owned(),
            vec![
                ("lab_code", GRA),
                ("id", "BSC-99"),
                ("class", "biosafety_cabinet"),
                ("status", "in_service"),
                ("calibration_due", "2030-01-01"),
            ],
        ),
        (
            format!("/equipos/{GRA}/CEN-01"),
            vec![
                ("status", "out_of_service"),
                ("calibration_due", "2030-01-01"),
            ],
        ),
        (
            "/equipos/salas".to_owned(),
            vec![("lab_code", GRA), ("id", "SB-99"), ("grade", "A")],
        ),
    ] {
        let r = marta.post(&api, &path, &fields, None).await;
        assert_eq!(r.status.as_u16(), 403, "{path}: {}", r.text);
        assert!(
            r.text.contains("Su función no permite esta acción"),
            "{path}: {}",
            r.text
        );
        // Without the form's token: refused before anything is read.
        let r = marta.post(&api, &path, &fields, Some("")).await;
        assert_eq!(r.status.as_u16(), 403, "{path}: {}", r.text);
    }
    assert_eq!(events(&api).await, before, "a refused form writes nothing");
    // QA of another laboratory does not find this one's equipment to change.
    let teresa = Browser::of(&api, TERESA).await;
    let r = teresa
        .post(
            &api,
            &format!("/equipos/{GRA}/CEN-01"),
            &[
                ("status", "out_of_service"),
                ("calibration_due", "2030-01-01"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status.as_u16(), 404, "{}", r.text);
    assert!(!teresa.page(&api, "/equipos").await.text.contains("CEN-01"));
}
