//! A consumer whose handler wants nothing at all (webhooks with no subscription) stops
//! fetching: every event would be delivered, decoded and acknowledged only to be ignored,
//! a third of the broker's deliveries per sale. Every second it reads how far its durable
//! consumer is behind, asks the handler again, and, still wanting nothing, moves the
//! durable past what was published by the read; when something is wanted it fetches from
//! there.
//!
//! Nothing wanted is skipped: whatever is made after the handler's answer (a subscription)
//! is later than the read, and so is every event recorded after that: it was published
//! after the read, with a later sequence. No clocks are compared.

use std::time::Duration;

use async_nats::jetstream::consumer::{Consumer as Durable, DeliverPolicy, pull};
use tokio_util::sync::CancellationToken;
use tracing::info;

use super::{Consumer, Handler, health};
use crate::MessagingError;

/// How often an idle consumer asks whether something is wanted now.
const IDLE_CHECK: Duration = Duration::from_secs(1);

impl<H: Handler> Consumer<H> {
    /// Waits until the handler wants something, or `shutdown` (`None`), and answers the
    /// durable consumer to fetch from then.
    pub(super) async fn sleep_while_idle(
        &self,
        shutdown: &CancellationToken,
    ) -> Result<Option<Durable<pull::Config>>, MessagingError> {
        let name = self.config.durable_name();
        info!(consumer = %name, "nothing is wanted; not fetching until something is");
        set_idle(&name, true);
        let mut durable: Durable<pull::Config> = self
            .stream()
            .await?
            .get_consumer(&name)
            .await
            .map_err(MessagingError::nats)?;
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return Ok(None),
                () = tokio::time::sleep(IDLE_CHECK) => {}
            }
            // Read before the handler is asked: what it skips was published by then.
            let info = durable.info().await.map_err(MessagingError::nats)?;
            let unacknowledged = u64::try_from(info.num_ack_pending).unwrap_or(u64::MAX);
            let waiting = info.num_pending.saturating_add(unacknowledged);
            let last = info
                .delivered
                .stream_sequence
                .saturating_add(info.num_pending);
            self.handler.refresh(&self.pool).await;
            if !self.handler.idle() {
                break;
            }
            if waiting > 0 {
                durable = self.start_after(last).await?;
            }
            health::record_waiting(&name, 0);
        }
        info!(consumer = %name, "something is wanted again");
        set_idle(&name, false);
        Ok(Some(durable))
    }

    /// The durable consumer made again to deliver from after `last`: the broker cannot move
    /// a consumer's position. One published meanwhile has a later sequence and is still
    /// delivered.
    async fn start_after(&self, last: u64) -> Result<Durable<pull::Config>, MessagingError> {
        let stream = self.stream().await?;
        stream
            .delete_consumer(&self.config.durable_name())
            .await
            .map_err(MessagingError::nats)?;
        stream
            .create_consumer(pull::Config {
                deliver_policy: DeliverPolicy::ByStartSequence {
                    start_sequence: last.saturating_add(1),
                },
                ..self.pull_config()
            })
            .await
            .map_err(MessagingError::nats)
    }
}

/// An idle consumer is not behind: what it skips is wanted by nobody, so it reports no lag
/// (an alert on lag would otherwise fire for every store without a webhook) and it is not
/// stuck. `tillstream_consumer_idle{consumer}` says which consumers sleep.
fn set_idle(name: &str, idle: bool) {
    metrics::gauge!("tillstream_consumer_idle", "consumer" => name.to_owned()).set(if idle {
        1.0
    } else {
        0.0
    });
    if idle {
        health::record_waiting(name, 0);
        metrics::gauge!("tillstream_consumer_lag_events", "consumer" => name.to_owned()).set(0.0);
        metrics::gauge!("tillstream_consumer_ack_pending", "consumer" => name.to_owned()).set(0.0);
    }
}
