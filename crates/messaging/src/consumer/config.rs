//! A consumer's settings: what it reads, and how it retries.

use std::time::Duration;

use crate::Naming;

/// A consumer's settings.
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    pub naming: Naming,
    /// The service that consumes (names the durable consumer and its inbox).
    pub service: String,
    /// Short name of this reaction, e.g. `sales`.
    pub name: String,
    /// The service whose stream is read.
    pub source_service: String,
    /// A subject filter within the source stream; all of its events when `None`.
    pub filter_subject: Option<String>,
    /// Attempts before an event is dead-lettered.
    pub max_deliver: i64,
    /// Pause before each retry; the last one repeats.
    pub backoff: Vec<Duration>,
    /// How long the broker waits for an acknowledgement before it delivers a message
    /// again. When the process handling a batch dies, the batch comes again only after
    /// this, while the next leader goes on with what follows: an event that needs one of
    /// that batch (a return needs its sale taken from stock) is retried meanwhile, so the
    /// retries must outlast it (`retries_outlast_a_crashed_batch`).
    pub ack_wait: Duration,
    pub batch_size: usize,
    /// How long to let events gather after a fetch that was not full, before the next: a
    /// consumer that keeps up otherwise takes them a commit, an inbox statement and a fetch
    /// each. Each hop of a flow waits up to this much longer; a backlog never waits.
    pub gather: Duration,
}

impl ConsumerConfig {
    pub fn new(naming: Naming, service: &str, name: &str, source_service: &str) -> Self {
        ConsumerConfig {
            naming,
            service: service.to_owned(),
            name: name.to_owned(),
            source_service: source_service.to_owned(),
            filter_subject: None,
            max_deliver: 5,
            backoff: vec![
                Duration::from_millis(200),
                Duration::from_secs(1),
                Duration::from_secs(5),
                Duration::from_secs(15),
            ],
            ack_wait: Duration::from_secs(10),
            batch_size: 100,
            gather: Duration::ZERO,
        }
    }

    /// The durable consumer's name.
    pub fn durable_name(&self) -> String {
        self.naming.consumer(&self.service, &self.name)
    }

    /// How long the retries of an event take in all before it is dead-lettered.
    pub fn retry_span(&self) -> Duration {
        (1..self.max_deliver).map(|n| self.backoff_for(n)).sum()
    }

    pub(crate) fn backoff_for(&self, deliveries: i64) -> Duration {
        let index = usize::try_from(deliveries.saturating_sub(1)).unwrap_or(0);
        self.backoff
            .get(index)
            .or(self.backoff.last())
            .copied()
            .unwrap_or(Duration::from_secs(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sale's batch in flight when its consumer's process was killed is delivered again
    /// after `ack_wait`; its return, handled meanwhile by the new leader, must still be
    /// retrying then, with time to spare for the batch itself.
    #[test]
    fn retries_outlast_a_crashed_batch() {
        let naming = Naming::new("t".to_owned()).unwrap();
        let config = ConsumerConfig::new(naming, "inventory", "sales", "sales");
        assert!(
            config.retry_span() > config.ack_wait * 2,
            "retries span {:?}, a crashed batch comes again after {:?}",
            config.retry_span(),
            config.ack_wait
        );
    }
}
