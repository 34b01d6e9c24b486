//! Creating (or updating) the JetStream streams at start, idempotently.

use std::time::Duration;

use async_nats::jetstream::{self, stream};

use crate::{MessagingError, Naming};

/// Retention settings for a service's stream.
#[derive(Debug, Clone)]
pub struct StreamSettings {
    /// 0 keeps events until the stream's limits say otherwise. Tests use a short age so
    /// a crashed test leaves nothing behind for long.
    pub max_age: Duration,
    /// How long the broker remembers a `Nats-Msg-Id` to drop a republished duplicate.
    pub duplicate_window: Duration,
    pub replicas: usize,
    /// The stream's size limit (-1: none but the server's); past it the oldest messages
    /// go. A size, never an age: the newest message always stays, which the relay's broker
    /// check relies on (a stream whose last acknowledged message is gone was purged), and
    /// the store keeps every event for a replay from the start. The server reserves this
    /// much of its JetStream storage for the stream when the stream is created.
    pub max_bytes: i64,
}

impl Default for StreamSettings {
    fn default() -> Self {
        StreamSettings {
            max_age: Duration::ZERO,
            duplicate_window: Duration::from_secs(120),
            replicas: 1,
            max_bytes: -1,
        }
    }
}

/// Creates `service`'s stream with default settings unless it exists, and leaves an existing
/// one as it is: what a consumer of it does, so that only the owner's relay sets its limits.
pub async fn ensure_source_stream(
    js: &jetstream::Context,
    naming: &Naming,
    service: &str,
) -> Result<stream::Info, MessagingError> {
    let config = stream_config(
        naming.service_stream(service),
        naming.service_subjects(service),
        &StreamSettings::default(),
    );
    let stream = js
        .get_or_create_stream(config)
        .await
        .map_err(MessagingError::nats)?;
    stream.get_info().await.map_err(MessagingError::nats)
}

/// The stream holding `service`'s events (`<prefix>_<service>`, subjects `<prefix>.<service>.>`),
/// created or updated to `settings`.
pub async fn ensure_service_stream(
    js: &jetstream::Context,
    naming: &Naming,
    service: &str,
    settings: &StreamSettings,
) -> Result<stream::Info, MessagingError> {
    ensure(
        js,
        naming.service_stream(service),
        naming.service_subjects(service),
        settings,
    )
    .await
}

/// The stream of dead letters under the prefix.
pub async fn ensure_dead_letter_stream(
    js: &jetstream::Context,
    naming: &Naming,
    settings: &StreamSettings,
) -> Result<stream::Info, MessagingError> {
    ensure(
        js,
        naming.dead_letter_stream(),
        naming.dead_letter_subjects(),
        settings,
    )
    .await
}

async fn ensure(
    js: &jetstream::Context,
    name: String,
    subjects: String,
    settings: &StreamSettings,
) -> Result<stream::Info, MessagingError> {
    js.create_or_update_stream(stream_config(name, subjects, settings))
        .await
        .map_err(MessagingError::nats)
}

fn stream_config(name: String, subjects: String, settings: &StreamSettings) -> stream::Config {
    stream::Config {
        name,
        subjects: vec![subjects],
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        discard: stream::DiscardPolicy::Old,
        max_age: settings.max_age,
        max_bytes: settings.max_bytes,
        duplicate_window: settings.duplicate_window,
        num_replicas: settings.replicas,
        ..Default::default()
    }
}
