//! SPEC §8 materials, lots, equipment and rooms, on both databases: the catalogue, receipt into
//! quarantine, signed release and rejection (wrong passwords refused and counted), laboratory
//! scope, the arithmetic of what is left of a lot, two steps racing for its last units, and
//! the rules a step applies to equipment and rooms.

use rust_decimal::Decimal;
use traza_domain::auth::{AuthRefusal, LockoutPolicy};
use traza_domain::codes::{EquipmentId, LotId, MaterialCode, RoomId};
use traza_domain::equipment::{Equipment, EquipmentClass, EquipmentStatus, Room};
use traza_domain::materials::{LotReceipt, LotStatus, Material, MaterialKind};
use traza_domain::vocab::{RoomGrade, SignatureMeaning};
use traza_store::{
    AuditQuery, EquipmentUpdate, ErrorCode, LotQuery, LotView, MaterialUpdate, RuleDetail, Store,
    StoreError, VerifyReport,
};

use crate::support::*;

const MEDIUM: &str = "MED-XVIVO15";

fn material(code: &str) -> Material {
    Material {
        code: MaterialCode::parse(code).unwrap(),
        name: "X-VIVO 15, medio sin suero".into(),
        kind: MaterialKind::Medium,
        unit: "mL".into(),
    }
}

fn receipt(lab_code: &str, code: &str, quantity: &str) -> LotReceipt {
    LotReceipt {
        lab_code: lab(lab_code),
        material_code: MaterialCode::parse(code).unwrap(),
        supplier: "Lonza Bioscience".into(),
        supplier_lot: "0000987654".into(),
        received_on: days_ago(2),
        expiry_date: today() + chrono::Days::new(180),
        quantity_received: dec(quantity),
    }
}

/// The catalogue's medium and a lot of it received at MAL-HRU by Cristina.
async fn received(net: &Net, quantity: &str) -> LotView {
    if net.store.get_material(&net.lucia, MEDIUM).await.is_err() {
        net.store
            .create_material(&net.lucia, material(MEDIUM))
            .await
            .unwrap();
    }
    net.store
        .receive_lot(&net.cristina, receipt(MAL, MEDIUM, quantity))
        .await
        .unwrap()
}

/// A released lot of `quantity` at MAL-HRU.
async fn released(net: &Net, quantity: &str) -> LotId {
    let lot = received(net, quantity).await.lot.lot_id;
    net.store
        .release_lot(&net.jose, lot.as_str(), JOSE_PW)
        .await
        .unwrap();
    lot
}

async fn actions(net: &Net, entity_type: &str, key: &str) -> Vec<String> {
    net.store
        .audit_trail(
            &net.elena,
            &AuditQuery {
                entity_type: Some(entity_type.into()),
                entity_key: Some(key.into()),
                after_id: None,
                limit: 100,
            },
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.action)
        .collect()
}

async fn intact(store: &Store) {
    let report = store.verify_audit_chain().await.unwrap();
    assert!(matches!(report, VerifyReport::Intact { .. }), "{report:?}");
}

fn refused_rules(r: Result<impl std::fmt::Debug, StoreError>, code: ErrorCode) -> Vec<String> {
    match r {
        Err(StoreError::Refused {
            code: got, details, ..
        }) if got == code => details.into_iter().map(|d: RuleDetail| d.rule).collect(),
        other => panic!("expected {code}, got {other:?}"),
    }
}

fn invalid_fields(r: Result<impl std::fmt::Debug, StoreError>) -> Vec<String> {
    match r {
        Err(StoreError::Invalid(errors)) => errors.0.into_iter().map(|e| e.field).collect(),
        other => panic!("expected validation_failed, got {other:?}"),
    }
}

#[both_backends]
async fn the_catalogue_is_the_coordinators_and_a_unit_is_fixed_once_received(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    assert!(matches!(
        store.create_material(&net.nuria, material(MEDIUM)).await,
        Err(StoreError::Forbidden)
    ));
    let made = store
        .create_material(&net.lucia, material(MEDIUM))
        .await
        .unwrap();
    assert_eq!(made.unit, "mL");
    assert!(matches!(
        store.create_material(&net.lucia, material(MEDIUM)).await,
        Err(StoreError::Duplicate(_))
    ));
    // Everyone reads the catalogue.
    for who in [&net.cristina, &net.teresa, &net.elena, &net.admin] {
        assert_eq!(store.get_material(who, MEDIUM).await.unwrap(), made);
    }
    let blank = Material {
        name: "  ".into(),
        ..material("FBS-01")
    };
    assert_eq!(
        invalid_fields(store.create_material(&net.lucia, blank).await),
        ["name"]
    );
    // Before any lot the unit may change; after one it may not.
    let litres = MaterialUpdate {
        unit: Some("L".into()),
        ..Default::default()
    };
    assert_eq!(
        store
            .update_material(&net.lucia, MEDIUM, litres.clone())
            .await
            .unwrap()
            .unit,
        "L"
    );
    store
        .receive_lot(&net.cristina, receipt(MAL, MEDIUM, "2"))
        .await
        .unwrap();
    let back = MaterialUpdate {
        unit: Some("mL".into()),
        ..Default::default()
    };
    refused_rules(
        store.update_material(&net.lucia, MEDIUM, back).await,
        ErrorCode::RecordLocked,
    );
    let renamed = store
        .update_material(
            &net.lucia,
            MEDIUM,
            MaterialUpdate {
                name: Some("X-VIVO 15 (Lonza)".into()),
                kind: Some(MaterialKind::Reagent),
                unit: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (renamed.name.as_str(), renamed.kind, renamed.unit.as_str()),
        ("X-VIVO 15 (Lonza)", MaterialKind::Reagent, "L")
    );
    assert_eq!(
        actions(&net, "material", MEDIUM).await,
        ["material.create", "material.update", "material.update"]
    );
    intact(store).await;
}

#[both_backends]
async fn a_lot_is_received_into_quarantine_and_released_by_qa_with_a_signature(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let lot = received(&net, "500").await;
    let id = lot.lot.lot_id.to_string();
    assert_eq!(lot.lot.status, LotStatus::Quarantine);
    assert!(
        id.starts_with(&format!("MAL-HRU-L{}-", chrono::Datelike::year(&today()))),
        "{id}"
    );
    assert_eq!(lot.quantity_available, dec("500"));
    assert_eq!(lot.unit, "mL");
    assert_eq!(lot.received_by, "cristina.vega");
    assert_eq!(lot.disposition, None);
    // The next lot of the laboratory takes the next number.
    let second = received(&net, "20").await.lot.lot_id;
    assert!(second.as_str() > id.as_str(), "{second} after {id}");

    // Staff receive; only QA of the laboratory dispose.
    assert!(matches!(
        store.release_lot(&net.cristina, &id, NURIA_PW).await,
        Err(StoreError::Forbidden)
    ));
    assert!(matches!(
        store.release_lot(&net.lucia, &id, NURIA_PW).await,
        Err(StoreError::Forbidden)
    ));
    // Another laboratory's QA and staff do not see it at all.
    assert!(matches!(
        store.release_lot(&net.teresa, &id, TERESA_PW).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.get_lot(&net.rocio, &id).await,
        Err(StoreError::NotFound(_))
    ));
    for who in [&net.sergio, &net.jose, &net.lucia, &net.elena, &net.admin] {
        assert_eq!(store.get_lot(who, &id).await.unwrap(), lot);
    }

    // A wrong password is refused, changes nothing, and counts toward the lock.
    assert!(matches!(
        store.release_lot(&net.nuria, &id, "not-her-password").await,
        Err(StoreError::InvalidSignature)
    ));
    assert_eq!(
        store.get_lot(&net.nuria, &id).await.unwrap().lot.status,
        LotStatus::Quarantine
    );
    let strict = store.clone().with_lockout_policy(LockoutPolicy {
        max_failures: 2,
        ..LockoutPolicy::default()
    });
    assert!(matches!(
        strict.release_lot(&net.nuria, &id, "still-not-it").await,
        Err(StoreError::InvalidSignature)
    ));
    assert!(matches!(
        strict.release_lot(&net.nuria, &id, NURIA_PW).await,
        Err(StoreError::AuthRefused(AuthRefusal::AccountLocked { .. }))
    ));
    assert_eq!(actions(&net, "material_lot", &id).await, ["lot.receive"]);

    // Another QA of the laboratory signs.
    let done = store.release_lot(&net.jose, &id, JOSE_PW).await.unwrap();
    assert_eq!(done.lot.status, LotStatus::Released);
    assert_eq!(done.quantity_available, dec("500"));
    let sig = done.disposition.clone().expect("its signature");
    assert_eq!(sig.meaning, SignatureMeaning::MaterialReleased);
    assert_eq!(
        (sig.signer.as_str(), sig.signer_full_name.is_empty()),
        ("jose.alarcon", false)
    );
    assert_eq!(sig.record_hash.len(), 64);
    assert_eq!(sig.reason, None);
    assert_eq!(store.get_lot(&net.elena, &id).await.unwrap(), done);
    // A disposition is final.
    refused_rules(
        store.reject_lot(&net.jose, &id, JOSE_PW, "ya no").await,
        ErrorCode::InvalidTransition,
    );
    assert_eq!(
        actions(&net, "material_lot", &id).await,
        ["lot.receive", "lot.release"]
    );
    intact(store).await;
}

#[both_backends]
async fn a_lot_is_rejected_with_a_reason(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let id = received(&net, "3").await.lot.lot_id.to_string();
    assert_eq!(
        invalid_fields(store.reject_lot(&net.nuria, &id, NURIA_PW, "  ").await),
        ["reason"]
    );
    let reason = "Certificado de análisis del proveedor no conforme";
    let done = store
        .reject_lot(&net.nuria, &id, NURIA_PW, reason)
        .await
        .unwrap();
    assert_eq!(done.lot.status, LotStatus::Rejected);
    let sig = done.disposition.expect("its signature");
    assert_eq!(sig.meaning, SignatureMeaning::MaterialRejected);
    assert_eq!(sig.reason.as_deref(), Some(reason));
    let events = store
        .audit_trail(
            &net.elena,
            &AuditQuery {
                entity_type: Some("material_lot".into()),
                entity_key: Some(id.clone()),
                after_id: None,
                limit: 10,
            },
        )
        .await
        .unwrap()
        .items;
    let rejection = events.last().expect("the rejection's event");
    assert_eq!(rejection.action, "lot.reject");
    assert_eq!(rejection.reason.as_deref(), Some(reason));
    assert_eq!(rejection.actor, "nuria.blanco");
    let after = rejection.after.as_ref().expect("after");
    assert_eq!(after["status"], "rejected");
    assert_eq!(after["signature"]["meaning"], "material_rejected");
    // A rejected lot is never usable, and never released.
    refused_rules(
        store.release_lot(&net.nuria, &id, NURIA_PW).await,
        ErrorCode::InvalidTransition,
    );
    let rules = refused_rules(
        store
            .test_check_lots(
                &lab(MAL),
                &[MEDIUM],
                &[(LotId::parse(&id).unwrap(), dec("1"))],
                today(),
            )
            .await,
        ErrorCode::MaterialNotUsable,
    );
    assert_eq!(rules, ["lot_not_released"]);
    intact(store).await;
}

#[both_backends]
async fn a_receipt_is_checked_and_kept_within_its_laboratory(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    store
        .create_material(&net.lucia, material(MEDIUM))
        .await
        .unwrap();
    assert_eq!(
        invalid_fields(
            store
                .receive_lot(&net.cristina, receipt(MAL, "FBS-UNKNOWN", "1"))
                .await
        ),
        ["material_code"]
    );
    let bad = LotReceipt {
        // Two days ahead: after today on the laboratories' clock too.
        received_on: today() + chrono::Days::new(2),
        expiry_date: today(),
        quantity_received: Decimal::ZERO,
        ..receipt(MAL, MEDIUM, "1")
    };
    assert_eq!(
        invalid_fields(store.receive_lot(&net.cristina, bad).await),
        ["received_on", "expiry_date", "quantity_received"]
    );
    // Another laboratory's staff: not found; a coordinator: not theirs to receive.
    assert!(matches!(
        store
            .receive_lot(&net.rocio, receipt(MAL, MEDIUM, "1"))
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store
            .receive_lot(&net.lucia, receipt(MAL, MEDIUM, "1"))
            .await,
        Err(StoreError::Forbidden)
    ));
    let mal = store
        .receive_lot(&net.cristina, receipt(MAL, MEDIUM, "5"))
        .await
        .unwrap()
        .lot
        .lot_id;
    let sev = store
        .receive_lot(&net.rocio, receipt(SEV, MEDIUM, "7"))
        .await
        .unwrap()
        .lot
        .lot_id;
    assert!(sev.as_str().starts_with("SEV-UPRC-L"), "{sev}");
    let ids = |lots: Vec<LotView>| {
        lots.into_iter()
            .map(|l| l.lot.lot_id.to_string())
            .collect::<Vec<_>>()
    };
    let all = LotQuery::default();
    assert_eq!(
        ids(store.list_lots(&net.cristina, &all).await.unwrap()),
        [mal.as_str()]
    );
    assert_eq!(
        ids(store.list_lots(&net.teresa, &all).await.unwrap()),
        [sev.as_str()]
    );
    // Asking for another laboratory's lots shows none of them.
    let mal_only = LotQuery {
        lab: Some(lab(MAL)),
        ..Default::default()
    };
    assert!(
        store
            .list_lots(&net.teresa, &mal_only)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        ids(store.list_lots(&net.lucia, &mal_only).await.unwrap()),
        [mal.as_str()]
    );
    assert_eq!(store.list_lots(&net.elena, &all).await.unwrap().len(), 2);
    store
        .release_lot(&net.nuria, mal.as_str(), NURIA_PW)
        .await
        .unwrap();
    let released_only = LotQuery {
        status: Some(LotStatus::Released),
        ..Default::default()
    };
    assert_eq!(
        ids(store.list_lots(&net.admin, &released_only).await.unwrap()),
        [mal.as_str()]
    );
    let other_material = LotQuery {
        material: Some(MaterialCode::parse("FBS-01").unwrap()),
        ..Default::default()
    };
    assert!(
        store
            .list_lots(&net.admin, &other_material)
            .await
            .unwrap()
            .is_empty()
    );
    intact(store).await;
}

#[both_backends]
async fn what_is_left_of_a_lot_is_received_less_consumed_and_never_below_zero(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let lot = released(&net, "10").await;
    let batch = "MAL-HRU-2026-00001";
    let after = store
        .test_consume_lot(&net.cristina, &lot, dec("2.5"), batch)
        .await
        .unwrap();
    assert_eq!(after.quantity_available(), dec("7.5"));
    let after = store
        .test_give_back_lot(&net.cristina, &lot, dec("1"), batch)
        .await
        .unwrap();
    assert_eq!(after.quantity_consumed, dec("1.5"));
    let view = store.get_lot(&net.nuria, lot.as_str()).await.unwrap();
    assert_eq!(view.quantity_available, dec("8.5"));
    assert_eq!(view.lot.quantity_consumed, dec("1.5"));
    // A step naming the lot twice is judged on the sum.
    let twice = |a: &str, b: &str| [(lot.clone(), dec(a)), (lot.clone(), dec(b))];
    assert_eq!(
        store
            .test_check_lots(&lab(MAL), &[MEDIUM], &twice("4", "4.5"), today())
            .await
            .unwrap()
            .len(),
        1,
        "one lot, usable for 8.5 of its 8.5"
    );
    assert_eq!(
        refused_rules(
            store
                .test_check_lots(&lab(MAL), &[MEDIUM], &twice("4", "4.51"), today())
                .await,
            ErrorCode::MaterialNotUsable,
        ),
        ["lot_quantity_insufficient"]
    );
    // More than is left: refused, nothing taken.
    let rules = refused_rules(
        store
            .test_consume_lot(&net.cristina, &lot, dec("8.51"), batch)
            .await,
        ErrorCode::MaterialNotUsable,
    );
    assert_eq!(rules, ["lot_quantity_insufficient"]);
    // More given back than was taken: refused too.
    refused_rules(
        store
            .test_give_back_lot(&net.cristina, &lot, dec("1.6"), batch)
            .await,
        ErrorCode::InvalidTransition,
    );
    assert!(matches!(
        store
            .test_consume_lot(&net.cristina, &lot, Decimal::ZERO, batch)
            .await,
        Err(StoreError::Invalid(_))
    ));
    // All that is left, exactly.
    let empty = store
        .test_consume_lot(&net.cristina, &lot, dec("8.5"), batch)
        .await
        .unwrap();
    assert_eq!(empty.quantity_available(), Decimal::ZERO);
    assert_eq!(
        actions(&net, "material_lot", lot.as_str()).await,
        [
            "lot.receive",
            "lot.release",
            "lot.consume",
            "lot.give_back",
            "lot.consume"
        ]
    );
    // What a step is told of a lot: every reason at once, or another laboratory's alone.
    let rules = refused_rules(
        store
            .test_check_lots(
                &lab(MAL),
                &["FBS-01"],
                &[(lot.clone(), dec("1"))],
                today() + chrono::Days::new(181),
            )
            .await,
        ErrorCode::MaterialNotUsable,
    );
    assert_eq!(
        rules,
        [
            "lot_expired",
            "lot_other_material",
            "lot_quantity_insufficient"
        ]
    );
    let rules = refused_rules(
        store
            .test_check_lots(&lab(SEV), &[MEDIUM], &[(lot.clone(), dec("1"))], today())
            .await,
        ErrorCode::MaterialNotUsable,
    );
    assert_eq!(rules, ["lot_not_of_lab"]);
    let unknown = LotId::parse("MAL-HRU-L1999-0001").unwrap();
    let rules = refused_rules(
        store
            .test_check_lots(&lab(MAL), &[MEDIUM], &[(unknown, dec("1"))], today())
            .await,
        ErrorCode::MaterialNotUsable,
    );
    assert_eq!(rules, ["lot_not_of_lab"]);
    intact(store).await;
}

#[both_backends]
async fn two_steps_racing_for_the_last_units_one_wins(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let lot = released(&net, "10").await;
    net.store
        .test_consume_lot(&net.cristina, &lot, dec("7"), "MAL-HRU-2026-00001")
        .await
        .unwrap();
    // 3 left; rounds of steps each wanting all 3, started together.
    for round in 0..3 {
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let (store, who, lot) = (
                    net.store.clone(),
                    if i % 2 == 0 {
                        net.cristina.clone()
                    } else {
                        net.sergio.clone()
                    },
                    lot.clone(),
                );
                tokio::spawn(async move {
                    store
                        .test_consume_lot(&who, &lot, dec("3"), &format!("MAL-HRU-2026-1{i:04}"))
                        .await
                })
            })
            .collect();
        let mut won = 0;
        for task in tasks {
            match task.await.expect("task") {
                Ok(lot) => {
                    won += 1;
                    assert_eq!(lot.quantity_available(), Decimal::ZERO);
                }
                Err(StoreError::Refused {
                    code: ErrorCode::MaterialNotUsable,
                    ..
                }) => {}
                Err(other) => panic!("a step failed otherwise than by a refusal: {other:?}"),
            }
        }
        let view = net.store.get_lot(&net.nuria, lot.as_str()).await.unwrap();
        assert!(view.quantity_available >= Decimal::ZERO);
        assert_eq!(view.quantity_available, Decimal::ZERO, "round {round}");
        assert_eq!(view.lot.quantity_consumed, dec("10"), "round {round}");
        assert_eq!(won, 1, "round {round}: exactly one step took the last 3");
        // Put them back for the next round (a corrected entry).
        net.store
            .test_give_back_lot(&net.nuria, &lot, dec("3"), "MAL-HRU-2026-00001")
            .await
            .unwrap();
    }
    intact(&net.store).await;
}

fn equipment(id: &str, class: &str, status: EquipmentStatus, due: chrono::NaiveDate) -> Equipment {
    Equipment {
        lab_code: lab(MAL),
        id: EquipmentId::parse(id).unwrap(),
        class: EquipmentClass::parse(class).unwrap(),
        status,
        calibration_due: due,
    }
}

#[both_backends]
async fn equipment_is_usable_in_service_and_through_its_calibration_due_date(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let cabinet = equipment(
        "BSC-01",
        "Biosafety cabinet",
        EquipmentStatus::InService,
        today() + chrono::Days::new(10),
    );
    let made = store
        .create_equipment(&net.nuria, cabinet.clone())
        .await
        .unwrap();
    assert_eq!(made.class.as_str(), "biosafety_cabinet");
    assert!(matches!(
        store.create_equipment(&net.jose, cabinet.clone()).await,
        Err(StoreError::Duplicate(_))
    ));
    assert!(matches!(
        store.create_equipment(&net.cristina, cabinet.clone()).await,
        Err(StoreError::Forbidden)
    ));
    assert!(matches!(
        store.create_equipment(&net.teresa, cabinet.clone()).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.create_equipment(&net.lucia, cabinet.clone()).await,
        Err(StoreError::Forbidden)
    ));
    let incubator = equipment(
        "INC-01",
        "incubator",
        EquipmentStatus::InService,
        days_ago(1),
    );
    store.create_equipment(&net.nuria, incubator).await.unwrap();
    // The same id at another laboratory is another piece of equipment.
    let sevilla = Equipment {
        lab_code: lab(SEV),
        ..cabinet.clone()
    };
    store.create_equipment(&net.teresa, sevilla).await.unwrap();

    let ids = |list: Vec<Equipment>| {
        list.into_iter()
            .map(|e| format!("{}/{}", e.lab_code, e.id))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(store.list_equipment(&net.cristina, None).await.unwrap()),
        ["MAL-HRU/BSC-01", "MAL-HRU/INC-01"]
    );
    assert_eq!(
        ids(store
            .list_equipment(&net.teresa, Some(&lab(MAL)))
            .await
            .unwrap()),
        Vec::<String>::new()
    );
    assert_eq!(
        store.list_equipment(&net.elena, None).await.unwrap().len(),
        3
    );

    let usable = |day| {
        let store = store.clone();
        async move {
            store
                .test_check_equipment(
                    &lab(MAL),
                    &[
                        EquipmentId::parse("BSC-01").unwrap(),
                        EquipmentId::parse("INC-01").unwrap(),
                    ],
                    day,
                )
                .await
        }
    };
    // The incubator's calibration ran out yesterday; the cabinet's runs to its due date.
    assert_eq!(
        refused_rules(usable(today()).await, ErrorCode::EquipmentNotUsable),
        ["calibration_past_due"]
    );
    let recalibrated = store
        .update_equipment(
            &net.nuria,
            MAL,
            "INC-01",
            EquipmentUpdate {
                calibration_due: Some(today() + chrono::Days::new(365)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(recalibrated.class.as_str(), "incubator");
    assert_eq!(usable(today()).await.unwrap().len(), 2);
    assert_eq!(
        usable(today() + chrono::Days::new(10)).await.unwrap().len(),
        2
    );
    assert_eq!(
        refused_rules(
            usable(today() + chrono::Days::new(11)).await,
            ErrorCode::EquipmentNotUsable
        ),
        ["calibration_past_due"]
    );
    // Out of service, and another laboratory's id: each named.
    store
        .update_equipment(
            &net.jose,
            MAL,
            "BSC-01",
            EquipmentUpdate {
                status: Some(EquipmentStatus::OutOfService),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let rules = refused_rules(
        store
            .test_check_equipment(
                &lab(MAL),
                &[
                    EquipmentId::parse("BSC-01").unwrap(),
                    EquipmentId::parse("CEN-09").unwrap(),
                ],
                today(),
            )
            .await,
        ErrorCode::EquipmentNotUsable,
    );
    assert_eq!(rules, ["equipment_out_of_service", "equipment_not_of_lab"]);
    // Changing it: QA of its laboratory only; another laboratory's user finds nothing.
    assert!(matches!(
        store
            .update_equipment(&net.cristina, MAL, "BSC-01", EquipmentUpdate::default())
            .await,
        Err(StoreError::Forbidden)
    ));
    assert!(matches!(
        store
            .update_equipment(&net.teresa, MAL, "BSC-01", EquipmentUpdate::default())
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store
            .update_equipment(&net.nuria, MAL, "NOPE-1", EquipmentUpdate::default())
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        actions(&net, "equipment", "MAL-HRU/BSC-01").await,
        ["equipment.create", "equipment.update"]
    );
    intact(store).await;
}

#[both_backends]
async fn a_step_needing_grade_b_may_use_a_room_of_grade_a_or_b(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let room = |id: &str, lab_code: &str, grade| Room {
        lab_code: lab(lab_code),
        id: RoomId::parse(id).unwrap(),
        grade,
    };
    for (id, grade) in [
        ("SB-A", RoomGrade::A),
        ("SB-B", RoomGrade::B),
        ("SB-C", RoomGrade::C),
    ] {
        store
            .create_room(&net.nuria, room(id, MAL, grade))
            .await
            .unwrap();
    }
    assert!(matches!(
        store
            .create_room(&net.nuria, room("SB-A", MAL, RoomGrade::D))
            .await,
        Err(StoreError::Duplicate(_))
    ));
    assert!(matches!(
        store
            .create_room(&net.cristina, room("SB-D", MAL, RoomGrade::D))
            .await,
        Err(StoreError::Forbidden)
    ));
    assert!(matches!(
        store
            .create_room(&net.teresa, room("SB-D", MAL, RoomGrade::D))
            .await,
        Err(StoreError::NotFound(_))
    ));
    store
        .create_room(&net.teresa, room("SB-S", SEV, RoomGrade::A))
        .await
        .unwrap();
    let check = |id: &str, required| {
        let (store, id) = (store.clone(), RoomId::parse(id).unwrap());
        async move { store.test_check_room(&lab(MAL), &id, required).await }
    };
    assert_eq!(
        check("SB-A", Some(RoomGrade::B)).await.unwrap().grade,
        RoomGrade::A
    );
    assert_eq!(
        check("SB-B", Some(RoomGrade::B)).await.unwrap().grade,
        RoomGrade::B
    );
    assert_eq!(
        refused_rules(
            check("SB-C", Some(RoomGrade::B)).await,
            ErrorCode::RoomNotSuitable
        ),
        ["room_grade_too_low"]
    );
    assert!(check("SB-C", None).await.is_ok());
    // Sevilla's grade A room is no room of Málaga's.
    assert_eq!(
        refused_rules(
            check("SB-S", Some(RoomGrade::D)).await,
            ErrorCode::RoomNotSuitable
        ),
        ["room_not_of_lab"]
    );
    let grades = |rooms: Vec<Room>| {
        rooms
            .into_iter()
            .map(|r| format!("{}/{}:{}", r.lab_code, r.id, r.grade))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        grades(store.list_rooms(&net.sergio, None).await.unwrap()),
        ["MAL-HRU/SB-A:A", "MAL-HRU/SB-B:B", "MAL-HRU/SB-C:C"]
    );
    assert_eq!(
        grades(store.list_rooms(&net.lucia, Some(&lab(SEV))).await.unwrap()),
        ["SEV-UPRC/SB-S:A"]
    );
    assert_eq!(actions(&net, "room", "MAL-HRU/SB-C").await, ["room.create"]);
    intact(store).await;
}
