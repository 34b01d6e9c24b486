//! Test fixtures against real services: a fresh PostgreSQL database per test, a private
//! subject prefix per test on the shared NATS, and a private `nats-server` for tests that
//! must stop the broker. Everything a fixture creates is removed when it is dropped, also
//! when the test panics.

mod database;
pub mod grpc;
mod inbound;
mod nats;
mod postgres;
pub mod sales_events;
mod stack;

pub use database::{HeldRow, TestDatabase, blocked_by, holding};
pub use inbound::inbound_event;
pub use nats::{PrivateNats, TestPrefix, free_port, nats_url};
pub use postgres::PrivatePostgres;
pub use stack::TestStack;

/// A CSV import as a spreadsheet exports it at its worst: a BOM, semicolons, CRLF, quotes
/// with the delimiter and doubled quotes inside, decimal commas, a negative price, a
/// duplicate SKU, an empty name, a short row, unicode.
pub const NASTY_CSV: &str = "\u{feff}sku;name;price;tax_rate;barcode;category\r\n\
COF-1;\"Café \"\"Crème\"\"; 1 kg\";12,50;0,08;4006381333931;Coffee\r\n\
TEA-1;Green tea;3.50;0.08;;Tea\r\n\
NEG-1;Refund voucher;-5.00;0;;\r\n\
COF-1;Duplicate coffee;9.99;0.08;;Coffee\r\n\
EMP-1;;1.00;0.08;;\r\n\
SHT-1;Short row;1.00\r\n\
UNI-1;Ψωμί 🍞;2,40;0,13;96385074;Bäckerei\r\n";

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

/// The environment a test stack's services read: the test's subject prefix and database
/// prefix on the shared servers. Pass it to `ServiceSettings::from_lookup`.
pub fn stack_env(
    subject_prefix: &str,
    db_prefix: &str,
) -> impl Fn(&str) -> Option<String> + Clone + use<> {
    let (subject_prefix, db_prefix) = (subject_prefix.to_owned(), db_prefix.to_owned());
    move |name: &str| match name {
        "TILLSTREAM_SUBJECT_PREFIX" => Some(subject_prefix.clone()),
        "TILLSTREAM_DB_PREFIX" => Some(db_prefix.clone()),
        "TILLSTREAM_DATABASE_URL" => Some(database_server_url()),
        "TILLSTREAM_NATS_URL" => Some(nats_url()),
        "TILLSTREAM_JWKS" => Some(grpc::test_jwks()),
        _ => None,
    }
}

/// Retries `attempt` every 100 ms until it gives a value, for up to `patience`; for waits
/// longer than [`eventually`]'s (a restarted process, a browser on a loaded machine). Panics
/// naming `what` when it never does.
pub async fn within<T, F, Fut>(what: &str, patience: std::time::Duration, mut attempt: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        if let Some(value) = attempt().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting until {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Retries `attempt` every 50 ms for up to 10 s until it gives a value; for effects that
/// travel through NATS. Panics naming `what` when it never does.
pub async fn eventually<T, F, Fut>(what: &str, mut attempt: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..200 {
        if let Some(value) = attempt().await {
            return value;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("gave up waiting until {what}");
}

/// Runs `future` to completion on a runtime of its own; for clean-up in `Drop`, which
/// may run inside or outside a Tokio runtime.
pub fn block_on_fresh_runtime<F>(future: F)
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
