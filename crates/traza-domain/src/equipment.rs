//! Equipment and rooms of a laboratory (SPEC §8 "Equipment and rooms"), and whether a step may
//! use them: equipment in service and within its calibration (EU GMP Part I §3.41: measuring
//! equipment calibrated at defined intervals), a room of the step's grade or a cleaner one
//! (EU GMP Annex 1 §4.23, grades A to D, A the cleanest).
//!
//! Where §8 is silent, decided here:
//! - `calibration_due` is the **last day** the calibration covers: equipment may be used on its
//!   due date and is past due from the next day — the same reading as a lot's or a batch's
//!   expiry date, so that one rule holds for every date that ends a validity in Traza;
//! - every piece of equipment has a calibration (or requalification) due date: GMP equipment
//!   without one would be usable for ever;
//! - "due within N days" counts from today to the due date, both included; equipment already
//!   past due is not "due soon" but unusable ([`Equipment::usable_on`]);
//! - an equipment class is a word in snake_case (`biosafety_cabinet`): typed `Biosafety
//!   cabinet` it is stored so, and a master record's class matches it the same way.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::codes::{EquipmentId, LabCode, RoomId};
use crate::problem::{Explain, Problem};
use crate::spec::normalise_word;
use crate::vocab::{RoomGrade, vocabulary};

vocabulary! {
    EquipmentStatus, "equipment status" {
        InService => "in_service",
        OutOfService => "out_of_service",
    }
}

/// How many days ahead a calibration due date is shown as coming (SPEC §8 pages).
pub const CALIBRATION_NOTICE_DAYS: u32 = 30;

const CLASS_MAX: usize = 40;

/// What kind of equipment it is, as a master record's step asks for it (`incubator`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EquipmentClass(String);

impl EquipmentClass {
    /// The class as a snake_case word of `a-z`, `0-9` and `_`, at most 40 characters.
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let word = normalise_word(raw);
        if word.is_empty() {
            return Err(Problem::Empty);
        }
        if word.chars().count() > CLASS_MAX {
            return Err(Problem::TooLong { max: CLASS_MAX });
        }
        if let Some((i, ch)) = word
            .chars()
            .enumerate()
            .find(|(_, c)| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
        {
            return Err(Problem::CodeCharacter {
                ch: ch.to_string(),
                position: i + 1,
            });
        }
        Ok(Self(word))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the class a master record names, however it was spelled there.
    pub fn is(&self, named: &str) -> bool {
        self.0 == normalise_word(named)
    }
}

impl TryFrom<String> for EquipmentClass {
    type Error = Problem;
    fn try_from(s: String) -> Result<Self, Problem> {
        Self::parse(&s)
    }
}

impl From<EquipmentClass> for String {
    fn from(c: EquipmentClass) -> String {
        c.0
    }
}

impl std::fmt::Display for EquipmentClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for EquipmentClass {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::schema::string(
            "Equipment class, a snake_case word (biosafety_cabinet, incubator)",
            Some("^[a-z0-9_]{1,40}$"),
        )
    }
}
#[cfg(feature = "openapi")]
impl utoipa::ToSchema for EquipmentClass {}

/// A piece of equipment of a laboratory.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Equipment {
    pub lab_code: LabCode,
    pub id: EquipmentId,
    pub class: EquipmentClass,
    pub status: EquipmentStatus,
    /// The last day its calibration covers.
    pub calibration_due: NaiveDate,
}

/// Why a step may not use a piece of equipment (SPEC §8 `equipment_not_usable`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EquipmentRefusal {
    /// No equipment of the batch's laboratory has that id.
    #[error("the equipment is not of this laboratory")]
    NotOfLab,
    #[error("the equipment is out of service")]
    OutOfService,
    #[error("the equipment's calibration was due on {due}")]
    CalibrationPastDue { due: NaiveDate },
}

impl EquipmentRefusal {
    /// Stable machine-readable rule name, for the error's details.
    pub fn rule(&self) -> &'static str {
        match self {
            EquipmentRefusal::NotOfLab => "equipment_not_of_lab",
            EquipmentRefusal::OutOfService => "equipment_out_of_service",
            EquipmentRefusal::CalibrationPastDue { .. } => "calibration_past_due",
        }
    }
}

impl Explain for EquipmentRefusal {
    fn problem(&self) -> Option<Problem> {
        Some(match self {
            EquipmentRefusal::NotOfLab => Problem::EquipmentNotOfLab,
            EquipmentRefusal::OutOfService => Problem::EquipmentOutOfService,
            EquipmentRefusal::CalibrationPastDue { due } => Problem::CalibrationPastDue {
                date: due.to_string(),
            },
        })
    }
}

impl Equipment {
    /// Whether its calibration has run out on `day` (the due date itself is still covered).
    pub fn calibration_past_due(&self, day: NaiveDate) -> bool {
        day > self.calibration_due
    }

    /// Whether the calibration falls due within `days` days of `today` (today and the due
    /// date included), and has not yet passed: what a page highlights as coming.
    pub fn calibration_due_within(&self, today: NaiveDate, days: u32) -> bool {
        let horizon = today
            .checked_add_days(chrono::Days::new(u64::from(days)))
            .unwrap_or(NaiveDate::MAX);
        today <= self.calibration_due && self.calibration_due <= horizon
    }

    /// Whether a step may use it on `day`: every reason it may not, at once.
    pub fn usable_on(&self, day: NaiveDate) -> Result<(), Vec<EquipmentRefusal>> {
        let mut refusals = Vec::new();
        if self.status == EquipmentStatus::OutOfService {
            refusals.push(EquipmentRefusal::OutOfService);
        }
        if self.calibration_past_due(day) {
            refusals.push(EquipmentRefusal::CalibrationPastDue {
                due: self.calibration_due,
            });
        }
        if refusals.is_empty() {
            Ok(())
        } else {
            Err(refusals)
        }
    }
}

/// A room of a laboratory, with its cleanroom grade.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Room {
    pub lab_code: LabCode,
    pub id: RoomId,
    pub grade: RoomGrade,
}

/// Why a step may not be done in a room (SPEC §8 `room_not_suitable`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoomRefusal {
    /// No room of the batch's laboratory has that id.
    #[error("the room is not of this laboratory")]
    NotOfLab,
    #[error("the room is grade {grade}; the step needs grade {required} or cleaner")]
    GradeTooLow {
        grade: RoomGrade,
        required: RoomGrade,
    },
}

impl RoomRefusal {
    /// Stable machine-readable rule name, for the error's details.
    pub fn rule(&self) -> &'static str {
        match self {
            RoomRefusal::NotOfLab => "room_not_of_lab",
            RoomRefusal::GradeTooLow { .. } => "room_grade_too_low",
        }
    }
}

impl Explain for RoomRefusal {
    fn problem(&self) -> Option<Problem> {
        Some(match self {
            RoomRefusal::NotOfLab => Problem::RoomNotOfLab,
            RoomRefusal::GradeTooLow { grade, required } => Problem::RoomGradeTooLow {
                grade: grade.as_str().to_owned(),
                required: required.as_str().to_owned(),
            },
        })
    }
}

impl Room {
    /// Whether a step that needs `required` may be done here: a room of that grade or a
    /// cleaner one (a step needing B may use A or B).
    pub fn suitable_for(&self, required: RoomGrade) -> Result<(), RoomRefusal> {
        if self.grade.suits(required) {
            Ok(())
        } else {
            Err(RoomRefusal::GradeTooLow {
                grade: self.grade,
                required,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn incubator(status: EquipmentStatus, due: &str) -> Equipment {
        Equipment {
            lab_code: LabCode::parse("GRA-UPCIT").unwrap(),
            id: EquipmentId::parse("INC-03").unwrap(),
            class: EquipmentClass::parse("incubator").unwrap(),
            status,
            calibration_due: d(due),
        }
    }

    #[test]
    fn equipment_is_usable_through_its_calibration_due_date() {
        let e = incubator(EquipmentStatus::InService, "2026-12-10");
        assert_eq!(e.usable_on(d("2026-12-10")), Ok(()));
        assert_eq!(
            e.usable_on(d("2026-12-11")),
            Err(vec![EquipmentRefusal::CalibrationPastDue {
                due: d("2026-12-10")
            }])
        );
        let broken = incubator(EquipmentStatus::OutOfService, "2026-12-10");
        let rules: Vec<_> = broken
            .usable_on(d("2026-12-11"))
            .unwrap_err()
            .iter()
            .map(EquipmentRefusal::rule)
            .collect();
        assert_eq!(rules, ["equipment_out_of_service", "calibration_past_due"]);
        assert_eq!(
            EquipmentRefusal::OutOfService.problem(),
            Some(Problem::EquipmentOutOfService)
        );
    }

    #[test]
    fn due_within_counts_today_and_the_due_date_but_not_past_due() {
        let e = incubator(EquipmentStatus::InService, "2026-12-31");
        assert!(e.calibration_due_within(d("2026-12-01"), 30));
        assert!(!e.calibration_due_within(d("2026-11-30"), 30));
        assert!(e.calibration_due_within(d("2026-12-31"), 0));
        assert!(!e.calibration_due_within(d("2027-01-01"), 30));
        // No overflow at the end of the calendar.
        let far = incubator(EquipmentStatus::InService, "2026-12-31");
        assert!(far.calibration_due_within(d("2026-12-31"), u32::MAX));
    }

    #[test]
    fn classes_are_snake_case_words_matched_however_spelled() {
        let c = EquipmentClass::parse(" Biosafety cabinet ").unwrap();
        assert_eq!(c.as_str(), "biosafety_cabinet");
        assert!(c.is("biosafety-cabinet"));
        assert!(c.is("BIOSAFETY_CABINET"));
        assert!(!c.is("incubator"));
        assert_eq!(EquipmentClass::parse("  "), Err(Problem::Empty));
        assert!(matches!(
            EquipmentClass::parse("CO2 incubator!"),
            Err(Problem::CodeCharacter { .. })
        ));
        assert_eq!(
            EquipmentClass::parse(&"a".repeat(41)),
            Err(Problem::TooLong { max: 40 })
        );
        assert!(serde_json::from_str::<EquipmentClass>("\"Cell counter\"").is_ok());
    }

    #[test]
    fn a_step_needing_b_may_use_a_or_b_not_c() {
        let room = |grade| Room {
            lab_code: LabCode::parse("GRA-UPCIT").unwrap(),
            id: RoomId::parse("SB-01").unwrap(),
            grade,
        };
        assert_eq!(room(RoomGrade::A).suitable_for(RoomGrade::B), Ok(()));
        assert_eq!(room(RoomGrade::B).suitable_for(RoomGrade::B), Ok(()));
        assert_eq!(
            room(RoomGrade::C).suitable_for(RoomGrade::B),
            Err(RoomRefusal::GradeTooLow {
                grade: RoomGrade::C,
                required: RoomGrade::B
            })
        );
        assert_eq!(RoomRefusal::NotOfLab.problem(), Some(Problem::RoomNotOfLab));
    }

    fn grade() -> impl Strategy<Value = RoomGrade> {
        prop::sample::select(RoomGrade::ALL.to_vec())
    }

    proptest! {
        /// Suitability is the order of cleanliness: reflexive, and a room that suits a grade
        /// suits every less demanding one.
        #[test]
        fn suitability_follows_the_grades(room in grade(), need in grade(), looser in grade()) {
            let r = Room {
                lab_code: LabCode::parse("GRA-UPCIT").unwrap(),
                id: RoomId::parse("SB-01").unwrap(),
                grade: room,
            };
            prop_assert!(r.suitable_for(room).is_ok());
            if r.suitable_for(need).is_ok() && looser >= need {
                prop_assert!(r.suitable_for(looser).is_ok());
            }
        }
    }
}
