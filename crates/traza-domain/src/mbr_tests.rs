use chrono::TimeZone;
use proptest::prelude::*;

use super::*;

fn d(s: &str) -> NaiveDate {
    s.parse().expect("a date")
}

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, day, hour, 0, 0)
        .single()
        .expect("a time")
}

fn step(code: &str) -> MbrStep {
    MbrStep {
        code: code.into(),
        title: format!("Paso {code}"),
        instructions: String::new(),
        room_grade: Some(RoomGrade::B),
        verification_required: false,
        parameters: Vec::new(),
        materials: Vec::new(),
        equipment: Vec::new(),
    }
}

/// Three steps: seeding (a medium, 10 ml), expansion (temperature 36.5–37.5, critical;
/// verified), harvest (appearance `clear`).
fn mbr() -> MasterRecord {
    let mut seeding = step("siembra");
    seeding.materials.push(MbrMaterial {
        material_code: "MED-ALFA".into(),
        quantity: Decimal::new(10, 0),
        unit: "ml".into(),
    });
    let mut expansion = step("expansion");
    expansion.verification_required = true;
    expansion.parameters.push(MbrParameter {
        name: "temperatura".into(),
        unit: "°C".into(),
        min: Some(Decimal::new(365, 1)),
        max: Some(Decimal::new(375, 1)),
        expected: None,
        critical: true,
    });
    let mut harvest = step("cosecha");
    harvest.parameters.push(MbrParameter {
        name: "aspecto".into(),
        unit: String::new(),
        min: None,
        max: None,
        expected: Some("claro".into()),
        critical: false,
    });
    MasterRecord {
        id: 1,
        product_code: "MSC-AD-ALO".into(),
        lab_code: "GRA-UPCIT".into(),
        version: 1,
        steps: vec![seeding, expansion, harvest],
        author: "isabel.morales".into(),
        approved_by: Some("carmen.ruiz".into()),
        approved_at: Some(at(1, 9)),
        effective_from: Some(d("2026-12-01")),
    }
}

fn entry(id: i64, code: &str, by: &str) -> StepEntry {
    StepEntry {
        id,
        step_code: code.into(),
        performed_at: at(2, 10),
        recorded_at: at(2, 11),
        performed_by: by.into(),
        corrects: None,
        verified_by: None,
    }
}

fn new_entry<'a>(
    code: &'a str,
    parameters: &'a [ParameterValue],
    materials: &'a [(String, Decimal)],
) -> NewEntry<'a> {
    NewEntry {
        step_code: code,
        performed_at: at(2, 10),
        recorded_at: at(2, 11),
        parameters,
        materials,
        corrects: None,
    }
}

fn value(name: &str, v: &str) -> ParameterValue {
    ParameterValue {
        name: name.into(),
        value: v.into(),
    }
}

#[test]
fn the_status_follows_the_dates_and_the_next_version() {
    let v1 = mbr();
    let mut v2 = MasterRecord {
        id: 2,
        version: 2,
        effective_from: Some(d("2026-12-10")),
        ..mbr()
    };
    let versions = [v1.clone(), v2.clone()];
    assert_eq!(
        v1.status_on(d("2026-12-05"), &versions),
        MbrStatus::Effective
    );
    assert_eq!(
        v2.status_on(d("2026-12-05"), &versions),
        MbrStatus::Approved
    );
    assert_eq!(
        v1.status_on(d("2026-12-10"), &versions),
        MbrStatus::Superseded
    );
    assert_eq!(
        v2.status_on(d("2026-12-10"), &versions),
        MbrStatus::Effective
    );
    assert_eq!(
        effective_on(&versions, d("2026-11-30")),
        None,
        "nothing before the first takes effect"
    );
    v2.approved_by = None;
    v2.effective_from = None;
    let versions = [v1.clone(), v2.clone()];
    assert_eq!(v2.status_on(d("2026-12-20"), &versions), MbrStatus::Draft);
    assert_eq!(
        v1.status_on(d("2026-12-20"), &versions),
        MbrStatus::Effective
    );
}

#[test]
fn the_author_never_approves_and_an_approved_version_never_changes() {
    let mut draft = mbr();
    draft.approved_by = None;
    draft.effective_from = None;
    assert_eq!(
        check_approval(
            &draft,
            &[],
            "isabel.morales",
            d("2026-12-05"),
            d("2026-12-05")
        ),
        Err(MbrRefusal::AuthorApproves)
    );
    assert!(matches!(
        check_approval(&draft, &[], "carmen.ruiz", d("2026-12-04"), d("2026-12-05")),
        Err(MbrRefusal::EffectiveInThePast { .. })
    ));
    assert_eq!(
        check_approval(&draft, &[], "carmen.ruiz", d("2026-12-05"), d("2026-12-05")),
        Ok(())
    );
    assert_eq!(check_edit(&draft), Ok(()));
    assert_eq!(check_edit(&mbr()), Err(MbrRefusal::Locked(1)));
    assert_eq!(
        check_approval(&mbr(), &[], "carmen.ruiz", d("2026-12-05"), d("2026-12-05")),
        Err(MbrRefusal::Locked(1))
    );
    // Whoever edited the draft may not approve it either.
    assert_eq!(
        check_approval(
            &draft,
            &["carmen.ruiz"],
            "carmen.ruiz",
            d("2026-12-05"),
            d("2026-12-05")
        ),
        Err(MbrRefusal::AuthorApproves)
    );
}

#[test]
fn content_is_checked_whole() {
    assert!(check_content(&mbr().steps).is_ok());
    let mut steps = mbr().steps;
    steps.push(step("siembra"));
    let again = steps[1].parameters[0].clone();
    steps[1].parameters.push(again);
    steps[0].materials[0].quantity = Decimal::ZERO;
    let errors = check_content(&steps).expect_err("three problems").0;
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "steps[0].materials[0].quantity",
            "steps[1].parameters[1].name",
            "steps[3].code"
        ]
    );
    assert!(check_content(&[]).is_err());
    // A code that would change the address of its forms (`../retener`).
    let mut steps = mbr().steps;
    steps[0].code = "../retener".to_owned();
    let errors = check_content(&steps).expect_err("a path in a code").0;
    assert_eq!(errors[0].field, "steps[0].code");
    // A material without a code and an equipment class that is not a word.
    let mut steps = mbr().steps;
    steps[0].materials[0].material_code = String::new();
    steps[0].equipment.push("¿?".to_owned());
    let errors = check_content(&steps).expect_err("two problems").0;
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "steps[0].equipment[0]",
            "steps[0].materials[0].material_code"
        ]
    );
}

#[test]
fn an_entry_in_order_within_limits_raises_nothing() {
    let m = mbr();
    let medium = [("MED-ALFA".to_owned(), Decimal::new(10, 0))];
    assert_eq!(
        check_entry(&m, &[], &new_entry("siembra", &[], &medium), None),
        Ok(vec![])
    );
    let earlier = [entry(1, "siembra", "marta")];
    let temp = [value("temperatura", "37,0")];
    assert!(
        check_entry(&m, &earlier, &new_entry("expansion", &temp, &[]), None).is_err(),
        "a comma is not the API's decimal point"
    );
    let temp = [value("temperatura", "37.0")];
    assert_eq!(
        check_entry(&m, &earlier, &new_entry("expansion", &temp, &[]), None),
        Ok(vec![])
    );
}

#[test]
fn a_recorded_step_is_recorded_again_only_as_a_correction() {
    let m = mbr();
    let medium = [("MED-ALFA".to_owned(), Decimal::new(10, 0))];
    let earlier = [entry(1, "siembra", "marta")];
    assert_eq!(
        check_entry(&m, &earlier, &new_entry("siembra", &[], &medium), None),
        Err(EntryRefusal::AlreadyRecorded {
            step: "siembra".into(),
            current: 1
        })
    );
    let mut correction = new_entry("siembra", &[], &medium);
    correction.corrects = Some(1);
    assert!(check_entry(&m, &earlier, &correction, Some("volumen mal anotado")).is_ok());
}

#[test]
fn each_exception_kind_is_raised() {
    let m = mbr();
    // Out of limits on a critical parameter, and out of order (seeding not recorded).
    let temp = [value("temperatura", "39")];
    let raised = check_entry(&m, &[], &new_entry("expansion", &temp, &[]), None).expect("recorded");
    let kinds: Vec<_> = raised
        .iter()
        .map(|r| (r.kind, r.severity, r.opens_deviation))
        .collect();
    assert_eq!(
        kinds,
        [
            (
                ExceptionKind::ParameterOutOfLimits,
                ExceptionSeverity::Critical,
                true
            ),
            (ExceptionKind::OutOfOrder, ExceptionSeverity::Major, false),
        ]
    );
    assert!(raised[1].message.contains("siembra"), "{:?}", raised[1]);
    // A word against its expected value: not critical, so major.
    let earlier = [entry(1, "siembra", "m"), entry(2, "expansion", "m")];
    let look = [value("aspecto", "turbio")];
    let raised = check_entry(&m, &earlier, &new_entry("cosecha", &look, &[]), None).expect("ok");
    assert_eq!(raised[0].severity, ExceptionSeverity::Major);
    let look = [value("aspecto", "Claro")];
    assert_eq!(
        check_entry(&m, &earlier, &new_entry("cosecha", &look, &[]), None),
        Ok(vec![])
    );
    // Another quantity, and a material the MBR does not name.
    let medium = [
        ("MED-ALFA".to_owned(), Decimal::new(12, 0)),
        ("TRIPSINA".to_owned(), Decimal::ONE),
    ];
    let raised = check_entry(&m, &[], &new_entry("siembra", &[], &medium), None).expect("ok");
    assert_eq!(raised.len(), 1);
    assert_eq!(raised[0].kind, ExceptionKind::QuantityDiffers);
    assert!(raised[0].message.contains("TRIPSINA"), "{:?}", raised[0]);
    // Late: recorded 25 hours after.
    let medium = [("MED-ALFA".to_owned(), Decimal::new(10, 0))];
    let late = NewEntry {
        recorded_at: at(3, 11),
        ..new_entry("siembra", &[], &medium)
    };
    let raised = check_entry(&m, &[], &late, None).expect("ok");
    assert_eq!(raised[0].kind, ExceptionKind::LateEntry);
    // A correction of the current entry, with its reason.
    let earlier = [entry(1, "siembra", "m")];
    let correction = NewEntry {
        corrects: Some(1),
        ..new_entry("siembra", &[], &medium)
    };
    assert_eq!(
        check_entry(&m, &earlier, &correction, None),
        Err(EntryRefusal::CorrectionWithoutReason)
    );
    let raised = check_entry(&m, &earlier, &correction, Some("volumen mal anotado")).expect("ok");
    assert_eq!(raised[0].kind, ExceptionKind::Correction);
    let of_other = NewEntry {
        corrects: Some(7),
        ..new_entry("siembra", &[], &medium)
    };
    assert_eq!(
        check_entry(&m, &earlier, &of_other, Some("x")),
        Err(EntryRefusal::NotCorrectable(7))
    );
}

#[test]
fn a_step_performed_in_the_future_is_refused() {
    let m = mbr();
    let medium = [("MED-ALFA".to_owned(), Decimal::new(10, 0))];
    let ahead = NewEntry {
        performed_at: at(2, 13),
        recorded_at: at(2, 11),
        ..new_entry("siembra", &[], &medium)
    };
    let refused = check_entry(&m, &[], &ahead, None);
    assert!(
        matches!(refused, Err(EntryRefusal::Invalid(_))),
        "{refused:?}"
    );
}

#[test]
fn parameters_are_exactly_the_step_s() {
    let m = mbr();
    let earlier = [entry(1, "siembra", "m")];
    let refused = check_entry(&m, &earlier, &new_entry("expansion", &[], &[]), None);
    assert!(
        matches!(refused, Err(EntryRefusal::Invalid(_))),
        "{refused:?}"
    );
    let extra = [value("temperatura", "37"), value("ph", "7.2")];
    let refused = check_entry(&m, &earlier, &new_entry("expansion", &extra, &[]), None);
    assert!(
        matches!(refused, Err(EntryRefusal::Invalid(_))),
        "{refused:?}"
    );
    assert_eq!(
        check_entry(&m, &earlier, &new_entry("congelacion", &[], &[]), None),
        Err(EntryRefusal::UnknownStep("congelacion".into()))
    );
}

#[test]
fn a_correction_replaces_the_entry_and_asks_for_a_new_verification() {
    let m = mbr();
    let mut first = entry(2, "expansion", "marta");
    first.verified_by = Some("pablo".into());
    let mut correction = entry(3, "expansion", "marta");
    correction.corrects = Some(2);
    let entries = [entry(1, "siembra", "marta"), first, correction];
    let current = current_entries(&entries);
    assert_eq!(current["expansion"].id, 3);
    assert_eq!(
        record_blockers(&m, &entries, &[]),
        [
            RecordBlocker::VerificationMissing("expansion".into()),
            RecordBlocker::StepMissing("cosecha".into()),
        ]
    );
    assert_eq!(
        check_verification(&m, &entries, "expansion", "marta"),
        Err(VerificationRefusal::OwnStep)
    );
    assert_eq!(
        check_verification(&m, &entries, "expansion", "pablo").map(|e| e.id),
        Ok(3)
    );
    assert_eq!(
        check_verification(&m, &entries, "siembra", "pablo"),
        Err(VerificationRefusal::NotRequired)
    );
}

#[test]
fn open_exceptions_block_release_and_critical_ones_need_a_signature() {
    let m = mbr();
    let mut verified = entry(2, "expansion", "marta");
    verified.verified_by = Some("pablo".into());
    let entries = [
        entry(1, "siembra", "marta"),
        verified,
        entry(3, "cosecha", "marta"),
    ];
    let mut critical = RecordedException {
        id: 9,
        kind: ExceptionKind::ParameterOutOfLimits,
        severity: ExceptionSeverity::Critical,
        step_code: "expansion".into(),
        resolved: false,
    };
    let blockers = record_blockers(&m, &entries, std::slice::from_ref(&critical));
    assert_eq!(blockers.len(), 1);
    assert_eq!(blockers[0].rule(), "unresolved_exception");
    assert_eq!(
        check_resolution(&critical, "revisado", false),
        Err(ResolutionRefusal::SignatureRequired)
    );
    assert_eq!(
        check_resolution(&critical, "  ", true),
        Err(ResolutionRefusal::NoComment)
    );
    assert_eq!(check_resolution(&critical, "revisado", true), Ok(()));
    critical.resolved = true;
    assert!(record_blockers(&m, &entries, &[critical]).is_empty());
}

proptest! {
    /// However entries and corrections come, each step has at most one current entry, and it
    /// is never one that a later entry corrects.
    #[test]
    fn every_step_has_at_most_one_current_entry(
        plan in proptest::collection::vec((0usize..3, proptest::option::of(0usize..8)), 0..12)
    ) {
        let codes = ["siembra", "expansion", "cosecha"];
        let mut entries: Vec<StepEntry> = Vec::new();
        for (i, (step, corrects)) in plan.iter().enumerate() {
            let mut e = entry(i as i64 + 1, codes[*step], "m");
            e.corrects = corrects
                .filter(|c| *c < entries.len())
                .map(|c| entries[c].id)
                .filter(|id| entries.iter().any(|x| x.id == *id && x.step_code == codes[*step]));
            entries.push(e);
        }
        let current = current_entries(&entries);
        let corrected: BTreeSet<i64> = entries.iter().filter_map(|e| e.corrects).collect();
        for (code, e) in &current {
            prop_assert_eq!(*code, e.step_code.as_str());
            prop_assert!(!corrected.contains(&e.id));
        }
        prop_assert!(current.len() <= 3);
    }
}
