//! Signing tokens in tests (feature `testing`): a fixed Ed25519 key, its JWKS entry and
//! tokens for any role.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};

use crate::{ISSUER, KeySet, Role};

/// RFC 8410's PKCS#8 prefix for an Ed25519 private key; the seed follows.
const PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// A signing key for tests.
#[derive(Debug, Clone, Copy)]
pub struct TestSigner {
    pub kid: &'static str,
    pub seed: [u8; 32],
}

impl TestSigner {
    pub const fn new(kid: &'static str, seed: [u8; 32]) -> Self {
        TestSigner { kid, seed }
    }

    /// The public key, base64url.
    pub fn x(&self) -> String {
        URL_SAFE_NO_PAD.encode(
            SigningKey::from_bytes(&self.seed)
                .verifying_key()
                .to_bytes(),
        )
    }

    pub fn jwk(&self) -> serde_json::Value {
        serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": self.x(), "kid": self.kid, "alg": "EdDSA", "use": "sig"})
    }

    /// A key set holding this key alone.
    pub fn key_set(&self) -> KeySet {
        let jwks = serde_json::json!({"keys": [self.jwk()]}).to_string();
        KeySet::from_jwks(&jwks).unwrap_or_default()
    }

    /// Signs any claims.
    pub fn sign(&self, claims: &serde_json::Value) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.to_owned());
        let mut der = PKCS8_PREFIX.to_vec();
        der.extend_from_slice(&self.seed);
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(&der)).unwrap_or_default()
    }

    /// A token for `role`, valid for a minute.
    pub fn token(&self, role: Role) -> String {
        let now = chrono_free_now();
        self.sign(&serde_json::json!({"sub": format!("user-{role}"), "name": role.as_str(), "role": role, "iss": ISSUER, "iat": now, "exp": now + 3600}))
    }
}

fn chrono_free_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}
