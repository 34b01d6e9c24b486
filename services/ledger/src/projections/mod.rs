//! The ledger's read models.

pub mod daily;
pub mod journal;
pub mod repair_costs;
pub mod trial_balance;
