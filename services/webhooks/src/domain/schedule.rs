//! When a failed delivery is tried again: the Standard Webhooks schedule, after the first
//! attempt 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h (about 27 hours in all), then never.

use std::time::Duration;

/// How long a receiver has to answer one attempt.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;

/// The waits before the second, third, … attempt.
pub const RETRY_WAITS: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * MINUTE),
    Duration::from_secs(30 * MINUTE),
    Duration::from_secs(2 * HOUR),
    Duration::from_secs(5 * HOUR),
    Duration::from_secs(10 * HOUR),
    Duration::from_secs(10 * HOUR),
];

/// Every attempt a delivery gets: the first and one per wait.
pub const MAX_ATTEMPTS: u32 = RETRY_WAITS.len() as u32 + 1;

/// After `failed` attempts have failed, how long until the next; `None` when that was the
/// last one and the delivery has failed for good.
pub fn wait_after(failed: u32) -> Option<Duration> {
    let index = usize::try_from(failed.checked_sub(1)?).ok()?;
    RETRY_WAITS.get(index).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_follow_the_standard_webhooks_schedule_then_stop() {
        let waits: Vec<u64> = (1..=MAX_ATTEMPTS)
            .map_while(wait_after)
            .map(|wait| wait.as_secs())
            .collect();
        assert_eq!(
            waits,
            [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000],
            "5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h"
        );
        assert_eq!(MAX_ATTEMPTS, 8);
        assert_eq!(
            wait_after(MAX_ATTEMPTS),
            None,
            "the eighth failure is the last"
        );
        assert_eq!(wait_after(0), None);
        assert_eq!(wait_after(u32::MAX), None);
        let total: u64 = RETRY_WAITS.iter().map(Duration::as_secs).sum();
        assert!(total > 24 * HOUR, "retried for more than a day");
    }
}
