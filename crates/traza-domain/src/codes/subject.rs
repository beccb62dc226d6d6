//! Donor and patient codes: a DIN, a Single European Code or a hospital pseudonym.

use serde::{Deserialize, Serialize};

use super::common::{CodeError, Pattern, canonical_string, is_alnum, is_alnum_or_punct, text_code};
use super::din::Din;
use super::sec::Sec;

const PSEUDONYM: Pattern = Pattern {
    kind: "pseudonym",
    min: 3,
    max: 40,
    first: is_alnum,
    first_allowed: "A-Z, a-z or 0-9",
    rest: is_alnum_or_punct,
    rest_allowed: "A-Z, a-z, 0-9, '.', '_' or '-'",
};

/// True for 13 or 14 characters, or `=` and 15, whose first three characters are ASCII
/// alphanumeric and next ten are ASCII digits: such input is meant as a DIN.
fn looks_like_din(s: &str) -> bool {
    // Counted without collecting: every donor and patient code of a million-row import
    // passes through here.
    let body = match s.strip_prefix('=') {
        Some(rest) if rest.chars().count() == 15 => rest,
        _ if matches!(s.chars().count(), 13 | 14) => s,
        _ => return false,
    };
    let mut chars = body.chars();
    chars.by_ref().take(3).all(|c| c.is_ascii_alphanumeric())
        && chars.take(10).all(|c| c.is_ascii_digit())
}

/// True for `SEC:`-prefixed input, or 40 ASCII alphanumerics once whitespace is removed
/// (43 with a bare `SEC` prefix): such input is meant as a Single European Code. A pseudonym
/// that merely begins with the letters "sec" (`SECRET-42`) is not.
fn looks_like_sec(s: &str) -> bool {
    let prefixed = s.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("SEC"));
    if prefixed
        && s.get(3..)
            .is_some_and(|rest| rest.trim_start().starts_with(':'))
    {
        return true;
    }
    let mut count = 0usize;
    for c in s.chars().filter(|c| !c.is_whitespace()) {
        if !c.is_ascii_alphanumeric() {
            return false;
        }
        count += 1;
    }
    count == 40 || (prefixed && count == 43)
}

/// The code under which a donor or a patient is known to Traza.
///
/// Regulation (EU) 2016/679 (Art. 4(5), Art. 89) and Directive 2004/23/EC (Art. 14) require
/// donor and recipient data to be pseudonymised: Traza stores codes, never names. A code is
/// either an ISBT 128 DIN, a Single European Code, or a hospital pseudonym. Input that looks
/// like a DIN or a SEC must be a valid one: a mistyped DIN is refused rather than silently kept
/// as a pseudonym, which would break the chain of identity. `as_str` is canonical (DIN: the 13
/// characters without check character or flags; SEC: the 40 characters), so every spelling of
/// the same donation compares equal. Error messages never repeat the whole input, in case a
/// name was typed by mistake.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum SubjectCode {
    Din(Din),
    Sec(Sec),
    Pseudonym(String),
}

impl SubjectCode {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let s = s.trim();
        if looks_like_din(s) {
            return Din::parse(s).map(|din| Self::Din(din.without_flags()));
        }
        if looks_like_sec(s) {
            return Sec::parse(s).map(Self::Sec);
        }
        PSEUDONYM.check(s)?;
        Ok(Self::Pseudonym(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Din(din) => din.as_str(),
            Self::Sec(sec) => sec.as_str(),
            Self::Pseudonym(p) => p,
        }
    }
}

text_code!(SubjectCode);
canonical_string!(SubjectCode);

/// The code of the donor of the starting material (tissue, cells, apheresis).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DonorCode(SubjectCode);

impl DonorCode {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        SubjectCode::parse(s).map(Self)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn subject(&self) -> &SubjectCode {
        &self.0
    }
}

impl From<SubjectCode> for DonorCode {
    fn from(code: SubjectCode) -> Self {
        Self(code)
    }
}

text_code!(DonorCode);
canonical_string!(DonorCode);

/// The code of the patient who receives the product.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PatientCode(SubjectCode);

impl PatientCode {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        SubjectCode::parse(s).map(Self)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn subject(&self) -> &SubjectCode {
        &self.0
    }
}

impl From<SubjectCode> for PatientCode {
    fn from(code: SubjectCode) -> Self {
        Self(code)
    }
}

text_code!(PatientCode);
canonical_string!(PatientCode);

/// For an autologous product the patient must be the donor (the chain of identity that
/// EudraLex Vol. 4 Part IV requires to prevent mix-ups): compared on canonical forms, so `A9999260000018` given for the
/// donor matches `A999926000001` given for the patient.
impl PartialEq<PatientCode> for DonorCode {
    fn eq(&self, other: &PatientCode) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<DonorCode> for PatientCode {
    fn eq(&self, other: &DonorCode) -> bool {
        self.as_str() == other.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::common::test_support::{SEC_BODY, SEC_ES, invalid_char_at, sec_with};

    // --- SubjectCode -----------------------------------------------------------------------

    #[test]
    fn subject_din_forms_share_one_canonical_code() {
        let a = SubjectCode::parse("A9999260000018").unwrap();
        let b = SubjectCode::parse("A999926000001").unwrap();
        let c = SubjectCode::parse("  a999926000001 ").unwrap();
        let d = SubjectCode::parse("=A99992600000168").unwrap();
        assert_eq!(a.as_str(), "A999926000001");
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert_eq!(c, d);
        assert!(matches!(a, SubjectCode::Din(_)));
        match d {
            SubjectCode::Din(din) => assert_eq!(din.flags(), None),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn subject_din_like_input_must_be_a_valid_din() {
        assert!(matches!(
            SubjectCode::parse("A999926000001X"),
            Err(CodeError::DinCheckCharacter { .. })
        ));
        assert!(matches!(
            SubjectCode::parse("A9999260000011"),
            Err(CodeError::DinCheckCharacter { .. })
        ));
        assert!(SubjectCode::parse("O999926000001").is_err());
        assert!(SubjectCode::parse("0999926000001").is_err());
        assert!(SubjectCode::parse("=G12349865432178").is_err());
    }

    #[test]
    fn subject_sec_forms() {
        let a = SubjectCode::parse(SEC_ES).unwrap();
        let b = SubjectCode::parse(SEC_BODY).unwrap();
        let c = SubjectCode::parse("ES990001A999926000123 A00S123400120261231").unwrap();
        let d = SubjectCode::parse("ES990001A999926000123\nA00S123400120261231").unwrap();
        assert!(matches!(a, SubjectCode::Sec(_)));
        assert_eq!(a.as_str(), SEC_BODY);
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert_eq!(c, d);
        assert!(matches!(
            SubjectCode::parse("SEC: ES990001A999926000123"),
            Err(CodeError::SecLength { .. })
        ));
        // 40 alphanumerics are a SEC, so a bad one is refused, not kept as a pseudonym.
        assert!(SubjectCode::parse(&sec_with(21..22, "X")).is_err());
        // Only a `SEC:` prefix or the 40-character shape marks a SEC.
        assert!(matches!(
            SubjectCode::parse("SECRET-42"),
            Ok(SubjectCode::Pseudonym(_))
        ));
    }

    #[test]
    fn subject_pseudonyms_are_kept_exactly() {
        for s in [
            "PT-0001",
            "pt-Abc",
            "Pac.01_x",
            "abc",
            "P01",
            "ABCD123456789",
            "X".repeat(39).as_str(),
        ] {
            let code = SubjectCode::parse(s).unwrap();
            assert_eq!(code, SubjectCode::Pseudonym(s.to_owned()));
            assert_eq!(code.as_str(), s);
        }
        assert_eq!(
            SubjectCode::parse("  PT-0001\n").unwrap().as_str(),
            "PT-0001"
        );
        // 12 and 15 characters of DIN shape are pseudonyms.
        assert!(matches!(
            SubjectCode::parse("A99992600000").unwrap(),
            SubjectCode::Pseudonym(_)
        ));
        assert!(matches!(
            SubjectCode::parse("A99992600000123").unwrap(),
            SubjectCode::Pseudonym(_)
        ));
    }

    #[test]
    fn subject_bad_pseudonyms() {
        for bad in [
            "",
            "  ",
            "ab",
            "Juan García",
            "-PT1",
            "PT 1",
            "PT/1",
            "😀😀😀",
            "ÁBC",
            &"P-".repeat(21),
        ] {
            assert!(SubjectCode::parse(bad).is_err(), "{bad:?}");
        }
        // The message names the offending character, never the whole input.
        let err = SubjectCode::parse("Juan Garcia").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some((' ', 5)));
        assert!(!err.to_string().contains("Garcia"), "{err}");
    }

    // --- DonorCode / PatientCode -----------------------------------------------------------

    #[test]
    fn donor_and_patient_compare_on_canonical_forms() {
        let donor = DonorCode::parse("A9999260000018").unwrap();
        let patient = PatientCode::parse("a999926000001").unwrap();
        assert!(donor == patient);
        assert!(patient == donor);
        assert_eq!(donor.as_str(), "A999926000001");
        assert_eq!(donor.subject(), patient.subject());

        let other = PatientCode::parse("A999926000002").unwrap();
        assert!(donor != other);

        let pseudo_donor = DonorCode::parse("PT-0001").unwrap();
        assert!(pseudo_donor == PatientCode::parse("PT-0001").unwrap());
        assert!(pseudo_donor != PatientCode::parse("pt-0001").unwrap());

        let sec_donor = DonorCode::parse(SEC_ES).unwrap();
        assert!(sec_donor == PatientCode::parse(SEC_BODY).unwrap());
        assert_eq!(
            DonorCode::from(SubjectCode::parse("PT-1").unwrap()),
            DonorCode::parse("PT-1").unwrap()
        );
    }

    #[test]
    fn donor_and_patient_codes_refuse_invalid_input() {
        assert!(DonorCode::parse("A999926000001X").is_err());
        assert!(PatientCode::parse("Juan García").is_err());
        assert!(DonorCode::parse("").is_err());
    }
}
