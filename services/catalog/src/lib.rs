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
use tillstream_eventstore::EventStore;
use tillstream_proto::catalog::v1::catalog_service_server::CatalogServiceServer;
pub use tillstream_service::{ServiceSettings as Settings, StartError};
use tillstream_service::{connect_database, connect_nats, serve_http, spawn_relay, standard_probe};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

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
pub async fn serve(
    settings: Settings,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> Result<(), StartError> {
    let pool = connect_database(&settings, &MIGRATOR).await?;
    let store = EventStore::new(pool.clone());
    let nats = connect_nats(&settings).await?;
    let relay = spawn_relay(&store, &nats, Arc::new(CatalogWire), &settings, &shutdown);
    let wake_imports = Arc::new(Notify::new());
    let imports = tokio::spawn(commands::imports::run_worker(
        store.clone(),
        settings.currency,
        wake_imports.clone(),
        shutdown.child_token(),
    ));
    let api = CatalogApi {
        store,
        currency: settings.currency,
        wake_imports,
    };
    // A CSV import may be 20 MB.
    let grpc = tonic::service::Routes::new(
        CatalogServiceServer::new(api).max_decoding_message_size(IMPORT_MESSAGE_LIMIT),
    );
    let probe = standard_probe(pool, &MIGRATOR, nats);
    serve_http(
        SERVICE,
        listener,
        tillstream_service::guard(grpc.into_axum_router(), &settings)?,
        probe,
        shutdown,
        vec![relay, imports],
    )
    .await
}
