//! The web application driven in headless Chromium (WebDriver, `chromedriver`), end to end
//! against `traza serve` on a fresh SQLite database with the fixture network: laboratory
//! staff make a batch, QA is shown why it cannot be released and then releases it, the
//! coordination unit reads the dashboard, and a Spanish Excel file with an error is checked,
//! fixed and imported. A screenshot of every page visited is saved under
//! `target/browser-screenshots/` (the artefacts of the run).
//!
//! Needs `chromium` and `chromium-driver` (Debian). Without them the test says so and passes,
//! unless `TRAZA_REQUIRE_BROWSER=1` (set by `.ci/run`), when their absence is a failure.

mod common;
#[path = "browser/guided.rs"]
mod guided;
#[path = "browser/harness.rs"]
mod harness;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use fantoccini::{ClientBuilder, Locator};
use harness::{Browser, Killed, LAPTOP, PHONE, free_port, screenshots};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

fn windows_1252(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c {
            'á' => 0xE1,
            'é' => 0xE9,
            'í' => 0xED,
            'ó' => 0xF3,
            'ú' => 0xFA,
            'ñ' => 0xF1,
            c => u8::try_from(c).expect("the sample is ASCII or Spanish letters"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_qa_and_coordination_work_through_the_pages() {
    if !Path::new(CHROMEDRIVER).exists() || !Path::new(CHROMIUM).exists() {
        assert!(
            std::env::var("TRAZA_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "TRAZA_REQUIRE_BROWSER=1 but {CHROMIUM} or {CHROMEDRIVER} is missing"
        );
        eprintln!("browser test skipped: install chromium and chromium-driver to run it");
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    // The shared harness's copy of the fixture network (a failed run's copy is removed by the
    // next run of any test).
    let kit = traza_testkit::TestDb::new(
        traza_testkit::Backend::Sqlite,
        traza_testkit::Contents::Network,
        "browser",
    )
    .await
    .expect("a SQLite test database");
    let db = kit.url.clone();
    let (server, addr) = common::serve(&db);
    let _server = Killed(server);

    let port = free_port();
    let driver = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let _driver = Killed(driver);
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1366,768", "--lang=es-ES"],
            "prefs": {"intl.accept_languages": "es-ES,es"}
        }),
    );
    let mut client = None;
    for _ in 0..50 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => {
                client = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let b = Browser {
        client: client.expect("chromedriver answers"),
        base: format!("http://{addr}"),
        shots: screenshots(),
        visited: Default::default(),
        user: std::sync::Mutex::new("anonimo".to_owned()),
    };

    // Not logged in: the login page, in Spanish.
    b.open("/lotes").await;
    assert_eq!(b.path().await, "/entrar");
    assert!(b.body().await.contains("Contraseña"));
    b.shot("01-entrar").await;

    // The public registry, without logging in: search by name without accents, and a therapy
    // that is not authorised.
    b.open("/registro").await;
    assert!(b.body().await.contains("Las tres vías de acceso"));
    b.fill("#q", "condrocitos").await;
    b.submit("form[action='/registro'] button.primary").await;
    let found = b.body().await;
    assert!(found.contains("Condrocitos autólogos"), "{found}");
    assert!(found.contains("1 terapia encontrada"), "{found}");
    b.shot("00-registro").await;
    b.fill("#q", "células madre milagro").await;
    b.submit("form[action='/registro'] button.primary").await;
    assert!(
        b.text("#no-listada")
            .await
            .contains("La búsqueda no ha encontrado nada")
    );

    // Laboratory staff of Granada make an allogeneic MSC batch.
    b.login("marta.jimenez", "demo-tecnico-granada-1").await;
    assert_eq!(b.path().await, "/lotes");
    b.shot("02-lotes").await;
    b.open("/lotes/nuevo").await;
    let offered = b.text("#assignment").await;
    assert!(
        offered.contains("GRA-UPCIT"),
        "only Granada's assignments: {offered}"
    );
    assert!(!offered.contains("SEV-UPRC"), "{offered}");
    let option = b
        .find("#assignment option[data-product=MSC-AD-ALO]")
        .await
        .attr("value")
        .await
        .expect("an attribute")
        .expect("a value");
    b.select("#assignment", &option).await;
    // The form's script is a file of the site (it runs under the Content-Security-Policy,
    // which refuses inline scripts): for an allogeneic product it hides the patient field,
    // and it fills the trial id from the clinical-trial assignment.
    let patient_shown = b
        .find("#patient_block")
        .await
        .is_displayed()
        .await
        .expect("visibility");
    assert!(!patient_shown, "no patient field for an allogeneic product");
    let trial = b
        .find("#trial_id")
        .await
        .prop("value")
        .await
        .expect("a property")
        .unwrap_or_default();
    assert_eq!(trial, "2015-001726-39", "the assignment's trial");
    b.fill("#donor_code", "DON-WEB-0001").await;
    b.fill("#doses", "3").await;
    b.shot("03-nuevo-lote").await;
    b.submit("form[action='/lotes/nuevo'] button.primary").await;
    let batch_path = b.path().await;
    assert!(batch_path.starts_with("/lotes/GRA-UPCIT-"), "{batch_path}");
    assert!(b.body().await.contains("Lote creado."));

    // QC results against the specification, a Spanish decimal comma among them.
    let results = [
        ("viability", "92,5"),
        ("cd73", "98"),
        ("cd90", "97"),
        ("cd105", "96"),
        ("cd45", "1"),
        ("sterility", "no_growth"),
        ("mycoplasma", "negative"),
    ];
    for (test, value) in results {
        b.select("#qc_test", test).await;
        b.fill("#qc_value", value).await;
        b.submit("form[action$='/qc'] button.primary").await;
        let page = b.body().await;
        assert!(
            page.contains("Resultado de control de calidad registrado."),
            "{test}: {page}"
        );
    }
    let page = b.body().await;
    assert!(page.contains("92,5"), "shown with a decimal comma");
    assert!(
        !page.contains("Fuera de especificación"),
        "every result passes"
    );
    b.fill("#step", "expansion").await;
    b.submit("form[action$='/paso'] button").await;
    assert!(b.body().await.contains("Paso registrado."));
    b.fill(
        "#dev_description",
        "Temperatura del incubador 0,5 ºC fuera de rango durante 10 min",
    )
    .await;
    b.submit("form[action$='/desviacion'] button").await;
    assert!(b.body().await.contains("Desviación abierta."));
    // Ending manufacture with the deviation open asks first, naming it.
    let missing = b.text("form[action$='/completar'] .notice").await;
    assert!(missing.contains("desviación abierta"), "{missing}");
    b.find("form[action$='/completar'] input[name=confirmar]")
        .await
        .click()
        .await
        .expect("tick the confirmation");
    b.submit("form[action$='/completar'] button.primary").await;
    assert!(b.body().await.contains("Cuarentena"));
    b.shot_whole("04-lote-en-cuarentena").await;

    // QA: the release queue says what blocks it; the release page lists the rule.
    b.login("isabel.morales", "demo-calidad-granada").await;
    assert_eq!(b.path().await, "/liberacion");
    let number = batch_path.trim_start_matches("/lotes/").to_owned();
    let queue = b.body().await;
    assert!(queue.contains(&number), "{queue}");
    assert!(queue.contains("hay una desviación abierta"), "{queue}");
    b.shot_whole("05-cola-de-liberacion").await;
    b.open(&format!("{batch_path}/liberar")).await;
    let rules = b.text("#bloqueos").await;
    assert!(rules.contains("desviación abierta"), "{rules}");
    assert!(
        b.client.find(Locator::Css("#password")).await.is_err(),
        "no signature while blocked"
    );
    b.shot("06-liberacion-bloqueada").await;
    b.open(&batch_path).await;
    b.fill(
        "textarea[name=resolution]",
        "Sin impacto: dentro de la tolerancia validada",
    )
    .await;
    b.submit("form[action*='/cerrar-'] button").await;
    assert!(b.body().await.contains("Desviación cerrada."));
    b.open(&format!("{batch_path}/liberar")).await;
    assert!(b.body().await.contains("Se cumplen todas las reglas"));
    // A wrong password is refused and nothing is signed.
    b.fill("#password", "no-es-la-clave").await;
    b.submit("form[action$='/liberar'] button.primary").await;
    assert!(
        b.body()
            .await
            .contains("La contraseña de la firma no es correcta")
    );
    b.fill("#password", "demo-calidad-granada").await;
    b.shot("07-firma").await;
    b.submit("form[action$='/liberar'] button.primary").await;
    let released = b.body().await;
    assert!(
        released.contains("Lote certificado y liberado."),
        "{released}"
    );
    assert!(
        released.contains("Isabel Morales"),
        "the printed name on the signature"
    );
    assert!(
        released.contains("CET") || released.contains("CEST"),
        "times in Madrid's zone"
    );
    b.shot("08-lote-liberado").await;

    // Biovigilance: two patients receive the batch; the second reacts. QA reports it from
    // the administration, and the look-back names the other patient.
    for patient in ["PAC-WEB-01", "PAC-WEB-02"] {
        b.fill("#adm_patient", patient).await;
        b.fill(
            "#adm_hospital",
            "Hospital Universitario Virgen de las Nieves",
        )
        .await;
        b.submit("form[action$='/administracion'] button.primary")
            .await;
        assert!(b.body().await.contains("Administración registrada."));
    }
    b.submit("section[aria-labelledby=adm] tbody tr:nth-child(2) a[href$='/reaccion']")
        .await;
    assert!(b.path().await.ends_with("/reaccion"));
    let form = b.body().await;
    assert!(
        form.contains("PAC-WEB-02"),
        "the report form names the administration: {form}"
    );
    b.select("#severity", "serious").await;
    b.select("#imputability", "probable").await;
    b.fill(
        "#description",
        "Fiebre de 39 °C y disnea a las 4 horas de la infusión",
    )
    .await;
    b.submit("form[action$='/reaccion'] button.primary").await;
    let reaction_path = b.path().await;
    assert!(reaction_path.starts_with("/vigilancia/"), "{reaction_path}");
    let reported = b.body().await;
    assert!(reported.contains("Reacción notificada."), "{reported}");
    assert!(reported.contains("ABIERTA"));
    let follow_up = b.text("section[aria-labelledby=retener]").await;
    assert!(
        follow_up.contains("PAC-WEB-01"),
        "the other patient of the batch is to be followed up: {follow_up}"
    );
    assert!(
        follow_up.contains(&number),
        "the batch has a dose left: it is to be held: {follow_up}"
    );
    assert!(
        !b.text("section[aria-labelledby=notificacion]")
            .await
            .contains("Cerrada por"),
        "not closed yet"
    );
    assert!(
        b.client
            .find(Locator::Css("form[action$='/cerrar']"))
            .await
            .is_err(),
        "QA does not close a report"
    );
    b.shot("08b-reaccion-notificada").await;
    b.open(&batch_path).await;
    assert!(
        b.body()
            .await
            .contains("hay reacciones adversas abiertas sobre este lote")
    );

    // Coordination: the dashboard.
    b.login("lucia.navarro", "demo-coordina-radytta").await;
    assert_eq!(b.path().await, "/panel");
    let table = b.text("#por-estado").await;
    assert!(table.contains("GRA-UPCIT"), "{table}");
    assert!(
        b.client
            .find(Locator::Css("figure.bars a.bar-value"))
            .await
            .is_ok(),
        "bars whose numbers link to their batches"
    );
    b.shot_whole("09-panel").await;
    b.open("/red").await;
    // An assignment the network cannot take: every reason is shown, in Spanish.
    b.select("#as_product", "CART-CD19").await;
    b.select("#as_lab", "GRA-CMAT").await;
    b.select("#as_route", "clinical_trial").await;
    b.fill("#as_reason", "Prueba de formación").await;
    b.submit("form[action='/red/asignaciones'] button.primary")
        .await;
    let refused = b.body().await;
    assert!(
        refused.contains("El laboratorio no puede recibir esta asignación"),
        "{refused}"
    );
    assert!(refused.contains("solo de formación"), "{refused}");
    b.shot("10-red").await;

    // The vigilance work list; the coordinator concludes the report.
    b.open("/vigilancia").await;
    let list = b.body().await;
    assert!(
        list.contains(&number),
        "the open report is on the work list: {list}"
    );
    b.open(&reaction_path).await;
    b.fill(
        "#conclusion",
        "Reacción febril transitoria; hemocultivos negativos. Sin impacto en otros lotes.",
    )
    .await;
    b.submit("form[action$='/cerrar'] button.primary").await;
    let closed = b.body().await;
    assert!(closed.contains("Notificación cerrada."), "{closed}");
    assert!(
        b.text("section[aria-labelledby=notificacion]")
            .await
            .contains("lucia.navarro")
    );
    b.shot("10b-reaccion-cerrada").await;
    b.open("/vigilancia").await;
    assert!(!b.body().await.contains(&number), "no longer open");
    b.open("/vigilancia?estado=cerradas").await;
    assert!(b.body().await.contains(&number));

    // Import: a Spanish Excel file with an error; read the line, fix it, import it.
    let header = "batch_number;product_code;lab_code;origin;donor_code;manufacturing_start;manufacturing_end;status;access_route;trial_id;viability_percent;notes\r\n";
    let good = "GRA-UPCIT-2019-09001;MSC-AD-ALO;GRA-UPCIT;alogénico;DON-HIST-9001;01/03/2019;20/03/2019;rechazado;ensayo clínico;2015-001726-39;91,5;sin incidencias\r\n";
    let bad = "GRA-UPCIT-2019-09002;MSC-AD-ALO;GRA-UPCIT;alogénico;DON-HIST-9002;05/03/2019;22/03/2019;rechazado;ensayo clínico;2015-001726-39;noventa;revisar\r\n";
    let fixed = bad.replace("noventa", "90,0");
    let file = dir.path().join("lotes-2019.csv");
    std::fs::write(&file, windows_1252(&format!("{header}{good}{bad}"))).expect("write the file");
    b.import(&file, "prueba").await;
    let errors = b.text("#tabla-errores").await;
    let line = b.text("#tabla-errores td.linea").await;
    assert_eq!(line, "3", "the bad row is line 3: {errors}");
    b.shot("11-importacion-con-error").await;
    std::fs::write(&file, windows_1252(&format!("{header}{good}{fixed}"))).expect("fix the file");
    b.import(&file, "aplicar").await;
    assert_eq!(b.text("#creadas").await, "2", "both rows imported");
    assert_eq!(b.text("#errores").await, "0");
    b.shot("12-importacion-hecha").await;

    // Traceability from the donor of the new batch; then English.
    b.open("/trazabilidad?codigo=DON-WEB-0001").await;
    let traced = b.body().await;
    assert!(traced.contains(&number));
    assert!(
        traced.contains("Reacción #"),
        "the reaction is on the traceability view: {traced}"
    );
    b.shot("13-trazabilidad").await;
    b.submit("a.lang").await;
    assert!(b.body().await.contains("Traceability"));

    // Logging out ends the session.
    b.submit("form[action='/salir'] button").await;
    b.open("/panel").await;
    assert_eq!(b.path().await, "/entrar");

    integrity_through_the_pages(&b).await;
    guided::guided_batch_through_the_pages(&b, dir.path(), "una frase nueva y larga").await;
    let last = b.user.lock().expect("the user").clone();
    b.phone_check(&last).await;
    b.client.close().await.expect("close the browser");
    drop(_server);
    kit.remove().await;
}

/// The rules that protect patients, as the pages show them: a failing result is kept and
/// marked when its retest supersedes it; QA holds a batch and the page says why; guessing a
/// password locks the account with a message; a user changes their own password.
async fn integrity_through_the_pages(b: &Browser) {
    // Back to Spanish (the walk-through ended in English).
    b.open("/idioma?l=es&volver=/entrar").await;

    // Guessing Pablo's password: the fifth wrong one locks the account, and the page says so.
    for _ in 0..5 {
        b.open("/entrar").await;
        b.fill("#username", "pablo.ortiz").await;
        b.fill("#password", "no-es-su-clave").await;
        b.submit("button[type=submit].primary").await;
        assert!(b.body().await.contains("incorrectos"));
    }
    b.open("/entrar").await;
    b.fill("#username", "pablo.ortiz").await;
    b.fill("#password", "demo-tecnico-granada-2").await;
    b.submit("button[type=submit].primary").await;
    let locked = b.body().await;
    assert!(locked.contains("bloqueada"), "{locked}");
    b.shot("20-cuenta-bloqueada").await;

    // A failing viability, investigated and retested: both results stay, the first marked.
    b.login("marta.jimenez", "demo-tecnico-granada-1").await;
    b.open("/lotes/nuevo").await;
    let option = b
        .find("#assignment option[data-product=MSC-AD-ALO]")
        .await
        .attr("value")
        .await
        .expect("an attribute")
        .expect("a value");
    b.select("#assignment", &option).await;
    b.fill("#donor_code", "DON-WEB-0002").await;
    b.fill("#trial_id", "2015-001726-39").await;
    b.fill("#doses", "2").await;
    b.submit("form[action='/lotes/nuevo'] button.primary").await;
    let batch_path = b.path().await;
    b.select("#qc_test", "viability").await;
    b.fill("#qc_value", "50").await;
    b.submit("form[action$='/qc'] button.primary").await;
    assert!(b.body().await.contains("Fuera de especificación"));
    let failed_id = b.text("tr[id^=resultado-] td").await;
    b.select("#qc_test", "viability").await;
    b.fill("#qc_value", "95").await;
    b.submit("form[action$='/qc'] button.primary").await;
    assert!(
        b.body().await.contains("ya tiene un resultado"),
        "a second value without a retest is refused"
    );
    b.fill(
        "#dev_description",
        "Viabilidad 50 % fuera de especificación: investigación OOS",
    )
    .await;
    b.submit("form[action$='/desviacion'] button").await;
    let deviation = b
        .find("#qc_deviation option:nth-child(2)")
        .await
        .attr("value")
        .await
        .expect("an attribute")
        .expect("a deviation id");
    b.select("#qc_test", "viability").await;
    b.fill("#qc_value", "95").await;
    b.fill("#qc_supersedes", &failed_id).await;
    b.fill("#qc_reason", "Recuento repetido sobre la muestra retenida")
        .await;
    b.select("#qc_deviation", &deviation).await;
    b.submit("form[action$='/qc'] button.primary").await;
    let superseded = b.text("tr.superseded").await;
    assert!(superseded.contains("SUSTITUIDO"), "{superseded}");
    b.shot("21-resultado-sustituido").await;

    // QA holds the batch: the page says why, and the list shows it.
    b.login("isabel.morales", "demo-calidad-granada").await;
    b.open(&batch_path).await;
    b.fill("#hold_reason", "Alarma del incubador 3 en revisión")
        .await;
    b.submit("form[action$='/retener'] button").await;
    let held = b.body().await;
    assert!(held.contains("LOTE RETENIDO"), "{held}");
    assert!(held.contains("Alarma del incubador 3"), "{held}");
    b.shot("22-lote-retenido").await;
    // The same at phone width, in English: the reason is still there to read.
    b.client
        .set_window_size(PHONE.0, PHONE.1)
        .await
        .expect("phone width");
    b.open(&format!("/idioma?l=en&volver={batch_path}")).await;
    let held_en = b.body().await;
    assert!(held_en.contains("BATCH ON HOLD"), "{held_en}");
    assert!(held_en.contains("SUPERSEDED"), "{held_en}");
    b.shot("22-lote-retenido-movil-en").await;
    b.client
        .set_window_size(LAPTOP.0, LAPTOP.1)
        .await
        .expect("laptop width");
    b.open("/idioma?l=es&volver=/lotes").await;
    b.open("/lotes").await;
    assert!(b.body().await.contains("RETENIDO"));

    // Her own password: changed on its page; every session ends, the new one opens.
    b.open("/cuenta/clave").await;
    b.fill("#current_password", "demo-calidad-granada").await;
    b.fill("#new_password", "una frase nueva y larga").await;
    b.fill("#repeat_password", "una frase nueva y larga").await;
    b.submit("form[action='/cuenta/clave'] button.primary")
        .await;
    assert!(b.body().await.contains("Contraseña cambiada"));
    b.shot("23-clave-cambiada").await;
    b.open("/lotes").await;
    assert_eq!(b.path().await, "/entrar", "the old session ended");
    b.login("isabel.morales", "una frase nueva y larga").await;
    assert_eq!(b.path().await, "/liberacion");
}
