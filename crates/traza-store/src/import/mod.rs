//! Historical CSV import (SPEC §4): all or nothing, idempotent, streaming.
//!
//! The file is read twice, never held: a first pass hashes it (the audit event names its
//! SHA-256) and decides its encoding; the second decodes it on a blocking thread and hands
//! chunks of rows to the writer over a bounded channel, so decoding and writing overlap and
//! memory stays flat.
//!
//! Everything happens in one database transaction on a connection of its own, with the audit
//! chain head locked first like every other write. Each chunk is looked up by batch number
//! (an index probe per row, no table scan, no per-row set in memory) and its new rows are
//! written straight away: a number stored earlier *by this import* is a duplicate within the
//! file (the stored row names its line), one stored before is `unchanged` when identical and
//! `conflicts_with_stored` otherwise. At the end the transaction commits only if no row was
//! refused and it is not a dry run; otherwise it rolls back and nothing of the file remains.
//! On PostgreSQL the new rows travel by `COPY … FROM STDIN`, in the same transaction.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::AssertSqlSafe;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::SqliteConnection;
use traza_domain::access::{Action, Actor, LabScope};
use traza_domain::audit::{AuditEvent, audit_time};
use traza_domain::audit_key::ChainKey;
use traza_domain::batch::{Batch, foreign_number_owner};
use traza_domain::codes::LabCode;
use traza_domain::history::{
    HistoricalRow, HistoryReader, RowError, RowResult, RowWarning, TextEncoding,
    check_against_network, detect_encoding, differing_columns, resolved_route,
};
use traza_domain::network::{Assignment, Laboratory, Product};
use traza_domain::reconcile::{ImportDigest, Table, canonical_texts};
use traza_domain::vocab::Source;

use crate::Store;
use crate::entity::batches;
use crate::error::StoreError;
use crate::rows::{batch_from, dec_text, model_from_row};
use crate::sql::db;

/// Rows handed from the decoder to the writer at a time.
const CHUNK_ROWS: usize = 2_000;
/// The import connection's SQLite page cache (KiB, negative as SQLite wants it).
const IMPORT_CACHE_PRAGMA: &str = "PRAGMA cache_size = -40960";

/// Numbers in one lookup on SQLite. Only anonymous `?` parameters: sqlx asks SQLite for every
/// parameter's name, a linear search among the named ones, so numbered `?NNN` parameters make
/// binding quadratic in their count (measured: 85 % of an import's time at 10,000).
const SQLITE_NUMBERS_PER_LOOKUP: usize = 500;
/// The most errors and warnings an answer lists; the totals count them all. A file with a
/// million broken rows must not need a million messages in memory.
pub const MAX_LISTED: usize = 10_000;

/// What to import.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    /// The file, already on disk (the HTTP layer spools an upload to a temporary file).
    pub path: PathBuf,
    /// The name recorded in the audit trail.
    pub file_name: String,
    pub dry_run: bool,
    /// Forced encoding; detected when `None`.
    pub encoding: Option<TextEncoding>,
}

/// The answer of SPEC §4, plus what the audit event records.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    /// The stored import; `null` for a dry run or a refused file.
    pub import_id: Option<i64>,
    pub file_name: String,
    pub sha256: String,
    pub encoding: String,
    /// The delimiter the header uses: `,`, `;` or `tab`.
    pub delimiter: String,
    pub dry_run: bool,
    /// Data records read (the header and blank lines excluded).
    pub rows: u64,
    /// Batches written (for a dry run: that would be written).
    pub created: u64,
    pub unchanged: u64,
    pub warnings: Vec<RowWarning>,
    pub errors: Vec<RowError>,
    pub warnings_total: u64,
    pub errors_total: u64,
}

impl ImportReport {
    pub fn accepted(&self) -> bool {
        self.errors_total == 0
    }
}

/// A stored import, as `GET /imports/{id}` shows it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct ImportRecord {
    pub id: i64,
    pub file_name: String,
    pub sha256: String,
    pub encoding: String,
    pub delimiter: String,
    pub rows: i64,
    pub created: i64,
    pub unchanged: i64,
    pub warnings: i64,
    pub imported_by: String,
    pub source: String,
    pub created_at: DateTime<Utc>,
}

/// Called with the bytes read so far (for a progress bar).
pub type Progress = Arc<dyn Fn(u64) + Send + Sync>;

enum Decoded {
    /// The header is read; its delimiter.
    Delimiter(u8),
    Rows(Prepared),
    /// The header is unusable: nothing else can be read.
    Header(Vec<RowError>),
    Failed(String),
}

/// Reads `reader` to its end, returning its SHA-256 and what it was read for.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// First pass: the file's hash and encoding.
fn fingerprint(path: &Path, forced: Option<TextEncoding>) -> io::Result<(String, TextEncoding)> {
    let mut r = Hashing {
        inner: BufReader::with_capacity(1 << 20, File::open(path)?),
        hasher: Sha256::new(),
    };
    let detected = detect_encoding(&mut r)?;
    // detect_encoding may stop early once it has decided; the hash needs every byte.
    io::copy(&mut r, &mut io::sink())?;
    Ok((hex::encode(r.hasher.finalize()), forced.unwrap_or(detected)))
}

/// Second pass, on a blocking thread: decoded rows in chunks.
fn decode(
    path: PathBuf,
    encoding: TextEncoding,
    out: tokio::sync::mpsc::Sender<Decoded>,
    progress: Option<Progress>,
    prepare: impl Fn(Vec<RowResult>) -> Prepared,
) {
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) => {
            let _ = out.blocking_send(Decoded::Failed(e.to_string()));
            return;
        }
    };
    let mut reader = match HistoryReader::new(BufReader::with_capacity(1 << 20, file), encoding) {
        Ok(r) => r,
        Err(errors) => {
            let _ = out.blocking_send(Decoded::Header(errors));
            return;
        }
    };
    if out
        .blocking_send(Decoded::Delimiter(reader.delimiter()))
        .is_err()
    {
        return;
    }
    let mut chunk = Vec::with_capacity(CHUNK_ROWS);
    while let Some(row) = reader.next_row() {
        chunk.push(row);
        if chunk.len() == CHUNK_ROWS {
            if let Some(p) = &progress {
                p(reader.position_bytes());
            }
            let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_ROWS));
            if out.blocking_send(Decoded::Rows(prepare(full))).is_err() {
                return; // the writer gave up
            }
        }
    }
    if let Some(p) = &progress {
        p(reader.position_bytes());
    }
    if !chunk.is_empty() {
        let _ = out.blocking_send(Decoded::Rows(prepare(chunk)));
    }
}

/// The network as the rows are checked against it, loaded once.
struct Network {
    labs: HashMap<String, Laboratory>,
    products: HashMap<String, Product>,
    /// By product code, then laboratory code (looked up by `&str`, no key made per row).
    assignments: HashMap<String, HashMap<String, Vec<Assignment>>>,
}

/// A row that passed every check that needs no database, with the text it is stored as.
struct Checked {
    line: u64,
    row: HistoricalRow,
    text: RowText,
}

/// A chunk as the decoding thread hands it over: decoded, checked against the network and the
/// scope, and turned into stored text there, so that the writer only writes.
struct Prepared {
    rows: u64,
    errors: Vec<RowError>,
    warnings: Vec<RowWarning>,
    ready: Vec<Checked>,
}

/// One statement on whichever backend the import runs: the SQL in each dialect, then the
/// same binds and execution, written once (sqlx's query types differ per backend).
macro_rules! on_backend {
    ($conn:expr, ($sqlite:expr, $postgres:expr), |$sql:ident, $c:ident| $run:expr) => {
        match $conn {
            Conn::Sqlite($c) => {
                let $sql = $sqlite;
                $run
            }
            Conn::Postgres($c) => {
                let $sql = $postgres;
                $run
            }
        }
    };
}

/// The import's transaction on one backend, on a connection taken out of the pool for good.
/// If the import is cut off (a cancelled request, an aborted task) the connection is simply
/// dropped: closing it rolls the transaction back on the server, and a connection in the
/// middle of a `COPY` or of the C-API insert loop can never be handed to another request.
enum Conn {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

/// Accumulates the answer while the rows stream through.
struct Tally {
    report: ImportReport,
    /// The digests of the rows made, in the order they are made (the import's event).
    digest: ImportDigest,
}

impl Tally {
    fn error(&mut self, e: RowError) {
        self.report.errors_total += 1;
        if self.report.errors.len() < MAX_LISTED {
            self.report.errors.push(e);
        }
    }

    fn warning(&mut self, w: RowWarning) {
        self.report.warnings_total += 1;
        if self.report.warnings.len() < MAX_LISTED {
            self.report.warnings.push(w);
        }
    }
}

const BATCH_COLUMNS: &str = "batch_number, product_code, lab_code, origin, access_route, trial_id, \
     donor_code, patient_code, collection_date, manufacturing_start, manufacturing_end, \
     expiry_date, cell_count, viability_percent, volume_ml, doses, status, released_by, \
     release_date, notes, version, source, import_id, import_line, created_by, created_at, \
     updated_at";

impl Store {
    /// Imports historical batch records from a CSV file on behalf of `actor` (SPEC §4).
    ///
    /// Returns the report whether the file was accepted or not; `Err` only for what is not
    /// the file's fault (the caller's role, the database, an unreadable file).
    pub async fn import_batches(
        &self,
        actor: &Actor,
        request: ImportRequest,
        progress: Option<Progress>,
    ) -> Result<ImportReport, StoreError> {
        actor.may(Action::ImportHistory)?;
        let path = request.path.clone();
        let forced = request.encoding;
        let (sha256, encoding) = tokio::task::spawn_blocking(move || fingerprint(&path, forced))
            .await
            .map_err(|e| StoreError::Internal(format!("the import reader stopped: {e}")))?
            .map_err(|e| StoreError::invalid("file", format!("cannot read the file: {e}")))?;
        let network = Arc::new(self.import_network(actor).await?);
        let file = FileFacts { sha256, encoding };
        if self.db.get_database_backend() == sea_orm::DbBackend::Postgres {
            let pass = self.import_pass(
                actor,
                &request,
                progress.clone(),
                &network,
                &file,
                Pass::Streaming,
            );
            if let Some(report) = pass.await? {
                return Ok(report);
            }
            // A number of the file is stored already (a re-import, or a duplicate across
            // chunks): everything was rolled back; read the file again, looking rows up.
            tracing::info!(
                "import: a batch number is stored already; importing row by row lookups"
            );
        }
        self.import_pass(actor, &request, progress, &network, &file, Pass::LookedUp)
            .await?
            .ok_or_else(|| StoreError::Internal("a looked-up import pass collided".into()))
    }

    /// One stored import, for anyone who may import or read batches.
    pub async fn get_import(&self, actor: &Actor, id: i64) -> Result<ImportRecord, StoreError> {
        actor.may(Action::ReadBatches)?;
        use sea_orm::{ConnectionTrait, Statement};
        let backend = self.db.get_database_backend();
        let sql = match backend {
            sea_orm::DbBackend::Postgres => {
                "SELECT id, file_name, sha256, encoding, delimiter, rows, created, unchanged, \
                 warnings, imported_by, source, created_at FROM imports WHERE id = $1"
            }
            _ => {
                "SELECT id, file_name, sha256, encoding, delimiter, rows, created, unchanged, \
                 warnings, imported_by, source, created_at FROM imports WHERE id = ?"
            }
        };
        let row = self
            .db
            .query_one_raw(Statement::from_sql_and_values(backend, sql, [id.into()]))
            .await?
            .ok_or(StoreError::NotFound("import"))?;
        let record = ImportRecord {
            id: row.try_get("", "id")?,
            file_name: row.try_get("", "file_name")?,
            sha256: row.try_get("", "sha256")?,
            encoding: row.try_get("", "encoding")?,
            delimiter: row.try_get("", "delimiter")?,
            rows: row.try_get("", "rows")?,
            created: row.try_get("", "created")?,
            unchanged: row.try_get("", "unchanged")?,
            warnings: row.try_get("", "warnings")?,
            imported_by: row.try_get("", "imported_by")?,
            source: row.try_get("", "source")?,
            created_at: row.try_get("", "created_at")?,
        };
        // Scope: a lab-bound user sees an import only if it holds batches of their labs.
        if actor.role.is_lab_bound() {
            use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
            let visible = batches::Entity::find()
                .filter(batches::Column::ImportId.eq(id))
                .filter(batches::Column::LabCode.is_in(actor.labs.iter().map(LabCode::as_str)))
                .count(&self.db)
                .await?;
            if visible == 0 && record.imported_by != actor.username.as_str() {
                return Err(StoreError::NotFound("import"));
            }
        }
        Ok(record)
    }

    async fn import_network(&self, actor: &Actor) -> Result<Network, StoreError> {
        let labs = self.list_labs(actor).await?;
        let products = self.list_products(actor).await?;
        let assignments = self.list_assignments(actor, None, None).await?;
        let mut by_pair: HashMap<String, HashMap<String, Vec<Assignment>>> = HashMap::new();
        for a in assignments {
            by_pair
                .entry(a.product_code.as_str().to_owned())
                .or_default()
                .entry(a.lab_code.as_str().to_owned())
                .or_default()
                .push(a);
        }
        Ok(Network {
            labs: labs
                .into_iter()
                .map(|l| (l.code.as_str().to_owned(), l))
                .collect(),
            products: products
                .into_iter()
                .map(|p| (p.code.as_str().to_owned(), p))
                .collect(),
            assignments: by_pair,
        })
    }

    async fn begin_import(&self) -> Result<Conn, StoreError> {
        Ok(match self.db.get_database_backend() {
            sea_orm::DbBackend::Postgres => {
                let mut c = self
                    .db
                    .get_postgres_connection_pool()
                    .acquire()
                    .await
                    .map_err(db)?
                    .detach();
                sqlx::query("BEGIN").execute(&mut c).await.map_err(db)?;
                Conn::Postgres(c)
            }
            _ => {
                let mut c = self
                    .db
                    .get_sqlite_connection_pool()
                    .acquire()
                    .await
                    .map_err(db)?
                    .detach();
                // A page cache of its own size, so the import's memory is the same for a
                // file of a hundred thousand rows as for one of millions (the default 64 MiB
                // is filled only by the larger ones). The OS keeps the pages it evicts.
                sqlx::query(IMPORT_CACHE_PRAGMA)
                    .execute(&mut c)
                    .await
                    .map_err(db)?;
                // The import checks every row's product and laboratory against the network in
                // its own transaction, and writes the import row the batches point to: the
                // per-row foreign-key probes would check it all again (as on PostgreSQL, see
                // the migration `m20261202_000001`). Only this connection, dropped after.
                sqlx::query("PRAGMA foreign_keys = OFF")
                    .execute(&mut c)
                    .await
                    .map_err(db)?;
                // IMMEDIATE: take the write lock now, as every other write does.
                sqlx::query("BEGIN IMMEDIATE")
                    .execute(&mut c)
                    .await
                    .map_err(db)?;
                Conn::Sqlite(c)
            }
        })
    }
}

/// A row whose batch number is stored already: a duplicate of an earlier line of this very
/// import, or a batch stored before, identical (`unchanged`) or not (`conflicts_with_stored`).
fn judge_stored(
    c: &Checked,
    stored: &batches::Model,
    import_id: i64,
    scope: &LabScope,
    tally: &mut Tally,
) -> Result<(), StoreError> {
    if stored.import_id == Some(import_id) {
        let first = stored
            .import_line
            .and_then(|l| u64::try_from(l).ok())
            .unwrap_or(0);
        tally.error(RowError::duplicate_in_file(
            c.line,
            &c.row.batch_number,
            first,
        ));
        return Ok(());
    }
    // Comparing columns with a batch the importer may not see would let a guessed donor or
    // patient code be confirmed column by column: the number is simply taken.
    if !scope.includes_code(&stored.lab_code) {
        tally.error(RowError::number_taken(c.line, &c.row.batch_number));
        return Ok(());
    }
    let differ = differing_columns(&c.row, &batch_from(stored)?);
    if differ.is_empty() {
        tally.report.unchanged += 1;
    } else {
        tally.error(RowError::conflicts_with_stored(
            c.line,
            &c.row.batch_number,
            &differ,
        ));
    }
    Ok(())
}

/// Checks one chunk against the network and the actor's scope (on the decoding thread).
fn check_rows(
    scope: &LabScope,
    network: &Network,
    import_id: i64,
    rows: Vec<RowResult>,
) -> Prepared {
    let mut p = Prepared {
        rows: rows.len() as u64,
        errors: Vec::new(),
        warnings: Vec::new(),
        ready: Vec::with_capacity(rows.len()),
    };
    for RowResult { line, outcome } in rows {
        let row = match outcome {
            Ok(row) => row,
            Err(errors) => {
                p.errors.extend(errors);
                continue;
            }
        };
        if !scope.includes(&row.lab_code) {
            p.errors.push(RowError::out_of_scope(line, &row.lab_code));
            continue;
        }
        let foreign = foreign_number_owner(&row.batch_number, &row.lab_code, |c| {
            network.labs.contains_key(c)
        })
        .map(|owner| RowError::foreign_batch_number(line, &row.batch_number, owner));
        let product = network.products.get(row.product_code.as_str());
        let lab = network.labs.get(row.lab_code.as_str());
        let assignments = network
            .assignments
            .get(row.product_code.as_str())
            .and_then(|by_lab| by_lab.get(row.lab_code.as_str()))
            .map_or(&[][..], Vec::as_slice);
        let (mut errors, warnings) = check_against_network(&row, line, product, lab, assignments);
        errors.extend(foreign);
        p.warnings.extend(warnings);
        if !errors.is_empty() {
            p.errors.extend(errors);
            continue;
        }
        let (Some(product), Some(route)) = (product, product.and_then(|p| resolved_route(&row, p)))
        else {
            continue; // check_against_network has reported it
        };
        let text = row_text(&row.to_batch(product, route, import_id, line));
        p.ready.push(Checked { line, row, text });
    }
    p
}

impl Tally {
    /// Counts a prepared chunk's rows and notes its errors and warnings; its rows to write.
    fn absorb(&mut self, p: Prepared) -> Vec<Checked> {
        self.report.rows += p.rows;
        for e in p.errors {
            self.error(e);
        }
        for w in p.warnings {
            self.warning(w);
        }
        p.ready
    }
}

/// Binds one row's 25 parameters of the SQLite insert, in place (not copied).
///
/// # Safety
/// `r`, `user` and `at` must outlive the statement's next run, and every parameter be bound
/// again before the one after it (see [`crate::sqlite_bulk::Prepared::text_in_place`]).
unsafe fn bind_row(
    stmt: &mut crate::sqlite_bulk::Prepared,
    r: &RowText,
    import_id: i64,
    user: &str,
    at: &str,
) -> Result<(), String> {
    // SAFETY: the caller's promise, passed on.
    unsafe {
        for (i, v) in (1..).zip(r.values()) {
            stmt.text_in_place(i, v)?;
        }
        stmt.int(21, import_id)?;
        stmt.int(22, r.import_line)?;
        stmt.text_in_place(23, Some(user))?;
        stmt.text_in_place(24, Some(at))?;
        stmt.text_in_place(25, Some(at))
    }
}

/// The file's facts from the first pass.
struct FileFacts {
    sha256: String,
    encoding: TextEncoding,
}

/// How a pass writes the rows after its first chunk.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// PostgreSQL: one `COPY` for the rest of the file, no lookups. The unique index is the
    /// check: a stored number aborts the `COPY`, and the import starts again looked up.
    Streaming,
    /// Every chunk looked up by number before (PostgreSQL) or after (SQLite) it is written.
    LookedUp,
}

/// The next chunk of rows; the header's news (delimiter, errors) go into the tally.
/// A progress signal for whoever watches an import (a test that cuts one off midway waits for
/// it): rows written inside the import's transaction so far, not yet committed.
pub(super) fn written_so_far(rows: u64) {
    tracing::debug!(
        target: "traza_store::import",
        rows_written = rows,
        "import progress"
    );
}

async fn next_rows(
    rx: &mut tokio::sync::mpsc::Receiver<Decoded>,
    tally: &mut Tally,
) -> Result<Option<Prepared>, StoreError> {
    while let Some(decoded) = rx.recv().await {
        match decoded {
            Decoded::Rows(rows) => return Ok(Some(rows)),
            Decoded::Delimiter(d) => {
                tally.report.delimiter = match d {
                    b'\t' => "tab".into(),
                    other => char::from(other).to_string(),
                };
            }
            Decoded::Header(errors) => {
                for e in errors {
                    tally.error(e);
                }
            }
            Decoded::Failed(e) => {
                return Err(StoreError::invalid(
                    "file",
                    format!("cannot read the file: {e}"),
                ));
            }
        }
    }
    Ok(None)
}

/// The chunk's rows without the repeats of a number within it (each an error naming the
/// line of the first). Repeats across chunks are found by the database.
fn first_of_each_number(rows: Vec<Checked>, tally: &mut Tally) -> Vec<Checked> {
    let mut keep = vec![true; rows.len()];
    {
        let mut first_in_chunk: HashMap<&str, u64> = HashMap::with_capacity(rows.len());
        for (c, keep) in rows.iter().zip(keep.iter_mut()) {
            if let Some(first) = first_in_chunk.get(c.row.batch_number.as_str()) {
                tally.error(RowError::duplicate_in_file(
                    c.line,
                    &c.row.batch_number,
                    *first,
                ));
                *keep = false;
                continue;
            }
            first_in_chunk.insert(c.row.batch_number.as_str(), c.line);
        }
    }
    rows.into_iter()
        .zip(keep)
        .filter_map(|(c, keep)| keep.then_some(c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::conn::copy_field;
    use super::row_text::{RowTextWriter, STATED_COLUMNS};
    use super::*;

    #[test]
    fn copy_fields_escape_what_copy_text_format_would_misread() {
        let mut out = Vec::new();
        copy_field(&mut out, Some("a\tb\nc\\d\re"));
        assert_eq!(out, b"a\\tb\\nc\\\\d\\re");
        out.clear();
        copy_field(&mut out, None);
        assert_eq!(out, b"\\N");
    }

    #[test]
    fn the_row_text_has_one_value_per_stated_column() {
        // 20 stated columns + 7 filled in by the import = the column list.
        assert_eq!(BATCH_COLUMNS.split(',').count(), STATED_COLUMNS + 7);
    }

    #[test]
    fn dates_are_written_as_iso_dates_with_four_digit_years() {
        let mut w = RowTextWriter {
            text: String::new(),
            spans: [None; STATED_COLUMNS],
            next: 0,
        };
        for d in [(2019, 3, 7), (987, 12, 31), (2026, 1, 1)] {
            w.date(NaiveDate::from_ymd_opt(d.0, d.1, d.2));
        }
        w.date(None);
        w.text(Some("x"));
        let texts: Vec<Option<&str>> = (0..5)
            .map(|i| w.spans[i].map(|(a, b)| &w.text[a as usize..b as usize]))
            .collect();
        let chrono: Vec<String> = [(2019, 3, 7), (987, 12, 31), (2026, 1, 1)]
            .iter()
            .map(|d| {
                NaiveDate::from_ymd_opt(d.0, d.1, d.2)
                    .unwrap()
                    .format("%Y-%m-%d")
                    .to_string()
            })
            .collect();
        assert_eq!(
            texts,
            [
                Some(chrono[0].as_str()),
                Some(chrono[1].as_str()),
                Some(chrono[2].as_str()),
                None,
                Some("x")
            ]
        );
        assert_eq!(texts[1], Some("0987-12-31"));
    }
}

mod conn;
use conn::copy_rest;
mod pass;
mod refused;
mod row_text;
use row_text::{RowText, row_text};
mod triggers;

pub use refused::write_refused_rows;
