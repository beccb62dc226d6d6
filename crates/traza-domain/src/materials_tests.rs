use proptest::prelude::*;
use serde_json::json;

use super::*;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn gra() -> LabCode {
    LabCode::parse("GRA-UPCIT").unwrap()
}

fn receipt() -> LotReceipt {
    LotReceipt {
        lab_code: gra(),
        material_code: MaterialCode::parse("MED-XVIVO15").unwrap(),
        supplier: " Lonza ".into(),
        supplier_lot: "0000987654".into(),
        received_on: d("2026-11-20"),
        expiry_date: d("2027-05-31"),
        quantity_received: dec("10.00"),
    }
}

fn lot(status: LotStatus) -> MaterialLot {
    let mut lot = receipt()
        .accept(LotId::generated(&gra(), 2026, 1), d("2026-12-01"))
        .unwrap();
    lot.status = status;
    lot
}

#[test]
fn a_receipt_makes_a_quarantined_lot_with_everything_available() {
    let lot = lot(LotStatus::Quarantine);
    assert_eq!(lot.status, LotStatus::Quarantine);
    assert_eq!(lot.supplier, "Lonza");
    assert_eq!(lot.quantity_received.to_string(), "10");
    assert_eq!(lot.quantity_available(), dec("10"));
    // Decimals travel as strings.
    let v = serde_json::to_value(&lot).unwrap();
    assert_eq!(v["quantity_received"], json!("10"));
    assert_eq!(v["quantity_consumed"], json!("0"));
    assert_eq!(v["lot_id"], json!("GRA-UPCIT-L2026-0001"));
}

#[test]
fn a_receipt_reports_every_invalid_field() {
    let bad = LotReceipt {
        supplier: "  ".into(),
        received_on: d("2026-12-02"),
        expiry_date: d("2026-12-01"),
        quantity_received: Decimal::ZERO,
        ..receipt()
    };
    let errors = bad
        .accept(LotId::generated(&gra(), 2026, 1), d("2026-12-01"))
        .unwrap_err()
        .0;
    let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "supplier",
            "received_on",
            "expiry_date",
            "quantity_received"
        ]
    );
    assert_eq!(
        errors[2].problem,
        Some(Problem::BeforeField {
            other: "received_on".into()
        })
    );
    // Expiring on the day of receipt is allowed: it may be used that day.
    let same_day = LotReceipt {
        expiry_date: d("2026-11-20"),
        ..receipt()
    };
    assert!(
        same_day
            .accept(LotId::generated(&gra(), 2026, 2), d("2026-12-01"))
            .is_ok()
    );
}

#[test]
fn quantities_are_exact_positive_decimals() {
    assert_eq!(quantity("2.50"), Ok(dec("2.5")));
    assert_eq!(quantity("0"), Err(Problem::NotPositive));
    assert_eq!(quantity("-1"), Err(Problem::NotPositive));
    assert!(matches!(quantity("dos"), Err(Problem::NotDecimal { .. })));
}

#[test]
fn consumption_and_give_back_keep_the_lot_within_what_was_received() {
    let mut lot = lot(LotStatus::Released);
    lot.consume(dec("2.5")).unwrap();
    lot.consume(dec("7.5")).unwrap();
    assert_eq!(lot.quantity_available(), Decimal::ZERO);
    assert_eq!(
        lot.consume(dec("0.001")),
        Err(QuantityRefusal::NotEnough {
            available: Decimal::ZERO
        })
    );
    assert_eq!(
        lot.consume(Decimal::ZERO),
        Err(QuantityRefusal::NotPositive)
    );
    lot.give_back(dec("2.5")).unwrap();
    assert_eq!(lot.quantity_available(), dec("2.5"));
    assert_eq!(
        lot.give_back(dec("8")),
        Err(QuantityRefusal::MoreThanConsumed {
            consumed: dec("7.5")
        })
    );
    assert_eq!(lot.quantity_consumed.to_string(), "7.5");
}

#[test]
fn a_usable_lot_is_of_the_lab_released_unexpired_of_the_material_and_enough() {
    let lot = lot(LotStatus::Released);
    let lab = gra();
    let materials = ["MED-XVIVO15", "FBS-01"];
    let ok = LotUse {
        lab: &lab,
        materials: &materials,
        quantity: dec("10"),
        on: d("2027-05-31"),
    };
    // On its expiry date it may still be used.
    assert_eq!(check_lot_use(&lot, &ok), Ok(()));
    let late = LotUse {
        on: d("2027-06-01"),
        ..ok
    };
    assert_eq!(
        check_lot_use(&lot, &late),
        Err(vec![LotRefusal::Expired {
            expiry_date: d("2027-05-31")
        }])
    );
    // Every reason at once.
    let quarantined = self::lot(LotStatus::Quarantine);
    let wrong = LotUse {
        materials: &["FBS-01"],
        quantity: dec("10.5"),
        ..late
    };
    let rules: Vec<_> = check_lot_use(&quarantined, &wrong)
        .unwrap_err()
        .iter()
        .map(LotRefusal::rule)
        .collect();
    assert_eq!(
        rules,
        [
            "lot_not_released",
            "lot_expired",
            "lot_other_material",
            "lot_quantity_insufficient"
        ]
    );
    // Another laboratory's lot: that reason alone.
    let sev = LabCode::parse("SEV-UPRC").unwrap();
    let elsewhere = LotUse { lab: &sev, ..wrong };
    assert_eq!(
        check_lot_use(&quarantined, &elsewhere),
        Err(vec![LotRefusal::NotOfLab])
    );
    // Said as data, for a page in its language.
    assert_eq!(
        LotRefusal::NotReleased {
            status: LotStatus::Rejected
        }
        .problem(),
        Some(Problem::LotNotReleased {
            status: "rejected".into()
        })
    );
}

#[test]
fn only_a_quarantined_lot_is_disposed_and_an_expired_one_only_rejected() {
    let today = d("2026-12-01");
    let q = lot(LotStatus::Quarantine);
    assert_eq!(
        check_disposition(&q, LotStatus::Released, today),
        Ok(SignatureMeaning::MaterialReleased)
    );
    assert_eq!(
        check_disposition(&q, LotStatus::Rejected, today),
        Ok(SignatureMeaning::MaterialRejected)
    );
    assert_eq!(
        check_disposition(&q, LotStatus::Quarantine, today),
        Err(DispositionRefusal::NotADisposition)
    );
    let released = lot(LotStatus::Released);
    assert_eq!(
        check_disposition(&released, LotStatus::Rejected, today),
        Err(DispositionRefusal::NotInQuarantine {
            status: LotStatus::Released
        })
    );
    let after_expiry = d("2027-06-01");
    assert!(matches!(
        check_disposition(&q, LotStatus::Released, after_expiry),
        Err(DispositionRefusal::Expired { .. })
    ));
    assert!(check_disposition(&q, LotStatus::Rejected, after_expiry).is_ok());
}

#[test]
fn a_unit_is_fixed_once_lots_exist() {
    let m = Material {
        code: MaterialCode::parse("MED-XVIVO15").unwrap(),
        name: "X-VIVO 15".into(),
        kind: MaterialKind::Medium,
        unit: "mL".into(),
    };
    let litres = Material {
        unit: "L".into(),
        ..m.clone()
    };
    assert!(check_material_change(&m, &litres, false).is_ok());
    assert!(check_material_change(&m, &litres, true).is_err());
    let renamed = Material {
        name: "X-VIVO 15 (Lonza)".into(),
        ..m.clone()
    };
    assert!(check_material_change(&m, &renamed, true).is_ok());
    let blank = Material {
        name: " ".into(),
        unit: "x".repeat(21),
        ..m
    };
    let fields: Vec<_> = blank
        .checked()
        .unwrap_err()
        .0
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(fields, ["name", "unit"]);
}

fn signed(meaning: SignatureMeaning) -> (LotSignedRecord, Value) {
    let at: DateTime<Utc> = "2026-12-01T09:30:00.250000Z".parse().unwrap();
    let m = LotSignedRecord::new(
        "isabel.morales",
        "Isabel Morales",
        meaning,
        at,
        None,
        &lot(LotStatus::Quarantine),
    );
    let sig = json!({"signer": "isabel.morales", "meaning": meaning,
                     "signed_at": "2026-12-01T09:30:00.25Z", "record_hash": m.hash()});
    (m, sig)
}

#[test]
fn a_lot_signature_verifies_against_its_record_and_nothing_else() {
    let (m, sig) = signed(SignatureMeaning::MaterialReleased);
    let id = "GRA-UPCIT-L2026-0001";
    assert_eq!(check_lot_signed_record(&sig, &m.canonical(), id), Ok(()));
    let again: LotSignedRecord = serde_json::from_str(&m.canonical()).unwrap();
    assert_eq!(again.canonical(), m.canonical());
    let edited = m.canonical().replace("0000987654", "0000987655");
    assert_eq!(
        check_lot_signed_record(&sig, &edited, id),
        Err(SignedRecordProblem::HashMismatch)
    );
    assert!(matches!(
        check_lot_signed_record(&sig, &m.canonical(), "GRA-UPCIT-L2026-0002"),
        Err(SignedRecordProblem::Disagrees {
            field: "lot_id",
            ..
        })
    ));
    let mut other = sig.clone();
    other["meaning"] = json!("material_rejected");
    assert!(matches!(
        check_lot_signed_record(&other, &m.canonical(), id),
        Err(SignedRecordProblem::Disagrees {
            field: "meaning",
            ..
        })
    ));
    let mut later = sig;
    later["signed_at"] = json!("2026-12-01T09:31:00Z");
    assert!(matches!(
        check_lot_signed_record(&later, &m.canonical(), id),
        Err(SignedRecordProblem::Disagrees {
            field: "signed_at",
            ..
        })
    ));
}

#[test]
fn the_roles_of_section_8() {
    use crate::access::Action::*;
    use crate::vocab::Role;
    let who = |action| {
        Role::ALL
            .iter()
            .copied()
            .filter(|r| r.may(action))
            .collect::<Vec<_>>()
    };
    assert_eq!(who(ManageMaterials), [Role::Coordinator]);
    assert_eq!(who(ReceiveLots), [Role::LabStaff, Role::Qa]);
    assert_eq!(who(DisposeLots), [Role::Qa]);
    assert_eq!(who(ManageEquipment), [Role::Qa]);
    // Lots, equipment and rooms are read like batches: by every role, in its scope.
    assert_eq!(who(ReadBatches), Role::ALL);
}

#[test]
fn audit_verify_follows_a_lot_through_its_events() {
    use crate::audit::AuditEvent;
    use crate::reconcile::{Reconciler, Table};
    let event = |action: &str, after: Value| AuditEvent {
        id: 1,
        at: "2026-12-01T09:30:00Z".parse().unwrap(),
        actor: "isabel.morales".into(),
        action: action.into(),
        entity_type: "material_lot".into(),
        entity_key: "GRA-UPCIT-L2026-0001".into(),
        before: None,
        after: Some(after),
        reason: None,
        source: crate::vocab::Source::Api,
    };
    let key = "GRA-UPCIT-L2026-0001";
    let mut lot = lot(LotStatus::Quarantine);
    let mut r = Reconciler::default();
    r.observe(&event("lot.receive", serde_json::to_value(&lot).unwrap()));
    let (m, mut sig) = signed(SignatureMeaning::MaterialReleased);
    sig["id"] = json!(7);
    lot.status = LotStatus::Released;
    r.observe(&event(
        "lot.release",
        json!({"lot": lot, "status": "released", "signature": sig, "record": m.canonical()}),
    ));
    lot.consume(dec("2.5")).unwrap();
    r.observe(&event(
        "lot.consume",
        json!({"lot": lot, "quantity_consumed": "2.5", "batch_number": "B-1", "quantity": "2.5"}),
    ));
    assert_eq!(r.unsigned_record(), None);
    let stored = serde_json::to_value(&lot).unwrap();
    assert_eq!(r.check(Table::MaterialLots, key, &stored), Ok(()));
    let mut edited = stored.clone();
    edited["quantity_consumed"] = json!("0");
    assert_eq!(
        r.check(Table::MaterialLots, key, &edited)
            .unwrap_err()
            .column,
        Some("quantity_consumed")
    );
    assert_eq!(r.check(Table::LotSignatures, "7", &sig), Ok(()));
    // A record that is not what the signature hashed is named.
    let mut forged = Reconciler::default();
    forged.observe(&event(
        "lot.release",
        json!({"lot": lot, "signature": sig, "record": m.canonical().replace("Lonza", "Otro")}),
    ));
    assert_eq!(
        forged.unsigned_record().map(|m| (m.table, m.column)),
        Some(("lot_signatures", Some("record_hash")))
    );
}

/// A step taking from the lot, or a correction giving back.
#[derive(Debug, Clone)]
enum Move {
    Consume(Decimal),
    GiveBack(Decimal),
}

fn amount() -> impl Strategy<Value = Decimal> {
    // Zero, tiny and large amounts, with up to three decimals.
    (0i64..20_000, 0u32..4).prop_map(|(n, scale)| Decimal::new(n, scale))
}

fn moves() -> impl Strategy<Value = Vec<Move>> {
    prop::collection::vec(
        prop_oneof![
            amount().prop_map(Move::Consume),
            amount().prop_map(Move::GiveBack),
        ],
        0..60,
    )
}

proptest! {
    /// No sequence of consumptions and give-backs drives availability below zero or above
    /// what was received; a refused move leaves the lot as it was.
    #[test]
    fn availability_stays_between_zero_and_received(received in amount(), moves in moves()) {
        let mut lot = lot(LotStatus::Released);
        lot.quantity_received = received.max(Decimal::new(1, 3));
        for m in moves {
            let before = lot.clone();
            let outcome = match m {
                Move::Consume(q) => lot.consume(q),
                Move::GiveBack(q) => lot.give_back(q),
            };
            if outcome.is_err() {
                prop_assert_eq!(&lot, &before);
            }
            prop_assert!(lot.quantity_consumed >= Decimal::ZERO);
            prop_assert!(lot.quantity_consumed <= lot.quantity_received);
            prop_assert!(lot.quantity_available() >= Decimal::ZERO);
            prop_assert!(lot.quantity_available() <= lot.quantity_received);
            prop_assert_eq!(
                lot.quantity_available() + lot.quantity_consumed,
                lot.quantity_received
            );
        }
    }

    /// Consuming all that is available always succeeds and leaves nothing; a lot is used
    /// up exactly, not to within a rounding.
    #[test]
    fn the_last_units_can_be_taken_exactly(received in amount(), first in amount()) {
        let mut lot = lot(LotStatus::Released);
        lot.quantity_received = received.max(Decimal::new(1, 3));
        let _ = lot.consume(first);
        let rest = lot.quantity_available();
        if rest > Decimal::ZERO {
            prop_assert_eq!(lot.consume(rest), Ok(()));
        }
        prop_assert_eq!(lot.quantity_available(), Decimal::ZERO);
    }
}
