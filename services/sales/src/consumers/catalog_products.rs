//! Catalog events → `catalog_products`, the prices sales rings up with.

use sqlx::PgConnection;
use tillstream_messaging::{Handled, Handler, HandlerError, InboundEvent};
use tillstream_proto::catalog::v1 as catalog;

use crate::projections::catalog_copy::{self, Applied, CatalogProduct, CopyChange};

#[derive(Debug, Clone, Copy, Default)]
pub struct CatalogProducts;

impl Handler for CatalogProducts {
    fn wants(&self, event: &InboundEvent) -> bool {
        event.ce_type.starts_with("tillstream.catalog.v1.")
    }

    async fn handle(&self, tx: &mut PgConnection, event: &InboundEvent) -> Handled {
        let Some(kind) = event.ce_type.strip_prefix("tillstream.catalog.v1.") else {
            return Ok(());
        };
        if kind != "ProductCreated" {
            return apply_change(tx, event, kind).await;
        }
        let created = event.decode::<catalog::ProductCreated>()?;
        let price = created
            .price
            .ok_or_else(|| HandlerError::Reject("ProductCreated without a price".into()))?;
        let product = CatalogProduct {
            id: created.product_id,
            sku: created.sku,
            name: created.name,
            price: event.decimal(&price.amount, "price")?,
            currency: price.currency,
            tax_rate: event.decimal(&created.tax_rate, "tax_rate")?,
            status: "active".to_owned(),
        };
        catalog_copy::upsert_product(tx, &product, &created.barcodes).await?;
        Ok(())
    }
}

/// A change event: applied on top of the step before it, or retried until that one arrives.
async fn apply_change(
    tx: &mut PgConnection,
    event: &InboundEvent,
    kind: &str,
) -> Result<(), HandlerError> {
    let (id, change) = match kind {
        "ProductRenamed" => {
            let e = event.decode::<catalog::ProductRenamed>()?;
            (e.product_id, CopyChange::Name(e.name))
        }
        "ProductRepriced" => {
            let e = event.decode::<catalog::ProductRepriced>()?;
            let price = e
                .new_price
                .ok_or_else(|| HandlerError::Reject("ProductRepriced without a price".into()))?;
            (
                e.product_id,
                CopyChange::Price(event.decimal(&price.amount, "price")?),
            )
        }
        "TaxRateChanged" => {
            let e = event.decode::<catalog::TaxRateChanged>()?;
            (
                e.product_id,
                CopyChange::TaxRate(event.decimal(&e.new_rate, "new_rate")?),
            )
        }
        "BarcodeAdded" => {
            let e = event.decode::<catalog::BarcodeAdded>()?;
            (e.product_id, CopyChange::AddBarcode(e.barcode))
        }
        "BarcodeRemoved" => {
            let e = event.decode::<catalog::BarcodeRemoved>()?;
            (e.product_id, CopyChange::RemoveBarcode(e.barcode))
        }
        "ProductDiscontinued" => {
            let e = event.decode::<catalog::ProductDiscontinued>()?;
            (e.product_id, CopyChange::Status("discontinued"))
        }
        "ProductReactivated" => {
            let e = event.decode::<catalog::ProductReactivated>()?;
            (e.product_id, CopyChange::Status("active"))
        }
        "CategoryChanged" => {
            let e = event.decode::<catalog::CategoryChanged>()?;
            (e.product_id, CopyChange::Nothing)
        }
        "ReorderPointChanged" => {
            let e = event.decode::<catalog::ReorderPointChanged>()?;
            (e.product_id, CopyChange::Nothing)
        }
        // Events of other catalog aggregates (imports) are none of sales' business.
        _ => return Ok(()),
    };
    let version = event
        .stream_version
        .ok_or_else(|| HandlerError::Reject(format!("{kind} without a stream version")))?;
    match catalog_copy::apply_change(tx, &id, version, &change).await? {
        Applied::Now | Applied::Before => Ok(()),
        Applied::Gap => Err(HandlerError::Retry(format!(
            "product {id} step {version} arrived before the step it follows"
        ))),
    }
}
