//! SPEC §8 equipment and rooms of each laboratory: kept by its QA, read like batches (every
//! role, lab-bound users only in their laboratories). The rules a step applies to them are the
//! domain's (`traza_domain::equipment`); [`check_equipment`] and [`check_room`] are what the
//! step execution calls, inside its write transaction.
//!
//! Both are keyed by laboratory and id; their audit events name them `LAB/ID`.

use std::collections::HashSet;

use chrono::NaiveDate;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use traza_domain::access::{Action, Actor, LabScope};
use traza_domain::codes::{EquipmentId, LabCode, RoomId};
use traza_domain::equipment::{
    Equipment, EquipmentClass, EquipmentRefusal, EquipmentStatus, Room, RoomRefusal,
};
use traza_domain::reconcile::{Mismatch, Reconciler, Table};
use traza_domain::vocab::RoomGrade;

use crate::Store;
use crate::entity::{equipment, rooms};
use crate::error::{ErrorCode, RuleDetail, StoreError, stored};
use crate::materials_audit::unreadable;
use crate::write::{Change, json_of};

/// Changes to a piece of equipment; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct EquipmentUpdate {
    pub class: Option<EquipmentClass>,
    pub status: Option<EquipmentStatus>,
    pub calibration_due: Option<NaiveDate>,
}

/// The key of a laboratory's equipment or room in the audit trail and in verify's reports.
fn key(lab: &str, id: &str) -> String {
    format!("{lab}/{id}")
}

fn equipment_from(m: equipment::Model) -> Result<Equipment, StoreError> {
    Ok(Equipment {
        lab_code: stored("lab code", LabCode::parse(&m.lab_code))?,
        id: stored("equipment id", EquipmentId::parse(&m.id))?,
        class: stored("equipment class", EquipmentClass::parse(&m.class))?,
        status: stored("equipment status", m.status.parse())?,
        calibration_due: m.calibration_due,
    })
}

fn room_from(m: rooms::Model) -> Result<Room, StoreError> {
    Ok(Room {
        lab_code: stored("lab code", LabCode::parse(&m.lab_code))?,
        id: stored("room id", RoomId::parse(&m.id))?,
        grade: stored("room grade", m.grade.parse())?,
    })
}

/// The laboratories whose records `actor` reads, narrowed to `lab` when one is asked for.
fn lab_filter<'a>(actor: &'a Actor, lab: Option<&'a LabCode>) -> Option<Vec<&'a str>> {
    let scope = actor.scope();
    match lab {
        Some(lab) if scope.includes(lab) => Some(vec![lab.as_str()]),
        Some(_) => Some(Vec::new()),
        None => match scope {
            LabScope::All => None,
            LabScope::Labs(_) => Some(actor.labs.iter().map(LabCode::as_str).collect()),
        },
    }
}

/// Checks that a batch of `lab` may use each of `ids` on `day`: the equipment in that order,
/// or `equipment_not_usable` (409) with every reason for every piece at once.
pub(crate) async fn check_equipment(
    db: &impl ConnectionTrait,
    lab: &LabCode,
    ids: &[EquipmentId],
    day: NaiveDate,
) -> Result<Vec<Equipment>, StoreError> {
    let mut found = Vec::new();
    let mut details = Vec::new();
    for id in ids {
        let detail = |r: &EquipmentRefusal| RuleDetail {
            subject: Some(id.to_string()),
            ..RuleDetail::new(r.rule(), format!("equipment {id}: {r}"))
        };
        let Some(m) = equipment::Entity::find_by_id((lab.as_str().to_owned(), id.to_string()))
            .one(db)
            .await?
        else {
            details.push(detail(&EquipmentRefusal::NotOfLab));
            continue;
        };
        let e = equipment_from(m)?;
        match e.usable_on(day) {
            Ok(()) => found.push(e),
            Err(refusals) => details.extend(refusals.iter().map(detail)),
        }
    }
    if details.is_empty() {
        Ok(found)
    } else {
        Err(StoreError::Refused {
            code: ErrorCode::EquipmentNotUsable,
            message: format!(
                "the equipment may not be used: {} rule(s) unmet",
                details.len()
            ),
            details,
        })
    }
}

/// Checks that a step of a batch of `lab` needing `required` (none: any grade) may be done in
/// room `id`: the room, or `room_not_suitable` (409) saying why.
pub(crate) async fn check_room(
    db: &impl ConnectionTrait,
    lab: &LabCode,
    id: &RoomId,
    required: Option<RoomGrade>,
) -> Result<Room, StoreError> {
    let refused = |r: RoomRefusal| StoreError::Refused {
        code: ErrorCode::RoomNotSuitable,
        message: format!("room {id} is not suitable: {r}"),
        details: vec![RuleDetail {
            subject: Some(id.to_string()),
            ..RuleDetail::new(r.rule(), format!("room {id}: {r}"))
        }],
    };
    let room = rooms::Entity::find_by_id((lab.as_str().to_owned(), id.to_string()))
        .one(db)
        .await?
        .ok_or_else(|| refused(RoomRefusal::NotOfLab))?;
    let room = room_from(room)?;
    if let Some(required) = required {
        room.suitable_for(required).map_err(refused)?;
    }
    Ok(room)
}

impl Store {
    /// The equipment of the caller's laboratories (of `lab` only, when given), by laboratory
    /// and id.
    pub async fn list_equipment(
        &self,
        actor: &Actor,
        lab: Option<&LabCode>,
    ) -> Result<Vec<Equipment>, StoreError> {
        actor.may(Action::ReadBatches)?;
        let mut q = equipment::Entity::find()
            .order_by_asc(equipment::Column::LabCode)
            .order_by_asc(equipment::Column::Id);
        if let Some(labs) = lab_filter(actor, lab) {
            q = q.filter(equipment::Column::LabCode.is_in(labs));
        }
        q.all(&self.db)
            .await?
            .into_iter()
            .map(equipment_from)
            .collect()
    }

    /// Adds a piece of equipment to a laboratory (its QA).
    pub async fn create_equipment(
        &self,
        actor: &Actor,
        e: Equipment,
    ) -> Result<Equipment, StoreError> {
        actor.may_in_lab(Action::ManageEquipment, &e.lab_code)?;
        let mut w = self
            .begin_write(actor.username.as_str(), self.source)
            .await?;
        let k = key(e.lab_code.as_str(), e.id.as_str());
        if equipment::Entity::find_by_id((e.lab_code.to_string(), e.id.to_string()))
            .one(&w.tx)
            .await?
            .is_some()
        {
            return Err(StoreError::Duplicate(format!("equipment {k}")));
        }
        equipment::Entity::insert(equipment::ActiveModel {
            lab_code: Set(e.lab_code.to_string()),
            id: Set(e.id.to_string()),
            class: Set(e.class.to_string()),
            status: Set(e.status.as_str().to_owned()),
            calibration_due: Set(e.calibration_due),
            created_at: Set(w.now()),
            updated_at: Set(w.now()),
        })
        .exec_without_returning(&w.tx)
        .await?;
        w.audit(Change {
            action: "equipment.create",
            entity_type: "equipment",
            entity_key: &k,
            before: None,
            after: Some(json_of(&e)),
            reason: None,
        })
        .await?;
        w.commit().await?;
        Ok(e)
    }

    /// Changes a piece of equipment (QA of its laboratory): its class, its status (out of
    /// service, back in service), its calibration's due date.
    pub async fn update_equipment(
        &self,
        actor: &Actor,
        lab: &str,
        id: &str,
        u: EquipmentUpdate,
    ) -> Result<Equipment, StoreError> {
        let lab = LabCode::parse(lab).map_err(|_| StoreError::NotFound("equipment"))?;
        let id = EquipmentId::parse(id).map_err(|_| StoreError::NotFound("equipment"))?;
        actor
            .may_in_lab(Action::ManageEquipment, &lab)
            .map_err(|e| match StoreError::from(e) {
                StoreError::NotFound(_) => StoreError::NotFound("equipment"),
                other => other,
            })?;
        let mut w = self
            .begin_write(actor.username.as_str(), self.source)
            .await?;
        let before = equipment_from(
            equipment::Entity::find_by_id((lab.to_string(), id.to_string()))
                .one(&w.tx)
                .await?
                .ok_or(StoreError::NotFound("equipment"))?,
        )?;
        let after = Equipment {
            class: u.class.unwrap_or_else(|| before.class.clone()),
            status: u.status.unwrap_or(before.status),
            calibration_due: u.calibration_due.unwrap_or(before.calibration_due),
            ..before.clone()
        };
        equipment::Entity::update(equipment::ActiveModel {
            lab_code: Set(lab.to_string()),
            id: Set(id.to_string()),
            class: Set(after.class.to_string()),
            status: Set(after.status.as_str().to_owned()),
            calibration_due: Set(after.calibration_due),
            updated_at: Set(w.now()),
            ..Default::default()
        })
        .exec(&w.tx)
        .await?;
        let k = key(lab.as_str(), id.as_str());
        w.audit(Change {
            action: "equipment.update",
            entity_type: "equipment",
            entity_key: &k,
            before: Some(json_of(&before)),
            after: Some(json_of(&after)),
            reason: None,
        })
        .await?;
        w.commit().await?;
        Ok(after)
    }

    /// The rooms of the caller's laboratories (of `lab` only, when given), by laboratory and
    /// id.
    pub async fn list_rooms(
        &self,
        actor: &Actor,
        lab: Option<&LabCode>,
    ) -> Result<Vec<Room>, StoreError> {
        actor.may(Action::ReadBatches)?;
        let mut q = rooms::Entity::find()
            .order_by_asc(rooms::Column::LabCode)
            .order_by_asc(rooms::Column::Id);
        if let Some(labs) = lab_filter(actor, lab) {
            q = q.filter(rooms::Column::LabCode.is_in(labs));
        }
        q.all(&self.db).await?.into_iter().map(room_from).collect()
    }

    /// Adds a room to a laboratory (its QA).
    pub async fn create_room(&self, actor: &Actor, room: Room) -> Result<Room, StoreError> {
        actor.may_in_lab(Action::ManageEquipment, &room.lab_code)?;
        let mut w = self
            .begin_write(actor.username.as_str(), self.source)
            .await?;
        let k = key(room.lab_code.as_str(), room.id.as_str());
        if rooms::Entity::find_by_id((room.lab_code.to_string(), room.id.to_string()))
            .one(&w.tx)
            .await?
            .is_some()
        {
            return Err(StoreError::Duplicate(format!("room {k}")));
        }
        rooms::Entity::insert(rooms::ActiveModel {
            lab_code: Set(room.lab_code.to_string()),
            id: Set(room.id.to_string()),
            grade: Set(room.grade.as_str().to_owned()),
            created_at: Set(w.now()),
        })
        .exec_without_returning(&w.tx)
        .await?;
        w.audit(Change {
            action: "room.create",
            entity_type: "room",
            entity_key: &k,
            before: None,
            after: Some(json_of(&room)),
            reason: None,
        })
        .await?;
        w.commit().await?;
        Ok(room)
    }
}

/// Test hooks: the step execution's checks, reachable from the store's integration tests
/// (the feature is turned on by `traza-testkit` only).
#[cfg(feature = "test-hooks")]
impl Store {
    /// [`check_equipment`], read-only.
    pub async fn test_check_equipment(
        &self,
        lab: &LabCode,
        ids: &[EquipmentId],
        day: NaiveDate,
    ) -> Result<Vec<Equipment>, StoreError> {
        check_equipment(&self.db, lab, ids, day).await
    }

    /// [`check_room`], read-only.
    pub async fn test_check_room(
        &self,
        lab: &LabCode,
        id: &RoomId,
        required: Option<RoomGrade>,
    ) -> Result<Room, StoreError> {
        check_room(&self.db, lab, id, required).await
    }
}

/// Equipment and rooms against the state their events give; the first difference.
pub(crate) async fn reconcile(
    db: &impl ConnectionTrait,
    rows: &Reconciler,
) -> Result<Option<Mismatch>, StoreError> {
    let mut seen = HashSet::new();
    for m in equipment::Entity::find()
        .order_by_asc(equipment::Column::LabCode)
        .order_by_asc(equipment::Column::Id)
        .all(db)
        .await?
    {
        let k = key(&m.lab_code, &m.id);
        let e = match equipment_from(m) {
            Ok(e) => e,
            Err(e) => return Ok(Some(unreadable(Table::Equipment, k, &e))),
        };
        if let Err(e) = rows.check(Table::Equipment, &k, &json_of(&e)) {
            return Ok(Some(e));
        }
        seen.insert(k);
    }
    if let Some(gone) = rows.first_missing(Table::Equipment, &seen) {
        return Ok(Some(gone));
    }
    let mut seen = HashSet::new();
    for m in rooms::Entity::find()
        .order_by_asc(rooms::Column::LabCode)
        .order_by_asc(rooms::Column::Id)
        .all(db)
        .await?
    {
        let k = key(&m.lab_code, &m.id);
        let room = match room_from(m) {
            Ok(r) => r,
            Err(e) => return Ok(Some(unreadable(Table::Rooms, k, &e))),
        };
        if let Err(e) = rows.check(Table::Rooms, &k, &json_of(&room)) {
            return Ok(Some(e));
        }
        seen.insert(k);
    }
    Ok(rows.first_missing(Table::Rooms, &seen))
}
