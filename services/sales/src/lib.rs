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
pub mod privacy;
pub mod projections;

use std::sync::Arc;

use sqlx::migrate::Migrator;
use tillstream_eventstore::EventStore;
use tillstream_projection::{ProjectionRunner, RunnerConfig};
use tillstream_proto::sales::v1::customer_service_server::CustomerServiceServer;
use tillstream_proto::sales::v1::gift_card_service_server::GiftCardServiceServer;
use tillstream_proto::sales::v1::register_service_server::RegisterServiceServer;
use tillstream_proto::sales::v1::repair_service_server::RepairServiceServer;
use tillstream_proto::sales::v1::sales_service_server::SalesServiceServer;
use tillstream_service::Process;
pub use tillstream_service::{Launch, ServiceSettings as Settings, StartError};

use crate::api::customers::CustomersApi;
use crate::api::events::SalesWire;
use crate::api::grpc::SalesApi;
use crate::api::registers::RegistersApi;
use crate::api::repairs::RepairsApi;
use crate::consumers::catalog_products::CatalogProducts;
use crate::consumers::ledger_entries::LedgerEntries;
use crate::consumers::locations::Locations;
use crate::domain::pricing::PricingPolicy;
use crate::privacy::MasterKey;
use crate::projections::product_sales::ProductSales;

/// Sales' own tables (after the event store's).
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/sales");

pub const SERVICE: &str = "sales";

/// Where sales listens unless `TILLSTREAM_SALES_ADDR` says otherwise.
pub const DEFAULT_ADDR: &str = tillstream_service::addrs::SALES;

/// The analytics read model `product_sales`, kept current by the service and rebuilt by
/// `tillstream projection rebuild product_sales`.
pub fn product_sales(store: EventStore) -> ProjectionRunner<ProductSales> {
    // Analytics can wait a quarter of a second: a burst of sales is then one batch, not a
    // locked checkpoint read and a commit per sale.
    let config = RunnerConfig {
        idle_poll: std::time::Duration::from_millis(250),
        gather: std::time::Duration::from_millis(250),
        ..RunnerConfig::default()
    };
    ProjectionRunner::new(store, ProductSales, config)
}

/// Runs the service on `listener` until `shutdown`, then drains in-flight requests.
pub async fn serve(launch: Launch) -> Result<(), StartError> {
    let mut process = Process::connect(launch, &MIGRATOR).await?;
    let configured = process.settings.data_key.as_ref().map(|key| key.0.as_str());
    let master = MasterKey::load(&process.pool, configured)
        .await
        .map_err(|e| StartError::Setup(e.to_string()))?;
    let store = process.store.clone();
    let pool = process.pool.clone();
    process.relay(Arc::new(SalesWire));
    process.consume("catalog", "catalog", CatalogProducts);
    process.consume_aggregate("locations", "inventory", "location", Locations);
    process.consume("ledger", "ledger", LedgerEntries);
    let analytics = store.clone();
    process.spawn_leading(move |stop| product_sales(analytics.clone()).run(stop));
    process.spawn_leading(move |stop| projections::pending::watch(pool.clone(), stop));
    let policy = PricingPolicy {
        currency: process.settings.currency,
        prices_include_tax: process.settings.prices_include_tax,
    };
    let registers = RegistersApi {
        store: store.clone(),
        currency: process.settings.currency,
        discount_limit_percent: process.settings.discount_limit_percent,
        cash_difference_limit: process.settings.cash_difference_limit,
    };
    let customers = CustomersApi {
        store: store.clone(),
        reads: process.reads.clone(),
        master: master.clone(),
        currency: process.settings.currency,
    };
    let repairs = RepairsApi {
        store: store.clone(),
        reads: process.reads.clone(),
        master: master.clone(),
        policy,
        labor_tax_rate: process.settings.labor_tax_rate,
        discount_limit_percent: process.settings.discount_limit_percent,
        require_session: process.settings.require_session,
    };
    let api = SalesApi {
        master,
        store,
        reads: process.reads.clone(),
        policy,
        discount_limit_percent: process.settings.discount_limit_percent,
        require_session: process.settings.require_session,
    };
    let grpc = tonic::service::Routes::new(SalesServiceServer::new(api))
        .add_service(RegisterServiceServer::new(registers))
        .add_service(CustomerServiceServer::new(customers.clone()))
        .add_service(GiftCardServiceServer::new(customers))
        .add_service(RepairServiceServer::new(repairs));
    process.serve_grpc(grpc).await
}
