//! The command runner: load, decide, append and the caller's rows in one transaction, a
//! conflict retried under one policy, a stale expected version refused, an idempotency key
//! answered again.

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use tillstream_eventstore::{
    Decided, DomainEvent, EventStore, IdempotencyKey, RunOptions, StoreError, UseCase,
};
use tillstream_kernel::Decider;

use crate::support::store;

/// A tally that takes whole increments and refuses to pass ten.
struct Tally;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
enum Counted {
    Added { by: i64 },
}

impl DomainEvent for Counted {
    fn event_type(&self) -> &'static str {
        "Added"
    }
}

impl Decider for Tally {
    type State = i64;
    type Command = i64;
    type Event = Counted;
    type Error = StoreError;

    fn decide(state: &i64, by: &i64) -> Result<Vec<Counted>, StoreError> {
        if state + by > 10 {
            return Err(StoreError::IdempotencyMismatch {
                key: "past ten".into(),
            });
        }
        Ok(vec![Counted::Added { by: *by }])
    }

    fn evolve(state: i64, event: &Counted) -> i64 {
        match event {
            Counted::Added { by } => state + by,
        }
    }
}

/// Adds `by` and keeps the total in a read-model row, answering the new total.
struct Add {
    by: i64,
}

impl UseCase for Add {
    type Aggregate = Tally;
    type Output = i64;
    type Error = StoreError;

    fn stream_id(&self) -> String {
        "tally-1".into()
    }

    fn decide(&self, state: &i64) -> Result<Vec<Counted>, StoreError> {
        Tally::decide(state, &self.by)
    }

    async fn finish(
        &self,
        tx: &mut PgConnection,
        decided: Decided<'_, Tally>,
    ) -> Result<i64, StoreError> {
        sqlx::query("INSERT INTO totals (id, total) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET total = $1")
            .bind(*decided.state)
            .execute(&mut *tx)
            .await?;
        Ok(*decided.state)
    }
}

async fn total(store: &EventStore) -> Option<i64> {
    sqlx::query_scalar("SELECT total FROM totals WHERE id = 1")
        .fetch_optional(store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn concurrent_commands_on_one_stream_all_land_once_each_through_retries() {
    let (store, _db) = store().await;
    sqlx::query("CREATE TABLE totals (id int PRIMARY KEY, total bigint NOT NULL)")
        .execute(store.pool())
        .await
        .unwrap();
    let runs = (0..5).map(|_| {
        let store = store.clone();
        async move { store.run(&Add { by: 1 }, &RunOptions::default()).await }
    });
    let outcomes = futures::future::join_all(runs).await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    assert_eq!(store.stream_version("tally-1").await.unwrap(), 5);
    assert_eq!(
        total(&store).await,
        Some(5),
        "the row was written with every append"
    );

    // A stale expected version is refused, not retried.
    let stale = RunOptions {
        expected_version: Some(3),
        ..Default::default()
    };
    let refused = store.run(&Add { by: 1 }, &stale).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict { .. })),
        "{refused:?}"
    );

    // A refusal writes nothing, the row included.
    assert!(
        store
            .run(&Add { by: 6 }, &RunOptions::default())
            .await
            .is_err()
    );
    assert_eq!(store.stream_version("tally-1").await.unwrap(), 5);
    assert_eq!(total(&store).await, Some(5));

    // The same key answers the first answer again, without a second append.
    let keyed = RunOptions {
        idempotency: Some(IdempotencyKey::new("add:k1", "hash")),
        ..Default::default()
    };
    assert_eq!(store.run(&Add { by: 2 }, &keyed).await.unwrap(), 7);
    assert_eq!(store.run(&Add { by: 2 }, &keyed).await.unwrap(), 7);
    assert_eq!(store.stream_version("tally-1").await.unwrap(), 6);

    // "A new stream" (expected at 0) skips the load, and the append still refuses a stream
    // that exists.
    let new_stream = RunOptions {
        expected_version: Some(0),
        ..Default::default()
    };
    let exists = store.run(&Add { by: 1 }, &new_stream).await;
    assert!(
        matches!(exists, Err(StoreError::Conflict { .. })),
        "{exists:?}"
    );
    assert_eq!(store.stream_version("tally-1").await.unwrap(), 6);
}
