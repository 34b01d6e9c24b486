//! Pure inventory logic: no I/O, no async.

pub mod location;
pub mod stock_item;
#[cfg(test)]
mod tests;
