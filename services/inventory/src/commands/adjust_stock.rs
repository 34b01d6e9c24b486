//! An adjustment: goods found or lost (damage, theft, a miscount), with its reason.

use sqlx::PgConnection;
use tillstream_eventstore::{EventMetadata, EventStore, IdempotencyKey};
use tillstream_kernel::Quantity;

use super::checks::{Recorded, refused_at, require_location, require_products};
use super::stock_batch::{StockBatch, StockDocument, in_transaction};
use crate::domain::stock_item::Command;
use crate::error::AppError;

/// Longest reason kept, in characters.
const MAX_REASON: usize = 500;

pub async fn adjust_stock(
    store: &EventStore,
    location_id: &str,
    product_id: &str,
    delta: Quantity,
    reason: &str,
    metadata: EventMetadata,
    idempotency: Option<IdempotencyKey>,
) -> Result<Recorded, AppError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid(
            "reason",
            "say why the stock changed (damaged, stolen, found, …)",
        ));
    }
    if reason.chars().count() > MAX_REASON {
        return Err(AppError::invalid(
            "reason",
            format!("at most {MAX_REASON} characters"),
        ));
    }
    require_location(store, location_id, "location_id").await?;
    require_products(store, &[product_id.to_owned()], |_| "product_id".into()).await?;
    let id = tillstream_kernel::Ulid::generate().to_string();
    let metadata = EventMetadata {
        causation_id: Some(id.clone()),
        ..metadata
    };
    let adjustment = Adjustment {
        location_id,
        product_id,
        command: Command::Adjust {
            delta,
            reason: reason.to_owned(),
        },
    };
    in_transaction(store, &metadata, &adjustment, id, idempotency.as_ref()).await
}

struct Adjustment<'a> {
    location_id: &'a str,
    product_id: &'a str,
    command: Command,
}

impl StockDocument for Adjustment<'_> {
    fn items(&self) -> Vec<(&str, &str)> {
        vec![(self.product_id, self.location_id)]
    }

    async fn record(
        &self,
        batch: &mut StockBatch<'_>,
        tx: &mut PgConnection,
    ) -> Result<(), AppError> {
        batch
            .apply(tx, self.product_id, self.location_id, &self.command)
            .await
            .map_err(refused_at(""))?;
        Ok(())
    }
}
