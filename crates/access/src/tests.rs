#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, Header};

use super::*;
use crate::testing::TestSigner;

fn keys(keys: &[&TestSigner]) -> KeySet {
    let jwks = serde_json::json!({"keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>()});
    KeySet::from_jwks(&jwks.to_string()).unwrap()
}

fn claims(role: &str, exp_in: i64) -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    serde_json::json!({"sub": "u1", "name": "alice", "role": role, "iss": ISSUER, "iat": now, "exp": now + exp_in})
}

const OLD: TestSigner = TestSigner::new("old", [1; 32]);
const NEW: TestSigner = TestSigner::new("new", [2; 32]);

#[test]
fn a_token_verifies_with_the_key_its_kid_names() {
    let token = OLD.sign(&claims("cashier", 60));
    let verified = keys(&[&NEW, &OLD]).verify(&token).unwrap();
    assert_eq!(
        (verified.sub.as_str(), verified.role),
        ("u1", Role::Cashier)
    );
    assert!(keys(&[&NEW]).verify(&token).unwrap_err().is_unknown_key());
}

#[test]
fn expired_tampered_none_and_hmac_tokens_are_refused() {
    let set = keys(&[&OLD]);
    assert!(matches!(
        set.verify(&OLD.sign(&claims("admin", -3600))),
        Err(TokenError::Expired)
    ));

    let token = OLD.sign(&claims("cashier", 60));
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let forged = claims("admin", 60);
    parts[1] = URL_SAFE_NO_PAD.encode(forged.to_string());
    assert!(set.verify(&parts.join(".")).is_err(), "a changed payload");

    let none = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"old","typ":"JWT"}"#);
    assert!(
        set.verify(&format!("{none}.{}.", parts[1])).is_err(),
        "alg none"
    );

    // HS256 keyed with the public key, the classic confusion attack.
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("old".into());
    let hmac = jsonwebtoken::encode(
        &header,
        &forged,
        &EncodingKey::from_secret(OLD.x().as_bytes()),
    )
    .unwrap();
    assert!(
        matches!(set.verify(&hmac), Err(TokenError::WrongAlgorithm)),
        "HS256"
    );

    let mut foreign = claims("admin", 60);
    foreign["iss"] = "someone-else".into();
    assert!(set.verify(&OLD.sign(&foreign)).is_err(), "another issuer");
    assert!(
        set.verify(&OLD.sign(&claims("owner", 60))).is_err(),
        "an unknown role"
    );
    assert!(set.verify("not a token").is_err());
}

#[test]
fn roles_are_ordered_and_parse_from_their_names() {
    assert!(Role::Admin.allows(Role::Manager) && Role::Manager.allows(Role::Cashier));
    assert!(!Role::Cashier.allows(Role::Manager));
    for role in Role::ALL {
        assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
    }
    assert!("root".parse::<Role>().is_err());
}

#[test]
fn a_jwks_with_garbage_is_an_error_and_other_key_kinds_are_skipped() {
    assert!(KeySet::from_jwks("{").is_err());
    let rsa = serde_json::json!({"keys": [{"kty": "RSA", "kid": "r", "n": "x", "e": "AQAB"}]});
    assert!(KeySet::from_jwks(&rsa.to_string()).unwrap().is_empty());
}
