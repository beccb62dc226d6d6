//! What every code family shares: the error type, the hand-checked [`Pattern`] rule, the
//! character classes, and the macros that derive the text traits from `parse` and `as_str`.
//! This module uses nothing else in `codes`, so every family can use it.

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

/// A `^[first][rest]{min-1,max-1}$` rule, checked by hand so the error can say which character
/// is wrong and where.
pub(super) struct Pattern {
    pub(super) kind: &'static str,
    pub(super) min: usize,
    pub(super) max: usize,
    pub(super) first: fn(char) -> bool,
    pub(super) first_allowed: &'static str,
    pub(super) rest: fn(char) -> bool,
    pub(super) rest_allowed: &'static str,
}

impl Pattern {
    pub(super) fn check(&self, s: &str) -> Result<(), CodeError> {
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

pub(super) fn is_upper_alnum(c: char) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit()
}

pub(super) fn is_upper_alnum_or_hyphen(c: char) -> bool {
    is_upper_alnum(c) || c == '-'
}

pub(super) fn is_alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

pub(super) fn is_alnum_or_punct(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

pub(super) fn is_lower_alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

pub(super) fn is_lower_alnum_or_punct(c: char) -> bool {
    is_lower_alnum(c) || matches!(c, '.' | '_' | '-')
}

/// The decimal value of a run of ASCII digits; saturating, and non-digits count as zero, so it
/// is total. Callers check the digits first.
pub(super) fn decimal(chars: impl Iterator<Item = char>) -> u32 {
    chars.fold(0u32, |acc, c| {
        acc.saturating_mul(10)
            .saturating_add(c.to_digit(10).unwrap_or(0))
    })
}
/// Implements `Display`, `FromStr` and `TryFrom<String>` in terms of `as_str` and `parse`.
macro_rules! text_code {
    ($t:ty) => {
        impl ::std::fmt::Display for $t {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $t {
            type Err = $crate::codes::CodeError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $t {
            type Error = $crate::codes::CodeError;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }
    };
}
pub(super) use text_code;

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
pub(super) use canonical_string;

/// Inputs and helpers the tests of several families share.
impl crate::problem::Explain for CodeError {
    fn problem(&self) -> Option<crate::problem::Problem> {
        use crate::problem::Problem as P;
        Some(match self {
            CodeError::Empty { .. } => P::Empty,
            CodeError::TooShort { min, .. } => P::CodeTooShort { min: *min },
            CodeError::TooLong { max, .. } => P::CodeTooLong { max: *max },
            CodeError::InvalidCharacter { ch, position, .. } => P::CodeCharacter {
                ch: ch.to_string(),
                position: *position,
            },
            CodeError::InvalidLength { expected, .. } => P::CodeLength {
                expected: (*expected).to_owned(),
            },
            CodeError::TrialIdFormat { .. } => P::TrialIdFormat,
            CodeError::TrialIdYear { year } => P::TrialIdYear { year: *year },
            CodeError::DinCheckCharacter { .. }
            | CodeError::DinFlagChecksum { .. }
            | CodeError::SecLength { .. }
            | CodeError::SecField { .. } => return None,
        })
    }
}

#[cfg(test)]
pub(super) mod test_support {
    use super::CodeError;

    pub(in crate::codes) fn invalid_char_at(err: &CodeError) -> Option<(char, usize)> {
        match err {
            CodeError::InvalidCharacter { ch, position, .. } => Some((*ch, *position)),
            _ => None,
        }
    }

    pub(in crate::codes) const SEC_PL: &str = "SEC: PL001499Z549917123456 A00T041600320181231";
    pub(in crate::codes) const SEC_ES: &str = "SEC: ES990001A999926000123 A00S123400120261231";
    /// A valid 40-character body used to build per-field failures.
    pub(in crate::codes) const SEC_BODY: &str = "ES990001A999926000123A00S123400120261231";

    /// `SEC_BODY` with the character range `at` replaced by `with`.
    pub(in crate::codes) fn sec_with(at: std::ops::Range<usize>, with: &str) -> String {
        let mut s = SEC_BODY.to_owned();
        s.replace_range(at, with);
        s
    }
}
