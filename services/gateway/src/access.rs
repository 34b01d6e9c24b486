//! Who is calling: the bearer token verified against auth's published keys (fetched once,
//! fetched again when a token names a key we have not seen, at most every few seconds), and
//! the role a route needs checked before its body is read, so 403 comes before 422.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use tillstream_access::{Claims, KeySet, Role, TokenError};
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
    last_fetch: Arc<Mutex<Option<Instant>>>,
}

impl KeyCache {
    pub fn new(auth: Channel) -> Self {
        KeyCache {
            auth: AuthServiceClient::new(auth),
            keys: Arc::default(),
            last_fetch: Arc::default(),
        }
    }

    /// The claims of a valid `token`.
    pub async fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let first = self.keys.read().await.verify(token);
        let outcome = match first {
            Err(error) if error.is_unknown_key() && self.refresh().await? => {
                self.keys.read().await.verify(token)
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
        *last = Some(Instant::now());
        Ok(true)
    }
}

/// The role a route needs, as a type, so the extractor can check it.
pub trait Required {
    const ROLE: Role;
}

#[derive(Debug)]
pub struct CashierRole;
#[derive(Debug)]
pub struct ManagerRole;
#[derive(Debug)]
pub struct AdminRole;

impl Required for CashierRole {
    const ROLE: Role = Role::Cashier;
}
impl Required for ManagerRole {
    const ROLE: Role = Role::Manager;
}
impl Required for AdminRole {
    const ROLE: Role = Role::Admin;
}

/// An authenticated caller whose role allows `R`'s routes.
#[derive(Debug)]
pub struct Caller<R> {
    pub claims: Claims,
    /// The bearer token as sent, forwarded so the services can verify it themselves.
    pub token: String,
    role: PhantomData<R>,
}

impl<R> Caller<R> {
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

/// Any signed-in user: every role includes the cashier's.
pub type AnyUser = Caller<CashierRole>;
pub type Cashier = Caller<CashierRole>;
pub type Manager = Caller<ManagerRole>;
pub type Admin = Caller<AdminRole>;

impl<R: Required> FromRequestParts<AppState> for Caller<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .ok_or_else(|| {
                ApiError::unauthenticated("send `Authorization: Bearer <access token>`")
            })?;
        let claims = state.keys.verify(token).await?;
        if !claims.role.allows(R::ROLE) {
            return Err(ApiError::forbidden(format!(
                "this needs the {} role or above; you are {}",
                R::ROLE,
                claims.role
            )));
        }
        Ok(Caller {
            claims,
            token: token.to_owned(),
            role: PhantomData,
        })
    }
}
