//! A stock item: one product at one location. Its level is nothing but the fold of its
//! movements; its average cost moves with receipts; every outgoing movement records the
//! unit cost at that moment, which is what the ledger books.
//!
//! Selling below zero is allowed (the goods are already in the customer's hands): the sale
//! is recorded and `WentNegative` raised, never a refusal.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use tillstream_kernel::{Decider, Quantity};

/// Unit costs carry four decimal places: averages of cent prices need more than cents.
pub const COST_SCALE: u32 = 4;

/// Rounds a unit cost to [`COST_SCALE`] places, half away from zero.
pub fn round_cost(cost: Decimal) -> Decimal {
    cost.round_dp_with_strategy(COST_SCALE, RoundingStrategy::MidpointAwayFromZero)
}

/// The most a stock item's level may reach either way: a trillion units at one location is
/// beyond any store, and keeps level × cost (≤ 10^22) far inside `Decimal`, so the average
/// cost can always be computed.
pub const MAX_ON_HAND: Decimal = rust_decimal::dec!(1_000_000_000_000);

/// The folded state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockItem {
    pub on_hand: Decimal,
    pub avg_cost: Decimal,
    pub reorder_point: Option<Decimal>,
    /// Set when a stored event could not be folded (its numbers overflow: it reached the
    /// store some other way than through `decide`); such an item takes no more commands.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub out_of_range: bool,
}

/// What can happen to a stock item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Receive {
        quantity: Quantity,
        unit_cost: Decimal,
        /// A delivery against a purchase order (its id): the books owe it as goods
        /// received not invoiced rather than as payable.
        purchase_order_id: Option<String>,
    },
    Sell {
        quantity: Quantity,
    },
    /// A customer return put back on the shelf, at the cost it left with.
    Restock {
        quantity: Quantity,
        unit_cost: Decimal,
    },
    /// A voided sale's goods back in stock, at the cost they left with.
    ReverseSale {
        quantity: Quantity,
        unit_cost: Decimal,
    },
    Adjust {
        delta: Quantity,
        reason: String,
    },
    /// The quantity counted. `expected` is the level at the count's moment as the counter
    /// saw it (a level, not a quantity anyone typed, so a `Decimal` within `MAX_ON_HAND`); sales rung up while counting come after it and are not lost.
    Count {
        counted: Quantity,
        expected: Decimal,
    },
    TransferOut {
        quantity: Quantity,
    },
    TransferIn {
        quantity: Quantity,
        unit_cost: Decimal,
    },
    SetReorderPoint {
        reorder_point: Option<Decimal>,
    },
    /// A part fitted in a repair: it leaves stock at the average cost of that moment.
    FitToRepair {
        quantity: Quantity,
        repair: RepairRef,
    },
    /// A cancelled repair's part back, at the cost it left with.
    ReturnFromRepair {
        quantity: Quantity,
        unit_cost: Decimal,
        repair: RepairRef,
    },
}

/// The repair a part went into: its id, and its number (the movement's reference).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairRef {
    pub repair_id: String,
    pub repair_number: String,
}

/// Movements and alerts. Quantities are positive; the variant says which way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    StockReceived {
        quantity: Decimal,
        unit_cost: Decimal,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        purchase_order_id: Option<String>,
    },
    StockSold {
        quantity: Decimal,
        unit_cost: Decimal,
    },
    StockReturned {
        quantity: Decimal,
        unit_cost: Decimal,
    },
    StockVoidReversed {
        quantity: Decimal,
        unit_cost: Decimal,
    },
    /// Signed: positive found, negative lost.
    StockAdjusted {
        delta: Decimal,
        unit_cost: Decimal,
        #[serde(default)]
        reason: String,
    },
    /// Signed difference between what was counted and what was expected.
    StockCounted {
        counted: Decimal,
        delta: Decimal,
        unit_cost: Decimal,
    },
    StockTransferredOut {
        quantity: Decimal,
        unit_cost: Decimal,
    },
    StockTransferredIn {
        quantity: Decimal,
        unit_cost: Decimal,
    },
    ReorderPointChanged {
        reorder_point: Option<Decimal>,
    },
    StockFittedToRepair {
        quantity: Decimal,
        unit_cost: Decimal,
        #[serde(flatten)]
        repair: RepairRef,
    },
    StockReturnedFromRepair {
        quantity: Decimal,
        unit_cost: Decimal,
        #[serde(flatten)]
        repair: RepairRef,
    },
    StockWentNegative {
        on_hand: Decimal,
    },
    LowStock {
        on_hand: Decimal,
        reorder_point: Decimal,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StockError {
    #[error("quantity must be greater than zero")]
    QuantityNotPositive,
    #[error("unit cost cannot be negative")]
    NegativeCost,
    #[error("an adjustment must change the level")]
    ZeroAdjustment,
    #[error("a count cannot be negative")]
    NegativeCount,
    #[error("the level would leave its range (at most {MAX_ON_HAND} either way)")]
    LevelOutOfRange,
    #[error(
        "the stored history of this item holds a movement out of range; see `tillstream bounds`"
    )]
    StoredOutOfRange,
}

impl StockError {
    /// The request field at fault.
    pub fn field(&self) -> &'static str {
        match self {
            StockError::QuantityNotPositive => "quantity",
            StockError::NegativeCost => "unit_cost",
            StockError::ZeroAdjustment => "delta",
            StockError::NegativeCount => "counted",
            StockError::LevelOutOfRange | StockError::StoredOutOfRange => "quantity",
        }
    }
}

impl Event {
    /// The movement's kind as the history shows it; `None` for alerts and settings.
    pub fn movement_kind(&self) -> Option<&'static str> {
        Some(match self {
            Event::StockReceived { .. } => "received",
            Event::StockSold { .. } => "sold",
            Event::StockReturned { .. } => "returned",
            Event::StockVoidReversed { .. } => "void_reversed",
            Event::StockAdjusted { .. } => "adjusted",
            Event::StockCounted { .. } => "counted",
            Event::StockTransferredOut { .. } => "transferred_out",
            Event::StockTransferredIn { .. } => "transferred_in",
            Event::StockFittedToRepair { .. } | Event::StockReturnedFromRepair { .. } => "repair",
            Event::ReorderPointChanged { .. }
            | Event::StockWentNegative { .. }
            | Event::LowStock { .. } => return None,
        })
    }

    /// The unit cost recorded on a movement.
    pub fn unit_cost(&self) -> Option<Decimal> {
        match self {
            Event::StockReceived { unit_cost, .. }
            | Event::StockSold { unit_cost, .. }
            | Event::StockReturned { unit_cost, .. }
            | Event::StockVoidReversed { unit_cost, .. }
            | Event::StockAdjusted { unit_cost, .. }
            | Event::StockCounted { unit_cost, .. }
            | Event::StockTransferredOut { unit_cost, .. }
            | Event::StockTransferredIn { unit_cost, .. }
            | Event::StockFittedToRepair { unit_cost, .. }
            | Event::StockReturnedFromRepair { unit_cost, .. } => Some(*unit_cost),
            Event::ReorderPointChanged { .. }
            | Event::StockWentNegative { .. }
            | Event::LowStock { .. } => None,
        }
    }
}

impl StockItem {
    /// The level change a movement makes (0 for alerts and settings).
    pub fn delta_of(event: &Event) -> Decimal {
        match event {
            Event::StockReceived { quantity, .. }
            | Event::StockReturned { quantity, .. }
            | Event::StockVoidReversed { quantity, .. }
            | Event::StockTransferredIn { quantity, .. }
            | Event::StockReturnedFromRepair { quantity, .. } => *quantity,
            Event::StockSold { quantity, .. }
            | Event::StockTransferredOut { quantity, .. }
            | Event::StockFittedToRepair { quantity, .. } => -*quantity,
            Event::StockAdjusted { delta, .. } | Event::StockCounted { delta, .. } => *delta,
            Event::ReorderPointChanged { .. }
            | Event::StockWentNegative { .. }
            | Event::LowStock { .. } => Decimal::ZERO,
        }
    }
}

impl Decider for StockItem {
    type State = StockItem;
    type Command = Command;
    type Event = Event;
    type Error = StockError;

    fn decide(state: &StockItem, command: &Command) -> Result<Vec<Event>, StockError> {
        if state.out_of_range {
            return Err(StockError::StoredOutOfRange);
        }
        let cost = state.avg_cost;
        let movement = match command.clone() {
            Command::Receive {
                quantity,
                unit_cost,
                purchase_order_id,
            } => Event::StockReceived {
                quantity: positive(quantity)?,
                unit_cost: cost_of(unit_cost)?,
                purchase_order_id,
            },
            Command::Sell { quantity } => Event::StockSold {
                quantity: positive(quantity)?,
                unit_cost: cost,
            },
            Command::Restock {
                quantity,
                unit_cost,
            } => Event::StockReturned {
                quantity: positive(quantity)?,
                unit_cost: cost_of(unit_cost)?,
            },
            Command::ReverseSale {
                quantity,
                unit_cost,
            } => Event::StockVoidReversed {
                quantity: positive(quantity)?,
                unit_cost: cost_of(unit_cost)?,
            },
            Command::Adjust { delta, .. } if delta.value().is_zero() => {
                return Err(StockError::ZeroAdjustment);
            }
            Command::Adjust { delta, reason } => Event::StockAdjusted {
                delta: delta.value(),
                unit_cost: cost,
                reason,
            },
            Command::Count { counted, .. } if counted.value() < Decimal::ZERO => {
                return Err(StockError::NegativeCount);
            }
            Command::Count { counted, expected } => Event::StockCounted {
                counted: counted.value(),
                delta: counted
                    .value()
                    .checked_sub(expected)
                    .ok_or(StockError::LevelOutOfRange)?,
                unit_cost: cost,
            },
            Command::TransferOut { quantity } => Event::StockTransferredOut {
                quantity: positive(quantity)?,
                unit_cost: cost,
            },
            Command::TransferIn {
                quantity,
                unit_cost,
            } => Event::StockTransferredIn {
                quantity: positive(quantity)?,
                unit_cost: cost_of(unit_cost)?,
            },
            Command::SetReorderPoint { reorder_point } => {
                return Ok(vec![Event::ReorderPointChanged { reorder_point }]);
            }
            Command::FitToRepair { quantity, repair } => Event::StockFittedToRepair {
                quantity: positive(quantity)?,
                unit_cost: cost,
                repair,
            },
            Command::ReturnFromRepair {
                quantity,
                unit_cost,
                repair,
            } => Event::StockReturnedFromRepair {
                quantity: positive(quantity)?,
                unit_cost: cost_of(unit_cost)?,
                repair,
            },
        };
        let before = state.on_hand;
        let after = before
            .checked_add(StockItem::delta_of(&movement))
            .filter(|after| after.abs() <= MAX_ON_HAND)
            .ok_or(StockError::LevelOutOfRange)?;
        let mut events = vec![movement];
        if after < Decimal::ZERO && before >= Decimal::ZERO {
            events.push(Event::StockWentNegative { on_hand: after });
        }
        if let Some(reorder_point) = state.reorder_point
            && after <= reorder_point
            && before > reorder_point
        {
            events.push(Event::LowStock {
                on_hand: after,
                reorder_point,
            });
        }
        Ok(events)
    }

    /// Checked throughout: an event whose numbers overflow marks the item out of range
    /// (and leaves its figures as they were) instead of panicking.
    fn evolve(mut state: StockItem, event: &Event) -> StockItem {
        if state.out_of_range {
            return state;
        }
        let average_cost = match event {
            Event::StockReceived {
                quantity,
                unit_cost,
                ..
            }
            | Event::StockTransferredIn {
                quantity,
                unit_cost,
            } => average(state.on_hand, state.avg_cost, *quantity, *unit_cost),
            Event::ReorderPointChanged { reorder_point } => {
                state.reorder_point = *reorder_point;
                Some(state.avg_cost)
            }
            _ => Some(state.avg_cost),
        };
        match (
            average_cost,
            state.on_hand.checked_add(StockItem::delta_of(event)),
        ) {
            (Some(avg_cost), Some(on_hand)) => {
                state.avg_cost = avg_cost;
                state.on_hand = on_hand;
            }
            _ => state.out_of_range = true,
        }
        state
    }
}

/// Weighted average of what is on hand and what arrives. Stock at or below zero has no
/// value to average with: the new cost is the arriving cost. `None` when the figures
/// overflow (only a movement that bypassed `decide` can make them).
fn average(
    on_hand: Decimal,
    avg_cost: Decimal,
    quantity: Decimal,
    unit_cost: Decimal,
) -> Option<Decimal> {
    if on_hand <= Decimal::ZERO {
        return Some(round_cost(unit_cost));
    }
    let value = on_hand
        .checked_mul(avg_cost)?
        .checked_add(quantity.checked_mul(unit_cost)?)?;
    Some(round_cost(
        value.checked_div(on_hand.checked_add(quantity)?)?,
    ))
}

fn positive(quantity: Quantity) -> Result<Decimal, StockError> {
    if quantity.is_positive() {
        Ok(quantity.value())
    } else {
        Err(StockError::QuantityNotPositive)
    }
}

fn cost_of(unit_cost: Decimal) -> Result<Decimal, StockError> {
    if unit_cost < Decimal::ZERO {
        Err(StockError::NegativeCost)
    } else {
        Ok(round_cost(unit_cost))
    }
}

impl tillstream_kernel::DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        match self {
            Event::StockReceived { .. } => "StockReceived",
            Event::StockSold { .. } => "StockSold",
            Event::StockReturned { .. } => "StockReturned",
            Event::StockVoidReversed { .. } => "StockVoidReversed",
            Event::StockAdjusted { .. } => "StockAdjusted",
            Event::StockCounted { .. } => "StockCounted",
            Event::StockTransferredOut { .. } => "StockTransferredOut",
            Event::StockTransferredIn { .. } => "StockTransferredIn",
            Event::ReorderPointChanged { .. } => "ReorderPointChanged",
            Event::StockFittedToRepair { .. } => "StockFittedToRepair",
            Event::StockReturnedFromRepair { .. } => "StockReturnedFromRepair",
            Event::StockWentNegative { .. } => "StockWentNegative",
            Event::LowStock { .. } => "LowStock",
        }
    }

    /// `StockSold` 2: its cost is booked with the sale's `SaleCosted`, appended beside it
    /// (version 1 was booked movement by movement). The shape is the same.
    fn schema_version(&self) -> i32 {
        match self {
            Event::StockSold { .. } => 2,
            _ => 1,
        }
    }
}

/// A stock item's stream: one per (product, location).
pub fn stream_id(product_id: &str, location_id: &str) -> String {
    format!("stock-{product_id}:{location_id}")
}

/// The (product, location) of a stock item's stream id.
pub fn parse_stream_id(stream_id: &str) -> Option<(&str, &str)> {
    stream_id.strip_prefix("stock-")?.split_once(':')
}
