//! A chunk of completed sales taken from stock at once: every item the chunk touches is
//! loaded in two statements, each line decided in memory in the chunk's order (a later
//! sale of the same item sees the earlier one), and the events, levels and movements are
//! written with one statement each — instead of a dozen statements per line. The consumer
//! runs this inside a savepoint and goes sale by sale (`StockBatch`) whenever it fails, so
//! a conflict with a concurrent command costs only the fast path. Levels are written in
//! (product, location) order and events in stream order, whatever order the sales named
//! them in, so two writers of the same items take their locks in one order.

use std::collections::BTreeMap;

use sqlx::PgConnection;
use tillstream_eventstore::{AppendRequest, EventMetadata, EventStore, NewEvent, StoreError};
use tillstream_kernel::Quantity;

use super::stock_batch::{BatchError, Decided, STATE_SCHEMA, decide};
use crate::domain::sale_cost::{self, Costed};
use crate::domain::stock_item::{self, Command, StockItem};
use crate::projections::{known_products, movements, stock_levels};

/// One sale's lines to take from stock at its location.
#[derive(Debug, Clone)]
pub struct SaleToTake {
    pub sale_id: String,
    /// `causation_id` is the sale, every movement's reference.
    pub metadata: EventMetadata,
    pub location_id: String,
    /// (product, quantity), in the sale's order.
    pub lines: Vec<(String, Quantity)>,
}

#[derive(Debug)]
struct Item {
    stream: String,
    state: StockItem,
    version: i64,
}

pub async fn take_sales(
    store: &EventStore,
    tx: &mut PgConnection,
    sales: &[SaleToTake],
) -> Result<(), BatchError> {
    let mut keys: Vec<(&str, &str)> = Vec::new();
    for sale in sales {
        for (product, _) in &sale.lines {
            let key = (product.as_str(), sale.location_id.as_str());
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    let streams: Vec<String> = keys
        .iter()
        .map(|(product, location)| stock_item::stream_id(product, location))
        .collect();
    // No snapshot saved on the way in: the chunk saves every item's state as it leaves it.
    let mut loaded =
        EventStore::load_states_in::<StockItem>(tx, &streams, STATE_SCHEMA, usize::MAX).await?;
    let products: Vec<&str> = keys.iter().map(|(product, _)| *product).collect();
    let reorder_points = known_products::reorder_points(tx, &products).await?;
    // Ordered by (product, location): every chunk and command writes its rows in one order,
    // so two writers of the same items wait for each other instead of deadlocking.
    let mut items: BTreeMap<(&str, &str), Item> = BTreeMap::new();
    for (key, stream) in keys.iter().zip(streams) {
        let Some(found) = loaded.remove(&stream) else {
            continue;
        };
        let mut state = found.state;
        // The catalog owns reorder points; the copy's is the one alerts compare with.
        state.reorder_point = reorder_points.get(key.0).copied().flatten();
        items.insert(
            *key,
            Item {
                stream,
                state,
                version: found.version,
            },
        );
    }

    let mut requests = Vec::new();
    let mut rows = Vec::new();
    for sale in sales {
        let mut sold = Vec::new();
        for (product, quantity) in &sale.lines {
            let key = (product.as_str(), sale.location_id.as_str());
            let item = items.entry(key).or_insert_with(|| Item {
                stream: stock_item::stream_id(product, &sale.location_id),
                state: StockItem::default(),
                version: 0,
            });
            let command = Command::Sell {
                quantity: *quantity,
            };
            let Decided {
                events,
                rows: moved,
                state,
            } = decide(
                &item.state,
                item.version,
                product,
                &sale.location_id,
                &command,
                sale.metadata.causation_id.clone(),
            )?;
            let new_events = events
                .iter()
                .map(NewEvent::from_domain)
                .collect::<Result<Vec<_>, _>>()
                .map_err(StoreError::from)?;
            requests.push(
                AppendRequest::new(item.stream.clone(), item.version, new_events)
                    .with_metadata(sale.metadata.clone()),
            );
            let added = i64::try_from(events.len()).unwrap_or(i64::MAX);
            item.version = item.version.saturating_add(added);
            item.state = state;
            rows.extend(moved);
            sold.extend(sale_cost::sold(product, &events));
        }
        requests.extend(costed(
            &sale.sale_id,
            &sale.location_id,
            sold,
            &sale.metadata,
        )?);
    }
    let levels: Vec<(&str, &str, &StockItem, i64)> = items
        .iter()
        .map(|((product, location), item)| (*product, *location, &item.state, item.version))
        .collect();
    // Each item's snapshot at the state the chunk leaves it in, so the next load folds no
    // events (with a snapshot every twenty events it read and decoded about ten per item
    // and line: the largest share of inventory's work per sale). Saved first, in stream
    // order: an item's rows in the order `StockBatch::apply` takes them (snapshot, event,
    // level), so a chunk and a one-item command wait for each other; a document of several
    // items first takes all their snapshot rows in this same order (`stock_batch::hold`).
    let states = items
        .values()
        .map(|item| (item.stream.as_str(), item.version, &item.state))
        .collect();
    EventStore::save_states_in(tx, STATE_SCHEMA, states).await?;
    // By stream, each stream's appends in the chunk's order (the sort is stable).
    requests.sort_by(|a, b| a.stream_id.cmp(&b.stream_id));
    store.append_many_in(tx, &requests).await?;
    stock_levels::upsert_many(tx, &levels).await?;
    movements::insert(tx, &rows).await?;
    Ok(())
}

/// The sale's `SaleCosted` on its new stream, with the movements it took; `None` when it
/// took nothing from stock.
pub fn costed(
    sale_id: &str,
    location_id: &str,
    sold: Vec<Costed>,
    metadata: &EventMetadata,
) -> Result<Option<AppendRequest>, StoreError> {
    let Some(event) = sale_cost::costed(location_id, sold) else {
        return Ok(None);
    };
    let request = AppendRequest::new(
        sale_cost::stream_id(sale_id),
        0,
        vec![NewEvent::from_domain(&event)?],
    );
    Ok(Some(request.with_metadata(metadata.clone())))
}
