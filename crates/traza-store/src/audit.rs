//! Reading and verifying the audit trail. Nothing here, or anywhere, updates or deletes an
//! audit event.

use chrono::{DateTime, Utc};
use sea_orm::{
    AccessMode, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, IsolationLevel, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};
use serde::Serialize;
use traza_domain::access::{Action, Actor};
use traza_domain::audit::{AuditEvent, ChainBreak, ChainVerifier, Checkpoint};
use traza_domain::audit_key::{KeyRing, keyed_digest};
use traza_domain::reconcile::{
    ImportCover, ImportDigest, Mismatch, Reconciler, Table, canonical_row, check_import,
    specification_key,
};

use crate::Store;
use crate::entity::audit_events;
use crate::error::{StoreError, stored};
use crate::write::json_of;

/// An audit event as stored, with its place in the chain.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct StoredAuditEvent {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub entity_type: String,
    pub entity_key: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub before: Option<serde_json::Value>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub after: Option<serde_json::Value>,
    pub reason: Option<String>,
    pub source: String,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub entity_type: Option<String>,
    pub entity_key: Option<String>,
    pub after_id: Option<i64>,
    pub limit: u64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct AuditPage {
    pub items: Vec<StoredAuditEvent>,
    pub next_cursor: Option<String>,
}

/// The outcome of recomputing the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyReport {
    Intact {
        events: i64,
        head: String,
    },
    Broken(ChainBreak),
    /// The chain holds, but a GMP row is not what its events made (or has none).
    RowMismatch(Mismatch),
}

fn parse_json(what: &str, s: &Option<String>) -> Result<Option<serde_json::Value>, StoreError> {
    s.as_deref()
        .map(|v| stored(what, serde_json::from_str(v)))
        .transpose()
}

fn to_stored(m: audit_events::Model) -> Result<StoredAuditEvent, StoreError> {
    Ok(StoredAuditEvent {
        before: parse_json("audit before", &m.before)?,
        after: parse_json("audit after", &m.after)?,
        id: m.id,
        at: m.at,
        actor: m.actor,
        action: m.action,
        entity_type: m.entity_type,
        entity_key: m.entity_key,
        reason: m.reason,
        source: m.source,
        prev_hash: m.prev_hash,
        hash: m.hash,
    })
}

impl Store {
    /// Recomputes the whole chain in id order, a page at a time (memory stays flat), and
    /// names the first event that does not fit.
    pub async fn verify_audit_chain(&self) -> Result<VerifyReport, StoreError> {
        self.verify_audit_chain_against(None).await
    }

    /// [`Store::verify_audit_chain`], and that the trail still holds `checkpoint` (a head
    /// printed earlier by `traza audit checkpoint` and kept outside the database).
    pub async fn verify_audit_chain_against(
        &self,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<VerifyReport, StoreError> {
        let mut hash_at_checkpoint: Option<String> = None;
        let mut rows = Reconciler::default();
        const PAGE: u64 = 2_000;
        let ring = self.audit_keys.ring();
        let mut verifier = ChainVerifier::with_keys(ring.clone());
        let mut after = 0i64;
        // One consistent snapshot for the pages and the head: read piecemeal, a write that
        // commits in between would move the head past the events already read and look like
        // a break. (A deferred SQLite transaction reads one WAL snapshot from its first read.)
        let tx = match self.db.get_database_backend() {
            DbBackend::Postgres => {
                self.db
                    .begin_with_config(
                        Some(IsolationLevel::RepeatableRead),
                        Some(AccessMode::ReadOnly),
                    )
                    .await?
            }
            _ => self.db.begin().await?,
        };
        loop {
            let page = audit_events::Entity::find()
                .filter(audit_events::Column::Id.gt(after))
                .order_by_asc(audit_events::Column::Id)
                .limit(PAGE)
                .all(&tx)
                .await?;
            let Some(last) = page.last() else { break };
            after = last.id;
            let n = page.len() as u64;
            for m in page {
                let event = match decode(&m) {
                    Ok(e) => e,
                    Err(problem) => {
                        return Ok(VerifyReport::Broken(ChainBreak { id: m.id, problem }));
                    }
                };
                if let Err(b) = verifier.check(&event, &m.prev_hash, &m.hash) {
                    return Ok(VerifyReport::Broken(b));
                }
                rows.observe(&event);
                if checkpoint.is_some_and(|c| c.id == m.id) {
                    hash_at_checkpoint = Some(verifier.head().to_owned());
                }
            }
            if n < PAGE {
                break;
            }
        }
        // The head must point at the last event: a truncated tail is a break too.
        let head = audit_head(&tx).await?;
        if let Some(from) = head.2
            && ring.key_for(from).is_none()
            && verifier.verified() >= from
        {
            tx.commit().await?;
            return Err(StoreError::AuditKey(format!(
                "the audit trail is keyed from event {from}: verifying it needs its key file (TRAZA_AUDIT_KEY_FILE)"
            )));
        }
        let mismatch = reconcile_rows(&tx, &rows, &ring).await?;
        tx.commit().await?;
        if head.0 != verifier.verified() || head.1 != verifier.head() {
            return Ok(VerifyReport::Broken(ChainBreak {
                id: head.0.max(verifier.verified()),
                problem: format!(
                    "the chain head records event {} but the trail ends at event {}",
                    head.0,
                    verifier.verified()
                ),
            }));
        }
        if let Some(c) = checkpoint
            && let Err(b) = c.check(hash_at_checkpoint.as_deref(), verifier.verified())
        {
            return Ok(VerifyReport::Broken(b));
        }
        if let Some(m) = mismatch {
            return Ok(VerifyReport::RowMismatch(m));
        }
        Ok(VerifyReport::Intact {
            events: verifier.verified(),
            head: verifier.head().to_owned(),
        })
    }

    /// The trail, filtered, in chain order, keyset-paginated by `after_id`.
    pub async fn audit_trail(
        &self,
        actor: &Actor,
        q: &AuditQuery,
    ) -> Result<AuditPage, StoreError> {
        actor.may(Action::ReadAuditTrail)?;
        let limit = q.limit.clamp(1, 1000);
        let mut query = audit_events::Entity::find();
        if let Some(t) = &q.entity_type {
            query = query.filter(audit_events::Column::EntityType.eq(t.as_str()));
        }
        if let Some(k) = &q.entity_key {
            query = query.filter(audit_events::Column::EntityKey.eq(k.as_str()));
        }
        if let Some(a) = q.after_id {
            query = query.filter(audit_events::Column::Id.gt(a));
        }
        let rows = query
            .order_by_asc(audit_events::Column::Id)
            .limit(limit + 1)
            .all(&self.db)
            .await?;
        let more = rows.len() as u64 > limit;
        let items: Vec<_> = rows
            .into_iter()
            .take(limit as usize)
            .map(to_stored)
            .collect::<Result<_, _>>()?;
        let next_cursor = if more {
            items.last().map(|e| e.id.to_string())
        } else {
            None
        };
        Ok(AuditPage { items, next_cursor })
    }

    /// The audit events of one batch, for anyone who may see the batch.
    pub async fn batch_audit(
        &self,
        actor: &Actor,
        number: &str,
    ) -> Result<Vec<StoredAuditEvent>, StoreError> {
        // Scope first: a batch out of scope is "not found", its trail too.
        self.get_batch(actor, number).await?;
        audit_events::Entity::find()
            .filter(audit_events::Column::EntityType.eq("batch"))
            .filter(audit_events::Column::EntityKey.eq(number))
            .order_by_asc(audit_events::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(to_stored)
            .collect()
    }
}

/// The chain head: (last event, its hash, the first keyed event).
async fn audit_head(db: &impl ConnectionTrait) -> Result<(i64, String, Option<i64>), StoreError> {
    let head = crate::entity::audit_head::Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or_else(|| StoreError::Corrupt("the audit chain head is missing".into()))?;
    Ok((head.last_id, head.last_hash, head.keyed_from))
}

fn decode(m: &audit_events::Model) -> Result<AuditEvent, String> {
    let json = |s: &Option<String>| {
        s.as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| format!("stored JSON does not parse: {e}"))
    };
    Ok(AuditEvent {
        id: m.id,
        at: m.at,
        actor: m.actor.clone(),
        action: m.action.clone(),
        entity_type: m.entity_type.clone(),
        entity_key: m.entity_key.clone(),
        before: json(&m.before)?,
        after: json(&m.after)?,
        reason: m.reason.clone(),
        source: m.source.parse().map_err(|e| format!("{e}"))?,
    })
}

/// Compares every reconciled row with the state its events give (inside the verifying
/// snapshot), a page at a time; the first difference.
async fn reconcile_rows(
    db: &impl ConnectionTrait,
    rows: &Reconciler,
    ring: &KeyRing,
) -> Result<Option<Mismatch>, StoreError> {
    use crate::entity::{
        administrations, assignments, batch_events, batch_exceptions, batch_guides, batches,
        deviations, holds, labs, master_records, product_specifications, products, qc_results,
        reactions, signatures, step_entries, user_labs, users,
    };
    const PAGE: u64 = 2_000;
    if let Some(m) = rows.unsigned_record() {
        return Ok(Some(m.clone()));
    }
    let mut seen = std::collections::HashSet::new();
    // Per import: the digests of its rows as found, and the first number of each chunk.
    let mut imported: std::collections::HashMap<i64, (ImportDigest, Vec<String>)> =
        Default::default();
    let mut after = 0i64;
    loop {
        let page = batches::Entity::find()
            .filter(batches::Column::Id.gt(after))
            .order_by_asc(batches::Column::Id)
            .limit(PAGE)
            .all(db)
            .await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for m in &page {
            seen.insert(m.batch_number.clone());
            let stored = match crate::rows::batch_from(m) {
                Ok(b) => serde_json::to_value(&b).unwrap_or_default(),
                Err(e) => {
                    return Ok(Some(Mismatch {
                        table: Table::Batches.as_str(),
                        key: m.batch_number.clone(),
                        column: None,
                        problem: e.to_string(),
                    }));
                }
            };
            let known = rows.knows(Table::Batches, &m.batch_number);
            if m.source == traza_domain::vocab::Source::Import.as_str() {
                // Imported history: covered by its import's digests, as it was imported.
                let Some(import_id) = m.import_id else {
                    return Ok(Some(no_import(&m.batch_number, "no import")));
                };
                match rows.import(import_id) {
                    ImportCover::NoEvent => {
                        return Ok(Some(no_import(
                            &m.batch_number,
                            &format!("import {import_id}, which has no audit event"),
                        )));
                    }
                    ImportCover::Counts => {}
                    ImportCover::Digests(x) => {
                        let (digest, firsts) = imported.entry(import_id).or_insert_with(|| {
                            (
                                ImportDigest::new(ring.key_for(x.event_id).cloned()),
                                Vec::new(),
                            )
                        });
                        if digest.rows() % ImportDigest::ROWS_PER_DIGEST as u64 == 0 {
                            firsts.push(m.batch_number.clone());
                        }
                        let as_imported = rows.imported_state(&m.batch_number).unwrap_or(&stored);
                        digest.push(&canonical_row(Table::Batches, as_imported));
                    }
                }
                if !known {
                    continue;
                }
            }
            if let Err(e) = rows.check(Table::Batches, &m.batch_number, &stored) {
                return Ok(Some(e));
            }
        }
    }
    if let Some(gone) = rows.first_missing(Table::Batches, &seen) {
        return Ok(Some(gone));
    }
    let mut ids: Vec<_> = rows.imports().map(|(id, _)| id).collect();
    ids.sort_unstable();
    for id in ids {
        let ImportCover::Digests(x) = rows.import(id) else {
            continue;
        };
        let (found, digests, firsts) = match imported.remove(&id) {
            Some((d, firsts)) => {
                let (n, digests) = d.finish();
                (n, digests, firsts)
            }
            None => (0, Vec::new(), Vec::new()),
        };
        if let Err(e) = check_import(id, x, found, &digests, &firsts) {
            return Ok(Some(e));
        }
    }
    macro_rules! rows_of {
        ($entity:ident, $table:expr) => {{
            let mut after = 0i64;
            let mut seen = std::collections::HashSet::new();
            loop {
                let page = $entity::Entity::find()
                    .filter($entity::Column::Id.gt(after))
                    .order_by_asc($entity::Column::Id)
                    .limit(PAGE)
                    .into_json()
                    .all(db)
                    .await?;
                let Some(last) = page.last() else { break };
                after = last
                    .get("id")
                    .and_then(serde_json::Value::as_i64)
                    .unwrap_or(i64::MAX);
                for row in &page {
                    let id = row
                        .get("id")
                        .and_then(serde_json::Value::as_i64)
                        .unwrap_or_default();
                    if let Err(e) = rows.check($table, &id.to_string(), row) {
                        return Ok(Some(e));
                    }
                    seen.insert(id.to_string());
                }
            }
            if let Some(gone) = rows.first_missing($table, &seen) {
                return Ok(Some(gone));
            }
        }};
    }
    rows_of!(qc_results, Table::QcResults);
    rows_of!(signatures, Table::Signatures);
    rows_of!(administrations, Table::Administrations);
    rows_of!(deviations, Table::Deviations);
    rows_of!(batch_events, Table::BatchEvents);
    rows_of!(holds, Table::Holds);
    rows_of!(reactions, Table::Reactions);
    rows_of!(master_records, Table::MasterRecords);
    rows_of!(batch_guides, Table::BatchGuides);
    rows_of!(step_entries, Table::StepEntries);
    rows_of!(batch_exceptions, Table::BatchExceptions);
    // Users are keyed by username; their laboratories (the scope they act in) are compared
    // with them, in code order as the events record them.
    let mut labs_of: std::collections::HashMap<String, Vec<String>> = Default::default();
    for link in user_labs::Entity::find()
        .order_by_asc(user_labs::Column::Username)
        .order_by_asc(user_labs::Column::LabCode)
        .all(db)
        .await?
    {
        labs_of
            .entry(link.username)
            .or_default()
            .push(link.lab_code);
    }
    let mut seen = std::collections::HashSet::new();
    for mut row in users::Entity::find()
        .order_by_asc(users::Column::Username)
        .into_json()
        .all(db)
        .await?
    {
        let key = row
            .get("username")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if let Some(obj) = row.as_object_mut() {
            let labs = labs_of.remove(&key).unwrap_or_default();
            obj.insert("labs".into(), serde_json::json!(labs));
        }
        if let Err(e) = rows.check(Table::Users, &key, &row) {
            return Ok(Some(e));
        }
        if let Some((digest, event_id)) = rows.password_digest(&key) {
            let hash = row
                .get("password_hash")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default();
            if keyed_digest(ring.key_for(event_id), hash.as_bytes()) != digest {
                return Ok(Some(Mismatch {
                    table: Table::Users.as_str(),
                    key,
                    column: Some("password_hash"),
                    problem: "the password hash is not the one its audit events recorded (changed outside Traza)".into(),
                }));
            }
        }
        seen.insert(key);
    }
    if let Some(gone) = rows.first_missing(Table::Users, &seen) {
        return Ok(Some(gone));
    }
    // The network: read as the domain has it (what the events recorded).
    let mut seen = std::collections::HashSet::new();
    for m in labs::Entity::find().all(db).await? {
        let key = m.code.clone();
        let lab = match crate::network::lab_from(m) {
            Ok(lab) => lab,
            Err(e) => return Ok(Some(unreadable(Table::Labs, key, &e))),
        };
        if let Err(e) = rows.check(Table::Labs, &key, &json_of(&lab)) {
            return Ok(Some(e));
        }
        seen.insert(key);
    }
    if let Some(gone) = rows.first_missing(Table::Labs, &seen) {
        return Ok(Some(gone));
    }
    let mut seen = std::collections::HashSet::new();
    for m in products::Entity::find().all(db).await? {
        let product = match crate::network::load_product(db, &m.code).await {
            Ok(p) => p,
            Err(e) => return Ok(Some(unreadable(Table::Products, m.code, &e))),
        };
        if let Err(e) = rows.check(Table::Products, &m.code, &json_of(&product)) {
            return Ok(Some(e));
        }
        seen.insert(m.code);
    }
    if let Some(gone) = rows.first_missing(Table::Products, &seen) {
        return Ok(Some(gone));
    }
    let mut seen = std::collections::HashSet::new();
    for m in product_specifications::Entity::find().all(db).await? {
        let key = specification_key(&m.product_code, i64::from(m.version));
        let tests: serde_json::Value = match serde_json::from_str(&m.tests) {
            Ok(v) => v,
            Err(e) => {
                return Ok(Some(Mismatch {
                    table: Table::Specifications.as_str(),
                    key,
                    column: Some("tests"),
                    problem: format!("the stored specification does not parse: {e}"),
                }));
            }
        };
        if let Err(e) = rows.check(
            Table::Specifications,
            &key,
            &serde_json::json!({ "tests": tests }),
        ) {
            return Ok(Some(e));
        }
        seen.insert(key);
    }
    if let Some(gone) = rows.first_missing(Table::Specifications, &seen) {
        return Ok(Some(gone));
    }
    let mut seen = std::collections::HashSet::new();
    for m in assignments::Entity::find().all(db).await? {
        let key = m.id.to_string();
        let a = match crate::network::assignment_from(m) {
            Ok(a) => a,
            Err(e) => return Ok(Some(unreadable(Table::Assignments, key, &e))),
        };
        if let Err(e) = rows.check(Table::Assignments, &key, &json_of(&a)) {
            return Ok(Some(e));
        }
        seen.insert(key);
    }
    if let Some(gone) = rows.first_missing(Table::Assignments, &seen) {
        return Ok(Some(gone));
    }
    // SPEC §8: the catalogue of materials, the lots and their signatures, equipment, rooms.
    if let Some(m) = crate::materials_audit::reconcile(db, rows).await? {
        return Ok(Some(m));
    }
    if let Some(m) = crate::equipment::reconcile(db, rows).await? {
        return Ok(Some(m));
    }
    Ok(None)
}

/// A stored row that no longer reads as the domain's record: changed outside Traza.
fn unreadable(table: Table, key: String, e: &StoreError) -> Mismatch {
    Mismatch {
        table: table.as_str(),
        key,
        column: None,
        problem: format!("the row does not read back ({e}): changed outside Traza"),
    }
}

fn no_import(number: &str, what: &str) -> Mismatch {
    Mismatch {
        table: Table::Batches.as_str(),
        key: number.to_owned(),
        column: Some("import_id"),
        problem: format!("an imported row that claims {what} (inserted outside Traza)"),
    }
}
