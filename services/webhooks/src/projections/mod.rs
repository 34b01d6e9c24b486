//! The webhooks service's tables: subscriptions (the read model of their streams) and
//! deliveries (the work queue of the senders).

pub mod deliveries;
pub mod subscriptions;
