//! Messaging over NATS JetStream: the names of subjects and streams, the relay that
//! publishes a service's store to its stream, durable consumers that apply other services'
//! events exactly once through an inbox, and the dead letters they leave.

mod consumer;
mod dead_letter;
mod error;
mod naming;
mod relay;
mod streams;
mod wire;

pub use consumer::{
    ChunkHandled, Consumer, ConsumerConfig, ConsumerHealth, Handled, Handler, HandlerError,
    InboundEvent, STUCK_AFTER, consumer_health, panic_message, record_restart,
};
pub use dead_letter::{DeadLetter, DeadLetters, dead_letter_depth};
pub use error::MessagingError;
pub use naming::Naming;
pub use relay::{HealOutcome, Relay, RelayConfig};
pub use streams::{
    StreamSettings, ensure_dead_letter_stream, ensure_service_stream, ensure_source_stream,
};
pub use wire::{JsonWire, WireEvent, WireFormat, headers};
