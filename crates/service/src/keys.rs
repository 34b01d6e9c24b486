//! A verifier's copy of auth's key set: fetched when a token names a key not seen yet (at
//! most every few seconds, so a flood of forged `kid`s cannot hammer auth), or pinned; and
//! verified tokens remembered until they expire. The gateway and every service's guard use it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tillstream_access::{Claims, KeySet, TokenError, VerifiedTokens};
use tillstream_proto::auth::v1 as pb;
use tillstream_proto::auth::v1::auth_service_client::AuthServiceClient;
use tokio::sync::{Mutex, RwLock};
use tonic::transport::Channel;

const REFRESH_AT_MOST_EVERY: Duration = Duration::from_secs(5);

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
        let now = unix_now();
        let first = self.verified.verify(&*self.keys.read().await, token, now);
        match first {
            Err(error) if error.is_unknown_key() && self.refresh().await? => {
                Ok(self.verified.verify(&*self.keys.read().await, token, now)?)
            }
            outcome => Ok(outcome?),
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
