//! A customer: a number the store reads out, personal fields it only ever holds sealed, a
//! credit limit, and, once the law asks for it, erasure. The domain checks the personal
//! fields in clear before the command layer seals them; events carry only the sealed form.

use serde::{Deserialize, Serialize};
use tillstream_kernel::time::{DateTime, Utc};
use tillstream_kernel::{Decider, DomainEvent, Money};

use crate::privacy::Sealed;

tillstream_kernel::typed_id!(
    /// A customer's id.
    CustomerId,
    stream = "customer"
);

/// Bounds on personal fields, in characters.
pub const NAME_MAX: usize = 200;
pub const EMAIL_MAX: usize = 254;
pub const PHONE_MAX: usize = 40;
pub const TAX_ID_MAX: usize = 50;
pub const NOTES_MAX: usize = 2000;

/// What the store knows of a person, in clear (only ever in memory).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Personal {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub tax_id: Option<String>,
    pub notes: Option<String>,
}

/// A field that is not acceptable, named as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> Invalid {
    Invalid {
        field,
        message: message.into(),
    }
}

impl Personal {
    /// Trimmed, with empty optional fields absent; or the first field out of bounds.
    pub fn checked(self) -> Result<Personal, Invalid> {
        let name = self.name.trim().to_owned();
        if name.is_empty() {
            return Err(invalid("name", "a customer needs a name"));
        }
        let within = |field: &'static str, value: Option<String>, max: usize| {
            let value = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
            match value {
                Some(v) if v.chars().count() > max => {
                    Err(invalid(field, format!("at most {max} characters")))
                }
                Some(v) if v.chars().any(char::is_control) && field != "notes" => {
                    Err(invalid(field, "control characters are not allowed"))
                }
                other => Ok(other),
            }
        };
        let name = within("name", Some(name), NAME_MAX)?.unwrap_or_default();
        let email = within("email", self.email, EMAIL_MAX)?;
        if let Some(email) = &email {
            let (local, domain) = email.split_once('@').unwrap_or(("", ""));
            if local.is_empty() || domain.is_empty() || email.contains(char::is_whitespace) {
                return Err(invalid("email", "not an email address"));
            }
        }
        let phone = within("phone", self.phone, PHONE_MAX)?;
        if let Some(phone) = &phone
            && !phone
                .chars()
                .all(|c| c.is_ascii_digit() || " +-().".contains(c))
        {
            return Err(invalid("phone", "digits, spaces and + - ( ) . only"));
        }
        Ok(Personal {
            name,
            email,
            phone,
            tax_id: within("tax_id", self.tax_id, TAX_ID_MAX)?,
            notes: within("notes", self.notes, NOTES_MAX)?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    CustomerRegistered {
        id: CustomerId,
        number: String,
        personal: Sealed,
        credit_limit: Money,
        #[serde(with = "tillstream_kernel::time::rfc3339_micros")]
        registered_at: DateTime<Utc>,
    },
    CustomerUpdated {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        personal: Option<Sealed>,
        credit_limit: Money,
        #[serde(with = "tillstream_kernel::time::rfc3339_micros")]
        updated_at: DateTime<Utc>,
    },
    CustomerErased {
        #[serde(with = "tillstream_kernel::time::rfc3339_micros")]
        erased_at: DateTime<Utc>,
    },
}

impl DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        match self {
            Event::CustomerRegistered { .. } => "CustomerRegistered",
            Event::CustomerUpdated { .. } => "CustomerUpdated",
            Event::CustomerErased { .. } => "CustomerErased",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Register {
        id: CustomerId,
        number: String,
        personal: Sealed,
        credit_limit: Money,
        at: DateTime<Utc>,
    },
    /// `personal` is the whole sealed record when a field changed; `owed` is what the
    /// account owes now, read under the customer's lock (a limit may not go below it).
    Update {
        personal: Option<Sealed>,
        credit_limit: Option<Money>,
        owed: Money,
        at: DateTime<Utc>,
    },
    Erase {
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustomerError {
    #[error("no such customer")]
    NotFound,
    #[error("the customer is already registered")]
    Exists,
    #[error("the customer was erased")]
    Erased,
    #[error("credit_limit: {0}")]
    CreditLimit(String),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub registered: bool,
    pub erased: bool,
    pub credit_limit: Option<Money>,
}

fn check_limit(limit: Money) -> Result<Money, CustomerError> {
    if limit.is_negative() {
        return Err(CustomerError::CreditLimit("may not be negative".into()));
    }
    limit
        .within_range()
        .map_err(|e| CustomerError::CreditLimit(e.to_string()))
}

impl Decider for Customer {
    type State = Customer;
    type Command = Command;
    type Event = Event;
    type Error = CustomerError;

    fn decide(state: &Customer, command: &Command) -> Result<Vec<Event>, CustomerError> {
        match command {
            Command::Register {
                id,
                number,
                personal,
                credit_limit,
                at,
            } => {
                if state.registered {
                    return Err(CustomerError::Exists);
                }
                Ok(vec![Event::CustomerRegistered {
                    id: *id,
                    number: number.clone(),
                    personal: personal.clone(),
                    credit_limit: check_limit(*credit_limit)?,
                    registered_at: *at,
                }])
            }
            Command::Update {
                personal,
                credit_limit,
                owed,
                at,
            } => {
                let current = live(state)?;
                let credit_limit = match credit_limit {
                    Some(limit) => check_limit(*limit)?,
                    None => current,
                };
                if credit_limit != current && credit_limit.amount() < owed.amount() {
                    return Err(CustomerError::CreditLimit(format!(
                        "the account owes {owed}: the limit may not be below it"
                    )));
                }
                if personal.is_none() && credit_limit == current {
                    return Ok(Vec::new());
                }
                Ok(vec![Event::CustomerUpdated {
                    personal: personal.clone(),
                    credit_limit,
                    updated_at: *at,
                }])
            }
            Command::Erase { at } => {
                if !state.registered {
                    return Err(CustomerError::NotFound);
                }
                if state.erased {
                    // Erasing twice is the same outcome: nothing more to destroy.
                    return Ok(Vec::new());
                }
                Ok(vec![Event::CustomerErased { erased_at: *at }])
            }
        }
    }

    fn evolve(mut state: Customer, event: &Event) -> Customer {
        match event {
            Event::CustomerRegistered { credit_limit, .. } => {
                state.registered = true;
                state.credit_limit = Some(*credit_limit);
            }
            Event::CustomerUpdated { credit_limit, .. } => state.credit_limit = Some(*credit_limit),
            Event::CustomerErased { .. } => state.erased = true,
        }
        state
    }
}

/// The credit limit of a customer that can still be changed.
fn live(state: &Customer) -> Result<Money, CustomerError> {
    if !state.registered {
        return Err(CustomerError::NotFound);
    }
    if state.erased {
        return Err(CustomerError::Erased);
    }
    state.credit_limit.ok_or(CustomerError::NotFound)
}

#[cfg(test)]
mod tests {
    use tillstream_kernel::{Currency, given};

    use super::*;

    fn usd(s: &str) -> Money {
        Money::parse(s, Currency::USD).unwrap()
    }

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-30T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn sealed(tag: &str) -> Sealed {
        Sealed {
            key_id: "c".into(),
            sealed: tag.as_bytes().to_vec(),
        }
    }

    fn registered() -> Event {
        Event::CustomerRegistered {
            id: CustomerId::generate(),
            number: "C-000001".into(),
            personal: sealed("p1"),
            credit_limit: usd("0.00"),
            registered_at: at(),
        }
    }

    #[test]
    fn personal_fields_are_trimmed_bounded_and_checked() {
        let ok = Personal {
            name: "  Ada Lovelace ".into(),
            email: Some(" ada@example.com ".into()),
            phone: Some("".into()),
            ..Personal::default()
        }
        .checked()
        .unwrap();
        assert_eq!(ok.name, "Ada Lovelace");
        assert_eq!(ok.email.as_deref(), Some("ada@example.com"));
        assert_eq!(ok.phone, None);
        let field = |p: Personal| p.checked().unwrap_err().field;
        let named = |name: &str| Personal {
            name: name.into(),
            ..Personal::default()
        };
        assert_eq!(field(named("  ")), "name");
        assert_eq!(field(named(&"é".repeat(201))), "name");
        assert!(named(&"é".repeat(200)).checked().is_ok());
        assert_eq!(
            field(Personal {
                email: Some("nobody".into()),
                ..named("A")
            }),
            "email"
        );
        assert_eq!(
            field(Personal {
                phone: Some("call me".into()),
                ..named("A")
            }),
            "phone"
        );
        assert_eq!(
            field(Personal {
                notes: Some("x".repeat(2001)),
                ..named("A")
            }),
            "notes"
        );
    }

    #[test]
    fn a_credit_limit_is_never_negative() {
        given::<Customer>(vec![])
            .when(Command::Register {
                id: CustomerId::generate(),
                number: "C-1".into(),
                personal: sealed("p"),
                credit_limit: usd("-1.00"),
                at: at(),
            })
            .then_error(CustomerError::CreditLimit("may not be negative".into()));
    }

    #[test]
    fn an_update_that_changes_nothing_records_nothing() {
        given::<Customer>(vec![registered()])
            .when(Command::Update {
                personal: None,
                credit_limit: Some(usd("0.00")),
                owed: usd("0.00"),
                at: at(),
            })
            .then(vec![]);
        given::<Customer>(vec![registered()])
            .when(Command::Update {
                personal: None,
                credit_limit: Some(usd("500.00")),
                owed: usd("0.00"),
                at: at(),
            })
            .then(vec![Event::CustomerUpdated {
                personal: None,
                credit_limit: usd("500.00"),
                updated_at: at(),
            }]);
        let raised = Event::CustomerUpdated {
            personal: None,
            credit_limit: usd("500.00"),
            updated_at: at(),
        };
        given::<Customer>(vec![registered(), raised])
            .when(Command::Update {
                personal: None,
                credit_limit: Some(usd("99.99")),
                owed: usd("100.00"),
                at: at(),
            })
            .then_error(CustomerError::CreditLimit(
                "the account owes 100.00: the limit may not be below it".into(),
            ));
    }

    #[test]
    fn an_erased_customer_is_erased_once_and_changes_no_more() {
        let erased = Event::CustomerErased { erased_at: at() };
        given::<Customer>(vec![registered()])
            .when(Command::Erase { at: at() })
            .then(vec![erased.clone()]);
        given::<Customer>(vec![registered(), erased.clone()])
            .when(Command::Erase { at: at() })
            .then(vec![]);
        given::<Customer>(vec![registered(), erased])
            .when(Command::Update {
                personal: Some(sealed("p2")),
                credit_limit: None,
                owed: usd("0.00"),
                at: at(),
            })
            .then_error(CustomerError::Erased);
        given::<Customer>(vec![])
            .when(Command::Erase { at: at() })
            .then_error(CustomerError::NotFound);
    }
}
