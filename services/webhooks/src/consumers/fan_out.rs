//! Each event of a service's stream becomes one delivery per subscription that wants it,
//! queued in the transaction that records the event as handled: an event is queued once
//! however often the broker delivers it, and a crash before the commit queues it again.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use tillstream_messaging::{Handled, Handler, InboundEvent};

use crate::api::cloudevent::CloudEvents;
use crate::projections::{deliveries, subscriptions};

/// The services whose streams are delivered (not the webhooks service's own).
pub const SOURCES: [&str; 5] = ["auth", "catalog", "inventory", "sales", "ledger"];

#[derive(Debug, Clone)]
pub struct FanOut {
    pub cloud_events: Arc<CloudEvents>,
}

impl Handler for FanOut {
    async fn handle(&self, tx: &mut PgConnection, event: &InboundEvent) -> Handled {
        // A subscription receives the events recorded after it was made.
        let time = event
            .time
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map_or_else(Utc::now, |t| t.with_timezone(&Utc));
        let wanting = subscriptions::wanting(&mut *tx, &event.ce_type, time).await?;
        if wanting.is_empty() {
            return Ok(());
        }
        let body = self.cloud_events.body(event);
        deliveries::enqueue(
            tx,
            &wanting,
            &event.event_id.to_string(),
            &event.ce_type,
            &body,
        )
        .await?;
        metrics::counter!("tillstream_webhook_deliveries_queued_total")
            .increment(wanting.len() as u64);
        Ok(())
    }
}
