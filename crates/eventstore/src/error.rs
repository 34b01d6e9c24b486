//! What can go wrong in the store, typed so handlers can retry a conflict, answer a
//! duplicate with 409 and replay an idempotent request.

/// An event-store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Someone else appended to the stream since it was loaded: reload and decide again.
    #[error("stream `{stream_id}` is at version {actual}, expected {expected}")]
    Conflict {
        stream_id: String,
        expected: i64,
        actual: i64,
    },
    /// A named unique claim (SKU, barcode, username) is held by another stream.
    #[error("{claim} `{value}` is already taken")]
    Duplicate { claim: String, value: String },
    /// The idempotency key was used for a different request.
    #[error("idempotency key `{key}` was already used with a different request")]
    IdempotencyMismatch { key: String },
    /// A concurrent request with the same idempotency key committed first: look it up again.
    #[error("idempotency key `{key}` was taken by a concurrent request")]
    IdempotencyRace { key: String },
    /// A drawn value goes into one event of a stream that claims nothing (a caller's bug).
    #[error("a drawn value goes into exactly one event, with no claims")]
    NotDrawable,
    #[error("event payload could not be (de)serialized: {0}")]
    Serialization(#[from] serde_json::Error),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Migration(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// Whether the caller should reload and try the command again.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            StoreError::Conflict { .. } | StoreError::IdempotencyRace { .. }
        )
    }

    /// Whether PostgreSQL rolled the transaction back to break a lock cycle with a
    /// concurrent one (SQLSTATE 40P01): nothing of it was kept, and what it read is no
    /// reason to refuse it, so the same work may be done again at once.
    pub fn is_deadlock(&self) -> bool {
        match self {
            StoreError::Database(error) => error
                .as_database_error()
                .and_then(|e| e.code())
                .is_some_and(|code| code == "40P01"),
            _ => false,
        }
    }
}
