//! Metadata stored beside every event: who caused it, in answer to what, and the trace
//! it belongs to, so one sale can be followed across services.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMetadata {
    /// Shared by every event that one user action led to, across services.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// The id of the command or event that directly caused this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<String>,
    /// The user (or service) on whose behalf the event was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// W3C trace context of the command that recorded the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracestate: Option<String>,
}

/// The trace id of a version-00 W3C `traceparent` (`00-<trace id>-<span id>-<flags>`), when
/// it is well formed and not all zeros: what logs and spans carry to join one sale's work
/// across processes.
pub fn trace_id_of(traceparent: &str) -> Option<&str> {
    let mut parts = traceparent.trim().split('-');
    let (version, trace_id) = (parts.next()?, parts.next()?);
    let valid = version == "00"
        && trace_id.len() == 32
        && trace_id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && trace_id.bytes().any(|b| b != b'0');
    valid.then_some(trace_id)
}
