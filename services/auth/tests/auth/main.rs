//! The auth service over gRPC against the real PostgreSQL and NATS.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use tillstream_access::Claims;
use tillstream_auth::{DEFAULT_ADDR, SERVICE, Settings, serve};
use tillstream_proto::auth::v1 as pb;
use tillstream_proto::auth::v1::auth_service_client::AuthServiceClient;
use tillstream_service::grpc::field_of;
use tillstream_test_support::{TestDatabase, TestPrefix, eventually, stack_env, unique_name};
use tokio_util::sync::CancellationToken;
use tonic::Code;
use tonic::transport::Channel;

struct Running {
    client: AuthServiceClient<Channel>,
    stop: CancellationToken,
    _prefix: TestPrefix,
    _db: TestDatabase,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn start() -> Running {
    let prefix = TestPrefix::new();
    let settings = Settings::from_lookup(
        SERVICE,
        DEFAULT_ADDR,
        stack_env(&prefix.prefix, &unique_name("tst")),
    )
    .unwrap();
    let db = TestDatabase {
        server_url: settings.database_url.clone(),
        name: settings.database.clone(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let stop = CancellationToken::new();
    tokio::spawn(serve(
        settings,
        tillstream_auth::AuthOptions::with_admin_password("correct horse battery"),
        listener,
        stop.clone(),
    ));
    let client = eventually("auth answers", || {
        let url = url.clone();
        async move {
            let mut client = AuthServiceClient::connect(url).await.ok()?;
            client.get_jwks(pb::GetJwksRequest {}).await.ok()?;
            Some(client)
        }
    })
    .await;
    Running {
        client,
        stop,
        _prefix: prefix,
        _db: db,
    }
}

fn login(username: &str, password: &str) -> pb::LoginRequest {
    pb::LoginRequest {
        username: username.into(),
        password: password.into(),
    }
}

#[tokio::test]
async fn the_bootstrap_admin_logs_in_and_its_token_verifies_against_the_jwks() {
    let mut auth = start().await;
    let tokens = auth
        .client
        .login(login("admin", "correct horse battery"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (tokens.token_type.as_str(), tokens.expires_in),
        ("Bearer", 900)
    );

    let jwks: JwkSet = serde_json::from_str(
        &auth
            .client
            .get_jwks(pb::GetJwksRequest {})
            .await
            .unwrap()
            .into_inner()
            .json,
    )
    .unwrap();
    let header = jsonwebtoken::decode_header(&tokens.access_token).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    let jwk = jwks.find(header.kid.as_deref().unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&["tillstream"]);
    let claims = jsonwebtoken::decode::<Claims>(
        &tokens.access_token,
        &DecodingKey::from_jwk(jwk).unwrap(),
        &validation,
    )
    .unwrap()
    .claims;
    assert_eq!(
        (claims.name.as_str(), claims.role.as_str()),
        ("admin", "admin")
    );
}

#[tokio::test]
async fn bad_credentials_all_get_the_same_answer() {
    let mut auth = start().await;
    for (user, password) in [
        ("admin", "wrong password"),
        ("nobody", "correct horse battery"),
        ("a b", "x"),
    ] {
        let status = auth.client.login(login(user, password)).await.unwrap_err();
        assert_eq!(
            (status.code(), status.message()),
            (Code::Unauthenticated, "unknown user or wrong password")
        );
    }
}

/// A request carrying `token` as its bearer, as the gateway forwards it.
fn as_user<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

/// A login from client address `addr`.
fn from_addr(message: pb::LoginRequest, addr: &str) -> tonic::Request<pb::LoginRequest> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("x-client-addr", addr.parse().unwrap());
    request
}

fn create(username: &str, password: &str, role: &str) -> pb::CreateUserRequest {
    pb::CreateUserRequest {
        username: username.into(),
        password: password.into(),
        role: role.into(),
    }
}

impl Running {
    async fn tokens(&mut self, username: &str, password: &str) -> pb::Tokens {
        self.client
            .login(login(username, password))
            .await
            .unwrap()
            .into_inner()
    }

    async fn admin(&mut self) -> String {
        self.tokens("admin", "correct horse battery")
            .await
            .access_token
    }

    async fn user(&mut self, username: &str, role: &str) -> pb::User {
        let admin = self.admin().await;
        self.client
            .create_user(as_user(create(username, "till password", role), &admin))
            .await
            .unwrap()
            .into_inner()
    }
}

#[tokio::test]
async fn users_are_created_by_an_admin_with_a_role_and_unique_names() {
    let mut auth = start().await;
    let admin = auth.admin().await;
    let cashier = auth
        .client
        .create_user(as_user(create("Carol", "till password", "cashier"), &admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (cashier.username.as_str(), cashier.role.as_str()),
        ("carol", "cashier")
    );
    let carol = auth.tokens("carol", "till password").await.access_token;

    let no_token = auth
        .client
        .create_user(create("eve", "long enough", "admin"))
        .await
        .unwrap_err();
    assert_eq!(no_token.code(), Code::Unauthenticated);
    let as_cashier = auth
        .client
        .create_user(as_user(create("eve", "long enough", "admin"), &carol))
        .await
        .unwrap_err();
    assert_eq!(as_cashier.code(), Code::PermissionDenied);
    let forged = auth
        .client
        .create_user(as_user(create("eve", "long enough", "admin"), "a.b.c"))
        .await
        .unwrap_err();
    assert_eq!(forged.code(), Code::Unauthenticated);

    let cases = [
        (
            create("carol", "another password", "cashier"),
            Code::AlreadyExists,
            "username",
        ),
        (
            create("dave", "short", "cashier"),
            Code::InvalidArgument,
            "password",
        ),
        (
            create("dave", "long enough", "root"),
            Code::InvalidArgument,
            "role",
        ),
        (
            create("d", "long enough", "cashier"),
            Code::InvalidArgument,
            "username",
        ),
    ];
    for (request, code, field) in cases {
        let status = auth
            .client
            .create_user(as_user(request, &admin))
            .await
            .unwrap_err();
        assert_eq!(
            (status.code(), field_of(&status)),
            (code, Some(field)),
            "{}",
            status.message()
        );
    }
    let listed = auth
        .client
        .list_users(as_user(pb::ListUsersRequest {}, &admin))
        .await
        .unwrap()
        .into_inner()
        .users;
    let names: Vec<&str> = listed.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, ["admin", "carol"]);
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reusing_a_spent_one_revokes_the_family() {
    let mut auth = start().await;
    auth.user("carol", "cashier").await;
    let first = auth.tokens("carol", "till password").await;
    assert!(!first.refresh_token.is_empty());
    let refresh = |token: &str| pb::RefreshRequest {
        refresh_token: token.into(),
    };
    let second = auth
        .client
        .refresh(refresh(&first.refresh_token))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(second.refresh_token, first.refresh_token);
    assert!(!second.access_token.is_empty());

    // The spent token again: refused, and the live one of its family dies with it.
    let reused = auth
        .client
        .refresh(refresh(&first.refresh_token))
        .await
        .unwrap_err();
    assert_eq!(reused.code(), Code::Unauthenticated);
    let after = auth
        .client
        .refresh(refresh(&second.refresh_token))
        .await
        .unwrap_err();
    assert_eq!(after.code(), Code::Unauthenticated, "the family is revoked");

    // Another session of the same user is untouched; logging it out ends it.
    let other = auth.tokens("carol", "till password").await;
    auth.client
        .logout(as_user(
            pb::LogoutRequest {
                refresh_token: other.refresh_token.clone(),
            },
            &other.access_token,
        ))
        .await
        .unwrap();
    let logged_out = auth
        .client
        .refresh(refresh(&other.refresh_token))
        .await
        .unwrap_err();
    assert_eq!(logged_out.code(), Code::Unauthenticated);
    assert_eq!(
        auth.client
            .refresh(refresh("made-up"))
            .await
            .unwrap_err()
            .code(),
        Code::Unauthenticated
    );
}

#[tokio::test]
async fn a_disabled_user_cannot_log_in_or_refresh_and_a_new_password_ends_sessions() {
    let mut auth = start().await;
    let carol = auth.user("carol", "cashier").await;
    let session = auth.tokens("carol", "till password").await;
    let admin = auth.admin().await;
    let update = |disabled: Option<bool>, password: Option<&str>| pb::UpdateUserRequest {
        id: carol.id.clone(),
        role: None,
        disabled,
        password: password.map(str::to_owned),
    };
    let disabled = auth
        .client
        .update_user(as_user(update(Some(true), None), &admin))
        .await
        .unwrap()
        .into_inner();
    assert!(disabled.disabled);
    let refused = auth
        .client
        .login(login("carol", "till password"))
        .await
        .unwrap_err();
    assert_eq!(
        (refused.code(), refused.message()),
        (Code::Unauthenticated, "unknown user or wrong password")
    );
    let refresh = auth
        .client
        .refresh(pb::RefreshRequest {
            refresh_token: session.refresh_token,
        })
        .await
        .unwrap_err();
    assert_eq!(refresh.code(), Code::Unauthenticated);

    auth.client
        .update_user(as_user(update(Some(false), None), &admin))
        .await
        .unwrap();
    let session = auth.tokens("carol", "till password").await;
    auth.client
        .update_user(as_user(update(None, Some("a new till password")), &admin))
        .await
        .unwrap();
    assert!(
        auth.client
            .refresh(pb::RefreshRequest {
                refresh_token: session.refresh_token,
            })
            .await
            .is_err(),
        "a new password ends the old sessions"
    );
    auth.tokens("carol", "a new till password").await;

    let promoted = auth
        .client
        .update_user(as_user(
            pb::UpdateUserRequest {
                id: carol.id.clone(),
                role: Some("manager".into()),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(promoted.role, "manager");
    let missing = auth
        .client
        .update_user(as_user(
            pb::UpdateUserRequest {
                id: "01JD0000000000000000000000".into(),
                disabled: Some(true),
                ..Default::default()
            },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
}

#[tokio::test]
async fn repeated_failures_lock_a_username_and_an_address_and_success_resets() {
    let mut auth = start().await;
    auth.user("carol", "cashier").await;
    // Four failures, a success, four more: never locked, the success reset the count.
    for round in 0..2 {
        for _ in 0..4 {
            let status = auth
                .client
                .login(login("carol", "wrong password"))
                .await
                .unwrap_err();
            assert_eq!(status.code(), Code::Unauthenticated, "round {round}");
        }
        if round == 0 {
            auth.tokens("carol", "till password").await;
        }
    }
    // The fifth failure in a row locks: even the right password is refused for a while.
    auth.client
        .login(login("carol", "wrong password"))
        .await
        .unwrap_err();
    let locked = auth
        .client
        .login(login("carol", "till password"))
        .await
        .unwrap_err();
    assert_eq!(locked.code(), Code::ResourceExhausted);
    let retry_after: u64 = locked
        .metadata()
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    // An unknown name locks the same way, so lockout tells nothing about which names exist.
    for _ in 0..5 {
        auth.client
            .login(login("nobody", "wrong password"))
            .await
            .unwrap_err();
    }
    let unknown = auth
        .client
        .login(login("nobody", "wrong password"))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::ResourceExhausted);

    // Twenty failures from one address, spread over names: that address is locked out,
    // another is not.
    for i in 0..20 {
        auth.client
            .login(from_addr(login(&format!("guess{i}"), "x"), "192.0.2.7"))
            .await
            .unwrap_err();
    }
    auth.user("dave", "cashier").await;
    let from_bad = auth
        .client
        .login(from_addr(login("dave", "till password"), "192.0.2.7"))
        .await
        .unwrap_err();
    assert_eq!(from_bad.code(), Code::ResourceExhausted);
    auth.client
        .login(from_addr(login("dave", "till password"), "198.51.100.1"))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_manager_sets_a_cashiers_pin_and_the_till_logs_in_with_it() {
    let mut auth = start().await;
    let carol = auth.user("carol", "cashier").await;
    auth.user("morgan", "manager").await;
    let manager = auth.tokens("morgan", "till password").await.access_token;
    let pin = |id: &str, pin: &str| pb::SetPinRequest {
        id: id.into(),
        pin: pin.into(),
    };
    let pin_login = |pin: &str| pb::PinLoginRequest {
        username: "carol".into(),
        pin: pin.into(),
    };
    let before = auth.client.pin_login(pin_login("4821")).await.unwrap_err();
    assert_eq!(before.code(), Code::Unauthenticated, "no PIN set yet");

    let bad = auth
        .client
        .set_pin(as_user(pin(&carol.id, "12a4"), &manager))
        .await
        .unwrap_err();
    assert_eq!(
        (bad.code(), field_of(&bad)),
        (Code::InvalidArgument, Some("pin"))
    );
    let with_pin = auth
        .client
        .set_pin(as_user(pin(&carol.id, "4821"), &manager))
        .await
        .unwrap()
        .into_inner();
    assert!(with_pin.has_pin);
    let tokens = auth
        .client
        .pin_login(pin_login("4821"))
        .await
        .unwrap()
        .into_inner();
    assert!(!tokens.access_token.is_empty() && !tokens.refresh_token.is_empty());
    let wrong = auth.client.pin_login(pin_login("1111")).await.unwrap_err();
    assert_eq!(wrong.code(), Code::Unauthenticated);

    let admin = auth.admin().await;
    let admin_id = auth
        .client
        .list_users(as_user(pb::ListUsersRequest {}, &admin))
        .await
        .unwrap()
        .into_inner()
        .users
        .into_iter()
        .find(|u| u.username == "admin")
        .unwrap()
        .id;
    let above = auth
        .client
        .set_pin(as_user(pin(&admin_id, "4821"), &manager))
        .await
        .unwrap_err();
    assert_eq!(above.code(), Code::PermissionDenied);
    let carol_token = tokens.access_token;
    let as_cashier = auth
        .client
        .set_pin(as_user(pin(&carol.id, "9999"), &carol_token))
        .await
        .unwrap_err();
    assert_eq!(as_cashier.code(), Code::PermissionDenied);
}

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
    let pool = auth._db.pool(1).await.unwrap();
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
    let pool = auth._db.pool(1).await.unwrap();
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
    let prefix = TestPrefix::new();
    let settings = Settings::from_lookup(
        SERVICE,
        DEFAULT_ADDR,
        stack_env(&prefix.prefix, &unique_name("tst")),
    )
    .unwrap();
    let _db = TestDatabase {
        server_url: settings.database_url.clone(),
        name: settings.database.clone(),
    };
    let seed = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
    let expected = tillstream_auth::keys::parse_configured(seed).unwrap().kid;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let stop = CancellationToken::new();
    let options = tillstream_auth::AuthOptions {
        admin_password: Some("correct horse battery".into()),
        signing_key: Some(seed.into()),
    };
    tokio::spawn(serve(settings, options, listener, stop.clone()));
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
    stop.cancel();
}
