//! Clinical trial identifiers: EudraCT and EU CT numbers.

use serde::{Deserialize, Serialize};

use super::common::{CodeError, canonical_string, decimal, text_code};

/// Which EU register issued a [`TrialId`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TrialIdKind {
    /// EudraCT number, `YYYY-NNNNNN-CC`, issued for trials under Directive 2001/20/EC.
    EudraCt,
    /// EU CT number, `YYYY-5NNNNN-NN-NN`, issued by CTIS under Regulation (EU) No 536/2014.
    EuCt,
}

/// `d` is any ASCII digit; anything else must match literally.
const EUDRACT_TEMPLATE: &str = "dddd-dddddd-dd";
const EUCT_TEMPLATE: &str = "dddd-5ddddd-dd-dd";

fn matches_template(s: &str, template: &str) -> bool {
    // Byte-wise is safe: templates are ASCII, and UTF-8 bytes of non-ASCII characters are all
    // >= 0x80, so they never equal a template byte nor an ASCII digit.
    s.len() == template.len()
        && s.bytes().zip(template.bytes()).all(|(c, t)| match t {
            b'd' => c.is_ascii_digit(),
            _ => c == t,
        })
}

/// The EU identifier of the clinical trial an investigational ATMP is made for.
///
/// EudraLex Vol. 4 Annex 13, and Annex VI of Regulation (EU) No 536/2014 after it, require the
/// trial reference on investigational product labels and in batch records. Trials
/// authorised before CTIS keep their EudraCT number; newer ones have an EU CT number, whose
/// sequence always starts with 5 so the two can never be confused. The year must be
/// 1995..=2099, a deliberately generous window (EudraCT opened in 2004) that still catches
/// typed-in typos such as `0210`. Only the shape and year are checked; the trailing digits are
/// not recomputed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TrialId(String);

impl TrialId {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        if s.is_empty() {
            return Err(CodeError::Empty {
                kind: "trial identifier",
            });
        }
        if !matches_template(s, EUDRACT_TEMPLATE) && !matches_template(s, EUCT_TEMPLATE) {
            return Err(CodeError::TrialIdFormat {
                value: s.to_owned(),
            });
        }
        let year = decimal(s.chars().take(4));
        if !(1995..=2099).contains(&year) {
            return Err(CodeError::TrialIdYear { year });
        }
        Ok(Self(s.to_owned()))
    }

    pub fn kind(&self) -> TrialIdKind {
        if self.0.len() == EUCT_TEMPLATE.len() {
            TrialIdKind::EuCt
        } else {
            TrialIdKind::EudraCt
        }
    }

    /// The year the number was issued.
    pub fn year(&self) -> u32 {
        decimal(self.0.chars().take(4))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

text_code!(TrialId);
canonical_string!(TrialId);

#[cfg(test)]
mod tests {
    use super::*;

    // --- TrialId ---------------------------------------------------------------------------

    #[test]
    fn trial_id_eudract() {
        let id = TrialId::parse("2010-024041-78").unwrap();
        assert_eq!(id.kind(), TrialIdKind::EudraCt);
        assert_eq!(id.year(), 2010);
        assert_eq!(id.as_str(), "2010-024041-78");
        // A EudraCT sequence may itself start with 5: the length tells the kinds apart.
        assert_eq!(
            TrialId::parse("2010-524041-78").unwrap().kind(),
            TrialIdKind::EudraCt
        );
    }

    #[test]
    fn trial_id_eu_ct() {
        let id = TrialId::parse("2023-509876-12-00").unwrap();
        assert_eq!(id.kind(), TrialIdKind::EuCt);
        assert_eq!(id.year(), 2023);
        assert_eq!(id.to_string(), "2023-509876-12-00");
    }

    #[test]
    fn trial_id_year_bounds() {
        assert!(TrialId::parse("1995-000001-01").is_ok());
        assert!(TrialId::parse("2099-500001-01-00").is_ok());
        assert_eq!(
            TrialId::parse("1994-000001-01").unwrap_err(),
            CodeError::TrialIdYear { year: 1994 }
        );
        assert_eq!(
            TrialId::parse("2100-500001-01-00").unwrap_err(),
            CodeError::TrialIdYear { year: 2100 }
        );
        assert!(TrialId::parse("0210-024041-78").is_err());
    }

    #[test]
    fn trial_id_shape_errors() {
        let bad = [
            "2023-409876-12-00", // EU CT sequence must start with 5
            "2010-02404-78",     // five digits
            "2010-0240411-78",   // seven digits
            "2010_024041_78",    // wrong separators
            "2010-024041-7",     // one check digit
            "2010-024041-78-",   // trailing separator
            "2023-509876-12-0",  // short suffix
            "2023-509876-1200",  // missing separator
            " 2010-024041-78",   // no trimming
            "2010-024041-78 ",   // no trimming
            "EudraCT 2010-024041-78",
            "201O-024041-78",     // letter O
            "２０１０-024041-78", // full-width digits
            "2010−024041−78",     // Unicode minus
            "",
        ];
        for s in bad {
            assert!(TrialId::parse(s).is_err(), "{s:?}");
        }
        assert!(matches!(
            TrialId::parse("2023-409876-12-00"),
            Err(CodeError::TrialIdFormat { .. })
        ));
    }
}
