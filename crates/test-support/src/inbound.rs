//! Events as a consumer receives them, for handlers tested without the broker.

use tillstream_messaging::InboundEvent;

/// An event of `ce_type` (`tillstream.<service>.v1.<Type>`) on `stream_id`, its protobuf
/// `data`, delivered for the first time.
pub fn inbound_event(ce_type: &str, stream_id: &str, data: Vec<u8>) -> InboundEvent {
    let mut parts = ce_type.split('.');
    let service = parts.nth(1).unwrap_or("test");
    let type_name = ce_type.rsplit('.').next().unwrap_or(ce_type);
    InboundEvent {
        event_id: ulid::Ulid::generate(),
        ce_type: ce_type.into(),
        subject: format!("pos.{service}.test.{type_name}"),
        stream_id: Some(stream_id.into()),
        stream_version: Some(1),
        time: None,
        content_type: Some("application/protobuf".into()),
        traceparent: None,
        correlation_id: None,
        source: Some(format!("/tillstream/{service}")),
        dataschema: None,
        data: data.into(),
        deliveries: 1,
        stream_sequence: 1,
    }
}
