//! The ISBT 128 Donation Identification Number and its MOD 37-2 check character.

use serde::{Deserialize, Serialize};

use super::common::{CodeError, decimal, text_code};

/// The value of a character in the ISO/IEC 7064 MOD 37-2 alphabet `0-9 A-Z *`.
fn mod37_value(c: char) -> Option<u32> {
    match c {
        '0'..='9' => Some(u32::from(c) - u32::from('0')),
        'A'..='Z' => Some(u32::from(c) - u32::from('A') + 10),
        '*' => Some(36),
        _ => None,
    }
}

/// The character for a checksum value 0..=36 (`*` for 36, the only value `from_digit` lacks).
fn mod37_char(value: u32) -> char {
    char::from_digit(value, 36).map_or('*', |c| c.to_ascii_uppercase())
}

/// The MOD 37-2 checksum value (0..=36) of upper-case input, or the offending character.
fn mod37_2_checksum(chars: &[char]) -> Result<u32, (usize, char)> {
    let mut p = 0u32;
    for (i, &c) in chars.iter().enumerate() {
        let v = mod37_value(c).ok_or((i, c))?;
        p = ((p + v) * 2) % 37;
    }
    Ok((38 - p) % 37)
}

/// The ISBT 128 check character of a 13-character DIN.
///
/// ISBT 128 (ICCBBA ST-001) protects the DIN with an ISO/IEC 7064 MOD 37-2 check character,
/// printed boxed beside the eye-readable DIN and keyed in with it so that a mistyped DIN is
/// caught. MOD 37-2 detects every single-character error and every transposition of adjacent
/// characters. Lower-case letters are accepted as their upper-case equivalents; only the
/// alphabet is checked here, not the DIN structure (see [`Din::parse`]).
pub fn mod37_2_check_character(din13: &str) -> Result<char, CodeError> {
    const KIND: &str = "DIN for MOD 37-2";
    if din13.is_empty() {
        return Err(CodeError::Empty { kind: KIND });
    }
    let chars: Vec<char> = din13.chars().map(|c| c.to_ascii_uppercase()).collect();
    if chars.len() != 13 {
        return Err(CodeError::InvalidLength {
            kind: KIND,
            len: chars.len(),
            expected: "13",
        });
    }
    mod37_2_checksum(&chars)
        .map(mod37_char)
        .map_err(|(i, ch)| CodeError::InvalidCharacter {
            kind: KIND,
            ch,
            position: i + 1,
            allowed: "0-9, A-Z or '*'",
        })
}

const DIN_LENGTHS: &str =
    "13 (the DIN), 14 (DIN and check character) or 16 ('=', DIN and 2 flag characters)";

/// Which characters the 13-character DIN allows at a 0-based position.
fn din_char_rule(index: usize) -> (fn(char) -> bool, &'static str) {
    fn first(c: char) -> bool {
        (c.is_ascii_uppercase() && c != 'O') || matches!(c, '1'..='9')
    }
    fn second(c: char) -> bool {
        (c.is_ascii_uppercase() && c != 'O') || c.is_ascii_digit()
    }
    fn digit(c: char) -> bool {
        c.is_ascii_digit()
    }
    match index {
        0 => (first, "A-Z except O, or 1-9"),
        1 | 2 => (second, "A-Z except O, or 0-9"),
        _ => (digit, "a digit"),
    }
}

/// Checks 13 upper-cased characters against the DIN structure; `offset` is the number of
/// characters before them in the user's input, so positions in errors match what was typed.
fn validate_din13(chars: &[char], offset: usize) -> Result<String, CodeError> {
    for (i, &ch) in chars.iter().enumerate() {
        let (ok, allowed) = din_char_rule(i);
        if !ok(ch) {
            return Err(CodeError::InvalidCharacter {
                kind: "DIN",
                ch,
                position: offset + i + 1,
                allowed,
            });
        }
    }
    let mut din = String::with_capacity(chars.len());
    din.extend(chars);
    Ok(din)
}

/// Flag characters: ISBT 128 excludes I, O, Q and Z from them.
fn is_flag_char(c: char) -> bool {
    c.is_ascii_digit() || (c.is_ascii_uppercase() && !matches!(c, 'I' | 'O' | 'Q' | 'Z'))
}

/// An ISBT 128 Donation Identification Number: the worldwide-unique identifier of one
/// donation (or one collection for an autologous therapy), and so the root of its chain of
/// identity.
///
/// The 13 characters are the Facility Identification Number (5, assigned by ICCBBA), the year
/// (2) and a sequence number (6). The FIN part keeps out `O`, which reads as `0`, and cannot
/// start with `0`. [`Din::parse`] accepts what people and scanners actually produce: the bare
/// DIN, the DIN followed by its keyed check character, and the bar-code data structure
/// `=DIN ff` whose two flag characters, when 60-96, carry the MOD 37-2 checksum as `60 + value`.
/// A check that is present must match; lower case is folded to upper case because the ISBT 128
/// alphabet has no lower case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Din {
    /// Always 13 ASCII characters.
    din: String,
    /// MOD 37-2 check character of `din`, computed once at parse time.
    check: char,
    /// The two flag characters of the bar-code form, if the DIN was read from one.
    flags: Option<String>,
}

impl Din {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        if s.is_empty() {
            return Err(CodeError::Empty { kind: "DIN" });
        }
        let mut chars: Vec<char> = Vec::with_capacity(s.len());
        chars.extend(s.chars().map(|c| c.to_ascii_uppercase()));
        let invalid_length = || CodeError::InvalidLength {
            kind: "DIN",
            len: chars.len(),
            expected: DIN_LENGTHS,
        };
        match chars.as_slice() {
            ['=', rest @ ..] => {
                let (din13, flag_chars) = rest.split_at_checked(13).ok_or_else(invalid_length)?;
                if flag_chars.len() != 2 {
                    return Err(invalid_length());
                }
                let din = Self::bare(din13, 1)?;
                din.with_flags(flag_chars)
            }
            all if all.len() == 13 => Self::bare(all, 0),
            [din13 @ .., found] if din13.len() == 13 => {
                let din = Self::bare(din13, 0)?;
                if mod37_value(*found).is_none() {
                    return Err(CodeError::InvalidCharacter {
                        kind: "DIN check character",
                        ch: *found,
                        position: 14,
                        allowed: "0-9, A-Z or '*'",
                    });
                }
                if *found != din.check {
                    return Err(CodeError::DinCheckCharacter {
                        din: din.din,
                        found: *found,
                        expected: din.check,
                    });
                }
                Ok(din)
            }
            _ => Err(invalid_length()),
        }
    }

    /// A DIN without flags from 13 upper-case characters.
    fn bare(din13: &[char], offset: usize) -> Result<Self, CodeError> {
        let din = validate_din13(din13, offset)?;
        let value = mod37_2_checksum(din13).map_err(|(i, ch)| CodeError::InvalidCharacter {
            kind: "DIN",
            ch,
            position: offset + i + 1,
            allowed: "0-9, A-Z or '*'",
        })?;
        Ok(Self {
            din,
            check: mod37_char(value),
            flags: None,
        })
    }

    fn with_flags(self, flag_chars: &[char]) -> Result<Self, CodeError> {
        for (i, &ch) in flag_chars.iter().enumerate() {
            if !is_flag_char(ch) {
                return Err(CodeError::InvalidCharacter {
                    kind: "DIN flag",
                    ch,
                    position: 15 + i,
                    allowed: "0-9 or A-Z except I, O, Q and Z",
                });
            }
        }
        let flags: String = flag_chars.iter().collect();
        if flag_chars.iter().all(char::is_ascii_digit) {
            let claimed = decimal(flag_chars.iter().copied());
            if (60..=96).contains(&claimed) {
                // `check` came from `mod37_char`, so it always has a value.
                let expected = 60 + mod37_value(self.check).unwrap_or(0);
                if claimed != expected {
                    return Err(CodeError::DinFlagChecksum {
                        din: self.din,
                        flags,
                        expected: expected.to_string(),
                    });
                }
            }
        }
        Ok(Self {
            flags: Some(flags),
            ..self
        })
    }

    /// The 13-character DIN, without check character or flags.
    pub fn as_str(&self) -> &str {
        &self.din
    }

    /// The MOD 37-2 check character printed beside the eye-readable DIN.
    pub fn check_character(&self) -> char {
        self.check
    }

    /// The two flag characters, if the DIN was read from its bar-code form.
    pub fn flags(&self) -> Option<&str> {
        self.flags.as_deref()
    }

    /// The ICCBBA Facility Identification Number: who collected the donation.
    pub fn facility_identification_number(&self) -> &str {
        self.din.get(..5).unwrap_or_default()
    }

    /// The same DIN without bar-code flags; flags describe a label, not the donation.
    pub fn without_flags(self) -> Self {
        Self {
            flags: None,
            ..self
        }
    }
}

text_code!(Din);

/// Serialises to the 13-character DIN, or to the bar-code form `=DINff` when flags were read,
/// so that a round trip through serde gives back an equal value.
impl From<Din> for String {
    fn from(din: Din) -> String {
        match din.flags {
            Some(flags) => format!("={}{flags}", din.din),
            None => din.din,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::common::test_support::invalid_char_at;

    // --- MOD 37-2 --------------------------------------------------------------------------

    #[test]
    fn mod37_2_worked_examples() {
        let examples = [
            ("G123498654321", 'H'),
            ("A999921123456", '3'),
            ("G151797123456", 'L'),
            ("G123417654321", 'A'),
            ("A999914123458", 'J'),
            ("A999926000001", '8'),
            ("A999926000002", '6'),
            ("A999926000123", 'P'),
            ("A999925004711", 'C'),
        ];
        for (din, check) in examples {
            assert_eq!(mod37_2_check_character(din), Ok(check), "{din}");
        }
    }

    #[test]
    fn mod37_2_alphabet_round_trips() {
        let alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*";
        for (value, c) in (0u32..).zip(alphabet.chars()) {
            assert_eq!(mod37_value(c), Some(value));
            assert_eq!(mod37_char(value), c);
        }
        assert_eq!(mod37_value('a'), None);
        assert_eq!(mod37_value('É'), None);
    }

    #[test]
    fn mod37_2_input_errors_and_case() {
        assert_eq!(mod37_2_check_character("g123498654321"), Ok('H'));
        assert!(matches!(
            mod37_2_check_character("G12349865432"),
            Err(CodeError::InvalidLength { len: 12, .. })
        ));
        assert!(matches!(
            mod37_2_check_character("G1234986543210"),
            Err(CodeError::InvalidLength { len: 14, .. })
        ));
        let err = mod37_2_check_character("G12349865432-").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('-', 13)));
        let err = mod37_2_check_character("G1234986543É1").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('É', 12)));
    }

    #[test]
    fn mod37_2_catches_single_errors_and_adjacent_transpositions() {
        let din = "A999926000123";
        let good = mod37_2_check_character(din).unwrap();
        let chars: Vec<char> = din.chars().collect();
        for i in 0..chars.len() - 1 {
            if chars[i] != chars[i + 1] {
                let mut swapped = chars.clone();
                swapped.swap(i, i + 1);
                let s: String = swapped.into_iter().collect();
                assert_ne!(mod37_2_check_character(&s).unwrap(), good, "{s}");
            }
        }
        for i in 0..chars.len() {
            let mut changed = chars.clone();
            changed[i] = if chars[i] == '7' { '8' } else { '7' };
            let s: String = changed.into_iter().collect();
            assert_ne!(mod37_2_check_character(&s).unwrap(), good, "{s}");
        }
    }

    // --- Din -------------------------------------------------------------------------------

    #[test]
    fn din_thirteen_characters() {
        let din = Din::parse("A999926000001").unwrap();
        assert_eq!(din.as_str(), "A999926000001");
        assert_eq!(din.check_character(), '8');
        assert_eq!(din.flags(), None);
        assert_eq!(din.facility_identification_number(), "A9999");
        assert_eq!(din.to_string(), "A999926000001");
    }

    #[test]
    fn din_with_check_character() {
        let din = Din::parse("A9999260000018").unwrap();
        assert_eq!(din, Din::parse("A999926000001").unwrap());
        assert_eq!(din.as_str(), "A999926000001");
        assert_eq!(Din::parse("A999926000123P").unwrap().check_character(), 'P');
        assert_eq!(
            Din::parse("a999926000123p").unwrap().as_str(),
            "A999926000123"
        );
    }

    #[test]
    fn din_wrong_check_character_names_both() {
        let err = Din::parse("A999926000001X").unwrap_err();
        assert_eq!(
            err,
            CodeError::DinCheckCharacter {
                din: "A999926000001".into(),
                found: 'X',
                expected: '8'
            }
        );
        assert_eq!(
            err.to_string(),
            "DIN check character is 'X' but the DIN A999926000001 requires '8'"
        );
        let err = Din::parse("A999926000001-").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('-', 14)));
        let err = Din::parse("A999926000001😀").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('😀', 14)));
    }

    #[test]
    fn din_bar_code_form_and_flags() {
        let din = Din::parse("=G12349865432177").unwrap();
        assert_eq!(din.as_str(), "G123498654321");
        assert_eq!(din.check_character(), 'H');
        assert_eq!(din.flags(), Some("77"));
        assert_eq!(din.clone().without_flags().flags(), None);

        let err = Din::parse("=G12349865432178").unwrap_err();
        assert_eq!(
            err,
            CodeError::DinFlagChecksum {
                din: "G123498654321".into(),
                flags: "78".into(),
                expected: "77".into()
            }
        );
        assert!(err.to_string().contains("77"), "{err}");

        // Other numeric and alphanumeric flags are not checksums and are kept as read.
        for flags in ["00", "01", "59", "97", "99", "A1", "HJ", "PY"] {
            let din = Din::parse(&format!("=G123498654321{flags}")).unwrap();
            assert_eq!(din.flags(), Some(flags));
        }
        assert_eq!(Din::parse("=a99992600000168").unwrap().flags(), Some("68"));
        // 60 and 96 are the ends of the checksum range.
        assert!(Din::parse("=A99992600012385").is_ok()); // P = 25
        assert!(Din::parse("=A99992600012360").is_err());
        assert!(Din::parse("=A99992600012396").is_err());
    }

    #[test]
    fn din_flag_alphabet_excludes_i_o_q_z() {
        for bad in ["I0", "0O", "Q1", "1Z", "-1", "1*", "1é"] {
            let err = Din::parse(&format!("=G123498654321{bad}")).unwrap_err();
            assert!(
                matches!(
                    err,
                    CodeError::InvalidCharacter {
                        kind: "DIN flag",
                        ..
                    }
                ),
                "{bad}: {err:?}"
            );
        }
        let err = Din::parse("=G1234986543210I").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('I', 16)));
    }

    #[test]
    fn din_structure_errors() {
        let err = Din::parse("O999926000001").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('O', 1)));
        let err = Din::parse("0999926000001").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('0', 1)));
        let err = Din::parse("AO99926000001").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('O', 2)));
        let err = Din::parse("A9O9926000001").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('O', 3)));
        let err = Din::parse("A99A926000001").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('A', 4)));
        let err = Din::parse("A99992600000*").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('*', 13)));
        let err = Din::parse("=O99992600000177").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('O', 2)));
        let err = Din::parse("ÁB9992600000").unwrap_err();
        assert!(
            matches!(err, CodeError::InvalidLength { len: 12, .. }),
            "{err:?}"
        );
        let err = Din::parse("ÁB99926000001").unwrap_err();
        assert_eq!(invalid_char_at(&err), Some(('Á', 1)));
        // Letters are allowed in positions 2-3 of newer FINs; any letter but O first.
        assert!(Din::parse("WAB1926000001").is_ok());
        assert!(Din::parse("1AB1926000001").is_ok());
    }

    #[test]
    fn din_length_errors() {
        for bad in [
            "A99992600000",
            "A99992600000189",
            "=A999926000001",
            "=A9999260000018",
            "=A9999260000018AB",
        ] {
            assert!(
                matches!(Din::parse(bad), Err(CodeError::InvalidLength { .. })),
                "{bad}"
            );
        }
        assert_eq!(
            Din::parse("").unwrap_err(),
            CodeError::Empty { kind: "DIN" }
        );
        assert!(Din::parse(" A999926000001").is_err());
    }

    #[test]
    fn din_lower_case_is_upper_cased() {
        let din = Din::parse("g123498654321h").unwrap();
        assert_eq!(din.as_str(), "G123498654321");
    }
}
