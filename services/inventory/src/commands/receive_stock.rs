//! Receiving goods: every line's stock item is loaded (from its snapshot), decided and
//! appended in one transaction, with the levels written inline. A concurrent movement of
//! one of the items makes the whole receipt decide again.

use rust_decimal::Decimal;
use tillstream_eventstore::{AppendRequest, EventMetadata, EventStore, NewEvent, StoreError};
use tillstream_kernel::Decider;
use tillstream_service::copies::settle;

use super::CONFLICT_RETRIES;
use crate::api::error::AppError;
use crate::domain::stock_item::{self, Command, StockItem};
use crate::projections::{known_products, locations, stock_levels};

/// Snapshot a stock item after this many events have to be folded to load it.
const SNAPSHOT_EVERY: usize = 200;
/// The snapshot schema of `StockItem`; bump when its shape changes.
const STATE_SCHEMA: i32 = 1;

#[derive(Debug, Clone)]
pub struct ReceiptLine {
    pub product_id: String,
    pub quantity: Decimal,
    pub unit_cost: Decimal,
}

pub async fn receive_stock(
    store: &EventStore,
    location_id: &str,
    lines: &[ReceiptLine],
    metadata: EventMetadata,
) -> Result<Vec<stock_levels::StockLevelRow>, AppError> {
    if lines.is_empty() {
        return Err(AppError::invalid(
            "lines",
            "a receipt needs at least one line",
        ));
    }
    let location_known = settle(|| locations::exists(store.pool(), location_id), |k| *k)
        .await
        .map_err(StoreError::from)?;
    if !location_known {
        return Err(AppError::invalid(
            "location_id",
            format!("no location with id `{location_id}`"),
        ));
    }
    let ids: Vec<String> = lines.iter().map(|l| l.product_id.clone()).collect();
    if let Some(index) = (1..ids.len()).find(|&i| ids[..i].contains(&ids[i])) {
        return Err(AppError::invalid(
            format!("lines[{index}].product_id"),
            "the product is listed twice; put its quantity on one line",
        ));
    }
    let unknown = settle(
        || known_products::unknown(store.pool(), &ids),
        Vec::is_empty,
    )
    .await
    .map_err(StoreError::from)?;
    if let Some(index) = lines.iter().position(|l| unknown.contains(&l.product_id)) {
        return Err(AppError::invalid(
            format!("lines[{index}].product_id"),
            format!("no product with id `{}`", lines[index].product_id),
        ));
    }
    for attempt in 1..=CONFLICT_RETRIES {
        match try_receive(store, location_id, lines, &metadata).await {
            Err(AppError::Store(StoreError::Conflict { .. })) if attempt < CONFLICT_RETRIES => {
                continue;
            }
            Ok(()) => break,
            Err(error) => return Err(error),
        }
    }
    stock_levels::find(store.pool(), None, Some(location_id))
        .await
        .map(|rows| {
            rows.into_iter()
                .filter(|r| ids.contains(&r.product_id))
                .collect()
        })
        .map_err(|e| AppError::Store(e.into()))
}

async fn try_receive(
    store: &EventStore,
    location_id: &str,
    lines: &[ReceiptLine],
    metadata: &EventMetadata,
) -> Result<(), AppError> {
    let mut tx = store.pool().begin().await.map_err(StoreError::from)?;
    for (index, line) in lines.iter().enumerate() {
        let stream = stock_item::stream_id(&line.product_id, location_id);
        let loaded = store
            .load_state::<StockItem>(&stream, STATE_SCHEMA, SNAPSHOT_EVERY)
            .await?;
        let command = Command::Receive {
            quantity: line.quantity,
            unit_cost: line.unit_cost,
        };
        let events = StockItem::decide(&loaded.state, &command).map_err(|e| {
            AppError::invalid(format!("lines[{index}].{}", e.field()), e.to_string())
        })?;
        let state = events.iter().fold(loaded.state, StockItem::evolve);
        let new_events = events
            .iter()
            .map(NewEvent::from_domain)
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::from)?;
        let request =
            AppendRequest::new(stream, loaded.version, new_events).with_metadata(metadata.clone());
        let appended = store.append_in(&mut tx, &request).await?;
        stock_levels::upsert(
            &mut tx,
            &line.product_id,
            location_id,
            &state,
            appended.version,
        )
        .await
        .map_err(StoreError::from)?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}
