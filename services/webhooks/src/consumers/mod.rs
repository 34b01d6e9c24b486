//! The webhooks service's reactions: every service's events, queued for the subscriptions
//! that want them.

pub mod fan_out;
