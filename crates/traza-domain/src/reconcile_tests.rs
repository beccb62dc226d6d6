use serde_json::json;

use super::*;
use crate::vocab::Source;

fn event(action: &str, key: &str, after: Value) -> AuditEvent {
    AuditEvent {
        id: 1,
        at: "2026-12-02T10:00:00Z".parse().unwrap(),
        actor: "marta.jimenez".into(),
        action: action.into(),
        entity_type: "batch".into(),
        entity_key: key.into(),
        before: None,
        after: Some(after),
        reason: None,
        source: Source::Api,
    }
}

#[test]
fn a_row_changed_behind_the_trail_is_named_by_table_key_and_column() {
    let mut r = Reconciler::default();
    let made = json!({"batch_number": "B-1", "donor_code": "DON-1", "status": "in_production", "doses": 2, "version": 1});
    r.observe(&event("batch.create", "B-1", made.clone()));
    assert_eq!(r.check(Table::Batches, "B-1", &made), Ok(()));
    // Bookkeeping columns may move; stated ones may not.
    let bumped = json!({"batch_number": "B-1", "donor_code": "DON-1", "status": "in_production", "doses": 2, "version": 7});
    assert_eq!(r.check(Table::Batches, "B-1", &bumped), Ok(()));
    // A decimal is its value: stated 94.0, stored 94.
    r.observe(&event("batch.correct", "B-1", json!({"batch_number": "B-1", "donor_code": "DON-1", "status": "in_production", "doses": 2, "viability_percent": "94.0"})));
    let stored = json!({"batch_number": "B-1", "donor_code": "DON-1", "status": "in_production", "doses": "2", "viability_percent": "94"});
    assert_eq!(r.check(Table::Batches, "B-1", &stored), Ok(()));
    let other = json!({"batch_number": "B-1", "donor_code": "DON-1", "status": "in_production", "doses": 2, "viability_percent": "94.01"});
    assert!(r.check(Table::Batches, "B-1", &other).is_err());
    let edited = json!({"batch_number": "B-1", "donor_code": "DON-9", "status": "in_production", "doses": 2, "viability_percent": "94"});
    let m = r.check(Table::Batches, "B-1", &edited).unwrap_err();
    assert_eq!((m.table, m.column), ("batches", Some("donor_code")));
    let unknown = r.check(Table::Batches, "B-2", &made).unwrap_err();
    assert!(unknown.problem.contains("no audit event"));
    let none = std::collections::HashSet::new();
    let gone = r.first_missing(Table::Batches, &none).unwrap();
    assert_eq!(gone.key, "B-1");
    assert!(
        r.first_missing(Table::Batches, &["B-1".to_owned()].into())
            .is_none()
    );
}

#[test]
fn later_events_move_the_expected_state_on() {
    let mut r = Reconciler::default();
    r.observe(&event(
        "batch.create",
        "B-1",
        json!({"status": "in_production"}),
    ));
    r.observe(&event(
        "batch.release",
        "B-1",
        json!({"batch": {"status": "released"}, "signature": {"id": 4, "signer": "isabel.morales", "meaning": "qp_certified", "record_hash": "ab"}}),
    ));
    r.observe(&event(
        "batch.administer",
        "B-1",
        json!({"administration": {"id": 9, "patient_code": "P-1", "administered_on": "2026-12-02", "hospital": "H"}, "status": "administered"}),
    ));
    assert_eq!(
        r.check(Table::Batches, "B-1", &json!({"status": "administered"})),
        Ok(())
    );
    let sig = json!({"signer": "isabel.morales", "meaning": "qp_certified", "record_hash": "ab"});
    assert_eq!(r.check(Table::Signatures, "4", &sig), Ok(()));
    let forged = json!({"signer": "someone.else", "meaning": "qp_certified", "record_hash": "ab"});
    assert_eq!(
        r.check(Table::Signatures, "4", &forged).unwrap_err().column,
        Some("signer")
    );
    let moved = json!({"patient_code": "P-2", "administered_on": "2026-12-02", "hospital": "H"});
    assert_eq!(
        r.check(Table::Administrations, "9", &moved)
            .unwrap_err()
            .column,
        Some("patient_code")
    );
}

#[test]
fn text_skipped_as_no_decimal_is_text_decimal_refuses() {
    for text in [
        "GRA-UPCIT-2024-00001",
        "2024-03-01",
        "D1400001",
        "released",
        "1,5",
        "abc",
        "1.5.",
        "--1",
        "1e",
        "x1",
        "92.5%",
        " 1",
        "1 ",
        "+-1",
        "∞",
        "",
    ] {
        if !may_be_decimal(text) {
            assert!(
                text.parse::<rust_decimal::Decimal>().is_err(),
                "{text:?} parses"
            );
        }
    }
    for text in ["1", "1.50", "-0", "+3", "1_000", "1e3", "1E-2", ".5", "5."] {
        assert!(may_be_decimal(text), "{text:?} must be tried");
    }
    assert_eq!(normalised_text(Some("1.50")), "1.5");
    assert_eq!(normalised_text(Some("GRA-UPCIT")), "GRA-UPCIT");
}
