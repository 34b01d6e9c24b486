//! Catalog events → `catalog_products`, the prices sales rings up with.

use prost::Message;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use tillstream_messaging::{Handler, HandlerError, InboundEvent};
use tillstream_proto::catalog::v1 as catalog;

use crate::projections::catalog_copy::{self, Applied, CatalogProduct, CopyChange};

#[derive(Debug, Clone, Copy, Default)]
pub struct CatalogProducts;

impl Handler for CatalogProducts {
    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &InboundEvent,
    ) -> Result<(), HandlerError> {
        let Some(kind) = event.ce_type.strip_prefix("tillstream.catalog.v1.") else {
            return Ok(());
        };
        if kind != "ProductCreated" {
            return apply_change(tx, event, kind).await;
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

/// A change event: applied on top of the step before it, or retried until that one arrives.
async fn apply_change(
    tx: &mut PgConnection,
    event: &InboundEvent,
    kind: &str,
) -> Result<(), HandlerError> {
    let reject =
        |what: &str, e: prost::DecodeError| HandlerError::Reject(format!("not a {what}: {e}"));
    let decimal = |text: &str| {
        Decimal::from_str_exact(text)
            .map_err(|_| HandlerError::Reject(format!("`{text}` is not a decimal")))
    };
    let data = event.data.clone();
    let (id, change) = match kind {
        "ProductRenamed" => {
            let e = catalog::ProductRenamed::decode(data).map_err(|e| reject(kind, e))?;
            (e.product_id, CopyChange::Name(e.name))
        }
        "ProductRepriced" => {
            let e = catalog::ProductRepriced::decode(data).map_err(|e| reject(kind, e))?;
            let price = e
                .new_price
                .ok_or_else(|| HandlerError::Reject("ProductRepriced without a price".into()))?;
            (e.product_id, CopyChange::Price(decimal(&price.amount)?))
        }
        "TaxRateChanged" => {
            let e = catalog::TaxRateChanged::decode(data).map_err(|e| reject(kind, e))?;
            (e.product_id, CopyChange::TaxRate(decimal(&e.new_rate)?))
        }
        "BarcodeAdded" => {
            let e = catalog::BarcodeAdded::decode(data).map_err(|e| reject(kind, e))?;
            (e.product_id, CopyChange::AddBarcode(e.barcode))
        }
        "BarcodeRemoved" => {
            let e = catalog::BarcodeRemoved::decode(data).map_err(|e| reject(kind, e))?;
            (e.product_id, CopyChange::RemoveBarcode(e.barcode))
        }
        "ProductDiscontinued" => {
            let e = catalog::ProductDiscontinued::decode(data).map_err(|e| reject(kind, e))?;
            (e.product_id, CopyChange::Status("discontinued"))
        }
        "ProductReactivated" => {
            let e = catalog::ProductReactivated::decode(data).map_err(|e| reject(kind, e))?;
            (e.product_id, CopyChange::Status("active"))
        }
        "CategoryChanged" => {
            let e = catalog::CategoryChanged::decode(data).map_err(|e| reject(kind, e))?;
            (e.product_id, CopyChange::Nothing)
        }
        "ReorderPointChanged" => {
            let e = catalog::ReorderPointChanged::decode(data).map_err(|e| reject(kind, e))?;
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
