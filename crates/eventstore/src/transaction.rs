//! The one retry loop: work done in a transaction of its own, decided again from the start
//! when another writer got to one of its streams first, with its answer kept under the
//! caller's idempotency key in the same transaction and given again to a repeat.
//!
//! A command on one stream is a [`UseCase`](crate::UseCase) and runs with
//! [`EventStore::run`]; a command that moves several streams at once (a stock document, a
//! sale with its number) is a [`Transaction`] and runs with [`EventStore::transact`].

use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::PgConnection;

use crate::{EventStore, IdempotencyKey, StoreError};

/// How many times a command is decided again when another writer got to its stream first.
/// Five covers a burst on one hot stream (a best-selling item's sale and its return) and
/// bounds the work a conflict storm can cause.
pub const CONFLICT_RETRIES: usize = 5;

/// A use case's error, which may carry the store's: a conflict or an idempotency race is
/// worth another attempt; anything else is the answer.
pub trait RunError: From<StoreError> + Send {
    fn store_error(&self) -> Option<&StoreError>;
}

impl RunError for StoreError {
    fn store_error(&self) -> Option<&StoreError> {
        Some(self)
    }
}

/// Work done in one transaction, from the start again on each attempt.
pub trait Transaction: Sync {
    /// What the caller is answered; stored with an idempotency key and replayed from it.
    type Output: Serialize + DeserializeOwned + Send;
    type Error: RunError;

    fn run<'a>(
        &'a self,
        store: &'a EventStore,
        tx: &'a mut PgConnection,
    ) -> impl Future<Output = Result<Done<Self::Output>, Self::Error>> + Send + 'a;
}

/// What an attempt wrote and answers.
#[derive(Debug)]
pub struct Done<O> {
    pub answer: O,
    /// The stream or document the answer is kept against under the idempotency key;
    /// `None` when nothing was written (a repeat then decides again).
    pub written: Option<String>,
}

/// A run's answer, and whether it is the one kept from an earlier request with its key.
#[derive(Debug)]
pub struct Answer<O> {
    pub value: O,
    pub replayed: bool,
}

impl EventStore {
    /// Runs `work` in a transaction of its own. With `idempotency`, a key used before is
    /// answered with what it answered then, and the answer is kept in the transaction.
    /// A conflict is tried again (up to [`CONFLICT_RETRIES`] attempts) when
    /// `retry_conflicts`, never when the caller decided on a version it read (`If-Match`);
    /// a concurrent request with the same key that committed first is answered with its
    /// answer. An attempt PostgreSQL rolled back to break a deadlock is made again.
    pub async fn transact<T: Transaction>(
        &self,
        work: &T,
        idempotency: Option<&IdempotencyKey>,
        retry_conflicts: bool,
    ) -> Result<Answer<T::Output>, T::Error> {
        let mut attempt = 1;
        loop {
            if let Some(value) = self.replay(idempotency).await? {
                return Ok(Answer {
                    value,
                    replayed: true,
                });
            }
            match self.attempt(work, idempotency).await {
                Err(error)
                    if attempt < CONFLICT_RETRIES
                        && retryable(error.store_error(), retry_conflicts) =>
                {
                    attempt += 1;
                }
                outcome => {
                    return outcome.map(|value| Answer {
                        value,
                        replayed: false,
                    });
                }
            }
        }
    }

    /// The answer kept under `key`, if it was used already (with another request:
    /// `IdempotencyMismatch`).
    pub async fn replay<O: DeserializeOwned>(
        &self,
        key: Option<&IdempotencyKey>,
    ) -> Result<Option<O>, StoreError> {
        let Some(key) = key else {
            return Ok(None);
        };
        match self.find_idempotent(key).await? {
            Some(replay) => Ok(Some(serde_json::from_value(replay.response)?)),
            None => Ok(None),
        }
    }

    async fn attempt<T: Transaction>(
        &self,
        work: &T,
        idempotency: Option<&IdempotencyKey>,
    ) -> Result<T::Output, T::Error> {
        let mut tx = self.pool().begin().await.map_err(StoreError::from)?;
        let done = work.run(self, &mut tx).await?;
        // The answer is known only now; a concurrent request with the same key that
        // committed first makes this an `IdempotencyRace`, and the next attempt replays it.
        if let (Some(key), Some(written)) = (idempotency, &done.written) {
            let answer = serde_json::value::to_raw_value(&done.answer).map_err(StoreError::from)?;
            self.record_idempotency_in(&mut tx, key, &answer, written)
                .await?;
        }
        tx.commit().await.map_err(StoreError::from)?;
        self.announce();
        Ok(done.answer)
    }
}

fn retryable(error: Option<&StoreError>, retry_conflicts: bool) -> bool {
    match error {
        Some(StoreError::Conflict { .. }) => retry_conflicts,
        Some(StoreError::IdempotencyRace { .. }) => true,
        Some(error) => error.is_deadlock(),
        None => false,
    }
}
