//! The domain event contract: what a service's event enum knows about itself so the store
//! can append and read it. It lives in the kernel so that `services/*/src/domain` depends
//! on the kernel alone, not on the crate that links the database driver.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

/// A service's event enum: each variant knows its stable type name and schema version.
/// Payloads are the enum's JSON (`#[serde(tag = "type")]` is the usual shape); override
/// `from_payload` to read older schema versions.
pub trait DomainEvent: Serialize + DeserializeOwned {
    /// The event's type name; never changes once published.
    fn event_type(&self) -> &'static str;

    /// The payload's schema version; a new shape is a new version.
    fn schema_version(&self) -> i32 {
        1
    }

    /// The payload as JSON text, never built as a tree (the store keeps it as jsonb).
    fn to_payload(&self) -> Result<Box<RawValue>, serde_json::Error> {
        serde_json::value::to_raw_value(self)
    }

    /// Reads the payload straight from its JSON text: relays, read models and loads decode
    /// every event they are given, and a `Value` tree in between costs more than the decode.
    fn from_payload(
        _event_type: &str,
        _schema_version: i32,
        payload: &RawValue,
    ) -> Result<Self, serde_json::Error> {
        serde_json::from_str(payload.get())
    }
}
