//! Who is calling: the bearer token verified against auth's published keys (fetched once,
//! fetched again when a token names a key we have not seen, at most every few seconds), and
//! the role the matrix gives the route checked before its body is read.

use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use tillstream_access::matrix::{self, Access};
use tillstream_access::{Claims, TokenError};
use tillstream_process::{RefreshingKeys, VerifyError};
use tillstream_telemetry::timing;

use crate::AppState;
use crate::error::ApiError;

/// Auth's key set as the gateway sees it; see `tillstream_process::RefreshingKeys`.
pub type KeyCache = RefreshingKeys;

/// The claims of a valid `token`, or the answer for a client whose token is not.
pub async fn verify(keys: &KeyCache, token: &str) -> Result<Claims, ApiError> {
    keys.verify(token).await.map_err(|error| match error {
        VerifyError::Token(TokenError::Expired) => {
            ApiError::unauthenticated("the access token has expired; log in again")
        }
        VerifyError::Token(error) => {
            tracing::debug!(%error, "token refused");
            ApiError::unauthenticated("the access token is not valid")
        }
        VerifyError::KeysUnavailable(error) => {
            ApiError::from_status("auth", &tonic::Status::unavailable(error))
        }
    })
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
/// matrix is refused: the table is the one place access is decided. The rate limits are
/// checked here too: the client address's first, the user's once the token is verified.
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
    if let Some(addr) = crate::trace::current_client_addr() {
        state.limits.check_addr(&addr)?;
    }
    let rule = matrix::access(request.method().as_str(), &path).ok_or_else(|| {
        tracing::error!(%path, method = %request.method(), "route missing from the role matrix");
        ApiError::forbidden("this route has no access rule")
    })?;
    if let Access::AtLeast(required) = rule {
        let token = bearer(request.headers()).ok_or_else(|| {
            ApiError::unauthenticated("send `Authorization: Bearer <access token>`")
        })?;
        let claims = timing::time("auth", verify(&state.keys, &token)).await?;
        state.limits.check_user(&claims.sub)?;
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
