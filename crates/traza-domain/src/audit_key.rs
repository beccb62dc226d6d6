//! The key of the audit chain (SPEC §2 "Audit trail": tamper evidence).
//!
//! A plain SHA-256 chain over a public form can be recomputed by anyone able to write the
//! database: change a row and its event, recompute every later hash, rewrite the head, and the
//! chain still verifies. Keyed with HMAC-SHA-256 under a secret kept outside the database, it
//! can only be recomputed by whoever holds the key file.
//!
//! The key file is a ring: each key records the first event it signs, so an existing plain
//! chain keeps verifying up to the first keyed event, and a new key (`traza audit rekey`)
//! takes over from its own first event while the older ones still verify what they signed.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The first word of every key line: a file that is not a Traza key file is refused.
const LINE_TAG: &str = "traza-audit-key";

/// One key of the ring.
#[derive(Clone, PartialEq, Eq)]
pub struct ChainKey {
    /// The first audit event this key signs; it signs every later one until the next key's.
    pub first_event: i64,
    secret: [u8; 32],
}

impl std::fmt::Debug for ChainKey {
    // The secret never reaches a log or a panic message.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainKey")
            .field("first_event", &self.first_event)
            .field("fingerprint", &self.fingerprint())
            .finish()
    }
}

impl ChainKey {
    pub fn new(first_event: i64, secret: [u8; 32]) -> Self {
        Self {
            first_event,
            secret,
        }
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC takes a key of any length; 32 bytes cannot be refused.
        <HmacSha256 as Mac>::new_from_slice(&self.secret).expect("HMAC accepts any key length")
    }

    /// A public name of the key (16 hex digits): stored in the database to say which key
    /// signs the head, printed by `rekey`; it reveals nothing of the secret.
    pub fn fingerprint(&self) -> String {
        let mut m = self.mac();
        m.update(b"traza audit key fingerprint");
        hex::encode(&m.finalize().into_bytes()[..8])
    }

    /// HMAC-SHA-256 of the parts, each followed by a newline, as hex.
    pub fn sign(&self, parts: &[&[u8]]) -> String {
        let mut m = self.mac();
        for p in parts {
            m.update(p);
            m.update(b"\n");
        }
        hex::encode(m.finalize().into_bytes())
    }
}

/// A digest of `data` under `key`, or plain SHA-256 on an unkeyed trail: what user events
/// carry of a password hash, and an import's event of each row it made.
pub fn keyed_digest(key: Option<&ChainKey>, data: &[u8]) -> String {
    match key {
        Some(k) => k.sign(&[data]),
        None => hex::encode(Sha256::digest(data)),
    }
}

/// Why a key file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFileError {
    #[error("line {line}: {problem}")]
    Line { line: usize, problem: String },
    #[error("the key file holds no key")]
    Empty,
    #[error(
        "a new key must start after event {latest}, where the newest key starts (asked: {asked})"
    )]
    NotAfterLatest { latest: i64, asked: i64 },
}

/// The keys of one trail, ordered by first event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyRing {
    keys: Vec<ChainKey>,
}

impl KeyRing {
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn keys(&self) -> &[ChainKey] {
        &self.keys
    }

    /// The key that signs event `id`: the newest one starting at or before it. `None` for
    /// the events of the plain chain before the first key.
    pub fn key_for(&self, id: i64) -> Option<&ChainKey> {
        self.keys.iter().rev().find(|k| k.first_event <= id)
    }

    /// The newest key.
    pub fn latest(&self) -> Option<&ChainKey> {
        self.keys.last()
    }

    /// Adds a key that takes over from its first event on.
    pub fn add(&mut self, key: ChainKey) -> Result<(), KeyFileError> {
        if let Some(latest) = self.latest()
            && key.first_event <= latest.first_event
        {
            return Err(KeyFileError::NotAfterLatest {
                latest: latest.first_event,
                asked: key.first_event,
            });
        }
        self.keys.push(key);
        Ok(())
    }

    /// Reads a key file: comment lines (`#`) and one line per key,
    /// `traza-audit-key FIRST_EVENT FINGERPRINT SECRET_HEX`. The fingerprint must match the
    /// secret, so a damaged secret is found at start, not at the next verification.
    pub fn parse(text: &str) -> Result<KeyRing, KeyFileError> {
        let mut ring = KeyRing::default();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let fail = |problem: &str| KeyFileError::Line {
                line,
                problem: problem.to_owned(),
            };
            let l = raw.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = l.split_whitespace().collect();
            let [tag, first, fingerprint, secret] = fields[..] else {
                return Err(fail(
                    "expected: traza-audit-key FIRST_EVENT FINGERPRINT SECRET",
                ));
            };
            if tag != LINE_TAG {
                return Err(fail("not a Traza audit key line"));
            }
            let first_event: i64 = first
                .parse()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| fail("the first event is not a positive number"))?;
            let bytes = hex::decode(secret).map_err(|_| fail("the secret is not hex"))?;
            let secret: [u8; 32] = bytes
                .try_into()
                .map_err(|_| fail("the secret is not 32 bytes"))?;
            let key = ChainKey::new(first_event, secret);
            if key.fingerprint() != fingerprint.to_ascii_lowercase() {
                return Err(fail(
                    "the fingerprint does not match the secret (the file is damaged)",
                ));
            }
            ring.add(key).map_err(|e| fail(&e.to_string()))?;
        }
        if ring.is_empty() {
            return Err(KeyFileError::Empty);
        }
        Ok(ring)
    }

    /// The key file's text.
    pub fn render(&self) -> String {
        let mut out = String::from(
            "# Traza audit-trail keys. SECRET: keep this file readable by Traza's account only\n\
             # (mode 0600), outside the database server, and back it up apart from the database.\n\
             # Each key signs the audit events from FIRST_EVENT until the next key's.\n\
             # FIRST_EVENT FINGERPRINT SECRET\n",
        );
        for k in &self.keys {
            out.push_str(&format!(
                "{LINE_TAG} {} {} {}\n",
                k.first_event,
                k.fingerprint(),
                hex::encode(k.secret)
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_reads_back_what_it_writes_and_picks_the_key_by_event() {
        let mut ring = KeyRing::default();
        ring.add(ChainKey::new(1, [7; 32])).unwrap();
        ring.add(ChainKey::new(50, [9; 32])).unwrap();
        assert!(ring.add(ChainKey::new(50, [1; 32])).is_err());
        let back = KeyRing::parse(&ring.render()).unwrap();
        assert_eq!(back, ring);
        assert_eq!(back.key_for(1).unwrap().first_event, 1);
        assert_eq!(back.key_for(49).unwrap().first_event, 1);
        assert_eq!(back.key_for(50).unwrap().first_event, 50);
        let late = KeyRing::parse(&{
            let mut r = KeyRing::default();
            r.add(ChainKey::new(10, [3; 32])).unwrap();
            r.render()
        })
        .unwrap();
        assert!(late.key_for(9).is_none(), "the plain chain before the key");
    }

    #[test]
    fn a_damaged_or_foreign_key_file_is_refused() {
        let mut ring = KeyRing::default();
        ring.add(ChainKey::new(1, [7; 32])).unwrap();
        let text = ring.render();
        let damaged = text.replace(&hex::encode([7u8; 32]), &hex::encode([8u8; 32]));
        assert!(matches!(
            KeyRing::parse(&damaged),
            Err(KeyFileError::Line { .. })
        ));
        assert_eq!(KeyRing::parse("# nothing\n"), Err(KeyFileError::Empty));
        assert!(KeyRing::parse("ssh-rsa AAAA x y").is_err());
        assert!(KeyRing::parse("traza-audit-key 0 ab cd").is_err());
    }

    #[test]
    fn the_secret_stays_out_of_debug_output_and_keys_differ() {
        let a = ChainKey::new(1, [7; 32]);
        let b = ChainKey::new(1, [8; 32]);
        assert!(!format!("{a:?}").contains(&hex::encode([7u8; 32])));
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_ne!(a.sign(&[b"x"]), b.sign(&[b"x"]));
        assert_ne!(keyed_digest(Some(&a), b"x"), keyed_digest(None, b"x"));
    }
}
