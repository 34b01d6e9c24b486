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
        let decoded: Event = event.decode().map_err(|e| encode_error(e.to_string()))?;
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
        };
        Ok(WireEvent {
            ce_type: format!("tillstream.catalog.v1.{name}"),
            content_type: "application/protobuf".to_owned(),
            dataschema: format!("proto/catalog/v1/catalog.proto#{name}"),
            data: data.into(),
        })
    }
}
