//! Appends that draw a value (a sale's number) in their own statement: the value lands in
//! the event and the kept answer, and an append refused draws nothing, so no value is lost.

use serde_json::value::to_raw_value;
use serde_json::{Value, json};
use sqlx::PgPool;
use tillstream_eventstore::{
    AppendRequest, Appended, Draw, EventStore, IdempotencyKey, NewEvent, StoreError,
};
use tillstream_test_support::TestDatabase;

use crate::support::{event, store};

const DRAW: &str = "INSERT INTO counters (name, last) SELECT args[1], 1 FROM go
                    ON CONFLICT (name) DO UPDATE SET last = counters.last + 1
                    RETURNING (SELECT args[2] FROM go) || last AS value";

fn draw() -> Draw {
    Draw {
        sql: DRAW,
        args: vec!["tills".into(), "T-".into()],
        payload_path: &["sale", "number"],
        answer_path: &["number"],
    }
}

fn sale(stream: &str, key: &str) -> AppendRequest {
    let payload = NewEvent::new("Sold", &json!({"sale": {"number": "", "total": "2.50"}})).unwrap();
    let answer = to_raw_value(&json!({"number": "", "id": stream})).unwrap();
    AppendRequest::new(stream, 0, vec![payload])
        .with_idempotency(IdempotencyKey::new(key, format!("hash-{key}")), answer)
}

async fn drawing(
    store: &EventStore,
    request: &AppendRequest,
) -> Result<(Appended, String), StoreError> {
    let mut conn = store.pool().acquire().await.unwrap();
    store.append_drawing(&mut conn, request, &draw()).await
}

async fn counters(pool: &PgPool) -> Value {
    sqlx::query_scalar("SELECT coalesce(jsonb_object_agg(name, last), '{}') FROM counters")
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn with_counters() -> (EventStore, TestDatabase) {
    let (store, db) = store().await;
    sqlx::query("CREATE TABLE counters (name text PRIMARY KEY, last bigint NOT NULL)")
        .execute(store.pool())
        .await
        .unwrap();
    (store, db)
}

#[tokio::test]
async fn the_drawn_value_lands_in_the_event_and_the_kept_answer() {
    let (store, _db) = with_counters().await;

    let (appended, first) = drawing(&store, &sale("s-1", "k-1")).await.unwrap();
    let (_, second) = drawing(&store, &sale("s-2", "k-2")).await.unwrap();

    assert_eq!((first.as_str(), second.as_str()), ("T-1", "T-2"));
    assert_eq!(appended.version, 1);
    let events = store.load("s-2", 0).await.unwrap();
    let payload: Value = serde_json::from_str(events[0].payload.get()).unwrap();
    assert_eq!(payload, json!({"sale": {"number": "T-2", "total": "2.50"}}));
    let kept = IdempotencyKey::new("k-2", "hash-k-2");
    let replay = store.find_idempotent(&kept).await.unwrap().unwrap();
    assert_eq!(replay.response, json!({"number": "T-2", "id": "s-2"}));
}

#[tokio::test]
async fn an_append_refused_draws_nothing_and_leaves_no_gap() {
    let (store, _db) = with_counters().await;
    drawing(&store, &sale("s-1", "k-1")).await.unwrap();

    // The stream is taken already.
    let again = drawing(&store, &sale("s-1", "k-other")).await;
    assert!(
        matches!(again, Err(StoreError::Conflict { .. })),
        "{again:?}"
    );
    // The key's answer is held by the first request: the whole statement fails, events too.
    let raced = drawing(&store, &sale("s-2", "k-1")).await;
    assert!(
        matches!(raced, Err(StoreError::IdempotencyRace { .. })),
        "{raced:?}"
    );
    assert!(store.load("s-2", 0).await.unwrap().is_empty());
    let other_key = IdempotencyKey::new("k-other", "hash-k-other");
    assert!(store.find_idempotent(&other_key).await.unwrap().is_none());
    assert_eq!(counters(store.pool()).await, json!({"tills": 1}));

    let (_, next) = drawing(&store, &sale("s-3", "k-3")).await.unwrap();
    assert_eq!(next, "T-2");
}

#[tokio::test]
async fn appends_racing_for_the_counter_draw_every_value_once() {
    let (store, _db) = with_counters().await;
    let appends = (0..24).map(|n| {
        let store = store.clone();
        tokio::spawn(async move {
            let request = sale(&format!("s-{n}"), &format!("k-{n}"));
            drawing(&store, &request).await.unwrap().1
        })
    });
    let mut drawn = Vec::new();
    for append in appends {
        drawn.push(append.await.unwrap());
    }
    drawn.sort_by_key(|value| value[2..].parse::<u32>().unwrap());
    let expected: Vec<String> = (1..=24).map(|n| format!("T-{n}")).collect();
    assert_eq!(drawn, expected);
}

#[tokio::test]
async fn only_one_event_without_claims_takes_a_drawn_value() {
    let (store, _db) = with_counters().await;
    let two = AppendRequest::new("s-1", 0, vec![event("A", 1), event("B", 2)]);
    let refused = drawing(&store, &two).await;
    assert!(
        matches!(refused, Err(StoreError::NotDrawable)),
        "{refused:?}"
    );
    assert_eq!(counters(store.pool()).await, json!({}));
}
