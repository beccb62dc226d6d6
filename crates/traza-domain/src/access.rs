//! Users, roles and laboratory scope (SPEC §2 "Users, roles, scope").

use std::collections::BTreeSet;

use serde::Serialize;

use crate::codes::{LabCode, Username};
use crate::vocab::Role;

/// Everything a user may ask Traza to do, checked on the server for every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ManageUsers,
    ManageNetwork,
    ReadNetwork,
    ReadBatches,
    CreateBatch,
    /// Manufacturing events, QC results, deviations, completion and corrections.
    RecordBatchData,
    CloseDeviation,
    Release,
    Reject,
    Administer,
    ImportHistory,
    ReadAuditTrail,
    /// Report an adverse reaction against an administration (SPEC §6).
    ReportReaction,
    /// Conclude a reaction report.
    CloseReaction,
    /// Place a hold on a batch by hand; lift a hold (QA only those it placed: see
    /// `hold::check_lift`).
    HoldBatch,
    /// Confirm an imported released batch with a signature before it is administered.
    ConfirmHistory,
    /// Write and approve master batch records (SPEC §8): QA of the laboratory.
    ManageMasterRecords,
    /// Keep the network's catalogue of materials (SPEC §8).
    ManageMaterials,
    /// Record the receipt of a material lot at a laboratory. (Lots, equipment and rooms are
    /// read with `ReadBatches`: scoped by laboratory like batches.)
    ReceiveLots,
    /// Release or reject a material lot, signed.
    DisposeLots,
    /// Keep a laboratory's equipment and rooms.
    ManageEquipment,
}

/// Which laboratories' batches a user sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LabScope {
    /// The whole network.
    All,
    /// Only these laboratories.
    Labs(BTreeSet<LabCode>),
}

impl LabScope {
    pub fn includes(&self, lab: &LabCode) -> bool {
        match self {
            LabScope::All => true,
            LabScope::Labs(labs) => labs.contains(lab),
        }
    }

    /// [`LabScope::includes`] for a laboratory code as stored (text not parsed again).
    pub fn includes_code(&self, lab: &str) -> bool {
        match self {
            LabScope::All => true,
            LabScope::Labs(labs) => labs.iter().any(|l| l.as_str() == lab),
        }
    }
}

/// The authenticated user on whose behalf something is done.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub username: Username,
    pub full_name: String,
    pub role: Role,
    pub labs: BTreeSet<LabCode>,
}

impl Role {
    /// The role table of SPEC §2.
    pub fn may(self, action: Action) -> bool {
        use Action::*;
        match self {
            Role::Admin => matches!(
                action,
                ManageUsers | ReadNetwork | ReadBatches | ReadAuditTrail
            ),
            Role::Coordinator => matches!(
                action,
                ManageNetwork
                    | ReadNetwork
                    | ReadBatches
                    | ImportHistory
                    | ReadAuditTrail
                    | ReportReaction
                    | CloseReaction
                    | HoldBatch
                    | ManageMaterials
            ),
            Role::LabStaff => matches!(
                action,
                ReadNetwork
                    | ReadBatches
                    | CreateBatch
                    | RecordBatchData
                    | ImportHistory
                    | ReceiveLots
            ),
            Role::Qa => matches!(
                action,
                ReadNetwork
                    | ReadBatches
                    | CreateBatch
                    | RecordBatchData
                    | ImportHistory
                    | CloseDeviation
                    | Release
                    | Reject
                    | Administer
                    | ReportReaction
                    | HoldBatch
                    | ConfirmHistory
                    | ManageMasterRecords
                    | ReceiveLots
                    | DisposeLots
                    | ManageEquipment
            ),
            Role::Auditor => matches!(action, ReadNetwork | ReadBatches | ReadAuditTrail),
        }
    }

    /// Laboratory staff and QA belong to laboratories; the other roles see the network.
    pub fn is_lab_bound(self) -> bool {
        matches!(self, Role::LabStaff | Role::Qa)
    }
}

/// A refusal of an action: by role (403) or because the laboratory is outside the user's
/// scope, which answers as if the record did not exist (404), so scope leaks nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessRefusal {
    #[error("your role may not do this")]
    Forbidden,
    #[error("not found")]
    OutOfScope,
}

impl Actor {
    pub fn scope(&self) -> LabScope {
        if self.role.is_lab_bound() {
            LabScope::Labs(self.labs.clone())
        } else {
            LabScope::All
        }
    }

    pub fn may(&self, action: Action) -> Result<(), AccessRefusal> {
        if self.role.may(action) {
            Ok(())
        } else {
            Err(AccessRefusal::Forbidden)
        }
    }

    /// May this user do `action` on a record of `lab`? Reading out of scope is "not found";
    /// so is writing, so that the answer does not reveal that the record exists.
    pub fn may_in_lab(&self, action: Action, lab: &LabCode) -> Result<(), AccessRefusal> {
        if !self.scope().includes(lab) {
            return Err(AccessRefusal::OutOfScope);
        }
        self.may(action)
    }
}

/// Why a user's laboratories do not fit their role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UserLabsRefusal {
    /// A lab-bound role (lab_staff, qa) without any laboratory.
    #[error("lab_staff and qa users need at least one laboratory")]
    Required,
    /// Laboratories for a role that sees the whole network.
    #[error("only lab_staff and qa users belong to laboratories")]
    NotForRole,
}

impl crate::problem::Explain for UserLabsRefusal {
    fn problem(&self) -> Option<crate::problem::Problem> {
        use crate::problem::Problem as P;
        Some(match self {
            UserLabsRefusal::Required => P::LabsRequired,
            UserLabsRefusal::NotForRole => P::NoLabsForRole,
        })
    }
}

/// Users of a lab-bound role must belong to at least one laboratory; others to none.
pub fn check_user_labs(role: Role, labs: &BTreeSet<LabCode>) -> Result<(), UserLabsRefusal> {
    match (role.is_lab_bound(), labs.is_empty()) {
        (true, true) => Err(UserLabsRefusal::Required),
        (false, false) => Err(UserLabsRefusal::NotForRole),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, labs: &[&str]) -> Actor {
        Actor {
            username: Username::parse("someone").unwrap(),
            full_name: "Some One".into(),
            role,
            labs: labs.iter().map(|l| LabCode::parse(l).unwrap()).collect(),
        }
    }

    #[test]
    fn the_role_table_of_the_spec() {
        use Action::*;
        let all = [
            ManageUsers,
            ManageNetwork,
            ReadNetwork,
            ReadBatches,
            CreateBatch,
            RecordBatchData,
            CloseDeviation,
            Release,
            Reject,
            Administer,
            ImportHistory,
            ReadAuditTrail,
            ReportReaction,
            CloseReaction,
        ];
        let allowed = |role: Role| {
            all.iter()
                .copied()
                .filter(|a| role.may(*a))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            allowed(Role::Admin),
            [ManageUsers, ReadNetwork, ReadBatches, ReadAuditTrail]
        );
        assert_eq!(
            allowed(Role::Coordinator),
            [
                ManageNetwork,
                ReadNetwork,
                ReadBatches,
                ImportHistory,
                ReadAuditTrail,
                ReportReaction,
                CloseReaction
            ]
        );
        assert_eq!(
            allowed(Role::LabStaff),
            [
                ReadNetwork,
                ReadBatches,
                CreateBatch,
                RecordBatchData,
                ImportHistory
            ]
        );
        assert_eq!(
            allowed(Role::Qa),
            [
                ReadNetwork,
                ReadBatches,
                CreateBatch,
                RecordBatchData,
                CloseDeviation,
                Release,
                Reject,
                Administer,
                ImportHistory,
                ReportReaction
            ]
        );
        assert_eq!(
            allowed(Role::Auditor),
            [ReadNetwork, ReadBatches, ReadAuditTrail]
        );
    }

    #[test]
    fn lab_bound_users_see_only_their_labs() {
        let gra = LabCode::parse("GRA-UPCIT").unwrap();
        let sev = LabCode::parse("SEV-UPRC").unwrap();
        let staff = actor(Role::LabStaff, &["GRA-UPCIT"]);
        assert_eq!(staff.may_in_lab(Action::ReadBatches, &gra), Ok(()));
        assert_eq!(
            staff.may_in_lab(Action::ReadBatches, &sev),
            Err(AccessRefusal::OutOfScope)
        );
        assert_eq!(
            staff.may_in_lab(Action::Release, &gra),
            Err(AccessRefusal::Forbidden)
        );
        assert_eq!(
            staff.may_in_lab(Action::Release, &sev),
            Err(AccessRefusal::OutOfScope)
        );
        let auditor = actor(Role::Auditor, &[]);
        assert_eq!(auditor.may_in_lab(Action::ReadBatches, &sev), Ok(()));
        assert_eq!(
            auditor.may_in_lab(Action::RecordBatchData, &sev),
            Err(AccessRefusal::Forbidden)
        );
    }

    #[test]
    fn lab_membership_matches_the_role() {
        let labs: BTreeSet<_> = [LabCode::parse("GRA-UPCIT").unwrap()].into();
        assert!(check_user_labs(Role::Qa, &labs).is_ok());
        assert_eq!(
            check_user_labs(Role::Qa, &BTreeSet::new()),
            Err(UserLabsRefusal::Required)
        );
        assert_eq!(
            check_user_labs(Role::Auditor, &labs),
            Err(UserLabsRefusal::NotForRole)
        );
        assert!(check_user_labs(Role::Admin, &BTreeSet::new()).is_ok());
        // Said as data, for a page to say in its language.
        use crate::problem::{Explain, Problem};
        assert_eq!(
            UserLabsRefusal::Required.problem(),
            Some(Problem::LabsRequired)
        );
        assert_eq!(
            UserLabsRefusal::NotForRole.problem(),
            Some(Problem::NoLabsForRole)
        );
    }
}
