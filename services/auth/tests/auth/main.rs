//! The auth service over gRPC against the real PostgreSQL and NATS.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use tillstream_access::Claims;
use tillstream_auth::{AuthOptions, SERVICE, serve};
use tillstream_proto::auth::v1 as pb;
use tillstream_proto::auth::v1::auth_service_client::AuthServiceClient;
use tillstream_service::grpc::field_of;
use tillstream_test_support::{TestStack, eventually};
use tonic::Code;
use tonic::transport::Channel;

mod keys;
mod sessions;

struct Running {
    client: AuthServiceClient<Channel>,
    services: TestStack,
}

async fn start() -> Running {
    let mut services = TestStack::new();
    let url = services
        .start(SERVICE, |launch| {
            let options = AuthOptions::with_admin_password("correct horse battery");
            serve(launch, options)
        })
        .await;
    let client = eventually("auth answers", || {
        let url = url.clone();
        async move {
            let mut client = AuthServiceClient::connect(url).await.ok()?;
            client.get_jwks(pb::GetJwksRequest {}).await.ok()?;
            Some(client)
        }
    })
    .await;
    Running { client, services }
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

    let header = jsonwebtoken::decode_header(&tokens.access_token).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    let claims = auth.verified(&tokens.access_token).await;
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
        location_ids: Vec::new(),
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

impl Running {
    /// The claims of `token`, verified against the service's published key set.
    async fn verified(&mut self, token: &str) -> Claims {
        let jwks = self
            .client
            .get_jwks(pb::GetJwksRequest {})
            .await
            .unwrap()
            .into_inner()
            .json;
        let jwks: JwkSet = serde_json::from_str(&jwks).unwrap();
        let header = jsonwebtoken::decode_header(token).unwrap();
        let jwk = jwks.find(header.kid.as_deref().unwrap()).unwrap();
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&["tillstream"]);
        jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
            .unwrap()
            .claims
    }
}

#[tokio::test]
async fn a_users_locations_are_kept_and_carried_in_their_tokens() {
    let mut auth = start().await;
    let admin = auth.admin().await;
    let store = "01JD5W2N8Q3V6R1T4Y7Z0A9B2C".to_owned();
    let mut request = create("dora", "till password", "cashier");
    request.location_ids = vec![store.to_lowercase(), store.clone()];
    let dora = auth
        .client
        .create_user(as_user(request, &admin))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(dora.location_ids, vec![store.clone()]);
    let token = auth.tokens("dora", "till password").await.access_token;
    assert_eq!(auth.verified(&token).await.locations, vec![store.clone()]);

    let update = |ids: Vec<String>| pb::UpdateUserRequest {
        id: dora.id.clone(),
        location_ids: Some(pb::LocationIds { ids }),
        ..Default::default()
    };
    let everywhere = auth
        .client
        .update_user(as_user(update(Vec::new()), &admin))
        .await
        .unwrap()
        .into_inner();
    assert!(everywhere.location_ids.is_empty());
    let token = auth.tokens("dora", "till password").await.access_token;
    assert!(auth.verified(&token).await.locations.is_empty());

    let mut bad = create("eli", "till password", "cashier");
    bad.location_ids = vec!["store-1".into()];
    for status in [
        auth.client
            .create_user(as_user(bad, &admin))
            .await
            .unwrap_err(),
        auth.client
            .update_user(as_user(update(vec!["store-1".into()]), &admin))
            .await
            .unwrap_err(),
    ] {
        assert_eq!(
            (status.code(), field_of(&status)),
            (Code::InvalidArgument, Some("location_ids"))
        );
    }
}
