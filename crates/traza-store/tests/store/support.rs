//! The store tests' side of the shared harness (`traza-testkit`): a test declared
//! `#[both_backends]` runs as `name::sqlite` and `name::postgres`, each on its own copy of the
//! fixture network (`#[both_backends(empty)]`: of an empty, migrated database).

use std::future::Future;
use std::panic::resume_unwind;

use chrono::{NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::Connection;
use traza_domain::access::Actor;
use traza_domain::batch::BatchFields;
use traza_domain::codes::{DonorCode, LabCode, PatientCode, ProductCode, TrialId};
use traza_domain::spec::SpecTest;
use traza_domain::vocab::{AccessRoute, SignatureMeaning, TestKind};
use traza_store::{BatchView, NewBatch, QcInput, Store, StoreError};

pub use traza_testkit::{
    Backend, CatchUnwind, Contents, TestDb, both_backends, fixture, with_database,
};

/// One database under test: the store on it, and its URL for out-of-band SQL.
#[derive(Clone)]
pub struct Ctx {
    pub store: Store,
    pub url: String,
    /// The audit trail's key file.
    pub key_file: std::path::PathBuf,
}

impl Ctx {
    /// Like [`Ctx::execute_raw`], but the database's refusal is returned, not a panic.
    pub async fn try_raw(&self, sql: &str) -> Result<u64, String> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        let done = if self.url.starts_with("sqlite:") {
            let mut conn = sqlx::SqliteConnection::connect(&self.url)
                .await
                .expect("raw SQLite connection");
            sqlx::query(sql)
                .execute(&mut conn)
                .await
                .map(|d| d.rows_affected())
        } else {
            let mut conn = sqlx::PgConnection::connect(&self.url)
                .await
                .expect("raw PostgreSQL connection");
            sqlx::query(sql)
                .execute(&mut conn)
                .await
                .map(|d| d.rows_affected())
        };
        done.map_err(|e| e.to_string())
    }

    /// Runs raw SQL through a connection of its own, bypassing the store (as someone with
    /// direct database access would).
    pub async fn execute_raw(&self, sql: &str) -> u64 {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        if self.url.starts_with("sqlite:") {
            let mut conn = sqlx::SqliteConnection::connect(&self.url)
                .await
                .expect("raw SQLite connection");
            let done = sqlx::query(sql)
                .execute(&mut conn)
                .await
                .expect("raw SQL on SQLite");
            conn.close().await.expect("close raw SQLite connection");
            done.rows_affected()
        } else {
            let mut conn = sqlx::PgConnection::connect(&self.url)
                .await
                .expect("raw PostgreSQL connection");
            let done = sqlx::query(sql)
                .execute(&mut conn)
                .await
                .expect("raw SQL on PostgreSQL");
            conn.close().await.expect("close raw PostgreSQL connection");
            done.rows_affected()
        }
    }
}

/// Runs one backend's half of a `#[both_backends]` test: `body` on a copy of the template
/// database of `contents`, then the database is removed (even when `body` panics).
pub async fn on<F, Fut>(backend: Backend, contents: Contents, name: &str, body: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(db) = TestDb::new(backend, contents, name).await else {
        return;
    };
    let store = Store::connect(&db.url)
        .await
        .unwrap_or_else(|e| panic!("connect to the test database ({name}): {e}"));
    store
        .open_audit_key(&db.key_file)
        .await
        .expect("open the audit key");
    let outcome = CatchUnwind::new(body(Ctx {
        store: store.clone(),
        url: db.url.clone(),
        key_file: db.key_file.clone(),
    }))
    .await;
    let _ = store.close().await;
    db.remove().await;
    if let Err(panic) = outcome {
        resume_unwind(panic);
    }
}

// --- the fixture network ----------------------------------------------------------------------

/// The fixture network loaded, and actors for the users the tests play.
pub struct Net {
    pub store: Store,
    pub admin: Actor,
    /// Coordinator.
    pub lucia: Actor,
    /// Auditor.
    pub elena: Actor,
    /// Lab staff at MAL-HRU.
    pub cristina: Actor,
    /// Lab staff at MAL-HRU.
    pub sergio: Actor,
    /// QA at MAL-HRU.
    pub nuria: Actor,
    /// QA at MAL-HRU and MAL-CRTS.
    pub jose: Actor,
    /// Lab staff at SEV-UPRC.
    pub rocio: Actor,
    /// QA at SEV-UPRC.
    pub teresa: Actor,
}

/// Fixture passwords of the users above.
pub const NURIA_PW: &str = "demo-calidad-malaga";
pub const JOSE_PW: &str = "demo-calidad-malaga-2";
pub const TERESA_PW: &str = "demo-calidad-sevilla";

/// Loads the fixture network into an empty database, and returns its actors.
pub async fn load_network(store: &Store) -> Net {
    store
        .load_network(&traza_store::system_actor(), &fixture())
        .await
        .expect("load the fixture network");
    network(store).await
}

/// The actors of the fixture network a test's database starts with.
pub async fn network(store: &Store) -> Net {
    let actor = |name: &'static str| async move {
        store
            .actor(name)
            .await
            .unwrap_or_else(|e| panic!("actor {name}: {e}"))
    };
    Net {
        store: store.clone(),
        admin: actor("traza.admin").await,
        lucia: actor("lucia.navarro").await,
        elena: actor("elena.rubio").await,
        cristina: actor("cristina.vega").await,
        sergio: actor("sergio.fuentes").await,
        nuria: actor("nuria.blanco").await,
        jose: actor("jose.alarcon").await,
        rocio: actor("rocio.dominguez").await,
        teresa: actor("teresa.benitez").await,
    }
}

// --- values -----------------------------------------------------------------------------------

pub fn day(s: &str) -> NaiveDate {
    s.parse().unwrap_or_else(|e| panic!("date {s}: {e}"))
}

pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

pub fn days_ago(n: u64) -> NaiveDate {
    today() - chrono::Days::new(n)
}

pub fn dec(s: &str) -> Decimal {
    s.parse().unwrap_or_else(|e| panic!("decimal {s}: {e}"))
}

pub fn lab(s: &str) -> LabCode {
    LabCode::parse(s).unwrap()
}

pub fn product(s: &str) -> ProductCode {
    ProductCode::parse(s).unwrap()
}

pub fn donor(s: &str) -> DonorCode {
    DonorCode::parse(s).unwrap()
}

pub fn patient(s: &str) -> PatientCode {
    PatientCode::parse(s).unwrap()
}

/// Products and their MAL-HRU / SEV-UPRC assignments in the fixture (all clinical trials).
pub const ALLO: &str = "MSC-AD-ALO"; // allogeneic, MAL-HRU, EudraCT 2020-002941-65
pub const AUTO: &str = "MSC-AD-AUT"; // autologous, MAL-HRU, EudraCT 2017-002318-40
pub const CART: &str = "CART-CD19"; // autologous, SEV-UPRC, EudraCT 2019-001472-33
pub const MAL: &str = "MAL-HRU";
pub const SEV: &str = "SEV-UPRC";

/// The fields of a clinical-trial batch; `patient` only for autologous products.
pub fn trial_fields(
    trial: &str,
    donor_code: &str,
    patient_code: Option<&str>,
    start: NaiveDate,
) -> BatchFields {
    BatchFields {
        access_route: AccessRoute::ClinicalTrial,
        trial_id: Some(TrialId::parse(trial).unwrap()),
        donor_code: donor(donor_code),
        patient_code: patient_code.map(patient),
        collection_date: Some(start - chrono::Days::new(1)),
        manufacturing_start: start,
        manufacturing_end: None,
        expiry_date: None,
        cell_count: Some(dec("150000000")),
        viability_percent: Some(dec("94.2")),
        volume_ml: Some(dec("20")),
        doses: 1,
        notes: None,
    }
}

/// An allogeneic MSC-AD-ALO batch at MAL-HRU.
pub fn allo_fields(donor_code: &str, start: NaiveDate, doses: u32) -> BatchFields {
    BatchFields {
        doses,
        ..trial_fields("2020-002941-65", donor_code, None, start)
    }
}

/// An autologous MSC-AD-AUT batch at MAL-HRU for `subject` (donor and patient).
pub fn auto_fields(subject: &str, start: NaiveDate) -> BatchFields {
    trial_fields("2017-002318-40", subject, Some(subject), start)
}

pub async fn create(
    store: &Store,
    actor: &Actor,
    product_code: &str,
    lab_code: &str,
    fields: BatchFields,
) -> BatchView {
    store
        .create_batch(
            actor,
            NewBatch {
                batch_number: None,
                product_code: product(product_code),
                lab_code: lab(lab_code),
                fields,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("create a {product_code} batch at {lab_code}: {e:?}"))
}

/// A value that passes a specification test.
pub fn passing_value(t: &SpecTest) -> String {
    match t.kind {
        TestKind::Categorical => t
            .expected
            .clone()
            .expect("a categorical test has an expected word"),
        TestKind::Numeric => match (t.min, t.max) {
            (Some(min), Some(max)) => ((min + max) / Decimal::TWO).normalize().to_string(),
            (Some(min), None) => (min + Decimal::ONE).to_string(),
            (None, Some(max)) => (max / Decimal::TWO).normalize().to_string(),
            (None, None) => "1".into(),
        },
    }
}

/// A value that fails a specification test.
pub fn failing_value(t: &SpecTest) -> String {
    match t.kind {
        // One of the listed values other than the expected one, or any other word.
        TestKind::Categorical => t
            .values
            .iter()
            .find(|v| Some(*v) != t.expected.as_ref())
            .cloned()
            .unwrap_or_else(|| "detected".into()),
        TestKind::Numeric => match (t.min, t.max) {
            (Some(min), _) => (min - Decimal::ONE).to_string(),
            (None, Some(max)) => (max * Decimal::TWO + Decimal::ONE).to_string(),
            (None, None) => panic!("test {} cannot fail", t.test),
        },
    }
}

pub fn qc(test: &str, value: &str, unit: &str) -> QcInput {
    QcInput {
        test: test.into(),
        value: value.into(),
        unit: unit.into(),
        supersedes: None,
        reason: None,
        deviation_id: None,
    }
}

/// Records a passing result for every required test of the batch's product; returns how many.
pub async fn record_passing_qc(
    store: &Store,
    actor: &Actor,
    number: &str,
    product_code: &str,
) -> usize {
    let spec = store
        .get_product(actor, product_code)
        .await
        .expect("product")
        .specification;
    let mut n = 0;
    for t in spec.required_tests() {
        let r = store
            .record_qc_result(actor, number, None, qc(&t.test, &passing_value(t), &t.unit))
            .await
            .unwrap_or_else(|e| panic!("QC {} on {number}: {e:?}", t.test));
        assert_eq!(
            r.outcome,
            traza_domain::vocab::QcOutcome::Pass,
            "{} = {} must pass",
            t.test,
            r.value
        );
        n += 1;
    }
    n
}

/// A batch made by `maker` (QC included), completed, and certified by `qp`.
pub async fn released_batch(
    store: &Store,
    maker: &Actor,
    qp: &Actor,
    qp_password: &str,
    product_code: &str,
    lab_code: &str,
    fields: BatchFields,
) -> BatchView {
    let created = create(store, maker, product_code, lab_code, fields).await;
    let number = created.batch.batch_number.to_string();
    record_passing_qc(store, maker, &number, product_code).await;
    store
        .complete_batch(maker, &number, None, days_ago(2))
        .await
        .expect("complete");
    store
        .release_batch(
            qp,
            &number,
            None,
            qp_password,
            SignatureMeaning::QpCertified,
        )
        .await
        .unwrap_or_else(|e| panic!("release {number}: {e:?}"))
}

/// The refusal code and its rules, or a panic naming what came instead.
pub fn refusal<T: std::fmt::Debug>(r: Result<T, StoreError>) -> (&'static str, Vec<String>) {
    match r {
        Err(StoreError::Refused { code, details, .. }) => {
            (code.as_str(), details.into_iter().map(|d| d.rule).collect())
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// The invalid fields of an `Invalid` error, or a panic naming what came instead.
pub fn invalid_fields<T: std::fmt::Debug>(r: Result<T, StoreError>) -> Vec<String> {
    match r {
        Err(StoreError::Invalid(errors)) => errors.0.iter().map(|e| e.field.clone()).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn with_database_replaces_only_the_path() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/test", "traza_t_ab"),
        "postgres://postgres@127.0.0.1:5432/traza_t_ab"
    );
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(
        with_database("postgresql://h:5432", "x"),
        "postgresql://h:5432/x"
    );
    assert_eq!(
        with_database("postgres://h?application_name=t", "x"),
        "postgres://h/x?application_name=t"
    );
}

/// Imports `rows` (CSV lines after the file's header) as the coordinator, Lucía.
pub async fn import_as_coordinator(net: &Net, rows: &[String]) -> traza_store::ImportReport {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("historia.csv");
    let mut text = String::from(
        "batch_number,product_code,lab_code,origin,donor_code,patient_code,collection_date,manufacturing_start,manufacturing_end,expiry_date,status,cell_count,viability_percent,volume_ml,doses,released_by,release_date,access_route,trial_id,notes\n",
    );
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    net.store
        .import_batches(
            &net.lucia,
            traza_store::ImportRequest {
                path,
                file_name: "historia.csv".into(),
                dry_run: false,
                encoding: None,
            },
            None,
        )
        .await
        .unwrap()
}
