//! The kernel: value types every service shares (money, quantities, typed ids, event
//! metadata) and the decide/evolve pattern that keeps domain logic pure.

pub mod decider;
pub mod event;
pub mod id;
pub mod metadata;
pub mod money;
pub mod quantity;
pub mod rate;
pub mod tender;
pub mod time;

pub use decider::{Decider, Given, given};
pub use event::DomainEvent;
pub use metadata::{EventMetadata, new_traceparent, trace_id_of};
pub use money::{Currency, MAX_AMOUNT, Money, MoneyError, parse_unit_cost};
pub use quantity::{MAX_QUANTITY, Quantity, QuantityError};
pub use rate::{RateError, parse_percent, parse_tax_rate};
pub use rust_decimal::Decimal;
pub use tender::Tender;
pub use ulid::Ulid;
