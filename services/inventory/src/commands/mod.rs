//! Inventory's use cases: load → decide → append in one transaction.

pub mod adjust_stock;
pub mod checks;
pub mod count_stock;
pub mod create_location;
pub mod receive_stock;
pub mod stock_batch;
pub mod stock_chunk;
pub mod transfer_stock;

/// How many times a command is decided again after a concurrent write to its stream.
pub const CONFLICT_RETRIES: usize = 5;
