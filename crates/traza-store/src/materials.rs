//! SPEC §8 materials: the network's catalogue (kept by the coordination unit), each
//! laboratory's lots (received by its staff or QA, released or rejected by its QA with an
//! electronic signature), and the consumption of lots by the steps of a batch record.
//!
//! Lots are read like batches: by every role, lab-bound users only in their laboratories (a
//! lot of another laboratory is "not found"). The rules are the domain's
//! (`traza_domain::materials`); here are the transactions and their audit events.
//!
//! Consumption is written by the step execution, inside its own [`Write`]: [`check_lots`]
//! first (every refusal of every lot at once), then [`consume`] per lot, or [`give_back`] for
//! a corrected entry. `consume` is safe under concurrency on both databases: the write
//! transaction holds the audit head's lock, so a second step reads the lot as the first left
//! it; and the UPDATE is conditional on the lot's version as read, so even a writer that
//! skipped that lock could not take units already taken.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::Serialize;
use serde_json::json;
use traza_domain::access::{Action, Actor, LabScope};
use traza_domain::clock::lab_date;
use traza_domain::codes::{LabCode, LotId, MaterialCode};
use traza_domain::materials::{
    LotReceipt, LotRefusal, LotSignedRecord, LotStatus, LotUse, Material, MaterialKind,
    MaterialLot, QuantityRefusal, check_disposition, check_lot_use, check_material_change,
};
use traza_domain::validation::{Problem, text};
use traza_domain::vocab::SignatureMeaning;

use crate::Store;
use crate::entity::{lot_signatures, material_lots, materials};
use crate::error::{ErrorCode, RuleDetail, StoreError, stored};
use crate::write::{Change, Write, json_of};

/// The entity type of a lot's audit events.
const LOT: &str = "material_lot";

/// Changes to a material of the catalogue; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct MaterialUpdate {
    pub name: Option<String>,
    pub kind: Option<MaterialKind>,
    pub unit: Option<String>,
}

/// Filters of the lot list; each narrows it.
#[derive(Debug, Clone, Default)]
pub struct LotQuery {
    pub lab: Option<LabCode>,
    pub material: Option<MaterialCode>,
    pub status: Option<LotStatus>,
}

/// The signature that released or rejected a lot.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LotSignatureView {
    pub id: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub lot_id: LotId,
    pub signer: String,
    pub signer_full_name: String,
    pub meaning: SignatureMeaning,
    pub signed_at: DateTime<Utc>,
    pub record_hash: String,
    pub reason: Option<String>,
}

/// A lot as it is read: its stated fields, what is left of it in its material's unit, who
/// received it, and the signature of its disposition once there is one.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LotView {
    #[serde(flatten)]
    pub lot: MaterialLot,
    #[serde(with = "rust_decimal::serde::str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub quantity_available: Decimal,
    /// The material's unit, which every quantity of the lot is in.
    pub unit: String,
    pub received_by: String,
    pub disposition: Option<LotSignatureView>,
}

// --- rows <-> domain ------------------------------------------------------------------------

pub(crate) fn material_from(m: materials::Model) -> Result<Material, StoreError> {
    Ok(Material {
        code: stored("material code", MaterialCode::parse(&m.code))?,
        name: m.name,
        kind: stored("material kind", m.kind.parse())?,
        unit: m.unit,
    })
}

fn decimal(what: &str, text: &str) -> Result<Decimal, StoreError> {
    stored(what, Decimal::from_str(text))
}

pub(crate) fn lot_from(m: &material_lots::Model) -> Result<MaterialLot, StoreError> {
    Ok(MaterialLot {
        lot_id: stored("lot id", LotId::parse(&m.lot_id))?,
        lab_code: stored("lab code", LabCode::parse(&m.lab_code))?,
        material_code: stored("material code", MaterialCode::parse(&m.material_code))?,
        supplier: m.supplier.clone(),
        supplier_lot: m.supplier_lot.clone(),
        received_on: m.received_on,
        expiry_date: m.expiry_date,
        quantity_received: decimal("quantity_received", &m.quantity_received)?,
        quantity_consumed: decimal("quantity_consumed", &m.quantity_consumed)?,
        status: stored("lot status", m.status.parse())?,
    })
}

fn signature_from(m: lot_signatures::Model) -> Result<LotSignatureView, StoreError> {
    Ok(LotSignatureView {
        id: m.id,
        lot_id: stored("lot id", LotId::parse(&m.lot_id))?,
        signer: m.signer,
        signer_full_name: m.signer_full_name,
        meaning: stored("signature meaning", m.meaning.parse())?,
        signed_at: m.signed_at,
        record_hash: m.record_hash,
        reason: m.reason,
    })
}

/// The stored text of a quantity: canonical, so that equal quantities are equal text.
fn quantity_text(d: Decimal) -> String {
    d.normalize().to_string()
}

/// A lot row's view, given its material's unit and its signatures.
fn view_of(
    m: &material_lots::Model,
    unit: String,
    signatures: Vec<lot_signatures::Model>,
) -> Result<LotView, StoreError> {
    let lot = lot_from(m)?;
    let disposition = signatures
        .into_iter()
        .max_by_key(|s| s.id)
        .map(signature_from)
        .transpose()?;
    Ok(LotView {
        quantity_available: lot.quantity_available(),
        lot,
        unit,
        received_by: m.received_by.clone(),
        disposition,
    })
}

// --- reads ------------------------------------------------------------------------------------

async fn load_material(db: &impl ConnectionTrait, code: &str) -> Result<Material, StoreError> {
    material_from(
        materials::Entity::find_by_id(code)
            .one(db)
            .await?
            .ok_or(StoreError::NotFound("material"))?,
    )
}

fn scoped<Q: QueryFilter>(q: Q, scope: &LabScope) -> Q {
    match scope {
        LabScope::All => q,
        LabScope::Labs(labs) => {
            q.filter(material_lots::Column::LabCode.is_in(labs.iter().map(LabCode::as_str)))
        }
    }
}

/// The lot row `lot_id`, if the actor's scope includes its laboratory.
async fn lot_row(
    db: &impl ConnectionTrait,
    actor: &Actor,
    lot_id: &str,
) -> Result<material_lots::Model, StoreError> {
    // A text that cannot be a lot id names no lot; it never reaches the database.
    let id = LotId::parse(lot_id).map_err(|_| StoreError::NotFound("lot"))?;
    scoped(
        material_lots::Entity::find_by_id(id.as_str()),
        &actor.scope(),
    )
    .one(db)
    .await?
    .ok_or(StoreError::NotFound("lot"))
}

/// The views of `rows`, their units and signatures read in one query each.
async fn views_of(
    db: &impl ConnectionTrait,
    rows: Vec<material_lots::Model>,
) -> Result<Vec<LotView>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let codes: HashSet<&str> = rows.iter().map(|r| r.material_code.as_str()).collect();
    let units: HashMap<String, String> = materials::Entity::find()
        .filter(materials::Column::Code.is_in(codes))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.code, m.unit))
        .collect();
    let mut signatures: HashMap<String, Vec<lot_signatures::Model>> = HashMap::new();
    for s in lot_signatures::Entity::find()
        .filter(lot_signatures::Column::LotId.is_in(rows.iter().map(|r| r.lot_id.as_str())))
        .all(db)
        .await?
    {
        signatures.entry(s.lot_id.clone()).or_default().push(s);
    }
    rows.iter()
        .map(|r| {
            let unit = units
                .get(&r.material_code)
                .cloned()
                .ok_or_else(|| StoreError::Corrupt(format!("lot {} has no material", r.lot_id)))?;
            view_of(r, unit, signatures.remove(&r.lot_id).unwrap_or_default())
        })
        .collect()
}

async fn view_of_row(
    db: &impl ConnectionTrait,
    row: material_lots::Model,
) -> Result<LotView, StoreError> {
    views_of(db, vec![row])
        .await?
        .pop()
        .ok_or(StoreError::NotFound("lot"))
}

// --- writes -----------------------------------------------------------------------------------

/// The next lot id of `lab` in `year`: one more than the highest given. Writes are serialised
/// by the audit head's lock, so two receipts never take the same number; the primary key
/// would refuse it anyway.
async fn next_lot_id(w: &Write, lab: &LabCode, year: i32) -> Result<LotId, StoreError> {
    let prefix = LotId::generated_prefix(lab, year);
    let ids: Vec<String> = material_lots::Entity::find()
        .select_only()
        .column(material_lots::Column::LotId)
        .filter(material_lots::Column::LabCode.eq(lab.as_str()))
        .filter(material_lots::Column::LotId.starts_with(&prefix))
        .into_tuple()
        .all(&w.tx)
        .await?;
    let last = ids
        .iter()
        .filter_map(|id| id.strip_prefix(&prefix)?.parse::<u32>().ok())
        .max()
        .unwrap_or(0);
    Ok(LotId::generated(lab, year, last.saturating_add(1)))
}

/// Saves a lot's changed quantity or status, but only if its row is still at `read_version`:
/// a lot changed since it was read is refused, never overwritten.
async fn save_lot(w: &Write, lot: &MaterialLot, read_version: i64) -> Result<(), StoreError> {
    let done = material_lots::Entity::update_many()
        .set(material_lots::ActiveModel {
            quantity_consumed: Set(quantity_text(lot.quantity_consumed)),
            status: Set(lot.status.as_str().to_owned()),
            version: Set(read_version + 1),
            updated_at: Set(w.now()),
            ..Default::default()
        })
        .filter(material_lots::Column::LotId.eq(lot.lot_id.as_str()))
        .filter(material_lots::Column::Version.eq(read_version))
        .exec(&w.tx)
        .await?;
    if done.rows_affected != 1 {
        return Err(not_usable(
            lot.lot_id.as_str(),
            vec![RuleDetail::new(
                "lot_changed",
                format!(
                    "lot {}: it changed while this was being recorded; try again",
                    lot.lot_id
                ),
            )],
        ));
    }
    Ok(())
}

/// `material_not_usable` (409) with its details.
fn not_usable(what: &str, details: Vec<RuleDetail>) -> StoreError {
    StoreError::Refused {
        code: ErrorCode::MaterialNotUsable,
        message: format!("{what} may not be used: {} rule(s) unmet", details.len()),
        details,
    }
}

/// A lot refusal as a detail: the lot it is about is its subject.
fn lot_detail(lot_id: &str, r: &LotRefusal) -> RuleDetail {
    RuleDetail {
        subject: Some(lot_id.to_owned()),
        ..RuleDetail::new(r.rule(), format!("lot {lot_id}: {r}"))
    }
}

/// One lot and how much of it an entry takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LotTake {
    pub lot_id: LotId,
    pub quantity: Decimal,
}

/// Checks, without changing anything, that each lot of `takes` may be used by a batch of `lab`
/// on `day` for one of `materials` (the step's material codes): the lots in the order first
/// named, or `material_not_usable` with every refusal of every lot at once. A lot named twice
/// is judged on the sum of its quantities. Call it inside the step's [`Write`], then
/// [`consume`] each.
pub(crate) async fn check_lots(
    db: &impl ConnectionTrait,
    lab: &LabCode,
    materials: &[&str],
    takes: &[LotTake],
    day: NaiveDate,
) -> Result<Vec<MaterialLot>, StoreError> {
    let mut wanted: BTreeMap<&LotId, Decimal> = BTreeMap::new();
    let mut order: Vec<&LotId> = Vec::new();
    for t in takes {
        match wanted.entry(&t.lot_id) {
            Entry::Vacant(v) => {
                order.push(&t.lot_id);
                v.insert(t.quantity);
            }
            Entry::Occupied(mut o) => {
                // Saturating: a sum past Decimal::MAX is more than any lot holds, refused below.
                *o.get_mut() = o.get().saturating_add(t.quantity)
            }
        }
    }
    let mut lots = Vec::new();
    let mut details = Vec::new();
    for id in order {
        let row = material_lots::Entity::find_by_id(id.as_str())
            .one(db)
            .await?;
        let Some(row) = row else {
            details.push(lot_detail(id.as_str(), &LotRefusal::NotOfLab));
            continue;
        };
        let lot = lot_from(&row)?;
        let use_ = LotUse {
            lab,
            materials,
            quantity: wanted[id],
            on: day,
        };
        match check_lot_use(&lot, &use_) {
            Ok(()) => lots.push(lot),
            Err(refusals) => details.extend(refusals.iter().map(|r| lot_detail(id.as_str(), r))),
        }
    }
    if details.is_empty() {
        Ok(lots)
    } else {
        Err(not_usable("the lots", details))
    }
}

/// Takes `quantity` of lot `lot_id` for batch `batch_number`, in the step's write transaction,
/// with its audit event (`lot.consume`). Refused with `material_not_usable` when less is left
/// (or the lot is unknown, or changed since it was read); the lot's other rules are
/// [`check_lots`]'s.
pub(crate) async fn consume(
    w: &mut Write,
    lot_id: &LotId,
    quantity: Decimal,
    batch_number: &str,
) -> Result<MaterialLot, StoreError> {
    move_quantity(w, lot_id, quantity, batch_number, Movement::Consume).await
}

/// Gives `quantity` back to lot `lot_id` (the materials of a corrected entry of batch
/// `batch_number`), with its audit event (`lot.give_back`). Refused when more would come back
/// than was consumed.
pub(crate) async fn give_back(
    w: &mut Write,
    lot_id: &LotId,
    quantity: Decimal,
    batch_number: &str,
) -> Result<MaterialLot, StoreError> {
    move_quantity(w, lot_id, quantity, batch_number, Movement::GiveBack).await
}

#[derive(Clone, Copy)]
enum Movement {
    Consume,
    GiveBack,
}

async fn move_quantity(
    w: &mut Write,
    lot_id: &LotId,
    quantity: Decimal,
    batch_number: &str,
    movement: Movement,
) -> Result<MaterialLot, StoreError> {
    let row = material_lots::Entity::find_by_id(lot_id.as_str())
        .one(&w.tx)
        .await?
        .ok_or_else(|| {
            not_usable(
                lot_id.as_str(),
                vec![lot_detail(lot_id.as_str(), &LotRefusal::NotOfLab)],
            )
        })?;
    let mut lot = lot_from(&row)?;
    let before = lot.quantity_consumed;
    let (moved, action) = match movement {
        Movement::Consume => (lot.consume(quantity), "lot.consume"),
        Movement::GiveBack => (lot.give_back(quantity), "lot.give_back"),
    };
    moved.map_err(|e| match e {
        QuantityRefusal::NotPositive => StoreError::invalid("quantity", e),
        QuantityRefusal::NotEnough { available } => not_usable(
            lot_id.as_str(),
            vec![lot_detail(
                lot_id.as_str(),
                &LotRefusal::NotEnough {
                    available,
                    wanted: quantity,
                },
            )],
        ),
        QuantityRefusal::MoreThanConsumed { .. } => {
            StoreError::refused(ErrorCode::InvalidTransition, format!("lot {lot_id}: {e}"))
        }
    })?;
    save_lot(w, &lot, row.version).await?;
    w.audit(Change {
        action,
        entity_type: LOT,
        entity_key: lot_id.as_str(),
        before: Some(json!({ "quantity_consumed": quantity_text(before) })),
        after: Some(json!({
            "lot": json_of(&lot),
            "quantity_consumed": quantity_text(lot.quantity_consumed),
            "batch_number": batch_number,
            "quantity": quantity_text(quantity),
        })),
        reason: None,
    })
    .await?;
    Ok(lot)
}

// --- use cases --------------------------------------------------------------------------------

impl Store {
    pub async fn list_materials(&self, actor: &Actor) -> Result<Vec<Material>, StoreError> {
        actor.may(Action::ReadNetwork)?;
        materials::Entity::find()
            .order_by_asc(materials::Column::Code)
            .all(&self.db)
            .await?
            .into_iter()
            .map(material_from)
            .collect()
    }

    pub async fn get_material(&self, actor: &Actor, code: &str) -> Result<Material, StoreError> {
        actor.may(Action::ReadNetwork)?;
        load_material(&self.db, code).await
    }

    /// Adds a material to the network's catalogue (coordinator).
    pub async fn create_material(
        &self,
        actor: &Actor,
        material: Material,
    ) -> Result<Material, StoreError> {
        actor.may(Action::ManageMaterials)?;
        let material = material.checked()?;
        let mut w = self
            .begin_write(actor.username.as_str(), self.source)
            .await?;
        if materials::Entity::find_by_id(material.code.as_str())
            .one(&w.tx)
            .await?
            .is_some()
        {
            return Err(StoreError::Duplicate(format!("material {}", material.code)));
        }
        materials::Entity::insert(materials::ActiveModel {
            code: Set(material.code.as_str().to_owned()),
            name: Set(material.name.clone()),
            kind: Set(material.kind.as_str().to_owned()),
            unit: Set(material.unit.clone()),
            created_at: Set(w.now()),
            updated_at: Set(w.now()),
        })
        .exec_without_returning(&w.tx)
        .await?;
        w.audit(Change {
            action: "material.create",
            entity_type: "material",
            entity_key: material.code.as_str(),
            before: None,
            after: Some(json_of(&material)),
            reason: None,
        })
        .await?;
        w.commit().await?;
        Ok(material)
    }

    /// Changes a material of the catalogue (coordinator). Its unit is fixed once a lot of it
    /// has been received (409 `record_locked`).
    pub async fn update_material(
        &self,
        actor: &Actor,
        code: &str,
        u: MaterialUpdate,
    ) -> Result<Material, StoreError> {
        actor.may(Action::ManageMaterials)?;
        let mut w = self
            .begin_write(actor.username.as_str(), self.source)
            .await?;
        let before = load_material(&w.tx, code).await?;
        let after = Material {
            name: u.name.unwrap_or_else(|| before.name.clone()),
            kind: u.kind.unwrap_or(before.kind),
            unit: u.unit.unwrap_or_else(|| before.unit.clone()),
            ..before.clone()
        }
        .checked()?;
        let has_lots = material_lots::Entity::find()
            .filter(material_lots::Column::MaterialCode.eq(code))
            .count(&w.tx)
            .await?
            > 0;
        check_material_change(&before, &after, has_lots)
            .map_err(|e| StoreError::refused(ErrorCode::RecordLocked, e.to_string()))?;
        materials::Entity::update(materials::ActiveModel {
            code: Set(code.to_owned()),
            name: Set(after.name.clone()),
            kind: Set(after.kind.as_str().to_owned()),
            unit: Set(after.unit.clone()),
            updated_at: Set(w.now()),
            ..Default::default()
        })
        .exec(&w.tx)
        .await?;
        w.audit(Change {
            action: "material.update",
            entity_type: "material",
            entity_key: code,
            before: Some(json_of(&before)),
            after: Some(json_of(&after)),
            reason: None,
        })
        .await?;
        w.commit().await?;
        Ok(after)
    }

    /// Records the receipt of a lot at a laboratory (its staff or QA): in quarantine, with a
    /// lot id of the laboratory's.
    pub async fn receive_lot(
        &self,
        actor: &Actor,
        receipt: LotReceipt,
    ) -> Result<LotView, StoreError> {
        actor.may_in_lab(Action::ReceiveLots, &receipt.lab_code)?;
        let mut w = self
            .begin_write(actor.username.as_str(), self.source)
            .await?;
        let material = match load_material(&w.tx, receipt.material_code.as_str()).await {
            Err(StoreError::NotFound(_)) => {
                return Err(StoreError::invalid(
                    "material_code",
                    Problem::UnknownMaterial,
                ));
            }
            other => other?,
        };
        let today = lab_date(w.now());
        let lot_id = next_lot_id(&w, &receipt.lab_code, today.year()).await?;
        let lot = receipt.accept(lot_id, today)?;
        let row = material_lots::ActiveModel {
            lot_id: Set(lot.lot_id.as_str().to_owned()),
            lab_code: Set(lot.lab_code.as_str().to_owned()),
            material_code: Set(lot.material_code.as_str().to_owned()),
            supplier: Set(lot.supplier.clone()),
            supplier_lot: Set(lot.supplier_lot.clone()),
            received_on: Set(lot.received_on),
            expiry_date: Set(lot.expiry_date),
            quantity_received: Set(quantity_text(lot.quantity_received)),
            quantity_consumed: Set(quantity_text(lot.quantity_consumed)),
            status: Set(lot.status.as_str().to_owned()),
            version: Set(1),
            received_by: Set(w.actor().to_owned()),
            created_at: Set(w.now()),
            updated_at: Set(w.now()),
        };
        material_lots::Entity::insert(row)
            .exec_without_returning(&w.tx)
            .await?;
        w.audit(Change {
            action: "lot.receive",
            entity_type: LOT,
            entity_key: lot.lot_id.as_str(),
            before: None,
            after: Some(json_of(&lot)),
            reason: None,
        })
        .await?;
        w.commit().await?;
        Ok(LotView {
            quantity_available: lot.quantity_available(),
            lot,
            unit: material.unit,
            received_by: actor.username.as_str().to_owned(),
            disposition: None,
        })
    }

    /// Lots in the caller's scope, by lot id.
    pub async fn list_lots(&self, actor: &Actor, q: &LotQuery) -> Result<Vec<LotView>, StoreError> {
        actor.may(Action::ReadBatches)?;
        let mut query = scoped(material_lots::Entity::find(), &actor.scope())
            .order_by_asc(material_lots::Column::LotId);
        if let Some(lab) = &q.lab {
            query = query.filter(material_lots::Column::LabCode.eq(lab.as_str()));
        }
        if let Some(m) = &q.material {
            query = query.filter(material_lots::Column::MaterialCode.eq(m.as_str()));
        }
        if let Some(s) = q.status {
            query = query.filter(material_lots::Column::Status.eq(s.as_str()));
        }
        views_of(&self.db, query.all(&self.db).await?).await
    }

    pub async fn get_lot(&self, actor: &Actor, lot_id: &str) -> Result<LotView, StoreError> {
        actor.may(Action::ReadBatches)?;
        let row = lot_row(&self.db, actor, lot_id).await?;
        view_of_row(&self.db, row).await
    }

    /// QA of the lot's laboratory releases it from quarantine with an electronic signature
    /// (meaning `material_released`).
    pub async fn release_lot(
        &self,
        actor: &Actor,
        lot_id: &str,
        password: &str,
    ) -> Result<LotView, StoreError> {
        self.dispose_lot(actor, lot_id, password, LotStatus::Released, None)
            .await
    }

    /// QA of the lot's laboratory rejects it, with a reason and an electronic signature
    /// (meaning `material_rejected`).
    pub async fn reject_lot(
        &self,
        actor: &Actor,
        lot_id: &str,
        password: &str,
        reason: &str,
    ) -> Result<LotView, StoreError> {
        let reason = text(reason, 4000).map_err(|e| StoreError::invalid("reason", e))?;
        self.dispose_lot(actor, lot_id, password, LotStatus::Rejected, Some(&reason))
            .await
    }

    async fn dispose_lot(
        &self,
        actor: &Actor,
        lot_id: &str,
        password: &str,
        to: LotStatus,
        reason: Option<&str>,
    ) -> Result<LotView, StoreError> {
        // Scope (404) and role (403) first, as for any write; then the password, outside the
        // write transaction (argon2 never holds the write lock).
        let row = lot_row(&self.db, actor, lot_id).await?;
        actor.may_in_lab(
            Action::DisposeLots,
            &stored("lab code", LabCode::parse(&row.lab_code))?,
        )?;
        self.verify_signature_password(actor, password).await?;
        let mut w = self
            .begin_write(actor.username.as_str(), self.source)
            .await?;
        let row = lot_row(&w.tx, actor, lot_id).await?;
        let mut lot = lot_from(&row)?;
        let meaning = check_disposition(&lot, to, lab_date(w.now()))
            .map_err(|e| StoreError::refused(ErrorCode::InvalidTransition, e.to_string()))?;
        let record = LotSignedRecord::new(
            actor.username.as_str(),
            &actor.full_name,
            meaning,
            w.now(),
            reason,
            &lot,
        );
        let inserted = lot_signatures::Entity::insert(lot_signatures::ActiveModel {
            lot_id: Set(row.lot_id.clone()),
            signer: Set(actor.username.as_str().to_owned()),
            signer_full_name: Set(actor.full_name.clone()),
            meaning: Set(meaning.as_str().to_owned()),
            signed_at: Set(w.now()),
            record_hash: Set(record.hash()),
            reason: Set(reason.map(str::to_owned)),
            ..Default::default()
        })
        .exec(&w.tx)
        .await?;
        let signature = LotSignatureView {
            id: inserted.last_insert_id,
            lot_id: lot.lot_id.clone(),
            signer: actor.username.as_str().to_owned(),
            signer_full_name: actor.full_name.clone(),
            meaning,
            signed_at: w.now(),
            record_hash: record.hash(),
            reason: reason.map(str::to_owned),
        };
        let before = lot.status;
        lot.status = to;
        save_lot(&w, &lot, row.version).await?;
        w.audit(Change {
            action: match to {
                LotStatus::Released => "lot.release",
                _ => "lot.reject",
            },
            entity_type: LOT,
            entity_key: lot.lot_id.as_str(),
            before: Some(json!({ "status": before })),
            after: Some(json!({
                "lot": json_of(&lot),
                "status": lot.status,
                "signature": json_of(&signature),
                "record": record.canonical(),
            })),
            reason,
        })
        .await?;
        let row = lot_row(&w.tx, actor, lot_id).await?;
        let view = view_of_row(&w.tx, row).await?;
        w.commit().await?;
        Ok(view)
    }
}
