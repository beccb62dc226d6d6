//! The batch record as a document (SPEC §8): `GET /api/v1/batches/{number}/record.pdf`, and the
//! batch page's button that downloads it. The PDF is read back with `pdftotext` (poppler-utils),
//! as an inspector's tools would: every page names the batch and says "página N de M", and the
//! record's steps, QC results against the specification, deviations, signature with its meaning
//! and the record hash the QP signed are all there, as text.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::*;

/// An answer with its bytes as they came (the harness's `Resp` keeps text only).
pub(crate) struct Download {
    pub(crate) status: u16,
    content_type: String,
    cache_control: String,
    disposition: String,
    pub(crate) bytes: Vec<u8>,
}

/// GETs `path` from the real router with `headers`, keeping the body's bytes.
pub(crate) async fn download(api: &Api, path: &str, headers: &[(&str, String)]) -> Download {
    let app = traza_http::router(traza_http::AppState::new(api.store.clone()));
    let mut request = Request::builder().method(Method::GET).uri(path);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = app
        .oneshot(request.body(Body::empty()).expect("a request"))
        .await
        .expect("the router answers");
    let headers = response.headers().clone();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (status, content_type, cache_control, disposition) = (
        response.status().as_u16(),
        header("content-type"),
        header("cache-control"),
        header("content-disposition"),
    );
    let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024 * 1024)
        .await
        .expect("the body")
        .to_vec();
    Download {
        status,
        content_type,
        cache_control,
        disposition,
        bytes,
    }
}

pub(crate) fn bearer(token: &str) -> Vec<(&'static str, String)> {
    vec![("authorization", format!("Bearer {token}"))]
}

/// The PDF's text, page by page, as `pdftotext - -` reads it.
pub(crate) fn pdf_pages(pdf: &[u8]) -> Vec<String> {
    let mut child = Command::new("pdftotext")
        .args(["-enc", "UTF-8", "-", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pdftotext runs (apt-get install poppler-utils)");
    child
        .stdin
        .take()
        .expect("its standard input")
        .write_all(pdf)
        .expect("the PDF goes to pdftotext");
    let out = child.wait_with_output().expect("pdftotext ends");
    assert!(
        out.status.success(),
        "pdftotext reads the PDF: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8 text");
    // One form feed after each page.
    let mut pages: Vec<String> = text.split('\u{c}').map(str::to_owned).collect();
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    pages
}

/// Whitespace folded to single spaces: a sentence the PDF wraps reads as one line.
fn flat(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn assert_has(text: &str, wanted: &str) {
    assert!(
        text.contains(&flat(wanted)),
        "the PDF's text lacks {wanted:?}:\n{text}"
    );
}

/// Every page names the batch and says "<word> N de|of M", M the page count.
fn assert_numbered(pages: &[String], number: &str, page: &str, of: &str) {
    let total = pages.len();
    for (i, text) in pages.iter().enumerate() {
        let text = flat(text);
        assert!(
            text.contains(number),
            "page {} lacks the batch number: {text}",
            i + 1
        );
        let label = format!("{page} {} {of} {total}", i + 1);
        assert!(
            text.contains(&label),
            "page {} lacks {label:?}: {text}",
            i + 1
        );
    }
}

/// Records a step; answers nothing.
async fn step(api: &Api, token: &str, number: &str, name: &str, minutes: i64, note: &str) {
    api.post(&format!("/batches/{number}/events"))
        .token(token)
        .json(json!({"step": name, "performed_at": minutes_ago(minutes), "note": note}))
        .send()
        .await
        .ok(201);
}

fn spec_test<'a>(spec: &'a [Value], name: &str) -> &'a Value {
    spec.iter()
        .find(|t| t["test"] == name)
        .unwrap_or_else(|| panic!("the specification has {name}"))
}

const STEPS: [(&str, &str); 3] = [
    (
        "aislamiento",
        "Lipoaspirado recibido íntegro, cadena de frío conforme",
    ),
    ("siembra", "Frasco T75 con lisado plaquetario al 5 %"),
    ("cosecha", "Tripsinización y lavado; recuento en cámara"),
];

/// A batch made, tested (a failing viability retested under a deviation), completed and
/// certified: the whole record, in Spanish by default and in English on request, to the
/// reader's laboratory only.
#[both_backends]
async fn the_batch_record_pdf_holds_the_whole_record(api: Api) {
    let marta = api.token(MARTA).await;
    let isabel = api.token(ISABEL).await;
    let b = api
        .create_batch(&marta, allo_batch("DON-PDF-0001", &days_ago(6), 2))
        .await;
    let number = b["batch_number"].as_str().expect("a number").to_owned();
    for (i, (name, note)) in STEPS.iter().enumerate() {
        step(&api, &marta, &number, name, 4000 - 1000 * i as i64, note).await;
    }
    // Viability out of specification, investigated under a deviation and retested.
    let spec = api.spec(&marta, ALLO).await;
    let viability = spec_test(&spec, "viability");
    let failed = api
        .post(&format!("/batches/{number}/qc-results"))
        .token(&marta)
        .json(json!({"test": "viability", "value": failing_value(viability), "unit": "%"}))
        .send()
        .await
        .ok(201);
    assert_eq!(failed["outcome"], "fail");
    let deviation = api
        .post(&format!("/batches/{number}/deviations"))
        .token(&marta)
        .json(json!({"description": "Viabilidad fuera de especificación en el primer ensayo", "severity": "major"}))
        .send()
        .await
        .ok(201);
    let retest = api
        .post(&format!("/batches/{number}/qc-results"))
        .token(&marta)
        .json(json!({
            "test": "viability", "value": passing_value(viability), "unit": "%",
            "supersedes": failed["id"], "reason": "Repetición tras la investigación",
            "deviation_id": deviation["id"]
        }))
        .send()
        .await
        .ok(201);
    assert_eq!(retest["outcome"], "pass");
    api.pass_required_tests(&marta, &number, ALLO, &["viability"])
        .await;
    api.post(&format!(
        "/batches/{number}/deviations/{}/close",
        deviation["id"]
    ))
    .token(&isabel)
    .json(json!({"resolution": "Error de pipeteo; la repetición es conforme"}))
    .send()
    .await
    .ok(200);
    api.post(&format!("/batches/{number}/complete"))
        .token(&marta)
        .json(json!({"manufacturing_end": days_ago(2)}))
        .send()
        .await
        .ok(200);
    api.post(&format!("/batches/{number}/release"))
        .token(&isabel)
        .json(json!({"password": api.password(ISABEL), "meaning": "qp_certified"}))
        .send()
        .await
        .ok(200);
    let (view, _) = api.batch(&isabel, &number).await;
    let hash = view["signatures"][0]["record_hash"]
        .as_str()
        .expect("the signature's record hash")
        .to_owned();
    assert_eq!(hash.len(), 64, "{hash}");
    let first_step_utc = view["events"][0]["performed_at"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .expect("the first step's time")
        .to_utc()
        .format("%Y-%m-%d %H:%M:%S UTC")
        .to_string();

    // Spanish unless asked otherwise; never cached; a file to save.
    let path = format!("/api/v1/batches/{number}/record.pdf");
    let pdf = download(&api, &path, &bearer(&marta)).await;
    assert_eq!(pdf.status, 200, "{}", String::from_utf8_lossy(&pdf.bytes));
    assert_eq!(pdf.content_type, "application/pdf");
    assert_eq!(pdf.cache_control, "no-store");
    assert!(
        pdf.disposition.starts_with("attachment") && pdf.disposition.contains(&number),
        "{}",
        pdf.disposition
    );
    assert!(pdf.bytes.starts_with(b"%PDF"));
    let pages = pdf_pages(&pdf.bytes);
    assert_numbered(&pages, &number, "Página", "de");
    let text = flat(&pages.concat());
    assert_has(&text, "Página 1 de");
    assert_has(&text, &format!("Registro de lote {number}"));
    assert_has(&text, "Lote no guiado: sin registro maestro de fabricación");
    for (name, note) in STEPS {
        assert_has(&text, name);
        assert_has(&text, note);
    }
    // Madrid and UTC, and who did it, by full name.
    assert_has(&text, &first_step_utc);
    assert!(text.contains(" CET") || text.contains(" CEST"), "{text}");
    assert_has(&text, "Marta Jiménez Salas (marta.jimenez)");
    for t in &spec {
        assert_has(&text, t["test"].as_str().expect("a test name"));
    }
    // Against the specification, in words, the superseded result kept and marked.
    assert_has(&text, "≥ 80 %");
    assert_has(&text, "Fuera de especificación");
    assert_has(&text, "Conforme");
    assert_has(&text, &format!("SUSTITUIDO por el n.º {}", retest["id"]));
    assert_has(&text, &format!("repite el n.º {}", failed["id"]));
    assert_has(
        &text,
        "Viabilidad fuera de especificación en el primer ensayo",
    );
    assert_has(&text, "Error de pipeteo; la repetición es conforme");
    // The signature: printed name, meaning in words, and the hash of the record as signed.
    assert_has(&text, "Isabel Morales Vílchez");
    assert_has(
        &text,
        "Certifico, como Persona Cualificada, que este lote se ha fabricado y controlado",
    );
    assert_has(&text, &hash);

    // English on request.
    let en = download(&api, &format!("{path}?lang=en"), &bearer(&isabel)).await;
    assert_eq!(en.status, 200);
    let en_pages = pdf_pages(&en.bytes);
    assert_numbered(&en_pages, &number, "Page", "of");
    let en_text = flat(&en_pages.concat());
    assert_has(&en_text, "Page 1 of");
    assert_has(&en_text, "Unguided batch: no master batch record");
    assert_has(&en_text, "I certify, as Qualified Person");
    assert_has(&en_text, &hash);
    api.get(&format!("{path}?lang=fr"))
        .token(&marta)
        .send()
        .await
        .err(422, "validation_failed");

    // Another laboratory's staff: not found, and nothing of the batch.
    let rocio = api.token(ROCIO).await;
    let foreign = download(&api, &path, &bearer(&rocio)).await;
    assert_eq!(foreign.status, 404);
    assert!(foreign.content_type.starts_with("application/json"));
    let body = String::from_utf8_lossy(&foreign.bytes);
    assert!(
        !body.contains("DON-PDF-0001") && !body.starts_with("%PDF"),
        "{body}"
    );
    api.get(&path)
        .token(&rocio)
        .send()
        .await
        .err(404, "not_found");
    // Nobody: 401.
    api.get(&path).send().await.err(401, "unauthenticated");

    // The batch page's button downloads the same document with the session cookie.
    let cookie = vec![("cookie", format!("traza_sesion={marta}"))];
    let page = download(&api, &format!("/lotes/{number}"), &cookie).await;
    let html = String::from_utf8_lossy(&page.bytes);
    assert!(
        html.contains(&format!(r#"href="/lotes/{number}/registro.pdf""#))
            && html.contains("Registro de lote (PDF)"),
        "{html}"
    );
    let from_page = download(&api, &format!("/lotes/{number}/registro.pdf"), &cookie).await;
    assert_eq!(from_page.status, 200);
    assert_eq!(from_page.content_type, "application/pdf");
    assert_eq!(from_page.cache_control, "no-store");
    assert_has(&flat(&pdf_pages(&from_page.bytes).concat()), &hash);
    let foreign_page = download(
        &api,
        &format!("/lotes/{number}/registro.pdf"),
        &[("cookie", format!("traza_sesion={rocio}"))],
    )
    .await;
    assert_eq!(foreign_page.status, 404);
    assert!(!foreign_page.bytes.starts_with(b"%PDF"));
    let anonymous = download(&api, &format!("/lotes/{number}/registro.pdf"), &[]).await;
    assert!(
        (300..400).contains(&anonymous.status),
        "to the login page: {}",
        anonymous.status
    );
}

/// A record of many steps runs over several pages, each numbered out of the total; how long
/// the document of a 20-step batch takes is printed (no timing is asserted).
#[both_backends]
async fn a_long_record_numbers_every_page_out_of_the_total(api: Api) {
    let marta = api.token(MARTA).await;
    let b = api
        .create_batch(&marta, allo_batch("DON-PDF-0020", &days_ago(6), 1))
        .await;
    let number = b["batch_number"].as_str().expect("a number").to_owned();
    for i in 1..=20 {
        step(
            &api,
            &marta,
            &number,
            &format!("paso-{i:02}"),
            6000 - 100 * i,
            &format!(
                "Control en proceso n.º {i}: confluencia, morfología y ausencia de contaminación visible, conforme al procedimiento"
            ),
        )
        .await;
    }
    let path = format!("/api/v1/batches/{number}/record.pdf");
    let mut timings = Vec::new();
    let mut pdf = None;
    for _ in 0..3 {
        let started = Instant::now();
        let answer = download(&api, &path, &bearer(&marta)).await;
        timings.push(started.elapsed());
        assert_eq!(answer.status, 200);
        pdf = Some(answer);
    }
    let pdf = pdf.expect("a PDF");
    let pages = pdf_pages(&pdf.bytes);
    let ms: Vec<String> = timings
        .iter()
        .map(|t| format!("{:.1} ms", t.as_secs_f64() * 1000.0))
        .collect();
    eprintln!(
        "[{}] batch record PDF of a 20-step batch: {} pages, {} bytes; GET took {} (the first \
         also loads the fonts)",
        api.backend(),
        pages.len(),
        pdf.bytes.len(),
        ms.join(", ")
    );
    assert!(pages.len() >= 2, "20 steps fill more than a page");
    assert_numbered(&pages, &number, "Página", "de");
    let text = flat(&pages.concat());
    assert_has(&text, &format!("Página 2 de {}", pages.len()));
    // Every step, in order.
    let mut from = 0;
    for i in 1..=20 {
        let at = text[from..]
            .find(&format!("{i}. paso-{i:02}"))
            .unwrap_or_else(|| panic!("step {i} after the one before it"));
        from += at;
    }
}
