//! Laboratory, product, batch and user codes: short identifiers checked against one [`Pattern`]
//! each.

use serde::{Deserialize, Serialize};

use super::common::{
    CodeError, Pattern, canonical_string, is_alnum, is_alnum_or_punct, is_lower_alnum,
    is_lower_alnum_or_punct, is_upper_alnum, is_upper_alnum_or_hyphen, text_code,
};

const LAB_CODE: Pattern = Pattern {
    kind: "laboratory code",
    min: 2,
    max: 16,
    first: is_upper_alnum,
    first_allowed: "upper-case A-Z or 0-9",
    rest: is_upper_alnum_or_hyphen,
    rest_allowed: "upper-case A-Z, 0-9 or '-'",
};

/// The short code of a manufacturing laboratory in the network (e.g. `GRA-UPCIT`).
///
/// It prefixes generated batch numbers, so it must be short, upper-case and URL-safe. It is
/// neither trimmed nor case-folded: two spellings of one site would split the records that
/// EudraLex Vol. 4 Part IV requires to trace each batch to where it was made.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LabCode(String);

impl LabCode {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        LAB_CODE.check(s)?;
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

text_code!(LabCode);
canonical_string!(LabCode);

const PRODUCT_CODE: Pattern = Pattern {
    kind: "product code",
    min: 2,
    max: 24,
    first: is_upper_alnum,
    first_allowed: "upper-case A-Z or 0-9",
    rest: is_upper_alnum_or_hyphen,
    rest_allowed: "upper-case A-Z, 0-9 or '-'",
};

/// The code of a medicinal product (or investigational product) made in the network.
///
/// Same alphabet as [`LabCode`] but longer, since product codes often embed a trial or
/// indication suffix; one canonical spelling keeps batch records of one product together.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProductCode(String);

impl ProductCode {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        PRODUCT_CODE.check(s)?;
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

text_code!(ProductCode);
canonical_string!(ProductCode);

const BATCH_NUMBER: Pattern = Pattern {
    kind: "batch number",
    min: 1,
    max: 40,
    first: is_alnum,
    first_allowed: "A-Z, a-z or 0-9",
    rest: is_alnum_or_punct,
    rest_allowed: "A-Z, a-z, 0-9, '.', '_' or '-'",
};

/// A batch (lot) number, the key of the batch record that EudraLex Vol. 4 (Part I, chapter 4,
/// and Part IV) requires for every batch.
///
/// Numbers may come from other systems, so mixed case and `.`/`_` are kept as given. It travels
/// in URL paths, hence no `/`, no spaces, and a first character that cannot be `.` (no `..`
/// path segments).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BatchNumber(String);

impl BatchNumber {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        BATCH_NUMBER.check(s)?;
        Ok(Self(s.to_owned()))
    }

    /// The number Traza assigns when a laboratory has no numbering of its own:
    /// `{LAB}-{YYYY}-{NNNNN}`, e.g. `GRA-UPCIT-2026-00042`.
    ///
    /// The sequence is zero-padded to 5 digits so numbers sort in issue order within a year,
    /// and grows past 5 digits rather than wrapping. Every input yields a valid batch number:
    /// a 16-character lab code, an 11-character `i32` and a 10-digit `u32` fit in 40 characters
    /// using only the allowed alphabet.
    pub fn generated(lab: &LabCode, year: i32, sequence: u32) -> BatchNumber {
        BatchNumber(format!("{lab}-{year:04}-{sequence:05}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `{LAB}` of a number of the generated form `{LAB}-{YYYY}-{NNNNN}` (a year of four
    /// digits, a sequence of five or more), or `None` for any other number.
    pub fn generated_lab(&self) -> Option<&str> {
        let (rest, sequence) = self.0.rsplit_once('-')?;
        let (lab, year) = rest.rsplit_once('-')?;
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        (year.len() == 4
            && digits(year)
            && sequence.len() >= 5
            && digits(sequence)
            && !lab.is_empty())
        .then_some(lab)
    }
}

text_code!(BatchNumber);
canonical_string!(BatchNumber);

const USERNAME: Pattern = Pattern {
    kind: "username",
    min: 2,
    max: 32,
    first: is_lower_alnum,
    first_allowed: "lower-case a-z or 0-9",
    rest: is_lower_alnum_or_punct,
    rest_allowed: "lower-case a-z, 0-9, '.', '_' or '-'",
};

/// A login name.
///
/// EU GMP Annex 11 (12.1, 12.4) requires every record to be attributable to one person, so
/// the name is lower-case only: `JDoe` and `jdoe` can never be two accounts, and audit trails
/// match by plain string equality.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        USERNAME.check(s)?;
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

text_code!(Username);
canonical_string!(Username);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::common::test_support::invalid_char_at;

    // --- LabCode ---------------------------------------------------------------------------

    #[test]
    fn lab_code_accepts_the_documented_shape() {
        for s in ["GRA-UPCIT", "AB", "0A", "A-", "X1-2-3", "ABCDEFGHIJKLMNOP"] {
            let code = LabCode::parse(s).unwrap();
            assert_eq!(code.as_str(), s);
            assert_eq!(code.to_string(), s);
        }
    }

    #[test]
    fn lab_code_is_exact_no_trim_no_case_folding() {
        let err = LabCode::parse("gra-upcit").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('g', 1)));
        assert!(err.to_string().contains("upper-case"), "{err}");
        assert!(LabCode::parse("GRA-upcit").is_err());
        assert!(LabCode::parse(" GRA").is_err());
        assert!(LabCode::parse("GRA ").is_err());
        assert!(LabCode::parse("GRA UPCIT").is_err());
        assert!(LabCode::parse("GRA_UPCIT").is_err());
        assert!(LabCode::parse("GRA/UPCIT").is_err());
    }

    #[test]
    fn lab_code_length_and_first_character() {
        assert_eq!(
            LabCode::parse("").unwrap_err(),
            CodeError::Empty {
                kind: "laboratory code"
            }
        );
        assert_eq!(
            LabCode::parse("A").unwrap_err(),
            CodeError::TooShort {
                kind: "laboratory code",
                min: 2,
                len: 1
            }
        );
        assert_eq!(
            LabCode::parse("ABCDEFGHIJKLMNOPQ").unwrap_err(),
            CodeError::TooLong {
                kind: "laboratory code",
                max: 16,
                len: 17
            }
        );
        let err = LabCode::parse("-AB").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('-', 1)));
    }

    // --- ProductCode -----------------------------------------------------------------------

    #[test]
    fn product_code_rules() {
        assert_eq!(
            ProductCode::parse("CART-19-TRIAL").unwrap().as_str(),
            "CART-19-TRIAL"
        );
        assert!(ProductCode::parse(&"A".repeat(24)).is_ok());
        assert!(matches!(
            ProductCode::parse(&"A".repeat(25)),
            Err(CodeError::TooLong {
                max: 24,
                len: 25,
                ..
            })
        ));
        assert!(ProductCode::parse("cart").is_err());
        assert!(ProductCode::parse("C").is_err());
        assert!(ProductCode::parse("-CART").is_err());
        assert!(ProductCode::parse("CART.19").is_err());
    }

    // --- BatchNumber -----------------------------------------------------------------------

    #[test]
    fn batch_number_rules() {
        for s in ["A", "b.1_x-2", "Lot_2026.03", "GRA-UPCIT-2026-00042"] {
            assert_eq!(BatchNumber::parse(s).unwrap().as_str(), s);
        }
        assert!(BatchNumber::parse(&"9".repeat(40)).is_ok());
        assert!(BatchNumber::parse(&"9".repeat(41)).is_err());
        for bad in [
            "", ".hidden", "..", "-1", "_1", "a/b", "a b", " a", "a ", "a\\b", "a?b",
        ] {
            assert!(BatchNumber::parse(bad).is_err(), "{bad:?}");
        }
        let err = BatchNumber::parse("a/b").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('/', 2)));
    }

    #[test]
    fn generated_batch_number() {
        let lab = LabCode::parse("GRA-UPCIT").unwrap();
        assert_eq!(
            BatchNumber::generated(&lab, 2026, 42).as_str(),
            "GRA-UPCIT-2026-00042"
        );
        assert_eq!(
            BatchNumber::generated(&lab, 2026, 0).as_str(),
            "GRA-UPCIT-2026-00000"
        );
        assert_eq!(
            BatchNumber::generated(&lab, 2026, 99_999).as_str(),
            "GRA-UPCIT-2026-99999"
        );
        assert_eq!(
            BatchNumber::generated(&lab, 2026, 123_456).as_str(),
            "GRA-UPCIT-2026-123456"
        );
        assert_eq!(
            BatchNumber::generated(&lab, 999, 1).as_str(),
            "GRA-UPCIT-0999-00001"
        );
    }

    #[test]
    fn generated_batch_numbers_always_reparse() {
        let longest = LabCode::parse("ABCDEFGHIJKLMNOP").unwrap();
        let shortest = LabCode::parse("AB").unwrap();
        for lab in [&longest, &shortest] {
            for year in [i32::MIN, -1, 0, 2026, 10_000, i32::MAX] {
                for sequence in [0, 1, 99_999, 100_000, u32::MAX] {
                    let generated = BatchNumber::generated(lab, year, sequence);
                    assert_eq!(
                        BatchNumber::parse(generated.as_str()).as_ref(),
                        Ok(&generated)
                    );
                }
            }
        }
    }

    // --- Username --------------------------------------------------------------------------

    #[test]
    fn username_rules() {
        for s in ["jdoe", "j.doe_2-x", "42", "ab"] {
            assert_eq!(Username::parse(s).unwrap().as_str(), s);
        }
        assert!(Username::parse(&"a".repeat(32)).is_ok());
        assert!(Username::parse(&"a".repeat(33)).is_err());
        assert!(matches!(
            Username::parse("a"),
            Err(CodeError::TooShort { min: 2, .. })
        ));
        let err = Username::parse("JDoe").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('J', 1)));
        let err = Username::parse("jDoe").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('D', 2)));
        for bad in ["", "_x", ".x", "-x", "j doe", "jdoe@lab", "jöe"] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
    }
}
