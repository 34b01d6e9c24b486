//! An event as a consumer receives it: the CloudEvents attributes read back from headers.

use async_nats::jetstream;
use bytes::Bytes;
use tillstream_kernel::Ulid;

use crate::{HandlerError, headers};

/// A delivered event.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundEvent {
    pub event_id: Ulid,
    /// `ce-type`, e.g. `tillstream.sales.v1.SaleCompleted`.
    pub ce_type: String,
    pub subject: String,
    /// `ce-subject`: the stream (aggregate) the event belongs to.
    pub stream_id: Option<String>,
    /// The aggregate's version, for guarding order where it matters.
    pub stream_version: Option<i64>,
    pub time: Option<String>,
    pub content_type: Option<String>,
    pub traceparent: Option<String>,
    pub correlation_id: Option<String>,
    /// `ce-source`: the publishing service (`/tillstream/sales`).
    pub source: Option<String>,
    /// `ce-dataschema`: where the data's message is described.
    pub dataschema: Option<String>,
    pub data: Bytes,
    /// How many times this message has been delivered, this one included.
    pub deliveries: i64,
    pub stream_sequence: u64,
}

impl InboundEvent {
    /// Reads the attributes; a message without a valid `ce-id` or `ce-type` is malformed.
    pub fn parse(message: &jetstream::Message) -> Result<Self, String> {
        let info = message
            .info()
            .map_err(|e| format!("not a JetStream message: {e}"))?;
        let header = |name: &str| {
            message
                .headers
                .as_ref()
                .and_then(|h| h.get(name))
                .map(|v| v.as_str().to_owned())
        };
        let event_id = header(headers::ID)
            .ok_or("missing ce-id header")?
            .parse::<Ulid>()
            .map_err(|e| format!("ce-id is not a ULID: {e}"))?;
        let ce_type = header(headers::TYPE).ok_or("missing ce-type header")?;
        Ok(InboundEvent {
            event_id,
            ce_type,
            subject: message.subject.to_string(),
            stream_id: header(headers::SUBJECT),
            stream_version: header(headers::STREAM_VERSION).and_then(|v| v.parse().ok()),
            time: header(headers::TIME),
            content_type: header(headers::DATACONTENTTYPE),
            traceparent: header(headers::TRACEPARENT),
            correlation_id: header(headers::CORRELATION_ID),
            source: header(headers::SOURCE),
            dataschema: header(headers::DATASCHEMA),
            data: message.payload.clone(),
            deliveries: info.delivered,
            stream_sequence: info.stream_sequence,
        })
    }

    /// The event's type name: the last part of `ce-type` (`SaleCompleted`).
    pub fn event_type(&self) -> &str {
        self.ce_type.rsplit('.').next().unwrap_or(&self.ce_type)
    }

    /// The data as the protobuf message `M`; data that is not one never will be, so the
    /// event is rejected (dead-lettered) naming its type.
    pub fn decode<M: prost::Message + Default>(&self) -> Result<M, HandlerError> {
        M::decode(self.data.clone())
            .map_err(|e| HandlerError::Reject(format!("{} does not decode: {e}", self.ce_type)))
    }

    /// A decimal field of the event (`what` names it); an event whose figure is not one
    /// never will be, so it is rejected.
    pub fn decimal(&self, text: &str, what: &str) -> Result<rust_decimal::Decimal, HandlerError> {
        rust_decimal::Decimal::from_str_exact(text.trim()).map_err(|_| {
            HandlerError::Reject(format!(
                "{}: {what} `{text}` is not a decimal",
                self.ce_type
            ))
        })
    }

    /// The data as JSON, for events published with [`JsonWire`](crate::JsonWire).
    pub fn json(&self) -> Result<serde_json::Value, String> {
        serde_json::from_slice(&self.data).map_err(|e| format!("data is not JSON: {e}"))
    }
}
