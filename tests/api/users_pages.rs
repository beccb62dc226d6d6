//! The users' administration page (`/usuarios`, admin only) and where imported batches came
//! from (the import result's links, the "Imported" section of an imported batch's page).

use axum::http::Method;
use serde_json::{Value, json};

use crate::pages::{Browser, events};
use crate::support::*;

const SAMPLE: &[u8] = include_bytes!("../../fixtures/history/lotes-historicos-cp1252.csv");

/// A password the policy takes (long, no username in it, not a common one).
const NURIA_PW: &str = "faro-de-cádiz-al-atardecer";

/// The part of the users' list about `username`: its table row.
fn row<'a>(page: &'a str, username: &str) -> &'a str {
    let start = page
        .find(&format!(r#"<tr id="usuario-{username}">"#))
        .unwrap_or_else(|| panic!("a row of {username}: {page}"));
    let rest = &page[start..];
    &rest[..rest.find("</tr>").unwrap_or(rest.len())]
}

/// The audit events of one user, as the API lists them.
async fn user_events(api: &Api, username: &str) -> Vec<Value> {
    let admin = api.token(ADMIN).await;
    api.get(&format!("/audit?entity_type=user&entity_key={username}"))
        .token(&admin)
        .send()
        .await
        .ok(200)["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Logs `user` in through the API with `password`; the status.
async fn login_status(api: &Api, user: &str, password: &str) -> u16 {
    api.post("/auth/login")
        .json(json!({"username": user, "password": password}))
        .send()
        .await
        .status
        .as_u16()
}

/// Follows a form's redirect back to the list, checking it says what was done.
async fn back_to_list(api: &Api, admin: &Browser, r: Resp, done: &str) -> String {
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);
    let to = r.header("location").unwrap_or_default();
    assert!(
        to.starts_with(&format!("/usuarios?hecho={done}&")),
        "{done}: {to}"
    );
    let page = admin.page(api, &to).await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.text);
    page.text
}

#[both_backends]
async fn the_admin_creates_a_user_who_can_then_log_in(api: Api) {
    let admin = Browser::of(&api, ADMIN).await;
    let list = admin.page(&api, "/usuarios").await;
    assert_eq!(list.status.as_u16(), 200, "{}", list.text);
    // The fixture's people, with their role and laboratories in words; wide, so it scrolls.
    let marta = row(&list.text, MARTA);
    assert!(
        marta.contains("Marta Jiménez Salas")
            && marta.contains("personal de laboratorio")
            && marta.contains(GRA)
            && marta.contains("activa"),
        "{marta}"
    );
    assert!(
        list.text
            .contains(r#"<div class="scroll"><table id="tabla-usuarios">"#),
        "{}",
        list.text
    );
    assert!(list.text.contains(r#"href="/usuarios""#), "the admin's nav");
    let before = events(&api).await;

    let r = admin
        .post(
            &api,
            "/usuarios",
            &[
                ("username", "nuria.lopez"),
                ("full_name", "Nuria López Gil"),
                ("role", "qa"),
                ("labs", GRA),
                ("password", NURIA_PW),
            ],
            None,
        )
        .await;
    let list = back_to_list(&api, &admin, r, "creado").await;
    assert!(list.contains("Usuario creado: nuria.lopez"), "{list}");
    let nuria = row(&list, "nuria.lopez");
    assert!(
        nuria.contains("Nuria López Gil")
            && nuria.contains("garantía de calidad")
            && nuria.contains(GRA),
        "{nuria}"
    );
    // One write, with its audit event, by the admin.
    assert_eq!(events(&api).await, before + 1);
    let trail = user_events(&api, "nuria.lopez").await;
    assert_eq!(trail.len(), 1, "{trail:?}");
    assert_eq!(
        (&trail[0]["action"], &trail[0]["actor"]),
        (&json!("user.create"), &json!(ADMIN))
    );

    // Nuria logs in, as QA of her laboratory.
    api.remember("nuria.lopez", NURIA_PW);
    let token = api.login("nuria.lopez").await;
    let me = api.get("/me").token(&token).send().await.ok(200);
    assert_eq!((&me["role"], &me["labs"]), (&json!("qa"), &json!([GRA])));
}

#[both_backends]
async fn a_refused_new_user_keeps_what_was_typed_but_never_the_password(api: Api) {
    let admin = Browser::of(&api, ADMIN).await;
    let before = events(&api).await;

    // A password too short: the form comes back with what was typed, the store's refusal in
    // Spanish.
    let r = admin
        .post(
            &api,
            "/usuarios",
            &[
                ("username", "ana.perez"),
                ("full_name", "Ana Pérez Gil"),
                ("role", "qa"),
                ("labs", GRA),
                ("password", "Xq7-corto"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.text);
    let page = &r.text;
    assert!(page.contains("Revise los datos del formulario"), "{page}");
    assert!(
        page.contains("Contraseña: debe tener al menos 12 caracteres"),
        "{page}"
    );
    assert!(page.contains(r#"value="ana.perez""#), "{page}");
    assert!(page.contains(r#"value="Ana Pérez Gil""#), "{page}");
    assert!(page.contains(r#"<option value="qa" selected>"#), "{page}");
    assert!(
        page.contains(&format!(r#"value="{GRA}" checked>"#)),
        "{page}"
    );
    assert!(!page.contains("Xq7-corto"), "a password is never sent back");

    // A username that is not one is refused as it is parsed, as the API parses it.
    let r = admin
        .post(
            &api,
            "/usuarios",
            &[
                ("username", "Ana Pérez"),
                ("full_name", "Ana Pérez Gil"),
                ("role", "coordinator"),
                ("labs", GRA),
                ("password", NURIA_PW),
            ],
            None,
        )
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.text);
    assert!(
        r.text
            .contains("Usuario: tiene «A» en la posición 1, donde no se admite"),
        "{}",
        r.text
    );
    assert!(
        r.text.contains(r#"<option value="coordinator" selected>"#),
        "{}",
        r.text
    );

    // Every problem of the store's at once: labs for a role without labs, a common password.
    let r = admin
        .post(
            &api,
            "/usuarios",
            &[
                ("username", "ana.perez"),
                ("full_name", "Ana Pérez Gil"),
                ("role", "coordinator"),
                ("labs", GRA),
                ("password", "password1234"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.text);
    assert!(
        r.text
            .contains("Laboratorios: solo el personal de laboratorio y garantía de calidad"),
        "{}",
        r.text
    );
    assert!(
        r.text
            .contains("Contraseña: es una de las contraseñas más comunes"),
        "{}",
        r.text
    );
    assert!(
        !r.text.contains("password1234"),
        "a password is never sent back"
    );

    // A name taken: 409, said in the page's language.
    let r = admin
        .post(
            &api,
            "/usuarios",
            &[
                ("username", MARTA),
                ("full_name", "Otra Marta"),
                ("role", "lab_staff"),
                ("labs", GRA),
                ("password", NURIA_PW),
            ],
            None,
        )
        .await;
    assert_eq!(r.status.as_u16(), 409, "{}", r.text);
    assert!(
        r.text
            .contains("Usuario: ya existe un usuario con ese nombre"),
        "{}",
        r.text
    );
    assert!(r.text.contains(r#"value="Otra Marta""#), "{}", r.text);
    assert!(!r.text.contains(NURIA_PW), "a password is never sent back");

    // In English, the English words.
    let r = api
        .site(Method::POST, "/usuarios")
        .header("cookie", &format!("{}; traza_idioma=en", admin.cookie))
        .raw(
            Some("application/x-www-form-urlencoded"),
            format!(
                "csrf={}&username=ana.perez&full_name=Ana&role=qa&password=short",
                csrf_of(&api, &admin).await
            ),
        )
        .send_page()
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.text);
    assert!(
        r.text.contains(
            "Laboratories: laboratory staff and quality assurance need at least one laboratory"
        ) && r
            .text
            .contains("Password: must have at least 12 characters"),
        "{}",
        r.text
    );

    assert_eq!(events(&api).await, before, "nothing was written");
    assert!(user_events(&api, "ana.perez").await.is_empty());
}

/// The store's refusal of a QA person without a laboratory and with a short password, said on
/// the page in Spanish: the same problems the API sends (as data), not the page's own check.
#[both_backends]
async fn a_refused_user_is_said_in_spanish_from_the_stores_problems(api: Api) {
    let admin = Browser::of(&api, ADMIN).await;
    let before = events(&api).await;
    let fields = [
        ("username", "ana.perez"),
        ("full_name", "Ana Pérez Gil"),
        ("role", "qa"),
        ("password", "Xq7-corto"),
    ];

    // What the store says, as the API sends it: a problem for each field.
    let token = api.token(ADMIN).await;
    let details = api
        .post("/users")
        .token(&token)
        .json(json!({
            "username": "ana.perez",
            "full_name": "Ana Pérez Gil",
            "role": "qa",
            "password": "Xq7-corto",
        }))
        .send()
        .await
        .err(422, "validation_failed");
    let problems: Vec<(Value, Value)> = details
        .iter()
        .map(|d| (d["field"].clone(), d["problem"]["kind"].clone()))
        .collect();
    assert_eq!(
        problems,
        [
            (json!("labs"), json!("labs_required")),
            (json!("password"), json!("password_too_short")),
        ]
    );

    // The page says the same refusal in Spanish, both problems at once, in English none.
    let r = admin.post(&api, "/usuarios", &fields, None).await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.text);
    let page = &r.text;
    assert!(page.contains("Revise los datos del formulario"), "{page}");
    assert!(
        page.contains(
            "Laboratorios: el personal de laboratorio y garantía de calidad necesita al menos \
             un laboratorio"
        ),
        "{page}"
    );
    assert!(
        page.contains("Contraseña: debe tener al menos 12 caracteres"),
        "{page}"
    );
    assert!(
        !page.contains("need at least one laboratory") && !page.contains("must be at least"),
        "no English: {page}"
    );
    assert!(page.contains(r#"value="ana.perez""#), "{page}");
    assert!(page.contains(r#"<option value="qa" selected>"#), "{page}");
    assert!(!page.contains("Xq7-corto"), "a password is never sent back");
    assert_eq!(events(&api).await, before, "nothing was written");
}

/// The CSRF token of `b`'s forms, read from a page.
async fn csrf_of(api: &Api, b: &Browser) -> String {
    let page = b.page(api, "/lotes").await;
    page.text
        .split(r#"name="csrf" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a form with its CSRF token")
        .to_owned()
}

#[both_backends]
async fn deactivation_stops_the_login_and_reactivation_restores_it(api: Api) {
    let admin = Browser::of(&api, ADMIN).await;
    let session = api.login(PABLO).await;
    let before = events(&api).await;

    let r = admin
        .post(&api, &format!("/usuarios/{PABLO}/desactivar"), &[], None)
        .await;
    let list = back_to_list(&api, &admin, r, "desactivado").await;
    let pablo = row(&list, PABLO);
    assert!(pablo.contains("desactivada"), "{pablo}");
    assert!(
        pablo.contains(&format!(r#"action="/usuarios/{PABLO}/reactivar""#))
            && !pablo.contains("/desactivar"),
        "{pablo}"
    );
    assert_eq!(login_status(&api, PABLO, &api.password(PABLO)).await, 401);
    api.get("/me")
        .token(&session)
        .send()
        .await
        .err(401, "unauthenticated");
    assert_eq!(events(&api).await, before + 1);

    let r = admin
        .post(&api, &format!("/usuarios/{PABLO}/reactivar"), &[], None)
        .await;
    let list = back_to_list(&api, &admin, r, "reactivado").await;
    assert!(!row(&list, PABLO).contains("desactivada"), "{list}");
    assert_eq!(login_status(&api, PABLO, &api.password(PABLO)).await, 200);
    let trail = user_events(&api, PABLO).await;
    let actions: Vec<_> = trail.iter().map(|e| e["after"]["active"].clone()).collect();
    assert_eq!(actions[actions.len() - 2..], [json!(false), json!(true)]);

    // The admin's own account offers no deactivation.
    assert!(
        !row(&list, ADMIN).contains("/desactivar"),
        "{}",
        row(&list, ADMIN)
    );
}

#[both_backends]
async fn the_admin_resets_a_password(api: Api) {
    let admin = Browser::of(&api, ADMIN).await;
    let session = api.login(PABLO).await;
    let before = events(&api).await;

    // A password the policy refuses: nothing changes.
    let r = admin
        .post(
            &api,
            &format!("/usuarios/{PABLO}/clave"),
            &[("new_password", "pablo.ortiz-2026-nueva")],
            None,
        )
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.text);
    assert!(
        r.text.contains("no puede contener el nombre de usuario"),
        "{}",
        r.text
    );
    assert!(!r.text.contains("pablo.ortiz-2026-nueva"));
    assert_eq!(events(&api).await, before);

    let new = "la-nueva-clave-de-laboratorio";
    let r = admin
        .post(
            &api,
            &format!("/usuarios/{PABLO}/clave"),
            &[("new_password", new)],
            None,
        )
        .await;
    back_to_list(&api, &admin, r, "clave").await;
    assert_eq!(login_status(&api, PABLO, &api.password(PABLO)).await, 401);
    assert_eq!(login_status(&api, PABLO, new).await, 200);
    // Resetting ends the sessions opened with the old password.
    api.get("/me")
        .token(&session)
        .send()
        .await
        .err(401, "unauthenticated");
    assert_eq!(events(&api).await, before + 1);
    let trail = user_events(&api, PABLO).await;
    let last = trail.last().expect("an event");
    assert_eq!(
        (&last["action"], &last["after"]["password_changed"]),
        (&json!("user.update"), &json!(true))
    );
}

#[both_backends]
async fn the_admin_unlocks_a_locked_account(api: Api) {
    let admin = Browser::of(&api, ADMIN).await;
    let list = admin.page(&api, "/usuarios").await.text;
    assert!(
        !row(&list, PABLO).contains("/desbloquear"),
        "not locked yet"
    );
    for _ in 0..5 {
        assert_eq!(login_status(&api, PABLO, "guess-guess-guess").await, 401);
    }
    assert_eq!(login_status(&api, PABLO, &api.password(PABLO)).await, 423);

    let list = admin.page(&api, "/usuarios").await.text;
    let pablo = row(&list, PABLO);
    assert!(pablo.contains("bloqueada hasta"), "{pablo}");
    assert!(
        pablo.contains(&format!(r#"action="/usuarios/{PABLO}/desbloquear""#)),
        "{pablo}"
    );
    assert!(
        !row(&list, MARTA).contains("/desbloquear"),
        "only the locked account"
    );

    let before = events(&api).await;
    let r = admin
        .post(&api, &format!("/usuarios/{PABLO}/desbloquear"), &[], None)
        .await;
    let list = back_to_list(&api, &admin, r, "desbloqueado").await;
    let pablo = row(&list, PABLO);
    assert!(
        !pablo.contains("bloqueada") && !pablo.contains("/desbloquear"),
        "{pablo}"
    );
    assert_eq!(login_status(&api, PABLO, &api.password(PABLO)).await, 200);
    assert_eq!(events(&api).await, before + 1);
    let trail = user_events(&api, PABLO).await;
    assert_eq!(
        trail.last().map(|e| e["action"].clone()),
        Some(json!("user.unlock"))
    );
}

#[both_backends]
async fn only_the_admin_may_manage_users(api: Api) {
    let before = events(&api).await;
    for who in [LUCIA, ELENA, MARTA, ISABEL] {
        let b = Browser::of(&api, who).await;
        let nav = b.page(&api, "/lotes").await;
        assert!(!nav.text.contains(r#"href="/usuarios""#), "{who}: no link");
        let page = b.page(&api, "/usuarios").await;
        assert_eq!(page.status.as_u16(), 403, "{who}: {}", page.text);
        assert!(
            page.text.contains("Su función no permite esta acción"),
            "{who}: {}",
            page.text
        );
        assert!(!page.text.contains(PABLO), "{who}: no list");
        let r = b
            .post(
                &api,
                "/usuarios",
                &[
                    ("username", "intruso"),
                    ("full_name", "Intruso"),
                    ("role", "admin"),
                    ("password", NURIA_PW),
                ],
                None,
            )
            .await;
        assert_eq!(r.status.as_u16(), 403, "{who}: {}", r.text);
        for (action, fields) in [
            ("desactivar", vec![]),
            ("reactivar", vec![]),
            ("desbloquear", vec![]),
            ("clave", vec![("new_password", "una-clave-del-intruso")]),
        ] {
            let r = b
                .post(&api, &format!("/usuarios/{PABLO}/{action}"), &fields, None)
                .await;
            assert_eq!(r.status.as_u16(), 403, "{who} {action}: {}", r.text);
        }
    }
    assert_eq!(events(&api).await, before, "nothing was written");
    assert!(user_events(&api, "intruso").await.is_empty());
    assert_eq!(login_status(&api, PABLO, &api.password(PABLO)).await, 200);
}

#[both_backends]
async fn the_users_forms_refuse_a_missing_or_wrong_csrf_token(api: Api) {
    let admin = Browser::of(&api, ADMIN).await;
    let before = events(&api).await;
    for csrf in ["", "0123456789abcdef"] {
        let r = admin
            .post(
                &api,
                "/usuarios",
                &[
                    ("username", "nuria.lopez"),
                    ("full_name", "Nuria López Gil"),
                    ("role", "auditor"),
                    ("password", NURIA_PW),
                ],
                Some(csrf),
            )
            .await;
        assert_eq!(r.status.as_u16(), 403, "{}", r.text);
        assert!(r.text.contains("El formulario ha caducado"), "{}", r.text);
        for action in ["desactivar", "clave", "desbloquear"] {
            let r = admin
                .post(
                    &api,
                    &format!("/usuarios/{PABLO}/{action}"),
                    &[("new_password", "una-clave-sin-csrf-valida")],
                    Some(csrf),
                )
                .await;
            assert_eq!(r.status.as_u16(), 403, "{action}: {}", r.text);
        }
    }
    assert_eq!(events(&api).await, before, "nothing was written");
    assert_eq!(login_status(&api, PABLO, &api.password(PABLO)).await, 200);
}

// --- imported batches ---------------------------------------------------------------------------

async fn import_sample(api: &Api) -> i64 {
    let lucia = api.token(LUCIA).await;
    let done = api
        .post("/imports/batches?filename=lotes.csv")
        .token(&lucia)
        .raw(Some("text/csv"), SAMPLE.to_vec())
        .send()
        .await
        .ok(200);
    done["import_id"].as_i64().expect("an import id")
}

/// The text of the imported value of `column` on an imported batch's page.
fn imported_value<'a>(page: &'a str, column: &str) -> &'a str {
    let start = page
        .find(&format!(r#"<tr data-columna="{column}">"#))
        .unwrap_or_else(|| panic!("a row of {column}: {page}"));
    let rest = &page[start..];
    let cell = &rest[rest.find("<td>").expect("its value") + 4..];
    &cell[..cell.find("</td>").unwrap_or(cell.len())]
}

#[both_backends]
async fn an_imported_batch_page_shows_its_imported_values_and_origin(api: Api) {
    let id = import_sample(&api).await;
    let lucia = Browser::of(&api, LUCIA).await;
    let page = lucia.page(&api, "/lotes/GRA-UPCIT-2018-00003").await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.text);
    let text = &page.text;
    assert!(
        text.contains(r#"<section class="card" id="importado""#),
        "{text}"
    );
    assert!(text.contains(">Importado</h2>"), "{text}");
    // Where it came from: the file, its line, the import (who, through what).
    assert!(
        text.contains(r#"<td class="fichero">lotes.csv</td>"#),
        "{text}"
    );
    assert!(text.contains(r#"<td class="linea">3</td>"#), "{text}");
    assert!(
        text.contains(&format!("#{id} · ")) && text.contains(LUCIA),
        "{text}"
    );
    assert!(text.contains("windows-1252 · «;»"), "{text}");
    // Every value of its row, in the page's words.
    for (column, value) in [
        ("batch_number", "GRA-UPCIT-2018-00003"),
        ("origin", "Alogénico"),
        ("donor_code", "A999918000123"),
        ("collection_date", "10/01/2018"),
        ("manufacturing_end", "02/02/2018"),
        ("status", "Liberado"),
        ("cell_count", "125000000"),
        ("viability_percent", "94,1 %"),
        ("volume_ml", "15 ml"),
        ("doses", "4"),
        ("released_by", "Dra. Isabel Morales Vílchez"),
        ("release_date", "05/02/2018"),
        ("access_route", "Ensayo clínico"),
        ("trial_id", "2015-001726-39"),
        ("notes", "Donante sano; lote para 4 pacientes"),
        ("patient_code", "—"),
    ] {
        assert_eq!(imported_value(text, column), value, "{column}");
    }
    // QC: the historical record, never "pending", with the row's cell count and viability.
    assert!(!text.contains("pendiente</span>"), "{text}");
    assert!(text.contains("registro histórico"), "{text}");
    assert!(
        text.contains(r#"<dd id="qc-viabilidad">94,1 %</dd>"#)
            && text.contains(r#"<dd id="qc-recuento">125000000</dd>"#),
        "{text}"
    );

    // In English.
    let en = api
        .site(Method::GET, "/lotes/GRA-UPCIT-2018-00003")
        .header("cookie", &format!("{}; traza_idioma=en", lucia.cookie))
        .send_page()
        .await;
    assert_eq!(en.status.as_u16(), 200, "{}", en.text);
    assert!(en.text.contains(">Imported</h2>"), "{}", en.text);
    assert!(en.text.contains("historical record"), "{}", en.text);
    assert_eq!(imported_value(&en.text, "viability_percent"), "94.1 %");
    assert!(!en.text.contains(">pending</span>"), "{}", en.text);

    // A batch made in Traza has no such section.
    let marta = api.token(MARTA).await;
    let made = api
        .create_batch(&marta, allo_batch("DON-HIST-0001", &days_ago(3), 2))
        .await;
    let number = made["batch_number"].as_str().expect("a number");
    let own = lucia.page(&api, &format!("/lotes/{number}")).await;
    assert!(!own.text.contains(r#"id="importado""#), "{}", own.text);
    assert!(own.text.contains("pendiente</span>"), "{}", own.text);
}

#[both_backends]
async fn the_imported_values_survive_a_later_correction(api: Api) {
    import_sample(&api).await;
    let rocio = api.token(ROCIO).await;
    let (_, version) = api.batch(&rocio, "SEV-UPRC-2021-00044").await;
    api.patch("/batches/SEV-UPRC-2021-00044")
        .token(&rocio)
        .if_match(version)
        .json(json!({"reason": "volumen mal transcrito", "volume_ml": "72"}))
        .send()
        .await
        .ok(200);
    let page = Browser::of(&api, ROCIO)
        .await
        .page(&api, "/lotes/SEV-UPRC-2021-00044")
        .await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.text);
    assert_eq!(
        imported_value(&page.text, "volume_ml"),
        r#"70 ml <span class="muted">(ahora: 72 ml)</span>"#
    );
    assert_eq!(imported_value(&page.text, "cell_count"), "2500000");
    assert!(
        page.text.contains("Algunos valores han cambiado"),
        "{}",
        page.text
    );
    // A batch in quarantine still needs its results recorded here to be certified.
    assert!(
        page.text
            .contains("Para certificar este lote en Traza hay que registrar"),
        "{}",
        page.text
    );
}

/// A multipart form as a browser sends it: text fields, then one file.
fn multipart(boundary: &str, fields: &[(&str, &str)], file: (&str, &[u8])) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\ncontent-disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    let (file_name, bytes) = file;
    body.extend_from_slice(
        format!(
            "--{boundary}\r\ncontent-disposition: form-data; name=\"fichero\"; filename=\"{file_name}\"\r\ncontent-type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

async fn upload(api: &Api, b: &Browser, mode: &str, name: &str, file: &[u8]) -> Resp {
    let csrf = csrf_of(api, b).await;
    let boundary = "traza-prueba-usuarios";
    api.site(Method::POST, "/importar")
        .header("cookie", &b.cookie)
        .raw(
            Some(&format!("multipart/form-data; boundary={boundary}")),
            multipart(boundary, &[("csrf", &csrf), ("modo", mode)], (name, file)),
        )
        .send_page()
        .await
}

fn history_row(n: u32) -> String {
    format!(
        "GRA-UPCIT-2016-{n:05},MSC-AD-ALO,GRA-UPCIT,allogeneic,DON-HIST-{n:05},2016-04-01,2016-04-22,rejected,clinical_trial,2015-001726-39,lote {n}\n"
    )
}

const HISTORY_HEADER: &str = "batch_number,product_code,lab_code,origin,donor_code,manufacturing_start,manufacturing_end,status,access_route,trial_id,notes\n";

#[both_backends]
async fn the_import_result_links_to_the_batches_it_created(api: Api) {
    let lucia = Browser::of(&api, LUCIA).await;
    let numbers = [
        "GRA-UPCIT-2017-00012",
        "GRA-UPCIT-2018-00003",
        "GRA-UPCIT-2018-00007",
        "SEV-UPRC-2021-00044",
        "MAL-CRTS-2020-00101",
    ];

    // A dry run creates nothing, so links to nothing.
    let dry = upload(&api, &lucia, "prueba", "lotes.csv", SAMPLE).await;
    assert_eq!(dry.status.as_u16(), 200, "{}", dry.text);
    assert!(!dry.text.contains(r#"id="lotes-creados""#), "{}", dry.text);

    let done = upload(&api, &lucia, "aplicar", "lotes.csv", SAMPLE).await;
    assert_eq!(done.status.as_u16(), 200, "{}", done.text);
    for n in numbers {
        assert!(
            done.text
                .contains(&format!(r#"<a href="/lotes/{n}">{n}</a>"#)),
            "{n}: {}",
            done.text
        );
    }
    // Each link leads to the batch's page, which names this import.
    let page = lucia.page(&api, "/lotes/MAL-CRTS-2020-00101").await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.text);
    assert!(
        page.text.contains(r#"<td class="linea">7</td>"#),
        "{}",
        page.text
    );

    // A file with a row stored already and a new one: only the new one was created.
    let first = format!("{HISTORY_HEADER}{}", history_row(1));
    let again = upload(&api, &lucia, "aplicar", "uno.csv", first.as_bytes()).await;
    assert!(
        again.text.contains("/lotes/GRA-UPCIT-2016-00001"),
        "{}",
        again.text
    );
    let both = format!("{HISTORY_HEADER}{}{}", history_row(1), history_row(2));
    let r = upload(&api, &lucia, "aplicar", "dos.csv", both.as_bytes()).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert!(
        r.text
            .contains(r#"<a href="/lotes/GRA-UPCIT-2016-00002">GRA-UPCIT-2016-00002</a>"#),
        "{}",
        r.text
    );
    assert!(
        !r.text.contains(r#"<a href="/lotes/GRA-UPCIT-2016-00001">"#),
        "an unchanged row is not a created batch: {}",
        r.text
    );
}
