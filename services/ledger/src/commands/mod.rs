//! The ledger's use cases.

pub mod manual;
pub mod post_entry;
