//! The network's pages as the coordination unit and the laboratories use them (issue 21):
//! laboratory status, GMP certificates, classes and specialisations in words; the assignments
//! in force on `/red`, ended ones on their own page, each with a page that ends it and says
//! why it cannot in words about an assignment; a refused assignment keeping what was typed;
//! a product's page where the coordinator keeps the registry's words; the public registry
//! linking trial ids to the EU registers.

use axum::http::Method;
use chrono::NaiveDate;
use serde_json::{Value, json};

use crate::pages::{Browser, events};
use crate::support::*;

/// A date as the Spanish pages show it.
fn es_date(iso: &str) -> String {
    let d: NaiveDate = iso.parse().expect("an ISO date");
    d.format("%d/%m/%Y").to_string()
}

/// The table row of a page that holds `key` (a laboratory's code, an assignment's product).
fn row<'a>(page: &'a str, key: &str) -> &'a str {
    page.split("<tr>")
        .find(|r| r.contains(&format!("<td>{key}</td>")))
        .and_then(|r| r.split("</tr>").next())
        .unwrap_or_else(|| panic!("no row with {key}: {page}"))
}

/// Every table of a page sits in a box that scrolls by itself, so a phone never scrolls the
/// page sideways.
fn tables_scroll(page: &str) {
    let tables = page.matches("<table").count();
    let boxed = page.matches(r#"<div class="scroll"><table"#).count();
    assert!(tables > 0, "{page}");
    assert_eq!(tables, boxed, "a table outside a scrolling box: {page}");
}

async fn assignments(api: &Api, query: &str) -> Vec<Value> {
    let token = api.token(LUCIA).await;
    api.get(&format!("/assignments{query}"))
        .token(&token)
        .send()
        .await
        .ok(200)["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The id of the assignment of `product` to `lab` by `route`.
async fn assignment_id(api: &Api, product: &str, lab: &str, route: &str) -> i64 {
    assignments(api, &format!("?product={product}&lab={lab}"))
        .await
        .iter()
        .find(|a| a["access_route"] == route)
        .and_then(|a| a["id"].as_i64())
        .unwrap_or_else(|| panic!("no assignment of {product} to {lab} by {route}"))
}

async fn product(api: &Api, code: &str) -> Value {
    let token = api.token(LUCIA).await;
    api.get(&format!("/products/{code}"))
        .token(&token)
        .send()
        .await
        .ok(200)
}

#[both_backends]
async fn laboratories_read_in_words_status_certificate_and_specialisations(api: Api) {
    let lucia = api.token(LUCIA).await;
    // Certificates relative to today, whatever day the test runs.
    for (lab, until) in [("GRA-CMAT", days_ahead(12)), ("SEV-HUVM", days_ago(3))] {
        api.patch(&format!("/labs/{lab}"))
            .token(&lucia)
            .json(json!({"gmp_certificate_valid_until": until}))
            .send()
            .await
            .ok(200);
    }
    let marta = Browser::of(&api, MARTA).await;
    let page = marta.page(&api, "/red").await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.text);
    let page = page.text;

    // Suspended, training-only and active laboratories say so.
    assert!(row(&page, "GRA-HCSC").contains("Suspendido"), "{page}");
    let cmat = row(&page, "GRA-CMAT");
    assert!(cmat.contains("Solo formación"), "{cmat}");
    assert!(!cmat.contains(">Activo<"), "{cmat}");
    assert!(row(&page, "GRA-UPCIT").contains("Activo"), "{page}");

    // Certificates in words, with their date, not by colour alone.
    assert!(
        cmat.contains(&format!("caduca en 12 días ({})", es_date(&days_ahead(12)))),
        "{cmat}"
    );
    let huvm = row(&page, "SEV-HUVM");
    assert!(
        huvm.contains(&format!("caducado hace 3 días ({})", es_date(&days_ago(3)))),
        "{huvm}"
    );
    assert!(huvm.contains(r#"class="expired""#), "{huvm}");
    assert!(
        row(&page, "GRA-UPCIT").contains("vigente hasta el 31/03/2028"),
        "{page}"
    );

    // Specialisations, classes and origins in words, never as codes.
    let upcit = row(&page, "GRA-UPCIT");
    assert!(
        upcit.contains("Terapia celular somática") && upcit.contains("Ingeniería tisular"),
        "{upcit}"
    );
    let cart = row(&page, "CART-CD19");
    assert!(
        cart.contains("Terapia génica") && cart.contains("Autólogo"),
        "{cart}"
    );
    for code in [
        "somatic_cell_therapy",
        "tissue_engineered",
        "gene_therapy",
        "autologous",
        "allogeneic",
    ] {
        assert!(!page.contains(&format!(">{code}")), "{code} shown: {page}");
        assert!(!page.contains(&format!(", {code}")), "{code} shown: {page}");
    }
    // Products link to their own page; no end form for anyone on this page.
    assert!(
        page.contains(r#"href="/red/productos/CART-CD19""#),
        "{page}"
    );
    assert!(!page.contains("/fin\""), "{page}");
    tables_scroll(&page);

    // The same in English.
    let english = api
        .site(Method::GET, "/red")
        .header("cookie", &format!("{}; traza_idioma=en", marta.cookie))
        .send_page()
        .await
        .text;
    let cmat = row(&english, "GRA-CMAT");
    assert!(
        cmat.contains("Training only") && cmat.contains("expires in 12 days"),
        "{cmat}"
    );
    assert!(row(&english, "GRA-HCSC").contains("Suspended"), "{english}");
    assert!(
        row(&english, "SEV-HUVM").contains("expired 3 days ago"),
        "{english}"
    );
    assert!(
        row(&english, "GRA-UPCIT").contains("Somatic cell therapy"),
        "{english}"
    );
}

#[both_backends]
async fn ended_assignments_have_their_own_page_and_red_stays_short(api: Api) {
    let lucia = Browser::of(&api, LUCIA).await;
    let ended = assignment_id(&api, SKIN, GRA, "clinical_trial").await;
    let current = assignment_id(&api, SKIN, GRA, "hospital_exemption").await;

    let red = lucia.page(&api, "/red").await.text;
    assert!(
        red.contains(&format!(r#"href="/red/asignaciones/{current}""#)),
        "{red}"
    );
    assert!(
        !red.contains(&format!(r#"href="/red/asignaciones/{ended}""#)),
        "an ended assignment is not among the current ones: {red}"
    );
    assert!(
        red.contains(r#"href="/red/asignaciones/terminadas""#),
        "{red}"
    );
    // No form per assignment on the network page: each has its own page.
    assert!(!red.contains(r#"/fin""#), "{red}");

    let page = lucia.page(&api, "/red/asignaciones/terminadas").await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.text);
    assert!(
        page.text
            .contains(&format!(r#"href="/red/asignaciones/{ended}""#)),
        "{}",
        page.text
    );
    assert!(page.text.contains("30/06/2024"), "{}", page.text);
    assert!(
        !page
            .text
            .contains(&format!(r#"href="/red/asignaciones/{current}""#)),
        "{}",
        page.text
    );
    tables_scroll(&page.text);

    // An ended assignment's page has no end form; an unknown one is not found.
    let one = lucia
        .page(&api, &format!("/red/asignaciones/{ended}"))
        .await
        .text;
    assert!(one.contains("Terminada"), "{one}");
    assert!(!one.contains(r#"id="terminar""#), "{one}");
    for missing in ["/red/asignaciones/999999", "/red/asignaciones/nada"] {
        let r = lucia.page(&api, missing).await;
        assert_eq!(r.status.as_u16(), 404, "{missing}: {}", r.text);
    }
}

#[both_backends]
async fn an_assignment_ends_on_its_page_and_a_refusal_speaks_of_the_assignment(api: Api) {
    let lucia = Browser::of(&api, LUCIA).await;
    let token = api.token(LUCIA).await;
    // An assignment that starts next month: ending it today is ending it before it starts.
    let upcoming = api
        .post("/assignments")
        .token(&token)
        .json(json!({"product_code": "MSC-AD-AUT", "lab_code": "MAL-HRU",
                      "access_route": "compassionate_use", "authorisation_ref": "AEMPS/UC/2026/0999",
                      "valid_from": days_ahead(30), "reason": "Uso compasivo a partir del mes próximo"}))
        .send()
        .await
        .ok(201);
    let id = upcoming["id"].as_i64().expect("an id");
    let path = format!("/red/asignaciones/{id}");

    let page = lucia.page(&api, &path).await.text;
    assert!(page.contains("Próxima"), "{page}");
    assert!(page.contains(r#"id="terminar""#), "{page}");
    // The form offers the first day the assignment may end on, never an earlier one.
    assert!(
        page.contains(&format!(r#"value="{}""#, days_ahead(30))),
        "{page}"
    );
    assert!(
        page.contains(&format!(r#"min="{}""#, days_ahead(30))),
        "{page}"
    );

    let before = events(&api).await;
    let refused = lucia
        .post(
            &api,
            &format!("{path}/fin"),
            &[("until", &today()), ("reason", "Se retira la solicitud")],
            None,
        )
        .await;
    assert_eq!(refused.status.as_u16(), 409, "{}", refused.text);
    let text = &refused.text;
    assert!(
        text.contains("La asignación no puede terminar en esa fecha"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "La asignación empieza el {}",
            es_date(&days_ahead(30))
        )),
        "{text}"
    );
    assert!(!text.contains("El lote"), "a batch's words: {text}");
    assert!(
        text.contains(r#"value="Se retira la solicitud""#),
        "typed reason kept: {text}"
    );
    assert_eq!(events(&api).await, before, "a refusal writes nothing");

    // Lengthening an assignment that already has an end is refused in words too.
    let mal = assignment_id(&api, "MSC-AD-AUT", "MAL-HRU", "clinical_trial").await;
    let ended_today = lucia
        .post(
            &api,
            &format!("/red/asignaciones/{mal}/fin"),
            &[("until", &today()), ("reason", "Cierre del ensayo")],
            None,
        )
        .await;
    assert_eq!(ended_today.status.as_u16(), 303, "{}", ended_today.text);
    assert_eq!(
        ended_today.header("location").as_deref(),
        Some(format!("/red/asignaciones/{mal}?hecho=terminada").as_str())
    );
    assert_eq!(events(&api).await, before + 1);
    let later = lucia
        .post(
            &api,
            &format!("/red/asignaciones/{mal}/fin"),
            &[("until", &days_ahead(10)), ("reason", "Ampliación")],
            None,
        )
        .await;
    assert_eq!(later.status.as_u16(), 409, "{}", later.text);
    assert!(
        later.text.contains(&format!(
            "La asignación ya termina el {}",
            es_date(&today())
        )),
        "{}",
        later.text
    );
    assert_eq!(events(&api).await, before + 1);

    // The page after ending: in force until today, the end and its reason in the history.
    let done = lucia
        .page(&api, &format!("/red/asignaciones/{mal}?hecho=terminada"))
        .await
        .text;
    assert!(done.contains("Asignación terminada."), "{done}");
    assert!(done.contains("Cierre del ensayo"), "{done}");
    let stored = assignments(&api, "?product=MSC-AD-AUT&lab=MAL-HRU").await;
    let stored = stored
        .iter()
        .find(|a| a["id"] == mal)
        .expect("the assignment");
    assert_eq!(stored["valid_until"], today());

    // Laboratory staff see an assignment but no form to end it, and may not end one.
    let marta = Browser::of(&api, MARTA).await;
    let seen = marta.page(&api, &path).await;
    assert_eq!(seen.status.as_u16(), 200, "{}", seen.text);
    assert!(!seen.text.contains(r#"id="terminar""#), "{}", seen.text);
    let forbidden = marta
        .post(
            &api,
            &format!("{path}/fin"),
            &[("until", &days_ahead(40)), ("reason", "no")],
            None,
        )
        .await;
    assert_eq!(forbidden.status.as_u16(), 403, "{}", forbidden.text);
    assert_eq!(events(&api).await, before + 1);
}

#[both_backends]
async fn a_refused_assignment_keeps_what_was_typed_and_says_why(api: Api) {
    let lucia = Browser::of(&api, LUCIA).await;
    let before = events(&api).await;
    let r = lucia
        .post(
            &api,
            "/red/asignaciones",
            &[
                ("product_code", CART),
                ("lab_code", "GRA-CMAT"),
                ("access_route", "clinical_trial"),
                ("authorisation_ref", "2019-001472-33"),
                ("valid_from", &days_ahead(2)),
                ("valid_until", ""),
                ("reason", "Formación en CAR-T con material de ensayo"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status.as_u16(), 409, "{}", r.text);
    let text = &r.text;
    assert!(
        text.contains("El laboratorio no puede recibir esta asignación"),
        "{text}"
    );
    // Every reason, each in words with what it is about.
    assert!(
        text.contains("el laboratorio es solo de formación"),
        "{text}"
    );
    assert!(
        text.contains("el laboratorio no tiene la especialidad del producto: Terapia génica"),
        "{text}"
    );
    assert!(!text.contains("training only"), "English details: {text}");
    // What was typed is still there.
    assert!(
        text.contains(r#"<option value="GRA-CMAT" selected>"#),
        "{text}"
    );
    assert!(
        text.contains(r#"<option value="CART-CD19" selected>"#),
        "{text}"
    );
    assert!(
        text.contains(r#"<option value="clinical_trial" selected>"#),
        "{text}"
    );
    assert!(text.contains(r#"value="2019-001472-33""#), "{text}");
    assert!(
        text.contains(&format!(r#"value="{}""#, days_ahead(2))),
        "{text}"
    );
    assert!(
        text.contains(r#"value="Formación en CAR-T con material de ensayo""#),
        "{text}"
    );
    assert_eq!(events(&api).await, before);

    // A form without a reason: refused by field, the rest kept.
    let r = lucia
        .post(
            &api,
            "/red/asignaciones",
            &[
                ("product_code", ALLO),
                ("lab_code", "COR-IMIBIC"),
                ("access_route", "compassionate_use"),
                ("valid_from", &today()),
                ("reason", " "),
            ],
            None,
        )
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.text);
    assert!(r.text.contains("Motivo: es obligatorio"), "{}", r.text);
    assert!(
        r.text.contains(r#"<option value="COR-IMIBIC" selected>"#),
        "{}",
        r.text
    );
    assert_eq!(events(&api).await, before);

    // A good one is made, and the network page says so.
    let r = lucia
        .post(
            &api,
            "/red/asignaciones",
            &[
                ("product_code", ALLO),
                ("lab_code", "COR-IMIBIC"),
                ("access_route", "compassionate_use"),
                ("authorisation_ref", "AEMPS/UC/2026/1001"),
                ("valid_from", &today()),
                ("reason", "Capacidad adicional en Córdoba"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);
    assert_eq!(events(&api).await, before + 1);
}

#[both_backends]
async fn the_coordinator_keeps_a_products_registry_words_on_its_page(api: Api) {
    let lucia = Browser::of(&api, LUCIA).await;
    let page = lucia.page(&api, "/red/productos/CART-CD19").await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.text);
    let text = &page.text;
    // The product in words, its specification, its assignments, the words form.
    for words in [
        "Linfocitos T autólogos CAR anti-CD19",
        "Terapia génica",
        "Autólogo",
        "Ensayo clínico",
        "Uso compasivo",
        "365 días",
        "linfoma, leucemia linfoblástica aguda",
        "Numérico",
        "Cualitativo",
        "negativo, positivo",
        "Obligatorio para liberar",
        "SEV-UPRC",
        "COR-HURS",
        r#"id="palabras""#,
    ] {
        assert!(text.contains(words), "{words}: {text}");
    }
    assert!(text.contains("<td>≥ 70</td>"), "{text}");
    tables_scroll(text);

    let before = events(&api).await;
    let r = lucia
        .post(
            &api,
            "/red/productos/CART-CD19",
            &[
                ("indications", "linfoma\nleucemia linfoblástica aguda\n\n"),
                (
                    "keywords",
                    "CAR-T\ninmunoterapia\nlinfocitos zeta-modificados\nCAR-T",
                ),
            ],
            None,
        )
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);
    assert_eq!(
        r.header("location").as_deref(),
        Some("/red/productos/CART-CD19?hecho=palabras")
    );
    assert_eq!(events(&api).await, before + 1, "one audited change");
    let p = product(&api, CART).await;
    assert_eq!(
        p["keywords"],
        json!(["CAR-T", "inmunoterapia", "linfocitos zeta-modificados"])
    );
    assert_eq!(
        p["indications"],
        json!(["linfoma", "leucemia linfoblástica aguda"])
    );
    let shown = lucia
        .page(&api, "/red/productos/CART-CD19?hecho=palabras")
        .await
        .text;
    assert!(shown.contains("Palabras del registro guardadas"), "{shown}");

    // The public registry finds the new word (its cache lives two seconds).
    let started = std::time::Instant::now();
    loop {
        let found = api
            .get("/registro?q=ZETA%20modificados")
            .send_page()
            .await
            .text;
        if found.contains("Linfocitos T autólogos CAR anti-CD19") {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "not found after 5 s: {found}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    // The same words again change nothing and write nothing.
    let r = lucia
        .post(
            &api,
            "/red/productos/CART-CD19",
            &[
                ("indications", "linfoma\nleucemia linfoblástica aguda"),
                (
                    "keywords",
                    "CAR-T\ninmunoterapia\nlinfocitos zeta-modificados",
                ),
            ],
            None,
        )
        .await;
    assert_eq!(r.status.as_u16(), 303, "{}", r.text);
    assert_eq!(events(&api).await, before + 1);

    // A word too long is refused in words, what was typed kept, nothing written.
    let long = "x".repeat(81);
    let r = lucia
        .post(
            &api,
            "/red/productos/CART-CD19",
            &[
                ("indications", "linfoma"),
                ("keywords", &format!("CAR-T\n{long}")),
            ],
            None,
        )
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.text);
    assert!(
        r.text
            .contains("Palabras clave: cada término debe tener de 1 a 80 caracteres"),
        "{}",
        r.text
    );
    assert!(r.text.contains(&long), "typed kept: {}", r.text);
    assert_eq!(events(&api).await, before + 1);

    // Too many words: the store's limit, said in words, what was typed kept.
    let many: Vec<String> = (1..=41).map(|n| format!("término {n}")).collect();
    let r = lucia
        .post(
            &api,
            "/red/productos/CART-CD19",
            &[("indications", &many.join("\n")), ("keywords", "CAR-T")],
            None,
        )
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.text);
    assert!(
        r.text
            .contains("Indicaciones (enfermedades que trata): como mucho 40 términos"),
        "{}",
        r.text
    );
    assert!(r.text.contains("término 41"), "typed kept: {}", r.text);
    assert_eq!(events(&api).await, before + 1);
}

#[both_backends]
async fn laboratory_staff_read_a_product_but_may_not_change_its_words(api: Api) {
    let marta = Browser::of(&api, MARTA).await;
    let page = marta.page(&api, "/red/productos/UGRSKIN").await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.text);
    assert!(page.text.contains("Ingeniería tisular"), "{}", page.text);
    assert!(!page.text.contains(r#"id="palabras""#), "{}", page.text);

    let before = events(&api).await;
    let r = marta
        .post(
            &api,
            "/red/productos/UGRSKIN",
            &[("indications", "todo"), ("keywords", "milagro")],
            None,
        )
        .await;
    assert_eq!(r.status.as_u16(), 403, "{}", r.text);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/html")),
        "a refusal is a page"
    );
    assert_eq!(events(&api).await, before, "nothing written");
    assert_eq!(
        product(&api, SKIN).await["keywords"],
        json!(["piel artificial", "ingeniería tisular"])
    );

    let missing = marta.page(&api, "/red/productos/NO-EXISTE").await;
    assert_eq!(missing.status.as_u16(), 404, "{}", missing.text);
}

#[both_backends]
async fn the_network_forms_refuse_a_missing_or_foreign_csrf_token(api: Api) {
    let lucia = Browser::of(&api, LUCIA).await;
    let andres = Browser::of(&api, "andres.campos").await;
    let id = assignment_id(&api, "LSC-ALO", GRA, "compassionate_use").await;
    let before = events(&api).await;
    let foreign = andres
        .page(&api, "/red")
        .await
        .text
        .split(r#"name="csrf" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(str::to_owned)
        .expect("a CSRF token");
    let today = today();
    let forms: [(String, Vec<(&str, &str)>); 3] = [
        (
            "/red/productos/UGRSKIN".to_owned(),
            vec![("indications", "quemaduras"), ("keywords", "milagro")],
        ),
        (
            format!("/red/asignaciones/{id}/fin"),
            vec![("until", today.as_str()), ("reason", "sin token")],
        ),
        (
            "/red/asignaciones".to_owned(),
            vec![
                ("product_code", "LSC-ALO"),
                ("lab_code", "SEV-UPRC"),
                ("access_route", "compassionate_use"),
                ("valid_from", today.as_str()),
                ("reason", "sin token"),
            ],
        ),
    ];
    for (path, fields) in &forms {
        for csrf in ["", foreign.as_str()] {
            let r = lucia.post(&api, path, fields, Some(csrf)).await;
            assert_eq!(r.status.as_u16(), 403, "{path} {csrf:?}: {}", r.text);
        }
    }
    assert_eq!(events(&api).await, before, "a refused form writes nothing");
    assert_eq!(
        product(&api, SKIN).await["keywords"],
        json!(["piel artificial", "ingeniería tisular"])
    );
}

#[both_backends]
async fn the_registry_shows_classes_in_words_and_links_trials_to_the_eu_register(api: Api) {
    let page = api.get("/registro?q=anti-BCMA").send_page().await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.text);
    let text = &page.text;
    assert!(text.contains("Terapia génica · Autólogo"), "{text}");
    assert!(!text.contains("gene_therapy"), "{text}");
    // An EU CT number links to CTIS.
    assert!(
        text.contains(
            r#"href="https://euclinicaltrials.eu/search-for-clinical-trials/?lang=en&amp;EUCT=2023-503817-22-00""#
        ),
        "{text}"
    );
    // An older EudraCT number links to the EU Clinical Trials Register.
    let msc = api.get("/registro?q=mesenquimales").send_page().await.text;
    assert!(
        msc.contains(&format!(
            r#"href="https://www.clinicaltrialsregister.eu/ctr-search/search?query={ALLO_TRIAL}""#
        )),
        "{msc}"
    );
    assert!(msc.contains("Terapia celular somática"), "{msc}");
    // In English too.
    let english = api
        .get("/registro?q=anti-BCMA")
        .header("accept-language", "en")
        .send_page()
        .await
        .text;
    assert!(english.contains("Gene therapy · Autologous"), "{english}");
}
