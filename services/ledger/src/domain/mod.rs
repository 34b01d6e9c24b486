//! Pure ledger logic: no I/O, no async.

pub mod accounts;
pub mod entry;
pub mod journal;
pub mod posting;
#[cfg(test)]
mod tests;
