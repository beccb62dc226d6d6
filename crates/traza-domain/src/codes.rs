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

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Why a code was refused. Positions are 1-based and count characters, not bytes, so the
/// message matches what a user sees in a form field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// The input was empty.
    #[error("{kind} is empty")]
    Empty { kind: &'static str },

    /// The input has fewer characters than the format allows.
    #[error("{kind} must be at least {min} characters long, but has {len}")]
    TooShort {
        kind: &'static str,
        min: usize,
        len: usize,
    },

    /// The input has more characters than the format allows.
    #[error("{kind} must be at most {max} characters long, but has {len}")]
    TooLong {
        kind: &'static str,
        max: usize,
        len: usize,
    },

    /// A character is not allowed at that position.
    #[error("{kind} has {ch:?} at position {position}, where only {allowed} is allowed")]
    InvalidCharacter {
        kind: &'static str,
        ch: char,
        position: usize,
        allowed: &'static str,
    },

    /// The input has none of the lengths a fixed-length format allows.
    #[error("{kind} has {len} characters, but must have {expected}")]
    InvalidLength {
        kind: &'static str,
        len: usize,
        expected: &'static str,
    },

    /// The ISBT 128 check character typed after a DIN does not match the DIN.
    #[error("DIN check character is '{found}' but the DIN {din} requires '{expected}'")]
    DinCheckCharacter {
        din: String,
        found: char,
        expected: char,
    },

    /// The bar-code flag characters claim to be a checksum (60-96) but do not match the DIN.
    #[error(
        "DIN flag characters {flags} encode a check value, but the DIN {din} requires {expected}"
    )]
    DinFlagChecksum {
        din: String,
        flags: String,
        expected: String,
    },

    /// The input is neither an EudraCT number nor an EU CT number.
    #[error(
        "trial identifier {value:?} is neither an EudraCT number (YYYY-NNNNNN-CC) nor an EU CT \
         number (YYYY-5NNNNN-NN-NN)"
    )]
    TrialIdFormat { value: String },

    /// The year part of a trial identifier is implausible.
    #[error("trial identifier year {year} is outside 1995 to 2099")]
    TrialIdYear { year: u32 },

    /// The Single European Code does not have 40 characters once its decoration is removed.
    #[error(
        "a Single European Code has 40 characters after removing the 'SEC' prefix, ':' and \
         whitespace, but this one has {len}"
    )]
    SecLength { len: usize },

    /// One field of a Single European Code is invalid.
    #[error("Single European Code field {field} is invalid: {reason}")]
    SecField { field: &'static str, reason: String },
}

// ---------------------------------------------------------------------------------------------
// Shared machinery
// ---------------------------------------------------------------------------------------------

/// A `^[first][rest]{min-1,max-1}$` rule, checked by hand so the error can say which character
/// is wrong and where.
struct Pattern {
    kind: &'static str,
    min: usize,
    max: usize,
    first: fn(char) -> bool,
    first_allowed: &'static str,
    rest: fn(char) -> bool,
    rest_allowed: &'static str,
}

impl Pattern {
    fn check(&self, s: &str) -> Result<(), CodeError> {
        if s.is_empty() {
            return Err(CodeError::Empty { kind: self.kind });
        }
        let len = s.chars().count();
        if len > self.max {
            return Err(CodeError::TooLong {
                kind: self.kind,
                max: self.max,
                len,
            });
        }
        if len < self.min {
            return Err(CodeError::TooShort {
                kind: self.kind,
                min: self.min,
                len,
            });
        }
        for (i, ch) in s.chars().enumerate() {
            let (ok, allowed) = if i == 0 {
                ((self.first)(ch), self.first_allowed)
            } else {
                ((self.rest)(ch), self.rest_allowed)
            };
            if !ok {
                return Err(CodeError::InvalidCharacter {
                    kind: self.kind,
                    ch,
                    position: i + 1,
                    allowed,
                });
            }
        }
        Ok(())
    }
}

fn is_upper_alnum(c: char) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit()
}

fn is_upper_alnum_or_hyphen(c: char) -> bool {
    is_upper_alnum(c) || c == '-'
}

fn is_alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

fn is_alnum_or_punct(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

fn is_lower_alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

fn is_lower_alnum_or_punct(c: char) -> bool {
    is_lower_alnum(c) || matches!(c, '.' | '_' | '-')
}

/// The decimal value of a run of ASCII digits; saturating, and non-digits count as zero, so it
/// is total. Callers check the digits first.
fn decimal(chars: impl Iterator<Item = char>) -> u32 {
    chars.fold(0u32, |acc, c| {
        acc.saturating_mul(10)
            .saturating_add(c.to_digit(10).unwrap_or(0))
    })
}

/// The characters a scanner or a form may wrap around a Single European Code.
fn is_sec_decoration(c: char) -> bool {
    matches!(c, ':' | ' ' | '\t' | '\r' | '\n')
}

/// Implements `Display`, `FromStr` and `TryFrom<String>` in terms of `as_str` and `parse`.
macro_rules! text_code {
    ($t:ty) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $t {
            type Err = CodeError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $t {
            type Error = CodeError;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }
    };
}

/// Implements `From<T> for String` as the canonical `as_str` spelling (what serde writes).
macro_rules! canonical_string {
    ($t:ty) => {
        impl From<$t> for String {
            fn from(value: $t) -> String {
                value.as_str().to_owned()
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Laboratory, product, batch, user
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Clinical trial identifiers
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// ISBT 128 Donation Identification Number
// ---------------------------------------------------------------------------------------------

/// The value of a character in the ISO/IEC 7064 MOD 37-2 alphabet `0-9 A-Z *`.
fn mod37_value(c: char) -> Option<u32> {
    match c {
        '0'..='9' => Some(u32::from(c) - u32::from('0')),
        'A'..='Z' => Some(u32::from(c) - u32::from('A') + 10),
        '*' => Some(36),
        _ => None,
    }
}

/// The character for a checksum value 0..=36 (`*` for 36, the only value `from_digit` lacks).
fn mod37_char(value: u32) -> char {
    char::from_digit(value, 36).map_or('*', |c| c.to_ascii_uppercase())
}

/// The MOD 37-2 checksum value (0..=36) of upper-case input, or the offending character.
fn mod37_2_checksum(chars: &[char]) -> Result<u32, (usize, char)> {
    let mut p = 0u32;
    for (i, &c) in chars.iter().enumerate() {
        let v = mod37_value(c).ok_or((i, c))?;
        p = ((p + v) * 2) % 37;
    }
    Ok((38 - p) % 37)
}

/// The ISBT 128 check character of a 13-character DIN.
///
/// ISBT 128 (ICCBBA ST-001) protects the DIN with an ISO/IEC 7064 MOD 37-2 check character,
/// printed boxed beside the eye-readable DIN and keyed in with it so that a mistyped DIN is
/// caught. MOD 37-2 detects every single-character error and every transposition of adjacent
/// characters. Lower-case letters are accepted as their upper-case equivalents; only the
/// alphabet is checked here, not the DIN structure (see [`Din::parse`]).
pub fn mod37_2_check_character(din13: &str) -> Result<char, CodeError> {
    const KIND: &str = "DIN for MOD 37-2";
    if din13.is_empty() {
        return Err(CodeError::Empty { kind: KIND });
    }
    let chars: Vec<char> = din13.chars().map(|c| c.to_ascii_uppercase()).collect();
    if chars.len() != 13 {
        return Err(CodeError::InvalidLength {
            kind: KIND,
            len: chars.len(),
            expected: "13",
        });
    }
    mod37_2_checksum(&chars)
        .map(mod37_char)
        .map_err(|(i, ch)| CodeError::InvalidCharacter {
            kind: KIND,
            ch,
            position: i + 1,
            allowed: "0-9, A-Z or '*'",
        })
}

const DIN_LENGTHS: &str =
    "13 (the DIN), 14 (DIN and check character) or 16 ('=', DIN and 2 flag characters)";

/// Which characters the 13-character DIN allows at a 0-based position.
fn din_char_rule(index: usize) -> (fn(char) -> bool, &'static str) {
    fn first(c: char) -> bool {
        (c.is_ascii_uppercase() && c != 'O') || matches!(c, '1'..='9')
    }
    fn second(c: char) -> bool {
        (c.is_ascii_uppercase() && c != 'O') || c.is_ascii_digit()
    }
    fn digit(c: char) -> bool {
        c.is_ascii_digit()
    }
    match index {
        0 => (first, "A-Z except O, or 1-9"),
        1 | 2 => (second, "A-Z except O, or 0-9"),
        _ => (digit, "a digit"),
    }
}

/// Checks 13 upper-cased characters against the DIN structure; `offset` is the number of
/// characters before them in the user's input, so positions in errors match what was typed.
fn validate_din13(chars: &[char], offset: usize) -> Result<String, CodeError> {
    for (i, &ch) in chars.iter().enumerate() {
        let (ok, allowed) = din_char_rule(i);
        if !ok(ch) {
            return Err(CodeError::InvalidCharacter {
                kind: "DIN",
                ch,
                position: offset + i + 1,
                allowed,
            });
        }
    }
    let mut din = String::with_capacity(chars.len());
    din.extend(chars);
    Ok(din)
}

/// Flag characters: ISBT 128 excludes I, O, Q and Z from them.
fn is_flag_char(c: char) -> bool {
    c.is_ascii_digit() || (c.is_ascii_uppercase() && !matches!(c, 'I' | 'O' | 'Q' | 'Z'))
}

/// An ISBT 128 Donation Identification Number: the worldwide-unique identifier of one
/// donation (or one collection for an autologous therapy), and so the root of its chain of
/// identity.
///
/// The 13 characters are the Facility Identification Number (5, assigned by ICCBBA), the year
/// (2) and a sequence number (6). The FIN part keeps out `O`, which reads as `0`, and cannot
/// start with `0`. [`Din::parse`] accepts what people and scanners actually produce: the bare
/// DIN, the DIN followed by its keyed check character, and the bar-code data structure
/// `=DIN ff` whose two flag characters, when 60-96, carry the MOD 37-2 checksum as `60 + value`.
/// A check that is present must match; lower case is folded to upper case because the ISBT 128
/// alphabet has no lower case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Din {
    /// Always 13 ASCII characters.
    din: String,
    /// MOD 37-2 check character of `din`, computed once at parse time.
    check: char,
    /// The two flag characters of the bar-code form, if the DIN was read from one.
    flags: Option<String>,
}

impl Din {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        if s.is_empty() {
            return Err(CodeError::Empty { kind: "DIN" });
        }
        let mut chars: Vec<char> = Vec::with_capacity(s.len());
        chars.extend(s.chars().map(|c| c.to_ascii_uppercase()));
        let invalid_length = || CodeError::InvalidLength {
            kind: "DIN",
            len: chars.len(),
            expected: DIN_LENGTHS,
        };
        match chars.as_slice() {
            ['=', rest @ ..] => {
                let (din13, flag_chars) = rest.split_at_checked(13).ok_or_else(invalid_length)?;
                if flag_chars.len() != 2 {
                    return Err(invalid_length());
                }
                let din = Self::bare(din13, 1)?;
                din.with_flags(flag_chars)
            }
            all if all.len() == 13 => Self::bare(all, 0),
            [din13 @ .., found] if din13.len() == 13 => {
                let din = Self::bare(din13, 0)?;
                if mod37_value(*found).is_none() {
                    return Err(CodeError::InvalidCharacter {
                        kind: "DIN check character",
                        ch: *found,
                        position: 14,
                        allowed: "0-9, A-Z or '*'",
                    });
                }
                if *found != din.check {
                    return Err(CodeError::DinCheckCharacter {
                        din: din.din,
                        found: *found,
                        expected: din.check,
                    });
                }
                Ok(din)
            }
            _ => Err(invalid_length()),
        }
    }

    /// A DIN without flags from 13 upper-case characters.
    fn bare(din13: &[char], offset: usize) -> Result<Self, CodeError> {
        let din = validate_din13(din13, offset)?;
        let value = mod37_2_checksum(din13).map_err(|(i, ch)| CodeError::InvalidCharacter {
            kind: "DIN",
            ch,
            position: offset + i + 1,
            allowed: "0-9, A-Z or '*'",
        })?;
        Ok(Self {
            din,
            check: mod37_char(value),
            flags: None,
        })
    }

    fn with_flags(self, flag_chars: &[char]) -> Result<Self, CodeError> {
        for (i, &ch) in flag_chars.iter().enumerate() {
            if !is_flag_char(ch) {
                return Err(CodeError::InvalidCharacter {
                    kind: "DIN flag",
                    ch,
                    position: 15 + i,
                    allowed: "0-9 or A-Z except I, O, Q and Z",
                });
            }
        }
        let flags: String = flag_chars.iter().collect();
        if flag_chars.iter().all(char::is_ascii_digit) {
            let claimed = decimal(flag_chars.iter().copied());
            if (60..=96).contains(&claimed) {
                // `check` came from `mod37_char`, so it always has a value.
                let expected = 60 + mod37_value(self.check).unwrap_or(0);
                if claimed != expected {
                    return Err(CodeError::DinFlagChecksum {
                        din: self.din,
                        flags,
                        expected: expected.to_string(),
                    });
                }
            }
        }
        Ok(Self {
            flags: Some(flags),
            ..self
        })
    }

    /// The 13-character DIN, without check character or flags.
    pub fn as_str(&self) -> &str {
        &self.din
    }

    /// The MOD 37-2 check character printed beside the eye-readable DIN.
    pub fn check_character(&self) -> char {
        self.check
    }

    /// The two flag characters, if the DIN was read from its bar-code form.
    pub fn flags(&self) -> Option<&str> {
        self.flags.as_deref()
    }

    /// The ICCBBA Facility Identification Number: who collected the donation.
    pub fn facility_identification_number(&self) -> &str {
        self.din.get(..5).unwrap_or_default()
    }

    /// The same DIN without bar-code flags; flags describe a label, not the donation.
    pub fn without_flags(self) -> Self {
        Self {
            flags: None,
            ..self
        }
    }
}

text_code!(Din);

/// Serialises to the 13-character DIN, or to the bar-code form `=DINff` when flags were read,
/// so that a round trip through serde gives back an equal value.
impl From<Din> for String {
    fn from(din: Din) -> String {
        match din.flags {
            Some(flags) => format!("={}{flags}", din.din),
            None => din.din,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Single European Code
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Donor and patient codes
// ---------------------------------------------------------------------------------------------

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

    fn invalid_char_at(err: &CodeError) -> Option<(char, usize)> {
        match err {
            CodeError::InvalidCharacter { ch, position, .. } => Some((*ch, *position)),
            _ => None,
        }
    }

    fn sec_field_of(result: Result<Sec, CodeError>) -> &'static str {
        match result {
            Err(CodeError::SecField { field, .. }) => field,
            other => panic!("expected a SEC field error, got {other:?}"),
        }
    }

    const SEC_PL: &str = "SEC: PL001499Z549917123456 A00T041600320181231";
    const SEC_ES: &str = "SEC: ES990001A999926000123 A00S123400120261231";
    /// A valid 40-character body used to build per-field failures.
    const SEC_BODY: &str = "ES990001A999926000123A00S123400120261231";

    /// `SEC_BODY` with the character range `at` replaced by `with`.
    fn sec_with(at: std::ops::Range<usize>, with: &str) -> String {
        let mut s = SEC_BODY.to_owned();
        s.replace_range(at, with);
        s
    }

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

    // --- MOD 37-2 --------------------------------------------------------------------------

    #[test]
    fn mod37_2_worked_examples() {
        let examples = [
            ("G123498654321", 'H'),
            ("A999921123456", '3'),
            ("G151797123456", 'L'),
            ("G123417654321", 'A'),
            ("A999914123458", 'J'),
            ("A999926000001", '8'),
            ("A999926000002", '6'),
            ("A999926000123", 'P'),
            ("A999925004711", 'C'),
        ];
        for (din, check) in examples {
            assert_eq!(mod37_2_check_character(din), Ok(check), "{din}");
        }
    }

    #[test]
    fn mod37_2_alphabet_round_trips() {
        let alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*";
        for (value, c) in (0u32..).zip(alphabet.chars()) {
            assert_eq!(mod37_value(c), Some(value));
            assert_eq!(mod37_char(value), c);
        }
        assert_eq!(mod37_value('a'), None);
        assert_eq!(mod37_value('É'), None);
    }

    #[test]
    fn mod37_2_input_errors_and_case() {
        assert_eq!(mod37_2_check_character("g123498654321"), Ok('H'));
        assert!(matches!(
            mod37_2_check_character("G12349865432"),
            Err(CodeError::InvalidLength { len: 12, .. })
        ));
        assert!(matches!(
            mod37_2_check_character("G1234986543210"),
            Err(CodeError::InvalidLength { len: 14, .. })
        ));
        let err = mod37_2_check_character("G12349865432-").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('-', 13)));
        let err = mod37_2_check_character("G1234986543É1").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('É', 12)));
    }

    #[test]
    fn mod37_2_catches_single_errors_and_adjacent_transpositions() {
        let din = "A999926000123";
        let good = mod37_2_check_character(din).unwrap();
        let chars: Vec<char> = din.chars().collect();
        for i in 0..chars.len() - 1 {
            if chars[i] != chars[i + 1] {
                let mut swapped = chars.clone();
                swapped.swap(i, i + 1);
                let s: String = swapped.into_iter().collect();
                assert_ne!(mod37_2_check_character(&s).unwrap(), good, "{s}");
            }
        }
        for i in 0..chars.len() {
            let mut changed = chars.clone();
            changed[i] = if chars[i] == '7' { '8' } else { '7' };
            let s: String = changed.into_iter().collect();
            assert_ne!(mod37_2_check_character(&s).unwrap(), good, "{s}");
        }
    }

    // --- Din -------------------------------------------------------------------------------

    #[test]
    fn din_thirteen_characters() {
        let din = Din::parse("A999926000001").unwrap();
        assert_eq!(din.as_str(), "A999926000001");
        assert_eq!(din.check_character(), '8');
        assert_eq!(din.flags(), None);
        assert_eq!(din.facility_identification_number(), "A9999");
        assert_eq!(din.to_string(), "A999926000001");
    }

    #[test]
    fn din_with_check_character() {
        let din = Din::parse("A9999260000018").unwrap();
        assert_eq!(din, Din::parse("A999926000001").unwrap());
        assert_eq!(din.as_str(), "A999926000001");
        assert_eq!(Din::parse("A999926000123P").unwrap().check_character(), 'P');
        assert_eq!(
            Din::parse("a999926000123p").unwrap().as_str(),
            "A999926000123"
        );
    }

    #[test]
    fn din_wrong_check_character_names_both() {
        let err = Din::parse("A999926000001X").unwrap_err();
        assert_eq!(
            err,
            CodeError::DinCheckCharacter {
                din: "A999926000001".into(),
                found: 'X',
                expected: '8'
            }
        );
        assert_eq!(
            err.to_string(),
            "DIN check character is 'X' but the DIN A999926000001 requires '8'"
        );
        let err = Din::parse("A999926000001-").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('-', 14)));
        let err = Din::parse("A999926000001😀").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('😀', 14)));
    }

    #[test]
    fn din_bar_code_form_and_flags() {
        let din = Din::parse("=G12349865432177").unwrap();
        assert_eq!(din.as_str(), "G123498654321");
        assert_eq!(din.check_character(), 'H');
        assert_eq!(din.flags(), Some("77"));
        assert_eq!(din.clone().without_flags().flags(), None);

        let err = Din::parse("=G12349865432178").unwrap_err();
        assert_eq!(
            err,
            CodeError::DinFlagChecksum {
                din: "G123498654321".into(),
                flags: "78".into(),
                expected: "77".into()
            }
        );
        assert!(err.to_string().contains("77"), "{err}");

        // Other numeric and alphanumeric flags are not checksums and are kept as read.
        for flags in ["00", "01", "59", "97", "99", "A1", "HJ", "PY"] {
            let din = Din::parse(&format!("=G123498654321{flags}")).unwrap();
            assert_eq!(din.flags(), Some(flags));
        }
        assert_eq!(Din::parse("=a99992600000168").unwrap().flags(), Some("68"));
        // 60 and 96 are the ends of the checksum range.
        assert!(Din::parse("=A99992600012385").is_ok()); // P = 25
        assert!(Din::parse("=A99992600012360").is_err());
        assert!(Din::parse("=A99992600012396").is_err());
    }

    #[test]
    fn din_flag_alphabet_excludes_i_o_q_z() {
        for bad in ["I0", "0O", "Q1", "1Z", "-1", "1*", "1é"] {
            let err = Din::parse(&format!("=G123498654321{bad}")).unwrap_err();
            assert!(
                matches!(
                    err,
                    CodeError::InvalidCharacter {
                        kind: "DIN flag",
                        ..
                    }
                ),
                "{bad}: {err:?}"
            );
        }
        let err = Din::parse("=G1234986543210I").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('I', 16)));
    }

    #[test]
    fn din_structure_errors() {
        let err = Din::parse("O999926000001").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('O', 1)));
        let err = Din::parse("0999926000001").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('0', 1)));
        let err = Din::parse("AO99926000001").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('O', 2)));
        let err = Din::parse("A9O9926000001").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('O', 3)));
        let err = Din::parse("A99A926000001").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('A', 4)));
        let err = Din::parse("A99992600000*").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('*', 13)));
        let err = Din::parse("=O99992600000177").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('O', 2)));
        let err = Din::parse("ÁB9992600000").unwrap_err();
        assert!(
            matches!(err, CodeError::InvalidLength { len: 12, .. }),
            "{err:?}"
        );
        let err = Din::parse("ÁB99926000001").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('Á', 1)));
        // Letters are allowed in positions 2-3 of newer FINs; any letter but O first.
        assert!(Din::parse("WAB1926000001").is_ok());
        assert!(Din::parse("1AB1926000001").is_ok());
    }

    #[test]
    fn din_length_errors() {
        for bad in [
            "A99992600000",
            "A99992600000189",
            "=A999926000001",
            "=A9999260000018",
            "=A9999260000018AB",
        ] {
            assert!(
                matches!(Din::parse(bad), Err(CodeError::InvalidLength { .. })),
                "{bad}"
            );
        }
        assert_eq!(
            Din::parse("").unwrap_err(),
            CodeError::Empty { kind: "DIN" }
        );
        assert!(Din::parse(" A999926000001").is_err());
    }

    #[test]
    fn din_lower_case_is_upper_cased() {
        let din = Din::parse("g123498654321h").unwrap();
        assert_eq!(din.as_str(), "G123498654321");
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
