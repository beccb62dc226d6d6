//! The store's one error type. Every variant maps to one error code of SPEC §3.

use serde::Serialize;
use traza_domain::access::AccessRefusal;
use traza_domain::auth::AuthRefusal;
pub use traza_domain::error_code::ErrorCode;
use traza_domain::validation::{FieldError, FieldErrors};

/// One unmet rule in a refusal's details: `{rule, message}`, and `subject` when the rule is
/// about one thing (the test missing, the deviation open, the hold standing, the expiry date).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleDetail {
    pub rule: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

impl RuleDetail {
    pub fn new(rule: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            rule: rule.into(),
            message: message.into(),
            subject: None,
        }
    }

    /// A release blocker as a detail, with what it is about.
    pub fn blocker(b: &traza_domain::batch::ReleaseBlocker) -> Self {
        Self {
            subject: b.subject(),
            ..Self::new(b.rule(), b.message())
        }
    }

    /// A reason an assignment is refused as a detail, with what it is about.
    pub fn eligibility(r: &traza_domain::network::EligibilityRefusal) -> Self {
        Self {
            subject: r.subject(),
            ..Self::new(r.rule(), r.message())
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Unknown, or outside the caller's laboratories (which must look the same).
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("your role may not do this")]
    Forbidden,
    #[error("unknown user or wrong password")]
    Unauthenticated,
    /// A wrong password in an electronic signature.
    #[error("the password does not match: signature refused")]
    InvalidSignature,
    #[error("{0}")]
    Invalid(FieldErrors),
    #[error("{0} already exists")]
    Duplicate(String),
    /// A GMP rule refuses the operation (409), with every unmet rule in `details`.
    #[error("{message}")]
    Refused {
        code: ErrorCode,
        message: String,
        details: Vec<RuleDetail>,
    },
    /// A batch number of another laboratory's generated form (SPEC §2): 422.
    #[error("{0}")]
    ForeignBatchNumber(String),
    #[error("the record changed since you read it (current version {current})")]
    VersionMismatch { current: i64 },
    /// A locked account (423) or a throttled address (429), refused before any password check.
    #[error("{0}")]
    AuthRefused(AuthRefusal),
    /// Something failed inside this process (a hashing task, a closed semaphore).
    #[error("internal error: {0}")]
    Internal(String),
    /// The audit chain's key is missing, damaged or not the trail's: nothing is written.
    #[error("{0}")]
    AuditKey(String),
    /// A stored value does not parse, or a row the database must hold is missing: the
    /// database was changed outside Traza. Only for that.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The store was given something it cannot work with: a database URL it does not take.
    #[error("{0}")]
    Config(String),
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
}

impl StoreError {
    pub fn refused(code: ErrorCode, message: impl Into<String>) -> Self {
        StoreError::Refused {
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }

    pub fn invalid(field: &str, message: impl traza_domain::validation::Explain) -> Self {
        StoreError::Invalid(FieldErrors(vec![FieldError::new(field, message)]))
    }

    /// The SPEC §3 error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            StoreError::NotFound(_) => ErrorCode::NotFound,
            StoreError::Forbidden => ErrorCode::Forbidden,
            StoreError::Unauthenticated => ErrorCode::Unauthenticated,
            StoreError::InvalidSignature => ErrorCode::InvalidSignature,
            StoreError::Invalid(_) => ErrorCode::ValidationFailed,
            StoreError::Duplicate(_) => ErrorCode::Duplicate,
            StoreError::Refused { code, .. } => *code,
            StoreError::VersionMismatch { .. } => ErrorCode::VersionMismatch,
            StoreError::ForeignBatchNumber(_) => ErrorCode::ForeignBatchNumber,
            StoreError::AuthRefused(AuthRefusal::AccountLocked { .. }) => ErrorCode::AccountLocked,
            StoreError::AuthRefused(AuthRefusal::TooManyAttempts { .. }) => {
                ErrorCode::TooManyAttempts
            }
            StoreError::AuditKey(_) => ErrorCode::AuditKeyUnavailable,
            StoreError::Internal(_)
            | StoreError::Corrupt(_)
            | StoreError::Config(_)
            | StoreError::Database(_) => ErrorCode::Internal,
        }
    }
}

impl From<FieldErrors> for StoreError {
    fn from(e: FieldErrors) -> Self {
        StoreError::Invalid(e)
    }
}

impl From<AccessRefusal> for StoreError {
    fn from(e: AccessRefusal) -> Self {
        match e {
            AccessRefusal::Forbidden => StoreError::Forbidden,
            AccessRefusal::OutOfScope => StoreError::NotFound("record"),
        }
    }
}

/// Turns a stored string back into a domain value, or reports corruption.
pub(crate) fn stored<T, E: std::fmt::Display>(
    what: &str,
    parsed: Result<T, E>,
) -> Result<T, StoreError> {
    parsed.map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// A closed-vocabulary word read from `column` of a raw query row, or corruption.
pub(crate) fn stored_word<T>(row: &sea_orm::QueryResult, column: &str) -> Result<T, StoreError>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let word: String = row.try_get("", column)?;
    stored(column, word.parse())
}
