//! Lockout: 5 failed logins for a username, or 20 from one client address, within 15
//! minutes, and the next attempt is refused (429) until the oldest of them leaves the window.
//! A success clears the username's failures. Unknown usernames count like known ones, so the
//! answer never tells which names exist.

use std::time::Duration;

use sqlx::{PgConnection, PgPool};

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

/// An attempt let in to have its secret checked: counted as a failure until it succeeds.
#[derive(Debug)]
#[must_use = "a successful attempt is taken back with `succeeded`"]
pub struct Attempt {
    ids: Vec<i64>,
}

/// Lets an attempt in unless the username or the address is locked out, counting it as a
/// failure before anything is verified. Attempts on one subject are serialized (an advisory
/// lock per subject, held for this short transaction), so thirty parallel guesses get at
/// most five verifications, then 429s, however they interleave.
pub async fn admit(pool: &PgPool, username: &str, addr: Option<&str>) -> Result<Attempt, AppError> {
    let mut subjects = vec![(user_subject(username), MAX_PER_USERNAME)];
    if let Some(addr) = addr {
        subjects.push((addr_subject(addr), MAX_PER_ADDRESS));
    }
    let mut tx = pool.begin().await?;
    // Locks in one order (username first), so two attempts never wait on each other.
    for (subject, _) in &subjects {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(subject)
            .execute(&mut *tx)
            .await?;
    }
    for (subject, max) in &subjects {
        locked_out(&mut tx, subject, *max).await?;
    }
    let names: Vec<&str> = subjects.iter().map(|(s, _)| s.as_str()).collect();
    let ids: Vec<i64> = sqlx::query_scalar(
        "WITH gone AS (DELETE FROM login_failures \
                        WHERE subject = ANY($1) AND failed_at <= now() - make_interval(secs => $2)) \
         INSERT INTO login_failures (subject) SELECT unnest($1::text[]) RETURNING id",
    )
    .bind(&names)
    .bind(WINDOW_SECONDS)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Attempt { ids })
}

/// `LockedOut` while `subject` has `max` failures in the window; the wait is until the one
/// that made the count reach `max` leaves it.
async fn locked_out(tx: &mut PgConnection, subject: &str, max: i64) -> Result<(), AppError> {
    let row: (i64, Option<i64>) = sqlx::query_as(
        "SELECT count(*), \
                ceil(extract(epoch FROM (min(failed_at) + make_interval(secs => $2) - now())))::bigint \
           FROM (SELECT failed_at FROM login_failures \
                  WHERE subject = $1 AND failed_at > now() - make_interval(secs => $2) \
                  ORDER BY failed_at DESC LIMIT $3) AS recent",
    )
    .bind(subject)
    .bind(WINDOW_SECONDS)
    .bind(max)
    .fetch_one(&mut *tx)
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
    Ok(())
}

/// The attempt succeeded: the username's failures are forgotten, and the attempt no longer
/// counts against its address.
pub async fn succeeded(pool: &PgPool, username: &str, attempt: Attempt) -> Result<(), AppError> {
    sqlx::query("DELETE FROM login_failures WHERE subject = $1 OR id = ANY($2)")
        .bind(user_subject(username))
        .bind(&attempt.ids)
        .execute(pool)
        .await?;
    Ok(())
}
