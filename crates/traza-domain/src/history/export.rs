//! The export: the import's columns in one canonical spelling (UTF-8, `,`, LF, ISO dates,
//! decimal point, normalised decimals, English vocabulary, empty for absent), so that
//! exporting, importing into an empty database and exporting again gives the same bytes
//! (SPEC §4), and a diff of two exports shows only what changed. A field that a spreadsheet
//! would run as a formula is escaped (see `formula`).

use std::fmt::{self, Write as _};
use std::io;

use rust_decimal::Decimal;

use super::columns::{COLUMN_COUNT, Column};
use super::formula::escape_formula;
use crate::batch::Batch;

/// The export's header, in SPEC §4 order.
pub const EXPORT_COLUMNS: [&str; COLUMN_COUNT] = {
    let mut names = [""; COLUMN_COUNT];
    let mut i = 0;
    while i < COLUMN_COUNT {
        names[i] = Column::ALL[i].as_str();
        i += 1;
    }
    names
};

/// A CSV writer in the export's dialect. No byte order mark: tools that load CSV into
/// databases (`psql \copy`, `sqlite3 .import`) would take it for part of the first name.
pub fn export_writer<W: io::Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .delimiter(b',')
        .terminator(csv::Terminator::Any(b'\n'))
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(out)
}

pub fn write_export_header<W: io::Write>(w: &mut csv::Writer<W>) -> csv::Result<()> {
    w.write_record(EXPORT_COLUMNS)
}

/// Writes one batch. Formats into a stack buffer: an export of a million batches allocates
/// nothing per row (only a field that must be escaped against formulas is copied).
pub fn write_export_row<W: io::Write>(w: &mut csv::Writer<W>, batch: &Batch) -> csv::Result<()> {
    let mut buf = Scratch::default();
    field(w, batch.batch_number.as_str())?;
    field(w, batch.product_code.as_str())?;
    field(w, batch.lab_code.as_str())?;
    field(w, batch.origin.as_str())?;
    field(w, batch.donor_code.as_str())?;
    field(w, batch.patient_code.as_ref().map_or("", |p| p.as_str()))?;
    field(w, buf.optional(batch.collection_date))?;
    field(w, buf.show(batch.manufacturing_start))?;
    field(w, buf.optional(batch.manufacturing_end))?;
    field(w, buf.optional(batch.expiry_date))?;
    field(w, batch.status.as_str())?;
    field(w, buf.decimal(batch.cell_count))?;
    field(w, buf.decimal(batch.viability_percent))?;
    field(w, buf.decimal(batch.volume_ml))?;
    field(w, buf.show(batch.doses))?;
    field(w, batch.released_by.as_deref().unwrap_or(""))?;
    field(w, buf.optional(batch.release_date))?;
    field(w, batch.access_route.as_str())?;
    field(w, batch.trial_id.as_ref().map_or("", |t| t.as_str()))?;
    field(w, batch.notes.as_deref().unwrap_or(""))?;
    w.write_record(None::<&[u8]>)
}

/// Writes one stored batch from the text of its columns, in export order (`None` for an empty
/// column): the export's fast path, which reads the database's text straight into the file
/// without making a [`Batch`] of each row. What the store holds is already this file's
/// spelling (it writes only values made by this crate: ISO dates, English words, normalised
/// decimals), so a field is written as it is, escaped against formulas as every field is;
/// only a decimal is normalised again, should one be stored with trailing zeros.
pub fn write_stored_row<W: io::Write>(
    w: &mut csv::Writer<W>,
    texts: &[Option<&str>; COLUMN_COUNT],
) -> csv::Result<()> {
    let mut buf = Scratch::default();
    for (column, text) in Column::ALL.iter().zip(texts) {
        let text = text.unwrap_or("");
        match column {
            Column::CellCount | Column::ViabilityPercent | Column::VolumeMl
                if !is_normal_decimal(text) =>
            {
                match text.parse::<Decimal>() {
                    Ok(d) => field(w, buf.decimal(Some(d)))?,
                    // Not a number at all (changed outside Traza): written as stored.
                    Err(_) => field(w, text)?,
                }
            }
            _ => field(w, text)?,
        }
    }
    w.write_record(None::<&[u8]>)
}

/// Whether `text` is spelled as `Decimal::normalize` spells a value: no sign, no trailing
/// zero after the point, no point without digits after it.
fn is_normal_decimal(text: &str) -> bool {
    !text.starts_with('-') && !(text.contains('.') && (text.ends_with('0') || text.ends_with('.')))
}

/// Every field goes through the formula escape (see `formula` for why every one).
fn field<W: io::Write>(w: &mut csv::Writer<W>, value: impl AsRef<[u8]>) -> csv::Result<()> {
    w.write_field(escape_formula(value.as_ref()))
}

/// A reusable text buffer on the stack, long enough for any date, count or `Decimal`
/// (at most 29 digits, a sign and a point).
struct Scratch {
    bytes: [u8; 48],
    len: usize,
}

impl Default for Scratch {
    fn default() -> Self {
        Self {
            bytes: [0; 48],
            len: 0,
        }
    }
}

impl fmt::Write for Scratch {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let room = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        room.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl Scratch {
    fn show(&mut self, value: impl fmt::Display) -> &[u8] {
        self.len = 0;
        // Cannot overflow: every value shown here fits in the buffer.
        let _ = write!(self, "{value}");
        &self.bytes[..self.len]
    }

    fn optional(&mut self, value: Option<impl fmt::Display>) -> &[u8] {
        match value {
            Some(value) => self.show(value),
            None => b"",
        }
    }

    /// Normalised, so that a value stored as `0.100000` (PostgreSQL's `NUMERIC` scale)
    /// exports as `0.1`, like the same value stored on SQLite.
    fn decimal(&mut self, value: Option<Decimal>) -> &[u8] {
        self.optional(value.map(|d| d.normalize()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_the_spec_order() {
        assert_eq!(
            EXPORT_COLUMNS.join(","),
            "batch_number,product_code,lab_code,origin,donor_code,patient_code,collection_date,\
             manufacturing_start,manufacturing_end,expiry_date,status,cell_count,\
             viability_percent,volume_ml,doses,released_by,release_date,access_route,trial_id,notes"
        );
    }

    /// The fast path writes the same bytes as the one through [`Batch`], for a batch with
    /// every column filled, one with the optional ones empty, and a note that is a formula.
    #[test]
    fn a_stored_row_is_written_as_its_batch_is() {
        use crate::batch::tests::batch;
        use crate::vocab::{BatchStatus, Origin};
        fn texts_of(b: &Batch) -> Vec<Option<String>> {
            let show = |d: Option<Decimal>| d.map(|d| d.normalize().to_string());
            vec![
                Some(b.batch_number.as_str().to_owned()),
                Some(b.product_code.as_str().to_owned()),
                Some(b.lab_code.as_str().to_owned()),
                Some(b.origin.as_str().to_owned()),
                Some(b.donor_code.as_str().to_owned()),
                b.patient_code.as_ref().map(|p| p.as_str().to_owned()),
                b.collection_date.map(|d| d.to_string()),
                Some(b.manufacturing_start.to_string()),
                b.manufacturing_end.map(|d| d.to_string()),
                b.expiry_date.map(|d| d.to_string()),
                Some(b.status.as_str().to_owned()),
                show(b.cell_count),
                show(b.viability_percent),
                show(b.volume_ml),
                Some(b.doses.to_string()),
                b.released_by.clone(),
                b.release_date.map(|d| d.to_string()),
                Some(b.access_route.as_str().to_owned()),
                b.trial_id.as_ref().map(|t| t.as_str().to_owned()),
                b.notes.clone(),
            ]
        }
        let full = Batch {
            notes: Some("=HYPERLINK(\"x\"), \"quoted\"\nsecond line".to_owned()),
            ..batch(Origin::Autologous, BatchStatus::Released)
        };
        let sparse = Batch {
            collection_date: None,
            manufacturing_end: None,
            expiry_date: None,
            cell_count: None,
            viability_percent: None,
            volume_ml: None,
            ..batch(Origin::Allogeneic, BatchStatus::InProduction)
        };
        for b in [full, sparse] {
            let mut through_batch = export_writer(Vec::new());
            write_export_row(&mut through_batch, &b).unwrap();
            let owned = texts_of(&b);
            let texts: [Option<&str>; COLUMN_COUNT] = std::array::from_fn(|i| owned[i].as_deref());
            let mut stored = export_writer(Vec::new());
            write_stored_row(&mut stored, &texts).unwrap();
            assert_eq!(
                String::from_utf8(stored.into_inner().unwrap()).unwrap(),
                String::from_utf8(through_batch.into_inner().unwrap()).unwrap()
            );
        }
    }

    #[test]
    fn a_stored_decimal_with_trailing_zeros_is_normalised() {
        let mut texts: [Option<&str>; COLUMN_COUNT] = [None; COLUMN_COUNT];
        texts[Column::CellCount.index()] = Some("1500000.000");
        texts[Column::ViabilityPercent.index()] = Some("92.50");
        texts[Column::VolumeMl.index()] = Some("10.");
        texts[Column::Notes.index()] = Some("2.50");
        let mut w = export_writer(Vec::new());
        write_stored_row(&mut w, &texts).unwrap();
        let line = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert_eq!(line, ",,,,,,,,,,,1500000,92.5,10,,,,,,2.50\n");
        assert!(is_normal_decimal("92.5") && is_normal_decimal("10") && !is_normal_decimal("-0"));
    }

    #[test]
    fn scratch_fits_the_longest_decimal() {
        let mut scratch = Scratch::default();
        assert_eq!(
            scratch.decimal(Some(Decimal::MIN)),
            Decimal::MIN.to_string().as_bytes()
        );
        let tiny = Decimal::new(-1, 28);
        assert_eq!(
            scratch.decimal(Some(tiny)),
            b"-0.0000000000000000000000000001"
        );
        assert_eq!(scratch.decimal(Some(Decimal::new(100_000, 6))), b"0.1");
        // A number in the export never starts with '-', which would be escaped as a formula:
        // the batch rules refuse negative amounts, and a negative zero is written as 0.
        assert_eq!(scratch.decimal(Some(-Decimal::new(0, 3))), b"0");
        assert_eq!(scratch.decimal(None), b"");
    }
}
