//! The catalog service: products with their SKU, barcodes, price and tax rate. It appends
//! product events to its own store, keeps its `products` read model in the same
//! transaction, relays the events to `<prefix>_catalog`, and serves gRPC and the
//! operations endpoints on one port.

pub mod api;
pub mod commands;
pub mod domain;
pub mod projections;
pub mod settings;

use std::sync::Arc;

use sqlx::PgPool;
use sqlx::migrate::Migrator;
use tillstream_eventstore::{DatabaseConfig, EventStore, StoreError};
use tillstream_messaging::{Relay, RelayConfig};
use tillstream_proto::catalog::v1::catalog_service_server::CatalogServiceServer;
use tillstream_telemetry::{Dependency, Probe, install_metrics, ops_router};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::api::events::CatalogWire;
use crate::api::grpc::CatalogApi;
pub use crate::settings::Settings;

/// The catalog's own tables (after the event store's).
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/catalog");

pub const SERVICE: &str = "catalog";

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("NATS: {0}")]
    Nats(String),
    #[error("listening: {0}")]
    Io(#[from] std::io::Error),
}

/// Runs the service on `listener` until `shutdown`, then drains in-flight requests.
pub async fn serve(
    settings: Settings,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> Result<(), StartError> {
    let pool = tillstream_eventstore::connect(&DatabaseConfig::new(
        &settings.database_url,
        &settings.database,
    ))
    .await?;
    MIGRATOR.run(&pool).await?;
    let store = EventStore::new(pool.clone());
    // NATS being down must not stop the service: commands still succeed and the relay
    // catches up, so the client connects in the background.
    let nats = async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connect(&settings.nats_url)
        .await
        .map_err(|e| StartError::Nats(e.to_string()))?;

    let relay = Relay::new(
        store.clone(),
        nats.clone(),
        Arc::new(CatalogWire),
        RelayConfig::new(SERVICE, settings.naming.clone()),
    );
    let relay_task = tokio::spawn(relay.run(shutdown.child_token()));

    let api = CatalogApi {
        store,
        currency: settings.currency,
    };
    let grpc = tonic::service::Routes::new(CatalogServiceServer::new(api)).into_axum_router();
    let app = ops_router(SERVICE, probe(pool, nats), install_metrics()).merge(grpc);
    tracing::info!(addr = %listener.local_addr()?, "catalog listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .await?;
    shutdown.cancel();
    let _ = relay_task.await;
    Ok(())
}

/// Ready when the database answers with the catalog's migrations applied; NATS is
/// reported, not required.
fn probe(pool: PgPool, nats: async_nats::Client) -> Probe {
    Arc::new(move || {
        let pool = pool.clone();
        let nats = nats.clone();
        Box::pin(async move {
            let expected = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
            let applied: Result<Option<i64>, sqlx::Error> =
                sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
                    .fetch_one(&pool)
                    .await;
            let (db_up, detail) = match applied {
                Ok(Some(v)) if v >= expected => (true, None),
                Ok(v) => (
                    false,
                    Some(format!("migrations at {v:?}, expected {expected}")),
                ),
                Err(e) => (false, Some(e.to_string())),
            };
            let nats_up = nats.connection_state() == async_nats::connection::State::Connected;
            vec![
                Dependency {
                    name: "postgres",
                    up: db_up,
                    required: true,
                    detail,
                },
                Dependency {
                    name: "nats",
                    up: nats_up,
                    required: false,
                    detail: None,
                },
            ]
        })
    })
}
