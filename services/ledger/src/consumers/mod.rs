//! The ledger's reactions: sales events give the money side, inventory movements the
//! cost side, one entry per source event.

pub mod drawers;
pub mod inventory;
pub mod repairs;
pub mod sales;
pub mod stored_value;

use tillstream_eventstore::{EventMetadata, StoreError};
use tillstream_messaging::{HandlerError, InboundEvent};

/// Metadata for an entry posted in reaction to `event`.
fn metadata_for(event: &InboundEvent) -> EventMetadata {
    EventMetadata {
        correlation_id: event.correlation_id.clone(),
        causation_id: Some(event.event_id.to_string()),
        traceparent: event.traceparent.clone(),
        actor: Some("ledger".into()),
        ..Default::default()
    }
}

fn retry(error: StoreError) -> HandlerError {
    HandlerError::Retry(error.to_string())
}
