//! Every error code Traza answers with (SPEC §3 `error.code`), in one closed list.
//!
//! The store refuses with one of these, the HTTP layer sends its text, and the pages translate
//! it with an exhaustive `match`: a code that is emitted but not translated, or translated but
//! never emitted, cannot compile.

macro_rules! error_codes {
    ($($variant:ident => $text:literal,)*) => {
        /// An error code of SPEC §3.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($variant,)*
        }

        impl ErrorCode {
            /// Every code, in the order declared.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as sent: `snake_case`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $text,)*
                }
            }
        }
    };
}

error_codes! {
    // The request itself (400, 401, 403, 404, 405, 412, 413, 415, 422, 428).
    BadRequest => "bad_request",
    Unauthenticated => "unauthenticated",
    Forbidden => "forbidden",
    NotFound => "not_found",
    MethodNotAllowed => "method_not_allowed",
    VersionMismatch => "version_mismatch",
    PreconditionRequired => "precondition_required",
    PayloadTooLarge => "payload_too_large",
    UnsupportedMediaType => "unsupported_media_type",
    ValidationFailed => "validation_failed",
    ForeignBatchNumber => "foreign_batch_number",
    // Authentication (403, 423, 429).
    InvalidSignature => "invalid_signature",
    AccountLocked => "account_locked",
    TooManyAttempts => "too_many_attempts",
    // A rule refuses (409).
    Duplicate => "duplicate",
    InvalidTransition => "invalid_transition",
    ReleaseBlocked => "release_blocked",
    ChainOfIdentityMismatch => "chain_of_identity_mismatch",
    DosesExhausted => "doses_exhausted",
    BatchExpired => "batch_expired",
    BatchOnHold => "batch_on_hold",
    HistoryNotConfirmed => "history_not_confirmed",
    FourEyes => "four_eyes",
    ResultExists => "result_exists",
    RecordLocked => "record_locked",
    CapacityExceeded => "capacity_exceeded",
    LabNotEligible => "lab_not_eligible",
    LabNotActive => "lab_not_active",
    ProductNotActive => "product_not_active",
    NoAssignment => "no_assignment",
    TrialMismatch => "trial_mismatch",
    ReactionClosed => "reaction_closed",
    ImportRejected => "import_rejected",
    // SPEC §8: a step refused for its materials, equipment or room.
    MaterialNotUsable => "material_not_usable",
    EquipmentNotUsable => "equipment_not_usable",
    RoomNotSuitable => "room_not_suitable",
    // The server (500, 503, 504).
    Internal => "internal",
    AuditKeyUnavailable => "audit_key_unavailable",
    ShuttingDown => "shutting_down",
    Timeout => "timeout",
}

impl ErrorCode {
    /// The code sent as `text`, if it is one of Traza's.
    pub fn from_text(text: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| c.as_str() == text)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_snake_case_unique_and_reads_back() {
        let mut seen = std::collections::HashSet::new();
        for &c in ErrorCode::ALL {
            let text = c.as_str();
            assert!(
                text.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{text}"
            );
            assert!(seen.insert(text), "{text} twice");
            assert_eq!(ErrorCode::from_text(text), Some(c));
        }
        assert_eq!(ErrorCode::from_text("overlap"), None);
    }
}
