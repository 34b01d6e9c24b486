//! Receiving goods: every line's stock rises and its average cost moves, all lines in one
//! transaction.

use rust_decimal::Decimal;
use sqlx::PgConnection;
use tillstream_eventstore::{EventMetadata, EventStore, IdempotencyKey};
use tillstream_kernel::Quantity;

use super::checks::{Recorded, refused_at, require_location, require_products};
use super::stock_batch::{StockBatch, StockDocument, in_transaction};
use crate::domain::stock_item::Command;
use crate::error::AppError;

#[derive(Debug, Clone)]
pub struct ReceiptLine {
    pub product_id: String,
    pub quantity: Quantity,
    pub unit_cost: Decimal,
}

/// `reference` (the supplier's delivery note) becomes the movements' reference; without
/// one, the receipt's own id does.
pub async fn receive_stock(
    store: &EventStore,
    location_id: &str,
    reference: Option<&str>,
    lines: &[ReceiptLine],
    metadata: EventMetadata,
    idempotency: Option<IdempotencyKey>,
) -> Result<Recorded, AppError> {
    require_location(store, location_id, "location_id").await?;
    let ids: Vec<String> = lines.iter().map(|l| l.product_id.clone()).collect();
    require_products(store, &ids, |i| format!("lines[{i}].product_id")).await?;
    let id = tillstream_kernel::Ulid::generate().to_string();
    let metadata = EventMetadata {
        causation_id: Some(reference.map_or_else(|| id.clone(), str::to_owned)),
        ..metadata
    };
    let receipt = Receipt { location_id, lines };
    in_transaction(store, &metadata, &receipt, id, idempotency.as_ref()).await
}

struct Receipt<'r> {
    location_id: &'r str,
    lines: &'r [ReceiptLine],
}

impl StockDocument for Receipt<'_> {
    fn items(&self) -> Vec<(&str, &str)> {
        self.lines
            .iter()
            .map(|line| (line.product_id.as_str(), self.location_id))
            .collect()
    }

    async fn record(
        &self,
        batch: &mut StockBatch<'_>,
        tx: &mut PgConnection,
    ) -> Result<(), AppError> {
        for (index, line) in self.lines.iter().enumerate() {
            let command = Command::Receive {
                quantity: line.quantity,
                unit_cost: line.unit_cost,
                purchase_order_id: None,
            };
            batch
                .apply(tx, &line.product_id, self.location_id, &command)
                .await
                .map_err(refused_at(&format!("lines[{index}]")))?;
        }
        Ok(())
    }
}
