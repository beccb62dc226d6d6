//! The integrity rules that protect patients: no testing into compliance, holds, and imported
//! history confirmed before it reaches anyone (SPEC §2).

use chrono::{DateTime, Utc};

use super::*;
use crate::hold::Hold;

fn deviation(id: i64, status: DeviationStatus) -> Deviation {
    Deviation { id, status }
}

fn hold_from(id: i64, placed: &str) -> Hold {
    Hold {
        id,
        reason: "serious reaction: look-back".into(),
        placed_by: "isabel.morales".into(),
        placed_at: format!("{placed}T08:00:00Z")
            .parse::<DateTime<Utc>>()
            .unwrap(),
        reaction_id: Some(1),
        lifted_by: None,
        lifted_at: None,
        lift_reason: None,
    }
}

fn administer_with(
    b: &Batch,
    on: &str,
    holds: &[Hold],
    history_confirmed: bool,
) -> Result<Administration, AdministrationRefusal> {
    let ctx = AdministrationContext {
        administered_so_far: 0,
        holds,
        history_confirmed,
        today: day("2026-03-22"),
    };
    check_administration(b, &patient(OTHER_PATIENT), day(on), &ctx)
}

// ---------------------------------------------------------------------------------------------
// Results: no testing into compliance
// ---------------------------------------------------------------------------------------------

#[test]
fn a_second_result_of_a_test_without_supersedes_is_refused_with_the_current_id() {
    let results = [qc(1, "viability", QcOutcome::Fail, None)];
    assert_eq!(
        check_new_result(&results, &[], "viability", None, None, None),
        Err(ResultRefusal::ResultExists {
            test: "viability".into(),
            current: 1
        })
    );
    // A passing current result is no different: a new value is a retest, with its reason.
    let results = [qc(1, "viability", QcOutcome::Pass, None)];
    assert!(matches!(
        check_new_result(&results, &[], "viability", None, None, None),
        Err(ResultRefusal::ResultExists { current: 1, .. })
    ));
    // Another test is free.
    assert_eq!(
        check_new_result(&results, &[], "sterility", None, None, None),
        Ok(())
    );
}

#[test]
fn after_a_retest_the_retest_is_the_current_result_to_supersede() {
    let results = [
        qc(1, "viability", QcOutcome::Pass, None),
        qc(2, "viability", QcOutcome::Pass, Some(1)),
    ];
    assert!(matches!(
        check_new_result(&results, &[], "viability", None, None, None),
        Err(ResultRefusal::ResultExists { current: 2, .. })
    ));
    assert_eq!(
        check_new_result(&results, &[], "viability", Some(1), Some("again"), None),
        Err(ResultRefusal::Retest(RetestRefusal::AlreadySuperseded(
            1, 2
        )))
    );
    assert_eq!(
        check_new_result(&results, &[], "viability", Some(2), Some("again"), None),
        Ok(())
    );
}

#[test]
fn the_retest_of_an_oos_result_names_a_deviation_of_the_batch() {
    let results = [qc(1, "viability", QcOutcome::Fail, None)];
    let deviations = [deviation(7, DeviationStatus::Open)];
    assert_eq!(
        check_new_result(
            &results,
            &deviations,
            "viability",
            Some(1),
            Some("OOS"),
            None
        ),
        Err(ResultRefusal::InvestigationRequired { original: 1 })
    );
    assert_eq!(
        check_new_result(
            &results,
            &deviations,
            "viability",
            Some(1),
            Some("OOS"),
            Some(8)
        ),
        Err(ResultRefusal::UnknownDeviation(8))
    );
    assert_eq!(
        check_new_result(
            &results,
            &deviations,
            "viability",
            Some(1),
            Some("OOS"),
            Some(7)
        ),
        Ok(())
    );
    // The retest of a passing result needs no investigation.
    let passing = [qc(1, "viability", QcOutcome::Pass, None)];
    assert_eq!(
        check_new_result(
            &passing,
            &[],
            "viability",
            Some(1),
            Some("sample lost"),
            None
        ),
        Ok(())
    );
}

#[test]
fn superseded_results_are_marked_not_removed() {
    let mut results = vec![
        qc(1, "viability", QcOutcome::Fail, None),
        qc(2, "sterility", QcOutcome::Pass, None),
        qc(3, "viability", QcOutcome::Pass, Some(1)),
    ];
    mark_superseded(&mut results);
    let marks: Vec<_> = results.iter().map(|r| (r.id, r.superseded_by)).collect();
    assert_eq!(marks, [(1, Some(3)), (2, None), (3, None)]);
}

#[test]
fn release_stays_blocked_while_the_oos_investigation_is_open() {
    let b = batch(Origin::Allogeneic, Quarantine);
    let results = [
        qc(1, "viability", QcOutcome::Fail, None),
        QcResult {
            deviation_id: Some(7),
            ..qc(2, "viability", QcOutcome::Pass, Some(1))
        },
        qc(3, "sterility", QcOutcome::Pass, None),
    ];
    let product = product(b.origin);
    let blockers = release_blockers(&ReleaseContext {
        batch: &b,
        product: &product,
        signer: SIGNER,
        participants: &participants(),
        results: &results,
        deviations: &[deviation(7, DeviationStatus::Open)],
        holds: &[],
        today: day("2026-03-21"),
    });
    assert_eq!(rules(&blockers), ["open_deviation"]);
}

// ---------------------------------------------------------------------------------------------
// Holds
// ---------------------------------------------------------------------------------------------

#[test]
fn a_held_batch_is_not_certified_and_the_rule_names_the_hold() {
    let b = batch(Origin::Allogeneic, Quarantine);
    let product = product(b.origin);
    let holds = [hold_from(5, "2026-03-20")];
    let blockers = release_blockers(&ReleaseContext {
        batch: &b,
        product: &product,
        signer: SIGNER,
        participants: &participants(),
        results: &passing_results(),
        deviations: &[],
        holds: &holds,
        today: day("2026-03-21"),
    });
    assert_eq!(rules(&blockers), ["on_hold"]);
    assert!(blockers[0].message().contains("hold 5"));
    let mut lifted = holds[0].clone();
    lifted.lifted_at = Some(lifted.placed_at);
    let blockers = release_blockers(&ReleaseContext {
        batch: &b,
        product: &product,
        signer: SIGNER,
        participants: &participants(),
        results: &passing_results(),
        deviations: &[],
        holds: &[lifted],
        today: day("2026-03-21"),
    });
    assert!(blockers.is_empty(), "{blockers:?}");
}

#[test]
fn a_held_batch_is_not_administered_but_a_dose_given_before_the_hold_is_recorded_flagged() {
    let b = batch(Origin::Allogeneic, Released);
    let holds = [hold_from(5, "2026-03-22")];
    assert_eq!(
        administer_with(&b, "2026-03-22", &holds, false),
        Err(AdministrationRefusal::OnHold { hold_id: 5 })
    );
    let earlier = administer_with(&b, "2026-03-21", &holds, false).unwrap();
    assert!(earlier.before_hold);
    let clear = administer_with(&b, "2026-03-22", &[], false).unwrap();
    assert!(!clear.before_hold);
}

// ---------------------------------------------------------------------------------------------
// Imported history
// ---------------------------------------------------------------------------------------------

fn imported(status: BatchStatus) -> Batch {
    Batch {
        source: Source::Import,
        import_id: Some(1),
        import_line: Some(2),
        ..batch(Origin::Allogeneic, status)
    }
}

#[test]
fn an_imported_released_batch_is_administered_only_once_confirmed() {
    let b = imported(Released);
    assert_eq!(
        administer_with(&b, "2026-03-22", &[], false),
        Err(AdministrationRefusal::HistoryNotConfirmed)
    );
    assert!(administer_with(&b, "2026-03-22", &[], true).is_ok());
    // A batch certified in Traza needs no confirmation.
    let made_here = batch(Origin::Allogeneic, Released);
    assert!(administer_with(&made_here, "2026-03-22", &[], false).is_ok());
}

#[test]
fn history_is_confirmed_by_someone_other_than_the_importer_while_usable() {
    let b = imported(Released);
    let today = day("2026-03-22");
    let confirm = |b: &Batch, so_far, done, signer| {
        check_history_confirmation(b, so_far, done, signer, "marta.jimenez", today)
    };
    assert_eq!(confirm(&b, 0, false, "isabel.morales"), Ok(()));
    assert_eq!(
        confirm(&b, 0, false, "marta.jimenez"),
        Err(HistoryRefusal::FourEyes)
    );
    assert_eq!(
        confirm(&b, 0, true, "isabel.morales"),
        Err(HistoryRefusal::AlreadyConfirmed)
    );
    assert_eq!(
        confirm(&b, 3, false, "isabel.morales"),
        Err(HistoryRefusal::NotImportedRelease)
    );
    assert_eq!(
        confirm(&imported(Quarantine), 0, false, "isabel.morales"),
        Err(HistoryRefusal::NotImportedRelease)
    );
    assert_eq!(
        confirm(
            &batch(Origin::Allogeneic, Released),
            0,
            false,
            "isabel.morales"
        ),
        Err(HistoryRefusal::NotImportedRelease)
    );
    let expired = Batch {
        expiry_date: Some(day("2026-03-21")),
        ..imported(Released)
    };
    assert_eq!(
        confirm(&expired, 0, false, "isabel.morales"),
        Err(HistoryRefusal::Expired(day("2026-03-21")))
    );
    let broken = Batch {
        origin: Origin::Autologous,
        patient_code: Some(patient(OTHER_PATIENT)),
        ..imported(Released)
    };
    assert_eq!(
        confirm(&broken, 0, false, "isabel.morales"),
        Err(HistoryRefusal::ChainOfIdentity)
    );
}

// ---------------------------------------------------------------------------------------------
// Batch numbers of another laboratory's form
// ---------------------------------------------------------------------------------------------

#[test]
fn a_number_of_another_laboratorys_generated_form_is_foreign() {
    let labs = ["SEV-UPRC", "GRA-UPCIT", "MAL-HRU"];
    let is_lab = |c: &str| labs.contains(&c);
    let gra = LabCode::parse("GRA-UPCIT").unwrap();
    let n = |s: &str| BatchNumber::parse(s).unwrap();
    assert_eq!(
        foreign_number_owner(&n("SEV-UPRC-2026-00001"), &gra, is_lab),
        Some("SEV-UPRC")
    );
    assert_eq!(
        foreign_number_owner(&n("SEV-UPRC-2026-123456"), &gra, is_lab),
        Some("SEV-UPRC")
    );
    // Its own form, a form naming no laboratory, and free-form numbers are not foreign.
    assert_eq!(
        foreign_number_owner(&n("GRA-UPCIT-2026-00001"), &gra, is_lab),
        None
    );
    assert_eq!(
        foreign_number_owner(&n("XYZ-2026-00001"), &gra, is_lab),
        None
    );
    assert_eq!(
        foreign_number_owner(&n("SEV-UPRC-26-00001"), &gra, is_lab),
        None
    );
    assert_eq!(foreign_number_owner(&n("L2019-0042"), &gra, is_lab), None);
    assert_eq!(
        foreign_number_owner(&n("SEV-UPRC-2026-0001"), &gra, is_lab),
        None
    );
}

#[test]
fn a_clinical_trial_batch_carries_the_trial_of_its_assignment() {
    use crate::network::tests::{accepted, lab, product, proposal};
    let lab = lab();
    let product = product(Origin::Allogeneic);
    let mut trial = proposal("2026-01-01", None);
    trial.access_route = AccessRoute::ClinicalTrial;
    trial.authorisation_ref = Some("2015-001726-39".into());
    let assignments = vec![accepted(7, trial)];
    let ctx = CreationContext {
        lab: &lab,
        product: &product,
        assignments: &assignments,
        started_in_month: 0,
    };
    let mut f = BatchFields {
        access_route: AccessRoute::ClinicalTrial,
        trial_id: Some(TrialId::parse("2019-001472-33").unwrap()),
        donor_code: DonorCode::parse(ALLOGENEIC_DONOR).unwrap(),
        patient_code: None,
        doses: 2,
        ..batch(Origin::Allogeneic, InProduction).fields()
    };
    assert_eq!(
        check_creation(&f, &ctx),
        Err(CreationRefusal::TrialMismatch {
            authorised: vec!["2015-001726-39".into()]
        })
    );
    f.trial_id = Some(TrialId::parse("2015-001726-39").unwrap());
    assert!(check_creation(&f, &ctx).is_ok());
}

#[test]
fn a_clinical_trial_assignment_names_its_trial_and_two_trials_may_overlap() {
    use crate::network::tests::{accepted, lab, product, proposal};
    use crate::network::{EligibilityRefusal, check_assignment};
    let lab = lab();
    let product = product(Origin::Allogeneic);
    let mut first = proposal("2026-01-01", None);
    first.access_route = AccessRoute::ClinicalTrial;
    let refused = check_assignment(&lab, &product, &first, &[]).unwrap_err();
    assert_eq!(refused, [EligibilityRefusal::MissingTrialId]);
    first.authorisation_ref = Some("2015-001726-39".into());
    assert_eq!(check_assignment(&lab, &product, &first, &[]), Ok(()));
    let existing = [accepted(1, first.clone())];
    // The same trial again overlaps; another trial of the same product runs beside it.
    assert!(check_assignment(&lab, &product, &first, &existing).is_err());
    let mut second = first.clone();
    second.authorisation_ref = Some("2019-001472-33".into());
    assert_eq!(check_assignment(&lab, &product, &second, &existing), Ok(()));
}
