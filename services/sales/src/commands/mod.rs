//! Sales' use cases.

pub mod changes;
pub mod create_sale;
pub mod return_sale;
pub mod void_sale;
