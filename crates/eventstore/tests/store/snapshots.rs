use serde::{Deserialize, Serialize};
use tillstream_eventstore::{AppendRequest, DomainEvent, EventStore, NewEvent};
use tillstream_kernel::Decider;

use crate::support::store;

/// A tiny stock level: enough to show a snapshot short-cuts the fold.
struct Level;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
enum Moved {
    Received { quantity: i64 },
    Sold { quantity: i64 },
}

impl DomainEvent for Moved {
    fn event_type(&self) -> &'static str {
        match self {
            Moved::Received { .. } => "Received",
            Moved::Sold { .. } => "Sold",
        }
    }
}

impl Decider for Level {
    type State = i64;
    type Command = ();
    type Event = Moved;
    type Error = ();

    fn decide(_: &i64, _: &()) -> Result<Vec<Moved>, ()> {
        Ok(vec![])
    }

    fn evolve(state: i64, event: &Moved) -> i64 {
        match event {
            Moved::Received { quantity } => state + quantity,
            Moved::Sold { quantity } => state - quantity,
        }
    }
}

#[tokio::test]
async fn a_long_stream_loads_from_its_snapshot_and_folds_only_the_tail() {
    let (store, _db) = store().await;
    let mut version = 0;
    let mut events = vec![NewEvent::from_domain(&Moved::Received { quantity: 1000 }).unwrap()];
    for _ in 0..299 {
        events.push(NewEvent::from_domain(&Moved::Sold { quantity: 1 }).unwrap());
    }
    version = store
        .append(AppendRequest::new("stock-1", version, events))
        .await
        .unwrap()
        .version;

    let first = store.load_state::<Level>("stock-1", 1, 100).await.unwrap();
    assert_eq!(
        (first.state, first.version, first.events_folded),
        (701, 300, 300)
    );

    store
        .append(AppendRequest::new(
            "stock-1",
            version,
            vec![NewEvent::from_domain(&Moved::Sold { quantity: 1 }).unwrap()],
        ))
        .await
        .unwrap();
    let second = store.load_state::<Level>("stock-1", 1, 100).await.unwrap();
    assert_eq!((second.state, second.version), (700, 301));
    assert_eq!(
        second.events_folded, 1,
        "only the event after the snapshot was folded"
    );

    // A new state schema ignores the old snapshot and folds everything again.
    let rebuilt = store
        .load_state::<Level>("stock-1", 2, 100_000)
        .await
        .unwrap();
    assert_eq!((rebuilt.state, rebuilt.events_folded), (700, 301));
}

/// A chunk of work loads its streams together; each is read from the `(stream_id, version)`
/// index however many events the log holds, and before PostgreSQL has analysed it (a busy
/// log minutes old): as a plain join the read once hashed the wanted streams and scanned
/// the whole log for every chunk. Stream `n` holds `30 + n` events of one unit each, so
/// its state and version are both `30 + n`.
#[tokio::test]
async fn streams_loaded_together_are_read_from_the_index_not_the_whole_log() {
    let (store, _db) = store().await;
    let received = || NewEvent::from_domain(&Moved::Received { quantity: 1 }).unwrap();
    for stream in 0..100 {
        let events = (0..30 + stream).map(|_| received()).collect();
        store
            .append(AppendRequest::new(format!("stock-{stream}"), 0, events))
            .await
            .unwrap();
    }
    let wanted: Vec<String> = (0..10).map(|n| format!("stock-{n}")).collect();
    let size = |id: &str| -> i64 { 30 + id["stock-".len()..].parse::<i64>().unwrap() };

    // This connection's sequential scans of the log, before and after (not yet reported
    // to the cumulative statistics, so no other session's are counted).
    const SCANS: &str = "SELECT pg_stat_get_xact_numscans('events'::regclass)";
    let mut tx = store.pool().begin().await.unwrap();
    let before: i64 = sqlx::query_scalar(SCANS).fetch_one(&mut *tx).await.unwrap();
    let loaded = EventStore::load_states_in::<Level>(&mut tx, &wanted, 1, 1_000)
        .await
        .unwrap();
    let after: i64 = sqlx::query_scalar(SCANS).fetch_one(&mut *tx).await.unwrap();
    tx.rollback().await.unwrap();

    assert_eq!(loaded.len(), 10);
    for (id, stream) in &loaded {
        assert_eq!((stream.state, stream.version), (size(id), size(id)), "{id}");
    }
    assert_eq!(before, after, "the chunk's load scanned the whole log");

    // Snapshots of the streams that folded more than `snapshot_every` events are saved
    // together, each its own; the next load starts from them.
    let mut conn = store.pool().acquire().await.unwrap();
    EventStore::load_states_in::<Level>(&mut conn, &wanted[..4], 1, 10)
        .await
        .unwrap();
    let again = EventStore::load_states_in::<Level>(&mut conn, &wanted, 1, 10)
        .await
        .unwrap();
    for (id, stream) in &again {
        let folded = if wanted[..4].contains(id) {
            0
        } else {
            size(id)
        };
        assert_eq!((stream.state, stream.version), (size(id), size(id)), "{id}");
        assert_eq!(stream.events_folded as i64, folded, "{id}");
    }

    // Streams that moved on are snapshotted again over the snapshots they had.
    for stream in 0..2 {
        let events = (0..12).map(|_| received()).collect();
        let id = format!("stock-{stream}");
        let version = size(&id);
        store
            .append(AppendRequest::new(id, version, events))
            .await
            .unwrap();
    }
    EventStore::load_states_in::<Level>(&mut conn, &wanted[..4], 1, 10)
        .await
        .unwrap();
    let snapshots: Vec<(String, i64)> =
        sqlx::query_as("SELECT stream_id, version FROM snapshots ORDER BY stream_id")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let expected: Vec<(String, i64)> = (0..10)
        .map(|n| {
            let id = format!("stock-{n}");
            let version = size(&id) + if n < 2 { 12 } else { 0 };
            (id, version)
        })
        .collect();
    assert_eq!(snapshots, expected);
}

/// A command holding the states it has just appended saves them as they are; the next load
/// folds nothing, and a save of an older state leaves the newer snapshot alone.
#[tokio::test]
async fn states_saved_after_an_append_are_where_the_next_load_starts() {
    let (store, _db) = store().await;
    let received = || NewEvent::from_domain(&Moved::Received { quantity: 2 }).unwrap();
    let mut conn = store.pool().acquire().await.unwrap();
    for id in ["stock-b", "stock-a"] {
        store
            .append(AppendRequest::new(id, 0, vec![received(), received()]))
            .await
            .unwrap();
    }
    EventStore::save_states_in(
        &mut conn,
        1,
        vec![("stock-b", 2, &4_i64), ("stock-a", 2, &4)],
    )
    .await
    .unwrap();
    EventStore::save_states_in(&mut conn, 1, vec![("stock-a", 1, &2_i64)])
        .await
        .unwrap();

    let wanted = ["stock-a".to_owned(), "stock-b".to_owned()];
    let loaded = EventStore::load_states_in::<Level>(&mut conn, &wanted, 1, usize::MAX)
        .await
        .unwrap();
    for id in &wanted {
        let stream = &loaded[id];
        assert_eq!(
            (stream.state, stream.version, stream.events_folded),
            (4, 2, 0),
            "{id}"
        );
    }
}
