use std::sync::Arc;

use tillstream_eventstore::{AppendRequest, EventMetadata, NewEvent, StoreError};

use crate::support::{event, store};

#[tokio::test]
async fn events_are_appended_in_order_and_loaded_from_a_version() {
    let (store, _db) = store().await;
    let meta = EventMetadata {
        actor: Some("user-1".into()),
        ..Default::default()
    };
    let appended = store
        .append(
            AppendRequest::new("counter-1", 0, vec![event("Added", 1), event("Added", 2)])
                .with_metadata(meta.clone()),
        )
        .await
        .unwrap();
    assert_eq!(appended.version, 2);
    store
        .append(AppendRequest::new("counter-1", 2, vec![event("Added", 3)]))
        .await
        .unwrap();

    let all = store.load("counter-1", 0).await.unwrap();
    assert_eq!(
        all.iter().map(|e| e.version).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    // Stored as given, with a trace of its own since none came with it.
    assert_eq!(all[0].metadata.actor, meta.actor);
    let traceparent = all[0].metadata.traceparent.as_deref().unwrap();
    assert!(tillstream_kernel::trace_id_of(traceparent).is_some());
    assert_eq!(
        all[1].metadata.traceparent, all[0].metadata.traceparent,
        "one append, one trace"
    );
    assert_eq!(all[2].payload_value().unwrap()["n"], 3);
    let tail = store.load("counter-1", 2).await.unwrap();
    assert_eq!(tail.len(), 1);
    assert_eq!(store.stream_version("counter-1").await.unwrap(), 3);
    assert_eq!(store.stream_version("nothing-here").await.unwrap(), 0);
}

#[tokio::test]
async fn a_stale_expected_version_is_a_typed_conflict_and_writes_nothing() {
    let (store, _db) = store().await;
    store
        .append(AppendRequest::new("s-1", 0, vec![event("A", 1)]))
        .await
        .unwrap();

    let stale = store
        .append(AppendRequest::new("s-1", 0, vec![event("A", 2)]))
        .await;
    assert!(
        matches!(
            stale,
            Err(StoreError::Conflict {
                expected: 0,
                actual: 1,
                ..
            })
        ),
        "{stale:?}"
    );
    // Ahead of the stream is a conflict too, not a gap in its versions.
    let ahead = store
        .append(AppendRequest::new("s-1", 5, vec![event("A", 3)]))
        .await;
    assert!(matches!(
        ahead,
        Err(StoreError::Conflict {
            expected: 5,
            actual: 1,
            ..
        })
    ));
    assert_eq!(store.load("s-1", 0).await.unwrap().len(), 1);
}

#[tokio::test]
async fn concurrent_appends_to_one_stream_let_exactly_one_writer_win_each_version() {
    let (store, _db) = store().await;
    let store = Arc::new(store);
    let writers = 16;
    let tasks = (0..writers).map(|n| {
        let store = store.clone();
        tokio::spawn(async move {
            // Each writer retries after a conflict, as a command handler does.
            let mut conflicts = 0;
            loop {
                let version = store.stream_version("hot").await.unwrap();
                match store
                    .append(AppendRequest::new("hot", version, vec![event("Hit", n)]))
                    .await
                {
                    Ok(_) => return conflicts,
                    Err(StoreError::Conflict { .. }) => conflicts += 1,
                    Err(other) => panic!("unexpected {other}"),
                }
            }
        })
    });
    let conflicts: i32 = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .sum();

    let events = store.load("hot", 0).await.unwrap();
    assert_eq!(
        events.len(),
        writers as usize,
        "every writer landed exactly once"
    );
    let versions: Vec<i64> = events.iter().map(|e| e.version).collect();
    assert_eq!(
        versions,
        (1..=writers).collect::<Vec<_>>(),
        "no gaps, no duplicates"
    );
    let mut writers_seen: Vec<i64> = events
        .iter()
        .map(|e| e.payload_value().unwrap()["n"].as_i64().unwrap())
        .collect();
    writers_seen.sort_unstable();
    assert_eq!(writers_seen, (0..writers).collect::<Vec<_>>());
    // With 16 writers racing on one stream, someone must have lost a race.
    assert!(conflicts > 0, "the test did not exercise a conflict");
}

/// A payload large enough to be compressed is compressed with lz4 (where the server has
/// it): pglz was the busiest function of a loaded sales database's backends.
#[tokio::test]
async fn large_payloads_are_compressed_with_lz4() {
    let (store, _db) = store().await;
    let lz4: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression'
                        AND 'lz4' = ANY(enumvals))",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    let lines: Vec<_> = (0..200)
        .map(|n| serde_json::json!({ "line": n, "sku": format!("SKU-{n}"), "total": "12.50" }))
        .collect();
    let payload = serde_json::json!({ "lines": lines });
    store
        .append(AppendRequest::new(
            "sale-1",
            0,
            vec![NewEvent::new("SaleCompleted", &payload).unwrap()],
        ))
        .await
        .unwrap();
    let method: Option<String> =
        sqlx::query_scalar("SELECT pg_column_compression(payload) FROM events")
            .fetch_one(store.pool())
            .await
            .unwrap();
    let expected = if lz4 { "lz4" } else { "pglz" };
    assert_eq!(method.as_deref(), Some(expected));
    assert_eq!(
        store.load("sale-1", 0).await.unwrap()[0]
            .payload_value()
            .unwrap(),
        payload
    );
}
