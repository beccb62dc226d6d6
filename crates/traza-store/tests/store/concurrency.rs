use traza_domain::vocab::{BatchStatus, SignatureMeaning};
use traza_store::StoreError;

use crate::support::*;

#[both_backends]
async fn concurrent_administrations_never_exceed_doses(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let released = released_batch(
        &net.store,
        &net.cristina,
        &net.nuria,
        NURIA_PW,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0050", days_ago(20), 10),
    )
    .await;
    let number = released.batch.batch_number.to_string();

    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let (store, qa, number) = (
                net.store.clone(),
                if i % 2 == 0 {
                    net.nuria.clone()
                } else {
                    net.jose.clone()
                },
                number.clone(),
            );
            tokio::spawn(async move {
                let p = patient(&format!("PT-MAL-{:04}", 500 + i));
                store
                    .administer(
                        &qa,
                        &number,
                        None,
                        &p,
                        today(),
                        "Hospital Regional Universitario de Málaga",
                    )
                    .await
            })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        match task.await.expect("task") {
            Ok(_) => ok += 1,
            Err(StoreError::Refused {
                code:
                    traza_store::ErrorCode::InvalidTransition | traza_store::ErrorCode::DosesExhausted,
                ..
            }) => {}
            Err(other) => {
                panic!("an administration failed otherwise than by a refusal: {other:?}")
            }
        }
    }
    assert_eq!(ok, 10, "exactly the 10 doses were administered");
    let view = net.store.get_batch(&net.nuria, &number).await.unwrap();
    assert_eq!(view.administrations.len(), 10);
    assert_eq!(view.batch.status, BatchStatus::Administered);
    assert_eq!(view.batch.version, released.batch.version + 10);
    assert!(matches!(
        net.store.verify_audit_chain().await.unwrap(),
        traza_store::VerifyReport::Intact { .. }
    ));
}

#[both_backends]
async fn concurrent_releases_certify_once(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let number = create(
        store,
        &net.cristina,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0051", days_ago(20), 2),
    )
    .await
    .batch
    .batch_number
    .to_string();
    record_passing_qc(store, &net.sergio, &number, ALLO).await;
    store
        .complete_batch(&net.cristina, &number, None, days_ago(2))
        .await
        .unwrap();

    let release = |qa: traza_domain::access::Actor, pw: &'static str| {
        let (store, number) = (store.clone(), number.clone());
        tokio::spawn(async move {
            store
                .release_batch(&qa, &number, None, pw, SignatureMeaning::QpCertified)
                .await
        })
    };
    let a = release(net.nuria.clone(), NURIA_PW);
    let b = release(net.jose.clone(), JOSE_PW);
    let results = [a.await.expect("task"), b.await.expect("task")];
    let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    let loser = results.into_iter().find(|r| r.is_err()).unwrap();
    let (code, rules) = refusal(loser);
    assert_eq!(
        (code, rules),
        ("release_blocked", vec!["not_in_quarantine".to_owned()])
    );

    let view = store.get_batch(&net.elena, &number).await.unwrap();
    assert_eq!(view.batch.status, BatchStatus::Released);
    assert_eq!(view.signatures.len(), 1, "one QP certification");
    assert_eq!(
        view.batch.released_by.as_deref(),
        Some(view.signatures[0].signer_full_name.as_str())
    );
    let releases = store
        .batch_audit(&net.elena, &number)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "batch.release")
        .count();
    assert_eq!(releases, 1);
}
