//! Field-level validation that reports every invalid field at once, so a user fixes a form (or
//! a CSV row) in one pass instead of one error at a time.

use std::fmt;

use rust_decimal::Decimal;
use serde::Serialize;

pub use crate::problem::{Explain, Problem};

/// One invalid field: the `{field, message, problem}` of the API's `validation_failed`
/// details; `problem` is the refusal as data, for a page to say in its language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Explain) -> Self {
        Self {
            field: field.into(),
            message: message.to_string(),
            problem: message.problem(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// A non-empty list of invalid fields.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid fields: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct FieldErrors(pub Vec<FieldError>);

/// Collects field errors while parsing a request; `finish` fails if any field was invalid.
///
/// ```
/// # use traza_domain::validation::Fields;
/// # use traza_domain::codes::LabCode;
/// let mut f = Fields::default();
/// let code = f.check("code", LabCode::parse("GRA-UPCIT"));
/// let other = f.check("other", LabCode::parse("nope"));
/// assert!(code.is_some() && other.is_none());
/// assert_eq!(f.finish().unwrap_err().0[0].field, "other");
/// ```
#[derive(Debug, Default)]
pub struct Fields {
    errors: Vec<FieldError>,
}

impl Fields {
    /// Keeps the value, or records the error under `field`.
    pub fn check<T, E: Explain>(&mut self, field: &str, parsed: Result<T, E>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(e) => {
                self.errors.push(FieldError::new(field, e));
                None
            }
        }
    }

    /// Like [`Fields::check`] for an optional input: `None` stays `Some(None)`.
    pub fn check_opt<T, E: Explain, I>(
        &mut self,
        field: &str,
        input: Option<I>,
        parse: impl FnOnce(I) -> Result<T, E>,
    ) -> Option<Option<T>> {
        match input {
            None => Some(None),
            Some(raw) => self.check(field, parse(raw)).map(Some),
        }
    }

    pub fn push(&mut self, field: &str, message: impl Explain) {
        self.errors.push(FieldError::new(field, message));
    }

    /// Records an error unless `ok`.
    pub fn ensure(&mut self, ok: bool, field: &str, message: impl Explain) {
        if !ok {
            self.push(field, message);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn finish(self) -> Result<(), FieldErrors> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(FieldErrors(self.errors))
        }
    }
}

/// A required free-text field: trimmed, non-empty, at most `max` characters, no control
/// characters other than line breaks and tabs.
pub fn text(raw: &str, max: usize) -> Result<String, Problem> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(Problem::Empty);
    }
    if trimmed.chars().count() > max {
        return Err(Problem::TooLong { max });
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(Problem::ControlCharacters);
    }
    Ok(trimmed.to_owned())
}

/// An optional free-text field: blank means absent.
pub fn optional_text(raw: Option<&str>, max: usize) -> Result<Option<String>, Problem> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => text(s, max).map(Some),
    }
}

/// Parses an exact decimal written with a decimal point (the API's and the export's form).
/// Scientific notation is accepted (`1.25E+8`): cell counts are often written so.
pub fn decimal(raw: &str) -> Result<Decimal, Problem> {
    let s = raw.trim();
    let parsed = if s.contains(['e', 'E']) {
        Decimal::from_scientific(s)
    } else {
        s.parse::<Decimal>()
    };
    parsed
        .map(|d| d.normalize())
        .map_err(|_| Problem::NotDecimal { text: s.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(text("  Granada ", 10).unwrap(), "Granada");
        assert!(text("   ", 10).is_err());
        assert!(text("abcdefghijk", 10).is_err());
        assert!(text("a\u{0}b", 10).is_err());
        assert_eq!(optional_text(Some(" "), 5).unwrap(), None);
    }

    #[test]
    fn decimals_are_exact_and_normalised() {
        assert_eq!(decimal("92.50").unwrap().to_string(), "92.5");
        assert_eq!(decimal("1.25E+8").unwrap().to_string(), "125000000");
        assert_eq!(
            decimal("12345678901234.567891").unwrap().to_string(),
            "12345678901234.567891"
        );
        assert!(decimal("12,5").is_err());
        assert!(decimal("").is_err());
    }

    #[test]
    fn fields_collects_every_error() {
        let mut f = Fields::default();
        assert_eq!(
            f.check::<u32, _>("a", "x".parse::<u32>().map_err(|e| e.to_string())),
            None
        );
        f.ensure(false, "b", "is wrong");
        f.ensure(true, "c", "never");
        let errors = f.finish().unwrap_err().0;
        assert_eq!(
            errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
    }
}
