//! The webhooks service's published events: never with the secret.

use prost::Message;
use tillstream_eventstore::RecordedEvent;
use tillstream_messaging::{MessagingError, WireEvent, WireFormat};
use tillstream_proto::webhooks::v1 as pb;

use crate::domain::subscription::Event;

#[derive(Debug, Clone, Copy, Default)]
pub struct WebhooksWire;

impl WireFormat for WebhooksWire {
    fn encode(&self, _service: &str, event: &RecordedEvent) -> Result<WireEvent, MessagingError> {
        let decoded: Event = event.decode().map_err(|e| MessagingError::Encode {
            event_id: event.event_id.to_string(),
            reason: e.to_string(),
        })?;
        let subscription_id = event
            .stream_id
            .strip_prefix("subscription-")
            .unwrap_or(&event.stream_id)
            .to_owned();
        let (name, data) = match decoded {
            Event::WebhookSubscribed {
                url,
                event_types,
                description,
                ..
            } => (
                "WebhookSubscribed",
                pb::WebhookSubscribed {
                    subscription_id,
                    url,
                    event_types,
                    description,
                }
                .encode_to_vec(),
            ),
            Event::WebhookRemoved => (
                "WebhookRemoved",
                pb::WebhookRemoved { subscription_id }.encode_to_vec(),
            ),
        };
        Ok(WireEvent {
            ce_type: format!("tillstream.webhooks.v1.{name}"),
            content_type: "application/protobuf".to_owned(),
            dataschema: format!("proto/webhooks/v1/webhooks.proto#{name}"),
            data: data.into(),
        })
    }
}
