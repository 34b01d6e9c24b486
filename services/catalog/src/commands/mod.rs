//! The catalog's use cases: load → decide → append in one transaction.

pub mod change_product;
pub mod create_product;
pub mod imports;
