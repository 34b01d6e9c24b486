//! What every process needs to trust an access token: the ordered roles, the claims, the
//! published key set (JWKS) and a verification that accepts EdDSA signatures by a known
//! `kid` only, so `alg: none` and HMAC keyed with a public key never pass.

mod cache;
pub mod matrix;
mod role;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

use std::collections::HashMap;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};

pub use cache::VerifiedTokens;
pub use role::{Role, UnknownRole};

/// The issuer every access token names.
pub const ISSUER: &str = "tillstream";

/// What an access token says about its bearer. Unknown fields are refused, so an approval
/// token (which carries `act` and `jti`) is never taken for an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    /// The user's id.
    pub sub: String,
    /// The username.
    pub name: String,
    pub role: Role,
    /// The locations the user may sell, open sessions and take returns at; empty for every
    /// location (api.md, "Auth and roles").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<String>,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
}

impl Claims {
    /// Whether the bearer may act at `location_id`: an empty list allows every location.
    pub fn may_act_at(&self, location_id: &str) -> bool {
        self.locations.is_empty() || self.locations.iter().any(|l| l == location_id)
    }
}

/// How long an approval lasts (api.md, "Approvals").
pub const APPROVAL_TTL_SECONDS: i64 = 120;

/// The actions a manager approves at a cashier's till.
pub const APPROVAL_ACTIONS: [&str; 6] = [
    "price_override",
    "discount",
    "return",
    "void",
    "refund_tender",
    "cash_difference",
];

/// What an approval token says: who approved (`sub`, `name`, `role`), which action (`act`),
/// its id (`jti`, used once). Unknown fields are refused, and an access token lacks `act`
/// and `jti`, so neither kind passes for the other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalClaims {
    pub sub: String,
    pub name: String,
    pub role: Role,
    pub act: String,
    pub jti: String,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token names no key or a key we do not know")]
    UnknownKey,
    #[error("only EdDSA tokens are accepted")]
    WrongAlgorithm,
    #[error("the token has expired")]
    Expired,
    #[error("the token is invalid: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
}

impl TokenError {
    /// Whether fetching the key set again could help (a key rotated since we last looked).
    pub fn is_unknown_key(&self) -> bool {
        matches!(self, TokenError::UnknownKey)
    }
}

/// The keys tokens may be signed with, by `kid`.
#[derive(Clone, Default)]
pub struct KeySet {
    keys: HashMap<String, DecodingKey>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySet")
            .field("kids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[derive(Debug, Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Debug, Deserialize)]
struct Jwk {
    kid: String,
    kty: String,
    crv: Option<String>,
    x: Option<String>,
}

/// A JWKS document that is not one.
#[derive(Debug, thiserror::Error)]
#[error("bad JWKS: {0}")]
pub struct JwksError(String);

impl KeySet {
    /// Reads the Ed25519 keys of a JWKS document; keys of other kinds are skipped.
    pub fn from_jwks(json: &str) -> Result<Self, JwksError> {
        let jwks: Jwks = serde_json::from_str(json).map_err(|e| JwksError(e.to_string()))?;
        let mut keys = HashMap::new();
        for jwk in jwks.keys {
            let (Some(x), Some("Ed25519")) = (jwk.x.as_deref(), jwk.crv.as_deref()) else {
                continue;
            };
            if jwk.kty != "OKP" {
                continue;
            }
            let key = DecodingKey::from_ed_components(x)
                .map_err(|e| JwksError(format!("key {}: {e}", jwk.kid)))?;
            keys.insert(jwk.kid, key);
        }
        Ok(KeySet { keys })
    }

    /// A set of one key, by its `kid`.
    pub fn insert(&mut self, kid: impl Into<String>, key: DecodingKey) {
        self.keys.insert(kid.into(), key);
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Verifies `token`: EdDSA, signed by the key its `kid` names, from our issuer,
    /// unexpired (five seconds of clock skew allowed).
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        self.decode(token)
    }

    /// Verifies an approval token as [`verify`](Self::verify) does an access token.
    pub fn verify_approval(&self, token: &str) -> Result<ApprovalClaims, TokenError> {
        self.decode(token)
    }

    fn decode<C: serde::de::DeserializeOwned>(&self, token: &str) -> Result<C, TokenError> {
        let header = jsonwebtoken::decode_header(token)?;
        if header.alg != Algorithm::EdDSA {
            return Err(TokenError::WrongAlgorithm);
        }
        let key = header
            .kid
            .and_then(|kid| self.keys.get(&kid))
            .ok_or(TokenError::UnknownKey)?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[ISSUER]);
        validation.leeway = 5;
        match jsonwebtoken::decode::<C>(token, key, &validation) {
            Ok(data) => Ok(data.claims),
            Err(e) if *e.kind() == jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                Err(TokenError::Expired)
            }
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests;
