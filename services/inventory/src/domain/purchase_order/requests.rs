//! What a purchase order's requests must be to be decided: lines within bounds, deliveries
//! and invoices within what is open on each line. Each refusal names its request field.

use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use tillstream_kernel::{MAX_AMOUNT, Quantity};

use super::{
    Event, Line, MAX_LINES, MAX_TEXT, MatchLine, MatchStatus, NewLine, PurchaseError,
    PurchaseOrder, ReceivedLine, Status, invalid,
};
use crate::domain::stock_item::round_cost;

/// An order's lines, checked: 1 to `MAX_LINES`, each product once, quantities positive,
/// costs not negative, and a total within the money range.
pub(super) fn order_lines(
    lines: &[(String, Quantity, Decimal)],
) -> Result<Vec<NewLine>, PurchaseError> {
    if lines.is_empty() || lines.len() > MAX_LINES {
        return Err(invalid(
            "lines",
            format!("an order has 1 to {MAX_LINES} lines"),
        ));
    }
    let mut total = Decimal::ZERO;
    let mut checked = Vec::with_capacity(lines.len());
    for (index, (product_id, quantity, unit_cost)) in lines.iter().enumerate() {
        if lines[..index].iter().any(|(p, ..)| p == product_id) {
            return Err(invalid(
                format!("lines[{index}].product_id"),
                "the product is listed twice; put its quantity on one line",
            ));
        }
        require_positive(index, quantity)?;
        require_cost(index, unit_cost)?;
        total = quantity
            .value()
            .checked_mul(*unit_cost)
            .and_then(|value| total.checked_add(value))
            .filter(|total| *total <= MAX_AMOUNT)
            .ok_or_else(|| {
                invalid(
                    format!("lines[{index}].quantity"),
                    format!("the order's total would pass {MAX_AMOUNT}"),
                )
            })?;
        checked.push(NewLine {
            product_id: product_id.clone(),
            quantity: quantity.value(),
            unit_cost: round_cost(*unit_cost),
        });
    }
    Ok(checked)
}

/// Line `index`'s quantity is more than nothing.
fn require_positive(index: usize, quantity: &Quantity) -> Result<(), PurchaseError> {
    if quantity.is_positive() {
        Ok(())
    } else {
        Err(invalid(
            format!("lines[{index}].quantity"),
            "quantity must be greater than zero",
        ))
    }
}

/// Line `index`'s unit cost is not below zero.
fn require_cost(index: usize, unit_cost: &Decimal) -> Result<(), PurchaseError> {
    if unit_cost.is_sign_negative() && !unit_cost.is_zero() {
        Err(invalid(
            format!("lines[{index}].unit_cost"),
            "unit cost cannot be negative",
        ))
    } else {
        Ok(())
    }
}

/// The order's line `line_no`, which request line `index` names, not named by an earlier
/// request line (`earlier`).
fn order_line(
    state: &PurchaseOrder,
    index: usize,
    line_no: u32,
    mut earlier: impl Iterator<Item = u32>,
) -> Result<&Line, PurchaseError> {
    let line = state.line(line_no).ok_or_else(|| {
        invalid(
            format!("lines[{index}].line_no"),
            format!("the order has no line {line_no}"),
        )
    })?;
    if earlier.any(|n| n == line_no) {
        return Err(invalid(
            format!("lines[{index}].line_no"),
            "the line is listed twice; put its quantity on one line",
        ));
    }
    Ok(line)
}

/// Trimmed free text of at least `min` and at most `MAX_TEXT` characters.
pub(super) fn text(field: &str, value: &str, min: usize) -> Result<String, PurchaseError> {
    let value = value.trim();
    let length = value.chars().count();
    if length < min || length > MAX_TEXT {
        return Err(invalid(
            field,
            format!("{field} has {min} to {MAX_TEXT} characters"),
        ));
    }
    Ok(value.to_owned())
}

/// A delivery: each line once, more than nothing, no more than is still open.
pub(super) fn receive(
    state: &PurchaseOrder,
    receipt_id: &str,
    reference: &Option<String>,
    lines: &[(u32, Quantity)],
    at: DateTime<Utc>,
) -> Result<Event, PurchaseError> {
    if lines.is_empty() || lines.len() > MAX_LINES {
        return Err(invalid(
            "lines",
            format!("a delivery has 1 to {MAX_LINES} lines"),
        ));
    }
    let reference = match reference {
        Some(reference) => Some(text("reference", reference, 1)?),
        None => None,
    };
    let mut received = Vec::with_capacity(lines.len());
    for (index, (line_no, quantity)) in lines.iter().enumerate() {
        let line = order_line(state, index, *line_no, lines[..index].iter().map(|l| l.0))?;
        require_positive(index, quantity)?;
        let open = state.open(line);
        if quantity.value() > open {
            return Err(invalid(
                format!("lines[{index}].quantity"),
                format!(
                    "only {} of line {line_no} is still expected",
                    open.normalize()
                ),
            ));
        }
        received.push(ReceivedLine {
            line_no: *line_no,
            product_id: line.product_id.clone(),
            quantity: quantity.value(),
            unit_cost: line.unit_cost,
        });
    }
    let complete = state.lines.iter().all(|line| {
        let now = received
            .iter()
            .filter(|r| r.line_no == line.line_no)
            .map(|r| r.quantity)
            .sum::<Decimal>();
        line.received + now >= line.quantity
    });
    Ok(Event::PurchaseOrderReceived {
        receipt_id: receipt_id.to_owned(),
        reference,
        lines: received,
        status: if complete {
            Status::Received
        } else {
            Status::PartiallyReceived
        },
        at,
    })
}

/// A supplier's invoice matched against the order: what it invoices of each line may not
/// pass what was received less what earlier invoices took.
pub(super) fn invoice(
    state: &PurchaseOrder,
    invoice_id: &str,
    number: &str,
    lines: &[(u32, Quantity, Decimal)],
    minor_units: u32,
    at: DateTime<Utc>,
) -> Result<Event, PurchaseError> {
    let number = text("number", number, 1)?;
    if state.invoices.iter().any(|i| i.number == number) {
        return Err(PurchaseError::DuplicateInvoice);
    }
    if lines.is_empty() || lines.len() > MAX_LINES {
        return Err(invalid(
            "lines",
            format!("an invoice has 1 to {MAX_LINES} lines"),
        ));
    }
    let round = |amount: Decimal| {
        amount.round_dp_with_strategy(minor_units, RoundingStrategy::MidpointAwayFromZero)
    };
    let (mut total, mut received_value) = (Decimal::ZERO, Decimal::ZERO);
    let mut matched = Vec::with_capacity(lines.len());
    for (index, (line_no, quantity, unit_cost)) in lines.iter().enumerate() {
        let line = order_line(state, index, *line_no, lines[..index].iter().map(|l| l.0))?;
        require_positive(index, quantity)?;
        require_cost(index, unit_cost)?;
        let invoiceable = (line.received - line.invoiced).max(Decimal::ZERO);
        if quantity.value() > invoiceable {
            return Err(invalid(
                format!("lines[{index}].quantity"),
                format!(
                    "only {} of line {line_no} was received and not yet invoiced",
                    invoiceable.normalize()
                ),
            ));
        }
        let out_of_range = || {
            invalid(
                format!("lines[{index}].unit_cost"),
                format!("the invoice's total would pass {MAX_AMOUNT}"),
            )
        };
        total = quantity
            .value()
            .checked_mul(*unit_cost)
            .and_then(|value| total.checked_add(value))
            .filter(|total| *total <= MAX_AMOUNT)
            .ok_or_else(out_of_range)?;
        // Each line rounded as its receipt was booked (quantity × cost, then to the minor
        // units), so a line received and invoiced whole clears exactly what it put in 2050.
        received_value = quantity
            .value()
            .checked_mul(line.unit_cost)
            .map(round)
            .and_then(|value| received_value.checked_add(value))
            .ok_or_else(out_of_range)?;
        matched.push(MatchLine {
            line_no: *line_no,
            ordered: line.quantity,
            received: line.received,
            invoiced: line.invoiced + quantity.value(),
            po_unit_cost: line.unit_cost,
            invoice_unit_cost: round_cost(*unit_cost),
        });
    }
    let status = if matched
        .iter()
        .any(|m| m.po_unit_cost != m.invoice_unit_cost)
    {
        MatchStatus::PriceVariance
    } else if matched
        .iter()
        .any(|m| m.ordered != m.received || m.received != m.invoiced)
    {
        MatchStatus::QuantityVariance
    } else {
        MatchStatus::Matched
    };
    Ok(Event::PurchaseInvoiceRecorded {
        invoice_id: invoice_id.to_owned(),
        number,
        supplier_id: state.supplier_id.clone(),
        lines: matched,
        total: round(total),
        received_value: round(received_value),
        status,
        at,
    })
}
