//! Inventory's edge: gRPC, the published event encoding, and the one error mapping.

pub mod events;
pub mod grpc;
pub mod purchasing;
pub mod purchasing_events;
