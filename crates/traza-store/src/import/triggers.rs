//! On SQLite, the dashboard rollup's per-row insert trigger is lifted for the import's
//! transaction and put back, unchanged, before it commits (see `crate::rollup`).
//!
//! Pausing the trigger (`rollup_paused`) is not enough for a bulk import: a table with an
//! insert trigger makes every `INSERT` a multi-write statement, so SQLite opens a statement
//! journal per row and copies there every page the row touches, and evaluates the trigger's
//! `WHEN` per row. Measured on 200,000 compact rows: 4.4 s with the trigger, 3.9 s paused,
//! 2.3–2.9 s without it. The trigger is dropped inside the import's transaction and created
//! again from its own stored SQL before the commit (DDL is transactional in SQLite): other
//! connections never see the table without it, and a failed or cut-off import rolls the drop
//! back with its rows. The import's rows are added to the rollup by aggregates
//! (`rollup::resume_sqlite`), as the paused trigger would have needed anyway: one per
//! [`ROLLUP_EVERY`] rows, because one over a million rows sorted them all in memory (the
//! import's peak RSS went from 99 to 204 MiB).

use super::*;

/// The per-row insert triggers of `batches` an import lifts. Any other trigger stays and runs.
const LIFTED: [&str; 1] = ["batches_rollup_insert"];

/// Rows written between two additions to the rollup.
const ROLLUP_EVERY: u64 = 100_000;

/// Triggers lifted for the transaction: what to put back.
pub(super) struct Lifted {
    /// The highest batch id the rollup counts: the rows after it are the import's, not yet
    /// added.
    after: i64,
    /// Rows created when the rollup was last brought up to date.
    counted: u64,
    /// Each lifted trigger's `CREATE TRIGGER` statement, as stored.
    create: Vec<String>,
}

impl Conn {
    /// Lifts the rollup's insert trigger (SQLite; nothing to do on PostgreSQL, where it runs
    /// once per `COPY`). `None` when there was none to lift.
    pub(super) async fn lift_insert_triggers(&mut self) -> Result<Option<Lifted>, StoreError> {
        let Conn::Sqlite(c) = self else {
            return Ok(None);
        };
        let mut found = Vec::new();
        for name in LIFTED {
            let sql: Option<(String,)> = sqlx::query_as(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'batches' \
                 AND name = ?",
            )
            .bind(name)
            .fetch_optional(&mut *c)
            .await
            .map_err(db)?;
            if let Some((sql,)) = sql {
                found.push((name, sql));
            }
        }
        if found.is_empty() {
            return Ok(None);
        }
        let after = crate::rollup::pause_sqlite(c).await?;
        for (name, _) in &found {
            sqlx::query(AssertSqlSafe(format!("DROP TRIGGER \"{name}\"")))
                .execute(&mut *c)
                .await
                .map_err(db)?;
        }
        Ok(Some(Lifted {
            after,
            counted: 0,
            create: found.into_iter().map(|(_, sql)| sql).collect(),
        }))
    }

    /// Adds the rows written since the last time to the rollup, once [`ROLLUP_EVERY`] of
    /// them are waiting (`created`: the rows created so far).
    pub(super) async fn keep_rollup(
        &mut self,
        lifted: &mut Lifted,
        created: u64,
    ) -> Result<(), StoreError> {
        let Conn::Sqlite(c) = self else {
            return Ok(());
        };
        if created.saturating_sub(lifted.counted) < ROLLUP_EVERY {
            return Ok(());
        }
        crate::rollup::resume_sqlite(c, lifted.after).await?;
        // The trigger stays lifted; pausing again only answers where the next rows begin.
        lifted.after = crate::rollup::pause_sqlite(c).await?;
        lifted.counted = created;
        Ok(())
    }

    /// Puts the lifted triggers back and adds the import's rows to the rollup, in the
    /// import's transaction, before it commits.
    pub(super) async fn restore_triggers(&mut self, lifted: Lifted) -> Result<(), StoreError> {
        let Conn::Sqlite(c) = self else {
            return Ok(());
        };
        for sql in lifted.create {
            sqlx::query(AssertSqlSafe(sql))
                .execute(&mut *c)
                .await
                .map_err(db)?;
        }
        crate::rollup::resume_sqlite(c, lifted.after).await
    }
}
