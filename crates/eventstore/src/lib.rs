//! The event store: one append-only table per service database, with optimistic
//! concurrency, idempotency keys and unique claims written in the append's transaction,
//! snapshots for long streams and a gap-safe "everything after this cursor" read.

mod append;
mod command;
mod database;
mod error;
mod event;
mod idempotency;
mod read;
mod snapshot;
mod transaction;

pub use append::{AppendRequest, Appended, Claim};
pub use command::{Decided, RunOptions, Snapshots, UseCase};
pub use database::{DatabaseConfig, connect, create_database_if_missing, drop_database, migrate};
pub use error::StoreError;
pub use event::{Cursor, NewEvent, RecordedEvent};
pub use idempotency::{IdempotencyKey, IdempotentReplay, request_hash};
pub use read::{HorizonStats, read_all};
pub use snapshot::{Loaded, Snapshot};
pub use tillstream_kernel::{DomainEvent, EventMetadata};
pub use transaction::{Answer, CONFLICT_RETRIES, Done, RunError, Transaction};

use sqlx::PgPool;

/// A service's event store. Cheap to clone: it is a pool handle.
#[derive(Debug, Clone)]
pub struct EventStore {
    pool: PgPool,
}

impl EventStore {
    pub fn new(pool: PgPool) -> Self {
        EventStore { pool }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}
