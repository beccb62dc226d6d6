//! `traza demo` end to end: the demo database has the electronic batch record a visitor is
//! shown (SPEC §8 and issue 15), its audit trail verifies, and a second run makes nothing.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use traza_domain::codes::LabCode;
use traza_domain::materials::LotStatus;
use traza_domain::vocab::{BatchStatus, MbrStatus, Role, Source};
use traza_store::{BatchFilter, LotQuery, Store};
use traza_testkit::{audit_key_path, both_backends, fixture};

use super::{Db, on, text, traza};

/// Runs `traza demo` until it serves, then stops it; answers how many new batches it said it
/// made.
fn demo(url: &str, batches: &str) -> usize {
    let mut child = Command::new(env!("CARGO_BIN_EXE_traza"))
        .args(["demo", "--batches", batches])
        .env("TRAZA_DATABASE_URL", url)
        .env("TRAZA_AUDIT_KEY_FILE", audit_key_path(url))
        .env("TRAZA_BIND", "127.0.0.1:0")
        .env("TRAZA_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("traza demo starts");
    let mut stderr = child.stderr.take().expect("stderr");
    let errors = std::thread::spawn(move || {
        let mut all = String::new();
        let _ = stderr.read_to_string(&mut all);
        all
    });
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let serving = stdout
        .lines()
        .map_while(Result::ok)
        .find(|l| l.contains("serving on"));
    let _ = child.kill();
    let _ = child.wait();
    let Some(line) = serving else {
        panic!(
            "traza demo never served: {}",
            errors.join().unwrap_or_default()
        );
    };
    line.split("Traza demo: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the demo says how many batches it made: {line}"))
}

/// The laboratories with both staff and QA in the fixture: those that make products.
fn making_labs() -> BTreeSet<LabCode> {
    let f = fixture();
    let with = |role: Role| -> BTreeSet<LabCode> {
        f.users
            .iter()
            .filter(|u| u.role == role)
            .flat_map(|u| u.labs.iter().cloned())
            .collect()
    };
    with(Role::LabStaff)
        .intersection(&with(Role::Qa))
        .cloned()
        .collect()
}

#[both_backends]
async fn the_demo_has_a_batch_record_to_show_and_is_made_once(db: Db) {
    let made = demo(&db.url, "20");
    assert!(made >= 20, "the demo made {made} batches");
    let verified = traza(&db.url, &["audit", "verify"], None);
    assert_eq!(verified.status.code(), Some(0), "{}", text(&verified));

    let store = Store::connect(&db.url).await.expect("the demo database");
    let auditor = store.actor("elena.rubio").await.expect("the auditor");
    let coordinator = store.actor("lucia.navarro").await.expect("the coordinator");
    let today = chrono::Utc::now().date_naive();
    let labs = making_labs();

    // An effective master record for every product a laboratory that makes products is
    // assigned today.
    let records = store
        .list_master_records(&auditor, None, None)
        .await
        .expect("the master records");
    let assigned: BTreeSet<(String, String)> = store
        .list_assignments(&coordinator, None, None)
        .await
        .expect("the assignments")
        .into_iter()
        .filter(|a| a.period.covers(today) && labs.contains(&a.lab_code))
        .map(|a| (a.product_code.to_string(), a.lab_code.to_string()))
        .collect();
    assert!(assigned.len() >= 10, "{assigned:?}");
    for (product, lab) in &assigned {
        let effective: Vec<_> = records
            .iter()
            .filter(|r| &r.product_code == product && &r.lab_code == lab)
            .filter(|r| r.status == MbrStatus::Effective)
            .collect();
        assert_eq!(effective.len(), 1, "{product} at {lab}: {records:#?}");
        let r = effective[0];
        assert!(
            r.approved_by.as_ref().is_some_and(|a| *a != r.author),
            "approved by another QA person than its author: {r:?}"
        );
        assert!(
            r.steps
                .iter()
                .any(|s| s.parameters.iter().any(|p| p.critical))
                && r.steps.iter().any(|s| s.verification_required)
                && r.steps.iter().any(|s| !s.materials.is_empty()),
            "{product} at {lab}: critical controls, verifications and materials"
        );
    }

    // Each of those laboratories: an expired lot, one waiting in quarantine, and a cabinet
    // past its calibration.
    for lab in labs
        .iter()
        .filter(|l| assigned.iter().any(|(_, a)| a == l.as_str()))
    {
        let lots = store
            .list_lots(
                &auditor,
                &LotQuery {
                    lab: Some(lab.clone()),
                    ..Default::default()
                },
            )
            .await
            .expect("the lots");
        assert!(
            lots.iter().any(|l| l.lot.expiry_date < today),
            "{lab}: an expired lot"
        );
        assert!(
            lots.iter()
                .any(|l| l.lot.status == LotStatus::Quarantine && l.lot.expiry_date >= today),
            "{lab}: a lot in quarantine"
        );
        assert!(
            lots.iter().any(|l| l.lot.status == LotStatus::Released),
            "{lab}: released lots"
        );
        let equipment = store
            .list_equipment(&auditor, Some(lab))
            .await
            .expect("the equipment");
        assert!(
            equipment
                .iter()
                .any(|e| e.class.is("biosafety_cabinet") && e.calibration_due < today),
            "{lab}: a cabinet past calibration"
        );
    }

    // GRA-UPCIT's guided batches: one certified, one with an open exception, one half-way;
    // the demo's other batches were made before the master records and are not guided.
    let gra = LabCode::parse("GRA-UPCIT").expect("a lab code");
    let page = store
        .list_batches(
            &auditor,
            &BatchFilter {
                lab: Some(gra),
                limit: 500,
                ..Default::default()
            },
        )
        .await
        .expect("GRA-UPCIT's batches");
    let (mut certified, mut open, mut half_way, mut unguided) = (0, 0, 0, 0);
    for b in &page.items {
        let number = b.batch_number.as_str();
        let view = store.get_batch(&auditor, number).await.expect("a batch");
        if view.mbr_version.is_none() {
            // Imported history is never guided: only the demo's own batches count here.
            unguided += usize::from(b.source == Source::Api);
            continue;
        }
        let exceptions = store
            .list_exceptions(&auditor, number)
            .await
            .expect("its exceptions");
        match b.status {
            BatchStatus::Released => certified += 1,
            BatchStatus::Quarantine if exceptions.iter().any(|e| e.status == "open") => {
                assert!(
                    !store
                        .release_blockers(&auditor, number)
                        .await
                        .expect("its blockers")
                        .is_empty()
                );
                open += 1
            }
            BatchStatus::InProduction => {
                let steps = store.list_steps(&auditor, number).await.expect("steps");
                assert!(!steps.is_empty(), "{number} has steps recorded");
                half_way += 1
            }
            _ => {}
        }
    }
    assert!(certified >= 1, "a guided batch certified");
    assert!(open >= 1, "a guided batch with an open exception");
    assert!(half_way >= 1, "a guided batch half-way");
    assert!(
        unguided >= 1,
        "the demo's other batches, made before the master records, are not guided"
    );

    // A second run makes nothing new, and the trail still verifies.
    let lots_before = store
        .list_lots(&auditor, &LotQuery::default())
        .await
        .expect("lots")
        .len();
    let _ = store.close().await;
    assert_eq!(demo(&db.url, "20"), 0, "a second run makes no batch");
    let store = Store::connect(&db.url).await.expect("the demo database");
    let auditor = store.actor("elena.rubio").await.expect("the auditor");
    assert_eq!(
        store
            .list_master_records(&auditor, None, None)
            .await
            .expect("the master records")
            .len(),
        records.len(),
        "a second run writes no master record"
    );
    assert_eq!(
        store
            .list_lots(&auditor, &LotQuery::default())
            .await
            .expect("lots")
            .len(),
        lots_before,
        "a second run receives no lot"
    );
    let _ = store.close().await;
    let verified = traza(&db.url, &["audit", "verify"], None);
    assert_eq!(verified.status.code(), Some(0), "{}", text(&verified));
}
