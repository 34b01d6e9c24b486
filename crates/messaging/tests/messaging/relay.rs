use tillstream_messaging::headers;

use crate::support::{Fixture, SERVICE, assert_each_once};

#[tokio::test]
async fn the_relay_publishes_every_event_once_as_a_cloudevent() {
    let fx = Fixture::shared().await;
    let ids = fx.append_products(0, 50).await;
    let relay = fx.relay();
    relay.ensure_stream().await.unwrap();
    fx.publish_everything(&relay).await;

    let held = fx.stream_event_ids().await;
    assert_each_once(&held, &ids);

    let stream = fx
        .js()
        .get_stream(fx.naming.service_stream(SERVICE))
        .await
        .unwrap();
    let first = stream.get_raw_message(1).await.unwrap();
    let h = &first.headers;
    assert_eq!(
        first.subject.as_str(),
        format!("{}.catalog.product.ProductCreated", fx.naming.prefix())
    );
    assert_eq!(h.get(headers::SPECVERSION).unwrap().as_str(), "1.0");
    assert_eq!(h.get(headers::ID).unwrap().as_str(), ids[0]);
    assert_eq!(h.get(headers::MSG_ID).unwrap().as_str(), ids[0]);
    assert_eq!(
        h.get(headers::TYPE).unwrap().as_str(),
        "tillstream.catalog.v1.ProductCreated"
    );
    assert_eq!(
        h.get(headers::SOURCE).unwrap().as_str(),
        "/tillstream/catalog"
    );
    assert_eq!(h.get(headers::SUBJECT).unwrap().as_str(), "product-0");
    assert_eq!(
        h.get(headers::DATACONTENTTYPE).unwrap().as_str(),
        "application/json"
    );
    assert!(h.get(headers::TIME).is_some() && h.get(headers::DATASCHEMA).is_some());
    let data: serde_json::Value = serde_json::from_slice(&first.payload).unwrap();
    assert_eq!(data["sku"], "SKU-0");
}

#[tokio::test]
async fn a_relay_that_crashed_before_its_checkpoint_republishes_without_duplicates() {
    let fx = Fixture::shared().await;
    let ids = fx.append_products(0, 30).await;
    let relay = fx.relay();
    relay.ensure_stream().await.unwrap();
    fx.publish_everything(&relay).await;

    // The crash: the publishes happened, the checkpoint write did not.
    sqlx::query("UPDATE relay_checkpoints SET tx_id = '0', position = 0")
        .execute(fx.store.pool())
        .await
        .unwrap();
    fx.publish_everything(&relay).await;

    assert_each_once(&fx.stream_event_ids().await, &ids);
}

#[tokio::test]
async fn a_running_relay_follows_new_appends() {
    let fx = Fixture::shared().await;
    let stop = fx.spawn_relay();
    let mut ids = fx.append_products(0, 10).await;
    fx.wait_for_stream_to_hold(&ids).await;
    ids.extend(fx.append_products(10, 10).await);
    let held = fx.wait_for_stream_to_hold(&ids).await;
    stop.cancel();
    assert_each_once(&held, &ids);
}

/// A backlog of more batches than a round pumps (16) is read on while batches come back
/// full; a short one ends the reading, and the appends after it wake the relay again.
#[tokio::test]
async fn a_relay_reads_on_through_full_batches_and_is_woken_after_a_short_one() {
    let fx = Fixture::shared().await;
    let mut ids = fx.append_products(0, 41).await;
    let stop = tokio_util::sync::CancellationToken::new();
    tokio::spawn(fx.relay_in_batches_of(2).run(stop.clone()));
    fx.wait_for_stream_to_hold(&ids).await;
    for round in 0..3 {
        ids.extend(fx.append_products(41 + round * 5, 5).await);
        fx.wait_for_stream_to_hold(&ids).await;
    }
    stop.cancel();
    assert_each_once(&fx.stream_event_ids().await, &ids);
}

/// Nothing but the commits wakes this relay (its periodic check is an hour away): an append
/// through another store (another process) is published, and so is one that commits
/// behind an older open transaction, once that ends without appending anything.
#[tokio::test]
async fn an_idle_relay_is_woken_by_commits_and_waits_out_the_read_horizon() {
    let fx = Fixture::shared().await;
    let stop = tokio_util::sync::CancellationToken::new();
    let relay = fx.relay_verifying_every(std::time::Duration::from_secs(3600));
    tokio::spawn(relay.run(stop.clone()));
    let mut ids = fx.append_products(0, 1).await;
    fx.wait_for_stream_to_hold(&ids).await;

    let other_process = tillstream_eventstore::EventStore::new(
        sqlx::PgPool::connect_with(fx.store.pool().connect_options().as_ref().clone())
            .await
            .unwrap(),
    );
    let event =
        tillstream_eventstore::NewEvent::new("ProductCreated", &serde_json::json!({})).unwrap();
    ids.push(event.event_id.to_string());
    other_process
        .append(tillstream_eventstore::AppendRequest::new(
            "product-other",
            0,
            vec![event],
        ))
        .await
        .unwrap();
    fx.wait_for_stream_to_hold(&ids).await;

    let mut older = fx.store.pool().begin().await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut *older)
        .await
        .unwrap();
    ids.extend(fx.append_products(1, 1).await);
    // The relay is woken, finds the event hidden, and keeps looking until the horizon
    // passes: the older transaction ends without an append, so no commit announces it.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    older.commit().await.unwrap();
    let held = fx.wait_for_stream_to_hold(&ids).await;
    stop.cancel();
    assert_each_once(&held, &ids);
}

/// A running relay goes on from the checkpoint it saved without loading it each round. An
/// operator's rewind (another process: `relay republish --from`) of an idle relay appends
/// nothing, yet wakes it: it finds the checkpoint moved and republishes from there.
#[tokio::test]
async fn a_running_relay_republishes_after_a_rewind_while_idle() {
    let fx = Fixture::shared().await;
    let stop = tokio_util::sync::CancellationToken::new();
    tokio::spawn(
        fx.relay_verifying_every(std::time::Duration::from_secs(3600))
            .run(stop.clone()),
    );
    let ids = fx.append_products(0, 5).await;
    fx.wait_for_stream_to_hold(&ids).await;
    // Idle: its last checkpoint saved, not only its messages acknowledged.
    let operator = fx.relay();
    fx.wait_for_checkpoint_at_head(&operator).await;

    operator
        .republish_from(tillstream_eventstore::Cursor::START)
        .await
        .unwrap();
    let held = fx.wait_for_stream_to_hold_copies(&ids, 2).await;
    stop.cancel();
    assert_eq!(held.len(), 10, "each event once more, nothing else");
}

/// A checkpoint rewound behind an idle relay's back (nothing wakes it) and then an append
/// that does: the relay reads after the checkpoint it kept only while that is still the
/// stored one, so it republishes from the rewind first and the new event after, in log
/// order, instead of sending the new event ahead of what it must publish again.
#[tokio::test]
async fn a_relay_woken_after_a_silent_rewind_republishes_before_anything_new() {
    let fx = Fixture::shared().await;
    let stop = tokio_util::sync::CancellationToken::new();
    tokio::spawn(
        fx.relay_verifying_every(std::time::Duration::from_secs(3600))
            .run(stop.clone()),
    );
    let mut ids = fx.append_products(0, 3).await;
    fx.wait_for_stream_to_hold(&ids).await;
    fx.wait_for_checkpoint_at_head(&fx.relay()).await;

    sqlx::query(
        "UPDATE relay_checkpoints SET tx_id = '0', position = 0, heal_epoch = heal_epoch + 1",
    )
    .execute(fx.store.pool())
    .await
    .unwrap();
    let new = fx.append_products(3, 1).await;
    fx.wait_for_stream_to_hold(&new).await;
    stop.cancel();

    ids.extend(ids.clone());
    ids.extend(new);
    assert_eq!(
        fx.stream_event_ids().await,
        ids,
        "the three, the three again, then the new one"
    );
}

/// A rewind while the relay works through a backlog two at a time: whatever it sends from
/// the checkpoint it kept cannot be saved over the rewound one, so it starts over from the
/// rewind. Everything published before is published again, and nothing is missing.
#[tokio::test]
async fn a_running_relay_rewound_while_busy_starts_over_from_the_rewind() {
    let fx = Fixture::shared().await;
    let ids = fx.append_products(0, 300).await;
    let stop = tokio_util::sync::CancellationToken::new();
    tokio::spawn(fx.relay_in_batches_of(2).run(stop.clone()));
    // The log's order is the order of the appends: the first 40 are out by then.
    let mut out = 0;
    for _ in 0..2000 {
        out = fx.stream_messages().await;
        if out >= 40 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    assert!(out >= 40, "the relay never got going");

    fx.relay()
        .republish_from(tillstream_eventstore::Cursor::START)
        .await
        .unwrap();
    fx.wait_for_stream_to_hold_copies(&ids[..40], 2).await;
    fx.wait_for_stream_to_hold(&ids).await;
    stop.cancel();
}
