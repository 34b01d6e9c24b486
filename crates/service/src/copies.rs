//! Local copies of other services' data (the catalog in inventory and sales, locations in
//! sales) follow their events a moment behind. A command that misses something in its copy
//! waits a little for the copy to catch up before refusing, so a back office that creates a
//! product and receives it at once is not told the product does not exist. Hits answer at
//! once; only a miss waits.

use std::future::Future;
use std::time::{Duration, Instant};

/// How long a miss waits for the copy.
pub const COPY_PATIENCE: Duration = Duration::from_secs(2);
const POLL: Duration = Duration::from_millis(50);

/// Looks with `look` until `found` accepts the answer or `COPY_PATIENCE` has passed; the
/// last answer.
pub async fn settle<T, E, F, Fut>(mut look: F, found: impl Fn(&T) -> bool) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let deadline = Instant::now() + COPY_PATIENCE;
    loop {
        let answer = look().await?;
        if found(&answer) || Instant::now() >= deadline {
            return Ok(answer);
        }
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test]
    async fn a_miss_is_looked_at_again_until_found() {
        let looks = AtomicU32::new(0);
        let answer: Result<u32, ()> = settle(
            || async { Ok(looks.fetch_add(1, Ordering::SeqCst)) },
            |n| *n >= 3,
        )
        .await;
        assert_eq!(answer, Ok(3));
    }

    #[tokio::test]
    async fn a_miss_that_stays_one_is_answered_after_the_patience() {
        let answer: Result<Option<u32>, ()> = settle(|| async { Ok(None) }, Option::is_some).await;
        assert_eq!(answer, Ok(None));
    }
}
