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

impl EventMetadata {
    /// These metadata as they are stored: with a `traceparent` of a trace of their own when
    /// none came with them, or one that is not well formed (an event made outside any
    /// request, by a consumer of an event that carried none, or for a client that sent
    /// garbage), so every stored and published event carries a valid one.
    pub fn traced(&self) -> std::borrow::Cow<'_, EventMetadata> {
        match self.traceparent.as_deref().and_then(trace_id_of) {
            Some(_) => std::borrow::Cow::Borrowed(self),
            None => std::borrow::Cow::Owned(EventMetadata {
                traceparent: Some(new_traceparent()),
                tracestate: None,
                ..self.clone()
            }),
        }
    }
}

/// A `traceparent` that starts a new trace: random trace and span ids, sampled.
pub fn new_traceparent() -> String {
    let trace = uuid::Uuid::new_v4().simple().to_string();
    let span = uuid::Uuid::new_v4().simple().to_string();
    format!("00-{trace}-{}-01", &span[..16])
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_without_a_valid_traceparent_get_a_trace_of_their_own() {
        let none = EventMetadata::default();
        let garbage = EventMetadata {
            traceparent: Some("00-zz-yy-01".into()),
            ..Default::default()
        };
        for metadata in [none, garbage] {
            let traced = metadata.traced();
            let parent = traced.traceparent.as_deref().unwrap_or_default();
            assert!(trace_id_of(parent).is_some(), "{parent}");
            assert_eq!(parent.len(), 55);
        }
        let valid = EventMetadata {
            traceparent: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into()),
            ..Default::default()
        };
        assert_eq!(*valid.traced(), valid);
        assert_ne!(new_traceparent(), new_traceparent());
    }
}
