//! Identifier newtypes: laboratory, product, batch, user, clinical trial, and the donor and
//! patient codes that carry the chain of identity of an advanced therapy medicinal product.
//!
//! Every type is "parse, don't validate": the only way to get one is through `parse` (or serde,
//! `FromStr` and `TryFrom<String>`, which all call `parse`), so any value in hand is known to be
//! well formed and in its canonical spelling. Regulation (EC) No 1394/2007 (Art. 15) and
//! EudraLex Volume 4 Part IV require traceability from donor to patient; a code that is stored
//! with a typo, a second spelling or a stray space breaks that chain silently, so the rules here
//! are strict and refuse rather than guess.
//!
//! Nothing here panics on any input: inputs may be arbitrary Unicode, every length is counted in
//! characters, and no string is sliced at a byte offset that was not checked first.
//!
//! One submodule per family, each with its tests: `ids` (laboratory, product, batch, user),
//! `trial` (clinical trial identifiers), `din` (ISBT 128), `sec` (Single European Code) and
//! `subject` (donor and patient codes). They share `common` and nothing else of each other but
//! the parsers: `sec` checks a DIN, and `subject` accepts a DIN or a SEC. Everything public is
//! re-exported here, so callers name `codes::X`.

mod common;
mod din;
mod ids;
mod resources;
mod sec;
mod subject;
mod trial;

pub use common::CodeError;
pub use din::{Din, mod37_2_check_character};
pub use ids::{BatchNumber, LabCode, ProductCode, Username};
pub use resources::{EquipmentId, LotId, MaterialCode, RoomId};
pub use sec::{Sec, SecCodingSystem};
pub use subject::{DonorCode, PatientCode, SubjectCode};
pub use trial::{TrialId, TrialIdKind};

/// Properties every family shares, checked across all of them.
#[cfg(test)]
mod tests {
    use std::fmt;

    use serde::{Deserialize, Serialize};

    use super::common::test_support::{SEC_BODY, SEC_ES, SEC_PL, invalid_char_at};
    use super::*;

    // --- shared edge cases -----------------------------------------------------------------

    #[test]
    fn simple_codes_refuse_empty_and_non_ascii_without_panicking() {
        let inputs = [
            "",
            "ÁB",
            "AÁ",
            "😀😀",
            "A😀",
            "\u{0}\u{0}",
            "Ａ１",
            "ǅX",
            "a\u{301}b",
        ];
        for s in inputs {
            assert!(LabCode::parse(s).is_err(), "lab {s:?}");
            assert!(ProductCode::parse(s).is_err(), "product {s:?}");
            assert!(BatchNumber::parse(s).is_err(), "batch {s:?}");
            assert!(Username::parse(s).is_err(), "username {s:?}");
            assert!(TrialId::parse(s).is_err(), "trial {s:?}");
            assert!(Din::parse(s).is_err(), "din {s:?}");
            assert!(Sec::parse(s).is_err(), "sec {s:?}");
            assert!(SubjectCode::parse(s).is_err(), "subject {s:?}");
            assert!(mod37_2_check_character(s).is_err(), "mod37 {s:?}");
        }
    }

    #[test]
    fn no_parser_panics_on_awkward_unicode() {
        let long = "é".repeat(100);
        let inputs = [
            "SEC",
            "SEC:",
            "sEc:😀",
            "S",
            "Sé",
            "=",
            "==============",
            "=ÁÁÁÁÁÁÁÁÁÁÁÁÁÁÁ",
            "ÁÁÁ1234567890",
            "ABC123456789😀",
            "ABC1234567890😀",
            "=ABC1234567890😀😀",
            long.as_str(),
            "\u{feff}A999926000001",
            "A999926000001\u{200b}",
            "١٢٣٤-٥٦٧٨٩٠-١٢",
        ];
        for s in inputs {
            let _ = LabCode::parse(s);
            let _ = ProductCode::parse(s);
            let _ = BatchNumber::parse(s);
            let _ = Username::parse(s);
            let _ = TrialId::parse(s);
            let _ = mod37_2_check_character(s);
            let _ = Din::parse(s);
            let _ = Sec::parse(s);
            let _ = SubjectCode::parse(s);
        }
    }

    #[test]
    fn error_positions_count_characters_not_bytes() {
        let err = LabCode::parse("ÁB").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('Á', 1)));
        let err = LabCode::parse("AÉ").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('É', 2)));
        let err = LabCode::parse("A😀").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('😀', 2)));
        // 16 two-byte characters are 16 characters, not 32.
        let err = BatchNumber::parse(&"é".repeat(41)).unwrap_err();
        assert_eq!(
            err,
            CodeError::TooLong {
                kind: "batch number",
                max: 40,
                len: 41
            }
        );
    }

    // --- FromStr ---------------------------------------------------------------------------

    #[test]
    fn from_str_delegates_to_parse() {
        assert_eq!("GRA-UPCIT".parse::<LabCode>(), LabCode::parse("GRA-UPCIT"));
        assert_eq!("CART".parse::<ProductCode>(), ProductCode::parse("CART"));
        assert_eq!("L-1".parse::<BatchNumber>(), BatchNumber::parse("L-1"));
        assert_eq!("jdoe".parse::<Username>(), Username::parse("jdoe"));
        assert_eq!(
            "2010-024041-78".parse::<TrialId>(),
            TrialId::parse("2010-024041-78")
        );
        assert_eq!("A9999260000018".parse::<Din>(), Din::parse("A999926000001"));
        assert_eq!(SEC_PL.parse::<Sec>(), Sec::parse(SEC_PL));
        assert_eq!("PT-1".parse::<SubjectCode>(), SubjectCode::parse("PT-1"));
        assert_eq!("PT-1".parse::<DonorCode>(), DonorCode::parse("PT-1"));
        assert_eq!("PT-1".parse::<PatientCode>(), PatientCode::parse("PT-1"));
        assert!("gra".parse::<LabCode>().is_err());
    }

    // --- robustness ----------------------------------------------------------------------

    #[test]
    fn parsers_never_panic_on_generated_input() {
        let pool: Vec<char> = "AO0z9=*-._ :\t\nSECsecÁé😀\u{0}\u{301}\u{200b}5-"
            .chars()
            .collect();
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            usize::try_from(state >> 33).unwrap()
        };
        for _ in 0..20_000 {
            let len = next() % 48;
            let s: String = (0..len).map(|_| pool[next() % pool.len()]).collect();
            let _ = LabCode::parse(&s);
            let _ = BatchNumber::parse(&s);
            let _ = Username::parse(&s);
            let _ = TrialId::parse(&s);
            let _ = mod37_2_check_character(&s);
            let _ = Din::parse(&s);
            let _ = Sec::parse(&s);
            if let Ok(code) = SubjectCode::parse(&s) {
                assert_eq!(SubjectCode::parse(code.as_str()).as_ref(), Ok(&code));
            }
        }
    }

    // --- serde -----------------------------------------------------------------------------

    fn round_trip<T>(value: &T, json: &str)
    where
        T: Serialize + for<'de> Deserialize<'de> + PartialEq + fmt::Debug,
    {
        let written = serde_json::to_string(value).unwrap();
        assert_eq!(written, json);
        let read: T = serde_json::from_str(&written).unwrap();
        assert_eq!(&read, value);
    }

    #[test]
    fn serde_round_trips_as_plain_strings() {
        round_trip(&LabCode::parse("GRA-UPCIT").unwrap(), "\"GRA-UPCIT\"");
        round_trip(&ProductCode::parse("CART-19").unwrap(), "\"CART-19\"");
        round_trip(&BatchNumber::parse("Lot_1.2").unwrap(), "\"Lot_1.2\"");
        round_trip(&Username::parse("j.doe").unwrap(), "\"j.doe\"");
        round_trip(
            &TrialId::parse("2023-509876-12-00").unwrap(),
            "\"2023-509876-12-00\"",
        );
        round_trip(&Din::parse("A9999260000018").unwrap(), "\"A999926000001\"");
        round_trip(
            &Din::parse("=G12349865432177").unwrap(),
            "\"=G12349865432177\"",
        );
        round_trip(
            &Sec::parse(SEC_PL).unwrap(),
            "\"PL001499Z549917123456A00T041600320181231\"",
        );
        round_trip(&SubjectCode::parse("PT-0001").unwrap(), "\"PT-0001\"");
        round_trip(
            &DonorCode::parse("=A99992600000168").unwrap(),
            "\"A999926000001\"",
        );
        round_trip(
            &PatientCode::parse(SEC_ES).unwrap(),
            &format!("\"{SEC_BODY}\""),
        );
    }

    #[test]
    fn serde_deserialises_through_parse() {
        let din: Din = serde_json::from_str("\"a9999260000018\"").unwrap();
        assert_eq!(din.as_str(), "A999926000001");
        let sec: Sec = serde_json::from_str(&serde_json::to_string(SEC_ES).unwrap()).unwrap();
        assert_eq!(sec.as_str(), SEC_BODY);
        let donor: DonorCode = serde_json::from_str("\" A9999260000018 \"").unwrap();
        assert_eq!(donor.as_str(), "A999926000001");

        assert!(serde_json::from_str::<LabCode>("\"gra-upcit\"").is_err());
        assert!(serde_json::from_str::<BatchNumber>("\"a/b\"").is_err());
        assert!(serde_json::from_str::<Username>("\"JDoe\"").is_err());
        assert!(serde_json::from_str::<TrialId>("\"2023-409876-12-00\"").is_err());
        assert!(serde_json::from_str::<Din>("\"A999926000001X\"").is_err());
        assert!(serde_json::from_str::<Sec>("\"SEC: nope\"").is_err());
        assert!(serde_json::from_str::<PatientCode>("\"Juan García\"").is_err());
        assert!(serde_json::from_str::<LabCode>("42").is_err());

        let err = serde_json::from_str::<Din>("\"A999926000001X\"").unwrap_err();
        assert!(err.to_string().contains("requires '8'"), "{err}");
    }
}
