//! Holds: a batch that may have harmed a patient, or that QA or the coordination unit doubts,
//! is stopped — neither certified nor administered — until someone with the authority lifts
//! the hold with a reason (SPEC §2 "Hold"; EU GMP Part IV §15, recall and look-back).
//!
//! A hold is a stored row: placing and lifting are each audited, and nothing is ever deleted.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::access::Actor;
use crate::validation::text;
use crate::vocab::Role;

/// A hold as stored.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hold {
    pub id: i64,
    pub reason: String,
    pub placed_by: String,
    pub placed_at: DateTime<Utc>,
    /// The adverse reaction whose look-back placed it, if any.
    pub reaction_id: Option<i64>,
    pub lifted_by: Option<String>,
    pub lifted_at: Option<DateTime<Utc>>,
    pub lift_reason: Option<String>,
}

impl Hold {
    pub fn is_active(&self) -> bool {
        self.lifted_at.is_none()
    }

    /// The first day the hold stands. An administration dated before it happened before
    /// anyone knew: it is recorded (and flagged), never refused.
    pub fn began_on(&self) -> NaiveDate {
        self.placed_at.date_naive()
    }
}

/// Whether a batch is on hold: it has at least one active hold.
pub fn on_hold(holds: &[Hold]) -> bool {
    holds.iter().any(Hold::is_active)
}

/// How an administration dated `on` stands against a batch's holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldStanding {
    /// No active hold.
    Clear,
    /// Every active hold began after `on`: the administration happened before the hold and is
    /// recorded with a flag.
    BeforeHold,
    /// An active hold stood on `on`: refused (`batch_on_hold`).
    Held { hold_id: i64 },
}

pub fn standing_on(holds: &[Hold], on: NaiveDate) -> HoldStanding {
    let mut standing = HoldStanding::Clear;
    for h in holds.iter().filter(|h| h.is_active()) {
        if h.began_on() <= on {
            return HoldStanding::Held { hold_id: h.id };
        }
        standing = HoldStanding::BeforeHold;
    }
    standing
}

/// The reason a hold is placed or lifted with: required free text (Annex 11 §9).
/// The reason of the hold a new batch starts under when a serious adverse reaction on a batch
/// of the same donor is open (SPEC §2 "Hold"), made in Traza or imported.
pub fn open_reaction_hold_reason(reaction_id: i64) -> String {
    format!("serious adverse reaction {reaction_id} on a batch of the same donor is open")
}

pub fn check_reason(reason: &str) -> Result<String, crate::problem::Problem> {
    text(reason, 2000)
}

/// Why lifting a hold is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LiftRefusal {
    #[error("hold {0} was already lifted")]
    AlreadyLifted(i64),
    /// QA lifts only the holds it placed; a reaction's holds and other people's are lifted by
    /// the coordination unit, which sees the whole look-back.
    #[error(
        "hold {0} was placed by someone else or by a reaction report: only a coordinator may lift it"
    )]
    NotYours(i64),
}

/// Who may lift `hold`: a coordinator, or QA of the laboratory for a hold they placed by hand.
/// (Role and laboratory scope are checked before, as for every batch write.)
pub fn check_lift(hold: &Hold, actor: &Actor) -> Result<(), LiftRefusal> {
    if !hold.is_active() {
        return Err(LiftRefusal::AlreadyLifted(hold.id));
    }
    match actor.role {
        Role::Coordinator => Ok(()),
        _ if hold.reaction_id.is_none() && hold.placed_by == actor.username.as_str() => Ok(()),
        _ => Err(LiftRefusal::NotYours(hold.id)),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::codes::Username;

    fn at(s: &str) -> DateTime<Utc> {
        format!("{s}T10:00:00Z").parse().unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn hold(id: i64, placed_by: &str, placed: &str, reaction: Option<i64>) -> Hold {
        Hold {
            id,
            reason: "look-back".into(),
            placed_by: placed_by.into(),
            placed_at: at(placed),
            reaction_id: reaction,
            lifted_by: None,
            lifted_at: None,
            lift_reason: None,
        }
    }

    fn actor(username: &str, role: Role) -> Actor {
        Actor {
            username: Username::parse(username).unwrap(),
            full_name: username.into(),
            role,
            labs: BTreeSet::new(),
        }
    }

    #[test]
    fn a_lifted_hold_no_longer_holds() {
        let mut h = hold(1, "isabel.morales", "2026-11-01", None);
        assert!(on_hold(std::slice::from_ref(&h)));
        h.lifted_at = Some(at("2026-11-02"));
        assert!(!on_hold(&[h]));
    }

    #[test]
    fn an_administration_on_or_after_the_hold_day_is_held_one_before_is_flagged() {
        let holds = [hold(4, "qa", "2026-11-10", None)];
        assert_eq!(
            standing_on(&holds, day("2026-11-10")),
            HoldStanding::Held { hold_id: 4 }
        );
        assert_eq!(
            standing_on(&holds, day("2026-11-12")),
            HoldStanding::Held { hold_id: 4 }
        );
        assert_eq!(
            standing_on(&holds, day("2026-11-09")),
            HoldStanding::BeforeHold
        );
        assert_eq!(standing_on(&[], day("2026-11-09")), HoldStanding::Clear);
    }

    #[test]
    fn the_earliest_active_hold_decides() {
        let mut lifted = hold(1, "qa", "2026-10-01", None);
        lifted.lifted_at = Some(at("2026-10-02"));
        let holds = [
            lifted,
            hold(2, "qa", "2026-11-20", None),
            hold(3, "qa", "2026-11-05", None),
        ];
        assert_eq!(
            standing_on(&holds, day("2026-11-06")),
            HoldStanding::Held { hold_id: 3 }
        );
        assert_eq!(
            standing_on(&holds, day("2026-10-15")),
            HoldStanding::BeforeHold
        );
    }

    #[test]
    fn qa_lifts_only_its_own_hand_placed_holds_coordinators_any() {
        let mine = hold(1, "isabel.morales", "2026-11-01", None);
        let theirs = hold(2, "other.qa", "2026-11-01", None);
        let reaction = hold(3, "isabel.morales", "2026-11-01", Some(9));
        let qa = actor("isabel.morales", Role::Qa);
        let coordinator = actor("lucia.navarro", Role::Coordinator);
        assert_eq!(check_lift(&mine, &qa), Ok(()));
        assert_eq!(check_lift(&theirs, &qa), Err(LiftRefusal::NotYours(2)));
        assert_eq!(check_lift(&reaction, &qa), Err(LiftRefusal::NotYours(3)));
        for h in [&mine, &theirs, &reaction] {
            assert_eq!(check_lift(h, &coordinator), Ok(()));
        }
    }

    #[test]
    fn a_hold_is_lifted_once() {
        let mut h = hold(1, "qa", "2026-11-01", None);
        h.lifted_at = Some(at("2026-11-03"));
        let coordinator = actor("lucia.navarro", Role::Coordinator);
        assert_eq!(
            check_lift(&h, &coordinator),
            Err(LiftRefusal::AlreadyLifted(1))
        );
    }

    #[test]
    fn a_hold_needs_a_reason() {
        assert!(check_reason("   ").is_err());
        assert_eq!(check_reason(" sospecha ").unwrap(), "sospecha");
    }
}
