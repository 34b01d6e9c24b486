//! Pure auth logic: no I/O, no async.

pub mod user;
