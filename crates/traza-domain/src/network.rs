//! The network the coordination unit manages: laboratories, products and the assignments that
//! say which laboratory may make which product, by which access route, from when until when.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::codes::{LabCode, ProductCode, TrialId};
use crate::spec::Specification;
use crate::vocab::{AccessRoute, AtmpClass, LabStatus, Origin, ProductStatus};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Laboratory {
    pub code: LabCode,
    pub name: String,
    pub city: String,
    pub province: String,
    pub institution: String,
    #[serde(default)]
    pub authorisation_number: Option<String>,
    #[serde(default)]
    pub gmp_certificate_valid_until: Option<NaiveDate>,
    pub status: LabStatus,
    pub training_only: bool,
    pub specialisations: BTreeSet<AtmpClass>,
    /// Batches started per calendar month.
    #[serde(default)]
    pub capacity_per_month: Option<u32>,
}

impl Laboratory {
    /// A GMP certificate without a date is not tracked here; one with a date covers it.
    pub fn certificate_valid_on(&self, day: NaiveDate) -> bool {
        self.gmp_certificate_valid_until
            .is_none_or(|until| day <= until)
    }

    /// Whether the laboratory may manufacture clinical batches at all.
    pub fn manufactures(&self) -> bool {
        self.status == LabStatus::Active && !self.training_only
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub code: ProductCode,
    pub name: String,
    pub atmp_class: AtmpClass,
    pub origin: Origin,
    pub access_routes: BTreeSet<AccessRoute>,
    pub shelf_life_days: u32,
    pub status: ProductStatus,
    pub specification: Specification,
    /// Version of `specification`; a change of specification makes a new one.
    #[serde(default = "first_version")]
    pub spec_version: u32,
    /// Conditions the product treats, in the words patients use (`linfoma`, `quemaduras`),
    /// for the public registry's search. Left out of the JSON when empty, so that products
    /// recorded before these lists keep their exact form in the audit trail.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indications: Vec<String>,
    /// Other words patients search with (`células madre`, `CAR-T`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
}

fn first_version() -> u32 {
    1
}

impl Product {
    /// Expiry from the end of manufacture and the shelf life.
    pub fn default_expiry(&self, manufacturing_end: NaiveDate) -> Option<NaiveDate> {
        manufacturing_end.checked_add_days(chrono::Days::new(u64::from(self.shelf_life_days)))
    }
}

/// A validity period, both ends inclusive; no end means open-ended.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
}

impl Period {
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.valid_from <= day && self.valid_until.is_none_or(|until| day <= until)
    }

    pub fn overlaps(&self, other: &Period) -> bool {
        let starts_before_other_ends = other.valid_until.is_none_or(|end| self.valid_from <= end);
        let other_starts_before_self_ends =
            self.valid_until.is_none_or(|end| other.valid_from <= end);
        starts_before_other_ends && other_starts_before_self_ends
    }
}

/// An assignment as the coordinator proposes it, before it is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentProposal {
    pub product_code: ProductCode,
    pub lab_code: LabCode,
    pub access_route: AccessRoute,
    pub authorisation_ref: Option<String>,
    pub period: Period,
    pub reason: String,
}

/// An accepted assignment.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assignment {
    pub id: i64,
    pub product_code: ProductCode,
    pub lab_code: LabCode,
    pub access_route: AccessRoute,
    pub authorisation_ref: Option<String>,
    #[serde(flatten)]
    pub period: Period,
    pub reason: String,
    pub assigned_by: String,
}

impl Assignment {
    /// The trial a clinical-trial assignment authorises (its authorisation reference, when it
    /// is an EudraCT or EU CT number); `None` for the other routes.
    pub fn trial_id(&self) -> Option<TrialId> {
        (self.access_route == AccessRoute::ClinicalTrial)
            .then_some(self.authorisation_ref.as_deref())
            .flatten()
            .and_then(|r| TrialId::parse(r.trim()).ok())
    }
}

/// Why an assignment is refused (`lab_not_eligible`). Every applicable reason is reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EligibilityRefusal {
    LabSuspended,
    LabTrainingOnly,
    MissingSpecialisation(AtmpClass),
    GmpCertificateExpired {
        valid_until: NaiveDate,
        valid_from: NaiveDate,
    },
    ProductWithdrawn,
    RouteNotOffered(AccessRoute),
    EndsBeforeItStarts,
    Overlaps {
        assignment_id: i64,
    },
    /// A clinical-trial assignment names its trial (EudraCT or EU CT) in `authorisation_ref`.
    MissingTrialId,
}

impl EligibilityRefusal {
    /// Stable machine-readable rule name, for the error's details.
    pub fn rule(&self) -> &'static str {
        match self {
            Self::LabSuspended => "lab_suspended",
            Self::LabTrainingOnly => "lab_training_only",
            Self::MissingSpecialisation(_) => "missing_specialisation",
            Self::GmpCertificateExpired { .. } => "gmp_certificate_expired",
            Self::ProductWithdrawn => "product_withdrawn",
            Self::RouteNotOffered(_) => "route_not_offered",
            Self::EndsBeforeItStarts => "invalid_period",
            Self::Overlaps { .. } => "overlapping_assignment",
            Self::MissingTrialId => "missing_trial_id",
        }
    }

    /// What the rule is about, when it is about one thing, as a word or a number a page can
    /// read back: the class the laboratory lacks, the route not offered (their snake_case
    /// words), the certificate's last day (ISO), the overlapping assignment (`#id`).
    pub fn subject(&self) -> Option<String> {
        match self {
            Self::MissingSpecialisation(class) => Some(class.as_str().to_owned()),
            Self::GmpCertificateExpired { valid_until, .. } => Some(valid_until.to_string()),
            Self::RouteNotOffered(route) => Some(route.as_str().to_owned()),
            Self::Overlaps { assignment_id } => Some(format!("#{assignment_id}")),
            Self::LabSuspended
            | Self::LabTrainingOnly
            | Self::ProductWithdrawn
            | Self::EndsBeforeItStarts
            | Self::MissingTrialId => None,
        }
    }

    pub fn message(&self) -> String {
        match self {
            Self::LabSuspended => "the laboratory is suspended".into(),
            Self::LabTrainingOnly => {
                "the laboratory is for training only and makes no clinical batches".into()
            }
            Self::MissingSpecialisation(class) => {
                format!("the laboratory is not specialised in {class}")
            }
            Self::GmpCertificateExpired {
                valid_until,
                valid_from,
            } => {
                format!(
                    "the laboratory's GMP certificate expires on {valid_until}, before {valid_from}"
                )
            }
            Self::ProductWithdrawn => "the product is withdrawn".into(),
            Self::RouteNotOffered(route) => {
                format!("the product is not offered by the route {route}")
            }
            Self::EndsBeforeItStarts => "valid_until is before valid_from".into(),
            Self::Overlaps { assignment_id } => {
                format!(
                    "overlaps assignment {assignment_id} of the same product to the same laboratory and route"
                )
            }
            Self::MissingTrialId => "a clinical-trial assignment needs the trial's EudraCT or EU CT number in authorisation_ref".into(),
        }
    }
}

/// Decides whether `proposal` may be accepted, given the laboratory, the product and the
/// existing assignments of that product to that laboratory. Returns every reason it is refused.
///
/// Overlap is judged per access route: a laboratory may hold the same product under a hospital
/// exemption and, at the same time, in a clinical trial.
pub fn check_assignment(
    lab: &Laboratory,
    product: &Product,
    proposal: &AssignmentProposal,
    existing: &[Assignment],
) -> Result<(), Vec<EligibilityRefusal>> {
    let mut refusals = Vec::new();
    let from = proposal.period.valid_from;
    if lab.status == LabStatus::Suspended {
        refusals.push(EligibilityRefusal::LabSuspended);
    }
    if lab.training_only {
        refusals.push(EligibilityRefusal::LabTrainingOnly);
    }
    if !lab.specialisations.contains(&product.atmp_class) {
        refusals.push(EligibilityRefusal::MissingSpecialisation(
            product.atmp_class,
        ));
    }
    if let Some(valid_until) = lab.gmp_certificate_valid_until
        && !lab.certificate_valid_on(from)
    {
        refusals.push(EligibilityRefusal::GmpCertificateExpired {
            valid_until,
            valid_from: from,
        });
    }
    if product.status == ProductStatus::Withdrawn {
        refusals.push(EligibilityRefusal::ProductWithdrawn);
    }
    if !product.access_routes.contains(&proposal.access_route) {
        refusals.push(EligibilityRefusal::RouteNotOffered(proposal.access_route));
    }
    if proposal
        .period
        .valid_until
        .is_some_and(|until| until < from)
    {
        refusals.push(EligibilityRefusal::EndsBeforeItStarts);
    }
    let trial = |r: &Option<String>| r.as_deref().and_then(|r| TrialId::parse(r).ok());
    let proposed_trial = trial(&proposal.authorisation_ref);
    if proposal.access_route == AccessRoute::ClinicalTrial && proposed_trial.is_none() {
        refusals.push(EligibilityRefusal::MissingTrialId);
    }
    refusals.extend(
        existing
            .iter()
            .filter(|a| {
                a.product_code == proposal.product_code
                    && a.lab_code == proposal.lab_code
                    && a.access_route == proposal.access_route
                    && a.period.overlaps(&proposal.period)
                    // Two trials of one product at one laboratory may run at once; an older
                    // assignment without a trial id is taken to be the same trial.
                    && (a.access_route != AccessRoute::ClinicalTrial
                        || trial(&a.authorisation_ref).is_none()
                        || trial(&a.authorisation_ref) == proposed_trial)
            })
            .map(|a| EligibilityRefusal::Overlaps {
                assignment_id: a.id,
            }),
    );
    if refusals.is_empty() {
        Ok(())
    } else {
        Err(refusals)
    }
}

/// Why ending an assignment is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndAssignmentRefusal {
    #[error("an assignment cannot end ({until}) before it starts ({from})")]
    BeforeStart { from: NaiveDate, until: NaiveDate },
    #[error("the assignment already ended on {0}")]
    AlreadyEnded(NaiveDate),
}

/// Ending an assignment sets its last valid day; it is never deleted. An assignment can be
/// shortened, not lengthened, once it has an end.
pub fn end_assignment(period: &Period, until: NaiveDate) -> Result<Period, EndAssignmentRefusal> {
    if until < period.valid_from {
        return Err(EndAssignmentRefusal::BeforeStart {
            from: period.valid_from,
            until,
        });
    }
    if let Some(current) = period.valid_until
        && current <= until
    {
        return Err(EndAssignmentRefusal::AlreadyEnded(current));
    }
    Ok(Period {
        valid_from: period.valid_from,
        valid_until: Some(until),
    })
}

/// Finds the assignment that authorises making `product` at `lab` by `route` on `day`.
pub fn covering_assignment<'a>(
    assignments: &'a [Assignment],
    product: &ProductCode,
    lab: &LabCode,
    route: AccessRoute,
    day: NaiveDate,
) -> Option<&'a Assignment> {
    assignments.iter().find(|a| {
        &a.product_code == product
            && &a.lab_code == lab
            && a.access_route == route
            && a.period.covers(day)
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::spec::SpecTest;
    use crate::vocab::TestKind;
    use rust_decimal::dec;

    pub fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    pub fn lab() -> Laboratory {
        Laboratory {
            code: LabCode::parse("GRA-UPCIT").unwrap(),
            name: "Unidad de Producción Celular e Ingeniería Tisular".into(),
            city: "Granada".into(),
            province: "Granada".into(),
            institution: "H. U. Virgen de las Nieves".into(),
            authorisation_number: None,
            gmp_certificate_valid_until: Some(day("2027-12-31")),
            status: LabStatus::Active,
            training_only: false,
            specialisations: [AtmpClass::TissueEngineered, AtmpClass::SomaticCellTherapy].into(),
            capacity_per_month: Some(2),
        }
    }

    pub fn product(origin: Origin) -> Product {
        Product {
            code: ProductCode::parse("UGRSKIN").unwrap(),
            name: "Piel artificial UGRSKIN".into(),
            atmp_class: AtmpClass::TissueEngineered,
            origin,
            access_routes: [AccessRoute::HospitalExemption, AccessRoute::ClinicalTrial].into(),
            shelf_life_days: 3,
            status: ProductStatus::Active,
            specification: Specification::new(vec![
                SpecTest {
                    test: "viability".into(),
                    unit: "%".into(),
                    kind: TestKind::Numeric,
                    min: Some(dec!(70)),
                    max: None,
                    expected: None,
                    values: Vec::new(),
                    required: true,
                },
                SpecTest {
                    test: "sterility".into(),
                    unit: String::new(),
                    kind: TestKind::Categorical,
                    min: None,
                    max: None,
                    expected: Some("negative".into()),
                    values: Vec::new(),
                    required: true,
                },
                SpecTest {
                    test: "hla_dr".into(),
                    unit: "%".into(),
                    kind: TestKind::Numeric,
                    min: None,
                    max: Some(dec!(20)),
                    expected: None,
                    values: Vec::new(),
                    required: false,
                },
            ])
            .unwrap(),
            spec_version: 1,
            indications: vec!["quemaduras".into()],
            keywords: Vec::new(),
        }
    }

    pub fn proposal(from: &str, until: Option<&str>) -> AssignmentProposal {
        AssignmentProposal {
            product_code: ProductCode::parse("UGRSKIN").unwrap(),
            lab_code: LabCode::parse("GRA-UPCIT").unwrap(),
            access_route: AccessRoute::HospitalExemption,
            authorisation_ref: None,
            period: Period {
                valid_from: day(from),
                valid_until: until.map(day),
            },
            reason: "Cartera de servicios del SAS".into(),
        }
    }

    pub fn accepted(id: i64, p: AssignmentProposal) -> Assignment {
        Assignment {
            id,
            product_code: p.product_code,
            lab_code: p.lab_code,
            access_route: p.access_route,
            authorisation_ref: p.authorisation_ref,
            period: p.period,
            reason: p.reason,
            assigned_by: "coordinadora".into(),
        }
    }

    #[test]
    fn an_eligible_assignment_is_accepted() {
        assert_eq!(
            check_assignment(
                &lab(),
                &product(Origin::Autologous),
                &proposal("2026-01-01", None),
                &[]
            ),
            Ok(())
        );
    }

    #[test]
    fn every_reason_is_reported_at_once() {
        let mut lab = lab();
        lab.status = LabStatus::Suspended;
        lab.training_only = true;
        lab.specialisations = [AtmpClass::GeneTherapy].into();
        lab.gmp_certificate_valid_until = Some(day("2025-12-31"));
        let mut product = product(Origin::Autologous);
        product.status = ProductStatus::Withdrawn;
        product.access_routes = [AccessRoute::ClinicalTrial].into();
        let refusals = check_assignment(
            &lab,
            &product,
            &proposal("2026-01-01", Some("2025-06-01")),
            &[],
        )
        .unwrap_err();
        let rules: Vec<_> = refusals.iter().map(EligibilityRefusal::rule).collect();
        assert_eq!(
            rules,
            [
                "lab_suspended",
                "lab_training_only",
                "missing_specialisation",
                "gmp_certificate_expired",
                "product_withdrawn",
                "route_not_offered",
                "invalid_period"
            ]
        );
        assert!(refusals[3].message().contains("2025-12-31"));
    }

    #[test]
    fn certificate_must_be_valid_on_the_first_day() {
        let mut lab = lab();
        lab.gmp_certificate_valid_until = Some(day("2026-01-01"));
        let p = product(Origin::Autologous);
        assert!(check_assignment(&lab, &p, &proposal("2026-01-01", None), &[]).is_ok());
        assert!(check_assignment(&lab, &p, &proposal("2026-01-02", None), &[]).is_err());
        lab.gmp_certificate_valid_until = None;
        assert!(check_assignment(&lab, &p, &proposal("2030-01-02", None), &[]).is_ok());
    }

    #[test]
    fn a_reason_names_what_it_is_about_in_words_a_page_reads_back() {
        use EligibilityRefusal as R;
        let class = AtmpClass::ALL[0];
        assert_eq!(
            R::MissingSpecialisation(class).subject(),
            Some(class.as_str().to_owned())
        );
        assert_eq!(
            R::RouteNotOffered(AccessRoute::ClinicalTrial).subject(),
            Some("clinical_trial".to_owned())
        );
        let expired = R::GmpCertificateExpired {
            valid_until: day("2026-03-01"),
            valid_from: day("2026-04-01"),
        };
        assert_eq!(expired.subject(), Some("2026-03-01".to_owned()));
        assert_eq!(R::LabSuspended.subject(), None);
    }

    #[test]
    fn overlapping_periods_of_the_same_route_are_refused() {
        let existing = [accepted(7, proposal("2024-01-01", Some("2025-12-31")))];
        let p = product(Origin::Autologous);
        let refused =
            check_assignment(&lab(), &p, &proposal("2025-12-31", None), &existing).unwrap_err();
        assert_eq!(refused, [EligibilityRefusal::Overlaps { assignment_id: 7 }]);
        assert_eq!(refused[0].subject().as_deref(), Some("#7"));
        assert!(check_assignment(&lab(), &p, &proposal("2026-01-01", None), &existing).is_ok());
        let mut other_route = proposal("2025-01-01", None);
        other_route.access_route = AccessRoute::ClinicalTrial;
        other_route.authorisation_ref = Some("2015-001726-39".into());
        assert!(check_assignment(&lab(), &p, &other_route, &existing).is_ok());
    }

    #[test]
    fn open_ended_periods_overlap_everything_after_them() {
        let open = Period {
            valid_from: day("2020-01-01"),
            valid_until: None,
        };
        let later = Period {
            valid_from: day("2030-01-01"),
            valid_until: Some(day("2030-02-01")),
        };
        let earlier = Period {
            valid_from: day("2019-01-01"),
            valid_until: Some(day("2019-12-31")),
        };
        assert!(open.overlaps(&later) && later.overlaps(&open));
        assert!(!open.overlaps(&earlier) && !earlier.overlaps(&open));
    }

    #[test]
    fn ending_shortens_and_never_lengthens() {
        let period = Period {
            valid_from: day("2024-01-01"),
            valid_until: None,
        };
        let ended = end_assignment(&period, day("2026-06-30")).unwrap();
        assert_eq!(ended.valid_until, Some(day("2026-06-30")));
        assert!(end_assignment(&ended, day("2026-05-31")).is_ok());
        assert_eq!(
            end_assignment(&ended, day("2026-07-31")),
            Err(EndAssignmentRefusal::AlreadyEnded(day("2026-06-30")))
        );
        assert!(matches!(
            end_assignment(&period, day("2023-12-31")),
            Err(EndAssignmentRefusal::BeforeStart { .. })
        ));
    }

    #[test]
    fn coverage_needs_product_lab_route_and_day() {
        let assignments = [accepted(1, proposal("2024-01-01", Some("2024-12-31")))];
        let (product, lab) = (
            ProductCode::parse("UGRSKIN").unwrap(),
            LabCode::parse("GRA-UPCIT").unwrap(),
        );
        assert!(
            covering_assignment(
                &assignments,
                &product,
                &lab,
                AccessRoute::HospitalExemption,
                day("2024-12-31")
            )
            .is_some()
        );
        assert!(
            covering_assignment(
                &assignments,
                &product,
                &lab,
                AccessRoute::HospitalExemption,
                day("2025-01-01")
            )
            .is_none()
        );
        assert!(
            covering_assignment(
                &assignments,
                &product,
                &lab,
                AccessRoute::ClinicalTrial,
                day("2024-06-01")
            )
            .is_none()
        );
    }
}
