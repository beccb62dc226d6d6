//! End-to-end tests of the `traza` binary against a real database: SQLite always, PostgreSQL
//! when `TRAZA_TEST_POSTGRES_URL` is set (each test in a database of its own).

use std::io::Write;
use std::process::{Command, Output, Stdio};

use sqlx::{Connection, Executor};

fn traza(db: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_traza"))
        .args(args)
        .env("TRAZA_DATABASE_URL", db)
        .env("TRAZA_LOG", "warn")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the traza binary starts");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(input.as_bytes())
            .expect("stdin accepts the password");
    }
    child.wait_with_output().expect("traza finishes")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A database for one test: a SQLite file, or a fresh PostgreSQL database.
struct TestDb {
    url: String,
    _dir: Option<tempfile::TempDir>,
    pg_admin: Option<(String, String)>,
}

impl TestDb {
    fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("a temp dir");
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("traza.db").display()
        );
        TestDb {
            url,
            _dir: Some(dir),
            pg_admin: None,
        }
    }

    async fn postgres(test: &str) -> Option<TestDb> {
        let Ok(base) = std::env::var("TRAZA_TEST_POSTGRES_URL") else {
            eprintln!(
                "note: TRAZA_TEST_POSTGRES_URL is not set; skipping the PostgreSQL half of {test}"
            );
            return None;
        };
        let name = format!("traza_cli_{}_{}", test, std::process::id());
        let mut conn = sqlx::PgConnection::connect(&base)
            .await
            .expect("TRAZA_TEST_POSTGRES_URL is reachable");
        conn.execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .await
        .expect("drop old test db");
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("create test db");
        let url = match base.rfind('/') {
            Some(i) if i > base.find("://").map_or(0, |s| s + 2) => {
                format!("{}/{name}", &base[..i])
            }
            _ => format!("{base}/{name}"),
        };
        Some(TestDb {
            url,
            _dir: None,
            pg_admin: Some((base, name)),
        })
    }

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
            c.execute(sqlx::AssertSqlSafe(sql.to_owned()))
                .await
                .expect("tamper");
        }
    }

    async fn drop_pg(&self) {
        if let Some((base, name)) = &self.pg_admin
            && let Ok(mut conn) = sqlx::PgConnection::connect(base).await
        {
            let _ = conn
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .await;
        }
    }
}

async fn on_both(
    test: &str,
    body: impl Fn(&TestDb) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + '_>>,
) {
    let sqlite = TestDb::sqlite();
    body(&sqlite).await;
    if let Some(pg) = TestDb::postgres(test).await {
        body(&pg).await;
        pg.drop_pg().await;
    }
}

#[tokio::test]
async fn audit_verify_passes_on_an_intact_trail_and_names_the_first_tampered_event() {
    on_both("audit_verify", |db| {
        Box::pin(async move {
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
        })
    })
    .await;
}

#[tokio::test]
async fn audit_verify_detects_a_deleted_tail() {
    on_both("audit_tail", |db| {
        Box::pin(async move {
            assert!(traza(&db.url, &["fixtures", "load"], None).status.success());
            db.tamper("DELETE FROM audit_events WHERE id = (SELECT MAX(id) FROM audit_events)")
                .await;
            let broken = traza(&db.url, &["audit", "verify"], None);
            assert_eq!(broken.status.code(), Some(1), "{}", text(&broken));
        })
    })
    .await;
}

#[tokio::test]
async fn user_add_bootstraps_the_first_admin_then_requires_an_admin() {
    on_both("user_add", |db| {
        Box::pin(async move {
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
        })
    })
    .await;
}

#[tokio::test]
async fn import_batches_is_all_or_nothing_with_an_exit_status_and_an_errors_file() {
    on_both("import_cli", |db| {
        Box::pin(async move {
            let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/history/lotes-historicos-cp1252.csv");
            let dir = tempfile::tempdir().expect("a temp dir");
            let load = traza(&db.url, &["fixtures", "load"], None);
            assert!(load.status.success(), "{}", text(&load));

            // An unknown user, a dry run, the real import, the same file again.
            let nobody = traza(&db.url, &["import", "batches", sample, "--user", "nadie"], None);
            assert_eq!(nobody.status.code(), Some(2), "{}", text(&nobody));
            let dry = traza(&db.url, &["import", "batches", sample, "--user", "lucia.navarro", "--dry-run"], None);
            assert_eq!(dry.status.code(), Some(0), "{}", text(&dry));
            assert!(text(&dry).contains("created 5"), "{}", text(&dry));
            assert!(text(&dry).contains("nothing was written"), "{}", text(&dry));
            let done = traza(&db.url, &["import", "batches", sample, "--user", "lucia.navarro"], None);
            assert_eq!(done.status.code(), Some(0), "{}", text(&done));
            assert!(text(&done).contains("created 5") && text(&done).contains("windows-1252"), "{}", text(&done));
            let again = traza(&db.url, &["import", "batches", sample, "--user", "lucia.navarro"], None);
            assert!(text(&again).contains("created 0, unchanged 5"), "{}", text(&again));

            // Marta (Granada) may not import Sevilla's and Málaga's rows: exit 1, errors file.
            let errors = dir.path().join("errores.csv");
            let refused = traza(
                &db.url,
                &["import", "batches", sample, "--user", "marta.jimenez", "--errors-csv", errors.to_str().unwrap()],
                None,
            );
            assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
            // The refused rows as written (`;`, the file's columns, decoded), then line,
            // error_code and error_message: ready to fix in Excel.
            let bytes = std::fs::read(&errors).expect("the errors file");
            assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 with a BOM for Excel");
            let mut r = csv::ReaderBuilder::new().delimiter(b';').from_reader(&bytes[3..]);
            let head: Vec<String> = r.headers().expect("a header").iter().map(str::to_owned).collect();
            assert_eq!(head.len(), 23);
            assert_eq!(&head[..2], ["batch_number", "product_code"]);
            assert_eq!(&head[20..], ["line", "error_code", "error_message"]);
            let rows: Vec<csv::StringRecord> = r.records().map(|x| x.expect("a record")).collect();
            assert_eq!(rows.len(), 2, "{rows:?}");
            assert_eq!((&rows[0][0], &rows[0][20], &rows[0][21]), ("SEV-UPRC-2021-00044", "5", "out_of_scope"));
            assert_eq!(&rows[0][19], "Paciente de Sevilla;\nsegunda línea de texto en la nota");
            assert_eq!(&rows[0][3], "autólogo");
            assert_eq!((&rows[1][0], &rows[1][20]), ("MAL-CRTS-2020-00101", "7"));
            assert!(rows[1][22].contains("MAL-CRTS"), "{:?}", &rows[1]);

            // Export as the auditor: the five batches in the import format; the chain is whole.
            let out = dir.path().join("export.csv");
            let export = traza(&db.url, &["export", "batches", "--user", "elena.rubio", "--out", out.to_str().unwrap()], None);
            assert!(export.status.success(), "{}", text(&export));
            let csv = std::fs::read_to_string(&out).expect("the export");
            assert!(csv.starts_with("batch_number,product_code,lab_code,origin,donor_code,patient_code,"), "{csv}");
            assert!(csv.contains("GRA-UPCIT-2018-00003,MSC-AD-ALO,GRA-UPCIT,allogeneic,A999918000123,,2018-01-10,2018-01-11,2018-02-02,2019-02-02,released,125000000,94.1,15,4,"), "{csv}");
            let verify = traza(&db.url, &["audit", "verify"], None);
            assert_eq!(verify.status.code(), Some(0), "{}", text(&verify));
        })
    })
    .await;
}
