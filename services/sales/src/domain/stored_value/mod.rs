//! Stored value: gift cards and customers' accounts (what they owe on account, what the store
//! owes them as credit). Balances are event-sourced and drawn only inside the transaction of
//! the sale, return or void that moves them (decision 0011).

pub mod account;
pub mod gift_card;

use tillstream_kernel::{Money, MoneyError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoredValueError {
    #[error("not found")]
    NotFound,
    #[error("already exists")]
    Exists,
    #[error("the amount must be more than zero")]
    NotPositive,
    #[error("only {available} is available")]
    Insufficient { available: Money },
    #[error("it would pass the credit limit of {limit} (owed now: {balance})")]
    OverLimit { limit: Money, balance: Money },
    #[error("more than the {balance} owed")]
    MoreThanOwed { balance: Money },
    #[error(transparent)]
    Money(#[from] MoneyError),
}

fn positive(amount: Money) -> Result<Money, StoredValueError> {
    if amount.is_negative() || amount.is_zero() {
        return Err(StoredValueError::NotPositive);
    }
    Ok(amount.within_range()?)
}
