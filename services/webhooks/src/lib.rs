//! The webhooks service: subscriptions of HTTPS endpoints to event types, recorded as
//! events in its own store, and their deliveries. It reads every service's stream, queues
//! each event for the subscriptions that want it (in the transaction that marks the event
//! handled), and its senders POST each one as a CloudEvent signed as Standard Webhooks
//! says, retrying on the standard schedule. Deliveries live in its database, so a restart
//! of any process loses none.

pub mod api;
pub mod commands;
pub mod consumers;
pub mod dispatch;
pub mod domain;
pub mod error;
pub mod projections;

use std::sync::Arc;

use sqlx::migrate::Migrator;
use tillstream_proto::webhooks::v1::webhooks_service_server::WebhooksServiceServer;
use tillstream_service::Process;
pub use tillstream_service::{Launch, ServiceSettings as Settings, StartError};

use crate::api::cloudevent::CloudEvents;
use crate::api::events::WebhooksWire;
use crate::api::grpc::WebhooksApi;
use crate::consumers::fan_out::{FanOut, SOURCES};
use crate::dispatch::Dispatcher;
use crate::dispatch::send::Sender;

/// The webhooks service's own tables (after the event store's).
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/webhooks");

pub const SERVICE: &str = "webhooks";

/// Where webhooks listens unless `TILLSTREAM_WEBHOOKS_ADDR` says otherwise.
pub const DEFAULT_ADDR: &str = tillstream_service::addrs::WEBHOOKS;

/// Runs the service on `listener` until `shutdown`.
pub async fn serve(launch: Launch) -> Result<(), StartError> {
    let mut process = Process::connect(launch, &MIGRATOR).await?;
    process.relay(Arc::new(WebhooksWire));
    let cloud_events = Arc::new(CloudEvents::new().map_err(|e| StartError::Setup(e.to_string()))?);
    for source in SOURCES {
        process.consume(source, source, FanOut::new(cloud_events.clone()));
    }
    let allow_private = process.settings.webhooks_allow_private;
    let sender = Sender::new(allow_private)
        .map_err(|e| StartError::Setup(format!("the webhooks' HTTP client: {e}")))?;
    let dispatcher = Dispatcher {
        pool: process.pool.clone(),
        sender,
    };
    // Every replica sends: claims are leases, so replicas share the deliveries.
    process.spawn(|stop| dispatcher.run(stop));
    let api = WebhooksApi {
        store: process.store.clone(),
        pool: process.pool.clone(),
        allow_private,
    };
    let grpc = tonic::service::Routes::new(WebhooksServiceServer::new(api));
    process.serve_grpc(grpc).await
}
