//! Inventory's use cases: load → decide → append in one transaction.

pub mod create_location;
pub mod receive_stock;

/// How many times a command is decided again after a concurrent write to its stream.
pub const CONFLICT_RETRIES: usize = 5;
