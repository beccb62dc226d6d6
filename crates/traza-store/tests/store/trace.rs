use traza_store::TraceBatch;

use crate::support::*;

fn administered_to(t: &TraceBatch) -> Vec<&str> {
    t.administrations
        .iter()
        .map(|a| a.patient_code.as_str())
        .collect()
}

#[both_backends]
async fn traceability_donor_to_patients_and_back(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let hospital = "Hospital Regional Universitario de Málaga";
    let d = "DON-MAL-0070";
    let first = released_batch(
        store,
        &net.cristina,
        &net.nuria,
        NURIA_PW,
        ALLO,
        MAL,
        allo_fields(d, days_ago(30), 3),
    )
    .await
    .batch
    .batch_number
    .to_string();
    let second = released_batch(
        store,
        &net.sergio,
        &net.jose,
        JOSE_PW,
        ALLO,
        MAL,
        allo_fields(d, days_ago(20), 2),
    )
    .await
    .batch
    .batch_number
    .to_string();
    // Another donor's batch, which must not show up.
    let unrelated = released_batch(
        store,
        &net.cristina,
        &net.nuria,
        NURIA_PW,
        ALLO,
        MAL,
        allo_fields("DON-MAL-0071", days_ago(20), 1),
    )
    .await
    .batch
    .batch_number
    .to_string();
    for (number, p) in [
        (&first, "PT-MAL-0701"),
        (&first, "PT-MAL-0702"),
        (&second, "PT-MAL-0703"),
        (&second, "PT-MAL-0701"),
        (&unrelated, "PT-MAL-0799"),
    ] {
        store
            .administer(&net.nuria, number, None, &patient(p), today(), hospital)
            .await
            .unwrap();
    }

    let trace = store.trace_donor(&net.elena, &donor(d)).await.unwrap();
    let numbers: Vec<&str> = trace.iter().map(|t| t.batch_number.as_str()).collect();
    assert_eq!(numbers, [first.as_str(), second.as_str()]);
    assert_eq!(administered_to(&trace[0]), ["PT-MAL-0701", "PT-MAL-0702"]);
    assert_eq!(administered_to(&trace[1]), ["PT-MAL-0703", "PT-MAL-0701"]);
    assert_eq!(
        (trace[0].status.as_str(), trace[1].status.as_str()),
        ("released", "administered")
    );
    assert!(trace.iter().all(|t| t.donor_code == d
        && t.lab_code == MAL
        && t.product_code == ALLO
        && t.patient_code.is_none()));
    assert!(
        trace[0]
            .administrations
            .iter()
            .all(|a| a.administered_on == today() && a.hospital == hospital)
    );
    // Lab staff of the lab see the same.
    assert_eq!(
        store
            .trace_donor(&net.cristina, &donor(d))
            .await
            .unwrap()
            .len(),
        2
    );

    let p1 = store
        .trace_patient(&net.elena, &patient("PT-MAL-0701"))
        .await
        .unwrap();
    let numbers: Vec<&str> = p1.iter().map(|t| t.batch_number.as_str()).collect();
    assert_eq!(numbers, [first.as_str(), second.as_str()]);
    assert!(p1.iter().all(|t| t.donor_code == d));
    let p3 = store
        .trace_patient(&net.nuria, &patient("PT-MAL-0703"))
        .await
        .unwrap();
    assert_eq!(p3.len(), 1);
    assert_eq!(
        (p3[0].batch_number.as_str(), p3[0].donor_code.as_str()),
        (second.as_str(), d)
    );

    // An autologous batch is traced to its patient before any administration.
    let auto = create(
        store,
        &net.cristina,
        AUTO,
        MAL,
        auto_fields("PT-MAL-0710", days_ago(5)),
    )
    .await
    .batch
    .batch_number
    .to_string();
    let own = store
        .trace_patient(&net.elena, &patient("PT-MAL-0710"))
        .await
        .unwrap();
    assert_eq!(own.len(), 1);
    assert_eq!(
        (
            own[0].batch_number.as_str(),
            own[0].patient_code.as_deref(),
            own[0].administrations.len()
        ),
        (auto.as_str(), Some("PT-MAL-0710"), 0)
    );

    // Lab staff of another laboratory see nothing.
    assert!(
        store
            .trace_donor(&net.rocio, &donor(d))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .trace_patient(&net.rocio, &patient("PT-MAL-0701"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .trace_patient(&net.teresa, &patient("PT-MAL-0710"))
            .await
            .unwrap()
            .is_empty()
    );
    // Unknown codes trace to nothing.
    assert!(
        store
            .trace_donor(&net.elena, &donor("DON-MAL-9999"))
            .await
            .unwrap()
            .is_empty()
    );
}
