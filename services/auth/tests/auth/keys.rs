//! Passwords rehashed with current parameters, key rotation and configured signing keys.

use jsonwebtoken::jwk::JwkSet;
use tillstream_auth::{SERVICE, serve};
use tillstream_proto::auth::v1 as pb;
use tillstream_proto::auth::v1::auth_service_client::AuthServiceClient;
use tillstream_test_support::{TestStack, eventually};

use crate::{Running, as_user, login, start};

#[tokio::test]
async fn a_password_hashed_with_old_parameters_is_rehashed_at_login() {
    use argon2::password_hash::PasswordHasher;
    use tillstream_auth::commands::login::needs_rehash;

    let mut auth = start().await;
    auth.user("carol", "cashier").await;
    // As if hashed years ago, with weaker parameters.
    let params = argon2::Params::new(4096, 3, 1, None).unwrap();
    let old = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password(b"till password")
        .unwrap()
        .to_string();
    assert!(needs_rehash(&old));
    let pool = auth.services.database(SERVICE).await;
    sqlx::query("UPDATE users SET password_hash = $1 WHERE username = 'carol'")
        .bind(&old)
        .execute(&pool)
        .await
        .unwrap();

    let session = auth.tokens("carol", "till password").await;
    let stored: String =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE username = 'carol'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_ne!(stored, old);
    assert!(!needs_rehash(&stored), "{stored}");
    // Not a new password: the session lives on, and the password still works.
    auth.client
        .refresh(pb::RefreshRequest {
            refresh_token: session.refresh_token,
        })
        .await
        .unwrap();
    auth.tokens("carol", "till password").await;
    pool.close().await;
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

async fn jwks_kids(auth: &mut Running) -> Vec<String> {
    let json = auth
        .client
        .get_jwks(pb::GetJwksRequest {})
        .await
        .unwrap()
        .into_inner()
        .json;
    let set: JwkSet = serde_json::from_str(&json).unwrap();
    set.keys
        .iter()
        .map(|k| k.common.key_id.clone().unwrap())
        .collect()
}

#[tokio::test]
async fn after_a_rotation_the_new_key_signs_and_the_old_verifies_until_its_tokens_expire() {
    let mut auth = start().await;
    let before = auth.admin().await;
    let pool = auth.services.database(SERVICE).await;
    let rotated = tillstream_auth::keys::rotate(&pool).await.unwrap();
    let after = auth.admin().await;
    assert_eq!(kid_of(&after), rotated.kid);
    assert_ne!(kid_of(&before), rotated.kid);
    let kids = jwks_kids(&mut auth).await;
    assert_eq!(kids, [rotated.kid.clone(), kid_of(&before)], "newest first");
    // The old token still works where tokens are checked.
    auth.client
        .list_users(as_user(pb::ListUsersRequest {}, &before))
        .await
        .unwrap();

    // Once the old key was superseded longer ago than a token lives, it leaves the set.
    sqlx::query(
        "UPDATE signing_keys SET activated_at = now() - CASE WHEN kid = $1 THEN interval '17 minutes' ELSE interval '1 hour' END",
    )
    .bind(&rotated.kid)
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(
        jwks_kids(&mut auth).await,
        std::slice::from_ref(&rotated.kid)
    );
    // A verifier that fetches the set now no longer knows the old key. (Verifiers that saw
    // the token before remember it only until it expires, which in real time is by now.)
    let json = auth
        .client
        .get_jwks(pb::GetJwksRequest {})
        .await
        .unwrap()
        .into_inner()
        .json;
    let fresh = tillstream_access::KeySet::from_jwks(&json).unwrap();
    assert!(fresh.verify(&before).unwrap_err().is_unknown_key());
    assert!(fresh.verify(&after).is_ok());
    pool.close().await;
}

#[tokio::test]
async fn a_configured_signing_key_signs_under_a_kid_derived_from_it() {
    let mut services = TestStack::new();
    let seed = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
    let expected = tillstream_auth::keys::parse_configured(seed).unwrap().kid;
    let url = services
        .start(SERVICE, |launch| {
            let options = tillstream_auth::AuthOptions {
                admin_password: Some("correct horse battery".into()),
                signing_key: Some(seed.into()),
            };
            serve(launch, options)
        })
        .await;
    let mut client = eventually("auth answers", || {
        let url = url.clone();
        async move { AuthServiceClient::connect(url).await.ok() }
    })
    .await;
    let tokens = eventually("admin logs in", || {
        let mut client = client.clone();
        async move {
            client
                .login(login("admin", "correct horse battery"))
                .await
                .ok()
        }
    })
    .await
    .into_inner();
    assert_eq!(kid_of(&tokens.access_token), expected);
    assert!(expected.starts_with("cfg-"));
    client.get_jwks(pb::GetJwksRequest {}).await.unwrap();
}
