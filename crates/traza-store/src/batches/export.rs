//! The export (SPEC §4): every batch in scope that matches the filter, oldest first, as the
//! import's CSV, streamed in pieces of about 256 KiB.
//!
//! One statement, read row by row straight into the CSV writer: the text the database holds
//! is the export's spelling already (see `write_stored_row`), so no row becomes a model or a
//! [`Batch`]. On SQLite the statement is stepped through the C API on a blocking thread
//! (`sqlite_bulk`); on PostgreSQL sqlx streams the rows, every column cast to text. Memory
//! stays flat however many batches there are: one piece being written, and at most the
//! channel's few pieces waiting to be sent.

use sea_orm::sea_query::{Expr, Order, Value};
use sea_orm::{DbBackend, QueryTrait};
use traza_domain::access::{Action, Actor};
use traza_domain::history::{
    COLUMN_COUNT, EXPORT_COLUMNS, export_writer, write_export_header, write_stored_row,
};

use super::{BatchFilter, batches, filtered};
use crate::Store;
use crate::error::StoreError;

/// A piece is sent when it holds this much.
const PIECE: usize = 256 * 1024;

/// Columns that PostgreSQL stores as something other than text (dates, the dose count).
fn is_typed(column: &str) -> bool {
    column.ends_with("_date")
        || column == "manufacturing_start"
        || column == "manufacturing_end"
        || column == "doses"
}

fn export_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(format!("export: {e}"))
}

/// Collects CSV rows into pieces and hands each full piece to `send`.
struct Pieces {
    w: csv::Writer<Vec<u8>>,
    written: u64,
}

impl Pieces {
    fn new() -> Result<Pieces, StoreError> {
        let mut w = export_writer(Vec::with_capacity(PIECE + 4096));
        write_export_header(&mut w).map_err(export_err)?;
        Ok(Pieces { w, written: 0 })
    }

    /// Writes one row; returns a full piece to send, if this row filled one.
    fn row(&mut self, texts: &[Option<&str>; COLUMN_COUNT]) -> Result<Option<Vec<u8>>, StoreError> {
        write_stored_row(&mut self.w, texts).map_err(export_err)?;
        self.written += 1;
        if self.w.get_ref().len() < PIECE {
            return Ok(None);
        }
        self.take().map(Some)
    }

    /// The rows written since the last piece.
    fn take(&mut self) -> Result<Vec<u8>, StoreError> {
        let full = std::mem::replace(&mut self.w, export_writer(Vec::with_capacity(PIECE + 4096)));
        full.into_inner().map_err(|e| export_err(e.error()))
    }
}

impl Store {
    /// Writes the batches in scope that match `filter` as the import's CSV (SPEC §4 export),
    /// oldest first, in pieces of about 256 KiB sent to `out`: memory stays flat however many
    /// batches there are. Returns the number of batches written. Stops quietly when the
    /// receiver goes away (a client that hung up).
    pub async fn export_batches(
        &self,
        actor: &Actor,
        filter: &BatchFilter,
        out: tokio::sync::mpsc::Sender<Vec<u8>>,
    ) -> Result<u64, StoreError> {
        actor.may(Action::ReadBatches)?;
        let backend = self.db.get_database_backend();
        // The filter is `filtered`'s, the list's own: one definition of what matches.
        let mut query = filtered(actor, filter).into_query();
        query.clear_selects();
        for column in EXPORT_COLUMNS {
            let expr = if backend == DbBackend::Postgres && is_typed(column) {
                Expr::cust(format!("{column}::text"))
            } else {
                Expr::cust(column)
            };
            query.expr(expr);
        }
        query.order_by(batches::Column::Id, Order::Asc);
        let (sql, values) = match backend {
            DbBackend::Postgres => query.build(sea_orm::sea_query::PostgresQueryBuilder),
            _ => query.build(sea_orm::sea_query::SqliteQueryBuilder),
        };
        let values = values
            .0
            .into_iter()
            .map(Bound::of)
            .collect::<Result<Vec<_>, _>>()?;
        match backend {
            DbBackend::Postgres => {
                export_postgres(self.db.get_postgres_connection_pool(), &sql, &values, out).await
            }
            _ => {
                let conn = self
                    .db
                    .get_sqlite_connection_pool()
                    .acquire()
                    .await
                    .map_err(crate::sql::db)?;
                tokio::task::spawn_blocking(move || export_sqlite(conn, &sql, &values, out))
                    .await
                    .map_err(export_err)?
            }
        }
    }
}

/// A value of the filter, as the export binds it.
enum Bound {
    Text(String),
    Date(chrono::NaiveDate),
}

impl Bound {
    fn of(v: Value) -> Result<Bound, StoreError> {
        match v {
            Value::String(Some(s)) => Ok(Bound::Text(s)),
            Value::ChronoDate(Some(d)) => Ok(Bound::Date(d)),
            other => Err(export_err(format!(
                "a filter value of an unexpected kind: {other:?}"
            ))),
        }
    }
}

/// On a blocking thread: steps the statement and sends each full piece, waiting while the
/// channel is full.
fn export_sqlite(
    mut conn: sqlx::pool::PoolConnection<sqlx::Sqlite>,
    sql: &str,
    values: &[Bound],
    out: tokio::sync::mpsc::Sender<Vec<u8>>,
) -> Result<u64, StoreError> {
    let runtime = tokio::runtime::Handle::current();
    let mut locked = runtime
        .block_on(conn.lock_handle())
        .map_err(crate::sql::db)?;
    let cursor_err =
        |e: String| StoreError::Database(sea_orm::DbErr::Custom(format!("export: {e}")));
    // SAFETY: the locked handle is held until the cursor is dropped at the end of this
    // function, on this thread; nothing else touches the connection meanwhile.
    let mut cursor = unsafe { crate::sqlite_bulk::Prepared::new(locked.as_raw_handle(), sql) }
        .map_err(cursor_err)?;
    for (i, v) in values.iter().enumerate() {
        let i = i32::try_from(i + 1).map_err(export_err)?;
        match v {
            Bound::Text(s) => cursor.bind_text(i, s),
            // Dates are stored as ISO text on SQLite.
            Bound::Date(d) => cursor.bind_text(i, &d.format("%Y-%m-%d").to_string()),
        }
        .map_err(cursor_err)?;
    }
    let mut pieces = Pieces::new()?;
    while cursor.step_row().map_err(cursor_err)? {
        let mut texts: [Option<&str>; COLUMN_COUNT] = [None; COLUMN_COUNT];
        for (i, text) in texts.iter_mut().enumerate() {
            *text = cursor.text(i as i32).map_err(StoreError::Corrupt)?;
        }
        if let Some(piece) = pieces.row(&texts)?
            && out.blocking_send(piece).is_err()
        {
            return Ok(pieces.written);
        }
    }
    drop(cursor);
    drop(locked);
    let rest = pieces.take()?;
    if !rest.is_empty() {
        let _ = out.blocking_send(rest);
    }
    Ok(pieces.written)
}

async fn export_postgres(
    pool: &sqlx::PgPool,
    sql: &str,
    values: &[Bound],
    out: tokio::sync::mpsc::Sender<Vec<u8>>,
) -> Result<u64, StoreError> {
    use futures_util::TryStreamExt;
    use sqlx::Row;
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for v in values {
        query = match v {
            Bound::Text(s) => query.bind(s.as_str()),
            Bound::Date(d) => query.bind(*d),
        };
    }
    let mut rows = query.fetch(pool);
    let mut pieces = Pieces::new()?;
    while let Some(row) = rows.try_next().await.map_err(crate::sql::db)? {
        let mut texts: [Option<&str>; COLUMN_COUNT] = [None; COLUMN_COUNT];
        for (i, text) in texts.iter_mut().enumerate() {
            *text = row.try_get(i).map_err(crate::sql::db)?;
        }
        let piece = pieces.row(&texts)?;
        if let Some(piece) = piece
            && out.send(piece).await.is_err()
        {
            return Ok(pieces.written);
        }
    }
    drop(rows);
    let rest = pieces.take()?;
    if !rest.is_empty() {
        let _ = out.send(rest).await;
    }
    Ok(pieces.written)
}
