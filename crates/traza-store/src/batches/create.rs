//! Creating a batch: its number (generated in the laboratory's form) and its first record.

use super::*;
use traza_domain::validation::Problem;

pub(super) async fn next_batch_number(
    w: &Write,
    lab: &LabCode,
    year: i32,
) -> Result<BatchNumber, StoreError> {
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

impl Store {
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
            .map_err(|_| StoreError::invalid("lab_code", Problem::UnknownLab))?;
        let product = load_product(&w.tx, new.product_code.as_str())
            .await
            .map_err(|_| StoreError::invalid("product_code", Problem::UnknownProduct))?;
        let assignments = assignments_for(&w.tx, product.code.as_str(), lab.code.as_str()).await?;
        let start = new.fields.manufacturing_start;
        let (month_start, next_month, _) = traza_domain::batch::capacity_month(start);
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
        // Guided by the master record in effect today at its laboratory, if there is one.
        if let Some(mbr) = crate::master_records::effective_record(
            &w.tx,
            batch.product_code.as_str(),
            batch.lab_code.as_str(),
            crate::master_records::lab_today(),
        )
        .await?
        {
            crate::master_records::guide(&mut w, stored_row.id, &key, &mbr).await?;
        }
        // A batch of a donor under an open serious reaction starts held (SPEC §2 "Hold").
        if let Some(reaction) =
            crate::attached::open_serious_reaction_of_donor(&w.tx, batch.donor_code.as_str())
                .await?
        {
            let reason = traza_domain::hold::open_reaction_hold_reason(reaction);
            insert_hold(&mut w, stored_row.id, &key, &reason, Some(reaction)).await?;
        }
        let view = view_of(&w.tx, &stored_row).await?;
        w.commit().await?;
        Ok(view)
    }
}
