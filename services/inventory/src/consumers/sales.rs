//! Sales events → stock movements, each in the consumer's transaction with its inbox row
//! (a redelivered event moves nothing twice):
//! - completed: each line's quantity is sold from the sale's location at the average cost
//!   of that moment. Stock may go negative (the goods are already in the customer's hands)
//!   and a product or location inventory has not heard of yet is recorded all the same.
//! - returned with restock: the goods go back at the cost they left with.
//! - voided: everything the sale took goes back at the cost it left with.
//! - a repair's part fitted: it leaves the repair's location at the average cost of that
//!   moment (a `repair` movement whose reference is the repair's number); a cancelled
//!   repair's parts come back, each at the cost it left with. The sale that collects a
//!   repair takes nothing (its parts are gone already, its labor is no product), and its
//!   void puts nothing back (the parts stay in the device).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use sqlx::PgConnection;
use tillstream_eventstore::{EventMetadata, EventStore, StoreError};
use tillstream_kernel::Quantity;
use tillstream_messaging::{ChunkHandled, Handled, Handler, HandlerError, InboundEvent};
use tillstream_proto::sales::v1 as sales;

use crate::commands::stock_batch::{BatchError, StockBatch, hold};
use crate::commands::stock_chunk::{SaleToTake, costed, take_sales};
use crate::domain::sale_cost;
use crate::domain::stock_item::{Command, RepairRef};
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
            COMPLETED
                | "tillstream.sales.v1.SaleReturned"
                | "tillstream.sales.v1.SaleVoided"
                | PART_FITTED
                | REPAIR_CANCELLED
        )
    }

    /// Every stock item the batch moves, taken in stream order before any is moved: a
    /// batch's sales, returns and voids, applied one after another, would otherwise take
    /// them in the order of their lines. A chunk of completed sales alone takes its items
    /// in that order itself (`stock_chunk`), in one statement: the busy path pays nothing.
    async fn lock_first(
        &self,
        tx: &mut PgConnection,
        events: &[&InboundEvent],
        chunked: bool,
    ) -> Handled {
        if chunked && events.iter().all(|event| event.ce_type == COMPLETED) {
            return Ok(());
        }
        let mut items = Vec::new();
        for event in events {
            let moves = match self.moves(tx, event).await {
                Ok(Some(moves)) => moves,
                // Moving nothing, or malformed (`handle` refuses it).
                Ok(None) | Err(HandlerError::Reject(_)) => continue,
                // A read failed, and with it the transaction.
                Err(error) => return Err(error),
            };
            let location = moves.location_id;
            let products = moves.commands.into_iter().map(|(product, _)| product);
            items.extend(products.map(|product| (product, location.clone())));
        }
        let items: Vec<(&str, &str)> = items
            .iter()
            .map(|(product, location)| (product.as_str(), location.as_str()))
            .collect();
        hold(tx, &items)
            .await
            .map_err(|e| HandlerError::Retry(e.to_string()))
    }

    async fn handle(&self, tx: &mut PgConnection, event: &InboundEvent) -> Handled {
        let Some(moves) = self.moves(tx, event).await? else {
            return Ok(());
        };
        if let Some(reason) = moves.waits_for {
            return Err(HandlerError::Retry(reason));
        }
        let mut batch = StockBatch::new(&self.store, moves.metadata.clone());
        let mut sold = Vec::new();
        // Lines of one product are moved one after the other on the same item.
        for (product_id, command) in &moves.commands {
            let events = batch
                .apply(tx, product_id, &moves.location_id, command)
                .await
                .map_err(handler_error)?;
            sold.extend(sale_cost::sold(product_id, &events));
        }
        if let Some(sale_id) = &moves.costs_sale {
            let request = costed(sale_id, &moves.location_id, sold, &moves.metadata)
                .map_err(|e| handler_error(e.into()))?;
            if let Some(request) = request {
                self.store
                    .append_in(tx, &request)
                    .await
                    .map_err(|e| handler_error(e.into()))?;
            }
        }
        Ok(())
    }

    async fn handle_chunk(&self, tx: &mut PgConnection, events: &[&InboundEvent]) -> ChunkHandled {
        self.take_chunk(tx, events).await
    }
}

const COMPLETED: &str = "tillstream.sales.v1.SaleCompleted";
const PART_FITTED: &str = "tillstream.sales.v1.RepairPartFitted";
const REPAIR_CANCELLED: &str = "tillstream.sales.v1.RepairCancelled";

/// The lines of a sale that take stock: none of a repair's collection, no labor.
fn taken_lines(sale: &sales::Sale) -> impl Iterator<Item = &sales::SaleLine> {
    let collects_repair = !sale.repair_id.is_empty();
    sale.lines
        .iter()
        .filter(move |line| !collects_repair && !line.product_id.is_empty())
}

/// What one sales event moves: each item's command at one location, in the order they
/// are applied, under the reference (the sale, or the repair's number) they carry.
struct Moves {
    metadata: EventMetadata,
    location_id: String,
    commands: Vec<(String, Command)>,
    /// A completed sale, whose cost is stated once its lines are sold.
    costs_sale: Option<String>,
    /// Why it cannot be applied yet (retried): its sale, or a part of its repair, not
    /// taken from stock yet. The items it names are taken first all the same.
    waits_for: Option<String>,
}

impl Moves {
    fn new(event: &InboundEvent, reference: &str, location_id: String) -> Self {
        Moves {
            metadata: metadata(event, reference),
            location_id,
            commands: Vec::new(),
            costs_sale: None,
            waits_for: None,
        }
    }
}

impl SalesMovements {
    /// What `event` moves, `None` when nothing: `handle` applies it and `lock_first` takes
    /// its items first, from this one account of which items an event moves. `Err` is a
    /// malformed event (`Reject`) or a failed read (`Retry`), nothing else.
    async fn moves(
        &self,
        tx: &mut PgConnection,
        event: &InboundEvent,
    ) -> Result<Option<Moves>, HandlerError> {
        let moves = match event.ce_type.as_str() {
            COMPLETED => {
                let completed = event.decode::<sales::SaleCompleted>()?;
                let sale = completed
                    .sale
                    .ok_or_else(|| HandlerError::Reject("SaleCompleted without a sale".into()))?;
                let mut moves = Moves::new(event, &sale.id, sale.location_id.clone());
                for line in taken_lines(&sale) {
                    let sell = Command::Sell {
                        quantity: quantity(&line.quantity, line.line_no)?,
                    };
                    moves.commands.push((line.product_id.clone(), sell));
                }
                moves.costs_sale = Some(sale.id);
                moves
            }
            "tillstream.sales.v1.SaleReturned" => {
                let returned = event.decode::<sales::SaleReturned>()?;
                if !returned.restock {
                    return Ok(None);
                }
                let (sale_id, location_id) = (&returned.sale_id, &returned.location_id);
                let sold = movements::sold_for_sale(tx, sale_id, location_id).await?;
                let mut moves = Moves::new(event, sale_id, location_id.clone());
                if sold.is_empty() {
                    moves.waits_for = Some(not_taken_yet(sale_id));
                    return Ok(Some(moves));
                }
                for line in &returned.lines {
                    let quantity = quantity(&line.quantity, line.line_no)?;
                    let unit_cost = sold
                        .iter()
                        .find(|(product, _, _)| *product == line.product_id)
                        .map(|(_, _, cost)| *cost)
                        .ok_or_else(|| {
                            HandlerError::Reject(format!(
                                "sale {sale_id} sold no product {} at {location_id}",
                                line.product_id
                            ))
                        })?;
                    let restock = Command::Restock {
                        quantity,
                        unit_cost,
                    };
                    moves.commands.push((line.product_id.clone(), restock));
                }
                moves
            }
            "tillstream.sales.v1.SaleVoided" => {
                let voided = event.decode::<sales::SaleVoided>()?;
                if !voided.repair_id.is_empty() {
                    return Ok(None);
                }
                let sold =
                    movements::sold_for_sale(tx, &voided.sale_id, &voided.location_id).await?;
                let mut moves = Moves::new(event, &voided.sale_id, voided.location_id);
                if sold.is_empty() {
                    moves.waits_for = Some(not_taken_yet(&voided.sale_id));
                }
                for (product_id, quantity, unit_cost) in sold {
                    // What a sale took is a line's quantity, so within the contract's range.
                    let quantity = Quantity::new(quantity)
                        .map_err(|e| HandlerError::Reject(format!("sold {quantity}: {e}")))?;
                    let reverse = Command::ReverseSale {
                        quantity,
                        unit_cost,
                    };
                    moves.commands.push((product_id, reverse));
                }
                moves
            }
            PART_FITTED => part_fitted(event)?,
            REPAIR_CANCELLED => self.repair_cancelled(tx, event).await?,
            _ => return Ok(None),
        };
        Ok(Some(moves))
    }

    /// Every part the repair took goes back, movement by movement, at the cost it left with.
    async fn repair_cancelled(
        &self,
        tx: &mut PgConnection,
        event: &InboundEvent,
    ) -> Result<Moves, HandlerError> {
        let cancelled = event.decode::<sales::RepairCancelled>()?;
        let taken =
            movements::fitted_to_repair(tx, &cancelled.number, &cancelled.location_id).await?;
        // Every part the repair names must have left stock before it can come back: one
        // still on its way (retried, or replayed from the dead letters) would otherwise be
        // taken after the cancellation and never returned. Until then the parts already
        // taken are still named, for `lock_first`.
        let mut missing: BTreeMap<&str, Decimal> = BTreeMap::new();
        for part in &cancelled.parts {
            let fitted = quantity(&part.quantity, part.part_no)?.value();
            let entry = missing.entry(part.product_id.as_str()).or_default();
            *entry = entry.checked_add(fitted).unwrap_or(Decimal::MAX);
        }
        for (product_id, quantity, _) in &taken {
            if let Some(entry) = missing.get_mut(product_id.as_str()) {
                *entry = entry.checked_sub(*quantity).unwrap_or(Decimal::MIN);
            }
        }
        let short = missing.iter().find(|(_, short)| **short > Decimal::ZERO);
        let waits_for = short.map(|(product_id, short)| {
            let number = &cancelled.number;
            format!("repair {number}: {short} of product {product_id} not taken from stock yet")
        });
        let repair = RepairRef {
            repair_id: cancelled.repair_id.clone(),
            repair_number: cancelled.number.clone(),
        };
        let mut moves = Moves::new(event, &cancelled.number, cancelled.location_id.clone());
        moves.waits_for = waits_for;
        for (product_id, taken, unit_cost) in taken {
            // What a repair took is a part's quantity, so within the contract's range; and
            // a repair still waiting for a part is retried before anything else is said.
            let quantity = match Quantity::new(taken) {
                Ok(quantity) => quantity,
                Err(_) if moves.waits_for.is_some() => continue,
                Err(e) => return Err(HandlerError::Reject(format!("fitted {taken}: {e}"))),
            };
            let command = Command::ReturnFromRepair {
                quantity,
                unit_cost,
                repair: repair.clone(),
            };
            moves.commands.push((product_id, command));
        }
        Ok(moves)
    }

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
            if event.ce_type != COMPLETED {
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
            for line in taken_lines(&sale) {
                let Ok(quantity) = quantity(&line.quantity, line.line_no) else {
                    return Ok(false);
                };
                lines.push((line.product_id.clone(), quantity));
            }
            run.push(SaleToTake {
                metadata: metadata(event, &sale.id),
                sale_id: sale.id.clone(),
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
}

/// A return or void comes after its sale on the same stream, so a sale that took nothing
/// yet is still on its way: try again later.
fn not_taken_yet(sale_id: &str) -> String {
    format!("sale {sale_id} has not been taken from stock yet")
}

/// A part fitted leaves the repair's location at the average cost of that moment.
fn part_fitted(event: &InboundEvent) -> Result<Moves, HandlerError> {
    let fitted = event.decode::<sales::RepairPartFitted>()?;
    let part = fitted
        .part
        .ok_or_else(|| HandlerError::Reject("RepairPartFitted without a part".into()))?;
    let command = Command::FitToRepair {
        quantity: quantity(&part.quantity, part.part_no)?,
        repair: RepairRef {
            repair_id: fitted.repair_id,
            repair_number: fitted.number.clone(),
        },
    };
    let mut moves = Moves::new(event, &fitted.number, fitted.location_id);
    moves.commands.push((part.product_id, command));
    Ok(moves)
}

fn quantity(text: &str, line_no: i32) -> Result<Quantity, HandlerError> {
    text.parse::<Quantity>()
        .map_err(|e| HandlerError::Reject(format!("line {line_no}: {e}")))
}

/// The sale (or the repair's number) is every movement's cause and reference.
fn metadata(event: &InboundEvent, reference: &str) -> EventMetadata {
    EventMetadata {
        correlation_id: event
            .correlation_id
            .clone()
            .or_else(|| Some(reference.to_owned())),
        causation_id: Some(reference.to_owned()),
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
