//! The inventory service: locations, and stock items per (product, location) whose level is
//! the fold of their movements, with weighted average cost and alerts. It keeps a copy of
//! the catalog (fed by a durable consumer) so receipts of unknown products are refused
//! without calling the catalog, relays its events to `<prefix>_inventory`, and serves gRPC
//! and the operations endpoints on one port.

pub mod api;
pub mod commands;
pub mod consumers;
pub mod domain;
pub mod projections;

use std::sync::Arc;

use sqlx::migrate::Migrator;
use tillstream_eventstore::EventStore;
use tillstream_messaging::{ConsumerConfig, Relay, RelayConfig};
use tillstream_proto::inventory::v1::inventory_service_server::InventoryServiceServer;
pub use tillstream_service::{ServiceSettings as Settings, StartError};
use tillstream_service::{connect_database, connect_nats, run_consumer, standard_probe};
use tillstream_telemetry::{install_metrics, ops_router};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::api::events::InventoryWire;
use crate::api::grpc::InventoryApi;
use crate::consumers::catalog_products::CatalogProducts;
use crate::consumers::sales::SalesMovements;

/// Inventory's own tables (after the event store's).
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/inventory");

pub const SERVICE: &str = "inventory";

/// Where inventory listens unless `TILLSTREAM_INVENTORY_ADDR` says otherwise.
pub const DEFAULT_ADDR: &str = "127.0.0.1:50062";

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
        Arc::new(InventoryWire),
        RelayConfig::new(SERVICE, settings.naming.clone()),
    );
    let mut tasks = vec![tokio::spawn(relay.run(shutdown.child_token()))];
    let catalog = ConsumerConfig::new(settings.naming.clone(), SERVICE, "catalog", "catalog");
    let sales = ConsumerConfig::new(settings.naming.clone(), SERVICE, "sales", "sales");
    tasks.push(tokio::spawn(run_consumer(
        pool.clone(),
        nats.clone(),
        sales,
        SalesMovements {
            store: store.clone(),
        },
        shutdown.child_token(),
    )));
    tasks.push(tokio::spawn(run_consumer(
        pool.clone(),
        nats.clone(),
        catalog,
        CatalogProducts,
        shutdown.child_token(),
    )));

    let api = InventoryApi { store };
    let grpc = tonic::service::Routes::new(InventoryServiceServer::new(api)).into_axum_router();
    let app = ops_router(
        SERVICE,
        standard_probe(pool, &MIGRATOR, nats),
        install_metrics(),
    )
    .merge(grpc);
    tracing::info!(addr = %listener.local_addr()?, "inventory listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .await?;
    shutdown.cancel();
    for task in tasks {
        let _ = task.await;
    }
    Ok(())
}
