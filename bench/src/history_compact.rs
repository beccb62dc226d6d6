//! The two shapes of file, and the text of the compact one ([`Shape::Compact`]): one
//! laboratory's codes, as short as a laboratory numbering by hand makes them.

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rand::rngs::StdRng;

use super::{Donor, push_digits};

/// Which realistic file to write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Shape {
    /// Every laboratory's rows merged and shuffled, with long generated batch numbers
    /// (`GRA-UPCIT-2019-00042`), ISBT 128 DINs and frequent notes.
    #[default]
    Spread,
    /// One laboratory, rows in its own order, short codes, few notes.
    Compact,
}

impl Shape {
    pub fn parse(s: &str) -> Result<Shape, String> {
        match s {
            "spread" => Ok(Shape::Spread),
            "compact" => Ok(Shape::Compact),
            other => Err(format!("{other:?}: the shapes are 'spread' and 'compact'")),
        }
    }
}

/// `L` and the year's last two digits, then the serial within the year (`L19004217`): unique
/// within one laboratory, and ascending in the order the laboratory issued them. A serial
/// past 999,999 takes a seventh digit; the year's two digits keep those apart too.
pub(super) fn batch_number(out: &mut String, start: NaiveDate, serial: u32) {
    out.push('L');
    push_digits(out, start.year().rem_euclid(100).unsigned_abs(), 2);
    push_digits(out, serial, 6);
}

/// A hospital pseudonym: `D`, the collection year's last two digits and the donor's sequence
/// within the laboratory and year (`D1900042`). Not a DIN, so no check character.
pub(super) fn donor_code(out: &mut String, donor: &Donor) {
    out.push('D');
    push_digits(
        out,
        donor.collected.year().rem_euclid(100).unsigned_abs(),
        2,
    );
    push_digits(out, donor.number + 1, 5);
}

/// Mostly nothing; otherwise a few words, never needing quotes.
pub(super) fn note(out: &mut String, rng: &mut StdRng) {
    match rng.random_range(0..100) {
        0..85 => {}
        85..95 => out.push_str("Sin incidencias"),
        _ => out.push_str("Conforme"),
    }
}
