//! Master batch records (SPEC §8): drafts written by the laboratory's QA, approved with an
//! electronic signature by another QA person of the laboratory, in effect from a date. The
//! rules are the domain's (`traza_domain::mbr`); this module loads, checks scope and writes,
//! each write with its audit event.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use traza_domain::access::{Action, Actor};
use traza_domain::codes::{LabCode, ProductCode};
use traza_domain::mbr::{
    MasterRecord, MbrRefusal, MbrStep, check_approval, check_content, check_edit, effective_on,
};
use traza_domain::vocab::{MbrStatus, SignatureMeaning};

use crate::Store;
use crate::entity::{batch_guides, master_records};
use crate::error::{ErrorCode, StoreError, stored};
use crate::network::load_product;
use crate::write::{Change, Write};

/// A version of a master record as the API shows it, with its status today.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct MbrView {
    pub id: i64,
    pub product_code: String,
    pub lab_code: String,
    pub version: u32,
    pub status: MbrStatus,
    pub steps: Vec<MbrStep>,
    pub author: String,
    pub created_at: DateTime<Utc>,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    pub effective_from: Option<NaiveDate>,
    /// SHA-256 of what the approver signed: the version's content, signer and date.
    pub approval_hash: Option<String>,
}

/// The row as its audit events record it (what `audit verify` compares).
fn audited(m: &master_records::Model) -> serde_json::Value {
    json!({
        "id": m.id,
        "product_code": m.product_code,
        "lab_code": m.lab_code,
        "version": m.version,
        "steps": m.steps,
        "author": m.author,
        "approved_by": m.approved_by,
        "effective_from": m.effective_from,
        "approval_hash": m.approval_hash,
    })
}

fn domain_of(m: &master_records::Model) -> Result<MasterRecord, StoreError> {
    Ok(MasterRecord {
        id: m.id,
        product_code: m.product_code.clone(),
        lab_code: m.lab_code.clone(),
        version: u32::try_from(m.version).unwrap_or(0),
        steps: stored("master record steps", serde_json::from_str(&m.steps))?,
        author: m.author.clone(),
        approved_by: m.approved_by.clone(),
        approved_at: m.approved_at,
        effective_from: m.effective_from,
    })
}

/// The versions of one product at one laboratory, oldest first.
async fn versions_of(
    db: &impl ConnectionTrait,
    product: &str,
    lab: &str,
) -> Result<Vec<MasterRecord>, StoreError> {
    master_records::Entity::find()
        .filter(master_records::Column::ProductCode.eq(product))
        .filter(master_records::Column::LabCode.eq(lab))
        .order_by_asc(master_records::Column::Version)
        .all(db)
        .await?
        .iter()
        .map(domain_of)
        .collect()
}

/// The version in effect today for `product` at `lab`, if any: what a new batch follows.
pub(crate) async fn effective_record(
    db: &impl ConnectionTrait,
    product: &str,
    lab: &str,
    today: NaiveDate,
) -> Result<Option<MasterRecord>, StoreError> {
    Ok(effective_on(&versions_of(db, product, lab).await?, today).cloned())
}

fn view_of(
    r: &MasterRecord,
    versions: &[MasterRecord],
    m: &master_records::Model,
    today: NaiveDate,
) -> MbrView {
    MbrView {
        id: r.id,
        product_code: r.product_code.clone(),
        lab_code: r.lab_code.clone(),
        version: r.version,
        status: r.status_on(today, versions),
        steps: r.steps.clone(),
        author: r.author.clone(),
        created_at: m.created_at,
        approved_by: r.approved_by.clone(),
        approved_at: r.approved_at,
        effective_from: r.effective_from,
        approval_hash: m.approval_hash.clone(),
    }
}

/// Who edited draft `id` after its author created it, from its audit trail.
async fn editors_of(db: &impl ConnectionTrait, id: i64) -> Result<Vec<String>, StoreError> {
    use crate::entity::audit_events;
    Ok(audit_events::Entity::find()
        .select_only()
        .column(audit_events::Column::Actor)
        .distinct()
        .filter(audit_events::Column::EntityType.eq("master_record"))
        .filter(audit_events::Column::EntityKey.eq(id.to_string()))
        .filter(audit_events::Column::Action.eq("master_record.update"))
        .into_tuple::<String>()
        .all(db)
        .await?)
}

/// Today on the laboratories' clock: statuses follow the Europe/Madrid date.
pub(crate) fn lab_today() -> NaiveDate {
    traza_domain::clock::lab_date(Utc::now())
}

fn refusal(e: MbrRefusal) -> StoreError {
    let code = match e {
        MbrRefusal::Locked(_) => ErrorCode::RecordLocked,
        MbrRefusal::AuthorApproves => ErrorCode::FourEyes,
        MbrRefusal::EffectiveInThePast { .. } => {
            return StoreError::invalid(
                "effective_from",
                traza_domain::validation::Problem::BeforeDate {
                    date: lab_today().to_string(),
                },
            );
        }
    };
    StoreError::Refused {
        code,
        message: e.to_string(),
        details: Vec::new(),
    }
}

impl Store {
    /// Master records the actor may read, of a product and/or laboratory.
    pub async fn list_master_records(
        &self,
        actor: &Actor,
        product: Option<&str>,
        lab: Option<&str>,
    ) -> Result<Vec<MbrView>, StoreError> {
        actor.may(Action::ReadBatches)?;
        let mut q = master_records::Entity::find();
        if let Some(p) = product {
            q = q.filter(master_records::Column::ProductCode.eq(p));
        }
        if let Some(l) = lab {
            q = q.filter(master_records::Column::LabCode.eq(l));
        }
        let rows = q
            .order_by_asc(master_records::Column::ProductCode)
            .order_by_asc(master_records::Column::LabCode)
            .order_by_asc(master_records::Column::Version)
            .all(&self.db)
            .await?;
        let scope = actor.scope();
        let today = lab_today();
        let mut out = Vec::new();
        for m in rows.iter().filter(|m| scope.includes_code(&m.lab_code)) {
            let versions = versions_of(&self.db, &m.product_code, &m.lab_code).await?;
            out.push(view_of(&domain_of(m)?, &versions, m, today));
        }
        Ok(out)
    }

    /// One version; another laboratory's is not found.
    pub async fn get_master_record(&self, actor: &Actor, id: i64) -> Result<MbrView, StoreError> {
        actor.may(Action::ReadBatches)?;
        let m = self.master_row(&self.db, actor, id).await?;
        let versions = versions_of(&self.db, &m.product_code, &m.lab_code).await?;
        Ok(view_of(&domain_of(&m)?, &versions, &m, lab_today()))
    }

    async fn master_row(
        &self,
        db: &impl ConnectionTrait,
        actor: &Actor,
        id: i64,
    ) -> Result<master_records::Model, StoreError> {
        match master_records::Entity::find_by_id(id).one(db).await? {
            Some(m) if actor.scope().includes_code(&m.lab_code) => Ok(m),
            _ => Err(StoreError::NotFound("master record")),
        }
    }

    /// A new draft: the next version of the product's record at the laboratory.
    pub async fn create_master_record(
        &self,
        actor: &Actor,
        product: &ProductCode,
        lab: &LabCode,
        steps: Vec<MbrStep>,
    ) -> Result<MbrView, StoreError> {
        actor.may_in_lab(Action::ManageMasterRecords, lab)?;
        check_content(&steps)?;
        let mut w = self
            .begin_write(actor.username.as_str(), self.source)
            .await?;
        load_product(&w.tx, product.as_str()).await?;
        crate::network::load_lab(&w.tx, lab.as_str()).await?;
        let versions = versions_of(&w.tx, product.as_str(), lab.as_str()).await?;
        let version = versions.iter().map(|v| v.version).max().unwrap_or(0) + 1;
        let inserted = master_records::Entity::insert(master_records::ActiveModel {
            product_code: Set(product.as_str().to_owned()),
            lab_code: Set(lab.as_str().to_owned()),
            version: Set(i32::try_from(version).unwrap_or(i32::MAX)),
            steps: Set(crate::write::json_of(&steps).to_string()),
            author: Set(actor.username.as_str().to_owned()),
            created_at: Set(w.now()),
            updated_at: Set(w.now()),
            ..Default::default()
        })
        .exec(&w.tx)
        .await?;
        let m = self
            .master_row(&w.tx, actor, inserted.last_insert_id)
            .await?;
        let key = m.id.to_string();
        w.audit(Change {
            action: "master_record.create",
            entity_type: "master_record",
            entity_key: &key,
            before: None,
            after: Some(audited(&m)),
            reason: None,
        })
        .await?;
        let view = self.view_in(&w, &m).await?;
        w.commit().await?;
        Ok(view)
    }

    /// Replaces a draft's steps; an approved version never changes (`record_locked`).
    pub async fn update_master_record(
        &self,
        actor: &Actor,
        id: i64,
        steps: Vec<MbrStep>,
        expected: Option<&[MbrStep]>,
    ) -> Result<MbrView, StoreError> {
        actor.may(Action::ManageMasterRecords)?;
        let mut w = self
            .begin_write(actor.username.as_str(), self.source)
            .await?;
        let before = self.master_row(&w.tx, actor, id).await?;
        actor.may_in_lab(
            Action::ManageMasterRecords,
            &stored("lab code", LabCode::parse(&before.lab_code))?,
        )?;
        check_edit(&domain_of(&before)?).map_err(refusal)?;
        check_content(&steps)?;
        let changed = || StoreError::Refused {
            code: ErrorCode::VersionMismatch,
            message: "the master record changed since you read it".to_owned(),
            details: Vec::new(),
        };
        if expected.is_some_and(|e| domain_of(&before).is_ok_and(|b| b.steps != e)) {
            return Err(changed());
        }
        // Conditional on the steps read: a concurrent edit committed in between leaves this
        // one nothing to update, instead of being overwritten by it.
        let written = master_records::Entity::update_many()
            .set(master_records::ActiveModel {
                steps: Set(crate::write::json_of(&steps).to_string()),
                updated_at: Set(w.now()),
                ..Default::default()
            })
            .filter(master_records::Column::Id.eq(id))
            .filter(master_records::Column::Steps.eq(before.steps.clone()))
            .filter(master_records::Column::ApprovedAt.is_null())
            .exec(&w.tx)
            .await?;
        if written.rows_affected != 1 {
            return Err(changed());
        }
        let m = self.master_row(&w.tx, actor, id).await?;
        let key = id.to_string();
        w.audit(Change {
            action: "master_record.update",
            entity_type: "master_record",
            entity_key: &key,
            before: Some(audited(&before)),
            after: Some(audited(&m)),
            reason: None,
        })
        .await?;
        let view = self.view_in(&w, &m).await?;
        w.commit().await?;
        Ok(view)
    }

    /// Approves a draft with the approver's electronic signature (meaning `mbr_approved`):
    /// another QA person of the laboratory than its author. It takes effect on
    /// `effective_from` (today or later).
    pub async fn approve_master_record(
        &self,
        actor: &Actor,
        id: i64,
        password: &str,
        effective_from: NaiveDate,
        expected: Option<&[MbrStep]>,
    ) -> Result<MbrView, StoreError> {
        actor.may(Action::ManageMasterRecords)?;
        let row = self.master_row(&self.db, actor, id).await?;
        actor.may_in_lab(
            Action::ManageMasterRecords,
            &stored("lab code", LabCode::parse(&row.lab_code))?,
        )?;
        // The rules first (a refused approval costs no password attempt), then the signature.
        let editors = editors_of(&self.db, id).await?;
        let editors: Vec<&str> = editors.iter().map(String::as_str).collect();
        check_approval(
            &domain_of(&row)?,
            &editors,
            actor.username.as_str(),
            effective_from,
            lab_today(),
        )
        .map_err(refusal)?;
        self.verify_signature_password(actor, password).await?;
        let mut w = self
            .begin_write(actor.username.as_str(), self.source)
            .await?;
        let before = self.master_row(&w.tx, actor, id).await?;
        // What the approver read is what is signed: a draft edited since is not approved.
        if expected.is_some_and(|e| domain_of(&before).is_ok_and(|b| b.steps != e)) {
            return Err(StoreError::Refused {
                code: ErrorCode::VersionMismatch,
                message: "the master record changed since you read it".to_owned(),
                details: Vec::new(),
            });
        }
        let editors = editors_of(&w.tx, id).await?;
        let editors: Vec<&str> = editors.iter().map(String::as_str).collect();
        check_approval(
            &domain_of(&before)?,
            &editors,
            actor.username.as_str(),
            effective_from,
            lab_today(),
        )
        .map_err(refusal)?;
        let hash = approval_hash(&before, actor, effective_from, w.now());
        // Conditional on the draft as read and signed: an edit or another approval committed
        // in between (PostgreSQL runs them concurrently) leaves nothing to approve, so the
        // signature never covers content it did not see.
        let written = master_records::Entity::update_many()
            .set(master_records::ActiveModel {
                approved_by: Set(Some(actor.username.as_str().to_owned())),
                approved_at: Set(Some(w.now())),
                effective_from: Set(Some(effective_from)),
                approval_hash: Set(Some(hash)),
                updated_at: Set(w.now()),
                ..Default::default()
            })
            .filter(master_records::Column::Id.eq(id))
            .filter(master_records::Column::Steps.eq(before.steps.clone()))
            .filter(master_records::Column::ApprovedAt.is_null())
            .exec(&w.tx)
            .await?;
        if written.rows_affected != 1 {
            return Err(StoreError::Refused {
                code: ErrorCode::VersionMismatch,
                message: "the master record changed while it was being approved".to_owned(),
                details: Vec::new(),
            });
        }
        let m = self.master_row(&w.tx, actor, id).await?;
        let key = id.to_string();
        let mut after = audited(&m);
        if let Some(obj) = after.as_object_mut() {
            obj.insert(
                "signature".into(),
                json!({
                    "signer": actor.username.as_str(),
                    "signer_full_name": actor.full_name,
                    "meaning": SignatureMeaning::MbrApproved.as_str(),
                    "signed_at": w.now(),
                }),
            );
        }
        w.audit(Change {
            action: "master_record.approve",
            entity_type: "master_record",
            entity_key: &key,
            before: Some(audited(&before)),
            after: Some(after),
            reason: None,
        })
        .await?;
        let view = self.view_in(&w, &m).await?;
        w.commit().await?;
        Ok(view)
    }

    async fn view_in(&self, w: &Write, m: &master_records::Model) -> Result<MbrView, StoreError> {
        let versions = versions_of(&w.tx, &m.product_code, &m.lab_code).await?;
        Ok(view_of(&domain_of(m)?, &versions, m, lab_today()))
    }
}

/// What an approval signs: the version (product, laboratory, number, steps as stored), the
/// signer, the meaning, the date it takes effect and the time of signing.
fn approval_hash(
    m: &master_records::Model,
    actor: &Actor,
    effective_from: NaiveDate,
    at: DateTime<Utc>,
) -> String {
    let signed = json!({
        "product_code": m.product_code,
        "lab_code": m.lab_code,
        "version": m.version,
        "steps": m.steps,
        "signer": actor.username.as_str(),
        "meaning": SignatureMeaning::MbrApproved.as_str(),
        "effective_from": effective_from,
        "signed_at": at,
    });
    hex::encode(Sha256::digest(signed.to_string().as_bytes()))
}

/// Stamps batch `batch_id` (number `number`) with the master record that guides it.
pub(crate) async fn guide(
    w: &mut Write,
    batch_id: i64,
    number: &str,
    mbr: &MasterRecord,
) -> Result<(), StoreError> {
    let inserted = batch_guides::Entity::insert(batch_guides::ActiveModel {
        batch_id: Set(batch_id),
        mbr_id: Set(mbr.id),
        ..Default::default()
    })
    .exec(&w.tx)
    .await?;
    w.audit(Change {
        action: "batch.guide",
        entity_type: "batch",
        entity_key: number,
        before: None,
        after: Some(json!({
            "id": inserted.last_insert_id,
            "batch_id": batch_id,
            "mbr_id": mbr.id,
            "mbr_version": mbr.version,
        })),
        reason: None,
    })
    .await
}

/// The guiding master record of a batch: `(id, version)`.
pub(crate) async fn guide_of(
    db: &impl ConnectionTrait,
    batch_id: i64,
) -> Result<Option<(i64, u32)>, StoreError> {
    let Some(g) = batch_guides::Entity::find()
        .filter(batch_guides::Column::BatchId.eq(batch_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let m = master_records::Entity::find_by_id(g.mbr_id)
        .one(db)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("master record {} is gone", g.mbr_id)))?;
    Ok(Some((m.id, u32::try_from(m.version).unwrap_or(0))))
}
