//! Why a field was refused, as data: an identifier and its arguments. The API sends the English
//! sentence ([`Problem`]'s `Display`) beside it, and the pages say it in the reader's language
//! from their catalogues (a `problem-<id>` message with the same arguments), so a Spanish page
//! never shows "must not be after manufacturing_start".
//!
//! Every refusal a user can cause by typing has a [`Problem`]; an error type says which one
//! through [`Explain`]. A refusal without one (rare: a bar-code flag checksum) shows its English
//! sentence everywhere.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One reason a typed value was refused. Field names in arguments (`other`) are request field
/// names; a page shows them as its label of that field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    Empty,
    TooLong {
        max: usize,
    },
    ControlCharacters,
    NotDecimal {
        text: String,
    },
    NotWholeNumber {
        text: String,
    },
    AtLeast {
        min: String,
    },
    Between {
        min: String,
        max: String,
    },
    Negative,
    NotPositive,
    /// Must not be after the date in another field.
    AfterField {
        other: String,
    },
    /// Must not be before the date in another field.
    BeforeField {
        other: String,
    },
    BeforeEndOfManufacture,
    AfterExpiry,
    AfterToday {
        today: String,
    },
    BeforeDate {
        date: String,
    },
    /// An administration's date: on or after the release (when known), not after today.
    AdministrationDate {
        today: String,
        release: Option<String>,
    },
    TrialIdRequired,
    NotOneOf {
        text: String,
        values: Vec<String>,
    },
    /// A time later than when it was recorded (a step performed in the future).
    InTheFuture,
    /// A code or name given twice where each must be unique.
    Repeated {
        text: String,
    },
    UnknownTest {
        test: String,
    },
    UnitMismatch {
        expected: String,
        got: String,
    },
    UnknownLab,
    UnknownProduct,
    /// A user of a lab-bound role (laboratory staff, QA) needs at least one laboratory.
    LabsRequired,
    /// Only laboratory staff and QA belong to laboratories.
    NoLabsForRole,
    TooManyWords {
        max: usize,
    },
    WordTooLong {
        max: usize,
    },
    CodeTooShort {
        min: usize,
    },
    CodeTooLong {
        max: usize,
    },
    CodeCharacter {
        ch: String,
        position: usize,
    },
    CodeLength {
        expected: String,
    },
    TrialIdFormat,
    TrialIdYear {
        year: u32,
    },
    PasswordTooShort {
        min: usize,
    },
    PasswordTooLong {
        max: usize,
    },
    PasswordHasUsername,
    PasswordCommon,
    ReasonRequired,
    UnknownResult {
        id: i64,
    },
    AlreadySuperseded {
        id: i64,
        by: i64,
    },
    RetestOtherTest {
        test: String,
    },
    InvestigationRequired,
    UnknownDeviation {
        id: i64,
    },
    // SPEC §8: materials, their lots, equipment and rooms (`crate::materials`,
    // `crate::equipment`).
    UnknownMaterial,
    /// The lot was received by another laboratory.
    LotNotOfLab,
    /// The lot is in quarantine or rejected (`status`, its word).
    LotNotReleased {
        status: String,
    },
    /// The lot's expiry date has passed.
    LotExpired {
        date: String,
    },
    /// The lot is of a material the step does not use.
    LotOtherMaterial {
        material: String,
    },
    /// Less of the lot is left than asked for.
    LotNotEnough {
        available: String,
    },
    EquipmentNotOfLab,
    EquipmentOutOfService,
    /// The equipment's calibration was due on `date`, which has passed.
    CalibrationPastDue {
        date: String,
    },
    RoomNotOfLab,
    /// The room's grade is below the one the step needs (A the cleanest).
    RoomGradeTooLow {
        grade: String,
        required: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Problem as P;
        match self {
            P::Empty => f.write_str("must not be empty"),
            P::TooLong { max } => write!(f, "must be at most {max} characters"),
            P::ControlCharacters => f.write_str("must not contain control characters"),
            P::NotDecimal { text } => write!(f, "'{text}' is not a decimal number"),
            P::NotWholeNumber { text } => write!(f, "'{text}' is not a whole number"),
            P::AtLeast { min } => write!(f, "must be at least {min}"),
            P::Between { min, max } => write!(f, "must be between {min} and {max}"),
            P::Negative => f.write_str("must not be negative"),
            P::NotPositive => f.write_str("must be greater than 0"),
            P::AfterField { other } => write!(f, "must not be after {other}"),
            P::BeforeField { other } => write!(f, "must not be before {other}"),
            P::BeforeEndOfManufacture => f.write_str("must not be before the end of manufacture"),
            P::AfterExpiry => f.write_str("must not be after the batch's expiry date"),
            P::AfterToday { today } => write!(f, "must not be after today ({today})"),
            P::BeforeDate { date } => write!(f, "must not be before {date}"),
            P::AdministrationDate { today, release } => {
                write!(f, "must not be after today ({today})")?;
                match release {
                    Some(r) => write!(f, " nor before the release ({r})"),
                    None => Ok(()),
                }
            }
            P::TrialIdRequired => f.write_str(
                "is required for the clinical_trial access route (EudraCT or EU CT number)",
            ),
            P::NotOneOf { text, values } => {
                write!(f, "'{text}' is not one of: {}", values.join(", "))
            }
            P::Repeated { text } => write!(f, "'{text}' appears more than once"),
            P::InTheFuture => f.write_str("must not be later than now"),
            P::UnknownTest { test } => {
                write!(f, "the product's specification has no test '{test}'")
            }
            P::UnitMismatch { expected, got } => {
                write!(f, "unit must be '{expected}' for this test, not '{got}'")
            }
            P::UnknownLab => f.write_str("unknown laboratory"),
            P::UnknownProduct => f.write_str("unknown product"),
            P::LabsRequired => f.write_str("lab_staff and qa users need at least one laboratory"),
            P::NoLabsForRole => f.write_str("only lab_staff and qa users belong to laboratories"),
            P::TooManyWords { max } => write!(f, "at most {max} words"),
            P::WordTooLong { max } => {
                write!(f, "each must be a word or phrase of 1 to {max} characters")
            }
            P::CodeTooShort { min } => write!(f, "must be at least {min} characters long"),
            P::CodeTooLong { max } => write!(f, "must be at most {max} characters long"),
            P::CodeCharacter { ch, position } => {
                write!(
                    f,
                    "has '{ch}' at position {position}, where it is not allowed"
                )
            }
            P::CodeLength { expected } => write!(f, "must have {expected} characters"),
            P::TrialIdFormat => f.write_str(
                "is neither an EudraCT number (YYYY-NNNNNN-CC) nor an EU CT number \
                 (YYYY-5NNNNN-NN-NN)",
            ),
            P::TrialIdYear { year } => write!(f, "has the year {year}, outside 1995 to 2099"),
            P::PasswordTooShort { min } => write!(f, "must be at least {min} characters"),
            P::PasswordTooLong { max } => write!(f, "must be at most {max} characters"),
            P::PasswordHasUsername => f.write_str("must not contain the username"),
            P::PasswordCommon => f.write_str("is one of the most common passwords"),
            P::ReasonRequired => f.write_str("a reason is required"),
            P::UnknownResult { id } => write!(f, "result {id} does not exist on this batch"),
            P::AlreadySuperseded { id, by } => {
                write!(f, "result {id} is already superseded by result {by}")
            }
            P::RetestOtherTest { test } => {
                write!(
                    f,
                    "a retest must be of the same test as the result ('{test}')"
                )
            }
            P::InvestigationRequired => f.write_str(
                "the result is out of specification: its retest must name the deviation that \
                 investigates it",
            ),
            P::UnknownDeviation { id } => write!(f, "deviation {id} does not exist on this batch"),
            P::UnknownMaterial => f.write_str("unknown material"),
            P::LotNotOfLab => f.write_str("the lot is not of this laboratory"),
            P::LotNotReleased { status } => write!(f, "the lot is not released (it is {status})"),
            P::LotExpired { date } => write!(f, "the lot expired on {date}"),
            P::LotOtherMaterial { material } => {
                write!(f, "the lot is of {material}, which the step does not use")
            }
            P::LotNotEnough { available } => {
                write!(f, "only {available} of the lot is left")
            }
            P::EquipmentNotOfLab => f.write_str("the equipment is not of this laboratory"),
            P::EquipmentOutOfService => f.write_str("the equipment is out of service"),
            P::CalibrationPastDue { date } => {
                write!(f, "the equipment's calibration was due on {date}")
            }
            P::RoomNotOfLab => f.write_str("the room is not of this laboratory"),
            P::RoomGradeTooLow { grade, required } => write!(
                f,
                "the room is grade {grade}; the step needs grade {required} or cleaner"
            ),
        }
    }
}

/// A refusal that can say which [`Problem`] it is. The English sentence (`Display`) is what the
/// API's `message` carries; [`Explain::problem`] is what a page translates.
pub trait Explain: fmt::Display {
    fn problem(&self) -> Option<Problem> {
        None
    }
}

impl Explain for Problem {
    fn problem(&self) -> Option<Problem> {
        Some(self.clone())
    }
}

/// Free text (a store's own message) has no problem to translate.
impl Explain for String {}
impl Explain for str {}
impl Explain for fmt::Arguments<'_> {}

impl<E: Explain + ?Sized> Explain for &E {
    fn problem(&self) -> Option<Problem> {
        (**self).problem()
    }
}
