//! Holds on batches (placed by hand or by a serious reaction's look-back, lifted with a reason)
//! and the QA confirmation of imported released history (SPEC §2). The rules are the domain's
//! (`traza_domain::hold`, `check_history_confirmation`); here they become transactions, each
//! write with its audit event and its batch's version bumped.

use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use traza_domain::access::{Action, Actor};
use traza_domain::batch::{HistoryRefusal, check_history_confirmation};
use traza_domain::hold::{Hold, LiftRefusal, check_lift, check_reason};
use traza_domain::vocab::SignatureMeaning;

use crate::Store;
use crate::attached::{history_confirmed, holds_of, insert_hold};
use crate::batches::{BatchView, view_by_id};
use crate::entity::{administrations, holds};
use crate::error::ErrorCode;
use crate::error::StoreError;
use crate::rows::save_batch;
use crate::write::Change;

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
        save_batch(&w, l.id, l.version, &l.read, &mut l.batch).await?;
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
        save_batch(&w, l.id, l.version, &l.read, &mut l.batch).await?;
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
        save_batch(&w, l.id, l.version, &l.read, &mut l.batch).await?;
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
