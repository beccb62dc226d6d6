//! The text a row is stored as, made on the decoding thread: what both backends write, and
//! what the import's row digest covers.

use super::*;

/// The text of each column of [`BATCH_COLUMNS`] for one batch, as both backends store it:
/// the stated columns' texts one after the other in one string (one allocation per row rather
/// than one per value: the writer frees them all, and freeing was a tenth of its time).
pub(super) struct RowText {
    text: String,
    /// Where each stated column's text is in `text`; `None` for NULL.
    spans: [Option<(u32, u32)>; STATED_COLUMNS],
    pub(super) import_line: i64,
    /// What the import's row digest covers (made here, on the decoding thread).
    pub(super) canonical: String,
}

/// The columns of [`BATCH_COLUMNS`] a row of the file states (the rest the import fills in).
pub(super) const STATED_COLUMNS: usize = 20;

impl RowText {
    pub(super) fn value(&self, i: usize) -> Option<&str> {
        self.spans[i].map(|(from, to)| &self.text[from as usize..to as usize])
    }

    pub(super) fn values(&self) -> impl Iterator<Item = Option<&str>> {
        (0..STATED_COLUMNS).map(|i| self.value(i))
    }
}

/// Builds a [`RowText`] column by column.
pub(super) struct RowTextWriter {
    pub(super) text: String,
    pub(super) spans: [Option<(u32, u32)>; STATED_COLUMNS],
    pub(super) next: usize,
}

impl RowTextWriter {
    /// Ends the column begun at `from` (its text pushed since), or makes it NULL.
    fn end(&mut self, from: usize, present: bool) {
        // A row's text is a few hundred bytes; u32 offsets keep the spans small.
        let to = self.text.len();
        self.spans[self.next] = present.then_some((from as u32, to as u32));
        self.next += 1;
    }

    pub(super) fn text(&mut self, value: Option<&str>) {
        let from = self.text.len();
        if let Some(v) = value {
            self.text.push_str(v);
        }
        self.end(from, value.is_some());
    }

    /// What `%Y-%m-%d` gives (a year of four digits here: the file's dates are checked),
    /// without parsing a format string per value.
    pub(super) fn date(&mut self, day: Option<NaiveDate>) {
        use chrono::Datelike;
        let from = self.text.len();
        if let Some(d) = day {
            let year = d.year();
            if (0..=9999).contains(&year) {
                push_padded(&mut self.text, year.unsigned_abs(), 4);
            } else {
                use std::fmt::Write as _;
                let _ = write!(self.text, "{year:04}");
            }
            self.text.push('-');
            push_padded(&mut self.text, d.month(), 2);
            self.text.push('-');
            push_padded(&mut self.text, d.day(), 2);
        }
        self.end(from, day.is_some());
    }
}

/// `value` in decimal, zero-padded to `width` digits.
fn push_padded(out: &mut String, value: u32, width: usize) {
    let mut digits = [b'0'; 10];
    let (mut n, mut len) = (value, 0);
    while n > 0 || len == 0 {
        digits[len] = b'0' + (n % 10) as u8;
        n /= 10;
        len += 1;
    }
    for _ in len..width {
        out.push('0');
    }
    for &d in digits[..len].iter().rev() {
        out.push(char::from(d));
    }
}

pub(super) fn row_text(b: &Batch) -> RowText {
    let mut w = RowTextWriter {
        text: String::with_capacity(256),
        spans: [None; STATED_COLUMNS],
        next: 0,
    };
    w.text(Some(b.batch_number.as_str()));
    w.text(Some(b.product_code.as_str()));
    w.text(Some(b.lab_code.as_str()));
    w.text(Some(b.origin.as_str()));
    w.text(Some(b.access_route.as_str()));
    w.text(b.trial_id.as_ref().map(|t| t.as_str()));
    w.text(Some(b.donor_code.as_str()));
    w.text(b.patient_code.as_ref().map(|p| p.as_str()));
    w.date(b.collection_date);
    w.date(Some(b.manufacturing_start));
    w.date(b.manufacturing_end);
    w.date(b.expiry_date);
    for d in [b.cell_count, b.viability_percent, b.volume_ml] {
        w.text(dec_text(d).as_deref());
    }
    let from = w.text.len();
    push_padded(&mut w.text, b.doses, 1);
    w.end(from, true);
    w.text(Some(b.status.as_str()));
    w.text(b.released_by.as_deref());
    w.date(b.release_date);
    w.text(b.notes.as_deref());
    debug_assert_eq!(w.next, STATED_COLUMNS);
    let mut r = RowText {
        text: w.text,
        spans: w.spans,
        import_line: b
            .import_line
            .and_then(|l| i64::try_from(l).ok())
            .unwrap_or(0),
        canonical: String::new(),
    };
    let texts: [Option<&str>; STATED_COLUMNS] = std::array::from_fn(|i| r.value(i));
    let canonical = canonical_texts(Table::Batches, &texts);
    r.canonical = canonical;
    r
}
