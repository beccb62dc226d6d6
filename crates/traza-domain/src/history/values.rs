//! Values as spreadsheets write them. Spanish Excel writes `1.250.000,5` and `1,25E+08`,
//! dates day first, and lets people type `autólogo` or `Liberado`; the API's strict forms
//! (`validation::decimal`, the vocabularies' `FromStr`) would refuse all of that.
//!
//! Each parser takes the raw field; surrounding spaces are layout, not content, and are
//! trimmed. Empty means absent for optional values (`Ok(None)`).

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::vocab::{AccessRoute, BatchStatus, Origin, UnknownValue};

/// The largest mantissa a `Decimal` holds (96 bits).
const MAX_MANTISSA: u128 = (1 << 96) - 1;
/// The most decimal places a `Decimal` holds.
const MAX_SCALE: i64 = 28;

/// An exact decimal in any of the forms laboratories' files use.
///
/// - decimal comma or decimal point: `92,5`, `92.5`;
/// - thousands grouped with `.` beside a decimal comma: `1.250.000,5`;
/// - scientific notation with either separator: `1,25E+08`, `1.25e8`.
///
/// `.` is ambiguous (`1.250` is 1.25 to an English spreadsheet and 1250 to a Spanish one), so
/// the rule is fixed: if there is a comma, it is the decimal separator and every `.` must
/// separate groups of exactly three digits; with no comma, one `.` is the decimal point and
/// several `.` are thousands separators (validated the same way). Scientific notation is
/// computed exactly on the digits, never through a float; a value a `Decimal` cannot hold
/// exactly (more than 28 significant digits or decimal places) is refused, not rounded.
/// The result is normalised (`1,50` is `1.5`).
pub fn parse_decimal(raw: &str) -> Result<Option<Decimal>, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let not_a_number = || format!("'{s}' is not a number");
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(at) => (
            &s[..at],
            parse_exponent(&s[at + 1..]).ok_or_else(not_a_number)?,
        ),
        None => (s, 0),
    };
    let (negative, unsigned) = match mantissa.as_bytes().first() {
        Some(b'-') => (true, &mantissa[1..]),
        Some(b'+') => (false, &mantissa[1..]),
        _ => (false, mantissa),
    };
    let (whole, fraction) = split_decimal(unsigned).map_err(|why| format!("'{s}' {why}"))?;

    let too_many_digits =
        || format!("'{s}' has more digits than can be stored exactly (at most {MAX_SCALE})");
    let mut digits: u128 = 0;
    for b in whole.bytes().filter(|&b| b != b'.').chain(fraction.bytes()) {
        if !b.is_ascii_digit() {
            return Err(not_a_number());
        }
        digits = digits
            .checked_mul(10)
            .and_then(|d| d.checked_add(u128::from(b - b'0')))
            .ok_or_else(too_many_digits)?;
    }
    if digits == 0 {
        return Ok(Some(Decimal::ZERO));
    }

    // The value is digits × 10^-scale; scaling by the exponent moves only the scale.
    let fraction_len = i64::try_from(fraction.len()).map_err(|_| too_many_digits())?;
    let mut scale = fraction_len - exponent;
    while scale < 0 {
        digits = digits
            .checked_mul(10)
            .filter(|d| *d <= MAX_MANTISSA)
            .ok_or_else(|| format!("'{s}' is too large to store exactly"))?;
        scale += 1;
    }
    // Trailing zeros carry no value, so they may go when they are all that does not fit.
    while (scale > MAX_SCALE || digits > MAX_MANTISSA) && scale > 0 && digits.is_multiple_of(10) {
        digits /= 10;
        scale -= 1;
    }
    if scale > MAX_SCALE || digits > MAX_MANTISSA {
        return Err(if scale == 0 {
            format!("'{s}' is too large to store exactly")
        } else {
            too_many_digits()
        });
    }
    let magnitude = i128::try_from(digits).map_err(|_| too_many_digits())?;
    let scale = u32::try_from(scale).map_err(|_| too_many_digits())?;
    let value =
        Decimal::try_from_i128_with_scale(if negative { -magnitude } else { magnitude }, scale)
            .map_err(|_| too_many_digits())?;
    Ok(Some(value.normalize()))
}

/// The exponent after `e`: an optional sign and digits. Saturates far beyond any exponent a
/// `Decimal` can take, so that `1E+99999999999` is "too large" rather than "not a number".
fn parse_exponent(s: &str) -> Option<i64> {
    let (sign, digits) = match s.as_bytes().first() {
        Some(b'-') => (-1, &s[1..]),
        Some(b'+') => (1, &s[1..]),
        _ => (1, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude = digits.bytes().fold(0i64, |acc, b| {
        (acc * 10 + i64::from(b - b'0')).min(1_000_000)
    });
    Some(sign * magnitude)
}

/// Splits an unsigned mantissa into its whole part (still holding any thousands dots) and
/// its fraction digits, applying the separator rule of [`parse_decimal`].
fn split_decimal(body: &str) -> Result<(&str, &str), &'static str> {
    let (whole, fraction) = if let Some(comma) = body.find(',') {
        let (whole, fraction) = (&body[..comma], &body[comma + 1..]);
        if fraction.contains(',') {
            return Err(
                "has more than one ','; write the decimal comma once and group thousands with '.'",
            );
        }
        if fraction.contains('.') {
            return Err("has a '.' after the decimal comma");
        }
        check_thousands(whole)?;
        (whole, fraction)
    } else {
        match body.bytes().filter(|&b| b == b'.').count() {
            0 => return non_empty(body).map(|whole| (whole, "")),
            1 => body.split_once('.').unwrap_or((body, "")),
            _ => {
                check_thousands(body)?;
                return Ok((body, ""));
            }
        }
    };
    if whole.is_empty() || fraction.is_empty() {
        return Err("needs digits on both sides of its decimal separator");
    }
    Ok((whole, fraction))
}

fn non_empty(s: &str) -> Result<&str, &'static str> {
    if s.is_empty() {
        Err("has no digits")
    } else {
        Ok(s)
    }
}

/// `.` as a thousands separator: a first group of 1-3 digits, then groups of exactly 3.
fn check_thousands(whole: &str) -> Result<(), &'static str> {
    let mut groups = whole.split('.');
    let first = groups.next().unwrap_or("");
    let is_digits = |g: &str| g.bytes().all(|b| b.is_ascii_digit());
    let well_grouped = (1..=3).contains(&first.len())
        && is_digits(first)
        && groups.all(|g| g.len() == 3 && is_digits(g));
    if whole.contains('.') && !well_grouped {
        return Err("groups its digits wrongly: '.' separates thousands, in groups of three");
    }
    Ok(())
}

/// A date as `YYYY-MM-DD` or `dd/mm/yyyy`, always day first (`3/4/2020` is 3 April: a
/// Spanish file never puts the month first), with a four-digit year between 1900 and 2099
/// (catches `0219` for `2019`). Dates that are not in the calendar (`31/02/2020`) are refused.
pub fn parse_date(raw: &str) -> Result<Option<NaiveDate>, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let (year, month, day) = iso_date(s).or_else(|| day_first_date(s)).ok_or_else(|| {
        format!("'{s}' is not a date; write YYYY-MM-DD or dd/mm/yyyy (day first)")
    })?;
    if !(1900..=2099).contains(&year) {
        return Err(format!("'{s}' has a year outside 1900 to 2099"));
    }
    NaiveDate::from_ymd_opt(year, month, day)
        .map(Some)
        .ok_or_else(|| format!("'{s}' is not a day of the calendar"))
}

/// The value of 1 to 4 ASCII digits.
fn small_number(s: &str, lengths: std::ops::RangeInclusive<usize>) -> Option<u32> {
    if !lengths.contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(
        s.bytes()
            .fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0')),
    )
}

fn iso_date(s: &str) -> Option<(i32, u32, u32)> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = small_number(s.get(0..4)?, 4..=4)?;
    let month = small_number(s.get(5..7)?, 2..=2)?;
    let day = small_number(s.get(8..10)?, 2..=2)?;
    Some((i32::try_from(year).ok()?, month, day))
}

fn day_first_date(s: &str) -> Option<(i32, u32, u32)> {
    let mut parts = s.split('/');
    let day = small_number(parts.next()?, 1..=2)?;
    let month = small_number(parts.next()?, 1..=2)?;
    let year = small_number(parts.next()?, 4..=4)?;
    if parts.next().is_some() {
        return None;
    }
    Some((i32::try_from(year).ok()?, month, day))
}

/// Folds a vocabulary word as people type it: ASCII lower case, without the accents Spanish
/// uses (`á é í ó ú ü`), and with spaces and hyphens read as `_` (`En Producción` is
/// `en_produccion`). `None` for anything longer than any word, or with other characters.
fn fold_word<'b>(s: &str, buf: &'b mut [u8; 32]) -> Option<&'b str> {
    let mut len = 0;
    let mut after_separator = true;
    for c in s.trim().chars() {
        let folded = match c {
            'a'..='z' | '0'..='9' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            'á' | 'Á' => 'a',
            'é' | 'É' => 'e',
            'í' | 'Í' => 'i',
            'ó' | 'Ó' => 'o',
            'ú' | 'Ú' | 'ü' | 'Ü' => 'u',
            ' ' | '-' | '_' => {
                if after_separator {
                    continue;
                }
                after_separator = true;
                '_'
            }
            _ => return None,
        };
        if folded != '_' {
            after_separator = false;
        }
        *buf.get_mut(len)? = u8::try_from(folded).ok()?;
        len += 1;
    }
    while len > 0 && buf[len - 1] == b'_' {
        len -= 1;
    }
    std::str::from_utf8(&buf[..len]).ok()
}

fn vocabulary_word<T>(
    raw: &str,
    kind: &'static str,
    expected: &'static [&'static str],
    word: impl FnOnce(&str) -> Option<T>,
) -> Result<T, UnknownValue> {
    let mut buf = [0u8; 32];
    fold_word(raw, &mut buf)
        .and_then(word)
        .ok_or_else(|| UnknownValue {
            kind,
            value: raw.trim().to_owned(),
            expected,
        })
}

/// `autologous` or `allogeneic`, or in Spanish `autólogo`, `alogénico` (also the feminine
/// `autóloga`, `alogénica`, as in "terapia autóloga"), ignoring case and accents.
pub fn parse_origin(raw: &str) -> Result<Origin, UnknownValue> {
    vocabulary_word(
        raw,
        "origin",
        &["autologous", "allogeneic", "autólogo", "alogénico"],
        |w| match w {
            "autologous" | "autologo" | "autologa" => Some(Origin::Autologous),
            "allogeneic" | "alogenico" | "alogenica" => Some(Origin::Allogeneic),
            _ => None,
        },
    )
}

/// A batch status in English or Spanish (`en producción`, `cuarentena` or `en cuarentena`,
/// `liberado`, `rechazado`, `administrado`, also in the feminine), ignoring case and accents.
pub fn parse_status(raw: &str) -> Result<BatchStatus, UnknownValue> {
    vocabulary_word(
        raw,
        "batch status",
        &[
            "in_production",
            "quarantine",
            "released",
            "rejected",
            "administered",
            "en producción",
            "cuarentena",
            "liberado",
            "rechazado",
            "administrado",
        ],
        |w| match w {
            "in_production" | "en_produccion" => Some(BatchStatus::InProduction),
            "quarantine" | "cuarentena" | "en_cuarentena" => Some(BatchStatus::Quarantine),
            "released" | "liberado" | "liberada" => Some(BatchStatus::Released),
            "rejected" | "rechazado" | "rechazada" => Some(BatchStatus::Rejected),
            "administered" | "administrado" | "administrada" => Some(BatchStatus::Administered),
            _ => None,
        },
    )
}

/// An access route in English or Spanish: `ensayo clínico`, `uso compasivo`, and for the
/// hospital exemption both `exención hospitalaria` and `uso hospitalario` (the AEMPS calls its
/// authorisation under RD 477/2014 "autorización de uso hospitalario").
pub fn parse_access_route(raw: &str) -> Result<AccessRoute, UnknownValue> {
    vocabulary_word(
        raw,
        "access route",
        &[
            "clinical_trial",
            "compassionate_use",
            "hospital_exemption",
            "ensayo clínico",
            "uso compasivo",
            "exención hospitalaria",
        ],
        |w| match w {
            "clinical_trial" | "ensayo_clinico" => Some(AccessRoute::ClinicalTrial),
            "compassionate_use" | "uso_compasivo" => Some(AccessRoute::CompassionateUse),
            "hospital_exemption" | "exencion_hospitalaria" | "uso_hospitalario" => {
                Some(AccessRoute::HospitalExemption)
            }
            _ => None,
        },
    )
}

/// The number of doses: digits only; empty is 1, because every batch is at least one dose
/// and spreadsheets of autologous products leave the column blank. Zero is read as zero, for
/// the batch rules to refuse (`doses` must be at least 1).
pub fn parse_doses(raw: &str) -> Result<u32, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(1);
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("'{s}' is not a whole number of doses"));
    }
    s.parse::<u32>()
        .map_err(|_| format!("'{s}' is more doses than any batch has"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    fn decimal(s: &str) -> Decimal {
        match parse_decimal(s) {
            Ok(Some(d)) => d,
            other => panic!("{s:?} gave {other:?}"),
        }
    }

    fn refused(s: &str) -> String {
        match parse_decimal(s) {
            Err(message) => message,
            other => panic!("{s:?} should be refused, gave {other:?}"),
        }
    }

    #[test]
    fn decimal_point_and_decimal_comma() {
        assert_eq!(decimal("92.5"), dec!(92.5));
        assert_eq!(decimal("92,5"), dec!(92.5));
        assert_eq!(decimal(" 12 "), dec!(12));
        assert_eq!(decimal("-0,75"), dec!(-0.75));
        assert_eq!(decimal("+3"), dec!(3));
        assert_eq!(parse_decimal("   "), Ok(None));
    }

    #[test]
    fn thousands_dots_beside_a_decimal_comma() {
        assert_eq!(decimal("1.250.000,5"), dec!(1250000.5));
        assert_eq!(decimal("250.000,25"), dec!(250000.25));
        assert_eq!(decimal("1.250.000"), dec!(1250000));
        assert!(refused("1.25.000,5").contains("groups of three"));
        assert!(refused("1.2500,5").contains("groups of three"));
        assert!(refused("1250.000.0").contains("groups of three"));
        assert!(refused(".250.000").contains("groups of three"));
    }

    #[test]
    fn a_single_dot_is_the_decimal_point() {
        // The stated rule, even where a Spanish reader would see thousands.
        assert_eq!(decimal("1.250"), dec!(1.25));
    }

    #[test]
    fn scientific_notation_is_exact_with_either_separator() {
        assert_eq!(decimal("1,25E+08"), dec!(125000000));
        assert_eq!(decimal("1.25e8"), dec!(125000000));
        assert_eq!(decimal("3E2"), dec!(300));
        assert_eq!(decimal("2,5E-3"), dec!(0.0025));
        assert_eq!(decimal("1.234.567,891E+3"), dec!(1234567891));
        assert_eq!(decimal("1,1E-1"), dec!(0.11));
        assert_eq!(decimal("0,1E+1"), dec!(1));
        // Through a float, 0.1 × 3 would not come back as 0.3.
        assert_eq!(decimal("3E-1"), dec!(0.3));
        assert_eq!(decimal("0E+999"), Decimal::ZERO);
        assert_eq!(decimal("-0,0").to_string(), "0");
    }

    #[test]
    fn exponents_that_do_not_fit_are_refused_clearly() {
        assert!(refused("1E+29").contains("too large"));
        assert!(refused("1,5E+99999999999").contains("too large"));
        assert!(refused("1E-29").contains("more digits"));
        assert_eq!(
            decimal("1E+28"),
            Decimal::from_i128_with_scale(10i128.pow(28), 0)
        );
        assert_eq!(decimal("1E-28"), Decimal::new(1, 28));
        // Trailing zeros beyond the scale a Decimal holds carry no value.
        assert_eq!(decimal("1,500000000000000000000000000000000"), dec!(1.5));
        assert!(refused("123456789012345678901234567890123").contains("too large"));
        assert!(refused("0,12345678901234567890123456789").contains("more digits"));
        assert!(refused("1234567890123456789012345678901234567890").contains("more digits"));
    }

    #[test]
    fn results_are_normalised() {
        assert_eq!(decimal("1,50").to_string(), "1.5");
        assert_eq!(decimal("1.25E+8").to_string(), "125000000");
        assert_eq!(decimal("100,0").to_string(), "100");
    }

    #[test]
    fn malformed_numbers_are_refused() {
        for s in [
            "abc",
            "1,2,3",
            "1,250,000",
            "12,",
            ",5",
            "5.",
            "1.2,5",
            "1,2.5",
            "1e",
            "1E+",
            "E5",
            "1 250",
            "92,5 %",
            "--1",
            "-",
            "0x10",
            "١٢",
        ] {
            assert!(parse_decimal(s).is_err(), "{s:?}");
        }
        assert!(refused("1,250,000").contains("more than one ','"));
    }

    #[test]
    fn dates_iso_or_day_first() {
        let day = |y, m, d| Some(NaiveDate::from_ymd_opt(y, m, d).unwrap());
        assert_eq!(parse_date("2020-03-04"), Ok(day(2020, 3, 4)));
        assert_eq!(parse_date("04/03/2020"), Ok(day(2020, 3, 4)));
        assert_eq!(parse_date("4/3/2020"), Ok(day(2020, 3, 4)));
        assert_eq!(parse_date(" 29/02/2020 "), Ok(day(2020, 2, 29)));
        assert_eq!(parse_date(""), Ok(None));
        // Day first, never month first: 13 is not a month.
        assert!(parse_date("03/13/2020").is_err());
    }

    #[test]
    fn impossible_and_odd_dates_are_refused() {
        assert!(parse_date("31/02/2020").unwrap_err().contains("calendar"));
        assert!(parse_date("2019-02-29").unwrap_err().contains("calendar"));
        assert!(
            parse_date("0219-03-01")
                .unwrap_err()
                .contains("1900 to 2099")
        );
        for s in [
            "2020-3-4",
            "2020/03/04",
            "04-03-2020",
            "04/03/20",
            "004/03/2020",
            "04/03/2020/1",
            "2020-03-04 00:00:00",
            "4 de marzo de 2020",
            "2020-0é-04",
        ] {
            assert!(parse_date(s).is_err(), "{s:?}");
        }
    }

    #[test]
    fn spanish_and_english_words_ignore_case_and_accents() {
        for s in [
            "autologous",
            "autólogo",
            "AUTOLOGO",
            "Autóloga",
            " autologo ",
        ] {
            assert_eq!(parse_origin(s), Ok(Origin::Autologous), "{s:?}");
        }
        for s in ["allogeneic", "alogénico", "Alogenico", "ALOGÉNICO"] {
            assert_eq!(parse_origin(s), Ok(Origin::Allogeneic), "{s:?}");
        }
        for (s, status) in [
            ("in_production", BatchStatus::InProduction),
            ("En producción", BatchStatus::InProduction),
            ("en produccion", BatchStatus::InProduction),
            ("In Production", BatchStatus::InProduction),
            ("cuarentena", BatchStatus::Quarantine),
            ("En cuarentena", BatchStatus::Quarantine),
            ("Liberado", BatchStatus::Released),
            ("RECHAZADO", BatchStatus::Rejected),
            ("administrado", BatchStatus::Administered),
            ("administered", BatchStatus::Administered),
        ] {
            assert_eq!(parse_status(s), Ok(status), "{s:?}");
        }
        for (s, route) in [
            ("Ensayo clínico", AccessRoute::ClinicalTrial),
            ("uso compasivo", AccessRoute::CompassionateUse),
            ("Exención hospitalaria", AccessRoute::HospitalExemption),
            ("uso hospitalario", AccessRoute::HospitalExemption),
            ("hospital-exemption", AccessRoute::HospitalExemption),
        ] {
            assert_eq!(parse_access_route(s), Ok(route), "{s:?}");
        }
    }

    #[test]
    fn unknown_words_list_what_is_accepted() {
        let err = parse_origin("propio").unwrap_err();
        assert_eq!(err.value, "propio");
        assert!(err.to_string().contains("autólogo"), "{err}");
        assert!(parse_status("liberado!").is_err());
        assert!(parse_status("").is_err());
        assert!(parse_status("released released released released").is_err());
        assert!(parse_access_route("ensayo").is_err());
    }

    #[test]
    fn doses_default_to_one() {
        assert_eq!(parse_doses(""), Ok(1));
        assert_eq!(parse_doses(" 4 "), Ok(4));
        assert_eq!(parse_doses("0"), Ok(0));
        assert!(parse_doses("-1").is_err());
        assert!(parse_doses("2,0").is_err());
        assert!(parse_doses("99999999999").is_err());
    }
}
