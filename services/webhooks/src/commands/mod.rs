//! What admins ask of the webhooks service.

pub mod subscriptions;
