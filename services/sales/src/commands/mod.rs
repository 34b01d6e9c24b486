//! Sales' use cases.

pub mod create_sale;
