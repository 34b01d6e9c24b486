//! The auth service's edge: gRPC, the published events, the one error mapping.

pub mod error;
pub mod events;
pub mod grpc;
