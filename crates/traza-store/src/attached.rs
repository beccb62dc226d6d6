//! The records attached to a batch that the batch view and several features share: its holds
//! (read, placed, placed by a reaction's look-back) and the adverse reactions reported on it.
//! A leaf below the features (batches, holds, vigilance, import): it uses none of them.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QueryResult, Statement,
};
use serde::Serialize;
use serde_json::json;
use traza_domain::hold::Hold;
use traza_domain::vigilance::{Imputability, ReactionSeverity, ReactionStatus};
use traza_domain::vocab::SignatureMeaning;

use crate::entity::{batches, holds, reactions, signatures};
use crate::error::{StoreError, stored_word};
use crate::sql::numbered;
use crate::write::{Change, Write};

fn hold_from(m: holds::Model) -> Hold {
    Hold {
        id: m.id,
        reason: m.reason,
        placed_by: m.placed_by,
        placed_at: m.placed_at,
        reaction_id: m.reaction_id,
        lifted_by: m.lifted_by,
        lifted_at: m.lifted_at,
        lift_reason: m.lift_reason,
    }
}

/// Every hold of a batch, oldest first.
pub(crate) async fn holds_of(
    db: &impl ConnectionTrait,
    batch_id: i64,
) -> Result<Vec<Hold>, StoreError> {
    Ok(holds::Entity::find()
        .filter(holds::Column::BatchId.eq(batch_id))
        .order_by_asc(holds::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(hold_from)
        .collect())
}

/// Of `batch_ids`, those with an active hold (for lists: one query per page).
pub(crate) async fn held_among(
    db: &impl ConnectionTrait,
    batch_ids: &[i64],
) -> Result<Vec<i64>, StoreError> {
    if batch_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(holds::Entity::find()
        .filter(holds::Column::BatchId.is_in(batch_ids.iter().copied()))
        .filter(holds::Column::LiftedAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|h| h.batch_id)
        .collect())
}

/// Whether QA confirmed this imported batch (`historical_release_confirmed`).
pub(crate) async fn history_confirmed(
    db: &impl ConnectionTrait,
    batch_id: i64,
) -> Result<bool, StoreError> {
    Ok(signatures::Entity::find()
        .filter(signatures::Column::BatchId.eq(batch_id))
        .filter(
            signatures::Column::Meaning.eq(SignatureMeaning::HistoricalReleaseConfirmed.as_str()),
        )
        .count(db)
        .await?
        > 0)
}

/// Moves a batch's version on, so that every reader (and the view cache) sees the change.
pub(crate) async fn bump_version(w: &Write, batch_id: i64) -> Result<(), StoreError> {
    let backend = w.tx.get_database_backend();
    w.tx.execute_raw(Statement::from_sql_and_values(
        backend,
        match backend {
            DbBackend::Postgres => {
                "UPDATE batches SET version = version + 1, updated_at = $1 WHERE id = $2"
            }
            _ => "UPDATE batches SET version = version + 1, updated_at = ? WHERE id = ?",
        },
        [w.now().into(), batch_id.into()],
    ))
    .await?;
    Ok(())
}

/// Stores a hold on batch `batch_id` (`number`) with its audit event. The caller bumps the
/// batch's version (or has already, in this transaction).
pub(crate) async fn insert_hold(
    w: &mut Write,
    batch_id: i64,
    number: &str,
    reason: &str,
    reaction_id: Option<i64>,
) -> Result<Hold, StoreError> {
    let inserted = holds::Entity::insert(holds::ActiveModel {
        batch_id: Set(batch_id),
        reason: Set(reason.to_owned()),
        placed_by: Set(w.actor().to_owned()),
        placed_at: Set(w.now()),
        reaction_id: Set(reaction_id),
        ..Default::default()
    })
    .exec(&w.tx)
    .await?;
    let hold = Hold {
        id: inserted.last_insert_id,
        reason: reason.to_owned(),
        placed_by: w.actor().to_owned(),
        placed_at: w.now(),
        reaction_id,
        lifted_by: None,
        lifted_at: None,
        lift_reason: None,
    };
    w.audit(Change {
        action: "batch.hold_place",
        entity_type: "batch",
        entity_key: number,
        before: None,
        after: Some(json!(hold)),
        reason: Some(reason),
    })
    .await?;
    Ok(hold)
}

/// Holds every batch a serious reaction's look-back names (`numbers`), for reaction
/// `reaction_id`; the reported batch's version was bumped by the report itself.
pub(crate) async fn hold_for_reaction(
    w: &mut Write,
    reaction_id: i64,
    reported_batch_id: i64,
    numbers: &[String],
) -> Result<(), StoreError> {
    let reason = format!("serious adverse reaction {reaction_id}: donor look-back");
    for number in numbers {
        let Some(b) = batches::Entity::find()
            .filter(batches::Column::BatchNumber.eq(number.as_str()))
            .one(&w.tx)
            .await?
        else {
            continue;
        };
        if b.id != reported_batch_id {
            bump_version(w, b.id).await?;
        }
        insert_hold(w, b.id, number, &reason, Some(reaction_id)).await?;
    }
    Ok(())
}

/// An adverse reaction report, with the administration and batch it concerns.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct ReactionView {
    pub id: i64,
    pub batch_number: String,
    pub lab_code: String,
    pub product_code: String,
    pub administration_id: i64,
    pub patient_code: String,
    pub administered_on: NaiveDate,
    pub reported_on: NaiveDate,
    pub severity: ReactionSeverity,
    pub imputability: Imputability,
    pub description: String,
    pub status: ReactionStatus,
    pub reported_by: String,
    pub reported_at: DateTime<Utc>,
    pub conclusion: Option<String>,
    pub closed_by: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
}

const SELECT: &str = "SELECT r.id, r.administration_id, r.reported_on, r.severity, r.imputability, \
     r.description, r.status, r.reported_by, r.reported_at, r.conclusion, r.closed_by, \
     r.closed_at, b.batch_number, b.lab_code, b.product_code, b.donor_code, \
     a.patient_code, a.administered_on \
     FROM reactions r JOIN batches b ON b.id = r.batch_id \
     JOIN administrations a ON a.id = r.administration_id";

fn reaction_from(row: &QueryResult) -> Result<ReactionView, StoreError> {
    Ok(ReactionView {
        id: row.try_get("", "id")?,
        batch_number: row.try_get("", "batch_number")?,
        lab_code: row.try_get("", "lab_code")?,
        product_code: row.try_get("", "product_code")?,
        administration_id: row.try_get("", "administration_id")?,
        patient_code: row.try_get("", "patient_code")?,
        administered_on: row.try_get("", "administered_on")?,
        reported_on: row.try_get("", "reported_on")?,
        severity: stored_word(row, "severity")?,
        imputability: stored_word(row, "imputability")?,
        description: row.try_get("", "description")?,
        status: stored_word(row, "status")?,
        reported_by: row.try_get("", "reported_by")?,
        reported_at: row.try_get("", "reported_at")?,
        conclusion: row.try_get("", "conclusion")?,
        closed_by: row.try_get("", "closed_by")?,
        closed_at: row.try_get("", "closed_at")?,
    })
}

pub(crate) async fn query_reactions(
    db: &impl ConnectionTrait,
    condition: &str,
    values: Vec<sea_orm::Value>,
) -> Result<Vec<(ReactionView, String)>, StoreError> {
    let backend = db.get_database_backend();
    let sql = numbered(backend, &format!("{SELECT} WHERE {condition}"));
    db.query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
        .iter()
        .map(|row| Ok((reaction_from(row)?, row.try_get("", "donor_code")?)))
        .collect()
}

/// The oldest open serious reaction on any batch of `donor_code`, if one stands: a batch of
/// that donor made now starts held (SPEC §2 "Hold").
pub(crate) async fn open_serious_reaction_of_donor(
    db: &impl ConnectionTrait,
    donor_code: &str,
) -> Result<Option<i64>, StoreError> {
    Ok(reactions::Entity::find()
        .inner_join(batches::Entity)
        .filter(batches::Column::DonorCode.eq(donor_code))
        .filter(reactions::Column::Status.eq(ReactionStatus::Open.as_str()))
        .filter(reactions::Column::Severity.eq(ReactionSeverity::Serious.as_str()))
        .order_by_asc(reactions::Column::Id)
        .one(db)
        .await?
        .map(|r| r.id))
}

/// The reactions reported on one batch, oldest first (for the batch view).
pub(crate) async fn reactions_of_batch(
    db: &impl ConnectionTrait,
    batch_id: i64,
) -> Result<Vec<ReactionView>, StoreError> {
    Ok(
        query_reactions(db, "r.batch_id = ? ORDER BY r.id", vec![batch_id.into()])
            .await?
            .into_iter()
            .map(|(r, _)| r)
            .collect(),
    )
}
