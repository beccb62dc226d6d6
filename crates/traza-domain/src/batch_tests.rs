//! Tests of the batch rules: the state machine, field checks, creation, completion, QC
//! results, QP release, administration and correction (SPEC §2 "Batch").

use super::*;
use crate::network::Period;
use crate::network::tests::{accepted, day, lab, product, proposal};
use proptest::prelude::*;
use rust_decimal::dec;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

use BatchStatus::{Administered, InProduction, Quarantine, Rejected, Released};

/// Every move the state machine knows, with both kinds of administration.
const TRANSITIONS: [Transition; 5] = [
    Transition::Complete,
    Transition::Release,
    Transition::Reject,
    Transition::Administer { last_dose: false },
    Transition::Administer { last_dose: true },
];

/// The diagram of SPEC §2, written out independently of `BatchStatus::apply`.
const EDGES: [(BatchStatus, Transition, BatchStatus); 6] = [
    (InProduction, Transition::Complete, Quarantine),
    (Quarantine, Transition::Release, Released),
    (InProduction, Transition::Reject, Rejected),
    (Quarantine, Transition::Reject, Rejected),
    (
        Released,
        Transition::Administer { last_dose: false },
        Released,
    ),
    (
        Released,
        Transition::Administer { last_dose: true },
        Administered,
    ),
];

const OWN_PATIENT: &str = "PAC-0042";
const OTHER_PATIENT: &str = "PAC-9999";
const ALLOGENEIC_DONOR: &str = "DON-0007";
const SIGNER: &str = "qp_garcia";

fn donor(code: &str) -> DonorCode {
    DonorCode::parse(code).unwrap()
}

fn patient(code: &str) -> PatientCode {
    PatientCode::parse(code).unwrap()
}

/// Valid fields of an autologous batch under hospital exemption, started 2026-03-02 and not
/// yet finished.
fn fields() -> BatchFields {
    BatchFields {
        access_route: AccessRoute::HospitalExemption,
        trial_id: None,
        donor_code: donor(OWN_PATIENT),
        patient_code: Some(patient(OWN_PATIENT)),
        collection_date: Some(day("2026-03-01")),
        manufacturing_start: day("2026-03-02"),
        manufacturing_end: None,
        expiry_date: None,
        cell_count: Some(dec!(1500000)),
        viability_percent: Some(dec!(92.5)),
        volume_ml: Some(dec!(10)),
        doses: 1,
        notes: None,
    }
}

/// The field names `field_errors` reports.
fn invalid_fields(f: &BatchFields) -> Vec<String> {
    f.field_errors().into_iter().map(|e| e.field).collect()
}

/// A batch of UGRSKIN at GRA-UPCIT made 2026-03-02..2026-03-20, expiring 2026-03-23 (3 days
/// of shelf life). Autologous: one dose for patient PAC-0042; allogeneic: three doses.
/// Released and administered batches were released on 2026-03-21.
pub(crate) fn batch(origin: Origin, status: BatchStatus) -> Batch {
    let (donor_code, patient_code, doses) = match origin {
        Origin::Autologous => (donor(OWN_PATIENT), Some(patient(OWN_PATIENT)), 1),
        Origin::Allogeneic => (donor(ALLOGENEIC_DONOR), None, 3),
    };
    let released = matches!(status, Released | Administered);
    Batch {
        batch_number: BatchNumber::generated(&LabCode::parse("GRA-UPCIT").unwrap(), 2026, 1),
        product_code: ProductCode::parse("UGRSKIN").unwrap(),
        lab_code: LabCode::parse("GRA-UPCIT").unwrap(),
        origin,
        access_route: AccessRoute::HospitalExemption,
        trial_id: None,
        donor_code,
        patient_code,
        collection_date: Some(day("2026-03-01")),
        manufacturing_start: day("2026-03-02"),
        manufacturing_end: Some(day("2026-03-20")),
        expiry_date: Some(day("2026-03-23")),
        cell_count: Some(dec!(1500000)),
        viability_percent: Some(dec!(92.5)),
        volume_ml: Some(dec!(10)),
        doses,
        status,
        released_by: released.then(|| "Dra. Ana García".to_owned()),
        release_date: released.then(|| day("2026-03-21")),
        notes: None,
        version: 3,
        source: Source::Api,
        import_id: None,
        import_line: None,
        on_hold: false,
    }
}

/// The hospital-exemption assignment of UGRSKIN to GRA-UPCIT, open-ended from 2026-01-01.
fn assignments() -> Vec<Assignment> {
    vec![accepted(1, proposal("2026-01-01", None))]
}

fn creation<'a>(
    lab: &'a Laboratory,
    product: &'a Product,
    assignments: &'a [Assignment],
    started_in_month: u32,
) -> CreationContext<'a> {
    CreationContext {
        lab,
        product,
        assignments,
        started_in_month,
    }
}

fn qc(id: i64, test: &str, outcome: QcOutcome, supersedes: Option<i64>) -> QcResult {
    QcResult {
        id,
        test: test.into(),
        value: if outcome == QcOutcome::Pass {
            "pass-value"
        } else {
            "fail-value"
        }
        .into(),
        unit: String::new(),
        outcome,
        spec_version: 1,
        supersedes,
        reason: supersedes.map(|_| "OOS investigation: sampling error".to_owned()),
        recorded_by: "tecnico1".into(),
        deviation_id: None,
        superseded_by: None,
    }
}

/// Current passing results of both required tests (viability, sterility).
fn passing_results() -> Vec<QcResult> {
    vec![
        qc(1, "viability", QcOutcome::Pass, None),
        qc(2, "sterility", QcOutcome::Pass, None),
    ]
}

fn participants() -> BTreeSet<String> {
    ["tecnico1".to_owned(), "tecnico2".to_owned()].into()
}

/// The current result id of each test, by test name.
fn current_ids(results: &[QcResult]) -> Vec<(&str, i64)> {
    let mut ids: Vec<_> = current_results(results)
        .iter()
        .map(|r| (r.test.as_str(), r.id))
        .collect();
    ids.sort_unstable();
    ids
}

fn rules(blockers: &[ReleaseBlocker]) -> Vec<&'static str> {
    blockers.iter().map(ReleaseBlocker::rule).collect()
}

/// Release blockers of `batch` with the given results, no deviations, signed by [`SIGNER`]
/// on 2026-03-21.
fn blockers_with(batch: &Batch, results: &[QcResult]) -> Vec<ReleaseBlocker> {
    let product = product(batch.origin);
    release_blockers(&ReleaseContext {
        batch,
        product: &product,
        signer: SIGNER,
        participants: &participants(),
        results,
        deviations: &[],
        holds: &[],
        today: day("2026-03-21"),
    })
}

fn any_transition() -> impl Strategy<Value = Transition> {
    prop_oneof![
        Just(Transition::Complete),
        Just(Transition::Release),
        Just(Transition::Reject),
        any::<bool>().prop_map(|last_dose| Transition::Administer { last_dose }),
    ]
}

/// Periods within a few years of 2020-01-01, open-ended or ending on or after their start.
fn any_period() -> impl Strategy<Value = Period> {
    (0u64..1500, prop::option::of(0u64..400)).prop_map(|(from, length)| {
        let valid_from = day("2020-01-01") + chrono::Days::new(from);
        Period {
            valid_from,
            valid_until: length.map(|l| valid_from + chrono::Days::new(l)),
        }
    })
}

// ---------------------------------------------------------------------------------------------
// 1. State machine
// ---------------------------------------------------------------------------------------------

#[test]
fn complete_moves_in_production_to_quarantine() {
    assert_eq!(InProduction.apply(Transition::Complete), Ok(Quarantine));
}

#[test]
fn release_moves_quarantine_to_released() {
    assert_eq!(Quarantine.apply(Transition::Release), Ok(Released));
}

#[test]
fn reject_moves_in_production_to_rejected() {
    assert_eq!(InProduction.apply(Transition::Reject), Ok(Rejected));
}

#[test]
fn reject_moves_quarantine_to_rejected() {
    assert_eq!(Quarantine.apply(Transition::Reject), Ok(Rejected));
}

#[test]
fn administering_a_dose_that_is_not_the_last_keeps_the_batch_released() {
    assert_eq!(
        Released.apply(Transition::Administer { last_dose: false }),
        Ok(Released)
    );
}

#[test]
fn administering_the_last_dose_moves_released_to_administered() {
    assert_eq!(
        Released.apply(Transition::Administer { last_dose: true }),
        Ok(Administered)
    );
}

#[test]
fn every_move_off_the_diagram_is_an_invalid_transition_from_the_current_status() {
    let mut refused = 0;
    for &from in BatchStatus::ALL {
        for transition in TRANSITIONS {
            let edge = EDGES
                .iter()
                .find(|(f, t, _)| *f == from && *t == transition);
            match edge {
                Some(&(_, _, to)) => {
                    assert_eq!(from.apply(transition), Ok(to), "{from} --{transition:?}-->")
                }
                None => {
                    refused += 1;
                    assert_eq!(
                        from.apply(transition),
                        Err(InvalidTransition { from, transition }),
                        "{from} --{transition:?}-->"
                    );
                }
            }
        }
    }
    assert_eq!(
        refused,
        BatchStatus::ALL.len() * TRANSITIONS.len() - EDGES.len()
    );
}

#[test]
fn invalid_transition_message_names_status_and_move() {
    let err = Rejected.apply(Transition::Release).unwrap_err();
    assert_eq!(err.to_string(), "a batch that is rejected cannot release");
}

#[test]
fn only_batches_in_production_or_quarantine_accept_records() {
    for &status in BatchStatus::ALL {
        let expected = matches!(status, InProduction | Quarantine);
        assert_eq!(status.accepts_records(), expected, "{status}");
    }
}

#[test]
fn released_rejected_and_administered_batches_are_locked() {
    for (status, locked) in [
        (InProduction, false),
        (Quarantine, false),
        (Released, true),
        (Rejected, true),
        (Administered, true),
    ] {
        assert_eq!(status.is_locked(), locked, "{status}");
    }
}

proptest! {
    #[test]
    fn random_walks_follow_only_the_diagram_and_end_states_are_final(steps in prop::collection::vec(any_transition(), 0..40)) {
        let mut status = InProduction;
        for transition in steps {
            let before = status;
            match status.apply(transition) {
                Ok(next) => {
                    prop_assert!(EDGES.contains(&(status, transition, next)), "{status} --{transition:?}--> {next}");
                    status = next;
                }
                Err(err) => prop_assert_eq!(err, InvalidTransition { from: status, transition }),
            }
            if matches!(before, Rejected | Administered) {
                prop_assert_eq!(status, before);
            }
        }
    }

    #[test]
    fn period_overlap_is_symmetric_and_a_shared_day_means_overlap(a in any_period(), b in any_period(), offset in 0u64..2000) {
        prop_assert_eq!(a.overlaps(&b), b.overlaps(&a));
        let d = day("2020-01-01") + chrono::Days::new(offset);
        if a.covers(d) && b.covers(d) {
            prop_assert!(a.overlaps(&b));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Field checks
// ---------------------------------------------------------------------------------------------

#[test]
fn valid_fields_have_no_errors() {
    assert_eq!(fields().field_errors(), []);
}

#[test]
fn doses_must_be_at_least_one() {
    assert_eq!(
        invalid_fields(&BatchFields {
            doses: 0,
            ..fields()
        }),
        ["doses"]
    );
    assert!(
        invalid_fields(&BatchFields {
            doses: 1,
            ..fields()
        })
        .is_empty()
    );
}

#[test]
fn viability_must_be_between_0_and_100_inclusive() {
    for ok in [dec!(0), dec!(100), dec!(50.5)] {
        assert!(
            invalid_fields(&BatchFields {
                viability_percent: Some(ok),
                ..fields()
            })
            .is_empty(),
            "{ok}"
        );
    }
    for bad in [dec!(-0.01), dec!(100.01)] {
        assert_eq!(
            invalid_fields(&BatchFields {
                viability_percent: Some(bad),
                ..fields()
            }),
            ["viability_percent"],
            "{bad}"
        );
    }
}

#[test]
fn cell_count_must_not_be_negative() {
    assert!(
        invalid_fields(&BatchFields {
            cell_count: Some(dec!(0)),
            ..fields()
        })
        .is_empty()
    );
    assert_eq!(
        invalid_fields(&BatchFields {
            cell_count: Some(dec!(-1)),
            ..fields()
        }),
        ["cell_count"]
    );
}

#[test]
fn volume_must_be_positive() {
    assert!(
        invalid_fields(&BatchFields {
            volume_ml: Some(dec!(0.1)),
            ..fields()
        })
        .is_empty()
    );
    assert_eq!(
        invalid_fields(&BatchFields {
            volume_ml: Some(dec!(0)),
            ..fields()
        }),
        ["volume_ml"]
    );
    assert_eq!(
        invalid_fields(&BatchFields {
            volume_ml: Some(dec!(-5)),
            ..fields()
        }),
        ["volume_ml"]
    );
}

#[test]
fn collection_must_not_be_after_manufacturing_start() {
    assert!(
        invalid_fields(&BatchFields {
            collection_date: Some(day("2026-03-02")),
            ..fields()
        })
        .is_empty()
    );
    assert_eq!(
        invalid_fields(&BatchFields {
            collection_date: Some(day("2026-03-03")),
            ..fields()
        }),
        ["collection_date"]
    );
}

#[test]
fn manufacturing_end_must_not_be_before_start() {
    assert!(
        invalid_fields(&BatchFields {
            manufacturing_end: Some(day("2026-03-02")),
            ..fields()
        })
        .is_empty()
    );
    assert_eq!(
        invalid_fields(&BatchFields {
            manufacturing_end: Some(day("2026-03-01")),
            collection_date: None,
            ..fields()
        }),
        ["manufacturing_end"]
    );
}

#[test]
fn expiry_must_not_be_before_the_end_or_else_the_start() {
    let ended = BatchFields {
        manufacturing_end: Some(day("2026-03-20")),
        ..fields()
    };
    assert!(
        invalid_fields(&BatchFields {
            expiry_date: Some(day("2026-03-20")),
            ..ended.clone()
        })
        .is_empty()
    );
    assert_eq!(
        invalid_fields(&BatchFields {
            expiry_date: Some(day("2026-03-19")),
            ..ended
        }),
        ["expiry_date"]
    );
    assert!(
        invalid_fields(&BatchFields {
            expiry_date: Some(day("2026-03-02")),
            ..fields()
        })
        .is_empty()
    );
    assert_eq!(
        invalid_fields(&BatchFields {
            expiry_date: Some(day("2026-03-01")),
            ..fields()
        }),
        ["expiry_date"]
    );
}

#[test]
fn trial_id_is_required_for_clinical_trials_only() {
    let trial = BatchFields {
        access_route: AccessRoute::ClinicalTrial,
        ..fields()
    };
    assert_eq!(invalid_fields(&trial), ["trial_id"]);
    let with_id = BatchFields {
        trial_id: Some(TrialId::parse("2021-001234-56").unwrap()),
        ..trial
    };
    assert!(invalid_fields(&with_id).is_empty());
    assert!(
        invalid_fields(&BatchFields {
            access_route: AccessRoute::CompassionateUse,
            ..fields()
        })
        .is_empty()
    );
}

#[test]
fn every_invalid_field_is_reported_at_once() {
    let f = BatchFields {
        access_route: AccessRoute::ClinicalTrial,
        collection_date: Some(day("2026-03-05")),
        manufacturing_end: Some(day("2026-03-01")),
        expiry_date: Some(day("2026-02-01")),
        cell_count: Some(dec!(-1)),
        viability_percent: Some(dec!(101)),
        volume_ml: Some(dec!(0)),
        doses: 0,
        ..fields()
    };
    assert_eq!(
        invalid_fields(&f),
        [
            "doses",
            "viability_percent",
            "cell_count",
            "volume_ml",
            "collection_date",
            "manufacturing_end",
            "expiry_date",
            "trial_id"
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Creation
// ---------------------------------------------------------------------------------------------

#[test]
fn creation_defaults_expiry_to_end_plus_shelf_life() {
    let (lab, product, assignments) = (lab(), product(Origin::Autologous), assignments());
    let f = BatchFields {
        manufacturing_end: Some(day("2026-03-20")),
        ..fields()
    };
    assert_eq!(
        check_creation(&f, &creation(&lab, &product, &assignments, 0)),
        Ok(Some(day("2026-03-23")))
    );
}

#[test]
fn creation_keeps_a_given_expiry_and_has_none_without_an_end() {
    let (lab, product, assignments) = (lab(), product(Origin::Autologous), assignments());
    let ctx = creation(&lab, &product, &assignments, 0);
    let f = BatchFields {
        manufacturing_end: Some(day("2026-03-20")),
        expiry_date: Some(day("2026-03-21")),
        ..fields()
    };
    assert_eq!(check_creation(&f, &ctx), Ok(Some(day("2026-03-21"))));
    assert_eq!(check_creation(&fields(), &ctx), Ok(None));
}

#[test]
fn creation_refuses_invalid_fields() {
    let (lab, product, assignments) = (lab(), product(Origin::Autologous), assignments());
    let refused = check_creation(
        &BatchFields {
            doses: 0,
            ..fields()
        },
        &creation(&lab, &product, &assignments, 0),
    );
    assert!(
        matches!(refused, Err(CreationRefusal::Invalid(ref e)) if e.len() == 1 && e[0].field == "doses"),
        "{refused:?}"
    );
}

#[test]
fn creation_refuses_a_withdrawn_product() {
    let (lab, assignments) = (lab(), assignments());
    let product = Product {
        status: ProductStatus::Withdrawn,
        ..product(Origin::Autologous)
    };
    assert_eq!(
        check_creation(&fields(), &creation(&lab, &product, &assignments, 0)),
        Err(CreationRefusal::ProductNotActive)
    );
}

#[test]
fn creation_refuses_a_route_the_product_does_not_offer() {
    let (lab, product, assignments) = (lab(), product(Origin::Autologous), assignments());
    let f = BatchFields {
        access_route: AccessRoute::CompassionateUse,
        ..fields()
    };
    assert_eq!(
        check_creation(&f, &creation(&lab, &product, &assignments, 0)),
        Err(CreationRefusal::RouteNotOffered(
            AccessRoute::CompassionateUse
        ))
    );
}

#[test]
fn creation_refuses_a_suspended_lab() {
    let (product, assignments) = (product(Origin::Autologous), assignments());
    let lab = Laboratory {
        status: LabStatus::Suspended,
        ..lab()
    };
    assert_eq!(
        check_creation(&fields(), &creation(&lab, &product, &assignments, 0)),
        Err(CreationRefusal::LabNotManufacturing {
            suspended: true,
            training_only: false
        })
    );
}

#[test]
fn creation_refuses_a_training_only_lab() {
    let (product, assignments) = (product(Origin::Autologous), assignments());
    let lab = Laboratory {
        training_only: true,
        ..lab()
    };
    assert_eq!(
        check_creation(&fields(), &creation(&lab, &product, &assignments, 0)),
        Err(CreationRefusal::LabNotManufacturing {
            suspended: false,
            training_only: true
        })
    );
}

#[test]
fn autologous_creation_without_a_patient_breaks_the_chain_of_identity() {
    let (lab, product, assignments) = (lab(), product(Origin::Autologous), assignments());
    let f = BatchFields {
        patient_code: None,
        ..fields()
    };
    assert_eq!(
        check_creation(&f, &creation(&lab, &product, &assignments, 0)),
        Err(CreationRefusal::ChainOfIdentity)
    );
}

#[test]
fn autologous_creation_for_another_patient_breaks_the_chain_of_identity() {
    let (lab, product, assignments) = (lab(), product(Origin::Autologous), assignments());
    let f = BatchFields {
        patient_code: Some(patient(OTHER_PATIENT)),
        ..fields()
    };
    assert_eq!(
        check_creation(&f, &creation(&lab, &product, &assignments, 0)),
        Err(CreationRefusal::ChainOfIdentity)
    );
}

#[test]
fn autologous_creation_matches_a_din_with_and_without_its_check_character() {
    let (lab, product, assignments) = (lab(), product(Origin::Autologous), assignments());
    let f = BatchFields {
        donor_code: donor("A999926000001"),
        patient_code: Some(patient("A9999260000018")),
        ..fields()
    };
    assert_eq!(
        check_creation(&f, &creation(&lab, &product, &assignments, 0)),
        Ok(None)
    );
}

#[test]
fn allogeneic_creation_needs_no_patient() {
    let (lab, product, assignments) = (lab(), product(Origin::Allogeneic), assignments());
    let f = BatchFields {
        donor_code: donor(ALLOGENEIC_DONOR),
        patient_code: None,
        ..fields()
    };
    assert_eq!(
        check_creation(&f, &creation(&lab, &product, &assignments, 0)),
        Ok(None)
    );
}

#[test]
fn creation_by_a_route_without_an_assignment_is_refused() {
    let (lab, product, assignments) = (lab(), product(Origin::Autologous), assignments());
    let f = BatchFields {
        access_route: AccessRoute::ClinicalTrial,
        trial_id: Some(TrialId::parse("2025-512345-12-00").unwrap()),
        ..fields()
    };
    assert_eq!(
        check_creation(&f, &creation(&lab, &product, &assignments, 0)),
        Err(CreationRefusal::NoAssignment)
    );
}

#[test]
fn creation_outside_the_assignment_period_is_refused() {
    let (lab, product) = (lab(), product(Origin::Autologous));
    let ended = [accepted(1, proposal("2026-01-01", Some("2026-03-01")))];
    let ctx = creation(&lab, &product, &ended, 0);
    assert_eq!(
        check_creation(&fields(), &ctx),
        Err(CreationRefusal::NoAssignment)
    );
    let before = BatchFields {
        collection_date: None,
        manufacturing_start: day("2025-12-31"),
        ..fields()
    };
    assert_eq!(
        check_creation(&before, &ctx),
        Err(CreationRefusal::NoAssignment)
    );
    let last_day = BatchFields {
        collection_date: None,
        manufacturing_start: day("2026-03-01"),
        ..fields()
    };
    assert_eq!(check_creation(&last_day, &ctx), Ok(None));
}

#[test]
fn creation_at_monthly_capacity_is_refused_with_the_month() {
    let (lab, product, assignments) = (lab(), product(Origin::Autologous), assignments());
    assert_eq!(lab.capacity_per_month, Some(2));
    assert_eq!(
        check_creation(&fields(), &creation(&lab, &product, &assignments, 2)),
        Err(CreationRefusal::CapacityExceeded {
            capacity: 2,
            month: "2026-03".into()
        })
    );
}

#[test]
fn creation_one_below_monthly_capacity_is_accepted() {
    let (lab, product, assignments) = (lab(), product(Origin::Autologous), assignments());
    assert_eq!(
        check_creation(&fields(), &creation(&lab, &product, &assignments, 1)),
        Ok(None)
    );
}

#[test]
fn creation_in_a_lab_without_capacity_limit_is_accepted() {
    let (product, assignments) = (product(Origin::Autologous), assignments());
    let lab = Laboratory {
        capacity_per_month: None,
        ..lab()
    };
    assert_eq!(
        check_creation(&fields(), &creation(&lab, &product, &assignments, 1000)),
        Ok(None)
    );
}

// ---------------------------------------------------------------------------------------------
// 5. Completion
// ---------------------------------------------------------------------------------------------

#[test]
fn completion_is_allowed_only_from_in_production() {
    let product = product(Origin::Autologous);
    for &status in BatchStatus::ALL {
        let result = check_completion(
            &batch(Origin::Autologous, status),
            &product,
            day("2026-03-20"),
        );
        if status == InProduction {
            assert!(result.is_ok(), "{result:?}");
        } else {
            assert_eq!(
                result,
                Err(CompletionRefusal::Transition(InvalidTransition {
                    from: status,
                    transition: Transition::Complete
                }))
            );
        }
    }
}

#[test]
fn completion_refuses_an_end_before_the_start() {
    let b = batch(Origin::Autologous, InProduction);
    assert_eq!(
        check_completion(&b, &product(Origin::Autologous), day("2026-03-01")),
        Err(CompletionRefusal::EndsBeforeStart)
    );
    assert!(check_completion(&b, &product(Origin::Autologous), day("2026-03-02")).is_ok());
}

#[test]
fn completion_defaults_expiry_to_end_plus_shelf_life() {
    let b = Batch {
        manufacturing_end: None,
        expiry_date: None,
        ..batch(Origin::Autologous, InProduction)
    };
    assert_eq!(
        check_completion(&b, &product(Origin::Autologous), day("2026-03-20")),
        Ok(Some(day("2026-03-23")))
    );
}

#[test]
fn completion_keeps_an_explicit_expiry() {
    let b = Batch {
        manufacturing_end: None,
        expiry_date: Some(day("2026-04-30")),
        ..batch(Origin::Autologous, InProduction)
    };
    assert_eq!(
        check_completion(&b, &product(Origin::Autologous), day("2026-03-20")),
        Ok(Some(day("2026-04-30")))
    );
}

#[test]
fn completion_refuses_an_end_after_an_explicit_expiry() {
    let b = Batch {
        manufacturing_end: None,
        expiry_date: Some(day("2026-03-19")),
        ..batch(Origin::Autologous, InProduction)
    };
    assert_eq!(
        check_completion(&b, &product(Origin::Autologous), day("2026-03-20")),
        Err(CompletionRefusal::ExpiresBeforeEnd)
    );
}

#[test]
fn a_future_administration_is_refused_even_without_a_release_date() {
    let b = Batch {
        release_date: None,
        ..batch(Origin::Allogeneic, Released)
    };
    assert_eq!(
        administer(&b, OTHER_PATIENT, "2026-03-23", 0),
        Err(AdministrationRefusal::DateOutOfRange {
            release: None,
            today: day("2026-03-22")
        })
    );
}

// ---------------------------------------------------------------------------------------------
// 6. QC results and retests
// ---------------------------------------------------------------------------------------------

#[test]
fn retest_of_an_unknown_result_is_refused() {
    assert_eq!(
        check_retest(&passing_results(), "viability", 99, Some("OOS")),
        Err(RetestRefusal::UnknownResult(99))
    );
}

#[test]
fn retest_must_be_of_the_same_test() {
    assert_eq!(
        check_retest(&passing_results(), "sterility", 1, Some("OOS")),
        Err(RetestRefusal::DifferentTest {
            id: 1,
            test: "viability".into()
        })
    );
}

#[test]
fn retest_of_an_already_superseded_result_is_refused() {
    let results = [
        qc(1, "viability", QcOutcome::Fail, None),
        qc(3, "viability", QcOutcome::Pass, Some(1)),
    ];
    assert_eq!(
        check_retest(&results, "viability", 1, Some("again")),
        Err(RetestRefusal::AlreadySuperseded(1, 3))
    );
}

#[test]
fn retest_needs_a_reason() {
    let results = [qc(1, "viability", QcOutcome::Fail, None)];
    assert_eq!(
        check_retest(&results, "viability", 1, None),
        Err(RetestRefusal::MissingReason)
    );
    assert_eq!(
        check_retest(&results, "viability", 1, Some("  \t")),
        Err(RetestRefusal::MissingReason)
    );
}

#[test]
fn retest_of_the_same_unsuperseded_test_with_a_reason_is_accepted() {
    let results = [qc(1, "viability", QcOutcome::Fail, None)];
    assert_eq!(
        check_retest(&results, "viability", 1, Some("sampling error")),
        Ok(())
    );
}

#[test]
fn a_retest_replaces_the_result_it_supersedes_and_leaves_other_tests_alone() {
    let results = [
        qc(1, "viability", QcOutcome::Fail, None),
        qc(2, "sterility", QcOutcome::Pass, None),
        qc(3, "viability", QcOutcome::Pass, Some(1)),
    ];
    assert_eq!(current_ids(&results), [("sterility", 2), ("viability", 3)]);
}

#[test]
fn a_chain_of_retests_leaves_only_the_last() {
    let results = [
        qc(1, "viability", QcOutcome::Fail, None),
        qc(2, "viability", QcOutcome::Fail, Some(1)),
        qc(3, "viability", QcOutcome::Pass, Some(2)),
    ];
    assert_eq!(current_ids(&results), [("viability", 3)]);
}

#[test]
fn the_newest_of_two_independent_results_of_a_test_is_current() {
    let results = [
        qc(5, "viability", QcOutcome::Fail, None),
        qc(2, "viability", QcOutcome::Pass, None),
        qc(3, "sterility", QcOutcome::Pass, None),
    ];
    assert_eq!(current_ids(&results), [("sterility", 3), ("viability", 5)]);
}

// ---------------------------------------------------------------------------------------------
// 7. QP release
// ---------------------------------------------------------------------------------------------

#[test]
fn a_releasable_batch_has_no_blockers() {
    for origin in [Origin::Autologous, Origin::Allogeneic] {
        assert_eq!(
            blockers_with(&batch(origin, Quarantine), &passing_results()),
            [],
            "{origin}"
        );
    }
}

#[test]
fn every_unmet_release_rule_is_reported_at_once() {
    let b = Batch {
        patient_code: Some(patient(OTHER_PATIENT)),
        ..batch(Origin::Autologous, InProduction)
    };
    let product = product(Origin::Autologous);
    let mut participants = participants();
    participants.insert(SIGNER.to_owned());
    // viability has no result; sterility fails.
    let results = [qc(7, "sterility", QcOutcome::Fail, None)];
    let deviations = [
        Deviation {
            id: 4,
            status: DeviationStatus::Closed,
        },
        Deviation {
            id: 5,
            status: DeviationStatus::Open,
        },
    ];
    let blockers = release_blockers(&ReleaseContext {
        batch: &b,
        product: &product,
        signer: SIGNER,
        participants: &participants,
        results: &results,
        deviations: &deviations,
        holds: &[],
        today: day("2026-03-24"),
    });
    assert_eq!(
        rules(&blockers),
        [
            "not_in_quarantine",
            "four_eyes",
            "missing_required_test",
            "failing_result",
            "open_deviation",
            "expired",
            "chain_of_identity"
        ]
    );
    assert_eq!(
        blockers,
        [
            ReleaseBlocker::NotInQuarantine(InProduction),
            ReleaseBlocker::FourEyes,
            ReleaseBlocker::MissingRequiredTest("viability".into()),
            ReleaseBlocker::FailingResult {
                test: "sterility".into(),
                result_id: 7
            },
            ReleaseBlocker::OpenDeviation(5),
            ReleaseBlocker::Expired(day("2026-03-23")),
            ReleaseBlocker::ChainOfIdentity,
        ]
    );
}

#[test]
fn an_autologous_batch_without_a_patient_cannot_be_released() {
    let b = Batch {
        patient_code: None,
        ..batch(Origin::Autologous, Quarantine)
    };
    assert_eq!(
        rules(&blockers_with(&b, &passing_results())),
        ["chain_of_identity"]
    );
}

#[test]
fn a_failing_non_required_test_does_not_block_release() {
    let mut results = passing_results();
    results.push(qc(3, "hla_dr", QcOutcome::Fail, None));
    assert_eq!(
        blockers_with(&batch(Origin::Autologous, Quarantine), &results),
        []
    );
}

#[test]
fn a_failing_result_superseded_by_a_passing_retest_does_not_block_release() {
    let results = [
        qc(1, "viability", QcOutcome::Fail, None),
        qc(2, "sterility", QcOutcome::Pass, None),
        qc(3, "viability", QcOutcome::Pass, Some(1)),
    ];
    assert_eq!(
        blockers_with(&batch(Origin::Autologous, Quarantine), &results),
        []
    );
}

#[test]
fn a_passing_result_superseded_by_a_failing_retest_blocks_release() {
    let results = [
        qc(1, "viability", QcOutcome::Pass, None),
        qc(2, "sterility", QcOutcome::Pass, None),
        qc(3, "viability", QcOutcome::Fail, Some(1)),
    ];
    assert_eq!(
        blockers_with(&batch(Origin::Autologous, Quarantine), &results),
        [ReleaseBlocker::FailingResult {
            test: "viability".into(),
            result_id: 3
        }]
    );
}

#[test]
fn a_batch_expiring_today_can_still_be_released() {
    let b = Batch {
        expiry_date: Some(day("2026-03-21")),
        ..batch(Origin::Autologous, Quarantine)
    };
    assert_eq!(blockers_with(&b, &passing_results()), []);
    let expired = Batch {
        expiry_date: Some(day("2026-03-20")),
        ..b
    };
    assert_eq!(
        rules(&blockers_with(&expired, &passing_results())),
        ["expired"]
    );
}

// ---------------------------------------------------------------------------------------------
// 8. Administration
// ---------------------------------------------------------------------------------------------

/// Released 2026-03-21, expiring 2026-03-23; "today" is 2026-03-22.
fn administer(
    b: &Batch,
    to: &str,
    on: &str,
    so_far: u32,
) -> Result<Transition, AdministrationRefusal> {
    administer_on(b, to, on, so_far, "2026-03-22")
}

fn administer_on(
    b: &Batch,
    to: &str,
    on: &str,
    so_far: u32,
    today: &str,
) -> Result<Transition, AdministrationRefusal> {
    let ctx = AdministrationContext {
        administered_so_far: so_far,
        holds: &[],
        history_confirmed: false,
        today: day(today),
    };
    check_administration(b, &patient(to), day(on), &ctx).map(|a| a.transition)
}

#[test]
fn only_a_released_batch_can_be_administered() {
    for &status in BatchStatus::ALL
        .iter()
        .filter(|s| !matches!(**s, Released | Administered))
    {
        let b = batch(Origin::Allogeneic, status);
        match administer(&b, OWN_PATIENT, "2026-03-22", 0) {
            Err(AdministrationRefusal::NotReleased(InvalidTransition { from, .. })) => {
                assert_eq!(from, status)
            }
            other => panic!("{status}: {other:?}"),
        }
    }
}

#[test]
fn administration_beyond_the_doses_is_refused() {
    let b = batch(Origin::Allogeneic, Released);
    assert_eq!(
        administer(&b, OTHER_PATIENT, "2026-03-22", 3),
        Err(AdministrationRefusal::DosesExhausted { doses: 3 })
    );
    // Once the last dose moved it to `administered`, the answer stays "no dose left".
    let b = batch(Origin::Allogeneic, Administered);
    assert_eq!(
        administer(&b, OTHER_PATIENT, "2026-03-22", 3),
        Err(AdministrationRefusal::DosesExhausted { doses: 3 })
    );
}

#[test]
fn an_autologous_batch_cannot_be_administered_to_another_patient() {
    let b = batch(Origin::Autologous, Released);
    assert_eq!(
        administer(&b, OTHER_PATIENT, "2026-03-22", 0),
        Err(AdministrationRefusal::ChainOfIdentityMismatch)
    );
}

#[test]
fn an_autologous_batch_is_administered_to_its_own_patient() {
    let b = batch(Origin::Autologous, Released);
    assert_eq!(
        administer(&b, OWN_PATIENT, "2026-03-22", 0),
        Ok(Transition::Administer { last_dose: true })
    );
}

#[test]
fn an_autologous_din_batch_matches_its_patient_given_with_the_check_character() {
    let b = Batch {
        donor_code: donor("A999926000001"),
        patient_code: Some(patient("A999926000001")),
        ..batch(Origin::Autologous, Released)
    };
    assert_eq!(
        administer(&b, "A9999260000018", "2026-03-22", 0),
        Ok(Transition::Administer { last_dose: true })
    );
}

#[test]
fn an_allogeneic_batch_goes_to_any_patient_and_only_the_last_dose_ends_it() {
    let b = batch(Origin::Allogeneic, Released);
    assert_eq!(
        administer(&b, OWN_PATIENT, "2026-03-22", 0),
        Ok(Transition::Administer { last_dose: false })
    );
    assert_eq!(
        administer(&b, OTHER_PATIENT, "2026-03-22", 1),
        Ok(Transition::Administer { last_dose: false })
    );
    assert_eq!(
        administer(&b, "PAC-1234", "2026-03-22", 2),
        Ok(Transition::Administer { last_dose: true })
    );
}

#[test]
fn administration_before_the_release_or_after_today_is_refused() {
    let b = batch(Origin::Allogeneic, Released);
    let out_of_range = Err(AdministrationRefusal::DateOutOfRange {
        release: Some(day("2026-03-21")),
        today: day("2026-03-22"),
    });
    assert_eq!(administer(&b, OTHER_PATIENT, "2026-03-20", 0), out_of_range);
    assert_eq!(administer(&b, OTHER_PATIENT, "2026-03-23", 0), out_of_range);
    assert!(administer(&b, OTHER_PATIENT, "2026-03-21", 0).is_ok());
}

#[test]
fn administration_after_expiry_is_refused() {
    let b = batch(Origin::Allogeneic, Released);
    let late = "2026-03-30";
    assert_eq!(
        administer_on(&b, OTHER_PATIENT, "2026-03-24", 0, late),
        Err(AdministrationRefusal::Expired {
            expiry: day("2026-03-23"),
            on: day("2026-03-24")
        })
    );
    assert!(administer_on(&b, OTHER_PATIENT, "2026-03-23", 0, late).is_ok());
}

// ---------------------------------------------------------------------------------------------
// 9. Correction
// ---------------------------------------------------------------------------------------------

#[test]
fn a_stale_version_is_refused_with_the_current_one() {
    let b = batch(Origin::Autologous, Quarantine);
    assert_eq!(
        check_correction(&b, 2, "typo", &b.fields()),
        Err(CorrectionRefusal::VersionMismatch { current: 3 })
    );
}

#[test]
fn released_rejected_and_administered_batches_cannot_be_corrected() {
    for status in [Released, Rejected, Administered] {
        let b = batch(Origin::Autologous, status);
        assert_eq!(
            check_correction(&b, 3, "typo", &b.fields()),
            Err(CorrectionRefusal::Locked(status))
        );
    }
}

#[test]
fn a_correction_needs_a_reason() {
    let b = batch(Origin::Autologous, InProduction);
    assert_eq!(
        check_correction(&b, 3, "", &b.fields()),
        Err(CorrectionRefusal::MissingReason)
    );
    assert_eq!(
        check_correction(&b, 3, "   ", &b.fields()),
        Err(CorrectionRefusal::MissingReason)
    );
}

#[test]
fn a_correction_must_leave_valid_fields() {
    let b = batch(Origin::Autologous, InProduction);
    let corrected = BatchFields {
        doses: 0,
        volume_ml: Some(dec!(0)),
        ..b.fields()
    };
    match check_correction(&b, 3, "typo", &corrected) {
        Err(CorrectionRefusal::Invalid(errors)) => {
            let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(fields, ["doses", "volume_ml"]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_autologous_correction_cannot_change_the_patient_away_from_the_donor() {
    let b = batch(Origin::Autologous, Quarantine);
    let corrected = BatchFields {
        patient_code: Some(patient(OTHER_PATIENT)),
        ..b.fields()
    };
    assert_eq!(
        check_correction(&b, 3, "wrong patient", &corrected),
        Err(CorrectionRefusal::ChainOfIdentity)
    );
}

#[test]
fn a_valid_correction_of_an_open_batch_is_accepted_and_applied() {
    for status in [InProduction, Quarantine] {
        let mut b = batch(Origin::Autologous, status);
        let corrected = BatchFields {
            volume_ml: Some(dec!(12.5)),
            notes: Some("volume re-measured".into()),
            ..b.fields()
        };
        assert_eq!(
            check_correction(&b, 3, "transcription error", &corrected),
            Ok(())
        );
        b.apply_fields(corrected.clone());
        assert_eq!(b.fields(), corrected);
        assert_eq!(b.status, status);
    }
}

#[path = "batch_integrity_tests.rs"]
mod integrity;
