//! The records of a batch that the release rules read: QC results (never overwritten; a
//! retest supersedes, with a reason, and an OOS retest names its investigation) and deviations.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::vocab::{DeviationStatus, QcOutcome};

/// A QC result as stored: never overwritten; a retest supersedes an earlier result.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QcResult {
    pub id: i64,
    pub test: String,
    pub value: String,
    pub unit: String,
    pub outcome: QcOutcome,
    pub spec_version: u32,
    pub supersedes: Option<i64>,
    pub reason: Option<String>,
    pub recorded_by: String,
    /// For a retest of a failing (OOS) result: the deviation that investigates it.
    pub deviation_id: Option<i64>,
    /// The retest that replaced this result, if any (derived: see [`mark_superseded`]).
    /// Superseded results stay on the record and are shown, marked.
    pub superseded_by: Option<i64>,
}

/// Fills in `superseded_by` from the retests' `supersedes`.
pub fn mark_superseded(results: &mut [QcResult]) {
    let links: Vec<(i64, i64)> = results
        .iter()
        .filter_map(|r| r.supersedes.map(|old| (old, r.id)))
        .collect();
    for r in results.iter_mut() {
        r.superseded_by = links
            .iter()
            .find(|(old, _)| *old == r.id)
            .map(|(_, new)| *new);
    }
}

/// Why a new QC result is refused, beyond the specification's own refusals.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResultRefusal {
    /// No testing into compliance (EU GMP Ch. 6.35; FDA OOS guidance): a test with a current
    /// result takes another only as a retest that says which result it replaces and why.
    #[error(
        "test '{test}' already has a result (id {current}); a new one is a retest: send supersedes={current} and a reason"
    )]
    ResultExists { test: String, current: i64 },
    #[error(transparent)]
    Retest(#[from] RetestRefusal),
    /// The retest of an out-of-specification result names the deviation investigating it.
    #[error(
        "result {original} is out of specification: its retest must name the deviation that investigates it (deviation_id)"
    )]
    InvestigationRequired { original: i64 },
    #[error("deviation {0} does not exist on this batch")]
    UnknownDeviation(i64),
}

/// A new result for `test`: the first of its test, or a retest of the current one. The retest
/// of a failing result names a deviation of this batch (release stays blocked while it is open).
pub fn check_new_result(
    results: &[QcResult],
    deviations: &[Deviation],
    test: &str,
    supersedes: Option<i64>,
    reason: Option<&str>,
    deviation_id: Option<i64>,
) -> Result<(), ResultRefusal> {
    if let Some(id) = deviation_id
        && !deviations.iter().any(|d| d.id == id)
    {
        return Err(ResultRefusal::UnknownDeviation(id));
    }
    let Some(original) = supersedes else {
        return match current_results(results).iter().find(|r| r.test == test) {
            Some(current) => Err(ResultRefusal::ResultExists {
                test: test.to_owned(),
                current: current.id,
            }),
            None => Ok(()),
        };
    };
    check_retest(results, test, original, reason)?;
    let failed = results
        .iter()
        .any(|r| r.id == original && r.outcome == QcOutcome::Fail);
    if failed && deviation_id.is_none() {
        return Err(ResultRefusal::InvestigationRequired { original });
    }
    Ok(())
}

/// Why a QC result (or retest) is refused, beyond the specification's own refusals.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetestRefusal {
    #[error("result {0} does not exist on this batch")]
    UnknownResult(i64),
    #[error("result {0} is already superseded by result {1}")]
    AlreadySuperseded(i64, i64),
    #[error("a retest must be of the same test as result {id} ('{test}')")]
    DifferentTest { id: i64, test: String },
    #[error("a retest needs a reason")]
    MissingReason,
}

impl crate::problem::Explain for RetestRefusal {
    fn problem(&self) -> Option<crate::problem::Problem> {
        use crate::problem::Problem as P;
        Some(match self {
            RetestRefusal::UnknownResult(id) => P::UnknownResult { id: *id },
            RetestRefusal::AlreadySuperseded(id, by) => P::AlreadySuperseded { id: *id, by: *by },
            RetestRefusal::DifferentTest { test, .. } => P::RetestOtherTest { test: test.clone() },
            RetestRefusal::MissingReason => P::ReasonRequired,
        })
    }
}

impl crate::problem::Explain for ResultRefusal {
    fn problem(&self) -> Option<crate::problem::Problem> {
        use crate::problem::Problem as P;
        match self {
            ResultRefusal::ResultExists { .. } => None,
            ResultRefusal::Retest(r) => r.problem(),
            ResultRefusal::InvestigationRequired { .. } => Some(P::InvestigationRequired),
            ResultRefusal::UnknownDeviation(id) => Some(P::UnknownDeviation { id: *id }),
        }
    }
}

/// A retest references the result it supersedes, of the same test, which nothing has
/// superseded yet, and gives a reason (the original result is never overwritten: EU GMP
/// Ch. 6.35, OOS investigations).
pub fn check_retest(
    results: &[QcResult],
    test: &str,
    supersedes: i64,
    reason: Option<&str>,
) -> Result<(), RetestRefusal> {
    let original = results
        .iter()
        .find(|r| r.id == supersedes)
        .ok_or(RetestRefusal::UnknownResult(supersedes))?;
    if original.test != test {
        return Err(RetestRefusal::DifferentTest {
            id: original.id,
            test: original.test.clone(),
        });
    }
    if let Some(newer) = results.iter().find(|r| r.supersedes == Some(supersedes)) {
        return Err(RetestRefusal::AlreadySuperseded(supersedes, newer.id));
    }
    if reason.is_none_or(|r| r.trim().is_empty()) {
        return Err(RetestRefusal::MissingReason);
    }
    Ok(())
}

/// The current result of each test: the newest result that no retest superseded.
pub fn current_results(results: &[QcResult]) -> Vec<&QcResult> {
    let superseded: BTreeSet<i64> = results.iter().filter_map(|r| r.supersedes).collect();
    let mut current: Vec<&QcResult> = Vec::new();
    for r in results.iter().filter(|r| !superseded.contains(&r.id)) {
        match current.iter_mut().find(|c| c.test == r.test) {
            Some(c) if c.id < r.id => *c = r,
            Some(_) => {}
            None => current.push(r),
        }
    }
    current
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deviation {
    pub id: i64,
    pub status: DeviationStatus,
}
