//! End-to-end tests of the `traza` binary against a real database. Each `#[both_backends]`
//! test runs as `name::sqlite` and `name::postgres` (when `TRAZA_TEST_POSTGRES_URL` is set),
//! each on its own copy of a template database (`traza-testkit`).

mod common;
// Files of their own, so that none grows past 800 lines.
#[path = "cli/demo.rs"]
mod demo;
#[path = "cli/servers.rs"]
mod servers;

use std::process::{Command, Output, Stdio};

use common::traza;

use sqlx::{Connection, Executor};
use traza_testkit::{Backend, CatchUnwind, Contents, TestDb, audit_key_path, both_backends};

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A test's database, and what someone with direct access to it could do.
struct Db {
    url: String,
}

impl Db {
    /// Runs raw SQL against the database, as someone with direct access to it would.
    async fn tamper(&self, sql: &str) {
        if self.url.starts_with("sqlite:") {
            let mut c = sqlx::SqliteConnection::connect(&self.url)
                .await
                .expect("open sqlite");
            c.execute(sqlx::AssertSqlSafe(sql.to_owned()))
                .await
                .expect("tamper");
        } else {
            let mut c = sqlx::PgConnection::connect(&self.url)
                .await
                .expect("open postgres");
            if let Err(e) = c.execute(sqlx::AssertSqlSafe(sql.to_owned())).await {
                // The trail is append-only on PostgreSQL: only its owner, disabling the
                // triggers first, gets through, and `audit verify` must still see it.
                assert!(e.to_string().contains("append-only"), "tamper: {e}");
                for table in ["audit_events", "signatures"] {
                    c.execute(sqlx::AssertSqlSafe(format!(
                        "ALTER TABLE {table} DISABLE TRIGGER USER"
                    )))
                    .await
                    .expect("disable the append-only triggers");
                }
                c.execute(sqlx::AssertSqlSafe(sql.to_owned()))
                    .await
                    .expect("tamper");
            }
        }
    }
}

/// Runs one backend's half of a `#[both_backends]` test on a copy of the template database
/// of `contents` (`traza-testkit`), then removes it, even when `body` panics.
async fn on<F, Fut>(backend: Backend, contents: Contents, name: &str, body: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let Some(db) = TestDb::new(backend, contents, name).await else {
        return;
    };
    let outcome = CatchUnwind::new(body(Db {
        url: db.url.clone(),
    }))
    .await;
    db.remove().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

#[both_backends(empty)]
async fn audit_verify_passes_on_an_intact_trail_and_names_the_first_tampered_event(db: Db) {
    let migrate = traza(&db.url, &["migrate"], None);
    assert!(migrate.status.success(), "{}", text(&migrate));
    let load = traza(&db.url, &["fixtures", "load"], None);
    assert!(load.status.success(), "{}", text(&load));
    assert!(text(&load).contains("10 laboratories"), "{}", text(&load));

    let ok = traza(&db.url, &["audit", "verify"], None);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    assert!(text(&ok).contains("intact"));

    db.tamper("UPDATE audit_events SET reason = 'nothing to see' WHERE id = 7")
        .await;
    let broken = traza(&db.url, &["audit", "verify"], None);
    assert_eq!(broken.status.code(), Some(1), "{}", text(&broken));
    assert!(text(&broken).contains("event 7"), "{}", text(&broken));
}

#[both_backends]
async fn audit_verify_detects_a_deleted_tail(db: Db) {
    db.tamper("DELETE FROM audit_events WHERE id = (SELECT MAX(id) FROM audit_events)")
        .await;
    let broken = traza(&db.url, &["audit", "verify"], None);
    assert_eq!(broken.status.code(), Some(1), "{}", text(&broken));
}

#[both_backends]
async fn a_removed_tail_with_its_rows_is_caught_through_a_checkpoint(db: Db) {
    let add = traza(
        &db.url,
        &[
            "user",
            "add",
            "--username",
            "intruso",
            "--full-name",
            "Cuenta Intrusa",
            "--role",
            "admin",
            "--password-stdin",
            "--user",
            "traza.admin",
        ],
        Some("una clave bien larga\n"),
    );
    assert!(add.status.success(), "{}", text(&add));
    let printed = traza(&db.url, &["audit", "checkpoint"], None);
    assert_eq!(printed.status.code(), Some(0), "{}", text(&printed));
    let checkpoint = String::from_utf8_lossy(&printed.stdout).trim().to_owned();
    assert!(checkpoint.contains(':'), "{checkpoint}");

    // The attack: the newest event goes, with the row it made, and the head moves back.
    db.tamper(
                "UPDATE audit_head SET last_id = last_id - 1, last_hash = \
                 (SELECT prev_hash FROM audit_events WHERE id = (SELECT MAX(id) FROM audit_events))",
            )
            .await;
    db.tamper("DELETE FROM users WHERE username = 'intruso'")
        .await;
    db.tamper("DELETE FROM audit_events WHERE id = (SELECT MAX(id) FROM audit_events)")
        .await;
    // From inside the database alone this cannot be seen…
    let alone = traza(&db.url, &["audit", "verify"], None);
    assert_eq!(alone.status.code(), Some(0), "{}", text(&alone));
    // …but the checkpoint kept elsewhere names it.
    let caught = traza(
        &db.url,
        &["audit", "verify", "--checkpoint", &checkpoint],
        None,
    );
    assert_eq!(caught.status.code(), Some(1), "{}", text(&caught));
    assert!(text(&caught).contains("removed"), "{}", text(&caught));
    let garbled = traza(&db.url, &["audit", "verify", "--checkpoint", "7"], None);
    assert_eq!(garbled.status.code(), Some(2), "{}", text(&garbled));
}

#[both_backends(empty)]
async fn the_key_file_is_made_needed_and_rotated(db: Db) {
    let key = audit_key_path(&db.url);
    let _ = std::fs::remove_file(&key);
    let first = traza(&db.url, &["fixtures", "load"], None);
    assert!(first.status.success(), "{}", text(&first));
    assert!(
        text(&first).contains("made the audit trail's key"),
        "{}",
        text(&first)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let refused = traza(&db.url, &["audit", "rekey", "--user", "elena.rubio"], None);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    let rekey = traza(&db.url, &["audit", "rekey", "--user", "traza.admin"], None);
    assert_eq!(rekey.status.code(), Some(0), "{}", text(&rekey));
    assert!(
        text(&rekey).contains("now signed with key"),
        "{}",
        text(&rekey)
    );
    let ring = std::fs::read_to_string(&key).unwrap();
    assert_eq!(
        ring.lines()
            .filter(|l| l.starts_with("traza-audit-key "))
            .count(),
        2
    );
    let verify = traza(&db.url, &["audit", "verify"], None);
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify));
    // The key file gone: no command writes, and verify says what it lacks.
    let kept = key.with_extension("kept");
    std::fs::rename(&key, &kept).unwrap();
    for args in [&["audit", "verify"][..], &["fixtures", "load"][..]] {
        let out = traza(&db.url, args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(text(&out).contains("key file"), "{}", text(&out));
    }
    std::fs::rename(&kept, &key).unwrap();
    let _ = std::fs::remove_file(&key);
}

#[both_backends(empty)]
async fn user_add_bootstraps_the_first_admin_then_requires_an_admin(db: Db) {
    let first = traza(
        &db.url,
        &[
            "user",
            "add",
            "--username",
            "root",
            "--full-name",
            "Rocío Admin",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some("una clave bien larga\n"),
    );
    assert!(first.status.success(), "{}", text(&first));

    let anonymous = traza(
        &db.url,
        &[
            "user",
            "add",
            "--username",
            "other",
            "--full-name",
            "Otro",
            "--role",
            "auditor",
            "--password-stdin",
        ],
        Some("otra clave bien larga\n"),
    );
    assert_eq!(anonymous.status.code(), Some(2), "{}", text(&anonymous));
    assert!(text(&anonymous).contains("--user"));

    let by_admin = traza(
        &db.url,
        &[
            "user",
            "add",
            "--username",
            "other",
            "--full-name",
            "Otro",
            "--role",
            "auditor",
            "--password-stdin",
            "--user",
            "root",
        ],
        Some("otra clave bien larga\n"),
    );
    assert!(by_admin.status.success(), "{}", text(&by_admin));

    let short = traza(
        &db.url,
        &[
            "user",
            "add",
            "--username",
            "third",
            "--full-name",
            "Corta",
            "--role",
            "auditor",
            "--password-stdin",
            "--user",
            "root",
        ],
        Some("corta\n"),
    );
    assert_eq!(short.status.code(), Some(2));
    assert!(text(&short).contains("password"), "{}", text(&short));

    let verify = traza(&db.url, &["audit", "verify"], None);
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify));
    assert!(text(&verify).contains("2 events"), "{}", text(&verify));
}

#[both_backends]
async fn import_batches_is_all_or_nothing_with_an_exit_status_and_an_errors_file(db: Db) {
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/history/lotes-historicos-cp1252.csv"
    );
    let dir = tempfile::tempdir().expect("a temp dir");

    // An unknown user, a dry run, the real import, the same file again.
    let nobody = traza(
        &db.url,
        &["import", "batches", sample, "--user", "nadie"],
        None,
    );
    assert_eq!(nobody.status.code(), Some(2), "{}", text(&nobody));
    let dry = traza(
        &db.url,
        &[
            "import",
            "batches",
            sample,
            "--user",
            "lucia.navarro",
            "--dry-run",
        ],
        None,
    );
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry));
    assert!(text(&dry).contains("created 5"), "{}", text(&dry));
    assert!(text(&dry).contains("nothing was written"), "{}", text(&dry));
    let done = traza(
        &db.url,
        &["import", "batches", sample, "--user", "lucia.navarro"],
        None,
    );
    assert_eq!(done.status.code(), Some(0), "{}", text(&done));
    assert!(
        text(&done).contains("created 5") && text(&done).contains("windows-1252"),
        "{}",
        text(&done)
    );
    let again = traza(
        &db.url,
        &["import", "batches", sample, "--user", "lucia.navarro"],
        None,
    );
    assert!(
        text(&again).contains("created 0, unchanged 5"),
        "{}",
        text(&again)
    );

    // Marta (Granada) may not import Sevilla's and Málaga's rows: exit 1, errors file.
    let errors = dir.path().join("errores.csv");
    let refused = traza(
        &db.url,
        &[
            "import",
            "batches",
            sample,
            "--user",
            "marta.jimenez",
            "--errors-csv",
            errors.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    // The refused rows as written (`;`, the file's columns, decoded), then line,
    // error_code and error_message: ready to fix in Excel.
    let bytes = std::fs::read(&errors).expect("the errors file");
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "UTF-8 with a BOM for Excel"
    );
    let mut r = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(&bytes[3..]);
    let head: Vec<String> = r
        .headers()
        .expect("a header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(head.len(), 23);
    assert_eq!(&head[..2], ["batch_number", "product_code"]);
    assert_eq!(&head[20..], ["line", "error_code", "error_message"]);
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.expect("a record")).collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(
        (&rows[0][0], &rows[0][20], &rows[0][21]),
        ("SEV-UPRC-2021-00044", "5", "out_of_scope")
    );
    assert_eq!(
        &rows[0][19],
        "Paciente de Sevilla;\nsegunda línea de texto en la nota"
    );
    assert_eq!(&rows[0][3], "autólogo");
    assert_eq!((&rows[1][0], &rows[1][20]), ("MAL-CRTS-2020-00101", "7"));
    assert!(rows[1][22].contains("MAL-CRTS"), "{:?}", &rows[1]);

    // Export as the auditor: the five batches in the import format; the chain is whole.
    let out = dir.path().join("export.csv");
    let export = traza(
        &db.url,
        &[
            "export",
            "batches",
            "--user",
            "elena.rubio",
            "--out",
            out.to_str().unwrap(),
        ],
        None,
    );
    assert!(export.status.success(), "{}", text(&export));
    let csv = std::fs::read_to_string(&out).expect("the export");
    assert!(
        csv.starts_with("batch_number,product_code,lab_code,origin,donor_code,patient_code,"),
        "{csv}"
    );
    assert!(csv.contains("GRA-UPCIT-2018-00003,MSC-AD-ALO,GRA-UPCIT,allogeneic,A999918000123,,2018-01-10,2018-01-11,2018-02-02,2019-02-02,released,125000000,94.1,15,4,"), "{csv}");
    let verify = traza(&db.url, &["audit", "verify"], None);
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify));
}

/// `traza backup` copies a live SQLite file (PostgreSQL has its own tools): SQLite only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_copies_a_live_sqlite_database_with_its_chain_intact() {
    on(
        Backend::Sqlite,
        Contents::Network,
        "backup_copies_a_live_sqlite_database_with_its_chain_intact",
        backup_of_a_live_database,
    )
    .await;
}

async fn backup_of_a_live_database(db: Db) {
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/history/lotes-historicos-cp1252.csv"
    );
    let import = traza(
        &db.url,
        &["import", "batches", sample, "--user", "lucia.navarro"],
        None,
    );
    assert!(import.status.success(), "{}", text(&import));

    // Writers keep recording steps on a batch while the backup runs.
    let store = traza_store::Store::connect(&db.url).await.expect("open");
    store
        .open_audit_key(&audit_key_path(&db.url))
        .await
        .expect("the audit key");
    let irene = store
        .actor("irene.soto")
        .await
        .expect("the MAL-CRTS technician");
    let writing = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let written = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let writer = {
        let (store, writing, written) = (store.clone(), writing.clone(), written.clone());
        tokio::spawn(async move {
            let mut n = 0u32;
            while writing.load(std::sync::atomic::Ordering::Relaxed) {
                store
                    .record_event(
                        &irene,
                        "MAL-CRTS-2020-00101",
                        None,
                        &format!("paso {n}"),
                        chrono::Utc::now(),
                        None,
                    )
                    .await
                    .expect("a step");
                n += 1;
                written.store(n, std::sync::atomic::Ordering::Relaxed);
            }
            n
        })
    };
    // The backup starts once the writers are under way (a few steps committed).
    while written.load(std::sync::atomic::Ordering::Relaxed) < 3 {
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let out = dir.path().join("copia.db");
    let (url, target) = (db.url.clone(), out.to_str().unwrap().to_owned());
    let backup =
        tokio::task::spawn_blocking(move || traza(&url, &["backup", "--out", &target], None))
            .await
            .expect("backup");
    writing.store(false, std::sync::atomic::Ordering::Relaxed);
    let steps = writer.await.expect("the writer");
    assert!(backup.status.success(), "{}", text(&backup));
    assert!(text(&backup).contains("intact"), "{}", text(&backup));
    assert!(steps > 0);

    // Restored (the copy used as the database): the chain verifies and the batches are there.
    let restored = format!("sqlite://{}?mode=rwc", out.display());
    // Without the trail's key file the copy cannot be verified; restored with it, it can.
    let keyless = traza(&restored, &["audit", "verify"], None);
    assert_eq!(keyless.status.code(), Some(2), "{}", text(&keyless));
    assert!(text(&keyless).contains("key file"), "{}", text(&keyless));
    std::fs::copy(audit_key_path(&db.url), audit_key_path(&restored))
        .expect("the key file restored beside the copy");
    let verify = traza(&restored, &["audit", "verify"], None);
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify));
    let export = traza(
        &restored,
        &["export", "batches", "--user", "elena.rubio"],
        None,
    );
    assert_eq!(String::from_utf8_lossy(&export.stdout).lines().count(), 7);

    // A backup never overwrites a file.
    let again = traza(&db.url, &["backup", "--out", out.to_str().unwrap()], None);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(text(&again).contains("exists already"), "{}", text(&again));
    store.close().await.expect("close");
}

/// `rows` valid rows of Granada's allogeneic history (clinical trial), as a CSV file.
fn history_file(path: &std::path::Path, rows: usize) {
    let mut s = String::from(
        "batch_number,product_code,lab_code,origin,donor_code,manufacturing_start,manufacturing_end,status,access_route,trial_id,viability_percent,notes\n",
    );
    for i in 0..rows {
        let year = 2016 + i / 90_000;
        s.push_str(&format!(
            "GRA-UPCIT-{year}-{:05},MSC-AD-ALO,GRA-UPCIT,allogeneic,DON-K9-{i:07},{year}-04-01,{year}-04-22,rejected,clinical_trial,2015-001726-39,9{},\"nota {i}; \"\"kill -9\"\"\"\n",
            i % 90_000 + 1,
            i % 10
        ));
    }
    std::fs::write(path, s).expect("write the history file");
}

fn exported_rows(db: &str) -> usize {
    let export = traza(db, &["export", "batches", "--user", "elena.rubio"], None);
    assert!(export.status.success(), "{}", text(&export));
    String::from_utf8_lossy(&export.stdout).lines().count() - 1
}

#[both_backends]
async fn an_import_killed_midway_leaves_nothing_and_can_run_again(db: Db) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("historia.csv");
    // The import is cut off once a third of its rows are written inside its
    // transaction: the import's own progress signal says when, on any machine.
    const ROWS: usize = 30_000;
    history_file(&file, ROWS);

    let mut child = Command::new(env!("CARGO_BIN_EXE_traza"))
        .args([
            "import",
            "batches",
            file.to_str().unwrap(),
            "--user",
            "lucia.navarro",
        ])
        .env("TRAZA_DATABASE_URL", &db.url)
        .env("TRAZA_AUDIT_KEY_FILE", audit_key_path(&db.url))
        .env("TRAZA_LOG", "warn,traza_store::import=debug")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("traza import starts");
    let log = child.stderr.take().expect("stderr is piped");
    let written = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        std::io::BufReader::new(log)
            .lines()
            .map_while(Result::ok)
            .filter_map(|line| {
                line.split("rows_written=")
                    .nth(1)?
                    .split_whitespace()
                    .next()?
                    .parse::<usize>()
                    .ok()
            })
            .find(|n| *n >= ROWS / 3)
    })
    .await
    .expect("the log reader");
    assert!(
        written.is_some_and(|n| n < ROWS),
        "no progress signal before the import ended: {written:?}"
    );
    assert!(
        child.try_wait().expect("status").is_none(),
        "the import finished before it could be killed"
    );
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");

    assert_eq!(
        exported_rows(&db.url),
        0,
        "no row of the killed import remains"
    );
    let verify = traza(&db.url, &["audit", "verify"], None);
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify));
    let again = traza(
        &db.url,
        &[
            "import",
            "batches",
            file.to_str().unwrap(),
            "--user",
            "lucia.navarro",
        ],
        None,
    );
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        text(&again).contains(&format!("created {ROWS}")),
        "{}",
        text(&again)
    );
    assert_eq!(exported_rows(&db.url), ROWS);
}
