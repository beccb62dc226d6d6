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
    /// Declared first, so dropped first: a write given up rolls back before its turn ends.
    pub(crate) tx: DatabaseTransaction,
    last_id: i64,
    last_hash: String,
    /// The key that signs this transaction's events (None: a plain chain).
    key: Option<ChainKey>,
    actor: String,
    source: Source,
    now: DateTime<Utc>,
    /// This process's turn to write (see [`Writers`]), held until commit or rollback.
    turn: Turn,
    writers: std::sync::Arc<Writers>,
}

/// Writes of one process take turns and commit together (group commit).
///
/// The database serialises writers anyway: SQLite has one write lock, PostgreSQL's writers
/// queue on the row lock of the chain head. Taking turns here first means a waiting write
/// awaits a queue, instead of sleeping in SQLite's busy handler (sleeps of up to 100 ms
/// between tries, which made a p99 of a second under 16 writers) or holding a PostgreSQL
/// connection idle on a row lock.
///
/// And the writes queued behind one another share one database transaction: each runs in a
/// savepoint of it, with its own audit events, and a refused or failed write rolls back to its
/// savepoint only. The transaction commits when no write is waiting for a turn (or when the
/// group is full), and only then is each write of the group acknowledged (`Write::commit`
/// returns): one commit, one WAL append or one fsync for the group, and nothing is ever
/// acknowledged before it is committed. If that commit fails, every write of the group gets
/// the error.
///
/// The group reads the chain head once, when it opens (under the lock that serialises
/// writers: SQLite's write lock, taken at `BEGIN IMMEDIATE`, or the head's row lock on
/// PostgreSQL), each write that commits into it moves the head in memory, and the head is
/// written back once, just before the group commits. A write rolled back to its savepoint
/// leaves the head as it was.
///
/// A write may be given up at any await (its future dropped: a cancelled task, a timeout).
/// Between statements that is safe: the savepoint rolls back as the transaction drops. But the
/// steps that open or close a transaction or savepoint (`BEGIN`, `SAVEPOINT`, `RELEASE`,
/// `COMMIT`) and the group's bookkeeping around them must never stop halfway: the database
/// would have done the step while the driver and this code believe it did not (sqlx's SQLite
/// worker counts savepoints on its own thread), and the group would go on in a transaction
/// that is not the one it thinks, acknowledging writes that were rolled back, or never
/// commit at all. So each of those steps runs in a task of its own (`critical`), which
/// finishes whether or not anyone still awaits it.
#[derive(Default)]
pub(crate) struct Writers {
    group: std::sync::Arc<tokio::sync::Mutex<Group>>,
    /// Writes waiting for their turn now.
    waiting: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

/// The transaction the current group's writes share, and who waits for its commit.
#[derive(Default)]
pub(crate) struct Group {
    open: Option<DatabaseTransaction>,
    /// The writes released into the open transaction, each told how its commit went.
    members: Vec<tokio::sync::oneshot::Sender<Result<(), String>>>,
    /// Counts groups, so that a write waiting for its group's commit knows whether it came.
    generation: u64,
    /// The chain head as the open transaction has it (None: no group is open).
    head: Option<Head>,
}

/// The audit chain head within an open group: what the group read, moved by its writes.
#[derive(Clone)]
struct Head {
    last_id: i64,
    last_hash: String,
    /// The fingerprint of the key that signs the next event (None: a plain chain).
    fingerprint: Option<String>,
    /// The first event of the first key that signed in this group (the head's `keyed_from`,
    /// if it has none yet).
    keyed_from: Option<i64>,
}

/// The chain head's statements, by backend: read under the writers' lock (on PostgreSQL the
/// row lock itself), and moved to the last event appended. The import's own connection uses
/// them too.
pub(crate) const HEAD_READ_SQLITE: &str =
    "SELECT last_id, last_hash, key_fingerprint FROM audit_head WHERE id = 1";
pub(crate) const HEAD_READ_POSTGRES: &str =
    "SELECT last_id, last_hash, key_fingerprint FROM audit_head WHERE id = 1 FOR UPDATE";
pub(crate) const HEAD_WRITE_SQLITE: &str = "UPDATE audit_head SET last_id = ?, last_hash = ?, \
    key_fingerprint = COALESCE(?, key_fingerprint), keyed_from = COALESCE(keyed_from, ?) WHERE id = 1";
pub(crate) const HEAD_WRITE_POSTGRES: &str = "UPDATE audit_head SET last_id = $1, last_hash = $2, \
    key_fingerprint = COALESCE($3, key_fingerprint), keyed_from = COALESCE(keyed_from, $4) WHERE id = 1";

/// How long a write waits for its turn before giving up (SQLite's busy timeout is the same).
const TURN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// The most writes one commit acknowledges (a bound on how long the first of them waits).
const MAX_GROUP: usize = 64;
/// A write released into a group that nobody commits within this time commits it itself
/// (the writes behind it were all refused, or gave up).
const COMMIT_AFTER: std::time::Duration = std::time::Duration::from_millis(2);

/// A write's turn: the group under its lock. Dropped without a commit (a refused write), it
/// closes a group that nothing else will use, so that the database's write lock is not held.
struct Turn {
    group: tokio::sync::OwnedMutexGuard<Group>,
    waiting: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        if self.group.members.is_empty()
            && self.waiting.load(std::sync::atomic::Ordering::SeqCst) == 0
        {
            // Rolls back a transaction that holds nothing any write committed.
            self.group.open = None;
            self.group.head = None;
        }
    }
}

impl Writers {
    async fn turn(&self) -> Result<Turn, StoreError> {
        use std::sync::atomic::Ordering::SeqCst;
        self.waiting.fetch_add(1, SeqCst);
        let group = tokio::time::timeout(
            TURN_TIMEOUT,
            std::sync::Arc::clone(&self.group).lock_owned(),
        )
        .await;
        self.waiting.fetch_sub(1, SeqCst);
        let group = group.map_err(|_| {
            StoreError::Internal(format!(
                "no turn to write within {} s: the database is busy",
                TURN_TIMEOUT.as_secs()
            ))
        })?;
        Ok(Turn {
            group,
            waiting: std::sync::Arc::clone(&self.waiting),
        })
    }
}

impl Writers {
    /// Waits for the commit of group `generation`; commits it if nobody has within
    /// [`COMMIT_AFTER`] (the writes that came after this one were all given up).
    async fn committed(
        &self,
        generation: u64,
        mut outcome: tokio::sync::oneshot::Receiver<Result<(), String>>,
    ) -> Result<(), StoreError> {
        loop {
            match tokio::time::timeout(COMMIT_AFTER, &mut outcome).await {
                Ok(Ok(result)) => {
                    return result.map_err(|e| {
                        StoreError::Database(sea_orm::DbErr::Custom(format!(
                            "the commit of this write's group failed: {e}"
                        )))
                    });
                }
                Ok(Err(_)) => {
                    return Err(StoreError::Internal(
                        "the write's group ended without a commit".into(),
                    ));
                }
                Err(_) => {
                    let mut turn = self.turn().await?;
                    if turn.group.generation == generation && turn.group.open.is_some() {
                        critical(async move {
                            turn.group.commit().await;
                            Ok(())
                        })
                        .await?;
                    }
                }
            }
        }
    }
}

/// Runs a step that opens or closes a transaction or savepoint in a task of its own, so that
/// it finishes even if the write that awaits it is given up (see [`Writers`]).
async fn critical<T: Send + 'static>(
    step: impl std::future::Future<Output = Result<T, StoreError>> + Send + 'static,
) -> Result<T, StoreError> {
    match tokio::spawn(step).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => Err(StoreError::Internal(
            "the runtime shut down during a write".into(),
        )),
    }
}

impl Group {
    /// Writes the chain head back, commits the open transaction, and tells every member how
    /// it went. A group is committed only once a write has released into it; a head
    /// that no write moved is written back unchanged.
    async fn commit(&mut self) {
        let head = self.head.take();
        let Some(tx) = self.open.take() else { return };
        let outcome = async {
            if let Some(head) = head {
                write_head(&tx, head).await?;
            }
            tx.commit().await
        }
        .await
        .map_err(|e| e.to_string());
        for member in self.members.drain(..) {
            let _ = member.send(outcome.clone());
        }
    }

    /// Forgets a broken transaction (rolled back as it drops) and fails its members.
    fn abandon(&mut self, error: &str) {
        self.open = None;
        self.head = None;
        for member in self.members.drain(..) {
            let _ = member.send(Err(error.to_owned()));
        }
    }
}

/// Reads the chain head at the start of a group's transaction; on PostgreSQL its row lock
/// serialises writers across every `traza serve` process until the group commits.
async fn read_head(tx: &DatabaseTransaction) -> Result<Head, StoreError> {
    let backend = tx.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => HEAD_READ_POSTGRES,
        _ => HEAD_READ_SQLITE,
    };
    let row = tx
        .query_one_raw(Statement::from_string(backend, sql))
        .await?
        .ok_or_else(|| StoreError::Corrupt("the audit chain head is missing".into()))?;
    Ok(Head {
        last_id: row.try_get("", "last_id")?,
        last_hash: row.try_get("", "last_hash")?,
        fingerprint: row.try_get("", "key_fingerprint")?,
        keyed_from: None,
    })
}

/// Moves the stored chain head to where the group's writes left it.
async fn write_head(tx: &DatabaseTransaction, head: Head) -> Result<(), sea_orm::DbErr> {
    let backend = tx.get_database_backend();
    tx.execute_raw(Statement::from_sql_and_values(
        backend,
        match backend {
            DbBackend::Postgres => HEAD_WRITE_POSTGRES,
            _ => HEAD_WRITE_SQLITE,
        },
        [
            head.last_id.into(),
            head.last_hash.into(),
            head.fingerprint.into(),
            head.keyed_from.into(),
        ],
    ))
    .await?;
    Ok(())
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
        let turn = self.writers.turn().await?;
        let db = self.db.clone();
        let (tx, turn, head) = critical(open_savepoint(db, turn)).await?;
        // A process without the trail's key refuses before writing anything.
        let key = self
            .audit_keys
            .signing_key(head.last_id + 1, head.fingerprint.as_deref())?;
        Ok(Write {
            last_id: head.last_id,
            last_hash: head.last_hash,
            key,
            tx,
            actor: actor.to_owned(),
            source,
            now: audit_time(Utc::now()),
            turn,
            writers: std::sync::Arc::clone(&self.writers),
        })
    }
}

/// Opens the group's transaction if none is open (reading the chain head under its lock), then
/// this write's savepoint in it. A critical step (see [`Writers`]). The savepoint comes first
/// in the answer: if the write was given up meanwhile, the answer is dropped whole, and the
/// savepoint must roll back before the turn ends (and perhaps closes the group).
async fn open_savepoint(
    db: sea_orm::DatabaseConnection,
    mut turn: Turn,
) -> Result<(DatabaseTransaction, Turn, Head), StoreError> {
    let backend = db.get_database_backend();
    if turn.group.open.is_none() {
        let outer = match backend {
            // IMMEDIATE takes SQLite's write lock at BEGIN: a deferred transaction that
            // read first would fail to upgrade (SQLITE_BUSY_SNAPSHOT) instead of waiting.
            DbBackend::Sqlite => {
                db.begin_with_options(TransactionOptions {
                    sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                    ..Default::default()
                })
                .await?
            }
            _ => db.begin().await?,
        };
        // Read on the outer transaction, not in a savepoint: on PostgreSQL a savepoint
        // rolled back would give its row lock back.
        let head = read_head(&outer).await?;
        turn.group.open = Some(outer);
        turn.group.head = Some(head);
        turn.group.generation += 1;
    }
    let savepoint = match turn.group.open.as_ref() {
        Some(outer) => outer.begin().await,
        None => return Err(StoreError::Internal("no open write transaction".into())),
    };
    let tx = match savepoint {
        Ok(tx) => tx,
        Err(e) => {
            // The shared transaction is broken: its writes are not committed.
            turn.group.abandon(&e.to_string());
            return Err(e.into());
        }
    };
    let Some(head) = turn.group.head.clone() else {
        return Err(StoreError::Internal(
            "no chain head in the open group".into(),
        ));
    };
    Ok((tx, turn, head))
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

    /// Commits the change with its audit events into the group (releases its savepoint) and
    /// moves the group's chain head; returns once the group's transaction has committed.
    pub async fn commit(self) -> Result<(), StoreError> {
        let writers = std::sync::Arc::clone(&self.writers);
        let (generation, outcome) = critical(self.release()).await?;
        writers.committed(generation, outcome).await
    }

    /// Releases the savepoint into the group, moves the group's head, and commits the group if
    /// nobody waits to join it. A critical step (see [`Writers`]).
    async fn release(
        self,
    ) -> Result<(u64, tokio::sync::oneshot::Receiver<Result<(), String>>), StoreError> {
        self.tx.commit().await?;
        let mut turn = self.turn;
        if let Some(head) = turn.group.head.as_mut() {
            let fingerprint = self.key.as_ref().map(ChainKey::fingerprint);
            head.last_id = self.last_id;
            head.last_hash = self.last_hash;
            if fingerprint.is_some() {
                head.fingerprint = fingerprint;
            }
            head.keyed_from = head.keyed_from.or(self.key.as_ref().map(|k| k.first_event));
        }
        // Released into the group: acknowledged once the group's transaction commits.
        let (told, outcome) = tokio::sync::oneshot::channel();
        turn.group.members.push(told);
        let generation = turn.group.generation;
        let nobody_waits = self
            .writers
            .waiting
            .load(std::sync::atomic::Ordering::SeqCst)
            == 0;
        if nobody_waits || turn.group.members.len() >= MAX_GROUP {
            turn.group.commit().await;
        }
        Ok((generation, outcome))
    }
}

/// A record as its audit event carries it. The store's records serialise to JSON without
/// failing (string keys, no floats); `null` would show in the trail, never panic.
pub(crate) fn json_of<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}
