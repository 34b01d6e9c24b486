//! The ledger's read models.

pub mod daily;
pub mod journal;
