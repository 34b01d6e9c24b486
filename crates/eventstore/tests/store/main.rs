//! The event store against a real PostgreSQL: one fresh database per test.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod support;

mod appends;
mod commands;
mod deadlocks;
mod drawing;
mod gap_safe_reads;
mod idempotency_and_claims;
mod snapshots;
