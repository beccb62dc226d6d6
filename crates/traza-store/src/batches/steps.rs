//! Executing a guided batch (SPEC §8): step entries against the master record, their
//! verification by a second person, the exceptions they raise and QA's review of them. The
//! rules are the domain's (`traza_domain::mbr`); equipment, rooms and lots are checked by
//! their modules, inside the same write.

use rust_decimal::Decimal;
use traza_domain::codes::{EquipmentId, LotId, RoomId};
use traza_domain::mbr::{
    EntryRefusal, MasterRecord, NewEntry, ParameterValue, RecordedException, ResolutionRefusal,
    StepEntry, VerificationRefusal, check_entry, check_resolution, check_verification,
};
use traza_domain::vocab::{ExceptionKind, ExceptionSeverity};

use super::*;
use crate::entity::{batch_exceptions, master_records, step_entries};
use crate::materials::LotTake;

/// What a step entry says, as typed.
#[derive(Debug, Clone)]
pub struct StepInput {
    pub performed_at: DateTime<Utc>,
    pub room_id: Option<String>,
    pub equipment_ids: Vec<String>,
    pub parameters: Vec<ParameterValue>,
    /// `(lot_id, quantity)` of each lot the step consumed.
    pub materials: Vec<(String, Decimal)>,
    pub note: Option<String>,
    pub corrects: Option<i64>,
    pub reason: Option<String>,
}

/// A lot an entry consumed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct LotUsed {
    pub lot_id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub quantity: Decimal,
}

/// One step entry as the API shows it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct StepEntryView {
    pub id: i64,
    pub step_code: String,
    pub performed_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub performed_by: String,
    pub room_id: Option<String>,
    pub equipment_ids: Vec<String>,
    pub parameters: Vec<ParameterValue>,
    pub materials: Vec<LotUsed>,
    pub note: Option<String>,
    pub corrects: Option<i64>,
    pub reason: Option<String>,
    pub verified_by: Option<String>,
    pub verified_at: Option<DateTime<Utc>>,
}

/// An exception of a batch's record.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct ExceptionView {
    pub id: i64,
    pub entry_id: i64,
    pub kind: ExceptionKind,
    pub severity: ExceptionSeverity,
    /// `open` or `resolved`.
    pub status: String,
    pub step_code: String,
    pub message: String,
    pub deviation_id: Option<i64>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution: Option<String>,
}

/// A recorded entry and the exceptions it raised.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct RecordedStep {
    #[serde(flatten)]
    pub entry: StepEntryView,
    pub exceptions: Vec<ExceptionView>,
}

const OPEN: &str = "open";
const RESOLVED: &str = "resolved";

fn entry_view(m: &step_entries::Model) -> Result<StepEntryView, StoreError> {
    Ok(StepEntryView {
        id: m.id,
        step_code: m.step_code.clone(),
        performed_at: m.performed_at,
        recorded_at: m.recorded_at,
        performed_by: m.performed_by.clone(),
        room_id: m.room_id.clone(),
        equipment_ids: stored("equipment ids", serde_json::from_str(&m.equipment_ids))?,
        parameters: stored("parameters", serde_json::from_str(&m.parameters))?,
        materials: stored("materials", serde_json::from_str(&m.materials))?,
        note: m.note.clone(),
        corrects: m.corrects,
        reason: m.reason.clone(),
        verified_by: m.verified_by.clone(),
        verified_at: m.verified_at,
    })
}

fn exception_view(m: &batch_exceptions::Model) -> Result<ExceptionView, StoreError> {
    Ok(ExceptionView {
        id: m.id,
        entry_id: m.entry_id,
        kind: stored("exception kind", m.kind.parse())?,
        severity: stored("exception severity", m.severity.parse())?,
        status: m.status.clone(),
        step_code: m.step_code.clone(),
        message: m.message.clone(),
        deviation_id: m.deviation_id,
        resolved_by: m.resolved_by.clone(),
        resolved_at: m.resolved_at,
        resolution: m.resolution.clone(),
    })
}

/// The row of an entry as its audit event records it.
fn audited_entry(m: &step_entries::Model) -> serde_json::Value {
    json!({
        "id": m.id, "batch_id": m.batch_id, "step_code": m.step_code,
        "performed_by": m.performed_by, "room_id": m.room_id,
        "equipment_ids": m.equipment_ids, "parameters": m.parameters, "materials": m.materials,
        "note": m.note, "corrects": m.corrects, "reason": m.reason,
        "verified_by": m.verified_by,
    })
}

fn audited_exception(m: &batch_exceptions::Model) -> serde_json::Value {
    json!({
        "id": m.id, "batch_id": m.batch_id, "entry_id": m.entry_id, "kind": m.kind,
        "severity": m.severity, "step_code": m.step_code, "message": m.message,
        "status": m.status, "deviation_id": m.deviation_id, "resolved_by": m.resolved_by,
        "resolution": m.resolution,
    })
}

impl StepEntryView {
    /// The entry as the domain's rules read it.
    pub fn as_entry(&self) -> StepEntry {
        StepEntry {
            id: self.id,
            step_code: self.step_code.clone(),
            performed_at: self.performed_at,
            recorded_at: self.recorded_at,
            performed_by: self.performed_by.clone(),
            corrects: self.corrects,
            verified_by: self.verified_by.clone(),
        }
    }
}

fn domain_entry(m: &step_entries::Model) -> StepEntry {
    StepEntry {
        id: m.id,
        step_code: m.step_code.clone(),
        performed_at: m.performed_at,
        recorded_at: m.recorded_at,
        performed_by: m.performed_by.clone(),
        corrects: m.corrects,
        verified_by: m.verified_by.clone(),
    }
}

pub(crate) async fn entries_of(
    db: &impl ConnectionTrait,
    batch_id: i64,
) -> Result<Vec<step_entries::Model>, StoreError> {
    Ok(step_entries::Entity::find()
        .filter(step_entries::Column::BatchId.eq(batch_id))
        .order_by_asc(step_entries::Column::Id)
        .all(db)
        .await?)
}

pub(crate) async fn exceptions_of(
    db: &impl ConnectionTrait,
    batch_id: i64,
) -> Result<Vec<batch_exceptions::Model>, StoreError> {
    Ok(batch_exceptions::Entity::find()
        .filter(batch_exceptions::Column::BatchId.eq(batch_id))
        .order_by_asc(batch_exceptions::Column::Id)
        .all(db)
        .await?)
}

/// The master record guiding batch `batch_id`, or `None` for an unguided batch.
pub(crate) async fn guiding_record(
    db: &impl ConnectionTrait,
    batch_id: i64,
) -> Result<Option<MasterRecord>, StoreError> {
    let Some((id, _)) = crate::master_records::guide_of(db, batch_id).await? else {
        return Ok(None);
    };
    let m = master_records::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("master record {id} is gone")))?;
    Ok(Some(MasterRecord {
        id: m.id,
        product_code: m.product_code,
        lab_code: m.lab_code,
        version: u32::try_from(m.version).unwrap_or(0),
        steps: stored("master record steps", serde_json::from_str(&m.steps))?,
        author: m.author,
        approved_by: m.approved_by,
        approved_at: m.approved_at,
        effective_from: m.effective_from,
    }))
}

/// What a signature on a guided batch covers of its execution (manifest version 2): the
/// master record's id and version, every step entry and every exception as audited; `None`
/// for an unguided batch.
pub(crate) async fn signed_part(
    db: &impl ConnectionTrait,
    batch_id: i64,
) -> Result<Option<serde_json::Value>, StoreError> {
    let Some((mbr_id, version)) = crate::master_records::guide_of(db, batch_id).await? else {
        return Ok(None);
    };
    let entries: Vec<serde_json::Value> = entries_of(db, batch_id)
        .await?
        .iter()
        .map(audited_entry)
        .collect();
    let exceptions: Vec<serde_json::Value> = exceptions_of(db, batch_id)
        .await?
        .iter()
        .map(audited_exception)
        .collect();
    Ok(Some(json!({
        "mbr_id": mbr_id,
        "mbr_version": version,
        "entries": entries,
        "exceptions": exceptions,
    })))
}

/// The record rules of release for a guided batch (`batch_record_incomplete`,
/// `unresolved_exception`), as rule details; none for an unguided batch.
pub(crate) async fn record_rule_details(
    db: &impl ConnectionTrait,
    batch_id: i64,
) -> Result<Vec<RuleDetail>, StoreError> {
    let Some(mbr) = guiding_record(db, batch_id).await? else {
        return Ok(Vec::new());
    };
    let entries: Vec<StepEntry> = entries_of(db, batch_id)
        .await?
        .iter()
        .map(domain_entry)
        .collect();
    let exceptions = recorded_exceptions(db, batch_id).await?;
    Ok(
        traza_domain::mbr::record_blockers(&mbr, &entries, &exceptions)
            .into_iter()
            .map(|b| {
                let (subject, message) = match &b {
                    traza_domain::mbr::RecordBlocker::StepMissing(code) => (
                        code.clone(),
                        format!("step {code} of the master record is not recorded"),
                    ),
                    traza_domain::mbr::RecordBlocker::VerificationMissing(code) => {
                        (code.clone(), format!("step {code} is not verified"))
                    }
                    traza_domain::mbr::RecordBlocker::UnresolvedException { id, kind } => (
                        format!("#{id}"),
                        format!("exception {id} ({kind}) is not resolved"),
                    ),
                };
                RuleDetail {
                    subject: Some(subject),
                    ..RuleDetail::new(b.rule(), message)
                }
            })
            .collect(),
    )
}

async fn recorded_exceptions(
    db: &impl ConnectionTrait,
    batch_id: i64,
) -> Result<Vec<RecordedException>, StoreError> {
    exceptions_of(db, batch_id)
        .await?
        .iter()
        .map(|e| {
            Ok(RecordedException {
                id: e.id,
                kind: stored("exception kind", e.kind.parse())?,
                severity: stored("exception severity", e.severity.parse())?,
                step_code: e.step_code.clone(),
                resolved: e.status == RESOLVED,
            })
        })
        .collect()
}

fn entry_refusal(e: EntryRefusal) -> StoreError {
    match e {
        EntryRefusal::UnknownStep(_) => StoreError::NotFound("step"),
        EntryRefusal::Invalid(errors) => StoreError::Invalid(errors),
        EntryRefusal::NotCorrectable(_) | EntryRefusal::AlreadyRecorded { .. } => {
            StoreError::invalid("corrects", e.to_string())
        }
        EntryRefusal::CorrectionWithoutReason => {
            StoreError::invalid("reason", traza_domain::validation::Problem::ReasonRequired)
        }
    }
}

fn parse_all<T, E: traza_domain::validation::Explain>(
    f: &mut Fields,
    field: &str,
    raw: &[String],
    parse: impl Fn(&str) -> Result<T, E>,
) -> Vec<T> {
    raw.iter()
        .enumerate()
        .filter_map(|(i, r)| f.check(&format!("{field}[{i}]"), parse(r)))
        .collect()
}

impl Store {
    /// Records an entry of step `code` of a guided batch: room, equipment and lots checked
    /// (409 when not usable), parameters against their limits; the exceptions it raises are
    /// recorded with it (a critical parameter out of limits opens a deviation too).
    pub async fn record_step(
        &self,
        actor: &Actor,
        number: &str,
        code: &str,
        input: StepInput,
    ) -> Result<RecordedStep, StoreError> {
        let mut f = Fields::default();
        let equipment_ids = parse_all(
            &mut f,
            "equipment_ids",
            &input.equipment_ids,
            EquipmentId::parse,
        );
        let room_id = f
            .check_opt("room_id", input.room_id.as_deref(), RoomId::parse)
            .flatten();
        let mut takes = Vec::new();
        for (i, (lot, quantity)) in input.materials.iter().enumerate() {
            if let Some(lot_id) = f.check(&format!("materials[{i}].lot_id"), LotId::parse(lot)) {
                f.ensure(
                    *quantity > Decimal::ZERO,
                    &format!("materials[{i}].quantity"),
                    traza_domain::validation::Problem::NotPositive,
                );
                takes.push(LotTake {
                    lot_id,
                    quantity: *quantity,
                });
            }
        }
        let note = f
            .check(
                "note",
                traza_domain::validation::optional_text(input.note.as_deref(), 4000),
            )
            .flatten();
        f.finish()?;
        let mut w = self.write_for(actor).await?;
        let mut l = self
            .load_for_write(&w, actor, Action::RecordBatchData, number, None)
            .await?;
        if !l.batch.status.accepts_records() {
            return Err(refused_transition(format_args!(
                "a batch that is {} takes no more steps",
                l.batch.status
            )));
        }
        let mbr = guiding_record(&w.tx, l.id)
            .await?
            .ok_or(StoreError::NotFound("master record of the batch"))?;
        let step = mbr.step(code).ok_or(StoreError::NotFound("step"))?.clone();
        let today = crate::master_records::lab_today();
        let lab = l.batch.lab_code.clone();
        // Where and with what: the room's grade, each equipment class the step needs, the lots.
        match (&room_id, step.room_grade) {
            (Some(room), required) => {
                crate::equipment::check_room(&w.tx, &lab, room, required).await?;
            }
            (None, Some(_)) => {
                return Err(StoreError::invalid(
                    "room_id",
                    traza_domain::validation::Problem::Empty,
                ));
            }
            (None, None) => {}
        }
        let equipment =
            crate::equipment::check_equipment(&w.tx, &lab, &equipment_ids, today).await?;
        let mut missing = Fields::default();
        for class in &step.equipment {
            missing.ensure(
                equipment.iter().any(|e| e.class.is(class)),
                "equipment_ids",
                traza_domain::validation::Problem::NotOneOf {
                    text: String::new(),
                    values: vec![class.clone()],
                },
            );
        }
        missing.finish()?;
        let materials: Vec<&str> = step
            .materials
            .iter()
            .map(|m| m.material_code.as_str())
            .collect();
        // A correction gives the corrected entry's lots back first, so that it may take them
        // again (the whole balance included). A correction the rules then refuse rolls back
        // with the rest of the write.
        let earlier_rows = entries_of(&w.tx, l.id).await?;
        let earlier: Vec<StepEntry> = earlier_rows.iter().map(domain_entry).collect();
        if let Some(corrected) = input.corrects
            && let Some(old) = earlier_rows.iter().find(|e| e.id == corrected)
        {
            let old_lots: Vec<LotUsed> = stored("materials", serde_json::from_str(&old.materials))?;
            for lot in old_lots {
                let id = stored("lot id", LotId::parse(&lot.lot_id))?;
                crate::materials::give_back(&mut w, &id, lot.quantity, number).await?;
            }
        }
        let lots = crate::materials::check_lots(&w.tx, &lab, &materials, &takes, today).await?;
        let used: Vec<(String, Decimal)> = takes
            .iter()
            .map(|t| {
                let material = lots
                    .iter()
                    .find(|lot| lot.lot_id == t.lot_id)
                    .map(|lot| lot.material_code.as_str().to_owned())
                    .unwrap_or_default();
                (material, t.quantity)
            })
            .collect();
        let performed_at = traza_domain::audit::audit_time(input.performed_at);
        let raised = check_entry(
            &mbr,
            &earlier,
            &NewEntry {
                step_code: code,
                performed_at,
                recorded_at: w.now(),
                parameters: &input.parameters,
                materials: &used,
                corrects: input.corrects,
            },
            input.reason.as_deref(),
        )
        .map_err(entry_refusal)?;
        for t in &takes {
            crate::materials::consume(&mut w, &t.lot_id, t.quantity, number).await?;
        }
        let lots_used: Vec<LotUsed> = takes
            .iter()
            .map(|t| LotUsed {
                lot_id: t.lot_id.as_str().to_owned(),
                quantity: t.quantity,
            })
            .collect();
        let inserted = step_entries::Entity::insert(step_entries::ActiveModel {
            batch_id: Set(l.id),
            step_code: Set(code.to_owned()),
            performed_at: Set(performed_at),
            recorded_at: Set(w.now()),
            performed_by: Set(w.actor().to_owned()),
            room_id: Set(room_id.map(|r| r.to_string())),
            equipment_ids: Set(json!(
                equipment_ids
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
            )
            .to_string()),
            parameters: Set(crate::write::json_of(&input.parameters).to_string()),
            materials: Set(crate::write::json_of(&lots_used).to_string()),
            note: Set(note),
            corrects: Set(input.corrects),
            reason: Set(input.reason.as_deref().map(str::trim).map(str::to_owned)),
            ..Default::default()
        })
        .exec(&w.tx)
        .await?;
        let row = step_entries::Entity::find_by_id(inserted.last_insert_id)
            .one(&w.tx)
            .await?
            .ok_or(StoreError::NotFound("step entry"))?;
        w.audit(Change {
            action: "batch.step",
            entity_type: "batch",
            entity_key: number,
            before: None,
            after: Some(audited_entry(&row)),
            reason: input.reason.as_deref(),
        })
        .await?;
        let mut exceptions = Vec::new();
        for r in raised {
            let deviation_id = if r.opens_deviation {
                let description = format!("Critical parameter out of limits: {}", r.message);
                let d = super::records::insert_deviation(
                    &mut w,
                    l.id,
                    number,
                    description,
                    DeviationSeverity::Major,
                )
                .await?;
                Some(d.id)
            } else {
                None
            };
            let inserted = batch_exceptions::Entity::insert(batch_exceptions::ActiveModel {
                batch_id: Set(l.id),
                entry_id: Set(row.id),
                kind: Set(r.kind.as_str().to_owned()),
                severity: Set(r.severity.as_str().to_owned()),
                step_code: Set(r.step_code.clone()),
                message: Set(r.message.clone()),
                status: Set(OPEN.to_owned()),
                deviation_id: Set(deviation_id),
                ..Default::default()
            })
            .exec(&w.tx)
            .await?;
            let e = batch_exceptions::Entity::find_by_id(inserted.last_insert_id)
                .one(&w.tx)
                .await?
                .ok_or(StoreError::NotFound("exception"))?;
            w.audit(Change {
                action: "batch.exception",
                entity_type: "batch",
                entity_key: number,
                before: None,
                after: Some(audited_exception(&e)),
                reason: None,
            })
            .await?;
            exceptions.push(exception_view(&e)?);
        }
        save_batch(&w, l.id, l.version, &l.read, &mut l.batch).await?;
        let entry = entry_view(&row)?;
        w.commit().await?;
        Ok(RecordedStep { entry, exceptions })
    }

    /// A second person of the laboratory verifies the current entry of step `code` with an
    /// electronic signature (meaning `checked`): their own username and password, at the same
    /// screen or their own. The performer may not (four eyes).
    pub async fn verify_step(
        &self,
        actor: &Actor,
        number: &str,
        code: &str,
        verifier: &str,
        password: &str,
    ) -> Result<StepEntryView, StoreError> {
        // The caller is in the laboratory; the verifier must be too, and signs for themself.
        // An unknown verifier is refused like a wrong password, after as long (a password is
        // checked against a decoy hash), and the password is checked before the verifier's
        // laboratory: neither the answer nor its time tells whether a username exists.
        let row = self.batch_row(actor, number).await?;
        let lab = stored("lab code", LabCode::parse(&row.lab_code))?;
        actor.may_in_lab(Action::RecordBatchData, &lab)?;
        let verifier = &match self.actor(verifier).await {
            Ok(v) => v,
            Err(StoreError::NotFound(_)) => {
                crate::users::refuse_unknown_signer(password).await;
                return Err(StoreError::InvalidSignature);
            }
            Err(e) => return Err(e),
        };
        self.verify_signature_password(verifier, password).await?;
        verifier.may_in_lab(Action::RecordBatchData, &lab)?;
        let mut w = self
            .begin_write(verifier.username.as_str(), self.source)
            .await?;
        let mut l = self
            .load_for_write(&w, verifier, Action::RecordBatchData, number, None)
            .await?;
        if !l.batch.status.accepts_records() {
            return Err(refused_transition(format_args!(
                "a batch that is {} takes no more verifications",
                l.batch.status
            )));
        }
        let mbr = guiding_record(&w.tx, l.id)
            .await?
            .ok_or(StoreError::NotFound("master record of the batch"))?;
        let rows = entries_of(&w.tx, l.id).await?;
        let entries: Vec<StepEntry> = rows.iter().map(domain_entry).collect();
        let entry =
            check_verification(&mbr, &entries, code, verifier.username.as_str()).map_err(|e| {
                match e {
                    VerificationRefusal::OwnStep => {
                        StoreError::refused(ErrorCode::FourEyes, e.to_string())
                    }
                    VerificationRefusal::NothingToVerify(_) => StoreError::NotFound("step entry"),
                    VerificationRefusal::NotRequired | VerificationRefusal::AlreadyVerified(_) => {
                        refused_transition(e)
                    }
                }
            })?;
        let before = rows
            .iter()
            .find(|r| r.id == entry.id)
            .cloned()
            .ok_or(StoreError::NotFound("step entry"))?;
        step_entries::Entity::update(step_entries::ActiveModel {
            id: Set(before.id),
            verified_by: Set(Some(verifier.username.as_str().to_owned())),
            verified_at: Set(Some(w.now())),
            ..Default::default()
        })
        .exec(&w.tx)
        .await?;
        let after = step_entries::Entity::find_by_id(before.id)
            .one(&w.tx)
            .await?
            .ok_or(StoreError::NotFound("step entry"))?;
        let mut audited = audited_entry(&after);
        if let Some(obj) = audited.as_object_mut() {
            obj.insert(
                "signature".into(),
                json!({"signer": verifier.username.as_str(), "signer_full_name": verifier.full_name,
                       "meaning": SignatureMeaning::Checked.as_str(), "signed_at": w.now()}),
            );
        }
        w.audit(Change {
            action: "batch.step_verify",
            entity_type: "batch",
            entity_key: number,
            before: Some(audited_entry(&before)),
            after: Some(audited),
            reason: None,
        })
        .await?;
        save_batch(&w, l.id, l.version, &l.read, &mut l.batch).await?;
        w.commit().await?;
        entry_view(&after)
    }

    /// A recall trace (SPEC §8): the lot, and every batch in the actor's scope whose current
    /// step entries consumed it, with every patient who received one. A lot of another
    /// laboratory is not found for a lab-bound actor.
    pub async fn trace_lot(
        &self,
        actor: &Actor,
        lot_id: &str,
    ) -> Result<(crate::LotView, Vec<TraceBatch>), StoreError> {
        let lot = self.get_lot(actor, lot_id).await?;
        // The lot id is a parsed code (letters, digits, hyphens): no LIKE wildcard in it. The
        // entries' materials are written by serde in one form, `"lot_id":"…"`.
        let id = LotId::parse(lot_id).map_err(|e| StoreError::invalid("lot_id", e))?;
        let pattern = format!("%\"lot_id\":\"{}\"%", id.as_str());
        let batches = self
            .trace(
                "b.id IN (SELECT e.batch_id FROM step_entries e WHERE e.materials LIKE ? \
                 AND e.id NOT IN (SELECT c.corrects FROM step_entries c \
                 WHERE c.corrects IS NOT NULL))",
                vec![pattern.into()],
                &actor.scope(),
            )
            .await?;
        Ok((lot, batches))
    }

    /// The batch's step entries, oldest first.
    pub async fn list_steps(
        &self,
        actor: &Actor,
        number: &str,
    ) -> Result<Vec<StepEntryView>, StoreError> {
        actor.may(Action::ReadBatches)?;
        let m = self.batch_row(actor, number).await?;
        entries_of(&self.db, m.id)
            .await?
            .iter()
            .map(entry_view)
            .collect()
    }

    /// The batch's exceptions, oldest first.
    pub async fn list_exceptions(
        &self,
        actor: &Actor,
        number: &str,
    ) -> Result<Vec<ExceptionView>, StoreError> {
        actor.may(Action::ReadBatches)?;
        let m = self.batch_row(actor, number).await?;
        exceptions_of(&self.db, m.id)
            .await?
            .iter()
            .map(exception_view)
            .collect()
    }

    /// QA of the laboratory resolves an exception with a comment; a critical one with an
    /// electronic signature (meaning `exception_reviewed`).
    pub async fn resolve_exception(
        &self,
        actor: &Actor,
        number: &str,
        id: i64,
        comment: &str,
        password: Option<&str>,
    ) -> Result<ExceptionView, StoreError> {
        let row = self.batch_row(actor, number).await?;
        let lab = stored("lab code", LabCode::parse(&row.lab_code))?;
        actor.may_in_lab(Action::Release, &lab)?;
        let signed = match password {
            Some(p) if !p.is_empty() => {
                self.verify_signature_password(actor, p).await?;
                true
            }
            _ => false,
        };
        let mut w = self.write_for(actor).await?;
        let mut l = self
            .load_for_write(&w, actor, Action::Release, number, None)
            .await?;
        // A certified or rejected batch's signature covers its exceptions as they were.
        if !l.batch.status.accepts_records() {
            return Err(refused_transition(format_args!(
                "a batch that is {} is signed: its exceptions no longer change",
                l.batch.status
            )));
        }
        let before = batch_exceptions::Entity::find_by_id(id)
            .one(&w.tx)
            .await?
            .filter(|e| e.batch_id == l.id)
            .ok_or(StoreError::NotFound("exception"))?;
        let recorded = RecordedException {
            id: before.id,
            kind: stored("exception kind", before.kind.parse())?,
            severity: stored("exception severity", before.severity.parse())?,
            step_code: before.step_code.clone(),
            resolved: before.status == RESOLVED,
        };
        check_resolution(&recorded, comment, signed).map_err(|e| match e {
            ResolutionRefusal::NoComment => {
                StoreError::invalid("comment", traza_domain::validation::Problem::Empty)
            }
            ResolutionRefusal::SignatureRequired => {
                StoreError::invalid("password", traza_domain::validation::Problem::Empty)
            }
            ResolutionRefusal::AlreadyResolved(_) => refused_transition(e),
        })?;
        batch_exceptions::Entity::update(batch_exceptions::ActiveModel {
            id: Set(id),
            status: Set(RESOLVED.to_owned()),
            resolved_by: Set(Some(actor.username.as_str().to_owned())),
            resolved_at: Set(Some(w.now())),
            resolution: Set(Some(comment.trim().to_owned())),
            ..Default::default()
        })
        .exec(&w.tx)
        .await?;
        let after = batch_exceptions::Entity::find_by_id(id)
            .one(&w.tx)
            .await?
            .ok_or(StoreError::NotFound("exception"))?;
        let mut audited = audited_exception(&after);
        if signed && let Some(obj) = audited.as_object_mut() {
            obj.insert(
                "signature".into(),
                json!({"signer": actor.username.as_str(), "signer_full_name": actor.full_name,
                       "meaning": SignatureMeaning::ExceptionReviewed.as_str(), "signed_at": w.now()}),
            );
        }
        w.audit(Change {
            action: "batch.exception_resolve",
            entity_type: "batch",
            entity_key: number,
            before: Some(audited_exception(&before)),
            after: Some(audited),
            reason: Some(comment.trim()),
        })
        .await?;
        save_batch(&w, l.id, l.version, &l.read, &mut l.batch).await?;
        w.commit().await?;
        exception_view(&after)
    }
}
