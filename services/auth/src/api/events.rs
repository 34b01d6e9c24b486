//! The auth service's published events: never with credentials.

use prost::Message;
use tillstream_eventstore::RecordedEvent;
use tillstream_messaging::{MessagingError, WireEvent, WireFormat};
use tillstream_proto::auth::v1 as pb;

use crate::domain::user::Event;

#[derive(Debug, Clone, Copy, Default)]
pub struct AuthWire;

impl WireFormat for AuthWire {
    fn encode(&self, _service: &str, event: &RecordedEvent) -> Result<WireEvent, MessagingError> {
        let Event::UserRegistered {
            id, username, role, ..
        } = event.decode().map_err(|e| MessagingError::Encode {
            event_id: event.event_id.to_string(),
            reason: e.to_string(),
        })?;
        let data = pb::UserRegistered {
            user_id: id.to_string(),
            username,
            role: role.to_string(),
        };
        Ok(WireEvent {
            ce_type: "tillstream.auth.v1.UserRegistered".to_owned(),
            content_type: "application/protobuf".to_owned(),
            dataschema: "proto/auth/v1/auth.proto#UserRegistered".to_owned(),
            data: data.encode_to_vec().into(),
        })
    }
}
