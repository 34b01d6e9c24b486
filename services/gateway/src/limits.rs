//! Rate limits per client address (before authentication, so a flood of logins is held back
//! too) and per user (after it), from `TILLSTREAM_RATE_LIMIT_ADDR_RPS` and
//! `…_USER_RPS`; `0` turns one off. Over the limit: 429 with `Retry-After`.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::StatusCode;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::ApiError;

/// How many checks between sweeps of keys that have been quiet long enough to forget.
const SWEEP_EVERY: u64 = 4_096;

#[derive(Debug)]
pub struct RateLimits {
    user: Option<DefaultKeyedRateLimiter<String>>,
    addr: Option<DefaultKeyedRateLimiter<String>>,
    checks: AtomicU64,
}

fn limiter(rps: u32) -> Option<DefaultKeyedRateLimiter<String>> {
    // A burst of one second's worth, then `rps` per second.
    NonZeroU32::new(rps).map(|rps| RateLimiter::keyed(Quota::per_second(rps)))
}

impl RateLimits {
    pub fn new(user_rps: u32, addr_rps: u32) -> Self {
        RateLimits {
            user: limiter(user_rps),
            addr: limiter(addr_rps),
            checks: AtomicU64::new(0),
        }
    }

    /// No limits (tests that are not about them, benchmarks).
    pub fn off() -> Self {
        RateLimits::new(0, 0)
    }

    pub fn check_addr(&self, addr: &str) -> Result<(), ApiError> {
        // The address without the port: one client, however many connections.
        let ip = addr.rsplit_once(':').map_or(addr, |(ip, _)| ip);
        self.check(self.addr.as_ref(), ip, "this address")
    }

    pub fn check_user(&self, user: &str) -> Result<(), ApiError> {
        self.check(self.user.as_ref(), user, "this user")
    }

    fn check(
        &self,
        limiter: Option<&DefaultKeyedRateLimiter<String>>,
        key: &str,
        who: &str,
    ) -> Result<(), ApiError> {
        let Some(limiter) = limiter else {
            return Ok(());
        };
        if self
            .checks
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(SWEEP_EVERY)
        {
            limiter.retain_recent();
        }
        limiter.check_key(&key.to_owned()).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let mut error = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many requests from {who}; slow down"),
            );
            // Whole seconds, at least one: what `Retry-After` can say.
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            error.retry_after = Some(seconds.max(1));
            error
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_over_its_rate_waits_and_others_do_not() {
        let limits = RateLimits::new(2, 0);
        assert!(limits.check_user("carol").is_ok());
        assert!(limits.check_user("carol").is_ok());
        let refused = limits
            .check_user("carol")
            .err()
            .map(|e| (e.status, e.retry_after));
        assert_eq!(refused, Some((StatusCode::TOO_MANY_REQUESTS, Some(1))));
        assert!(
            limits.check_user("dave").is_ok(),
            "one user's rate is their own"
        );
        for _ in 0..1_000 {
            assert!(
                limits.check_addr("10.0.0.1:5000").is_ok(),
                "0 turns a limit off"
            );
        }
    }
}
