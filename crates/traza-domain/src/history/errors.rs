//! What an import reports about a file: `{line, column, code, message}` for every problem
//! (SPEC §4), so that a laboratory fixes its spreadsheet in one pass.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::codes::{BatchNumber, LabCode};
use crate::vocab::vocabulary;

vocabulary! {
    /// Every code an import reports: the whole vocabulary, in one place. All are errors except
    /// `no_assignment` and `trial_mismatch`, which are warnings.
    IssueCode, "import issue code" {
        /// The file has no header (it is empty, or blank).
        EmptyFile => "empty_file",
        /// A header names a column that SPEC §4 does not define.
        UnknownColumn => "unknown_column",
        /// A header names the same column twice.
        DuplicateColumn => "duplicate_column",
        /// A required column is absent from the header.
        MissingColumn => "missing_column",
        /// The file cannot be read as CSV (a quote that is never closed).
        MalformedCsv => "malformed_csv",
        /// Reading the file failed (I/O error); nothing after this point was read.
        ReadFailed => "read_failed",
        /// A field's bytes are not valid in the file's encoding.
        InvalidEncoding => "invalid_encoding",
        /// A record has more or fewer fields than the header.
        WrongFieldCount => "wrong_field_count",
        /// A value the row needs is empty.
        MissingValue => "missing_value",
        /// A value cannot be read, is out of range, or contradicts another field of the row.
        InvalidValue => "invalid_value",
        /// An autologous batch whose patient is not its donor.
        ChainOfIdentity => "chain_of_identity",
        /// The product code names no product of the network.
        UnknownProduct => "unknown_product",
        /// The laboratory code names no laboratory of the network.
        UnknownLab => "unknown_lab",
        /// The row's origin is not the product's.
        OriginMismatch => "origin_mismatch",
        /// The product is not offered by the row's access route.
        RouteNotOffered => "route_not_offered",
        /// The batch number already appeared earlier in the same file.
        DuplicateInFile => "duplicate_in_file",
        /// A batch with this number is stored with different values.
        ConflictsWithStored => "conflicts_with_stored",
        /// The importing user may not import history of this laboratory.
        OutOfScope => "out_of_scope",
        /// The number has the generated form of another laboratory's numbers (SPEC §2).
        ForeignBatchNumber => "foreign_batch_number",
        /// The number is taken by a batch outside the importer's laboratories: nothing more
        /// is said about that batch.
        Duplicate => "duplicate",
        /// Warning: no assignment of the product to the laboratory covered the start of
        /// manufacture. History predates Traza, so the row is imported all the same.
        NoAssignment => "no_assignment",
        /// Warning: a clinical-trial row whose trial id is not that of the assignments in
        /// force on its start (a batch made in Traza would be refused).
        TrialMismatch => "trial_mismatch",
    }
}

/// A problem that keeps the whole file from being imported. `line` is the 1-based line of the
/// file on which the record starts (the header is line 1); `column` is the column's name in
/// the header, or `None` when the problem is the row's as a whole.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    pub line: u64,
    pub column: Option<String>,
    pub code: IssueCode,
    pub message: String,
}

impl RowError {
    pub fn new(
        line: u64,
        column: Option<&str>,
        code: IssueCode,
        message: impl Into<String>,
    ) -> Self {
        Self {
            line,
            column: column.map(str::to_owned),
            code,
            message: message.into(),
        }
    }

    /// The batch number appeared before, on `first_line`; naming it lets the user find the
    /// pair in a file of a million rows.
    pub fn duplicate_in_file(line: u64, number: &BatchNumber, first_line: u64) -> Self {
        Self::new(
            line,
            Some("batch_number"),
            IssueCode::DuplicateInFile,
            format!("batch {number} already appears on line {first_line}"),
        )
    }

    /// The batch is stored with other values in `columns` (from
    /// [`crate::history::differing_columns`]). Stored GMP records are never overwritten by an
    /// import; a correction goes through the batch's own audited correction.
    pub fn conflicts_with_stored(line: u64, number: &BatchNumber, columns: &[&str]) -> Self {
        Self::new(
            line,
            None,
            IssueCode::ConflictsWithStored,
            format!(
                "batch {number} is already stored with different values in: {}",
                columns.join(", ")
            ),
        )
    }

    /// The number has the form `{owner}-{YYYY}-{NNNNN}` of another laboratory.
    pub fn foreign_batch_number(line: u64, number: &BatchNumber, owner: &str) -> Self {
        Self::new(
            line,
            Some("batch_number"),
            IssueCode::ForeignBatchNumber,
            format!("{number} has the form of laboratory {owner}'s numbers"),
        )
    }

    /// The number is taken by a batch the importer may not see: whether its values match
    /// is not the importer's to learn.
    pub fn number_taken(line: u64, number: &BatchNumber) -> Self {
        Self::new(
            line,
            Some("batch_number"),
            IssueCode::Duplicate,
            format!("batch number {number} is already taken"),
        )
    }

    /// The importing user's laboratories do not include the row's.
    pub fn out_of_scope(line: u64, lab: &LabCode) -> Self {
        Self::new(
            line,
            Some("lab_code"),
            IssueCode::OutOfScope,
            format!("you may not import history of laboratory {lab}"),
        )
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_issue(f, self.line, self.column.as_deref(), &self.message)
    }
}

/// A remark that does not keep the row out: same shape as [`RowError`], a separate type so
/// that a warning can never be counted as an error or the other way round.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowWarning {
    pub line: u64,
    pub column: Option<String>,
    pub code: IssueCode,
    pub message: String,
}

impl RowWarning {
    pub fn new(
        line: u64,
        column: Option<&str>,
        code: IssueCode,
        message: impl Into<String>,
    ) -> Self {
        Self {
            line,
            column: column.map(str::to_owned),
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for RowWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_issue(f, self.line, self.column.as_deref(), &self.message)
    }
}

fn write_issue(
    f: &mut fmt::Formatter<'_>,
    line: u64,
    column: Option<&str>,
    message: &str,
) -> fmt::Result {
    match column {
        Some(column) => write!(f, "line {line}, {column}: {message}"),
        None => write!(f, "line {line}: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_line_column_code_message() {
        let error = RowError::new(
            7,
            Some("cell_count"),
            IssueCode::InvalidValue,
            "'abc' is not a number",
        );
        assert_eq!(
            serde_json::to_value(&error).unwrap(),
            serde_json::json!({
                "line": 7,
                "column": "cell_count",
                "code": "invalid_value",
                "message": "'abc' is not a number"
            })
        );
        assert_eq!(
            error.to_string(),
            "line 7, cell_count: 'abc' is not a number"
        );
        let warning = RowWarning::new(3, None, IssueCode::NoAssignment, "no assignment");
        assert_eq!(
            serde_json::to_value(&warning).unwrap()["column"],
            serde_json::Value::Null
        );
    }

    #[test]
    fn caller_made_errors_name_what_the_user_needs() {
        let number = BatchNumber::parse("GRA-UPCIT-2019-00042").unwrap();
        let duplicate = RowError::duplicate_in_file(812, &number, 17);
        assert_eq!(duplicate.code, IssueCode::DuplicateInFile);
        assert!(
            duplicate.message.contains("line 17"),
            "{}",
            duplicate.message
        );
        let conflict = RowError::conflicts_with_stored(9, &number, &["status", "cell_count"]);
        assert!(conflict.message.ends_with("status, cell_count"));
        let lab = LabCode::parse("SEV-UPRC").unwrap();
        assert_eq!(
            RowError::out_of_scope(4, &lab).column.as_deref(),
            Some("lab_code")
        );
    }

    #[test]
    fn every_code_is_snake_case_and_round_trips() {
        for code in IssueCode::ALL {
            let word = code.as_str();
            assert!(word.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
            assert_eq!(word.parse::<IssueCode>(), Ok(*code));
        }
    }
}
