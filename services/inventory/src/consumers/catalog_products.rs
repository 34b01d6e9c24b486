//! Catalog events → `known_products`, inventory's copy of the catalog.

use prost::Message;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use tillstream_messaging::{Handler, HandlerError, InboundEvent};
use tillstream_proto::catalog::v1 as catalog;

use crate::projections::known_products;

#[derive(Debug, Clone, Copy, Default)]
pub struct CatalogProducts;

impl Handler for CatalogProducts {
    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &InboundEvent,
    ) -> Result<(), HandlerError> {
        match event.ce_type.as_str() {
            "tillstream.catalog.v1.ProductCreated" => {
                let created = catalog::ProductCreated::decode(event.data.clone())
                    .map_err(|e| HandlerError::Reject(format!("not a ProductCreated: {e}")))?;
                let reorder_point = match created.reorder_point.trim() {
                    "" => None,
                    text => Some(Decimal::from_str_exact(text).map_err(|_| {
                        HandlerError::Reject(format!("reorder_point `{text}` is not a decimal"))
                    })?),
                };
                known_products::upsert(tx, &created.product_id, &created.sku, reorder_point)
                    .await?;
                Ok(())
            }
            // Other catalog events do not concern inventory (yet).
            _ => Ok(()),
        }
    }
}
