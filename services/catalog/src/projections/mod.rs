//! The catalog's read models.

pub mod imports;
pub mod products;
pub mod search;
