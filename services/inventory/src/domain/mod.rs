//! Pure inventory logic: no I/O, no async.

pub mod location;
pub mod purchase_order;
#[cfg(test)]
mod purchasing_tests;
pub mod sale_cost;
pub mod stock_item;
pub mod supplier;
#[cfg(test)]
mod tests;
