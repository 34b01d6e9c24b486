//! Events going in and coming out of the store, and the cursor readers keep.

use chrono::{DateTime, Utc};
use serde_json::Value;
use serde_json::value::RawValue;
use tillstream_kernel::{DomainEvent, EventMetadata, Ulid};

/// An event about to be appended. Payloads are JSON text, as the store's column takes them
/// and as readers decode them: a command serializes its event once, with no tree between.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event_id: Ulid,
    pub event_type: String,
    pub schema_version: i32,
    pub payload: Box<RawValue>,
}

impl NewEvent {
    /// An event of `event_type` carrying `payload` (schema version 1).
    pub fn new(event_type: impl Into<String>, payload: &Value) -> Result<Self, serde_json::Error> {
        Ok(NewEvent {
            event_id: Ulid::generate(),
            event_type: event_type.into(),
            schema_version: 1,
            payload: serde_json::value::to_raw_value(payload)?,
        })
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

/// An event as stored, with its place in the stream and in the log. Its payload is the JSON
/// text PostgreSQL renders from the jsonb column (its spacing and key order, not the
/// writer's), decoded by whoever reads it (`decode`, `payload_value`).
#[derive(Debug, Clone)]
pub struct RecordedEvent {
    pub position: i64,
    pub tx_id: i64,
    pub stream_id: String,
    pub version: i64,
    pub event_id: Ulid,
    pub event_type: String,
    pub schema_version: i32,
    pub payload: Box<RawValue>,
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

    /// The payload as a JSON tree, for a reader that looks at a field or two of events it
    /// has no type for.
    pub fn payload_value(&self) -> Result<Value, serde_json::Error> {
        serde_json::from_str(self.payload.get())
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
