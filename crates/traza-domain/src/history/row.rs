//! One historical batch record, typed, and the checks that need nothing but the row itself.

use std::fmt;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::columns::{COLUMN_COUNT, Column};
use super::errors::{IssueCode, RowError};
use super::formula::unescape_formula;
use super::values::{
    parse_access_route, parse_date, parse_decimal, parse_doses, parse_origin, parse_status,
};
use crate::batch::{Batch, BatchFields};
use crate::codes::{
    BatchNumber, DonorCode, LabCode, PatientCode, ProductCode, SubjectCode, TrialId,
};
use crate::network::Product;
use crate::validation::{FieldError, optional_text};
use crate::vocab::{AccessRoute, BatchStatus, Origin, Source};

/// The longest `released_by`: the same bound as a user's full name, which is what Traza
/// itself writes there.
const RELEASED_BY_MAX: usize = 200;
/// The longest `notes`: the same bound as the API's batch notes.
const NOTES_MAX: usize = 4000;

/// A row of a historical batch file, every field parsed and the row consistent in itself.
/// What depends on the network (the product's origin and routes, the laboratory, the
/// assignments) is checked by [`crate::history::check_against_network`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoricalRow {
    pub batch_number: BatchNumber,
    pub product_code: ProductCode,
    pub lab_code: LabCode,
    pub origin: Origin,
    pub donor_code: DonorCode,
    pub patient_code: Option<PatientCode>,
    pub collection_date: Option<NaiveDate>,
    pub manufacturing_start: NaiveDate,
    pub manufacturing_end: Option<NaiveDate>,
    pub expiry_date: Option<NaiveDate>,
    pub status: BatchStatus,
    pub cell_count: Option<Decimal>,
    pub viability_percent: Option<Decimal>,
    pub volume_ml: Option<Decimal>,
    pub doses: u32,
    pub released_by: Option<String>,
    pub release_date: Option<NaiveDate>,
    /// `None` when the file leaves it to the product (see [`crate::history::resolved_route`]).
    pub access_route: Option<AccessRoute>,
    pub trial_id: Option<TrialId>,
    pub notes: Option<String>,
}

/// Gathers every problem of one row, so none hides behind another.
struct Problems<'a> {
    line: u64,
    /// Unescaped (see `formula`) and trimmed: spaces around a value are a spreadsheet's
    /// layout, not part of the value.
    fields: [&'a str; COLUMN_COUNT],
    errors: Vec<RowError>,
}

impl<'a> Problems<'a> {
    fn raw(&self, column: Column) -> &'a str {
        self.fields[column.index()]
    }

    fn is_blank(&self, column: Column) -> bool {
        self.raw(column).is_empty()
    }

    fn push(&mut self, column: Column, code: IssueCode, message: impl Into<String>) {
        self.errors.push(RowError::new(
            self.line,
            Some(column.as_str()),
            code,
            message,
        ));
    }

    fn missing(&mut self, column: Column, why: impl fmt::Display) {
        self.push(
            column,
            IssueCode::MissingValue,
            format!("{column} is required{why}"),
        );
    }

    fn check<T, E: fmt::Display>(&mut self, column: Column, parsed: Result<T, E>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(e) => {
                self.push(column, IssueCode::InvalidValue, e.to_string());
                None
            }
        }
    }

    /// A value the row cannot do without.
    fn required<T, E: fmt::Display>(
        &mut self,
        column: Column,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        let raw = self.raw(column);
        if raw.is_empty() {
            self.missing(column, "");
            return None;
        }
        self.check(column, parse(raw))
    }

    /// `Some(None)` for an empty cell, `None` (with the error recorded) for an invalid one.
    fn optional<T, E: fmt::Display>(
        &mut self,
        column: Column,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<Option<T>> {
        let raw = self.raw(column);
        if raw.is_empty() {
            return Some(None);
        }
        self.check(column, parse(raw)).map(Some)
    }

    /// Free text, bounded like the API's; its messages need the column's name.
    fn text(&mut self, column: Column, max: usize) -> Option<Option<String>> {
        let parsed =
            optional_text(Some(self.raw(column)), max).map_err(|why| format!("{column} {why}"));
        self.check(column, parsed)
    }
}

/// A finding of [`BatchFields::field_errors`] as a row error. The field names of the batch
/// rules are the file's column names; a finding about an empty cell (the trial id a trial
/// needs) is a missing value rather than an invalid one.
pub(super) fn field_error(line: u64, error: FieldError, blank: bool) -> RowError {
    let code = if blank {
        IssueCode::MissingValue
    } else {
        IssueCode::InvalidValue
    };
    let message = format!("{} {}", error.field, error.message);
    RowError {
        line,
        column: Some(error.field),
        code,
        message,
    }
}

impl HistoricalRow {
    /// Parses one record, given as the text of each column in [`Column::ALL`] order (empty
    /// for a column the file leaves out), and checks what the row alone can tell: every field
    /// readable; the end of manufacture for a batch past production; the release (who and
    /// when, not before the end of manufacture) for a released or administered batch, and no
    /// release for any other; the patient of an autologous batch, who must be its donor; and
    /// the batch rules of [`BatchFields::field_errors`]. Returns every problem at once.
    pub fn decode(
        line: u64,
        fields: &[&str; COLUMN_COUNT],
    ) -> Result<HistoricalRow, Vec<RowError>> {
        let mut p = Problems {
            line,
            // The formula escape of the export is undone first, then the field trimmed
            // (SPEC §4: an escaped leading tab is part of the value until then).
            fields: fields.map(|f| unescape_formula(f).trim()),
            errors: Vec::new(),
        };
        let batch_number = p.required(Column::BatchNumber, BatchNumber::parse);
        let product_code = p.required(Column::ProductCode, ProductCode::parse);
        let lab_code = p.required(Column::LabCode, LabCode::parse);
        let origin = p.required(Column::Origin, parse_origin);
        let donor_code = p.required(Column::DonorCode, DonorCode::parse);
        let patient_code = p.optional(Column::PatientCode, PatientCode::parse);
        let collection_date = p.check(
            Column::CollectionDate,
            parse_date(p.raw(Column::CollectionDate)),
        );
        let manufacturing_start = p.required(Column::ManufacturingStart, |s| {
            parse_date(s)?.ok_or_else(|| String::from("manufacturing_start is required"))
        });
        let manufacturing_end = p.check(
            Column::ManufacturingEnd,
            parse_date(p.raw(Column::ManufacturingEnd)),
        );
        let expiry_date = p.check(Column::ExpiryDate, parse_date(p.raw(Column::ExpiryDate)));
        let status = p.required(Column::Status, parse_status);
        let cell_count = p.check(Column::CellCount, parse_decimal(p.raw(Column::CellCount)));
        // `95,5 %` as a spreadsheet shows a percentage.
        let viability_percent = p.check(
            Column::ViabilityPercent,
            parse_decimal(
                p.raw(Column::ViabilityPercent)
                    .trim()
                    .trim_end_matches('%')
                    .trim_end(),
            ),
        );
        let volume_ml = p.check(Column::VolumeMl, parse_decimal(p.raw(Column::VolumeMl)));
        let doses = p.check(Column::Doses, parse_doses(p.raw(Column::Doses)));
        let released_by = p.text(Column::ReleasedBy, RELEASED_BY_MAX);
        let release_date = p.check(Column::ReleaseDate, parse_date(p.raw(Column::ReleaseDate)));
        let access_route = p.optional(Column::AccessRoute, parse_access_route);
        let trial_id = p.optional(Column::TrialId, TrialId::parse);
        let notes = p.text(Column::Notes, NOTES_MAX);

        if let Some(status) = status {
            check_status_fields(&mut p, status, manufacturing_end, release_date);
        }

        // The batch rules take a whole `BatchFields`. Values that did not parse (already
        // reported) are stood in for by ones no rule objects to, so that the other fields
        // are still judged: a placeholder donor (no batch rule reads it), the earliest date
        // for an unreadable start (then only "collected after the start" would be a false
        // finding, and it is dropped), and a route that needs no trial id. A route the file
        // leaves empty is the product's, and `check_against_network` applies the trial rule
        // once it is known.
        let donor_known = donor_code.is_some();
        let start_known = manufacturing_start.is_some();
        let batch_fields = BatchFields {
            access_route: access_route
                .flatten()
                .unwrap_or(AccessRoute::HospitalExemption),
            trial_id: trial_id.flatten(),
            donor_code: donor_code
                .unwrap_or_else(|| DonorCode::from(SubjectCode::Pseudonym(String::new()))),
            patient_code: patient_code.flatten(),
            collection_date: collection_date.flatten(),
            manufacturing_start: manufacturing_start.unwrap_or(NaiveDate::MIN),
            manufacturing_end: manufacturing_end.flatten(),
            expiry_date: expiry_date.flatten(),
            cell_count: cell_count.flatten(),
            viability_percent: viability_percent.flatten(),
            volume_ml: volume_ml.flatten(),
            doses: doses.unwrap_or(crate::batch::DEFAULT_DOSES),
            notes: None,
        };
        for error in batch_fields.field_errors() {
            if !start_known && error.field == Column::CollectionDate.as_str() {
                continue;
            }
            let blank = Column::from_header(&error.field).is_some_and(|c| p.is_blank(c));
            p.errors.push(field_error(line, error, blank));
        }
        if origin == Some(Origin::Autologous) {
            if p.is_blank(Column::PatientCode) {
                p.missing(
                    Column::PatientCode,
                    " for an autologous batch: its one patient is its donor",
                );
            } else if donor_known
                && batch_fields.patient_code.is_some()
                && !batch_fields.chain_of_identity_holds(Origin::Autologous)
            {
                // Neither code is repeated: a pseudonym typed in the wrong column may be a name.
                p.push(
                    Column::PatientCode,
                    IssueCode::ChainOfIdentity,
                    "an autologous batch's patient_code must be its donor_code (chain of identity), and they differ",
                );
            }
        }

        let (
            Some(batch_number),
            Some(product_code),
            Some(lab_code),
            Some(origin),
            Some(manufacturing_start),
            Some(status),
            Some(released_by),
            Some(access_route),
            Some(notes),
            true,
        ) = (
            batch_number,
            product_code,
            lab_code,
            origin,
            manufacturing_start,
            status,
            released_by,
            access_route,
            notes,
            p.errors.is_empty(),
        )
        else {
            return Err(p.errors);
        };
        Ok(HistoricalRow {
            batch_number,
            product_code,
            lab_code,
            origin,
            donor_code: batch_fields.donor_code,
            patient_code: batch_fields.patient_code,
            collection_date: batch_fields.collection_date,
            manufacturing_start,
            manufacturing_end: batch_fields.manufacturing_end,
            expiry_date: batch_fields.expiry_date,
            status,
            cell_count: batch_fields.cell_count,
            viability_percent: batch_fields.viability_percent,
            volume_ml: batch_fields.volume_ml,
            doses: batch_fields.doses,
            released_by,
            release_date: release_date.flatten(),
            access_route,
            trial_id: batch_fields.trial_id,
            notes,
        })
    }

    /// The fields the batch rules judge, with the access route the row is made under.
    pub fn fields(&self, access_route: AccessRoute) -> BatchFields {
        BatchFields {
            access_route,
            trial_id: self.trial_id.clone(),
            donor_code: self.donor_code.clone(),
            patient_code: self.patient_code.clone(),
            collection_date: self.collection_date,
            manufacturing_start: self.manufacturing_start,
            manufacturing_end: self.manufacturing_end,
            expiry_date: self.expiry_date,
            cell_count: self.cell_count,
            viability_percent: self.viability_percent,
            volume_ml: self.volume_ml,
            doses: self.doses,
            notes: self.notes.clone(),
        }
    }

    /// The batch to store for this row, imported at `line` of import `import_id`, made by
    /// `access_route` (see [`crate::history::resolved_route`]). An expiry the file leaves
    /// empty is the end of manufacture plus the product's shelf life, as for a batch made in
    /// Traza.
    pub fn into_batch(
        self,
        product: &Product,
        access_route: AccessRoute,
        import_id: i64,
        line: u64,
    ) -> Batch {
        let expiry_date = self.expiry_date.or_else(|| {
            self.manufacturing_end
                .and_then(|end| product.default_expiry(end))
        });
        Batch {
            batch_number: self.batch_number,
            product_code: self.product_code,
            lab_code: self.lab_code,
            origin: self.origin,
            access_route,
            trial_id: self.trial_id,
            donor_code: self.donor_code,
            patient_code: self.patient_code,
            collection_date: self.collection_date,
            manufacturing_start: self.manufacturing_start,
            manufacturing_end: self.manufacturing_end,
            expiry_date,
            cell_count: self.cell_count,
            viability_percent: self.viability_percent,
            volume_ml: self.volume_ml,
            doses: self.doses,
            status: self.status,
            released_by: self.released_by,
            release_date: self.release_date,
            notes: self.notes,
            version: 1,
            source: Source::Import,
            import_id: Some(import_id),
            import_line: Some(line),
            on_hold: false,
        }
    }

    /// Like [`HistoricalRow::into_batch`], keeping the row.
    pub fn to_batch(
        &self,
        product: &Product,
        access_route: AccessRoute,
        import_id: i64,
        line: u64,
    ) -> Batch {
        self.clone()
            .into_batch(product, access_route, import_id, line)
    }
}

/// What the status says must, or must not, be there.
fn check_status_fields(
    p: &mut Problems<'_>,
    status: BatchStatus,
    manufacturing_end: Option<Option<NaiveDate>>,
    release_date: Option<Option<NaiveDate>>,
) {
    use BatchStatus::*;
    // Completion records the end of manufacture (SPEC §2 "complete"); every later status
    // went through it.
    if matches!(status, Quarantine | Released | Administered)
        && p.is_blank(Column::ManufacturingEnd)
    {
        p.missing(
            Column::ManufacturingEnd,
            format!(" for a batch that is {status}"),
        );
    }
    let released = matches!(status, Released | Administered);
    for column in [Column::ReleasedBy, Column::ReleaseDate] {
        match (released, p.is_blank(column)) {
            (true, true) => p.missing(column, format!(" for a batch that is {status}")),
            // A release that never happened would read as a QP certification (EU GMP
            // Part IV §11) on a batch that had none.
            (false, false) => p.push(
                column,
                IssueCode::InvalidValue,
                format!(
                    "{column} must be empty for a batch that is {status}: only released and administered batches have a release"
                ),
            ),
            _ => {}
        }
    }
    // The QP certifies a finished batch: the release cannot precede the end of manufacture.
    if let (Some(Some(release)), Some(Some(end))) = (release_date, manufacturing_end)
        && release < end
    {
        p.push(
            Column::ReleaseDate,
            IssueCode::InvalidValue,
            format!("release_date ({release}) must not be before manufacturing_end ({end})"),
        );
    }
}

/// The CSV columns in which `row` says something other than the stored batch of the same
/// number; empty when re-importing the row would change nothing. Decimals compare by value
/// (`1.50` is `1.5`) and codes by their canonical form (a DIN with or without its check
/// character). An empty `expiry_date` or `access_route` in the file stands for the value
/// Traza derives (the shelf life, the product's only route), so it agrees with whatever was
/// derived and stored: importing the same file twice finds every row unchanged, even if the
/// product's shelf life has changed in between.
pub fn differing_columns(row: &HistoricalRow, stored: &Batch) -> Vec<&'static str> {
    let same = [
        (Column::BatchNumber, row.batch_number == stored.batch_number),
        (Column::ProductCode, row.product_code == stored.product_code),
        (Column::LabCode, row.lab_code == stored.lab_code),
        (Column::Origin, row.origin == stored.origin),
        (Column::DonorCode, row.donor_code == stored.donor_code),
        (Column::PatientCode, row.patient_code == stored.patient_code),
        (
            Column::CollectionDate,
            row.collection_date == stored.collection_date,
        ),
        (
            Column::ManufacturingStart,
            row.manufacturing_start == stored.manufacturing_start,
        ),
        (
            Column::ManufacturingEnd,
            row.manufacturing_end == stored.manufacturing_end,
        ),
        (
            Column::ExpiryDate,
            row.expiry_date.is_none() || row.expiry_date == stored.expiry_date,
        ),
        (Column::Status, row.status == stored.status),
        (Column::CellCount, row.cell_count == stored.cell_count),
        (
            Column::ViabilityPercent,
            row.viability_percent == stored.viability_percent,
        ),
        (Column::VolumeMl, row.volume_ml == stored.volume_ml),
        (Column::Doses, row.doses == stored.doses),
        (Column::ReleasedBy, row.released_by == stored.released_by),
        (Column::ReleaseDate, row.release_date == stored.release_date),
        (
            Column::AccessRoute,
            row.access_route
                .is_none_or(|route| route == stored.access_route),
        ),
        (Column::TrialId, row.trial_id == stored.trial_id),
        (Column::Notes, row.notes == stored.notes),
    ];
    same.into_iter()
        .filter(|(_, same)| !same)
        .map(|(column, _)| column.as_str())
        .collect()
}
