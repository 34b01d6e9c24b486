//! The senders: claim what is due, send each delivery in a task of its own, record how it
//! went. Woken by the commit that queues a delivery (LISTEN/NOTIFY), by a finished attempt,
//! or when the next retry falls due; never busy when there is nothing to send.

pub mod send;

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, info_span, warn};

use crate::domain::schedule::{ATTEMPT_TIMEOUT, wait_after};
use crate::projections::deliveries::{self, Claimed, Outcome};
use crate::projections::subscriptions::DUE_CHANNEL;
use send::{Attempt, Sender};

/// Attempts in flight from one process at most.
pub const IN_FLIGHT_MAX: usize = 64;
/// Attempts in flight to one subscription at most (across every sender): a receiver that
/// never answers holds this many, and the others go on.
pub const PER_RECEIVER: i64 = 4;
/// How long a claim holds: past the attempt's timeout, so a live sender always records
/// before another may take its delivery; a dead sender's deliveries are sent again after it.
pub const LEASE: Duration = Duration::from_secs(ATTEMPT_TIMEOUT.as_secs() * 3);
/// The longest sleep with nothing due: a missed notification costs at most this.
const IDLE_CHECK: Duration = Duration::from_secs(5);
/// How often the backlog gauges are refreshed (and settled deliveries pruned).
const REPORT_EVERY: Duration = Duration::from_secs(15);
/// How long delivered and failed deliveries stay in the log.
pub const RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);
const PRUNE_BATCH: i64 = 1_000;
/// The pause after the database failed a query.
const TROUBLE_PAUSE: Duration = Duration::from_secs(5);
/// How often a sender without a LISTEN connection tries to get one again.
const LISTEN_RETRY: Duration = Duration::from_secs(30);
/// How long attempts in flight at shutdown get to finish.
const DRAIN: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct Dispatcher {
    pub pool: PgPool,
    pub sender: Sender,
}

impl Dispatcher {
    /// Sends until `stop`; attempts still in flight then get a moment to finish, and the
    /// rest are left to their leases (sent again once those run out).
    pub async fn run(self, stop: CancellationToken) {
        let mut listener = self.listen().await;
        let mut listened = Instant::now();
        let mut in_flight = JoinSet::new();
        let mut reported = Instant::now() - REPORT_EVERY;
        while !stop.is_cancelled() {
            if reported.elapsed() >= REPORT_EVERY {
                self.report_and_prune().await;
                reported = Instant::now();
            }
            if listener.is_none() && listened.elapsed() >= LISTEN_RETRY {
                listener = self.listen().await;
                listened = Instant::now();
            }
            let free = IN_FLIGHT_MAX.saturating_sub(in_flight.len());
            if free == 0 {
                // Every slot busy: only a finished attempt frees one.
                tokio::select! {
                    () = stop.cancelled() => break,
                    finished = in_flight.join_next() => log_panic(finished),
                }
                continue;
            }
            let claimed =
                match deliveries::claim(&self.pool, free as i64, PER_RECEIVER, LEASE).await {
                    Ok(claimed) => claimed,
                    Err(error) => {
                        warn!(%error, "claiming due webhook deliveries");
                        pause(&stop, TROUBLE_PAUSE).await;
                        continue;
                    }
                };
            let claimed_all = claimed.len() == free;
            for delivery in claimed {
                in_flight.spawn(self.clone().attempt(delivery));
            }
            if claimed_all {
                continue;
            }
            let until_due = self.until_next_due().await;
            tokio::select! {
                () = stop.cancelled() => break,
                finished = in_flight.join_next(), if !in_flight.is_empty() => log_panic(finished),
                () = notified(&mut listener) => {}
                () = tokio::time::sleep(until_due) => {}
            }
        }
        let drained = tokio::time::timeout(DRAIN, async {
            while let Some(finished) = in_flight.join_next().await {
                log_panic(Some(finished));
            }
        });
        if drained.await.is_err() {
            in_flight.abort_all();
        }
    }

    /// One attempt, recorded; a failure to record leaves the lease to run out, and the
    /// delivery is sent again.
    async fn attempt(self, delivery: Claimed) {
        let span = info_span!("webhook delivery", delivery_id = %delivery.id,
            subscription_id = %delivery.subscription_id, event_id = %delivery.event_id);
        async move {
            let attempt = self.sender.send(&delivery).await;
            let failed_before = u32::try_from(delivery.attempts).unwrap_or(0);
            let outcome = outcome_of(attempt, failed_before);
            let label = match (&outcome.error, outcome.retry_in) {
                (None, _) => "delivered",
                (Some(_), Some(_)) => "retry",
                (Some(_), None) => "failed",
            };
            metrics::counter!("tillstream_webhook_attempts_total", "outcome" => label).increment(1);
            if let Err(error) = deliveries::record(&self.pool, &delivery, &outcome).await {
                warn!(%error, "recording a webhook attempt; it will be sent again");
            }
        }
        .instrument(span)
        .await;
    }

    /// The gauges an operator graphs (what waits, and for how long), and settled
    /// deliveries past their retention deleted a batch at a time.
    async fn report_and_prune(&self) {
        match deliveries::backlog(&self.pool).await {
            Ok((pending, oldest)) => {
                metrics::gauge!("tillstream_webhook_deliveries_pending").set(pending as f64);
                metrics::gauge!("tillstream_webhook_oldest_pending_seconds").set(oldest);
            }
            Err(error) => warn!(%error, "reading the webhook backlog"),
        }
        match deliveries::prune(&self.pool, RETENTION, PRUNE_BATCH).await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(
                pruned,
                "settled webhook deliveries past their retention deleted"
            ),
            Err(error) => warn!(%error, "pruning settled webhook deliveries"),
        }
    }

    async fn listen(&self) -> Option<PgListener> {
        // A connection of its own, not one of the pool's: the pool is for the work.
        let own = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect_lazy_with(self.pool.connect_options().as_ref().clone());
        let mut listener = match PgListener::connect_with(&own).await {
            Ok(listener) => listener,
            Err(error) => {
                warn!(%error, "no LISTEN connection yet; checking for due deliveries every 5 s");
                return None;
            }
        };
        match listener.listen(DUE_CHANNEL).await {
            Ok(()) => Some(listener),
            Err(error) => {
                warn!(%error, "LISTEN failed; checking for due deliveries every 5 s");
                None
            }
        }
    }

    /// How long until the next delivery falls due, at most [`IDLE_CHECK`].
    async fn until_next_due(&self) -> Duration {
        match deliveries::next_due(&self.pool).await {
            Ok(Some(due)) => (due - chrono::Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(IDLE_CHECK),
            Ok(None) => IDLE_CHECK,
            Err(error) => {
                warn!(%error, "reading when the next webhook delivery is due");
                IDLE_CHECK
            }
        }
    }
}

async fn pause(stop: &CancellationToken, how_long: Duration) {
    tokio::select! {
        () = stop.cancelled() => {}
        () = tokio::time::sleep(how_long) => {}
    }
}

fn log_panic(finished: Option<Result<(), tokio::task::JoinError>>) {
    if let Some(Err(error)) = finished
        && error.is_panic()
    {
        tracing::error!(%error, "a webhook attempt panicked; it will be sent again");
    }
}

/// Waits for a notification, then takes every other one already buffered (a burst of
/// commits is one wake-up); never returns when there is no listener. The listener
/// reconnects by itself after a lost connection.
async fn notified(listener: &mut Option<PgListener>) {
    match listener {
        Some(listener) => match listener.recv().await {
            Ok(_) => while listener.next_buffered().is_some() {},
            Err(error) => {
                warn!(%error, "the LISTEN connection failed; reconnecting");
                tokio::time::sleep(TROUBLE_PAUSE).await;
            }
        },
        None => std::future::pending().await,
    }
}

/// What an attempt means for its delivery, `failed_before` attempts having failed already.
fn outcome_of(attempt: Attempt, failed_before: u32) -> Outcome {
    match attempt {
        Attempt::Delivered { status } => Outcome {
            status_code: Some(status),
            error: None,
            retry_in: None,
        },
        Attempt::Failed { status, reason } => Outcome {
            status_code: status,
            error: Some(reason),
            retry_in: wait_after(failed_before.saturating_add(1)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_waits_by_the_schedule_and_the_eighth_is_final() {
        let failure = || Attempt::Failed {
            status: Some(503),
            reason: "HTTP 503".into(),
        };
        assert_eq!(
            outcome_of(failure(), 0).retry_in,
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            outcome_of(failure(), 1).retry_in,
            Some(Duration::from_secs(300))
        );
        assert_eq!(outcome_of(failure(), 7).retry_in, None);
        // A manual retry of a failed delivery that fails again is failed again.
        assert_eq!(outcome_of(failure(), 9).retry_in, None);
        let delivered = outcome_of(Attempt::Delivered { status: 204 }, 3);
        assert_eq!(delivered.error, None);
        assert_eq!(delivered.status_code, Some(204));
    }
}
