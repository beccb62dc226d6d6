//! Web hardening, attack first and refusal second: redirects that leave the site, headers that
//! keep pages out of frames and caches, spreadsheet formulas in the export, page uploads as
//! large as the API's, and requests cancelled in the middle of a database transaction.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::http::Method;

use crate::support::*;

/// Where `/idioma?volver=…` sends the browser.
async fn language_switch_target(api: &Api, volver: &str) -> String {
    let r = api
        .site(Method::GET, &format!("/idioma?l=en&volver={volver}"))
        .send_page()
        .await;
    assert!(
        r.status.is_redirection(),
        "{} answered {}: {}",
        r.what,
        r.status,
        r.text
    );
    r.header("location").expect("a redirect has a Location")
}

#[both_backends]
async fn back_links_never_leave_the_site(api: Api) {
    // A tab or a line break after the first slash: browsers drop them and read
    // `//evil.example`, another host. A backslash reads as a slash.
    for attack in [
        "/%09/evil.example",
        "/%0a/x",
        "/%0d%0a/evil.example",
        "%2F%2Fevil.example",
        "/%5Cevil.example",
        "/%5C/evil.example",
        "/ok%5C..%5Cevil",
        "/%20/evil.example",
        "https://evil.example",
        "/l%C3%A1",
        "",
    ] {
        assert_eq!(
            language_switch_target(&api, attack).await,
            "/",
            "volver={attack}"
        );
    }
    // A path of the site is where the user goes back to.
    assert_eq!(
        language_switch_target(&api, "/lotes%3Fstatus%3Dreleased").await,
        "/lotes?status=released"
    );

    // The login form takes the same rule for its `volver`.
    let page = api
        .site(Method::GET, "/entrar?volver=/%09/evil.example")
        .send_page()
        .await;
    assert_eq!(page.status.as_u16(), 200);
    assert!(
        page.text.contains(r#"name="volver" value="/""#),
        "{}",
        page.text
    );
    let page = api
        .site(Method::GET, "/entrar?volver=/red")
        .send_page()
        .await;
    assert!(
        page.text.contains(r#"name="volver" value="/red""#),
        "{}",
        page.text
    );
    let csrf = "0123456789abcdef0123456789abcdef";
    for (volver, expected) in [("%2F%09%2Fevil.example", "/"), ("%2Fred", "/red")] {
        let form = format!(
            "csrf={csrf}&username={MARTA}&password={}&volver={volver}",
            api.password(MARTA)
        );
        let r = api
            .site(Method::POST, "/entrar")
            .header("cookie", &format!("traza_csrf_entrada={csrf}"))
            .raw(Some("application/x-www-form-urlencoded"), form)
            .send_page()
            .await;
        assert!(r.status.is_redirection(), "{}: {}", r.status, r.text);
        assert_eq!(r.header("location").as_deref(), Some(expected));
    }
}

/// The headers every answer carries, whatever made it.
fn assert_hardened(r: &Resp) {
    let csp = r.header("content-security-policy").unwrap_or_default();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "object-src 'none'",
    ] {
        assert!(
            csp.contains(directive),
            "{}: CSP {csp:?} lacks {directive}",
            r.what
        );
    }
    assert!(!csp.contains("unsafe"), "{}: {csp}", r.what);
    assert_eq!(
        r.header("x-content-type-options").as_deref(),
        Some("nosniff"),
        "{}",
        r.what
    );
    assert_eq!(
        r.header("referrer-policy").as_deref(),
        Some("same-origin"),
        "{}",
        r.what
    );
    assert_eq!(
        r.header("x-frame-options").as_deref(),
        Some("DENY"),
        "{}",
        r.what
    );
}

fn assert_not_stored(r: &Resp) {
    assert_eq!(
        r.header("cache-control").as_deref(),
        Some("no-store"),
        "{}",
        r.what
    );
}

fn assert_cacheable(r: &Resp) {
    let cache = r.header("cache-control").unwrap_or_default();
    assert!(
        cache.contains("max-age") && !cache.contains("no-store"),
        "{}: cache-control {cache:?}",
        r.what
    );
}

/// The cookie of a page session of `user` (a session is a token of the store).
async fn session_cookie(api: &Api, user: &str) -> String {
    format!("traza_sesion={}", api.token(user).await)
}

#[both_backends]
async fn every_answer_carries_the_security_headers_and_private_ones_are_never_stored(api: Api) {
    let marta = api.token(MARTA).await;
    let cookie = session_cookie(&api, MARTA).await;

    // A page with donor codes on it, and the one page with a script.
    for path in ["/lotes", "/lotes/nuevo"] {
        let page = api
            .site(Method::GET, path)
            .header("cookie", &cookie)
            .send_page()
            .await;
        assert_eq!(page.status.as_u16(), 200, "{}", page.text);
        assert_hardened(&page);
        assert_not_stored(&page);
        // Nothing inline for the policy to refuse: scripts and styles are files.
        for inline in ["<script>", "<style", " style=", " onclick=", " onload="] {
            assert!(
                !page.text.contains(inline),
                "{path} has {inline}: {}",
                page.text
            );
        }
    }
    let form = api
        .site(Method::GET, "/lotes/nuevo")
        .header("cookie", &cookie)
        .send_page()
        .await;
    assert!(
        form.text
            .contains(r#"<script src="/identidad.es.js" defer></script>"#),
        "{}",
        form.text
    );
    let script = api.site(Method::GET, "/identidad.es.js").send_page().await;
    assert_eq!(script.status.as_u16(), 200);
    assert!(
        script
            .header("content-type")
            .unwrap_or_default()
            .starts_with("text/javascript")
    );
    assert!(script.text.contains("getElementById('coi')"));
    assert_hardened(&script);
    assert_cacheable(&script);

    // API answers carry donor codes: never stored, by the browser or a proxy.
    let b = api
        .create_batch(&marta, allo_batch("DON-HDR-0001", &days_ago(3), 1))
        .await;
    let number = b["batch_number"].as_str().unwrap().to_owned();
    for path in [
        format!("/batches/{number}"),
        "/batches/export.csv".to_owned(),
        "/me".to_owned(),
    ] {
        let r = api.get(&path).token(&marta).send().await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.text);
        assert_hardened(&r);
        assert_not_stored(&r);
    }
    // Refusals and answers made outside the handlers too.
    for r in [
        api.get("/batches/NO-SUCH-1").token(&marta).send().await,
        api.get("/batches").send().await,
        api.get("/no/such/route").send().await,
    ] {
        assert!(r.status.is_client_error(), "{}", r.what);
        assert_hardened(&r);
        assert_not_stored(&r);
    }

    // The public registry, page and JSON, is for everyone and may be cached.
    for path in [
        "/registro",
        "/registro?q=condrocitos",
        "/public/v1/therapies",
    ] {
        let r = api.site(Method::GET, path).send_page().await;
        assert_eq!(r.status.as_u16(), 200, "{path}");
        assert_hardened(&r);
        assert_cacheable(&r);
    }
    let page = api.site(Method::GET, "/registro").send_page().await;
    let vary = page.header("vary").unwrap_or_default().to_ascii_lowercase();
    assert!(
        vary.contains("cookie") && vary.contains("accept-language"),
        "{vary}"
    );
    // So are the stylesheets and the OpenAPI document.
    for path in [
        "/estilo.css",
        "/api/v1/docs.css",
        "/api/v1/openapi.json",
        "/api/v1/docs",
    ] {
        let r = api.site(Method::GET, path).send_page().await;
        assert_eq!(r.status.as_u16(), 200, "{path}");
        assert_hardened(&r);
        assert_cacheable(&r);
        assert!(!r.text.contains("<style"), "{path}");
    }
}

/// Whether a spreadsheet would run the field as a formula.
fn runs_as_formula(field: &str) -> bool {
    field.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

#[both_backends]
async fn the_export_never_hands_a_spreadsheet_a_formula_and_reads_back_byte_for_byte(api: Api) {
    let marta = api.token(MARTA).await;
    let lucia = api.token(LUCIA).await;
    // Notes are free text anyone who makes a batch types; donor, patient and batch codes
    // begin with a letter or a digit by their grammar, so notes and the signer's name are
    // the fields an attacker can start with a formula.
    let notes = [
        r#"=HYPERLINK("http://x")"#,
        "+cmd|' /C calc'!A0",
        "@SUM(A1)",
        "'=already",
        "-2+3",
    ];
    for (i, note) in notes.iter().enumerate() {
        let mut body = allo_batch(&format!("DON-CSV-000{i}"), &days_ago(3), 1);
        body["notes"] = (*note).into();
        api.create_batch(&marta, body).await;
    }
    // History from a file: a signer's name written as a formula, and a note that a
    // spreadsheet already escaped (the import takes the quote away).
    let file = "batch_number,product_code,lab_code,origin,donor_code,manufacturing_start,manufacturing_end,status,released_by,release_date,access_route,trial_id,notes\n\
                    GRA-UPCIT-2019-00077,MSC-AD-ALO,GRA-UPCIT,allogeneic,DON-CSV-0100,2019-04-01,2019-04-20,released,=1+1,2019-04-22,clinical_trial,2015-001726-39,'@SUM(A2)\n";
    api.post("/imports/batches?filename=formulas.csv")
        .token(&lucia)
        .raw(Some("text/csv"), file)
        .send()
        .await
        .ok(200);
    let (imported, _) = api.batch(&lucia, "GRA-UPCIT-2019-00077").await;
    assert_eq!(
        (imported["released_by"].as_str(), imported["notes"].as_str()),
        (Some("=1+1"), Some("@SUM(A2)"))
    );

    let first = api
        .get("/batches/export.csv")
        .token(&lucia)
        .send()
        .await
        .ok_text(200);
    let mut quoted = Vec::new();
    for record in csv::Reader::from_reader(first.as_bytes()).into_records() {
        let record = record.expect("the export is CSV");
        for field in &record {
            assert!(!runs_as_formula(field), "{field:?} in {first}");
        }
        quoted.extend([record[15].to_owned(), record[19].to_owned()]);
    }
    for written in [
        r#"'=HYPERLINK("http://x")"#,
        "'+cmd|' /C calc'!A0",
        "'@SUM(A1)",
        "''=already",
        "'-2+3",
        "'=1+1",
        "'@SUM(A2)",
    ] {
        assert!(
            quoted.iter().any(|q| q == written),
            "{written:?} not in {quoted:?}"
        );
    }

    // Into an empty database and out again: every value and every byte kept.
    let twin = api.fresh_twin().await;
    let twin_lucia = twin.token(LUCIA).await;
    twin.post("/imports/batches?filename=export.csv")
        .token(&twin_lucia)
        .raw(Some("text/csv"), first.clone())
        .send()
        .await
        .ok(200);
    let second = twin
        .get("/batches/export.csv")
        .token(&twin_lucia)
        .send()
        .await
        .ok_text(200);
    let listed = twin
        .get("/batches?limit=100")
        .token(&twin_lucia)
        .send()
        .await
        .ok(200);
    let mut stored: Vec<&str> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|b| b["notes"].as_str())
        .collect();
    stored.sort_unstable();
    twin.close().await;
    assert_eq!(
        second, first,
        "export → import → export must give the same bytes"
    );
    let mut expected: Vec<&str> = notes.iter().copied().chain(["@SUM(A2)"]).collect();
    expected.sort_unstable();
    assert_eq!(stored, expected);
}

/// Reads until the server closes the connection, or `bound` passes; answers what was read,
/// or `None` if the connection was still open.
async fn until_closed(stream: &mut tokio::net::TcpStream, bound: Duration) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut read = Vec::new();
    match tokio::time::timeout(bound, stream.read_to_end(&mut read)).await {
        Ok(_) => Some(String::from_utf8_lossy(&read).into_owned()),
        Err(_) => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_sends_its_headers_slowly_is_cut_off() {
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpStream;

    // No database work here: the connection never gets as far as a handler.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}/slow.db?mode=rwc", dir.path().display());
    let store = traza_store::Store::connect(&url).await.expect("a store");
    let mut server = traza_http::Server::bind("127.0.0.1:0", traza_http::AppState::new(store))
        .await
        .expect("bind");
    server.header_read_timeout = Duration::from_millis(300);
    let addr = server.local_addr().expect("an address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));

    // Half a request line, then nothing; and a connection that never says a word.
    let mut half = TcpStream::connect(addr).await.expect("connect");
    half.write_all(b"GET /heal").await.expect("write");
    let mut silent = TcpStream::connect(addr).await.expect("connect");
    let bound = Duration::from_secs(5);
    assert!(
        until_closed(&mut half, bound).await.is_some(),
        "a connection that sent half a request line was still open after {bound:?}"
    );
    assert!(
        until_closed(&mut silent, bound).await.is_some(),
        "a connection that sent nothing was still open after {bound:?}"
    );

    // A request sent in time is answered as ever.
    let mut normal = TcpStream::connect(addr).await.expect("connect");
    normal
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: traza\r\nconnection: close\r\n\r\n")
        .await
        .expect("write");
    let answer = until_closed(&mut normal, bound).await.expect("an answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#"{"status":"ok"}"#), "{answer}");

    // The shutdown signal still ends the server.
    stop.send(()).expect("the server listens for its signal");
    tokio::time::timeout(bound, running)
        .await
        .expect("the server stops after its signal")
        .expect("the server task")
        .expect("the server ends cleanly");
}

/// A multipart form as a browser sends it: text fields, then one file.
fn multipart(boundary: &str, fields: &[(&str, &str)], file: (&str, &str, &[u8])) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\ncontent-disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    let (name, file_name, bytes) = file;
    body.extend_from_slice(
        format!(
            "--{boundary}\r\ncontent-disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\ncontent-type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

#[both_backends]
async fn the_import_page_takes_files_as_large_as_the_api_does(api: Api) {
    let cookie = session_cookie(&api, LUCIA).await;
    let form = api
        .site(Method::GET, "/importar")
        .header("cookie", &cookie)
        .send_page()
        .await;
    assert_eq!(form.status.as_u16(), 200, "{}", form.text);
    let csrf = form
        .text
        .split(r#"name="csrf" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the form's CSRF token")
        .to_owned();

    // Just over 1 MiB of valid history: the limit of every other form.
    const ROWS: usize = 4_000;
    let mut csv = String::from(
        "batch_number,product_code,lab_code,origin,donor_code,manufacturing_start,manufacturing_end,status,access_route,trial_id,notes\n",
    );
    let note = "Lote de historia para comprobar el límite de subida de la página. ".repeat(3);
    for i in 0..ROWS {
        csv.push_str(&format!(
                "GRA-UPCIT-2016-{:05},MSC-AD-ALO,GRA-UPCIT,allogeneic,DON-BIG-{i:05},2016-04-01,2016-04-22,rejected,clinical_trial,2015-001726-39,{note}{i}\n",
                i + 1
            ));
    }
    assert!(csv.len() > 1024 * 1024 + 64 * 1024, "{} bytes", csv.len());
    let boundary = "traza-prueba-limite";
    let body = multipart(
        boundary,
        &[("csrf", &csrf), ("modo", "prueba")],
        ("fichero", "historia.csv", csv.as_bytes()),
    );
    let r = api
        .site(Method::POST, "/importar")
        .header("cookie", &cookie)
        .raw(
            Some(&format!("multipart/form-data; boundary={boundary}")),
            body,
        )
        .send_page()
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert!(r.text.contains("Prueba superada"), "{}", r.text);
    assert!(
        r.text.contains(&format!(r#"<dd id="creadas">{ROWS}</dd>"#)),
        "{}",
        r.text
    );

    // Other forms keep the 1 MiB limit.
    let big = format!("csrf={csrf}&notes={}", "x".repeat(1024 * 1024 + 1));
    let r = api
        .site(Method::POST, "/salir")
        .header("cookie", &cookie)
        .raw(Some("application/x-www-form-urlencoded"), big)
        .send_page()
        .await;
    assert_eq!(r.status.as_u16(), 413, "{}", r.text);
}

/// A small pseudo-random sequence (xorshift), so that every run cancels at other moments.
struct Dice(u64);

impl Dice {
    fn new(seed: u64) -> Dice {
        let nanos = chrono::Utc::now().timestamp_subsec_nanos();
        Dice((seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(nanos)) | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The connections of the test's PostgreSQL database left inside a transaction that nobody
/// is running: after a while they are the pool's, idle in a stranger's transaction.
async fn idle_in_transaction(url: &str) -> i64 {
    use sqlx::Connection;
    let mut watcher = sqlx::PgConnection::connect(url)
        .await
        .expect("a raw connection");
    let count = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
         AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()",
    )
    .fetch_one(&mut watcher)
    .await
    .expect("pg_stat_activity");
    let _ = watcher.close().await;
    count
}

/// Waits up to 5 s for every transaction to end, as a pool at rest has none open; answers
/// how many were still open.
async fn settled(url: &str) -> i64 {
    let mut open = idle_in_transaction(url).await;
    for _ in 0..50 {
        if open == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        open = idle_in_transaction(url).await;
    }
    open
}

/// A request dropped after it has waited `waits` times, at whatever await it has reached:
/// a client that hangs up, seen from the server, independent of the machine's speed.
struct HangUpAfter<F: Future> {
    request: Pin<Box<F>>,
    waits: u32,
}

impl<F: Future> Future for HangUpAfter<F> {
    type Output = Option<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.waits == 0 {
            return Poll::Ready(None);
        }
        self.waits -= 1;
        self.request.as_mut().poll(cx).map(Some)
    }
}

#[both_backends]
async fn requests_cancelled_mid_transaction_leave_no_transaction_open(api: Api) {
    let marta = api.token(MARTA).await;
    let mut numbers = Vec::new();
    for i in 0..16 {
        let b = api
            .create_batch(
                &marta,
                allo_batch(&format!("DON-CANCEL-{i:02}"), &days_ago(3), 1),
            )
            .await;
        numbers.push(b["batch_number"].as_str().expect("a number").to_owned());
    }
    let event = |note: String| serde_json::json!({"step": "lavado", "performed_at": minutes_ago(5), "note": note});

    // Clients that hang up in the middle of their request: reads (which open a read-only
    // snapshot when the batch changed since it was last read) and writes (which open a
    // write transaction), dropped at whatever await they have reached, BEGIN included
    // (a few awaits in: hence the short hang-ups); and clients that wait for their answer,
    // which must never be a 5xx (`send` checks it).
    let mut clients = Vec::new();
    for client in 0..8u64 {
        let (api, token, numbers) = (api.clone(), marta.clone(), numbers.clone());
        clients.push(tokio::spawn(async move {
            let mut dice = Dice::new(client);
            for i in 0..150 {
                let number = &numbers[dice.below(numbers.len() as u64) as usize];
                let call = if dice.below(3) == 0 {
                    api.post(&format!("/batches/{number}/events"))
                        .token(&token)
                        .json(event(format!("cliente {client}, {i}")))
                } else {
                    api.get(&format!("/batches/{number}")).token(&token)
                };
                let request = Box::pin(call.send());
                match dice.below(4) {
                    0 => drop(request.await),
                    1 => drop(
                        HangUpAfter {
                            request,
                            waits: 1 + dice.below(8) as u32,
                        }
                        .await,
                    ),
                    2 => drop(
                        HangUpAfter {
                            request,
                            waits: 1 + dice.below(40) as u32,
                        }
                        .await,
                    ),
                    _ => {
                        let patience = Duration::from_micros(dice.below(3_000));
                        drop(tokio::time::timeout(patience, request).await);
                    }
                }
            }
        }));
    }
    for c in clients {
        c.await
            .expect("a client whose answers came were never a 5xx");
    }
    if api.backend() == "postgres" {
        assert_eq!(
            settled(&api.url).await,
            0,
            "pooled connections were left inside a transaction by cancelled requests"
        );
    }

    // Everyone after them is served: snapshot reads of every batch at once (so that every
    // pooled connection is used), then a write and a read of each.
    let mut after = Vec::new();
    for (i, number) in numbers.iter().enumerate() {
        let (api, token, number) = (api.clone(), marta.clone(), number.clone());
        let body = event(format!("después {i}"));
        after.push(tokio::spawn(async move {
            api.get(&format!("/batches/{number}"))
                .token(&token)
                .send()
                .await
                .ok(200);
            api.post(&format!("/batches/{number}/events"))
                .token(&token)
                .json(body)
                .send()
                .await
                .ok(201);
            api.get(&format!("/batches/{number}"))
                .token(&token)
                .send()
                .await
                .ok(200);
        }));
    }
    for a in after {
        a.await.expect("a request after the cancelled ones");
    }
    if api.backend() == "postgres" {
        assert_eq!(settled(&api.url).await, 0, "a transaction is still open");
    }
    let report = api.store.verify_audit_chain().await.expect("verify");
    assert!(
        matches!(report, traza_store::VerifyReport::Intact { .. }),
        "{report:?}"
    );
}
