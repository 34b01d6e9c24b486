//! Pure sales logic: no I/O, no async.

pub mod pricing;
pub mod receipt;
pub mod returns;
pub mod sale;
