//! Durable pull consumers: another service's events applied exactly once.
//!
//! JetStream delivers at least once; the handler's effects and an inbox row with the event
//! id are committed in one transaction, so a redelivered event finds its inbox row and has
//! no second effect. A failing event is retried with backoff up to `max_deliver` times and
//! then copied to the dead-letter stream with the reason; a malformed one goes there at once.

mod config;
mod durable;
mod handler;
mod health;
mod idle;
mod inbound;

use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer::pull};
use futures::{FutureExt, StreamExt};
use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, info, info_span, warn};
use uuid::Uuid;

pub use config::ConsumerConfig;
pub use handler::{ChunkHandled, Handled, Handler, HandlerError};
pub use health::{ConsumerHealth, STUCK_AFTER, consumer_health, record_restart};
pub use inbound::InboundEvent;

use crate::MessagingError;
use crate::dead_letter::{report_depth, send_to_dead_letters};

/// How often a consumer reports its lag and its dead-letter depth.
const REPORT_EVERY: Duration = Duration::from_secs(15);

/// A running reaction to another service's events.
pub struct Consumer<H> {
    pool: PgPool,
    js: jetstream::Context,
    handler: Arc<H>,
    config: ConsumerConfig,
    /// Where the appends of a handler that makes them are announced after each commit.
    appends_to: Option<tillstream_eventstore::EventStore>,
}

impl<H> std::fmt::Debug for Consumer<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("name", &self.config.durable_name())
            .finish_non_exhaustive()
    }
}

enum Outcome {
    Applied,
    Duplicate,
    /// None of the handler's business (`Handler::wants`): acknowledged, nothing written.
    Ignored,
}

impl<H: Handler> Consumer<H> {
    pub fn new(
        pool: PgPool,
        client: async_nats::Client,
        handler: H,
        config: ConsumerConfig,
    ) -> Self {
        Consumer::shared(pool, client, Arc::new(handler), config)
    }

    /// A consumer of a handler that outlives it (a supervisor starts a new consumer with
    /// the same handler when the old one's task dies).
    pub fn shared(
        pool: PgPool,
        client: async_nats::Client,
        handler: Arc<H>,
        config: ConsumerConfig,
    ) -> Self {
        Consumer {
            pool,
            js: jetstream::new(client),
            handler,
            config,
            appends_to: None,
        }
    }

    /// Announces on `store`, after each commit that applied an event, that the handler's
    /// appends are in (for a handler that makes them: `Handler::APPENDS`), so the relay
    /// publishes them without waiting for its periodic check.
    pub fn announcing(mut self, store: tillstream_eventstore::EventStore) -> Self {
        self.appends_to = Some(store);
        self
    }

    fn announce(&self, outcomes: &[Result<Outcome, HandlerError>]) {
        if H::APPENDS
            && let Some(store) = &self.appends_to
            && outcomes.iter().any(|o| matches!(o, Ok(Outcome::Applied)))
        {
            store.announce();
        }
    }

    /// Consumes until `shutdown`. Messages fetched but not yet handled at shutdown are
    /// handed back at once (nak), not left to time out.
    pub async fn run(self, shutdown: CancellationToken) {
        let durable = self.config.durable_name();
        let mut backoff = Duration::from_millis(100);
        info!(consumer = %durable, "consumer started");
        while !shutdown.is_cancelled() {
            match self.consume(&shutdown).await {
                Ok(()) => break,
                Err(error) => {
                    warn!(%error, consumer = %durable, "consumer failed; will retry");
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
        info!(consumer = %durable, "consumer stopped");
    }

    async fn consume(&self, shutdown: &CancellationToken) -> Result<(), MessagingError> {
        let mut consumer = self.ensure().await?;
        let mut reported: Option<std::time::Instant> = None;
        let mut last_fetched = self.config.batch_size;
        while !shutdown.is_cancelled() {
            if self.handler.idle() {
                match self.sleep_while_idle(shutdown).await? {
                    Some(woken) => consumer = woken,
                    None => return Ok(()),
                }
                reported = None;
            }
            if last_fetched < self.config.batch_size && !self.config.gather.is_zero() {
                tokio::select! {
                    () = shutdown.cancelled() => return Ok(()),
                    () = tokio::time::sleep(self.config.gather) => {}
                }
            }
            last_fetched = 0;
            if reported.is_none_or(|at| at.elapsed() >= REPORT_EVERY) {
                report_depth(&self.js, &self.config).await;
                // A broker that did not answer this time is asked again on the next round,
                // not in fifteen seconds: the gauges exist from the start.
                if self.report_lag(&mut consumer).await {
                    reported = Some(std::time::Instant::now());
                }
            }
            let fetched = consumer
                .fetch()
                .max_messages(self.config.batch_size)
                .expires(Duration::from_millis(500))
                .messages();
            let batch = tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                batch = fetched => batch.map_err(MessagingError::nats)?,
            };
            // Whatever has arrived is applied together: one commit for a backlog's hundred
            // events, no waiting for company when a single one comes in.
            let mut chunks = batch.ready_chunks(self.config.batch_size.max(1));
            while let Some(chunk) = chunks.next().await {
                last_fetched += chunk.len();
                let mut messages = Vec::with_capacity(chunk.len());
                for message in chunk {
                    messages.push(message.map_err(MessagingError::nats)?);
                }
                if shutdown.is_cancelled() {
                    for message in messages {
                        let _ = message.ack_with(AckKind::Nak(None)).await;
                    }
                    continue;
                }
                self.process(messages).await?;
            }
        }
        Ok(())
    }

    /// Handles a chunk of messages in one transaction, each event behind its own savepoint
    /// so one that fails leaves the others' effects in place. Acknowledges only after the
    /// commit; returns an error only when a message could not even be acknowledged, which
    /// means the connection is gone.
    async fn process(&self, messages: Vec<jetstream::Message>) -> Result<(), MessagingError> {
        let events: Vec<Result<InboundEvent, String>> =
            messages.iter().map(InboundEvent::parse).collect();
        self.handler.refresh(&self.pool).await;
        // Asked once per event: a handler may decode the event to answer.
        let wanted: Vec<bool> = events
            .iter()
            .map(|event| event.as_ref().is_ok_and(|event| self.handler.wants(event)))
            .collect();
        let outcomes = match self.apply_all(&events, &wanted).await {
            Ok(outcomes) => outcomes,
            Err(error) => {
                // The transaction itself failed (the database went away, the commit was
                // refused): nothing was applied, everything the handler wants comes again.
                warn!(%error, consumer = %self.config.durable_name(), "batch not applied; will retry");
                let retry = HandlerError::Retry(error.to_string());
                events
                    .iter()
                    .zip(&wanted)
                    .map(|(event, wanted)| match event {
                        Ok(_) if !wanted => Ok(Outcome::Ignored),
                        _ => Err(retry.clone()),
                    })
                    .collect()
            }
        };
        for ((message, event), outcome) in messages.iter().zip(&events).zip(outcomes) {
            let ack = match (event, outcome) {
                (Err(reason), _) => {
                    warn!(subject = %message.subject, %reason, "malformed event");
                    self.dead_letter(message, reason).await?
                }
                (Ok(_), Ok(Outcome::Applied)) => {
                    self.count("applied");
                    AckKind::Ack
                }
                (Ok(_), Ok(Outcome::Duplicate)) => {
                    self.count("duplicate");
                    AckKind::Ack
                }
                (Ok(_), Ok(Outcome::Ignored)) => {
                    self.count("ignored");
                    AckKind::Ack
                }
                (Ok(_), Err(HandlerError::Reject(reason))) => {
                    self.dead_letter(message, &reason).await?
                }
                (Ok(event), Err(HandlerError::Retry(reason)))
                    if event.deliveries >= self.config.max_deliver =>
                {
                    let reason = format!("gave up after {} deliveries: {reason}", event.deliveries);
                    self.dead_letter(message, &reason).await?
                }
                (Ok(event), Err(HandlerError::Retry(reason))) => {
                    warn!(event_id = %event.event_id, deliveries = event.deliveries, %reason, "event will be retried");
                    self.count("retried");
                    AckKind::Nak(Some(self.config.backoff_for(event.deliveries)))
                }
            };
            message.ack_with(ack).await.map_err(MessagingError::nats)?;
        }
        health::record_progress(&self.config.durable_name());
        Ok(())
    }

    async fn dead_letter(
        &self,
        message: &jetstream::Message,
        reason: &str,
    ) -> Result<AckKind, MessagingError> {
        send_to_dead_letters(&self.js, &self.config, message, reason).await?;
        self.count("dead_lettered");
        Ok(AckKind::Term)
    }

    /// Every well-formed event's inbox row and effects, in one transaction. The outcome of
    /// each (malformed ones are skipped, their outcome unused). `wanted`: the handler's
    /// answer for each event (false for a malformed one).
    async fn apply_all(
        &self,
        events: &[Result<InboundEvent, String>],
        wanted: &[bool],
    ) -> Result<Vec<Result<Outcome, HandlerError>>, sqlx::Error> {
        let wanted_count = wanted.iter().filter(|w| **w).count();
        if wanted_count == 0 {
            return Ok(events.iter().map(|_| Ok(Outcome::Ignored)).collect());
        }
        let well_formed: Vec<&InboundEvent> = events
            .iter()
            .zip(wanted)
            .filter(|(_, wanted)| **wanted)
            .filter_map(|(e, _)| e.as_ref().ok())
            .collect();
        let chunked = H::HANDLES_CHUNKS && wanted_count > 1;
        let tx = self.pool.begin().await?;
        let mut tx = self.locked_first(tx, &well_formed, chunked).await?;
        if chunked {
            if let Some(outcomes) = self
                .apply_chunk(&mut tx, events, wanted, &well_formed)
                .await?
            {
                tx.commit().await?;
                self.announce(&outcomes);
                return Ok(outcomes);
            }
            tx = self.locked_first(tx, &well_formed, false).await?;
        }
        let mut outcomes = Vec::with_capacity(events.len());
        for (event, wanted) in events.iter().zip(wanted) {
            let Ok(event) = event else {
                outcomes.push(Ok(Outcome::Duplicate));
                continue;
            };
            if !wanted {
                outcomes.push(Ok(Outcome::Ignored));
                continue;
            }
            let span = self.event_span(event, 1);
            sqlx::query("SAVEPOINT event").execute(&mut *tx).await?;
            let outcome = self.apply(&mut tx, event).instrument(span).await;
            let end = match outcome {
                Ok(_) => "RELEASE SAVEPOINT event",
                Err(_) => "ROLLBACK TO SAVEPOINT event",
            };
            sqlx::query(end).execute(&mut *tx).await?;
            outcomes.push(outcome);
        }
        tx.commit().await?;
        self.announce(&outcomes);
        Ok(outcomes)
    }

    /// `tx` once the handler's `lock_first` took the batch's contested rows; a fresh
    /// transaction without them when it failed or panicked: an event it cannot take rows
    /// for (one `handle` will refuse) must not hold up the rest of the batch.
    async fn locked_first(
        &self,
        mut tx: sqlx::Transaction<'static, sqlx::Postgres>,
        events: &[&InboundEvent],
        chunked: bool,
    ) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        let locked = AssertUnwindSafe(self.handler.lock_first(&mut tx, events, chunked))
            .catch_unwind()
            .await;
        let reason = match locked {
            Ok(Ok(())) => return Ok(tx),
            Ok(Err(error)) => error.to_string(),
            Err(panic) => format!("it panicked: {}", panic_message(&*panic)),
        };
        warn!(%reason, "batch applied without taking its rows first");
        tx.rollback().await?;
        self.pool.begin().await
    }

    /// The chunk's inbox rows and the handler's fast path, behind one savepoint; `None`
    /// (and nothing written) when the handler declines or fails, so the caller goes event
    /// by event. `well_formed`: the wanted events that decoded.
    async fn apply_chunk(
        &self,
        tx: &mut PgConnection,
        events: &[Result<InboundEvent, String>],
        wanted: &[bool],
        well_formed: &[&InboundEvent],
    ) -> Result<Option<Vec<Result<Outcome, HandlerError>>>, sqlx::Error> {
        let ids: Vec<Uuid> = well_formed.iter().map(|e| Uuid::from(e.event_id)).collect();
        let span = info_span!(
            "consume_chunk",
            consumer = %self.config.durable_name(),
            events = well_formed.len(),
        );
        async {
            sqlx::query("SAVEPOINT chunk").execute(&mut *tx).await?;
            let fresh: Vec<Uuid> = sqlx::query_scalar(
                "INSERT INTO inbox (consumer, event_id) SELECT $1, id FROM unnest($2::uuid[]) AS t(id) \
                 ON CONFLICT DO NOTHING RETURNING event_id",
            )
            .bind(self.config.durable_name())
            .bind(&ids)
            .fetch_all(&mut *tx)
            .await?;
            let mut fresh: HashSet<Uuid> = fresh.into_iter().collect();
            let mut to_apply = Vec::with_capacity(fresh.len());
            // A message delivered twice in one chunk is applied once.
            let outcomes: Vec<Result<Outcome, HandlerError>> = events
                .iter()
                .zip(wanted)
                .map(|(event, wanted)| match event {
                    Ok(_) if !wanted => Ok(Outcome::Ignored),
                    Ok(event) if fresh.remove(&Uuid::from(event.event_id)) => {
                        to_apply.push(event);
                        Ok(Outcome::Applied)
                    }
                    _ => Ok(Outcome::Duplicate),
                })
                .collect();
            let handled = AssertUnwindSafe(self.handler.handle_chunk(tx, &to_apply))
                .catch_unwind()
                .await;
            let applied = to_apply.is_empty()
                || match handled {
                    Ok(Ok(applied)) => applied,
                    Ok(Err(error)) => {
                        debug!(%error, "chunk not applied at once; going event by event");
                        false
                    }
                    // Event by event, the one that panics is found and dead-lettered.
                    Err(panic) => {
                        warn!(panic = %panic_message(&*panic), "chunk handler panicked; going event by event");
                        false
                    }
                };
            if !applied {
                sqlx::query("ROLLBACK TO SAVEPOINT chunk").execute(&mut *tx).await?;
                return Ok(None);
            }
            sqlx::query("RELEASE SAVEPOINT chunk").execute(&mut *tx).await?;
            // Each event's own trace records that it was applied, as part of this chunk.
            for event in &to_apply {
                self.event_span(event, to_apply.len()).in_scope(|| {
                    tracing::debug!("applied in a chunk");
                });
            }
            Ok(Some(outcomes))
        }
        .instrument(span)
        .await
    }

    /// The `consume` span of one event, continuing the trace its `traceparent` names;
    /// `chunk` is how many events were applied together with it.
    fn event_span(&self, event: &InboundEvent, chunk: usize) -> tracing::Span {
        let span = info_span!(
            "consume",
            consumer = %self.config.durable_name(),
            event_id = %event.event_id,
            ce_type = %event.ce_type,
            deliveries = event.deliveries,
            chunk,
            traceparent = event.traceparent.as_deref().unwrap_or(""),
            trace_id = event
                .traceparent
                .as_deref()
                .and_then(tillstream_kernel::trace_id_of)
                .unwrap_or(""),
            span_id = tracing::field::Empty,
        );
        let _ = tillstream_telemetry::continue_trace(&span, event.traceparent.as_deref());
        span
    }

    /// One event's inbox row and effects; a redelivered event finds its row and does nothing.
    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &InboundEvent,
    ) -> Result<Outcome, HandlerError> {
        let fresh = sqlx::query(
            "INSERT INTO inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(self.config.durable_name())
        .bind(Uuid::from(event.event_id))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !fresh {
            return Ok(Outcome::Duplicate);
        }
        // A handler that panics on one event (an overflow in arithmetic that should have
        // been checked) must not stop the flow: the panic is caught here, at the handler's
        // boundary, and the event goes to the dead letters with the panic as the reason.
        match AssertUnwindSafe(self.handler.handle(tx, event))
            .catch_unwind()
            .await
        {
            Ok(handled) => handled?,
            Err(panic) => {
                let reason = format!("the handler panicked: {}", panic_message(&*panic));
                tracing::error!(event_id = %event.event_id, %reason, "handler panicked");
                self.count("panicked");
                return Err(HandlerError::Reject(reason));
            }
        }
        Ok(Outcome::Applied)
    }

    /// `tillstream_consumer_lag_events{consumer}` (messages not yet delivered) and
    /// `tillstream_consumer_ack_pending{consumer}` (delivered, not yet acknowledged), as the
    /// broker counts them; `false` when the broker did not answer.
    async fn report_lag(&self, consumer: &mut jetstream::consumer::Consumer<pull::Config>) -> bool {
        let Ok(info) = consumer.info().await else {
            return false;
        };
        let name = self.config.durable_name();
        let unacknowledged = u64::try_from(info.num_ack_pending).unwrap_or(0);
        health::record_waiting(&name, info.num_pending.saturating_add(unacknowledged));
        metrics::gauge!("tillstream_consumer_lag_events", "consumer" => name.clone())
            .set(info.num_pending as f64);
        metrics::gauge!("tillstream_consumer_ack_pending", "consumer" => name)
            .set(info.num_ack_pending as f64);
        true
    }

    fn count(&self, outcome: &'static str) {
        metrics::counter!(
            "tillstream_consumer_events_total",
            "consumer" => self.config.durable_name(),
            "outcome" => outcome
        )
        .increment(1);
    }
}

/// What a caught panic said (its payload is a `&str` or a `String` when it came from
/// `panic!` or an arithmetic overflow).
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}
