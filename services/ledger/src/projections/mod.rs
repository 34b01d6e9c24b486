//! The ledger's read models.

pub mod daily;
pub mod journal;
pub mod trial_balance;
