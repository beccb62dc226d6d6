//! Text encodings of historical files. Excel on a Spanish Windows saves "CSV" in Windows-1252
//! unless told otherwise, newer exports are UTF-8 (often with a byte order mark), and nothing
//! in the file says which: the bytes must.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Read};
use std::str::FromStr;

/// The encodings Traza reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextEncoding {
    Utf8,
    /// Windows-1252, the "ANSI" code page of Western European Windows.
    Windows1252,
}

impl TextEncoding {
    pub const fn as_str(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "utf-8",
            TextEncoding::Windows1252 => "windows-1252",
        }
    }

    /// Decodes one field. Borrows whenever the bytes are already the text (all of a UTF-8
    /// file, and the ASCII fields of a Windows-1252 one), so most fields cost no allocation.
    /// `None` for bytes that are not UTF-8; Windows-1252 maps every byte to a character.
    pub(crate) fn decode(self, bytes: &[u8]) -> Option<Cow<'_, str>> {
        match self {
            TextEncoding::Utf8 => std::str::from_utf8(bytes).ok().map(Cow::Borrowed),
            TextEncoding::Windows1252 => Some(
                encoding_rs::WINDOWS_1252
                    .decode_without_bom_handling(bytes)
                    .0,
            ),
        }
    }

    /// Decodes for a message, never failing: invalid UTF-8 shows as U+FFFD.
    pub(crate) fn decode_lossy(self, bytes: &[u8]) -> Cow<'_, str> {
        match self {
            TextEncoding::Utf8 => String::from_utf8_lossy(bytes),
            TextEncoding::Windows1252 => {
                encoding_rs::WINDOWS_1252
                    .decode_without_bom_handling(bytes)
                    .0
            }
        }
    }
}

impl fmt::Display for TextEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an encoding Traza reads; use utf-8 or windows-1252")]
pub struct UnknownEncoding(pub String);

impl crate::problem::Explain for UnknownEncoding {
    fn problem(&self) -> Option<crate::problem::Problem> {
        Some(crate::problem::Problem::NotOneOf {
            text: self.0.clone(),
            values: vec!["utf-8".into(), "windows-1252".into()],
        })
    }
}

/// Accepts, ignoring case: `utf-8`, `utf8`; `windows-1252`, `cp1252`, `latin1`, `iso-8859-1`.
/// The Latin-1 names mean Windows-1252, as they do in every browser (WHATWG Encoding
/// Standard): files labelled Latin-1 by Windows software are Windows-1252, and the two differ
/// only in 0x80-0x9F, where Latin-1 has invisible control characters and Windows-1252 has
/// `€`, `‘`, `’`, `“`, `”` and `…` that people do type.
impl FromStr for TextEncoding {
    type Err = UnknownEncoding;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let label = s.trim();
        let is = |name: &str| label.eq_ignore_ascii_case(name);
        if is("utf-8") || is("utf8") {
            Ok(TextEncoding::Utf8)
        } else if is("windows-1252") || is("cp1252") || is("latin1") || is("iso-8859-1") {
            Ok(TextEncoding::Windows1252)
        } else {
            Err(UnknownEncoding(label.to_owned()))
        }
    }
}

const CHUNK: usize = 64 * 1024;

/// Decides the encoding of a whole file by reading it once, a chunk at a time: UTF-8 (with or
/// without a byte order mark) if all of it is valid UTF-8, otherwise Windows-1252.
///
/// Valid UTF-8 is very unlikely by accident: Windows-1252 text with accents is almost never
/// valid UTF-8 (`ó` is the lone byte 0xF3), so the test is reliable in that direction, and
/// a UTF-8 file with one broken byte is read as Windows-1252, where the damage shows as
/// odd characters rather than a refused file.
pub fn detect_encoding(mut reader: impl Read) -> io::Result<TextEncoding> {
    // Up to 3 bytes of a multi-byte sequence that a chunk boundary cut are carried over to
    // the front of the buffer, so the next chunk completes them.
    let mut buf = vec![0u8; CHUNK + 3];
    let mut carried = 0;
    loop {
        let read = match reader.read(&mut buf[carried..]) {
            Ok(0) => {
                // A sequence still open at the end of the file was truncated: not UTF-8.
                return Ok(if carried == 0 {
                    TextEncoding::Utf8
                } else {
                    TextEncoding::Windows1252
                });
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let filled = carried + read;
        match std::str::from_utf8(&buf[..filled]) {
            Ok(_) => carried = 0,
            // `error_len() == None`: the input ends inside a sequence that may still be valid.
            Err(e) if e.error_len().is_none() => {
                let valid = e.valid_up_to();
                buf.copy_within(valid..filled, 0);
                carried = filled - valid;
            }
            Err(_) => return Ok(TextEncoding::Windows1252),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out its bytes a few at a time, as a socket or a slow disk may.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.bytes.len());
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    #[test]
    fn utf8_with_and_without_bom() {
        let text = "notes\nCórdoba, 3 días\n";
        assert_eq!(
            detect_encoding(text.as_bytes()).unwrap(),
            TextEncoding::Utf8
        );
        let with_bom = [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
        assert_eq!(
            detect_encoding(with_bom.as_slice()).unwrap(),
            TextEncoding::Utf8
        );
        assert_eq!(detect_encoding(&b""[..]).unwrap(), TextEncoding::Utf8);
    }

    #[test]
    fn windows_1252_accents_are_not_utf8() {
        // "autólogo" and "Córdoba" as Excel saves them on a Spanish Windows.
        let bytes = b"origin,notes\naut\xF3logo,C\xF3rdoba\n";
        assert_eq!(
            detect_encoding(&bytes[..]).unwrap(),
            TextEncoding::Windows1252
        );
    }

    #[test]
    fn a_sequence_split_across_reads_is_still_utf8() {
        // Every split point of every multi-byte sequence, 1 to 4 bytes long.
        let text = "aó€😀b".repeat(3);
        for step in 1..=7 {
            let reader = Trickle {
                bytes: text.as_bytes(),
                step,
            };
            assert_eq!(
                detect_encoding(reader).unwrap(),
                TextEncoding::Utf8,
                "{step}"
            );
        }
    }

    #[test]
    fn a_split_sequence_at_a_chunk_boundary_is_still_utf8() {
        let mut text = "a".repeat(CHUNK - 1);
        text.push_str("óó");
        assert_eq!(
            detect_encoding(text.as_bytes()).unwrap(),
            TextEncoding::Utf8
        );
        let mut broken = text.into_bytes();
        broken.push(0xF3);
        assert_eq!(
            detect_encoding(broken.as_slice()).unwrap(),
            TextEncoding::Windows1252
        );
    }

    #[test]
    fn a_sequence_truncated_by_the_end_of_file_is_not_utf8() {
        assert_eq!(
            detect_encoding(&b"Espa\xC3"[..]).unwrap(),
            TextEncoding::Windows1252
        );
    }

    #[test]
    fn labels_are_read_case_insensitively() {
        for (label, encoding) in [
            ("utf-8", TextEncoding::Utf8),
            ("UTF8", TextEncoding::Utf8),
            ("windows-1252", TextEncoding::Windows1252),
            ("CP1252", TextEncoding::Windows1252),
            ("latin1", TextEncoding::Windows1252),
            ("ISO-8859-1", TextEncoding::Windows1252),
        ] {
            assert_eq!(label.parse::<TextEncoding>(), Ok(encoding), "{label}");
        }
        assert!("utf-16".parse::<TextEncoding>().is_err());
        assert_eq!(
            TextEncoding::Windows1252.to_string().parse(),
            Ok(TextEncoding::Windows1252)
        );
    }

    #[test]
    fn windows_1252_decodes_every_byte() {
        assert_eq!(
            TextEncoding::Windows1252
                .decode(b"C\xF3rdoba \x80")
                .as_deref(),
            Some("Córdoba €")
        );
        assert_eq!(TextEncoding::Utf8.decode(b"C\xF3rdoba"), None);
        assert!(matches!(
            TextEncoding::Windows1252.decode(b"GRA-UPCIT"),
            Some(Cow::Borrowed(_))
        ));
    }
}
