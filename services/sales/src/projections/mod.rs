//! Sales' read models and its copies of other services' data.

pub mod approvals;
pub mod catalog_copy;
pub mod customers;
pub mod gift_cards;
pub mod journal;
pub mod pending;
pub mod product_sales;
pub mod registers;
pub mod repairs;
pub mod sale_numbers;
pub mod sale_start;
pub mod sales;
pub mod sessions;
