//! Sales events → stock movements: a completed sale sells each line's quantity from its
//! location's stock, at the average cost of that moment. Stock may go negative (the goods
//! are already in the customer's hands); the item then raises its alert. A sale of a
//! product or location inventory has not heard of yet is recorded all the same.

use prost::Message;
use sqlx::PgConnection;
use tillstream_eventstore::{AppendRequest, EventMetadata, EventStore, NewEvent, StoreError};
use tillstream_kernel::{Decider, Quantity};
use tillstream_messaging::{Handler, HandlerError, InboundEvent};
use tillstream_proto::sales::v1 as sales;

use crate::domain::stock_item::{self, Command, StockItem};
use crate::projections::stock_levels;

/// Snapshot a stock item after this many events have to be folded to load it.
const SNAPSHOT_EVERY: usize = 200;
const STATE_SCHEMA: i32 = 1;

#[derive(Debug, Clone)]
pub struct SalesMovements {
    pub store: EventStore,
}

impl Handler for SalesMovements {
    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &InboundEvent,
    ) -> Result<(), HandlerError> {
        if event.ce_type != "tillstream.sales.v1.SaleCompleted" {
            return Ok(());
        }
        let completed = sales::SaleCompleted::decode(event.data.clone())
            .map_err(|e| HandlerError::Reject(format!("not a SaleCompleted: {e}")))?;
        let sale = completed
            .sale
            .ok_or_else(|| HandlerError::Reject("SaleCompleted without a sale".into()))?;
        let metadata = EventMetadata {
            correlation_id: event
                .correlation_id
                .clone()
                .or_else(|| Some(sale.id.clone())),
            causation_id: Some(sale.id.clone()),
            traceparent: event.traceparent.clone(),
            actor: Some("inventory".into()),
            ..Default::default()
        };
        // Lines of one product share a stock item: decided together and appended once, as
        // the item cannot be reloaded inside this uncommitted transaction between lines.
        let mut by_product: Vec<(&str, Vec<Quantity>)> = Vec::new();
        for line in &sale.lines {
            let quantity: Quantity = line
                .quantity
                .parse()
                .map_err(|e| HandlerError::Reject(format!("line {}: {e}", line.line_no)))?;
            match by_product
                .iter_mut()
                .find(|(product, _)| *product == line.product_id)
            {
                Some((_, quantities)) => quantities.push(quantity),
                None => by_product.push((&line.product_id, vec![quantity])),
            }
        }
        for (product_id, quantities) in by_product {
            self.sell(tx, product_id, &sale.location_id, &quantities, &metadata)
                .await?;
        }
        Ok(())
    }
}

impl SalesMovements {
    async fn sell(
        &self,
        tx: &mut PgConnection,
        product_id: &str,
        location_id: &str,
        quantities: &[Quantity],
        metadata: &EventMetadata,
    ) -> Result<(), HandlerError> {
        let stream = stock_item::stream_id(product_id, location_id);
        let loaded = self
            .store
            .load_state::<StockItem>(&stream, STATE_SCHEMA, SNAPSHOT_EVERY)
            .await
            .map_err(retry)?;
        let mut state = loaded.state;
        let mut events = Vec::new();
        for quantity in quantities {
            let command = Command::Sell {
                quantity: quantity.value(),
            };
            let decided = StockItem::decide(&state, &command)
                .map_err(|e| HandlerError::Reject(e.to_string()))?;
            state = decided.iter().fold(state, StockItem::evolve);
            events.extend(decided);
        }
        let new_events = events
            .iter()
            .map(NewEvent::from_domain)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| HandlerError::Reject(e.to_string()))?;
        let request =
            AppendRequest::new(stream, loaded.version, new_events).with_metadata(metadata.clone());
        // A concurrent movement of the same item: the whole message is retried.
        let appended = self.store.append_in(tx, &request).await.map_err(retry)?;
        stock_levels::upsert(tx, product_id, location_id, &state, appended.version).await?;
        Ok(())
    }
}

fn retry(error: StoreError) -> HandlerError {
    HandlerError::Retry(error.to_string())
}
