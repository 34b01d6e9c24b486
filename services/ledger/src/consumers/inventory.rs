//! Inventory movements → cost entries at the cost recorded on the movement: sold, returned
//! to stock, void-reversed, received (against goods received not invoiced when a purchase
//! order's); adjustments and count differences against shrinkage. Transfers post nothing.
//! Purchasing's invoices and supplier payments post their money entries. Parts fitted to
//! and returned from repairs post through `repairs`, which keeps each repair's open cost.

use prost::Message;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use tillstream_eventstore::EventStore;
use tillstream_kernel::{Currency, Money};
use tillstream_messaging::{ChunkHandled, Handled, Handler, HandlerError, InboundEvent};
use tillstream_proto::inventory::v1 as inventory;

use super::repairs::{self, movement_value};
use super::{metadata_for, retry};
use crate::commands::post_entry::{Posting, post_entries, post_entry};
use crate::domain::journal::Source;
use crate::domain::posting::{
    StockCost, purchase_invoice_entry, stock_entry, supplier_payment_entry,
};

/// The movements that carry a cost to post (`posting_of` below, and `repairs`).
const POSTED: [&str; 11] = [
    "SaleCosted",
    "StockSold",
    "StockReceived",
    "StockReturned",
    "StockVoidReversed",
    "StockAdjusted",
    "StockCounted",
    "PurchaseInvoiceRecorded",
    "SupplierPaid",
    "StockFittedToRepair",
    "StockReturnedFromRepair",
];

#[derive(Debug, Clone)]
pub struct InventoryPostings {
    pub store: EventStore,
    pub currency: Currency,
}

impl Handler for InventoryPostings {
    const HANDLES_CHUNKS: bool = true;
    const APPENDS: bool = true;

    /// Movements with a cost; transfers and the rest post nothing, and neither does a
    /// `StockSold` whose cost comes with its sale's `SaleCosted`.
    fn wants(&self, event: &InboundEvent) -> bool {
        event
            .ce_type
            .strip_prefix("tillstream.inventory.v1.")
            .is_some_and(|kind| POSTED.contains(&kind))
            && !costed_with_sale(event)
    }

    async fn lock_first(
        &self,
        tx: &mut PgConnection,
        events: &[&InboundEvent],
        _chunked: bool,
    ) -> Result<(), HandlerError> {
        repairs::lock_repairs(tx, events).await
    }

    async fn handle(&self, tx: &mut PgConnection, event: &InboundEvent) -> Handled {
        let posting = if is_repair_movement(event) {
            repairs::movement_posting(tx, event, self.currency).await?
        } else {
            self.posting_of(event)?
        };
        let Some(posting) = posting else {
            return Ok(());
        };
        post_entry(&self.store, tx, posting).await.map_err(retry)?;
        Ok(())
    }

    /// Movements are independent of each other: a chunk of them (a backlog's stock sold)
    /// posts in a few statements; anything `handle` would refuse, or a movement posted
    /// already, sends the chunk one by one.
    async fn handle_chunk(&self, tx: &mut PgConnection, events: &[&InboundEvent]) -> ChunkHandled {
        // A repair's part is noted against its repair as it posts: one by one.
        if events.iter().any(|event| is_repair_movement(event)) {
            return Ok(false);
        }
        let mut postings = Vec::with_capacity(events.len());
        for event in events {
            if let Some(posting) = self.posting_of(event)? {
                postings.push(posting);
            }
        }
        if !postings.is_empty() {
            post_entries(&self.store, tx, postings)
                .await
                .map_err(retry)?;
        }
        Ok(true)
    }
}

impl InventoryPostings {
    /// The cost entry of a movement event; `None` for what posts nothing (transfers, other
    /// events, a zero cost).
    fn posting_of(&self, event: &InboundEvent) -> Result<Option<Posting>, HandlerError> {
        let reject =
            |e: &dyn std::fmt::Display| HandlerError::Reject(format!("{}: {e}", event.ce_type));
        let data = event.data.clone();
        match event.ce_type.as_str() {
            "tillstream.inventory.v1.PurchaseInvoiceRecorded" => {
                let m = inventory::PurchaseInvoiceRecorded::decode(data).map_err(|e| reject(&e))?;
                return self.invoice_posting(event, &m);
            }
            "tillstream.inventory.v1.SupplierPaid" => {
                let m = inventory::SupplierPaid::decode(data).map_err(|e| reject(&e))?;
                return self.payment_posting(event, &m).map(Some);
            }
            "tillstream.inventory.v1.SaleCosted" => {
                let m = inventory::SaleCosted::decode(data).map_err(|e| reject(&e))?;
                return self.sale_cost_posting(event, &m);
            }
            _ if costed_with_sale(event) => return Ok(None),
            _ => {}
        }
        // (source kind, product, location, signed quantity, unit cost) of the movement.
        let (kind, product, location, quantity, unit_cost) = match event.ce_type.as_str() {
            "tillstream.inventory.v1.StockSold" => {
                let m = inventory::StockSold::decode(data).map_err(|e| reject(&e))?;
                (
                    "stock_sold",
                    m.product_id,
                    m.location_id,
                    m.quantity,
                    m.unit_cost,
                )
            }
            "tillstream.inventory.v1.StockReceived" => {
                let m = inventory::StockReceived::decode(data).map_err(|e| reject(&e))?;
                let kind = if m.purchase_order_id.is_empty() {
                    "stock_received"
                } else {
                    "stock_received_against_order"
                };
                (kind, m.product_id, m.location_id, m.quantity, m.unit_cost)
            }
            "tillstream.inventory.v1.StockReturned" => {
                let m = inventory::StockReturned::decode(data).map_err(|e| reject(&e))?;
                (
                    "stock_returned",
                    m.product_id,
                    m.location_id,
                    m.quantity,
                    m.unit_cost,
                )
            }
            "tillstream.inventory.v1.StockVoidReversed" => {
                let m = inventory::StockVoidReversed::decode(data).map_err(|e| reject(&e))?;
                (
                    "stock_void_reversed",
                    m.product_id,
                    m.location_id,
                    m.quantity,
                    m.unit_cost,
                )
            }
            "tillstream.inventory.v1.StockAdjusted" => {
                let m = inventory::StockAdjusted::decode(data).map_err(|e| reject(&e))?;
                (
                    "stock_adjusted",
                    m.product_id,
                    m.location_id,
                    m.delta,
                    m.unit_cost,
                )
            }
            "tillstream.inventory.v1.StockCounted" => {
                let m = inventory::StockCounted::decode(data).map_err(|e| reject(&e))?;
                (
                    "stock_counted",
                    m.product_id,
                    m.location_id,
                    m.delta,
                    m.unit_cost,
                )
            }
            // Transfers move value between locations, not between accounts.
            _ => return Ok(None),
        };
        let signed = Decimal::from_str_exact(&quantity).map_err(|e| reject(&e))?;
        let cost = movement_value(event, &quantity, &unit_cost, self.currency)?;
        let movement = match kind {
            "stock_sold" => StockCost::Sold(cost),
            "stock_received" => StockCost::Received(cost),
            "stock_received_against_order" => StockCost::ReceivedAgainstOrder(cost),
            "stock_returned" => StockCost::ReturnedToStock(cost),
            "stock_void_reversed" => StockCost::VoidReversed(cost),
            _ if signed.is_sign_negative() => StockCost::Lost(cost),
            _ => StockCost::Gained(cost),
        };
        let Some(lines) = stock_entry(self.currency, movement).map_err(|e| reject(&e))? else {
            return Ok(None);
        };
        Ok(Some(Posting {
            source: Source {
                kind: kind.into(),
                id: format!("{product}:{location}"),
                event_id: event.event_id.to_string(),
            },
            memo: format!("{kind} {quantity} × {unit_cost}"),
            lines,
            metadata: metadata_for(event),
        }))
    }
}

/// A sale's `StockSold` booked with the rest of the sale's cost, from its `SaleCosted`.
fn costed_with_sale(event: &InboundEvent) -> bool {
    event.ce_type == "tillstream.inventory.v1.StockSold"
        && inventory::StockSold::decode(event.data.clone()).is_ok_and(|m| m.cost_with_sale)
}

fn is_repair_movement(event: &InboundEvent) -> bool {
    event.ce_type == repairs::FITTED || event.ce_type == repairs::RETURNED
}

impl InventoryPostings {
    /// A money figure of a purchasing event, within range.
    fn amount(&self, event: &InboundEvent, field: &str, text: &str) -> Result<Money, HandlerError> {
        Money::parse(text, self.currency)
            .and_then(Money::within_range)
            .map_err(|e| HandlerError::Reject(format!("{} {field} `{text}`: {e}", event.ce_type)))
    }

    fn invoice_posting(
        &self,
        event: &InboundEvent,
        m: &inventory::PurchaseInvoiceRecorded,
    ) -> Result<Option<Posting>, HandlerError> {
        let received_value = self.amount(event, "received_value", &m.received_value)?;
        let total = self.amount(event, "total", &m.total)?;
        // Free goods invoiced free: nothing to book.
        if received_value.is_zero() && total.is_zero() {
            return Ok(None);
        }
        let lines = purchase_invoice_entry(self.currency, received_value, total)
            .map_err(|e| HandlerError::Reject(format!("{}: {e}", event.ce_type)))?;
        Ok(Some(Posting {
            source: Source {
                kind: "purchase_invoice".into(),
                id: m.invoice_id.clone(),
                event_id: event.event_id.to_string(),
            },
            memo: format!(
                "invoice {} of {} ({})",
                m.number, m.purchase_order_id, m.match_status
            ),
            lines,
            metadata: metadata_for(event),
        }))
    }

    /// A sale's cost of goods sold, one entry: the sum of what each movement took, each
    /// valued as a `StockSold` of its own would be.
    fn sale_cost_posting(
        &self,
        event: &InboundEvent,
        m: &inventory::SaleCosted,
    ) -> Result<Option<Posting>, HandlerError> {
        let mut cost = Money::zero(self.currency);
        for movement in &m.movements {
            let value = movement_value(
                event,
                &movement.quantity,
                &movement.unit_cost,
                self.currency,
            )?;
            cost = cost
                .checked_add(value)
                .and_then(Money::within_range)
                .map_err(|e| {
                    HandlerError::Reject(format!("{}: the sale's cost: {e}", event.ce_type))
                })?;
        }
        let lines = stock_entry(self.currency, StockCost::Sold(cost))
            .map_err(|e| HandlerError::Reject(format!("{}: {e}", event.ce_type)))?;
        let Some(lines) = lines else {
            return Ok(None);
        };
        Ok(Some(Posting {
            source: Source {
                kind: "stock_sold".into(),
                // Not the sale's own id, which names its money entries.
                id: format!("sale_cost-{}", m.sale_id),
                event_id: event.event_id.to_string(),
            },
            memo: format!(
                "sale {}: {} items sold at cost",
                m.sale_id,
                m.movements.len()
            ),
            lines,
            metadata: metadata_for(event),
        }))
    }

    fn payment_posting(
        &self,
        event: &InboundEvent,
        m: &inventory::SupplierPaid,
    ) -> Result<Posting, HandlerError> {
        let amount = self.amount(event, "amount", &m.amount)?;
        let lines = supplier_payment_entry(self.currency, amount, m.method != "cash")
            .map_err(|e| HandlerError::Reject(format!("{}: {e}", event.ce_type)))?;
        Ok(Posting {
            source: Source {
                kind: "supplier_payment".into(),
                id: m.payment_id.clone(),
                event_id: event.event_id.to_string(),
            },
            memo: format!("paid supplier {} by {}", m.supplier_id, m.method),
            lines,
            metadata: metadata_for(event),
        })
    }
}
