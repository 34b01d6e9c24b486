//! Messaging failures.

#[derive(Debug, thiserror::Error)]
pub enum MessagingError {
    #[error(transparent)]
    Store(#[from] tillstream_eventstore::StoreError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("NATS: {0}")]
    Nats(String),
    #[error("event {event_id} could not be encoded: {reason}")]
    Encode { event_id: String, reason: String },
}

impl MessagingError {
    /// Wraps any NATS client error; they are many types with nothing to match on here.
    pub fn nats(error: impl std::fmt::Display) -> Self {
        MessagingError::Nats(error.to_string())
    }
}
