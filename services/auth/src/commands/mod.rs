//! The auth service's use cases.

pub mod login;
pub mod register_user;
