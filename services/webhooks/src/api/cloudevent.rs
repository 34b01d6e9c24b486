//! A delivery's body: the event in the CloudEvents JSON structured mode, its data the
//! protobuf message in protobuf's canonical JSON mapping (what the AsyncAPI document's
//! schemas describe).

use base64::Engine;
use prost_reflect::{DescriptorPool, DynamicMessage};
use serde_json::{Map, Value, json};
use tillstream_messaging::InboundEvent;
use tillstream_proto::events;

/// The content type of every delivery.
pub const CONTENT_TYPE: &str = "application/cloudevents+json";

/// Turns events into delivery bodies with the compiled descriptors.
#[derive(Debug, Clone)]
pub struct CloudEvents {
    pool: DescriptorPool,
}

/// The descriptor set compiled into the binary does not decode: a build defect.
#[derive(Debug, thiserror::Error)]
#[error("the compiled protobuf descriptors do not decode: {0}")]
pub struct BadDescriptors(String);

impl CloudEvents {
    pub fn new() -> Result<Self, BadDescriptors> {
        let pool = DescriptorPool::decode(tillstream_proto::FILE_DESCRIPTOR_SET)
            .map_err(|e| BadDescriptors(e.to_string()))?;
        Ok(CloudEvents { pool })
    }

    /// The structured-mode JSON of `event`. Data that does not decode as its message (or of
    /// a type this build does not know) travels as `data_base64`, so nothing is lost.
    pub fn body(&self, event: &InboundEvent) -> Vec<u8> {
        let mut attributes = Map::new();
        let mut put = |name: &str, value: Option<&str>| {
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                attributes.insert(name.to_owned(), json!(value));
            }
        };
        put("specversion", Some("1.0"));
        put("id", Some(&event.event_id.to_string()));
        put("source", event.source.as_deref());
        put("type", Some(&event.ce_type));
        put("subject", event.stream_id.as_deref());
        put("time", event.time.as_deref());
        put("dataschema", event.dataschema.as_deref());
        put("traceparent", event.traceparent.as_deref());
        put("correlationid", event.correlation_id.as_deref());
        match self.data(event) {
            Some(data) => {
                attributes.insert("datacontenttype".into(), json!("application/json"));
                attributes.insert("data".into(), data);
            }
            None => {
                let content_type = event
                    .content_type
                    .as_deref()
                    .unwrap_or("application/protobuf");
                attributes.insert("datacontenttype".into(), json!(content_type));
                let encoded = base64::engine::general_purpose::STANDARD.encode(&event.data);
                attributes.insert("data_base64".into(), json!(encoded));
            }
        }
        Value::Object(attributes).to_string().into_bytes()
    }

    fn data(&self, event: &InboundEvent) -> Option<Value> {
        // Data published as JSON (a service's own stored form) is already JSON.
        if event.content_type.as_deref() == Some("application/json") {
            return serde_json::from_slice(&event.data).ok();
        }
        let message = events::by_ce_type(&event.ce_type)
            .map(|published| published.message_name())
            .unwrap_or_else(|| event.ce_type.clone());
        let descriptor = self.pool.get_message_by_name(&message)?;
        let decoded = DynamicMessage::decode(descriptor, event.data.clone()).ok()?;
        serde_json::to_value(&decoded).ok()
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use prost::Message;
    use tillstream_proto::sales::v1 as sales;

    use super::*;

    fn event(ce_type: &str, data: Vec<u8>) -> InboundEvent {
        InboundEvent {
            event_id: tillstream_kernel::Ulid::generate(),
            ce_type: ce_type.into(),
            subject: "pos.sales.session.CashPaidIn".into(),
            stream_id: Some("session-01".into()),
            stream_version: Some(2),
            time: Some("2026-11-30T10:00:00.000Z".into()),
            content_type: Some("application/protobuf".into()),
            traceparent: Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into()),
            correlation_id: None,
            source: Some("/tillstream/sales".into()),
            dataschema: Some("proto/sales/v1/registers.proto#CashMoved".into()),
            data: Bytes::from(data),
            deliveries: 1,
            stream_sequence: 7,
        }
    }

    #[test]
    fn an_event_is_a_structured_cloudevent_with_canonical_json_data() {
        let moved = sales::CashMoved {
            session_id: "01SESSION".into(),
            currency: "USD".into(),
            ..Default::default()
        };
        let cloud_events = CloudEvents::new().unwrap();
        let source = event("tillstream.sales.v1.CashPaidIn", moved.encode_to_vec());
        let body: Value = serde_json::from_slice(&cloud_events.body(&source)).unwrap();
        assert_eq!(body["specversion"], "1.0");
        assert_eq!(body["id"], source.event_id.to_string());
        assert_eq!(body["type"], "tillstream.sales.v1.CashPaidIn");
        assert_eq!(body["source"], "/tillstream/sales");
        assert_eq!(body["subject"], "session-01");
        assert_eq!(body["datacontenttype"], "application/json");
        assert_eq!(body["traceparent"], source.traceparent.clone().unwrap());
        // Canonical JSON: lowerCamelCase names; the type's message (CashMoved) decoded it.
        assert_eq!(body["data"]["sessionId"], "01SESSION");
        assert_eq!(body["data"]["currency"], "USD");
        assert!(
            body.get("correlationid").is_none(),
            "absent attributes are left out"
        );
    }

    #[test]
    fn data_that_does_not_decode_travels_as_base64() {
        let cloud_events = CloudEvents::new().unwrap();
        let source = event("tillstream.sales.v1.SaleCompleted", vec![0xff, 0xff, 0xff]);
        let body: Value = serde_json::from_slice(&cloud_events.body(&source)).unwrap();
        assert_eq!(body["data_base64"], "////");
        assert_eq!(body["datacontenttype"], "application/protobuf");
        assert!(body.get("data").is_none());
    }
}
