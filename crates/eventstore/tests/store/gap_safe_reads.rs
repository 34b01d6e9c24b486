//! The relay and projections read "everything after my cursor". Sequence values are taken
//! at insert and become visible at commit, so transactions commit out of order; these tests
//! show the store's reader never skips such an event, and that a naive reader does.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::PgPool;
use tillstream_eventstore::{AppendRequest, Cursor, EventStore, RecordedEvent};

use crate::support::{event, store};

/// The reader the store must not be: remembers the highest position seen.
async fn naive_read_after(pool: &PgPool, last_position: i64) -> Vec<(i64, String)> {
    sqlx::query_as(
        "SELECT position, event_id::text FROM events WHERE position > $1 ORDER BY position LIMIT 500",
    )
    .bind(last_position)
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn append_in_open_transaction(
    store: &EventStore,
    stream: &str,
) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut tx = store.pool().begin().await.unwrap();
    store
        .append_in(&mut tx, &AppendRequest::new(stream, 0, vec![event("E", 0)]))
        .await
        .unwrap();
    tx
}

#[tokio::test]
async fn an_event_committed_after_a_later_one_is_not_skipped() {
    let (store, _db) = store().await;
    // A takes the earlier position but commits last.
    let tx_a = append_in_open_transaction(&store, "a").await;
    let tx_b = append_in_open_transaction(&store, "b").await;
    tx_b.commit().await.unwrap();

    let naive_first = naive_read_after(store.pool(), 0).await;
    let safe_first = store.read_all(Cursor::START, 100).await.unwrap();
    tx_a.commit().await.unwrap();

    // The naive reader saw B, advanced past A's position, and never sees A.
    assert_eq!(naive_first.len(), 1);
    let naive_then = naive_read_after(store.pool(), naive_first[0].0).await;
    assert!(naive_then.is_empty(), "the naive reader skips A");

    // The safe reader waited for A (it was below B in the log) and then sees both, A first.
    assert!(
        safe_first.is_empty(),
        "B is held back while A is open: {safe_first:?}"
    );
    let safe_then = read_until(&store, 2).await;
    let streams: Vec<&str> = safe_then.iter().map(|e| e.stream_id.as_str()).collect();
    assert_eq!(streams, vec!["a", "b"]);
}

#[tokio::test]
async fn many_writers_committing_out_of_order_never_make_the_reader_skip() {
    let (store, _db) = store().await;
    let writers = 12;
    let per_writer = 25;
    let done = Arc::new(AtomicBool::new(false));

    let writer_tasks: Vec<_> = (0..writers)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..per_writer {
                    let mut tx = store.pool().begin().await.unwrap();
                    let stream = format!("w{w}-{i}");
                    store
                        .append_in(&mut tx, &AppendRequest::new(stream, 0, vec![event("E", i)]))
                        .await
                        .unwrap();
                    // Hold the transaction open a varying while so commits reorder.
                    let pause = (w * 7 + i * 13) % 17;
                    tokio::time::sleep(Duration::from_millis(pause as u64)).await;
                    tx.commit().await.unwrap();
                }
            })
        })
        .collect();

    let safe_reader = {
        let store = store.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut cursor = Cursor::START;
            let mut seen: Vec<RecordedEvent> = Vec::new();
            loop {
                let finished = done.load(Ordering::SeqCst);
                let batch = store.read_all(cursor, 37).await.unwrap();
                if let Some(last) = batch.last() {
                    cursor = last.cursor();
                }
                let empty = batch.is_empty();
                seen.extend(batch);
                // The horizon is cluster-wide: another test's open transaction may hold it
                // back for a while, so "finished and nothing new" is not "seen everything".
                if finished && empty && store.head().await.unwrap() == cursor {
                    return seen;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };

    let naive_reader = {
        let pool = store.pool().clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut last = 0;
            let mut seen = Vec::new();
            loop {
                let finished = done.load(Ordering::SeqCst);
                let batch = naive_read_after(&pool, last).await;
                if let Some((position, _)) = batch.last() {
                    last = *position;
                }
                let empty = batch.is_empty();
                seen.extend(batch.into_iter().map(|(_, id)| id));
                if finished && empty {
                    return seen;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };

    for task in writer_tasks {
        task.await.unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let safe = safe_reader.await.unwrap();
    let naive = naive_reader.await.unwrap();
    let total = (writers * per_writer) as usize;

    let unique: HashSet<_> = safe.iter().map(|e| e.event_id).collect();
    assert_eq!(safe.len(), total, "the safe reader saw every event");
    assert_eq!(unique.len(), total, "and each exactly once");
    let cursors: Vec<Cursor> = safe.iter().map(|e| e.cursor()).collect();
    assert!(
        cursors.windows(2).all(|w| w[0] < w[1]),
        "in strictly increasing log order"
    );

    // The point of the test: the naive reader, tailing the same log, lost events.
    assert!(
        naive.len() < total,
        "the naive reader saw all {total} events; the test did not produce out-of-order commits"
    );
}

/// Reads from the start until `count` events are visible.
async fn read_until(store: &EventStore, count: usize) -> Vec<RecordedEvent> {
    for _ in 0..500 {
        let events = store.read_all(Cursor::START, 100).await.unwrap();
        if events.len() >= count {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("fewer than {count} events ever became visible");
}

/// The relay and every projection ask for the head after each round they catch up in: it
/// must read the end of the index, not the whole log (it once sorted every event by a
/// bigint alias of `tx_id`, a full scan per call that grew with the store).
#[tokio::test]
async fn the_head_is_read_from_the_index_without_scanning_the_log() {
    let (store, _db) = store().await;
    for batch in 0..20 {
        let events = (0..50).map(|n| event("E", n)).collect();
        store
            .append(AppendRequest::new(format!("s{batch}"), 0, events))
            .await
            .unwrap();
    }
    sqlx::query("ANALYZE events")
        .execute(store.pool())
        .await
        .unwrap();

    // This connection's counts of the table's sequential scans, not yet reported to the
    // cumulative statistics (so no other session's reads are counted), before and after.
    // (The index's entries read too: a full scan of the index and a sort is no better.)
    const SCANS: &str = "SELECT pg_stat_get_xact_numscans('events'::regclass),
                                pg_stat_get_xact_tuples_returned('events'::regclass),
                                pg_stat_get_xact_tuples_returned('events_pkey'::regclass)";
    let mut tx = store.pool().begin().await.unwrap();
    let before: (i64, i64, i64) = sqlx::query_as(SCANS).fetch_one(&mut *tx).await.unwrap();
    let head = tillstream_eventstore::head(&mut *tx).await.unwrap();
    let after: (i64, i64, i64) = sqlx::query_as(SCANS).fetch_one(&mut *tx).await.unwrap();
    tx.rollback().await.unwrap();

    // Appended one after the other: the last position is the last transaction's.
    let last: i64 = sqlx::query_scalar("SELECT max(position) FROM events")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(head.position, last);
    assert_eq!(
        (before.0, before.1),
        (after.0, after.1),
        "the head scanned the log"
    );
    assert!(
        after.2 - before.2 <= 2,
        "the head read {} index entries",
        after.2 - before.2
    );
}

/// A relay that kept its checkpoint reads after it only while `relay_checkpoints` still
/// holds it: a rewind (a new cursor, or the same cursor in a new heal epoch) reads nothing.
#[tokio::test]
async fn a_read_from_a_kept_checkpoint_finds_nothing_once_the_checkpoint_moved() {
    let (store, _db) = store().await;
    for stream in ["a", "b", "c"] {
        store
            .append(AppendRequest::new(stream, 0, vec![event("E", 0)]))
            .await
            .unwrap();
    }
    let all = read_until(&store, 3).await;
    let first = all[0].cursor();
    let set = |cursor: Cursor, epoch: i32| {
        sqlx::query(
            "INSERT INTO relay_checkpoints (relay, tx_id, position, heal_epoch)
             VALUES ('r', $1::bigint::text::xid8, $2, $3)
             ON CONFLICT (relay) DO UPDATE
             SET tx_id = EXCLUDED.tx_id, position = EXCLUDED.position,
                 heal_epoch = EXCLUDED.heal_epoch",
        )
        .bind(cursor.tx_id)
        .bind(cursor.position)
        .bind(epoch)
        .execute(store.pool())
    };
    let read = |cursor: Cursor, epoch: i32| store.read_all_from_checkpoint("r", cursor, epoch, 10);

    set(first, 0).await.unwrap();
    let after_first: Vec<_> = read(first, 0).await.unwrap();
    assert_eq!(after_first.len(), 2, "everything after the kept checkpoint");
    assert_eq!(after_first[0].event_id, all[1].event_id);
    assert!(
        read(first, 0).await.is_ok_and(|e| e.len() == 2),
        "reading moves nothing"
    );

    set(Cursor::START, 1).await.unwrap();
    assert!(
        read(first, 0).await.unwrap().is_empty(),
        "rewound to the start"
    );
    set(first, 1).await.unwrap();
    assert!(
        read(first, 0).await.unwrap().is_empty(),
        "same place, new heal epoch"
    );
    assert_eq!(read(first, 1).await.unwrap().len(), 2, "as stored now");
    assert!(
        store
            .read_all_from_checkpoint("another", first, 1, 10)
            .await
            .unwrap()
            .is_empty(),
        "no checkpoint of that relay"
    );
}
