//! The auth service's use cases.

pub mod approve;
pub mod change_user;
pub mod lockout;
pub mod login;
pub mod register_user;
pub mod sessions;
