//! Ed25519 signing keys for access tokens: generated once and kept in the auth database,
//! published as a JWKS. Tokens carry the key's `kid`, so a new key can sign while old ones
//! still verify.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use jsonwebtoken::EncodingKey;
use serde_json::json;
use sqlx::PgPool;

/// RFC 8410's PKCS#8 v1 prefix for an Ed25519 private key; the 32-byte seed follows.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("no randomness: {0}")]
    Random(String),
    #[error("a stored key is damaged: {0}")]
    Damaged(String),
}

/// One key pair.
#[derive(Clone)]
pub struct Key {
    pub kid: String,
    seed: [u8; 32],
    public_key: [u8; 32],
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the seed.
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl Key {
    fn from_seed(kid: String, seed: [u8; 32]) -> Self {
        let public_key = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
        Key {
            kid,
            seed,
            public_key,
        }
    }

    /// A key from a fixed seed, for tests.
    #[cfg(test)]
    pub fn for_tests(kid: &str, seed: [u8; 32]) -> Self {
        Key::from_seed(kid.to_owned(), seed)
    }

    pub fn encoding_key(&self) -> EncodingKey {
        let mut der = PKCS8_ED25519_PREFIX.to_vec();
        der.extend_from_slice(&self.seed);
        EncodingKey::from_ed_der(&der)
    }

    pub fn jwk(&self) -> serde_json::Value {
        json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(self.public_key),
            "kid": self.kid,
            "alg": "EdDSA",
            "use": "sig",
        })
    }
}

/// The current signing key, generating and storing one if there is none.
pub async fn current(pool: &PgPool) -> Result<Key, KeyError> {
    if let Some(key) = newest(pool).await? {
        return Ok(key);
    }
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
    let key = Key::from_seed(ulid_kid(), seed);
    // Two instances starting together: the first insert wins, both then read it back.
    sqlx::query("INSERT INTO signing_keys (kid, seed, public_key) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(&key.kid)
        .bind(key.seed.as_slice())
        .bind(key.public_key.as_slice())
        .execute(pool)
        .await?;
    newest(pool)
        .await?
        .ok_or_else(|| KeyError::Damaged("the key just stored is missing".into()))
}

/// Every key that may still verify tokens, newest first.
pub async fn all(pool: &PgPool) -> Result<Vec<Key>, KeyError> {
    let rows: Vec<(String, Vec<u8>)> =
        sqlx::query_as("SELECT kid, seed FROM signing_keys ORDER BY created_at DESC, kid DESC")
            .fetch_all(pool)
            .await?;
    rows.into_iter()
        .map(|(kid, seed)| to_key(kid, &seed))
        .collect()
}

async fn newest(pool: &PgPool) -> Result<Option<Key>, KeyError> {
    let row: Option<(String, Vec<u8>)> = sqlx::query_as(
        "SELECT kid, seed FROM signing_keys ORDER BY created_at DESC, kid DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await?;
    row.map(|(kid, seed)| to_key(kid, &seed)).transpose()
}

fn to_key(kid: String, seed: &[u8]) -> Result<Key, KeyError> {
    let seed: [u8; 32] = seed
        .try_into()
        .map_err(|_| KeyError::Damaged(format!("key {kid} has a bad seed")))?;
    Ok(Key::from_seed(kid, seed))
}

fn ulid_kid() -> String {
    tillstream_kernel::Ulid::generate().to_string()
}

/// The JWKS document for `keys`.
pub fn jwks(keys: &[Key]) -> serde_json::Value {
    json!({ "keys": keys.iter().map(Key::jwk).collect::<Vec<_>>() })
}
