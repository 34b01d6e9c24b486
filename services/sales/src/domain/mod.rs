//! Pure sales logic: no I/O, no async.

pub mod controls;
pub mod customer;
pub mod journal;
pub mod pricing;
pub mod receipt;
pub mod repair;
pub mod returns;
pub mod sale;
pub mod session;
pub mod stored_value;
pub mod totals;
