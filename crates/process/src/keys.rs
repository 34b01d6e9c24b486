//! A verifier's copy of auth's key set: fetched when a token names a key not seen yet (at
//! most every few seconds, so a flood of forged `kid`s cannot hammer auth), or pinned; and
//! verified tokens remembered until they expire. The gateway and every service's guard use it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tillstream_access::{ApprovalClaims, Claims, KeySet, TokenError, VerifiedTokens};
use tillstream_proto::auth::v1 as pb;
use tillstream_proto::auth::v1::auth_service_client::AuthServiceClient;
use tokio::sync::{Mutex, RwLock};
use tonic::transport::Channel;

const REFRESH_AT_MOST_EVERY: Duration = Duration::from_secs(5);

/// How old a fetched key set may grow before it is fetched again, whether or not a token
/// names an unknown key: a key auth retires stops being trusted everywhere within this.
pub const KEYS_MAX_AGE: Duration = Duration::from_secs(120);

/// Fetches a JWKS document (JSON): from auth over gRPC, or from auth's own store.
pub type FetchKeys =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<String, String>> + Send>> + Send + Sync>;

/// Asks auth's `GetJwks` over `channel`.
pub fn fetch_from_auth(channel: Channel) -> FetchKeys {
    let auth = AuthServiceClient::new(channel);
    Arc::new(move || {
        let mut auth = auth.clone();
        Box::pin(async move {
            auth.get_jwks(pb::GetJwksRequest {})
                .await
                .map(|answer| answer.into_inner().json)
                .map_err(|status| status.message().to_owned())
        })
    })
}

/// Why a token could not be accepted.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The token names a key we do not have and the key set could not be fetched.
    #[error("the key set is unavailable: {0}")]
    KeysUnavailable(String),
}

#[derive(Clone)]
pub struct RefreshingKeys {
    fetch: Option<FetchKeys>,
    keys: Arc<RwLock<KeySet>>,
    verified: Arc<VerifiedTokens>,
    last_fetch: Arc<Mutex<Option<Instant>>>,
}

impl std::fmt::Debug for RefreshingKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshingKeys")
            .field("fetches", &self.fetch.is_some())
            .finish_non_exhaustive()
    }
}

impl RefreshingKeys {
    /// Exactly these keys, never fetched.
    pub fn pinned(keys: KeySet) -> Self {
        RefreshingKeys {
            fetch: None,
            keys: Arc::new(RwLock::new(keys)),
            verified: Arc::default(),
            last_fetch: Arc::default(),
        }
    }

    /// Keys fetched with `fetch` when needed.
    pub fn fetching(fetch: FetchKeys) -> Self {
        RefreshingKeys {
            fetch: Some(fetch),
            ..RefreshingKeys::pinned(KeySet::default())
        }
    }

    /// The claims of a valid `token`.
    pub async fn verify(&self, token: &str) -> Result<Claims, VerifyError> {
        self.refresh_if_stale().await;
        let now = unix_now();
        let first = self.verified.verify(&*self.keys.read().await, token, now);
        match first {
            // Verify again whether this call fetched the keys or a concurrent one did a
            // moment before: every till's first request after a restart races for them, and
            // the losers must not be told their valid token is unknown (a 401 logs a
            // cashier out).
            Err(error) if error.is_unknown_key() => {
                self.refresh().await?;
                Ok(self.verified.verify(&*self.keys.read().await, token, now)?)
            }
            outcome => Ok(outcome?),
        }
    }

    /// The claims of a valid approval token (not cached: each is used once).
    pub async fn verify_approval(&self, token: &str) -> Result<ApprovalClaims, VerifyError> {
        self.refresh_if_stale().await;
        let first = self.keys.read().await.verify_approval(token);
        match first {
            Err(error) if error.is_unknown_key() => {
                self.refresh().await?;
                Ok(self.keys.read().await.verify_approval(token)?)
            }
            outcome => Ok(outcome?),
        }
    }

    /// Fetches the key set again when it is older than [`KEYS_MAX_AGE`] (a retired key is
    /// then dropped, and with it the verifications cached under it). If auth cannot be
    /// reached, the keys in hand stay in use: a till keeps working through auth's restart.
    async fn refresh_if_stale(&self) {
        if self.fetch.is_none() {
            return;
        }
        let stale = self
            .last_fetch
            .lock()
            .await
            .is_some_and(|at| at.elapsed() >= KEYS_MAX_AGE);
        if stale && let Err(error) = self.refresh().await {
            tracing::warn!(%error, "keeping the key set in hand");
        }
    }

    /// Fetches the key set again unless that was done a moment ago; whether it was.
    async fn refresh(&self) -> Result<bool, VerifyError> {
        let Some(fetch) = &self.fetch else {
            return Ok(false);
        };
        let mut last = self.last_fetch.lock().await;
        if last.is_some_and(|at| at.elapsed() < REFRESH_AT_MOST_EVERY) {
            return Ok(false);
        }
        let jwks = fetch().await.map_err(|error| {
            tracing::warn!(%error, "cannot fetch auth's key set");
            VerifyError::KeysUnavailable(error)
        })?;
        let keys = KeySet::from_jwks(&jwks).map_err(|e| {
            tracing::error!(error = %e, "auth published a bad key set");
            VerifyError::KeysUnavailable(e.to_string())
        })?;
        *self.keys.write().await = keys;
        self.verified.clear();
        *last = Some(Instant::now());
        Ok(true)
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use std::sync::atomic::{AtomicU32, Ordering};

    use tillstream_access::Role;
    use tillstream_access::testing::TestSigner;

    use super::*;

    const SIGNER: TestSigner = TestSigner::new("k", [7; 32]);

    #[tokio::test]
    async fn callers_racing_a_fresh_cache_all_get_in_with_one_fetch() {
        let fetches = Arc::new(AtomicU32::new(0));
        let fetch: FetchKeys = {
            let fetches = fetches.clone();
            Arc::new(move || {
                let fetches = fetches.clone();
                Box::pin(async move {
                    fetches.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Ok(serde_json::json!({"keys": [SIGNER.jwk()]}).to_string())
                })
            })
        };
        let keys = RefreshingKeys::fetching(fetch);
        let token = SIGNER.token(Role::Cashier);
        let callers: Vec<_> = (0..8)
            .map(|_| {
                let (keys, token) = (keys.clone(), token.clone());
                tokio::spawn(async move { keys.verify(&token).await })
            })
            .collect();
        for caller in callers {
            assert!(caller.await.unwrap().is_ok(), "a valid token is accepted");
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }
}
