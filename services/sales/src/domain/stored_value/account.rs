//! A customer's account: `balance` is what the customer owes (on-account sales, less
//! payments and refunds), never above the credit limit; `store_credit` is what the store owes
//! the customer, never below zero. One stream per customer, `account-<customer id>`.

use serde::{Deserialize, Serialize};
use tillstream_kernel::time::{DateTime, Utc};
use tillstream_kernel::{Decider, DomainEvent, Money};

use super::{StoredValueError, positive};

/// The account stream of a customer.
pub fn stream_id(customer_id: &str) -> String {
    format!("account-{customer_id}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Movement {
    /// An `on_account` payment of a sale.
    Charge,
    /// An `on_account` refund, or a voided on-account sale.
    ChargeReversed,
    /// A `store_credit` refund, or a voided sale paid with store credit.
    StoreCreditAdded,
    /// A `store_credit` payment of a sale.
    StoreCreditSpent,
}

impl Movement {
    pub fn as_str(self) -> &'static str {
        match self {
            Movement::Charge => "charge",
            Movement::ChargeReversed => "charge_reversed",
            Movement::StoreCreditAdded => "store_credit_added",
            Movement::StoreCreditSpent => "store_credit_spent",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    Cash,
    Card,
}

impl PaymentMethod {
    pub fn parse(text: &str) -> Option<PaymentMethod> {
        match text.trim() {
            "cash" => Some(PaymentMethod::Cash),
            "card" => Some(PaymentMethod::Card),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::Cash => "cash",
            PaymentMethod::Card => "card",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountPayment {
    pub payment_id: String,
    pub amount: Money,
    pub method: PaymentMethod,
    pub reference: Option<String>,
    pub session_id: Option<String>,
    pub cashier_id: String,
    #[serde(with = "tillstream_kernel::time::rfc3339_micros")]
    pub paid_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    AccountMoved {
        movement: Movement,
        amount: Money,
        /// The sale or return that moved it.
        source_id: String,
        balance: Money,
        store_credit: Money,
        #[serde(with = "tillstream_kernel::time::rfc3339_micros")]
        at: DateTime<Utc>,
    },
    AccountPaid {
        payment: AccountPayment,
        balance: Money,
    },
}

impl DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        match self {
            Event::AccountMoved { .. } => "AccountMoved",
            Event::AccountPaid { .. } => "AccountPaid",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `credit_limit` as the customer's row holds it, read under its lock.
    Move {
        movement: Movement,
        amount: Money,
        source_id: String,
        credit_limit: Money,
        at: DateTime<Utc>,
    },
    Pay(AccountPayment),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub balance: Option<Money>,
    pub store_credit: Option<Money>,
}

impl Account {
    fn figures(&self, amount: Money) -> (Money, Money) {
        let zero = Money::zero(amount.currency());
        (
            self.balance.unwrap_or(zero),
            self.store_credit.unwrap_or(zero),
        )
    }
}

impl Decider for Account {
    type State = Account;
    type Command = Command;
    type Event = Event;
    type Error = StoredValueError;

    fn decide(state: &Account, command: &Command) -> Result<Vec<Event>, StoredValueError> {
        match command {
            Command::Move {
                movement,
                amount,
                source_id,
                credit_limit,
                at,
            } => {
                let amount = positive(*amount)?;
                let (mut balance, mut store_credit) = state.figures(amount);
                match movement {
                    Movement::Charge => {
                        let owed = balance.checked_add(amount)?;
                        if owed.amount() > credit_limit.amount() {
                            return Err(StoredValueError::OverLimit {
                                limit: *credit_limit,
                                balance,
                            });
                        }
                        balance = owed;
                    }
                    Movement::ChargeReversed => {
                        let owed = balance.checked_sub(amount)?;
                        if owed.is_negative() {
                            return Err(StoredValueError::MoreThanOwed { balance });
                        }
                        balance = owed;
                    }
                    Movement::StoreCreditAdded => {
                        store_credit = store_credit.checked_add(amount)?.within_range()?;
                    }
                    Movement::StoreCreditSpent => {
                        let left = store_credit.checked_sub(amount)?;
                        if left.is_negative() {
                            return Err(StoredValueError::Insufficient {
                                available: store_credit,
                            });
                        }
                        store_credit = left;
                    }
                }
                Ok(vec![Event::AccountMoved {
                    movement: *movement,
                    amount,
                    source_id: source_id.clone(),
                    balance,
                    store_credit,
                    at: *at,
                }])
            }
            Command::Pay(payment) => {
                let amount = positive(payment.amount)?;
                let (balance, _) = state.figures(amount);
                let owed = balance.checked_sub(amount)?;
                if owed.is_negative() {
                    return Err(StoredValueError::MoreThanOwed { balance });
                }
                Ok(vec![Event::AccountPaid {
                    payment: payment.clone(),
                    balance: owed,
                }])
            }
        }
    }

    fn evolve(mut state: Account, event: &Event) -> Account {
        match event {
            Event::AccountMoved {
                balance,
                store_credit,
                ..
            } => {
                state.balance = Some(*balance);
                state.store_credit = Some(*store_credit);
            }
            Event::AccountPaid { balance, .. } => state.balance = Some(*balance),
        }
        state
    }
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

    fn moving(movement: Movement, amount: &str, limit: &str) -> Command {
        Command::Move {
            movement,
            amount: usd(amount),
            source_id: "s1".into(),
            credit_limit: usd(limit),
            at: at(),
        }
    }

    fn moved(movement: Movement, amount: &str, balance: &str, credit: &str) -> Event {
        Event::AccountMoved {
            movement,
            amount: usd(amount),
            source_id: "s1".into(),
            balance: usd(balance),
            store_credit: usd(credit),
            at: at(),
        }
    }

    #[test]
    fn charges_stay_within_the_credit_limit_to_the_cent() {
        given::<Account>(vec![moved(Movement::Charge, "60.00", "60.00", "0.00")])
            .when(moving(Movement::Charge, "40.00", "100.00"))
            .then(vec![moved(Movement::Charge, "40.00", "100.00", "0.00")]);
        given::<Account>(vec![moved(Movement::Charge, "60.00", "60.00", "0.00")])
            .when(moving(Movement::Charge, "40.01", "100.00"))
            .then_error(StoredValueError::OverLimit {
                limit: usd("100.00"),
                balance: usd("60.00"),
            });
        given::<Account>(vec![])
            .when(moving(Movement::Charge, "0.01", "0.00"))
            .then_error(StoredValueError::OverLimit {
                limit: usd("0.00"),
                balance: usd("0.00"),
            });
    }

    #[test]
    fn store_credit_is_spent_down_to_zero_and_never_below() {
        let added = moved(Movement::StoreCreditAdded, "12.00", "0.00", "12.00");
        given::<Account>(vec![added.clone()])
            .when(moving(Movement::StoreCreditSpent, "12.00", "0.00"))
            .then(vec![moved(
                Movement::StoreCreditSpent,
                "12.00",
                "0.00",
                "0.00",
            )]);
        given::<Account>(vec![added])
            .when(moving(Movement::StoreCreditSpent, "12.01", "0.00"))
            .then_error(StoredValueError::Insufficient {
                available: usd("12.00"),
            });
    }

    #[test]
    fn a_payment_or_a_reversal_never_takes_more_than_is_owed() {
        let owed = moved(Movement::Charge, "30.00", "30.00", "0.00");
        let payment = |amount: &str| AccountPayment {
            payment_id: "p1".into(),
            amount: usd(amount),
            method: PaymentMethod::Cash,
            reference: None,
            session_id: None,
            cashier_id: "u1".into(),
            paid_at: at(),
        };
        given::<Account>(vec![owed.clone()])
            .when(Command::Pay(payment("30.00")))
            .then(vec![Event::AccountPaid {
                payment: payment("30.00"),
                balance: usd("0.00"),
            }]);
        given::<Account>(vec![owed.clone()])
            .when(Command::Pay(payment("30.01")))
            .then_error(StoredValueError::MoreThanOwed {
                balance: usd("30.00"),
            });
        given::<Account>(vec![owed])
            .when(moving(Movement::ChargeReversed, "30.01", "100.00"))
            .then_error(StoredValueError::MoreThanOwed {
                balance: usd("30.00"),
            });
    }
}
