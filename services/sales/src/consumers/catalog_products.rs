//! Catalog events → `catalog_products`, the prices sales rings up with.

use prost::Message;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use tillstream_messaging::{Handler, HandlerError, InboundEvent};
use tillstream_proto::catalog::v1 as catalog;

use crate::projections::catalog_copy::{self, CatalogProduct};

#[derive(Debug, Clone, Copy, Default)]
pub struct CatalogProducts;

impl Handler for CatalogProducts {
    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &InboundEvent,
    ) -> Result<(), HandlerError> {
        if event.ce_type != "tillstream.catalog.v1.ProductCreated" {
            return Ok(());
        }
        let created = catalog::ProductCreated::decode(event.data.clone())
            .map_err(|e| HandlerError::Reject(format!("not a ProductCreated: {e}")))?;
        let price = created
            .price
            .ok_or_else(|| HandlerError::Reject("ProductCreated without a price".into()))?;
        let decimal = |text: &str, what: &str| {
            Decimal::from_str_exact(text)
                .map_err(|_| HandlerError::Reject(format!("{what} `{text}` is not a decimal")))
        };
        let product = CatalogProduct {
            id: created.product_id,
            sku: created.sku,
            name: created.name,
            price: decimal(&price.amount, "price")?,
            currency: price.currency,
            tax_rate: decimal(&created.tax_rate, "tax_rate")?,
            status: "active".to_owned(),
        };
        catalog_copy::upsert_product(tx, &product, &created.barcodes).await?;
        Ok(())
    }
}
