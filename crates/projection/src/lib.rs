//! Read models built from a service's own event log: batches applied with the checkpoint
//! in one transaction, rebuilt from zero into fresh tables and swapped in while the
//! service keeps running, with their lag exported as metrics.
//!
//! A projection's tables are physical tables per generation (`stock_levels_g2`) behind a
//! view with the plain name (`stock_levels`) that queries use. A rebuild fills the next
//! generation aside and swaps the views in the same transaction that moves the checkpoint.

mod runner;
mod sku_index;

use std::future::Future;

use sqlx::PgConnection;
use tillstream_eventstore::RecordedEvent;

pub use runner::{ProjectionRunner, RebuildReport, RunnerConfig};
pub use sku_index::SkuIndex;

/// Which generation of a projection's tables to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generation(pub i32);

impl Generation {
    /// The physical name of `base` in this generation.
    pub fn table(&self, base: &str) -> String {
        format!("{base}_g{}", self.0)
    }
}

/// Why a batch could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Store(#[from] tillstream_eventstore::StoreError),
    /// An event the projection cannot read: a bug or a schema change to handle.
    #[error("event {event_id} ({event_type}): {reason}")]
    BadEvent {
        event_id: String,
        event_type: String,
        reason: String,
    },
}

/// A read model.
pub trait Projection: Send + Sync + 'static {
    /// Unique within the service; names the checkpoint and the metrics.
    fn name(&self) -> &'static str;

    /// The base names of its tables; each is queried through a view of that name.
    fn tables(&self) -> &'static [&'static str];

    /// Creates one generation's tables (use `generation.table(base)` for their names).
    fn create_tables<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        generation: Generation,
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send + 'a;

    /// Applies a batch of events in log order. Write set-based SQL where you can: a batch is
    /// hundreds of events, and one statement for all of them is what makes it fast.
    fn apply<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        generation: Generation,
        events: &'a [RecordedEvent],
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send + 'a;
}
