//! Snapshots: a stream's folded state at a version, so loading a stream with a hundred
//! thousand movements reads one row and the few events after it.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sqlx::{PgConnection, PgExecutor};
use tillstream_kernel::Decider;

use crate::read::load_stream;
use crate::{DomainEvent, EventStore, StoreError};

/// A stored snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub version: i64,
    pub schema_version: i32,
    pub state: Value,
}

/// A stream's state, the version it is at, and how many events were folded to get it
/// (after the snapshot, if one was used).
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded<S> {
    pub state: S,
    pub version: i64,
    pub events_folded: usize,
}

impl EventStore {
    pub async fn load_snapshot(&self, stream_id: &str) -> Result<Option<Snapshot>, StoreError> {
        load_snapshot(&self.pool, stream_id).await
    }

    /// Stores a snapshot unless a newer one is already there.
    pub async fn save_snapshot(
        &self,
        stream_id: &str,
        snapshot: &Snapshot,
    ) -> Result<(), StoreError> {
        save_snapshot(&self.pool, stream_id, snapshot).await
    }

    /// Loads a stream's state through `D::evolve`, starting from its snapshot when one of
    /// `state_schema` exists, and saves a fresh snapshot when more than `snapshot_every`
    /// events had to be folded. A snapshot of another schema is ignored (the state's shape
    /// changed), so changing a state type only needs a new `state_schema`.
    pub async fn load_state<D>(
        &self,
        stream_id: &str,
        state_schema: i32,
        snapshot_every: usize,
    ) -> Result<Loaded<D::State>, StoreError>
    where
        D: Decider,
        D::State: Serialize + DeserializeOwned,
        D::Event: DomainEvent,
    {
        let mut conn = self.pool.acquire().await?;
        Self::load_state_in::<D>(&mut conn, stream_id, state_schema, snapshot_every).await
    }

    /// [`EventStore::load_state`] inside a transaction, so it sees what the transaction has
    /// appended so far (a consumer applying a batch of events to one stream).
    pub async fn load_state_in<D>(
        conn: &mut PgConnection,
        stream_id: &str,
        state_schema: i32,
        snapshot_every: usize,
    ) -> Result<Loaded<D::State>, StoreError>
    where
        D: Decider,
        D::State: Serialize + DeserializeOwned,
        D::Event: DomainEvent,
    {
        let (mut state, mut version) = match load_snapshot(&mut *conn, stream_id).await? {
            Some(snap) if snap.schema_version == state_schema => (
                serde_json::from_value::<D::State>(snap.state)?,
                snap.version,
            ),
            _ => (D::State::default(), 0),
        };
        let events = load_stream(&mut *conn, stream_id, version).await?;
        let events_folded = events.len();
        for recorded in &events {
            state = D::evolve(state, &recorded.decode::<D::Event>()?);
            version = recorded.version;
        }
        if events_folded > snapshot_every {
            let snapshot = Snapshot {
                version,
                schema_version: state_schema,
                state: serde_json::to_value(&state)?,
            };
            save_snapshot(&mut *conn, stream_id, &snapshot).await?;
        }
        Ok(Loaded {
            state,
            version,
            events_folded,
        })
    }
}

async fn load_snapshot<'e>(
    executor: impl PgExecutor<'e>,
    stream_id: &str,
) -> Result<Option<Snapshot>, StoreError> {
    let row: Option<(i64, i32, Value)> =
        sqlx::query_as("SELECT version, schema_version, state FROM snapshots WHERE stream_id = $1")
            .bind(stream_id)
            .fetch_optional(executor)
            .await?;
    Ok(row.map(|(version, schema_version, state)| Snapshot {
        version,
        schema_version,
        state,
    }))
}

async fn save_snapshot<'e>(
    executor: impl PgExecutor<'e>,
    stream_id: &str,
    snapshot: &Snapshot,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO snapshots (stream_id, version, schema_version, state)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version,
             schema_version = EXCLUDED.schema_version, state = EXCLUDED.state, taken_at = now()
         WHERE snapshots.version < EXCLUDED.version
            OR snapshots.schema_version <> EXCLUDED.schema_version",
    )
    .bind(stream_id)
    .bind(snapshot.version)
    .bind(snapshot.schema_version)
    .bind(&snapshot.state)
    .execute(executor)
    .await?;
    Ok(())
}
