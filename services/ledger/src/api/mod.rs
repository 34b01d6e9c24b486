//! The ledger's edge: gRPC and the published event encoding.

pub mod events;
pub mod grpc;
