//! The inventory service: locations, and stock items per (product, location) whose level is
//! the fold of their movements, with weighted average cost and alerts; and purchasing
//! (suppliers, purchase orders, deliveries, invoices), whose deliveries are stock movements
//! of the same transaction. It keeps a copy of
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
use tillstream_proto::inventory::v1::inventory_service_server::InventoryServiceServer;
use tillstream_proto::inventory::v1::purchasing_service_server::PurchasingServiceServer;
use tillstream_service::Process;
pub use tillstream_service::{Launch, ServiceSettings as Settings, StartError};

use crate::api::events::InventoryWire;
use crate::api::grpc::InventoryApi;
use crate::api::purchasing::PurchasingApi;
use crate::consumers::catalog_products::CatalogProducts;
use crate::consumers::sales::SalesMovements;

/// Inventory's own tables (after the event store's).
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/inventory");

pub const SERVICE: &str = "inventory";

/// Where inventory listens unless `TILLSTREAM_INVENTORY_ADDR` says otherwise.
pub const DEFAULT_ADDR: &str = tillstream_service::addrs::INVENTORY;

/// Runs the service on `listener` until `shutdown`, then drains in-flight requests.
pub async fn serve(launch: Launch) -> Result<(), StartError> {
    let mut process = Process::connect(launch, &MIGRATOR).await?;
    let store = process.store.clone();
    process.relay(Arc::new(InventoryWire));
    process.consume("catalog", "catalog", CatalogProducts);
    process.consume(
        "sales",
        "sales",
        SalesMovements {
            store: store.clone(),
        },
    );
    let pool = process.pool.clone();
    process.spawn_leading(move |stop| {
        crate::projections::purchasing::keep_recent_sales(pool.clone(), stop)
    });
    let purchasing = PurchasingApi {
        store: store.clone(),
        reads: process.reads.clone(),
        currency: process.settings.currency,
    };
    let grpc = tonic::service::Routes::new(InventoryServiceServer::new(InventoryApi {
        store,
        reads: process.reads.clone(),
    }))
    .add_service(PurchasingServiceServer::new(purchasing));
    process.serve_grpc(grpc).await
}
