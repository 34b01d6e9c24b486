//! Each event of a service's stream becomes one delivery per subscription that wants it,
//! queued in the transaction that records the event as handled: an event is queued once
//! however often the broker delivers it, and a crash before the commit queues it again.
//! An event of a type no subscription names is acknowledged without a transaction or an
//! inbox row (`wants`): most of a store's events interest no integrator. With no
//! subscription at all the consumers sleep (`Handler::idle`): nothing is fetched, and the
//! first subscription wakes them within a second.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use tillstream_messaging::{Handled, Handler, InboundEvent};
use tracing::warn;

use crate::api::cloudevent::CloudEvents;
use crate::projections::{deliveries, subscriptions};

/// The services whose streams are delivered (not the webhooks service's own).
pub const SOURCES: [&str; 5] = ["auth", "catalog", "inventory", "sales", "ledger"];

#[derive(Debug)]
pub struct FanOut {
    pub cloud_events: Arc<CloudEvents>,
    /// The event types some live subscription names, as read before the batch in hand.
    pub wanted: Arc<RwLock<Wanted>>,
}

/// Each clone (a consumer task of one leadership term) reads its own: a task of an earlier
/// term still finishing a batch never overwrites what the current one read.
impl Clone for FanOut {
    fn clone(&self) -> Self {
        FanOut::new(self.cloud_events.clone())
    }
}

impl FanOut {
    pub fn new(cloud_events: Arc<CloudEvents>) -> Self {
        FanOut {
            cloud_events,
            wanted: Arc::new(RwLock::new(Wanted::All)),
        }
    }
}

/// Which event types are worth a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// A `*` subscription, or the subscriptions could not be read: every event is looked at.
    All,
    Types(HashSet<String>),
}

impl Wanted {
    /// No subscription at all: nothing to fetch.
    fn is_nothing(&self) -> bool {
        matches!(self, Wanted::Types(types) if types.is_empty())
    }

    fn wants(&self, ce_type: &str) -> bool {
        match self {
            Wanted::All => true,
            Wanted::Types(types) => types.contains(ce_type),
        }
    }
}

impl Handler for FanOut {
    fn wants(&self, event: &InboundEvent) -> bool {
        self.wanted
            .read()
            .map_or(true, |wanted| wanted.wants(&event.ce_type))
    }

    fn idle(&self) -> bool {
        self.wanted.read().is_ok_and(|wanted| wanted.is_nothing())
    }

    /// Read after the batch was fetched, under the lock subscriptions are made under
    /// (`subscriptions::wanted_types`): a subscription not seen here was made after every
    /// event of the batch, so it wants none of them.
    async fn refresh(&self, pool: &PgPool) {
        let read = match subscriptions::wanted_types(pool).await {
            Ok(types) if types.iter().any(|t| t == "*") => Wanted::All,
            Ok(types) => Wanted::Types(types.into_iter().collect()),
            Err(error) => {
                warn!(%error, "could not read the subscriptions; looking at every event");
                Wanted::All
            }
        };
        if let Ok(mut wanted) = self.wanted.write() {
            *wanted = read;
        }
    }

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

#[cfg(test)]
mod tests {
    use super::Wanted;

    #[test]
    fn only_named_types_are_wanted_unless_all_are() {
        let some = Wanted::Types(["tillstream.sales.v1.SaleCompleted".to_owned()].into());
        assert!(some.wants("tillstream.sales.v1.SaleCompleted"));
        assert!(!some.wants("tillstream.inventory.v1.StockSold"));
        assert!(Wanted::All.wants("tillstream.inventory.v1.StockSold"));
        assert!(!Wanted::Types(Default::default()).wants("tillstream.sales.v1.SaleCompleted"));
    }

    #[test]
    fn only_no_subscription_at_all_is_nothing() {
        assert!(Wanted::Types(Default::default()).is_nothing());
        assert!(
            !Wanted::All.is_nothing(),
            "unread or `*`: look at everything"
        );
        let one = Wanted::Types(["tillstream.sales.v1.SaleCompleted".to_owned()].into());
        assert!(!one.is_nothing());
    }
}
