//! A gift card: sold for an amount the store then owes (not revenue), spent as a tender,
//! refunded back onto. Its balance never goes below zero; every draw names the sale.

use serde::{Deserialize, Serialize};
use tillstream_kernel::time::{DateTime, Utc};
use tillstream_kernel::{Decider, DomainEvent, Money};

use super::StoredValueError;
use crate::domain::pricing::Payment;

tillstream_kernel::typed_id!(
    /// A gift card's id (its code is what a customer holds).
    GiftCardId,
    stream = "giftcard"
);

/// A code's length: 15 random digits and a Luhn check digit.
pub const CODE_LEN: usize = 16;

/// The code for 15 digits: them and their Luhn check digit.
pub fn code_from(digits: [u8; CODE_LEN - 1]) -> String {
    let mut code: String = digits.iter().map(|d| char::from(b'0' + d % 10)).collect();
    code.push(char::from(b'0' + check_digit(code.as_bytes())));
    code
}

/// Whether `code` is 16 digits whose last is the Luhn check digit of the others.
pub fn is_valid_code(code: &str) -> bool {
    let bytes = code.as_bytes();
    bytes.len() == CODE_LEN
        && bytes.iter().all(u8::is_ascii_digit)
        && check_digit(&bytes[..CODE_LEN - 1]) == bytes[CODE_LEN - 1] - b'0'
}

fn check_digit(digits: &[u8]) -> u8 {
    // Doubling every second digit from the right of the payload (the check digit's neighbour
    // first).
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(d.saturating_sub(b'0'));
            if i % 2 == 0 {
                let twice = d * 2;
                if twice > 9 { twice - 9 } else { twice }
            } else {
                d
            }
        })
        .sum();
    u8::try_from((10 - sum % 10) % 10).unwrap_or(0)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    pub id: GiftCardId,
    pub code: String,
    pub amount: Money,
    pub payments: Vec<Payment>,
    pub change: Money,
    pub customer_id: Option<String>,
    pub session_id: Option<String>,
    pub location_id: Option<String>,
    pub cashier_id: String,
    #[serde(with = "tillstream_kernel::time::rfc3339_micros")]
    pub issued_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    GiftCardIssued(Box<Issue>),
    GiftCardRedeemed {
        sale_id: String,
        amount: Money,
        balance: Money,
        #[serde(with = "tillstream_kernel::time::rfc3339_micros")]
        at: DateTime<Utc>,
    },
    GiftCardCredited {
        /// The return refunded onto the card, or the voided sale it paid for.
        source_id: String,
        amount: Money,
        balance: Money,
        #[serde(with = "tillstream_kernel::time::rfc3339_micros")]
        at: DateTime<Utc>,
    },
}

impl DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        match self {
            Event::GiftCardIssued(_) => "GiftCardIssued",
            Event::GiftCardRedeemed { .. } => "GiftCardRedeemed",
            Event::GiftCardCredited { .. } => "GiftCardCredited",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Issue(Box<Issue>),
    Redeem {
        sale_id: String,
        amount: Money,
        at: DateTime<Utc>,
    },
    Credit {
        source_id: String,
        amount: Money,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GiftCard {
    pub balance: Option<Money>,
}

impl Decider for GiftCard {
    type State = GiftCard;
    type Command = Command;
    type Event = Event;
    type Error = StoredValueError;

    fn decide(state: &GiftCard, command: &Command) -> Result<Vec<Event>, StoredValueError> {
        match command {
            Command::Issue(issue) => {
                if state.balance.is_some() {
                    return Err(StoredValueError::Exists);
                }
                super::positive(issue.amount)?;
                Ok(vec![Event::GiftCardIssued(issue.clone())])
            }
            Command::Redeem {
                sale_id,
                amount,
                at,
            } => {
                let balance = state.balance.ok_or(StoredValueError::NotFound)?;
                super::positive(*amount)?;
                let left = balance.checked_sub(*amount)?;
                if left.is_negative() {
                    return Err(StoredValueError::Insufficient { available: balance });
                }
                Ok(vec![Event::GiftCardRedeemed {
                    sale_id: sale_id.clone(),
                    amount: *amount,
                    balance: left,
                    at: *at,
                }])
            }
            Command::Credit {
                source_id,
                amount,
                at,
            } => {
                let balance = state.balance.ok_or(StoredValueError::NotFound)?;
                super::positive(*amount)?;
                let balance = balance.checked_add(*amount)?.within_range()?;
                Ok(vec![Event::GiftCardCredited {
                    source_id: source_id.clone(),
                    amount: *amount,
                    balance,
                    at: *at,
                }])
            }
        }
    }

    fn evolve(mut state: GiftCard, event: &Event) -> GiftCard {
        state.balance = Some(match event {
            Event::GiftCardIssued(issue) => issue.amount,
            Event::GiftCardRedeemed { balance, .. } | Event::GiftCardCredited { balance, .. } => {
                *balance
            }
        });
        state
    }
}

#[cfg(test)]
mod tests {
    use tillstream_kernel::{Currency, Tender, given};

    use super::*;

    fn usd(s: &str) -> Money {
        Money::parse(s, Currency::USD).unwrap()
    }

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-30T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn issued(amount: &str) -> Event {
        Event::GiftCardIssued(Box::new(Issue {
            id: GiftCardId::generate(),
            code: code_from([4; 15]),
            amount: usd(amount),
            payments: vec![Payment {
                method: Tender::Cash,
                amount: usd(amount),
                reference: None,
            }],
            change: usd("0.00"),
            customer_id: None,
            session_id: None,
            location_id: None,
            cashier_id: "u1".into(),
            issued_at: at(),
        }))
    }

    fn redeem(amount: &str) -> Command {
        Command::Redeem {
            sale_id: "s1".into(),
            amount: usd(amount),
            at: at(),
        }
    }

    #[test]
    fn codes_carry_a_luhn_check_digit() {
        // The textbook Luhn example: 7992739871 has the check digit 3.
        assert_eq!(check_digit(b"7992739871"), 3);
        let code = code_from([1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5]);
        assert_eq!(code.len(), 16);
        assert!(is_valid_code(&code));
        let mut wrong = code.into_bytes();
        wrong[3] = if wrong[3] == b'9' { b'0' } else { wrong[3] + 1 };
        assert!(!is_valid_code(&String::from_utf8(wrong).unwrap()));
        assert!(!is_valid_code("123"));
        assert!(!is_valid_code("12345678901234a6"));
    }

    #[test]
    fn a_card_is_drawn_down_to_zero_and_never_below() {
        given::<GiftCard>(vec![issued("25.00")])
            .when(redeem("25.00"))
            .then(vec![Event::GiftCardRedeemed {
                sale_id: "s1".into(),
                amount: usd("25.00"),
                balance: usd("0.00"),
                at: at(),
            }]);
        given::<GiftCard>(vec![issued("25.00")])
            .when(redeem("25.01"))
            .then_error(StoredValueError::Insufficient {
                available: usd("25.00"),
            });
        given::<GiftCard>(vec![])
            .when(redeem("1.00"))
            .then_error(StoredValueError::NotFound);
        given::<GiftCard>(vec![issued("25.00")])
            .when(redeem("0.00"))
            .then_error(StoredValueError::NotPositive);
    }

    #[test]
    fn a_refund_puts_the_amount_back_on_the_card() {
        let drawn = Event::GiftCardRedeemed {
            sale_id: "s1".into(),
            amount: usd("20.00"),
            balance: usd("5.00"),
            at: at(),
        };
        given::<GiftCard>(vec![issued("25.00"), drawn])
            .when(Command::Credit {
                source_id: "r1".into(),
                amount: usd("7.50"),
                at: at(),
            })
            .then(vec![Event::GiftCardCredited {
                source_id: "r1".into(),
                amount: usd("7.50"),
                balance: usd("12.50"),
                at: at(),
            }]);
    }
}
