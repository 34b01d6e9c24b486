//! Inventory movements → cost entries at the cost recorded on the movement.

use prost::Message;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use tillstream_eventstore::EventStore;
use tillstream_kernel::{Currency, Money};
use tillstream_messaging::{Handler, HandlerError, InboundEvent};
use tillstream_proto::inventory::v1 as inventory;

use super::{metadata_for, retry};
use crate::commands::post_entry::post_entry;
use crate::domain::journal::Source;
use crate::domain::posting::{StockCost, stock_entry};

#[derive(Debug, Clone)]
pub struct InventoryPostings {
    pub store: EventStore,
    pub currency: Currency,
}

impl Handler for InventoryPostings {
    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &InboundEvent,
    ) -> Result<(), HandlerError> {
        let reject =
            |e: &dyn std::fmt::Display| HandlerError::Reject(format!("{}: {e}", event.ce_type));
        let (kind, product, location, quantity, unit_cost) = match event.ce_type.as_str() {
            "tillstream.inventory.v1.StockSold" => {
                let sold =
                    inventory::StockSold::decode(event.data.clone()).map_err(|e| reject(&e))?;
                (
                    "stock_sold",
                    sold.product_id,
                    sold.location_id,
                    sold.quantity,
                    sold.unit_cost,
                )
            }
            "tillstream.inventory.v1.StockReceived" => {
                let received =
                    inventory::StockReceived::decode(event.data.clone()).map_err(|e| reject(&e))?;
                (
                    "stock_received",
                    received.product_id,
                    received.location_id,
                    received.quantity,
                    received.unit_cost,
                )
            }
            _ => return Ok(()),
        };
        let decimal = |text: &str| Decimal::from_str_exact(text).map_err(|e| reject(&e));
        let cost = Money::new(decimal(&quantity)? * decimal(&unit_cost)?, self.currency);
        let movement = if kind == "stock_sold" {
            StockCost::Sold(cost)
        } else {
            StockCost::Received(cost)
        };
        let Some(lines) = stock_entry(self.currency, movement).map_err(|e| reject(&e))? else {
            return Ok(());
        };
        let source = Source {
            kind: kind.into(),
            id: format!("{product}:{location}"),
            event_id: event.event_id.to_string(),
        };
        let memo = format!("{kind} {quantity} × {unit_cost}");
        post_entry(&self.store, tx, source, memo, lines, metadata_for(event))
            .await
            .map_err(retry)?;
        Ok(())
    }
}
