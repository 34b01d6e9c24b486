//! Repairs' cost: a part fitted moves its cost from inventory to repairs in progress (1250),
//! a cancelled repair's part moves it back, and a repair's collection moves what it has in
//! 1250 to cost of goods sold. The two sides arrive on two streams (inventory's movements,
//! sales' collection) in either order: `repair_costs` keeps each repair's open cost, and a
//! part that arrives after its repair was collected goes straight to 5000.

use std::collections::BTreeSet;

use rust_decimal::Decimal;
use sqlx::PgConnection;
use tillstream_kernel::{Currency, Money};
use tillstream_messaging::{HandlerError, InboundEvent};
use tillstream_proto::inventory::v1 as inventory;
use tillstream_proto::sales::v1 as sales;

use super::metadata_for;
use crate::commands::post_entry::Posting;
use crate::domain::journal::Source;
use crate::domain::posting::{StockCost, stock_entry};
use crate::projections::repair_costs;

pub const FITTED: &str = "tillstream.inventory.v1.StockFittedToRepair";
pub const RETURNED: &str = "tillstream.inventory.v1.StockReturnedFromRepair";
pub const COLLECTED: &str = "tillstream.sales.v1.RepairCollected";

/// Locks the row of every repair that `events` move a part of or collect, in id order,
/// before any of them is applied. Inventory's stream and sales' name repairs in orders of
/// their own, and the ledger's two consumers, each taking its batch's repairs as it came to
/// them, could each hold a row the other waits for. One repair locks as it is handled.
pub async fn lock_repairs(
    tx: &mut PgConnection,
    events: &[&InboundEvent],
) -> Result<(), HandlerError> {
    let repairs: BTreeSet<String> = events.iter().filter_map(|e| repair_of(e)).collect();
    if repairs.len() < 2 {
        return Ok(());
    }
    repair_costs::lock_all(tx, &repairs.into_iter().collect::<Vec<_>>()).await?;
    Ok(())
}

/// The repair a part's movement or a collection names; `None` for any other event, or one
/// that does not decode (`handle` says what is wrong with it).
fn repair_of(event: &InboundEvent) -> Option<String> {
    let repair_id = match event.ce_type.as_str() {
        FITTED => {
            event
                .decode::<inventory::StockFittedToRepair>()
                .ok()?
                .repair_id
        }
        RETURNED => {
            event
                .decode::<inventory::StockReturnedFromRepair>()
                .ok()?
                .repair_id
        }
        COLLECTED => event.decode::<sales::RepairCollected>().ok()?.repair_id,
        _ => return None,
    };
    Some(repair_id)
}

/// The movement's value: its four-place unit cost times its quantity, rounded once, within
/// range (an event that reached the stream some other way than the API is refused, never a
/// panic).
pub fn movement_value(
    event: &InboundEvent,
    quantity: &str,
    unit_cost: &str,
    currency: Currency,
) -> Result<Money, HandlerError> {
    let reject =
        |e: &dyn std::fmt::Display| HandlerError::Reject(format!("{}: {e}", event.ce_type));
    let decimal = |text: &str| Decimal::from_str_exact(text).map_err(|e| reject(&e));
    let value = decimal(unit_cost)?
        .checked_mul(decimal(quantity)?.abs())
        .ok_or_else(|| reject(&format!("{quantity} × {unit_cost}: overflow")))?;
    Money::new(value, currency)
        .within_range()
        .map_err(|e| reject(&format!("{quantity} × {unit_cost}: {e}")))
}

/// A part's movement into or out of a repair, noted against the repair and posted.
pub async fn movement_posting(
    tx: &mut PgConnection,
    event: &InboundEvent,
    currency: Currency,
) -> Result<Option<Posting>, HandlerError> {
    let reject = |e: prost::DecodeError| HandlerError::Reject(format!("{}: {e}", event.ce_type));
    let data = event.data.clone();
    let (m, fitted) = if event.ce_type == FITTED {
        let m = <inventory::StockFittedToRepair as prost::Message>::decode(data).map_err(reject)?;
        (m, true)
    } else {
        let m =
            <inventory::StockReturnedFromRepair as prost::Message>::decode(data).map_err(reject)?;
        let m = inventory::StockFittedToRepair {
            product_id: m.product_id,
            location_id: m.location_id,
            quantity: m.quantity,
            unit_cost: m.unit_cost,
            repair_id: m.repair_id,
            repair_number: m.repair_number,
        };
        (m, false)
    };
    let cost = movement_value(event, &m.quantity, &m.unit_cost, currency)?;
    let signed = if fitted {
        cost.amount()
    } else {
        -cost.amount()
    };
    let collected = repair_costs::add(tx, &m.repair_id, signed)
        .await
        .map_err(|e| HandlerError::Retry(e.to_string()))?;
    let (kind, movement) = match (fitted, collected) {
        (true, false) => ("repair_part_fitted", StockCost::FittedToRepair(cost)),
        // Fitted to a repair collected already: sold with it.
        (true, true) => ("repair_part_fitted", StockCost::Sold(cost)),
        (false, _) => ("repair_part_returned", StockCost::ReturnedFromRepair(cost)),
    };
    let Some(lines) = stock_entry(currency, movement)
        .map_err(|e| HandlerError::Reject(format!("{}: {e}", event.ce_type)))?
    else {
        return Ok(None);
    };
    Ok(Some(Posting {
        source: Source {
            kind: kind.into(),
            id: format!("{}:{}", m.product_id, m.location_id),
            event_id: event.event_id.to_string(),
        },
        memo: format!(
            "repair {} {kind} {} × {}",
            m.repair_number, m.quantity, m.unit_cost
        ),
        lines,
        metadata: metadata_for(event),
    }))
}

/// A collected repair's open cost, moved to cost of goods sold; `None` when it has none
/// (labor only, or parts still on their way: they post to 5000 when they come).
pub async fn collected_posting(
    tx: &mut PgConnection,
    event: &InboundEvent,
    currency: Currency,
) -> Result<Option<Posting>, HandlerError> {
    let collected = event.decode::<sales::RepairCollected>()?;
    let open = repair_costs::collect(tx, &collected.repair_id)
        .await
        .map_err(|e| HandlerError::Retry(e.to_string()))?;
    let cost = Money::new(open, currency)
        .within_range()
        .map_err(|e| HandlerError::Reject(format!("{}: {e}", event.ce_type)))?;
    let Some(lines) = stock_entry(currency, StockCost::RepairCollected(cost))
        .map_err(|e| HandlerError::Reject(format!("{}: {e}", event.ce_type)))?
    else {
        return Ok(None);
    };
    Ok(Some(Posting {
        source: Source {
            kind: "repair_collected".into(),
            id: collected.repair_id.clone(),
            event_id: event.event_id.to_string(),
        },
        memo: format!(
            "repair {} collected by sale {}",
            collected.number, collected.sale_number
        ),
        lines,
        metadata: metadata_for(event),
    }))
}
