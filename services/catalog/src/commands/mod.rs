//! The catalog's use cases: load → decide → append in one transaction.

pub mod create_product;
