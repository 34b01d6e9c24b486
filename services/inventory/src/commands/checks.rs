//! What every stock command checks before it moves anything: the location exists, each
//! product is known to the catalog copy and listed once. A miss waits briefly for the copy
//! (`settle`), as a product created a moment ago may still be on its way.

use tillstream_eventstore::{EventStore, StoreError};
use tillstream_service::copies::settle;

use super::stock_batch::BatchError;
use crate::error::AppError;
use crate::projections::movements::MovementRow;
use crate::projections::stock_levels::{self, StockLevelRow};
use crate::projections::{known_products, locations};

pub async fn require_location(
    store: &EventStore,
    location_id: &str,
    field: &str,
) -> Result<(), AppError> {
    let known = settle(|| locations::exists(store.pool(), location_id), |k| *k)
        .await
        .map_err(StoreError::from)?;
    if known {
        Ok(())
    } else {
        Err(AppError::invalid(
            field,
            format!("no location with id `{location_id}`"),
        ))
    }
}

/// Every product is known and listed once; `field(i)` names line `i`'s product field.
pub async fn require_products(
    store: &EventStore,
    ids: &[String],
    field: impl Fn(usize) -> String,
) -> Result<(), AppError> {
    if ids.is_empty() {
        return Err(AppError::invalid("lines", "at least one line is needed"));
    }
    if let Some(index) = (1..ids.len()).find(|&i| ids[..i].contains(&ids[i])) {
        return Err(AppError::invalid(
            field(index),
            "the product is listed twice; put its quantity on one line",
        ));
    }
    let unknown = settle(|| known_products::unknown(store.pool(), ids), Vec::is_empty)
        .await
        .map_err(StoreError::from)?;
    match ids.iter().position(|id| unknown.contains(id)) {
        Some(index) => Err(AppError::invalid(
            field(index),
            format!("no product with id `{}`", ids[index]),
        )),
        None => Ok(()),
    }
}

/// Maps a refusal of line `prefix` (e.g. `lines[2]`) to the request field at fault.
pub fn refused_at(prefix: &str) -> impl Fn(BatchError) -> AppError + '_ {
    move |error| match error {
        BatchError::Refused(refusal) => {
            let field = match prefix {
                "" => refusal.field().to_owned(),
                prefix => format!("{prefix}.{}", refusal.field()),
            };
            AppError::invalid(field, refusal.to_string())
        }
        BatchError::Store(error) => AppError::Store(error),
    }
}

/// What a stock command recorded: its reference, the movements and the levels they left.
/// Kept as the answer to a repeat of its `Idempotency-Key`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Recorded {
    pub id: String,
    pub movements: Vec<MovementRow>,
    pub levels: Vec<StockLevelRow>,
}

impl Recorded {
    /// Reads the levels the movements left, inside the transaction that wrote them.
    pub async fn read(
        conn: &mut sqlx::PgConnection,
        id: String,
        movements: Vec<MovementRow>,
    ) -> Result<Self, AppError> {
        let mut items: Vec<(String, String)> = movements
            .iter()
            .map(|m| (m.product_id.clone(), m.location_id.clone()))
            .collect();
        items.sort();
        items.dedup();
        let levels = stock_levels::of_items(conn, &items)
            .await
            .map_err(StoreError::from)?;
        Ok(Recorded {
            id,
            movements,
            levels,
        })
    }
}
