//! Sales' published events in protobuf (`proto/sales/v1`).

use prost::Message;
use tillstream_eventstore::RecordedEvent;
use tillstream_messaging::{MessagingError, WireEvent, WireFormat};
use tillstream_proto::sales::v1 as pb;

use crate::api::convert;
use crate::domain::sale::Event;

#[derive(Debug, Clone, Copy, Default)]
pub struct SalesWire;

impl WireFormat for SalesWire {
    fn encode(&self, _service: &str, event: &RecordedEvent) -> Result<WireEvent, MessagingError> {
        let Event::SaleCompleted { sale } = event.decode().map_err(|e| MessagingError::Encode {
            event_id: event.event_id.to_string(),
            reason: e.to_string(),
        })?;
        let data = pb::SaleCompleted {
            sale: Some(convert::sale(&sale, "pending", Vec::new())),
            pricing_rules_version: sale.rules_version,
            prices_include_tax: sale.prices_include_tax,
        };
        Ok(WireEvent {
            ce_type: "tillstream.sales.v1.SaleCompleted".to_owned(),
            content_type: "application/protobuf".to_owned(),
            dataschema: "proto/sales/v1/sales.proto#SaleCompleted".to_owned(),
            data: data.encode_to_vec().into(),
        })
    }
}
