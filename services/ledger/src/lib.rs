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
use tillstream_eventstore::EventStore;
use tillstream_messaging::ConsumerConfig;
use tillstream_proto::ledger::v1::ledger_service_server::LedgerServiceServer;
pub use tillstream_service::{ServiceSettings as Settings, StartError};
use tillstream_service::{
    connect_database, connect_nats, run_consumer, serve_http, spawn_relay, standard_probe,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

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
pub async fn serve(
    settings: Settings,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> Result<(), StartError> {
    let pool = connect_database(&settings, &MIGRATOR).await?;
    let store = EventStore::new(pool.clone());
    let nats = connect_nats(&settings).await?;
    let naming = &settings.naming;
    let sales = ConsumerConfig::new(naming.clone(), SERVICE, "sales", "sales");
    let mut movements = ConsumerConfig::new(naming.clone(), SERVICE, "inventory", "inventory");
    movements.filter_subject = Some(naming.aggregate_subjects("inventory", "stock"));
    let inventory = InventoryPostings {
        store: store.clone(),
        currency: settings.currency,
    };
    let reconciler = Reconciler {
        pool: pool.clone(),
        js: async_nats::jetstream::new(nats.clone()),
        naming: naming.clone(),
        grace: RECONCILE_GRACE,
    };
    let tasks = vec![
        tokio::spawn(reconciler.run(RECONCILE_EVERY, shutdown.child_token())),
        spawn_relay(&store, &nats, Arc::new(LedgerWire), &settings, &shutdown),
        tokio::spawn(run_consumer(
            pool.clone(),
            nats.clone(),
            sales,
            SalesPostings {
                store: store.clone(),
                currency: settings.currency,
            },
            shutdown.child_token(),
        )),
        tokio::spawn(run_consumer(
            pool.clone(),
            nats.clone(),
            movements,
            inventory,
            shutdown.child_token(),
        )),
    ];
    let grpc = tonic::service::Routes::new(LedgerServiceServer::new(LedgerApi {
        store,
        currency: settings.currency,
    }));
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
