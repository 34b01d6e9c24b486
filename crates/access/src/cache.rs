//! Verified tokens remembered until they expire. A till presents the same access token on
//! every request for fifteen minutes, and an Ed25519 signature check costs ~45 µs on a
//! small core; a lookup costs well under one.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::{Claims, KeySet, TokenError};

/// How many tokens are remembered before the expired ones are swept (and, if that frees
/// nothing, all of them are forgotten).
pub const DEFAULT_CAPACITY: usize = 10_000;

#[derive(Debug)]
pub struct VerifiedTokens {
    entries: Mutex<HashMap<String, Claims>>,
    capacity: usize,
}

impl Default for VerifiedTokens {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }
}

impl VerifiedTokens {
    pub fn with_capacity(capacity: usize) -> Self {
        VerifiedTokens {
            entries: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// `token`'s claims: remembered ones while unexpired at `now_unix`, else verified with
    /// `keys` and remembered.
    pub fn verify(&self, keys: &KeySet, token: &str, now_unix: i64) -> Result<Claims, TokenError> {
        if let Some(claims) = self.remembered(token, now_unix) {
            return Ok(claims);
        }
        let claims = keys.verify(token)?;
        self.remember(token, &claims, now_unix);
        Ok(claims)
    }

    /// Forgets everything: the key set changed.
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }

    fn remembered(&self, token: &str, now_unix: i64) -> Option<Claims> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(token)
            .filter(|claims| claims.exp > now_unix)
            .cloned()
    }

    fn remember(&self, token: &str, claims: &Claims, now_unix: i64) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= self.capacity {
            entries.retain(|_, c| c.exp > now_unix);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(token.to_owned(), claims.clone());
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;
    use crate::Role;
    use crate::testing::TestSigner;

    const SIGNER: TestSigner = TestSigner::new("k", [3; 32]);

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap())
            .unwrap()
    }

    #[test]
    fn a_remembered_token_answers_without_keys_until_it_expires() {
        let cache = VerifiedTokens::with_capacity(2);
        let token = SIGNER.token(Role::Manager);
        let claims = cache.verify(&SIGNER.key_set(), &token, now()).unwrap();
        assert_eq!(claims.role, Role::Manager);
        // No keys at all: only the memory can answer.
        let empty = KeySet::default();
        assert_eq!(cache.verify(&empty, &token, now()).unwrap(), claims);
        assert!(
            cache.verify(&empty, &token, claims.exp + 1).is_err(),
            "expired: verified again, and there is no key"
        );
        assert!(cache.verify(&empty, "forged", now()).is_err());
        cache.clear();
        assert!(cache.verify(&empty, &token, now()).is_err());
    }

    #[test]
    fn a_full_cache_forgets_rather_than_grows() {
        let cache = VerifiedTokens::with_capacity(2);
        let keys = SIGNER.key_set();
        for role in Role::ALL {
            cache.verify(&keys, &SIGNER.token(role), now()).unwrap();
        }
        assert!(cache.entries.lock().unwrap().len() <= 2);
    }
}
