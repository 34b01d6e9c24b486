//! The catalog service: products with their SKU, barcodes, price and tax rate. It appends
//! product events to its own store, keeps its `products` read model in the same
//! transaction, relays the events to `<prefix>_catalog`, and serves gRPC and the
//! operations endpoints on one port.

pub mod api;
pub mod commands;
pub mod domain;
pub mod projections;

use std::sync::Arc;

use sqlx::migrate::Migrator;
use tillstream_eventstore::EventStore;
use tillstream_messaging::{Relay, RelayConfig};
use tillstream_proto::catalog::v1::catalog_service_server::CatalogServiceServer;
pub use tillstream_service::{ServiceSettings as Settings, StartError};
use tillstream_service::{connect_database, connect_nats, standard_probe};
use tillstream_telemetry::{install_metrics, ops_router};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::api::events::CatalogWire;
use crate::api::grpc::CatalogApi;

/// The catalog's own tables (after the event store's).
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/catalog");

pub const SERVICE: &str = "catalog";

/// Where the catalog listens unless `TILLSTREAM_CATALOG_ADDR` says otherwise.
pub const DEFAULT_ADDR: &str = "127.0.0.1:50061";

/// Runs the service on `listener` until `shutdown`, then drains in-flight requests.
pub async fn serve(
    settings: Settings,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> Result<(), StartError> {
    let pool = connect_database(&settings, &MIGRATOR).await?;
    let store = EventStore::new(pool.clone());
    let nats = connect_nats(&settings).await?;

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
    let app = ops_router(
        SERVICE,
        standard_probe(pool, &MIGRATOR, nats),
        install_metrics(),
    )
    .merge(grpc);
    tracing::info!(addr = %listener.local_addr()?, "catalog listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .await?;
    shutdown.cancel();
    let _ = relay_task.await;
    Ok(())
}
