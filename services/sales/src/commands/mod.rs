//! Sales' use cases.

pub mod accounts;
pub mod changes;
pub mod collect_repair;
pub mod create_sale;
pub mod customers;
pub mod gift_cards;
pub mod in_session;
pub mod repairs;
pub mod return_sale;
pub mod ring_up;
pub mod sessions;
pub mod stored_value;
pub mod void_sale;
