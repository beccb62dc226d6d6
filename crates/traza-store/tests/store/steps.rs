//! Executing a guided batch (SPEC §8): step entries against the master record with rooms,
//! equipment and lots checked, exceptions raised and resolved, verification by a second
//! person, the record rules of release, and `audit verify` over entries and exceptions — on
//! SQLite and PostgreSQL.

use chrono::Utc;
use rust_decimal::Decimal;
use traza_domain::codes::{EquipmentId, MaterialCode, RoomId};
use traza_domain::equipment::{Equipment, EquipmentClass, EquipmentStatus, Room};
use traza_domain::materials::{LotReceipt, Material, MaterialKind};
use traza_domain::mbr::{MbrMaterial, MbrParameter, MbrStep, ParameterValue};
use traza_domain::vocab::{BatchStatus, ExceptionKind, ExceptionSeverity, RoomGrade};
use traza_store::{StepInput, StoreError, VerifyReport};

use crate::support::*;

fn lab_today() -> chrono::NaiveDate {
    traza_domain::clock::lab_date(Utc::now())
}

fn steps() -> Vec<MbrStep> {
    vec![
        MbrStep {
            code: "siembra".into(),
            title: "Siembra".into(),
            instructions: "Sembrar en frascos T175.".into(),
            room_grade: Some(RoomGrade::B),
            verification_required: false,
            parameters: Vec::new(),
            materials: vec![MbrMaterial {
                material_code: "MED-ALFA".into(),
                quantity: Decimal::new(10, 0),
                unit: "mL".into(),
            }],
            equipment: vec!["biosafety_cabinet".into()],
        },
        MbrStep {
            code: "expansion".into(),
            title: "Expansión".into(),
            instructions: String::new(),
            room_grade: None,
            verification_required: true,
            parameters: vec![MbrParameter {
                name: "temperatura".into(),
                unit: "°C".into(),
                min: Some(dec("36.5")),
                max: Some(dec("37.5")),
                expected: None,
                critical: true,
            }],
            materials: Vec::new(),
            equipment: Vec::new(),
        },
    ]
}

/// MAL-HRU with a released lot of 25 mL of medium, a cabinet in calibration, a grade-B room,
/// an effective master record, and a batch guided by it. Returns the batch number and lot.
async fn guided(net: &Net) -> (String, String) {
    let store = &net.store;
    store
        .create_material(
            &net.lucia,
            Material {
                code: MaterialCode::parse("MED-ALFA").unwrap(),
                name: "Medio alfa-MEM".into(),
                kind: MaterialKind::Medium,
                unit: "mL".into(),
            },
        )
        .await
        .unwrap();
    let lot = store
        .receive_lot(
            &net.cristina,
            LotReceipt {
                lab_code: lab(MAL),
                material_code: MaterialCode::parse("MED-ALFA").unwrap(),
                supplier: "Proveedor".into(),
                supplier_lot: "L-2026-77".into(),
                received_on: today(),
                expiry_date: today() + chrono::Days::new(90),
                quantity_received: dec("25"),
            },
        )
        .await
        .unwrap();
    let lot_id = lot.lot.lot_id.to_string();
    store
        .release_lot(&net.nuria, &lot_id, NURIA_PW)
        .await
        .unwrap();
    store
        .create_equipment(
            &net.nuria,
            Equipment {
                lab_code: lab(MAL),
                id: EquipmentId::parse("CSB-01").unwrap(),
                class: EquipmentClass::parse("biosafety_cabinet").unwrap(),
                status: EquipmentStatus::InService,
                calibration_due: today() + chrono::Days::new(120),
            },
        )
        .await
        .unwrap();
    store
        .create_room(
            &net.nuria,
            Room {
                lab_code: lab(MAL),
                id: RoomId::parse("SALA-B1").unwrap(),
                grade: RoomGrade::B,
            },
        )
        .await
        .unwrap();
    let mbr = store
        .create_master_record(&net.nuria, &product(ALLO), &lab(MAL), steps())
        .await
        .unwrap();
    store
        .approve_master_record(&net.jose, mbr.id, JOSE_PW, lab_today(), None)
        .await
        .unwrap();
    let b = create(
        store,
        &net.cristina,
        ALLO,
        MAL,
        allo_fields("DON-STEP-0001", days_ago(1), 1),
    )
    .await;
    assert_eq!(b.mbr_version, Some(1));
    (b.batch.batch_number.to_string(), lot_id)
}

fn seeding(lot: &str, quantity: &str) -> StepInput {
    StepInput {
        performed_at: Utc::now() - chrono::Duration::hours(1),
        room_id: Some("SALA-B1".into()),
        equipment_ids: vec!["CSB-01".into()],
        parameters: Vec::new(),
        materials: vec![(lot.to_owned(), dec(quantity))],
        note: None,
        corrects: None,
        reason: None,
    }
}

fn expansion(temperature: &str) -> StepInput {
    StepInput {
        performed_at: Utc::now() - chrono::Duration::minutes(30),
        room_id: None,
        equipment_ids: Vec::new(),
        parameters: vec![ParameterValue {
            name: "temperatura".into(),
            value: temperature.into(),
        }],
        materials: Vec::new(),
        note: None,
        corrects: None,
        reason: None,
    }
}

#[both_backends]
async fn a_guided_batch_is_executed_verified_reviewed_and_only_then_certified(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let (number, lot) = guided(&net).await;
    // A room below the step's grade, and equipment missing, are refused before anything.
    let mut wrong_room = seeding(&lot, "10");
    wrong_room.room_id = Some("SALA-X".into());
    assert_eq!(
        refusal(
            store
                .record_step(&net.cristina, &number, "siembra", wrong_room)
                .await
        )
        .0,
        "room_not_suitable"
    );
    let mut more = seeding(&lot, "30");
    more.room_id = Some("SALA-B1".into());
    assert_eq!(
        refusal(
            store
                .record_step(&net.cristina, &number, "siembra", more)
                .await
        )
        .0,
        "material_not_usable"
    );
    // In order, within limits: nothing raised; the lot gives 10 mL.
    let sown = store
        .record_step(&net.cristina, &number, "siembra", seeding(&lot, "10"))
        .await
        .unwrap();
    assert!(sown.exceptions.is_empty(), "{:?}", sown.exceptions);
    assert_eq!(
        store
            .get_lot(&net.cristina, &lot)
            .await
            .unwrap()
            .quantity_available,
        dec("15")
    );
    // A critical parameter out of limits: recorded, a critical exception and a deviation.
    let hot = store
        .record_step(&net.cristina, &number, "expansion", expansion("39"))
        .await
        .unwrap();
    assert_eq!(hot.exceptions.len(), 1);
    let exception = &hot.exceptions[0];
    assert_eq!(
        (exception.kind, exception.severity),
        (
            ExceptionKind::ParameterOutOfLimits,
            ExceptionSeverity::Critical
        )
    );
    assert!(exception.deviation_id.is_some());
    // An unknown verifier is refused like a wrong password.
    let unknown = store
        .verify_step(&net.nuria, &number, "expansion", "nadie.nunca", "x")
        .await;
    assert!(
        matches!(unknown, Err(StoreError::InvalidSignature)),
        "{unknown:?}"
    );
    // Release: the exception is open, the step unverified, the deviation open.
    let rules: Vec<String> = store
        .release_blockers(&net.jose, &number)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.rule)
        .collect();
    assert!(
        rules.contains(&"unresolved_exception".to_owned()),
        "{rules:?}"
    );
    assert!(
        rules.contains(&"batch_record_incomplete".to_owned()),
        "{rules:?}"
    );
    // A critical exception is resolved only with a signature.
    assert_eq!(
        invalid_fields(
            store
                .resolve_exception(&net.jose, &number, exception.id, "Sonda revisada", None)
                .await
        ),
        ["password"]
    );
    let resolved = store
        .resolve_exception(
            &net.jose,
            &number,
            exception.id,
            "Sonda revisada",
            Some(JOSE_PW),
        )
        .await
        .unwrap();
    assert_eq!(resolved.status, "resolved");
    assert!(matches!(
        store.verify_audit_chain().await.unwrap(),
        VerifyReport::Intact { .. }
    ));
    let status = store
        .get_batch(&net.cristina, &number)
        .await
        .unwrap()
        .batch
        .status;
    assert_eq!(status, BatchStatus::InProduction);
}

#[both_backends]
async fn verification_needs_a_second_person_and_a_correction_asks_for_it_again(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let (number, lot) = guided(&net).await;
    store
        .record_step(&net.cristina, &number, "siembra", seeding(&lot, "10"))
        .await
        .unwrap();
    let first = store
        .record_step(&net.nuria, &number, "expansion", expansion("37"))
        .await
        .unwrap();
    assert!(first.exceptions.is_empty());
    let own = store
        .verify_step(
            &net.cristina,
            &number,
            "expansion",
            net.nuria.username.as_str(),
            NURIA_PW,
        )
        .await;
    assert_eq!(refusal(own).0, "four_eyes");
    let checked = store
        .verify_step(
            &net.cristina,
            &number,
            "expansion",
            net.jose.username.as_str(),
            JOSE_PW,
        )
        .await
        .unwrap();
    assert_eq!(
        checked.verified_by.as_deref(),
        Some(net.jose.username.as_str())
    );
    // A correction: a minor exception, and the verification is needed again.
    let mut fix = expansion("37.2");
    fix.corrects = Some(first.entry.id);
    fix.reason = Some("Lectura mal transcrita".into());
    let corrected = store
        .record_step(&net.nuria, &number, "expansion", fix)
        .await
        .unwrap();
    assert_eq!(corrected.exceptions[0].kind, ExceptionKind::Correction);
    let rules: Vec<String> = store
        .release_blockers(&net.jose, &number)
        .await
        .unwrap()
        .into_iter()
        .filter(|d| d.rule == "batch_record_incomplete")
        .filter_map(|d| d.subject)
        .collect();
    assert_eq!(rules, ["expansion"]);
    // Whoever verified a step may not certify the batch (four eyes).
    let jose_rules: Vec<String> = store
        .release_blockers(&net.jose, &number)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.rule)
        .collect();
    assert!(
        jose_rules.iter().any(|r| r == "four_eyes"),
        "{jose_rules:?}"
    );
}

#[both_backends]
async fn a_step_entry_changed_by_sql_is_named_by_verify(ctx: Ctx) {
    let net = network(&ctx.store).await;
    let (number, lot) = guided(&net).await;
    net.store
        .record_step(&net.cristina, &number, "siembra", seeding(&lot, "10"))
        .await
        .unwrap();
    ctx.execute_raw("UPDATE step_entries SET materials = '[]'")
        .await;
    match net.store.verify_audit_chain().await.unwrap() {
        VerifyReport::RowMismatch(m) => {
            assert_eq!((m.table, m.column), ("step_entries", Some("materials")));
        }
        other => panic!("unseen: {other:?}"),
    }
}

#[both_backends]
async fn a_guided_batch_complete_and_reviewed_is_certified_and_the_signature_covers_its_execution(
    ctx: Ctx,
) {
    let net = network(&ctx.store).await;
    let store = &net.store;
    let (number, lot) = guided(&net).await;
    store
        .record_step(&net.cristina, &number, "siembra", seeding(&lot, "10"))
        .await
        .unwrap();
    store
        .record_step(&net.cristina, &number, "expansion", expansion("37"))
        .await
        .unwrap();
    // A colleague of the laboratory verifies; the QA who certifies took no part (authoring
    // and approving the master record does not count).
    store
        .verify_step(
            &net.cristina,
            &number,
            "expansion",
            net.sergio.username.as_str(),
            "demo-tecnico-malaga-2",
        )
        .await
        .unwrap();
    let certifier = (&net.nuria, NURIA_PW);
    record_passing_qc(store, &net.cristina, &number, ALLO).await;
    store
        .complete_batch(&net.cristina, &number, None, today())
        .await
        .unwrap();
    assert!(
        store
            .release_blockers(certifier.0, &number)
            .await
            .unwrap()
            .is_empty()
    );
    let released = store
        .release_batch(
            certifier.0,
            &number,
            None,
            certifier.1,
            traza_domain::vocab::SignatureMeaning::QpCertified,
        )
        .await
        .unwrap();
    assert_eq!(released.batch.status, BatchStatus::Released);
    // The signing event's record is a version 2 manifest holding the entries.
    let events = store.batch_audit(&net.lucia, &number).await.unwrap();
    let release = events
        .iter()
        .find(|e| e.action == "batch.release")
        .expect("the release event");
    let record: serde_json::Value = serde_json::from_str(
        release.after.as_ref().expect("after")["record"]
            .as_str()
            .expect("the signed record"),
    )
    .unwrap();
    assert_eq!(record["manifest"], 2);
    assert_eq!(
        record["batch_record"]["entries"].as_array().map(Vec::len),
        Some(2)
    );
    assert!(matches!(
        store.verify_audit_chain().await.unwrap(),
        VerifyReport::Intact { .. }
    ));
}
