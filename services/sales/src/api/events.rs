//! Sales' published events in protobuf (`proto/sales/v1`).

use prost::Message;
use tillstream_eventstore::RecordedEvent;
use tillstream_kernel::time::rfc3339;
use tillstream_messaging::{MessagingError, WireEvent, WireFormat};
use tillstream_proto::sales::v1 as pb;

use crate::api::convert;
use crate::domain::sale::Event;

#[derive(Debug, Clone, Copy, Default)]
pub struct SalesWire;

impl WireFormat for SalesWire {
    fn encode(&self, _service: &str, event: &RecordedEvent) -> Result<WireEvent, MessagingError> {
        let decoded: Event = event.decode().map_err(|e| MessagingError::Encode {
            event_id: event.event_id.to_string(),
            reason: e.to_string(),
        })?;
        let sale_id = event
            .stream_id
            .strip_prefix("sale-")
            .unwrap_or(&event.stream_id)
            .to_owned();
        let (name, data) = match decoded {
            Event::SaleCompleted { sale } => {
                let data = pb::SaleCompleted {
                    sale: Some(convert::sale(&sale, "pending", Vec::new())),
                    pricing_rules_version: sale.rules_version,
                    prices_include_tax: sale.prices_include_tax,
                };
                ("SaleCompleted", data.encode_to_vec())
            }
            Event::SaleReturned {
                location_id,
                returned,
            } => {
                let ret = convert::sale_return(&returned);
                let data = pb::SaleReturned {
                    sale_id,
                    return_id: ret.id,
                    location_id,
                    lines: ret.lines,
                    refunds: ret.refunds,
                    restock: ret.restock,
                    reason: ret.reason,
                    refund_total: ret.refund_total,
                    tax: ret.tax,
                    revenue: ret.revenue,
                    returned_at: ret.returned_at,
                    currency: returned.refund_total.currency().code().to_owned(),
                };
                ("SaleReturned", data.encode_to_vec())
            }
            Event::SaleVoided {
                location_id,
                reason,
                voided_at,
                ..
            } => {
                let data = pb::SaleVoided {
                    sale_id,
                    location_id,
                    reason,
                    voided_at: rfc3339(&voided_at),
                };
                ("SaleVoided", data.encode_to_vec())
            }
        };
        Ok(WireEvent {
            ce_type: format!("tillstream.sales.v1.{name}"),
            content_type: "application/protobuf".to_owned(),
            dataschema: format!("proto/sales/v1/sales.proto#{name}"),
            data: data.into(),
        })
    }
}
