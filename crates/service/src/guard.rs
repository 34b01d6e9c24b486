//! Every service checks the caller itself, not only the gateway: the `authorization`
//! metadata must carry an access token that verifies against auth's key set, with a role the
//! matrix (`tillstream_access::matrix::GRPC_RULES`) allows for the method. A method missing
//! from the matrix is refused. Keys come from auth (`GetJwks` at `TILLSTREAM_AUTH_ADDR`,
//! fetched when a token names a key not seen yet, at most every few seconds), are pinned by
//! `TILLSTREAM_JWKS`, or — in auth itself — are read from its own store. The verified claims
//! go into the request's extensions, where handlers find who is calling.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tillstream_access::matrix::{self, Access};
use tillstream_access::{Claims, KeySet, VerifiedTokens};
use tillstream_proto::auth::v1 as pb;
use tillstream_proto::auth::v1::auth_service_client::AuthServiceClient;
use tokio::sync::{Mutex, RwLock};
use tonic::Status;
use tonic::transport::Endpoint;

use crate::{ServiceSettings, StartError};

const REFRESH_AT_MOST_EVERY: Duration = Duration::from_secs(5);

/// Fetches a JWKS document (JSON): from auth over gRPC, or from auth's own store.
pub type FetchKeys =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<String, String>> + Send>> + Send + Sync>;

/// Wraps a service's gRPC routes so that every call is authenticated and authorized, with
/// keys from `TILLSTREAM_JWKS` or else from auth at `TILLSTREAM_AUTH_ADDR`.
pub fn guard(grpc: Router, settings: &ServiceSettings) -> Result<Router, StartError> {
    let guard = match &settings.jwks {
        Some(jwks) => Guard::pinned(
            KeySet::from_jwks(jwks)
                .map_err(|e| StartError::Setup(format!("TILLSTREAM_JWKS: {e}")))?,
        ),
        None => {
            let endpoint = Endpoint::from_shared(format!("http://{}", settings.auth_addr))
                .map_err(|e| StartError::Setup(format!("TILLSTREAM_AUTH_ADDR: {e}")))?
                .connect_timeout(Duration::from_secs(1))
                .timeout(Duration::from_secs(5));
            let auth = AuthServiceClient::new(endpoint.connect_lazy());
            let fetch: FetchKeys = Arc::new(move || {
                let mut auth = auth.clone();
                Box::pin(async move {
                    auth.get_jwks(pb::GetJwksRequest {})
                        .await
                        .map(|answer| answer.into_inner().json)
                        .map_err(|status| status.message().to_owned())
                })
            });
            Guard::fetching(fetch)
        }
    };
    Ok(grpc.layer(axum::middleware::from_fn_with_state(guard, check)))
}

/// The same guard with keys from `fetch` (auth reads its own store).
pub fn guard_with(grpc: Router, fetch: FetchKeys) -> Router {
    grpc.layer(axum::middleware::from_fn_with_state(
        Guard::fetching(fetch),
        check,
    ))
}

#[derive(Clone)]
struct Guard {
    fetch: Option<FetchKeys>,
    keys: Arc<RwLock<KeySet>>,
    verified: Arc<VerifiedTokens>,
    last_fetch: Arc<Mutex<Option<Instant>>>,
}

impl Guard {
    fn pinned(keys: KeySet) -> Self {
        Guard {
            fetch: None,
            keys: Arc::new(RwLock::new(keys)),
            verified: Arc::default(),
            last_fetch: Arc::default(),
        }
    }

    fn fetching(fetch: FetchKeys) -> Self {
        Guard {
            fetch: Some(fetch),
            ..Guard::pinned(KeySet::default())
        }
    }

    async fn verify(&self, token: &str) -> Result<Claims, Status> {
        let now = unix_now();
        let first = self.verified.verify(&*self.keys.read().await, token, now);
        let outcome = match first {
            Err(error) if error.is_unknown_key() && self.refresh().await? => {
                self.verified.verify(&*self.keys.read().await, token, now)
            }
            outcome => outcome,
        };
        outcome.map_err(|error| Status::unauthenticated(format!("access token: {error}")))
    }

    /// Fetches auth's key set again unless that was done a moment ago; whether it was.
    async fn refresh(&self) -> Result<bool, Status> {
        let Some(fetch) = &self.fetch else {
            return Ok(false);
        };
        let mut last = self.last_fetch.lock().await;
        if last.is_some_and(|at| at.elapsed() < REFRESH_AT_MOST_EVERY) {
            return Ok(false);
        }
        let jwks = fetch().await.map_err(|error| {
            tracing::warn!(%error, "cannot fetch auth's key set");
            Status::unavailable("auth's key set is unavailable")
        })?;
        let keys = KeySet::from_jwks(&jwks)
            .map_err(|e| Status::unavailable(format!("auth's key set: {e}")))?;
        *self.keys.write().await = keys;
        self.verified.clear();
        *last = Some(Instant::now());
        Ok(true)
    }
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("fetches", &self.fetch.is_some())
            .finish_non_exhaustive()
    }
}

async fn check(State(guard): State<Guard>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let required = match matrix::grpc_access(&path) {
        Some(Access::Public) => return next.run(request).await,
        Some(Access::AtLeast(role)) => role,
        None => {
            tracing::error!(%path, "gRPC method missing from the role matrix");
            return Status::permission_denied("this method has no access rule").into_http();
        }
    };
    let token = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    let Some(token) = token else {
        return Status::unauthenticated("an access token is required").into_http();
    };
    match guard.verify(&token).await {
        Ok(claims) if claims.role.allows(required) => {
            request.extensions_mut().insert(claims);
            next.run(request).await
        }
        Ok(claims) => Status::permission_denied(format!(
            "this needs the {required} role or above; the caller is {}",
            claims.role
        ))
        .into_http(),
        Err(status) => status.into_http(),
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
