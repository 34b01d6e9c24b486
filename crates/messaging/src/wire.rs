//! How a stored event travels: the CloudEvents NATS binding in binary content mode. The
//! payload is the event's data; every attribute is a `ce-` header, plus W3C `traceparent`.
//! The encoding of the data is pluggable: services publish protobuf (their public
//! contract, `proto/`); [`JsonWire`] publishes the stored JSON as it is.

use async_nats::HeaderMap;
use bytes::Bytes;
use chrono::SecondsFormat;
use tillstream_eventstore::RecordedEvent;

use crate::MessagingError;

/// Header names, in one place for the relay, the consumers and the ops CLI.
pub mod headers {
    pub const MSG_ID: &str = "Nats-Msg-Id";
    pub const SPECVERSION: &str = "ce-specversion";
    pub const ID: &str = "ce-id";
    pub const TYPE: &str = "ce-type";
    pub const SOURCE: &str = "ce-source";
    pub const TIME: &str = "ce-time";
    pub const SUBJECT: &str = "ce-subject";
    pub const DATACONTENTTYPE: &str = "ce-datacontenttype";
    pub const DATASCHEMA: &str = "ce-dataschema";
    /// Extension attributes: the aggregate's version (consumers guard order by it) and the
    /// correlation id of the user action.
    pub const STREAM_VERSION: &str = "ce-streamversion";
    pub const CORRELATION_ID: &str = "ce-correlationid";
    /// The event's place in its service's log (`<tx_id>.<position>`): lets the relay find
    /// where to resume after a broker loss from the messages that survived.
    pub const LOG_CURSOR: &str = "Tillstream-Log-Cursor";
    pub const TRACEPARENT: &str = "traceparent";
    pub const TRACESTATE: &str = "tracestate";
    /// Added to a dead letter: why, by whom, from where.
    pub const DLQ_REASON: &str = "Tillstream-Dlq-Reason";
    pub const DLQ_CONSUMER: &str = "Tillstream-Dlq-Consumer";
    pub const DLQ_SUBJECT: &str = "Tillstream-Dlq-Subject";
    pub const DLQ_STREAM_SEQ: &str = "Tillstream-Dlq-Stream-Seq";
    pub const DLQ_DELIVERIES: &str = "Tillstream-Dlq-Deliveries";
}

/// An event's data and the attributes that describe its encoding.
#[derive(Debug, Clone, PartialEq)]
pub struct WireEvent {
    /// `ce-type`: the full name of the event's schema, e.g. `tillstream.sales.v1.SaleCompleted`.
    pub ce_type: String,
    /// `ce-datacontenttype`, e.g. `application/protobuf`.
    pub content_type: String,
    /// `ce-dataschema`: where the schema is described.
    pub dataschema: String,
    pub data: Bytes,
}

/// Turns a stored event into what is published.
pub trait WireFormat: Send + Sync + 'static {
    fn encode(&self, service: &str, event: &RecordedEvent) -> Result<WireEvent, MessagingError>;
}

/// Publishes the stored JSON payload as it is, typed `tillstream.<service>.v<N>.<Type>`.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonWire;

impl WireFormat for JsonWire {
    fn encode(&self, service: &str, event: &RecordedEvent) -> Result<WireEvent, MessagingError> {
        let data = serde_json::to_vec(&event.payload).map_err(|e| MessagingError::Encode {
            event_id: event.event_id.to_string(),
            reason: e.to_string(),
        })?;
        let ce_type = format!(
            "tillstream.{service}.v{}.{}",
            event.schema_version, event.event_type
        );
        Ok(WireEvent {
            dataschema: format!("/schemas/{ce_type}.json"),
            ce_type,
            content_type: "application/json".to_owned(),
            data: Bytes::from(data),
        })
    }
}

/// The CloudEvents headers of a published event. `msg_id` is the broker's dedup key.
pub(crate) fn event_headers(
    service: &str,
    event: &RecordedEvent,
    wire: &WireEvent,
    msg_id: &str,
) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(headers::MSG_ID, msg_id);
    h.insert(headers::SPECVERSION, "1.0");
    h.insert(headers::ID, event.event_id.to_string().as_str());
    h.insert(headers::TYPE, wire.ce_type.as_str());
    h.insert(headers::SOURCE, format!("/tillstream/{service}").as_str());
    h.insert(
        headers::TIME,
        event
            .recorded_at
            .to_rfc3339_opts(SecondsFormat::Micros, true)
            .as_str(),
    );
    h.insert(headers::SUBJECT, event.stream_id.as_str());
    h.insert(headers::DATACONTENTTYPE, wire.content_type.as_str());
    h.insert(headers::DATASCHEMA, wire.dataschema.as_str());
    h.insert(headers::STREAM_VERSION, event.version.to_string().as_str());
    h.insert(
        headers::LOG_CURSOR,
        format!("{}.{}", event.tx_id, event.position).as_str(),
    );
    if let Some(correlation) = &event.metadata.correlation_id {
        h.insert(headers::CORRELATION_ID, correlation.as_str());
    }
    // Events stored before every append carried one get a trace of their own, named after
    // the event, so publishing it again gives the same.
    let traceparent = event
        .metadata
        .traceparent
        .clone()
        .filter(|t| tillstream_kernel::trace_id_of(t).is_some())
        .unwrap_or_else(|| {
            let id = uuid::Uuid::from(event.event_id).simple().to_string();
            format!("00-{id}-{}-01", &id[..16])
        });
    h.insert(headers::TRACEPARENT, traceparent.as_str());
    if let Some(tracestate) = &event.metadata.tracestate {
        h.insert(headers::TRACESTATE, tracestate.as_str());
    }
    h
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use tillstream_kernel::{EventMetadata, trace_id_of};

    use super::*;

    fn recorded(metadata: EventMetadata) -> RecordedEvent {
        RecordedEvent {
            position: 7,
            tx_id: 3,
            stream_id: "user-1".into(),
            version: 1,
            event_id: tillstream_kernel::Ulid::generate(),
            event_type: "UserRegistered".into(),
            schema_version: 1,
            payload: serde_json::value::to_raw_value(&serde_json::json!({})).unwrap(),
            metadata,
            recorded_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn every_published_event_carries_a_valid_traceparent() {
        let wire = JsonWire
            .encode("auth", &recorded(EventMetadata::default()))
            .unwrap();
        let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        for (metadata, kept) in [
            (EventMetadata::default(), false),
            (
                EventMetadata {
                    traceparent: Some("not-a-traceparent".into()),
                    ..Default::default()
                },
                false,
            ),
            (
                EventMetadata {
                    traceparent: Some(parent.into()),
                    ..Default::default()
                },
                true,
            ),
        ] {
            let event = recorded(metadata);
            let headers = event_headers("auth", &event, &wire, "m1");
            let sent = headers
                .get(headers::TRACEPARENT)
                .unwrap()
                .as_str()
                .to_owned();
            assert!(trace_id_of(&sent).is_some(), "{sent}");
            assert_eq!(sent == parent, kept);
            // The same event published again: the same trace.
            let again = event_headers("auth", &event, &wire, "m1");
            assert_eq!(again.get(headers::TRACEPARENT).unwrap().as_str(), sent);
        }
    }
}
