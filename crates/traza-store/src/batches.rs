//! The batch lifecycle: creation, records, completion, QP certification, rejection,
//! administration, corrections, listing and traceability.

use std::collections::BTreeSet;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Statement, TransactionTrait,
};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use traza_domain::access::{Action, Actor, LabScope};
use traza_domain::batch::{
    AdministrationContext, AdministrationRefusal, Batch, BatchFields, CompletionRefusal,
    CorrectionRefusal, CreationContext, CreationRefusal, Deviation, QcResult, ReleaseBlocker,
    ReleaseContext, ResultRefusal, RetestRefusal, Transition, check_administration,
    check_completion, check_correction, check_creation, check_new_result, foreign_number_owner,
    mark_superseded, release_blockers,
};
use traza_domain::codes::{BatchNumber, DonorCode, LabCode, PatientCode, ProductCode, TrialId};
use traza_domain::hold::{Hold, on_hold};
use traza_domain::validation::{Fields, text};
use traza_domain::vigilance::{ReactionSeverity, ReactionStatus};
use traza_domain::vocab::{
    BatchStatus, DeviationSeverity, DeviationStatus, SignatureMeaning, Source,
};

use crate::Store;
use crate::entity::{
    administrations, batch_events, batch_number_sequences, batches, deviations, qc_results,
    signatures,
};
use crate::error::ErrorCode;
use crate::error::{RuleDetail, StoreError, stored, stored_word};
use crate::holds::{held_among, history_confirmed, holds_of, insert_hold};
use crate::network::{assignments_for, load_lab, load_product};
use crate::vigilance::{ReactionView, reactions_of_batch};
use crate::write::{Change, Write};

/// A batch to make: where, what, and the stated fields. `batch_number` is generated as
/// `{LAB}-{YYYY}-{NNNNN}` when absent.
#[derive(Debug, Clone)]
pub struct NewBatch {
    pub batch_number: Option<BatchNumber>,
    pub product_code: ProductCode,
    pub lab_code: LabCode,
    pub fields: BatchFields,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    pub id: i64,
    pub step: String,
    pub performed_at: DateTime<Utc>,
    pub note: Option<String>,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct DeviationView {
    pub id: i64,
    pub description: String,
    pub severity: DeviationSeverity,
    pub status: DeviationStatus,
    pub opened_by: String,
    pub opened_at: DateTime<Utc>,
    pub resolution: Option<String>,
    pub closed_by: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// An electronic signature as shown on the record (21 CFR 11.50): printed name, time, meaning.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct SignatureView {
    pub id: i64,
    pub signer: String,
    pub signer_full_name: String,
    pub meaning: SignatureMeaning,
    pub signed_at: DateTime<Utc>,
    pub record_hash: String,
    pub reason: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct AdministrationView {
    pub id: i64,
    pub patient_code: String,
    pub administered_on: NaiveDate,
    pub hospital: String,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
    /// Given before a hold that now stands: recorded, and flagged for the look-back.
    pub before_hold: bool,
}

/// A batch with everything recorded on it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct BatchView {
    #[serde(flatten)]
    pub batch: Batch,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub events: Vec<EventView>,
    pub qc_results: Vec<QcResult>,
    pub deviations: Vec<DeviationView>,
    pub signatures: Vec<SignatureView>,
    pub administrations: Vec<AdministrationView>,
    /// Adverse reactions reported against the batch's administrations (SPEC §6).
    pub reactions: Vec<ReactionView>,
    /// Every hold, active or lifted (`on_hold` says whether one stands).
    pub holds: Vec<Hold>,
}

/// Filters of `GET /batches`, all optional; `cursor` continues a previous page.
#[derive(Debug, Clone, Default)]
pub struct BatchFilter {
    pub lab: Option<LabCode>,
    pub product: Option<ProductCode>,
    pub status: Option<BatchStatus>,
    pub donor: Option<DonorCode>,
    pub patient: Option<PatientCode>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub cursor: Option<String>,
    pub limit: u64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

pub struct QcInput {
    pub test: String,
    pub value: String,
    pub unit: String,
    pub supersedes: Option<i64>,
    pub reason: Option<String>,
    /// For the retest of a failing result: the deviation that investigates it.
    pub deviation_id: Option<i64>,
}

/// One link of a traceability chain: a batch, and who received it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct TraceBatch {
    pub batch_number: String,
    pub product_code: String,
    pub lab_code: String,
    pub status: String,
    pub donor_code: String,
    pub patient_code: Option<String>,
    pub administrations: Vec<TraceAdministration>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct TraceAdministration {
    pub id: i64,
    pub patient_code: String,
    pub administered_on: NaiveDate,
    pub hospital: String,
    /// Adverse reactions reported against this administration.
    pub reactions: Vec<TraceReaction>,
}

/// A reaction as a traceability view shows it; `GET /reactions/{id}` has the whole report.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct TraceReaction {
    pub id: i64,
    pub reported_on: NaiveDate,
    pub severity: ReactionSeverity,
    pub status: ReactionStatus,
}

fn dec(what: &str, s: &Option<String>) -> Result<Option<Decimal>, StoreError> {
    s.as_deref()
        .map(|v| stored(what, Decimal::from_str(v)))
        .transpose()
}

fn dec_text(d: Option<Decimal>) -> Option<String> {
    d.map(|d| d.normalize().to_string())
}

pub(crate) fn batch_from(m: &batches::Model) -> Result<Batch, StoreError> {
    Ok(Batch {
        batch_number: stored("batch number", BatchNumber::parse(&m.batch_number))?,
        product_code: stored("product code", ProductCode::parse(&m.product_code))?,
        lab_code: stored("lab code", LabCode::parse(&m.lab_code))?,
        origin: stored("origin", m.origin.parse())?,
        access_route: stored("access route", m.access_route.parse())?,
        trial_id: m
            .trial_id
            .as_deref()
            .map(|t| stored("trial id", TrialId::parse(t)))
            .transpose()?,
        donor_code: stored("donor code", DonorCode::parse(&m.donor_code))?,
        patient_code: m
            .patient_code
            .as_deref()
            .map(|p| stored("patient code", PatientCode::parse(p)))
            .transpose()?,
        collection_date: m.collection_date,
        manufacturing_start: m.manufacturing_start,
        manufacturing_end: m.manufacturing_end,
        expiry_date: m.expiry_date,
        cell_count: dec("cell count", &m.cell_count)?,
        viability_percent: dec("viability", &m.viability_percent)?,
        volume_ml: dec("volume", &m.volume_ml)?,
        doses: u32::try_from(m.doses).unwrap_or(0),
        status: stored("status", m.status.parse())?,
        released_by: m.released_by.clone(),
        release_date: m.release_date,
        notes: m.notes.clone(),
        version: m.version,
        source: stored("source", m.source.parse())?,
        import_id: m.import_id,
        import_line: m.import_line.and_then(|l| u64::try_from(l).ok()),
        on_hold: false,
    })
}

/// Writes the stated fields of `b` into an active model.
fn set_fields(m: &mut batches::ActiveModel, b: &Batch) {
    m.access_route = Set(b.access_route.as_str().to_owned());
    m.trial_id = Set(b.trial_id.as_ref().map(|t| t.as_str().to_owned()));
    m.donor_code = Set(b.donor_code.as_str().to_owned());
    m.patient_code = Set(b.patient_code.as_ref().map(|p| p.as_str().to_owned()));
    m.collection_date = Set(b.collection_date);
    m.manufacturing_start = Set(b.manufacturing_start);
    m.manufacturing_end = Set(b.manufacturing_end);
    m.expiry_date = Set(b.expiry_date);
    m.cell_count = Set(dec_text(b.cell_count));
    m.viability_percent = Set(dec_text(b.viability_percent));
    m.volume_ml = Set(dec_text(b.volume_ml));
    m.doses = Set(i32::try_from(b.doses).unwrap_or(i32::MAX));
    m.status = Set(b.status.as_str().to_owned());
    m.released_by = Set(b.released_by.clone());
    m.release_date = Set(b.release_date);
    m.notes = Set(b.notes.clone());
}

fn batch_json(b: &Batch) -> serde_json::Value {
    serde_json::to_value(b).unwrap_or(serde_json::Value::Null)
}

fn scope_filter<Q: QueryFilter>(q: Q, scope: &LabScope) -> Q {
    match scope {
        LabScope::All => q,
        LabScope::Labs(labs) => {
            q.filter(batches::Column::LabCode.is_in(labs.iter().map(LabCode::as_str)))
        }
    }
}

/// Loads a batch by number within the actor's scope: out of scope is "not found".
async fn load_scoped(
    db: &impl ConnectionTrait,
    actor: &Actor,
    number: &str,
) -> Result<batches::Model, StoreError> {
    // A string that cannot be a batch number names no batch; it never reaches the database
    // (PostgreSQL refuses a NUL byte in text with an error, not an empty answer).
    let number = BatchNumber::parse(number).map_err(|_| StoreError::NotFound("batch"))?;
    scope_filter(
        batches::Entity::find().filter(batches::Column::BatchNumber.eq(number.as_str())),
        &actor.scope(),
    )
    .one(db)
    .await?
    .ok_or(StoreError::NotFound("batch"))
}

fn refused_transition(e: impl std::fmt::Display) -> StoreError {
    StoreError::refused(ErrorCode::InvalidTransition, e.to_string())
}

fn check_version(m: &batches::Model, expected: Option<i64>) -> Result<(), StoreError> {
    match expected {
        Some(v) if v != m.version => Err(StoreError::VersionMismatch { current: m.version }),
        _ => Ok(()),
    }
}

/// Saves a changed batch with its version bumped, but only if nobody changed it since it was
/// read: the conditional update makes a stale write fail instead of overwriting.
pub(crate) async fn save_batch(
    w: &Write,
    id: i64,
    read_version: i64,
    b: &mut Batch,
) -> Result<(), StoreError> {
    let mut m = batches::ActiveModel {
        ..Default::default()
    };
    set_fields(&mut m, b);
    m.version = Set(read_version + 1);
    m.updated_at = Set(w.now());
    let result = batches::Entity::update_many()
        .set(m)
        .filter(batches::Column::Id.eq(id))
        .filter(batches::Column::Version.eq(read_version))
        .exec(&w.tx)
        .await?;
    if result.rows_affected != 1 {
        return Err(StoreError::VersionMismatch {
            current: read_version + 1,
        });
    }
    b.version = read_version + 1;
    Ok(())
}

async fn next_batch_number(w: &Write, lab: &LabCode, year: i32) -> Result<BatchNumber, StoreError> {
    let seq = batch_number_sequences::Entity::find_by_id((lab.as_str().to_owned(), year))
        .one(&w.tx)
        .await?;
    let mut last = seq.as_ref().map_or(0, |s| s.last_number);
    // Imported history may already hold numbers of this pattern: skip over them, probing the
    // next numbers a few hundred at a time (one by one, 100,000 taken numbers held the write
    // lock for 3.9 s).
    const PROBE: i64 = 256;
    let number = loop {
        let candidates: Vec<BatchNumber> = (last + 1..=last + PROBE)
            .map(|n| BatchNumber::generated(lab, year, u32::try_from(n).unwrap_or(u32::MAX)))
            .collect();
        let taken: BTreeSet<String> = batches::Entity::find()
            .filter(batches::Column::BatchNumber.is_in(candidates.iter().map(BatchNumber::as_str)))
            .select_only()
            .column(batches::Column::BatchNumber)
            .into_tuple::<String>()
            .all(&w.tx)
            .await?
            .into_iter()
            .collect();
        match candidates.iter().position(|c| !taken.contains(c.as_str())) {
            Some(i) => {
                last += i64::try_from(i).unwrap_or(0) + 1;
                break candidates[i].clone();
            }
            None => last += PROBE,
        }
    };
    let row = batch_number_sequences::ActiveModel {
        lab_code: Set(lab.as_str().to_owned()),
        year: Set(year),
        last_number: Set(last),
    };
    if seq.is_some() {
        batch_number_sequences::Entity::update(row)
            .exec(&w.tx)
            .await?;
    } else {
        batch_number_sequences::Entity::insert(row)
            .exec_without_returning(&w.tx)
            .await?;
    }
    Ok(number)
}

async fn qc_results_of(
    db: &impl ConnectionTrait,
    batch_id: i64,
) -> Result<Vec<QcResult>, StoreError> {
    let mut results = qc_results::Entity::find()
        .filter(qc_results::Column::BatchId.eq(batch_id))
        .order_by_asc(qc_results::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|r| {
            Ok(QcResult {
                id: r.id,
                test: r.test,
                value: r.value,
                unit: r.unit,
                outcome: stored("QC outcome", r.outcome.parse())?,
                spec_version: u32::try_from(r.spec_version).unwrap_or(0),
                supersedes: r.supersedes,
                reason: r.reason,
                recorded_by: r.recorded_by,
                deviation_id: r.deviation_id,
                superseded_by: None,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    mark_superseded(&mut results);
    Ok(results)
}

async fn deviations_of(
    db: &impl ConnectionTrait,
    batch_id: i64,
) -> Result<Vec<DeviationView>, StoreError> {
    deviations::Entity::find()
        .filter(deviations::Column::BatchId.eq(batch_id))
        .order_by_asc(deviations::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|d| {
            Ok(DeviationView {
                id: d.id,
                description: d.description,
                severity: stored("severity", d.severity.parse())?,
                status: stored("deviation status", d.status.parse())?,
                opened_by: d.opened_by,
                opened_at: d.opened_at,
                resolution: d.resolution,
                closed_by: d.closed_by,
                closed_at: d.closed_at,
            })
        })
        .collect()
}

/// What a batch view shows besides the batch itself.
#[derive(Debug, Clone, Default)]
pub(crate) struct BatchRecords {
    events: Vec<EventView>,
    qc_results: Vec<QcResult>,
    deviations: Vec<DeviationView>,
    signatures: Vec<SignatureView>,
    administrations: Vec<AdministrationView>,
    reactions: Vec<ReactionView>,
    holds: Vec<Hold>,
}

impl BatchRecords {
    fn view(&self, m: &batches::Model) -> Result<BatchView, StoreError> {
        Ok(BatchView {
            batch: Batch {
                on_hold: on_hold(&self.holds),
                ..batch_from(m)?
            },
            created_by: m.created_by.clone(),
            created_at: m.created_at,
            events: self.events.clone(),
            qc_results: self.qc_results.clone(),
            deviations: self.deviations.clone(),
            signatures: self.signatures.clone(),
            administrations: self.administrations.clone(),
            reactions: self.reactions.clone(),
            holds: self.holds.clone(),
        })
    }
}

async fn view_of(db: &impl ConnectionTrait, m: &batches::Model) -> Result<BatchView, StoreError> {
    records_of(db, m.id).await?.view(m)
}

/// The view of batch `id` as it stands in `db` (inside a write: with the write's changes).
pub(crate) async fn view_by_id(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<BatchView, StoreError> {
    let m = batches::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("batch"))?;
    view_of(db, &m).await
}

async fn records_of(db: &impl ConnectionTrait, batch_id: i64) -> Result<BatchRecords, StoreError> {
    let events = batch_events::Entity::find()
        .filter(batch_events::Column::BatchId.eq(batch_id))
        .order_by_asc(batch_events::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|e| EventView {
            id: e.id,
            step: e.step,
            performed_at: e.performed_at,
            note: e.note,
            recorded_by: e.recorded_by,
            recorded_at: e.recorded_at,
        })
        .collect();
    let signatures = signatures::Entity::find()
        .filter(signatures::Column::BatchId.eq(batch_id))
        .order_by_asc(signatures::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|s| {
            Ok(SignatureView {
                id: s.id,
                signer: s.signer,
                signer_full_name: s.signer_full_name,
                meaning: stored("signature meaning", s.meaning.parse())?,
                signed_at: s.signed_at,
                record_hash: s.record_hash,
                reason: s.reason,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    let administrations = administrations::Entity::find()
        .filter(administrations::Column::BatchId.eq(batch_id))
        .order_by_asc(administrations::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|a| AdministrationView {
            id: a.id,
            patient_code: a.patient_code,
            administered_on: a.administered_on,
            hospital: a.hospital,
            recorded_by: a.recorded_by,
            recorded_at: a.recorded_at,
            before_hold: a.before_hold,
        })
        .collect();
    Ok(BatchRecords {
        events,
        qc_results: qc_results_of(db, batch_id).await?,
        deviations: deviations_of(db, batch_id).await?,
        signatures,
        administrations,
        reactions: reactions_of_batch(db, batch_id).await?,
        holds: holds_of(db, batch_id).await?,
    })
}

/// What stops `signer` from certifying the batch today: the rules of SPEC §2, from the domain.
async fn blockers_of(
    db: &impl ConnectionTrait,
    l: &Loaded,
    signer: &str,
    today: NaiveDate,
) -> Result<Vec<ReleaseBlocker>, StoreError> {
    let product = load_product(db, l.batch.product_code.as_str()).await?;
    let results = qc_results_of(db, l.id).await?;
    let deviations: Vec<Deviation> = deviations_of(db, l.id)
        .await?
        .into_iter()
        .map(|d| Deviation {
            id: d.id,
            status: d.status,
        })
        .collect();
    let mut participants: BTreeSet<String> =
        results.iter().map(|r| r.recorded_by.clone()).collect();
    participants.insert(l.created_by.clone());
    participants.extend(
        batch_events::Entity::find()
            .filter(batch_events::Column::BatchId.eq(l.id))
            .all(db)
            .await?
            .into_iter()
            .map(|e| e.recorded_by),
    );
    let holds = holds_of(db, l.id).await?;
    Ok(release_blockers(&ReleaseContext {
        batch: &l.batch,
        product: &product,
        signer,
        participants: &participants,
        results: &results,
        deviations: &deviations,
        holds: &holds,
        today,
    }))
}

/// A batch under change inside a write: its row, its domain value, and its audit key.
pub(crate) struct Loaded {
    pub(crate) id: i64,
    pub(crate) version: i64,
    pub(crate) created_by: String,
    pub(crate) batch: Batch,
}

impl Store {
    pub(crate) async fn load_for_write(
        &self,
        w: &Write,
        actor: &Actor,
        action: Action,
        number: &str,
        expected_version: Option<i64>,
    ) -> Result<Loaded, StoreError> {
        let m = load_scoped(&w.tx, actor, number).await?;
        let batch = batch_from(&m)?;
        actor.may_in_lab(action, &batch.lab_code)?;
        check_version(&m, expected_version)?;
        Ok(Loaded {
            id: m.id,
            version: m.version,
            created_by: m.created_by,
            batch,
        })
    }

    pub(crate) async fn write_for(&self, actor: &Actor) -> Result<Write, StoreError> {
        self.begin_write(actor.username.as_str(), self.source).await
    }

    /// Starts a batch at the actor's laboratory (SPEC §2 "create").
    pub async fn create_batch(
        &self,
        actor: &Actor,
        new: NewBatch,
    ) -> Result<BatchView, StoreError> {
        actor
            .may_in_lab(Action::CreateBatch, &new.lab_code)
            .map_err(|e| match e {
                // Creating at a laboratory that is not yours is a refusal, not a missing record.
                traza_domain::access::AccessRefusal::OutOfScope => StoreError::Forbidden,
                other => other.into(),
            })?;
        let mut w = self.write_for(actor).await?;
        let lab = load_lab(&w.tx, new.lab_code.as_str())
            .await
            .map_err(|_| StoreError::invalid("lab_code", "unknown laboratory"))?;
        let product = load_product(&w.tx, new.product_code.as_str())
            .await
            .map_err(|_| StoreError::invalid("product_code", "unknown product"))?;
        let assignments = assignments_for(&w.tx, product.code.as_str(), lab.code.as_str()).await?;
        let start = new.fields.manufacturing_start;
        let month_start = start.with_day(1).unwrap_or(start);
        let next_month = month_start
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(month_start);
        let started_in_month = batches::Entity::find()
            .filter(batches::Column::LabCode.eq(lab.code.as_str()))
            .filter(batches::Column::ManufacturingStart.gte(month_start))
            .filter(batches::Column::ManufacturingStart.lt(next_month))
            .count(&w.tx)
            .await?;
        let ctx = CreationContext {
            lab: &lab,
            product: &product,
            assignments: &assignments,
            started_in_month: u32::try_from(started_in_month).unwrap_or(u32::MAX),
        };
        let expiry = check_creation(&new.fields, &ctx).map_err(|r| match r {
            CreationRefusal::Invalid(errors) => {
                StoreError::Invalid(traza_domain::validation::FieldErrors(errors))
            }
            CreationRefusal::ProductNotActive => StoreError::refused(
                ErrorCode::ProductNotActive,
                format!("product {} is withdrawn", product.code),
            ),
            CreationRefusal::RouteNotOffered(route) => StoreError::invalid(
                "access_route",
                format_args!("product {} is not offered by {route}", product.code),
            ),
            CreationRefusal::LabNotManufacturing { suspended, .. } => StoreError::refused(
                ErrorCode::LabNotActive,
                if suspended {
                    format!("laboratory {} is suspended", lab.code)
                } else {
                    format!("laboratory {} is for training only", lab.code)
                },
            ),
            CreationRefusal::NoAssignment => StoreError::refused(
                ErrorCode::NoAssignment,
                format!(
                    "no assignment of {} to {} by {} covers {}",
                    product.code, lab.code, new.fields.access_route, start
                ),
            ),
            CreationRefusal::CapacityExceeded { capacity, month } => StoreError::refused(
                ErrorCode::CapacityExceeded,
                format!(
                    "laboratory {} has already started its {capacity} batches for {month}",
                    lab.code
                ),
            ),
            CreationRefusal::ChainOfIdentity => StoreError::refused(
                ErrorCode::ChainOfIdentityMismatch,
                "an autologous batch needs its patient, and the patient must be the donor",
            ),
            CreationRefusal::TrialMismatch { authorised } => StoreError::refused(
                ErrorCode::TrialMismatch,
                format!(
                    "on {start}, {} is made at {} only for clinical trial {}: the batch's trial_id must be one of them",
                    product.code,
                    lab.code,
                    authorised.join(", ")
                ),
            ),
        })?;
        let number = match new.batch_number {
            Some(n) => {
                let prefix_is_a_lab = match n.generated_lab() {
                    Some(prefix) => load_lab(&w.tx, prefix).await.is_ok(),
                    None => false,
                };
                if let Some(owner) = foreign_number_owner(&n, &lab.code, |_| prefix_is_a_lab) {
                    return Err(StoreError::ForeignBatchNumber(format!(
                        "{n} has the form of laboratory {owner}'s numbers: a batch of {} cannot take it",
                        lab.code
                    )));
                }
                if batches::Entity::find()
                    .filter(batches::Column::BatchNumber.eq(n.as_str()))
                    .count(&w.tx)
                    .await?
                    > 0
                {
                    return Err(StoreError::Duplicate(format!("batch {n}")));
                }
                n
            }
            None => next_batch_number(&w, &lab.code, start.year()).await?,
        };
        let f = new.fields;
        let batch = Batch {
            batch_number: number,
            product_code: product.code.clone(),
            lab_code: lab.code.clone(),
            origin: product.origin,
            access_route: f.access_route,
            trial_id: f.trial_id,
            donor_code: f.donor_code,
            patient_code: f.patient_code,
            collection_date: f.collection_date,
            manufacturing_start: f.manufacturing_start,
            manufacturing_end: f.manufacturing_end,
            expiry_date: expiry,
            cell_count: f.cell_count,
            viability_percent: f.viability_percent,
            volume_ml: f.volume_ml,
            doses: f.doses,
            status: BatchStatus::InProduction,
            released_by: None,
            release_date: None,
            notes: f.notes,
            version: 1,
            source: Source::Api,
            import_id: None,
            import_line: None,
            on_hold: false,
        };
        let mut m = batches::ActiveModel {
            batch_number: Set(batch.batch_number.as_str().to_owned()),
            product_code: Set(batch.product_code.as_str().to_owned()),
            lab_code: Set(batch.lab_code.as_str().to_owned()),
            origin: Set(batch.origin.as_str().to_owned()),
            version: Set(1),
            source: Set(batch.source.as_str().to_owned()),
            import_id: Set(None),
            import_line: Set(None),
            created_by: Set(w.actor().to_owned()),
            created_at: Set(w.now()),
            updated_at: Set(w.now()),
            ..Default::default()
        };
        set_fields(&mut m, &batch);
        batches::Entity::insert(m)
            .exec_without_returning(&w.tx)
            .await?;
        let key = batch.batch_number.to_string();
        w.audit(Change {
            action: "batch.create",
            entity_type: "batch",
            entity_key: &key,
            before: None,
            after: Some(batch_json(&batch)),
            reason: None,
        })
        .await?;
        let stored_row = batches::Entity::find()
            .filter(batches::Column::BatchNumber.eq(key.as_str()))
            .one(&w.tx)
            .await?
            .ok_or(StoreError::NotFound("batch"))?;
        // A batch of a donor under an open serious reaction starts held (SPEC §2 "Hold").
        if let Some(reaction) =
            crate::vigilance::open_serious_reaction_of_donor(&w.tx, batch.donor_code.as_str())
                .await?
        {
            let reason = traza_domain::hold::open_reaction_hold_reason(reaction);
            insert_hold(&mut w, stored_row.id, &key, &reason, Some(reaction)).await?;
        }
        let view = view_of(&w.tx, &stored_row).await?;
        w.commit().await?;
        Ok(view)
    }

    /// A batch with its records, if the actor may see it.
    ///
    /// One query when the batch's records at its current version are in the view cache (see
    /// `view_cache`); otherwise the row and its records are read in one snapshot and cached.
    pub async fn get_batch(&self, actor: &Actor, number: &str) -> Result<BatchView, StoreError> {
        actor.may(Action::ReadBatches)?;
        let m = self.batch_row(actor, number).await?;
        if let Some(records) = self.views.get(m.id, m.version) {
            return records.view(&m);
        }
        let snapshot = match self.db.get_database_backend() {
            DbBackend::Postgres => {
                self.db
                    .begin_with_config(
                        Some(sea_orm::IsolationLevel::RepeatableRead),
                        Some(sea_orm::AccessMode::ReadOnly),
                    )
                    .await?
            }
            // A deferred transaction in WAL mode reads one snapshot from its first read.
            _ => self.db.begin().await?,
        };
        let m = load_scoped(&snapshot, actor, number).await?;
        let records = records_of(&snapshot, m.id).await?;
        snapshot.commit().await?;
        let view = records.view(&m)?;
        self.views
            .put(m.id, m.version, std::sync::Arc::new(records));
        Ok(view)
    }

    /// The batch row by number, within the actor's scope: one statement without `LIMIT` (a
    /// bound `LIMIT` makes SQLite re-prepare the statement on every execution).
    async fn batch_row(&self, actor: &Actor, number: &str) -> Result<batches::Model, StoreError> {
        let number = BatchNumber::parse(number).map_err(|_| StoreError::NotFound("batch"))?;
        let row = match self.db.get_database_backend() {
            DbBackend::Postgres => {
                let r = sqlx::query("SELECT * FROM batches WHERE batch_number = $1")
                    .bind(number.as_str())
                    .fetch_optional(self.db.get_postgres_connection_pool())
                    .await
                    .map_err(crate::import::db)?;
                r.as_ref().map(crate::import::model_from_row).transpose()
            }
            _ => {
                let r = sqlx::query("SELECT * FROM batches WHERE batch_number = ?")
                    .bind(number.as_str())
                    .fetch_optional(self.db.get_sqlite_connection_pool())
                    .await
                    .map_err(crate::import::db)?;
                r.as_ref().map(crate::import::model_from_row).transpose()
            }
        }
        .map_err(crate::import::db)?;
        match row {
            Some(m) if actor.scope().includes_code(&m.lab_code) => Ok(m),
            _ => Err(StoreError::NotFound("batch")),
        }
    }

    /// Batches in scope, newest first, keyset-paginated by an opaque cursor.
    pub async fn list_batches(
        &self,
        actor: &Actor,
        filter: &BatchFilter,
    ) -> Result<Page<Batch>, StoreError> {
        actor.may(Action::ReadBatches)?;
        let limit = filter.limit.clamp(1, 500);
        let mut q = filtered(actor, filter);
        if let Some(c) = &filter.cursor {
            let before_id: i64 = c
                .parse()
                .map_err(|_| StoreError::invalid("cursor", "is not a cursor this server gave"))?;
            q = q.filter(batches::Column::Id.lt(before_id));
        }
        let rows = q
            .order_by_desc(batches::Column::Id)
            .limit(limit + 1)
            .all(&self.db)
            .await?;
        let next_cursor =
            (rows.len() as u64 > limit).then(|| rows[limit as usize - 1].id.to_string());
        let rows = &rows[..rows.len().min(limit as usize)];
        let ids: Vec<i64> = rows.iter().map(|m| m.id).collect();
        let held = held_among(&self.db, &ids).await?;
        let items = rows
            .iter()
            .map(|m| {
                Ok(Batch {
                    on_hold: held.contains(&m.id),
                    ..batch_from(m)?
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Page { items, next_cursor })
    }

    /// Writes the batches in scope that match `filter` as the import's CSV (SPEC §4 export),
    /// oldest first, in pieces of about 256 KiB sent to `out`: memory stays flat however many
    /// batches there are. Returns the number of batches written. Stops quietly when the
    /// receiver goes away (a client that hung up).
    pub async fn export_batches(
        &self,
        actor: &Actor,
        filter: &BatchFilter,
        out: tokio::sync::mpsc::Sender<Vec<u8>>,
    ) -> Result<u64, StoreError> {
        use traza_domain::history::{export_writer, write_export_header, write_export_row};
        const PAGE: u64 = 5_000;
        const PIECE: usize = 256 * 1024;
        actor.may(Action::ReadBatches)?;
        let csv_err = |e: csv::Error| StoreError::Corrupt(format!("export: {e}"));
        let mut w = export_writer(Vec::with_capacity(PIECE + 4096));
        write_export_header(&mut w).map_err(csv_err)?;
        let mut after = 0i64;
        let mut written = 0u64;
        loop {
            let rows = filtered(actor, filter)
                .filter(batches::Column::Id.gt(after))
                .order_by_asc(batches::Column::Id)
                .limit(PAGE)
                .all(&self.db)
                .await?;
            let Some(last) = rows.last() else { break };
            after = last.id;
            for m in &rows {
                write_export_row(&mut w, &batch_from(m)?).map_err(csv_err)?;
                written += 1;
                if w.get_ref().len() >= PIECE {
                    let full =
                        std::mem::replace(&mut w, export_writer(Vec::with_capacity(PIECE + 4096)));
                    if out.send(into_bytes(full)?).await.is_err() {
                        return Ok(written);
                    }
                }
            }
            if (rows.len() as u64) < PAGE {
                break;
            }
        }
        let rest = into_bytes(w)?;
        if !rest.is_empty() {
            let _ = out.send(rest).await;
        }
        Ok(written)
    }
}

fn into_bytes(w: csv::Writer<Vec<u8>>) -> Result<Vec<u8>, StoreError> {
    w.into_inner()
        .map_err(|e| StoreError::Corrupt(format!("export: {}", e.error())))
}

/// The batches of the actor's scope that match the filter's fields (not its cursor).
fn filtered(actor: &Actor, filter: &BatchFilter) -> sea_orm::Select<batches::Entity> {
    let mut q = scope_filter(batches::Entity::find(), &actor.scope());
    if let Some(v) = &filter.lab {
        q = q.filter(batches::Column::LabCode.eq(v.as_str()));
    }
    if let Some(v) = &filter.product {
        q = q.filter(batches::Column::ProductCode.eq(v.as_str()));
    }
    if let Some(v) = filter.status {
        q = q.filter(batches::Column::Status.eq(v.as_str()));
    }
    if let Some(v) = &filter.donor {
        q = q.filter(batches::Column::DonorCode.eq(v.as_str()));
    }
    if let Some(v) = &filter.patient {
        q = q.filter(batches::Column::PatientCode.eq(v.as_str()));
    }
    if let Some(v) = filter.from {
        q = q.filter(batches::Column::ManufacturingStart.gte(v));
    }
    if let Some(v) = filter.to {
        q = q.filter(batches::Column::ManufacturingStart.lte(v));
    }
    q
}

impl Store {
    /// Records a manufacturing step.
    pub async fn record_event(
        &self,
        actor: &Actor,
        number: &str,
        expected_version: Option<i64>,
        step: &str,
        performed_at: DateTime<Utc>,
        note: Option<&str>,
    ) -> Result<EventView, StoreError> {
        let mut f = Fields::default();
        let step = f.check("step", text(step, 200));
        let note = f.check("note", traza_domain::validation::optional_text(note, 4000));
        f.finish()?;
        let (step, note) = (step.unwrap_or_default(), note.flatten());
        let mut w = self.write_for(actor).await?;
        let mut l = self
            .load_for_write(&w, actor, Action::RecordBatchData, number, expected_version)
            .await?;
        if !l.batch.status.accepts_records() {
            return Err(refused_transition(format_args!(
                "a batch that is {} takes no more records",
                l.batch.status
            )));
        }
        let inserted = batch_events::Entity::insert(batch_events::ActiveModel {
            batch_id: Set(l.id),
            step: Set(step.clone()),
            performed_at: Set(traza_domain::audit::audit_time(performed_at)),
            note: Set(note.clone()),
            recorded_by: Set(w.actor().to_owned()),
            recorded_at: Set(w.now()),
            ..Default::default()
        })
        .exec(&w.tx)
        .await?;
        save_batch(&w, l.id, l.version, &mut l.batch).await?;
        let view = EventView {
            id: inserted.last_insert_id,
            step,
            performed_at: traza_domain::audit::audit_time(performed_at),
            note,
            recorded_by: w.actor().to_owned(),
            recorded_at: w.now(),
        };
        w.audit(Change {
            action: "batch.event",
            entity_type: "batch",
            entity_key: number,
            before: None,
            after: Some(json!(view)),
            reason: None,
        })
        .await?;
        w.commit().await?;
        Ok(view)
    }

    /// Records a QC result; the server judges it against the product's current specification.
    pub async fn record_qc_result(
        &self,
        actor: &Actor,
        number: &str,
        expected_version: Option<i64>,
        input: QcInput,
    ) -> Result<QcResult, StoreError> {
        let mut w = self.write_for(actor).await?;
        let mut l = self
            .load_for_write(&w, actor, Action::RecordBatchData, number, expected_version)
            .await?;
        if !l.batch.status.accepts_records() {
            return Err(refused_transition(format_args!(
                "a batch that is {} takes no more results",
                l.batch.status
            )));
        }
        let product = load_product(&w.tx, l.batch.product_code.as_str()).await?;
        let judged = product
            .specification
            .judge(&input.test, &input.value, &input.unit)
            .map_err(|e| StoreError::invalid(e.field(), e))?;
        let reason = traza_domain::validation::optional_text(input.reason.as_deref(), 2000)
            .map_err(|e| StoreError::invalid("reason", e))?;
        let results = qc_results_of(&w.tx, l.id).await?;
        let deviations = deviations_of(&w.tx, l.id).await?;
        let deviations: Vec<Deviation> = deviations
            .iter()
            .map(|d| Deviation {
                id: d.id,
                status: d.status,
            })
            .collect();
        check_new_result(
            &results,
            &deviations,
            &input.test,
            input.supersedes,
            reason.as_deref(),
            input.deviation_id,
        )
        .map_err(|e| match e {
            ResultRefusal::ResultExists { .. } => {
                StoreError::refused(ErrorCode::ResultExists, e.to_string())
            }
            ResultRefusal::Retest(RetestRefusal::MissingReason) => StoreError::invalid("reason", e),
            ResultRefusal::Retest(_) => StoreError::invalid("supersedes", e),
            ResultRefusal::InvestigationRequired { .. } | ResultRefusal::UnknownDeviation(_) => {
                StoreError::invalid("deviation_id", e)
            }
        })?;
        let inserted = qc_results::Entity::insert(qc_results::ActiveModel {
            batch_id: Set(l.id),
            test: Set(input.test.clone()),
            value: Set(judged.value.clone()),
            unit: Set(judged.unit.clone()),
            outcome: Set(judged.outcome.as_str().to_owned()),
            spec_version: Set(i32::try_from(product.spec_version).unwrap_or(i32::MAX)),
            supersedes: Set(input.supersedes),
            reason: Set(reason.clone()),
            recorded_by: Set(w.actor().to_owned()),
            recorded_at: Set(w.now()),
            deviation_id: Set(input.deviation_id),
            ..Default::default()
        })
        .exec(&w.tx)
        .await?;
        save_batch(&w, l.id, l.version, &mut l.batch).await?;
        let result = QcResult {
            id: inserted.last_insert_id,
            test: input.test,
            value: judged.value,
            unit: judged.unit,
            outcome: judged.outcome,
            spec_version: product.spec_version,
            supersedes: input.supersedes,
            reason,
            recorded_by: w.actor().to_owned(),
            deviation_id: input.deviation_id,
            superseded_by: None,
        };
        w.audit(Change {
            action: "batch.qc_result",
            entity_type: "batch",
            entity_key: number,
            before: None,
            after: Some(json!(result)),
            reason: result.reason.as_deref(),
        })
        .await?;
        w.commit().await?;
        Ok(result)
    }

    /// Opens a deviation on a batch.
    pub async fn open_deviation(
        &self,
        actor: &Actor,
        number: &str,
        expected_version: Option<i64>,
        description: &str,
        severity: DeviationSeverity,
    ) -> Result<DeviationView, StoreError> {
        let description =
            text(description, 4000).map_err(|e| StoreError::invalid("description", e))?;
        let mut w = self.write_for(actor).await?;
        let mut l = self
            .load_for_write(&w, actor, Action::RecordBatchData, number, expected_version)
            .await?;
        if !l.batch.status.accepts_records() {
            return Err(refused_transition(format_args!(
                "a batch that is {} takes no more deviations",
                l.batch.status
            )));
        }
        let inserted = deviations::Entity::insert(deviations::ActiveModel {
            batch_id: Set(l.id),
            description: Set(description.clone()),
            severity: Set(severity.as_str().to_owned()),
            status: Set(DeviationStatus::Open.as_str().to_owned()),
            opened_by: Set(w.actor().to_owned()),
            opened_at: Set(w.now()),
            ..Default::default()
        })
        .exec(&w.tx)
        .await?;
        save_batch(&w, l.id, l.version, &mut l.batch).await?;
        let view = DeviationView {
            id: inserted.last_insert_id,
            description,
            severity,
            status: DeviationStatus::Open,
            opened_by: w.actor().to_owned(),
            opened_at: w.now(),
            resolution: None,
            closed_by: None,
            closed_at: None,
        };
        w.audit(Change {
            action: "batch.deviation_open",
            entity_type: "batch",
            entity_key: number,
            before: None,
            after: Some(json!(view)),
            reason: None,
        })
        .await?;
        w.commit().await?;
        Ok(view)
    }

    /// QA closes a deviation with its resolution.
    pub async fn close_deviation(
        &self,
        actor: &Actor,
        number: &str,
        expected_version: Option<i64>,
        deviation_id: i64,
        resolution: &str,
    ) -> Result<DeviationView, StoreError> {
        let resolution =
            text(resolution, 4000).map_err(|e| StoreError::invalid("resolution", e))?;
        let mut w = self.write_for(actor).await?;
        let mut l = self
            .load_for_write(&w, actor, Action::CloseDeviation, number, expected_version)
            .await?;
        let before = deviations_of(&w.tx, l.id)
            .await?
            .into_iter()
            .find(|d| d.id == deviation_id)
            .ok_or(StoreError::NotFound("deviation"))?;
        if before.status == DeviationStatus::Closed {
            return Err(refused_transition(format_args!(
                "deviation {deviation_id} is already closed"
            )));
        }
        if !l.batch.status.accepts_records() {
            return Err(refused_transition(format_args!(
                "a batch that is {} is locked",
                l.batch.status
            )));
        }
        deviations::Entity::update(deviations::ActiveModel {
            id: Set(deviation_id),
            status: Set(DeviationStatus::Closed.as_str().to_owned()),
            resolution: Set(Some(resolution.clone())),
            closed_by: Set(Some(w.actor().to_owned())),
            closed_at: Set(Some(w.now())),
            ..Default::default()
        })
        .exec(&w.tx)
        .await?;
        save_batch(&w, l.id, l.version, &mut l.batch).await?;
        let after = DeviationView {
            status: DeviationStatus::Closed,
            resolution: Some(resolution),
            closed_by: Some(w.actor().to_owned()),
            closed_at: Some(w.now()),
            ..before.clone()
        };
        w.audit(Change {
            action: "batch.deviation_close",
            entity_type: "batch",
            entity_key: number,
            before: Some(json!(before)),
            after: Some(json!(after)),
            reason: after.resolution.as_deref(),
        })
        .await?;
        w.commit().await?;
        Ok(after)
    }

    /// Ends manufacture: the batch goes to quarantine.
    pub async fn complete_batch(
        &self,
        actor: &Actor,
        number: &str,
        expected_version: Option<i64>,
        manufacturing_end: NaiveDate,
    ) -> Result<Batch, StoreError> {
        let mut w = self.write_for(actor).await?;
        let mut l = self
            .load_for_write(&w, actor, Action::RecordBatchData, number, expected_version)
            .await?;
        let product = load_product(&w.tx, l.batch.product_code.as_str()).await?;
        let before = batch_json(&l.batch);
        let expiry =
            check_completion(&l.batch, &product, manufacturing_end).map_err(|e| match e {
                CompletionRefusal::Transition(t) => refused_transition(t),
                CompletionRefusal::EndsBeforeStart | CompletionRefusal::ExpiresBeforeEnd => {
                    StoreError::invalid("manufacturing_end", e)
                }
            })?;
        l.batch.status = l
            .batch
            .status
            .apply(Transition::Complete)
            .map_err(refused_transition)?;
        l.batch.manufacturing_end = Some(manufacturing_end);
        l.batch.expiry_date = expiry;
        save_batch(&w, l.id, l.version, &mut l.batch).await?;
        w.audit(Change {
            action: "batch.complete",
            entity_type: "batch",
            entity_key: number,
            before: Some(before),
            after: Some(batch_json(&l.batch)),
            reason: None,
        })
        .await?;
        w.commit().await?;
        Ok(l.batch)
    }

    /// What would stop the actor from certifying the batch now (empty: it may be released).
    /// The same rules `release_batch` enforces, for a release queue and a release page.
    pub async fn release_blockers(
        &self,
        actor: &Actor,
        number: &str,
    ) -> Result<Vec<RuleDetail>, StoreError> {
        actor.may(Action::ReadBatches)?;
        let m = load_scoped(&self.db, actor, number).await?;
        let l = Loaded {
            id: m.id,
            version: m.version,
            created_by: m.created_by.clone(),
            batch: batch_from(&m)?,
        };
        let today = Utc::now().date_naive();
        Ok(blockers_of(&self.db, &l, actor.username.as_str(), today)
            .await?
            .iter()
            .map(|b| RuleDetail::new(b.rule(), b.message()))
            .collect())
    }

    /// QP certification with an electronic signature: the password re-entered, the meaning
    /// `qp_certified`, and every release rule met (all unmet ones are returned at once).
    pub async fn release_batch(
        &self,
        actor: &Actor,
        number: &str,
        expected_version: Option<i64>,
        password: &str,
        meaning: SignatureMeaning,
    ) -> Result<BatchView, StoreError> {
        if meaning != SignatureMeaning::QpCertified {
            return Err(StoreError::invalid(
                "meaning",
                "a release is signed with the meaning qp_certified",
            ));
        }
        self.check_signer(actor, Action::Release, number, password)
            .await?;
        let mut w = self.write_for(actor).await?;
        let mut l = self
            .load_for_write(&w, actor, Action::Release, number, expected_version)
            .await?;
        let today = w.now().date_naive();
        let blockers = blockers_of(&w.tx, &l, actor.username.as_str(), today).await?;
        if !blockers.is_empty() {
            return Err(StoreError::Refused {
                code: ErrorCode::ReleaseBlocked,
                message: format!(
                    "batch {number} cannot be certified: {} rule(s) unmet",
                    blockers.len()
                ),
                details: blockers
                    .iter()
                    .map(|b| RuleDetail::new(b.rule(), b.message()))
                    .collect(),
            });
        }
        let (signed, record) = self
            .sign(&w, actor, l.id, SignatureMeaning::QpCertified, None)
            .await?;
        let before = batch_json(&l.batch);
        l.batch.status = l
            .batch
            .status
            .apply(Transition::Release)
            .map_err(refused_transition)?;
        l.batch.released_by = Some(actor.full_name.clone());
        l.batch.release_date = Some(today);
        save_batch(&w, l.id, l.version, &mut l.batch).await?;
        w.audit(Change {
            action: "batch.release",
            entity_type: "batch",
            entity_key: number,
            before: Some(before),
            after: Some(
                json!({"batch": batch_json(&l.batch), "signature": signed, "record": record}),
            ),
            reason: None,
        })
        .await?;
        let m = batches::Entity::find_by_id(l.id)
            .one(&w.tx)
            .await?
            .ok_or(StoreError::NotFound("batch"))?;
        let view = view_of(&w.tx, &m).await?;
        w.commit().await?;
        Ok(view)
    }

    /// QA rejects a batch, signed, with a reason.
    pub async fn reject_batch(
        &self,
        actor: &Actor,
        number: &str,
        expected_version: Option<i64>,
        password: &str,
        reason: &str,
    ) -> Result<BatchView, StoreError> {
        let reason = text(reason, 4000).map_err(|e| StoreError::invalid("reason", e))?;
        self.check_signer(actor, Action::Reject, number, password)
            .await?;
        let mut w = self.write_for(actor).await?;
        let mut l = self
            .load_for_write(&w, actor, Action::Reject, number, expected_version)
            .await?;
        let before = batch_json(&l.batch);
        l.batch.status = l
            .batch
            .status
            .apply(Transition::Reject)
            .map_err(refused_transition)?;
        let (signed, record) = self
            .sign(&w, actor, l.id, SignatureMeaning::Rejected, Some(&reason))
            .await?;
        save_batch(&w, l.id, l.version, &mut l.batch).await?;
        w.audit(Change {
            action: "batch.reject",
            entity_type: "batch",
            entity_key: number,
            before: Some(before),
            after: Some(
                json!({"batch": batch_json(&l.batch), "signature": signed, "record": record}),
            ),
            reason: Some(&reason),
        })
        .await?;
        let m = batches::Entity::find_by_id(l.id)
            .one(&w.tx)
            .await?
            .ok_or(StoreError::NotFound("batch"))?;
        let view = view_of(&w.tx, &m).await?;
        w.commit().await?;
        Ok(view)
    }

    /// The signer of an electronic signature on batch `number`: scope (404) and role (403)
    /// first, as for any write, then the re-entered password, before any write transaction.
    pub(crate) async fn check_signer(
        &self,
        actor: &Actor,
        action: Action,
        number: &str,
        password: &str,
    ) -> Result<(), StoreError> {
        let m = self.batch_row(actor, number).await?;
        actor.may_in_lab(action, &stored("lab code", LabCode::parse(&m.lab_code))?)?;
        self.verify_signature_password(actor, password).await
    }

    /// Stores a signature linked to the batch record as it stands (its hash), so that the
    /// signature cannot be transferred to another record (21 CFR 11.70). Returns the record
    /// signed too: its event carries it, so `audit verify` rehashes it.
    pub(crate) async fn sign(
        &self,
        w: &Write,
        actor: &Actor,
        batch_id: i64,
        meaning: SignatureMeaning,
        reason: Option<&str>,
    ) -> Result<(SignatureView, String), StoreError> {
        let m = batches::Entity::find_by_id(batch_id)
            .one(&w.tx)
            .await?
            .ok_or(StoreError::NotFound("batch"))?;
        let record = serde_json::to_string(&view_of(&w.tx, &m).await?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let record_hash = hex::encode(Sha256::digest(record.as_bytes()));
        let inserted = signatures::Entity::insert(signatures::ActiveModel {
            batch_id: Set(batch_id),
            signer: Set(actor.username.as_str().to_owned()),
            signer_full_name: Set(actor.full_name.clone()),
            meaning: Set(meaning.as_str().to_owned()),
            signed_at: Set(w.now()),
            record_hash: Set(record_hash.clone()),
            reason: Set(reason.map(str::to_owned)),
            ..Default::default()
        })
        .exec(&w.tx)
        .await?;
        let view = SignatureView {
            id: inserted.last_insert_id,
            signer: actor.username.as_str().to_owned(),
            signer_full_name: actor.full_name.clone(),
            meaning,
            signed_at: w.now(),
            record_hash,
            reason: reason.map(str::to_owned),
        };
        Ok((view, record))
    }

    /// Records an administration to a patient (chain of identity, doses, expiry).
    pub async fn administer(
        &self,
        actor: &Actor,
        number: &str,
        expected_version: Option<i64>,
        patient: &PatientCode,
        administered_on: NaiveDate,
        hospital: &str,
    ) -> Result<AdministrationView, StoreError> {
        let hospital = text(hospital, 200).map_err(|e| StoreError::invalid("hospital", e))?;
        let mut w = self.write_for(actor).await?;
        let mut l = self
            .load_for_write(&w, actor, Action::Administer, number, expected_version)
            .await?;
        let so_far = administrations::Entity::find()
            .filter(administrations::Column::BatchId.eq(l.id))
            .count(&w.tx)
            .await?;
        let holds = holds_of(&w.tx, l.id).await?;
        let ctx = AdministrationContext {
            administered_so_far: u32::try_from(so_far).unwrap_or(u32::MAX),
            holds: &holds,
            history_confirmed: history_confirmed(&w.tx, l.id).await?,
            today: w.now().date_naive(),
        };
        let allowed = check_administration(&l.batch, patient, administered_on, &ctx).map_err(
            |e| match e {
                AdministrationRefusal::NotReleased(t) => refused_transition(t),
                AdministrationRefusal::Expired { .. } => {
                    StoreError::refused(ErrorCode::BatchExpired, e.to_string())
                }
                AdministrationRefusal::ChainOfIdentityMismatch => {
                    StoreError::refused(ErrorCode::ChainOfIdentityMismatch, e.to_string())
                }
                AdministrationRefusal::DosesExhausted { .. } => {
                    StoreError::refused(ErrorCode::DosesExhausted, e.to_string())
                }
                AdministrationRefusal::DateOutOfRange { .. } => {
                    StoreError::invalid("administered_on", e)
                }
                AdministrationRefusal::OnHold { .. } => {
                    StoreError::refused(ErrorCode::BatchOnHold, e.to_string())
                }
                AdministrationRefusal::HistoryNotConfirmed => {
                    StoreError::refused(ErrorCode::HistoryNotConfirmed, e.to_string())
                }
            },
        )?;
        let before = batch_json(&l.batch);
        l.batch.status = l
            .batch
            .status
            .apply(allowed.transition)
            .map_err(refused_transition)?;
        let inserted = administrations::Entity::insert(administrations::ActiveModel {
            batch_id: Set(l.id),
            patient_code: Set(patient.as_str().to_owned()),
            administered_on: Set(administered_on),
            hospital: Set(hospital.clone()),
            recorded_by: Set(w.actor().to_owned()),
            recorded_at: Set(w.now()),
            before_hold: Set(allowed.before_hold),
            ..Default::default()
        })
        .exec(&w.tx)
        .await?;
        save_batch(&w, l.id, l.version, &mut l.batch).await?;
        let view = AdministrationView {
            id: inserted.last_insert_id,
            patient_code: patient.as_str().to_owned(),
            administered_on,
            hospital,
            recorded_by: w.actor().to_owned(),
            recorded_at: w.now(),
            before_hold: allowed.before_hold,
        };
        w.audit(Change {
            action: "batch.administer",
            entity_type: "batch",
            entity_key: number,
            before: Some(before),
            after: Some(json!({"administration": view, "status": l.batch.status})),
            reason: None,
        })
        .await?;
        w.commit().await?;
        Ok(view)
    }

    /// Corrects stated fields of a batch: needs the version the user saw and a reason; a
    /// released, rejected or administered batch is locked.
    pub async fn correct_batch(
        &self,
        actor: &Actor,
        number: &str,
        expected_version: i64,
        reason: &str,
        edit: impl FnOnce(&mut BatchFields),
    ) -> Result<Batch, StoreError> {
        let mut w = self.write_for(actor).await?;
        let mut l = self
            .load_for_write(&w, actor, Action::RecordBatchData, number, None)
            .await?;
        let mut fields = l.batch.fields();
        edit(&mut fields);
        check_correction(&l.batch, expected_version, reason, &fields).map_err(|e| match e {
            CorrectionRefusal::VersionMismatch { current } => {
                StoreError::VersionMismatch { current }
            }
            CorrectionRefusal::Locked(status) => StoreError::refused(
                ErrorCode::RecordLocked,
                format!("a {status} batch record is locked"),
            ),
            CorrectionRefusal::MissingReason => {
                StoreError::invalid("reason", "a correction needs a reason")
            }
            CorrectionRefusal::Invalid(errors) => {
                StoreError::Invalid(traza_domain::validation::FieldErrors(errors))
            }
            CorrectionRefusal::ChainOfIdentity => StoreError::refused(
                ErrorCode::ChainOfIdentityMismatch,
                "an autologous batch's patient must be its donor",
            ),
        })?;
        let before = batch_json(&l.batch);
        l.batch.apply_fields(fields);
        save_batch(&w, l.id, l.version, &mut l.batch).await?;
        w.audit(Change {
            action: "batch.correct",
            entity_type: "batch",
            entity_key: number,
            before: Some(before),
            after: Some(batch_json(&l.batch)),
            reason: Some(reason.trim()),
        })
        .await?;
        w.commit().await?;
        Ok(l.batch)
    }

    /// Donor → batches → patients, within the actor's scope, in one query.
    pub async fn trace_donor(
        &self,
        actor: &Actor,
        donor: &DonorCode,
    ) -> Result<Vec<TraceBatch>, StoreError> {
        actor.may(Action::ReadBatches)?;
        self.trace(
            "b.donor_code = ?",
            vec![donor.as_str().into()],
            &actor.scope(),
        )
        .await
    }

    /// Patient → batches → donors, within the actor's scope, in one query: batches made for
    /// the patient and batches administered to them.
    pub async fn trace_patient(
        &self,
        actor: &Actor,
        patient: &PatientCode,
    ) -> Result<Vec<TraceBatch>, StoreError> {
        actor.may(Action::ReadBatches)?;
        self.trace(
            // A UNION of two index look-ups: written as `patient_code = ? OR id IN (…)`,
            // PostgreSQL scanned the whole table (6 req/s at 1M batches, bench/RESULTS.md).
            "b.id IN (SELECT id FROM batches WHERE patient_code = ? \
             UNION SELECT batch_id FROM administrations WHERE patient_code = ?)",
            vec![patient.as_str().into(), patient.as_str().into()],
            &actor.scope(),
        )
        .await
    }

    async fn trace(
        &self,
        condition: &str,
        mut values: Vec<sea_orm::Value>,
        scope: &LabScope,
    ) -> Result<Vec<TraceBatch>, StoreError> {
        let mut sql = format!(
            "SELECT b.batch_number, b.product_code, b.lab_code, b.status, b.donor_code, b.patient_code, \
             a.id AS administration_id, a.patient_code AS administered_to, a.administered_on, \
             a.hospital, r.id AS reaction_id, r.reported_on, r.severity, r.status AS reaction_status \
             FROM batches b LEFT JOIN administrations a ON a.batch_id = b.id \
             LEFT JOIN reactions r ON r.administration_id = a.id WHERE {condition}"
        );
        if let Some(clause) = scope_clause(scope, "b.lab_code", &mut values) {
            sql.push_str(" AND ");
            sql.push_str(&clause);
        }
        sql.push_str(" ORDER BY b.id, a.id, r.id");
        let backend = self.db.get_database_backend();
        let rows = self
            .db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                numbered(backend, &sql),
                values,
            ))
            .await?;
        let mut out: Vec<TraceBatch> = Vec::new();
        for row in rows {
            let number: String = row.try_get("", "batch_number")?;
            if out.last().is_none_or(|b| b.batch_number != number) {
                out.push(TraceBatch {
                    batch_number: number,
                    product_code: row.try_get("", "product_code")?,
                    lab_code: row.try_get("", "lab_code")?,
                    status: row.try_get("", "status")?,
                    donor_code: row.try_get("", "donor_code")?,
                    patient_code: row.try_get("", "patient_code")?,
                    administrations: Vec::new(),
                });
            }
            let Some(last) = out.last_mut() else { continue };
            let Some(administration) = row.try_get::<Option<i64>>("", "administration_id")? else {
                continue;
            };
            if last
                .administrations
                .last()
                .is_none_or(|a| a.id != administration)
            {
                last.administrations.push(TraceAdministration {
                    id: administration,
                    patient_code: row.try_get("", "administered_to")?,
                    administered_on: row.try_get("", "administered_on")?,
                    hospital: row.try_get("", "hospital")?,
                    reactions: Vec::new(),
                });
            }
            if let (Some(id), Some(a)) = (
                row.try_get::<Option<i64>>("", "reaction_id")?,
                last.administrations.last_mut(),
            ) {
                a.reactions.push(TraceReaction {
                    id,
                    reported_on: row.try_get("", "reported_on")?,
                    severity: stored_word(&row, "severity")?,
                    status: stored_word(&row, "reaction_status")?,
                });
            }
        }
        Ok(out)
    }
}

/// The laboratory scope as a condition of raw SQL on `column`, its codes appended to
/// `values`; `None` for the whole network. No laboratories at all matches nothing.
pub(crate) fn scope_clause(
    scope: &LabScope,
    column: &str,
    values: &mut Vec<sea_orm::Value>,
) -> Option<String> {
    let LabScope::Labs(labs) = scope else {
        return None;
    };
    if labs.is_empty() {
        return Some("1 = 0".to_owned());
    }
    values.extend(labs.iter().map(|l| sea_orm::Value::from(l.as_str())));
    Some(format!(
        "{column} IN ({})",
        vec!["?"; labs.len()].join(", ")
    ))
}

/// PostgreSQL numbers its placeholders (`$1`); SQLite takes `?`.
pub(crate) fn numbered(backend: DbBackend, sql: &str) -> String {
    if backend != DbBackend::Postgres {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}
