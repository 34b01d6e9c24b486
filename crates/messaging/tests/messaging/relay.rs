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
