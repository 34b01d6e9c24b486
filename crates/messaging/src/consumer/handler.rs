//! What a consumer applies events with: the handler a service implements, and what its
//! answers mean.

use std::future::Future;

use sqlx::{PgConnection, PgPool};

use super::InboundEvent;

/// What handling one event comes to.
pub type Handled = Result<(), HandlerError>;

/// What handling a chunk comes to: `false` when the handler leaves it to `handle`, event
/// by event.
pub type ChunkHandled = Result<bool, HandlerError>;

/// Why a handler did not apply an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandlerError {
    /// Might work later (a dependency is down, a conflict): retried with backoff.
    #[error("retry: {0}")]
    Retry(String),
    /// Will never work (malformed, violates the contract): dead-lettered at once.
    #[error("reject: {0}")]
    Reject(String),
}

impl From<sqlx::Error> for HandlerError {
    fn from(error: sqlx::Error) -> Self {
        HandlerError::Retry(error.to_string())
    }
}

/// Applies one event inside the consumer's transaction (which also holds the inbox row).
pub trait Handler: Send + Sync + 'static {
    /// Whether `handle_chunk` is worth trying before handling a chunk event by event.
    const HANDLES_CHUNKS: bool = false;

    /// Whether the handler appends events to its service's store (stock movements, ledger
    /// entries): the consumer then announces its commits (`Consumer::announcing`).
    const APPENDS: bool = false;

    /// Whether the handler does anything with `event` (by its type or stream). One it
    /// does not want is acknowledged without a transaction or an inbox row: with no
    /// effect, there is nothing for a redelivery to double.
    fn wants(&self, event: &InboundEvent) -> bool {
        let _ = event;
        true
    }

    /// Called with each batch before `wants` is asked about its events, for a handler
    /// whose interest changes at run time (webhook subscriptions) to read it. Every event
    /// of the batch was recorded before the call, so what it reads covers them. A handler
    /// that cannot read it must then want everything. An idle consumer calls it once a
    /// second, with no batch, to learn whether something is wanted now.
    fn refresh<'a>(&'a self, pool: &'a PgPool) -> impl Future<Output = ()> + Send + 'a {
        let _ = pool;
        async {}
    }

    /// As of the last `refresh`, whether the handler wants no event at all (no webhook
    /// subscription): the consumer then fetches nothing and skips what is published, asking
    /// `refresh` again every second until something is wanted (`consumer/idle.rs`).
    fn idle(&self) -> bool {
        false
    }

    /// Called first in a batch's transaction with its wanted events, for a handler whose
    /// events lock rows that another writer may lock in another order (stock items, a
    /// repair's row named on two streams) to take them all now, in one order. `chunked`:
    /// the batch goes to `handle_chunk` next (which may order its own), and if that
    /// declines, this is called again with `false` before it goes event by event. It sees
    /// events before the inbox does (some may be duplicates, or refused later), and what it
    /// writes is kept with the batch; a failure or a panic only costs the precaution: the
    /// batch goes on in a fresh transaction.
    fn lock_first<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        events: &'a [&'a InboundEvent],
        chunked: bool,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send + 'a {
        let _ = (tx, events, chunked);
        async { Ok(()) }
    }

    /// Applies one fresh event in the consumer's transaction, behind a savepoint of its
    /// own: `Retry` for what may work later, `Reject` for what never will.
    fn handle<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        event: &'a InboundEvent,
    ) -> impl Future<Output = Handled> + Send + 'a;

    /// Applies a chunk of fresh events at once (a backlog's hundred sales in a few
    /// statements), inside a savepoint of the consumer's. `Ok(false)` or any error: nothing
    /// the chunk wrote is kept and its events are handled one by one, so a handler takes
    /// this fast path only for the chunks it fully understands and leaves the rest (mixed
    /// kinds, a duplicate, a malformed event) to `handle`, which says what went wrong.
    fn handle_chunk<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        events: &'a [&'a InboundEvent],
    ) -> impl Future<Output = ChunkHandled> + Send + 'a {
        let _ = (tx, events);
        async { Ok(false) }
    }
}
