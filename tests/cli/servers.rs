//! The real server under stress: killed during a burst of writes, and two of them on one
//! database.

use std::io::Write;

use traza_testkit::{audit_key_path, both_backends};

use super::common::serve;
use super::{Db, on, text, traza};

/// One HTTP/1.1 request over a fresh connection; the status and body, or `None` when the
/// server did not answer in full (it was killed).
fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> Option<(u16, String)> {
    http_with(addr, method, path, token, "", body)
}

/// [`http`] with extra header lines (each ending in `\r\n`).
fn http_with(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    headers: &str,
    body: &str,
) -> Option<(u16, String)> {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .ok()?;
    let auth = token
        .map(|t| format!("authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-type: application/json\r\n{auth}{headers}content-length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let raw = String::from_utf8_lossy(&raw);
    let (head, body) = raw.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let length: usize = head.lines().find_map(|l| {
        l.to_ascii_lowercase()
            .strip_prefix("content-length:")
            .map(|v| v.trim().parse().unwrap_or(0))
    })?;
    (body.len() == length).then(|| (status, body.to_owned()))
}

#[both_backends]
async fn a_server_killed_during_a_burst_of_writes_keeps_every_acknowledged_one(db: Db) {
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/history/lotes-historicos-cp1252.csv"
    );
    assert!(
        traza(
            &db.url,
            &["import", "batches", sample, "--user", "lucia.navarro"],
            None
        )
        .status
        .success()
    );
    let (mut child, addr) = serve(&db.url);
    let (status, body) = http(
        &addr,
        "POST",
        "/api/v1/auth/login",
        None,
        r#"{"username":"irene.soto","password":"demo-tecnico-crts-1"}"#,
    )
    .expect("login answers");
    assert_eq!(status, 200, "{body}");
    let token: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let token = token["token"].as_str().expect("token").to_owned();

    // Eight writers record steps until the server dies under them.
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut writers = Vec::new();
    for w in 0..8 {
        let (addr, token, acknowledged) = (addr.clone(), token.clone(), acknowledged.clone());
        writers.push(std::thread::spawn(move || {
            for n in 0.. {
                let step = format!("paso {w}-{n}");
                let body = format!(r#"{{"step":"{step}","performed_at":"2026-11-30T10:00:00Z"}}"#);
                match http(
                    &addr,
                    "POST",
                    "/api/v1/batches/MAL-CRTS-2020-00101/events",
                    Some(&token),
                    &body,
                ) {
                    Some((201, _)) => acknowledged.lock().unwrap().push(step),
                    Some((status, body)) => panic!("a step answered {status}: {body}"),
                    None => return,
                }
            }
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    for w in writers {
        w.join().expect("a writer");
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 10,
        "only {} writes before the kill",
        acknowledged.len()
    );

    // Every acknowledged step is there, and the chain is whole.
    let store = traza_store::Store::connect(&db.url).await.expect("reopen");
    store
        .open_audit_key(&audit_key_path(&db.url))
        .await
        .expect("the audit key");
    let auditor = store.actor("elena.rubio").await.expect("auditor");
    let batch = store
        .get_batch(&auditor, "MAL-CRTS-2020-00101")
        .await
        .expect("the batch");
    let stored: std::collections::HashSet<&str> =
        batch.events.iter().map(|e| e.step.as_str()).collect();
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|s| !stored.contains(s.as_str()))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged writes lost: {lost:?}",
        lost.len()
    );
    store.close().await.expect("close");
    let verify = traza(&db.url, &["audit", "verify"], None);
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify));
}

#[both_backends]
async fn two_servers_on_one_database_lose_no_update(db: Db) {
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/history/lotes-historicos-cp1252.csv"
    );
    assert!(
        traza(
            &db.url,
            &["import", "batches", sample, "--user", "lucia.navarro"],
            None
        )
        .status
        .success()
    );
    let (mut a, addr_a) = serve(&db.url);
    let (mut b, addr_b) = serve(&db.url);
    let login = r#"{"username":"irene.soto","password":"demo-tecnico-crts-1"}"#;
    let (_, body) = http(&addr_a, "POST", "/api/v1/auth/login", None, login).expect("login");
    let token: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let token = token["token"].as_str().expect("token").to_owned();
    let path = "/api/v1/batches/MAL-CRTS-2020-00101";
    let version = |addr: &str| -> i64 {
        let (status, body) = http(addr, "GET", path, Some(&token), "").expect("GET");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<serde_json::Value>(&body).expect("JSON")["version"]
            .as_i64()
            .expect("version")
    };
    let start = version(&addr_a);

    // Six writers alternate between the two processes: steps (no If-Match) and
    // corrections (If-Match with the version just read; some lose the race: 412).
    let mut writers = Vec::new();
    for w in 0..6 {
        let (a, b, token) = (addr_a.clone(), addr_b.clone(), token.clone());
        writers.push(std::thread::spawn(move || {
            let (mut steps, mut patches, mut stale) = (0, 0, 0);
            for n in 0..25 {
                let addr = if (w + n) % 2 == 0 { &a } else { &b };
                if n % 3 == 0 {
                    let (_, body) = http(addr, "GET", path, Some(&token), "").expect("GET");
                    let v = serde_json::from_str::<serde_json::Value>(&body).unwrap()["version"]
                        .as_i64()
                        .unwrap();
                    let body =
                        format!(r#"{{"notes":"nota {w}-{n}","reason":"corrección {w}-{n}"}}"#);
                    let if_match = format!("if-match: \"{v}\"\r\n");
                    let answer = http_with(addr, "PATCH", path, Some(&token), &if_match, &body);
                    match answer.map(|(status, _)| status) {
                        Some(200) => patches += 1,
                        Some(412) => stale += 1,
                        other => panic!("a correction answered {other:?}"),
                    }
                } else {
                    let body = format!(
                        r#"{{"step":"paso {w}-{n}","performed_at":"2026-11-30T10:00:00Z"}}"#
                    );
                    let (status, body) =
                        http(addr, "POST", &format!("{path}/events"), Some(&token), &body)
                            .expect("POST");
                    assert_eq!(status, 201, "{body}");
                    steps += 1;
                }
            }
            (steps, patches, stale)
        }));
    }
    let (mut steps, mut patches) = (0, 0);
    for w in writers {
        let (s, p, _) = w.join().expect("a writer");
        steps += s;
        patches += p;
    }
    // Every acknowledged write moved the version by one: none was lost or doubled.
    assert_eq!(
        version(&addr_b) - start,
        steps + patches,
        "{steps} steps, {patches} corrections"
    );
    for child in [&mut a, &mut b] {
        child.kill().expect("stop");
        child.wait().expect("reaped");
    }
    let verify = traza(&db.url, &["audit", "verify"], None);
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify));
}
