//! Sales' edge: gRPC, the published event encoding, and the one error mapping.

pub mod convert;
pub mod customer_events;
pub mod customers;
pub mod events;
pub mod grpc;
pub mod registers;
pub mod repair_events;
pub mod repairs;
