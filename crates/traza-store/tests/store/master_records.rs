//! Master batch records (SPEC §8): the lifecycle (draft, approval by another QA person with a
//! signature, in effect from a date, superseded), the version a batch is stamped with, and
//! `audit verify` over the new tables — on SQLite and PostgreSQL.

use rust_decimal::Decimal;
use traza_domain::mbr::{MbrMaterial, MbrParameter, MbrStep};
use traza_domain::vocab::{MbrStatus, RoomGrade};
use traza_store::{StoreError, VerifyReport};

use crate::support::*;

/// Today on the laboratories' clock (Europe/Madrid): master records take effect by it.
fn lab_today() -> chrono::NaiveDate {
    traza_domain::clock::lab_date(chrono::Utc::now())
}

fn steps(title: &str) -> Vec<MbrStep> {
    vec![
        MbrStep {
            code: "siembra".into(),
            title: title.into(),
            instructions: "Sembrar la fracción vascular estromal en frascos T175.".into(),
            room_grade: Some(RoomGrade::B),
            verification_required: false,
            parameters: Vec::new(),
            materials: vec![MbrMaterial {
                material_code: "MED-ALFA".into(),
                quantity: Decimal::new(10, 0),
                unit: "ml".into(),
            }],
            equipment: vec!["biosafety_cabinet".into()],
        },
        MbrStep {
            code: "expansion".into(),
            title: "Expansión".into(),
            instructions: String::new(),
            room_grade: Some(RoomGrade::B),
            verification_required: true,
            parameters: vec![MbrParameter {
                name: "temperatura".into(),
                unit: "°C".into(),
                min: Some(dec("36.5")),
                max: Some(dec("37.5")),
                expected: None,
                critical: true,
            }],
            materials: Vec::new(),
            equipment: vec!["incubator".into()],
        },
    ]
}

#[both_backends]
async fn whoever_edited_a_draft_may_not_approve_it(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let draft = store
        .create_master_record(&net.nuria, &product(ALLO), &lab(MAL), steps("Siembra"))
        .await
        .unwrap();
    // José rewrites Nuria's draft: neither of them may approve it now.
    store
        .update_master_record(&net.jose, draft.id, steps("Siembra en T175"), None)
        .await
        .unwrap();
    for (who, pw) in [(&net.jose, JOSE_PW), (&net.nuria, NURIA_PW)] {
        let own = store
            .approve_master_record(who, draft.id, pw, lab_today(), None)
            .await;
        assert_eq!(refusal(own).0, "four_eyes");
    }
}

#[both_backends]
async fn a_master_record_is_drafted_approved_by_another_qa_and_guides_new_batches(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    // Lab staff may not write one; QA of another laboratory may not either.
    let refused = store
        .create_master_record(&net.cristina, &product(ALLO), &lab(MAL), steps("Siembra"))
        .await;
    assert!(matches!(refused, Err(StoreError::Forbidden)), "{refused:?}");
    let refused = store
        .create_master_record(&net.teresa, &product(ALLO), &lab(MAL), steps("Siembra"))
        .await;
    assert!(refused.is_err(), "{refused:?}");
    let v1 = store
        .create_master_record(&net.nuria, &product(ALLO), &lab(MAL), steps("Siembra"))
        .await
        .unwrap();
    assert_eq!((v1.version, v1.status), (1, MbrStatus::Draft));
    // A draft changes; its author cannot approve it; a wrong password signs nothing.
    let v1 = store
        .update_master_record(&net.nuria, v1.id, steps("Siembra en T175"), None)
        .await
        .unwrap();
    assert_eq!(v1.steps[0].title, "Siembra en T175");
    // An edit drawn on steps that changed since (another tab, another QA) is refused and
    // writes nothing.
    let stale = store
        .update_master_record(&net.nuria, v1.id, steps("Otra"), Some(&steps("Siembra")))
        .await;
    assert_eq!(refusal(stale).0, "version_mismatch");
    assert_eq!(
        store
            .get_master_record(&net.nuria, v1.id)
            .await
            .unwrap()
            .steps[0]
            .title,
        "Siembra en T175"
    );
    assert_eq!(
        refusal(
            store
                .approve_master_record(&net.nuria, v1.id, NURIA_PW, lab_today(), None)
                .await
        )
        .0,
        "four_eyes"
    );
    let wrong = store
        .approve_master_record(&net.jose, v1.id, "not-his-password", today(), None)
        .await;
    assert!(
        matches!(wrong, Err(StoreError::InvalidSignature)),
        "{wrong:?}"
    );
    assert_eq!(
        invalid_fields(
            store
                .approve_master_record(
                    &net.jose,
                    v1.id,
                    JOSE_PW,
                    lab_today() - chrono::Days::new(1),
                    None
                )
                .await
        ),
        ["effective_from"]
    );
    // Unguided before approval.
    let before = create(
        store,
        &net.cristina,
        ALLO,
        MAL,
        allo_fields("DON-MBR-0001", today(), 1),
    )
    .await;
    assert_eq!(before.mbr_version, None);

    // An approval of steps other than the draft's (read before an edit) signs nothing.
    let stale = store
        .approve_master_record(
            &net.jose,
            v1.id,
            JOSE_PW,
            lab_today(),
            Some(&steps("Siembra")),
        )
        .await;
    assert_eq!(refusal(stale).0, "version_mismatch");
    // Two approvals racing (two tabs): one signs, the other is refused.
    let (a, b) = tokio::join!(
        store.approve_master_record(&net.jose, v1.id, JOSE_PW, lab_today(), None),
        store.approve_master_record(&net.jose, v1.id, JOSE_PW, lab_today(), None),
    );
    assert_eq!(
        usize::from(a.is_ok()) + usize::from(b.is_ok()),
        1,
        "{a:?} {b:?}"
    );
    for lost in [&a, &b].into_iter().filter_map(|r| r.as_ref().err()) {
        assert!(
            matches!(lost, StoreError::Refused { code, .. }
                if matches!(code.as_str(), "record_locked" | "version_mismatch")),
            "{lost:?}"
        );
    }
    let v1 = a.or(b).unwrap();
    assert_eq!(v1.status, MbrStatus::Effective);
    assert_eq!(v1.approved_by.as_deref(), Some(net.jose.username.as_str()));
    assert_eq!(v1.approval_hash.as_ref().map(String::len), Some(64));
    // An approved version never changes.
    assert_eq!(
        refusal(
            store
                .update_master_record(&net.nuria, v1.id, steps("Otra cosa"), None)
                .await
        )
        .0,
        "record_locked"
    );
    let guided = create(
        store,
        &net.cristina,
        ALLO,
        MAL,
        allo_fields("DON-MBR-0002", today(), 1),
    )
    .await;
    assert_eq!((guided.mbr_id, guided.mbr_version), (Some(v1.id), Some(1)));

    // A second version takes effect today: the first is superseded; the batch made under
    // the first keeps it, a new batch follows the second.
    let v2 = store
        .create_master_record(&net.jose, &product(ALLO), &lab(MAL), steps("Siembra v2"))
        .await
        .unwrap();
    assert_eq!(v2.version, 2);
    let v2 = store
        .approve_master_record(&net.nuria, v2.id, NURIA_PW, lab_today(), None)
        .await
        .unwrap();
    assert_eq!(v2.status, MbrStatus::Effective);
    let v1_now = store.get_master_record(&net.cristina, v1.id).await.unwrap();
    assert_eq!(v1_now.status, MbrStatus::Superseded);
    let kept = store
        .get_batch(&net.cristina, guided.batch.batch_number.as_str())
        .await
        .unwrap();
    assert_eq!(kept.mbr_version, Some(1));
    let next = create(
        store,
        &net.cristina,
        ALLO,
        MAL,
        allo_fields("DON-MBR-0003", today(), 1),
    )
    .await;
    assert_eq!(next.mbr_version, Some(2));
    // Another laboratory's people do not see them; the network roles do.
    assert!(store.get_master_record(&net.rocio, v1.id).await.is_err());
    assert_eq!(
        store
            .list_master_records(&net.lucia, Some(ALLO), Some(MAL))
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(matches!(
        store.verify_audit_chain().await.unwrap(),
        VerifyReport::Intact { .. }
    ));
}

/// An approved version guiding one batch; returns the version's id and the batch's number.
async fn guided_batch(net: &Net) -> (i64, String) {
    let store = &net.store;
    let v1 = store
        .create_master_record(&net.nuria, &product(ALLO), &lab(MAL), steps("Siembra"))
        .await
        .unwrap();
    store
        .approve_master_record(&net.jose, v1.id, JOSE_PW, lab_today(), None)
        .await
        .unwrap();
    let guided = create(
        store,
        &net.cristina,
        ALLO,
        MAL,
        allo_fields("DON-MBR-0009", today(), 1),
    )
    .await;
    assert_eq!(guided.mbr_id, Some(v1.id));
    (v1.id, guided.batch.batch_number.to_string())
}

fn named(r: VerifyReport) -> (String, Option<String>) {
    match r {
        VerifyReport::RowMismatch(m) => (m.table.to_owned(), m.column.map(str::to_owned)),
        other => panic!("unseen: {other:?}"),
    }
}

#[both_backends]
async fn approved_steps_rewritten_by_sql_are_named_by_verify(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let (id, _) = guided_batch(&net).await;
    ctx.execute_raw(&format!(
        "UPDATE master_records SET steps = '[]' WHERE id = {id}"
    ))
    .await;
    assert_eq!(
        named(net.store.verify_audit_chain().await.unwrap()),
        ("master_records".to_owned(), Some("steps".to_owned()))
    );
}

#[both_backends]
async fn an_approval_forged_by_sql_is_named_by_verify(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    // A draft "approved" by SQL, without a signature or its event.
    let draft = store
        .create_master_record(&net.nuria, &product(ALLO), &lab(MAL), steps("Siembra"))
        .await
        .unwrap();
    ctx.execute_raw(&format!(
        "UPDATE master_records SET approved_by = 'jose.alarcon' WHERE id = {}",
        draft.id
    ))
    .await;
    assert_eq!(
        named(store.verify_audit_chain().await.unwrap()),
        ("master_records".to_owned(), Some("approved_by".to_owned()))
    );
}

#[both_backends]
async fn a_master_record_version_rewritten_by_sql_is_shown_at_once_and_named_by_verify(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let (id, number) = guided_batch(&net).await;
    let read = |store: traza_store::Store, actor| {
        let number = number.clone();
        async move { store.get_batch(&actor, &number).await.unwrap().mbr_version }
    };
    // Read twice: the second answer comes from the view cache.
    assert_eq!(read(net.store.clone(), net.cristina.clone()).await, Some(1));
    assert_eq!(read(net.store.clone(), net.cristina.clone()).await, Some(1));
    ctx.execute_raw(&format!(
        "UPDATE master_records SET version = 7 WHERE id = {id}"
    ))
    .await;
    assert_eq!(
        read(net.store.clone(), net.cristina.clone()).await,
        Some(7),
        "the batch page kept showing the version cached before the edit"
    );
    assert_eq!(
        named(net.store.verify_audit_chain().await.unwrap()).0,
        "master_records"
    );
}

#[both_backends]
async fn a_batch_guide_removed_by_sql_is_named_by_verify(ctx: Ctx) {
    let net = network(&ctx.store).await;
    guided_batch(&net).await;
    ctx.execute_raw("DELETE FROM batch_guides").await;
    assert_eq!(
        named(net.store.verify_audit_chain().await.unwrap()).0,
        "batch_guides"
    );
}
