//! The batch lifecycle: creation, records, completion, QP certification, rejection,
//! administration, corrections, listing and traceability.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Statement, TransactionTrait,
};
use serde::Serialize;
use serde_json::json;
use traza_domain::access::{Action, Actor, LabScope};
use traza_domain::batch::{
    AdministrationContext, AdministrationRefusal, Batch, BatchFields, CompletionRefusal,
    CorrectionRefusal, CreationContext, CreationRefusal, Deviation, QcResult, ReleaseBlocker,
    ReleaseContext, ResultRefusal, RetestRefusal, Transition, check_administration,
    check_completion, check_correction, check_creation, check_new_result, foreign_number_owner,
    mark_superseded, release_blockers,
};
use traza_domain::codes::{BatchNumber, DonorCode, LabCode, PatientCode, ProductCode};
use traza_domain::hold::{Hold, on_hold};
use traza_domain::signing::participants;
use traza_domain::validation::{Fields, text};
use traza_domain::vigilance::{ReactionSeverity, ReactionStatus};
use traza_domain::vocab::{
    BatchStatus, DeviationSeverity, DeviationStatus, SignatureMeaning, Source,
};

use crate::Store;
use crate::attached::{
    ReactionView, held_among, history_confirmed, holds_of, insert_hold, reactions_of_batch,
};
use crate::entity::{
    administrations, batch_events, batch_number_sequences, batches, deviations, qc_results,
    signatures,
};
use crate::error::ErrorCode;
use crate::error::{RuleDetail, StoreError, stored, stored_word};
use crate::network::{assignments_for, load_lab, load_product};
use crate::rows::{batch_from, save_batch, set_fields};
use crate::sql::{Page, numbered, scope_clause};
use crate::view_cache::CachedView;
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
    /// The master batch record version that guides the batch (SPEC §8): stamped when the
    /// batch was made, `null` for a batch made before its laboratory had one, or imported.
    pub mbr_id: Option<i64>,
    pub mbr_version: Option<u32>,
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
    /// Only batches with a QC result out of specification (superseded ones count: the
    /// dashboard's rate counts every result).
    pub failed_qc: bool,
    /// Older than this cursor (the next page).
    pub cursor: Option<String>,
    /// Newer than this cursor, the nearest `limit` of them (the previous page); `cursor` is
    /// then ignored.
    pub newer_than: Option<String>,
    pub limit: u64,
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

fn batch_json(b: &Batch) -> serde_json::Value {
    crate::write::json_of(b)
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
    // `all`, not `one`: the number is unique, and the `LIMIT` that `one` binds makes SQLite
    // prepare the statement afresh on every execution (a write loads its batch this way).
    scope_filter(
        batches::Entity::find().filter(batches::Column::BatchNumber.eq(number.as_str())),
        &actor.scope(),
    )
    .all(db)
    .await?
    .into_iter()
    .next()
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

/// A stored QC result as the domain reads it (`superseded_by` is set by `mark_superseded`).
pub(super) fn qc_result_from(r: qc_results::Model) -> Result<QcResult, StoreError> {
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
        .map(qc_result_from)
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
    /// `(mbr_id, version)` of the guiding master record.
    guide: Option<(i64, u32)>,
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
            mbr_id: self.guide.map(|g| g.0),
            mbr_version: self.guide.map(|g| g.1),
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

/// The batch's `stamp`: moved by database triggers on any change of its row or records that
/// does not bump its version (migration `m20261205_000001`). Not part of the entity: it is no
/// GMP column, and nothing but the view cache reads it.
async fn stamp_of(db: &impl ConnectionTrait, batch_id: i64) -> Result<i64, StoreError> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            match backend {
                DbBackend::Postgres => "SELECT stamp FROM batches WHERE id = $1",
                _ => "SELECT stamp FROM batches WHERE id = ?",
            },
            [batch_id.into()],
        ))
        .await?
        .ok_or(StoreError::NotFound("batch"))?;
    Ok(row.try_get("", "stamp")?)
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
        guide: crate::master_records::guide_of(db, batch_id).await?,
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
    let steps = batch_events::Entity::find()
        .filter(batch_events::Column::BatchId.eq(l.id))
        .all(db)
        .await?;
    // Four eyes counts who recorded or verified a step of a guided batch too (SPEC §8).
    let entries = steps::entries_of(db, l.id).await?;
    let participants = participants(
        &l.created_by,
        steps
            .iter()
            .map(|e| e.recorded_by.as_str())
            .chain(entries.iter().map(|e| e.performed_by.as_str()))
            .chain(entries.iter().filter_map(|e| e.verified_by.as_deref())),
        results.iter().map(|r| r.recorded_by.as_str()),
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
    /// The batch as a write changes it.
    pub(crate) batch: Batch,
    /// The batch as read: `save_batch` writes only the columns that differ from it.
    pub(crate) read: Batch,
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
            read: batch.clone(),
            batch,
        })
    }

    pub(crate) async fn write_for(&self, actor: &Actor) -> Result<Write, StoreError> {
        self.begin_write(actor.username.as_str(), self.source).await
    }

    /// A batch with its records, if the actor may see it.
    pub async fn get_batch(&self, actor: &Actor, number: &str) -> Result<BatchView, StoreError> {
        Ok(self.cached_view(actor, number).await?.view.clone())
    }

    /// A batch with its records as the API sends it (JSON), and its version (the ETag).
    pub async fn get_batch_json(
        &self,
        actor: &Actor,
        number: &str,
    ) -> Result<(i64, bytes::Bytes), StoreError> {
        let cached = self.cached_view(actor, number).await?;
        Ok((cached.view.batch.version, cached.json()))
    }

    /// The view of a batch the actor may see: one narrow query (id, version, stamp,
    /// laboratory) when the view at the batch's current pair is in the view cache (see
    /// `view_cache`); otherwise the row, its stamp and its records are read in one snapshot
    /// and cached.
    async fn cached_view(
        &self,
        actor: &Actor,
        number: &str,
    ) -> Result<std::sync::Arc<CachedView<BatchView>>, StoreError> {
        actor.may(Action::ReadBatches)?;
        let (id, version) = self.batch_key(actor, number).await?;
        if let Some(cached) = self.views.get(id, version) {
            return Ok(cached);
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
        let stamp = stamp_of(&snapshot, m.id).await?;
        let records = records_of(&snapshot, m.id).await?;
        snapshot.commit().await?;
        let cached = std::sync::Arc::new(CachedView::new(records.view(&m)?));
        self.views
            .put(m.id, (m.version, stamp), std::sync::Arc::clone(&cached));
        Ok(cached)
    }

    /// The id, version and stamp of the batch `number`, within the actor's scope: one
    /// statement without `LIMIT` (a bound `LIMIT` makes SQLite re-prepare the statement on
    /// every execution), on the pool's own sqlx connection.
    async fn batch_key(
        &self,
        actor: &Actor,
        number: &str,
    ) -> Result<(i64, crate::view_cache::Version), StoreError> {
        let number = BatchNumber::parse(number).map_err(|_| StoreError::NotFound("batch"))?;
        let row: Option<(i64, i64, i64, String)> = match self.db.get_database_backend() {
            DbBackend::Postgres => sqlx::query_as(
                "SELECT id, version, stamp, lab_code FROM batches WHERE batch_number = $1",
            )
            .bind(number.as_str())
            .fetch_optional(self.db.get_postgres_connection_pool())
            .await
            .map_err(crate::sql::db)?,
            _ => sqlx::query_as(
                "SELECT id, version, stamp, lab_code FROM batches WHERE batch_number = ?",
            )
            .bind(number.as_str())
            .fetch_optional(self.db.get_sqlite_connection_pool())
            .await
            .map_err(crate::sql::db)?,
        };
        match row {
            Some((id, version, stamp, lab)) if actor.scope().includes_code(&lab) => {
                Ok((id, (version, stamp)))
            }
            _ => Err(StoreError::NotFound("batch")),
        }
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
                    .map_err(crate::sql::db)?;
                r.as_ref().map(crate::rows::model_from_row).transpose()
            }
            _ => {
                let r = sqlx::query("SELECT * FROM batches WHERE batch_number = ?")
                    .bind(number.as_str())
                    .fetch_optional(self.db.get_sqlite_connection_pool())
                    .await
                    .map_err(crate::sql::db)?;
                r.as_ref().map(crate::rows::model_from_row).transpose()
            }
        }
        .map_err(crate::sql::db)?;
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
        let q = filtered(actor, filter);
        let (rows, next_cursor) = if let Some(c) = &filter.newer_than {
            // The previous page: the nearest newer rows, read upwards and turned round.
            let mut rows = q
                .filter(batches::Column::Id.gt(cursor_id(c)?))
                .order_by_asc(batches::Column::Id)
                .limit(limit)
                .all(&self.db)
                .await?;
            rows.reverse();
            let next = rows.last().map(|m| m.id.to_string());
            (rows, next)
        } else {
            let q = match &filter.cursor {
                Some(c) => q.filter(batches::Column::Id.lt(cursor_id(c)?)),
                None => q,
            };
            let mut rows = q
                .order_by_desc(batches::Column::Id)
                .limit(limit + 1)
                .all(&self.db)
                .await?;
            let next = (rows.len() as u64 > limit).then(|| rows[limit as usize - 1].id.to_string());
            rows.truncate(limit as usize);
            (rows, next)
        };
        let rows = &rows[..];
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

    /// The list cursor at the batch `number` (a page starting there goes back from it).
    pub async fn batch_cursor(&self, actor: &Actor, number: &str) -> Result<String, StoreError> {
        actor.may(Action::ReadBatches)?;
        scope_filter(batches::Entity::find(), &actor.scope())
            .filter(batches::Column::BatchNumber.eq(number))
            .select_only()
            .column(batches::Column::Id)
            .into_tuple::<i64>()
            .one(&self.db)
            .await?
            .map(|id| id.to_string())
            .ok_or(StoreError::NotFound("batch"))
    }

    /// Whether a batch matching `filter` is newer than the one at `cursor`: the list then has
    /// a previous page.
    pub async fn has_newer_batches(
        &self,
        actor: &Actor,
        filter: &BatchFilter,
        cursor: &str,
    ) -> Result<bool, StoreError> {
        actor.may(Action::ReadBatches)?;
        Ok(filtered(actor, filter)
            .filter(batches::Column::Id.gt(cursor_id(cursor)?))
            .select_only()
            .column(batches::Column::Id)
            .limit(1)
            .into_tuple::<i64>()
            .one(&self.db)
            .await?
            .is_some())
    }

    /// How many batches match `filter`, counted up to `cap` (`None` past it): a list says its
    /// total without counting a million rows.
    pub async fn count_batches(
        &self,
        actor: &Actor,
        filter: &BatchFilter,
        cap: u64,
    ) -> Result<Option<u64>, StoreError> {
        actor.may(Action::ReadBatches)?;
        let ids = filtered(actor, filter)
            .select_only()
            .column(batches::Column::Id)
            .limit(cap + 1)
            .into_tuple::<i64>()
            .all(&self.db)
            .await?;
        Ok((ids.len() as u64 <= cap).then_some(ids.len() as u64))
    }
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
    if filter.failed_qc {
        q = q.filter(
            batches::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(qc_results::Column::BatchId)
                    .from(qc_results::Entity)
                    .and_where(
                        qc_results::Column::Outcome
                            .eq(traza_domain::vocab::QcOutcome::Fail.as_str()),
                    )
                    .to_owned(),
            ),
        );
    }
    q
}

/// The batch id a list cursor stands for.
fn cursor_id(cursor: &str) -> Result<i64, StoreError> {
    cursor
        .parse()
        .map_err(|_| StoreError::invalid("cursor", "is not a cursor this server gave"))
}

mod create;
mod export;
mod lifecycle;
mod records;
mod steps;
mod trace;

pub use steps::{ExceptionView, LotUsed, RecordedStep, StepEntryView, StepInput};
