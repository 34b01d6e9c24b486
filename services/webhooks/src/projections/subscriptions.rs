//! `subscriptions`: each subscription as it stands, written with its events.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

/// The channel a sender listens on: notified in the transaction that makes a delivery
/// due, so it is woken by the commit and not by polling.
pub const DUE_CHANNEL: &str = "tillstream_webhook_due";

#[derive(Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
pub struct SubscriptionRow {
    pub id: String,
    pub url: String,
    pub event_types: Vec<String>,
    pub description: String,
    pub secret: String,
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for SubscriptionRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret.
        f.debug_struct("SubscriptionRow")
            .field("id", &self.id)
            .field("event_types", &self.event_types)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// How many subscriptions are live.
pub async fn live_count(tx: &mut PgConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM subscriptions WHERE removed_at IS NULL")
        .fetch_one(tx)
        .await
}

/// The advisory lock (class, key) a subscription is made under, and the fan-out's read of
/// the subscribed types shares: see `wanted_types`. The class is the leader lock's.
const SUBSCRIBING: (i32, i32) = (0x5449_4C4C, 2);

/// Inserts the subscription and answers its `created_at`: the database's clock, read under
/// the subscribing lock, so it is later than any read of the subscribed types that did not
/// wait for this transaction.
pub async fn insert(
    tx: &mut PgConnection,
    row: &SubscriptionRow,
) -> Result<DateTime<Utc>, sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
        .bind(SUBSCRIBING.0)
        .bind(SUBSCRIBING.1)
        .execute(&mut *tx)
        .await?;
    sqlx::query_scalar(
        "INSERT INTO subscriptions (id, url, event_types, description, secret, created_at) \
         VALUES ($1, $2, $3, $4, $5, clock_timestamp()) RETURNING created_at",
    )
    .bind(&row.id)
    .bind(&row.url)
    .bind(&row.event_types)
    .bind(&row.description)
    .bind(&row.secret)
    .fetch_one(tx)
    .await
}

/// Marks the subscription removed, and what it still had waiting failed: nothing more is
/// sent to it.
pub async fn remove(tx: &mut PgConnection, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE subscriptions SET removed_at = now() WHERE id = $1 AND removed_at IS NULL")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, \
             last_error = 'the subscription was removed', lease_until = '-infinity' \
         WHERE subscription_id = $1 AND status = 'pending'",
    )
    .bind(id)
    .execute(tx)
    .await?;
    Ok(())
}

/// A subscription that is not removed.
pub async fn get(pool: &PgPool, id: &str) -> Result<Option<SubscriptionRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, url, event_types, description, secret, created_at FROM subscriptions \
         WHERE id = $1 AND removed_at IS NULL",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// A page of the subscriptions, newest first, and how many there are.
pub async fn list(
    pool: &PgPool,
    limit: i64,
    offset: i64,
) -> Result<(Vec<SubscriptionRow>, u64), sqlx::Error> {
    let rows = sqlx::query_as(
        "SELECT id, url, event_types, description, secret, created_at FROM subscriptions \
         WHERE removed_at IS NULL ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2",
    )
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let total: i64 =
        sqlx::query_scalar("SELECT count(*) FROM subscriptions WHERE removed_at IS NULL")
            .fetch_one(pool)
            .await?;
    Ok((rows, u64::try_from(total).unwrap_or(0)))
}

/// Every event type a live subscription names (`*` among them when one takes all). Read
/// under the subscribing lock, shared: a subscription being made is waited for, and one
/// made after this read has a `created_at` later than it, so it wants no event recorded
/// before the read.
pub async fn wanted_types(pool: &PgPool) -> Result<Vec<String>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock_shared($1, $2)")
        .bind(SUBSCRIBING.0)
        .bind(SUBSCRIBING.1)
        .execute(&mut *tx)
        .await?;
    let types = sqlx::query_scalar(
        "SELECT DISTINCT unnest(event_types) FROM subscriptions WHERE removed_at IS NULL",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(types)
}

/// The subscriptions that want an event of `ce_type` recorded at `time`: those made
/// before it and not removed. Their rows are share-locked until the caller commits, so a
/// removal waits and then fails what was queued for it.
pub async fn wanting(
    tx: &mut PgConnection,
    ce_type: &str,
    time: DateTime<Utc>,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM subscriptions \
         WHERE removed_at IS NULL AND created_at <= $2 \
           AND ($1 = ANY (event_types) OR '*' = ANY (event_types)) \
         FOR SHARE",
    )
    .bind(ce_type)
    .bind(time)
    .fetch_all(tx)
    .await
}
