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

    /// The column's Spanish name (SPEC §4), as Spanish laboratories head their sheets.
    pub const fn spanish(self) -> &'static str {
        match self {
            Column::BatchNumber => "número de lote",
            Column::ProductCode => "producto",
            Column::LabCode => "laboratorio",
            Column::Origin => "origen",
            Column::DonorCode => "donante",
            Column::PatientCode => "paciente",
            Column::CollectionDate => "fecha de obtención",
            Column::ManufacturingStart => "inicio de fabricación",
            Column::ManufacturingEnd => "fin de fabricación",
            Column::ExpiryDate => "caducidad",
            Column::Status => "estado",
            Column::CellCount => "recuento celular",
            Column::ViabilityPercent => "viabilidad (%)",
            Column::VolumeMl => "volumen (ml)",
            Column::Doses => "dosis",
            Column::ReleasedBy => "liberado por",
            Column::ReleaseDate => "fecha de liberación",
            Column::AccessRoute => "vía de acceso",
            Column::TrialId => "ensayo clínico",
            Column::Notes => "notas",
        }
    }

    /// Reads a header cell: the English or the Spanish name, trimmed, case- and
    /// accent-insensitive, runs of spaces as one, because spreadsheets capitalise and pad
    /// headers on their own.
    pub fn from_header(name: &str) -> Option<Column> {
        let name = fold_header(name);
        Column::ALL
            .iter()
            .copied()
            .find(|c| fold_header(c.as_str()) == name || fold_header(c.spanish()) == name)
    }
}

/// A header name compared without case, accents or repeated spaces.
fn fold_header(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'á' => 'a',
            'é' => 'e',
            'í' => 'i',
            'ó' => 'o',
            'ú' | 'ü' => 'u',
            'ñ' => 'n',
            c => c,
        })
        .collect()
}

/// The header line of a file to fill in (SPEC §4 `GET /imports/template.csv`): English
/// names with `,`, or Spanish names with `;` (the delimiter of a Spanish spreadsheet).
pub fn template_header(spanish: bool) -> String {
    let names: Vec<&str> = Column::ALL
        .iter()
        .map(|c| if spanish { c.spanish() } else { c.as_str() })
        .collect();
    names.join(if spanish { ";" } else { "," })
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
        assert_eq!(
            Column::from_header("Número de lote"),
            Some(Column::BatchNumber)
        );
        assert_eq!(
            Column::from_header("  NUMERO  DE LOTE "),
            Some(Column::BatchNumber)
        );
        assert_eq!(
            Column::from_header("Viabilidad (%)"),
            Some(Column::ViabilityPercent)
        );
        assert_eq!(
            Column::from_header("vía de acceso"),
            Some(Column::AccessRoute)
        );
        for c in Column::ALL {
            assert_eq!(Column::from_header(c.spanish()), Some(*c));
        }
        assert!(template_header(true).starts_with("número de lote;producto;"));
        assert_eq!(template_header(false).split(',').count(), COLUMN_COUNT);
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
