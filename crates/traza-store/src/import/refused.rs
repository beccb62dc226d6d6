//! The refused rows of a file, written back as CSV with the reason of each.

use super::*;

/// The refused rows as the user wrote them (the file's own columns, decoded to UTF-8, in its
/// delimiter) followed by `line`, `error_code` and `error_message`: open it in Excel, fix the
/// rows, import again. One row per refused record; its errors joined. UTF-8 with a BOM so
/// that Excel reads the accents right. Problems of the header (line 1) come first, with
/// empty original columns.
pub fn write_refused_rows<W: io::Write>(
    mut out: W,
    source: &Path,
    report: &ImportReport,
) -> io::Result<()> {
    use std::collections::BTreeMap;
    let mut by_line: BTreeMap<u64, Vec<&RowError>> = BTreeMap::new();
    for e in &report.errors {
        by_line.entry(e.line).or_default().push(e);
    }
    let encoding: TextEncoding = report.encoding.parse().unwrap_or(TextEncoding::Utf8);
    let file = File::open(source)?;
    let raw = HistoryReader::raw(BufReader::new(file), encoding);
    let (mut reader, header, delimiter) = match raw {
        Ok((reader, header)) => {
            let d = reader.delimiter();
            (Some(reader), header, d)
        }
        Err(_) => (None, Vec::new(), b','),
    };
    out.write_all(b"\xEF\xBB\xBF")?;
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_writer(out);
    let mut head = header.clone();
    head.extend(["line", "error_code", "error_message"].map(str::to_owned));
    w.write_record(&head).map_err(io::Error::other)?;
    let width = header.len();
    refused_row(&mut w, &mut by_line, width, 1, Vec::new())?;
    if let Some(reader) = reader.as_mut() {
        while !by_line.is_empty() {
            match reader.next_raw() {
                Some(Ok((line, fields))) => refused_row(&mut w, &mut by_line, width, line, fields)?,
                Some(Err(e)) => refused_row(&mut w, &mut by_line, width, e.line, Vec::new())?,
                None => break,
            }
        }
    }
    // Whatever the second reading did not reach (it cannot, after a broken quote).
    let rest: Vec<u64> = by_line.keys().copied().collect();
    for line in rest {
        refused_row(&mut w, &mut by_line, width, line, Vec::new())?;
    }
    w.flush()?;
    Ok(())
}

/// Writes the record of `line` with its errors, if it has any.
pub(super) fn refused_row<W: io::Write>(
    w: &mut csv::Writer<W>,
    by_line: &mut std::collections::BTreeMap<u64, Vec<&RowError>>,
    width: usize,
    line: u64,
    mut fields: Vec<String>,
) -> io::Result<()> {
    let Some(errors) = by_line.remove(&line) else {
        return Ok(());
    };
    fields.resize(width, String::new());
    fields.push(line.to_string());
    fields.push(
        errors
            .iter()
            .map(|e| e.code.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    );
    fields.push(
        errors
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>()
            .join("; "),
    );
    w.write_record(&fields).map_err(io::Error::other)
}
