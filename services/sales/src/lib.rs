//! The sales service: sales priced from its own copy of the catalog by the contract's
//! rules, paid with split tenders, numbered per location and day, and published as
//! `SaleCompleted` with every computed amount. It keeps copies of the catalog and of the
//! locations (fed by durable consumers) so a sale never waits on another service, and
//! follows the ledger's `EntryPosted` to show each sale's ledger status.

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
use tillstream_projection::{ProjectionRunner, RunnerConfig};
use tillstream_proto::sales::v1::sales_service_server::SalesServiceServer;
pub use tillstream_service::{ServiceSettings as Settings, StartError};
use tillstream_service::{
    connect_database, connect_nats, run_consumer, serve_http, spawn_relay, standard_probe,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::api::events::SalesWire;
use crate::api::grpc::SalesApi;
use crate::consumers::catalog_products::CatalogProducts;
use crate::consumers::ledger_entries::LedgerEntries;
use crate::consumers::locations::Locations;
use crate::domain::pricing::PricingPolicy;
use crate::projections::product_sales::ProductSales;

/// Sales' own tables (after the event store's).
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/sales");

pub const SERVICE: &str = "sales";

/// Where sales listens unless `TILLSTREAM_SALES_ADDR` says otherwise.
pub const DEFAULT_ADDR: &str = tillstream_service::addrs::SALES;

/// The analytics read model `product_sales`, kept current by the service and rebuilt by
/// `tillstream projection rebuild product_sales`.
pub fn product_sales(store: EventStore) -> ProjectionRunner<ProductSales> {
    // Analytics can wait a quarter of a second; polling faster costs the sales database a
    // locked checkpoint read 50 times a second for nothing.
    let config = RunnerConfig {
        idle_poll: std::time::Duration::from_millis(250),
        ..RunnerConfig::default()
    };
    ProjectionRunner::new(store, ProductSales, config)
}

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
    let mut locations = ConsumerConfig::new(naming.clone(), SERVICE, "locations", "inventory");
    locations.filter_subject = Some(naming.aggregate_subjects("inventory", "location"));
    let ledger = ConsumerConfig::new(naming.clone(), SERVICE, "ledger", "ledger");
    let tasks = vec![
        spawn_relay(&store, &nats, Arc::new(SalesWire), &settings, &shutdown),
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
            locations,
            Locations,
            shutdown.child_token(),
        )),
        tokio::spawn(run_consumer(
            pool.clone(),
            nats.clone(),
            ledger,
            LedgerEntries,
            shutdown.child_token(),
        )),
        tokio::spawn(product_sales(store.clone()).run(shutdown.child_token())),
        tokio::spawn(projections::pending::watch(
            pool.clone(),
            shutdown.child_token(),
        )),
    ];
    let policy = PricingPolicy {
        currency: settings.currency,
        prices_include_tax: settings.prices_include_tax,
    };
    let grpc = tonic::service::Routes::new(SalesServiceServer::new(SalesApi { store, policy }));
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
