//! The relay when the broker goes away or loses what it acknowledged.

use std::time::Duration;

use tillstream_messaging::HealOutcome;
use tillstream_test_support::PrivateNats;

use crate::support::{Fixture, SERVICE, assert_each_once};

#[tokio::test]
async fn appends_succeed_while_nats_is_down_and_the_relay_catches_up_once() {
    let mut nats = PrivateNats::start().await.unwrap();
    let fx = Fixture::on(nats.url()).await;
    let stop = fx.spawn_relay();
    let mut ids = fx.append_products(0, 20).await;
    fx.wait_for_stream_to_hold(&ids).await;

    nats.stop().unwrap();
    // Commands keep succeeding: the store is the truth, the relay waits.
    ids.extend(fx.append_products(20, 40).await);
    tokio::time::sleep(Duration::from_millis(500)).await;
    nats.start_again().await.unwrap();

    let held = fx.wait_for_stream_to_hold(&ids).await;
    stop.cancel();
    assert_each_once(&held, &ids);
}

#[tokio::test]
async fn a_purged_stream_is_healed_from_the_store_with_nothing_missing() {
    let fx = Fixture::shared().await;
    let relay = fx.relay();
    relay.ensure_stream().await.unwrap();
    let ids = fx.append_products(0, 25).await;
    fx.publish_everything(&relay).await;

    let stream = fx
        .js()
        .get_stream(fx.naming.service_stream(SERVICE))
        .await
        .unwrap();
    stream.purge().await.unwrap();
    assert!(fx.stream_event_ids().await.is_empty());

    let outcome = relay.verify_broker().await.unwrap();
    assert!(matches!(outcome, HealOutcome::Healed { .. }), "{outcome:?}");
    fx.publish_everything(&relay).await;
    assert_each_once(&fx.stream_event_ids().await, &ids);
    assert_eq!(relay.verify_broker().await.unwrap(), HealOutcome::Intact);
}

#[tokio::test]
async fn a_running_relay_heals_a_recreated_stream_on_its_own() {
    let fx = Fixture::shared().await;
    let stop = fx.spawn_relay();
    let mut ids = fx.append_products(0, 15).await;
    fx.wait_for_stream_to_hold(&ids).await;

    // The broker lost the stream (as after a crash with lazy fsync, or a careless operator).
    fx.js()
        .delete_stream(fx.naming.service_stream(SERVICE))
        .await
        .unwrap();
    ids.extend(fx.append_products(15, 5).await);

    let held = fx.wait_for_stream_to_hold(&ids).await;
    stop.cancel();
    assert_each_once(&held, &ids);
}
