//! Catalog events → `known_products`, inventory's copy of the catalog.

use rust_decimal::Decimal;
use sqlx::PgConnection;
use tillstream_messaging::{Handled, Handler, HandlerError, InboundEvent};
use tillstream_proto::catalog::v1 as catalog;

use crate::projections::known_products;

#[derive(Debug, Clone, Copy, Default)]
pub struct CatalogProducts;

impl Handler for CatalogProducts {
    fn wants(&self, event: &InboundEvent) -> bool {
        event.ce_type.starts_with("tillstream.catalog.v1.")
    }

    async fn handle(&self, tx: &mut PgConnection, event: &InboundEvent) -> Handled {
        match event.ce_type.as_str() {
            "tillstream.catalog.v1.ProductCreated" => {
                let created = event.decode::<catalog::ProductCreated>()?;
                let point = reorder_point(event, &created.reorder_point)?;
                known_products::upsert(tx, &created.product_id, &created.sku, point).await?;
                Ok(())
            }
            "tillstream.catalog.v1.ReorderPointChanged" => {
                let changed = event.decode::<catalog::ReorderPointChanged>()?;
                let point = reorder_point(event, &changed.reorder_point)?;
                step(tx, event, &changed.product_id, Some(point)).await
            }
            // Every other step of a product only moves the copy's version along.
            other if other.starts_with("tillstream.catalog.v1.") => {
                let Some(id) = event
                    .stream_id
                    .as_deref()
                    .and_then(|s| s.strip_prefix("product-"))
                else {
                    return Ok(()); // another catalog aggregate (imports)
                };
                step(tx, event, id, None).await
            }
            _ => Ok(()),
        }
    }
}

/// A product's reorder point: none when empty.
fn reorder_point(event: &InboundEvent, text: &str) -> Result<Option<Decimal>, HandlerError> {
    match text.trim() {
        "" => Ok(None),
        text => event.decimal(text, "reorder_point").map(Some),
    }
}

/// One step of a product's stream, applied on top of the one before it or retried.
async fn step(
    tx: &mut PgConnection,
    event: &InboundEvent,
    product_id: &str,
    reorder_point: Option<Option<Decimal>>,
) -> Result<(), HandlerError> {
    let version = event.stream_version.ok_or_else(|| {
        HandlerError::Reject(format!("{} without a stream version", event.ce_type))
    })?;
    match known_products::apply_change(tx, product_id, version, reorder_point).await? {
        Some(()) => Ok(()),
        None => Err(HandlerError::Retry(format!(
            "product {product_id} step {version} arrived before the step it follows"
        ))),
    }
}
