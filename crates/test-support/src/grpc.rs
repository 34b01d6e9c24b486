//! Calling the services the way the gateway does: with an access token in the
//! `authorization` metadata. The services under test trust one fixed test key
//! (`TILLSTREAM_JWKS` from `stack_env`), and test clients carry a token it signed.

use tillstream_access::Role;
use tillstream_access::testing::TestSigner;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

/// The key test tokens are signed with.
pub const SIGNER: TestSigner = TestSigner::new("test-support", [42; 32]);

/// The key set the services under test trust (`TILLSTREAM_JWKS`).
pub fn test_jwks() -> String {
    serde_json::json!({"keys": [SIGNER.jwk()]}).to_string()
}

/// Adds `authorization: Bearer <token>` to every call.
#[derive(Debug, Clone)]
pub struct Bearer(Option<MetadataValue<Ascii>>);

impl Bearer {
    pub fn new(role: Role) -> Self {
        Bearer(format!("Bearer {}", SIGNER.token(role)).parse().ok())
    }
}

impl Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// A channel whose calls carry a token of `role`.
pub type Authed = InterceptedService<Channel, Bearer>;

pub fn authed(channel: Channel, role: Role) -> Authed {
    InterceptedService::new(channel, Bearer::new(role))
}

/// Connects to `url` as an admin; `None` while nothing answers there.
pub async fn connect_as_admin(url: String) -> Option<Authed> {
    let channel = Channel::from_shared(url).ok()?.connect().await.ok()?;
    Some(authed(channel, Role::Admin))
}
