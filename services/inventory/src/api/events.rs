//! Inventory's published events in protobuf (`proto/inventory/v1`). Events without a
//! public schema (a reorder point setting) travel as JSON under the same naming.

use prost::Message;
use tillstream_eventstore::RecordedEvent;
use tillstream_messaging::{JsonWire, MessagingError, WireEvent, WireFormat};
use tillstream_proto::inventory::v1 as pb;

use crate::domain::stock_item::Event;
use crate::domain::{location, sale_cost, stock_item};

#[derive(Debug, Clone, Copy, Default)]
pub struct InventoryWire;

impl WireFormat for InventoryWire {
    fn encode(&self, service: &str, event: &RecordedEvent) -> Result<WireEvent, MessagingError> {
        let error = |reason: String| MessagingError::Encode {
            event_id: event.event_id.to_string(),
            reason,
        };
        if let Some((name, data)) = super::purchasing_events::encode(event)? {
            return Ok(WireEvent {
                ce_type: format!("tillstream.inventory.v1.{name}"),
                content_type: "application/protobuf".to_owned(),
                dataschema: format!("proto/inventory/v1/purchasing.proto#{name}"),
                data: data.into(),
            });
        }
        let (name, data) = if let Some(sale_id) = sale_cost::parse_stream_id(&event.stream_id) {
            let sale_cost::Event::SaleCosted {
                location_id,
                movements,
            } = event.decode().map_err(|e| error(e.to_string()))?;
            let data = pb::SaleCosted {
                sale_id: sale_id.to_owned(),
                location_id,
                movements: movements
                    .into_iter()
                    .map(|m| pb::CostedMovement {
                        product_id: m.product_id,
                        quantity: m.quantity.normalize().to_string(),
                        unit_cost: m.unit_cost.to_string(),
                    })
                    .collect(),
            };
            ("SaleCosted", data.encode_to_vec())
        } else if event.event_type == "LocationCreated" {
            let location::Event::LocationCreated { id, code, name } =
                event.decode().map_err(|e| error(e.to_string()))?;
            let data = pb::LocationCreated {
                location_id: id.to_string(),
                code,
                name,
            };
            ("LocationCreated", data.encode_to_vec())
        } else {
            let decoded: Event = event.decode().map_err(|e| error(e.to_string()))?;
            let (product_id, location_id) = stock_item::parse_stream_id(&event.stream_id)
                .ok_or_else(|| {
                    error(format!("`{}` is not a stock item stream", event.stream_id))
                })?;
            let item = Item {
                product_id: product_id.to_owned(),
                location_id: location_id.to_owned(),
                reference: event.metadata.causation_id.clone().unwrap_or_default(),
                schema_version: event.schema_version,
            };
            match encode_stock(item, decoded) {
                Some(encoded) => encoded,
                None => return JsonWire.encode(service, event),
            }
        };
        Ok(WireEvent {
            ce_type: format!("tillstream.inventory.v1.{name}"),
            content_type: "application/protobuf".to_owned(),
            dataschema: format!("proto/inventory/v1/inventory.proto#{name}"),
            data: data.into(),
        })
    }
}

/// Which item an event belongs to, its reference (the sale, receipt, count, …) and the
/// version of its schema.
struct Item {
    product_id: String,
    location_id: String,
    reference: String,
    schema_version: i32,
}

/// The published name and protobuf bytes of a stock item's event.
fn encode_stock(item: Item, event: Event) -> Option<(&'static str, Vec<u8>)> {
    let Item {
        product_id,
        location_id,
        reference,
        schema_version,
    } = item;
    let qty = |q: rust_decimal::Decimal| q.normalize().to_string();
    Some(match event {
        Event::StockReceived {
            quantity,
            unit_cost,
            purchase_order_id,
        } => {
            let data = pb::StockReceived {
                product_id,
                location_id,
                quantity: qty(quantity),
                unit_cost: unit_cost.to_string(),
                reference,
                purchase_order_id: purchase_order_id.unwrap_or_default(),
            };
            ("StockReceived", data.encode_to_vec())
        }
        Event::StockSold {
            quantity,
            unit_cost,
        } => {
            let data = pb::StockSold {
                product_id,
                location_id,
                quantity: qty(quantity),
                unit_cost: unit_cost.to_string(),
                sale_id: reference,
                cost_with_sale: schema_version >= 2,
            };
            ("StockSold", data.encode_to_vec())
        }
        Event::StockReturned {
            quantity,
            unit_cost,
        } => {
            let data = pb::StockReturned {
                product_id,
                location_id,
                quantity: qty(quantity),
                unit_cost: unit_cost.to_string(),
                sale_id: reference,
            };
            ("StockReturned", data.encode_to_vec())
        }
        Event::StockVoidReversed {
            quantity,
            unit_cost,
        } => {
            let data = pb::StockVoidReversed {
                product_id,
                location_id,
                quantity: qty(quantity),
                unit_cost: unit_cost.to_string(),
                sale_id: reference,
            };
            ("StockVoidReversed", data.encode_to_vec())
        }
        Event::StockFittedToRepair {
            quantity,
            unit_cost,
            repair,
        } => {
            let data = pb::StockFittedToRepair {
                product_id,
                location_id,
                quantity: qty(quantity),
                unit_cost: unit_cost.to_string(),
                repair_id: repair.repair_id,
                repair_number: repair.repair_number,
            };
            ("StockFittedToRepair", data.encode_to_vec())
        }
        Event::StockReturnedFromRepair {
            quantity,
            unit_cost,
            repair,
        } => {
            let data = pb::StockReturnedFromRepair {
                product_id,
                location_id,
                quantity: qty(quantity),
                unit_cost: unit_cost.to_string(),
                repair_id: repair.repair_id,
                repair_number: repair.repair_number,
            };
            ("StockReturnedFromRepair", data.encode_to_vec())
        }
        Event::StockAdjusted {
            delta,
            unit_cost,
            reason,
        } => {
            let data = pb::StockAdjusted {
                product_id,
                location_id,
                delta: qty(delta),
                unit_cost: unit_cost.to_string(),
                reference,
                reason,
            };
            ("StockAdjusted", data.encode_to_vec())
        }
        Event::StockCounted {
            counted,
            delta,
            unit_cost,
        } => {
            let data = pb::StockCounted {
                product_id,
                location_id,
                delta: qty(delta),
                unit_cost: unit_cost.to_string(),
                reference,
                counted: qty(counted),
            };
            ("StockCounted", data.encode_to_vec())
        }
        Event::StockTransferredOut {
            quantity,
            unit_cost,
        } => {
            let data = pb::StockTransferredOut {
                product_id,
                location_id,
                quantity: qty(quantity),
                unit_cost: unit_cost.to_string(),
                reference,
            };
            ("StockTransferredOut", data.encode_to_vec())
        }
        Event::StockTransferredIn {
            quantity,
            unit_cost,
        } => {
            let data = pb::StockTransferredIn {
                product_id,
                location_id,
                quantity: qty(quantity),
                unit_cost: unit_cost.to_string(),
                reference,
            };
            ("StockTransferredIn", data.encode_to_vec())
        }
        Event::StockWentNegative { on_hand } => {
            let data = pb::StockWentNegative {
                product_id,
                location_id,
                on_hand: qty(on_hand),
            };
            ("StockWentNegative", data.encode_to_vec())
        }
        Event::LowStock {
            on_hand,
            reorder_point,
        } => {
            let data = pb::LowStock {
                product_id,
                location_id,
                on_hand: qty(on_hand),
                reorder_point: qty(reorder_point),
            };
            ("LowStock", data.encode_to_vec())
        }
        Event::ReorderPointChanged { .. } => return None,
    })
}
