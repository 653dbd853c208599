//! Tokens verified recently, so a client sending the same token with every request (an
//! integration does, thousands of times a minute) pays for decoding and the signature check once.
//! The token's own text is the key: its signature covers every byte of it, so the same text means
//! the same claims. An entry lives until the token expires or for [`MAX_AGE`], whichever comes
//! first, and only while the keys that checked it are the current ones: every fetch of a JWKS
//! starts a new generation, so a key withdrawn from it stops working as soon as it is refetched.
//! Nothing is cached about the caller's standing (their member may be deactivated at any
//! moment): only the signature.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::RwLock;

use circulo_domain::principal::Principal;

/// The longest a verification is reused.
pub const MAX_AGE: Duration = Duration::from_secs(60);
/// The most tokens remembered; when full, the cache starts again empty.
const CAPACITY: usize = 4096;

/// Recently verified tokens.
#[derive(Default)]
pub struct VerifiedTokens {
    entries: RwLock<HashMap<String, Entry>>,
}

struct Entry {
    principal: Principal,
    until: Instant,
    generation: u64,
}

impl VerifiedTokens {
    /// The principal of `token`, when it was verified recently with keys of `generation` and has
    /// not expired since.
    pub fn get(&self, token: &str, generation: u64) -> Option<Principal> {
        let entries = self.entries.read();
        let entry = entries.get(token)?;
        (entry.generation == generation && Instant::now() < entry.until)
            .then(|| entry.principal.clone())
    }

    /// Remembers for at most `max_age` that `token`, which expires at `exp` (seconds since the
    /// epoch) and was checked with keys of `generation`, stands for `principal`.
    pub fn insert(
        &self,
        token: &str,
        principal: &Principal,
        exp: u64,
        generation: u64,
        max_age: Duration,
    ) {
        let now_unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let left = Duration::from_secs(exp.saturating_sub(now_unix));
        if left.is_zero() {
            return;
        }
        let age = left.min(max_age).min(MAX_AGE);
        if age.is_zero() {
            return;
        }
        let until = Instant::now() + age;
        let mut entries = self.entries.write();
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        let entry = Entry {
            principal: principal.clone(),
            until,
            generation,
        };
        entries.insert(token.to_owned(), entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use circulo_domain::OrgId;
    use circulo_domain::principal::Role;

    fn principal() -> Principal {
        Principal::new(
            Some(OrgId::generate()),
            Role::Owner,
            "owner".into(),
            Default::default(),
        )
        .unwrap()
    }

    fn in_seconds(s: u64) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + s
    }

    #[test]
    fn a_verified_token_is_remembered_until_it_expires() {
        let cache = VerifiedTokens::default();
        cache.insert("t1", &principal(), in_seconds(600), 0, MAX_AGE);
        assert!(cache.get("t1", 0).is_some());
        assert!(cache.get("t2", 0).is_none());
        cache.insert("expired", &principal(), in_seconds(0), 0, MAX_AGE);
        assert!(cache.get("expired", 0).is_none());
        cache.insert("never", &principal(), in_seconds(600), 0, Duration::ZERO);
        assert!(cache.get("never", 0).is_none());
    }

    #[test]
    fn new_keys_forget_what_old_keys_verified() {
        let cache = VerifiedTokens::default();
        cache.insert("t1", &principal(), in_seconds(600), 3, MAX_AGE);
        assert!(cache.get("t1", 3).is_some());
        assert!(cache.get("t1", 4).is_none());
    }

    #[test]
    fn a_full_cache_starts_again() {
        let cache = VerifiedTokens::default();
        for i in 0..=CAPACITY {
            cache.insert(&format!("t{i}"), &principal(), in_seconds(600), 0, MAX_AGE);
        }
        assert!(cache.get("t0", 0).is_none());
        assert!(cache.get(&format!("t{CAPACITY}"), 0).is_some());
    }
}
