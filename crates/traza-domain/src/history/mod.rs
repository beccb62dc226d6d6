//! Historical batch records in CSV files (SPEC §4): decoding files as laboratories have them,
//! checking every row against the rules a batch made in Traza obeys, and writing the export
//! that reads back to the same bytes.
//!
//! Everything here is pure and streaming: [`HistoryReader`] holds one record at a time, so a
//! file of a million rows needs no more memory than a file of ten. The store drives it row by
//! row and adds what only the database knows (duplicates within the file, stored batches, the
//! importing user's scope) with the constructors on [`RowError`].
//!
//! ```
//! use traza_domain::history::{HistoryReader, TextEncoding};
//!
//! let file = "lote;produkt;x\n";
//! let refused = HistoryReader::new(file.as_bytes(), TextEncoding::Utf8).err().unwrap();
//! // Every header problem at once: three unknown names and seven missing required columns.
//! assert_eq!(refused.len(), 10);
//! ```

mod checks;
mod columns;
mod encoding;
mod errors;
mod export;
mod formula;
mod reader;
mod row;
pub mod values;

pub use checks::{check_against_network, resolved_route};
pub use columns::{COLUMN_COUNT, Column, template_header};
pub use encoding::{TextEncoding, UnknownEncoding, detect_encoding};
pub use errors::{IssueCode, RowError, RowWarning};
pub use export::{
    EXPORT_COLUMNS, export_writer, write_export_header, write_export_row, write_stored_row,
};
pub use formula::{escape_formula, unescape_formula};
pub use reader::{HistoryReader, RowResult};
pub use row::{HistoricalRow, differing_columns};

#[cfg(test)]
mod tests;
