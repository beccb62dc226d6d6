//! Password checks under load and under attack (SPEC §2 "Users": authentication): argon2 runs
//! outside every transaction and only a few at a time; consecutive wrong passwords lock the
//! account, a guessing address is throttled. The rules are the domain's
//! (`traza_domain::auth`); the counters are rows here, shared by every `traza serve`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::LazyLock;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;
use tokio::sync::Semaphore;
use traza_domain::access::{Action, Actor};
use traza_domain::auth::{LockoutPolicy, minute_of, standing_lock};

use crate::Store;
use crate::entity::users;
use crate::error::StoreError;
use crate::sql::numbered;
use crate::write::Change;

/// Argon2id with its default parameters holds 19 MiB and most of a core for tens of
/// milliseconds. A storm of logins hashed all at once took `traza serve` from 0.7 to 2–4 GB
/// (the allocator kept it); with a few at a time the rest wait their turn, briefly.
static ARGON2: LazyLock<Semaphore> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    Semaphore::new(cores.clamp(1, 4))
});

async fn with_argon2<T: Send + 'static>(
    work: impl FnOnce(Argon2<'static>) -> T + Send + 'static,
) -> Result<T, StoreError> {
    let _permit = ARGON2
        .acquire()
        .await
        .map_err(|e| StoreError::Internal(format!("password hashing is closed: {e}")))?;
    tokio::task::spawn_blocking(move || work(Argon2::default()))
        .await
        .map_err(|e| StoreError::Internal(format!("password hashing task failed: {e}")))
}

pub(crate) async fn hash_password(password: String) -> Result<String, StoreError> {
    with_argon2(move |a| {
        a.hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| StoreError::Internal(format!("password hashing failed: {e}")))
    })
    .await?
}

pub(crate) async fn password_matches(password: String, hash: String) -> bool {
    with_argon2(move |a| {
        a.verify_password(password.as_bytes(), hash.as_str())
            .is_ok()
    })
    .await
    .unwrap_or(false)
}

/// Where an authentication failure happened, for the log and the lock's audit event.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Attempt {
    Login,
    Signature,
}

impl Attempt {
    fn as_str(self) -> &'static str {
        match self {
            Attempt::Login => "login",
            Attempt::Signature => "signature",
        }
    }
}

/// The end of `username`'s lock as recorded, whether or not it has passed.
async fn locked_until(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            numbered(
                backend,
                "SELECT locked_until FROM account_locks WHERE username = ?",
            ),
            [username.into()],
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get::<Option<DateTime<Utc>>>("", "locked_until"))
        .transpose()?
        .flatten())
}

/// The lock standing now on `username` (what the login refuses with), if any.
pub(crate) async fn standing_lock_of(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(standing_lock(locked_until(db, username).await?, Utc::now()))
}

/// Every lock standing now, by username: the accounts the login refuses until then.
pub(crate) async fn standing_locks(
    db: &impl ConnectionTrait,
) -> Result<HashMap<String, DateTime<Utc>>, StoreError> {
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT username, locked_until FROM account_locks WHERE locked_until IS NOT NULL",
        ))
        .await?;
    let now = Utc::now();
    let mut locks = HashMap::new();
    for r in rows {
        let until = r.try_get::<Option<DateTime<Utc>>>("", "locked_until")?;
        if let Some(until) = standing_lock(until, now) {
            locks.insert(r.try_get::<String>("", "username")?, until);
        }
    }
    Ok(locks)
}

impl Store {
    /// The same store with other lockout counts and windows (tests, `serve` configuration).
    pub fn with_lockout_policy(mut self, policy: LockoutPolicy) -> Store {
        self.lockout = std::sync::Arc::new(policy);
        self
    }

    pub fn lockout_policy(&self) -> &LockoutPolicy {
        &self.lockout
    }

    async fn address_failures(
        &self,
        address: IpAddr,
        now: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        let backend = self.db.get_database_backend();
        let row = self
            .db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                numbered(
                    backend,
                    "SELECT failures FROM address_failures WHERE address = ? AND minute = ?",
                ),
                [address.to_string().into(), minute_of(now).into()],
            ))
            .await?;
        Ok(row
            .map(|r| r.try_get::<i32>("", "failures"))
            .transpose()?
            .map_or(0, |n| u32::try_from(n).unwrap_or(0)))
    }

    /// Refuses before any password is checked: a locked account (423), a throttled address
    /// (429).
    pub(crate) async fn auth_gate(
        &self,
        username: Option<&str>,
        address: Option<IpAddr>,
    ) -> Result<(), StoreError> {
        let now = Utc::now();
        let locked_until = match username {
            Some(u) => locked_until(&self.db, u).await?,
            None => None,
        };
        let from_address = match address {
            Some(a) => self.address_failures(a, now).await?,
            None => 0,
        };
        self.lockout
            .gate(locked_until, from_address, now)
            .map_err(StoreError::AuthRefused)
    }

    /// Counts a wrong password: for the account (`username`, when it exists) and for the
    /// client's address. The failure that reaches the limit locks the account, with an audit
    /// event. Each failure is a warning in the log (never the password).
    pub(crate) async fn auth_failed(
        &self,
        username: Option<&str>,
        address: Option<IpAddr>,
        attempt: Attempt,
    ) -> Result<(), StoreError> {
        let now = Utc::now();
        tracing::warn!(
            user = username.unwrap_or("(unknown)"),
            address = address.map(|a| a.to_string()).unwrap_or_default(),
            attempt = attempt.as_str(),
            "authentication failed: wrong password"
        );
        let backend = self.db.get_database_backend();
        if let Some(address) = address {
            self.db
                .execute_raw(Statement::from_sql_and_values(
                    backend,
                    numbered(
                        backend,
                        "INSERT INTO address_failures (address, minute, failures) VALUES (?, ?, 1) \
                         ON CONFLICT (address, minute) DO UPDATE SET failures = address_failures.failures + 1",
                    ),
                    [address.to_string().into(), minute_of(now).into()],
                ))
                .await?;
        }
        let Some(username) = username else {
            return Ok(());
        };
        // Counted and, if it is the limit, locked and audited in one write transaction, so
        // that racing failures lock once.
        let mut w = self.begin_write(username, self.source).await?;
        let row =
            w.tx.query_one_raw(Statement::from_sql_and_values(
                backend,
                numbered(
                    backend,
                    "SELECT failures FROM account_locks WHERE username = ?",
                ),
                [username.into()],
            ))
            .await?;
        let before = row
            .map(|r| r.try_get::<i32>("", "failures"))
            .transpose()?
            .map_or(0, |n| u32::try_from(n).unwrap_or(0));
        let (failures, lock) = self.lockout.after_failure(before, now);
        w.tx.execute_raw(Statement::from_sql_and_values(
            backend,
            numbered(
                backend,
                "INSERT INTO account_locks (username, failures, locked_until) VALUES (?, ?, ?) \
                 ON CONFLICT (username) DO UPDATE SET failures = excluded.failures, \
                 locked_until = COALESCE(excluded.locked_until, account_locks.locked_until)",
            ),
            [
                username.into(),
                i32::try_from(failures).unwrap_or(i32::MAX).into(),
                lock.into(),
            ],
        ))
        .await?;
        if let Some(until) = lock {
            tracing::warn!(user = username, %until, "account locked after repeated wrong passwords");
            w.audit(Change {
                action: "user.lock",
                entity_type: "user",
                entity_key: username,
                before: None,
                after: Some(json!({"locked_until": until, "after": attempt.as_str(), "consecutive_failures": self.lockout.max_failures})),
                reason: Some("consecutive wrong passwords"),
            })
            .await?;
        }
        w.commit().await
    }

    /// A right password ends the run of failures.
    pub(crate) async fn auth_succeeded(&self, username: &str) -> Result<(), StoreError> {
        let backend = self.db.get_database_backend();
        self.db
            .execute_raw(Statement::from_sql_and_values(
                backend,
                numbered(
                    backend,
                    "UPDATE account_locks SET failures = 0 WHERE username = ? AND failures > 0",
                ),
                [username.into()],
            ))
            .await?;
        Ok(())
    }

    /// An admin lifts a lock (and the failures counted), audited.
    pub async fn unlock_user(&self, actor: &Actor, username: &str) -> Result<(), StoreError> {
        use sea_orm::EntityTrait;
        actor.may(Action::ManageUsers)?;
        let mut w = self.write_for(actor).await?;
        users::Entity::find_by_id(username)
            .one(&w.tx)
            .await?
            .ok_or(StoreError::NotFound("user"))?;
        let backend = w.tx.get_database_backend();
        let before =
            w.tx.query_one_raw(Statement::from_sql_and_values(
                backend,
                numbered(
                    backend,
                    "SELECT failures, locked_until FROM account_locks WHERE username = ?",
                ),
                [username.into()],
            ))
            .await?
            .map(|r| -> Result<_, StoreError> {
                Ok(json!({
                    "failures": r.try_get::<i32>("", "failures")?,
                    "locked_until": r.try_get::<Option<DateTime<Utc>>>("", "locked_until")?,
                }))
            })
            .transpose()?;
        w.tx.execute_raw(Statement::from_sql_and_values(
            backend,
            numbered(
                backend,
                "UPDATE account_locks SET failures = 0, locked_until = NULL WHERE username = ?",
            ),
            [username.into()],
        ))
        .await?;
        w.audit(Change {
            action: "user.unlock",
            entity_type: "user",
            entity_key: username,
            before,
            after: Some(json!({"failures": 0, "locked_until": null})),
            reason: None,
        })
        .await?;
        w.commit().await
    }

    /// Re-checks the signer's password for an electronic signature (21 CFR 11.200), before
    /// the write transaction opens: argon2 never holds the write lock. Wrong passwords count
    /// toward the account's lock like those of a login.
    pub(crate) async fn verify_signature_password(
        &self,
        actor: &Actor,
        password: &str,
    ) -> Result<(), StoreError> {
        use sea_orm::EntityTrait;
        let username = actor.username.as_str();
        self.auth_gate(Some(username), None).await?;
        let user = users::Entity::find_by_id(username)
            .one(&self.db)
            .await?
            .ok_or(StoreError::Unauthenticated)?;
        if user.active && password_matches(password.to_owned(), user.password_hash).await {
            self.auth_succeeded(username).await
        } else {
            self.auth_failed(Some(username), None, Attempt::Signature)
                .await?;
            Err(StoreError::InvalidSignature)
        }
    }
}
