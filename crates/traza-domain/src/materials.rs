//! Materials and their lots (SPEC §8 "Materials"): the network's catalogue, kept by the
//! coordination unit, and each laboratory's lots, received by its staff into quarantine and
//! released or rejected by its QA with an electronic signature. A lot's available quantity is
//! what was received less what steps consumed: never below zero, never above what was
//! received (EU GMP Part IV §6.x: starting and raw materials are used only once released and
//! within their shelf life; every quantity used is accounted for).
//!
//! Where §8 is silent, decided here:
//! - a lot is usable **up to and including** its expiry date and refused from the next day,
//!   as a batch may be administered on its own expiry date;
//! - a lot that expired while in quarantine may be rejected, never released;
//! - the receipt date is not after today, and the expiry date not before the receipt date;
//! - a material's unit cannot change once a lot of it has been received: those quantities
//!   were counted in the old unit;
//! - releasing a lot is not a four-eyes signature (§8 names none for lots): any QA of the
//!   laboratory signs it, the person who received it included;
//! - a lot refused as "not of this laboratory" says nothing else about it, so that another
//!   laboratory's stock does not leak through a refusal.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::codes::{LabCode, LotId, MaterialCode};
use crate::problem::{Explain, Problem};
use crate::signing::{SignedRecordProblem, Signer, record_hash};
use crate::validation::{FieldError, FieldErrors, text};
use crate::vocab::{SignatureMeaning, vocabulary};

vocabulary! {
    /// What a material is to a step (SPEC §8).
    MaterialKind, "material kind" {
        /// Cells or tissue the product is made from.
        StartingMaterial => "starting_material",
        Reagent => "reagent",
        /// Culture medium and its supplements.
        Medium => "medium",
        /// A viral vector (gene therapy).
        Vector => "vector",
        /// A matrix the cells grow on (tissue engineering).
        Scaffold => "scaffold",
        Consumable => "consumable",
    }
}

vocabulary! {
    /// Where a lot stands: received into `quarantine`, then `released` or `rejected` by QA of
    /// its laboratory, for good.
    LotStatus, "lot status" {
        Quarantine => "quarantine",
        Released => "released",
        Rejected => "rejected",
    }
}

/// A material of the network's catalogue.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Material {
    pub code: MaterialCode,
    pub name: String,
    pub kind: MaterialKind,
    /// The unit its lots are counted in (`mL`, `vial`, `µg`).
    pub unit: String,
}

/// Longest material name, and unit.
pub const NAME_MAX: usize = 200;
pub const UNIT_MAX: usize = 20;

impl Material {
    /// The material with its texts trimmed, or every invalid field.
    pub fn checked(self) -> Result<Material, FieldErrors> {
        let mut errors = Vec::new();
        let name = text(&self.name, NAME_MAX)
            .map_err(|e| errors.push(FieldError::new("name", e)))
            .ok();
        let unit = text(&self.unit, UNIT_MAX)
            .map_err(|e| errors.push(FieldError::new("unit", e)))
            .ok();
        match (name, unit) {
            (Some(name), Some(unit)) if errors.is_empty() => Ok(Material { name, unit, ..self }),
            _ => Err(FieldErrors(errors)),
        }
    }
}

/// A change of a material's unit refused: lots of it were counted in the old one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the unit of {code} cannot change from '{from}': lots of it were received and counted in it"
)]
pub struct UnitInUse {
    pub code: MaterialCode,
    pub from: String,
}

impl Explain for UnitInUse {}

/// Whether `after` may replace `before` in the catalogue, `has_lots` telling whether any lot
/// of it was received.
pub fn check_material_change(
    before: &Material,
    after: &Material,
    has_lots: bool,
) -> Result<(), UnitInUse> {
    if has_lots && before.unit != after.unit {
        return Err(UnitInUse {
            code: before.code.clone(),
            from: before.unit.clone(),
        });
    }
    Ok(())
}

/// A quantity as typed (`"2.5"`): an exact decimal above zero, normalised.
pub fn quantity(raw: &str) -> Result<Decimal, Problem> {
    let d = crate::validation::decimal(raw)?;
    if d <= Decimal::ZERO {
        return Err(Problem::NotPositive);
    }
    Ok(d)
}

/// A lot of a material received by a laboratory.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaterialLot {
    pub lot_id: LotId,
    pub lab_code: LabCode,
    pub material_code: MaterialCode,
    pub supplier: String,
    pub supplier_lot: String,
    pub received_on: NaiveDate,
    /// The last day the lot may be used.
    pub expiry_date: NaiveDate,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub quantity_received: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub quantity_consumed: Decimal,
    pub status: LotStatus,
}

/// A lot as its laboratory's staff record its receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LotReceipt {
    pub lab_code: LabCode,
    pub material_code: MaterialCode,
    pub supplier: String,
    pub supplier_lot: String,
    pub received_on: NaiveDate,
    pub expiry_date: NaiveDate,
    pub quantity_received: Decimal,
}

impl LotReceipt {
    /// The lot this receipt makes, in quarantine with nothing consumed, or every invalid
    /// field at once. `today` is the laboratory's day (the domain has no clock).
    pub fn accept(self, lot_id: LotId, today: NaiveDate) -> Result<MaterialLot, FieldErrors> {
        let mut errors = Vec::new();
        let mut field = |name: &str, p: Problem| errors.push(FieldError::new(name, p));
        let supplier = text(&self.supplier, 200)
            .map_err(|p| field("supplier", p))
            .ok();
        let supplier_lot = text(&self.supplier_lot, 100)
            .map_err(|p| field("supplier_lot", p))
            .ok();
        if self.received_on > today {
            field(
                "received_on",
                Problem::AfterToday {
                    today: today.to_string(),
                },
            );
        }
        if self.expiry_date < self.received_on {
            field(
                "expiry_date",
                Problem::BeforeField {
                    other: "received_on".into(),
                },
            );
        }
        if self.quantity_received <= Decimal::ZERO {
            field("quantity_received", Problem::NotPositive);
        }
        match (supplier, supplier_lot) {
            (Some(supplier), Some(supplier_lot)) if errors.is_empty() => Ok(MaterialLot {
                lot_id,
                lab_code: self.lab_code,
                material_code: self.material_code,
                supplier,
                supplier_lot,
                received_on: self.received_on,
                expiry_date: self.expiry_date,
                quantity_received: self.quantity_received.normalize(),
                quantity_consumed: Decimal::ZERO,
                status: LotStatus::Quarantine,
            }),
            _ => Err(FieldErrors(errors)),
        }
    }
}

/// Why a quantity cannot be taken from or given back to a lot.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityRefusal {
    #[error("the quantity must be greater than 0")]
    NotPositive,
    #[error("only {available} of the lot is left")]
    NotEnough { available: Decimal },
    /// A give-back larger than what was taken: it would make more than was received.
    #[error("only {consumed} of the lot was consumed; more cannot be given back")]
    MoreThanConsumed { consumed: Decimal },
}

impl Explain for QuantityRefusal {
    fn problem(&self) -> Option<Problem> {
        Some(match self {
            QuantityRefusal::NotPositive => Problem::NotPositive,
            QuantityRefusal::NotEnough { available } => Problem::LotNotEnough {
                available: available.to_string(),
            },
            QuantityRefusal::MoreThanConsumed { .. } => return None,
        })
    }
}

impl MaterialLot {
    /// What is left to use: received less consumed, never below zero.
    pub fn quantity_available(&self) -> Decimal {
        (self.quantity_received - self.quantity_consumed)
            .max(Decimal::ZERO)
            .normalize()
    }

    /// Whether the lot may be used on `day`: up to and including its expiry date.
    pub fn expired_on(&self, day: NaiveDate) -> bool {
        day > self.expiry_date
    }

    /// Takes `quantity` from the lot. Refused, and the lot unchanged, if it is not above zero
    /// or more than is left.
    pub fn consume(&mut self, quantity: Decimal) -> Result<(), QuantityRefusal> {
        if quantity <= Decimal::ZERO {
            return Err(QuantityRefusal::NotPositive);
        }
        let available = self.quantity_available();
        if quantity > available {
            return Err(QuantityRefusal::NotEnough { available });
        }
        self.quantity_consumed = (self.quantity_consumed + quantity).normalize();
        Ok(())
    }

    /// Gives `quantity` back to the lot (a corrected step's materials). Refused, and the lot
    /// unchanged, if it is not above zero or more than was consumed.
    pub fn give_back(&mut self, quantity: Decimal) -> Result<(), QuantityRefusal> {
        if quantity <= Decimal::ZERO {
            return Err(QuantityRefusal::NotPositive);
        }
        if quantity > self.quantity_consumed {
            return Err(QuantityRefusal::MoreThanConsumed {
                consumed: self.quantity_consumed,
            });
        }
        self.quantity_consumed = (self.quantity_consumed - quantity).normalize();
        Ok(())
    }
}

/// One intended use of a lot at a step: by a batch of `lab`, for one of the `materials` the
/// step uses (their codes, as the master record names them), `quantity` of it, on `on` (the
/// laboratory's day).
#[derive(Debug, Clone, Copy)]
pub struct LotUse<'a> {
    pub lab: &'a LabCode,
    pub materials: &'a [&'a str],
    pub quantity: Decimal,
    pub on: NaiveDate,
}

/// Why a lot may not be used at a step (SPEC §8 `material_not_usable`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LotRefusal {
    #[error("the lot is not of this laboratory")]
    NotOfLab,
    #[error("the lot is not released (it is {status})")]
    NotReleased { status: LotStatus },
    #[error("the lot expired on {expiry_date}")]
    Expired { expiry_date: NaiveDate },
    #[error("the lot is of {material_code}, which the step does not use")]
    OtherMaterial { material_code: MaterialCode },
    #[error("only {available} of the lot is left, {wanted} asked for")]
    NotEnough { available: Decimal, wanted: Decimal },
}

impl LotRefusal {
    /// Stable machine-readable rule name, for the error's details.
    pub fn rule(&self) -> &'static str {
        match self {
            LotRefusal::NotOfLab => "lot_not_of_lab",
            LotRefusal::NotReleased { .. } => "lot_not_released",
            LotRefusal::Expired { .. } => "lot_expired",
            LotRefusal::OtherMaterial { .. } => "lot_other_material",
            LotRefusal::NotEnough { .. } => "lot_quantity_insufficient",
        }
    }
}

impl Explain for LotRefusal {
    fn problem(&self) -> Option<Problem> {
        Some(match self {
            LotRefusal::NotOfLab => Problem::LotNotOfLab,
            LotRefusal::NotReleased { status } => Problem::LotNotReleased {
                status: status.as_str().to_owned(),
            },
            LotRefusal::Expired { expiry_date } => Problem::LotExpired {
                date: expiry_date.to_string(),
            },
            LotRefusal::OtherMaterial { material_code } => Problem::LotOtherMaterial {
                material: material_code.to_string(),
            },
            LotRefusal::NotEnough { available, .. } => Problem::LotNotEnough {
                available: available.to_string(),
            },
        })
    }
}

/// Decides whether `lot` may be used as `u` says: every reason it may not, at once. A lot of
/// another laboratory is refused for that alone.
pub fn check_lot_use(lot: &MaterialLot, u: &LotUse<'_>) -> Result<(), Vec<LotRefusal>> {
    if lot.lab_code != *u.lab {
        return Err(vec![LotRefusal::NotOfLab]);
    }
    let mut refusals = Vec::new();
    if lot.status != LotStatus::Released {
        refusals.push(LotRefusal::NotReleased { status: lot.status });
    }
    if lot.expired_on(u.on) {
        refusals.push(LotRefusal::Expired {
            expiry_date: lot.expiry_date,
        });
    }
    if !u.materials.contains(&lot.material_code.as_str()) {
        refusals.push(LotRefusal::OtherMaterial {
            material_code: lot.material_code.clone(),
        });
    }
    let available = lot.quantity_available();
    if u.quantity > available {
        refusals.push(LotRefusal::NotEnough {
            available,
            wanted: u.quantity,
        });
    }
    if refusals.is_empty() {
        Ok(())
    } else {
        Err(refusals)
    }
}

/// Why a lot's disposition is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DispositionRefusal {
    #[error("the lot is {status}: only a lot in quarantine is released or rejected")]
    NotInQuarantine { status: LotStatus },
    #[error("the lot expired on {expiry_date}: it may be rejected, not released")]
    Expired { expiry_date: NaiveDate },
    #[error("a lot is released or rejected, not put back in quarantine")]
    NotADisposition,
}

impl Explain for DispositionRefusal {}

/// Whether QA may move `lot` to `to` on `today`, and the meaning the signature carries.
pub fn check_disposition(
    lot: &MaterialLot,
    to: LotStatus,
    today: NaiveDate,
) -> Result<SignatureMeaning, DispositionRefusal> {
    let meaning = match to {
        LotStatus::Released => SignatureMeaning::MaterialReleased,
        LotStatus::Rejected => SignatureMeaning::MaterialRejected,
        LotStatus::Quarantine => return Err(DispositionRefusal::NotADisposition),
    };
    if lot.status != LotStatus::Quarantine {
        return Err(DispositionRefusal::NotInQuarantine { status: lot.status });
    }
    if to == LotStatus::Released && lot.expired_on(today) {
        return Err(DispositionRefusal::Expired {
            expiry_date: lot.expiry_date,
        });
    }
    Ok(meaning)
}

/// The version of [`LotSignedRecord`] this build writes.
pub const LOT_MANIFEST_VERSION: u32 = 1;

/// What a signature on a lot's disposition covers (21 CFR 11.70): the signer, meaning, time
/// and reason, and the lot as QA reviewed it (still in quarantine).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LotSignedRecord {
    pub manifest: u32,
    pub signer: Signer,
    pub lot: MaterialLot,
}

impl LotSignedRecord {
    pub fn new(
        username: &str,
        full_name: &str,
        meaning: SignatureMeaning,
        signed_at: DateTime<Utc>,
        reason: Option<&str>,
        lot: &MaterialLot,
    ) -> Self {
        Self {
            manifest: LOT_MANIFEST_VERSION,
            signer: Signer::new(username, full_name, meaning, signed_at, reason),
            lot: lot.clone(),
        }
    }

    /// The canonical text: what is hashed, and what the signing event keeps.
    pub fn canonical(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The record hash the signature stores: SHA-256 of the canonical text, in hex.
    pub fn hash(&self) -> String {
        record_hash(&self.canonical())
    }
}

/// Verifies a lot signature (as its event recorded it: `signer`, `meaning`, `signed_at`,
/// `record_hash`) against the record the event carries: the record hashes to the signature's
/// hash, is a known manifest in canonical form, and names the signature's signer, meaning and
/// time and the lot `lot_id`.
pub fn check_lot_signed_record(
    signature: &Value,
    record: &str,
    lot_id: &str,
) -> Result<(), SignedRecordProblem> {
    if signature.get("record_hash").and_then(Value::as_str) != Some(record_hash(record).as_str()) {
        return Err(SignedRecordProblem::HashMismatch);
    }
    let parsed: Value =
        serde_json::from_str(record).map_err(|e| SignedRecordProblem::Malformed(e.to_string()))?;
    match parsed.get("manifest").and_then(Value::as_u64) {
        Some(1) => {}
        Some(other) => return Err(SignedRecordProblem::UnknownManifest(other)),
        None => {
            return Err(SignedRecordProblem::Malformed(
                "manifest is not a number".into(),
            ));
        }
    }
    let manifest: LotSignedRecord = serde_json::from_value(parsed)
        .map_err(|e| SignedRecordProblem::Malformed(e.to_string()))?;
    if manifest.canonical() != record {
        return Err(SignedRecordProblem::NotCanonical);
    }
    let text = |k: &str| {
        signature
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let disagrees = |field: &'static str, in_record: &str, in_signature: String| {
        Err(SignedRecordProblem::Disagrees {
            field,
            in_record: in_record.to_owned(),
            in_signature,
        })
    };
    if manifest.signer.username != text("signer") {
        return disagrees("signer", &manifest.signer.username, text("signer"));
    }
    if manifest.signer.meaning.as_str() != text("meaning") {
        return disagrees("meaning", manifest.signer.meaning.as_str(), text("meaning"));
    }
    let same_time = match (
        DateTime::parse_from_rfc3339(&manifest.signer.signed_at),
        DateTime::parse_from_rfc3339(&text("signed_at")),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same_time {
        return disagrees("signed_at", &manifest.signer.signed_at, text("signed_at"));
    }
    if manifest.lot.lot_id.as_str() != lot_id {
        return disagrees("lot_id", manifest.lot.lot_id.as_str(), lot_id.to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn gra() -> LabCode {
        LabCode::parse("GRA-UPCIT").unwrap()
    }

    fn receipt() -> LotReceipt {
        LotReceipt {
            lab_code: gra(),
            material_code: MaterialCode::parse("MED-XVIVO15").unwrap(),
            supplier: " Lonza ".into(),
            supplier_lot: "0000987654".into(),
            received_on: d("2026-11-20"),
            expiry_date: d("2027-05-31"),
            quantity_received: dec("10.00"),
        }
    }

    fn lot(status: LotStatus) -> MaterialLot {
        let mut lot = receipt()
            .accept(LotId::generated(&gra(), 2026, 1), d("2026-12-01"))
            .unwrap();
        lot.status = status;
        lot
    }

    #[test]
    fn a_receipt_makes_a_quarantined_lot_with_everything_available() {
        let lot = lot(LotStatus::Quarantine);
        assert_eq!(lot.status, LotStatus::Quarantine);
        assert_eq!(lot.supplier, "Lonza");
        assert_eq!(lot.quantity_received.to_string(), "10");
        assert_eq!(lot.quantity_available(), dec("10"));
        // Decimals travel as strings.
        let v = serde_json::to_value(&lot).unwrap();
        assert_eq!(v["quantity_received"], json!("10"));
        assert_eq!(v["quantity_consumed"], json!("0"));
        assert_eq!(v["lot_id"], json!("GRA-UPCIT-L2026-0001"));
    }

    #[test]
    fn a_receipt_reports_every_invalid_field() {
        let bad = LotReceipt {
            supplier: "  ".into(),
            received_on: d("2026-12-02"),
            expiry_date: d("2026-12-01"),
            quantity_received: Decimal::ZERO,
            ..receipt()
        };
        let errors = bad
            .accept(LotId::generated(&gra(), 2026, 1), d("2026-12-01"))
            .unwrap_err()
            .0;
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "supplier",
                "received_on",
                "expiry_date",
                "quantity_received"
            ]
        );
        assert_eq!(
            errors[2].problem,
            Some(Problem::BeforeField {
                other: "received_on".into()
            })
        );
        // Expiring on the day of receipt is allowed: it may be used that day.
        let same_day = LotReceipt {
            expiry_date: d("2026-11-20"),
            ..receipt()
        };
        assert!(
            same_day
                .accept(LotId::generated(&gra(), 2026, 2), d("2026-12-01"))
                .is_ok()
        );
    }

    #[test]
    fn quantities_are_exact_positive_decimals() {
        assert_eq!(quantity("2.50"), Ok(dec("2.5")));
        assert_eq!(quantity("0"), Err(Problem::NotPositive));
        assert_eq!(quantity("-1"), Err(Problem::NotPositive));
        assert!(matches!(quantity("dos"), Err(Problem::NotDecimal { .. })));
    }

    #[test]
    fn consumption_and_give_back_keep_the_lot_within_what_was_received() {
        let mut lot = lot(LotStatus::Released);
        lot.consume(dec("2.5")).unwrap();
        lot.consume(dec("7.5")).unwrap();
        assert_eq!(lot.quantity_available(), Decimal::ZERO);
        assert_eq!(
            lot.consume(dec("0.001")),
            Err(QuantityRefusal::NotEnough {
                available: Decimal::ZERO
            })
        );
        assert_eq!(
            lot.consume(Decimal::ZERO),
            Err(QuantityRefusal::NotPositive)
        );
        lot.give_back(dec("2.5")).unwrap();
        assert_eq!(lot.quantity_available(), dec("2.5"));
        assert_eq!(
            lot.give_back(dec("8")),
            Err(QuantityRefusal::MoreThanConsumed {
                consumed: dec("7.5")
            })
        );
        assert_eq!(lot.quantity_consumed.to_string(), "7.5");
    }

    #[test]
    fn a_usable_lot_is_of_the_lab_released_unexpired_of_the_material_and_enough() {
        let lot = lot(LotStatus::Released);
        let lab = gra();
        let materials = ["MED-XVIVO15", "FBS-01"];
        let ok = LotUse {
            lab: &lab,
            materials: &materials,
            quantity: dec("10"),
            on: d("2027-05-31"),
        };
        // On its expiry date it may still be used.
        assert_eq!(check_lot_use(&lot, &ok), Ok(()));
        let late = LotUse {
            on: d("2027-06-01"),
            ..ok
        };
        assert_eq!(
            check_lot_use(&lot, &late),
            Err(vec![LotRefusal::Expired {
                expiry_date: d("2027-05-31")
            }])
        );
        // Every reason at once.
        let quarantined = self::lot(LotStatus::Quarantine);
        let wrong = LotUse {
            materials: &["FBS-01"],
            quantity: dec("10.5"),
            ..late
        };
        let rules: Vec<_> = check_lot_use(&quarantined, &wrong)
            .unwrap_err()
            .iter()
            .map(LotRefusal::rule)
            .collect();
        assert_eq!(
            rules,
            [
                "lot_not_released",
                "lot_expired",
                "lot_other_material",
                "lot_quantity_insufficient"
            ]
        );
        // Another laboratory's lot: that reason alone.
        let sev = LabCode::parse("SEV-UPRC").unwrap();
        let elsewhere = LotUse { lab: &sev, ..wrong };
        assert_eq!(
            check_lot_use(&quarantined, &elsewhere),
            Err(vec![LotRefusal::NotOfLab])
        );
        // Said as data, for a page in its language.
        assert_eq!(
            LotRefusal::NotReleased {
                status: LotStatus::Rejected
            }
            .problem(),
            Some(Problem::LotNotReleased {
                status: "rejected".into()
            })
        );
    }

    #[test]
    fn only_a_quarantined_lot_is_disposed_and_an_expired_one_only_rejected() {
        let today = d("2026-12-01");
        let q = lot(LotStatus::Quarantine);
        assert_eq!(
            check_disposition(&q, LotStatus::Released, today),
            Ok(SignatureMeaning::MaterialReleased)
        );
        assert_eq!(
            check_disposition(&q, LotStatus::Rejected, today),
            Ok(SignatureMeaning::MaterialRejected)
        );
        assert_eq!(
            check_disposition(&q, LotStatus::Quarantine, today),
            Err(DispositionRefusal::NotADisposition)
        );
        let released = lot(LotStatus::Released);
        assert_eq!(
            check_disposition(&released, LotStatus::Rejected, today),
            Err(DispositionRefusal::NotInQuarantine {
                status: LotStatus::Released
            })
        );
        let after_expiry = d("2027-06-01");
        assert!(matches!(
            check_disposition(&q, LotStatus::Released, after_expiry),
            Err(DispositionRefusal::Expired { .. })
        ));
        assert!(check_disposition(&q, LotStatus::Rejected, after_expiry).is_ok());
    }

    #[test]
    fn a_unit_is_fixed_once_lots_exist() {
        let m = Material {
            code: MaterialCode::parse("MED-XVIVO15").unwrap(),
            name: "X-VIVO 15".into(),
            kind: MaterialKind::Medium,
            unit: "mL".into(),
        };
        let litres = Material {
            unit: "L".into(),
            ..m.clone()
        };
        assert!(check_material_change(&m, &litres, false).is_ok());
        assert!(check_material_change(&m, &litres, true).is_err());
        let renamed = Material {
            name: "X-VIVO 15 (Lonza)".into(),
            ..m.clone()
        };
        assert!(check_material_change(&m, &renamed, true).is_ok());
        let blank = Material {
            name: " ".into(),
            unit: "x".repeat(21),
            ..m
        };
        let fields: Vec<_> = blank
            .checked()
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["name", "unit"]);
    }

    fn signed(meaning: SignatureMeaning) -> (LotSignedRecord, Value) {
        let at: DateTime<Utc> = "2026-12-01T09:30:00.250000Z".parse().unwrap();
        let m = LotSignedRecord::new(
            "isabel.morales",
            "Isabel Morales",
            meaning,
            at,
            None,
            &lot(LotStatus::Quarantine),
        );
        let sig = json!({"signer": "isabel.morales", "meaning": meaning,
                         "signed_at": "2026-12-01T09:30:00.25Z", "record_hash": m.hash()});
        (m, sig)
    }

    #[test]
    fn a_lot_signature_verifies_against_its_record_and_nothing_else() {
        let (m, sig) = signed(SignatureMeaning::MaterialReleased);
        let id = "GRA-UPCIT-L2026-0001";
        assert_eq!(check_lot_signed_record(&sig, &m.canonical(), id), Ok(()));
        let again: LotSignedRecord = serde_json::from_str(&m.canonical()).unwrap();
        assert_eq!(again.canonical(), m.canonical());
        let edited = m.canonical().replace("0000987654", "0000987655");
        assert_eq!(
            check_lot_signed_record(&sig, &edited, id),
            Err(SignedRecordProblem::HashMismatch)
        );
        assert!(matches!(
            check_lot_signed_record(&sig, &m.canonical(), "GRA-UPCIT-L2026-0002"),
            Err(SignedRecordProblem::Disagrees {
                field: "lot_id",
                ..
            })
        ));
        let mut other = sig.clone();
        other["meaning"] = json!("material_rejected");
        assert!(matches!(
            check_lot_signed_record(&other, &m.canonical(), id),
            Err(SignedRecordProblem::Disagrees {
                field: "meaning",
                ..
            })
        ));
        let mut later = sig;
        later["signed_at"] = json!("2026-12-01T09:31:00Z");
        assert!(matches!(
            check_lot_signed_record(&later, &m.canonical(), id),
            Err(SignedRecordProblem::Disagrees {
                field: "signed_at",
                ..
            })
        ));
    }

    #[test]
    fn the_roles_of_section_8() {
        use crate::access::Action::*;
        use crate::vocab::Role;
        let who = |action| {
            Role::ALL
                .iter()
                .copied()
                .filter(|r| r.may(action))
                .collect::<Vec<_>>()
        };
        assert_eq!(who(ManageMaterials), [Role::Coordinator]);
        assert_eq!(who(ReceiveLots), [Role::LabStaff, Role::Qa]);
        assert_eq!(who(DisposeLots), [Role::Qa]);
        assert_eq!(who(ManageEquipment), [Role::Qa]);
        // Lots, equipment and rooms are read like batches: by every role, in its scope.
        assert_eq!(who(ReadBatches), Role::ALL);
    }

    #[test]
    fn audit_verify_follows_a_lot_through_its_events() {
        use crate::audit::AuditEvent;
        use crate::reconcile::{Reconciler, Table};
        let event = |action: &str, after: Value| AuditEvent {
            id: 1,
            at: "2026-12-01T09:30:00Z".parse().unwrap(),
            actor: "isabel.morales".into(),
            action: action.into(),
            entity_type: "material_lot".into(),
            entity_key: "GRA-UPCIT-L2026-0001".into(),
            before: None,
            after: Some(after),
            reason: None,
            source: crate::vocab::Source::Api,
        };
        let key = "GRA-UPCIT-L2026-0001";
        let mut lot = lot(LotStatus::Quarantine);
        let mut r = Reconciler::default();
        r.observe(&event("lot.receive", serde_json::to_value(&lot).unwrap()));
        let (m, mut sig) = signed(SignatureMeaning::MaterialReleased);
        sig["id"] = json!(7);
        lot.status = LotStatus::Released;
        r.observe(&event(
            "lot.release",
            json!({"lot": lot, "status": "released", "signature": sig, "record": m.canonical()}),
        ));
        lot.consume(dec("2.5")).unwrap();
        r.observe(&event(
            "lot.consume",
            json!({"lot": lot, "quantity_consumed": "2.5", "batch_number": "B-1", "quantity": "2.5"}),
        ));
        assert_eq!(r.unsigned_record(), None);
        let stored = serde_json::to_value(&lot).unwrap();
        assert_eq!(r.check(Table::MaterialLots, key, &stored), Ok(()));
        let mut edited = stored.clone();
        edited["quantity_consumed"] = json!("0");
        assert_eq!(
            r.check(Table::MaterialLots, key, &edited)
                .unwrap_err()
                .column,
            Some("quantity_consumed")
        );
        assert_eq!(r.check(Table::LotSignatures, "7", &sig), Ok(()));
        // A record that is not what the signature hashed is named.
        let mut forged = Reconciler::default();
        forged.observe(&event(
            "lot.release",
            json!({"lot": lot, "signature": sig, "record": m.canonical().replace("Lonza", "Otro")}),
        ));
        assert_eq!(
            forged.unsigned_record().map(|m| (m.table, m.column)),
            Some(("lot_signatures", Some("record_hash")))
        );
    }

    /// A step taking from the lot, or a correction giving back.
    #[derive(Debug, Clone)]
    enum Move {
        Consume(Decimal),
        GiveBack(Decimal),
    }

    fn amount() -> impl Strategy<Value = Decimal> {
        // Zero, tiny and large amounts, with up to three decimals.
        (0i64..20_000, 0u32..4).prop_map(|(n, scale)| Decimal::new(n, scale))
    }

    fn moves() -> impl Strategy<Value = Vec<Move>> {
        prop::collection::vec(
            prop_oneof![
                amount().prop_map(Move::Consume),
                amount().prop_map(Move::GiveBack),
            ],
            0..60,
        )
    }

    proptest! {
        /// No sequence of consumptions and give-backs drives availability below zero or above
        /// what was received; a refused move leaves the lot as it was.
        #[test]
        fn availability_stays_between_zero_and_received(received in amount(), moves in moves()) {
            let mut lot = lot(LotStatus::Released);
            lot.quantity_received = received.max(Decimal::new(1, 3));
            for m in moves {
                let before = lot.clone();
                let outcome = match m {
                    Move::Consume(q) => lot.consume(q),
                    Move::GiveBack(q) => lot.give_back(q),
                };
                if outcome.is_err() {
                    prop_assert_eq!(&lot, &before);
                }
                prop_assert!(lot.quantity_consumed >= Decimal::ZERO);
                prop_assert!(lot.quantity_consumed <= lot.quantity_received);
                prop_assert!(lot.quantity_available() >= Decimal::ZERO);
                prop_assert!(lot.quantity_available() <= lot.quantity_received);
                prop_assert_eq!(
                    lot.quantity_available() + lot.quantity_consumed,
                    lot.quantity_received
                );
            }
        }

        /// Consuming all that is available always succeeds and leaves nothing; a lot is used
        /// up exactly, not to within a rounding.
        #[test]
        fn the_last_units_can_be_taken_exactly(received in amount(), first in amount()) {
            let mut lot = lot(LotStatus::Released);
            lot.quantity_received = received.max(Decimal::new(1, 3));
            let _ = lot.consume(first);
            let rest = lot.quantity_available();
            if rest > Decimal::ZERO {
                prop_assert_eq!(lot.consume(rest), Ok(()));
            }
            prop_assert_eq!(lot.quantity_available(), Decimal::ZERO);
        }
    }
}
