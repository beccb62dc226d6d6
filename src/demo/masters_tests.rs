//! The demo's master records are valid records, and executing them as the demo does raises
//! only the exceptions the demo means to raise.

use chrono::{Duration, Utc};
use traza_domain::mbr::{
    MasterRecord, NewEntry, ParameterValue, StepEntry, check_content, check_entry,
};
use traza_domain::vocab::{ExceptionKind, ExceptionSeverity};
use traza_store::NetworkFixture;

use super::*;
use crate::demo::catalogue::CATALOGUE;

const CLASSES: [&str; 5] = [CABINET, INCUBATOR, CENTRIFUGE, COUNTER, FREEZER];

fn products() -> Vec<Product> {
    NetworkFixture::from_json(include_str!("../../fixtures/network.json"))
        .expect("the fixture network")
        .products
}

fn record(steps: Vec<MbrStep>) -> MasterRecord {
    MasterRecord {
        id: 1,
        product_code: "P".into(),
        lab_code: "L".into(),
        version: 1,
        steps,
        author: "a".into(),
        approved_by: Some("b".into()),
        approved_at: None,
        effective_from: None,
    }
}

#[test]
fn every_product_has_a_valid_record_of_catalogued_materials_and_known_equipment() {
    for p in products() {
        let steps = master_steps(&p);
        check_content(&steps).unwrap_or_else(|e| panic!("{}: {e:?}", p.code));
        for s in &steps {
            for m in &s.materials {
                let stock = stock_of(&m.material_code)
                    .unwrap_or_else(|| panic!("{} {}: {}", p.code, s.code, m.material_code));
                assert_eq!(m.unit, stock.unit, "{} {}", p.code, s.code);
            }
            for class in &s.equipment {
                assert!(CLASSES.contains(&class.as_str()), "{class}");
            }
            if s.parameters.iter().any(|p| p.critical) {
                assert!(s.verification_required, "{} {}", p.code, s.code);
            }
            assert!(s.room_grade.is_some(), "{} {}", p.code, s.code);
        }
        assert!(
            steps.iter().flat_map(|s| &s.parameters).any(|p| p.critical),
            "{}",
            p.code
        );
    }
    let mut codes: Vec<&str> = CATALOGUE.iter().map(|s| s.code).collect();
    codes.dedup();
    assert_eq!(codes.len(), CATALOGUE.len());
}

/// Every step recorded in order, within the hour, with the record's quantities and the demo's
/// readings: no exception at all.
#[test]
fn the_demos_readings_raise_no_exception_and_a_low_one_a_critical_one() {
    for p in products() {
        let mbr = record(master_steps(&p));
        let mut earlier: Vec<StepEntry> = Vec::new();
        let now = Utc::now();
        for (i, s) in mbr.steps.iter().enumerate() {
            let values: Vec<ParameterValue> = s
                .parameters
                .iter()
                .map(|p| ParameterValue {
                    name: p.name.clone(),
                    value: good_value(p),
                })
                .collect();
            let materials: Vec<(String, Decimal)> = s
                .materials
                .iter()
                .map(|m| (m.material_code.clone(), m.quantity))
                .collect();
            let entry = NewEntry {
                step_code: &s.code,
                performed_at: now - Duration::hours(1),
                recorded_at: now,
                parameters: &values,
                materials: &materials,
                corrects: None,
            };
            let raised = check_entry(&mbr, &earlier, &entry, None)
                .unwrap_or_else(|e| panic!("{} {}: {e}", p.code, s.code));
            assert!(raised.is_empty(), "{} {}: {raised:?}", p.code, s.code);
            for critical in s.parameters.iter().filter(|p| p.critical) {
                let Some(low) = out_of_limits(critical) else {
                    continue;
                };
                let values: Vec<ParameterValue> = values
                    .iter()
                    .map(|v| ParameterValue {
                        value: if v.name == critical.name {
                            low.clone()
                        } else {
                            v.value.clone()
                        },
                        ..v.clone()
                    })
                    .collect();
                let raised = check_entry(
                    &mbr,
                    &earlier,
                    &NewEntry {
                        parameters: &values,
                        ..entry.clone()
                    },
                    None,
                )
                .expect("a reading out of limits is recorded");
                assert!(
                    raised
                        .iter()
                        .any(|r| r.kind == ExceptionKind::ParameterOutOfLimits
                            && r.severity == ExceptionSeverity::Critical
                            && r.opens_deviation),
                    "{} {} {}: {raised:?}",
                    p.code,
                    s.code,
                    critical.name
                );
            }
            earlier.push(StepEntry {
                id: i as i64 + 1,
                step_code: s.code.clone(),
                performed_at: entry.performed_at,
                recorded_at: entry.recorded_at,
                performed_by: "staff".into(),
                corrects: None,
                verified_by: None,
            });
        }
    }
}
