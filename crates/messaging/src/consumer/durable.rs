//! The durable consumer on the broker's side: made, updated, and its stream.

use async_nats::jetstream::{self, consumer::pull};

use super::{Consumer, Handler};
use crate::MessagingError;

impl<H: Handler> Consumer<H> {
    /// Creates the durable consumer, or updates it to this configuration.
    pub async fn ensure(
        &self,
    ) -> Result<jetstream::consumer::Consumer<pull::Config>, MessagingError> {
        let stream = self.stream().await?;
        let mut config = self.pull_config();
        if let Ok(consumer) = stream.create_consumer(config.clone()).await {
            return Ok(consumer);
        }
        // One made again by an idle consumer starts past what it skipped (`idle.rs`), and
        // the broker updates everything but where a consumer starts.
        let durable = self.config.durable_name();
        if let Ok(existing) = stream.get_consumer::<pull::Config>(&durable).await {
            config.deliver_policy = existing.cached_info().config.deliver_policy;
        }
        stream
            .update_consumer(config)
            .await
            .map_err(MessagingError::nats)
    }

    pub(super) async fn stream(&self) -> Result<jetstream::stream::Stream, MessagingError> {
        let stream_name = self
            .config
            .naming
            .service_stream(&self.config.source_service);
        self.js
            .get_stream(&stream_name)
            .await
            .map_err(MessagingError::nats)
    }

    pub(super) fn pull_config(&self) -> pull::Config {
        pull::Config {
            durable_name: Some(self.config.durable_name()),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ack_wait: self.config.ack_wait,
            // Our own count dead-letters at max_deliver; the server's limit is a backstop
            // for a process that dies while handling the last attempts.
            max_deliver: self.config.max_deliver + 3,
            filter_subject: self.config.filter_subject.clone().unwrap_or_default(),
            ..Default::default()
        }
    }
}
