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
}

impl Default for StreamSettings {
    fn default() -> Self {
        StreamSettings {
            max_age: Duration::ZERO,
            duplicate_window: Duration::from_secs(120),
            replicas: 1,
        }
    }
}

/// The stream holding `service`'s events (`<prefix>_<service>`, subjects `<prefix>.<service>.>`).
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
    let config = stream::Config {
        name,
        subjects: vec![subjects],
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        max_age: settings.max_age,
        duplicate_window: settings.duplicate_window,
        num_replicas: settings.replicas,
        ..Default::default()
    };
    js.create_or_update_stream(config)
        .await
        .map_err(MessagingError::nats)
}
