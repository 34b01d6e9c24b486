//! The webhooks service's edges: gRPC, its published events and the deliveries' body.

pub mod cloudevent;
pub mod events;
pub mod grpc;
