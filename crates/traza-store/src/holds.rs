//! Holds on batches (placed by hand or by a serious reaction's look-back, lifted with a reason)
//! and the QA confirmation of imported released history (SPEC §2). The rules are the domain's
//! (`traza_domain::hold`, `check_history_confirmation`); here they become transactions, each
//! write with its audit event and its batch's version bumped.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Statement,
};
use serde_json::json;
use traza_domain::access::{Action, Actor};
use traza_domain::batch::{HistoryRefusal, check_history_confirmation};
use traza_domain::hold::{Hold, LiftRefusal, check_lift, check_reason};
use traza_domain::vocab::SignatureMeaning;

use crate::Store;
use crate::batches::{BatchView, save_batch, view_by_id};
use crate::entity::{administrations, batches, holds, signatures};
use crate::error::ErrorCode;
use crate::error::StoreError;
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

impl Store {
    /// QA of the batch's laboratory or a coordinator holds a batch by hand, with a reason.
    pub async fn place_hold(
        &self,
        actor: &Actor,
        number: &str,
        expected_version: Option<i64>,
        reason: &str,
    ) -> Result<Hold, StoreError> {
        let reason = check_reason(reason).map_err(|e| StoreError::invalid("reason", e))?;
        let mut w = self.write_for(actor).await?;
        let mut l = self
            .load_for_write(&w, actor, Action::HoldBatch, number, expected_version)
            .await?;
        save_batch(&w, l.id, l.version, &mut l.batch).await?;
        let hold = insert_hold(&mut w, l.id, number, &reason, None).await?;
        w.commit().await?;
        Ok(hold)
    }

    /// Lifts a hold with a reason: a coordinator any, QA of the laboratory one it placed.
    pub async fn lift_hold(
        &self,
        actor: &Actor,
        number: &str,
        expected_version: Option<i64>,
        hold_id: i64,
        reason: &str,
    ) -> Result<Hold, StoreError> {
        let reason = check_reason(reason).map_err(|e| StoreError::invalid("reason", e))?;
        let mut w = self.write_for(actor).await?;
        let mut l = self
            .load_for_write(&w, actor, Action::HoldBatch, number, expected_version)
            .await?;
        let before = holds_of(&w.tx, l.id)
            .await?
            .into_iter()
            .find(|h| h.id == hold_id)
            .ok_or(StoreError::NotFound("hold"))?;
        check_lift(&before, actor).map_err(|e| match e {
            LiftRefusal::AlreadyLifted(_) => {
                StoreError::refused(ErrorCode::InvalidTransition, e.to_string())
            }
            LiftRefusal::NotYours(_) => StoreError::Forbidden,
        })?;
        holds::Entity::update(holds::ActiveModel {
            id: Set(hold_id),
            lifted_by: Set(Some(w.actor().to_owned())),
            lifted_at: Set(Some(w.now())),
            lift_reason: Set(Some(reason.clone())),
            ..Default::default()
        })
        .exec(&w.tx)
        .await?;
        save_batch(&w, l.id, l.version, &mut l.batch).await?;
        let after = Hold {
            lifted_by: Some(w.actor().to_owned()),
            lifted_at: Some(w.now()),
            lift_reason: Some(reason.clone()),
            ..before.clone()
        };
        w.audit(Change {
            action: "batch.hold_lift",
            entity_type: "batch",
            entity_key: number,
            before: Some(json!(before)),
            after: Some(json!(after)),
            reason: Some(&reason),
        })
        .await?;
        w.commit().await?;
        Ok(after)
    }

    /// QA of the laboratory confirms an imported released batch with an electronic signature
    /// (`historical_release_confirmed`) so that it may be administered.
    pub async fn confirm_history(
        &self,
        actor: &Actor,
        number: &str,
        expected_version: Option<i64>,
        password: &str,
    ) -> Result<BatchView, StoreError> {
        self.check_signer(actor, Action::ConfirmHistory, number, password)
            .await?;
        let mut w = self.write_for(actor).await?;
        let mut l = self
            .load_for_write(&w, actor, Action::ConfirmHistory, number, expected_version)
            .await?;
        let so_far = administrations::Entity::find()
            .filter(administrations::Column::BatchId.eq(l.id))
            .count(&w.tx)
            .await?;
        let confirmed = history_confirmed(&w.tx, l.id).await?;
        check_history_confirmation(
            &l.batch,
            u32::try_from(so_far).unwrap_or(u32::MAX),
            confirmed,
            actor.username.as_str(),
            &l.created_by,
            w.now().date_naive(),
        )
        .map_err(|e| {
            let code = match e {
                HistoryRefusal::NotImportedRelease | HistoryRefusal::AlreadyConfirmed => {
                    ErrorCode::InvalidTransition
                }
                HistoryRefusal::Expired(_) => ErrorCode::BatchExpired,
                HistoryRefusal::ChainOfIdentity => ErrorCode::ChainOfIdentityMismatch,
                HistoryRefusal::FourEyes => ErrorCode::FourEyes,
            };
            StoreError::refused(code, e.to_string())
        })?;
        let (signed, record) = self
            .sign(
                &w,
                actor,
                l.id,
                SignatureMeaning::HistoricalReleaseConfirmed,
                None,
            )
            .await?;
        save_batch(&w, l.id, l.version, &mut l.batch).await?;
        w.audit(Change {
            action: "batch.confirm_history",
            entity_type: "batch",
            entity_key: number,
            before: None,
            after: Some(json!({"signature": signed, "record": record})),
            reason: None,
        })
        .await?;
        let view = view_by_id(&w.tx, l.id).await?;
        w.commit().await?;
        Ok(view)
    }
}
