//! The auth service: users with roles and Argon2id credentials, EdDSA access tokens signed
//! with a key kept in its database, and the JWKS every service verifies tokens with. On
//! first start it creates the bootstrap admin.

pub mod api;
pub mod commands;
pub mod domain;
pub mod error;
pub mod keys;
pub mod projections;
pub mod tokens;

use std::sync::Arc;

use sqlx::migrate::Migrator;
use tillstream_eventstore::{EventMetadata, EventStore};
use tillstream_proto::auth::v1::auth_service_server::AuthServiceServer;
use tillstream_service::{FetchKeys, Process, guard_with};
pub use tillstream_service::{Launch, ServiceSettings as Settings, StartError};

use crate::api::events::AuthWire;
use crate::api::grpc::AuthApi;
use crate::domain::user::Role;

/// The auth service's own tables (after the event store's).
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/auth");

pub const SERVICE: &str = "auth";

/// Where auth listens unless `TILLSTREAM_AUTH_ADDR` says otherwise.
pub const DEFAULT_ADDR: &str = tillstream_service::addrs::AUTH;

/// What auth reads from the environment beyond the common settings.
#[derive(Clone, Default)]
pub struct AuthOptions {
    /// `TILLSTREAM_ADMIN_PASSWORD`: the bootstrap admin's; generated and printed once when
    /// unset.
    pub admin_password: Option<String>,
    /// `TILLSTREAM_SIGNING_KEY` or the contents of `TILLSTREAM_SIGNING_KEY_FILE`: the key
    /// that signs; without one a key is generated once and kept in the auth database.
    pub signing_key: Option<String>,
}

impl std::fmt::Debug for AuthOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets are never printed.
        f.debug_struct("AuthOptions")
            .field("admin_password", &self.admin_password.as_ref().map(|_| "…"))
            .field("signing_key", &self.signing_key.as_ref().map(|_| "…"))
            .finish()
    }
}

impl AuthOptions {
    /// From the environment; an unreadable key file is an error naming the variable.
    pub fn from_env() -> Result<Self, StartError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let signing_key = match (
            var("TILLSTREAM_SIGNING_KEY"),
            var("TILLSTREAM_SIGNING_KEY_FILE"),
        ) {
            (Some(key), _) => Some(key),
            (None, Some(path)) => Some(std::fs::read_to_string(&path).map_err(|e| {
                StartError::Setup(format!("TILLSTREAM_SIGNING_KEY_FILE: {path}: {e}"))
            })?),
            (None, None) => None,
        };
        Ok(AuthOptions {
            admin_password: var("TILLSTREAM_ADMIN_PASSWORD"),
            signing_key,
        })
    }

    /// Only the bootstrap admin's password.
    pub fn with_admin_password(password: impl Into<String>) -> Self {
        AuthOptions {
            admin_password: Some(password.into()),
            signing_key: None,
        }
    }
}

/// Runs the service on `listener` until `shutdown`.
pub async fn serve(launch: Launch, options: AuthOptions) -> Result<(), StartError> {
    let mut process = Process::connect(launch, &MIGRATOR).await?;
    let store = process.store.clone();
    if let Some(password) = bootstrap(&store, options).await? {
        // Printed once, to the console only, never logged.
        println!("tillstream: created user `admin` with password {password}");
    }
    process.relay(Arc::new(AuthWire));
    // Auth verifies tokens with its own keys, read from its database, not fetched from
    // itself.
    let own_keys: FetchKeys = {
        let pool = process.pool.clone();
        Arc::new(move || {
            let pool = pool.clone();
            Box::pin(async move {
                let keys = keys::all(&pool).await.map_err(|e| e.to_string())?;
                Ok(keys::jwks(&keys).to_string())
            })
        })
    };
    let grpc = tonic::service::Routes::new(AuthServiceServer::new(AuthApi { store }));
    process
        .serve(guard_with(grpc.into_axum_router(), own_keys))
        .await
}

/// What auth needs before it can answer: its signing key (the configured one installed, or
/// one generated once) and, when no user exists yet, `admin` with the configured password or
/// a generated one, which is returned (to be shown once). `tillstream up` calls this before
/// it starts the service, to print that password.
pub async fn bootstrap(
    store: &EventStore,
    options: AuthOptions,
) -> Result<Option<String>, StartError> {
    let key = match &options.signing_key {
        Some(text) => {
            let key = keys::parse_configured(text)
                .map_err(|e| StartError::Setup(format!("TILLSTREAM_SIGNING_KEY: {e}")))?;
            keys::install(store.pool(), &key).await
        }
        None => keys::current(store.pool()).await,
    };
    key.map_err(|e| StartError::Setup(format!("signing key: {e}")))?;
    bootstrap_admin(store, options.admin_password).await
}

/// Creates `admin` if no user exists yet; the password when it was generated.
async fn bootstrap_admin(
    store: &EventStore,
    password: Option<String>,
) -> Result<Option<String>, StartError> {
    let exists = projections::users::any(store.pool())
        .await
        .map_err(|e| StartError::Store(e.into()))?;
    if exists {
        return Ok(None);
    }
    let (password, generated) = match password {
        Some(password) => (password, false),
        None => (
            generate_password().map_err(|e| StartError::Setup(format!("randomness: {e}")))?,
            true,
        ),
    };
    let metadata = EventMetadata {
        actor: Some("bootstrap".into()),
        ..Default::default()
    };
    match commands::register_user::register_user(
        store,
        "admin",
        &password,
        Role::Admin,
        &[],
        metadata,
    )
    .await
    {
        Ok(_) => Ok(generated.then_some(password)),
        // Another instance bootstrapped at the same moment.
        Err(error::AppError::Store(tillstream_eventstore::StoreError::Duplicate { .. })) => {
            Ok(None)
        }
        Err(error) => Err(StartError::Setup(format!("bootstrap admin: {error}"))),
    }
}

fn generate_password() -> Result<String, getrandom::Error> {
    use base64::Engine;
    let mut bytes = [0u8; 18];
    getrandom::getrandom(&mut bytes)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}
