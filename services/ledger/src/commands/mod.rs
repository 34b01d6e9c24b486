//! The ledger's use cases.

pub mod post_entry;
