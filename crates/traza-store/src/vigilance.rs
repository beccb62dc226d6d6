//! Biovigilance (SPEC §6): adverse reactions against administrations, the donor look-back, the
//! coordinator's conclusion and the open work list.
//!
//! A report belongs to the batch's record: reporting or closing one bumps the batch version
//! (so the batch view, cached by version, shows it at once) and appends a `batch.reaction_*`
//! audit event in the same transaction. The look-back is computed when it is read, so a later
//! administration of the donor's material is on it too.

use chrono::NaiveDate;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Statement,
};
use serde::Serialize;
use serde_json::json;
use traza_domain::access::{Action, Actor};
use traza_domain::vigilance::{
    CloseRefusal, DonorBatchRow, Imputability, LookBack, ReactionSeverity, ReactionStatus,
    check_close, check_report, look_back,
};

use crate::Store;
use crate::attached::{ReactionView, hold_for_reaction, query_reactions};
use crate::entity::{administrations, reactions};
use crate::error::ErrorCode;
use crate::error::{StoreError, stored_word};
use crate::rows::save_batch;
use crate::sql::{Page, numbered, scope_clause};
use crate::write::Change;

/// A report and its look-back: the answer of reporting, reading and closing.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct ReactionReport {
    #[serde(flatten)]
    pub reaction: ReactionView,
    pub look_back: LookBack,
}

/// What a reporter states.
#[derive(Debug, Clone)]
pub struct NewReaction {
    pub reported_on: NaiveDate,
    pub severity: ReactionSeverity,
    pub imputability: Imputability,
    pub description: String,
}

async fn reaction_by_id(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<(ReactionView, String), StoreError> {
    query_reactions(db, "r.id = ?", vec![id.into()])
        .await?
        .pop()
        .ok_or(StoreError::NotFound("reaction"))
}

/// Every batch of the donor across the network, whoever's scope it is in, with its
/// administrations: one query by the donor index.
async fn look_back_of(
    db: &impl ConnectionTrait,
    reaction: &ReactionView,
    donor_code: &str,
) -> Result<LookBack, StoreError> {
    let backend = db.get_database_backend();
    let sql = numbered(
        backend,
        "SELECT b.batch_number, b.lab_code, b.product_code, b.status, b.patient_code, \
         a.id AS administration_id, a.patient_code AS administered_to, a.administered_on \
         FROM batches b LEFT JOIN administrations a ON a.batch_id = b.id \
         WHERE b.donor_code = ? ORDER BY b.id, a.id",
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [donor_code.into()],
        ))
        .await?;
    let rows = rows
        .iter()
        .map(|row| {
            let administration = match row.try_get::<Option<i64>>("", "administration_id")? {
                Some(id) => Some((
                    id,
                    row.try_get("", "administered_to")?,
                    row.try_get("", "administered_on")?,
                )),
                None => None,
            };
            Ok(DonorBatchRow {
                batch_number: row.try_get("", "batch_number")?,
                lab_code: row.try_get("", "lab_code")?,
                product_code: row.try_get("", "product_code")?,
                status: stored_word(row, "status")?,
                made_for: row.try_get("", "patient_code")?,
                administration,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(look_back(
        donor_code,
        &reaction.batch_number,
        reaction.administration_id,
        &reaction.patient_code,
        rows,
    ))
}

fn close_refusal(e: CloseRefusal) -> StoreError {
    match e {
        CloseRefusal::AlreadyClosed => {
            StoreError::refused(ErrorCode::ReactionClosed, e.to_string())
        }
        CloseRefusal::Conclusion(message) => StoreError::invalid("conclusion", message),
    }
}

impl Store {
    /// Reports an adverse reaction to administration `administration_id` of batch `number`
    /// (QA of the batch's laboratory, or a coordinator) and answers it with its look-back.
    pub async fn report_reaction(
        &self,
        actor: &Actor,
        number: &str,
        administration_id: i64,
        new: NewReaction,
    ) -> Result<ReactionReport, StoreError> {
        let mut w = self.write_for(actor).await?;
        let mut l = self
            .load_for_write(&w, actor, Action::ReportReaction, number, None)
            .await?;
        let administration = administrations::Entity::find_by_id(administration_id)
            .filter(administrations::Column::BatchId.eq(l.id))
            .one(&w.tx)
            .await?
            .ok_or(StoreError::NotFound("administration"))?;
        let description = check_report(
            new.reported_on,
            administration.administered_on,
            w.now().date_naive(),
            &new.description,
        )?;
        let inserted = reactions::Entity::insert(reactions::ActiveModel {
            batch_id: Set(l.id),
            administration_id: Set(administration_id),
            reported_on: Set(new.reported_on),
            severity: Set(new.severity.as_str().to_owned()),
            imputability: Set(new.imputability.as_str().to_owned()),
            description: Set(description),
            status: Set(ReactionStatus::Open.as_str().to_owned()),
            reported_by: Set(w.actor().to_owned()),
            reported_at: Set(w.now()),
            ..Default::default()
        })
        .exec(&w.tx)
        .await?;
        save_batch(&w, l.id, l.version, &l.read, &mut l.batch).await?;
        let (reaction, donor) = reaction_by_id(&w.tx, inserted.last_insert_id).await?;
        let look_back = look_back_of(&w.tx, &reaction, &donor).await?;
        if new.severity == ReactionSeverity::Serious {
            hold_for_reaction(&mut w, reaction.id, l.id, &look_back.batches_to_hold).await?;
        }
        w.audit(Change {
            action: "batch.reaction_report",
            entity_type: "batch",
            entity_key: number,
            before: None,
            after: Some(json!({
                "reaction": reaction,
                "look_back": {
                    "other_batches": look_back.other_batches.len(),
                    "batches_to_hold": look_back.batches_to_hold,
                    "patients_to_follow_up": look_back.patients_to_follow_up.len(),
                },
            })),
            reason: None,
        })
        .await?;
        w.commit().await?;
        Ok(ReactionReport {
            reaction,
            look_back,
        })
    }

    /// A report with its look-back, if the reaction's batch is in the actor's scope. The
    /// look-back itself crosses laboratories: it lists codes only.
    pub async fn get_reaction(&self, actor: &Actor, id: i64) -> Result<ReactionReport, StoreError> {
        actor.may(Action::ReadBatches)?;
        let (reaction, donor) = reaction_by_id(&self.db, id).await?;
        if !actor.scope().includes_code(&reaction.lab_code) {
            return Err(StoreError::NotFound("reaction"));
        }
        let look_back = look_back_of(&self.db, &reaction, &donor).await?;
        Ok(ReactionReport {
            reaction,
            look_back,
        })
    }

    /// The vigilance work list: reports in scope, newest first, optionally of one status;
    /// `cursor` (a report id) continues a previous page.
    pub async fn list_reactions(
        &self,
        actor: &Actor,
        status: Option<ReactionStatus>,
        cursor: Option<&str>,
        limit: u64,
    ) -> Result<Page<ReactionView>, StoreError> {
        actor.may(Action::ReadBatches)?;
        let limit = limit.clamp(1, 500);
        let mut condition = Vec::new();
        let mut values: Vec<sea_orm::Value> = Vec::new();
        if let Some(s) = status {
            condition.push("r.status = ?".into());
            values.push(s.as_str().into());
        }
        if let Some(c) = cursor {
            let before: i64 = c
                .parse()
                .map_err(|_| StoreError::invalid("cursor", "not a cursor of this list"))?;
            condition.push("r.id < ?".into());
            values.push(before.into());
        }
        condition.extend(scope_clause(&actor.scope(), "b.lab_code", &mut values));
        if condition.is_empty() {
            condition.push("1 = 1".to_owned());
        }
        // One row more than asked tells whether there is a next page.
        let sql = format!(
            "{} ORDER BY r.id DESC LIMIT {}",
            condition.join(" AND "),
            limit + 1
        );
        let mut items: Vec<ReactionView> = query_reactions(&self.db, &sql, values)
            .await?
            .into_iter()
            .map(|(r, _)| r)
            .collect();
        let next_cursor = if items.len() as u64 > limit {
            items.truncate(limit as usize);
            items.last().map(|r| r.id.to_string())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// A coordinator closes a report with its conclusion.
    pub async fn close_reaction(
        &self,
        actor: &Actor,
        id: i64,
        conclusion: &str,
    ) -> Result<ReactionReport, StoreError> {
        actor.may(Action::CloseReaction)?;
        let mut w = self.write_for(actor).await?;
        let (before, donor) = reaction_by_id(&w.tx, id).await?;
        let conclusion = check_close(before.status, conclusion).map_err(close_refusal)?;
        let mut l = self
            .load_for_write(&w, actor, Action::CloseReaction, &before.batch_number, None)
            .await?;
        reactions::Entity::update(reactions::ActiveModel {
            id: Set(id),
            status: Set(ReactionStatus::Closed.as_str().to_owned()),
            conclusion: Set(Some(conclusion.clone())),
            closed_by: Set(Some(w.actor().to_owned())),
            closed_at: Set(Some(w.now())),
            ..Default::default()
        })
        .exec(&w.tx)
        .await?;
        save_batch(&w, l.id, l.version, &l.read, &mut l.batch).await?;
        let after = ReactionView {
            status: ReactionStatus::Closed,
            conclusion: Some(conclusion),
            closed_by: Some(w.actor().to_owned()),
            closed_at: Some(w.now()),
            ..before.clone()
        };
        w.audit(Change {
            action: "batch.reaction_close",
            entity_type: "batch",
            entity_key: &before.batch_number,
            before: Some(json!(before)),
            after: Some(json!(after)),
            reason: after.conclusion.as_deref(),
        })
        .await?;
        let look_back = look_back_of(&w.tx, &after, &donor).await?;
        w.commit().await?;
        Ok(ReactionReport {
            reaction: after,
            look_back,
        })
    }
}
