//! Pure catalog logic: no I/O, no async.

pub mod barcode;
pub mod import;
pub mod import_job;
pub mod product;
