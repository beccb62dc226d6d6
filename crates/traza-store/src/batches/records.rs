//! Recording during manufacture: steps, QC results, deviations.

use super::*;

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
        save_batch(&w, l.id, l.version, &l.read, &mut l.batch).await?;
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
        save_batch(&w, l.id, l.version, &l.read, &mut l.batch).await?;
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
        save_batch(&w, l.id, l.version, &l.read, &mut l.batch).await?;
        let view = insert_deviation(&mut w, l.id, number, description, severity).await?;
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
        save_batch(&w, l.id, l.version, &l.read, &mut l.batch).await?;
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
}

/// Opens a deviation of batch `batch_id` (number `number`) in `w`, with its audit event.
pub(super) async fn insert_deviation(
    w: &mut Write,
    batch_id: i64,
    number: &str,
    description: String,
    severity: DeviationSeverity,
) -> Result<DeviationView, StoreError> {
    let inserted = deviations::Entity::insert(deviations::ActiveModel {
        batch_id: Set(batch_id),
        description: Set(description.clone()),
        severity: Set(severity.as_str().to_owned()),
        status: Set(DeviationStatus::Open.as_str().to_owned()),
        opened_by: Set(w.actor().to_owned()),
        opened_at: Set(w.now()),
        ..Default::default()
    })
    .exec(&w.tx)
    .await?;
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
    Ok(view)
}
