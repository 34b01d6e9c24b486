//! Access tokens: EdDSA JWTs with the user's id, name and role, short-lived.

use std::time::Duration;

use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::keys::Key;

/// How long an access token lives.
pub const ACCESS_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);
pub const ISSUER: &str = "tillstream";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub name: String,
    pub role: String,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
}

pub fn issue(
    key: &Key,
    user_id: &str,
    username: &str,
    role: &str,
    now_unix: i64,
) -> Result<String, jsonwebtoken::errors::Error> {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(key.kid.clone());
    let ttl = i64::try_from(ACCESS_TOKEN_TTL.as_secs()).unwrap_or(900);
    let claims = Claims {
        sub: user_id.to_owned(),
        name: username.to_owned(),
        role: role.to_owned(),
        iss: ISSUER.to_owned(),
        iat: now_unix,
        exp: now_unix + ttl,
    };
    jsonwebtoken::encode(&header, &claims, &key.encoding_key())
}

/// Verifies a token against the key its `kid` names: EdDSA only (no `none`, no HMAC with a
/// public key as secret), unexpired, from our issuer.
pub fn verify(token: &str, keys: &[Key]) -> Result<Claims, jsonwebtoken::errors::Error> {
    use jsonwebtoken::errors::ErrorKind;
    let header = jsonwebtoken::decode_header(token)?;
    if header.alg != Algorithm::EdDSA {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    let kid = header.kid.ok_or(ErrorKind::InvalidToken)?;
    let key = keys
        .iter()
        .find(|k| k.kid == kid)
        .ok_or(ErrorKind::InvalidToken)?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[ISSUER]);
    validation.leeway = 5;
    Ok(jsonwebtoken::decode::<Claims>(token, &key.decoding_key(), &validation)?.claims)
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use jsonwebtoken::{EncodingKey, Header};

    use super::*;
    use crate::keys::Key;

    fn key(kid: &str, byte: u8) -> Key {
        Key::for_tests(kid, [byte; 32])
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    #[test]
    fn a_token_verifies_with_the_key_its_kid_names() {
        let (old, new) = (key("old", 1), key("new", 2));
        let token = issue(&old, "u1", "alice", "cashier", now()).unwrap();
        let claims = verify(&token, &[new.clone(), old]).unwrap();
        assert_eq!(
            (claims.sub.as_str(), claims.role.as_str()),
            ("u1", "cashier")
        );
        assert!(verify(&token, &[new]).is_err(), "unknown kid");
    }

    #[test]
    fn expired_tampered_none_and_hmac_tokens_are_rejected() {
        let k = key("k", 3);
        let expired = issue(&k, "u1", "alice", "admin", now() - 3600).unwrap();
        assert!(verify(&expired, std::slice::from_ref(&k)).is_err());

        let token = issue(&k, "u1", "alice", "cashier", now()).unwrap();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let forged_claims = serde_json::json!({"sub": "u1", "name": "alice", "role": "admin", "iss": ISSUER, "iat": now(), "exp": now() + 60});
        parts[1] = URL_SAFE_NO_PAD.encode(forged_claims.to_string());
        assert!(
            verify(&parts.join("."), std::slice::from_ref(&k)).is_err(),
            "a changed payload fails the signature"
        );

        let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"k","typ":"JWT"}"#);
        let unsigned = format!("{none_header}.{}.", parts[1]);
        assert!(
            verify(&unsigned, std::slice::from_ref(&k)).is_err(),
            "alg none"
        );

        // HS256 keyed with the public key, the classic confusion attack.
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k".into());
        let public = k.jwk()["x"].as_str().unwrap().to_owned();
        let hmac = jsonwebtoken::encode(
            &header,
            &forged_claims,
            &EncodingKey::from_secret(public.as_bytes()),
        )
        .unwrap();
        assert!(verify(&hmac, &[k]).is_err(), "HS256");
    }
}
