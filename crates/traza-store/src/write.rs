//! Write transactions and the audit-trail append.
//!
//! Every write goes through [`Write`]: it opens the transaction, locks the chain head *first*
//! (so that everything read afterwards is current and appends are serialised across tasks and
//! processes), and on commit moves the head to the last event appended. A dropped `Write`
//! rolls back: no change without its audit event, no audit event without its change.

use chrono::{DateTime, Utc};
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, SqliteTransactionMode, Statement,
    TransactionOptions, TransactionTrait,
};
use serde_json::Value;
use traza_domain::audit::{AuditEvent, audit_time};
use traza_domain::audit_key::{ChainKey, keyed_digest};
use traza_domain::vocab::Source;

use crate::error::StoreError;
use crate::{Store, entity::audit_events};

pub struct Write {
    pub(crate) tx: DatabaseTransaction,
    last_id: i64,
    last_hash: String,
    /// The key that signs this transaction's events (None: a plain chain).
    key: Option<ChainKey>,
    actor: String,
    source: Source,
    now: DateTime<Utc>,
}

/// What an audit event says about one change.
pub struct Change<'a> {
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_key: &'a str,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub reason: Option<&'a str>,
}

impl Store {
    /// Opens a write transaction on behalf of `actor`.
    pub(crate) async fn begin_write(
        &self,
        actor: &str,
        source: Source,
    ) -> Result<Write, StoreError> {
        let backend = self.db.get_database_backend();
        let (tx, lock_sql) = match backend {
            // IMMEDIATE takes SQLite's write lock at BEGIN: a deferred transaction that read
            // first would fail to upgrade (SQLITE_BUSY_SNAPSHOT) instead of waiting its turn.
            DbBackend::Sqlite => (
                self.db
                    .begin_with_options(TransactionOptions {
                        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                        ..Default::default()
                    })
                    .await?,
                "SELECT last_id, last_hash, key_fingerprint FROM audit_head WHERE id = 1",
            ),
            // The row lock serialises writers across every `traza serve` process.
            _ => (
                self.db.begin().await?,
                "SELECT last_id, last_hash, key_fingerprint FROM audit_head WHERE id = 1 FOR UPDATE",
            ),
        };
        let row = tx
            .query_one_raw(Statement::from_string(backend, lock_sql))
            .await?
            .ok_or_else(|| StoreError::Corrupt("the audit chain head is missing".into()))?;
        let last_id: i64 = row.try_get("", "last_id")?;
        let fingerprint: Option<String> = row.try_get("", "key_fingerprint")?;
        // A process without the trail's key refuses before writing anything.
        let key = self
            .audit_keys
            .signing_key(last_id + 1, fingerprint.as_deref())?;
        Ok(Write {
            last_id,
            last_hash: row.try_get("", "last_hash")?,
            key,
            tx,
            actor: actor.to_owned(),
            source,
            now: audit_time(Utc::now()),
        })
    }
}

impl Write {
    /// The transaction's timestamp: every row and event it writes carries the same instant.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// The id the next appended event will have.
    pub(crate) fn next_id(&self) -> i64 {
        self.last_id + 1
    }

    /// The fingerprint of the key signing this transaction's events.
    pub(crate) fn signing_fingerprint(&self) -> Option<String> {
        self.key.as_ref().map(ChainKey::fingerprint)
    }

    /// `audit rekey`: the events appended from now on are signed with `key`.
    pub(crate) fn sign_from_now_with(&mut self, key: ChainKey) {
        self.key = Some(key);
    }

    /// A digest of `data` under the key of this transaction's events (plain SHA-256 on an
    /// unkeyed trail): `verify` recomputes it with the key its event names.
    pub(crate) fn keyed_digest(&self, data: &[u8]) -> String {
        keyed_digest(self.key.as_ref(), data)
    }

    /// Appends one audit event to the chain, in this transaction.
    pub async fn audit(&mut self, change: Change<'_>) -> Result<(), StoreError> {
        use sea_orm::{ActiveValue::Set, EntityTrait};
        let event = AuditEvent {
            id: self.last_id + 1,
            at: self.now,
            actor: self.actor.clone(),
            action: change.action.to_owned(),
            entity_type: change.entity_type.to_owned(),
            entity_key: change.entity_key.to_owned(),
            before: change.before,
            after: change.after,
            reason: change.reason.map(str::to_owned),
            source: self.source,
        };
        let hash = event.chain_hash_with(&self.last_hash, self.key.as_ref());
        audit_events::Entity::insert(audit_events::ActiveModel {
            id: Set(event.id),
            at: Set(event.at),
            actor: Set(event.actor),
            action: Set(event.action),
            entity_type: Set(event.entity_type),
            entity_key: Set(event.entity_key),
            before: Set(event.before.map(|v| v.to_string())),
            after: Set(event.after.map(|v| v.to_string())),
            reason: Set(event.reason),
            source: Set(event.source.as_str().to_owned()),
            prev_hash: Set(self.last_hash.clone()),
            hash: Set(hash.clone()),
        })
        .exec_without_returning(&self.tx)
        .await?;
        self.last_id = event.id;
        self.last_hash = hash;
        Ok(())
    }

    /// Moves the chain head and commits the change with its audit events.
    pub async fn commit(self) -> Result<(), StoreError> {
        let backend = self.tx.get_database_backend();
        let fingerprint = self.key.as_ref().map(ChainKey::fingerprint);
        let first = self.key.as_ref().map(|k| k.first_event);
        self.tx
            .execute_raw(Statement::from_sql_and_values(
                backend,
                match backend {
                    DbBackend::Postgres => {
                        "UPDATE audit_head SET last_id = $1, last_hash = $2, key_fingerprint = COALESCE($3, key_fingerprint), keyed_from = COALESCE(keyed_from, $4) WHERE id = 1"
                    }
                    _ => {
                        "UPDATE audit_head SET last_id = ?, last_hash = ?, key_fingerprint = COALESCE(?, key_fingerprint), keyed_from = COALESCE(keyed_from, ?) WHERE id = 1"
                    }
                },
                [
                    self.last_id.into(),
                    self.last_hash.into(),
                    fingerprint.into(),
                    first.into(),
                ],
            ))
            .await?;
        self.tx.commit().await?;
        Ok(())
    }
}

/// A record as its audit event carries it. The store's records serialise to JSON without
/// failing (string keys, no floats); `null` would show in the trail, never panic.
pub(crate) fn json_of<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}
