//! Inventory's use cases: a location on the command runner, stock documents as one
//! transaction each (`stock_batch`), a chunk of sales taken at once (`stock_chunk`).

pub mod adjust_stock;
pub mod checks;
pub mod count_stock;
pub mod create_location;
pub mod purchase_orders;
pub mod receive_stock;
pub mod stock_batch;
pub mod stock_chunk;
pub mod suppliers;
pub mod transfer_stock;
