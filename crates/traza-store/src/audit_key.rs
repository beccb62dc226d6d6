//! The audit chain's key file (SPEC §2 "Audit trail"): where it lives, how it is made, read
//! and rotated, and how a writer picks the key for the events it appends.
//!
//! The key never enters the database. The chain head records only the fingerprint of the key
//! that signs it and the first keyed event, so that a process without the key refuses to
//! write (instead of appending events that would not verify) and `verify` can say what it
//! lacks.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use traza_domain::access::{Action, Actor};
use traza_domain::audit_key::{ChainKey, KeyRing};

use crate::Store;
use crate::error::StoreError;
use crate::write::Change;

/// The key ring this process signs and verifies with, and the file it came from.
#[derive(Default)]
pub(crate) struct AuditKeys {
    path: RwLock<Option<PathBuf>>,
    ring: RwLock<KeyRing>,
}

impl AuditKeys {
    pub(crate) fn ring(&self) -> KeyRing {
        self.ring.read().map(|r| r.clone()).unwrap_or_default()
    }

    fn set(&self, path: &Path, ring: KeyRing) {
        if let Ok(mut p) = self.path.write() {
            *p = Some(path.to_owned());
        }
        if let Ok(mut r) = self.ring.write() {
            *r = ring;
        }
    }

    /// Re-reads the key file: another process (`traza audit rekey`) may have added a key.
    fn reload(&self) -> bool {
        let Some(path) = self.path.read().ok().and_then(|p| p.clone()) else {
            return false;
        };
        match read_ring(&path) {
            Ok(Some(ring)) => {
                if let Ok(mut r) = self.ring.write() {
                    *r = ring;
                }
                true
            }
            _ => false,
        }
    }

    /// The key that signs event `next_id`, given the fingerprint the chain head records.
    pub(crate) fn signing_key(
        &self,
        next_id: i64,
        head_fingerprint: Option<&str>,
    ) -> Result<Option<ChainKey>, StoreError> {
        let pick = |keys: &AuditKeys| keys.ring().key_for(next_id).cloned();
        let Some(want) = head_fingerprint else {
            return Ok(pick(self));
        };
        for attempt in 0..2 {
            if let Some(k) = pick(self)
                && k.fingerprint() == want
            {
                return Ok(Some(k));
            }
            if attempt == 0 && !self.reload() {
                break;
            }
        }
        Err(StoreError::AuditKey(format!(
            "the audit trail is signed with key {want}, and this process does not hold it: set TRAZA_AUDIT_KEY_FILE to the trail's key file"
        )))
    }
}

/// What opening the key file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditKeyStatus {
    /// The key file was made now, for an empty trail: it signs every event from the first.
    Created { path: PathBuf, fingerprint: String },
    /// The key file was read; `too_open` when others than its owner may read it.
    Loaded {
        path: PathBuf,
        keys: usize,
        too_open: bool,
    },
    /// No key file, and a trail that was never keyed: events stay plainly hashed until an
    /// admin runs `traza audit rekey`.
    Unkeyed { path: PathBuf },
}

/// The key file used when none is named: beside a SQLite database file, else
/// `traza-audit.key` in the working folder.
pub fn default_audit_key_path(database_url: &str) -> PathBuf {
    let file = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or_default())
        .filter(|f| !f.is_empty() && *f != ":memory:");
    match file {
        Some(f) => PathBuf::from(format!("{f}.audit-key")),
        None => PathBuf::from("traza-audit.key"),
    }
}

fn read_ring(path: &Path) -> Result<Option<KeyRing>, StoreError> {
    read_key_text(path)?
        .map(|text| parse_ring(path, &text))
        .transpose()
}

fn parse_ring(path: &Path, text: &str) -> Result<KeyRing, StoreError> {
    KeyRing::parse(text).map_err(|e| {
        StoreError::AuditKey(format!("the key file {} is not valid: {e}", path.display()))
    })
}

#[cfg(unix)]
fn readable_by_others(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
}

#[cfg(not(unix))]
fn readable_by_others(_path: &Path) -> bool {
    false
}

/// Writes `text` to `path` readable by its owner only, whole or not at all (a temporary
/// file beside it, synced, then renamed over it).
fn write_key_file(path: &Path, text: &str) -> Result<(), StoreError> {
    let fail = |e: std::io::Error| {
        StoreError::AuditKey(format!("cannot write the key file {}: {e}", path.display()))
    };
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(&tmp).map_err(fail)?;
    let written = f
        .write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(e));
    }
    Ok(())
}

fn new_secret() -> [u8; 32] {
    use rand::RngCore;
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    secret
}

/// The head's record of the key: (last event, fingerprint, first keyed event).
async fn head_key(
    db: &impl ConnectionTrait,
) -> Result<(i64, Option<String>, Option<i64>), StoreError> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT last_id, key_fingerprint, keyed_from FROM audit_head WHERE id = 1",
        ))
        .await?
        .ok_or_else(|| StoreError::Corrupt("the audit chain head is missing".into()))?;
    Ok((
        row.try_get("", "last_id")?,
        row.try_get("", "key_fingerprint")?,
        row.try_get("", "keyed_from")?,
    ))
}

impl Store {
    /// Opens the audit key file at `path` for this handle and its clones: reads it, or makes
    /// it when the trail is empty; refuses when the trail is keyed and the file is missing or
    /// holds other keys. Run it before serving or writing.
    pub async fn open_audit_key(&self, path: &Path) -> Result<AuditKeyStatus, StoreError> {
        let (last_id, fingerprint, keyed_from) = head_key(&self.db).await?;
        if let Some(ring) = read_ring(path)? {
            if let Some(want) = &fingerprint
                && ring
                    .key_for(last_id + 1)
                    .map(ChainKey::fingerprint)
                    .as_ref()
                    != Some(want)
            {
                return Err(StoreError::AuditKey(format!(
                    "the key file {} does not hold key {want}, which signs this audit trail",
                    path.display()
                )));
            }
            let keys = ring.keys().len();
            self.audit_keys.set(path, ring);
            return Ok(AuditKeyStatus::Loaded {
                path: path.to_owned(),
                keys,
                too_open: readable_by_others(path),
            });
        }
        if let Some(want) = fingerprint {
            return Err(StoreError::AuditKey(format!(
                "the audit trail is keyed from event {} with key {want}, and the key file {} is missing: set TRAZA_AUDIT_KEY_FILE to it (restore it from its backup)",
                keyed_from.unwrap_or(1),
                path.display()
            )));
        }
        if last_id > 0 {
            self.audit_keys.set(path, KeyRing::default());
            return Ok(AuditKeyStatus::Unkeyed {
                path: path.to_owned(),
            });
        }
        let key = ChainKey::new(1, new_secret());
        let mut ring = KeyRing::default();
        ring.add(key.clone())
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        write_key_file(path, &ring.render())?;
        let backend = self.db.get_database_backend();
        let marked = self
            .db
            .execute_raw(Statement::from_sql_and_values(
                backend,
                match backend {
                    DbBackend::Postgres => {
                        "UPDATE audit_head SET key_fingerprint = $1, keyed_from = 1 WHERE id = 1 AND last_id = 0 AND key_fingerprint IS NULL"
                    }
                    _ => {
                        "UPDATE audit_head SET key_fingerprint = ?, keyed_from = 1 WHERE id = 1 AND last_id = 0 AND key_fingerprint IS NULL"
                    }
                },
                [key.fingerprint().into()],
            ))
            .await?;
        if marked.rows_affected() != 1 {
            // Another process keyed or wrote the trail first: this file signs nothing.
            let _ = std::fs::remove_file(path);
            return Err(StoreError::AuditKey(
                "another process started the audit trail at the same time; run the command again"
                    .into(),
            ));
        }
        self.audit_keys.set(path, ring);
        Ok(AuditKeyStatus::Created {
            path: path.to_owned(),
            fingerprint: key.fingerprint(),
        })
    }

    /// Shares this handle's key ring with `other` (a backup copy to verify).
    pub fn with_audit_keys_of(mut self, other: &Store) -> Store {
        self.audit_keys = other.audit_keys.clone();
        self
    }

    /// `traza audit rekey`: an admin starts a new key, which signs every event from this one
    /// (the `audit.rekey` event itself) on. The key file keeps the older keys, which still
    /// verify what they signed; other processes pick the new key up from the file.
    /// Returns the new key's fingerprint.
    pub async fn rekey_audit(&self, actor: &Actor) -> Result<String, StoreError> {
        actor.may(Action::ManageUsers)?;
        let Some(path) = self.audit_keys.path.read().ok().and_then(|p| p.clone()) else {
            return Err(StoreError::AuditKey(
                "open the key file first (TRAZA_AUDIT_KEY_FILE)".into(),
            ));
        };
        let mut w = self
            .begin_write(actor.username.as_str(), self.source)
            .await?;
        let first_event = w.next_id();
        let previous = w.signing_fingerprint();
        let key = ChainKey::new(first_event, new_secret());
        // Read once: the text is what a failed rekey puts back.
        let before = read_key_text(&path)?;
        let mut ring = match &before {
            Some(text) => parse_ring(&path, text)?,
            None => KeyRing::default(),
        };
        ring.add(key.clone())
            .map_err(|e| StoreError::AuditKey(e.to_string()))?;
        write_key_file(&path, &ring.render())?;
        w.sign_from_now_with(key.clone());
        let outcome = async {
            w.audit(Change {
                action: "audit.rekey",
                entity_type: "audit_key",
                entity_key: &key.fingerprint(),
                before: previous.map(|fp| serde_json::json!({ "fingerprint": fp })),
                after: Some(serde_json::json!({
                    "fingerprint": key.fingerprint(),
                    "first_event": first_event,
                })),
                reason: None,
            })
            .await?;
            w.commit().await
        }
        .await;
        if let Err(e) = outcome {
            // The new key signs nothing: put the file back as it was.
            match before {
                Some(text) => write_key_file(&path, &text)?,
                None => {
                    let _ = std::fs::remove_file(&path);
                }
            }
            return Err(e);
        }
        self.audit_keys.set(&path, ring);
        Ok(key.fingerprint())
    }
}

fn read_key_text(path: &Path) -> Result<Option<String>, StoreError> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StoreError::AuditKey(format!(
            "cannot read the key file {}: {e}",
            path.display()
        ))),
    }
}
