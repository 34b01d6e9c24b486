//! The catalog's read models.

pub mod products;
pub mod search;
