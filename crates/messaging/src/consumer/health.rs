//! What `/healthz` says of this process's consumers: one that has events waiting and has
//! handled none of them for a while is stuck (a handler that hangs, a task that keeps
//! dying), and an operator should see it there and in the metrics, not find out from
//! stock that stopped moving.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long a consumer may have events waiting without handling any before it is stuck.
pub const STUCK_AFTER: Duration = Duration::from_secs(60);

/// One consumer's state, as `/healthz` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerHealth {
    pub consumer: String,
    /// Messages not yet delivered plus delivered and not yet acknowledged, as last seen.
    pub waiting: u64,
    pub seconds_since_progress: u64,
    /// Times the consumer's task died (a panic outside any handler) and was restarted.
    pub restarts: u64,
    pub stuck: bool,
}

#[derive(Debug)]
struct Entry {
    waiting: u64,
    progress_at: Instant,
    restarts: u64,
}

fn registry() -> &'static Mutex<BTreeMap<String, Entry>> {
    static REGISTRY: OnceLock<Mutex<BTreeMap<String, Entry>>> = OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new(BTreeMap::new()))
}

fn update(consumer: &str, change: impl FnOnce(&mut Entry)) {
    // A poisoned lock only means another thread panicked while holding it; the map of
    // counters is still fine to use.
    let mut map = registry()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let entry = map.entry(consumer.to_owned()).or_insert_with(|| Entry {
        waiting: 0,
        progress_at: Instant::now(),
        restarts: 0,
    });
    change(entry);
}

/// The consumer handled events (applied, skipped as duplicates or dead-lettered).
pub(crate) fn record_progress(consumer: &str) {
    update(consumer, |e| e.progress_at = Instant::now());
}

/// The broker's count of what waits for the consumer.
pub(crate) fn record_waiting(consumer: &str, waiting: u64) {
    update(consumer, |e| {
        // Nothing waiting is progress too: an idle consumer is not stuck.
        if waiting == 0 {
            e.progress_at = Instant::now();
        }
        e.waiting = waiting;
    });
}

/// The consumer's task died and is being started again.
pub fn record_restart(consumer: &str) {
    update(consumer, |e| e.restarts = e.restarts.saturating_add(1));
    metrics::counter!("tillstream_consumer_restarts_total", "consumer" => consumer.to_owned())
        .increment(1);
}

/// Every consumer this process runs, by name.
pub fn consumer_health() -> Vec<ConsumerHealth> {
    let map = registry()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    map.iter()
        .map(|(name, e)| {
            let idle = e.progress_at.elapsed();
            ConsumerHealth {
                consumer: name.clone(),
                waiting: e.waiting,
                seconds_since_progress: idle.as_secs(),
                restarts: e.restarts,
                stuck: e.waiting > 0 && idle >= STUCK_AFTER,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_consumer_with_nothing_waiting_is_not_stuck() {
        record_waiting("health-test-idle", 0);
        let health = consumer_health();
        let idle = health
            .iter()
            .find(|h| h.consumer == "health-test-idle")
            .unwrap();
        assert!(!idle.stuck);
    }

    #[test]
    fn restarts_are_counted() {
        record_restart("health-test-restart");
        record_restart("health-test-restart");
        let health = consumer_health();
        let entry = health
            .iter()
            .find(|h| h.consumer == "health-test-restart")
            .unwrap();
        assert_eq!(entry.restarts, 2);
    }
}
