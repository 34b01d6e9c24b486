//! A purchase order: drafted, submitted to the supplier, received in one or more
//! deliveries, invoiced, and closed or cancelled. Each line keeps what was ordered,
//! received and invoiced, which is all the three-way match needs.
//!
//! ```text
//! draft ──submit──▶ ordered ──receive──▶ partially_received ──receive──▶ received
//!   │                 │                        │                           │
//!   └──cancel──┐      ├──cancel (nothing in)   └─────────close─────────────┤
//!              ▼      ▼                                                    ▼
//!           cancelled                                                   closed
//! ```

use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use tillstream_kernel::{Decider, DomainEvent, MAX_AMOUNT, Quantity};

use super::stock_item::round_cost;

tillstream_kernel::typed_id!(
    /// A purchase order's id.
    PurchaseOrderId,
    stream = "purchase_order"
);

/// The most lines an order may have: a large delivery, far below what a request may carry.
pub const MAX_LINES: usize = 1000;
/// Free text (a delivery note, a reason, an invoice number) is at most this many characters.
pub const MAX_TEXT: usize = 200;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Draft,
    Ordered,
    PartiallyReceived,
    Received,
    Closed,
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Ordered => "ordered",
            Status::PartiallyReceived => "partially_received",
            Status::Received => "received",
            Status::Closed => "closed",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        [
            Status::Draft,
            Status::Ordered,
            Status::PartiallyReceived,
            Status::Received,
            Status::Closed,
            Status::Cancelled,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// A line as ordered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewLine {
    pub product_id: String,
    pub quantity: Decimal,
    pub unit_cost: Decimal,
}

/// A line of the order as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub line_no: u32,
    pub product_id: String,
    pub quantity: Decimal,
    pub unit_cost: Decimal,
    pub received: Decimal,
    pub invoiced: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedLine {
    pub line_no: u32,
    pub product_id: String,
    pub quantity: Decimal,
    pub unit_cost: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoicedLine {
    pub line_no: u32,
    pub quantity: Decimal,
    pub unit_cost: Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchStatus {
    Matched,
    PriceVariance,
    QuantityVariance,
}

impl MatchStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchStatus::Matched => "matched",
            MatchStatus::PriceVariance => "price_variance",
            MatchStatus::QuantityVariance => "quantity_variance",
        }
    }
}

/// One invoiced line against the order: ordered, received and invoiced (so far, this
/// invoice included), at the order's and the invoice's unit cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchLine {
    pub line_no: u32,
    pub ordered: Decimal,
    pub received: Decimal,
    pub invoiced: Decimal,
    pub po_unit_cost: Decimal,
    pub invoice_unit_cost: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub id: String,
    pub reference: Option<String>,
    pub lines: Vec<ReceivedLine>,
    pub received_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    pub id: String,
    pub number: String,
    pub total: Decimal,
    pub received_value: Decimal,
    pub status: MatchStatus,
    pub lines: Vec<MatchLine>,
    pub invoiced_at: DateTime<Utc>,
}

/// The folded order; `number` is empty until it is drafted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseOrder {
    pub id: Option<PurchaseOrderId>,
    pub number: String,
    pub status: Status,
    pub supplier_id: String,
    pub location_id: String,
    pub expected_at: Option<DateTime<Utc>>,
    pub lines: Vec<Line>,
    pub receipts: Vec<Receipt>,
    pub invoices: Vec<Invoice>,
    pub close_reason: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Draft {
        id: PurchaseOrderId,
        number: String,
        supplier_id: String,
        location_id: String,
        expected_at: Option<DateTime<Utc>>,
        lines: Vec<(String, Quantity, Decimal)>,
        at: DateTime<Utc>,
    },
    /// `None` leaves a field as it is.
    Revise {
        expected_at: Option<DateTime<Utc>>,
        lines: Option<Vec<(String, Quantity, Decimal)>>,
    },
    Submit,
    Receive {
        receipt_id: String,
        reference: Option<String>,
        /// (line number, quantity).
        lines: Vec<(u32, Quantity)>,
        at: DateTime<Utc>,
    },
    Invoice {
        invoice_id: String,
        number: String,
        /// (line number, quantity, unit cost).
        lines: Vec<(u32, Quantity, Decimal)>,
        /// The currency's minor units, to which totals are rounded.
        minor_units: u32,
        at: DateTime<Utc>,
    },
    Close {
        reason: String,
    },
    Cancel,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    PurchaseOrderDrafted {
        id: PurchaseOrderId,
        number: String,
        supplier_id: String,
        location_id: String,
        expected_at: Option<DateTime<Utc>>,
        lines: Vec<NewLine>,
        at: DateTime<Utc>,
    },
    PurchaseOrderRevised {
        expected_at: Option<DateTime<Utc>>,
        lines: Vec<NewLine>,
    },
    PurchaseOrderSubmitted,
    PurchaseOrderReceived {
        receipt_id: String,
        reference: Option<String>,
        lines: Vec<ReceivedLine>,
        status: Status,
        at: DateTime<Utc>,
    },
    PurchaseInvoiceRecorded {
        invoice_id: String,
        number: String,
        supplier_id: String,
        lines: Vec<MatchLine>,
        total: Decimal,
        received_value: Decimal,
        status: MatchStatus,
        at: DateTime<Utc>,
    },
    PurchaseOrderClosed {
        reason: String,
    },
    PurchaseOrderCancelled,
}

impl DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        match self {
            Event::PurchaseOrderDrafted { .. } => "PurchaseOrderDrafted",
            Event::PurchaseOrderRevised { .. } => "PurchaseOrderRevised",
            Event::PurchaseOrderSubmitted => "PurchaseOrderSubmitted",
            Event::PurchaseOrderReceived { .. } => "PurchaseOrderReceived",
            Event::PurchaseInvoiceRecorded { .. } => "PurchaseInvoiceRecorded",
            Event::PurchaseOrderClosed { .. } => "PurchaseOrderClosed",
            Event::PurchaseOrderCancelled => "PurchaseOrderCancelled",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PurchaseError {
    #[error("no such purchase order")]
    NotFound,
    #[error("the purchase order already exists")]
    AlreadyExists,
    /// A 409: the order's status does not allow it.
    #[error("a {} order cannot be {action}", .status.as_str())]
    WrongStatus {
        status: Status,
        action: &'static str,
    },
    /// A 422 naming the field.
    #[error("{message}")]
    Invalid { field: String, message: String },
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> PurchaseError {
    PurchaseError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

impl Decider for PurchaseOrder {
    type State = PurchaseOrder;
    type Command = Command;
    type Event = Event;
    type Error = PurchaseError;

    fn decide(state: &PurchaseOrder, command: &Command) -> Result<Vec<Event>, PurchaseError> {
        if state.id.is_none() && !matches!(command, Command::Draft { .. }) {
            return Err(PurchaseError::NotFound);
        }
        let must_be = |allowed: &[Status], action: &'static str| {
            if allowed.contains(&state.status) {
                Ok(())
            } else {
                Err(PurchaseError::WrongStatus {
                    status: state.status,
                    action,
                })
            }
        };
        let event = match command {
            Command::Draft {
                id,
                number,
                supplier_id,
                location_id,
                expected_at,
                lines,
                at,
            } => {
                if state.id.is_some() {
                    return Err(PurchaseError::AlreadyExists);
                }
                Event::PurchaseOrderDrafted {
                    id: *id,
                    number: number.clone(),
                    supplier_id: supplier_id.clone(),
                    location_id: location_id.clone(),
                    expected_at: *expected_at,
                    lines: order_lines(lines)?,
                    at: *at,
                }
            }
            Command::Revise { expected_at, lines } => {
                must_be(&[Status::Draft], "changed")?;
                let lines = match lines {
                    Some(lines) => order_lines(lines)?,
                    None => state
                        .lines
                        .iter()
                        .map(|l| NewLine {
                            product_id: l.product_id.clone(),
                            quantity: l.quantity,
                            unit_cost: l.unit_cost,
                        })
                        .collect(),
                };
                Event::PurchaseOrderRevised {
                    expected_at: expected_at.or(state.expected_at),
                    lines,
                }
            }
            Command::Submit => {
                must_be(&[Status::Draft], "submitted")?;
                Event::PurchaseOrderSubmitted
            }
            Command::Receive {
                receipt_id,
                reference,
                lines,
                at,
            } => {
                must_be(
                    &[Status::Ordered, Status::PartiallyReceived],
                    "received against",
                )?;
                receive(state, receipt_id, reference, lines, *at)?
            }
            Command::Invoice {
                invoice_id,
                number,
                lines,
                minor_units,
                at,
            } => {
                must_be(
                    &[Status::PartiallyReceived, Status::Received, Status::Closed],
                    "invoiced",
                )?;
                invoice(state, invoice_id, number, lines, *minor_units, *at)?
            }
            Command::Close { reason } => {
                must_be(
                    &[Status::Ordered, Status::PartiallyReceived, Status::Received],
                    "closed",
                )?;
                let reason = text("reason", reason, 1)?;
                Event::PurchaseOrderClosed { reason }
            }
            Command::Cancel => {
                must_be(&[Status::Draft, Status::Ordered], "cancelled")?;
                Event::PurchaseOrderCancelled
            }
        };
        Ok(vec![event])
    }

    fn evolve(mut state: PurchaseOrder, event: &Event) -> PurchaseOrder {
        match event {
            Event::PurchaseOrderDrafted {
                id,
                number,
                supplier_id,
                location_id,
                expected_at,
                lines,
                at,
            } => {
                state.id = Some(*id);
                state.number.clone_from(number);
                state.supplier_id.clone_from(supplier_id);
                state.location_id.clone_from(location_id);
                state.expected_at = *expected_at;
                state.lines = numbered(lines);
                state.created_at = Some(*at);
            }
            Event::PurchaseOrderRevised { expected_at, lines } => {
                state.expected_at = *expected_at;
                state.lines = numbered(lines);
            }
            Event::PurchaseOrderSubmitted => state.status = Status::Ordered,
            Event::PurchaseOrderReceived {
                receipt_id,
                reference,
                lines,
                status,
                at,
            } => {
                for received in lines {
                    if let Some(line) = state.line_mut(received.line_no) {
                        line.received = line.received.saturating_add(received.quantity);
                    }
                }
                state.status = *status;
                state.receipts.push(Receipt {
                    id: receipt_id.clone(),
                    reference: reference.clone(),
                    lines: lines.clone(),
                    received_at: *at,
                });
            }
            Event::PurchaseInvoiceRecorded {
                invoice_id,
                number,
                lines,
                supplier_id: _,
                total,
                received_value,
                status,
                at,
            } => {
                for matched in lines {
                    if let Some(line) = state.line_mut(matched.line_no) {
                        line.invoiced = matched.invoiced;
                    }
                }
                state.invoices.push(Invoice {
                    id: invoice_id.clone(),
                    number: number.clone(),
                    total: *total,
                    received_value: *received_value,
                    status: *status,
                    lines: lines.clone(),
                    invoiced_at: *at,
                });
            }
            Event::PurchaseOrderClosed { reason } => {
                state.status = Status::Closed;
                state.close_reason = Some(reason.clone());
            }
            Event::PurchaseOrderCancelled => state.status = Status::Cancelled,
        }
        state
    }
}

impl PurchaseOrder {
    fn line(&self, line_no: u32) -> Option<&Line> {
        self.lines.iter().find(|l| l.line_no == line_no)
    }

    fn line_mut(&mut self, line_no: u32) -> Option<&mut Line> {
        self.lines.iter_mut().find(|l| l.line_no == line_no)
    }

    /// Σ quantity × unit cost, unrounded (four decimal places of cost, three of quantity).
    pub fn total(&self) -> Option<Decimal> {
        self.lines.iter().try_fold(Decimal::ZERO, |sum, line| {
            sum.checked_add(line.quantity.checked_mul(line.unit_cost)?)
        })
    }

    /// What is still expected of each line (ordered less received, never below zero).
    pub fn open(&self, line: &Line) -> Decimal {
        (line.quantity - line.received).max(Decimal::ZERO)
    }
}

/// Lines numbered from 1 in the order given.
fn numbered(lines: &[NewLine]) -> Vec<Line> {
    (1..)
        .zip(lines)
        .map(|(line_no, line)| Line {
            line_no,
            product_id: line.product_id.clone(),
            quantity: line.quantity,
            unit_cost: line.unit_cost,
            received: Decimal::ZERO,
            invoiced: Decimal::ZERO,
        })
        .collect()
}

/// An order's lines, checked: 1 to `MAX_LINES`, each product once, quantities positive,
/// costs not negative, and a total within the money range.
fn order_lines(lines: &[(String, Quantity, Decimal)]) -> Result<Vec<NewLine>, PurchaseError> {
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
        if !quantity.is_positive() {
            return Err(invalid(
                format!("lines[{index}].quantity"),
                "quantity must be greater than zero",
            ));
        }
        if unit_cost.is_sign_negative() && !unit_cost.is_zero() {
            return Err(invalid(
                format!("lines[{index}].unit_cost"),
                "unit cost cannot be negative",
            ));
        }
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

/// Trimmed free text of at least `min` and at most `MAX_TEXT` characters.
fn text(field: &str, value: &str, min: usize) -> Result<String, PurchaseError> {
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
fn receive(
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
        let line = state.line(*line_no).ok_or_else(|| {
            invalid(
                format!("lines[{index}].line_no"),
                format!("the order has no line {line_no}"),
            )
        })?;
        if lines[..index].iter().any(|(n, _)| n == line_no) {
            return Err(invalid(
                format!("lines[{index}].line_no"),
                "the line is listed twice; put its quantity on one line",
            ));
        }
        if !quantity.is_positive() {
            return Err(invalid(
                format!("lines[{index}].quantity"),
                "quantity must be greater than zero",
            ));
        }
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
fn invoice(
    state: &PurchaseOrder,
    invoice_id: &str,
    number: &str,
    lines: &[(u32, Quantity, Decimal)],
    minor_units: u32,
    at: DateTime<Utc>,
) -> Result<Event, PurchaseError> {
    let number = text("number", number, 1)?;
    if state.invoices.iter().any(|i| i.number == number) {
        return Err(invalid(
            "number",
            "this order already has an invoice with that number",
        ));
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
        let line = state.line(*line_no).ok_or_else(|| {
            invalid(
                format!("lines[{index}].line_no"),
                format!("the order has no line {line_no}"),
            )
        })?;
        if lines[..index].iter().any(|(n, ..)| n == line_no) {
            return Err(invalid(
                format!("lines[{index}].line_no"),
                "the line is listed twice; put its quantity on one line",
            ));
        }
        if !quantity.is_positive() {
            return Err(invalid(
                format!("lines[{index}].quantity"),
                "quantity must be greater than zero",
            ));
        }
        if unit_cost.is_sign_negative() && !unit_cost.is_zero() {
            return Err(invalid(
                format!("lines[{index}].unit_cost"),
                "unit cost cannot be negative",
            ));
        }
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
        received_value = quantity
            .value()
            .checked_mul(line.unit_cost)
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
