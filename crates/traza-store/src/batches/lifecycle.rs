//! The lifecycle of a batch: completion, release and rejection with their signatures,
//! administration, correction.

use chrono::SecondsFormat;
use traza_domain::signing::{
    EarlierSignature, RecordParts, SignedDeviation, SignedRecord, SignedStep, Signer, check_meaning,
};

use std::collections::HashMap;

use crate::entity::{batch_guides, holds, step_entries};

use super::*;

impl Store {
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
        save_batch(&w, l.id, l.version, &l.read, &mut l.batch).await?;
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
        let batch = batch_from(&m)?;
        let l = Loaded {
            id: m.id,
            version: m.version,
            created_by: m.created_by.clone(),
            read: batch.clone(),
            batch,
        };
        let today = Utc::now().date_naive();
        let mut details: Vec<RuleDetail> =
            blockers_of(&self.db, &l, actor.username.as_str(), today)
                .await?
                .iter()
                .map(RuleDetail::blocker)
                .collect();
        details.extend(super::steps::record_rule_details(&self.db, l.id).await?);
        Ok(details)
    }

    /// What would stop the actor from certifying each of the batches `numbers` now, by batch
    /// number (those out of scope or unknown are left out): the same rules as
    /// `release_blockers`, for a release queue, read with one query per kind of record for
    /// the whole queue instead of one set of queries per batch.
    pub async fn release_blockers_of(
        &self,
        actor: &Actor,
        numbers: &[String],
    ) -> Result<HashMap<String, Vec<RuleDetail>>, StoreError> {
        actor.may(Action::ReadBatches)?;
        let mut answer = HashMap::new();
        if numbers.is_empty() {
            return Ok(answer);
        }
        let db = &self.db;
        let models = scope_filter(
            batches::Entity::find()
                .filter(batches::Column::BatchNumber.is_in(numbers.iter().map(String::as_str))),
            &actor.scope(),
        )
        .all(db)
        .await?;
        let ids: Vec<i64> = models.iter().map(|m| m.id).collect();

        let mut qc: HashMap<i64, Vec<QcResult>> = HashMap::new();
        for r in qc_results::Entity::find()
            .filter(qc_results::Column::BatchId.is_in(ids.iter().copied()))
            .order_by_asc(qc_results::Column::Id)
            .all(db)
            .await?
        {
            qc.entry(r.batch_id).or_default().push(qc_result_from(r)?);
        }
        for results in qc.values_mut() {
            mark_superseded(results);
        }
        let mut devs: HashMap<i64, Vec<Deviation>> = HashMap::new();
        for d in deviations::Entity::find()
            .filter(deviations::Column::BatchId.is_in(ids.iter().copied()))
            .order_by_asc(deviations::Column::Id)
            .all(db)
            .await?
        {
            devs.entry(d.batch_id).or_default().push(Deviation {
                id: d.id,
                status: stored("deviation status", d.status.parse())?,
            });
        }
        // Who took part: recorded an event, performed or verified a step.
        let mut took_part: HashMap<i64, Vec<String>> = HashMap::new();
        for (batch_id, by) in batch_events::Entity::find()
            .select_only()
            .column(batch_events::Column::BatchId)
            .column(batch_events::Column::RecordedBy)
            .filter(batch_events::Column::BatchId.is_in(ids.iter().copied()))
            .into_tuple::<(i64, String)>()
            .all(db)
            .await?
        {
            took_part.entry(batch_id).or_default().push(by);
        }
        for (batch_id, performed, verified) in step_entries::Entity::find()
            .select_only()
            .column(step_entries::Column::BatchId)
            .column(step_entries::Column::PerformedBy)
            .column(step_entries::Column::VerifiedBy)
            .filter(step_entries::Column::BatchId.is_in(ids.iter().copied()))
            .into_tuple::<(i64, String, Option<String>)>()
            .all(db)
            .await?
        {
            let e = took_part.entry(batch_id).or_default();
            e.push(performed);
            e.extend(verified);
        }
        // Holds and master records are read batch by batch, for the few batches that have one.
        let with_holds: BTreeSet<i64> = holds::Entity::find()
            .select_only()
            .column(holds::Column::BatchId)
            .filter(holds::Column::BatchId.is_in(ids.iter().copied()))
            .into_tuple::<i64>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let guided: BTreeSet<i64> = batch_guides::Entity::find()
            .select_only()
            .column(batch_guides::Column::BatchId)
            .filter(batch_guides::Column::BatchId.is_in(ids.iter().copied()))
            .into_tuple::<i64>()
            .all(db)
            .await?
            .into_iter()
            .collect();

        let today = Utc::now().date_naive();
        let mut products: HashMap<String, traza_domain::network::Product> = HashMap::new();
        for m in &models {
            if !products.contains_key(&m.product_code) {
                products.insert(
                    m.product_code.clone(),
                    load_product(db, &m.product_code).await?,
                );
            }
            let product = &products[&m.product_code];
            let batch = batch_from(m)?;
            let results = qc.remove(&m.id).unwrap_or_default();
            let people = took_part.remove(&m.id).unwrap_or_default();
            let participants = participants(
                &m.created_by,
                people.iter().map(String::as_str),
                results.iter().map(|r| r.recorded_by.as_str()),
            );
            let holds = if with_holds.contains(&m.id) {
                holds_of(db, m.id).await?
            } else {
                Vec::new()
            };
            let deviations = devs.remove(&m.id).unwrap_or_default();
            let mut details: Vec<RuleDetail> = release_blockers(&ReleaseContext {
                batch: &batch,
                product,
                signer: actor.username.as_str(),
                participants: &participants,
                results: &results,
                deviations: &deviations,
                holds: &holds,
                today,
            })
            .iter()
            .map(RuleDetail::blocker)
            .collect();
            if guided.contains(&m.id) {
                details.extend(super::steps::record_rule_details(db, m.id).await?);
            }
            answer.insert(m.batch_number.clone(), details);
        }
        Ok(answer)
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
        check_meaning(Transition::Release, meaning)
            .map_err(|e| StoreError::invalid("meaning", e))?;
        self.check_signer(actor, Action::Release, number, password)
            .await?;
        let mut w = self.write_for(actor).await?;
        let mut l = self
            .load_for_write(&w, actor, Action::Release, number, expected_version)
            .await?;
        let today = w.now().date_naive();
        let mut details: Vec<RuleDetail> = blockers_of(&w.tx, &l, actor.username.as_str(), today)
            .await?
            .iter()
            .map(RuleDetail::blocker)
            .collect();
        // A guided batch's record: every step recorded and verified, every exception resolved.
        details.extend(super::steps::record_rule_details(&w.tx, l.id).await?);
        if !details.is_empty() {
            return Err(StoreError::Refused {
                code: ErrorCode::ReleaseBlocked,
                message: format!(
                    "batch {number} cannot be certified: {} rule(s) unmet",
                    details.len()
                ),
                details,
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
        save_batch(&w, l.id, l.version, &l.read, &mut l.batch).await?;
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
        save_batch(&w, l.id, l.version, &l.read, &mut l.batch).await?;
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

    /// Stores a signature linked to the batch record as it stands, by the hash of the domain's
    /// signed-record manifest (signer, meaning, time, and the whole record), so that the
    /// signature cannot be transferred to another record nor re-read with another meaning
    /// (21 CFR 11.50, 11.70). Returns the manifest's text too: its event carries it, so that
    /// `audit verify` recomputes the hash.
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
        let view = view_of(&w.tx, &m).await?;
        let signer = Signer::new(
            actor.username.as_str(),
            &actor.full_name,
            meaning,
            w.now(),
            reason,
        );
        let mut parts = record_parts(&view);
        parts.batch_record = super::steps::signed_part(&w.tx, batch_id).await?;
        let manifest = SignedRecord::new(signer, parts);
        let record = manifest.canonical();
        let record_hash = manifest.hash();
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
        save_batch(&w, l.id, l.version, &l.read, &mut l.batch).await?;
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
        save_batch(&w, l.id, l.version, &l.read, &mut l.batch).await?;
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
}

/// The parts of the batch record a signature covers, from the record as shown.
fn record_parts(view: &BatchView) -> RecordParts<'_> {
    RecordParts {
        batch: &view.batch,
        steps: view
            .events
            .iter()
            .map(|e| SignedStep {
                id: e.id,
                step: e.step.clone(),
                performed_at: e.performed_at.to_rfc3339_opts(SecondsFormat::Micros, true),
                note: e.note.clone(),
                recorded_by: e.recorded_by.clone(),
            })
            .collect(),
        qc_results: &view.qc_results,
        deviations: view
            .deviations
            .iter()
            .map(|d| SignedDeviation {
                id: d.id,
                description: d.description.clone(),
                severity: d.severity,
                status: d.status,
                opened_by: d.opened_by.clone(),
                resolution: d.resolution.clone(),
                closed_by: d.closed_by.clone(),
            })
            .collect(),
        holds: &view.holds,
        batch_record: None,
        earlier_signatures: view
            .signatures
            .iter()
            .map(|s| EarlierSignature {
                id: s.id,
                signer: s.signer.clone(),
                meaning: s.meaning,
                record_hash: s.record_hash.clone(),
            })
            .collect(),
    }
}
