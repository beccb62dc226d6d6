//! Authentication rules (21 CFR 11.300(d), Annex 11 §12): consecutive wrong passwords lock an
//! account for a while, a client address that guesses too fast is throttled, and passwords
//! are long, personal and not common (SPEC §2 "Users": authentication).
//!
//! The counters themselves live in the database (every `traza serve` behind one PostgreSQL
//! sees them); these functions decide what they mean.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};

/// Counts and windows of the lockout; configurable, SPEC §2's values by default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Consecutive wrong passwords (login or signature) that lock an account.
    pub max_failures: u32,
    /// How long a lock lasts.
    pub lock_for: Duration,
    /// Failures a minute from one client address beyond which it gets 429.
    pub per_address_per_minute: u32,
    /// The reverse proxy whose `X-Forwarded-For` names the client (`TRAZA_TRUSTED_PROXY`).
    pub trusted_proxy: Option<IpAddr>,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        LockoutPolicy {
            max_failures: 5,
            lock_for: Duration::minutes(15),
            per_address_per_minute: 20,
            trusted_proxy: None,
        }
    }
}

/// Why a login or a signature is refused before its password is even checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthRefusal {
    /// 423: the account is locked until `until`.
    #[error("the account is locked after repeated wrong passwords; try again after {until}")]
    AccountLocked { until: DateTime<Utc> },
    /// 429: too many failures from this client address in the current minute.
    #[error("too many failed attempts from this address; wait a minute")]
    TooManyAttempts { retry_after_secs: i64 },
}

impl AuthRefusal {
    /// Seconds until trying again makes sense (`Retry-After`).
    pub fn retry_after_secs(&self, now: DateTime<Utc>) -> i64 {
        match self {
            AuthRefusal::AccountLocked { until } => (*until - now).num_seconds().max(1),
            AuthRefusal::TooManyAttempts { retry_after_secs } => *retry_after_secs,
        }
    }
}

/// The lock of an account that stands at `now`: its end while that is in the future. A lock
/// that has run out stays recorded until the next failure or an unlock, but locks nothing.
pub fn standing_lock(
    locked_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    locked_until.filter(|until| *until > now)
}

/// The minute a failure counts in (per-address window), as a number.
pub fn minute_of(now: DateTime<Utc>) -> i64 {
    now.timestamp().div_euclid(60)
}

impl LockoutPolicy {
    /// May a login or signature be tried now? `locked_until` is the account's lock (if any),
    /// `address_failures` the failures counted for the client's address this minute.
    pub fn gate(
        &self,
        locked_until: Option<DateTime<Utc>>,
        address_failures: u32,
        now: DateTime<Utc>,
    ) -> Result<(), AuthRefusal> {
        if address_failures > self.per_address_per_minute {
            let next_minute = (minute_of(now) + 1) * 60;
            return Err(AuthRefusal::TooManyAttempts {
                retry_after_secs: (next_minute - now.timestamp()).max(1),
            });
        }
        match standing_lock(locked_until, now) {
            Some(until) => Err(AuthRefusal::AccountLocked { until }),
            None => Ok(()),
        }
    }

    /// After one more wrong password, given the consecutive failures before it: the new count,
    /// and the lock's end when this failure locks the account (the count then starts again).
    pub fn after_failure(
        &self,
        failures_before: u32,
        now: DateTime<Utc>,
    ) -> (u32, Option<DateTime<Utc>>) {
        let failures = failures_before.saturating_add(1);
        if failures >= self.max_failures {
            (0, Some(now + self.lock_for))
        } else {
            (failures, None)
        }
    }

    /// The client's address: the peer's, or the first of `X-Forwarded-For` when the peer is
    /// the trusted proxy (anyone else could write that header).
    pub fn client_address(
        &self,
        peer: Option<IpAddr>,
        forwarded_for: Option<&str>,
    ) -> Option<IpAddr> {
        match (peer, self.trusted_proxy, forwarded_for) {
            (Some(p), Some(proxy), Some(xff)) if p == proxy => xff
                .split(',')
                .next()
                .and_then(|first| first.trim().parse().ok())
                .or(Some(p)),
            (peer, _, _) => peer,
        }
    }
}

/// A web session ends after this long without a request (SPEC §2; Annex 11 §12.1: an
/// unattended terminal must not stay open).
pub const WEB_SESSION_IDLE: Duration = Duration::minutes(30);

/// What a page request does to its session, given its last use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionUse {
    /// Used within the last minute: nothing to write.
    Fresh,
    /// Record the use (at most once a minute, so that reading pages does not write on each).
    Touch,
    /// Idle too long: the session ends.
    Idle,
}

pub fn web_session_use(last_use: DateTime<Utc>, now: DateTime<Utc>) -> SessionUse {
    let idle = now - last_use;
    if idle > WEB_SESSION_IDLE {
        SessionUse::Idle
    } else if idle > Duration::minutes(1) {
        SessionUse::Touch
    } else {
        SessionUse::Fresh
    }
}

/// Why a new password is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRefusal {
    #[error("must be at least 12 characters")]
    TooShort,
    #[error("must be at most 256 characters")]
    TooLong,
    #[error("must not contain the username")]
    ContainsUsername,
    #[error("is one of the most common passwords")]
    Common,
}

impl crate::problem::Explain for PasswordRefusal {
    fn problem(&self) -> Option<crate::problem::Problem> {
        use crate::problem::Problem as P;
        Some(match self {
            PasswordRefusal::TooShort => P::PasswordTooShort { min: 12 },
            PasswordRefusal::TooLong => P::PasswordTooLong { max: 256 },
            PasswordRefusal::ContainsUsername => P::PasswordHasUsername,
            PasswordRefusal::Common => P::PasswordCommon,
        })
    }
}

/// Passwords (NIST SP 800-63B §5.1.1.2): at least 12 characters, no composition rules, not
/// containing the username, not on a list of common passwords (the `passwords` crate's list of
/// about 100,000, a superset of the 10,000 most common; compared in lower case), at most 256
/// so that hashing stays cheap.
pub fn check_new_password(password: &str, username: &str) -> Result<(), PasswordRefusal> {
    let n = password.chars().count();
    if n < 12 {
        return Err(PasswordRefusal::TooShort);
    }
    if n > 256 {
        return Err(PasswordRefusal::TooLong);
    }
    let lower = password.to_lowercase();
    if !username.is_empty() && lower.contains(&username.to_lowercase()) {
        return Err(PasswordRefusal::ContainsUsername);
    }
    if passwords::analyzer::is_common_password(&lower)
        || passwords::analyzer::is_common_password(password)
    {
        return Err(PasswordRefusal::Common);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn the_fifth_consecutive_failure_locks_for_fifteen_minutes() {
        let p = LockoutPolicy::default();
        let now = at("2026-12-02T10:00:00Z");
        let mut failures = 0;
        for _ in 0..4 {
            let (n, lock) = p.after_failure(failures, now);
            assert_eq!(lock, None);
            failures = n;
        }
        assert_eq!(failures, 4);
        let (n, lock) = p.after_failure(failures, now);
        assert_eq!((n, lock), (0, Some(at("2026-12-02T10:15:00Z"))));
        assert_eq!(
            p.gate(lock, 0, at("2026-12-02T10:14:59Z")),
            Err(AuthRefusal::AccountLocked {
                until: at("2026-12-02T10:15:00Z")
            })
        );
        assert_eq!(p.gate(lock, 0, at("2026-12-02T10:15:00Z")), Ok(()));
        // The lock the pages show is the one the gate applies.
        assert_eq!(standing_lock(lock, at("2026-12-02T10:14:59Z")), lock);
        assert_eq!(standing_lock(lock, at("2026-12-02T10:15:00Z")), None);
    }

    #[test]
    fn more_than_twenty_failures_a_minute_from_one_address_are_throttled() {
        let p = LockoutPolicy::default();
        let now = at("2026-12-02T10:00:45Z");
        assert_eq!(p.gate(None, 20, now), Ok(()));
        let refused = p.gate(None, 21, now).unwrap_err();
        assert_eq!(refused.retry_after_secs(now), 15);
    }

    #[test]
    fn forwarded_for_counts_only_behind_the_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let client: IpAddr = "192.0.2.7".parse().unwrap();
        let open = LockoutPolicy::default();
        assert_eq!(
            open.client_address(Some(client), Some("203.0.113.9")),
            Some(client)
        );
        let behind = LockoutPolicy {
            trusted_proxy: Some(proxy),
            ..LockoutPolicy::default()
        };
        assert_eq!(
            behind.client_address(Some(proxy), Some("192.0.2.7, 10.0.0.1")),
            Some(client)
        );
        // Someone else's header is ignored; a garbled one falls back to the proxy.
        assert_eq!(
            behind.client_address(Some(client), Some("203.0.113.9")),
            Some(client)
        );
        assert_eq!(
            behind.client_address(Some(proxy), Some("nonsense")),
            Some(proxy)
        );
    }

    #[test]
    fn a_web_session_ends_after_thirty_idle_minutes() {
        let last = at("2026-12-02T10:00:00Z");
        assert_eq!(
            web_session_use(last, at("2026-12-02T10:00:30Z")),
            SessionUse::Fresh
        );
        assert_eq!(
            web_session_use(last, at("2026-12-02T10:20:00Z")),
            SessionUse::Touch
        );
        assert_eq!(
            web_session_use(last, at("2026-12-02T10:30:00Z")),
            SessionUse::Touch
        );
        assert_eq!(
            web_session_use(last, at("2026-12-02T10:30:01Z")),
            SessionUse::Idle
        );
    }

    #[test]
    fn passwords_are_long_personal_and_uncommon() {
        assert_eq!(
            check_new_password("corto", "ana"),
            Err(PasswordRefusal::TooShort)
        );
        assert_eq!(
            check_new_password("marta.jimenez-2026", "marta.jimenez"),
            Err(PasswordRefusal::ContainsUsername)
        );
        assert_eq!(
            check_new_password("Password1234", "ana.priego"),
            Err(PasswordRefusal::Common)
        );
        assert_eq!(
            check_new_password("1q2w3e4r5t6y", "ana.priego"),
            Err(PasswordRefusal::Common)
        );
        assert_eq!(
            check_new_password("demo-calidad-granada", "isabel.morales"),
            Ok(())
        );
        assert_eq!(
            check_new_password(&"x".repeat(257), "ana"),
            Err(PasswordRefusal::TooLong)
        );
    }
}
