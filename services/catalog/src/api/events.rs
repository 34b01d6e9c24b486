//! The catalog's published events in protobuf, the public contract (`proto/catalog/v1`).

use prost::Message;
use tillstream_eventstore::RecordedEvent;
use tillstream_messaging::{MessagingError, WireEvent, WireFormat};
use tillstream_proto::catalog::v1 as pb;
use tillstream_proto::common::v1::Money as PbMoney;

use crate::domain::product::Event;

#[derive(Debug, Clone, Copy, Default)]
pub struct CatalogWire;

impl WireFormat for CatalogWire {
    fn encode(&self, _service: &str, event: &RecordedEvent) -> Result<WireEvent, MessagingError> {
        let encode_error = |reason: String| MessagingError::Encode {
            event_id: event.event_id.to_string(),
            reason,
        };
        if event.stream_id.starts_with("import-") {
            // Import jobs have no protobuf schema: their events go out as the stored JSON.
            return Ok(WireEvent {
                ce_type: format!("tillstream.catalog.v1.{}", event.event_type),
                content_type: "application/json".to_owned(),
                dataschema: format!("docs/events.md#{}", event.event_type),
                data: serde_json::to_vec(&event.payload)
                    .map_err(|e| encode_error(e.to_string()))?
                    .into(),
            });
        }
        let decoded: Event = event.decode().map_err(|e| encode_error(e.to_string()))?;
        let product_id = event
            .stream_id
            .strip_prefix("product-")
            .unwrap_or(&event.stream_id)
            .to_owned();
        let (name, data) = match decoded {
            Event::ProductCreated { id, details } => (
                "ProductCreated",
                pb::ProductCreated {
                    product_id: id.to_string(),
                    sku: details.sku,
                    name: details.name,
                    price: Some(PbMoney {
                        amount: details.price.to_string(),
                        currency: details.price.currency().code().to_owned(),
                    }),
                    tax_rate: details.tax_rate.to_string(),
                    barcodes: details.barcodes,
                    category: details.category.unwrap_or_default(),
                    reorder_point: details
                        .reorder_point
                        .map(|r| r.to_string())
                        .unwrap_or_default(),
                }
                .encode_to_vec(),
            ),
            Event::ProductRenamed { name } => (
                "ProductRenamed",
                pb::ProductRenamed { product_id, name }.encode_to_vec(),
            ),
            Event::ProductRepriced {
                old_price,
                new_price,
            } => (
                "ProductRepriced",
                pb::ProductRepriced {
                    product_id,
                    old_price: Some(money(old_price)),
                    new_price: Some(money(new_price)),
                }
                .encode_to_vec(),
            ),
            Event::TaxRateChanged { old_rate, new_rate } => (
                "TaxRateChanged",
                pb::TaxRateChanged {
                    product_id,
                    old_rate: old_rate.to_string(),
                    new_rate: new_rate.to_string(),
                }
                .encode_to_vec(),
            ),
            Event::BarcodeAdded { barcode } => (
                "BarcodeAdded",
                pb::BarcodeAdded {
                    product_id,
                    barcode,
                }
                .encode_to_vec(),
            ),
            Event::BarcodeRemoved { barcode } => (
                "BarcodeRemoved",
                pb::BarcodeRemoved {
                    product_id,
                    barcode,
                }
                .encode_to_vec(),
            ),
            Event::CategoryChanged { category } => (
                "CategoryChanged",
                pb::CategoryChanged {
                    product_id,
                    category: category.unwrap_or_default(),
                }
                .encode_to_vec(),
            ),
            Event::ReorderPointChanged { reorder_point } => (
                "ReorderPointChanged",
                pb::ReorderPointChanged {
                    product_id,
                    reorder_point: reorder_point.map(|r| r.to_string()).unwrap_or_default(),
                }
                .encode_to_vec(),
            ),
            Event::ProductDiscontinued => (
                "ProductDiscontinued",
                pb::ProductDiscontinued { product_id }.encode_to_vec(),
            ),
            Event::ProductReactivated => (
                "ProductReactivated",
                pb::ProductReactivated { product_id }.encode_to_vec(),
            ),
        };
        Ok(WireEvent {
            ce_type: format!("tillstream.catalog.v1.{name}"),
            content_type: "application/protobuf".to_owned(),
            dataschema: format!("proto/catalog/v1/catalog.proto#{name}"),
            data: data.into(),
        })
    }
}

fn money(value: tillstream_kernel::Money) -> PbMoney {
    PbMoney {
        amount: value.to_string(),
        currency: value.currency().code().to_owned(),
    }
}
