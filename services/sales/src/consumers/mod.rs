//! Sales' reactions to other services' events.

pub mod catalog_products;
pub mod ledger_entries;
pub mod locations;
