//! The Single European Code for tissues and cells.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::common::{CodeError, canonical_string, decimal, is_upper_alnum, text_code};
use super::din::Din;

/// The characters a scanner or a form may wrap around a Single European Code.
fn is_sec_decoration(c: char) -> bool {
    matches!(c, ':' | ' ' | '\t' | '\r' | '\n')
}

/// The product coding system named in a Single European Code (Directive 2006/86/EC,
/// Annex VII, as amended by Directive (EU) 2015/565).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SecCodingSystem {
    /// `E`: the EU Tissue and Cell product coding system (EUTC).
    Eutc,
    /// `A`: ISBT 128, whose unique donation number is then an ISBT 128 DIN.
    Isbt128,
    /// `B`: Eurocode.
    Eurocode,
}

impl SecCodingSystem {
    pub fn as_char(self) -> char {
        match self {
            Self::Eutc => 'E',
            Self::Isbt128 => 'A',
            Self::Eurocode => 'B',
        }
    }
}

/// True when the input names its "SEC" prefix: `SEC:` (optionally with blanks before the
/// colon), or `SEC` plus exactly 40 characters. A bare 40-character code that merely starts
/// with `SEC` is a Swedish (`SE`) tissue establishment whose code starts with `C`, not a prefix.
fn has_sec_prefix(compact: &str, raw: &str) -> bool {
    let starts_with_sec = |s: &str| s.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("SEC"));
    let trimmed = raw.trim_start();
    let colon_after = trimmed
        .get(3..)
        .is_some_and(|after| after.trim_start_matches([' ', '\t']).starts_with(':'));
    (starts_with_sec(trimmed) && colon_after)
        || (starts_with_sec(compact) && compact.chars().count() == 43)
}

/// Takes the next `len` characters of a SEC as field `field`, checking each.
fn sec_field(
    chars: &mut impl Iterator<Item = char>,
    field: &'static str,
    len: usize,
    ok: fn(char) -> bool,
    allowed: &'static str,
) -> Result<String, CodeError> {
    let value: String = chars.take(len).collect();
    if let Some((i, ch)) = value.chars().enumerate().find(|&(_, c)| !ok(c)) {
        return Err(CodeError::SecField {
            field,
            reason: format!(
                "{ch:?} at position {} of the field; only {allowed} is allowed",
                i + 1
            ),
        });
    }
    let got = value.chars().count();
    if got != len {
        return Err(CodeError::SecField {
            field,
            reason: format!("must have {len} characters, but has {got}"),
        });
    }
    Ok(value)
}

fn sec_expiry(expiry: &str) -> Result<Option<NaiveDate>, CodeError> {
    if expiry == "00000000" {
        return Ok(None);
    }
    let year = decimal(expiry.chars().take(4));
    let month = decimal(expiry.chars().skip(4).take(2));
    let day = decimal(expiry.chars().skip(6).take(2));
    i32::try_from(year)
        .ok()
        .and_then(|y| NaiveDate::from_ymd_opt(y, month, day))
        .map(Some)
        .ok_or_else(|| CodeError::SecField {
            field: "expiry",
            reason: format!("{expiry} is not a valid calendar date (YYYYMMDD, or 00000000)"),
        })
}

/// A Single European Code: the identifier the EU requires on every tissue or cell distributed
/// for human application (Directive 2006/86/EC, Annex VII, as amended by Directive (EU)
/// 2015/565), and so, for ATMPs made from donated tissue or cells, the donor side of the chain
/// of identity.
///
/// Its 40 characters are the donation identification sequence (country 2, tissue establishment
/// 6, unique donation number 13) and the product identification sequence (coding system 1,
/// product number 7, split number 3, expiry date 8). The eye-readable form is preceded by
/// `SEC` and usually printed on two lines, so [`Sec::parse`] drops the prefix, colons and
/// whitespace, folds to upper case, and then checks every field, naming the one that is wrong.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sec {
    /// The canonical 40 ASCII characters.
    code: String,
    coding_system: SecCodingSystem,
    expiry: Option<NaiveDate>,
}

impl Sec {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let compact: String = s
            .chars()
            .filter(|&c| !is_sec_decoration(c))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if compact.is_empty() {
            return Err(CodeError::Empty {
                kind: "Single European Code",
            });
        }
        let body = if has_sec_prefix(&compact, s) {
            compact.get(3..).unwrap_or_default()
        } else {
            compact.as_str()
        };
        let len = body.chars().count();
        if len != 40 {
            return Err(CodeError::SecLength { len });
        }

        let it = &mut body.chars();
        let alnum = "A-Z or 0-9";
        let country = sec_field(it, "country", 2, |c| c.is_ascii_uppercase(), "A-Z")?;
        let establishment = sec_field(it, "tissue_establishment", 6, is_upper_alnum, alnum)?;
        let udn = sec_field(it, "unique_donation_number", 13, is_upper_alnum, alnum)?;
        let system = sec_field(
            it,
            "coding_system",
            1,
            |c| matches!(c, 'E' | 'A' | 'B'),
            "E (EUTC), A (ISBT 128) or B (Eurocode)",
        )?;
        let product = sec_field(it, "product_number", 7, is_upper_alnum, alnum)?;
        let split = sec_field(it, "split_number", 3, is_upper_alnum, alnum)?;
        let expiry = sec_field(it, "expiry", 8, |c| c.is_ascii_digit(), "0-9")?;

        let coding_system = match system.as_str() {
            "A" => SecCodingSystem::Isbt128,
            "B" => SecCodingSystem::Eurocode,
            _ => SecCodingSystem::Eutc,
        };
        if coding_system == SecCodingSystem::Isbt128 {
            Din::parse(&udn).map_err(|e| CodeError::SecField {
                field: "unique_donation_number",
                reason: format!("coding system A (ISBT 128) requires an ISBT 128 DIN: {e}"),
            })?;
        }
        let expiry_date = sec_expiry(&expiry)?;

        Ok(Self {
            code: [country, establishment, udn, system, product, split, expiry].concat(),
            coding_system,
            expiry: expiry_date,
        })
    }

    fn part(&self, start: usize, end: usize) -> &str {
        self.code.get(start..end).unwrap_or_default()
    }

    /// The canonical 40 characters, without prefix or spaces.
    pub fn as_str(&self) -> &str {
        &self.code
    }

    /// ISO 3166-1 alpha-2 country of the tissue establishment.
    pub fn country_code(&self) -> &str {
        self.part(0, 2)
    }

    /// The national code of the tissue establishment (as listed in the EU Tissue Establishment
    /// Compendium).
    pub fn tissue_establishment_code(&self) -> &str {
        self.part(2, 8)
    }

    pub fn unique_donation_number(&self) -> &str {
        self.part(8, 21)
    }

    /// Country, tissue establishment and unique donation number: identifies the donation.
    pub fn donation_identification_sequence(&self) -> &str {
        self.part(0, 21)
    }

    pub fn coding_system(&self) -> SecCodingSystem {
        self.coding_system
    }

    pub fn product_number(&self) -> &str {
        self.part(22, 29)
    }

    pub fn split_number(&self) -> &str {
        self.part(29, 32)
    }

    /// Coding system, product number, split number and expiry: identifies the product.
    pub fn product_identification_sequence(&self) -> &str {
        self.part(21, 40)
    }

    /// The expiry date, or `None` when the code says `00000000` (no expiry applies).
    pub fn expiry(&self) -> Option<NaiveDate> {
        self.expiry
    }

    /// The eye-readable form that Directive (EU) 2015/565 prescribes: `SEC: ` then the two
    /// sequences separated by a space.
    pub fn eye_readable(&self) -> String {
        format!(
            "SEC: {} {}",
            self.donation_identification_sequence(),
            self.product_identification_sequence()
        )
    }
}

text_code!(Sec);
canonical_string!(Sec);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::common::test_support::{SEC_BODY, SEC_ES, SEC_PL, sec_with};

    fn sec_field_of(result: Result<Sec, CodeError>) -> &'static str {
        match result {
            Err(CodeError::SecField { field, .. }) => field,
            other => panic!("expected a SEC field error, got {other:?}"),
        }
    }

    // --- Sec -------------------------------------------------------------------------------

    #[test]
    fn sec_polish_example() {
        let sec = Sec::parse(SEC_PL).unwrap();
        assert_eq!(sec.as_str(), "PL001499Z549917123456A00T041600320181231");
        assert_eq!(sec.country_code(), "PL");
        assert_eq!(sec.tissue_establishment_code(), "001499");
        assert_eq!(sec.unique_donation_number(), "Z549917123456");
        assert_eq!(
            sec.donation_identification_sequence(),
            "PL001499Z549917123456"
        );
        assert_eq!(sec.coding_system(), SecCodingSystem::Isbt128);
        assert_eq!(sec.coding_system().as_char(), 'A');
        assert_eq!(sec.product_number(), "00T0416");
        assert_eq!(sec.split_number(), "003");
        assert_eq!(sec.product_identification_sequence(), "A00T041600320181231");
        assert_eq!(sec.expiry(), NaiveDate::from_ymd_opt(2018, 12, 31));
        assert_eq!(sec.eye_readable(), SEC_PL);
        assert_eq!(sec.to_string(), sec.as_str());
    }

    #[test]
    fn sec_spanish_example() {
        let sec = Sec::parse(SEC_ES).unwrap();
        assert_eq!(sec.as_str(), SEC_BODY);
        assert_eq!(sec.unique_donation_number(), "A999926000123");
        assert_eq!(sec.expiry(), NaiveDate::from_ymd_opt(2026, 12, 31));
        assert_eq!(sec.eye_readable(), SEC_ES);
    }

    #[test]
    fn sec_decoration_is_ignored() {
        let expected = Sec::parse(SEC_ES).unwrap();
        let variants = [
            SEC_BODY.to_owned(),
            "ES990001A999926000123\nA00S123400120261231".to_owned(),
            "ES990001A999926000123\r\nA00S123400120261231".to_owned(),
            "SEC:\nES990001A999926000123\nA00S123400120261231\n".to_owned(),
            "sec: es990001a999926000123 a00s123400120261231".to_owned(),
            "  SEC :\tES990001 A999926000123 A00S1234001 20261231  ".to_owned(),
            "SEC ES990001A999926000123 A00S123400120261231".to_owned(),
            format!("SEC{SEC_BODY}"),
        ];
        for v in variants {
            assert_eq!(Sec::parse(&v).as_ref(), Ok(&expected), "{v:?}");
        }
    }

    #[test]
    fn sec_swedish_establishment_starting_with_c_is_not_a_prefix() {
        let swedish = "SEC12345A999926000123A00S123400120261231";
        let sec = Sec::parse(swedish).unwrap();
        assert_eq!(sec.country_code(), "SE");
        assert_eq!(sec.tissue_establishment_code(), "C12345");
        assert_eq!(Sec::parse(&format!("SEC: {swedish}")).unwrap(), sec);
        assert_eq!(Sec::parse(&format!("SEC{swedish}")).unwrap(), sec);
    }

    #[test]
    fn sec_no_expiry() {
        let sec = Sec::parse(&sec_with(32..40, "00000000")).unwrap();
        assert_eq!(sec.expiry(), None);
        assert!(sec.as_str().ends_with("00000000"));
    }

    #[test]
    fn sec_other_coding_systems_do_not_require_a_din() {
        let eutc = Sec::parse("ES990001ZZZZZZZZZZZZZE00S123400120261231").unwrap();
        assert_eq!(eutc.coding_system(), SecCodingSystem::Eutc);
        let eurocode = Sec::parse("ES990001ZZZZZZZZZZZZZB00S123400120261231").unwrap();
        assert_eq!(eurocode.coding_system(), SecCodingSystem::Eurocode);
        assert!(Sec::parse("ES990001ZZZZZZZZZZZZZA00S123400120261231").is_err());
    }

    #[test]
    fn sec_length_errors() {
        assert_eq!(
            Sec::parse(&SEC_BODY[..39]).unwrap_err(),
            CodeError::SecLength { len: 39 }
        );
        assert_eq!(
            Sec::parse(&format!("{SEC_BODY}1")).unwrap_err(),
            CodeError::SecLength { len: 41 }
        );
        assert_eq!(
            Sec::parse(&format!("SEC: {}", &SEC_BODY[..39])).unwrap_err(),
            CodeError::SecLength { len: 39 }
        );
        assert!(matches!(Sec::parse(""), Err(CodeError::Empty { .. })));
        assert!(matches!(
            Sec::parse("SEC: \n"),
            Err(CodeError::SecLength { len: 0 })
        ));
        assert!(matches!(Sec::parse(":: \t"), Err(CodeError::Empty { .. })));
    }

    #[test]
    fn sec_errors_name_their_field() {
        let cases = [
            (sec_with(0..2, "E5"), "country"),
            (sec_with(0..2, "É5"), "country"),
            (sec_with(2..8, "99000-"), "tissue_establishment"),
            (sec_with(8..21, "A99992600012#"), "unique_donation_number"),
            (sec_with(8..21, "O99992600012X"), "unique_donation_number"),
            (sec_with(8..21, "AB9992600012Q"), "unique_donation_number"),
            (sec_with(21..22, "X"), "coding_system"),
            (sec_with(22..29, "00S123."), "product_number"),
            (sec_with(29..32, "0_1"), "split_number"),
            (sec_with(32..40, "2026123A"), "expiry"),
            (sec_with(32..40, "20230229"), "expiry"),
            (sec_with(32..40, "20261301"), "expiry"),
            (sec_with(32..40, "20260000"), "expiry"),
            (sec_with(32..40, "2026😀231"), "expiry"),
        ];
        for (input, field) in cases {
            assert_eq!(input.chars().count(), 40, "{input}");
            assert_eq!(sec_field_of(Sec::parse(&input)), field, "{input}");
        }
        assert!(Sec::parse(&sec_with(32..40, "20240229")).is_ok());
    }

    #[test]
    fn sec_udn_error_explains_the_din_rule() {
        let err = Sec::parse(&sec_with(8..21, "O99992600012X")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("unique_donation_number"), "{text}");
        assert!(text.contains("ISBT 128"), "{text}");
    }
}
