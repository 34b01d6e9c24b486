//! Events going in and coming out of the store, and the cursor readers keep.

use chrono::{DateTime, Utc};
use serde_json::Value;
use tillstream_kernel::{DomainEvent, EventMetadata, Ulid};

/// An event about to be appended.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub event_id: Ulid,
    pub event_type: String,
    pub schema_version: i32,
    pub payload: Value,
}

impl NewEvent {
    pub fn new(event_type: impl Into<String>, payload: Value) -> Self {
        NewEvent {
            event_id: Ulid::generate(),
            event_type: event_type.into(),
            schema_version: 1,
            payload,
        }
    }

    pub fn from_domain<E: DomainEvent>(event: &E) -> Result<Self, serde_json::Error> {
        Ok(NewEvent {
            event_id: Ulid::generate(),
            event_type: event.event_type().to_owned(),
            schema_version: event.schema_version(),
            payload: event.to_payload()?,
        })
    }
}

/// An event as stored, with its place in the stream and in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    pub position: i64,
    pub tx_id: i64,
    pub stream_id: String,
    pub version: i64,
    pub event_id: Ulid,
    pub event_type: String,
    pub schema_version: i32,
    pub payload: Value,
    pub metadata: EventMetadata,
    pub recorded_at: DateTime<Utc>,
}

impl RecordedEvent {
    pub fn cursor(&self) -> Cursor {
        Cursor {
            tx_id: self.tx_id,
            position: self.position,
        }
    }

    pub fn decode<E: DomainEvent>(&self) -> Result<E, serde_json::Error> {
        E::from_payload(&self.event_type, self.schema_version, &self.payload)
    }
}

/// A reader's place in the log: the last (transaction id, position) it has seen.
/// Ordered the way the log is read; the zero cursor is the start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cursor {
    pub tx_id: i64,
    pub position: i64,
}

impl Cursor {
    pub const START: Cursor = Cursor {
        tx_id: 0,
        position: 0,
    };
}
