//! The columns of a historical batch file, in the order of SPEC §4 (which is also the order
//! the export writes them in).

use crate::vocab::vocabulary;

vocabulary! {
    /// A column of a historical batch file. Its word is the column's name in the header.
    Column, "column" {
        BatchNumber => "batch_number",
        ProductCode => "product_code",
        LabCode => "lab_code",
        Origin => "origin",
        DonorCode => "donor_code",
        PatientCode => "patient_code",
        CollectionDate => "collection_date",
        ManufacturingStart => "manufacturing_start",
        ManufacturingEnd => "manufacturing_end",
        ExpiryDate => "expiry_date",
        Status => "status",
        CellCount => "cell_count",
        ViabilityPercent => "viability_percent",
        VolumeMl => "volume_ml",
        Doses => "doses",
        ReleasedBy => "released_by",
        ReleaseDate => "release_date",
        AccessRoute => "access_route",
        TrialId => "trial_id",
        Notes => "notes",
    }
}

/// How many columns a file may have.
pub const COLUMN_COUNT: usize = Column::ALL.len();

impl Column {
    /// The columns every file must have (SPEC §4): without them no row could be a batch. The
    /// others may be left out of a file altogether, which is the same as leaving them empty.
    pub const fn is_required(self) -> bool {
        matches!(
            self,
            Column::BatchNumber
                | Column::ProductCode
                | Column::LabCode
                | Column::Origin
                | Column::DonorCode
                | Column::ManufacturingStart
                | Column::Status
        )
    }

    /// Position in [`Column::ALL`], for per-column arrays.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Reads a header cell: names are trimmed and case-insensitive, because spreadsheets
    /// capitalise and pad headers on their own.
    pub fn from_header(name: &str) -> Option<Column> {
        let name = name.trim();
        Column::ALL
            .iter()
            .copied()
            .find(|c| c.as_str().eq_ignore_ascii_case(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_follow_the_spec_order() {
        for (i, column) in Column::ALL.iter().enumerate() {
            assert_eq!(column.index(), i);
        }
        assert_eq!(COLUMN_COUNT, 20);
        assert_eq!(Column::ALL[0].as_str(), "batch_number");
        assert_eq!(Column::ALL[19].as_str(), "notes");
    }

    #[test]
    fn header_names_ignore_case_and_padding() {
        assert_eq!(
            Column::from_header(" Batch_Number "),
            Some(Column::BatchNumber)
        );
        assert_eq!(Column::from_header("VOLUME_ML"), Some(Column::VolumeMl));
        assert_eq!(Column::from_header("volume ml"), None);
        assert_eq!(Column::from_header(""), None);
    }

    #[test]
    fn seven_columns_are_required() {
        let required: Vec<_> = Column::ALL
            .iter()
            .filter(|c| c.is_required())
            .map(|c| c.as_str())
            .collect();
        assert_eq!(
            required,
            [
                "batch_number",
                "product_code",
                "lab_code",
                "origin",
                "donor_code",
                "manufacturing_start",
                "status"
            ]
        );
    }
}
