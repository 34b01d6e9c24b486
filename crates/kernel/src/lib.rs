//! The kernel: value types every service shares (money, quantities, typed ids, event
//! metadata) and the decide/evolve pattern that keeps domain logic pure.

pub mod decider;
pub mod id;
pub mod metadata;
pub mod money;
pub mod quantity;
pub mod tender;

pub use decider::{Decider, Given, given};
pub use metadata::{EventMetadata, trace_id_of};
pub use money::{Currency, Money, MoneyError};
pub use quantity::{Quantity, QuantityError};
pub use rust_decimal::Decimal;
pub use tender::Tender;
pub use ulid::Ulid;
