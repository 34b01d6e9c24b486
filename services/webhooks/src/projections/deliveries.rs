//! `deliveries`: one event for one subscription, queued when the event arrives and claimed
//! by a sender when due. Claims are leases, so a sender that dies mid-send loses nothing:
//! its lease runs out and the delivery is sent again (receivers dedupe by `webhook-id`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::subscriptions::DUE_CHANNEL;

/// A delivery as the log shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: String,
    pub subscription_id: String,
    pub event_id: String,
    pub event_type: String,
    pub status: String,
    pub attempts: i32,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// A delivery a sender has claimed, with what it needs to send it.
#[derive(Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: String,
    pub subscription_id: String,
    pub event_id: String,
    pub body: Vec<u8>,
    pub attempts: i32,
    /// This claim's id: the attempt is recorded only while the row still carries it.
    pub claim: uuid::Uuid,
    pub url: String,
    pub secret: String,
}

impl std::fmt::Debug for Claimed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret (nor the URL, which may carry a token of the receiver's).
        f.debug_struct("Claimed")
            .field("id", &self.id)
            .field("subscription_id", &self.subscription_id)
            .field("event_id", &self.event_id)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// Queues `event_id` for each subscription, due now, and wakes the senders at commit. An
/// event already queued for a subscription is not queued twice.
pub async fn enqueue(
    tx: &mut PgConnection,
    subscription_ids: &[String],
    event_id: &str,
    event_type: &str,
    body: &[u8],
) -> Result<(), sqlx::Error> {
    let ids: Vec<String> = subscription_ids
        .iter()
        .map(|_| ulid::Ulid::generate().to_string())
        .collect();
    sqlx::query(
        "INSERT INTO deliveries (id, subscription_id, event_id, event_type, body, next_attempt_at) \
         SELECT id, subscription_id, $3, $4, $5, now() \
         FROM unnest($1::text[], $2::text[]) AS queued (id, subscription_id) \
         ON CONFLICT (subscription_id, event_id) DO NOTHING",
    )
    .bind(&ids)
    .bind(subscription_ids)
    .bind(event_id)
    .bind(event_type)
    .bind(body)
    .execute(&mut *tx)
    .await?;
    wake_senders(tx).await
}

async fn wake_senders(tx: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(DUE_CHANNEL)
        .execute(tx)
        .await?;
    Ok(())
}

/// Claims up to `limit` due deliveries for `lease`, at most `per_receiver` in flight per
/// subscription (counting what other senders hold), so one slow receiver never takes
/// every sender. Each subscription's due rows are read from its own index range, so the
/// cost follows the subscriptions and the claimed rows, not the backlog.
pub async fn claim(
    pool: &PgPool,
    limit: i64,
    per_receiver: i64,
    lease: Duration,
) -> Result<Vec<Claimed>, sqlx::Error> {
    sqlx::query_as(
        "WITH live AS ( \
             SELECT s.id, $2 - (SELECT count(*) FROM deliveries b \
                 WHERE b.subscription_id = s.id AND b.status = 'pending' \
                   AND b.lease_until > now()) AS room \
             FROM subscriptions s WHERE s.removed_at IS NULL \
         ), chosen AS ( \
             SELECT due.id, due.next_attempt_at FROM live CROSS JOIN LATERAL ( \
                 SELECT d.id, d.next_attempt_at FROM deliveries d \
                 WHERE d.subscription_id = live.id AND d.status = 'pending' \
                   AND d.next_attempt_at <= now() AND d.lease_until <= now() \
                 ORDER BY d.next_attempt_at, d.id LIMIT greatest(live.room, 0) \
             ) due \
             ORDER BY due.next_attempt_at, due.id LIMIT $1 \
         ) \
         UPDATE deliveries d SET lease_until = now() + make_interval(secs => $3), \
             claim = gen_random_uuid() \
         FROM chosen, subscriptions s \
         WHERE d.id = chosen.id AND s.id = d.subscription_id \
           AND d.status = 'pending' AND d.lease_until <= now() \
         RETURNING d.id, d.subscription_id, d.event_id, d.body, d.attempts, d.claim, s.url, \
             s.secret",
    )
    .bind(limit)
    .bind(per_receiver)
    .bind(lease.as_secs_f64())
    .fetch_all(pool)
    .await
}

/// How one attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The receiver's HTTP status, when it answered.
    pub status_code: Option<u16>,
    /// Why it failed; `None` when delivered.
    pub error: Option<String>,
    /// When to try again; `None` when delivered or failed for good.
    pub retry_in: Option<Duration>,
}

/// Records an attempt of a claimed delivery and releases its lease: only while the row is
/// still this claim's and pending (a removed subscription's rows are failed meanwhile). A
/// manual retry asked for while it was in flight makes it due again at once.
pub async fn record(
    pool: &PgPool,
    delivery: &Claimed,
    outcome: &Outcome,
) -> Result<(), sqlx::Error> {
    let status = match (&outcome.error, outcome.retry_in) {
        (None, _) => "delivered",
        (Some(_), Some(_)) => "pending",
        (Some(_), None) => "failed",
    };
    sqlx::query(
        "UPDATE deliveries SET attempts = attempts + 1, \
             status = CASE WHEN retry_requested THEN 'pending' ELSE $3 END, \
             next_attempt_at = CASE WHEN retry_requested THEN now() \
                 ELSE now() + make_interval(secs => $6) END, \
             delivered_at = CASE WHEN $3 = 'delivered' THEN now() ELSE delivered_at END, \
             last_status_code = $4, last_error = $5, lease_until = '-infinity', claim = NULL, \
             retry_requested = false \
         WHERE id = $1 AND claim = $2 AND status = 'pending'",
    )
    .bind(&delivery.id)
    .bind(delivery.claim)
    .bind(status)
    .bind(outcome.status_code.map(i32::from))
    .bind(&outcome.error)
    .bind(outcome.retry_in.map(|wait| wait.as_secs_f64()))
    .execute(pool)
    .await?;
    Ok(())
}

/// When the next delivery that is not due yet falls due, if any. (What is due but waits
/// for its receiver's share is claimed when an attempt finishes.)
pub async fn next_due(pool: &PgPool) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT min(next_attempt_at) FROM deliveries \
         WHERE status = 'pending' AND next_attempt_at > now()",
    )
    .fetch_one(pool)
    .await
}

/// Deletes up to `batch` delivered or failed deliveries older than `retention`; how many.
pub async fn prune(pool: &PgPool, retention: Duration, batch: i64) -> Result<u64, sqlx::Error> {
    let deleted = sqlx::query(
        "DELETE FROM deliveries WHERE id IN ( \
             SELECT id FROM deliveries \
             WHERE status <> 'pending' AND created_at < now() - make_interval(secs => $1) \
             ORDER BY created_at LIMIT $2)",
    )
    .bind(retention.as_secs_f64())
    .bind(batch)
    .execute(pool)
    .await?;
    Ok(deleted.rows_affected())
}

/// How many deliveries are pending, and how long the oldest has waited (seconds).
pub async fn backlog(pool: &PgPool) -> Result<(i64, f64), sqlx::Error> {
    sqlx::query_as(
        "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at))::float8, 0) \
         FROM deliveries WHERE status = 'pending'",
    )
    .fetch_one(pool)
    .await
}

/// A page of a subscription's deliveries, newest first, optionally of one status.
pub async fn list(
    pool: &PgPool,
    subscription_id: &str,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<DeliveryRow>, u64), sqlx::Error> {
    let rows = sqlx::query_as(
        "SELECT id, subscription_id, event_id, event_type, status, attempts, last_status_code, \
             last_error, next_attempt_at, created_at, delivered_at FROM deliveries \
         WHERE subscription_id = $1 AND ($2::text IS NULL OR status = $2) \
         ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4",
    )
    .bind(subscription_id)
    .bind(status)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM deliveries \
         WHERE subscription_id = $1 AND ($2::text IS NULL OR status = $2)",
    )
    .bind(subscription_id)
    .bind(status)
    .fetch_one(pool)
    .await?;
    Ok((rows, u64::try_from(total).unwrap_or(0)))
}

/// Makes a delivery of a live subscription due now, whatever its status, and wakes the
/// senders; the delivery, or `None` when there is no such one. A delivery in flight is
/// marked to go again once its attempt is recorded, so retries never overlap.
pub async fn retry(
    pool: &PgPool,
    subscription_id: &str,
    delivery_id: &str,
) -> Result<Option<DeliveryRow>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    // Held until the commit: a removal waits, and then fails what this made pending.
    let live: Option<i32> = sqlx::query_scalar(
        "SELECT 1 FROM subscriptions WHERE id = $1 AND removed_at IS NULL FOR SHARE",
    )
    .bind(subscription_id)
    .fetch_optional(&mut *tx)
    .await?;
    if live.is_none() {
        return Ok(None);
    }
    let row = sqlx::query_as(
        "UPDATE deliveries SET \
             retry_requested = (status = 'pending' AND lease_until > now()), \
             next_attempt_at = CASE WHEN status = 'pending' AND lease_until > now() \
                 THEN next_attempt_at ELSE now() END, \
             lease_until = CASE WHEN status = 'pending' AND lease_until > now() \
                 THEN lease_until ELSE '-infinity' END, \
             status = 'pending' \
         WHERE id = $2 AND subscription_id = $1 \
         RETURNING id, subscription_id, event_id, event_type, status, attempts, \
             last_status_code, last_error, next_attempt_at, created_at, delivered_at",
    )
    .bind(subscription_id)
    .bind(delivery_id)
    .fetch_optional(&mut *tx)
    .await?;
    wake_senders(&mut tx).await?;
    tx.commit().await?;
    Ok(row)
}
