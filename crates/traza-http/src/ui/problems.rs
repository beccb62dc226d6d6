//! A refused field's [`Problem`] in the page's language: each problem is a `problem-<kind>`
//! message of the catalogues, with the problem's data as its arguments. The match is
//! exhaustive, so a problem the domain adds does not compile until the pages can say it.

use traza_domain::validation::Problem;

use super::Lang;

/// The sentence for `problem`, or `None` when the catalogue cannot format it (the caller then
/// shows the API's English message).
pub(super) fn problem_text(l: Lang, problem: &Problem) -> Option<String> {
    let (key, args) = key_and_args(l, problem);
    super::i18n::format(l, key, &args)
}

/// The catalogue key of `problem` and its arguments, field names and categorical values
/// already in the page's language.
fn key_and_args(l: Lang, problem: &Problem) -> (&'static str, Vec<(&'static str, String)>) {
    use Problem as P;
    let field = |name: &str| super::field_label(l, name).to_owned();
    let words = |values: &[String]| {
        values
            .iter()
            .map(|v| super::widgets::value_label(l, v))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match problem {
        P::Empty => ("problem-empty", vec![]),
        P::TooLong { max } => ("problem-too-long", vec![("max", max.to_string())]),
        P::ControlCharacters => ("problem-control-characters", vec![]),
        P::NotDecimal { text } => ("problem-not-decimal", vec![("text", text.clone())]),
        P::NotWholeNumber { text } => ("problem-not-whole-number", vec![("text", text.clone())]),
        P::AtLeast { min } => ("problem-at-least", vec![("min", min.clone())]),
        P::Between { min, max } => (
            "problem-between",
            vec![("min", min.clone()), ("max", max.clone())],
        ),
        P::Negative => ("problem-negative", vec![]),
        P::NotPositive => ("problem-not-positive", vec![]),
        P::AfterField { other } => ("problem-after-field", vec![("other", field(other))]),
        P::BeforeField { other } => ("problem-before-field", vec![("other", field(other))]),
        P::BeforeEndOfManufacture => ("problem-before-end-of-manufacture", vec![]),
        P::AfterExpiry => ("problem-after-expiry", vec![]),
        P::AfterToday { today } => ("problem-after-today", vec![("today", today.clone())]),
        P::BeforeDate { date } => ("problem-before-date", vec![("date", date.clone())]),
        P::AdministrationDate {
            today,
            release: Some(release),
        } => (
            "problem-administration-date-release",
            vec![("today", today.clone()), ("release", release.clone())],
        ),
        P::AdministrationDate {
            today,
            release: None,
        } => ("problem-after-today", vec![("today", today.clone())]),
        P::TrialIdRequired => ("problem-trial-id-required", vec![]),
        P::NotOneOf { text, values } => (
            "problem-not-one-of",
            vec![("text", text.clone()), ("values", words(values))],
        ),
        P::Repeated { text } => ("problem-repeated", vec![("text", text.clone())]),
        P::InTheFuture => ("problem-in-the-future", vec![]),
        P::UnknownTest { test } => ("problem-unknown-test", vec![("test", test.clone())]),
        P::UnitMismatch { expected, got } => (
            "problem-unit-mismatch",
            vec![("expected", expected.clone()), ("got", got.clone())],
        ),
        P::UnknownLab => ("problem-unknown-lab", vec![]),
        P::UnknownProduct => ("problem-unknown-product", vec![]),
        P::LabsRequired => ("problem-labs-required", vec![]),
        P::NoLabsForRole => ("problem-no-labs-for-role", vec![]),
        P::TooManyWords { max } => ("problem-too-many-words", vec![("max", max.to_string())]),
        P::WordTooLong { max } => ("problem-word-too-long", vec![("max", max.to_string())]),
        P::CodeTooShort { min } => ("problem-code-too-short", vec![("min", min.to_string())]),
        P::CodeTooLong { max } => ("problem-code-too-long", vec![("max", max.to_string())]),
        P::CodeCharacter { ch, position } => (
            "problem-code-character",
            vec![("ch", ch.clone()), ("position", position.to_string())],
        ),
        P::CodeLength { expected } => ("problem-code-length", vec![("expected", expected.clone())]),
        P::TrialIdFormat => ("problem-trial-id-format", vec![]),
        P::TrialIdYear { year } => ("problem-trial-id-year", vec![("year", year.to_string())]),
        P::PasswordTooShort { min } => {
            ("problem-password-too-short", vec![("min", min.to_string())])
        }
        P::PasswordTooLong { max } => ("problem-password-too-long", vec![("max", max.to_string())]),
        P::PasswordHasUsername => ("problem-password-has-username", vec![]),
        P::PasswordCommon => ("problem-password-common", vec![]),
        P::ReasonRequired => ("problem-reason-required", vec![]),
        P::UnknownResult { id } => ("problem-unknown-result", vec![("id", id.to_string())]),
        P::AlreadySuperseded { id, by } => (
            "problem-already-superseded",
            vec![("id", id.to_string()), ("by", by.to_string())],
        ),
        P::RetestOtherTest { test } => ("problem-retest-other-test", vec![("test", test.clone())]),
        P::InvestigationRequired => ("problem-investigation-required", vec![]),
        P::UnknownDeviation { id } => ("problem-unknown-deviation", vec![("id", id.to_string())]),
        P::UnknownMaterial => ("problem-unknown-material", vec![]),
        P::LotNotOfLab => ("problem-lot-not-of-lab", vec![]),
        P::LotNotReleased { status } => (
            "problem-lot-not-released",
            vec![(
                "status",
                super::i18n::lookup(l, &format!("lot-status-{status}"))
                    .map_or_else(|| status.clone(), str::to_owned),
            )],
        ),
        P::LotExpired { date } => ("problem-lot-expired", vec![("date", date.clone())]),
        P::LotOtherMaterial { material } => (
            "problem-lot-other-material",
            vec![("material", material.clone())],
        ),
        P::LotNotEnough { available } => (
            "problem-lot-not-enough",
            vec![("available", available.clone())],
        ),
        P::EquipmentNotOfLab => ("problem-equipment-not-of-lab", vec![]),
        P::EquipmentOutOfService => ("problem-equipment-out-of-service", vec![]),
        P::CalibrationPastDue { date } => {
            ("problem-calibration-past-due", vec![("date", date.clone())])
        }
        P::RoomNotOfLab => ("problem-room-not-of-lab", vec![]),
        P::RoomGradeTooLow { grade, required } => (
            "problem-room-grade-too-low",
            vec![("grade", grade.clone()), ("required", required.clone())],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One of each problem: every one must format in both languages, with its arguments.
    fn one_of_each() -> Vec<Problem> {
        use Problem as P;
        let s = |t: &str| t.to_owned();
        vec![
            P::Empty,
            P::TooLong { max: 200 },
            P::ControlCharacters,
            P::NotDecimal { text: s("noventa") },
            P::NotWholeNumber { text: s("dos") },
            P::AtLeast { min: s("1") },
            P::Between {
                min: s("0"),
                max: s("100"),
            },
            P::Negative,
            P::NotPositive,
            P::AfterField {
                other: s("manufacturing_start"),
            },
            P::BeforeField {
                other: s("manufacturing_start"),
            },
            P::BeforeEndOfManufacture,
            P::AfterExpiry,
            P::AfterToday {
                today: s("2026-12-03"),
            },
            P::BeforeDate {
                date: s("2026-12-01"),
            },
            P::AdministrationDate {
                today: s("2026-12-03"),
                release: Some(s("2026-12-01")),
            },
            P::AdministrationDate {
                today: s("2026-12-03"),
                release: None,
            },
            P::TrialIdRequired,
            P::NotOneOf {
                text: s("negativo"),
                values: vec![s("negative"), s("positive")],
            },
            P::Repeated { text: s("siembra") },
            P::InTheFuture,
            P::UnknownTest {
                test: s("sterility"),
            },
            P::UnitMismatch {
                expected: s("%"),
                got: s("ml"),
            },
            P::UnknownLab,
            P::UnknownProduct,
            P::LabsRequired,
            P::NoLabsForRole,
            P::TooManyWords { max: 40 },
            P::WordTooLong { max: 80 },
            P::CodeTooShort { min: 3 },
            P::CodeTooLong { max: 40 },
            P::CodeCharacter {
                ch: s("ñ"),
                position: 4,
            },
            P::CodeLength { expected: s("13") },
            P::TrialIdFormat,
            P::TrialIdYear { year: 1990 },
            P::PasswordTooShort { min: 12 },
            P::PasswordTooLong { max: 256 },
            P::PasswordHasUsername,
            P::PasswordCommon,
            P::ReasonRequired,
            P::UnknownResult { id: 4 },
            P::AlreadySuperseded { id: 4, by: 5 },
            P::RetestOtherTest {
                test: s("sterility"),
            },
            P::InvestigationRequired,
            P::UnknownDeviation { id: 2 },
            P::UnknownMaterial,
            P::LotNotOfLab,
            P::LotNotReleased {
                status: s("quarantine"),
            },
            P::LotExpired {
                date: s("2026-11-30"),
            },
            P::LotOtherMaterial {
                material: s("FBS-01"),
            },
            P::LotNotEnough {
                available: s("2.5"),
            },
            P::EquipmentNotOfLab,
            P::EquipmentOutOfService,
            P::CalibrationPastDue {
                date: s("2026-11-30"),
            },
            P::RoomNotOfLab,
            P::RoomGradeTooLow {
                grade: s("C"),
                required: s("B"),
            },
        ]
    }

    #[test]
    fn every_problem_is_said_in_both_languages() {
        for problem in one_of_each() {
            for l in [Lang::Es, Lang::En] {
                let text = problem_text(l, &problem)
                    .unwrap_or_else(|| panic!("{problem:?} has no {l:?} message"));
                assert!(!text.contains('{') && !text.is_empty(), "{text}");
            }
        }
    }

    #[test]
    fn spanish_pages_say_field_names_and_values_in_spanish() {
        let after = Problem::AfterField {
            other: "manufacturing_start".into(),
        };
        let es = problem_text(Lang::Es, &after).unwrap();
        assert!(!es.contains("manufacturing_start"), "{es}");
        let not_decimal = Problem::NotDecimal {
            text: "noventa".into(),
        };
        assert_eq!(
            problem_text(Lang::Es, &not_decimal).unwrap(),
            "«noventa» no es un número"
        );
        let not_one_of = Problem::NotOneOf {
            text: "quizá".into(),
            values: vec!["negative".into(), "positive".into()],
        };
        let es = problem_text(Lang::Es, &not_one_of).unwrap();
        assert!(es.contains("negativo"), "{es}");
    }
}
