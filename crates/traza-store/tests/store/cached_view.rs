//! The batch view cache never hides the database: a batch row or one of its records changed
//! by SQL behind Traza's back (no version bump) is what the next read shows, on both
//! databases, and what `audit verify` names. Before the stamp (migration `m20261205_000001`),
//! a view cached by version alone kept showing the pre-edit batch until its next write.

use traza_store::VerifyReport;

use crate::support::*;

/// The batch as the API would send it (the cached JSON) and as the pages get it.
async fn both_reads(ctx: &Ctx, net: &Net, number: &str) -> (serde_json::Value, BatchViewSummary) {
    let (_, json) = ctx
        .store
        .get_batch_json(&net.cristina, number)
        .await
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let view = ctx.store.get_batch(&net.cristina, number).await.unwrap();
    let summary = BatchViewSummary {
        doses: view.batch.doses,
        qc_values: view.qc_results.iter().map(|q| q.value.clone()).collect(),
        events: view.events.len(),
    };
    (json, summary)
}

/// The fixture network and an allogeneic batch in production at MAL-HRU, made by Cristina.
async fn open_batch(ctx: &Ctx, donor: &str, started_days_ago: u64) -> (Net, String) {
    let net = network(&ctx.store).await;
    let number = create(
        &net.store,
        &net.cristina,
        ALLO,
        MAL,
        allo_fields(donor, days_ago(started_days_ago), 2),
    )
    .await
    .batch
    .batch_number
    .to_string();
    (net, number)
}

#[derive(Debug, PartialEq)]
struct BatchViewSummary {
    doses: u32,
    qc_values: Vec<String>,
    events: usize,
}

#[both_backends]
async fn a_direct_sql_edit_is_read_at_once_not_served_from_the_cache(ctx: Ctx) {
    let (net, number) = open_batch(&ctx, "DON-MAL-0311", 4).await;
    let store = &net.store;
    store
        .record_event(
            &net.cristina,
            &number,
            None,
            "siembra",
            chrono::Utc::now(),
            None,
        )
        .await
        .unwrap();
    let spec = store
        .get_product(&net.cristina, ALLO)
        .await
        .unwrap()
        .specification;
    let viability = spec
        .required_tests()
        .find(|t| t.test == "viability")
        .unwrap();
    let passing = passing_value(viability);
    store
        .record_qc_result(
            &net.cristina,
            &number,
            None,
            qc(&viability.test, &passing, &viability.unit),
        )
        .await
        .unwrap();
    let (json, before) = both_reads(&ctx, &net, &number).await;
    assert_eq!(json["doses"], 2);
    assert_eq!(before.qc_values, std::slice::from_ref(&passing));
    let version = json["version"].clone();
    assert_eq!(before.events, 1);
    // Read again: served from the cache now.
    assert_eq!(both_reads(&ctx, &net, &number).await.1, before);

    // The batch row, edited without its version.
    ctx.execute_raw(&format!(
        "UPDATE batches SET doses = 7 WHERE batch_number = '{number}'"
    ))
    .await;
    let (json, after) = both_reads(&ctx, &net, &number).await;
    assert_eq!(
        json["doses"], 7,
        "the API served the view cached before the edit"
    );
    assert_eq!(
        after.doses, 7,
        "the page got the view cached before the edit"
    );
    assert_eq!(
        json["version"], version,
        "the version is Traza's, untouched by the edit"
    );

    // A QC result rewritten.
    ctx.execute_raw(&format!(
        "UPDATE qc_results SET value = '1' WHERE batch_id = \
         (SELECT id FROM batches WHERE batch_number = '{number}')"
    ))
    .await;
    let (json, after) = both_reads(&ctx, &net, &number).await;
    assert_eq!(json["qc_results"][0]["value"], "1");
    assert_eq!(after.qc_values, ["1"]);

    // A step removed.
    ctx.execute_raw(&format!(
        "DELETE FROM batch_events WHERE batch_id = \
         (SELECT id FROM batches WHERE batch_number = '{number}')"
    ))
    .await;
    let (json, after) = both_reads(&ctx, &net, &number).await;
    assert_eq!(json["events"].as_array().map(Vec::len), Some(0));
    assert_eq!(after.events, 0);

    // And verify names the edits.
    let report = store.verify_audit_chain().await.unwrap();
    assert!(
        matches!(report, VerifyReport::RowMismatch(_)),
        "the edits went unseen by verify: {report:?}"
    );
}

#[both_backends]
async fn traza_writes_still_key_the_cache_by_version(ctx: Ctx) {
    let (net, number) = open_batch(&ctx, "DON-MAL-0312", 3).await;
    let store = &net.store;
    let v1 = store.get_batch(&net.cristina, &number).await.unwrap();
    store
        .record_event(
            &net.cristina,
            &number,
            Some(v1.batch.version),
            "siembra",
            chrono::Utc::now(),
            None,
        )
        .await
        .unwrap();
    let (version, json) = store.get_batch_json(&net.cristina, &number).await.unwrap();
    assert_eq!(version, v1.batch.version + 1, "one write, one version");
    let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(json["events"].as_array().map(Vec::len), Some(1));
    // The record's trigger moved the stamp, not the version: an If-Match with the version
    // just read still writes.
    store
        .record_event(
            &net.cristina,
            &number,
            Some(version),
            "expansión",
            chrono::Utc::now(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .get_batch(&net.cristina, &number)
            .await
            .unwrap()
            .events
            .len(),
        2
    );
}
