//! The auth service's edge: gRPC, the published events, the one error mapping.

pub mod events;
pub mod grpc;
