//! Reconciliation: a periodic check that every sales event the ledger is sent (sale,
//! return, void) has its journal entry. It reads the sales stream from where the last round
//! stopped (headers only), looks the event ids up among the entries' sources, and lists
//! what is missing beyond a grace period as a gap: a metric
//! (`tillstream_ledger_unposted_sales_events`) and a warning naming the events. Known gaps
//! are rechecked every round, so a replayed dead letter clears its own.

use std::collections::HashSet;
use std::time::Duration;

use async_nats::jetstream::{self, consumer::DeliverPolicy, consumer::pull::OrderedConfig};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use sqlx::PgPool;
use tillstream_messaging::{InboundEvent, Naming};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, info, info_span, warn};

/// The events of the sales stream that post entries of their own: sales, returns, voids, gift
/// cards sold and account payments.
const POSTED_TYPES: [&str; 5] = [
    "tillstream.sales.v1.SaleCompleted",
    "tillstream.sales.v1.SaleReturned",
    "tillstream.sales.v1.SaleVoided",
    "tillstream.sales.v1.GiftCardIssued",
    "tillstream.sales.v1.AccountPaid",
];

/// How many event ids are looked up per query.
const LOOKUP_CHUNK: usize = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("nats: {0}")]
    Nats(String),
}

fn nats(error: impl std::fmt::Display) -> ReconcileError {
    ReconcileError::Nats(error.to_string())
}

/// What a round found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Round {
    /// Sales events read from the stream this round.
    pub checked: u64,
    /// Event ids without an entry beyond the grace period, old and new.
    pub unposted: Vec<String>,
}

/// A sales event as the check needs it.
struct Seen {
    sequence: u64,
    event_id: String,
    event_type: String,
    sale_stream: String,
    published: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Reconciler {
    pub pool: PgPool,
    pub js: jetstream::Context,
    pub naming: Naming,
    /// How long an event may go unposted before it counts as a gap (the consumer's
    /// retries and an ordinary backlog fit inside it).
    pub grace: Duration,
}

impl Reconciler {
    /// Runs a round every `every` until `shutdown` (the end of this replica's term as
    /// leader), then zeroes its gauge: only the leader reports.
    pub async fn run(self, every: Duration, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => {
                    metrics::gauge!("tillstream_ledger_unposted_sales_events").set(0.0);
                    return;
                }
                () = tokio::time::sleep(every) => {}
            }
            let span = info_span!("reconcile", stream = %self.stream_name());
            if let Err(error) = self.round().instrument(span).await {
                warn!(%error, "reconciliation round failed; will try again");
            }
        }
    }

    fn stream_name(&self) -> String {
        self.naming.service_stream("sales")
    }

    /// One round: recheck the known gaps, read the stream's new events, record and report.
    pub async fn round(&self) -> Result<Round, ReconcileError> {
        let stream_name = self.stream_name();
        let cursor: u64 = sqlx::query_scalar::<_, i64>(
            "SELECT sequence FROM reconciliation_cursors WHERE stream = $1",
        )
        .bind(&stream_name)
        .fetch_optional(&self.pool)
        .await?
        .map_or(0, |s| u64::try_from(s).unwrap_or(0));
        sqlx::query(
            "DELETE FROM unposted_sales_events u
             WHERE EXISTS (SELECT 1 FROM journal_entries e WHERE e.source_event_id = u.event_id)",
        )
        .execute(&self.pool)
        .await?;

        let (seen, last_read) = self.read_stream(cursor).await?;
        let now = Utc::now();
        // Past everything read (events that post nothing are not read again), held back below.
        let mut next_cursor = last_read.max(cursor);
        let mut gaps = Vec::new();
        for chunk in seen.chunks(LOOKUP_CHUNK) {
            let ids: Vec<&str> = chunk.iter().map(|s| s.event_id.as_str()).collect();
            let posted: HashSet<String> = sqlx::query_scalar(
                "SELECT source_event_id FROM journal_entries WHERE source_event_id = ANY($1)",
            )
            .bind(&ids)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .collect();
            for event in chunk.iter().filter(|s| !posted.contains(&s.event_id)) {
                let age = (now - event.published).to_std().unwrap_or_default();
                if age < self.grace {
                    // Too young to judge: the next round starts here.
                    next_cursor = next_cursor.min(event.sequence.saturating_sub(1));
                } else {
                    gaps.push(event);
                }
            }
        }
        gaps.retain(|event| event.sequence <= next_cursor);
        self.record(&stream_name, &gaps, next_cursor).await?;

        let unposted: Vec<String> = sqlx::query_scalar(
            "SELECT event_id FROM unposted_sales_events ORDER BY stream_sequence",
        )
        .fetch_all(&self.pool)
        .await?;
        metrics::gauge!("tillstream_ledger_unposted_sales_events").set(unposted.len() as f64);
        metrics::counter!("tillstream_ledger_reconciliation_rounds_total").increment(1);
        let checked = u64::try_from(seen.len()).unwrap_or(u64::MAX);
        if unposted.is_empty() {
            info!(checked, "every sales event is posted");
        } else {
            let shown = unposted
                .iter()
                .take(20)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            warn!(checked, unposted = unposted.len(), events = %shown, "sales events without a journal entry");
        }
        Ok(Round { checked, unposted })
    }

    /// The posting sales events after `cursor`, up to the stream's end, and the sequence of
    /// the last message read (posting or not).
    async fn read_stream(&self, cursor: u64) -> Result<(Vec<Seen>, u64), ReconcileError> {
        let stream = self.js.get_stream(self.stream_name()).await.map_err(nats)?;
        let mut consumer = stream
            .create_consumer(OrderedConfig {
                // The whole stream (sales, gift cards, accounts), headers only; what does not
                // post an entry is skipped below.
                filter_subject: self.naming.service_subjects("sales"),
                headers_only: true,
                deliver_policy: DeliverPolicy::ByStartSequence {
                    start_sequence: cursor + 1,
                },
                ..Default::default()
            })
            .await
            .map_err(nats)?;
        if consumer.info().await.map_err(nats)?.num_pending == 0 {
            return Ok((Vec::new(), cursor));
        }
        let mut messages = consumer.messages().await.map_err(nats)?;
        let mut seen = Vec::new();
        let mut last_read = cursor;
        while let Some(message) = tokio::time::timeout(Duration::from_secs(5), messages.next())
            .await
            .map_err(|_| ReconcileError::Nats("the sales stream stopped answering".into()))?
        {
            let message = message.map_err(nats)?;
            let info = message.info().map_err(nats)?;
            let (sequence, pending) = (info.stream_sequence, info.pending);
            last_read = last_read.max(sequence);
            let published = DateTime::<Utc>::from_timestamp(
                info.published.unix_timestamp(),
                info.published.nanosecond(),
            )
            .unwrap_or_else(Utc::now);
            if let Ok(event) = InboundEvent::parse(&message)
                && POSTED_TYPES.contains(&event.ce_type.as_str())
            {
                seen.push(Seen {
                    sequence,
                    event_id: event.event_id.to_string(),
                    event_type: event.event_type().to_owned(),
                    sale_stream: event.stream_id.unwrap_or_default(),
                    published,
                });
            }
            if pending == 0 {
                break;
            }
        }
        Ok((seen, last_read))
    }

    async fn record(
        &self,
        stream_name: &str,
        gaps: &[&Seen],
        cursor: u64,
    ) -> Result<(), ReconcileError> {
        let mut tx = self.pool.begin().await?;
        for gap in gaps {
            sqlx::query(
                "INSERT INTO unposted_sales_events
                     (event_id, event_type, sale_stream, stream_sequence, published_at)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING",
            )
            .bind(&gap.event_id)
            .bind(&gap.event_type)
            .bind(&gap.sale_stream)
            .bind(i64::try_from(gap.sequence).unwrap_or(i64::MAX))
            .bind(gap.published)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO reconciliation_cursors (stream, sequence) VALUES ($1, $2)
             ON CONFLICT (stream) DO UPDATE SET sequence = EXCLUDED.sequence",
        )
        .bind(stream_name)
        .bind(i64::try_from(cursor).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
