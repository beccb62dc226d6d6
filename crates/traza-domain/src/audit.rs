//! The audit trail's hash chain (21 CFR 11.10(e); EU GMP Annex 11 §9).
//!
//! Each event's hash is SHA-256 over the previous event's hash and the event's canonical JSON
//! (keys sorted, timestamp at microsecond precision in UTC), so changing, removing or
//! reordering any stored event breaks every hash after it.

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::audit_key::{ChainKey, KeyRing};
use crate::vocab::Source;

/// The `prev_hash` of the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit event, as hashed and stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub entity_type: String,
    pub entity_key: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub reason: Option<String>,
    pub source: Source,
}

/// Timestamps are kept at microsecond precision, the finest both databases store exactly.
pub fn audit_time(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}

impl AuditEvent {
    /// The event as canonical JSON: sorted keys (serde_json's map is ordered), no spaces.
    pub fn canonical_json(&self) -> String {
        let mut map = Map::new();
        map.insert("id".into(), Value::from(self.id));
        map.insert(
            "at".into(),
            Value::from(
                audit_time(self.at)
                    .format("%Y-%m-%dT%H:%M:%S%.6fZ")
                    .to_string(),
            ),
        );
        map.insert("actor".into(), Value::from(self.actor.as_str()));
        map.insert("action".into(), Value::from(self.action.as_str()));
        map.insert("entity_type".into(), Value::from(self.entity_type.as_str()));
        map.insert("entity_key".into(), Value::from(self.entity_key.as_str()));
        map.insert("before".into(), self.before.clone().unwrap_or(Value::Null));
        map.insert("after".into(), self.after.clone().unwrap_or(Value::Null));
        map.insert(
            "reason".into(),
            self.reason.as_deref().map_or(Value::Null, Value::from),
        );
        map.insert("source".into(), Value::from(self.source.as_str()));
        Value::Object(map).to_string()
    }

    /// This event's hash, chained to `prev_hash`.
    pub fn chain_hash(&self, prev_hash: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(prev_hash.as_bytes());
        hasher.update(b"\n");
        hasher.update(self.canonical_json().as_bytes());
        hex::encode(hasher.finalize())
    }

    /// This event's hash under `key` (HMAC-SHA-256 over the previous hash and the canonical
    /// JSON), or the plain hash for the events before the trail was keyed.
    pub fn chain_hash_with(&self, prev_hash: &str, key: Option<&ChainKey>) -> String {
        match key {
            None => self.chain_hash(prev_hash),
            Some(k) => k.sign(&[prev_hash.as_bytes(), self.canonical_json().as_bytes()]),
        }
    }
}

/// The first stored event that does not fit the chain, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit event {id}: {problem}")]
pub struct ChainBreak {
    pub id: i64,
    pub problem: String,
}

/// Recomputes the chain over stored events given in id order. Checks ids follow each other
/// from 1, each `prev_hash` is the previous `hash`, and each `hash` matches the content.
/// Keyed events are checked with the key the ring names for them.
pub struct ChainVerifier {
    expected_id: i64,
    prev_hash: String,
    keys: KeyRing,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self::with_keys(KeyRing::default())
    }
}

impl ChainVerifier {
    pub fn with_keys(keys: KeyRing) -> Self {
        Self {
            expected_id: 1,
            prev_hash: GENESIS_HASH.to_owned(),
            keys,
        }
    }

    pub fn check(
        &mut self,
        event: &AuditEvent,
        stored_prev_hash: &str,
        stored_hash: &str,
    ) -> Result<(), ChainBreak> {
        let fail = |problem: String| {
            Err(ChainBreak {
                id: event.id,
                problem,
            })
        };
        if event.id != self.expected_id {
            return fail(format!(
                "expected event {} here; events are missing or out of order",
                self.expected_id
            ));
        }
        if stored_prev_hash != self.prev_hash {
            return fail("prev_hash is not the previous event's hash".into());
        }
        let key = self.keys.key_for(event.id);
        let recomputed = event.chain_hash_with(&self.prev_hash, key);
        if recomputed != stored_hash {
            return fail(match key {
                None => "content does not match its hash (the event was altered)".into(),
                Some(k) => format!(
                    "content does not match its keyed hash under key {} (the event was altered, or written without the key)",
                    k.fingerprint()
                ),
            });
        }
        self.expected_id += 1;
        self.prev_hash = recomputed;
        Ok(())
    }

    /// Number of events verified so far.
    pub fn verified(&self) -> i64 {
        self.expected_id - 1
    }

    /// The last hash verified: the chain head.
    pub fn head(&self) -> &str {
        &self.prev_hash
    }
}

/// A chain head kept outside the database (`traza audit checkpoint` prints it as `ID:HASH`).
///
/// Someone able to write the database can delete the newest events together with the rows
/// they made and move the head back: the rest of the chain still verifies. A checkpoint kept
/// elsewhere proves that event `id` still exists with `hash`, so such a deletion is found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub id: i64,
    pub hash: String,
}

impl std::fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.id, self.hash)
    }
}

impl std::str::FromStr for Checkpoint {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "'{s}' is not a checkpoint: expected ID:HASH (as `traza audit checkpoint` prints it)"
            )
        };
        let (id, hash) = s.trim().split_once(':').ok_or_else(bad)?;
        let id: i64 = id.parse().map_err(|_| bad())?;
        let hash = hash.to_ascii_lowercase();
        if id < 1 || hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        Ok(Checkpoint { id, hash })
    }
}

impl Checkpoint {
    /// Checks the checkpoint against a verified chain: `hash_at_id` is the verified hash of
    /// event `self.id` (None when the trail no longer reaches it), `verified` the events.
    pub fn check(&self, hash_at_id: Option<&str>, verified: i64) -> Result<(), ChainBreak> {
        match hash_at_id {
            None => Err(ChainBreak {
                id: self.id,
                problem: format!(
                    "the checkpoint names event {} but the trail ends at event {verified}: the newest events were removed",
                    self.id
                ),
            }),
            Some(h) if h != self.hash => Err(ChainBreak {
                id: self.id,
                problem: "the event's hash is not the checkpoint's: the trail was rewritten".into(),
            }),
            Some(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(id: i64, after: Value) -> AuditEvent {
        AuditEvent {
            id,
            at: "2026-11-25T10:00:00.123456789Z".parse().unwrap(),
            actor: "ana.qa".into(),
            action: "batch.release".into(),
            entity_type: "batch".into(),
            entity_key: "GRA-UPCIT-2026-00001".into(),
            before: Some(json!({"status": "quarantine"})),
            after: Some(after),
            reason: None,
            source: Source::Api,
        }
    }

    #[test]
    fn a_checkpoint_reads_back_and_catches_a_removed_or_rewritten_tail() {
        let hash = "ab".repeat(32);
        let c: Checkpoint = format!("42:{}", hash.to_uppercase()).parse().unwrap();
        assert_eq!(
            c,
            Checkpoint {
                id: 42,
                hash: hash.clone()
            }
        );
        assert_eq!(c.to_string().parse::<Checkpoint>().unwrap(), c);
        for bad in ["42", "x:ab", "0:abab", "42:xyz", "42:abab"] {
            assert!(bad.parse::<Checkpoint>().is_err(), "{bad}");
        }
        assert!(c.check(Some(&hash), 50).is_ok());
        assert!(c.check(None, 40).unwrap_err().problem.contains("removed"));
        assert!(
            c.check(Some(&"cd".repeat(32)), 50)
                .unwrap_err()
                .problem
                .contains("rewritten")
        );
    }

    #[test]
    fn canonical_json_sorts_keys_and_truncates_time() {
        let json = event(1, json!({"z": 1, "a": "x"})).canonical_json();
        assert!(json.starts_with(
            "{\"action\":\"batch.release\",\"actor\":\"ana.qa\",\"after\":{\"a\":\"x\",\"z\":1}"
        ));
        assert!(json.contains("\"at\":\"2026-11-25T10:00:00.123456Z\""));
    }

    #[test]
    fn a_chain_verifies_and_any_change_breaks_it() {
        let events = [
            event(1, json!({"status": "released"})),
            event(2, json!({"n": 2})),
            event(3, json!({"n": 3})),
        ];
        let mut prev = GENESIS_HASH.to_owned();
        let mut stored = Vec::new();
        for e in &events {
            let hash = e.chain_hash(&prev);
            stored.push((e.clone(), prev.clone(), hash.clone()));
            prev = hash;
        }
        let mut v = ChainVerifier::default();
        for (e, p, h) in &stored {
            v.check(e, p, h).unwrap();
        }
        assert_eq!(v.verified(), 3);

        let mut tampered = stored.clone();
        tampered[1].0.after = Some(json!({"n": 20}));
        let mut v = ChainVerifier::default();
        v.check(&tampered[0].0, &tampered[0].1, &tampered[0].2)
            .unwrap();
        let err = v
            .check(&tampered[1].0, &tampered[1].1, &tampered[1].2)
            .unwrap_err();
        assert_eq!(err.id, 2);
        assert!(err.problem.contains("altered"));

        let mut v = ChainVerifier::default();
        v.check(&stored[0].0, &stored[0].1, &stored[0].2).unwrap();
        let err = v
            .check(&stored[2].0, &stored[2].1, &stored[2].2)
            .unwrap_err();
        assert_eq!(err.id, 3);
    }

    #[test]
    fn a_keyed_chain_continues_a_plain_one_and_cannot_be_recomputed_without_the_key() {
        let mut ring = KeyRing::default();
        ring.add(ChainKey::new(2, [5; 32])).unwrap();
        let events = [
            event(1, json!({"n": 1})),
            event(2, json!({"n": 2})),
            event(3, json!({"n": 3})),
        ];
        let mut prev = GENESIS_HASH.to_owned();
        let mut stored = Vec::new();
        for e in &events {
            let hash = e.chain_hash_with(&prev, ring.key_for(e.id));
            stored.push((e.clone(), prev.clone(), hash.clone()));
            prev = hash;
        }
        let mut v = ChainVerifier::with_keys(ring.clone());
        for (e, p, h) in &stored {
            v.check(e, p, h).unwrap();
        }
        // Without the key the keyed events do not verify.
        let mut v = ChainVerifier::default();
        v.check(&stored[0].0, &stored[0].1, &stored[0].2).unwrap();
        assert_eq!(
            v.check(&stored[1].0, &stored[1].1, &stored[1].2)
                .unwrap_err()
                .id,
            2
        );
        // An attacker who alters event 3 and recomputes it as a plain hash is caught.
        let mut forged = stored[2].0.clone();
        forged.after = Some(json!({"n": 30}));
        let forged_hash = forged.chain_hash(&stored[2].1);
        let mut v = ChainVerifier::with_keys(ring);
        v.check(&stored[0].0, &stored[0].1, &stored[0].2).unwrap();
        v.check(&stored[1].0, &stored[1].1, &stored[1].2).unwrap();
        let err = v.check(&forged, &stored[2].1, &forged_hash).unwrap_err();
        assert!(err.problem.contains("keyed hash"), "{}", err.problem);
    }
}
