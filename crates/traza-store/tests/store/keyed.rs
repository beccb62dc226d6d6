//! The keyed chain (SPEC §2 "Audit trail"): a chain recomputed without the key is caught, a
//! writer without the key refuses, a rekey keeps the older events verifying, and a trail
//! begun without a key can be keyed later — on SQLite and PostgreSQL.

use traza_domain::audit::{AuditEvent, GENESIS_HASH};
use traza_store::{AuditKeyStatus, AuditQuery, Store, StoreError, VerifyReport};

use crate::support::*;

/// Every stored event, as the domain hashes it.
async fn all_events(store: &Store, auditor: &traza_domain::access::Actor) -> Vec<AuditEvent> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .audit_trail(
                auditor,
                &AuditQuery {
                    after_id: after,
                    limit: 1000,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        for e in &page.items {
            out.push(AuditEvent {
                id: e.id,
                at: e.at,
                actor: e.actor.clone(),
                action: e.action.clone(),
                entity_type: e.entity_type.clone(),
                entity_key: e.entity_key.clone(),
                before: e.before.clone(),
                after: e.after.clone(),
                reason: e.reason.clone(),
                source: e.source.parse().unwrap(),
            });
        }
        match page.next_cursor {
            Some(c) => after = Some(c.parse().unwrap()),
            None => return out,
        }
    }
}

fn sql_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[both_backends]
async fn a_chain_recomputed_without_the_key_is_caught(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let number = create(
        store,
        &net.cristina,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0071", days_ago(10), 2),
    )
    .await
    .batch
    .batch_number
    .to_string();
    let mut events = all_events(store, &net.elena).await;
    // The attack of the issue: change the batch's donor in its row and its event, then
    // recompute every hash with the public (plain SHA-256) form and move the head.
    let created = events
        .iter()
        .position(|e| e.action == "batch.create" && e.entity_key == number)
        .unwrap();
    if let Some(after) = events[created]
        .after
        .as_mut()
        .and_then(|a| a.as_object_mut())
    {
        after.insert("donor_code".into(), "DON-MAL-0001".into());
    }
    if !ctx.url.starts_with("sqlite:") {
        ctx.execute_raw("ALTER TABLE audit_events DISABLE TRIGGER USER")
            .await;
    }
    ctx.execute_raw(&format!(
        "UPDATE batches SET donor_code = 'DON-MAL-0001' WHERE batch_number = '{number}'"
    ))
    .await;
    let mut prev = GENESIS_HASH.to_owned();
    for e in &events {
        let hash = e.chain_hash(&prev);
        ctx.execute_raw(&format!(
                r#"UPDATE audit_events SET "after" = {}, prev_hash = '{prev}', hash = '{hash}' WHERE id = {}"#,
                e.after.as_ref().map_or("NULL".into(), |a| sql_text(&a.to_string())),
                e.id
            ))
            .await;
        prev = hash;
    }
    ctx.execute_raw(&format!(
        "UPDATE audit_head SET last_hash = '{prev}' WHERE id = 1"
    ))
    .await;
    match store.verify_audit_chain().await.unwrap() {
        VerifyReport::Broken(b) => {
            assert_eq!(b.id, 1, "{}", b.problem);
            assert!(b.problem.contains("keyed hash"), "{}", b.problem);
        }
        other => panic!("a recomputed chain went unseen: {other:?}"),
    }
}

#[both_backends]
async fn a_writer_without_the_key_refuses_and_a_rekey_keeps_every_event_verifying(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let number = create(
        store,
        &net.cristina,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0072", days_ago(10), 2),
    )
    .await
    .batch
    .batch_number
    .to_string();
    // A second process started without the key file: it may read, never write.
    let keyless = Store::connect(&ctx.url).await.unwrap();
    let write = keyless
        .record_event(
            &net.cristina,
            &number,
            None,
            "siembra",
            chrono::Utc::now(),
            None,
        )
        .await;
    assert!(matches!(write, Err(StoreError::AuditKey(_))), "{write:?}");
    let dir = tempfile::tempdir().unwrap();
    let missing = keyless.open_audit_key(&dir.path().join("none")).await;
    assert!(
        matches!(missing, Err(StoreError::AuditKey(ref m)) if m.contains("missing")),
        "{missing:?}"
    );
    // Another trail's key is not this trail's.
    let other = Store::connect(&format!("sqlite://{}/o.db?mode=rwc", dir.path().display()))
        .await
        .unwrap();
    other.migrate().await.unwrap();
    let foreign = dir.path().join("o.key");
    assert!(matches!(
        other.open_audit_key(&foreign).await,
        Ok(AuditKeyStatus::Created { .. })
    ));
    let wrong = keyless.open_audit_key(&foreign).await;
    assert!(matches!(wrong, Err(StoreError::AuditKey(_))), "{wrong:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&ctx.key_file)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "the key file is readable by its owner only"
        );
    }

    // A second process with the key, opened before the rekey.
    let peer = Store::connect(&ctx.url).await.unwrap();
    assert!(matches!(
        peer.open_audit_key(&ctx.key_file).await,
        Ok(AuditKeyStatus::Loaded { keys: 1, .. })
    ));
    let before = std::fs::read_to_string(&ctx.key_file).unwrap();
    let admin_refused = store.rekey_audit(&net.cristina).await;
    assert!(
        matches!(admin_refused, Err(StoreError::Forbidden)),
        "{admin_refused:?}"
    );
    let new = store.rekey_audit(&net.admin).await.unwrap();
    let after = std::fs::read_to_string(&ctx.key_file).unwrap();
    assert!(after.starts_with(&before[..before.rfind("traza-audit-key").unwrap()]));
    assert!(after.contains(&new), "the key file holds the new key");
    assert_eq!(
        after.matches("traza-audit-key ").count(),
        2,
        "and keeps the old one"
    );
    // The peer picks the new key up from the file at its next write.
    peer.record_event(
        &net.cristina,
        &number,
        None,
        "expansión",
        chrono::Utc::now(),
        None,
    )
    .await
    .unwrap();
    store
        .record_event(
            &net.cristina,
            &number,
            None,
            "cosecha",
            chrono::Utc::now(),
            None,
        )
        .await
        .unwrap();
    assert!(matches!(
        store.verify_audit_chain().await.unwrap(),
        VerifyReport::Intact { .. }
    ));
    let rekey = store
        .audit_trail(
            &net.elena,
            &AuditQuery {
                entity_type: Some("audit_key".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(rekey.items.len(), 1);
    assert_eq!(rekey.items[0].actor, net.admin.username.as_str());
    // Verifying with only the first key fails from the rekey on.
    let old_only = Store::connect(&ctx.url).await.unwrap();
    let old_file = dir.path().join("old.key");
    std::fs::write(&old_file, &before).unwrap();
    // (Opening refuses it: it does not hold the key that signs the head.)
    assert!(old_only.open_audit_key(&old_file).await.is_err());
    other.close().await.unwrap();
}

#[both_backends]
async fn a_trail_begun_without_a_key_is_keyed_by_a_rekey(ctx: Ctx) {
    // The trail of an installation from before keyed chains: a fresh database written by
    // a handle that never opened a key.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/plain.db?mode=rwc", dir.path().display());
    let plain = Store::connect(&url).await.unwrap();
    plain.migrate().await.unwrap();
    let net = load_network(&plain).await;
    let key_file = dir.path().join("plain.db.audit-key");
    assert!(matches!(
        plain.open_audit_key(&key_file).await,
        Ok(AuditKeyStatus::Unkeyed { .. })
    ));
    assert!(!key_file.exists());
    let fingerprint = plain.rekey_audit(&net.admin).await.unwrap();
    assert!(
        std::fs::read_to_string(&key_file)
            .unwrap()
            .contains(&fingerprint)
    );
    create(
        &plain,
        &net.cristina,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0073", days_ago(10), 2),
    )
    .await;
    assert!(matches!(
        plain.verify_audit_chain().await.unwrap(),
        VerifyReport::Intact { .. }
    ));
    // From now on a process must hold the key.
    let keyless = Store::connect(&url).await.unwrap();
    assert!(
        keyless
            .open_audit_key(&dir.path().join("elsewhere"))
            .await
            .is_err()
    );
    plain.close().await.unwrap();
    drop(ctx);
}

/// A rekey whose audit event cannot be written (here a trigger refuses it, as a full disk or a
/// lost connection would) leaves the key file as it was, byte for byte, and the trail verifying.
#[both_backends]
async fn a_rekey_that_cannot_be_recorded_puts_the_key_file_back(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let before = std::fs::read(&ctx.key_file).expect("the key file");
    let refuse = if ctx.url.starts_with("sqlite:") {
        vec![
            "CREATE TRIGGER refuse_rekey BEFORE INSERT ON audit_events \
             WHEN NEW.action = 'audit.rekey' BEGIN SELECT RAISE(ABORT, 'refused'); END"
                .to_owned(),
        ]
    } else {
        vec![
            "CREATE FUNCTION refuse_rekey() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN IF NEW.action = 'audit.rekey' THEN RAISE EXCEPTION 'refused'; END IF; \
             RETURN NEW; END $$"
                .to_owned(),
            "CREATE TRIGGER refuse_rekey BEFORE INSERT ON audit_events \
             FOR EACH ROW EXECUTE FUNCTION refuse_rekey()"
                .to_owned(),
        ]
    };
    for sql in &refuse {
        ctx.execute_raw(sql).await;
    }
    assert!(store.rekey_audit(&net.admin).await.is_err());
    assert_eq!(
        std::fs::read(&ctx.key_file).expect("the key file"),
        before,
        "the key file is as it was"
    );
    // The store still signs with the old key: a write goes through and the trail verifies.
    create(
        store,
        &net.cristina,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0099", days_ago(10), 1),
    )
    .await;
    assert!(matches!(
        store.verify_audit_chain().await.unwrap(),
        VerifyReport::Intact { .. }
    ));
}
