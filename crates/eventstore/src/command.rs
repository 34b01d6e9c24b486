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

use crate::transaction::{Done, RunError, Transaction};
use crate::{AppendRequest, Claim, EventStore, IdempotencyKey, Loaded, NewEvent, StoreError};

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
    type Aggregate: Decider<State: Serialize + DeserializeOwned + Send + Sync, Event: DomainEvent + Send + Sync>;
    /// What the caller is answered; stored with an idempotency key and replayed from it.
    type Output: Serialize + DeserializeOwned + Send;
    type Error: RunError;

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

impl EventStore {
    /// Runs `use_case` in a transaction of its own (see [`EventStore::transact`]): a
    /// conflict is decided again when the caller gave no expected version.
    pub async fn run<U: UseCase>(
        &self,
        use_case: &U,
        options: &RunOptions,
    ) -> Result<U::Output, U::Error> {
        let retry_conflicts = options.expected_version.is_none();
        let single = Single { use_case, options };
        let answer = self
            .transact(&single, options.idempotency.as_ref(), retry_conflicts)
            .await?;
        Ok(answer.value)
    }

    /// Runs `use_case` inside the caller's transaction (a chunk of an import, a step of a
    /// larger [`Transaction`]), once: a conflict is the caller's to handle, with the
    /// transaction it must roll back. The answer is kept under the options' key, if any.
    pub async fn run_in<U: UseCase>(
        &self,
        tx: &mut PgConnection,
        use_case: &U,
        options: &RunOptions,
    ) -> Result<U::Output, U::Error> {
        let done = decide_and_append(self, tx, use_case, options).await?;
        if let (Some(key), Some(written)) = (&options.idempotency, &done.written) {
            let answer = serde_json::value::to_raw_value(&done.answer).map_err(StoreError::from)?;
            self.record_idempotency_in(tx, key, &answer, written)
                .await?;
        }
        Ok(done.answer)
    }
}

/// A use case as a transaction of its own.
struct Single<'u, U> {
    use_case: &'u U,
    options: &'u RunOptions,
}

impl<U: UseCase> Transaction for Single<'_, U> {
    type Output = U::Output;
    type Error = U::Error;

    fn run<'a>(
        &'a self,
        store: &'a EventStore,
        tx: &'a mut PgConnection,
    ) -> impl Future<Output = Result<Done<U::Output>, U::Error>> + Send + 'a {
        decide_and_append(store, tx, self.use_case, self.options)
    }
}

async fn decide_and_append<U: UseCase>(
    store: &EventStore,
    tx: &mut PgConnection,
    use_case: &U,
    options: &RunOptions,
) -> Result<Done<U::Output>, U::Error> {
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
        return Err(StoreError::Conflict {
            stream_id,
            expected,
            actual: loaded.version,
        }
        .into());
    }
    let events = use_case.decide(&loaded.state)?;
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
    let answer = use_case.finish(tx, decided).await?;
    Ok(Done {
        answer,
        written: (!events.is_empty()).then_some(stream_id),
    })
}
