//! The materials pages (`/materiales`, `/materiales/lotes/{lot_id}`, issue 15): the coordinator
//! keeps the catalogue, staff receive a lot (a decimal comma typed), QA of the laboratory
//! release or reject it with their password, the expiry is said in words, and a lot's page
//! traces it to the batches that used it and the patients who received them.

use axum::http::Method;
use serde_json::{Value, json};

use crate::pages::{Browser, events};
use crate::support::*;

/// The laboratories' day (Europe/Madrid) `offset` days away: the day the store judges lots on.
fn lab_day(offset: i64) -> String {
    (traza_domain::clock::lab_date(chrono::Utc::now()) + chrono::Duration::days(offset)).to_string()
}

/// A date as the Spanish pages show it (`dd/mm/yyyy`).
fn shown(date: &str) -> String {
    let d: chrono::NaiveDate = date.parse().expect("a date");
    d.format("%d/%m/%Y").to_string()
}

/// The part of a page from the element with id `id` to the end of that row or block.
fn part<'a>(page: &'a str, id: &str, end: &str) -> &'a str {
    let start = page
        .find(&format!(r#"id="{id}""#))
        .unwrap_or_else(|| panic!("an element {id}: {page}"));
    let rest = &page[start..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

/// The medium of these stories, added to the catalogue by the coordinator through the API.
async fn medium(api: &Api) {
    let lucia = api.token(LUCIA).await;
    api.post("/materials")
        .token(&lucia)
        .json(json!({"code": "MED-ALFA", "name": "Medio alfa-MEM", "kind": "medium", "unit": "mL"}))
        .send()
        .await
        .ok(201);
}

/// A lot of the medium received by Marta through the API; its id.
async fn received(api: &Api, received_on: &str, expiry: &str, quantity: &str) -> String {
    let marta = api.token(MARTA).await;
    api.post("/lots")
        .token(&marta)
        .json(
            json!({"lab_code": GRA, "material_code": "MED-ALFA", "supplier": "Proveedor",
                     "supplier_lot": "L-77", "received_on": received_on,
                     "expiry_date": expiry, "quantity_received": quantity}),
        )
        .send()
        .await
        .ok(201)["lot_id"]
        .as_str()
        .expect("a lot id")
        .to_owned()
}

async fn lot_json(api: &Api, lot: &str) -> Value {
    let marta = api.token(MARTA).await;
    api.get(&format!("/lots/{lot}"))
        .token(&marta)
        .send()
        .await
        .ok(200)
}

#[both_backends]
async fn the_coordinator_keeps_the_catalogue_and_staff_may_not(api: Api) {
    let lucia = Browser::of(&api, LUCIA).await;
    let marta = Browser::of(&api, MARTA).await;
    let page = lucia.page(&api, "/materiales").await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.text);
    assert!(page.text.contains(r#"id="form-material""#), "{}", page.text);
    let r = lucia
        .post(
            &api,
            "/materiales/catalogo",
            &[
                ("code", "MED-ALFA"),
                ("name", "Medio alfa-MEM"),
                ("kind", "medium"),
                ("unit", "mL"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);
    let to = r.header("location").unwrap_or_default();
    let page = lucia.page(&api, &to).await.text;
    assert!(page.contains("Material añadido al catálogo"), "{page}");
    let row = part(&page, "material-MED-ALFA", "</tr>");
    assert!(
        row.contains("Medio alfa-MEM") && row.contains("medio de cultivo") && row.contains("mL"),
        "{row}"
    );
    // The same code again: refused in words, what was typed kept.
    let again = lucia
        .post(
            &api,
            "/materiales/catalogo",
            &[
                ("code", "MED-ALFA"),
                ("name", "Otro medio"),
                ("kind", "medium"),
                ("unit", "mL"),
            ],
            None,
        )
        .await;
    assert_eq!(again.status.as_u16(), 409, "{}", again.text);
    assert!(
        again.text.contains("Ya existe")
            && again
                .text
                .contains("Código: ya hay un material con ese código")
            && again.text.contains(r#"value="Otro medio""#),
        "{}",
        again.text
    );
    // The coordinator renames it; staff see the catalogue without its forms, and a form
    // posted by them is refused.
    let r = lucia
        .post(
            &api,
            "/materiales/catalogo/MED-ALFA",
            &[
                ("name", "Medio alfa-MEM con glutamina"),
                ("kind", "medium"),
                ("unit", "mL"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);
    let staff_page = marta.page(&api, "/materiales").await.text;
    assert!(
        staff_page.contains("Medio alfa-MEM con glutamina")
            && !staff_page.contains(r#"id="form-material""#)
            && !staff_page.contains("/materiales/catalogo/MED-ALFA"),
        "{staff_page}"
    );
    let before = events(&api).await;
    let refused = marta
        .post(
            &api,
            "/materiales/catalogo",
            &[
                ("code", "MED-BETA"),
                ("name", "Medio beta"),
                ("kind", "medium"),
                ("unit", "mL"),
            ],
            None,
        )
        .await;
    assert_eq!(refused.status.as_u16(), 403, "{}", refused.text);
    assert!(
        refused.text.contains("Su función no permite esta acción"),
        "{}",
        refused.text
    );
    assert_eq!(events(&api).await, before, "a refused form writes nothing");
}

#[both_backends]
async fn staff_receive_a_lot_and_qa_release_it_with_their_password(api: Api) {
    medium(&api).await;
    let marta = Browser::of(&api, MARTA).await;
    let isabel = Browser::of(&api, ISABEL).await;
    let form = marta.page(&api, "/materiales").await.text;
    // One laboratory: it is not asked.
    assert!(
        form.contains(r#"id="form-recepcion""#)
            && form.contains(&format!(
                r#"<input type="hidden" name="lab_code" value="{GRA}">"#
            )),
        "{form}"
    );
    // A quantity that is not a number: refused in words, the form as it was typed.
    let expiry = lab_day(90);
    let mut fields = vec![
        ("lab_code", GRA),
        ("material_code", "MED-ALFA"),
        ("supplier", "Proveedor Iberia"),
        ("supplier_lot", "PI-2291"),
        ("quantity_received", "mucho"),
        ("expiry_date", expiry.as_str()),
    ];
    let today = lab_day(0);
    fields.push(("received_on", today.as_str()));
    let refused = marta.post(&api, "/materiales/lotes", &fields, None).await;
    assert_eq!(refused.status.as_u16(), 422, "{}", refused.text);
    assert!(
        refused
            .text
            .contains("Cantidad recibida: «mucho» no es un número")
            && refused.text.contains(r#"value="PI-2291""#),
        "{}",
        refused.text
    );
    // With a decimal comma: received, in quarantine.
    fields[4] = ("quantity_received", "2,5");
    let r = marta.post(&api, "/materiales/lotes", &fields, None).await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);
    let to = r.header("location").unwrap_or_default();
    let lot = to
        .strip_prefix("/materiales/lotes/")
        .and_then(|rest| rest.split('?').next())
        .unwrap_or_else(|| panic!("to the lot's page: {to}"))
        .to_owned();
    assert_eq!(lot_json(&api, &lot).await["quantity_received"], "2.5");
    let page = marta.page(&api, &to).await.text;
    assert!(page.contains("Lote de material recibido"), "{page}");
    let status = part(&page, "estado-lote", "</dd>");
    assert!(status.contains("en cuarentena"), "{status}");
    assert!(
        part(&page, "restante", "</dd>").contains("2,5 mL"),
        "{page}"
    );
    // Staff see no disposition form, and one they post is refused.
    assert!(
        !page.contains(r#"id="form-liberar""#) && !page.contains(r#"id="form-rechazar""#),
        "{page}"
    );
    let release = format!("/materiales/lotes/{lot}/liberar");
    let before = events(&api).await;
    let by_staff = marta
        .post(
            &api,
            &release,
            &[("password", api.password(MARTA).as_str())],
            None,
        )
        .await;
    assert_eq!(by_staff.status.as_u16(), 403, "{}", by_staff.text);
    assert!(
        by_staff.text.contains("Su función no permite esta acción"),
        "{}",
        by_staff.text
    );
    assert_eq!(events(&api).await, before);
    // The list shows it with what is left and its status in words.
    let list = marta.page(&api, "/materiales?estado=quarantine").await.text;
    let row = part(&list, &format!("lote-{lot}"), "</tr>");
    assert!(
        row.contains("2,5 mL") && row.contains("en cuarentena") && row.contains("PI-2291"),
        "{row}"
    );
    assert!(
        list.contains(r#"<div class="scroll"><table id="tabla-lotes">"#),
        "{list}"
    );

    // QA: a wrong password is refused in words; theirs signs the release.
    let qa_page = isabel
        .page(&api, &format!("/materiales/lotes/{lot}"))
        .await
        .text;
    assert!(
        qa_page.contains(r#"id="form-liberar""#)
            && qa_page.contains("Libero este lote de material para su uso en fabricación"),
        "{qa_page}"
    );
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
    assert_eq!(lot_json(&api, &lot).await["status"], "quarantine");
    let signed = isabel
        .post(
            &api,
            &release,
            &[("password", api.password(ISABEL).as_str())],
            None,
        )
        .await;
    assert_eq!(signed.status.as_u16(), 303, "{}", signed.text);
    let to = signed.header("location").unwrap_or_default();
    let page = isabel.page(&api, &to).await.text;
    assert!(
        page.contains("Lote de material liberado con su firma"),
        "{page}"
    );
    assert!(
        part(&page, "estado-lote", "</dd>").contains("liberado"),
        "{page}"
    );
    let signature = part(&page, "firma-lote", "</div>");
    assert!(
        signature.contains("Isabel Morales Vílchez")
            && signature.contains("Libero este lote de material"),
        "{signature}"
    );
    assert!(
        !page.contains(r#"id="form-liberar""#),
        "released: no more forms"
    );
    // Filtered by status: among the released, not among those in quarantine.
    let released = marta.page(&api, "/materiales?estado=released").await.text;
    assert!(
        released.contains(&format!(r#"id="lote-{lot}""#)),
        "{released}"
    );
    let quarantined = marta.page(&api, "/materiales?estado=quarantine").await.text;
    assert!(
        !quarantined.contains(&format!(r#"id="lote-{lot}""#)),
        "{quarantined}"
    );

    // In English, once.
    let english = api
        .site(Method::GET, &format!("/materiales/lotes/{lot}"))
        .header("cookie", &format!("{}; traza_idioma=en", isabel.cookie))
        .send_page()
        .await
        .text;
    assert!(
        part(&english, "estado-lote", "</dd>").contains("released")
            && english.contains("Traceability for a recall")
            && english.contains("2.5 mL"),
        "{english}"
    );
}

#[both_backends]
async fn a_rejection_needs_a_reason_and_an_expired_lot_says_so(api: Api) {
    medium(&api).await;
    let expired = received(&api, &lab_day(-20), &lab_day(-2), "100").await;
    let soon = received(&api, &lab_day(-1), &lab_day(12), "40").await;
    let isabel = Browser::of(&api, ISABEL).await;
    let list = isabel.page(&api, "/materiales").await.text;
    let row = part(&list, &format!("lote-{expired}"), "</tr>");
    assert!(
        row.contains(&format!(
            "caducado: su último día de uso fue el {}",
            shown(&lab_day(-2))
        )),
        "{row}"
    );
    let row = part(&list, &format!("lote-{soon}"), "</tr>");
    assert!(row.contains("caduca en 12 días"), "{row}");

    // An expired lot in quarantine: QA may reject it, not release it, and the page says so.
    let path = format!("/materiales/lotes/{expired}");
    let page = isabel.page(&api, &path).await.text;
    assert!(
        !page.contains(r#"id="form-liberar""#)
            && page.contains("puede rechazarse, no liberarse")
            && page.contains(r#"id="form-rechazar""#),
        "{page}"
    );
    let forced = isabel
        .post(
            &api,
            &format!("{path}/liberar"),
            &[("password", api.password(ISABEL).as_str())],
            None,
        )
        .await;
    assert_eq!(forced.status.as_u16(), 409, "{}", forced.text);
    assert!(
        forced.text.contains("puede rechazarse, no liberarse"),
        "{}",
        forced.text
    );
    // A rejection without a reason is refused in words.
    let before = events(&api).await;
    let no_reason = isabel
        .post(
            &api,
            &format!("{path}/rechazar"),
            &[
                ("reason", "  "),
                ("password", api.password(ISABEL).as_str()),
            ],
            None,
        )
        .await;
    assert_eq!(no_reason.status.as_u16(), 422, "{}", no_reason.text);
    assert!(
        no_reason.text.contains("Motivo: no puede quedar vacío"),
        "{}",
        no_reason.text
    );
    assert_eq!(events(&api).await, before);
    assert_eq!(lot_json(&api, &expired).await["status"], "quarantine");
    // With one, signed: rejected, the reason beside the signature.
    let done = isabel
        .post(
            &api,
            &format!("{path}/rechazar"),
            &[
                ("reason", "Caducado antes de su análisis"),
                ("password", api.password(ISABEL).as_str()),
            ],
            None,
        )
        .await;
    assert_eq!(done.status.as_u16(), 303, "{}", done.text);
    let page = isabel.page(&api, &path).await.text;
    assert!(
        part(&page, "estado-lote", "</dd>").contains("rechazado"),
        "{page}"
    );
    let signature = part(&page, "firma-lote", "</div>");
    assert!(
        signature.contains("Rechazo este lote de material")
            && signature.contains("Caducado antes de su análisis"),
        "{signature}"
    );
    // Signed once: a second signature is refused, saying what the lot is now.
    let again = isabel
        .post(
            &api,
            &format!("{path}/rechazar"),
            &[
                ("reason", "Otra vez"),
                ("password", api.password(ISABEL).as_str()),
            ],
            None,
        )
        .await;
    assert_eq!(again.status.as_u16(), 409, "{}", again.text);
    assert!(
        again
            .text
            .contains("El lote ya no está en cuarentena: está rechazado"),
        "{}",
        again.text
    );
}

/// GRA-UPCIT ready for a guided MSC-AD-ALO batch whose one step takes 10 mL of a released
/// lot of the medium; the lot's id.
async fn guided_and_released_lot(api: &Api) -> String {
    medium(api).await;
    let lot = received(api, &lab_day(-1), &lab_day(90), "25").await;
    let isabel = api.token(ISABEL).await;
    let carmen = api.second_gra_qa().await;
    api.post(&format!("/lots/{lot}/release"))
        .token(&isabel)
        .json(json!({"password": api.password(ISABEL)}))
        .send()
        .await
        .ok(200);
    let mbr = api
        .post("/master-records")
        .token(&isabel)
        .json(json!({"product_code": ALLO, "lab_code": GRA, "steps": [
            {"code": "siembra", "title": "Siembra",
             "materials": [{"material_code": "MED-ALFA", "quantity": "10", "unit": "mL"}]}
        ]}))
        .send()
        .await
        .ok(201);
    api.post(&format!("/master-records/{}/approve", mbr["id"]))
        .token(&carmen)
        .json(json!({"password": api.password(CARMEN), "effective_from": lab_day(0)}))
        .send()
        .await
        .ok(200);
    lot
}

#[both_backends]
async fn a_lots_page_traces_the_batches_that_used_it_and_their_patients(api: Api) {
    let lot = guided_and_released_lot(&api).await;
    let marta_token = api.token(MARTA).await;
    let isabel_token = api.token(ISABEL).await;
    let marta = Browser::of(&api, MARTA).await;
    let path = format!("/materiales/lotes/{lot}");
    let page = marta.page(&api, &path).await.text;
    assert!(
        page.contains("Ningún lote fabricado ha usado este lote de material"),
        "{page}"
    );
    let b = api
        .create_batch(
            &marta_token,
            allo_batch("DON-LOTE-TRAZA-1", &days_ago(3), 1),
        )
        .await;
    let number = b["batch_number"].as_str().expect("a number").to_owned();
    let performed = (chrono::Utc::now() - chrono::Duration::minutes(30)).to_rfc3339();
    api.post(&format!("/batches/{number}/steps/siembra"))
        .token(&marta_token)
        .json(json!({"performed_at": performed,
                     "materials": [{"lot_id": lot, "quantity": "10"}]}))
        .send()
        .await
        .ok(201);
    let page = marta.page(&api, &path).await.text;
    let trace = part(&page, "traza-lotes", "</table>");
    assert!(
        trace.contains(&format!(r#"href="/lotes/{number}""#))
            && trace.contains("siembra")
            && trace.contains("10 mL")
            && trace.contains("En producción"),
        "{trace}"
    );
    assert!(part(&page, "restante", "</dd>").contains("15 mL"), "{page}");
    assert!(
        page.contains(r#"id="sin-pacientes""#),
        "nobody has received it yet: {page}"
    );

    // Made, certified by QA who took no part, and given to a patient.
    api.pass_required_tests(&marta_token, &number, ALLO, &[])
        .await;
    api.post(&format!("/batches/{number}/complete"))
        .token(&marta_token)
        .json(json!({"manufacturing_end": today()}))
        .send()
        .await
        .ok(200);
    api.post(&format!("/batches/{number}/release"))
        .token(&isabel_token)
        .json(json!({"password": api.password(ISABEL), "meaning": "qp_certified"}))
        .send()
        .await
        .ok(200);
    api.post(&format!("/batches/{number}/administrations"))
        .token(&isabel_token)
        .json(
            json!({"patient_code": "PAC-0001", "administered_on": today(),
                     "hospital": "Hospital Universitario Virgen de las Nieves"}),
        )
        .send()
        .await
        .ok(201);
    let page = marta.page(&api, &path).await.text;
    let patients = part(&page, "traza-pacientes", "</table>");
    assert!(
        patients.contains("PAC-0001")
            && patients.contains("Hospital Universitario Virgen de las Nieves")
            && patients.contains(&format!(r#"href="/lotes/{number}""#)),
        "{patients}"
    );
    assert!(
        part(&page, "traza-lotes", "</table>").contains("Administrado"),
        "{page}"
    );
    // Another laboratory's staff do not find the lot, nor its patients.
    let rocio = Browser::of(&api, ROCIO).await;
    let other = rocio.page(&api, &path).await;
    assert_eq!(other.status.as_u16(), 404, "{}", other.text);
    assert!(!other.text.contains("PAC-0001"), "{}", other.text);
}
