//! Codes of the manufacturing resources of SPEC §8: a material of the network's catalogue, a
//! material lot received by a laboratory, and a piece of equipment or a room, whose ids are
//! unique within their laboratory. Each travels in URL paths (`/lots/{lot_id}`,
//! `/equipment/{lab_code}/{id}`), so none has `/`, spaces, or a leading `.`.

use serde::{Deserialize, Serialize};

use super::LabCode;
use super::common::{
    CodeError, Pattern, canonical_string, is_alnum, is_alnum_or_punct, is_upper_alnum,
    is_upper_alnum_or_hyphen, text_code,
};

const MATERIAL_CODE: Pattern = Pattern {
    kind: "material code",
    min: 2,
    max: 24,
    first: is_upper_alnum,
    first_allowed: "upper-case A-Z or 0-9",
    rest: is_upper_alnum_or_hyphen,
    rest_allowed: "upper-case A-Z, 0-9 or '-'",
};

/// The code of a material in the network's catalogue (`MED-XVIVO15`, `VEC-CD19-LV`). One
/// spelling per material, as for products: a lot received under a second spelling would be
/// another material to every rule that matches a lot to a step.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MaterialCode(String);

impl MaterialCode {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        MATERIAL_CODE.check(s)?;
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

text_code!(MaterialCode);
canonical_string!(MaterialCode);

const LOT_ID: Pattern = Pattern {
    kind: "lot id",
    min: 2,
    max: 40,
    first: is_upper_alnum,
    first_allowed: "upper-case A-Z or 0-9",
    rest: is_upper_alnum_or_hyphen,
    rest_allowed: "upper-case A-Z, 0-9 or '-'",
};

/// The id Traza gives a material lot when it is received: `{LAB}-L{YYYY}-{NNNN}`
/// (`GRA-UPCIT-L2026-0007`), the laboratory's own receipt number for the label on the
/// container. The supplier's lot number is kept beside it (`supplier_lot`), not used as the
/// key: two suppliers may number their lots alike.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LotId(String);

impl LotId {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        LOT_ID.check(s)?;
        Ok(Self(s.to_owned()))
    }

    /// The `sequence`-th lot received by `lab` in `year`. Zero-padded to 4 digits so ids sort
    /// in receipt order within a year; grows past 4 digits rather than wrapping. Always a valid
    /// id: a 16-character lab code, an 11-character `i32` and a 10-digit `u32` fit in 40.
    pub fn generated(lab: &LabCode, year: i32, sequence: u32) -> LotId {
        LotId(format!("{lab}-L{year:04}-{sequence:04}"))
    }

    /// The prefix every id [`LotId::generated`] gives `lab` in `year` starts with.
    pub fn generated_prefix(lab: &LabCode, year: i32) -> String {
        format!("{lab}-L{year:04}-")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

text_code!(LotId);
canonical_string!(LotId);

const LOCAL_ID: Pattern = Pattern {
    kind: "id",
    min: 1,
    max: 32,
    first: is_alnum,
    first_allowed: "A-Z, a-z or 0-9",
    rest: is_alnum_or_punct,
    rest_allowed: "A-Z, a-z, 0-9, '.', '_' or '-'",
};

/// The id of a piece of equipment, unique within its laboratory: its asset tag as printed on
/// it (`BSC-02`, `inc.co2-3`), kept as given.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EquipmentId(String);

impl EquipmentId {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        LOCAL_ID.check(s)?;
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

text_code!(EquipmentId);
canonical_string!(EquipmentId);

/// The id of a room, unique within its laboratory (`SB-01`), kept as given.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoomId(String);

impl RoomId {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        LOCAL_ID.check(s)?;
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

text_code!(RoomId);
canonical_string!(RoomId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn material_codes_are_upper_case_and_hyphenated() {
        assert_eq!(
            MaterialCode::parse("MED-XVIVO15").unwrap().as_str(),
            "MED-XVIVO15"
        );
        for bad in ["", "M", "med-xvivo", "MED XVIVO", "-MED", "MED/1", "ÁB"] {
            assert!(MaterialCode::parse(bad).is_err(), "{bad:?}");
        }
        assert!(MaterialCode::parse(&"A".repeat(25)).is_err());
    }

    #[test]
    fn generated_lot_ids_parse_and_sort_in_receipt_order() {
        let lab = LabCode::parse("GRA-UPCIT").unwrap();
        let first = LotId::generated(&lab, 2026, 7);
        assert_eq!(first.as_str(), "GRA-UPCIT-L2026-0007");
        assert_eq!(LotId::parse(first.as_str()).unwrap(), first);
        assert!(first < LotId::generated(&lab, 2026, 10));
        assert!(
            first
                .as_str()
                .starts_with(&LotId::generated_prefix(&lab, 2026))
        );
        // The longest inputs still make a valid id.
        let long = LabCode::parse("ABCDEFGHIJKLMNOP").unwrap();
        let id = LotId::generated(&long, i32::MIN, u32::MAX);
        assert_eq!(LotId::parse(id.as_str()).unwrap(), id);
        for bad in ["", "gra-l2026-1", "GRA L1", "GRA/L1"] {
            assert!(LotId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn local_ids_keep_their_case_and_refuse_path_tricks() {
        assert_eq!(
            EquipmentId::parse("inc.co2-3").unwrap().as_str(),
            "inc.co2-3"
        );
        assert_eq!(RoomId::parse("SB-01").unwrap().to_string(), "SB-01");
        for bad in ["", ".", "..", "a/b", "a b", "é", &"x".repeat(33)] {
            assert!(EquipmentId::parse(bad).is_err(), "{bad:?}");
            assert!(RoomId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn serde_goes_through_parse() {
        let code: MaterialCode = serde_json::from_str("\"FBS-01\"").unwrap();
        assert_eq!(serde_json::to_string(&code).unwrap(), "\"FBS-01\"");
        assert!(serde_json::from_str::<MaterialCode>("\"fbs\"").is_err());
        assert!(serde_json::from_str::<RoomId>("\"../x\"").is_err());
    }
}
