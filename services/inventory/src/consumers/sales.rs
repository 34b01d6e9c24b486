//! Sales events → stock movements, each in the consumer's transaction with its inbox row
//! (a redelivered event moves nothing twice):
//! - completed: each line's quantity is sold from the sale's location at the average cost
//!   of that moment. Stock may go negative (the goods are already in the customer's hands)
//!   and a product or location inventory has not heard of yet is recorded all the same.
//! - returned with restock: the goods go back at the cost they left with.
//! - voided: everything the sale took goes back at the cost it left with.

use rust_decimal::Decimal;
use sqlx::PgConnection;
use tillstream_eventstore::{EventMetadata, EventStore, StoreError};
use tillstream_kernel::Quantity;
use tillstream_messaging::{ChunkHandled, Handled, Handler, HandlerError, InboundEvent};
use tillstream_proto::sales::v1 as sales;

use crate::commands::stock_batch::{BatchError, StockBatch};
use crate::commands::stock_chunk::{SaleToTake, take_sales};
use crate::domain::stock_item::Command;
use crate::projections::movements;

#[derive(Debug, Clone)]
pub struct SalesMovements {
    pub store: EventStore,
}

impl Handler for SalesMovements {
    /// A backlog of completed sales is taken from stock a chunk at a time.
    const HANDLES_CHUNKS: bool = true;
    const APPENDS: bool = true;

    fn wants(&self, event: &InboundEvent) -> bool {
        matches!(
            event.ce_type.as_str(),
            "tillstream.sales.v1.SaleCompleted"
                | "tillstream.sales.v1.SaleReturned"
                | "tillstream.sales.v1.SaleVoided"
        )
    }

    async fn handle(&self, tx: &mut PgConnection, event: &InboundEvent) -> Handled {
        match event.ce_type.as_str() {
            "tillstream.sales.v1.SaleCompleted" => {
                let completed = event.decode::<sales::SaleCompleted>()?;
                let sale = completed
                    .sale
                    .ok_or_else(|| HandlerError::Reject("SaleCompleted without a sale".into()))?;
                let mut lines = Vec::with_capacity(sale.lines.len());
                for line in &sale.lines {
                    lines.push((
                        line.product_id.as_str(),
                        quantity(&line.quantity, line.line_no)?,
                    ));
                }
                let mut batch = StockBatch::new(&self.store, metadata(event, &sale.id));
                // Lines of one product are sold one after the other from the same item.
                for (product_id, quantity) in lines {
                    let command = Command::Sell { quantity };
                    batch
                        .apply(tx, product_id, &sale.location_id, &command)
                        .await
                        .map_err(handler_error)?;
                }
                Ok(())
            }
            "tillstream.sales.v1.SaleReturned" => {
                let returned = event.decode::<sales::SaleReturned>()?;
                if !returned.restock {
                    return Ok(());
                }
                let sold = self
                    .sold(tx, &returned.sale_id, &returned.location_id)
                    .await?;
                let mut batch = StockBatch::new(&self.store, metadata(event, &returned.sale_id));
                for line in &returned.lines {
                    let quantity = quantity(&line.quantity, line.line_no)?;
                    let unit_cost = sold
                        .iter()
                        .find(|(product, _, _)| *product == line.product_id)
                        .map(|(_, _, cost)| *cost)
                        .ok_or_else(|| {
                            HandlerError::Reject(format!(
                                "sale {} sold no product {} at {}",
                                returned.sale_id, line.product_id, returned.location_id
                            ))
                        })?;
                    let command = Command::Restock {
                        quantity,
                        unit_cost,
                    };
                    batch
                        .apply(tx, &line.product_id, &returned.location_id, &command)
                        .await
                        .map_err(handler_error)?;
                }
                Ok(())
            }
            "tillstream.sales.v1.SaleVoided" => {
                let voided = event.decode::<sales::SaleVoided>()?;
                let sold = self.sold(tx, &voided.sale_id, &voided.location_id).await?;
                let mut batch = StockBatch::new(&self.store, metadata(event, &voided.sale_id));
                for (product_id, quantity, unit_cost) in sold {
                    // What a sale took is a line's quantity, so within the contract's range.
                    let quantity = Quantity::new(quantity)
                        .map_err(|e| HandlerError::Reject(format!("sold {quantity}: {e}")))?;
                    let command = Command::ReverseSale {
                        quantity,
                        unit_cost,
                    };
                    batch
                        .apply(tx, &product_id, &voided.location_id, &command)
                        .await
                        .map_err(handler_error)?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    async fn handle_chunk(&self, tx: &mut PgConnection, events: &[&InboundEvent]) -> ChunkHandled {
        self.take_chunk(tx, events).await
    }
}

impl SalesMovements {
    /// Takes a chunk's runs of completed sales from stock at once (`stock_chunk`), and the
    /// returns and voids between them one by one, in order, so each sees what came before
    /// it. Anything malformed declines the chunk, for `handle` to say what is wrong with it.
    async fn take_chunk(
        &self,
        tx: &mut PgConnection,
        events: &[&InboundEvent],
    ) -> Result<bool, HandlerError> {
        let mut run = Vec::with_capacity(events.len());
        for event in events {
            if event.ce_type != "tillstream.sales.v1.SaleCompleted" {
                self.take_run(tx, &mut run).await?;
                self.handle(tx, event).await?;
                continue;
            }
            let Some(sale) = event
                .decode::<sales::SaleCompleted>()
                .ok()
                .and_then(|completed| completed.sale)
            else {
                return Ok(false);
            };
            let mut lines = Vec::with_capacity(sale.lines.len());
            for line in &sale.lines {
                let Ok(quantity) = quantity(&line.quantity, line.line_no) else {
                    return Ok(false);
                };
                lines.push((line.product_id.clone(), quantity));
            }
            run.push(SaleToTake {
                metadata: metadata(event, &sale.id),
                location_id: sale.location_id,
                lines,
            });
        }
        self.take_run(tx, &mut run).await?;
        Ok(true)
    }

    async fn take_run(
        &self,
        tx: &mut PgConnection,
        run: &mut Vec<SaleToTake>,
    ) -> Result<(), HandlerError> {
        if !run.is_empty() {
            take_sales(&self.store, tx, run)
                .await
                .map_err(handler_error)?;
            run.clear();
        }
        Ok(())
    }

    /// What the sale took from stock. A return or void comes after its sale on the same
    /// stream, so an empty answer means the sale is still on its way: try again later.
    async fn sold(
        &self,
        tx: &mut PgConnection,
        sale_id: &str,
        location_id: &str,
    ) -> Result<Vec<(String, Decimal, Decimal)>, HandlerError> {
        let sold = movements::sold_for_sale(tx, sale_id, location_id).await?;
        if sold.is_empty() {
            return Err(HandlerError::Retry(format!(
                "sale {sale_id} has not been taken from stock yet"
            )));
        }
        Ok(sold)
    }
}

fn quantity(text: &str, line_no: i32) -> Result<Quantity, HandlerError> {
    text.parse::<Quantity>()
        .map_err(|e| HandlerError::Reject(format!("line {line_no}: {e}")))
}

/// The sale is every movement's cause and reference.
fn metadata(event: &InboundEvent, sale_id: &str) -> EventMetadata {
    EventMetadata {
        correlation_id: event
            .correlation_id
            .clone()
            .or_else(|| Some(sale_id.to_owned())),
        causation_id: Some(sale_id.to_owned()),
        traceparent: event.traceparent.clone(),
        actor: Some("inventory".into()),
        ..Default::default()
    }
}

/// A refusal can only come from a malformed event (a zero quantity); a store error, most
/// often a concurrent movement of the same item, is worth another try.
fn handler_error(error: BatchError) -> HandlerError {
    match error {
        BatchError::Refused(refusal) => HandlerError::Reject(refusal.to_string()),
        BatchError::Store(StoreError::Conflict { .. }) => {
            HandlerError::Retry("a concurrent movement of the same item".into())
        }
        BatchError::Store(error) => HandlerError::Retry(error.to_string()),
    }
}
