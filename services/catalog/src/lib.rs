//! The catalog service: products with their SKU, barcodes, price and tax rate. It appends
//! product events to its own store, keeps its `products` read model in the same
//! transaction, relays the events to `<prefix>_catalog`, and serves gRPC and the
//! operations endpoints on one port.

pub mod api;
pub mod commands;
pub mod domain;
pub mod error;
pub mod projections;

use std::sync::Arc;

use sqlx::migrate::Migrator;
use tillstream_proto::catalog::v1::catalog_service_server::CatalogServiceServer;
use tillstream_service::Process;
pub use tillstream_service::{Launch, ServiceSettings as Settings, StartError};
use tokio::sync::Notify;

use crate::api::events::CatalogWire;
use crate::api::grpc::CatalogApi;

/// The catalog's own tables (after the event store's).
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/catalog");

pub const SERVICE: &str = "catalog";

/// The largest gRPC request: a 20 MB CSV and its envelope.
pub const IMPORT_MESSAGE_LIMIT: usize = 21 * 1024 * 1024;

/// Where the catalog listens unless `TILLSTREAM_CATALOG_ADDR` says otherwise.
pub const DEFAULT_ADDR: &str = tillstream_service::addrs::CATALOG;

/// Runs the service on `listener` until `shutdown`, then drains in-flight requests.
pub async fn serve(launch: Launch) -> Result<(), StartError> {
    let mut process = Process::connect(launch, &MIGRATOR).await?;
    process.relay(Arc::new(CatalogWire));
    let wake_imports = Arc::new(Notify::new());
    let (store, currency) = (process.store.clone(), process.settings.currency);
    let wake = wake_imports.clone();
    // Every replica works through imports: a job is locked by the replica that takes it.
    process.spawn(|stop| commands::imports::run_worker(store.clone(), currency, wake, stop));
    let api = CatalogApi {
        store,
        reads: process.reads.clone(),
        currency,
        wake_imports,
    };
    // A CSV import may be 20 MB.
    let grpc = tonic::service::Routes::new(
        CatalogServiceServer::new(api).max_decoding_message_size(IMPORT_MESSAGE_LIMIT),
    );
    process.serve_grpc(grpc).await
}
