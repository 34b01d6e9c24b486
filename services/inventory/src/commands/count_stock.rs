//! A stock take. Each line's difference is taken against the level at the moment the
//! shelves were counted, and applied to the level now: a sale rung up while the count was
//! on its way to the back office is not lost.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use tillstream_eventstore::{EventMetadata, EventStore, IdempotencyKey, StoreError};
use tillstream_kernel::Quantity;

use super::checks::{Recorded, refused_at, require_location, require_products};
use super::stock_batch::{StockBatch, StockDocument, in_transaction};
use crate::domain::stock_item::Command;
use crate::error::AppError;
use crate::projections::movements;

#[derive(Debug, Clone)]
pub struct CountLine {
    pub product_id: String,
    pub counted: Quantity,
}

/// How far ahead of this clock a till's clock may be.
const CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

pub async fn count_stock(
    store: &EventStore,
    location_id: &str,
    lines: &[CountLine],
    counted_at: Option<DateTime<Utc>>,
    metadata: EventMetadata,
    idempotency: Option<IdempotencyKey>,
) -> Result<Recorded, AppError> {
    if counted_at.is_some_and(|at| at > Utc::now() + CLOCK_SKEW) {
        return Err(AppError::invalid(
            "counted_at",
            "a count cannot be in the future",
        ));
    }
    require_location(store, location_id, "location_id").await?;
    let ids: Vec<String> = lines.iter().map(|l| l.product_id.clone()).collect();
    require_products(store, &ids, |i| format!("lines[{i}].product_id")).await?;
    let id = tillstream_kernel::Ulid::generate().to_string();
    let metadata = EventMetadata {
        causation_id: Some(id.clone()),
        ..metadata
    };
    let count = Count {
        location_id,
        lines,
        counted_at,
    };
    in_transaction(store, &metadata, &count, id, idempotency.as_ref()).await
}

struct Count<'c> {
    location_id: &'c str,
    lines: &'c [CountLine],
    counted_at: Option<DateTime<Utc>>,
}

impl StockDocument for Count<'_> {
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
            let expected = match self.counted_at {
                Some(at) => movements::level_at(tx, &line.product_id, self.location_id, at)
                    .await
                    .map_err(StoreError::from)?,
                None => {
                    let state = batch.state(tx, &line.product_id, self.location_id).await;
                    state.map_err(refused_at(""))?.on_hand
                }
            };
            let command = Command::Count {
                counted: line.counted,
                expected,
            };
            batch
                .apply(tx, &line.product_id, self.location_id, &command)
                .await
                .map_err(refused_at(&format!("lines[{index}]")))?;
        }
        Ok(())
    }
}
