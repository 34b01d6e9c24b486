use serde_json::json;
use serde_json::value::{RawValue, to_raw_value};
use tillstream_eventstore::{AppendRequest, Claim, IdempotencyKey, StoreError, request_hash};

use crate::support::{event, store};

#[tokio::test]
async fn the_same_key_and_request_twice_appends_once_and_replays_the_first_response() {
    let (store, _db) = store().await;
    let body = json!({"sku": "A-1", "price": "2.50"});
    let key = IdempotencyKey::new("key-1", request_hash(&body).unwrap());

    assert!(store.find_idempotent(&key).await.unwrap().is_none());
    let first = AppendRequest::new("product-1", 0, vec![event("Created", 1)])
        .with_idempotency(key.clone(), raw(json!({"id": "product-1", "answer": 1})));
    store.append(first).await.unwrap();

    // The retry finds the stored answer before deciding anything.
    let replay = store
        .find_idempotent(&key)
        .await
        .unwrap()
        .expect("stored response");
    assert_eq!(replay.response, json!({"id": "product-1", "answer": 1}));
    assert_eq!(replay.stream_id, "product-1");

    // A retry that raced past the lookup loses at the append and writes nothing.
    let racing = AppendRequest::new("product-2", 0, vec![event("Created", 2)])
        .with_idempotency(key.clone(), raw(json!({"answer": 2})));
    assert!(matches!(
        store.append(racing).await,
        Err(StoreError::IdempotencyRace { .. })
    ));
    assert!(store.load("product-2", 0).await.unwrap().is_empty());
    assert_eq!(store.load("product-1", 0).await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_same_key_with_another_request_is_a_conflict() {
    let (store, _db) = store().await;
    let key = IdempotencyKey::new("key-2", request_hash(&json!({"a": 1})).unwrap());
    store
        .append(
            AppendRequest::new("s", 0, vec![event("E", 1)]).with_idempotency(key, raw(json!({}))),
        )
        .await
        .unwrap();
    let other = IdempotencyKey::new("key-2", request_hash(&json!({"a": 2})).unwrap());
    assert!(matches!(
        store.find_idempotent(&other).await,
        Err(StoreError::IdempotencyMismatch { .. })
    ));
}

#[tokio::test]
async fn an_expired_key_is_free_again() {
    let (store, _db) = store().await;
    let mut key = IdempotencyKey::new("key-3", "h1");
    key.ttl = std::time::Duration::from_millis(1);
    store
        .append(
            AppendRequest::new("s", 0, vec![event("E", 1)])
                .with_idempotency(key.clone(), raw(json!({}))),
        )
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert!(store.find_idempotent(&key).await.unwrap().is_none());
    // Reused with another request and a normal lifetime: accepted, and not purged.
    let reused = IdempotencyKey::new("key-3", "h2");
    store
        .append(
            AppendRequest::new("s", 1, vec![event("E", 2)])
                .with_idempotency(reused.clone(), raw(json!({"n": 2}))),
        )
        .await
        .unwrap();
    assert_eq!(store.purge_expired_idempotency_keys().await.unwrap(), 0);
    assert_eq!(
        store
            .find_idempotent(&reused)
            .await
            .unwrap()
            .unwrap()
            .response,
        json!({"n": 2})
    );
}

#[tokio::test]
async fn a_claimed_value_cannot_be_taken_by_another_stream_until_released() {
    let (store, _db) = store().await;
    let sku = || vec![Claim::acquire("sku", "COFFEE-1KG")];
    store
        .append(AppendRequest::new("product-a", 0, vec![event("Created", 1)]).with_claims(sku()))
        .await
        .unwrap();

    let taken = store
        .append(AppendRequest::new("product-b", 0, vec![event("Created", 2)]).with_claims(sku()))
        .await;
    assert!(
        matches!(&taken, Err(StoreError::Duplicate { claim, value }) if claim == "sku" && value == "COFFEE-1KG"),
        "{taken:?}"
    );
    assert!(
        store.load("product-b", 0).await.unwrap().is_empty(),
        "nothing half-written"
    );

    // The owner may take its own value again (a retried command).
    store
        .append(AppendRequest::new("product-a", 1, vec![event("Renamed", 1)]).with_claims(sku()))
        .await
        .unwrap();
    // Released, it is free.
    store
        .append(
            AppendRequest::new("product-a", 2, vec![event("SkuChanged", 1)])
                .with_claims(vec![Claim::release("sku", "COFFEE-1KG")]),
        )
        .await
        .unwrap();
    store
        .append(AppendRequest::new("product-b", 0, vec![event("Created", 2)]).with_claims(sku()))
        .await
        .unwrap();
}

#[tokio::test]
async fn concurrent_claims_of_one_value_let_exactly_one_stream_win() {
    let (store, _db) = store().await;
    let tasks = (0..10).map(|n| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .append(
                    AppendRequest::new(format!("user-{n}"), 0, vec![event("Registered", n)])
                        .with_claims(vec![Claim::acquire("username", "alice")]),
                )
                .await
        })
    });
    let results = futures::future::join_all(tasks).await;
    let winners = results.iter().filter(|r| matches!(r, Ok(Ok(_)))).count();
    let duplicates = results
        .iter()
        .filter(|r| matches!(r, Ok(Err(StoreError::Duplicate { .. }))))
        .count();
    assert_eq!((winners, duplicates), (1, 9));
}

/// A read-model row written from the appended events, in the append's statement.
const SHOWN: &str = "INSERT INTO shown (stream_id, version, n)
     SELECT stream_id, version, (payload ->> 'n')::int FROM appended";

#[tokio::test]
async fn a_row_and_a_key_go_with_the_events_or_not_at_all() {
    let (store, _db) = store().await;
    sqlx::query("CREATE TABLE shown (stream_id text, version bigint, n int)")
        .execute(store.pool())
        .await
        .unwrap();
    let shown = || async {
        sqlx::query_as::<_, (String, i64, i32)>("SELECT * FROM shown ORDER BY stream_id, version")
            .fetch_all(store.pool())
            .await
            .unwrap()
    };
    let key = IdempotencyKey::new("key-row", "h");
    let two = AppendRequest::new("s", 0, vec![event("E", 1), event("E", 2)])
        .with_idempotency(key.clone(), raw(json!({"kept": true})))
        .with_row(SHOWN);
    assert_eq!(store.append(two).await.unwrap().version, 2);
    assert_eq!(shown().await, [("s".into(), 1, 1), ("s".into(), 2, 2)]);
    let kept = store.find_idempotent(&key).await.unwrap().expect("kept");
    assert_eq!(kept.response, json!({"kept": true}));

    // A stale version appends nothing, so the row and the key are not written either.
    let stale = AppendRequest::new("s", 1, vec![event("E", 3)])
        .with_idempotency(IdempotencyKey::new("key-stale", "h"), raw(json!({})))
        .with_row(SHOWN);
    assert!(matches!(
        store.append(stale).await,
        Err(StoreError::Conflict { actual: 2, .. })
    ));
    // A key that is live already: the race is reported and the transaction rolls back.
    let racing = AppendRequest::new("t", 0, vec![event("E", 4)])
        .with_idempotency(key.clone(), raw(json!({"kept": false})))
        .with_row(SHOWN);
    assert!(matches!(
        store.append(racing).await,
        Err(StoreError::IdempotencyRace { .. })
    ));
    assert_eq!(shown().await.len(), 2);
    assert!(store.load("t", 0).await.unwrap().is_empty());
    assert!(
        store
            .find_idempotent(&IdempotencyKey::new("key-stale", "h"))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store
            .find_idempotent(&key)
            .await
            .unwrap()
            .expect("kept")
            .response,
        json!({"kept": true})
    );
}

/// A kept answer's JSON text.
fn raw(answer: serde_json::Value) -> Box<RawValue> {
    to_raw_value(&answer).unwrap()
}

#[tokio::test]
async fn an_append_with_a_fresh_key_to_a_stream_that_moved_is_a_conflict_and_keeps_nothing() {
    let (store, _db) = store().await;
    store
        .append(AppendRequest::new("moved", 0, vec![event("E", 1)]))
        .await
        .unwrap();
    let key = IdempotencyKey::new("key-fresh", "h");
    let stale = AppendRequest::new("moved", 0, vec![event("E", 2)])
        .with_idempotency(key.clone(), raw(json!({"answer": 2})));
    let refused = store.append(stale).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict { actual: 1, .. })),
        "{refused:?}"
    );
    assert!(store.find_idempotent(&key).await.unwrap().is_none());
}
