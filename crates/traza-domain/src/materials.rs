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
#[path = "materials_tests.rs"]
mod tests;
