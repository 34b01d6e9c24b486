//! The event store: one append-only table per service database, with optimistic
//! concurrency, idempotency keys and unique claims written in the append's transaction,
//! snapshots for long streams and a gap-safe "everything after this cursor" read.

mod append;
mod command;
mod database;
mod draw;
mod error;
mod event;
mod idempotency;
mod read;
mod snapshot;
mod together;
mod transaction;
mod wake;

pub use append::{AppendRequest, Appended, Claim};
pub use command::{Decided, RunOptions, Snapshots, UseCase};
pub use database::{DatabaseConfig, connect, create_database_if_missing, drop_database, migrate};
pub use draw::Draw;
pub use error::StoreError;
pub use event::{Cursor, NewEvent, RecordedEvent};
pub use idempotency::{IdempotencyKey, IdempotentReplay, request_hash};
pub use read::{HorizonStats, head, read_all};
pub use snapshot::{Loaded, Snapshot};
pub use tillstream_kernel::{DomainEvent, EventMetadata};
pub use transaction::{Answer, CONFLICT_RETRIES, Done, RunError, Transaction};
pub use wake::{APPENDED_CHANNEL, AppendWaiter};

use std::sync::{Arc, OnceLock};

use sqlx::PgPool;

/// A service's event store. Cheap to clone: a pool handle, the listener that wakes the
/// log's readers (started by the first of them) and the task that announces appends.
#[derive(Debug, Clone)]
pub struct EventStore {
    pool: PgPool,
    signal: Arc<OnceLock<wake::AppendSignal>>,
    announcer: Arc<OnceLock<tokio::sync::mpsc::Sender<()>>>,
}

impl EventStore {
    pub fn new(pool: PgPool) -> Self {
        EventStore {
            pool,
            signal: Arc::default(),
            announcer: Arc::default(),
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}
