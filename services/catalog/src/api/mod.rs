//! The catalog's edge: gRPC, the published event encoding, and the one error mapping.

pub mod events;
pub mod grpc;
