use std::collections::BTreeSet;

use traza_domain::vocab::{
    BatchStatus, DeviationSeverity, DeviationStatus, QcOutcome, SignatureMeaning,
};
use traza_store::{QcInput, StoreError};

use crate::support::*;

fn rules(v: &[String]) -> BTreeSet<&str> {
    v.iter().map(String::as_str).collect()
}

#[both_backends]
async fn full_lifecycle_with_four_eyes_and_deviation(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let created = create(
        store,
        &net.cristina,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0030", days_ago(21), 4),
    )
    .await;
    let number = created.batch.batch_number.to_string();
    store
        .record_event(
            &net.cristina,
            &number,
            None,
            "seeding P0",
            chrono::Utc::now(),
            Some("T175 x4"),
        )
        .await
        .unwrap();

    // QA records every required test of the specification.
    let spec = store
        .get_product(&net.nuria, ALLO)
        .await
        .unwrap()
        .specification;
    let required: Vec<String> = spec.required_tests().map(|t| t.test.clone()).collect();
    assert_eq!(
        required,
        [
            "viability",
            "cd73",
            "cd90",
            "cd105",
            "cd45",
            "sterility",
            "mycoplasma"
        ]
    );
    assert_eq!(record_passing_qc(store, &net.nuria, &number, ALLO).await, 7);

    // Completing before the start is invalid; then completion moves it to quarantine.
    let early = store
        .complete_batch(&net.cristina, &number, None, days_ago(30))
        .await;
    assert_eq!(invalid_fields(early), ["manufacturing_end"]);
    let deviation = store
        .open_deviation(
            &net.cristina,
            &number,
            None,
            "Incubator 3 at 38.1 °C for 40 min",
            DeviationSeverity::Minor,
        )
        .await
        .unwrap();
    assert_eq!(deviation.status, DeviationStatus::Open);
    let completed = store
        .complete_batch(&net.cristina, &number, None, days_ago(3))
        .await
        .unwrap();
    assert_eq!(completed.status, BatchStatus::Quarantine);
    assert_eq!(completed.manufacturing_end, Some(days_ago(3)));
    assert_eq!(
        completed.expiry_date,
        Some(days_ago(3) + chrono::Days::new(365)),
        "default expiry: end + shelf life"
    );

    // The QA who recorded the results may not certify, and the open deviation blocks too:
    // both rules are reported at once.
    let blocked = store
        .release_batch(
            &net.nuria,
            &number,
            None,
            NURIA_PW,
            SignatureMeaning::QpCertified,
        )
        .await;
    let (code, details) = refusal(blocked);
    assert_eq!(code, "release_blocked");
    assert_eq!(
        rules(&details),
        ["four_eyes", "open_deviation"].into_iter().collect()
    );

    // Another QA with a wrong password: the signature is refused.
    let wrong = store
        .release_batch(
            &net.jose,
            &number,
            None,
            "demo-calidad-malaga",
            SignatureMeaning::QpCertified,
        )
        .await;
    assert!(
        matches!(wrong, Err(StoreError::InvalidSignature)),
        "{wrong:?}"
    );
    // A release signed with another meaning is not a release.
    let meaning = store
        .release_batch(
            &net.jose,
            &number,
            None,
            JOSE_PW,
            SignatureMeaning::Rejected,
        )
        .await;
    assert_eq!(invalid_fields(meaning), ["meaning"]);
    // Lab staff may not close deviations.
    let staff_close = store
        .close_deviation(&net.sergio, &number, None, deviation.id, "ok")
        .await;
    assert!(
        matches!(staff_close, Err(StoreError::Forbidden)),
        "{staff_close:?}"
    );
    let view = store.get_batch(&net.jose, &number).await.unwrap();
    assert_eq!(view.batch.status, BatchStatus::Quarantine);
    assert!(view.signatures.is_empty());

    let closed = store
        .close_deviation(
            &net.nuria,
            &number,
            None,
            deviation.id,
            "Temperature excursion within validated range; no impact on viability",
        )
        .await
        .unwrap();
    assert_eq!(
        (closed.status, closed.closed_by.as_deref()),
        (DeviationStatus::Closed, Some("nuria.blanco"))
    );
    let again = store
        .close_deviation(&net.nuria, &number, None, deviation.id, "twice")
        .await;
    assert_eq!(refusal(again).0, "invalid_transition");

    let released = store
        .release_batch(
            &net.jose,
            &number,
            None,
            JOSE_PW,
            SignatureMeaning::QpCertified,
        )
        .await
        .unwrap();
    assert_eq!(released.batch.status, BatchStatus::Released);
    assert_eq!(
        released.batch.released_by.as_deref(),
        Some("José Alarcón Ibáñez")
    );
    assert_eq!(released.batch.release_date, Some(today()));
    assert_eq!(released.signatures.len(), 1);
    let sig = &released.signatures[0];
    assert_eq!(sig.meaning, SignatureMeaning::QpCertified);
    assert_eq!(
        (sig.signer.as_str(), sig.signer_full_name.as_str()),
        ("jose.alarcon", "José Alarcón Ibáñez")
    );
    assert_eq!(sig.record_hash.len(), 64);
    assert!(
        sig.record_hash
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
        "{}",
        sig.record_hash
    );

    // The stored record agrees, and a released batch takes no more records.
    let stored = store.get_batch(&net.elena, &number).await.unwrap();
    assert_eq!(stored.batch.status, BatchStatus::Released);
    assert_eq!(stored.signatures[0].record_hash, sig.record_hash);
    let late = store
        .record_event(
            &net.cristina,
            &number,
            None,
            "late step",
            chrono::Utc::now(),
            None,
        )
        .await;
    assert_eq!(refusal(late).0, "invalid_transition");
    let twice = store
        .release_batch(
            &net.jose,
            &number,
            None,
            JOSE_PW,
            SignatureMeaning::QpCertified,
        )
        .await;
    let (code, details) = refusal(twice);
    assert_eq!(
        (code, rules(&details)),
        (
            "release_blocked",
            ["not_in_quarantine"].into_iter().collect()
        )
    );
    let actions: Vec<String> = store
        .batch_audit(&net.elena, &number)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions.first().map(String::as_str), Some("batch.create"));
    assert_eq!(actions.last().map(String::as_str), Some("batch.release"));
    assert_eq!(
        actions.iter().filter(|a| *a == "batch.qc_result").count(),
        7
    );
}

#[both_backends]
async fn retest_supersedes_a_failing_result(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let number = create(
        store,
        &net.cristina,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0031", days_ago(21), 1),
    )
    .await
    .batch
    .batch_number
    .to_string();
    let spec = store
        .get_product(&net.cristina, ALLO)
        .await
        .unwrap()
        .specification;
    let mut failed_id = None;
    for t in spec.required_tests() {
        let value = if t.test == "viability" {
            failing_value(t)
        } else {
            passing_value(t)
        };
        let r = store
            .record_qc_result(&net.cristina, &number, None, qc(&t.test, &value, &t.unit))
            .await
            .unwrap();
        if t.test == "viability" {
            assert_eq!((r.value.as_str(), r.outcome), ("79", QcOutcome::Fail));
            failed_id = Some(r.id);
        }
    }
    let failed_id = failed_id.unwrap();
    store
        .complete_batch(&net.cristina, &number, None, days_ago(4))
        .await
        .unwrap();
    let blocked = store
        .release_batch(
            &net.jose,
            &number,
            None,
            JOSE_PW,
            SignatureMeaning::QpCertified,
        )
        .await;
    let (code, details) = refusal(blocked);
    assert_eq!(
        (code, rules(&details)),
        ("release_blocked", ["failing_result"].into_iter().collect())
    );

    // The OOS result is investigated in a deviation, which its retest names.
    let investigation = store
        .open_deviation(
            &net.cristina,
            &number,
            None,
            "viability 79 % below specification: OOS investigation",
            DeviationSeverity::Major,
        )
        .await
        .unwrap();
    let without_investigation = QcInput {
        test: "viability".into(),
        value: "88.4".into(),
        unit: "%".into(),
        supersedes: Some(failed_id),
        reason: Some("retest on retained sample".into()),
        deviation_id: None,
    };
    assert_eq!(
        invalid_fields(
            store
                .record_qc_result(&net.cristina, &number, None, without_investigation)
                .await
        ),
        ["deviation_id"]
    );
    // A retest without a reason (or a blank one) is refused.
    let retest = |reason: Option<&str>| QcInput {
        test: "viability".into(),
        value: "88.4".into(),
        unit: "%".into(),
        supersedes: Some(failed_id),
        reason: reason.map(str::to_owned),
        deviation_id: Some(investigation.id),
    };
    assert_eq!(
        invalid_fields(
            store
                .record_qc_result(&net.cristina, &number, None, retest(None))
                .await
        ),
        ["reason"]
    );
    assert_eq!(
        invalid_fields(
            store
                .record_qc_result(&net.cristina, &number, None, retest(Some("  ")))
                .await
        ),
        ["reason"]
    );
    // ... as is one of another test.
    let other = QcInput {
        test: "cd45".into(),
        unit: "%".into(),
        value: "1".into(),
        ..retest(Some("wrong test"))
    };
    assert_eq!(
        invalid_fields(
            store
                .record_qc_result(&net.cristina, &number, None, other)
                .await
        ),
        ["supersedes"]
    );

    let passed = store
        .record_qc_result(
            &net.cristina,
            &number,
            None,
            retest(Some(
                "OOS investigation: sampling error, retest on retained sample",
            )),
        )
        .await
        .unwrap();
    assert_eq!(
        (passed.outcome, passed.supersedes, passed.value.as_str()),
        (QcOutcome::Pass, Some(failed_id), "88.4")
    );
    // The original result is kept, never overwritten.
    let results = store
        .get_batch(&net.cristina, &number)
        .await
        .unwrap()
        .qc_results;
    let original = results.iter().find(|r| r.id == failed_id).unwrap();
    assert_eq!(
        (original.value.as_str(), original.outcome),
        ("79", QcOutcome::Fail)
    );
    assert_eq!(results.len(), 8);
    // A superseded result cannot be superseded twice.
    let twice = store
        .record_qc_result(&net.cristina, &number, None, retest(Some("again")))
        .await;
    assert_eq!(invalid_fields(twice), ["supersedes"]);

    // Release stays blocked while the investigation is open.
    let (code, details) = refusal(
        store
            .release_batch(
                &net.jose,
                &number,
                None,
                JOSE_PW,
                SignatureMeaning::QpCertified,
            )
            .await,
    );
    assert_eq!(
        (code, rules(&details)),
        ("release_blocked", ["open_deviation"].into_iter().collect())
    );
    store
        .close_deviation(
            &net.nuria,
            &number,
            None,
            investigation.id,
            "sampling error confirmed; retest on the retained sample is valid",
        )
        .await
        .unwrap();
    let released = store
        .release_batch(
            &net.jose,
            &number,
            None,
            JOSE_PW,
            SignatureMeaning::QpCertified,
        )
        .await
        .unwrap();
    assert_eq!(released.batch.status, BatchStatus::Released);
}

#[both_backends]
async fn administrations_respect_doses_and_chain_of_identity(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let hospital = "Hospital Regional Universitario de Málaga";
    let allo = released_batch(
        store,
        &net.cristina,
        &net.nuria,
        NURIA_PW,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0040", days_ago(20), 3),
    )
    .await;
    let number = allo.batch.batch_number.to_string();

    // Lab staff may not administer.
    let staff = store
        .administer(
            &net.cristina,
            &number,
            None,
            &patient("PT-MAL-0201"),
            today(),
            hospital,
        )
        .await;
    assert!(matches!(staff, Err(StoreError::Forbidden)), "{staff:?}");
    // Not in the future.
    let future = store
        .administer(
            &net.nuria,
            &number,
            None,
            &patient("PT-MAL-0201"),
            today() + chrono::Days::new(1),
            hospital,
        )
        .await;
    assert_eq!(invalid_fields(future), ["administered_on"]);

    for (i, p) in ["PT-MAL-0201", "PT-MAL-0202", "PT-MAL-0203"]
        .into_iter()
        .enumerate()
    {
        let a = store
            .administer(&net.nuria, &number, None, &patient(p), today(), hospital)
            .await
            .unwrap();
        assert_eq!(
            (
                a.patient_code.as_str(),
                a.hospital.as_str(),
                a.recorded_by.as_str()
            ),
            (p, hospital, "nuria.blanco")
        );
        let status = store
            .get_batch(&net.nuria, &number)
            .await
            .unwrap()
            .batch
            .status;
        let expected = if i < 2 {
            BatchStatus::Released
        } else {
            BatchStatus::Administered
        };
        assert_eq!(status, expected, "after administration {}", i + 1);
    }
    let fourth = store
        .administer(
            &net.nuria,
            &number,
            None,
            &patient("PT-MAL-0204"),
            today(),
            hospital,
        )
        .await;
    let (code, _) = refusal(fourth);
    assert!(
        code == "invalid_transition" || code == "doses_exhausted",
        "{code}"
    );
    let view = store.get_batch(&net.nuria, &number).await.unwrap();
    let patients: Vec<&str> = view
        .administrations
        .iter()
        .map(|a| a.patient_code.as_str())
        .collect();
    assert_eq!(patients, ["PT-MAL-0201", "PT-MAL-0202", "PT-MAL-0203"]);

    // An autologous batch goes only to its own patient.
    let auto = released_batch(
        store,
        &net.cristina,
        &net.jose,
        JOSE_PW,
        AUTO,
        MAL,
        auto_fields("PT-MAL-0300", days_ago(15)),
    )
    .await;
    let an = auto.batch.batch_number.to_string();
    let wrong = store
        .administer(
            &net.nuria,
            &an,
            None,
            &patient("PT-MAL-0301"),
            today(),
            hospital,
        )
        .await;
    assert_eq!(refusal(wrong).0, "chain_of_identity_mismatch");
    assert_eq!(
        store
            .get_batch(&net.nuria, &an)
            .await
            .unwrap()
            .administrations
            .len(),
        0
    );
    store
        .administer(
            &net.nuria,
            &an,
            None,
            &patient("PT-MAL-0300"),
            today(),
            hospital,
        )
        .await
        .unwrap();
    assert_eq!(
        store.get_batch(&net.nuria, &an).await.unwrap().batch.status,
        BatchStatus::Administered,
        "one dose: administered"
    );
}
