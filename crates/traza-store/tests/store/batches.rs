use traza_domain::codes::BatchNumber;
use traza_domain::vocab::{BatchStatus, Origin};
use traza_store::{LabUpdate, NewBatch, StoreError};

use crate::support::*;

#[both_backends]
async fn decimals_round_trip_exactly(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let fields = traza_domain::batch::BatchFields {
        cell_count: Some(dec("12345678901234.567891")),
        viability_percent: Some(dec("92.5")),
        volume_ml: Some(dec("0.100000")),
        ..allo_fields("DON-MAL-0001", day("2026-03-10"), 1)
    };
    let created = create(store, &net.cristina, ALLO, MAL, fields).await;
    let number = created.batch.batch_number.to_string();

    let read = store.get_batch(&net.cristina, &number).await.unwrap().batch;
    assert_eq!(
        read.cell_count.map(|d| d.to_string()).as_deref(),
        Some("12345678901234.567891")
    );
    assert_eq!(
        read.viability_percent.map(|d| d.to_string()).as_deref(),
        Some("92.5")
    );
    assert_eq!(
        read.volume_ml.map(|d| d.to_string()).as_deref(),
        Some("0.1"),
        "trailing zeros are normalised away"
    );

    // A correction keeps exactness too, and the list reads the same values.
    let corrected = store
        .correct_batch(
            &net.cristina,
            &number,
            read.version,
            "volume re-measured on the calibrated balance",
            |f| {
                f.volume_ml = Some(dec("1.250"));
                f.cell_count = Some(dec("0.000000000000000001"));
            },
        )
        .await
        .unwrap();
    assert_eq!(corrected.version, read.version + 1);
    let page = store
        .list_batches(
            &net.elena,
            &traza_store::BatchFilter {
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let listed = page
        .items
        .iter()
        .find(|b| b.batch_number.as_str() == number)
        .expect("listed");
    assert_eq!(
        listed.volume_ml.map(|d| d.to_string()).as_deref(),
        Some("1.25")
    );
    assert_eq!(
        listed.cell_count.map(|d| d.to_string()).as_deref(),
        Some("0.000000000000000001")
    );
    assert_eq!(
        listed.viability_percent.map(|d| d.to_string()).as_deref(),
        Some("92.5")
    );
}

#[both_backends]
async fn batch_creation_rules(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let march = day("2026-03-10");

    // Generated numbers: {LAB}-{YYYY}-{NNNNN}, incrementing.
    let first = create(
        store,
        &net.cristina,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0001", march, 2),
    )
    .await;
    let second = create(
        store,
        &net.sergio,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0002", march, 2),
    )
    .await;
    assert_eq!(first.batch.batch_number.as_str(), "MAL-HRU-2026-00001");
    assert_eq!(second.batch.batch_number.as_str(), "MAL-HRU-2026-00002");
    assert_eq!(first.batch.status, BatchStatus::InProduction);
    assert_eq!(first.batch.origin, Origin::Allogeneic);
    assert_eq!(first.batch.version, 1);
    assert_eq!(first.created_by, "cristina.vega");
    // Another year starts its own sequence.
    let other_year = create(
        store,
        &net.cristina,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0003", day("2025-12-01"), 1),
    )
    .await;
    assert_eq!(other_year.batch.batch_number.as_str(), "MAL-HRU-2025-00001");

    // A given number that exists already is a duplicate.
    let dup = store
        .create_batch(
            &net.cristina,
            NewBatch {
                batch_number: Some(BatchNumber::parse("MAL-HRU-2026-00001").unwrap()),
                product_code: product(ALLO),
                lab_code: lab(MAL),
                fields: allo_fields("DON-MAL-0004", march, 1),
            },
        )
        .await;
    assert!(matches!(dup, Err(StoreError::Duplicate(_))), "{dup:?}");
    // A fresh given number is kept as given.
    let given = store
        .create_batch(
            &net.cristina,
            NewBatch {
                batch_number: Some(BatchNumber::parse("MSC-ALO-0426").unwrap()),
                product_code: product(ALLO),
                lab_code: lab(MAL),
                fields: allo_fields("DON-MAL-0004", march, 1),
            },
        )
        .await
        .unwrap();
    assert_eq!(given.batch.batch_number.as_str(), "MSC-ALO-0426");

    // No assignment: before MSC-AD-ALO was assigned to MAL-HRU (2020-11-02) ...
    let too_early = store
        .create_batch(
            &net.cristina,
            NewBatch {
                batch_number: None,
                product_code: product(ALLO),
                lab_code: lab(MAL),
                fields: allo_fields("DON-MAL-0005", day("2020-10-30"), 1),
            },
        )
        .await;
    assert_eq!(refusal(too_early).0, "no_assignment");
    // ... or by a route the product offers but the lab was not assigned.
    let compassionate = traza_domain::batch::BatchFields {
        access_route: traza_domain::vocab::AccessRoute::CompassionateUse,
        trial_id: None,
        ..allo_fields("DON-MAL-0005", march, 1)
    };
    let by_route = store
        .create_batch(
            &net.cristina,
            NewBatch {
                batch_number: None,
                product_code: product(ALLO),
                lab_code: lab(MAL),
                fields: compassionate,
            },
        )
        .await;
    assert_eq!(refusal(by_route).0, "no_assignment");

    // Capacity: the coordinator lowers MAL-HRU to one batch a month.
    let forbidden = store
        .update_lab(
            &net.cristina,
            MAL,
            LabUpdate {
                capacity_per_month: Some(Some(1)),
                ..Default::default()
            },
        )
        .await;
    assert!(
        matches!(forbidden, Err(StoreError::Forbidden)),
        "{forbidden:?}"
    );
    let updated = store
        .update_lab(
            &net.lucia,
            MAL,
            LabUpdate {
                capacity_per_month: Some(Some(1)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.capacity_per_month, Some(1));
    let april = create(
        store,
        &net.cristina,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0006", day("2026-04-01"), 1),
    )
    .await;
    assert_eq!(april.batch.batch_number.as_str(), "MAL-HRU-2026-00003");
    let over = store
        .create_batch(
            &net.sergio,
            NewBatch {
                batch_number: None,
                product_code: product(ALLO),
                lab_code: lab(MAL),
                fields: allo_fields("DON-MAL-0007", day("2026-04-30"), 1),
            },
        )
        .await;
    assert_eq!(refusal(over).0, "capacity_exceeded");
    // The next month has room again.
    create(
        store,
        &net.sergio,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0007", day("2026-05-01"), 1),
    )
    .await;
    store
        .update_lab(
            &net.lucia,
            MAL,
            LabUpdate {
                capacity_per_month: Some(None),
                ..Default::default()
            },
        )
        .await
        .unwrap();

    // Chain of identity of an autologous product.
    let no_patient = traza_domain::batch::BatchFields {
        patient_code: None,
        ..auto_fields("PT-MAL-0100", march)
    };
    let r = store
        .create_batch(
            &net.cristina,
            NewBatch {
                batch_number: None,
                product_code: product(AUTO),
                lab_code: lab(MAL),
                fields: no_patient,
            },
        )
        .await;
    assert_eq!(refusal(r).0, "chain_of_identity_mismatch");
    let other_patient = traza_domain::batch::BatchFields {
        patient_code: Some(patient("PT-MAL-0101")),
        ..auto_fields("PT-MAL-0100", march)
    };
    let r = store
        .create_batch(
            &net.cristina,
            NewBatch {
                batch_number: None,
                product_code: product(AUTO),
                lab_code: lab(MAL),
                fields: other_patient,
            },
        )
        .await;
    assert_eq!(refusal(r).0, "chain_of_identity_mismatch");
    let own = create(
        store,
        &net.cristina,
        AUTO,
        MAL,
        auto_fields("PT-MAL-0100", march),
    )
    .await;
    assert_eq!(own.batch.origin, Origin::Autologous);
    assert_eq!(own.batch.patient_code, Some(patient("PT-MAL-0100")));

    // Lab staff of MAL-HRU cannot start a batch at SEV-UPRC.
    let elsewhere = store
        .create_batch(
            &net.cristina,
            NewBatch {
                batch_number: None,
                product_code: product(CART),
                lab_code: lab(SEV),
                fields: trial_fields("2019-001472-33", "PT-SEV-0001", Some("PT-SEV-0001"), march),
            },
        )
        .await;
    assert!(
        matches!(elsewhere, Err(StoreError::Forbidden)),
        "{elsewhere:?}"
    );

    // Refusals wrote nothing: every successful create is in the list, no more.
    let all = store
        .list_batches(
            &net.elena,
            &traza_store::BatchFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(all.items.len(), 7);
    assert!(all.next_cursor.is_none());
    // Newest first, and paging by cursor visits each batch once.
    assert_eq!(all.items[0].batch_number.as_str(), "MAL-HRU-2026-00005");
    let mut paged = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list_batches(
                &net.cristina,
                &traza_store::BatchFilter {
                    limit: 3,
                    cursor: cursor.clone(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        paged.extend(page.items.iter().map(|b| b.batch_number.to_string()));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let listed: Vec<String> = all
        .items
        .iter()
        .map(|b| b.batch_number.to_string())
        .collect();
    assert_eq!(paged, listed);
}

#[both_backends]
async fn optimistic_concurrency_and_corrections(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let created = create(
        store,
        &net.cristina,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0010", days_ago(20), 1),
    )
    .await;
    let number = created.batch.batch_number.to_string();
    assert_eq!(created.batch.version, 1);

    store
        .record_event(
            &net.cristina,
            &number,
            Some(1),
            "thaw",
            chrono::Utc::now(),
            Some("2 vials"),
        )
        .await
        .unwrap();
    let stale = store
        .record_event(
            &net.sergio,
            &number,
            Some(1),
            "seed",
            chrono::Utc::now(),
            None,
        )
        .await;
    assert!(
        matches!(stale, Err(StoreError::VersionMismatch { current: 2 })),
        "{stale:?}"
    );
    let view = store.get_batch(&net.cristina, &number).await.unwrap();
    assert_eq!(view.batch.version, 2);
    assert_eq!(view.events.len(), 1, "the stale event was not recorded");

    // A correction with the version read, then a second one with that same (now old) version.
    let fixed = store
        .correct_batch(
            &net.cristina,
            &number,
            2,
            "donor code misread from the label",
            |f| f.doses = 3,
        )
        .await
        .unwrap();
    assert_eq!((fixed.version, fixed.doses), (3, 3));
    let late = store
        .correct_batch(&net.sergio, &number, 2, "doses per protocol", |f| {
            f.doses = 5
        })
        .await;
    assert!(
        matches!(late, Err(StoreError::VersionMismatch { current: 3 })),
        "{late:?}"
    );
    let now = store.get_batch(&net.cristina, &number).await.unwrap().batch;
    assert_eq!(
        (now.version, now.doses),
        (3, 3),
        "the stale correction changed nothing"
    );

    // A correction needs a reason.
    let blank = store
        .correct_batch(&net.cristina, &number, 3, "   ", |f| f.doses = 4)
        .await;
    assert_eq!(invalid_fields(blank), ["reason"]);
    // and leaves a valid record.
    let bad = store
        .correct_batch(&net.cristina, &number, 3, "typo", |f| {
            f.viability_percent = Some(dec("100.5"))
        })
        .await;
    assert_eq!(invalid_fields(bad), ["viability_percent"]);
    assert_eq!(
        store
            .get_batch(&net.cristina, &number)
            .await
            .unwrap()
            .batch
            .version,
        3
    );

    // A released batch record is locked.
    let released = released_batch(
        store,
        &net.cristina,
        &net.nuria,
        NURIA_PW,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0011", days_ago(20), 2),
    )
    .await;
    let rn = released.batch.batch_number.to_string();
    assert_eq!(released.batch.status, BatchStatus::Released);
    let locked = store
        .correct_batch(
            &net.cristina,
            &rn,
            released.batch.version,
            "late note",
            |f| f.notes = Some("late".into()),
        )
        .await;
    assert_eq!(refusal(locked).0, "record_locked");
    let after = store.get_batch(&net.cristina, &rn).await.unwrap().batch;
    assert_eq!((after.version, after.notes), (released.batch.version, None));
}
