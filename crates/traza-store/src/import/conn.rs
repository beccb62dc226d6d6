//! The import's own connection: the chain head, the rows written (a prepared statement
//! stepped per row on SQLite, one streamed `COPY` on PostgreSQL), the import's event.

use super::*;

pub(super) fn copy_statement() -> String {
    format!("COPY batches ({BATCH_COLUMNS}) FROM STDIN")
}

/// The rows in `COPY` text format, with the columns every imported row shares.
pub(super) fn copy_data<'r>(
    rows: impl ExactSizeIterator<Item = &'r RowText>,
    import_id: i64,
    user: &str,
    now: DateTime<Utc>,
) -> Vec<u8> {
    let mut data = Vec::with_capacity(rows.len() * 256);
    let import = import_id.to_string();
    let at = now.to_rfc3339();
    for r in rows {
        for v in r.values() {
            copy_field(&mut data, v);
            data.push(b'\t');
        }
        let line = r.import_line.to_string();
        for v in ["1", "import", &import, &line, user, &at, &at] {
            copy_field(&mut data, Some(v));
            data.push(b'\t');
        }
        data.pop();
        data.push(b'\n');
    }
    data
}

/// The streaming pass's rest of the file: every chunk checked and sent down one `COPY`.
/// `false` when the `COPY` met a stored batch number (the transaction is then aborted).
pub(super) async fn copy_rest(
    pg: &mut PgConnection,
    rx: &mut tokio::sync::mpsc::Receiver<Decoded>,
    actor: &Actor,
    import_id: i64,
    now: DateTime<Utc>,
    tally: &mut Tally,
) -> Result<bool, StoreError> {
    let user = actor.username.as_str();
    let mut copy = pg.copy_in_raw(&copy_statement()).await.map_err(db)?;
    let mut sent = 0u64;
    while let Some(rows) = next_rows(rx, tally).await? {
        let checked = tally.absorb(rows);
        let new = first_of_each_number(checked, tally);
        if new.is_empty() {
            continue;
        }
        sent += new.len() as u64;
        for c in &new {
            tally.digest.push(&c.text.canonical);
        }
        copy.send(copy_data(new.iter().map(|c| &c.text), import_id, user, now))
            .await
            .map_err(db)?;
        written_so_far(tally.report.created + sent);
    }
    match copy.finish().await {
        Ok(_) => {
            tally.report.created += sent;
            Ok(true)
        }
        Err(e)
            if e.as_database_error()
                .is_some_and(|d| d.is_unique_violation()) =>
        {
            Ok(false)
        }
        Err(e) => Err(db(e)),
    }
}

/// COPY text format: backslash, tab, newline and carriage return escaped; `\N` is NULL.
pub(super) fn copy_field(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        None => out.extend_from_slice(b"\\N"),
        Some(s) => {
            for &b in s.as_bytes() {
                match b {
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    _ => out.push(b),
                }
            }
        }
    }
}

impl Conn {
    /// Locks the chain head: (last event, its hash, the fingerprint of the signing key).
    pub(super) async fn lock_chain_head(
        &mut self,
    ) -> Result<(i64, String, Option<String>), StoreError> {
        match self {
            Conn::Sqlite(tx) => {
                sqlx::query_as::<_, (i64, String, Option<String>)>(crate::write::HEAD_READ_SQLITE)
                    .fetch_optional(&mut *tx)
                    .await
            }
            Conn::Postgres(tx) => {
                sqlx::query_as::<_, (i64, String, Option<String>)>(crate::write::HEAD_READ_POSTGRES)
                    .fetch_optional(&mut *tx)
                    .await
            }
        }
        .map_err(db)?
        .ok_or_else(|| StoreError::Corrupt("the audit chain head is missing".into()))
    }

    pub(super) async fn insert_import(
        &mut self,
        file_name: &str,
        r: &ImportReport,
        actor: &Actor,
        source: Source,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        const COLS: &str = "(file_name, sha256, encoding, delimiter, rows, created, unchanged, \
                            warnings, imported_by, source, created_at)";
        let user = actor.username.as_str();
        on_backend!(
            self,
            (
                format!(
                    "INSERT INTO imports {COLS} VALUES (?, ?, ?, '', 0, 0, 0, 0, ?, ?, ?) RETURNING id"
                ),
                format!(
                    "INSERT INTO imports {COLS} VALUES ($1, $2, $3, '', 0, 0, 0, 0, $4, $5, $6) RETURNING id"
                )
            ),
            |sql, c| sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql))
                .bind(file_name)
                .bind(&r.sha256)
                .bind(&r.encoding)
                .bind(user)
                .bind(source.as_str())
                .bind(now)
                .fetch_one(&mut *c)
                .await
                .map_err(db)
        )
    }

    /// Sorts the chunk's rows into new, unchanged, duplicate and conflicting, and writes the
    /// new ones.
    ///
    /// SQLite inserts first (`ON CONFLICT DO NOTHING RETURNING`) and looks up only the rows it
    /// skipped: a new row then costs one probe of the unique index, not two. PostgreSQL's
    /// `COPY` has no conflict clause, so there the chunk is looked up first and the new rows
    /// copied.
    pub(super) async fn write_chunk(
        &mut self,
        rows: Vec<Checked>,
        import_id: i64,
        actor: &Actor,
        now: DateTime<Utc>,
        tally: &mut Tally,
    ) -> Result<bool, StoreError> {
        let candidates = first_of_each_number(rows, tally);
        if candidates.is_empty() {
            return Ok(false);
        }
        let user = actor.username.as_str();
        if let Conn::Sqlite(_) = self {
            let inserted = self
                .insert_new_sqlite(&candidates, import_id, user, now)
                .await?;
            tally.report.created += inserted.iter().filter(|i| **i).count() as u64;
            for (c, _) in candidates.iter().zip(&inserted).filter(|(_, i)| **i) {
                tally.digest.push(&c.text.canonical);
            }
            // The rows the conflict clause skipped: the stored row says why.
            let unsure: Vec<Checked> = candidates
                .into_iter()
                .zip(inserted)
                .filter_map(|(c, inserted)| (!inserted).then_some(c))
                .collect();
            let numbers: Vec<&str> = unsure.iter().map(|c| c.row.batch_number.as_str()).collect();
            let stored = self.stored_batches(&numbers).await?;
            let mut skipped = 0;
            for c in &unsure {
                match stored.get(c.row.batch_number.as_str()) {
                    Some(m)
                        if m.import_id == Some(import_id)
                            && m.import_line == i64::try_from(c.line).ok() =>
                    {
                        tally.report.created += 1;
                    }
                    Some(m) => {
                        skipped += 1;
                        judge_stored(c, m, import_id, &actor.scope(), tally)?;
                    }
                    None => {
                        return Err(StoreError::Internal(format!(
                            "batch {} was neither inserted nor found",
                            c.row.batch_number
                        )));
                    }
                }
            }
            return Ok(skipped > 0);
        }
        let numbers: Vec<&str> = candidates
            .iter()
            .map(|c| c.row.batch_number.as_str())
            .collect();
        let stored = self.stored_batches(&numbers).await?;
        let mut new = Vec::with_capacity(candidates.len());
        for c in &candidates {
            match stored.get(c.row.batch_number.as_str()) {
                Some(m) => judge_stored(c, m, import_id, &actor.scope(), tally)?,
                None => new.push(&c.text),
            }
        }
        tally.report.created += new.len() as u64;
        for t in &new {
            tally.digest.push(&t.canonical);
        }
        if let Conn::Postgres(tx) = self
            && !new.is_empty()
        {
            let data = copy_data(new.iter().copied(), import_id, user, now);
            let mut copy = tx.copy_in_raw(&copy_statement()).await.map_err(db)?;
            copy.send(data).await.map_err(db)?;
            copy.finish().await.map_err(db)?;
        }
        Ok(!stored.is_empty())
    }

    /// Inserts the rows whose number is free, one prepared statement stepped per row (see
    /// `sqlite_bulk`); returns, row by row, whether it was inserted.
    pub(super) async fn insert_new_sqlite(
        &mut self,
        rows: &[Checked],
        import_id: i64,
        user: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<bool>, StoreError> {
        let Conn::Sqlite(tx) = self else {
            return Ok(Vec::new());
        };
        // The text sqlx would have stored for the instant: what sea-orm reads back.
        let at = now.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false);
        // One row per statement: a multi-row INSERT keeps a statement journal to undo
        // itself, and measured 1.4 times slower here with 40 rows per statement.
        let sql = format!(
            "INSERT INTO batches ({BATCH_COLUMNS}) VALUES \
             (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,1,'import',?,?,?,?,?) \
             ON CONFLICT (batch_number) DO NOTHING"
        );
        let mut handle = tx.lock_handle().await.map_err(db)?;
        let raw = handle.as_raw_handle();
        // Errors of SQLite itself (a full disk, a busy database): database errors.
        let bulk =
            |e: String| StoreError::Database(sea_orm::DbErr::Custom(format!("import insert: {e}")));
        // SAFETY: the locked handle is held until the statement is dropped, at the end of
        // this block; nothing else touches the connection meanwhile.
        let mut stmt = unsafe { crate::sqlite_bulk::Prepared::new(raw, &sql) }.map_err(bulk)?;
        let mut inserted = Vec::with_capacity(rows.len());
        for c in rows {
            // SAFETY: `rows`, `user` and `at` outlive `stmt`, dropped below; every row binds
            // all 25 parameters before it runs.
            unsafe { bind_row(&mut stmt, &c.text, import_id, user, &at) }.map_err(bulk)?;
            inserted.push(stmt.run().map_err(bulk)? == 1);
        }
        drop(stmt);
        drop(handle);
        Ok(inserted)
    }

    pub(super) async fn stored_batches(
        &mut self,
        numbers: &[&str],
    ) -> Result<HashMap<String, batches::Model>, StoreError> {
        let mut out = HashMap::new();
        match self {
            Conn::Sqlite(tx) => {
                // One placeholder per number: SQLite probes the unique index for each. (An
                // `IN (SELECT value FROM json_each(?))` scanned the whole table per chunk.)
                for part in numbers.chunks(SQLITE_NUMBERS_PER_LOOKUP) {
                    let mut sql = String::from("SELECT * FROM batches WHERE batch_number IN (");
                    for i in 0..part.len() {
                        sql.push_str(if i == 0 { "?" } else { ",?" });
                    }
                    sql.push(')');
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for n in part {
                        q = q.bind(*n);
                    }
                    let rows = q.fetch_all(&mut *tx).await.map_err(db)?;
                    for r in &rows {
                        let m = model_from_row(r).map_err(db)?;
                        out.insert(m.batch_number.clone(), m);
                    }
                }
            }
            Conn::Postgres(tx) => {
                let list: Vec<String> = numbers.iter().map(|s| (*s).to_owned()).collect();
                let rows = sqlx::query("SELECT * FROM batches WHERE batch_number = ANY($1)")
                    .bind(list)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db)?;
                for r in &rows {
                    let m = model_from_row(r).map_err(db)?;
                    out.insert(m.batch_number.clone(), m);
                }
            }
        }
        Ok(out)
    }

    pub(super) async fn finish_import(
        &mut self,
        id: i64,
        r: &ImportReport,
    ) -> Result<(), StoreError> {
        let counts = [
            r.rows as i64,
            r.created as i64,
            r.unchanged as i64,
            r.warnings_total as i64,
        ];
        on_backend!(
            self,
            (
                "UPDATE imports SET rows = ?, created = ?, unchanged = ?, warnings = ?, delimiter = ? WHERE id = ?",
                "UPDATE imports SET rows = $1, created = $2, unchanged = $3, warnings = $4, delimiter = $5 WHERE id = $6"
            ),
            |sql, c| sqlx::query(sql)
                .bind(counts[0])
                .bind(counts[1])
                .bind(counts[2])
                .bind(counts[3])
                .bind(&r.delimiter)
                .bind(id)
                .execute(&mut *c)
                .await
                .map(drop)
                .map_err(db)
        )
    }

    /// Appends the import's event and moves the chain head, as [`crate::write::Write`] does
    /// on the sea-orm path (same hash, same columns).
    pub(super) async fn append_audit(
        &mut self,
        e: &AuditEvent,
        prev_hash: &str,
        key: Option<&ChainKey>,
    ) -> Result<String, StoreError> {
        let hash = e.chain_hash_with(prev_hash, key);
        let fingerprint = key.map(ChainKey::fingerprint);
        let first = key.map(|k| k.first_event);
        let after = e.after.as_ref().map(|v| v.to_string());
        let before = e.before.as_ref().map(|v| v.to_string());
        macro_rules! run {
            ($tx:expr, $insert:literal, $head:expr) => {{
                sqlx::query($insert)
                    .bind(e.id)
                    .bind(e.at)
                    .bind(&e.actor)
                    .bind(&e.action)
                    .bind(&e.entity_type)
                    .bind(&e.entity_key)
                    .bind(before.as_deref())
                    .bind(after.as_deref())
                    .bind(e.reason.as_deref())
                    .bind(e.source.as_str())
                    .bind(prev_hash)
                    .bind(&hash)
                    .execute(&mut *$tx)
                    .await
                    .map_err(db)?;
                sqlx::query($head)
                    .bind(e.id)
                    .bind(&hash)
                    .bind(fingerprint.as_deref())
                    .bind(first)
                    .execute(&mut *$tx)
                    .await
                    .map_err(db)?;
            }};
        }
        match self {
            Conn::Sqlite(tx) => run!(
                tx,
                "INSERT INTO audit_events (id, at, actor, action, entity_type, entity_key, before, after, reason, source, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                crate::write::HEAD_WRITE_SQLITE
            ),
            Conn::Postgres(tx) => run!(
                tx,
                "INSERT INTO audit_events (id, at, actor, action, entity_type, entity_key, before, after, reason, source, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                crate::write::HEAD_WRITE_POSTGRES
            ),
        }
        Ok(hash)
    }

    /// The batches of import `import_id` whose donor has an open serious reaction: (batch id,
    /// number, the oldest such reaction).
    pub(super) async fn held_on_arrival(
        &mut self,
        import_id: i64,
    ) -> Result<Vec<(i64, String, i64)>, StoreError> {
        use traza_domain::vigilance::{ReactionSeverity, ReactionStatus};
        let (open, serious) = (
            ReactionStatus::Open.as_str(),
            ReactionSeverity::Serious.as_str(),
        );
        on_backend!(
            self,
            (
                "SELECT b.id, b.batch_number, MIN(r.id) FROM reactions r \
                 JOIN batches rb ON rb.id = r.batch_id JOIN batches b ON b.donor_code = rb.donor_code \
                 WHERE r.status = ? AND r.severity = ? AND b.import_id = ? \
                 GROUP BY b.id, b.batch_number ORDER BY b.id",
                "SELECT b.id, b.batch_number, MIN(r.id) FROM reactions r \
                 JOIN batches rb ON rb.id = r.batch_id JOIN batches b ON b.donor_code = rb.donor_code \
                 WHERE r.status = $1 AND r.severity = $2 AND b.import_id = $3 \
                 GROUP BY b.id, b.batch_number ORDER BY b.id"
            ),
            |sql, c| sqlx::query_as::<_, (i64, String, i64)>(sql)
                .bind(open)
                .bind(serious)
                .bind(import_id)
                .fetch_all(&mut *c)
                .await
                .map_err(db)
        )
    }

    pub(super) async fn insert_hold(
        &mut self,
        batch_id: i64,
        reason: &str,
        user: &str,
        now: DateTime<Utc>,
        reaction_id: i64,
    ) -> Result<i64, StoreError> {
        on_backend!(
            self,
            (
                "INSERT INTO holds (batch_id, reason, placed_by, placed_at, reaction_id) VALUES (?, ?, ?, ?, ?) RETURNING id",
                "INSERT INTO holds (batch_id, reason, placed_by, placed_at, reaction_id) VALUES ($1, $2, $3, $4, $5) RETURNING id"
            ),
            |sql, c| sqlx::query_scalar::<_, i64>(sql)
                .bind(batch_id)
                .bind(reason)
                .bind(user)
                .bind(now)
                .bind(reaction_id)
                .fetch_one(&mut *c)
                .await
                .map_err(db)
        )
    }

    pub(super) async fn commit(self) -> Result<(), StoreError> {
        self.finish("COMMIT").await
    }

    pub(super) async fn rollback(self) -> Result<(), StoreError> {
        self.finish("ROLLBACK").await
    }

    pub(super) async fn finish(self, sql: &'static str) -> Result<(), StoreError> {
        use sqlx::Connection;
        match self {
            Conn::Sqlite(mut c) => {
                sqlx::query(sql).execute(&mut c).await.map_err(db)?;
                c.close().await.map_err(db)
            }
            Conn::Postgres(mut c) => {
                sqlx::query(sql).execute(&mut c).await.map_err(db)?;
                c.close().await.map_err(db)
            }
        }
    }
}
