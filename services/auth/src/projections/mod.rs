//! The auth service's read models.

pub mod users;
