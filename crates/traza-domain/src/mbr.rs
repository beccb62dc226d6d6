//! The master batch record (SPEC §8): how a product is made at one laboratory, step by step,
//! versioned and approved by a second QA person; and the rules of executing a batch against
//! it — which entries raise exceptions, which are refused, and what keeps a guided batch from
//! release. Pure: the store loads the records and entries, these functions decide.
//!
//! Where §8 is silent, decided here:
//! - an MBR's `effective_from` may be today or later, never earlier (a version does not take
//!   effect in the past, which would re-guide batches already made);
//! - two approved versions effective the same day: the higher version wins;
//! - a step entry's parameters are exactly the step's: one missing or unknown is refused (a
//!   validation error), not raised as an exception;
//! - `quantity_differs` compares, per material, the quantity the step's entry consumed with the
//!   MBR's quantity, exactly;
//! - a correction is itself an entry of the same step; its predecessor stops counting.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::problem::Problem;
use crate::spec::{NumericReading, normalise_word};
use crate::validation::{FieldError, FieldErrors};
use crate::vocab::{ExceptionKind, ExceptionSeverity, MbrStatus, RoomGrade};

/// How late an entry may be recorded after the step was performed before it is a
/// `late_entry` exception.
pub const LATE_AFTER_HOURS: i64 = 24;

/// How far ahead of the recording a step's time may be (clocks of a laboratory's computers
/// drift): beyond it, the step is refused as performed in the future.
pub const CLOCK_SKEW_MINUTES: i64 = 5;

/// A parameter recorded at a step, against its limits.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MbrParameter {
    pub name: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub min: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub max: Option<Decimal>,
    /// For a parameter read as a word (`clear`, `no_clumps`): the expected one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(default)]
    pub critical: bool,
}

/// A material a step consumes, and how much.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MbrMaterial {
    pub material_code: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub quantity: Decimal,
    pub unit: String,
}

/// One step of the master record.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MbrStep {
    pub code: String,
    pub title: String,
    #[serde(default)]
    pub instructions: String,
    pub room_grade: Option<RoomGrade>,
    #[serde(default)]
    pub verification_required: bool,
    #[serde(default)]
    pub parameters: Vec<MbrParameter>,
    #[serde(default)]
    pub materials: Vec<MbrMaterial>,
    /// Equipment classes the step needs, one item each (`biosafety_cabinet`, `incubator`).
    #[serde(default)]
    pub equipment: Vec<String>,
}

/// One version of the master record of a product at a laboratory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MasterRecord {
    pub id: i64,
    pub product_code: String,
    pub lab_code: String,
    pub version: u32,
    pub steps: Vec<MbrStep>,
    pub author: String,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    pub effective_from: Option<NaiveDate>,
}

impl MasterRecord {
    pub fn is_approved(&self) -> bool {
        self.approved_by.is_some()
    }

    /// Its status on `today` (Europe/Madrid date), given the other versions of the same
    /// product and laboratory: computed, never written at midnight.
    pub fn status_on(&self, today: NaiveDate, versions: &[MasterRecord]) -> MbrStatus {
        match self.effective_from {
            _ if !self.is_approved() => MbrStatus::Draft,
            Some(from) if from > today => MbrStatus::Approved,
            None => MbrStatus::Approved,
            Some(_) => match effective_on(versions, today) {
                Some(current) if current.id == self.id => MbrStatus::Effective,
                _ => MbrStatus::Superseded,
            },
        }
    }

    pub fn step(&self, code: &str) -> Option<&MbrStep> {
        self.steps.iter().find(|s| s.code == code)
    }
}

/// The version in effect on `today` among `versions` (one product at one laboratory): the
/// approved one with the latest `effective_from` not after today; on the same day, the higher
/// version.
pub fn effective_on(versions: &[MasterRecord], today: NaiveDate) -> Option<&MasterRecord> {
    versions
        .iter()
        .filter(|v| v.is_approved() && v.effective_from.is_some_and(|f| f <= today))
        .max_by_key(|v| (v.effective_from, v.version))
}

/// Checks a draft's steps: at least one; codes non-empty and unique; parameter names unique
/// within a step; `min <= max`; quantities above zero. Every problem at once.
pub fn check_content(steps: &[MbrStep]) -> Result<(), FieldErrors> {
    let mut errors = Vec::new();
    if steps.is_empty() {
        errors.push(FieldError::new("steps", Problem::Empty));
    }
    let mut codes = BTreeSet::new();
    for (i, step) in steps.iter().enumerate() {
        let at = |field: &str| format!("steps[{i}].{field}");
        if step.code.trim().is_empty() || step.code.chars().count() > 40 {
            errors.push(FieldError::new(at("code"), Problem::Empty));
        } else if let Some((i, c)) = step
            .code
            .chars()
            .enumerate()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_')))
        {
            // A step's code goes into the addresses of its forms: letters, digits, `-`, `_`.
            errors.push(FieldError::new(
                at("code"),
                Problem::CodeCharacter {
                    ch: c.to_string(),
                    position: i + 1,
                },
            ));
        } else if !codes.insert(step.code.as_str()) {
            errors.push(FieldError::new(
                at("code"),
                Problem::Repeated {
                    text: step.code.clone(),
                },
            ));
        }
        if step.title.trim().is_empty() {
            errors.push(FieldError::new(at("title"), Problem::Empty));
        }
        let mut names = BTreeSet::new();
        for (j, p) in step.parameters.iter().enumerate() {
            let at = |field: &str| format!("steps[{i}].parameters[{j}].{field}");
            if p.name.trim().is_empty() {
                errors.push(FieldError::new(at("name"), Problem::Empty));
            } else if !names.insert(p.name.as_str()) {
                errors.push(FieldError::new(
                    at("name"),
                    Problem::Repeated {
                        text: p.name.clone(),
                    },
                ));
            }
            if let (Some(min), Some(max)) = (p.min, p.max)
                && min > max
            {
                errors.push(FieldError::new(
                    at("min"),
                    Problem::Between {
                        min: "—".into(),
                        max: max.to_string(),
                    },
                ));
            }
        }
        for (j, class) in step.equipment.iter().enumerate() {
            if let Err(p) = crate::equipment::EquipmentClass::parse(class) {
                errors.push(FieldError::new(format!("steps[{i}].equipment[{j}]"), p));
            }
        }
        for (j, m) in step.materials.iter().enumerate() {
            if let Err(e) = crate::codes::MaterialCode::parse(&m.material_code) {
                let problem = crate::problem::Explain::problem(&e).unwrap_or(Problem::Empty);
                errors.push(FieldError::new(
                    format!("steps[{i}].materials[{j}].material_code"),
                    problem,
                ));
            }
            if m.quantity <= Decimal::ZERO {
                errors.push(FieldError::new(
                    format!("steps[{i}].materials[{j}].quantity"),
                    Problem::NotPositive,
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(FieldErrors(errors))
    }
}

/// Why a master record cannot be changed, approved or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MbrRefusal {
    /// An approved version never changes (`record_locked`).
    #[error("version {0} is approved: it never changes; write a new version")]
    Locked(u32),
    /// The author, or anyone who edited the draft, may not approve it (`four_eyes`).
    #[error("who wrote or edited a master record may not approve it: another QA person must")]
    AuthorApproves,
    #[error("effective_from ({from}) must not be before today ({today})")]
    EffectiveInThePast { from: NaiveDate, today: NaiveDate },
}

/// A draft may be edited; an approved version may not.
pub fn check_edit(record: &MasterRecord) -> Result<(), MbrRefusal> {
    if record.is_approved() {
        return Err(MbrRefusal::Locked(record.version));
    }
    Ok(())
}

/// `approver` may approve `record` to take effect on `effective_from`.
pub fn check_approval(
    record: &MasterRecord,
    editors: &[&str],
    approver: &str,
    effective_from: NaiveDate,
    today: NaiveDate,
) -> Result<(), MbrRefusal> {
    check_edit(record)?;
    // Four eyes: whoever wrote any of the draft (its author, or anyone who edited it) may
    // not approve it.
    if record.author == approver || editors.contains(&approver) {
        return Err(MbrRefusal::AuthorApproves);
    }
    if effective_from < today {
        return Err(MbrRefusal::EffectiveInThePast {
            from: effective_from,
            today,
        });
    }
    Ok(())
}

/// A step entry as recorded: who did it, when, with what, and any verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepEntry {
    pub id: i64,
    pub step_code: String,
    pub performed_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub performed_by: String,
    /// The entry this one corrects (the same step), and why.
    pub corrects: Option<i64>,
    pub verified_by: Option<String>,
}

/// The entry of each step that counts: the latest one no later entry corrects.
pub fn current_entries(entries: &[StepEntry]) -> BTreeMap<&str, &StepEntry> {
    let corrected: BTreeSet<i64> = entries.iter().filter_map(|e| e.corrects).collect();
    let mut current = BTreeMap::new();
    for e in entries.iter().filter(|e| !corrected.contains(&e.id)) {
        let slot = current.entry(e.step_code.as_str()).or_insert(e);
        if e.id > slot.id {
            *slot = e;
        }
    }
    current
}

/// A parameter value as typed at a step.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParameterValue {
    pub name: String,
    pub value: String,
}

/// What a new entry says, once the store has resolved each lot's material.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    pub step_code: &'a str,
    pub performed_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub parameters: &'a [ParameterValue],
    /// `(material_code, quantity)` of each lot consumed.
    pub materials: &'a [(String, Decimal)],
    pub corrects: Option<i64>,
}

/// An exception an entry raises: recorded, not refused; QA reviews it before release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RaisedException {
    pub kind: ExceptionKind,
    pub severity: ExceptionSeverity,
    pub step_code: String,
    pub message: String,
    /// A critical parameter out of its limits also opens a deviation.
    pub opens_deviation: bool,
}

/// Why an entry is refused before anything is recorded (validation of what was typed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryRefusal {
    #[error("the master record has no step '{0}'")]
    UnknownStep(String),
    #[error("{0}")]
    Invalid(FieldErrors),
    #[error("entry {0} is not a current entry of this step: only the current one is corrected")]
    NotCorrectable(i64),
    #[error("a correction needs a reason")]
    CorrectionWithoutReason,
    /// The step has an entry already: a new one must say it corrects it (`corrects`, with a
    /// reason), or the first would be replaced with no trail and its lots consumed twice.
    #[error(
        "step '{step}' is recorded already (entry {current}): record a correction of it, with a reason"
    )]
    AlreadyRecorded { step: String, current: i64 },
}

/// Checks a new entry against its step and the batch's earlier entries, and lists the
/// exceptions it raises. The store refuses equipment, lots and rooms before (SPEC §8's 409s).
pub fn check_entry(
    mbr: &MasterRecord,
    earlier: &[StepEntry],
    entry: &NewEntry<'_>,
    reason: Option<&str>,
) -> Result<Vec<RaisedException>, EntryRefusal> {
    let Some(step) = mbr.step(entry.step_code) else {
        return Err(EntryRefusal::UnknownStep(entry.step_code.to_owned()));
    };
    let current = current_entries(earlier);
    if let (None, Some(recorded)) = (entry.corrects, current.get(entry.step_code)) {
        return Err(EntryRefusal::AlreadyRecorded {
            step: entry.step_code.to_owned(),
            current: recorded.id,
        });
    }
    if let Some(corrected) = entry.corrects {
        let is_current = current
            .get(entry.step_code)
            .is_some_and(|e| e.id == corrected);
        if !is_current {
            return Err(EntryRefusal::NotCorrectable(corrected));
        }
        if reason.is_none_or(|r| r.trim().is_empty()) {
            return Err(EntryRefusal::CorrectionWithoutReason);
        }
    }
    let mut errors = Vec::new();
    if entry.performed_at > entry.recorded_at + Duration::minutes(CLOCK_SKEW_MINUTES) {
        errors.push(FieldError::new("performed_at", Problem::InTheFuture));
    }
    let mut raised = Vec::new();
    let exception = |kind, severity, message: String| RaisedException {
        kind,
        severity,
        step_code: step.code.clone(),
        message,
        opens_deviation: false,
    };

    // Parameters: exactly the step's, each against its limits.
    for (i, given) in entry.parameters.iter().enumerate() {
        if !step.parameters.iter().any(|p| p.name == given.name) {
            errors.push(FieldError::new(
                format!("parameters[{i}].name"),
                Problem::NotOneOf {
                    text: given.name.clone(),
                    values: step.parameters.iter().map(|p| p.name.clone()).collect(),
                },
            ));
        }
    }
    for p in &step.parameters {
        let Some(given) = entry.parameters.iter().find(|g| g.name == p.name) else {
            errors.push(FieldError::new(
                format!("parameters.{}", p.name),
                Problem::Empty,
            ));
            continue;
        };
        match within_limits(p, &given.value) {
            Err(problem) => errors.push(FieldError::new(format!("parameters.{}", p.name), problem)),
            Ok(true) => {}
            Ok(false) => raised.push(RaisedException {
                opens_deviation: p.critical,
                ..exception(
                    ExceptionKind::ParameterOutOfLimits,
                    if p.critical {
                        ExceptionSeverity::Critical
                    } else {
                        ExceptionSeverity::Major
                    },
                    format!(
                        "{} = {} {} ({})",
                        p.name,
                        given.value.trim(),
                        p.unit,
                        p.limits()
                    ),
                )
            }),
        }
    }
    if !errors.is_empty() {
        return Err(EntryRefusal::Invalid(FieldErrors(errors)));
    }

    // Order: every earlier step of the MBR already has a current entry.
    let missing_before: Vec<&str> = mbr
        .steps
        .iter()
        .take_while(|s| s.code != step.code)
        .filter(|s| !current.contains_key(s.code.as_str()))
        .map(|s| s.code.as_str())
        .collect();
    if !missing_before.is_empty() && entry.corrects.is_none() {
        raised.push(exception(
            ExceptionKind::OutOfOrder,
            ExceptionSeverity::Major,
            format!("recorded before {}", missing_before.join(", ")),
        ));
    }

    // Quantities: what was consumed of each material against the step's quantity.
    let mut used: BTreeMap<&str, Decimal> = BTreeMap::new();
    for (material, quantity) in entry.materials {
        // Saturating: a sum past Decimal::MAX differs from the MBR's quantity all the same.
        let sum = used.entry(material.as_str()).or_default();
        *sum = sum.saturating_add(*quantity);
    }
    let mut differing = Vec::new();
    for m in &step.materials {
        let got = used.remove(m.material_code.as_str()).unwrap_or_default();
        if got != m.quantity {
            differing.push(format!(
                "{} {} {} (MBR {})",
                m.material_code, got, m.unit, m.quantity
            ));
        }
    }
    for (material, got) in used {
        differing.push(format!("{material} {got} (MBR 0)"));
    }
    if !differing.is_empty() {
        raised.push(exception(
            ExceptionKind::QuantityDiffers,
            ExceptionSeverity::Minor,
            differing.join("; "),
        ));
    }

    if let Some(corrected) = entry.corrects {
        raised.push(exception(
            ExceptionKind::Correction,
            ExceptionSeverity::Minor,
            format!(
                "corrects entry {corrected}: {}",
                reason.unwrap_or_default().trim()
            ),
        ));
    }
    if entry.recorded_at - entry.performed_at > Duration::hours(LATE_AFTER_HOURS) {
        raised.push(exception(
            ExceptionKind::LateEntry,
            ExceptionSeverity::Minor,
            format!(
                "performed {}, recorded {}",
                entry.performed_at.format("%Y-%m-%d %H:%M UTC"),
                entry.recorded_at.format("%Y-%m-%d %H:%M UTC")
            ),
        ));
    }
    Ok(raised)
}

/// Whether `value` is within the parameter's limits; a value that cannot be read is refused.
fn within_limits(p: &MbrParameter, value: &str) -> Result<bool, Problem> {
    if value.trim().is_empty() {
        return Err(Problem::Empty);
    }
    if p.min.is_some() || p.max.is_some() {
        let reading = NumericReading::parse(value)?;
        return Ok(reading.within(p.min, p.max));
    }
    Ok(p.expected
        .as_deref()
        .is_none_or(|e| normalise_word(e) == normalise_word(value)))
}

impl MbrParameter {
    /// The parameter's limits as people read them: `36.5–37.5 °C`, `≥ 80 %`, the expected
    /// word, or `—` when it has none.
    pub fn limits(&self) -> String {
        let unit = if self.unit.is_empty() {
            String::new()
        } else {
            format!(" {}", self.unit)
        };
        match (self.min, self.max, &self.expected) {
            (Some(min), Some(max), _) => format!("{min}–{max}{unit}"),
            (Some(min), None, _) => format!("≥ {min}{unit}"),
            (None, Some(max), _) => format!("≤ {max}{unit}"),
            (None, None, Some(e)) => e.clone(),
            (None, None, None) => "—".into(),
        }
    }
}

/// Why a verification is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerificationRefusal {
    /// Four eyes: the performer may not check their own step.
    #[error("the person who performed a step may not verify it")]
    OwnStep,
    #[error("the step does not need a verification")]
    NotRequired,
    #[error("entry {0} is verified already")]
    AlreadyVerified(i64),
    #[error("step '{0}' has no current entry to verify")]
    NothingToVerify(String),
}

/// The current entry of `step_code` that `verifier` may verify.
pub fn check_verification<'a>(
    mbr: &MasterRecord,
    entries: &'a [StepEntry],
    step_code: &str,
    verifier: &str,
) -> Result<&'a StepEntry, VerificationRefusal> {
    let step = mbr
        .step(step_code)
        .ok_or_else(|| VerificationRefusal::NothingToVerify(step_code.to_owned()))?;
    if !step.verification_required {
        return Err(VerificationRefusal::NotRequired);
    }
    let entry = *current_entries(entries)
        .get(step_code)
        .ok_or_else(|| VerificationRefusal::NothingToVerify(step_code.to_owned()))?;
    if entry.verified_by.is_some() {
        return Err(VerificationRefusal::AlreadyVerified(entry.id));
    }
    if entry.performed_by == verifier {
        return Err(VerificationRefusal::OwnStep);
    }
    Ok(entry)
}

/// An exception as stored: open until QA resolves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordedException {
    pub id: i64,
    pub kind: ExceptionKind,
    pub severity: ExceptionSeverity,
    pub step_code: String,
    pub resolved: bool,
}

/// What keeps a guided batch from release, beside SPEC §2's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordBlocker {
    /// `batch_record_incomplete`: a step of the MBR without a current entry.
    StepMissing(String),
    /// `batch_record_incomplete`: a step that needs a verification, not verified.
    VerificationMissing(String),
    /// `unresolved_exception`.
    UnresolvedException { id: i64, kind: ExceptionKind },
}

impl RecordBlocker {
    /// The release rule's code (SPEC §8).
    pub fn rule(&self) -> &'static str {
        match self {
            RecordBlocker::StepMissing(_) | RecordBlocker::VerificationMissing(_) => {
                "batch_record_incomplete"
            }
            RecordBlocker::UnresolvedException { .. } => "unresolved_exception",
        }
    }
}

/// The record rules of release for a batch guided by `mbr`.
pub fn record_blockers(
    mbr: &MasterRecord,
    entries: &[StepEntry],
    exceptions: &[RecordedException],
) -> Vec<RecordBlocker> {
    let current = current_entries(entries);
    let mut blockers = Vec::new();
    for step in &mbr.steps {
        match current.get(step.code.as_str()) {
            None => blockers.push(RecordBlocker::StepMissing(step.code.clone())),
            Some(e) if step.verification_required && e.verified_by.is_none() => {
                blockers.push(RecordBlocker::VerificationMissing(step.code.clone()));
            }
            Some(_) => {}
        }
    }
    blockers.extend(exceptions.iter().filter(|e| !e.resolved).map(|e| {
        RecordBlocker::UnresolvedException {
            id: e.id,
            kind: e.kind,
        }
    }));
    blockers
}

/// Why an exception cannot be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolutionRefusal {
    #[error("exception {0} is resolved already")]
    AlreadyResolved(i64),
    #[error("a resolution needs a comment")]
    NoComment,
    #[error("a critical exception is resolved with a signature: re-enter your password")]
    SignatureRequired,
}

/// QA may resolve `exception` with `comment`; `signed` says whether a password was given and
/// checked (critical exceptions need it).
pub fn check_resolution(
    exception: &RecordedException,
    comment: &str,
    signed: bool,
) -> Result<(), ResolutionRefusal> {
    if exception.resolved {
        return Err(ResolutionRefusal::AlreadyResolved(exception.id));
    }
    if comment.trim().is_empty() {
        return Err(ResolutionRefusal::NoComment);
    }
    if exception.severity == ExceptionSeverity::Critical && !signed {
        return Err(ResolutionRefusal::SignatureRequired);
    }
    Ok(())
}

#[cfg(test)]
#[path = "mbr_tests.rs"]
mod tests;
