//! The dashboard's rollup (`batch_rollup`, `qc_rollup`, migration
//! `m20261204_000001_dashboard_rollup`) during a bulk import on SQLite.
//!
//! Triggers keep the rollup in the transaction of every write. A SQLite trigger costs
//! microseconds per row, which a million-row import would feel, so the import pauses them in
//! its own transaction and adds its rows in one aggregate before it commits:
//!
//! ```text
//! let after = rollup::pause_sqlite(&mut tx).await?;   // before the first row
//! … insert the rows …
//! rollup::resume_sqlite(&mut tx, after).await?;       // before the commit
//! ```
//!
//! Both run in the import's transaction: a failed import rolls the pause back with the rows.
//! On PostgreSQL nothing is needed: the insert trigger runs once per statement (per `COPY`).

use sqlx::SqliteConnection;

use crate::error::StoreError;

fn db(e: sqlx::Error) -> StoreError {
    StoreError::Database(sea_orm::DbErr::Custom(format!("dashboard rollup: {e}")))
}

/// Pauses the rollup's per-row triggers for this transaction; answers the highest batch id
/// so far (the rows inserted after it are the import's).
pub(crate) async fn pause_sqlite(conn: &mut SqliteConnection) -> Result<i64, StoreError> {
    sqlx::query("INSERT OR IGNORE INTO rollup_paused (id) VALUES (1)")
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    let (after,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(id), 0) FROM batches")
        .fetch_one(&mut *conn)
        .await
        .map_err(db)?;
    Ok(after)
}

/// Adds the batches inserted after `after` to the rollup, in one aggregate, and resumes the
/// triggers. Imported batches have no QC results, so `qc_rollup` does not change.
pub(crate) async fn resume_sqlite(
    conn: &mut SqliteConnection,
    after: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO batch_rollup (lab_code, product_code, status, month, timed, lead_days, batches) \
         SELECT lab_code, product_code, status, month, timed, lead_days, COUNT(*) \
         FROM batch_rollup_keys WHERE id > ? GROUP BY 1, 2, 3, 4, 5, 6 \
         ON CONFLICT (month, lab_code, product_code, status, timed, lead_days) \
         DO UPDATE SET batches = batches + excluded.batches",
    )
    .bind(after)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    sqlx::query("DELETE FROM rollup_paused")
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(())
}
