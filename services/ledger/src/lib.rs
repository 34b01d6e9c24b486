//! The ledger service: the chart of accounts and double-entry journal entries, posted in
//! reaction to sales events (the money side) and inventory movements (the cost side), one
//! entry per source event, and published as `EntryPosted`.

pub mod api;
pub mod commands;
pub mod consumers;
pub mod domain;
pub mod error;
pub mod projections;
pub mod reconcile;

use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::Migrator;
use tillstream_proto::ledger::v1::ledger_service_server::LedgerServiceServer;
use tillstream_service::Process;
pub use tillstream_service::{Launch, ServiceSettings as Settings, StartError};

use crate::api::events::LedgerWire;
use crate::api::grpc::LedgerApi;
use crate::consumers::inventory::InventoryPostings;
use crate::consumers::sales::SalesPostings;
use crate::reconcile::Reconciler;

/// How often the sales stream is reconciled against the journal, and how long an event may
/// wait for its entry before it counts as a gap (the consumer's retries fit well inside).
const RECONCILE_EVERY: Duration = Duration::from_secs(60);
const RECONCILE_GRACE: Duration = Duration::from_secs(120);

/// The ledger's own tables (after the event store's).
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/ledger");

pub const SERVICE: &str = "ledger";

/// Where the ledger listens unless `TILLSTREAM_LEDGER_ADDR` says otherwise.
pub const DEFAULT_ADDR: &str = tillstream_service::addrs::LEDGER;

/// Runs the service on `listener` until `shutdown`, then drains in-flight requests.
pub async fn serve(launch: Launch) -> Result<(), StartError> {
    let mut process = Process::connect(launch, &MIGRATOR).await?;
    let store = process.store.clone();
    let currency = process.settings.currency;
    let reconciler = Reconciler {
        pool: process.pool.clone(),
        js: async_nats::jetstream::new(process.nats.clone()),
        naming: process.settings.naming.clone(),
        grace: RECONCILE_GRACE,
    };
    process.spawn_leading(move |stop| reconciler.clone().run(RECONCILE_EVERY, stop));
    process.relay(Arc::new(LedgerWire));
    let postings = SalesPostings {
        store: store.clone(),
        currency,
    };
    process.consume("sales", "sales", postings);
    let costs = InventoryPostings {
        store: store.clone(),
        currency,
    };
    // Purchasing's invoices and supplier payments travel on the inventory stream under
    // aggregates of their own; a consumer each, so the stock consumer's filter (and its
    // durable state on a running system) stays as it was.
    process.consume_aggregate("inventory", "inventory", "stock", costs.clone());
    process.consume_aggregate(
        "purchase_orders",
        "inventory",
        "purchase_order",
        costs.clone(),
    );
    process.consume_aggregate("suppliers", "inventory", "supplier", costs.clone());
    // A sale's cost of goods, one entry per sale (its `StockSold` movements post nothing).
    process.consume_aggregate("sale_costs", "inventory", "sale_cost", costs);
    let grpc = tonic::service::Routes::new(LedgerServiceServer::new(LedgerApi {
        store,
        reads: process.reads.clone(),
        currency,
    }));
    process.serve_grpc(grpc).await
}
