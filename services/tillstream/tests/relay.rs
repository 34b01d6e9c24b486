//! `tillstream relay republish --from`: after the broker lost a service's stream, the
//! relay's checkpoint goes back and its next rounds publish the store again, whole or from
//! a position.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::sync::Arc;

use serde_json::json;
use tillstream_eventstore::{AppendRequest, Cursor, DatabaseConfig, EventStore, NewEvent};
use tillstream_messaging::{
    JsonWire, Naming, Relay, RelayConfig, StreamSettings, ensure_service_stream,
};
use tillstream_test_support::{
    TestDatabase, TestPrefix, database_server_url, nats_url, unique_name,
};
use tokio::process::Command;

async fn republish(db_prefix: &str, prefix: &TestPrefix, from: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_tillstream"))
        .args(["relay", "republish", "--service", "catalog", "--from", from])
        .env("TILLSTREAM_DB_PREFIX", db_prefix)
        .env("TILLSTREAM_DATABASE_URL", database_server_url())
        .env("TILLSTREAM_SUBJECT_PREFIX", &prefix.prefix)
        .env("TILLSTREAM_NATS_URL", nats_url())
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).to_string()
}

/// Runs the relay's rounds until its checkpoint reaches the end of the log. Not "until a
/// round publishes nothing": the read horizon is cluster-wide, so another test's open
/// transaction can hold a round back for a moment.
async fn publish_all(relay: &Relay, store: &EventStore) {
    let head = store.head().await.unwrap();
    for _ in 0..2000 {
        if relay.publish_batch().await.unwrap() == 0 {
            if relay.position().await.unwrap().0 >= head {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
    panic!("the relay did not reach the end of the log");
}

#[tokio::test]
async fn a_lost_stream_is_published_again_from_the_store() {
    let prefix = TestPrefix::new();
    let db_prefix = unique_name("relay");
    let database = TestDatabase {
        server_url: database_server_url(),
        name: format!("{db_prefix}_catalog"),
    };
    let pool =
        tillstream_eventstore::connect(&DatabaseConfig::new(&database.server_url, &database.name))
            .await
            .unwrap();
    let store = EventStore::new(pool);
    for n in 0..3 {
        let event = NewEvent::new("ProductCreated", &json!({"sku": format!("SKU-{n}")})).unwrap();
        store
            .append(AppendRequest::new(format!("product-{n}"), 0, vec![event]))
            .await
            .unwrap();
    }
    let naming = Naming::new(prefix.prefix.clone()).unwrap();
    let client = async_nats::connect(&prefix.url).await.unwrap();
    let relay = Relay::new(
        store.clone(),
        client.clone(),
        Arc::new(JsonWire),
        RelayConfig::new("catalog", naming.clone()),
    );
    let js = async_nats::jetstream::new(client);
    ensure_service_stream(&js, &naming, "catalog", &StreamSettings::default())
        .await
        .unwrap();
    publish_all(&relay, &store).await;
    let messages = |js: async_nats::jetstream::Context| {
        let name = naming.service_stream("catalog");
        async move {
            js.get_stream(&name)
                .await
                .unwrap()
                .get_info()
                .await
                .unwrap()
                .state
                .messages
        }
    };
    assert_eq!(messages(js.clone()).await, 3);

    // The broker loses everything.
    js.get_stream(naming.service_stream("catalog"))
        .await
        .unwrap()
        .purge()
        .await
        .unwrap();
    let said = republish(&db_prefix, &prefix, "start").await;
    assert!(said.contains("\"service\":\"catalog\""), "{said}");
    assert_eq!(relay.position().await.unwrap().0, Cursor::START);
    publish_all(&relay, &store).await;
    assert_eq!(messages(js.clone()).await, 3);

    // From a position: that event and the ones after it (here, the last one).
    let last = store.head().await.unwrap();
    republish(&db_prefix, &prefix, &last.position.to_string()).await;
    publish_all(&relay, &store).await;
    assert_eq!(messages(js.clone()).await, 4);
    assert_eq!(relay.position().await.unwrap().0, last);
}
