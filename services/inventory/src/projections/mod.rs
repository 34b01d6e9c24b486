//! Inventory's read models.

pub mod known_products;
pub mod locations;
pub mod movements;
pub mod purchasing;
pub mod stock_levels;
