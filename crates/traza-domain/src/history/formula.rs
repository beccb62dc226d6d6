//! Spreadsheet formulas in CSV fields (SPEC §4; OWASP calls it CSV injection). A laboratory
//! opens the export in Excel or LibreOffice, which run a cell that starts with `=`, `+`, `-`
//! or `@` as a formula (`=HYPERLINK(…)` sends data away, `+cmd|…` asked DDE to start a
//! program), also after a leading tab or carriage return. A batch's notes are free text that
//! anyone who may write a batch types, so the export writes such a field with one more `'` in
//! front, which spreadsheets read as "text, not a formula" and do not show.
//!
//! Which fields: every field of the export. Only free text (`released_by`, `notes`) can start
//! with one of those characters: codes begin with a letter or a digit, dates with the year,
//! vocabulary with a letter, and numbers are never negative (the batch rules refuse a negative
//! count, viability or volume, and `Decimal::normalize` writes a negative zero as `0`). Escaping
//! every field keeps the export safe without a list of columns to keep in step.
//!
//! The escape must not change any value: `'` itself is escaped too, and the import removes one
//! leading `'` only where an escaped character follows it, before any trimming. So a stored
//! value `'=already` is exported as `''=already` and imported as `'=already`, and export →
//! import → export keeps every value and every byte.

use std::borrow::Cow;

/// The first characters a spreadsheet may run as a formula (tab and carriage return are
/// skipped before one), and the escape itself.
const ESCAPED_FIRST: [u8; 7] = *b"=+-@\t\r'";

/// A field as the export writes it: with one more `'` in front when it starts with `=`, `+`,
/// `-`, `@`, tab, carriage return or `'`; otherwise as it is, without copying.
pub fn escape_formula(field: &[u8]) -> Cow<'_, [u8]> {
    match field.first() {
        Some(first) if ESCAPED_FIRST.contains(first) => {
            let mut escaped = Vec::with_capacity(field.len() + 1);
            escaped.push(b'\'');
            escaped.extend_from_slice(field);
            Cow::Owned(escaped)
        }
        _ => Cow::Borrowed(field),
    }
}

/// A field of an imported file as the value it stands for: without its leading `'` when one
/// of the escaped characters follows it. Applied before the field is trimmed, so that an
/// escaped tab (`'\t…`) is seen as escaped.
pub fn unescape_formula(field: &str) -> &str {
    match field.as_bytes() {
        // `'` is one byte, so the rest starts on a character boundary.
        [b'\'', next, ..] if ESCAPED_FIRST.contains(next) => &field[1..],
        _ => field,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn escaped(s: &str) -> String {
        String::from_utf8(escape_formula(s.as_bytes()).into_owned()).expect("still UTF-8")
    }

    #[test]
    fn formulas_are_quoted_and_other_text_is_left_alone() {
        for (value, written) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1+1", "'\t=1+1"),
            ("\r=1+1", "'\r=1+1"),
            ("'=already", "''=already"),
            ("'", "''"),
            ("Lote revisado", "Lote revisado"),
            (" =1", " =1"),
            ("a=b", "a=b"),
            ("", ""),
            ("ñ=", "ñ="),
        ] {
            assert_eq!(escaped(value), written, "{value:?}");
            assert_eq!(unescape_formula(written), value, "{written:?}");
        }
        assert!(matches!(escape_formula(b"GRA-UPCIT"), Cow::Borrowed(_)));
    }

    #[test]
    fn only_a_quote_before_an_escaped_character_is_removed() {
        // Text a person wrote with a quote in front, not an escape: kept.
        for kept in ["'hola'", "' =1", "'", "'ñ", "x'=1", " '=1"] {
            assert_eq!(unescape_formula(kept), kept);
        }
        assert_eq!(unescape_formula("''"), "'");
        // One quote only, never two.
        assert_eq!(unescape_formula("''=x"), "'=x");
    }

    proptest! {
        /// Any text survives the escape and the unescape, byte for byte.
        #[test]
        fn the_escape_round_trips_any_string(value in any::<String>()) {
            let written = escaped(&value);
            prop_assert_eq!(unescape_formula(&written), value.as_str());
        }

        /// Especially text that starts like a formula or an escape.
        #[test]
        fn the_escape_round_trips_formula_like_text(value in "[=+\\-@'\t\r ]{0,4}\\PC{0,12}") {
            let written = escaped(&value);
            prop_assert_eq!(unescape_formula(&written), value.as_str());
        }

        /// What the export writes never starts as a formula.
        #[test]
        fn an_exported_field_never_starts_as_a_formula(value in "[=+\\-@'\t\r ]{0,4}\\PC{0,12}") {
            let written = escaped(&value);
            prop_assert!(!written.starts_with(['=', '+', '-', '@', '\t', '\r']), "{:?}", written);
        }
    }
}
