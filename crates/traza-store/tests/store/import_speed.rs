//! The import's fast path on SQLite lifts the dashboard rollup's insert trigger for its
//! transaction (`import/triggers.rs`): after an import, accepted or refused, the rollup must
//! say what a recount says, and the trigger must be back for the writes that follow — on both
//! backends, so the two paths are held to the same answer.

use chrono::Duration;

use crate::support::*;

/// `n` valid MSC-AD-ALO rows of MAL-HRU over a few years, short numbers, every third a new
/// donor, released and in production in turn.
fn rows(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let start = day("2021-01-04") + Duration::days((i % 900) as i64);
            let donor = format!("DON-H{:05}", i / 3);
            if i % 2 == 0 {
                let end = start + Duration::days(20);
                format!(
                    "H{i:05},MSC-AD-ALO,MAL-HRU,allogeneic,{donor},,{start},{start},{end},,released,\
                     1.0E+08,93.{},15,3,Dra. Nuria Campos,{},clinical_trial,2020-002941-65,",
                    i % 10,
                    end + Duration::days((i % 3) as i64),
                )
            } else {
                format!(
                    "H{i:05},MSC-AD-ALO,MAL-HRU,allogeneic,{donor},,{start},{start},,,in_production,\
                     ,,15,2,,,clinical_trial,2020-002941-65,"
                )
            }
        })
        .collect()
}

/// The dashboard from the rollup equals the recount; the number of batches it counts.
async fn rollup_agrees(net: &Net) -> i64 {
    let fast = net.store.dashboard(&net.lucia, None, None).await.unwrap();
    let slow = net
        .store
        .dashboard_recount(&net.lucia, None, None)
        .await
        .unwrap();
    assert_eq!(fast, slow);
    fast.by_status.iter().map(|c| c.batches).sum()
}

#[both_backends]
async fn after_an_import_the_rollup_agrees_and_its_trigger_counts_the_next_writes(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let before = rollup_agrees(&net).await;

    // Three chunks of rows.
    let report = import_as_coordinator(&net, &rows(4_500)).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.created, 4_500);
    assert_eq!(rollup_agrees(&net).await, before + 4_500);

    // The trigger is back: a batch created afterwards is counted.
    create(
        &net.store,
        &net.cristina,
        ALLO,
        MAL,
        allo_fields("DON-H-NEXT-1", days_ago(3), 2),
    )
    .await;
    assert_eq!(rollup_agrees(&net).await, before + 4_501);

    // A refused file (its last row's status is not one) leaves nothing, the trigger included.
    let mut refused = rows(2_500)
        .into_iter()
        .map(|r| r.replacen('H', "R", 1))
        .collect::<Vec<_>>();
    let last = refused.len() - 1;
    refused[last] = refused[last].replace(",in_production,", ",perhaps,");
    let report = import_as_coordinator(&net, &refused).await;
    assert_eq!(report.errors_total, 1, "{:?}", report.errors);
    assert_eq!(report.import_id, None);
    assert_eq!(rollup_agrees(&net).await, before + 4_501);
    create(
        &net.store,
        &net.cristina,
        ALLO,
        MAL,
        allo_fields("DON-H-NEXT-2", days_ago(2), 2),
    )
    .await;
    assert_eq!(rollup_agrees(&net).await, before + 4_502);
}
