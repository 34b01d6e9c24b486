use serde::{Deserialize, Serialize};
use tillstream_eventstore::{AppendRequest, DomainEvent, NewEvent};
use tillstream_kernel::Decider;

use crate::support::store;

/// A tiny stock level: enough to show a snapshot short-cuts the fold.
struct Level;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
enum Moved {
    Received { quantity: i64 },
    Sold { quantity: i64 },
}

impl DomainEvent for Moved {
    fn event_type(&self) -> &'static str {
        match self {
            Moved::Received { .. } => "Received",
            Moved::Sold { .. } => "Sold",
        }
    }
}

impl Decider for Level {
    type State = i64;
    type Command = ();
    type Event = Moved;
    type Error = ();

    fn decide(_: &i64, _: &()) -> Result<Vec<Moved>, ()> {
        Ok(vec![])
    }

    fn evolve(state: i64, event: &Moved) -> i64 {
        match event {
            Moved::Received { quantity } => state + quantity,
            Moved::Sold { quantity } => state - quantity,
        }
    }
}

#[tokio::test]
async fn a_long_stream_loads_from_its_snapshot_and_folds_only_the_tail() {
    let (store, _db) = store().await;
    let mut version = 0;
    let mut events = vec![NewEvent::from_domain(&Moved::Received { quantity: 1000 }).unwrap()];
    for _ in 0..299 {
        events.push(NewEvent::from_domain(&Moved::Sold { quantity: 1 }).unwrap());
    }
    version = store
        .append(AppendRequest::new("stock-1", version, events))
        .await
        .unwrap()
        .version;

    let first = store.load_state::<Level>("stock-1", 1, 100).await.unwrap();
    assert_eq!(
        (first.state, first.version, first.events_folded),
        (701, 300, 300)
    );

    store
        .append(AppendRequest::new(
            "stock-1",
            version,
            vec![NewEvent::from_domain(&Moved::Sold { quantity: 1 }).unwrap()],
        ))
        .await
        .unwrap();
    let second = store.load_state::<Level>("stock-1", 1, 100).await.unwrap();
    assert_eq!((second.state, second.version), (700, 301));
    assert_eq!(
        second.events_folded, 1,
        "only the event after the snapshot was folded"
    );

    // A new state schema ignores the old snapshot and folds everything again.
    let rebuilt = store
        .load_state::<Level>("stock-1", 2, 100_000)
        .await
        .unwrap();
    assert_eq!((rebuilt.state, rebuilt.events_folded), (700, 301));
}
