//! Relay and consumers against the real PostgreSQL and NATS (the shared server under a
//! private prefix, or a private server where the test stops the broker).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod support;

mod consumers;
mod idle;
mod relay;
mod relay_faults;
