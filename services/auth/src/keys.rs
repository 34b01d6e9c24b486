//! Ed25519 signing keys for access tokens: generated once and kept in the auth database,
//! published as a JWKS. Tokens carry the key's `kid`, so a new key can sign while old ones
//! still verify.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use jsonwebtoken::EncodingKey;
use serde_json::json;
use sha2::Digest;
use sqlx::PgPool;

use crate::tokens::ACCESS_TOKEN_TTL;

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
    rotate(pool).await
}

/// A new generated key signs from now on; the previous one verifies until its tokens expire.
pub async fn rotate(pool: &PgPool) -> Result<Key, KeyError> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
    install(pool, &Key::from_seed(ulid_kid(), seed)).await
}

/// Makes `key` the one that signs (a configured key: `TILLSTREAM_SIGNING_KEY` or `…_FILE`).
/// Installing the current key again changes nothing; installing another supersedes it.
pub async fn install(pool: &PgPool, key: &Key) -> Result<Key, KeyError> {
    if newest(pool)
        .await?
        .is_some_and(|current| current.kid == key.kid)
    {
        return Ok(key.clone());
    }
    // Two instances starting together: both upsert, the later activation wins, and both
    // then sign with what `newest` says.
    sqlx::query(
        "INSERT INTO signing_keys (kid, seed, public_key, activated_at) VALUES ($1, $2, $3, clock_timestamp()) \
         ON CONFLICT (kid) DO UPDATE SET activated_at = clock_timestamp()",
    )
    .bind(&key.kid)
    .bind(key.seed.as_slice())
    .bind(key.public_key.as_slice())
    .execute(pool)
    .await?;
    newest(pool)
        .await?
        .ok_or_else(|| KeyError::Damaged("the key just stored is missing".into()))
}

/// Every key that may still verify tokens, newest first: the current one, and those
/// superseded less than an access token's lifetime (and a minute of clock skew) ago.
pub async fn all(pool: &PgPool) -> Result<Vec<Key>, KeyError> {
    let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(
        "SELECT kid, seed FROM ( \
           SELECT kid, seed, activated_at, \
                  lag(activated_at) OVER (ORDER BY activated_at DESC, kid DESC) AS superseded_at \
             FROM signing_keys) AS k \
          WHERE superseded_at IS NULL OR superseded_at > now() - make_interval(secs => $1) \
          ORDER BY activated_at DESC, kid DESC",
    )
    .bind((ACCESS_TOKEN_TTL + std::time::Duration::from_secs(60)).as_secs_f64())
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(kid, seed)| to_key(kid, &seed))
        .collect()
}

async fn newest(pool: &PgPool) -> Result<Option<Key>, KeyError> {
    let row: Option<(String, Vec<u8>)> = sqlx::query_as(
        "SELECT kid, seed FROM signing_keys ORDER BY activated_at DESC, kid DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await?;
    row.map(|(kid, seed)| to_key(kid, &seed)).transpose()
}

/// A configured key: PKCS#8 PEM (`openssl genpkey -algorithm ed25519`) or the 32-byte seed
/// in base64url. Its `kid` is derived from the public key, so every instance configured with
/// the same key names it the same.
pub fn parse_configured(text: &str) -> Result<Key, KeyError> {
    let text = text.trim();
    let seed: Vec<u8> = if let Some(body) = text.strip_prefix("-----BEGIN PRIVATE KEY-----") {
        let body: String = body
            .split("-----END PRIVATE KEY-----")
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|e| KeyError::Damaged(format!("PEM: {e}")))?;
        der.strip_prefix(PKCS8_ED25519_PREFIX.as_slice())
            .ok_or_else(|| KeyError::Damaged("not an Ed25519 PKCS#8 key".into()))?
            .to_vec()
    } else {
        URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .map_err(|e| KeyError::Damaged(format!("base64url seed: {e}")))?
    };
    let seed: [u8; 32] = seed
        .try_into()
        .map_err(|_| KeyError::Damaged("an Ed25519 seed has 32 bytes".into()))?;
    let public = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
    let digest = sha2::Sha256::digest(public);
    Ok(Key::from_seed(
        format!("cfg-{}", hex_prefix(&digest[..8])),
        seed,
    ))
}

fn hex_prefix(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    /// `openssl genpkey -algorithm ed25519` output for the RFC 8032 test 1 seed.
    const PEM: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n";

    #[test]
    fn a_configured_key_reads_as_pem_or_seed_and_names_itself_by_its_public_key() {
        let from_pem = parse_configured(PEM).unwrap();
        let seed = URL_SAFE_NO_PAD.encode(from_pem.seed);
        let from_seed = parse_configured(&seed).unwrap();
        assert_eq!(from_pem.kid, from_seed.kid);
        assert!(from_pem.kid.starts_with("cfg-"));
        // RFC 8032, test 1: the public key of that seed.
        assert_eq!(
            hex_prefix(&from_pem.public_key),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        assert!(parse_configured("not a key").is_err());
        assert!(parse_configured(&URL_SAFE_NO_PAD.encode([1u8; 16])).is_err());
    }
}
