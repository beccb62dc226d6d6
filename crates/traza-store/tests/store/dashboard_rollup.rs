//! The dashboard reads whole months from the rollup the database keeps (triggers) and the
//! days of partial months from the batches: after creates, QC results, completions, releases,
//! rejections, a correction that moves a batch to another month and an import, it must say
//! exactly what a recount from the batches table says, for any range and scope.

use chrono::{Datelike, Duration, NaiveDate};

use crate::support::*;

/// Imports `rows` (CSV lines after the header) as the coordinator.
async fn import_rows(net: &Net, rows: &[String]) {
    let report = import_as_coordinator(net, rows).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
}

/// The fast dashboard and the recount agree for every range and actor below.
async fn agree(net: &Net, ranges: &[(Option<NaiveDate>, Option<NaiveDate>)]) {
    for actor in [&net.lucia, &net.nuria, &net.teresa] {
        for (from, to) in ranges {
            let fast = net.store.dashboard(actor, *from, *to).await.unwrap();
            let slow = net
                .store
                .dashboard_recount(actor, *from, *to)
                .await
                .unwrap();
            assert_eq!(
                fast,
                slow,
                "{} over {from:?}..={to:?}",
                actor.username.as_str()
            );
        }
    }
}

fn ranges() -> Vec<(Option<NaiveDate>, Option<NaiveDate>)> {
    let t = today();
    let first = t.with_day(1).unwrap();
    vec![
        (None, None),
        (Some(t - Duration::days(400)), None),
        (None, Some(t - Duration::days(35))),
        (Some(t - Duration::days(200)), Some(t - Duration::days(20))),
        (Some(first), Some(t)),
        (Some(t - Duration::days(3)), Some(t - Duration::days(1))),
        (Some(day("2024-02-15")), Some(day("2024-04-10"))),
        (Some(day("2024-03-01")), Some(day("2024-03-31"))),
        (Some(t), Some(t - Duration::days(5))),
    ]
}

#[both_backends]
async fn the_rollup_dashboard_equals_a_recount_after_every_kind_of_write(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    agree(&net, &ranges()).await;

    // Created (in production), one with a failing QC result.
    let open = create(
        store,
        &net.cristina,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0701", days_ago(10), 2),
    )
    .await;
    let open_number = open.batch.batch_number.to_string();
    let spec = store
        .get_product(&net.nuria, ALLO)
        .await
        .unwrap()
        .specification;
    let t = spec.required_tests().next().unwrap();
    store
        .record_qc_result(
            &net.nuria,
            &open_number,
            None,
            qc(&t.test, &failing_value(t), &t.unit),
        )
        .await
        .unwrap();
    // Released, with its QC results (a lead time).
    released_batch(
        store,
        &net.cristina,
        &net.nuria,
        NURIA_PW,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0702", days_ago(12), 2),
    )
    .await;
    // Completed, then rejected.
    let rejected = create(
        store,
        &net.cristina,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0703", days_ago(9), 1),
    )
    .await;
    let rejected_number = rejected.batch.batch_number.to_string();
    store
        .complete_batch(&net.cristina, &rejected_number, None, days_ago(2))
        .await
        .unwrap();
    store
        .reject_batch(
            &net.nuria,
            &rejected_number,
            None,
            NURIA_PW,
            "Esterilidad dudosa en la revisión",
        )
        .await
        .unwrap();
    agree(&net, &ranges()).await;

    // A correction moves the batch with a QC result to the month before: both its rollup row
    // and its QC counts move.
    let current = store.get_batch(&net.cristina, &open_number).await.unwrap();
    let earlier = days_ago(40);
    store
        .correct_batch(
            &net.cristina,
            &open_number,
            current.batch.version,
            "Fecha de inicio mal transcrita",
            |f| {
                f.manufacturing_start = earlier;
                f.collection_date = Some(earlier);
            },
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .get_batch(&net.cristina, &open_number)
            .await
            .unwrap()
            .batch
            .manufacturing_start,
        earlier
    );
    agree(&net, &ranges()).await;

    // An import of history over several months, released and administered.
    let rows: Vec<String> = (1..=6)
        .map(|i| {
            let start = day("2024-01-20") + Duration::days(17 * i);
            let end = start + Duration::days(20);
            format!(
                "MAL-HRU-2024-0800{i},MSC-AD-ALO,MAL-HRU,allogeneic,DON-MAL-080{i},,{start},{start},{end},{},released,1.0E+08,93.{i},15,3,Dra. Nuria Campos,{},clinical_trial,2020-002941-65,histórico {i}",
                end + Duration::days(3),
                end + Duration::days(i),
            )
        })
        .collect();
    import_rows(&net, &rows).await;
    agree(&net, &ranges()).await;

    // The figures are not empty: the comparison compared something.
    let d = store.dashboard(&net.lucia, None, None).await.unwrap();
    let total: i64 = d.by_status.iter().map(|c| c.batches).sum();
    assert_eq!(total, 3 + 6);
    let mal = d.labs.iter().find(|l| l.lab_code == MAL).unwrap();
    assert!(mal.qc_failed >= 1 && mal.qc_results > mal.qc_failed);
    assert_eq!(mal.lead_time.released, 1 + 6);
}

/// The release queue reads every batch's blockers at once: the same rules, the same answer
/// as asking batch by batch, for each kind of blocker, and nothing out of the reader's scope.
#[both_backends]
async fn the_queue_blockers_read_at_once_equal_those_read_one_by_one(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let make = |donor: &'static str, days: u64| {
        create(
            store,
            &net.cristina,
            ALLO,
            MAL,
            allo_fields(donor, days_ago(days), 2),
        )
    };
    // In production; complete without QC; complete with QC (made by Cristina); with an open
    // deviation; on hold; and one of another laboratory.
    let producing = make("DON-MAL-0901", 9).await.batch.batch_number.to_string();
    let bare = make("DON-MAL-0902", 9).await.batch.batch_number.to_string();
    store
        .complete_batch(&net.cristina, &bare, None, days_ago(2))
        .await
        .unwrap();
    let tested = make("DON-MAL-0903", 9).await.batch.batch_number.to_string();
    record_passing_qc(store, &net.cristina, &tested, ALLO).await;
    store
        .complete_batch(&net.cristina, &tested, None, days_ago(2))
        .await
        .unwrap();
    let deviated = make("DON-MAL-0904", 9).await.batch.batch_number.to_string();
    record_passing_qc(store, &net.nuria, &deviated, ALLO).await;
    store
        .open_deviation(
            &net.cristina,
            &deviated,
            None,
            "Incubadora a 38,1 °C durante 40 min",
            traza_domain::vocab::DeviationSeverity::Minor,
        )
        .await
        .unwrap();
    store
        .complete_batch(&net.cristina, &deviated, None, days_ago(2))
        .await
        .unwrap();
    let held = make("DON-MAL-0905", 9).await.batch.batch_number.to_string();
    record_passing_qc(store, &net.cristina, &held, ALLO).await;
    store
        .complete_batch(&net.cristina, &held, None, days_ago(2))
        .await
        .unwrap();
    store
        .place_hold(
            &net.nuria,
            &held,
            None,
            "Sospecha de reacción adversa en otro lote del donante",
        )
        .await
        .unwrap();
    let elsewhere = create(
        store,
        &net.rocio,
        CART,
        SEV,
        trial_fields(
            "2019-001472-33",
            "SEV-P-0901",
            Some("SEV-P-0901"),
            days_ago(9),
        ),
    )
    .await
    .batch
    .batch_number
    .to_string();

    let numbers = vec![producing, bare, tested, deviated, held, elsewhere.clone()];
    for (actor, sees_sev) in [
        (&net.nuria, false),
        (&net.cristina, false),
        (&net.lucia, true),
    ] {
        let all = store.release_blockers_of(actor, &numbers).await.unwrap();
        for n in &numbers {
            match store.release_blockers(actor, n).await {
                Ok(one) => {
                    assert_eq!(
                        all.get(n),
                        Some(&one),
                        "{n} for {}",
                        actor.username.as_str()
                    );
                }
                Err(_) => assert!(!all.contains_key(n), "{n} is out of scope"),
            }
        }
        assert_eq!(all.contains_key(&elsewhere), sees_sev);
    }
}
