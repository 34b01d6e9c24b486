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
        let decoded: Event = event.decode().map_err(|e| MessagingError::Encode {
            event_id: event.event_id.to_string(),
            reason: e.to_string(),
        })?;
        // The user id is the stream's: `user-<id>`.
        let user_id = event
            .stream_id
            .strip_prefix("user-")
            .unwrap_or(&event.stream_id)
            .to_owned();
        let (name, data) = match decoded {
            Event::UserRegistered {
                id,
                username,
                role,
                location_ids,
                ..
            } => (
                "UserRegistered",
                pb::UserRegistered {
                    user_id: id.to_string(),
                    username,
                    role: role.to_string(),
                    location_ids,
                }
                .encode_to_vec(),
            ),
            Event::RoleChanged { from, to } => (
                "RoleChanged",
                pb::RoleChanged {
                    user_id,
                    from: from.to_string(),
                    to: to.to_string(),
                }
                .encode_to_vec(),
            ),
            Event::PasswordChanged { .. } => (
                "PasswordChanged",
                pb::PasswordChanged { user_id }.encode_to_vec(),
            ),
            Event::PasswordRehashed { .. } => (
                "PasswordRehashed",
                pb::PasswordRehashed { user_id }.encode_to_vec(),
            ),
            Event::PinSet { .. } => ("PinSet", pb::PinSet { user_id }.encode_to_vec()),
            Event::LocationsChanged { location_ids } => (
                "LocationsChanged",
                pb::LocationsChanged {
                    user_id,
                    location_ids,
                }
                .encode_to_vec(),
            ),
            Event::UserDisabled => ("UserDisabled", pb::UserDisabled { user_id }.encode_to_vec()),
            Event::UserEnabled => ("UserEnabled", pb::UserEnabled { user_id }.encode_to_vec()),
        };
        Ok(WireEvent {
            ce_type: format!("tillstream.auth.v1.{name}"),
            content_type: "application/protobuf".to_owned(),
            dataschema: format!("proto/auth/v1/auth.proto#{name}"),
            data: data.into(),
        })
    }
}
