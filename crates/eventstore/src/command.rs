//! The one way a command runs: load the aggregate (snapshot and tail), decide, append with
//! the expected version, the idempotency key and the claims, and write the caller's
//! read-model rows, in one transaction; retry a conflict under one policy.
//!
//! What is left to a service's `commands/` file is the use case itself: which stream,
//! which events from which state ([`UseCase::decide`]), which claims, and what it writes
//! beside the events and answers ([`UseCase::finish`]).

use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::PgConnection;
use tillstream_kernel::{Decider, DomainEvent, EventMetadata};

use crate::{AppendRequest, Claim, EventStore, IdempotencyKey, Loaded, NewEvent, StoreError};

/// How many times a command is decided again when another writer got to its stream first.
/// Five covers a burst on one hot stream (a best-selling item's sale and its return) and
/// bounds the work a conflict storm can cause.
pub const CONFLICT_RETRIES: usize = 5;

/// How a stream's state is loaded: the snapshot schema and how many events may be folded
/// before a fresh snapshot is saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshots {
    pub state_schema: i32,
    pub every: usize,
}

impl Snapshots {
    /// For streams that stay short (a sale, a user): a snapshot is never worth it.
    pub const NEVER: Snapshots = Snapshots {
        state_schema: 1,
        every: usize::MAX,
    };
}

/// One use case on one stream.
pub trait UseCase: Sync {
    type Aggregate: Decider<State: Serialize + DeserializeOwned + Send + Sync, Event: DomainEvent + Sync>;
    /// What the caller is answered; stored with an idempotency key and replayed from it.
    type Output: Serialize + DeserializeOwned + Send;
    type Error: From<StoreError> + Send;

    fn stream_id(&self) -> String;

    fn snapshots(&self) -> Snapshots {
        Snapshots::NEVER
    }

    /// The events the command produces from `state`, or why it is refused.
    fn decide(
        &self,
        state: &<Self::Aggregate as Decider>::State,
    ) -> Result<Vec<<Self::Aggregate as Decider>::Event>, Self::Error>;

    /// Unique claims the events acquire or release (a SKU, a barcode).
    fn claims(&self, events: &[<Self::Aggregate as Decider>::Event]) -> Vec<Claim> {
        let _ = events;
        Vec::new()
    }

    /// Writes the read-model rows in the append's transaction, after the events and their
    /// claims, and builds the answer. Called also when the command decided no events
    /// (nothing was appended).
    fn finish<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        decided: Decided<'a, Self::Aggregate>,
    ) -> impl Future<Output = Result<Self::Output, Self::Error>> + Send + 'a;
}

/// What a command decided: the state after its events, the stream's version after them.
#[derive(Debug)]
pub struct Decided<'a, D: Decider> {
    pub state: &'a D::State,
    pub version: i64,
    pub events: &'a [D::Event],
}

/// A run's settings beside the use case.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The version the caller last read (`If-Match`): a mismatch is a `Conflict`, never
    /// retried, since the caller decided on what it saw.
    pub expected_version: Option<i64>,
    /// Stores the answer in the same transaction; the same key answers it again.
    pub idempotency: Option<IdempotencyKey>,
    pub metadata: EventMetadata,
}

/// A failure inside a run: the store's (maybe retried) or the use case's (never).
enum Failure<E> {
    Store(StoreError),
    UseCase(E),
}

impl<E: From<StoreError>> Failure<E> {
    fn into_error(self) -> E {
        match self {
            Failure::Store(error) => error.into(),
            Failure::UseCase(error) => error,
        }
    }
}

impl<E> From<StoreError> for Failure<E> {
    fn from(error: StoreError) -> Self {
        Failure::Store(error)
    }
}

impl<E> From<sqlx::Error> for Failure<E> {
    fn from(error: sqlx::Error) -> Self {
        Failure::Store(error.into())
    }
}

impl EventStore {
    /// Runs `use_case` in a transaction of its own, retrying a conflict (when the caller
    /// gave no expected version) and a race on its idempotency key.
    pub async fn run<U: UseCase>(
        &self,
        use_case: &U,
        options: &RunOptions,
    ) -> Result<U::Output, U::Error> {
        let mut attempt = 1;
        loop {
            if let Some(key) = &options.idempotency
                && let Some(replay) = self.find_idempotent(key).await?
            {
                return serde_json::from_value(replay.response)
                    .map_err(|e| StoreError::from(e).into());
            }
            match self.attempt(use_case, options).await {
                Err(Failure::Store(error))
                    if attempt < CONFLICT_RETRIES && retryable(&error, options) =>
                {
                    attempt += 1;
                }
                outcome => return outcome.map_err(Failure::into_error),
            }
        }
    }

    /// Runs `use_case` inside the caller's transaction (a chunk of an import), once: a
    /// conflict is the caller's to handle, with the transaction it must roll back.
    pub async fn run_in<U: UseCase>(
        &self,
        tx: &mut PgConnection,
        use_case: &U,
        options: &RunOptions,
    ) -> Result<U::Output, U::Error> {
        decide_and_append(self, tx, use_case, options)
            .await
            .map_err(Failure::into_error)
    }

    async fn attempt<U: UseCase>(
        &self,
        use_case: &U,
        options: &RunOptions,
    ) -> Result<U::Output, Failure<U::Error>> {
        let mut tx = self.pool().begin().await?;
        let output = decide_and_append(self, &mut tx, use_case, options).await?;
        tx.commit().await?;
        Ok(output)
    }
}

fn retryable(error: &StoreError, options: &RunOptions) -> bool {
    match error {
        StoreError::Conflict { .. } => options.expected_version.is_none(),
        StoreError::IdempotencyRace { .. } => true,
        _ => false,
    }
}

async fn decide_and_append<U: UseCase>(
    store: &EventStore,
    tx: &mut PgConnection,
    use_case: &U,
    options: &RunOptions,
) -> Result<U::Output, Failure<U::Error>> {
    let stream_id = use_case.stream_id();
    let snapshots = use_case.snapshots();
    // A new stream (expected at version 0) has nothing to load: the append fails with a
    // conflict if anything is there after all. Two round trips fewer for every creation.
    let loaded = if options.expected_version == Some(0) {
        Loaded {
            state: Default::default(),
            version: 0,
            events_folded: 0,
        }
    } else {
        EventStore::load_state_in::<U::Aggregate>(
            tx,
            &stream_id,
            snapshots.state_schema,
            snapshots.every,
        )
        .await?
    };
    if let Some(expected) = options.expected_version
        && expected != loaded.version
    {
        return Err(Failure::Store(StoreError::Conflict {
            stream_id,
            expected,
            actual: loaded.version,
        }));
    }
    let events = use_case.decide(&loaded.state).map_err(Failure::UseCase)?;
    let state = events.iter().fold(loaded.state, U::Aggregate::evolve);
    let count = i64::try_from(events.len()).unwrap_or(i64::MAX);
    let version = loaded.version.saturating_add(count);
    // The events and their claims first: a claim taken elsewhere is a typed `Duplicate`
    // before any read-model row could collide on a unique index of its own.
    if !events.is_empty() {
        let new_events = events
            .iter()
            .map(NewEvent::from_domain)
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::from)?;
        let request = AppendRequest::new(stream_id.clone(), loaded.version, new_events)
            .with_claims(use_case.claims(&events))
            .with_metadata(options.metadata.clone());
        store.append_in(tx, &request).await?;
    }
    let decided = Decided {
        state: &state,
        version,
        events: &events,
    };
    let output = use_case
        .finish(tx, decided)
        .await
        .map_err(Failure::UseCase)?;
    // The answer is known only now; a concurrent request with the same key that committed
    // first makes this an `IdempotencyRace`, and the run answers with its answer.
    if let Some(key) = &options.idempotency
        && !events.is_empty()
    {
        let answer = serde_json::to_value(&output).map_err(StoreError::from)?;
        store
            .record_idempotency_in(tx, key, &answer, &stream_id)
            .await?;
    }
    Ok(output)
}
