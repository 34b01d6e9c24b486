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
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tillstream_kernel::{Decider, DomainEvent, Quantity};

mod requests;

use requests::{invoice, order_lines, receive, text};

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
    /// A 409: the supplier's invoice number is already booked on this order.
    #[error("this order already has an invoice with that number")]
    DuplicateInvoice,
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
                // A received order has nothing open: its lines answer 422 below, naming the
                // quantity, as the contract has it.
                must_be(
                    &[Status::Ordered, Status::PartiallyReceived, Status::Received],
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
                // Any status: what was received bounds what is invoiced (a 422 naming the
                // quantity when nothing was).
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
