//! The one harness behind Traza's store, API and CLI tests.
//!
//! A test declared with [`both_backends`] runs twice, as `name::sqlite` and `name::postgres`.
//! Each run gets a database of its own, **copied from a template** made once per test process
//! and backend: migrated and, for [`Contents::Network`], its audit key made and the fixture
//! network loaded (its 28 argon2 password hashes computed once, not once per test). SQLite
//! copies the file; PostgreSQL clones with `CREATE DATABASE … TEMPLATE`. Databases and
//! templates left by a process that died are dropped by the next run.
//!
//! The PostgreSQL half runs when `TRAZA_TEST_POSTGRES_URL` is set; otherwise it prints a
//! notice to the process's stderr and returns (CI always sets it).

use std::future::Future;
use std::io::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use sqlx::Connection;
use tokio::sync::OnceCell;
use traza_store::{NetworkFixture, Store};

pub use traza_test_macros::both_backends;

pub const POSTGRES_ENV: &str = "TRAZA_TEST_POSTGRES_URL";

/// The fixture network every test starts from (`fixtures/network.json`).
pub const FIXTURE_JSON: &str = include_str!("../../../fixtures/network.json");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// What a test's database holds when the test starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contents {
    /// Migrated, nothing else (no audit key yet).
    Empty,
    /// Migrated, audit key made, the fixture network loaded.
    Network,
}

impl Contents {
    fn name(self) -> &'static str {
        match self {
            Contents::Empty => "empty",
            Contents::Network => "net",
        }
    }
}

/// The fixture network, parsed.
pub fn fixture() -> NetworkFixture {
    NetworkFixture::from_json(FIXTURE_JSON).expect("fixtures/network.json parses")
}

/// Where the audit key of the test database at `url` lives: one file per database, in the
/// temporary folder, so that any test (or a `traza` child process) finds it from the URL.
pub fn audit_key_path(url: &str) -> PathBuf {
    use sha2::Digest;
    let dir = std::env::temp_dir().join("traza-test-keys");
    let _ = std::fs::create_dir_all(&dir);
    dir.join(hex::encode(&sha2::Sha256::digest(url.as_bytes())[..12]))
}

/// `url` with its database name replaced by `database`, keeping any query string.
pub fn with_database(url: &str, database: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let after = &rest[authority_end..];
    let query = after.find('?').map_or("", |i| &after[i..]);
    format!(
        "{}{}/{database}{query}",
        &url[..scheme_end],
        &rest[..authority_end]
    )
}

/// The PostgreSQL server of the tests, when `TRAZA_TEST_POSTGRES_URL` is set.
pub fn postgres_url() -> Option<String> {
    std::env::var(POSTGRES_ENV)
        .ok()
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty())
}

/// A database of one test. [`TestDb::remove`] drops it (a SQLite folder also goes when the
/// value is dropped).
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    /// Its audit trail's key file ([`audit_key_path`] of `url`).
    pub key_file: PathBuf,
    /// The SQLite file's folder, kept while the test runs.
    pub dir: Option<std::path::PathBuf>,
    postgres: Option<(String, String)>,
}

fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "{prefix}_{}_{nanos:x}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The folder of this process's SQLite databases and templates (others' are cleaned).
fn sqlite_root() -> PathBuf {
    let root = std::env::temp_dir().join("traza-test-dbs");
    let _ = std::fs::create_dir_all(&root);
    root
}

fn process_alive(pid: &str) -> bool {
    pid.parse::<u32>()
        .is_ok_and(|p| p == std::process::id() || Path::new(&format!("/proc/{p}")).exists())
}

/// The process id inside a name made by [`unique`] or a template name.
fn pid_of(name: &str) -> Option<&str> {
    name.split('_')
        .find(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
}

impl TestDb {
    /// A fresh database of `contents` on `backend`, or `None` (with a printed notice) when the
    /// backend is PostgreSQL and `TRAZA_TEST_POSTGRES_URL` is not set.
    pub async fn new(backend: Backend, contents: Contents, test: &str) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite(contents).await),
            Backend::Postgres => match postgres_url() {
                Some(server) => Some(Self::postgres(&server, contents, test).await),
                None => {
                    // Straight to the process's stderr: the harness captures `eprintln!`, and
                    // the skip must show in a passing run.
                    let _ = writeln!(
                        std::io::stderr(),
                        "note: {POSTGRES_ENV} is not set; skipping {test}::postgres"
                    );
                    None
                }
            },
        }
    }

    async fn sqlite(contents: Contents) -> TestDb {
        let template = sqlite_template(contents).await;
        let dir = sqlite_root().join(unique("t"));
        std::fs::create_dir_all(&dir).expect("a folder for the test database");
        let file = dir.join("t.db");
        std::fs::copy(template, &file).expect("copy the SQLite template");
        let url = format!("sqlite://{}?mode=rwc", file.display());
        let key_file = copy_key(&sqlite_url(template), &url);
        TestDb {
            backend: Backend::Sqlite,
            url,
            key_file,
            dir: Some(dir),
            postgres: None,
        }
    }

    async fn postgres(server: &str, contents: Contents, test: &str) -> TestDb {
        let template = postgres_template(server, contents).await;
        let database = unique("traza_t");
        let mut admin = sqlx::PgConnection::connect(server)
            .await
            .unwrap_or_else(|e| {
                panic!("{POSTGRES_ENV} is set but PostgreSQL does not answer ({test}): {e}")
            });
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE {database} TEMPLATE {template}"
        )))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE {database} TEMPLATE {template}: {e}"));
        let _ = admin.close().await;
        let url = with_database(server, &database);
        let key_file = copy_key(&with_database(server, &template), &url);
        TestDb {
            backend: Backend::Postgres,
            url,
            key_file,
            dir: None,
            postgres: Some((server.to_owned(), database)),
        }
    }

    /// Drops the database and its key (best effort: a leftover is harmless, and is cleaned by
    /// the next run; a failed drop must not hide the test's result).
    pub async fn remove(self) {
        let _ = std::fs::remove_file(&self.key_file);
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some((server, database)) = &self.postgres {
            drop_database(server, database).await;
        }
    }
}

async fn drop_database(server: &str, database: &str) {
    if let Ok(mut admin) = sqlx::PgConnection::connect(server).await {
        if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
        )))
        .execute(&mut admin)
        .await
        {
            let _ = writeln!(std::io::stderr(), "warning: could not drop {database}: {e}");
        }
        let _ = admin.close().await;
    }
}

/// The key file of the copy at `url`: the template's key copied, when the template has one
/// (an empty template has none: its first writer makes it).
fn copy_key(template_url: &str, url: &str) -> PathBuf {
    let key_file = audit_key_path(url);
    let _ = std::fs::remove_file(&key_file);
    let template_key = audit_key_path(template_url);
    if template_key.exists() {
        std::fs::copy(template_key, &key_file).expect("copy the template's audit key");
    }
    key_file
}

fn sqlite_url(file: &Path) -> String {
    format!("sqlite://{}?mode=rwc", file.display())
}

/// Migrates the database at `url`, makes its audit key and, for a network, loads the fixture.
async fn prepare(url: &str, contents: Contents) {
    let store = Store::connect(url)
        .await
        .unwrap_or_else(|e| panic!("connect to the template {url}: {e}"));
    store.migrate().await.expect("migrate the template");
    if contents == Contents::Network {
        store
            .open_audit_key(&audit_key_path(url))
            .await
            .expect("make the template's audit key");
        store
            .load_network(&traza_store::system_actor(), &fixture())
            .await
            .expect("load the fixture network into the template");
    }
    store.close().await.expect("close the template");
}

static SQLITE_TEMPLATES: [OnceCell<PathBuf>; 2] = [OnceCell::const_new(), OnceCell::const_new()];
static POSTGRES_TEMPLATES: [OnceCell<String>; 2] = [OnceCell::const_new(), OnceCell::const_new()];

fn slot(contents: Contents) -> usize {
    match contents {
        Contents::Empty => 0,
        Contents::Network => 1,
    }
}

/// This process's SQLite template of `contents`, made on first use.
async fn sqlite_template(contents: Contents) -> &'static Path {
    SQLITE_TEMPLATES[slot(contents)]
        .get_or_init(|| async move {
            clean_sqlite_leftovers();
            let dir = sqlite_root().join(format!("tpl_{}_{}", std::process::id(), contents.name()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("a folder for the SQLite template");
            let file = dir.join("template.db");
            prepare(&sqlite_url(&file), contents).await;
            file
        })
        .await
}

/// Removes the SQLite folders and keys of test processes that are gone.
fn clean_sqlite_leftovers() {
    if let Ok(entries) = std::fs::read_dir(sqlite_root()) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if pid_of(&name).is_some_and(|pid| !process_alive(pid)) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}

/// This process's PostgreSQL template of `contents`, made on first use.
async fn postgres_template(server: &str, contents: Contents) -> String {
    POSTGRES_TEMPLATES[slot(contents)]
        .get_or_init(|| async move {
            let mut admin = sqlx::PgConnection::connect(server)
                .await
                .unwrap_or_else(|e| {
                    panic!("{POSTGRES_ENV} is set but PostgreSQL does not answer: {e}")
                });
            let names: Vec<String> = sqlx::query_scalar(
                "SELECT datname::text FROM pg_database \
                 WHERE datname LIKE 'traza\\_t\\_%' OR datname LIKE 'traza\\_tpl\\_%'",
            )
            .fetch_all(&mut admin)
            .await
            .unwrap_or_default();
            let template = format!("traza_tpl_{}_{}", std::process::id(), contents.name());
            for name in names {
                if name == template || pid_of(&name).is_some_and(|pid| !process_alive(pid)) {
                    drop_database(server, &name).await;
                }
            }
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {template}")))
                .execute(&mut admin)
                .await
                .unwrap_or_else(|e| panic!("CREATE DATABASE {template}: {e}"));
            let _ = admin.close().await;
            prepare(&with_database(server, &template), contents).await;
            template
        })
        .await
        .clone()
}

/// Polls a future, turning a panic into an `Err` so that cleanup can still run.
pub struct CatchUnwind<F>(Pin<Box<F>>);

impl<F> CatchUnwind<F> {
    pub fn new(future: F) -> Self {
        Self(Box::pin(future))
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = std::thread::Result<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}
