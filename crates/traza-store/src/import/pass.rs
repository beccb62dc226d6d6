//! One pass over the file: decode and check on a thread, write the chunks, append the
//! import's event (and the holds of donors under an open serious reaction).

use super::*;

impl Store {
    /// One reading of the file in one transaction. `None` when a streaming pass met a batch
    /// number stored already, and rolled back.
    pub(super) async fn import_pass(
        &self,
        actor: &Actor,
        request: &ImportRequest,
        progress: Option<Progress>,
        network: &Arc<Network>,
        file: &FileFacts,
        pass: Pass,
    ) -> Result<Option<ImportReport>, StoreError> {
        let mut tally = Tally {
            report: ImportReport {
                import_id: None,
                file_name: request.file_name.clone(),
                sha256: file.sha256.clone(),
                encoding: file.encoding.as_str().to_owned(),
                delimiter: String::new(),
                dry_run: request.dry_run,
                rows: 0,
                created: 0,
                unchanged: 0,
                warnings: Vec::new(),
                errors: Vec::new(),
                warnings_total: 0,
                errors_total: 0,
            },
            digest: ImportDigest::new(None),
        };

        let now = audit_time(Utc::now());
        let mut conn = self.begin_import().await?;
        let (last_id, last_hash, fingerprint) = conn.lock_chain_head().await?;
        // A process without the trail's key refuses before reading the file.
        let key = self
            .audit_keys
            .signing_key(last_id + 1, fingerprint.as_deref())?;
        tally.digest = ImportDigest::new(key.clone());
        let import_id = conn
            .insert_import(&request.file_name, &tally.report, actor, self.source, now)
            .await?;
        let mut lifted = conn.lift_insert_triggers().await?;

        let (tx, mut rx) = tokio::sync::mpsc::channel(4);
        let path = request.path.clone();
        let encoding = file.encoding;
        let (scope, network_for_checks) = (actor.scope(), Arc::clone(network));
        let reader = tokio::task::spawn_blocking(move || {
            decode(path, encoding, tx, progress, |rows| {
                check_rows(&scope, &network_for_checks, import_id, rows)
            })
        });

        // The first chunk is always looked up: a re-imported file is recognised there, and
        // stays on the looked-up path.
        let mut stream = pass == Pass::Streaming;
        if let Some(rows) = next_rows(&mut rx, &mut tally).await? {
            let checked = tally.absorb(rows);
            let stored_found = conn
                .write_chunk(checked, import_id, actor, now, &mut tally)
                .await?;
            stream &= !stored_found;
            if let Some(l) = &mut lifted {
                conn.keep_rollup(l, tally.report.created).await?;
            }
        }
        if stream && let Conn::Postgres(pg) = &mut conn {
            if !copy_rest(pg, &mut rx, actor, import_id, now, &mut tally).await? {
                drop(rx);
                let _ = reader.await;
                conn.rollback().await?;
                return Ok(None);
            }
        } else {
            while let Some(rows) = next_rows(&mut rx, &mut tally).await? {
                let checked = tally.absorb(rows);
                conn.write_chunk(checked, import_id, actor, now, &mut tally)
                    .await?;
                if let Some(l) = &mut lifted {
                    conn.keep_rollup(l, tally.report.created).await?;
                }
                written_so_far(tally.report.created);
            }
        }
        reader
            .await
            .map_err(|e| StoreError::Internal(format!("the import reader stopped: {e}")))?;

        // Found in two passes per chunk (the row's own checks, then the database's): list
        // them in the file's order.
        tally.report.errors.sort_by_key(|e| e.line);
        tally.report.warnings.sort_by_key(|w| w.line);
        if !tally.report.accepted() {
            // Nothing of a refused file is written, so nothing was created.
            tally.report.created = 0;
        }
        if !tally.report.accepted() || request.dry_run {
            conn.rollback().await?;
            return Ok(Some(tally.report));
        }
        let (digested, digests) =
            std::mem::replace(&mut tally.digest, ImportDigest::new(None)).finish();
        let r = &tally.report;
        conn.finish_import(import_id, r).await?;
        let event = AuditEvent {
            id: last_id + 1,
            at: now,
            actor: actor.username.as_str().to_owned(),
            action: "import.batches".into(),
            entity_type: "import".into(),
            entity_key: import_id.to_string(),
            before: None,
            after: Some(serde_json::json!({
                "file_name": r.file_name,
                "sha256": r.sha256,
                "encoding": r.encoding,
                "delimiter": r.delimiter,
                "rows": r.rows,
                "created": r.created,
                "unchanged": r.unchanged,
                "warnings": r.warnings_total,
                "row_digests": ImportDigest::to_json(digested, &digests),
            })),
            reason: None,
            source: self.source,
        };
        let mut prev = conn.append_audit(&event, &last_hash, key.as_ref()).await?;
        // A batch of a donor under an open serious reaction starts held, imported or not
        // (SPEC §2 "Hold"): the hold and its event in the import's transaction.
        let held = conn.held_on_arrival(import_id).await?;
        for (next_id, (batch_id, number, reaction)) in (event.id + 1..).zip(held) {
            let reason = traza_domain::hold::open_reaction_hold_reason(reaction);
            let hold_id = conn
                .insert_hold(batch_id, &reason, actor.username.as_str(), now, reaction)
                .await?;
            let hold = traza_domain::hold::Hold {
                id: hold_id,
                reason: reason.clone(),
                placed_by: actor.username.as_str().to_owned(),
                placed_at: now,
                reaction_id: Some(reaction),
                lifted_by: None,
                lifted_at: None,
                lift_reason: None,
            };
            let placed = AuditEvent {
                id: next_id,
                at: now,
                actor: actor.username.as_str().to_owned(),
                action: "batch.hold_place".into(),
                entity_type: "batch".into(),
                entity_key: number,
                before: None,
                after: Some(serde_json::json!(hold)),
                reason: Some(reason),
                source: self.source,
            };
            prev = conn.append_audit(&placed, &prev, key.as_ref()).await?;
        }
        if let Some(lifted) = lifted {
            conn.restore_triggers(lifted).await?;
        }
        conn.commit().await?;
        tally.report.import_id = Some(import_id);
        Ok(Some(tally.report))
    }
}
