//! The relay: publishes a service's events from its store to its JetStream stream, in log
//! order, and advances its checkpoint only after the broker acknowledged them.
//!
//! Delivery is at least once: a crash between publish and checkpoint republishes the
//! batch, and the broker drops the copies by `Nats-Msg-Id` (= event id) within its
//! duplicate window; consumers dedupe by event id in their inbox beyond it. The store is
//! the truth: when the broker lost acknowledged messages (a crash with lazy fsync, a purged
//! or recreated stream), the relay notices and republishes them from the store.

mod checkpoint;
mod heal;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream;
use async_nats::jetstream::context::PublishAckFuture;
use futures::future::try_join_all;
use tillstream_eventstore::{Cursor, EventStore, RecordedEvent};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

pub use heal::HealOutcome;

use crate::wire::event_headers;
use crate::{MessagingError, Naming, StreamSettings, WireFormat, ensure_service_stream};
use checkpoint::Checkpoint;

/// Batches a running relay publishes per round before it looks at its timers again.
const PUMP_BATCHES: usize = 16;

/// What a relay round left to do.
enum Idle {
    /// It published: there may be more.
    No,
    /// Committed events wait beyond what it read (behind the horizon, or since).
    Behind,
    /// Nothing after its cursor: it waits for an append.
    CaughtUp,
}

/// What a pump did.
struct Pumped {
    /// Events the broker acknowledged.
    published: usize,
    /// The checkpoint it got to.
    cursor: Cursor,
    /// Its last read found less than a batch: the log held no more at that moment.
    drained: bool,
}

impl Pumped {
    /// Stopped early (the checkpoint moved under it, or the stream was healed): the next
    /// round starts over from the database.
    fn stopped(published: usize, cursor: Cursor) -> Self {
        Pumped {
            published,
            cursor,
            drained: false,
        }
    }
}

/// How a relay runs.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    pub service: String,
    pub naming: Naming,
    pub stream: StreamSettings,
    /// Events read and published per round; their acks are awaited together.
    pub batch_size: i64,
    /// Pause between reads while committed events wait behind an older running
    /// transaction (the gap-safe horizon); otherwise the relay waits for an append.
    pub idle_poll: Duration,
    /// How often an idle relay checks that the broker still has what it acknowledged.
    pub verify_every: Duration,
    /// Longest pause between retries while NATS or PostgreSQL is unreachable.
    pub max_backoff: Duration,
}

impl RelayConfig {
    pub fn new(service: impl Into<String>, naming: Naming) -> Self {
        RelayConfig {
            service: service.into(),
            naming,
            stream: StreamSettings::default(),
            batch_size: 1000,
            idle_poll: Duration::from_millis(20),
            verify_every: Duration::from_secs(5),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// Publishes one service's store to its stream.
pub struct Relay {
    store: EventStore,
    js: jetstream::Context,
    wire: Arc<dyn WireFormat>,
    config: RelayConfig,
    stream_name: String,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("stream", &self.stream_name)
            .finish_non_exhaustive()
    }
}

impl Relay {
    pub fn new(
        store: EventStore,
        client: async_nats::Client,
        wire: Arc<dyn WireFormat>,
        config: RelayConfig,
    ) -> Self {
        let stream_name = config.naming.service_stream(&config.service);
        let js = jetstream::new(client);
        Relay {
            store,
            js,
            wire,
            config,
            stream_name,
        }
    }

    /// Creates or updates the service's stream.
    pub async fn ensure_stream(&self) -> Result<(), MessagingError> {
        ensure_service_stream(
            &self.js,
            &self.config.naming,
            &self.config.service,
            &self.config.stream,
        )
        .await?;
        Ok(())
    }

    /// Runs until `shutdown`: publishes new events as they commit (woken by the commit,
    /// see `EventStore::appends`), retries with backoff while NATS or PostgreSQL is away,
    /// and heals the stream after a broker loss.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut must_verify = true;
        let mut last_verify = Instant::now();
        let mut backoff = Duration::from_millis(50);
        let mut appends = self.store.appends();
        // The checkpoint as this relay last saved it: the next round goes on from it
        // without loading it again (`resume`).
        let mut kept: Option<Checkpoint> = None;
        info!(stream = %self.stream_name, "relay started");
        while !shutdown.is_cancelled() {
            let round_started = Instant::now();
            let step = async {
                if must_verify || last_verify.elapsed() >= self.config.verify_every {
                    // A heal rewinds the checkpoint in the database.
                    kept = None;
                    // A stream the server will not update (limits beyond what it can
                    // reserve) is still published to; the check below fails if it is gone.
                    if let Err(error) = self.ensure_stream().await {
                        warn!(%error, stream = %self.stream_name, "could not create or update the stream");
                        metrics::counter!("tillstream_relay_errors_total", "service" => self.config.service.clone())
                            .increment(1);
                    }
                    self.verify_broker().await?;
                    self.report_lag().await;
                    must_verify = false;
                    last_verify = Instant::now();
                }
                let pumped = self.pump(PUMP_BATCHES, &mut kept).await?;
                if pumped.published > 0 && !pumped.drained {
                    return Ok(Idle::No);
                }
                // Beyond the last read: committed since, or hidden by the horizon (no
                // commit will say). Read again after a pause either way: the sales a busy
                // till rings up meanwhile go in one batch, not one round each.
                if self.store.head().await? > pumped.cursor {
                    Ok(Idle::Behind)
                } else {
                    Ok(Idle::CaughtUp)
                }
            };
            let result: Result<Idle, MessagingError> = step.await;
            let pause = match result {
                Ok(Idle::No) => {
                    backoff = Duration::from_millis(50);
                    continue;
                }
                Ok(Idle::Behind) => self.config.idle_poll,
                Ok(Idle::CaughtUp) => {
                    let until_verify = self
                        .config
                        .verify_every
                        .saturating_sub(last_verify.elapsed());
                    let spacing = self.config.idle_poll;
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        pause = appends.next_round(until_verify, round_started, spacing) => pause,
                    }
                }
                Err(error) => {
                    warn!(%error, stream = %self.stream_name, "relay round failed; will retry");
                    metrics::counter!("tillstream_relay_errors_total", "service" => self.config.service.clone())
                        .increment(1);
                    must_verify = true;
                    let pause = backoff;
                    backoff = (backoff * 2).min(self.config.max_backoff);
                    pause
                }
            };
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(pause) => {}
            }
        }
        info!(stream = %self.stream_name, "relay stopped");
    }

    /// Publishes the next batch after the checkpoint and advances it. Returns how many
    /// events were published (0 when caught up).
    pub async fn publish_batch(&self) -> Result<usize, MessagingError> {
        Ok(self.pump(1, &mut None).await?.published)
    }

    /// Publishes up to `max_batches` batches. The broker is kept busy: the next batch is
    /// read while the current one is acknowledged, and the checkpoint of one batch is
    /// written while the next is sent. A batch shorter than `batch_size` was all the log
    /// held: nothing is read after it (a commit since wakes the relay, or `head` says so).
    /// `kept`: the checkpoint this relay saved last, taken to start from and given back
    /// once the pump saved its own (left empty when it stopped early or failed).
    async fn pump(
        &self,
        max_batches: usize,
        kept: &mut Option<Checkpoint>,
    ) -> Result<Pumped, MessagingError> {
        // `stored` is what the database holds; `acked` runs up to one batch ahead of it.
        let (mut stored, mut events) = self.resume(kept.take()).await?;
        let mut acked = stored.clone();
        let mut published = 0;
        let mut drained = false;
        for round in 0..max_batches {
            let Some(last) = events.last() else {
                drained = true;
                break;
            };
            let (last_cursor, last_event_id) = (last.cursor(), last.event_id);
            let full = i64::try_from(events.len()).is_ok_and(|n| n >= self.config.batch_size);
            let (sent, saved) =
                tokio::join!(self.send(&acked, &events), self.save(&stored, &acked));
            if !saved? {
                return Ok(Pumped::stopped(published, stored.cursor));
            }
            published += self.count_published(&stored, &acked);
            stored = acked.clone();
            let read_ahead = full && round + 1 < max_batches;
            let (acks, following) = tokio::join!(
                try_join_all(sent?.into_iter().map(|ack| async move { ack.await })),
                async {
                    if read_ahead {
                        self.store
                            .read_all(last_cursor, self.config.batch_size)
                            .await
                    } else {
                        Ok(Vec::new())
                    }
                }
            );
            let acks = acks.map_err(MessagingError::nats)?;
            let fresh = acks
                .iter()
                .filter(|a| !a.duplicate)
                .map(|a| a.sequence)
                .min();
            if let Some(first_fresh) = fresh
                && acked.last_stream_seq > 0
                && first_fresh <= acked.last_stream_seq
            {
                // The stream's sequence went backwards: it was recreated or lost its tail.
                // Heal before advancing, from what survived below this batch.
                self.heal_after_rewind(&acked, first_fresh).await?;
                return Ok(Pumped::stopped(published, stored.cursor));
            }
            let last_seq = acks.iter().map(|a| a.sequence).max().unwrap_or(0);
            let last_seq = last_seq.max(acked.last_stream_seq);
            acked = acked.advanced(last_cursor, last_seq, last_event_id, events.len());
            events = following?;
            if !full {
                drained = true;
                break;
            }
        }
        if self.save(&stored, &acked).await? {
            published += self.count_published(&stored, &acked);
            let cursor = acked.cursor;
            *kept = Some(acked);
            return Ok(Pumped {
                published,
                cursor,
                drained,
            });
        }
        Ok(Pumped::stopped(published, stored.cursor))
    }

    /// The checkpoint a round starts from and the first batch after it. One `kept` from
    /// the last round spares loading it: it is read after in one statement with the check
    /// that the stored checkpoint is still that one, so a rewind (an operator's, another
    /// replica's heal in a leadership handover) made since is seen before anything is
    /// sent, as when each round loaded it. Nothing read after `kept` is either that case
    /// or a caught-up log: the stored one is loaded to tell which.
    async fn resume(
        &self,
        kept: Option<Checkpoint>,
    ) -> Result<(Checkpoint, Vec<RecordedEvent>), MessagingError> {
        let batch = self.config.batch_size;
        let mut found_nothing_after = None;
        if let Some(kept) = kept {
            let events = self
                .store
                .read_all_from_checkpoint(&self.stream_name, kept.cursor, kept.heal_epoch, batch)
                .await?;
            if !events.is_empty() {
                return Ok((kept, events));
            }
            found_nothing_after = Some(kept);
        }
        let stored = Checkpoint::load(self.store.pool(), &self.stream_name).await?;
        if let Some(kept) = found_nothing_after
            && kept.cursor == stored.cursor
            && kept.heal_epoch == stored.heal_epoch
        {
            return Ok((stored, Vec::new()));
        }
        let events = self.store.read_all(stored.cursor, batch).await?;
        Ok((stored, events))
    }

    /// Writes `acked` over `stored` (no-op when equal). False when the checkpoint was
    /// moved under us (a republish): the caller stops and starts over from the database.
    async fn save(&self, stored: &Checkpoint, acked: &Checkpoint) -> Result<bool, MessagingError> {
        if stored == acked {
            return Ok(true);
        }
        let Some(last_event_id) = acked.last_event_id else {
            return Ok(true);
        };
        let saved = stored
            .advance(
                self.store.pool(),
                acked.cursor,
                acked.last_stream_seq,
                last_event_id,
            )
            .await?;
        if !saved {
            debug!(stream = %self.stream_name, "checkpoint moved under us (republish)");
        }
        Ok(saved)
    }

    fn count_published(&self, stored: &Checkpoint, acked: &Checkpoint) -> usize {
        let count = acked
            .events_since_load
            .saturating_sub(stored.events_since_load);
        metrics::counter!("tillstream_relay_published_total", "service" => self.config.service.clone())
            .increment(count as u64);
        count
    }

    /// Puts every event of the batch on the wire; returns the pending acks.
    async fn send(
        &self,
        checkpoint: &Checkpoint,
        events: &[RecordedEvent],
    ) -> Result<Vec<PublishAckFuture>, MessagingError> {
        let service = &self.config.service;
        let mut acks = Vec::with_capacity(events.len());
        for event in events {
            let wire = self.wire.encode(service, event)?;
            let msg_id = checkpoint.message_id(event.event_id);
            let subject = self.config.naming.event_subject(
                service,
                Naming::aggregate_of(&event.stream_id),
                &event.event_type,
            );
            let headers = event_headers(service, event, &wire, &msg_id);
            let ack = self
                .js
                .publish_with_headers(subject, headers, wire.data)
                .await
                .map_err(MessagingError::nats)?;
            acks.push(ack);
        }
        Ok(acks)
    }

    /// Rewinds the relay so the next rounds republish every event after `from` (the
    /// ops CLI's `relay republish --from`). Messages get a new id suffix, so the broker's
    /// duplicate window does not drop them; consumers dedupe by event id.
    pub async fn republish_from(&self, from: Cursor) -> Result<(), MessagingError> {
        Checkpoint::rewind(self.store.pool(), &self.stream_name, from, None).await?;
        info!(stream = %self.stream_name, ?from, "relay rewound for republish");
        Ok(())
    }

    /// The relay's checkpoint: its cursor and the last acknowledged stream sequence.
    pub async fn position(&self) -> Result<(Cursor, u64), MessagingError> {
        let checkpoint = Checkpoint::load(self.store.pool(), &self.stream_name).await?;
        Ok((checkpoint.cursor, checkpoint.last_stream_seq))
    }

    /// Events in the store the relay has not yet published, and the age of the oldest.
    pub async fn lag(&self) -> Result<(i64, Option<Duration>), MessagingError> {
        let (cursor, _) = self.position().await?;
        let (count, oldest) = self.store.backlog(cursor).await?;
        let age = oldest.and_then(|t| (chrono::Utc::now() - t).to_std().ok());
        metrics::gauge!("tillstream_relay_lag_events", "service" => self.config.service.clone())
            .set(count as f64);
        metrics::gauge!("tillstream_relay_lag_seconds", "service" => self.config.service.clone())
            .set(age.map_or(0.0, |a| a.as_secs_f64()));
        Ok((count, age))
    }
}

impl Relay {
    /// Puts the relay's lag and the store's read-horizon age into metrics.
    async fn report_lag(&self) {
        if let Err(error) = self.lag().await {
            warn!(%error, "could not measure relay lag");
        }
        if let Ok(stats) = self.store.horizon_stats().await {
            let age = Duration::from_millis(stats.oldest_transaction_age_ms.max(0) as u64);
            metrics::gauge!(
                "tillstream_eventstore_horizon_age_seconds",
                "service" => self.config.service.clone()
            )
            .set(age.as_secs_f64());
        }
    }
}
