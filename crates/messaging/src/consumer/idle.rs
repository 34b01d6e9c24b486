//! A consumer whose handler wants nothing at all (webhooks with no subscription) stops
//! fetching: every event would be delivered, decoded and acknowledged only to be ignored,
//! a third of the broker's deliveries per sale. Every second it reads the stream's last
//! sequence and then asks the handler again; still wanting nothing, it moves its durable
//! consumer past that sequence (at most every few seconds, and only when something was
//! published); when something is wanted it fetches from where the durable was moved to.
//!
//! Nothing wanted is skipped: whatever is made after the handler's answer (a subscription)
//! is later than the read, and so is every event recorded after that: it was published
//! after the read, with a later sequence. No clocks are compared. Decision 0015.

use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::{Consumer as Durable, DeliverPolicy, pull};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::{Consumer, Handler, health};
use crate::MessagingError;

/// How often an idle consumer asks whether something is wanted now.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// How often at most an idle consumer's durable is made again while events are published:
/// each time is a change to the broker's consumer records (on every node of a cluster).
/// What is published in between is skipped at the next, or, if something is wanted first,
/// fetched and passed over by `wants` like any event nobody subscribed to.
const SKIP_EVERY: Duration = Duration::from_secs(3);

impl<H: Handler> Consumer<H> {
    /// Waits until the handler wants something, or `shutdown` (`None`), and answers the
    /// durable consumer to fetch from then.
    pub(super) async fn sleep_while_idle(
        &self,
        shutdown: &CancellationToken,
    ) -> Result<Option<Durable<pull::Config>>, MessagingError> {
        let name = self.config.durable_name();
        info!(consumer = %name, "nothing is wanted; not fetching until something is");
        let _gauge = IdleGauge::set(&name);
        let mut durable: Durable<pull::Config> = self
            .stream()
            .await?
            .get_consumer(&name)
            .await
            .map_err(MessagingError::nats)?;
        let mut skipped_at: Option<Instant> = None;
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return Ok(None),
                () = tokio::time::sleep(IDLE_CHECK) => {}
            }
            // Read before the handler is asked: an event recorded after its answer is
            // published after this, with a later sequence.
            let last = self.stream().await?.cached_info().state.last_sequence;
            self.handler.refresh(&self.pool).await;
            if !self.handler.idle() {
                break;
            }
            health::record_waiting(&name, 0);
            if skipped_at.is_some_and(|at| at.elapsed() < SKIP_EVERY) {
                continue;
            }
            let position = durable.info().await.map_err(MessagingError::nats)?;
            if position.delivered.stream_sequence >= last && position.num_ack_pending == 0 {
                continue;
            }
            durable = self.start_after(last, shutdown).await?;
            skipped_at = Some(Instant::now());
        }
        info!(consumer = %name, "something is wanted again");
        Ok(Some(durable))
    }

    /// The durable consumer made again to deliver from after `last`: the broker cannot move
    /// a consumer's position. One published meanwhile has a later sequence and is still
    /// delivered. Once deleted, it is made again here however long the broker takes: made
    /// by `ensure` after a restart, it would start from the beginning of the stream.
    async fn start_after(
        &self,
        last: u64,
        shutdown: &CancellationToken,
    ) -> Result<Durable<pull::Config>, MessagingError> {
        let stream = self.stream().await?;
        stream
            .delete_consumer(&self.config.durable_name())
            .await
            .map_err(MessagingError::nats)?;
        let config = pull::Config {
            deliver_policy: DeliverPolicy::ByStartSequence {
                start_sequence: last.saturating_add(1),
            },
            ..self.pull_config()
        };
        loop {
            match stream.create_consumer(config.clone()).await {
                Ok(durable) => return Ok(durable),
                Err(error) => {
                    let consumer = self.config.durable_name();
                    warn!(%error, %consumer, "could not make the durable again; will retry");
                    tokio::select! {
                        () = shutdown.cancelled() => return Err(MessagingError::nats(error)),
                        () = tokio::time::sleep(IDLE_CHECK) => {}
                    }
                }
            }
        }
    }
}

/// An idle consumer is not behind: what it skips is wanted by nobody, so it reports no lag
/// (an alert on lag would otherwise fire for every store without a webhook) and it is not
/// stuck. `tillstream_consumer_idle{consumer}` is 1 while it sleeps, and 0 again however
/// the sleep ends (woken, shut down, failed).
struct IdleGauge(String);

impl IdleGauge {
    fn set(name: &str) -> Self {
        let consumer = name.to_owned();
        metrics::gauge!("tillstream_consumer_idle", "consumer" => consumer.clone()).set(1.0);
        health::record_waiting(name, 0);
        for lag in [
            "tillstream_consumer_lag_events",
            "tillstream_consumer_ack_pending",
        ] {
            metrics::gauge!(lag, "consumer" => consumer.clone()).set(0.0);
        }
        IdleGauge(consumer)
    }
}

impl Drop for IdleGauge {
    fn drop(&mut self) {
        metrics::gauge!("tillstream_consumer_idle", "consumer" => self.0.clone()).set(0.0);
    }
}
