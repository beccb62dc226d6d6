//! Batches: creation checks, the lifecycle state machine, QC and deviation records, the QP
//! release rules, administrations and the chain of identity.
//!
//! ```text
//! in_production --complete--> quarantine --release--> released --administer (last dose)--> administered
//!       |                          |
//!       +--------reject------------+--------> rejected
//! ```

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::codes::{BatchNumber, DonorCode, LabCode, PatientCode, ProductCode, TrialId};
use crate::hold::{Hold, HoldStanding, standing_on};
use crate::network::{Assignment, Laboratory, Product, covering_assignment};
pub use crate::records::{
    Deviation, QcResult, ResultRefusal, RetestRefusal, check_new_result, check_retest,
    current_results, mark_superseded,
};
use crate::validation::{FieldError, Problem};
use crate::vocab::{
    AccessRoute, BatchStatus, DeviationStatus, LabStatus, Origin, ProductStatus, QcOutcome, Source,
};

/// Moves of the state machine. Nothing else changes a batch's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Complete,
    Release,
    Reject,
    /// One administration; `last_dose` when it uses the batch's last remaining dose.
    Administer {
        last_dose: bool,
    },
}

impl Transition {
    pub fn name(self) -> &'static str {
        match self {
            Transition::Complete => "complete",
            Transition::Release => "release",
            Transition::Reject => "reject",
            Transition::Administer { .. } => "administer",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a batch that is {from} cannot {}", transition.name())]
pub struct InvalidTransition {
    pub from: BatchStatus,
    pub transition: Transition,
}

impl BatchStatus {
    /// The state machine: the status after `transition`, or why it is not allowed.
    pub fn apply(self, transition: Transition) -> Result<BatchStatus, InvalidTransition> {
        use BatchStatus::*;
        let next = match (self, transition) {
            (InProduction, Transition::Complete) => Quarantine,
            (Quarantine, Transition::Release) => Released,
            (InProduction | Quarantine, Transition::Reject) => Rejected,
            (Released, Transition::Administer { last_dose: false }) => Released,
            (Released, Transition::Administer { last_dose: true }) => Administered,
            (from, transition) => return Err(InvalidTransition { from, transition }),
        };
        Ok(next)
    }

    /// Manufacturing events, QC results and deviations are recorded only while the batch is
    /// being made or awaits certification.
    pub fn accepts_records(self) -> bool {
        matches!(self, BatchStatus::InProduction | BatchStatus::Quarantine)
    }

    /// A certified, rejected or administered batch record is locked (Annex 11 §14: a signed
    /// record cannot change without invalidating its signature).
    pub fn is_locked(self) -> bool {
        matches!(
            self,
            BatchStatus::Released | BatchStatus::Rejected | BatchStatus::Administered
        )
    }
}

/// A batch record.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Batch {
    pub batch_number: BatchNumber,
    pub product_code: ProductCode,
    pub lab_code: LabCode,
    pub origin: Origin,
    pub access_route: AccessRoute,
    pub trial_id: Option<TrialId>,
    pub donor_code: DonorCode,
    pub patient_code: Option<PatientCode>,
    pub collection_date: Option<NaiveDate>,
    pub manufacturing_start: NaiveDate,
    pub manufacturing_end: Option<NaiveDate>,
    pub expiry_date: Option<NaiveDate>,
    #[serde(with = "rust_decimal::serde::str_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub cell_count: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub viability_percent: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub volume_ml: Option<Decimal>,
    pub doses: u32,
    pub status: BatchStatus,
    pub released_by: Option<String>,
    pub release_date: Option<NaiveDate>,
    pub notes: Option<String>,
    pub version: i64,
    pub source: Source,
    pub import_id: Option<i64>,
    pub import_line: Option<u64>,
    /// Whether the batch has an active hold: derived from its holds (see [`crate::hold`]),
    /// never stated by a user nor read from a file.
    pub on_hold: bool,
}

/// The fields of a batch that a user states (on creation, in a correction or a CSV row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchFields {
    pub access_route: AccessRoute,
    pub trial_id: Option<TrialId>,
    pub donor_code: DonorCode,
    pub patient_code: Option<PatientCode>,
    pub collection_date: Option<NaiveDate>,
    pub manufacturing_start: NaiveDate,
    pub manufacturing_end: Option<NaiveDate>,
    pub expiry_date: Option<NaiveDate>,
    pub cell_count: Option<Decimal>,
    pub viability_percent: Option<Decimal>,
    pub volume_ml: Option<Decimal>,
    pub doses: u32,
    pub notes: Option<String>,
}

impl BatchFields {
    /// The checks that hold for any batch record, made in Traza or imported: quantities in
    /// range, dates in order, the trial id for a trial. Returns every invalid field.
    pub fn field_errors(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut check = |ok: bool, field: &str, problem: Problem| {
            if !ok {
                errors.push(FieldError::new(field, problem));
            }
        };
        check(
            self.doses >= 1,
            "doses",
            Problem::AtLeast { min: "1".into() },
        );
        check(
            self.viability_percent
                .is_none_or(|v| (Decimal::ZERO..=Decimal::ONE_HUNDRED).contains(&v)),
            "viability_percent",
            Problem::Between {
                min: "0".into(),
                max: "100".into(),
            },
        );
        check(
            self.cell_count.is_none_or(|c| c >= Decimal::ZERO),
            "cell_count",
            Problem::Negative,
        );
        check(
            self.volume_ml.is_none_or(|v| v > Decimal::ZERO),
            "volume_ml",
            Problem::NotPositive,
        );
        check(
            self.collection_date
                .is_none_or(|c| c <= self.manufacturing_start),
            "collection_date",
            Problem::AfterField {
                other: "manufacturing_start".into(),
            },
        );
        check(
            self.manufacturing_end
                .is_none_or(|end| end >= self.manufacturing_start),
            "manufacturing_end",
            Problem::BeforeField {
                other: "manufacturing_start".into(),
            },
        );
        let first_day = self.manufacturing_end.unwrap_or(self.manufacturing_start);
        check(
            self.expiry_date.is_none_or(|e| e >= first_day),
            "expiry_date",
            Problem::BeforeEndOfManufacture,
        );
        check(
            self.access_route != AccessRoute::ClinicalTrial || self.trial_id.is_some(),
            "trial_id",
            Problem::TrialIdRequired,
        );
        errors
    }

    /// The chain of identity of an autologous product: its one patient is its donor.
    pub fn chain_of_identity_holds(&self, origin: Origin) -> bool {
        match origin {
            Origin::Autologous => self
                .patient_code
                .as_ref()
                .is_some_and(|p| self.donor_code == *p),
            Origin::Allogeneic => true,
        }
    }
}

/// Why a new batch is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreationRefusal {
    Invalid(Vec<FieldError>),
    ProductNotActive,
    RouteNotOffered(AccessRoute),
    LabNotManufacturing {
        suspended: bool,
        training_only: bool,
    },
    NoAssignment,
    CapacityExceeded {
        capacity: u32,
        month: String,
    },
    /// Autologous without a patient, or with a patient who is not the donor.
    ChainOfIdentity,
    /// A clinical-trial batch whose trial id is not that of an assignment in force on its
    /// start (the trials the laboratory is authorised for).
    TrialMismatch {
        authorised: Vec<String>,
    },
}

/// The doses of a batch when its maker states none: one (an autologous batch is one dose).
pub const DEFAULT_DOSES: u32 = 1;

/// The calendar month a laboratory's capacity counts batches in, for a batch started on `day`:
/// from its first day to the first day of the next month (exclusive), and its label `YYYY-MM`.
pub fn capacity_month(day: NaiveDate) -> (NaiveDate, NaiveDate, String) {
    let first = day.with_day(1).unwrap_or(day);
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(NaiveDate::MAX);
    (first, next, format!("{:04}-{:02}", day.year(), day.month()))
}

/// What the store must know to decide on a new batch.
pub struct CreationContext<'a> {
    pub lab: &'a Laboratory,
    pub product: &'a Product,
    /// The assignments of this product to this laboratory.
    pub assignments: &'a [Assignment],
    /// Batches of the laboratory started in the calendar month of `manufacturing_start`.
    pub started_in_month: u32,
}

/// Checks a batch about to be made in Traza (SPEC §2 "create"). On success, returns the
/// expiry to store: the one given, or the end of manufacture plus the shelf life.
pub fn check_creation(
    fields: &BatchFields,
    ctx: &CreationContext<'_>,
) -> Result<Option<NaiveDate>, CreationRefusal> {
    let errors = fields.field_errors();
    if !errors.is_empty() {
        return Err(CreationRefusal::Invalid(errors));
    }
    if ctx.product.status != ProductStatus::Active {
        return Err(CreationRefusal::ProductNotActive);
    }
    if !ctx.product.access_routes.contains(&fields.access_route) {
        return Err(CreationRefusal::RouteNotOffered(fields.access_route));
    }
    if !ctx.lab.manufactures() {
        return Err(CreationRefusal::LabNotManufacturing {
            suspended: ctx.lab.status == LabStatus::Suspended,
            training_only: ctx.lab.training_only,
        });
    }
    if !fields.chain_of_identity_holds(ctx.product.origin) {
        return Err(CreationRefusal::ChainOfIdentity);
    }
    if covering_assignment(
        ctx.assignments,
        &ctx.product.code,
        &ctx.lab.code,
        fields.access_route,
        fields.manufacturing_start,
    )
    .is_none()
    {
        return Err(CreationRefusal::NoAssignment);
    }
    if let Some(authorised) = authorised_trials(
        ctx.assignments,
        &ctx.product.code,
        &ctx.lab.code,
        fields.access_route,
        fields.manufacturing_start,
    ) && !fields
        .trial_id
        .as_ref()
        .is_some_and(|t| authorised.iter().any(|a| a == t))
    {
        return Err(CreationRefusal::TrialMismatch {
            authorised: authorised.iter().map(|t| t.as_str().to_owned()).collect(),
        });
    }
    if let Some(capacity) = ctx.lab.capacity_per_month
        && ctx.started_in_month >= capacity
    {
        return Err(CreationRefusal::CapacityExceeded {
            capacity,
            month: capacity_month(fields.manufacturing_start).2,
        });
    }
    Ok(fields.expiry_date.or_else(|| {
        fields
            .manufacturing_end
            .and_then(|end| ctx.product.default_expiry(end))
    }))
}

/// The trials a clinical-trial batch may carry: those of the assignments in force on its start
/// that name one (SPEC §2). `None` when the route is not a trial, or no assignment in force
/// names a trial (assignments made before trial ids were required keep working until they end).
/// (Batches made in Traza are refused on a mismatch; imported history gets a warning.)
pub fn authorised_trials(
    assignments: &[Assignment],
    product: &ProductCode,
    lab: &LabCode,
    route: AccessRoute,
    day: NaiveDate,
) -> Option<Vec<TrialId>> {
    if route != AccessRoute::ClinicalTrial {
        return None;
    }
    let trials: Vec<TrialId> = assignments
        .iter()
        .filter(|a| &a.product_code == product && &a.lab_code == lab && a.period.covers(day))
        .filter_map(Assignment::trial_id)
        .collect();
    (!trials.is_empty()).then_some(trials)
}

/// Completing moves the batch to quarantine; it needs the end of manufacture. Returns the
/// expiry to store (the batch's own, or the end plus the shelf life).
pub fn check_completion(
    batch: &Batch,
    product: &Product,
    manufacturing_end: NaiveDate,
) -> Result<Option<NaiveDate>, CompletionRefusal> {
    batch
        .status
        .apply(Transition::Complete)
        .map_err(CompletionRefusal::Transition)?;
    if manufacturing_end < batch.manufacturing_start {
        return Err(CompletionRefusal::EndsBeforeStart);
    }
    if batch
        .expiry_date
        .is_some_and(|expiry| expiry < manufacturing_end)
    {
        return Err(CompletionRefusal::ExpiresBeforeEnd);
    }
    Ok(batch
        .expiry_date
        .or_else(|| product.default_expiry(manufacturing_end)))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompletionRefusal {
    #[error(transparent)]
    Transition(InvalidTransition),
    #[error("manufacturing_end must not be before manufacturing_start")]
    EndsBeforeStart,
    #[error("manufacturing_end must not be after the batch's expiry date")]
    ExpiresBeforeEnd,
}

/// A rule that blocks QP certification. `rule()` gives the codes of SPEC §3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseBlocker {
    NotInQuarantine(BatchStatus),
    FourEyes,
    MissingRequiredTest(String),
    FailingResult {
        test: String,
        result_id: i64,
    },
    OpenDeviation(i64),
    Expired(NaiveDate),
    ChainOfIdentity,
    /// The batch has an active hold (its id and reason).
    OnHold {
        hold_id: i64,
        reason: String,
    },
}

impl ReleaseBlocker {
    pub fn rule(&self) -> &'static str {
        match self {
            Self::NotInQuarantine(_) => "not_in_quarantine",
            Self::FourEyes => "four_eyes",
            Self::MissingRequiredTest(_) => "missing_required_test",
            Self::FailingResult { .. } => "failing_result",
            Self::OpenDeviation(_) => "open_deviation",
            Self::Expired(_) => "expired",
            Self::ChainOfIdentity => "chain_of_identity",
            Self::OnHold { .. } => "on_hold",
        }
    }

    /// What the rule is about, when it is about one thing: the test, the result, the
    /// deviation, the hold, the expiry date (ISO).
    pub fn subject(&self) -> Option<String> {
        match self {
            Self::MissingRequiredTest(test) => Some(test.clone()),
            Self::FailingResult { test, result_id } => Some(format!("{test} #{result_id}")),
            Self::OpenDeviation(id) => Some(format!("#{id}")),
            Self::Expired(expiry) => Some(expiry.to_string()),
            Self::OnHold { hold_id, reason } => Some(format!("#{hold_id}: {reason}")),
            Self::NotInQuarantine(_) | Self::FourEyes | Self::ChainOfIdentity => None,
        }
    }

    /// Whether a rule code (`rule()`) is about the batch's record — a test, a result, a
    /// deviation, a hold — rather than its state, its signer or its date: what is still to be
    /// done on the record before release.
    pub fn is_record_rule(rule: &str) -> bool {
        matches!(
            rule,
            "missing_required_test" | "failing_result" | "open_deviation" | "on_hold"
        )
    }

    pub fn message(&self) -> String {
        match self {
            Self::NotInQuarantine(status) => format!("the batch is {status}, not in quarantine"),
            Self::FourEyes => "the signer created this batch or recorded part of it; another QA person must certify it".into(),
            Self::MissingRequiredTest(test) => format!("required test '{test}' has no result"),
            Self::FailingResult { test, result_id } => format!("the current result of required test '{test}' (result {result_id}) fails the specification"),
            Self::OpenDeviation(id) => format!("deviation {id} is open"),
            Self::Expired(expiry) => format!("the batch expired on {expiry}"),
            Self::ChainOfIdentity => "the chain of identity is broken: an autologous batch's patient must be its donor".into(),
            Self::OnHold { hold_id, reason } => format!("the batch is on hold (hold {hold_id}: {reason})"),
        }
    }
}

/// Everything the release rules look at.
pub struct ReleaseContext<'a> {
    pub batch: &'a Batch,
    pub product: &'a Product,
    pub signer: &'a str,
    /// Everyone who created the batch or recorded any of its events or QC results.
    pub participants: &'a BTreeSet<String>,
    pub results: &'a [QcResult],
    pub deviations: &'a [Deviation],
    pub holds: &'a [Hold],
    pub today: NaiveDate,
}

/// QP certification rules (EU GMP Part IV §11; SPEC §2 "release"). Returns *every* unmet
/// rule, so that QA sees at once all that stands between the batch and its release.
pub fn release_blockers(ctx: &ReleaseContext<'_>) -> Vec<ReleaseBlocker> {
    let mut blockers = Vec::new();
    let batch = ctx.batch;
    if batch.status != BatchStatus::Quarantine {
        blockers.push(ReleaseBlocker::NotInQuarantine(batch.status));
    }
    // Heads of production and QC are independent (EU GMP Ch. 2.5): the signer took no part.
    if ctx.participants.contains(ctx.signer) {
        blockers.push(ReleaseBlocker::FourEyes);
    }
    let current = current_results(ctx.results);
    for test in ctx.product.specification.required_tests() {
        match current.iter().find(|r| r.test == test.test) {
            None => blockers.push(ReleaseBlocker::MissingRequiredTest(test.test.clone())),
            Some(r) if r.outcome == QcOutcome::Fail => {
                blockers.push(ReleaseBlocker::FailingResult {
                    test: test.test.clone(),
                    result_id: r.id,
                })
            }
            Some(_) => {}
        }
    }
    blockers.extend(
        ctx.deviations
            .iter()
            .filter(|d| d.status == DeviationStatus::Open)
            .map(|d| ReleaseBlocker::OpenDeviation(d.id)),
    );
    if let Some(expiry) = batch.expiry_date
        && expiry < ctx.today
    {
        blockers.push(ReleaseBlocker::Expired(expiry));
    }
    let chain_ok = match batch.origin {
        Origin::Autologous => batch
            .patient_code
            .as_ref()
            .is_some_and(|p| batch.donor_code == *p),
        Origin::Allogeneic => true,
    };
    if !chain_ok {
        blockers.push(ReleaseBlocker::ChainOfIdentity);
    }
    blockers.extend(
        ctx.holds
            .iter()
            .filter(|h| h.is_active())
            .map(|h| ReleaseBlocker::OnHold {
                hold_id: h.id,
                reason: h.reason.clone(),
            }),
    );
    blockers
}

/// Why an administration is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdministrationRefusal {
    #[error("{0}")]
    NotReleased(InvalidTransition),
    #[error("the batch expired on {expiry}; it cannot be administered on {on}")]
    Expired { expiry: NaiveDate, on: NaiveDate },
    #[error("an autologous batch may only be administered to its own patient")]
    ChainOfIdentityMismatch,
    #[error("all {doses} doses of the batch have been administered")]
    DosesExhausted { doses: u32 },
    #[error("administered_on must not be after today ({today}) nor before the release{}", release.map(|r| format!(" ({r})")).unwrap_or_default())]
    DateOutOfRange {
        release: Option<NaiveDate>,
        today: NaiveDate,
    },
    #[error(
        "the batch is on hold (hold {hold_id}): it may not be administered until the hold is lifted"
    )]
    OnHold { hold_id: i64 },
    #[error(
        "this batch was imported as released: QA of its laboratory must confirm it (confirm-history) before it is administered"
    )]
    HistoryNotConfirmed,
}

/// What an administration is checked against besides the batch itself.
#[derive(Debug, Clone, Copy)]
pub struct AdministrationContext<'a> {
    /// Doses already administered.
    pub administered_so_far: u32,
    pub holds: &'a [Hold],
    /// For an imported batch: whether QA confirmed it (`historical_release_confirmed`).
    pub history_confirmed: bool,
    pub today: NaiveDate,
}

/// An administration that may be recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Administration {
    pub transition: Transition,
    /// It took place before a hold that now stands: recorded, and flagged for the look-back.
    pub before_hold: bool,
}

/// Checks one administration of `batch` to `patient` on `on`, given how many doses were
/// already administered. Returns the transition to apply.
pub fn check_administration(
    batch: &Batch,
    patient: &PatientCode,
    on: NaiveDate,
    ctx: &AdministrationContext<'_>,
) -> Result<Administration, AdministrationRefusal> {
    let AdministrationContext {
        administered_so_far,
        today,
        ..
    } = *ctx;
    // Every dose given is what "administered" means: say so, rather than "not released".
    if batch.status == BatchStatus::Administered {
        return Err(AdministrationRefusal::DosesExhausted { doses: batch.doses });
    }
    if batch.status != BatchStatus::Released {
        let from = batch.status;
        return Err(AdministrationRefusal::NotReleased(InvalidTransition {
            from,
            transition: Transition::Administer { last_dose: false },
        }));
    }
    if administered_so_far >= batch.doses {
        return Err(AdministrationRefusal::DosesExhausted { doses: batch.doses });
    }
    if batch.origin == Origin::Autologous && batch.patient_code.as_ref() != Some(patient) {
        return Err(AdministrationRefusal::ChainOfIdentityMismatch);
    }
    // An administration is recorded after the fact: never in the future, never before release.
    if on > today || batch.release_date.is_some_and(|release| on < release) {
        return Err(AdministrationRefusal::DateOutOfRange {
            release: batch.release_date,
            today,
        });
    }
    if let Some(expiry) = batch.expiry_date
        && on > expiry
    {
        return Err(AdministrationRefusal::Expired { expiry, on });
    }
    if awaits_history_confirmation(batch, ctx.history_confirmed) {
        return Err(AdministrationRefusal::HistoryNotConfirmed);
    }
    let before_hold = match standing_on(ctx.holds, on) {
        HoldStanding::Held { hold_id } => return Err(AdministrationRefusal::OnHold { hold_id }),
        HoldStanding::BeforeHold => true,
        HoldStanding::Clear => false,
    };
    Ok(Administration {
        transition: Transition::Administer {
            last_dose: administered_so_far + 1 == batch.doses,
        },
        before_hold,
    })
}

/// A number of the generated form names its laboratory: another laboratory may not take it
/// (SPEC §2), or it could squat a laboratory's own sequence. `is_lab` tells whether a code
/// belongs to a laboratory of the network.
pub fn foreign_number_owner<'a>(
    number: &'a BatchNumber,
    lab: &LabCode,
    is_lab: impl Fn(&str) -> bool,
) -> Option<&'a str> {
    number
        .generated_lab()
        .filter(|owner| *owner != lab.as_str() && is_lab(owner))
}

/// Whether a batch still waits for QA's confirmation of imported history before any
/// administration: history typed into a spreadsheet years ago is not a QP certification made
/// here (SPEC §2).
pub fn awaits_history_confirmation(batch: &Batch, confirmed: bool) -> bool {
    batch.source == Source::Import && batch.status == BatchStatus::Released && !confirmed
}

/// Why confirming an imported released batch is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HistoryRefusal {
    #[error("only a batch imported as released, with doses left, is confirmed")]
    NotImportedRelease,
    #[error("the batch was already confirmed")]
    AlreadyConfirmed,
    #[error("the batch expired on {0}")]
    Expired(NaiveDate),
    #[error("the chain of identity is broken: an autologous batch's patient must be its donor")]
    ChainOfIdentity,
    /// The person who imported the history does not vouch for it.
    #[error("the batch was imported by you: another QA person of the laboratory must confirm it")]
    FourEyes,
}

/// QA confirms an imported released batch before it reaches a patient (SPEC §2): it is still
/// released, has doses left, is not expired, its chain of identity holds, and the signer is not
/// the importer.
pub fn check_history_confirmation(
    batch: &Batch,
    administered_so_far: u32,
    already_confirmed: bool,
    signer: &str,
    importer: &str,
    today: NaiveDate,
) -> Result<(), HistoryRefusal> {
    if batch.source != Source::Import
        || batch.status != BatchStatus::Released
        || administered_so_far >= batch.doses
    {
        return Err(HistoryRefusal::NotImportedRelease);
    }
    if already_confirmed {
        return Err(HistoryRefusal::AlreadyConfirmed);
    }
    if let Some(expiry) = batch.expiry_date
        && expiry < today
    {
        return Err(HistoryRefusal::Expired(expiry));
    }
    if !batch.fields().chain_of_identity_holds(batch.origin) {
        return Err(HistoryRefusal::ChainOfIdentity);
    }
    if signer == importer {
        return Err(HistoryRefusal::FourEyes);
    }
    Ok(())
}

/// Why a correction (PATCH) of a batch is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorrectionRefusal {
    VersionMismatch { current: i64 },
    Locked(BatchStatus),
    MissingReason,
    Invalid(Vec<FieldError>),
    ChainOfIdentity,
}

/// A correction needs the version the user saw (optimistic concurrency: a stale write fails,
/// never overwrites), a reason (Annex 11 §9), an unlocked batch, and leaves a valid record.
pub fn check_correction(
    batch: &Batch,
    expected_version: i64,
    reason: &str,
    corrected: &BatchFields,
) -> Result<(), CorrectionRefusal> {
    if batch.version != expected_version {
        return Err(CorrectionRefusal::VersionMismatch {
            current: batch.version,
        });
    }
    if batch.status.is_locked() {
        return Err(CorrectionRefusal::Locked(batch.status));
    }
    if reason.trim().is_empty() {
        return Err(CorrectionRefusal::MissingReason);
    }
    let errors = corrected.field_errors();
    if !errors.is_empty() {
        return Err(CorrectionRefusal::Invalid(errors));
    }
    if !corrected.chain_of_identity_holds(batch.origin) {
        return Err(CorrectionRefusal::ChainOfIdentity);
    }
    Ok(())
}

impl Batch {
    /// Whether the batch is past its expiry date on `today`: it may no longer be certified nor
    /// administered (an administration given before it expired may still be recorded).
    pub fn expired_on(&self, today: NaiveDate) -> bool {
        self.expiry_date.is_some_and(|expiry| expiry < today)
    }

    /// The user-stated fields of this batch, to edit in a correction.
    pub fn fields(&self) -> BatchFields {
        BatchFields {
            access_route: self.access_route,
            trial_id: self.trial_id.clone(),
            donor_code: self.donor_code.clone(),
            patient_code: self.patient_code.clone(),
            collection_date: self.collection_date,
            manufacturing_start: self.manufacturing_start,
            manufacturing_end: self.manufacturing_end,
            expiry_date: self.expiry_date,
            cell_count: self.cell_count,
            viability_percent: self.viability_percent,
            volume_ml: self.volume_ml,
            doses: self.doses,
            notes: self.notes.clone(),
        }
    }

    /// Applies corrected fields (already checked by [`check_correction`]).
    pub fn apply_fields(&mut self, f: BatchFields) {
        self.access_route = f.access_route;
        self.trial_id = f.trial_id;
        self.donor_code = f.donor_code;
        self.patient_code = f.patient_code;
        self.collection_date = f.collection_date;
        self.manufacturing_start = f.manufacturing_start;
        self.manufacturing_end = f.manufacturing_end;
        self.expiry_date = f.expiry_date;
        self.cell_count = f.cell_count;
        self.viability_percent = f.viability_percent;
        self.volume_ml = f.volume_ml;
        self.doses = f.doses;
        self.notes = f.notes;
    }
}

#[cfg(test)]
#[path = "batch_tests.rs"]
pub(crate) mod tests;
