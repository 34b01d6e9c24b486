//! A transfer: every line leaves one location and arrives at the other in one transaction,
//! so goods are never in both places or in neither. They arrive at the cost they left with.

use sqlx::PgConnection;
use tillstream_eventstore::{EventMetadata, EventStore, IdempotencyKey};
use tillstream_kernel::Quantity;

use super::checks::{Recorded, refused_at, require_location, require_products};
use super::stock_batch::{StockBatch, StockDocument, in_transaction};
use crate::domain::stock_item::{Command, Event};
use crate::error::AppError;

#[derive(Debug, Clone)]
pub struct TransferLine {
    pub product_id: String,
    pub quantity: Quantity,
}

pub async fn transfer_stock(
    store: &EventStore,
    from_location_id: &str,
    to_location_id: &str,
    reference: Option<&str>,
    lines: &[TransferLine],
    metadata: EventMetadata,
    idempotency: Option<IdempotencyKey>,
) -> Result<Recorded, AppError> {
    require_location(store, from_location_id, "from_location_id").await?;
    require_location(store, to_location_id, "to_location_id").await?;
    if from_location_id == to_location_id {
        return Err(AppError::invalid(
            "to_location_id",
            "goods can only be transferred to another location",
        ));
    }
    let ids: Vec<String> = lines.iter().map(|l| l.product_id.clone()).collect();
    require_products(store, &ids, |i| format!("lines[{i}].product_id")).await?;
    let id = tillstream_kernel::Ulid::generate().to_string();
    let metadata = EventMetadata {
        causation_id: Some(reference.map_or_else(|| id.clone(), str::to_owned)),
        ..metadata
    };
    let transfer = Transfer {
        from_location_id,
        to_location_id,
        lines,
    };
    in_transaction(store, &metadata, &transfer, id, idempotency.as_ref()).await
}

struct Transfer<'t> {
    from_location_id: &'t str,
    to_location_id: &'t str,
    lines: &'t [TransferLine],
}

impl StockDocument for Transfer<'_> {
    fn items(&self) -> Vec<(&str, &str)> {
        let ends = [self.from_location_id, self.to_location_id];
        self.lines
            .iter()
            .flat_map(|line| ends.map(|location| (line.product_id.as_str(), location)))
            .collect()
    }

    async fn record(
        &self,
        batch: &mut StockBatch<'_>,
        tx: &mut PgConnection,
    ) -> Result<(), AppError> {
        for (index, line) in self.lines.iter().enumerate() {
            let prefix = format!("lines[{index}]");
            let out = Command::TransferOut {
                quantity: line.quantity,
            };
            let left = batch
                .apply(tx, &line.product_id, self.from_location_id, &out)
                .await
                .map_err(refused_at(&prefix))?;
            let unit_cost = left
                .iter()
                .find_map(|event| match event {
                    Event::StockTransferredOut { unit_cost, .. } => Some(*unit_cost),
                    _ => None,
                })
                .unwrap_or_default();
            let into = Command::TransferIn {
                quantity: line.quantity,
                unit_cost,
            };
            batch
                .apply(tx, &line.product_id, self.to_location_id, &into)
                .await
                .map_err(refused_at(&prefix))?;
        }
        Ok(())
    }
}
