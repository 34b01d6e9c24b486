//! Idempotency keys: a retried command answers what the first attempt answered.
//!
//! The flow in a command handler: `find_idempotent` first (a replay or a mismatch ends the
//! command there), otherwise decide and append `with_idempotency`. If a concurrent request
//! with the same key commits first, the append fails with `IdempotencyRace` and the handler
//! looks the key up again.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;

use crate::{EventStore, StoreError};

/// The end of the key's insert: an expired row with the same key is overwritten; a live
/// one is left alone, and no row is written (a concurrent request got there first).
macro_rules! keep_unless_live {
    () => {
        "ON CONFLICT (key) DO UPDATE SET
             request_hash = EXCLUDED.request_hash, response = EXCLUDED.response,
             stream_id = EXCLUDED.stream_id, created_at = now(), expires_at = EXCLUDED.expires_at
         WHERE idempotency_keys.expires_at <= now()"
    };
}
pub(crate) use keep_unless_live;

/// A client's idempotency key with the hash of the request it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    pub key: String,
    pub request_hash: String,
    /// How long the stored response answers repeats; the key is free again afterwards.
    pub ttl: Duration,
}

impl IdempotencyKey {
    pub const DEFAULT_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

    pub fn new(key: impl Into<String>, request_hash: impl Into<String>) -> Self {
        IdempotencyKey {
            key: key.into(),
            request_hash: request_hash.into(),
            ttl: Self::DEFAULT_TTL,
        }
    }

    /// The answer kept under this key with `request_hash`: a repeat's, or
    /// `IdempotencyMismatch` when the key came with another request.
    pub fn replay_of(&self, request_hash: &str, response: Value) -> Result<Value, StoreError> {
        if request_hash == self.request_hash {
            Ok(response)
        } else {
            Err(StoreError::IdempotencyMismatch {
                key: self.key.clone(),
            })
        }
    }
}

/// The stored answer to an earlier request with the same key and the same body.
#[derive(Debug, Clone, PartialEq)]
pub struct IdempotentReplay {
    pub response: Value,
    pub stream_id: String,
}

/// A stable hash of a request body: SHA-256 of its JSON serialization. Serialize a typed,
/// parsed request (field order fixed by the struct), not the raw bytes, so whitespace and
/// key order do not make a retry look like a different request.
pub fn request_hash<T: Serialize>(request: &T) -> Result<String, StoreError> {
    let bytes = serde_json::to_vec(request)?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

impl EventStore {
    /// The stored response for `key`, `None` if the key is new (or expired), or
    /// `IdempotencyMismatch` if it was used with another request.
    pub async fn find_idempotent(
        &self,
        key: &IdempotencyKey,
    ) -> Result<Option<IdempotentReplay>, StoreError> {
        let row: Option<(String, Value, String)> = sqlx::query_as(
            "SELECT request_hash, response, stream_id FROM idempotency_keys
             WHERE key = $1 AND expires_at > now()",
        )
        .bind(&key.key)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            None => Ok(None),
            Some((hash, response, stream_id)) => Ok(Some(IdempotentReplay {
                response: key.replay_of(&hash, response)?,
                stream_id,
            })),
        }
    }

    /// Records `key` with `response` inside the caller's transaction, for commands whose
    /// response is known only once their effects are written. `IdempotencyRace` when a
    /// concurrent request with the key got there first (roll back and read its response).
    pub async fn record_idempotency_in(
        &self,
        conn: &mut PgConnection,
        key: &IdempotencyKey,
        response: &RawValue,
        stream_id: &str,
    ) -> Result<(), StoreError> {
        record(conn, key, response, stream_id).await
    }

    /// Deletes expired keys; returns how many. Run it now and then; correctness does not
    /// depend on it, since expired keys are ignored and overwritten.
    pub async fn purge_expired_idempotency_keys(&self) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM idempotency_keys WHERE expires_at <= now()")
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

/// Records the key in the caller's transaction. An expired row with the same key is
/// overwritten; a live one means a concurrent request got there first.
pub(crate) async fn record(
    conn: &mut PgConnection,
    key: &IdempotencyKey,
    response: &RawValue,
    stream_id: &str,
) -> Result<(), StoreError> {
    let written = sqlx::query(concat!(
        "INSERT INTO idempotency_keys (key, request_hash, response, stream_id, expires_at)
         VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5::float8 / 1000)) ",
        keep_unless_live!()
    ))
    .bind(&key.key)
    .bind(&key.request_hash)
    .bind(response)
    .bind(stream_id)
    .bind(ttl_ms(key))
    .execute(conn)
    .await?;
    if written.rows_affected() == 0 {
        return Err(StoreError::IdempotencyRace {
            key: key.key.clone(),
        });
    }
    Ok(())
}

/// How long the key lives, in milliseconds.
pub(crate) fn ttl_ms(key: &IdempotencyKey) -> i64 {
    i64::try_from(key.ttl.as_millis()).unwrap_or(i64::MAX)
}

/// A statement's source of the live answer kept under the key `$n` (`request_hash`,
/// `response`), for a command that looks its key up in a statement of its own with other
/// reads: `LEFT JOIN LATERAL (kept_answer!("$4")) k ON true`. Check what it finds with
/// [`IdempotencyKey::replay_of`].
#[macro_export]
macro_rules! kept_answer {
    ($key:literal) => {
        concat!(
            "SELECT request_hash, response FROM idempotency_keys WHERE key = ",
            $key,
            " AND expires_at > now()"
        )
    };
}
