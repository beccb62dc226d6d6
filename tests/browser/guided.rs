//! The electronic batch record through the pages (SPEC §8, issue 15): the coordinator adds a
//! material; QA registers a cabinet and a room, receives and releases a lot, and writes a
//! master record a step at a time; a second QA approves it; staff make a batch that follows
//! it, execute its steps (one parameter out of its limits), and a second person verifies a step
//! at the same screen; QA resolves the exception, certifies the batch and downloads the
//! record as a PDF, whose text holds the batch, its steps, the lot and the signatures.

use std::path::Path;

use crate::harness::Browser;

fn days_ahead(n: u64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Days::new(n)).to_string()
}

pub(crate) async fn guided_batch_through_the_pages(b: &Browser, dir: &Path, isabel_pw: &str) {
    // The coordinator adds a material to the network's catalogue.
    b.open("/idioma?l=es&volver=/entrar").await;
    b.login("lucia.navarro", "demo-coordina-radytta").await;
    b.open("/materiales").await;
    b.fill("#n_code", "MED-WEB").await;
    b.fill("#n_name", "Medio alfa-MEM con lisado plaquetario")
        .await;
    b.select("#n_kind", "medium").await;
    b.fill("#n_unit", "mL").await;
    b.submit("#form-material button.primary").await;
    assert!(b.body().await.contains("MED-WEB"));

    // QA: a cabinet and a room; a lot received and released with her signature.
    b.login("isabel.morales", isabel_pw).await;
    b.open("/equipos").await;
    b.fill("#e_id", "CSB-WEB-1").await;
    b.fill("#e_class", "biosafety_cabinet").await;
    b.set_date("#e_due", &days_ahead(12)).await;
    b.submit("#form-equipo button.primary").await;
    let equipment = b.body().await;
    assert!(
        equipment.contains("CSB-WEB-1") && equipment.contains("vence en 12 días"),
        "a calibration due soon says so in words: {equipment}"
    );
    b.fill("#s_id", "SALA-B-WEB").await;
    b.select("#s_grade", "B").await;
    b.submit("#form-sala button.primary").await;
    assert!(b.body().await.contains("SALA-B-WEB"));
    b.open("/materiales").await;
    b.select("#r_material", "MED-WEB").await;
    b.fill("#r_supplier", "Proveedor de medios S.L.").await;
    b.fill("#r_supplier_lot", "PL-2026-77").await;
    b.fill("#r_quantity", "25,0").await;
    b.set_date("#r_expiry", &days_ahead(120)).await;
    b.submit("#form-recepcion button.primary").await;
    let lot_path = b.path().await;
    assert!(lot_path.starts_with("/materiales/lotes/"), "{lot_path}");
    let lot_id = lot_path.trim_start_matches("/materiales/lotes/").to_owned();
    assert!(b.body().await.contains("en cuarentena"));
    b.fill("#liberar_password", isabel_pw).await;
    b.submit("#form-liberar button.primary").await;
    assert!(b.body().await.contains("liberado"));

    // QA writes the master record: a first step, then its details, then a second step.
    b.open("/registros-maestros/nuevo").await;
    b.select("#n_pair", "GRA-UPCIT|MSC-AD-ALO").await;
    b.fill("#n_code", "siembra").await;
    b.fill("#n_title", "Siembra en frascos T175").await;
    b.submit("#nuevo button.primary").await;
    let mbr_path = b.path().await;
    assert!(mbr_path.starts_with("/registros-maestros/"), "{mbr_path}");
    b.open(&format!("{mbr_path}/pasos/siembra")).await;
    b.fill(
        "#f_instructions",
        "Sembrar la fracción mononuclear a 4000 células/cm² en cabina de seguridad biológica.",
    )
    .await;
    b.select("#f_room_grade", "B").await;
    b.fill("#f_m0_code", "MED-WEB").await;
    b.fill("#f_m0_quantity", "10").await;
    b.fill("#f_m0_unit", "mL").await;
    b.fill("#f_e0", "biosafety_cabinet").await;
    b.submit("#form-paso button.primary").await;
    b.open(&format!("{mbr_path}/anadir-paso")).await;
    b.fill("#f_code", "expansion").await;
    b.fill("#f_title", "Expansión hasta confluencia").await;
    b.click("input[name=verification]").await;
    b.fill("#f_p0_name", "temperatura").await;
    b.fill("#f_p0_unit", "°C").await;
    b.fill("#f_p0_min", "36,5").await;
    b.fill("#f_p0_max", "37,5").await;
    b.click("input[name=p0_critical]").await;
    b.fill("#f_p1_name", "confluencia").await;
    b.fill("#f_p1_unit", "%").await;
    b.fill("#f_p1_min", "70").await;
    b.fill("#f_p1_max", "90").await;
    b.submit("#form-paso button.primary").await;
    let draft = b.body().await;
    assert!(
        draft.contains("Expansión hasta confluencia") && draft.contains("Siembra en frascos T175"),
        "{draft}"
    );
    assert!(
        b.client
            .find(fantoccini::Locator::Css("#aprobar"))
            .await
            .is_err(),
        "its author cannot approve it"
    );
    b.shot_whole("24-registro-maestro-borrador").await;

    // Another QA of the laboratory approves it, effective today.
    b.login("carmen.ruiz", "demo-calidad-granada-2").await;
    b.open(&mbr_path).await;
    b.fill("#a_clave", "demo-calidad-granada-2").await;
    b.submit("#aprobar button.primary").await;
    assert!(b.body().await.contains("vigente"), "{}", b.body().await);

    // Staff make a batch: it follows the master record in effect.
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
    b.fill("#donor_code", "DON-WEB-0003").await;
    b.fill("#doses", "2").await;
    b.submit("form[action='/lotes/nuevo'] button.primary").await;
    let batch_path = b.path().await;
    let number = batch_path.trim_start_matches("/lotes/").to_owned();
    let page = b.body().await;
    assert!(
        page.contains("Siguiente paso: Siembra en frascos T175"),
        "{page}"
    );
    b.select("select[name=lot]", &lot_id).await;
    b.client
        .set_window_size(1366, 1000)
        .await
        .expect("a taller window");
    b.client
        .execute(
            "document.getElementById('form-paso-guiado').scrollIntoView();",
            vec![],
        )
        .await
        .expect("scroll to the step's form");
    b.shot("25-paso-guiado").await;
    b.client
        .set_window_size(crate::harness::LAPTOP.0, crate::harness::LAPTOP.1)
        .await
        .expect("laptop width");
    b.submit("#form-paso-guiado button.primary").await;
    assert!(b.body().await.contains("Expansión hasta confluencia"));
    // The next step: within its critical limit, above the confluence limit (an exception).
    b.fill("input[name='p.temperatura']", "37,1").await;
    b.fill("input[name='p.confluencia']", "95").await;
    b.submit("#form-paso-guiado button.primary").await;
    let page = b.body().await;
    assert!(
        page.contains("Verificación por una segunda persona"),
        "{page}"
    );
    assert!(
        page.contains("Parámetro fuera de límites") || page.contains("fuera de"),
        "{page}"
    );
    // A second person verifies at Marta's screen with her own password.
    b.fill(".inline-verify input[name=username]", "isabel.morales")
        .await;
    b.fill(".inline-verify input[name=password]", isabel_pw)
        .await;
    b.submit(".inline-verify button").await;
    assert!(b.text("#pasos-guiados").await.contains("isabel.morales"));

    // QC results, then the end of manufacture.
    for (test, value) in [
        ("viability", "93"),
        ("cd73", "98"),
        ("cd90", "97"),
        ("cd105", "96"),
        ("cd45", "1"),
        ("sterility", "no_growth"),
        ("mycoplasma", "negative"),
    ] {
        b.select("#qc_test", test).await;
        b.fill("#qc_value", value).await;
        b.submit("form[action$='/qc'] button.primary").await;
    }
    if let Ok(confirm) = b
        .client
        .find(fantoccini::Locator::Css(
            "form[action$='/completar'] input[name=confirmar]",
        ))
        .await
    {
        confirm.click().await.expect("tick the confirmation");
    }
    b.submit("form[action$='/completar'] button.primary").await;
    assert!(b.body().await.contains("Cuarentena"));

    // QA reviews by exception: the exception first, resolved; then the signature.
    b.login("carmen.ruiz", "demo-calidad-granada-2").await;
    b.open(&format!("{batch_path}/liberar")).await;
    let review = b.body().await;
    assert!(review.contains("confluencia"), "{review}");
    b.fill(
        "textarea[name=comment]",
        "Confluencia del 95 % revisada: sin impacto en la calidad, cosecha adelantada.",
    )
    .await;
    b.submit("form[action*='/excepciones/'] button").await;
    b.open(&format!("{batch_path}/liberar")).await;
    assert!(b.body().await.contains("Se cumplen todas las reglas"));
    b.fill("#password", "demo-calidad-granada-2").await;
    b.submit("form[action$='/liberar'] button.primary").await;
    let released = b.body().await;
    assert!(
        released.contains("Lote certificado y liberado."),
        "{released}"
    );

    // The batch record as a PDF, from the batch page's button.
    let href = b
        .find("a[href$='/registro.pdf']")
        .await
        .attr("href")
        .await
        .expect("the button's address")
        .expect("an address");
    let pdf = b.download(&href).await;
    assert!(pdf.starts_with(b"%PDF"), "a PDF");
    let file = dir.join("registro.pdf");
    std::fs::write(&file, &pdf).expect("save the PDF");
    let out = std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext runs (apt-get install poppler-utils)");
    let text = String::from_utf8_lossy(&out.stdout);
    for expected in [
        number.as_str(),
        "Siembra en frascos T175",
        "Expansión hasta confluencia",
        lot_id.as_str(),
        "isabel.morales",
        "carmen.ruiz",
    ] {
        assert!(text.contains(expected), "{expected} in the PDF: {text}");
    }
    let pages = std::process::Command::new("pdftoppm")
        .args(["-png", "-r", "80", "-f", "1", "-l", "1"])
        .arg(&file)
        .arg(dir.join("registro"))
        .status()
        .expect("pdftoppm runs");
    assert!(pages.success());
    if let Some(png) = std::fs::read_dir(dir)
        .expect("the temp dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "png"))
    {
        std::fs::copy(png, b.shots.join("26-registro-pdf.png")).expect("keep the PDF's page");
    }
}
