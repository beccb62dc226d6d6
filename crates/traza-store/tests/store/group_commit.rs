//! Writes committed in groups (`write::Writers`): refused writes and writes given up halfway
//! inside a group leave nothing behind, the rest are all committed, each with its audit event,
//! and the group never stays open.

use std::time::Duration;

use traza_store::{StoreError, VerifyReport};

use crate::support::*;

#[both_backends]
async fn writes_refused_or_given_up_inside_a_group_leave_nothing_and_the_rest_commit(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let open = create(
        store,
        &net.cristina,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0070", days_ago(3), 4),
    )
    .await
    .batch
    .batch_number
    .to_string();
    // A released batch takes no more records: its writes are refused inside the transaction.
    let closed = released_batch(
        store,
        &net.cristina,
        &net.nuria,
        NURIA_PW,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0071", days_ago(20), 4),
    )
    .await
    .batch
    .batch_number
    .to_string();

    // Storms of writes, each with its writes given up at other points: a write dropped
    // while its savepoint or the group's transaction opens or closes must not leave the group
    // in a transaction other than the one it believes (see `write::Writers`).
    let mut written = 0;
    for round in 0..4u64 {
        let tasks: Vec<_> = (0..48)
            .map(|t| {
                let (store, actor) = (store.clone(), net.cristina.clone());
                let number = if t % 3 == 0 {
                    closed.clone()
                } else {
                    open.clone()
                };
                tokio::spawn(async move {
                    store
                        .record_event(
                            &actor,
                            &number,
                            None,
                            &format!("paso {round}.{t}"),
                            chrono::Utc::now(),
                            None,
                        )
                        .await
                })
            })
            .collect();
        // Every fourth task is given up at some point of its write (a dropped future).
        for (t, task) in tasks.iter().enumerate() {
            if t % 4 == 1 {
                tokio::time::sleep(Duration::from_micros(300 * t as u64 + 71 * round)).await;
                task.abort();
            }
        }
        for (t, task) in tasks.into_iter().enumerate() {
            match task.await {
                Ok(Ok(_)) => written += 1,
                Ok(Err(StoreError::Refused { .. })) => assert_eq!(t % 3, 0, "task {t} refused"),
                Ok(Err(e)) => panic!("task {t}: {e:?}"),
                Err(e) => assert!(e.is_cancelled(), "task {t}: {e:?}"),
            }
        }
    }
    // The group is not left open: a write now commits at once.
    tokio::time::timeout(
        Duration::from_secs(5),
        store.record_event(
            &net.cristina,
            &open,
            None,
            "después",
            chrono::Utc::now(),
            None,
        ),
    )
    .await
    .expect("a write after the storm waited for a group nobody closed")
    .expect("the write after the storm");

    let view = store.get_batch(&net.elena, &open).await.unwrap();
    // Acknowledged writes are all there; aborted ones are there whole or not at all.
    assert!(
        view.events.len() > written,
        "{} events, {written} acknowledged",
        view.events.len()
    );
    assert_eq!(view.batch.version, view.events.len() as i64 + 1);
    let trail = store.batch_audit(&net.elena, &open).await.unwrap();
    assert_eq!(
        trail.len(),
        view.events.len() + 1,
        "every stored event has its audit event, and no audit event is without its event"
    );
    let closed_view = store.get_batch(&net.elena, &closed).await.unwrap();
    assert!(
        closed_view.events.is_empty(),
        "a refused write left an event"
    );
    match store.verify_audit_chain().await.unwrap() {
        VerifyReport::Intact { .. } => {}
        broken => panic!("the chain is broken: {broken:?}"),
    }
}
