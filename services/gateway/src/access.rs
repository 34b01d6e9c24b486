//! Who is calling: the bearer token verified against auth's published keys (fetched once,
//! fetched again when a token names a key we have not seen, at most every few seconds), and
//! the role the matrix gives the route checked before its body is read.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use tillstream_access::matrix::{self, Access};
use tillstream_access::{Claims, KeySet, TokenError, VerifiedTokens};
use tillstream_proto::auth::v1 as pb;
use tillstream_proto::auth::v1::auth_service_client::AuthServiceClient;
use tokio::sync::{Mutex, RwLock};
use tonic::transport::Channel;

use crate::AppState;
use crate::error::ApiError;

/// How often an unknown `kid` may send us back to auth for the key set.
const REFRESH_AT_MOST_EVERY: Duration = Duration::from_secs(5);

/// Auth's key set, cached.
#[derive(Debug, Clone)]
pub struct KeyCache {
    auth: AuthServiceClient<Channel>,
    keys: Arc<RwLock<KeySet>>,
    verified: Arc<VerifiedTokens>,
    last_fetch: Arc<Mutex<Option<Instant>>>,
}

impl KeyCache {
    pub fn new(auth: Channel) -> Self {
        Self::with_keys(auth, KeySet::default())
    }

    /// A cache that starts with `keys` (tests sign with a key of their own).
    pub fn with_keys(auth: Channel, keys: KeySet) -> Self {
        KeyCache {
            auth: AuthServiceClient::new(auth),
            keys: Arc::new(RwLock::new(keys)),
            verified: Arc::default(),
            last_fetch: Arc::default(),
        }
    }

    /// The claims of a valid `token`.
    pub async fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let now = unix_now();
        let first = self.verified.verify(&*self.keys.read().await, token, now);
        let outcome = match first {
            Err(error) if error.is_unknown_key() && self.refresh().await? => {
                self.verified.verify(&*self.keys.read().await, token, now)
            }
            outcome => outcome,
        };
        outcome.map_err(|error| {
            tracing::debug!(%error, "token refused");
            ApiError::unauthenticated(match error {
                TokenError::Expired => "the access token has expired; log in again",
                _ => "the access token is not valid",
            })
        })
    }

    /// Fetches the key set again unless that was done a moment ago; whether it was.
    async fn refresh(&self) -> Result<bool, ApiError> {
        let mut last = self.last_fetch.lock().await;
        if last.is_some_and(|at| at.elapsed() < REFRESH_AT_MOST_EVERY) {
            return Ok(false);
        }
        let jwks = self
            .auth
            .clone()
            .get_jwks(pb::GetJwksRequest {})
            .await
            .map_err(|status| ApiError::from_status("auth", &status))?
            .into_inner()
            .json;
        let keys = KeySet::from_jwks(&jwks).map_err(|error| {
            tracing::error!(%error, "auth published a bad key set");
            ApiError::from_status("auth", &tonic::Status::unavailable(error.to_string()))
        })?;
        *self.keys.write().await = keys;
        self.verified.clear();
        *last = Some(Instant::now());
        Ok(true)
    }
}

/// The caller of a route that needs a role, authenticated and authorized by `authorize`.
#[derive(Debug, Clone)]
pub struct Caller {
    pub claims: Claims,
    /// The bearer token as sent, forwarded so the services can verify it themselves.
    pub token: String,
}

impl Caller {
    /// Who a call to a service is made for.
    pub fn on_behalf(&self) -> Option<OnBehalf<'_>> {
        Some(OnBehalf {
            claims: &self.claims,
            token: &self.token,
        })
    }
}

/// The caller as the services see them: the verified claims and the token itself.
#[derive(Debug, Clone, Copy)]
pub struct OnBehalf<'a> {
    pub claims: &'a Claims,
    pub token: &'a str,
}

/// The layer in front of every route: looks the route up in the role matrix
/// (`tillstream_access::matrix`), verifies the bearer token and checks the role before any
/// handler reads the body, so 401 and 403 come before 400 and 422. A route missing from the
/// matrix is refused: the table is the one place access is decided.
pub async fn authorize(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let rule = matrix::access(request.method().as_str(), &path).ok_or_else(|| {
        tracing::error!(%path, method = %request.method(), "route missing from the role matrix");
        ApiError::forbidden("this route has no access rule")
    })?;
    if let Access::AtLeast(required) = rule {
        let token = bearer(request.headers()).ok_or_else(|| {
            ApiError::unauthenticated("send `Authorization: Bearer <access token>`")
        })?;
        let claims = state.keys.verify(&token).await?;
        if !claims.role.allows(required) {
            return Err(ApiError::forbidden(format!(
                "this needs the {required} role or above; you are {}",
                claims.role
            )));
        }
        request.extensions_mut().insert(Caller { claims, token });
    }
    Ok(next.run(request).await)
}

fn bearer(headers: &axum::http::HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        // Present whenever the matrix gives the route a role; a handler that asks for a
        // caller on a public route gets the same answer as an anonymous client.
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::unauthenticated("this route needs an access token"))
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
