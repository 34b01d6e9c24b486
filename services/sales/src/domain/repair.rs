//! A repair order: a customer's device taken in at a location, moved through the workshop's
//! states, with parts fitted (inventory takes them from stock as soon as the event reaches
//! it) and labor logged, and collected by one sale of both. The state machine lives here:
//! `received → diagnosed → awaiting_parts ⇄ in_repair → ready → collected`, `in_repair` may
//! also follow `diagnosed`, and anything open may be cancelled.

use serde::{Deserialize, Serialize};
use tillstream_kernel::time::{DateTime, Utc};
use tillstream_kernel::{Decider, DomainEvent, Money, Quantity};

tillstream_kernel::typed_id!(
    /// A repair's id.
    RepairId,
    stream = "repair"
);

/// Bounds on a repair's texts, in characters.
pub const DEVICE_MAX: usize = 200;
pub const SERIAL_MAX: usize = 100;
pub const PROBLEM_MAX: usize = 2000;
pub const NOTE_MAX: usize = 2000;
pub const DESCRIPTION_MAX: usize = 200;
/// The most parts or labor lines one repair holds (a sale's lines stay within bounds).
pub const LINES_MAX: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Received,
    Diagnosed,
    AwaitingParts,
    InRepair,
    Ready,
    Collected,
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Received,
        Status::Diagnosed,
        Status::AwaitingParts,
        Status::InRepair,
        Status::Ready,
        Status::Collected,
        Status::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::Diagnosed => "diagnosed",
            Status::AwaitingParts => "awaiting_parts",
            Status::InRepair => "in_repair",
            Status::Ready => "ready",
            Status::Collected => "collected",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text.trim())
    }

    /// Still in the workshop: parts and labor may be added, it may be cancelled.
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Collected | Status::Cancelled)
    }

    /// The contract's moves; collection is `Collect`'s (it is paid), cancellation any open
    /// state's.
    pub fn may_move_to(self, to: Status) -> bool {
        use Status::*;
        match (self, to) {
            (from, Cancelled) => from.is_open(),
            (Received, Diagnosed)
            | (Diagnosed, AwaitingParts | InRepair)
            | (AwaitingParts, InRepair)
            | (InRepair, AwaitingParts | Ready)
            | (Ready, Collected) => true,
            _ => false,
        }
    }
}

/// A device taken in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intake {
    pub id: RepairId,
    pub number: String,
    pub customer_id: String,
    pub location_id: String,
    pub device: String,
    pub serial: Option<String>,
    pub problem: String,
    pub estimate: Option<Money>,
    #[serde(with = "tillstream_kernel::time::rfc3339_micros")]
    pub at: DateTime<Utc>,
    pub by: String,
}

/// A part fitted: what it is, as the catalog named it then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    pub part_no: u32,
    pub product_id: String,
    pub sku: String,
    pub name: String,
    pub quantity: Quantity,
    #[serde(with = "tillstream_kernel::time::rfc3339_micros")]
    pub fitted_at: DateTime<Utc>,
    pub fitted_by: String,
}

/// Work logged, at its price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Labor {
    pub labor_no: u32,
    pub description: String,
    pub amount: Money,
    #[serde(with = "tillstream_kernel::time::rfc3339_micros")]
    pub added_at: DateTime<Utc>,
    pub added_by: String,
}

/// One move of the repair: who made it, when, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub status: Status,
    #[serde(with = "tillstream_kernel::time::rfc3339_micros")]
    pub at: DateTime<Utc>,
    pub by: String,
    pub note: Option<String>,
}

/// A repair as clients read it (and as the read model keeps it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairRecord {
    pub id: RepairId,
    pub number: String,
    pub status: Status,
    pub customer_id: String,
    pub location_id: String,
    pub device: String,
    pub serial: Option<String>,
    pub problem: String,
    pub estimate: Option<Money>,
    pub parts: Vec<Part>,
    pub labor: Vec<Labor>,
    pub history: Vec<Step>,
    #[serde(with = "tillstream_kernel::time::rfc3339_micros")]
    pub created_at: DateTime<Utc>,
    pub sale_id: Option<String>,
    pub sale_number: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    RepairReceived {
        repair: Box<Intake>,
    },
    RepairStatusChanged {
        location_id: String,
        number: String,
        from: Status,
        to: Status,
        note: Option<String>,
        #[serde(with = "tillstream_kernel::time::rfc3339_micros")]
        at: DateTime<Utc>,
        by: String,
    },
    RepairPartFitted {
        location_id: String,
        number: String,
        part: Part,
    },
    RepairLaborAdded {
        location_id: String,
        number: String,
        labor: Labor,
    },
    /// Collected by the sale of its parts and labor; without one when there was nothing to
    /// charge (no parts, no labor with a price).
    RepairCollected {
        location_id: String,
        number: String,
        customer_id: String,
        sale_id: Option<String>,
        sale_number: Option<String>,
        #[serde(with = "tillstream_kernel::time::rfc3339_micros")]
        at: DateTime<Utc>,
        by: String,
    },
    RepairCancelled {
        location_id: String,
        number: String,
        note: Option<String>,
        #[serde(with = "tillstream_kernel::time::rfc3339_micros")]
        at: DateTime<Utc>,
        by: String,
        /// Every part the repair took: inventory puts them back.
        parts: Vec<Part>,
    },
}

impl DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        match self {
            Event::RepairReceived { .. } => "RepairReceived",
            Event::RepairStatusChanged { .. } => "RepairStatusChanged",
            Event::RepairPartFitted { .. } => "RepairPartFitted",
            Event::RepairLaborAdded { .. } => "RepairLaborAdded",
            Event::RepairCollected { .. } => "RepairCollected",
            Event::RepairCancelled { .. } => "RepairCancelled",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Receive(Box<Intake>),
    /// Any move but collection.
    Move {
        to: Status,
        note: Option<String>,
        at: DateTime<Utc>,
        by: String,
    },
    FitPart {
        product_id: String,
        sku: String,
        name: String,
        quantity: Quantity,
        at: DateTime<Utc>,
        by: String,
    },
    AddLabor {
        description: String,
        amount: Money,
        at: DateTime<Utc>,
        by: String,
    },
    Collect {
        sale_id: Option<String>,
        sale_number: Option<String>,
        at: DateTime<Utc>,
        by: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepairError {
    #[error("no such repair")]
    NotFound,
    #[error("the repair already exists")]
    Exists,
    #[error("a repair cannot move from {from} to {to}", from = .from.as_str(), to = .to.as_str())]
    InvalidTransition { from: Status, to: Status },
    #[error("the repair is {}; it takes no more parts or labor", .0.as_str())]
    Closed(Status),
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

fn invalid(field: &'static str, message: impl Into<String>) -> RepairError {
    RepairError::Invalid {
        field,
        message: message.into(),
    }
}

/// Trimmed text of 1 to `max` characters.
pub fn required_text(field: &'static str, text: &str, max: usize) -> Result<String, RepairError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(invalid(field, "cannot be empty"));
    }
    if text.chars().count() > max {
        return Err(invalid(field, format!("at most {max} characters")));
    }
    Ok(text.to_owned())
}

/// Trimmed text of at most `max` characters; empty is absent.
pub fn optional_text(
    field: &'static str,
    text: Option<&str>,
    max: usize,
) -> Result<Option<String>, RepairError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) if t.chars().count() > max => {
            Err(invalid(field, format!("at most {max} characters")))
        }
        Some(t) => Ok(Some(t.to_owned())),
    }
}

/// A price a till may charge for a repair's estimate or labor: zero or more, and no more
/// than a sale may hold.
pub fn charge(field: &'static str, amount: Money) -> Result<Money, RepairError> {
    if amount.is_negative() {
        return Err(invalid(field, "cannot be negative"));
    }
    amount
        .within_range()
        .map_err(|e| invalid(field, e.to_string()))
}

/// A repair's state: its record once received.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repair {
    pub record: Option<Box<RepairRecord>>,
}

impl Decider for Repair {
    type State = Repair;
    type Command = Command;
    type Event = Event;
    type Error = RepairError;

    fn decide(state: &Repair, command: &Command) -> Result<Vec<Event>, RepairError> {
        let record = match (&state.record, command) {
            (None, Command::Receive(intake)) => return receive(intake),
            (Some(_), Command::Receive(_)) => return Err(RepairError::Exists),
            (None, _) => return Err(RepairError::NotFound),
            (Some(record), _) => record,
        };
        let location_id = record.location_id.clone();
        let number = record.number.clone();
        let open = || {
            if record.status.is_open() {
                Ok(())
            } else {
                Err(RepairError::Closed(record.status))
            }
        };
        let event = match command.clone() {
            Command::Receive(_) => return Err(RepairError::Exists),
            Command::Move { to, note, at, by } => {
                // Collection is a sale: it goes through `Collect`.
                if to == Status::Collected || !record.status.may_move_to(to) {
                    return Err(RepairError::InvalidTransition {
                        from: record.status,
                        to,
                    });
                }
                let note = optional_text("note", note.as_deref(), NOTE_MAX)?;
                if to == Status::Cancelled {
                    Event::RepairCancelled {
                        location_id,
                        number,
                        note,
                        at,
                        by,
                        parts: record.parts.clone(),
                    }
                } else {
                    Event::RepairStatusChanged {
                        location_id,
                        number,
                        from: record.status,
                        to,
                        note,
                        at,
                        by,
                    }
                }
            }
            Command::FitPart {
                product_id,
                sku,
                name,
                quantity,
                at,
                by,
            } => {
                open()?;
                if !quantity.is_positive() {
                    return Err(invalid("quantity", "must be greater than zero"));
                }
                if record.parts.len() >= LINES_MAX {
                    return Err(invalid("product_id", format!("at most {LINES_MAX} parts")));
                }
                Event::RepairPartFitted {
                    location_id,
                    number,
                    part: Part {
                        part_no: line_no(record.parts.len()),
                        product_id,
                        sku,
                        name,
                        quantity,
                        fitted_at: at,
                        fitted_by: by,
                    },
                }
            }
            Command::AddLabor {
                description,
                amount,
                at,
                by,
            } => {
                open()?;
                if record.labor.len() >= LINES_MAX {
                    return Err(invalid(
                        "description",
                        format!("at most {LINES_MAX} labor lines"),
                    ));
                }
                Event::RepairLaborAdded {
                    location_id,
                    number,
                    labor: Labor {
                        labor_no: line_no(record.labor.len()),
                        description: required_text("description", &description, DESCRIPTION_MAX)?,
                        amount: charge("amount", amount)?,
                        added_at: at,
                        added_by: by,
                    },
                }
            }
            Command::Collect {
                sale_id,
                sale_number,
                at,
                by,
            } => {
                if record.status != Status::Ready {
                    return Err(RepairError::InvalidTransition {
                        from: record.status,
                        to: Status::Collected,
                    });
                }
                Event::RepairCollected {
                    location_id,
                    number,
                    customer_id: record.customer_id.clone(),
                    sale_id,
                    sale_number,
                    at,
                    by,
                }
            }
        };
        Ok(vec![event])
    }

    fn evolve(mut state: Repair, event: &Event) -> Repair {
        if let Event::RepairReceived { repair } = event {
            state.record = Some(Box::new(RepairRecord {
                id: repair.id,
                number: repair.number.clone(),
                status: Status::Received,
                customer_id: repair.customer_id.clone(),
                location_id: repair.location_id.clone(),
                device: repair.device.clone(),
                serial: repair.serial.clone(),
                problem: repair.problem.clone(),
                estimate: repair.estimate,
                parts: Vec::new(),
                labor: Vec::new(),
                history: vec![Step {
                    status: Status::Received,
                    at: repair.at,
                    by: repair.by.clone(),
                    note: None,
                }],
                created_at: repair.at,
                sale_id: None,
                sale_number: None,
            }));
            return state;
        }
        let Some(record) = state.record.as_mut() else {
            return state;
        };
        match event {
            Event::RepairReceived { .. } => {}
            Event::RepairStatusChanged {
                to, note, at, by, ..
            } => record.moved(*to, *at, by, note.clone()),
            Event::RepairCancelled { note, at, by, .. } => {
                record.moved(Status::Cancelled, *at, by, note.clone());
            }
            Event::RepairPartFitted { part, .. } => record.parts.push(part.clone()),
            Event::RepairLaborAdded { labor, .. } => record.labor.push(labor.clone()),
            Event::RepairCollected {
                sale_id,
                sale_number,
                at,
                by,
                ..
            } => {
                record.moved(Status::Collected, *at, by, None);
                record.sale_id.clone_from(sale_id);
                record.sale_number.clone_from(sale_number);
            }
        }
        state
    }
}

impl RepairRecord {
    /// Whether collecting it is a sale: it has parts, or labor with a price.
    pub fn has_charges(&self) -> bool {
        !self.parts.is_empty() || self.labor.iter().any(|l| !l.amount.is_zero())
    }

    fn moved(&mut self, to: Status, at: DateTime<Utc>, by: &str, note: Option<String>) {
        self.status = to;
        self.history.push(Step {
            status: to,
            at,
            by: by.to_owned(),
            note,
        });
    }
}

fn receive(intake: &Intake) -> Result<Vec<Event>, RepairError> {
    let mut intake = intake.clone();
    intake.device = required_text("device", &intake.device, DEVICE_MAX)?;
    intake.serial = optional_text("serial", intake.serial.as_deref(), SERIAL_MAX)?;
    intake.problem = required_text("problem", &intake.problem, PROBLEM_MAX)?;
    intake.estimate = intake
        .estimate
        .map(|estimate| charge("estimate", estimate))
        .transpose()?;
    Ok(vec![Event::RepairReceived {
        repair: Box::new(intake),
    }])
}

/// The 1-based number of the next line after `count`.
fn line_no(count: usize) -> u32 {
    u32::try_from(count).map_or(u32::MAX, |n| n.saturating_add(1))
}

#[cfg(test)]
#[path = "repair_tests.rs"]
mod tests;
