use std::collections::BTreeSet;

use traza_domain::vocab::SignatureMeaning;
use traza_store::{BatchFilter, StoreError};

use crate::support::*;

fn all() -> BatchFilter {
    BatchFilter {
        limit: 100,
        ..Default::default()
    }
}

#[both_backends]
async fn lab_scope_hides_other_labs_batches(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let start = day("2026-06-08");
    let mal = create(
        store,
        &net.cristina,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0020", start, 1),
    )
    .await;
    let sev = create(
        store,
        &net.rocio,
        CART,
        SEV,
        trial_fields("2019-001472-33", "PT-SEV-0042", Some("PT-SEV-0042"), start),
    )
    .await;
    let (mal_n, sev_n) = (
        mal.batch.batch_number.to_string(),
        sev.batch.batch_number.to_string(),
    );
    assert_eq!(sev_n, "SEV-UPRC-2026-00001");

    // MAL-HRU lab staff: SEV-UPRC's batch does not exist for them.
    let got = store.get_batch(&net.cristina, &sev_n).await;
    assert!(matches!(got, Err(StoreError::NotFound(_))), "{got:?}");
    let event = store
        .record_event(
            &net.cristina,
            &sev_n,
            None,
            "apheresis received",
            chrono::Utc::now(),
            None,
        )
        .await;
    assert!(matches!(event, Err(StoreError::NotFound(_))), "{event:?}");
    let trail = store.batch_audit(&net.cristina, &sev_n).await;
    assert!(matches!(trail, Err(StoreError::NotFound(_))), "{trail:?}");
    let qc = store
        .record_qc_result(&net.cristina, &sev_n, None, qc("viability", "90", "%"))
        .await;
    assert!(matches!(qc, Err(StoreError::NotFound(_))), "{qc:?}");
    // ... and the answer is the same as for a batch that does not exist at all.
    assert!(matches!(
        store.get_batch(&net.cristina, "SEV-UPRC-2026-99999").await,
        Err(StoreError::NotFound(_))
    ));
    assert!(
        store
            .get_batch(&net.rocio, &sev_n)
            .await
            .unwrap()
            .events
            .is_empty(),
        "the refused event was not written"
    );

    let listed: Vec<String> = store
        .list_batches(&net.cristina, &all())
        .await
        .unwrap()
        .items
        .iter()
        .map(|b| b.batch_number.to_string())
        .collect();
    assert_eq!(listed, std::slice::from_ref(&mal_n));
    let filtered = store
        .list_batches(
            &net.cristina,
            &BatchFilter {
                lab: Some(lab(SEV)),
                ..all()
            },
        )
        .await
        .unwrap();
    assert!(
        filtered.items.is_empty(),
        "filtering by another lab does not widen the scope"
    );
    let by_patient = store
        .list_batches(
            &net.cristina,
            &BatchFilter {
                patient: Some(patient("PT-SEV-0042")),
                ..all()
            },
        )
        .await
        .unwrap();
    assert!(by_patient.items.is_empty());
    let rocio_sees: Vec<String> = store
        .list_batches(&net.rocio, &all())
        .await
        .unwrap()
        .items
        .iter()
        .map(|b| b.batch_number.to_string())
        .collect();
    assert_eq!(rocio_sees, std::slice::from_ref(&sev_n));
    assert!(matches!(
        store.get_batch(&net.teresa, &mal_n).await,
        Err(StoreError::NotFound(_))
    ));

    // The auditor sees the whole network, newest first, and both trails.
    let seen: BTreeSet<String> = store
        .list_batches(&net.elena, &all())
        .await
        .unwrap()
        .items
        .iter()
        .map(|b| b.batch_number.to_string())
        .collect();
    assert_eq!(seen, [mal_n.clone(), sev_n.clone()].into_iter().collect());
    assert_eq!(
        store
            .get_batch(&net.elena, &sev_n)
            .await
            .unwrap()
            .batch
            .lab_code,
        lab(SEV)
    );
    assert_eq!(
        store.batch_audit(&net.elena, &sev_n).await.unwrap()[0].action,
        "batch.create"
    );
    assert_eq!(
        store.batch_audit(&net.elena, &mal_n).await.unwrap().len(),
        1
    );
    // ... but changes nothing.
    let write = store
        .record_event(
            &net.elena,
            &mal_n,
            None,
            "inspection",
            chrono::Utc::now(),
            None,
        )
        .await;
    assert!(matches!(write, Err(StoreError::Forbidden)), "{write:?}");

    // Lab staff cannot certify, even in their own lab.
    record_passing_qc(store, &net.cristina, &mal_n, ALLO).await;
    store
        .complete_batch(&net.cristina, &mal_n, None, day("2026-06-20"))
        .await
        .unwrap();
    let release = store
        .release_batch(
            &net.sergio,
            &mal_n,
            None,
            "demo-tecnico-malaga-2",
            SignatureMeaning::QpCertified,
        )
        .await;
    assert!(matches!(release, Err(StoreError::Forbidden)), "{release:?}");
    // QA of another lab: not found rather than forbidden.
    let foreign_qa = store
        .release_batch(
            &net.teresa,
            &mal_n,
            None,
            TERESA_PW,
            SignatureMeaning::QpCertified,
        )
        .await;
    assert!(
        matches!(foreign_qa, Err(StoreError::NotFound(_))),
        "{foreign_qa:?}"
    );
    let view = store.get_batch(&net.cristina, &mal_n).await.unwrap();
    assert_eq!(
        view.batch.status,
        traza_domain::vocab::BatchStatus::Quarantine
    );
    assert!(view.signatures.is_empty());
}
