//! Shared set-up for the store tests.

use serde_json::json;
use tillstream_eventstore::{DatabaseConfig, EventStore, NewEvent, connect};
use tillstream_test_support::TestDatabase;

/// A migrated store on a database of its own (dropped with the returned guard).
pub async fn store() -> (EventStore, TestDatabase) {
    let db = TestDatabase::create().await.expect("test database");
    let mut config = DatabaseConfig::new(db.server_url.clone(), db.name.clone());
    config.max_connections = 40;
    let pool = connect(&config).await.expect("connect and migrate");
    (EventStore::new(pool), db)
}

pub fn event(kind: &str, n: i64) -> NewEvent {
    NewEvent::new(kind, &json!({ "n": n })).unwrap()
}
