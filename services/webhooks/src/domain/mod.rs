//! What webhooks decide without any I/O: the subscription aggregate, the private-address
//! rule, the retry schedule and the signature.

pub mod address;
pub mod schedule;
pub mod signature;
pub mod subscription;
