//! The streaming reader of historical batch files.

use std::borrow::Cow;
use std::io::{self, Cursor, Read};

use super::columns::{COLUMN_COUNT, Column};
use super::encoding::TextEncoding;
use super::errors::{IssueCode, RowError};
use super::row::HistoricalRow;

const BOM: &[u8] = b"\xEF\xBB\xBF";
/// How far the delimiter is looked for: a header is a few hundred bytes, so this only bounds
/// the work on a file that is not CSV at all.
const HEADER_LIMIT: usize = 64 * 1024;
const BUFFER: usize = 64 * 1024;
/// The longest record read. A real one is a few hundred bytes (notes are at most 4,000
/// characters); a longer one is a quote that is never closed swallowing the file, and reading
/// it whole would make memory grow with the file.
const MAX_RECORD_BYTES: u64 = 1024 * 1024;

/// One record of the file: the line it starts on, and the row or everything wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowResult {
    pub line: u64,
    pub outcome: Result<HistoricalRow, Vec<RowError>>,
}

/// What the CSV parser has been given so far: tells where the file ends, and whether its
/// quotes pair up (the `csv` crate reads a quote that is never closed as a field running to
/// the end of the file, and says nothing).
struct Tally<R> {
    inner: R,
    bytes: u64,
    quotes: u64,
    last: Option<u8>,
    at_end: bool,
    /// Where the record being read started; reading stops [`MAX_RECORD_BYTES`] after it.
    record_start: u64,
    overlong: bool,
}

impl<R: Read> Read for Tally<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Failing the read is the only way to stop the parser inside a record.
        if self.bytes.saturating_sub(self.record_start) > MAX_RECORD_BYTES {
            self.overlong = true;
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "record too long",
            ));
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            self.at_end |= !buf.is_empty();
        } else {
            let got = &buf[..n];
            self.bytes += n as u64;
            self.quotes += got.iter().filter(|&&b| b == b'"').count() as u64;
            self.last = got.last().copied();
        }
        Ok(n)
    }
}

type Source<R> = Tally<io::Chain<Cursor<Vec<u8>>, R>>;

/// Reads a historical batch file one record at a time, in constant memory.
///
/// The file may be UTF-8 (with or without a byte order mark) or Windows-1252, delimited by
/// `,`, `;` or tab (whichever the header uses most, outside quotes), with CRLF or LF line
/// ends and quoted fields holding delimiters, doubled quotes and line breaks. Completely
/// empty records (blank lines, and lines of bare delimiters that spreadsheets leave after
/// the data) are skipped. Lone CR line ends (classic Mac OS) are not read as line ends.
pub struct HistoryReader<R: Read> {
    csv: csv::Reader<Source<R>>,
    /// Reused for every record, so reading allocates only what a row keeps.
    record: csv::ByteRecord,
    encoding: TextEncoding,
    delimiter: u8,
    /// Where each column is in a record, or `None` when the file leaves it out.
    positions: [Option<usize>; COLUMN_COUNT],
    width: usize,
    bom: u64,
    /// The first line on which the next record can start.
    next_line: u64,
    finished: bool,
}

impl<R: Read> HistoryReader<R> {
    /// Reads the header. The file is refused, with every problem of the header at once, when
    /// it is empty, or its header names an unknown column, a column twice, or lacks a
    /// required column.
    pub fn new(reader: R, encoding: TextEncoding) -> Result<Self, Vec<RowError>> {
        let (mut reader, line) = Self::open(reader, encoding)?;
        reader.read_header(line)?;
        Ok(reader)
    }

    /// Reads any file as records of text with the same rules (BOM, delimiter, quoting, line
    /// numbers), without judging its header: for handing refused rows back to the user as
    /// they wrote them. Returns the header's names too.
    pub fn raw(reader: R, encoding: TextEncoding) -> Result<(Self, Vec<String>), Vec<RowError>> {
        let (mut reader, _) = Self::open(reader, encoding)?;
        let header = reader
            .record
            .iter()
            .map(|f| reader.encoding.decode_lossy(f).trim().to_owned())
            .collect();
        reader.width = reader.record.len();
        Ok((reader, header))
    }

    /// The next record as text (for a reader made by [`HistoryReader::raw`]), with the line
    /// it starts on.
    pub fn next_raw(&mut self) -> Option<Result<(u64, Vec<String>), RowError>> {
        let line = match self.read_record()? {
            Ok(line) => line,
            Err(error) => return Some(Err(error)),
        };
        let fields = self
            .record
            .iter()
            .map(|f| self.encoding.decode_lossy(f).trim().to_owned())
            .collect();
        Some(Ok((line, fields)))
    }

    /// Sniffs the delimiter and reads the first record; returns its line.
    fn open(mut reader: R, encoding: TextEncoding) -> Result<(Self, u64), Vec<RowError>> {
        let (start, sniffed) =
            read_first_line(&mut reader).map_err(|e| vec![read_failed(1, &e)])?;
        let bom = if start.starts_with(BOM) { 3 } else { 0 };
        if !sniffed.found {
            return Err(vec![empty_file()]);
        }
        let mut head = Cursor::new(start);
        head.set_position(bom);
        let source = Tally {
            inner: head.chain(reader),
            bytes: 0,
            quotes: 0,
            last: None,
            at_end: false,
            record_start: 0,
            overlong: false,
        };
        let csv = csv::ReaderBuilder::new()
            .delimiter(sniffed.delimiter)
            .has_headers(false)
            .flexible(true)
            // Only LF ends a record: a CR before it stays at the end of the last field, where
            // trimming removes it. This keeps each record's line count exact (see
            // `record_start_line`); the crate's own line numbers drift on CRLF files.
            .terminator(csv::Terminator::Any(b'\n'))
            .buffer_capacity(BUFFER)
            .from_reader(source);
        let mut reader = HistoryReader {
            csv,
            record: csv::ByteRecord::new(),
            encoding,
            delimiter: sniffed.delimiter,
            positions: [None; COLUMN_COUNT],
            width: 0,
            bom,
            next_line: 1,
            finished: false,
        };
        let line = match reader.read_record() {
            Some(Ok(line)) => line,
            Some(Err(error)) => return Err(vec![error]),
            // Only blank records, such as a line of bare delimiters.
            None => return Err(vec![empty_file()]),
        };
        Ok((reader, line))
    }

    /// The next record, or `None` at the end of the file (and after a read error, which is
    /// reported as the last record).
    pub fn next_row(&mut self) -> Option<RowResult> {
        let line = match self.read_record()? {
            Ok(line) => line,
            Err(error) => {
                return Some(RowResult {
                    line: error.line,
                    outcome: Err(vec![error]),
                });
            }
        };
        Some(RowResult {
            line,
            outcome: self.decode(line),
        })
    }

    /// Bytes of the file read so far, for a progress bar.
    pub fn position_bytes(&self) -> u64 {
        self.bom + self.csv.position().byte()
    }

    /// The delimiter the header uses.
    pub fn delimiter(&self) -> u8 {
        self.delimiter
    }

    pub fn encoding(&self) -> TextEncoding {
        self.encoding
    }

    /// Reads the next record that is not completely empty into `self.record`, returning the
    /// line it starts on.
    fn read_record(&mut self) -> Option<Result<u64, RowError>> {
        loop {
            if self.finished {
                return None;
            }
            match self.csv.read_byte_record(&mut self.record) {
                Ok(true) => {}
                Ok(false) => {
                    self.finished = true;
                    return None;
                }
                Err(_) if self.csv.get_ref().overlong => {
                    self.finished = true;
                    return Some(Err(RowError::new(
                        self.next_line,
                        None,
                        IssueCode::MalformedCsv,
                        format!(
                            "the record that starts here runs on for more than {} MiB; a quoted field in it is probably never closed (a quote inside a quoted field is written twice)",
                            MAX_RECORD_BYTES / (1024 * 1024)
                        ),
                    )));
                }
                Err(e) => {
                    // Whatever follows a failed read is unknown; the file must be read again.
                    self.finished = true;
                    return Some(Err(read_failed(self.next_line, &e)));
                }
            }
            let line = self.record_start_line();
            self.next_line = self.csv.position().line();
            let end = self.csv.position().byte();
            self.csv.get_mut().record_start = end;
            if self
                .record
                .iter()
                .all(|field| field.trim_ascii().is_empty())
            {
                continue;
            }
            let source = self.csv.get_ref();
            if self.ended_at_end_of_file() && source.quotes % 2 == 1 {
                self.finished = true;
                return Some(Err(RowError::new(
                    line,
                    None,
                    IssueCode::MalformedCsv,
                    "a quoted field in this record is never closed, so the rest of the file was read into it; close the quote (a quote inside a quoted field is written twice)",
                )));
            }
            return Some(Ok(line));
        }
    }

    fn ended_at_end_of_file(&self) -> bool {
        let source = self.csv.get_ref();
        source.at_end && self.csv.position().byte() == source.bytes
    }

    /// The line on which the record just read starts. The parser counts every LF it has
    /// consumed; the record's own are those inside its quoted fields and the one that ended
    /// it (absent only at the end of a file without a final line end). Blank lines skipped
    /// before the record are therefore counted where they belong.
    fn record_start_line(&self) -> u64 {
        let inside = self
            .record
            .as_slice()
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        let ended_by_line_feed =
            !self.ended_at_end_of_file() || self.csv.get_ref().last == Some(b'\n');
        let line = self
            .csv
            .position()
            .line()
            .saturating_sub(inside + u64::from(ended_by_line_feed));
        // Only wrong for an unclosed quote at the end of the file, whose LFs all look like
        // the field's; the record cannot start before the line where the previous one ended.
        line.max(self.next_line)
    }

    fn read_header(&mut self, line: u64) -> Result<(), Vec<RowError>> {
        let mut errors = Vec::new();
        for (i, raw) in self.record.iter().enumerate() {
            let decoded = self.encoding.decode_lossy(raw);
            let name = decoded.trim();
            match Column::from_header(name) {
                Some(column) => match self.positions[column.index()] {
                    Some(first) => errors.push(RowError::new(
                        line,
                        Some(column.as_str()),
                        IssueCode::DuplicateColumn,
                        format!(
                            "column {column} appears twice in the header (columns {} and {})",
                            first + 1,
                            i + 1
                        ),
                    )),
                    None => self.positions[column.index()] = Some(i),
                },
                None if name.is_empty() => errors.push(RowError::new(
                    line,
                    None,
                    IssueCode::UnknownColumn,
                    format!("column {} of the header has no name", i + 1),
                )),
                None => errors.push(RowError::new(
                    line,
                    Some(name),
                    IssueCode::UnknownColumn,
                    format!(
                        "unknown column '{name}'; the columns are: {}",
                        super::EXPORT_COLUMNS.join(", ")
                    ),
                )),
            }
        }
        for column in Column::ALL.iter().filter(|c| c.is_required()) {
            if self.positions[column.index()].is_none() {
                errors.push(RowError::new(
                    line,
                    Some(column.as_str()),
                    IssueCode::MissingColumn,
                    format!("the header lacks the required column {column}"),
                ));
            }
        }
        self.width = self.record.len();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn decode(&self, line: u64) -> Result<HistoricalRow, Vec<RowError>> {
        if self.record.len() != self.width {
            return Err(vec![RowError::new(
                line,
                None,
                IssueCode::WrongFieldCount,
                format!(
                    "the record has {} fields, but the header has {}",
                    self.record.len(),
                    self.width
                ),
            )]);
        }
        // A UTF-8 record is validated once, whole; a field is then valid exactly when its
        // ends fall on character boundaries, which `str::get` checks.
        if self.encoding == TextEncoding::Utf8
            && let Ok(whole) = std::str::from_utf8(self.record.as_slice())
        {
            let mut fields = [""; COLUMN_COUNT];
            let mut all_valid = true;
            for column in Column::ALL {
                if let Some(i) = self.positions[column.index()] {
                    match self.record.range(i).and_then(|range| whole.get(range)) {
                        Some(text) => fields[column.index()] = text,
                        None => all_valid = false,
                    }
                }
            }
            if all_valid {
                return HistoricalRow::decode(line, &fields);
            }
        }
        let mut errors = Vec::new();
        // One bit per column whose bytes did not decode; its parse errors would only repeat
        // the encoding error.
        let mut undecodable = 0u32;
        let mut texts: [Cow<'_, str>; COLUMN_COUNT] = Default::default();
        for column in Column::ALL {
            let Some(bytes) = self.positions[column.index()].and_then(|i| self.record.get(i))
            else {
                continue;
            };
            texts[column.index()] = match self.encoding.decode(bytes) {
                Some(text) => text,
                None => {
                    undecodable |= 1 << column.index();
                    errors.push(RowError::new(
                        line,
                        Some(column.as_str()),
                        IssueCode::InvalidEncoding,
                        format!(
                            "{column} is not valid UTF-8; if the file was saved as Windows-1252 (\"ANSI\"), import it with that encoding"
                        ),
                    ));
                    self.encoding.decode_lossy(bytes)
                }
            };
        }
        let fields: [&str; COLUMN_COUNT] = std::array::from_fn(|i| texts[i].as_ref());
        match HistoricalRow::decode(line, &fields) {
            Ok(row) if errors.is_empty() => Ok(row),
            Ok(_) => Err(errors),
            Err(found) => {
                errors.extend(found.into_iter().filter(|e| {
                    e.column
                        .as_deref()
                        .and_then(Column::from_header)
                        .is_none_or(|c| undecodable & (1 << c.index()) == 0)
                }));
                Err(errors)
            }
        }
    }
}

impl<R: Read> Iterator for HistoryReader<R> {
    type Item = RowResult;

    fn next(&mut self) -> Option<RowResult> {
        self.next_row()
    }
}

fn empty_file() -> RowError {
    RowError::new(
        1,
        None,
        IssueCode::EmptyFile,
        "the file is empty; it needs a header line naming its columns",
    )
}

fn read_failed(line: u64, error: &dyn std::fmt::Display) -> RowError {
    RowError::new(
        line,
        None,
        IssueCode::ReadFailed,
        format!("the file could not be read: {error}"),
    )
}

/// What the first line with content says about the file.
#[derive(Debug, PartialEq, Eq)]
struct Sniffed {
    /// A line with content was seen (else the file is empty).
    found: bool,
    delimiter: u8,
}

/// Reads from the start of the file through the end of its first line with content (or
/// [`HEADER_LIMIT`] bytes, or the whole file if shorter), and sniffs its delimiter. The bytes
/// read are returned, for the CSV parser to read again.
fn read_first_line(reader: &mut impl Read) -> io::Result<(Vec<u8>, Sniffed)> {
    let mut start = Vec::new();
    let mut chunk = [0u8; 8 * 1024];
    loop {
        let body = start.strip_prefix(BOM).unwrap_or(&start);
        let (complete, sniffed) = sniff(body);
        if complete || start.len() >= HEADER_LIMIT {
            return Ok((start, sniffed));
        }
        match reader.read(&mut chunk) {
            Ok(0) => {
                let body = start.strip_prefix(BOM).unwrap_or(&start);
                let (_, sniffed) = sniff(body);
                return Ok((start, sniffed));
            }
            Ok(n) => start.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Counts `,` `;` and tab outside quotes on the first line that has content, and picks the
/// most frequent (`,` on a tie or when there is none: a one-column header). `true` once
/// that line has ended.
fn sniff(bytes: &[u8]) -> (bool, Sniffed) {
    let mut counts = [0usize; 3];
    let mut in_quotes = false;
    let mut content = false;
    let pick = |counts: [usize; 3]| {
        let [comma, semicolon, tab] = counts;
        if semicolon > comma && semicolon >= tab {
            b';'
        } else if tab > comma && tab > semicolon {
            b'\t'
        } else {
            b','
        }
    };
    for &b in bytes {
        match b {
            b'"' => {
                in_quotes = !in_quotes;
                content = true;
            }
            _ if in_quotes => {}
            b'\n' if content => {
                let sniffed = Sniffed {
                    found: true,
                    delimiter: pick(counts),
                };
                return (true, sniffed);
            }
            // A blank line before the header: start again.
            b'\n' => counts = [0; 3],
            b',' => {
                counts[0] += 1;
                content = true;
            }
            b';' => {
                counts[1] += 1;
                content = true;
            }
            b'\t' => counts[2] += 1,
            b' ' | b'\r' => {}
            _ => content = true,
        }
    }
    let sniffed = Sniffed {
        found: content,
        delimiter: pick(counts),
    };
    (false, sniffed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delimiter(header: &str) -> u8 {
        let (complete, sniffed) = sniff(header.as_bytes());
        assert!(complete, "{header:?}");
        sniffed.delimiter
    }

    #[test]
    fn the_most_used_delimiter_outside_quotes_wins() {
        assert_eq!(delimiter("batch_number,product_code;x\n"), b',');
        assert_eq!(delimiter("batch_number;product_code;lab_code\n"), b';');
        assert_eq!(delimiter("batch_number\tproduct_code\r\n"), b'\t');
        assert_eq!(delimiter("\"a;b;c\",d,e\n"), b',');
        assert_eq!(delimiter("batch_number\n"), b',');
        // The header is the first line with content; blank lines before it do not count.
        assert_eq!(delimiter("\t\n\r\n a;b\n"), b';');
    }

    #[test]
    fn a_header_without_a_line_end_is_the_whole_file() {
        let (complete, sniffed) = sniff(b"a;b;c");
        assert!(!complete);
        assert_eq!(
            sniffed,
            Sniffed {
                found: true,
                delimiter: b';'
            }
        );
        assert!(!sniff(b" \r\n\n ").1.found);
    }
}
