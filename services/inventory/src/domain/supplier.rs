//! A supplier: who a store buys from, how long it takes to deliver, and the payments made
//! to it. Its code is unique (a claim); its contact details are a business's.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tillstream_kernel::{Decider, DomainEvent, MAX_AMOUNT};

tillstream_kernel::typed_id!(
    /// A supplier's id.
    SupplierId,
    stream = "supplier"
);

/// Lead time when none is given.
pub const DEFAULT_LEAD_TIME_DAYS: u32 = 7;
/// The longest lead time a supplier may have: a year.
pub const MAX_LEAD_TIME_DAYS: u32 = 365;

/// A supplier's details as given or changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Details {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub lead_time_days: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    Bank,
    Cash,
}

impl PaymentMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::Bank => "bank",
            PaymentMethod::Cash => "cash",
        }
    }

    pub fn parse(text: &str) -> Option<PaymentMethod> {
        match text {
            "bank" => Some(PaymentMethod::Bank),
            "cash" => Some(PaymentMethod::Cash),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Register {
        id: SupplierId,
        code: String,
        details: Details,
    },
    /// `None` leaves a field as it is; `Some(None)` clears a contact field.
    Change {
        name: Option<String>,
        email: Option<Option<String>>,
        phone: Option<Option<String>>,
        lead_time_days: Option<u32>,
    },
    Pay {
        payment_id: String,
        amount: Decimal,
        method: PaymentMethod,
        reference: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    SupplierRegistered {
        id: SupplierId,
        code: String,
        #[serde(flatten)]
        details: Details,
    },
    SupplierChanged {
        #[serde(flatten)]
        details: Details,
    },
    SupplierPaid {
        payment_id: String,
        amount: Decimal,
        method: PaymentMethod,
        reference: Option<String>,
    },
}

impl DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        match self {
            Event::SupplierRegistered { .. } => "SupplierRegistered",
            Event::SupplierChanged { .. } => "SupplierChanged",
            Event::SupplierPaid { .. } => "SupplierPaid",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SupplierError {
    #[error("no such supplier")]
    NotFound,
    #[error("the supplier already exists")]
    AlreadyExists,
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

fn invalid(field: &'static str, message: impl Into<String>) -> SupplierError {
    SupplierError::Invalid {
        field,
        message: message.into(),
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supplier {
    pub id: Option<SupplierId>,
    pub code: String,
    pub details: Details,
}

impl Decider for Supplier {
    type State = Supplier;
    type Command = Command;
    type Event = Event;
    type Error = SupplierError;

    fn decide(state: &Supplier, command: &Command) -> Result<Vec<Event>, SupplierError> {
        match command {
            Command::Register { id, code, details } => {
                if state.id.is_some() {
                    return Err(SupplierError::AlreadyExists);
                }
                let code = code.trim();
                if code.is_empty() || code.len() > 32 || code.chars().any(char::is_whitespace) {
                    return Err(invalid(
                        "code",
                        "a code has 1 to 32 characters and no spaces",
                    ));
                }
                Ok(vec![Event::SupplierRegistered {
                    id: *id,
                    code: code.to_owned(),
                    details: checked(details.clone())?,
                }])
            }
            Command::Change {
                name,
                email,
                phone,
                lead_time_days,
            } => {
                if state.id.is_none() {
                    return Err(SupplierError::NotFound);
                }
                let current = &state.details;
                let details = checked(Details {
                    name: name.clone().unwrap_or_else(|| current.name.clone()),
                    email: email.clone().unwrap_or_else(|| current.email.clone()),
                    phone: phone.clone().unwrap_or_else(|| current.phone.clone()),
                    lead_time_days: lead_time_days.unwrap_or(current.lead_time_days),
                })?;
                if &details == current {
                    return Ok(Vec::new());
                }
                Ok(vec![Event::SupplierChanged { details }])
            }
            Command::Pay {
                payment_id,
                amount,
                method,
                reference,
            } => {
                if state.id.is_none() {
                    return Err(SupplierError::NotFound);
                }
                if *amount <= Decimal::ZERO || *amount > MAX_AMOUNT {
                    return Err(invalid(
                        "amount",
                        format!("a payment is more than 0 and at most {MAX_AMOUNT}"),
                    ));
                }
                let reference = reference
                    .as_deref()
                    .map(str::trim)
                    .filter(|r| !r.is_empty());
                if reference.is_some_and(|r| r.chars().count() > 200) {
                    return Err(invalid(
                        "reference",
                        "a reference has at most 200 characters",
                    ));
                }
                Ok(vec![Event::SupplierPaid {
                    payment_id: payment_id.clone(),
                    amount: *amount,
                    method: *method,
                    reference: reference.map(str::to_owned),
                }])
            }
        }
    }

    fn evolve(mut state: Supplier, event: &Event) -> Supplier {
        match event {
            Event::SupplierRegistered { id, code, details } => {
                state.id = Some(*id);
                state.code.clone_from(code);
                state.details = details.clone();
            }
            Event::SupplierChanged { details } => state.details = details.clone(),
            Event::SupplierPaid { .. } => {}
        }
        state
    }
}

/// Trimmed details within their bounds; empty contact fields are absent.
fn checked(details: Details) -> Result<Details, SupplierError> {
    let name = details.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(invalid("name", "a name has 1 to 200 characters"));
    }
    let contact = |field: &'static str, value: Option<String>| {
        let value = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        match value {
            Some(v) if v.chars().count() > 200 => Err(invalid(
                field,
                format!("{field} has at most 200 characters"),
            )),
            Some(v) if field == "email" && !v.contains('@') => {
                Err(invalid(field, "an email address has an @"))
            }
            other => Ok(other),
        }
    };
    if details.lead_time_days > MAX_LEAD_TIME_DAYS {
        return Err(invalid(
            "lead_time_days",
            format!("a lead time is 0 to {MAX_LEAD_TIME_DAYS} days"),
        ));
    }
    Ok(Details {
        name: name.to_owned(),
        email: contact("email", details.email)?,
        phone: contact("phone", details.phone)?,
        lead_time_days: details.lead_time_days,
    })
}
