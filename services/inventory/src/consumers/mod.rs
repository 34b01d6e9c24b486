//! Inventory's reactions to other services' events.

pub mod catalog_products;
pub mod sales;
