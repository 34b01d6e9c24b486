//! Projections against a real PostgreSQL: batch apply, atomic checkpoints, rebuild and swap.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::json;
use tillstream_eventstore::{AppendRequest, DatabaseConfig, EventStore, NewEvent, connect};
use tillstream_projection::{ProjectionRunner, RunnerConfig, SkuIndex};
use tillstream_test_support::TestDatabase;
use tokio_util::sync::CancellationToken;

async fn store() -> (EventStore, TestDatabase) {
    let db = TestDatabase::create().await.unwrap();
    let pool = connect(&DatabaseConfig::new(db.server_url.clone(), db.name.clone()))
        .await
        .unwrap();
    (EventStore::new(pool), db)
}

/// Appends products `from..to`, each renamed once; the index ends with `sku` = `N-renamed`.
async fn append_products(store: &EventStore, from: usize, to: usize) {
    for n in from..to {
        store
            .append(AppendRequest::new(
                format!("product-{n}"),
                0,
                vec![
                    NewEvent::new("ProductCreated", &json!({"sku": format!("{n}")})).unwrap(),
                    NewEvent::new("SkuChanged", &json!({"sku": format!("{n}-renamed")})).unwrap(),
                ],
            ))
            .await
            .unwrap();
    }
}

async fn index_rows(store: &EventStore) -> BTreeMap<String, (String, i32)> {
    let rows: Vec<(String, String, i32)> =
        sqlx::query_as("SELECT stream_id, sku, events FROM product_skus")
            .fetch_all(store.pool())
            .await
            .unwrap();
    rows.into_iter()
        .map(|(id, sku, events)| (id, (sku, events)))
        .collect()
}

fn expected_rows(count: usize) -> BTreeMap<String, (String, i32)> {
    (0..count)
        .map(|n| (format!("product-{n}"), (format!("{n}-renamed"), 2)))
        .collect()
}

fn runner(store: &EventStore, fail_on: Option<&'static str>) -> ProjectionRunner<SkuIndex> {
    let config = RunnerConfig {
        batch_size: 100,
        ..Default::default()
    };
    ProjectionRunner::new(store.clone(), SkuIndex { fail_on }, config)
}

#[tokio::test]
async fn batches_apply_every_event_once_and_move_the_checkpoint() {
    let (store, _db) = store().await;
    append_products(&store, 0, 150).await;
    let runner = runner(&store, None);
    runner.init().await.unwrap();
    let mut applied = 0;
    for _ in 0..1000 {
        let n = runner.apply_batch().await.unwrap();
        assert!(n <= 100, "batches are bounded");
        applied += n;
        if applied == 300 {
            break;
        }
        if n == 0 {
            // Another test's open transaction holds the cluster-wide read horizon back.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    assert_eq!(applied, 300);
    assert_eq!(index_rows(&store).await, expected_rows(150));
    assert_eq!(runner.lag().await.unwrap().0, 0);
    assert_eq!(
        runner.apply_batch().await.unwrap(),
        0,
        "nothing is applied twice"
    );
}

#[tokio::test]
async fn a_failing_batch_leaves_neither_rows_nor_checkpoint_behind() {
    let (store, _db) = store().await;
    append_products(&store, 0, 10).await;
    store
        .append(AppendRequest::new(
            "product-bad",
            0,
            vec![NewEvent::new("ProductCreated", &json!({"sku": "poison"})).unwrap()],
        ))
        .await
        .unwrap();
    let runner = runner(&store, Some("poison"));
    runner.init().await.unwrap();
    wait_until_all_visible(&store, 21).await;
    assert!(runner.apply_batch().await.is_err());
    assert!(
        index_rows(&store).await.is_empty(),
        "the batch was rolled back whole"
    );
    assert_eq!(
        runner.lag().await.unwrap().0,
        21,
        "and the checkpoint did not move"
    );
}

#[tokio::test]
async fn a_rebuild_swaps_in_a_fresh_generation_while_writers_and_readers_go_on() {
    let (store, _db) = store().await;
    append_products(&store, 0, 300).await;
    let live = runner(&store, None);
    live.init().await.unwrap();
    let stop = CancellationToken::new();
    tokio::spawn(live.clone().run(stop.clone()));
    wait_until_caught_up(&live).await;

    // Writers keep appending and readers keep querying the view during the rebuild.
    let writing = Arc::new(AtomicBool::new(true));
    let writer = {
        let store = store.clone();
        let writing = writing.clone();
        tokio::spawn(async move {
            let mut next = 300;
            while writing.load(Ordering::SeqCst) {
                append_products(&store, next, next + 5).await;
                next += 5;
            }
            next
        })
    };
    let reader = {
        let store = store.clone();
        let writing = writing.clone();
        tokio::spawn(async move {
            let mut reads = 0;
            while writing.load(Ordering::SeqCst) {
                let count: i64 = sqlx::query_scalar("SELECT count(*) FROM product_skus")
                    .fetch_one(store.pool())
                    .await
                    .expect("the view answers throughout the rebuild");
                assert!(count > 0);
                reads += 1;
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            reads
        })
    };

    tokio::time::sleep(Duration::from_millis(100)).await;
    let report = runner(&store, None).rebuild().await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    writing.store(false, Ordering::SeqCst);
    let written = writer.await.unwrap();
    assert!(reader.await.unwrap() > 0);

    assert_eq!(report.generation, 2);
    assert!(report.events_applied >= 600);
    // The live loop carries on in generation 2 until everything is in.
    wait_until_caught_up(&live).await;
    stop.cancel();
    assert_eq!(index_rows(&store).await, expected_rows(written));
    let old_table: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('product_skus_g1')::text")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(old_table, None, "the old generation was dropped");
}

async fn wait_until_caught_up(runner: &ProjectionRunner<SkuIndex>) {
    for _ in 0..500 {
        if runner.lag().await.unwrap().0 == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the projection never caught up");
}

/// Waits until the read horizon has passed `count` events (another test's open
/// transaction can hold it back for a moment; the horizon is cluster-wide).
async fn wait_until_all_visible(store: &EventStore, count: usize) {
    for _ in 0..500 {
        let visible = store
            .read_all(tillstream_eventstore::Cursor::START, 10_000)
            .await
            .unwrap();
        if visible.len() >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the events never became visible");
}
