//! Sales' use cases.

pub mod changes;
pub mod create_sale;
pub mod in_session;
pub mod return_sale;
pub mod sessions;
pub mod void_sale;
