//! The inventory service: locations, and stock items per (product, location) whose level is
//! the fold of their movements, with weighted average cost and alerts. It keeps a copy of
//! the catalog (fed by a durable consumer) so receipts of unknown products are refused
//! without calling the catalog, relays its events to `<prefix>_inventory`, and serves gRPC
//! and the operations endpoints on one port.

pub mod api;
pub mod commands;
pub mod consumers;
pub mod domain;
pub mod error;
pub mod projections;

use std::sync::Arc;

use sqlx::migrate::Migrator;
use tillstream_eventstore::EventStore;
use tillstream_messaging::ConsumerConfig;
use tillstream_proto::inventory::v1::inventory_service_server::InventoryServiceServer;
pub use tillstream_service::{ServiceSettings as Settings, StartError};
use tillstream_service::{
    connect_database, connect_nats, run_consumer, serve_http, spawn_relay, standard_probe,
};
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
pub const DEFAULT_ADDR: &str = tillstream_service::addrs::INVENTORY;

/// Runs the service on `listener` until `shutdown`, then drains in-flight requests.
pub async fn serve(
    settings: Settings,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> Result<(), StartError> {
    let pool = connect_database(&settings, &MIGRATOR).await?;
    let store = EventStore::new(pool.clone());
    let nats = connect_nats(&settings).await?;
    let naming = &settings.naming;
    let catalog = ConsumerConfig::new(naming.clone(), SERVICE, "catalog", "catalog");
    let sales = ConsumerConfig::new(naming.clone(), SERVICE, "sales", "sales");
    let tasks = vec![
        spawn_relay(&store, &nats, Arc::new(InventoryWire), &settings, &shutdown),
        tokio::spawn(run_consumer(
            pool.clone(),
            nats.clone(),
            catalog,
            CatalogProducts,
            shutdown.child_token(),
        )),
        tokio::spawn(run_consumer(
            pool.clone(),
            nats.clone(),
            sales,
            SalesMovements {
                store: store.clone(),
            },
            shutdown.child_token(),
        )),
    ];
    let grpc = tonic::service::Routes::new(InventoryServiceServer::new(InventoryApi { store }));
    let probe = standard_probe(pool, &MIGRATOR, nats);
    serve_http(
        SERVICE,
        listener,
        tillstream_service::guard(grpc.into_axum_router(), &settings)?,
        probe,
        shutdown,
        tasks,
    )
    .await
}
