//! The ledger's read models.

pub mod journal;
