use traza_domain::vocab::SignatureMeaning;
use traza_store::{AuditQuery, LabUpdate, NewUser, VerifyReport};

use crate::support::*;

async fn intact_count(store: &traza_store::Store) -> i64 {
    match store.verify_audit_chain().await.unwrap() {
        VerifyReport::Intact { events, head } => {
            assert_eq!(head.len(), 64);
            events
        }
        broken => panic!("the chain is broken: {broken:?}"),
    }
}

#[both_backends]
async fn audit_chain_is_intact_after_writes(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let start = intact_count(store).await;

    // A mix of writes, one audit event each: 1 create + 7 QC + 1 complete + 1 release,
    // one administration, one lab update, one user.
    let b = released_batch(
        store,
        &net.cristina,
        &net.nuria,
        NURIA_PW,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0060", days_ago(20), 2),
    )
    .await;
    let number = b.batch.batch_number.to_string();
    store
        .administer(
            &net.jose,
            &number,
            None,
            &patient("PT-MAL-0600"),
            today(),
            "Hospital Regional Universitario de Málaga",
        )
        .await
        .unwrap();
    store
        .update_lab(
            &net.lucia,
            MAL,
            LabUpdate {
                capacity_per_month: Some(Some(30)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    store
        .create_user(
            &net.admin,
            NewUser {
                username: traza_domain::codes::Username::parse("carmen.ortega").unwrap(),
                full_name: "Carmen Ortega Ruiz".into(),
                role: traza_domain::vocab::Role::Auditor,
                labs: Default::default(),
                password: "auditora-externa-2026".into(),
            },
        )
        .await
        .unwrap();
    // Refused writes append nothing.
    let _ = store
        .release_batch(
            &net.jose,
            &number,
            None,
            JOSE_PW,
            SignatureMeaning::QpCertified,
        )
        .await
        .unwrap_err();
    assert_eq!(intact_count(store).await, start + 13);

    // The trail is consecutive and each event names the one before it.
    let trail = store
        .audit_trail(
            &net.elena,
            &AuditQuery {
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(trail.items.len() as i64, start + 13);
    assert!(trail.next_cursor.is_none());
    for (i, pair) in trail.items.windows(2).enumerate() {
        assert_eq!(pair[1].id, pair[0].id + 1, "ids are consecutive at {i}");
        assert_eq!(pair[1].prev_hash, pair[0].hash);
    }
    let last = trail.items.last().unwrap();
    assert_eq!(
        (
            last.action.as_str(),
            last.actor.as_str(),
            last.entity_key.as_str()
        ),
        ("user.create", "traza.admin", "carmen.ortega")
    );
    assert!(
        last.after.as_ref().unwrap().get("password").is_none(),
        "no password in the trail"
    );
    let release = store
        .batch_audit(&net.elena, &number)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.action == "batch.release")
        .unwrap();
    assert_eq!(release.actor, "nuria.blanco");
    assert_eq!(release.source, "api");
    // The event carries the signed manifest: the whole record, the signer and the meaning,
    // hashing to the signature's record hash.
    let after = release.after.as_ref().unwrap();
    let record = after["record"].as_str().unwrap();
    let manifest: traza_domain::signing::SignedRecord = serde_json::from_str(record).unwrap();
    // An unguided batch: version 1, without an execution record.
    assert_eq!(
        manifest.manifest,
        traza_domain::signing::MANIFEST_VERSION_UNGUIDED
    );
    assert_eq!(manifest.batch_record, None);
    assert_eq!(manifest.signer.username, "nuria.blanco");
    assert_eq!(manifest.signer.meaning, SignatureMeaning::QpCertified);
    assert_eq!(manifest.batch["batch_number"], number.as_str());
    assert!(!manifest.qc_results.is_empty());
    assert_eq!(
        after["signature"]["record_hash"].as_str(),
        Some(manifest.hash().as_str())
    );
    assert_eq!(manifest.canonical(), record);
    // Lab staff may not read the whole trail.
    assert!(matches!(
        store
            .audit_trail(
                &net.cristina,
                &AuditQuery {
                    limit: 10,
                    ..Default::default()
                }
            )
            .await,
        Err(traza_store::StoreError::Forbidden)
    ));
}

#[both_backends]
async fn audit_chain_survives_concurrent_writers(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let mal = create(
        store,
        &net.cristina,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0061", days_ago(10), 1),
    )
    .await
    .batch
    .batch_number
    .to_string();
    let sev = create(
        store,
        &net.rocio,
        CART,
        SEV,
        trial_fields(
            "2019-001472-33",
            "PT-SEV-0061",
            Some("PT-SEV-0061"),
            days_ago(10),
        ),
    )
    .await
    .batch
    .batch_number
    .to_string();
    let before = intact_count(store).await;

    let tasks: Vec<_> = (0..16)
        .map(|t| {
            let store = store.clone();
            let (actor, number) = if t % 2 == 0 {
                (net.cristina.clone(), mal.clone())
            } else {
                (net.rocio.clone(), sev.clone())
            };
            tokio::spawn(async move {
                for i in 0..10 {
                    store
                        .record_event(
                            &actor,
                            &number,
                            None,
                            &format!("task {t} step {i}"),
                            chrono::Utc::now(),
                            None,
                        )
                        .await
                        .unwrap_or_else(|e| panic!("task {t} write {i}: {e:?}"));
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("writer task");
    }
    assert_eq!(intact_count(store).await, before + 160);
    for number in [&mal, &sev] {
        let view = store.get_batch(&net.elena, number).await.unwrap();
        assert_eq!(view.events.len(), 80);
        assert_eq!(
            view.batch.version, 81,
            "every write bumped the version once"
        );
        assert_eq!(
            store.batch_audit(&net.elena, number).await.unwrap().len(),
            81
        );
    }
}

#[both_backends]
async fn audit_chain_detects_an_edited_event(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let number = create(
        store,
        &net.cristina,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0062", days_ago(10), 1),
    )
    .await
    .batch
    .batch_number
    .to_string();
    store
        .record_event(
            &net.cristina,
            &number,
            None,
            "seeding",
            chrono::Utc::now(),
            None,
        )
        .await
        .unwrap();
    intact_count(store).await;
    let created = store
        .batch_audit(&net.elena, &number)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.action == "batch.create")
        .unwrap();

    let edit = format!(
        r#"UPDATE audit_events SET "after" = '{{"batch_number":"{number}","doses":5}}' WHERE id = {}"#,
        created.id
    );
    bypass_append_only(&ctx, &edit).await;
    let changed = ctx.execute_raw(&edit).await;
    assert_eq!(changed, 1);
    match store.verify_audit_chain().await.unwrap() {
        VerifyReport::Broken(b) => assert_eq!(b.id, created.id, "{}", b.problem),
        intact => panic!("an edited event went unnoticed: {intact:?}"),
    }
}

#[both_backends]
async fn audit_chain_detects_a_deleted_last_event(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let start = intact_count(store).await;
    create(
        store,
        &net.cristina,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0063", days_ago(10), 1),
    )
    .await;
    let last = intact_count(store).await;
    assert_eq!(last, start + 1);
    let delete = format!("DELETE FROM audit_events WHERE id = {last}");
    bypass_append_only(&ctx, &delete).await;
    assert_eq!(ctx.execute_raw(&delete).await, 1);
    match store.verify_audit_chain().await.unwrap() {
        VerifyReport::Broken(b) => assert_eq!(b.id, last, "{}", b.problem),
        intact => panic!("a deleted event went unnoticed: {intact:?}"),
    }
}

#[both_backends]
async fn audit_verification_during_writes_reports_no_false_break(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let start = intact_count(store).await;
    let number = create(
        store,
        &net.cristina,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0064", days_ago(10), 1),
    )
    .await
    .batch
    .batch_number
    .to_string();
    let writers: Vec<_> = (0..4)
        .map(|t| {
            let (store, actor, number) = (store.clone(), net.cristina.clone(), number.clone());
            tokio::spawn(async move {
                for i in 0..25 {
                    store
                        .record_event(
                            &actor,
                            &number,
                            None,
                            &format!("writer {t} step {i}"),
                            chrono::Utc::now(),
                            None,
                        )
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    let mut checks = 0;
    while !writers.iter().all(|w| w.is_finished()) {
        let report = store.verify_audit_chain().await.unwrap();
        assert!(
            matches!(report, VerifyReport::Intact { .. }),
            "verification {checks} during writes: {report:?}"
        );
        checks += 1;
    }
    for w in writers {
        w.await.expect("writer");
    }
    assert!(checks > 0);
    assert_eq!(intact_count(store).await, start + 1 + 100);
}

/// On PostgreSQL the trail is append-only in the database: `sql` is refused, and only the owner
/// disabling the trigger (what an attacker with that power would do) lets it through, which the
/// chain must then catch. SQLite has no such guard.
async fn bypass_append_only(ctx: &Ctx, sql: &str) {
    if ctx.url.starts_with("sqlite:") {
        return;
    }
    let refused = ctx.try_raw(sql).await;
    assert!(
        refused.as_ref().is_err_and(|e| e.contains("append-only")),
        "PostgreSQL refuses {sql}: {refused:?}"
    );
    for table in ["audit_events", "signatures"] {
        ctx.execute_raw(&format!("ALTER TABLE {table} DISABLE TRIGGER USER"))
            .await;
    }
}

#[both_backends]
async fn postgres_keeps_the_trail_and_signatures_append_only(ctx: Ctx) {
    let net = network(&ctx.store).await;
    released_batch(
        &net.store,
        &net.cristina,
        &net.nuria,
        NURIA_PW,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0064", days_ago(10), 1),
    )
    .await;
    if ctx.url.starts_with("sqlite:") {
        return; // SQLite has no privileges: the chain is its only guard.
    }
    for sql in [
        "UPDATE signatures SET signer_full_name = 'someone else'",
        "DELETE FROM signatures",
        "TRUNCATE signatures",
        "UPDATE audit_events SET actor = 'someone else'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ] {
        let refused = ctx.try_raw(sql).await;
        assert!(
            refused.as_ref().is_err_and(|e| e.contains("append-only")),
            "{sql}: {refused:?}"
        );
    }
    assert!(matches!(
        net.store.verify_audit_chain().await.unwrap(),
        VerifyReport::Intact { .. }
    ));
}
