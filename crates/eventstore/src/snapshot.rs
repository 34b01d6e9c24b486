//! Snapshots: a stream's folded state at a version, so loading a stream with a hundred
//! thousand movements reads one row and the few events after it.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use sqlx::types::Json;
use sqlx::{PgConnection, PgExecutor};
use tillstream_kernel::Decider;

use std::collections::HashMap;

use crate::read::{load_stream, load_streams};
use crate::{DomainEvent, EventStore, StoreError};

/// A stored snapshot; its state is JSON text, decoded straight into the state type.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub version: i64,
    pub schema_version: i32,
    pub state: Box<RawValue>,
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
                serde_json::from_str::<D::State>(snap.state.get())?,
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
                state: serde_json::value::to_raw_value(&state)?,
            };
            save_snapshot(&mut *conn, stream_id, &snapshot).await?;
        }
        Ok(Loaded {
            state,
            version,
            events_folded,
        })
    }

    /// `load_state_in` for many streams at once (a chunk of work touching many items): their
    /// snapshots in one statement, the events after them in another. A stream with no
    /// events is at version 0 with the default state.
    pub async fn load_states_in<D>(
        conn: &mut PgConnection,
        stream_ids: &[String],
        state_schema: i32,
        snapshot_every: usize,
    ) -> Result<HashMap<String, Loaded<D::State>>, StoreError>
    where
        D: Decider,
        D::State: Serialize + DeserializeOwned,
        D::Event: DomainEvent,
    {
        let mut loaded: HashMap<String, Loaded<D::State>> = stream_ids
            .iter()
            .map(|id| {
                let fresh = Loaded {
                    state: D::State::default(),
                    version: 0,
                    events_folded: 0,
                };
                (id.clone(), fresh)
            })
            .collect();
        let snapshots: Vec<(String, i64, i32, Box<RawValue>)> = sqlx::query_as(
            "SELECT stream_id, version, schema_version, state FROM snapshots
             WHERE stream_id = ANY($1)",
        )
        .bind(stream_ids)
        .fetch_all(&mut *conn)
        .await?;
        for (id, version, schema_version, state) in snapshots {
            if schema_version == state_schema
                && let Some(entry) = loaded.get_mut(&id)
            {
                entry.state = serde_json::from_str(state.get())?;
                entry.version = version;
            }
        }
        let after: Vec<(&str, i64)> = loaded
            .iter()
            .map(|(id, entry)| (id.as_str(), entry.version))
            .collect();
        let events = load_streams(&mut *conn, &after).await?;
        for recorded in &events {
            if let Some(entry) = loaded.get_mut(&recorded.stream_id) {
                let state = std::mem::take(&mut entry.state);
                entry.state = D::evolve(state, &recorded.decode::<D::Event>()?);
                entry.version = recorded.version;
                entry.events_folded += 1;
            }
        }
        let due: Vec<(&str, i64, &D::State)> = loaded
            .iter()
            .filter(|(_, entry)| entry.events_folded > snapshot_every)
            .map(|(id, entry)| (id.as_str(), entry.version, &entry.state))
            .collect();
        Self::save_states_in(&mut *conn, state_schema, due).await?;
        Ok(loaded)
    }

    /// Saves each (stream, version, state) as the stream's snapshot in one statement,
    /// unless a newer one is there. A command that has decided on many streams saves the
    /// states it leaves them in, in its transaction, so the next load folds nothing.
    pub async fn save_states_in<S: Serialize>(
        conn: &mut PgConnection,
        state_schema: i32,
        states: Vec<(&str, i64, &S)>,
    ) -> Result<(), StoreError> {
        let mut snapshots = states
            .into_iter()
            .map(|(id, version, state)| {
                let snapshot = Snapshot {
                    version,
                    schema_version: state_schema,
                    state: serde_json::value::to_raw_value(state)?,
                };
                Ok((id, snapshot))
            })
            .collect::<Result<Vec<_>, serde_json::Error>>()?;
        // In stream order: two transactions saving snapshots of the same streams take
        // their row locks in one order.
        snapshots.sort_unstable_by(|a, b| a.0.cmp(b.0));
        save_snapshots(conn, &snapshots).await
    }
}

/// A snapshot's upsert: it replaces the stored one if that is older or of another schema.
macro_rules! upsert {
    () => {
        " ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version,
             schema_version = EXCLUDED.schema_version, state = EXCLUDED.state, taken_at = now()
         WHERE snapshots.version < EXCLUDED.version
            OR snapshots.schema_version <> EXCLUDED.schema_version"
    };
}

async fn save_snapshots(
    conn: &mut PgConnection,
    snapshots: &[(&str, Snapshot)],
) -> Result<(), StoreError> {
    if snapshots.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = snapshots.iter().map(|(id, _)| *id).collect();
    let versions: Vec<i64> = snapshots.iter().map(|(_, s)| s.version).collect();
    let schemas: Vec<i32> = snapshots.iter().map(|(_, s)| s.schema_version).collect();
    let states: Vec<Json<&RawValue>> = snapshots.iter().map(|(_, s)| Json(&*s.state)).collect();
    sqlx::query(concat!(
        "INSERT INTO snapshots (stream_id, version, schema_version, state)
         SELECT * FROM unnest($1::text[], $2::int8[], $3::int4[], $4::jsonb[])",
        upsert!()
    ))
    .bind(&ids)
    .bind(&versions)
    .bind(&schemas)
    .bind(&states)
    .execute(conn)
    .await?;
    Ok(())
}

async fn load_snapshot<'e>(
    executor: impl PgExecutor<'e>,
    stream_id: &str,
) -> Result<Option<Snapshot>, StoreError> {
    let row: Option<(i64, i32, Box<RawValue>)> =
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
    sqlx::query(concat!(
        "INSERT INTO snapshots (stream_id, version, schema_version, state)
         VALUES ($1, $2, $3, $4)",
        upsert!()
    ))
    .bind(stream_id)
    .bind(snapshot.version)
    .bind(snapshot.schema_version)
    .bind(&snapshot.state)
    .execute(executor)
    .await?;
    Ok(())
}
