//! Test fixtures against real services: a fresh PostgreSQL database per test, a private
//! subject prefix per test on the shared NATS, and a private `nats-server` for tests that
//! must stop the broker. Everything a fixture creates is removed when it is dropped, also
//! when the test panics.

mod database;
mod nats;

pub use database::TestDatabase;
pub use nats::{PrivateNats, TestPrefix, free_port, nats_url};

/// A name no other test run will pick: lower-case, safe as a database name, a subject
/// token and a stream name.
pub fn unique_name(kind: &str) -> String {
    format!(
        "{kind}_{}",
        ulid::Ulid::generate().to_string().to_lowercase()
    )
}

/// The PostgreSQL server tests use (`TILLSTREAM_DATABASE_URL`, as the services do).
pub fn database_server_url() -> String {
    std::env::var("TILLSTREAM_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

/// Runs `future` to completion on a runtime of its own; for clean-up in `Drop`, which
/// may run inside or outside a Tokio runtime.
fn block_on_fresh_runtime<F>(future: F)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let joined = std::thread::spawn(move || {
        match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime.block_on(future),
            Err(error) => eprintln!("test clean-up: no runtime: {error}"),
        }
    })
    .join();
    if joined.is_err() {
        eprintln!("test clean-up panicked");
    }
}
