//! Inventory's published events in protobuf (`proto/inventory/v1`). Events without a
//! public schema yet travel as JSON under the same naming.

use prost::Message;
use tillstream_eventstore::RecordedEvent;
use tillstream_messaging::{JsonWire, MessagingError, WireEvent, WireFormat};
use tillstream_proto::inventory::v1 as pb;

use crate::domain::{location, stock_item};

#[derive(Debug, Clone, Copy, Default)]
pub struct InventoryWire;

impl WireFormat for InventoryWire {
    fn encode(&self, service: &str, event: &RecordedEvent) -> Result<WireEvent, MessagingError> {
        let error = |reason: String| MessagingError::Encode {
            event_id: event.event_id.to_string(),
            reason,
        };
        let (name, data) = match event.event_type.as_str() {
            "LocationCreated" => {
                let location::Event::LocationCreated { id, code, name } =
                    event.decode().map_err(|e| error(e.to_string()))?;
                (
                    "LocationCreated",
                    pb::LocationCreated {
                        location_id: id.to_string(),
                        code,
                        name,
                    }
                    .encode_to_vec(),
                )
            }
            "StockReceived" => {
                let decoded: stock_item::Event =
                    event.decode().map_err(|e| error(e.to_string()))?;
                let stock_item::Event::StockReceived {
                    quantity,
                    unit_cost,
                } = decoded
                else {
                    return Err(error("payload is not a StockReceived".into()));
                };
                let (product_id, location_id) = stock_item::parse_stream_id(&event.stream_id)
                    .ok_or_else(|| {
                        error(format!("`{}` is not a stock item stream", event.stream_id))
                    })?;
                let data = pb::StockReceived {
                    product_id: product_id.to_owned(),
                    location_id: location_id.to_owned(),
                    quantity: quantity.normalize().to_string(),
                    unit_cost: unit_cost.to_string(),
                };
                ("StockReceived", data.encode_to_vec())
            }
            "StockSold" => {
                let decoded: stock_item::Event =
                    event.decode().map_err(|e| error(e.to_string()))?;
                let stock_item::Event::StockSold {
                    quantity,
                    unit_cost,
                } = decoded
                else {
                    return Err(error("payload is not a StockSold".into()));
                };
                let (product_id, location_id) = stock_item::parse_stream_id(&event.stream_id)
                    .ok_or_else(|| {
                        error(format!("`{}` is not a stock item stream", event.stream_id))
                    })?;
                let data = pb::StockSold {
                    product_id: product_id.to_owned(),
                    location_id: location_id.to_owned(),
                    quantity: quantity.normalize().to_string(),
                    unit_cost: unit_cost.to_string(),
                    sale_id: event.metadata.causation_id.clone().unwrap_or_default(),
                };
                ("StockSold", data.encode_to_vec())
            }
            _ => return JsonWire.encode(service, event),
        };
        Ok(WireEvent {
            ce_type: format!("tillstream.inventory.v1.{name}"),
            content_type: "application/protobuf".to_owned(),
            dataschema: format!("proto/inventory/v1/inventory.proto#{name}"),
            data: data.into(),
        })
    }
}
