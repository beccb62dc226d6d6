//! A short-lived cache of bearer token → user, so that a read costs one query, not three.
//!
//! What it must not do is outlive a revocation or an expiry. Expiry: an entry keeps the
//! token's own `expires_at` and is never served past it. Revocation: this process drops the
//! whole cache whenever a user is changed (deactivation, role or laboratories, which revoke the
//! user's tokens), before the change is acknowledged; another `traza serve` process on the
//! same PostgreSQL notices within [`TTL`], the longest an entry is trusted.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use traza_domain::access::Actor;

/// How long an entry is trusted without asking the database again.
pub const TTL: Duration = Duration::from_secs(5);
/// Entries kept at most; beyond it the cache starts over (tokens are cheap to look up again).
const CAPACITY: usize = 50_000;

struct Entry {
    actor: Actor,
    token_expires_at: DateTime<Utc>,
    cached_at: Instant,
}

#[derive(Default)]
pub struct TokenCache {
    entries: RwLock<HashMap<String, Entry>>,
}

impl TokenCache {
    /// The user of a token hash, if cached, fresh and unexpired.
    pub fn get(&self, token_hash: &str) -> Option<Actor> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        let e = entries.get(token_hash)?;
        (e.cached_at.elapsed() < TTL && e.token_expires_at > Utc::now()).then(|| e.actor.clone())
    }

    pub fn put(&self, token_hash: String, actor: Actor, token_expires_at: DateTime<Utc>) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(
            token_hash,
            Entry {
                actor,
                token_expires_at,
                cached_at: Instant::now(),
            },
        );
    }

    /// Forgets every entry: called when any user changes.
    pub fn clear(&self) {
        self.entries
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use traza_domain::codes::Username;
    use traza_domain::vocab::Role;

    use super::*;

    fn actor() -> Actor {
        Actor {
            username: Username::parse("marta.jimenez").unwrap(),
            full_name: "Marta Jiménez".into(),
            role: Role::LabStaff,
            labs: BTreeSet::new(),
        }
    }

    #[test]
    fn an_entry_is_served_until_cleared_and_never_past_the_token_expiry() {
        let cache = TokenCache::default();
        cache.put("a".into(), actor(), Utc::now() + chrono::Duration::hours(1));
        assert_eq!(cache.get("a"), Some(actor()));
        assert_eq!(cache.get("b"), None);
        cache.clear();
        assert_eq!(cache.get("a"), None);
        cache.put(
            "c".into(),
            actor(),
            Utc::now() - chrono::Duration::seconds(1),
        );
        assert_eq!(cache.get("c"), None, "an expired token is never served");
    }
}
