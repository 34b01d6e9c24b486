//! Access tokens: EdDSA JWTs with the user's id, name and role, short-lived. Verification
//! is `tillstream_access`'s, shared by every process.

use std::time::Duration;

use jsonwebtoken::{Algorithm, Header};
use tillstream_access::{APPROVAL_TTL_SECONDS, ApprovalClaims, Claims, ISSUER, Role};

use crate::keys::Key;

/// How long an access token lives.
pub const ACCESS_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);

pub fn issue(
    key: &Key,
    user_id: &str,
    username: &str,
    role: Role,
    locations: &[String],
    now_unix: i64,
) -> Result<String, jsonwebtoken::errors::Error> {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(key.kid.clone());
    let ttl = i64::try_from(ACCESS_TOKEN_TTL.as_secs()).unwrap_or(900);
    let claims = Claims {
        sub: user_id.to_owned(),
        name: username.to_owned(),
        role,
        locations: locations.to_vec(),
        iss: ISSUER.to_owned(),
        iat: now_unix,
        exp: now_unix + ttl,
    };
    jsonwebtoken::encode(&header, &claims, &key.encoding_key())
}

/// An approval token: the approver, the action, the approval's id, for 120 s.
pub fn issue_approval(
    key: &Key,
    approver: &ApproverRef<'_>,
    action: &str,
    approval_id: &str,
    now_unix: i64,
) -> Result<String, jsonwebtoken::errors::Error> {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(key.kid.clone());
    let claims = ApprovalClaims {
        sub: approver.id.to_owned(),
        name: approver.username.to_owned(),
        role: approver.role,
        act: action.to_owned(),
        jti: approval_id.to_owned(),
        iss: ISSUER.to_owned(),
        iat: now_unix,
        exp: now_unix + APPROVAL_TTL_SECONDS,
    };
    jsonwebtoken::encode(&header, &claims, &key.encoding_key())
}

/// Who approves.
#[derive(Debug, Clone, Copy)]
pub struct ApproverRef<'a> {
    pub id: &'a str,
    pub username: &'a str,
    pub role: Role,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use tillstream_access::KeySet;

    use super::*;

    #[test]
    fn an_issued_token_verifies_against_the_published_key_set() {
        let key = Key::for_tests("k1", [7; 32]);
        let jwks = serde_json::json!({"keys": [key.jwk()]}).to_string();
        let token = issue(
            &key,
            "u1",
            "alice",
            Role::Manager,
            &["01JD5W2N8Q3V6R1T4Y7U0I9O2P".to_owned()],
            chrono::Utc::now().timestamp(),
        )
        .unwrap();
        let claims = KeySet::from_jwks(&jwks).unwrap().verify(&token).unwrap();
        assert_eq!(
            (claims.name.as_str(), claims.role),
            ("alice", Role::Manager)
        );
        assert!(claims.may_act_at("01JD5W2N8Q3V6R1T4Y7U0I9O2P"));
        assert!(!claims.may_act_at("01JD5W2N8Q3V6R1T4Y7U0I9O2Q"));
    }
}
