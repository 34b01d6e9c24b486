//! Lockout: 5 failed logins for a username, or 20 from one client address, within 15
//! minutes, and the next attempt is refused (429) until the oldest of them leaves the window.
//! A success clears the username's failures. Unknown usernames count like known ones, so the
//! answer never tells which names exist.

use std::time::Duration;

use sqlx::PgPool;

use crate::error::AppError;

pub const WINDOW: Duration = Duration::from_secs(900);
/// The window in seconds, as PostgreSQL's `make_interval` takes it.
const WINDOW_SECONDS: f64 = 900.0;
pub const MAX_PER_USERNAME: i64 = 5;
pub const MAX_PER_ADDRESS: i64 = 20;

fn user_subject(username: &str) -> String {
    format!("user:{}", username.trim().to_lowercase())
}

fn addr_subject(addr: &str) -> String {
    format!("addr:{addr}")
}

/// Refuses the attempt while the username or the address is locked out.
pub async fn check(pool: &PgPool, username: &str, addr: Option<&str>) -> Result<(), AppError> {
    let mut subjects = vec![(user_subject(username), MAX_PER_USERNAME)];
    if let Some(addr) = addr {
        subjects.push((addr_subject(addr), MAX_PER_ADDRESS));
    }
    for (subject, max) in subjects {
        // The wait is until the failure that made the count reach `max` leaves the window.
        let row: (i64, Option<i64>) = sqlx::query_as(
            "SELECT count(*), \
                    ceil(extract(epoch FROM (min(failed_at) + make_interval(secs => $2) - now())))::bigint \
               FROM (SELECT failed_at FROM login_failures \
                      WHERE subject = $1 AND failed_at > now() - make_interval(secs => $2) \
                      ORDER BY failed_at DESC LIMIT $3) AS recent",
        )
        .bind(&subject)
        .bind(WINDOW_SECONDS)
        .bind(max)
        .fetch_one(pool)
        .await?;
        if row.0 >= max {
            let seconds = row
                .1
                .and_then(|s| u64::try_from(s).ok())
                .unwrap_or(1)
                .max(1);
            return Err(AppError::LockedOut {
                retry_after: Duration::from_secs(seconds),
            });
        }
    }
    Ok(())
}

/// Counts a failed attempt against the username and the address, and forgets failures
/// that have left the window.
pub async fn record_failure(
    pool: &PgPool,
    username: &str,
    addr: Option<&str>,
) -> Result<(), AppError> {
    let addr = addr.map(addr_subject);
    sqlx::query(
        "WITH gone AS (DELETE FROM login_failures \
                        WHERE subject IN ($1, coalesce($2, $1)) \
                          AND failed_at <= now() - make_interval(secs => $3)) \
         INSERT INTO login_failures (subject) \
         SELECT s FROM unnest(ARRAY[$1, $2]) AS s WHERE s IS NOT NULL",
    )
    .bind(user_subject(username))
    .bind(addr)
    .bind(WINDOW_SECONDS)
    .execute(pool)
    .await?;
    Ok(())
}

/// A success resets the username's count.
pub async fn reset(pool: &PgPool, username: &str) -> Result<(), AppError> {
    sqlx::query("DELETE FROM login_failures WHERE subject = $1")
        .bind(user_subject(username))
        .execute(pool)
        .await?;
    Ok(())
}
