//! Inventory's read models.

pub mod known_products;
pub mod locations;
pub mod stock_levels;
