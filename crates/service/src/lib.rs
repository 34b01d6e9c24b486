//! What every service process does the same way: read its settings from the environment,
//! connect to its database (created and migrated) and to NATS (in the background: NATS
//! being down never stops a service), report readiness, and stop on Ctrl-C or SIGTERM.

pub mod copies;
mod error;
pub mod grpc;
mod guard;
pub mod leader;
pub mod moments;
mod process;
mod settings;
mod start;

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::migrate::Migrator;
use tillstream_eventstore::{DatabaseConfig, StoreError};
use tillstream_messaging::{Consumer, ConsumerConfig, Handler, ensure_source_stream};
use tillstream_telemetry::{Dependency, Probe};
use tokio_util::sync::CancellationToken;

pub use error::{AppError, RETRY_AFTER_METADATA};
pub use guard::{guard, guard_with};
pub use process::{run_main, serve_http, spawn_relay};
pub use settings::{ServiceSettings, SettingsError};
pub use start::{Launch, Process};
pub use tillstream_access::{ApprovalClaims, Claims, Role};
pub use tillstream_process::{
    FetchKeys, RefreshingKeys, VerifyError, addrs, fetch_from_auth, stop_on_signal, without_nagle,
};

/// Why a service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error("TILLSTREAM_DATABASE_READ_URL: {0}")]
    ReadUrl(sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("NATS: {0}")]
    Nats(String),
    #[error("listening: {0}")]
    Io(#[from] std::io::Error),
    /// A service's own start-up step (a signing key, the bootstrap admin).
    #[error("{0}")]
    Setup(String),
}

/// The service's database: created if missing, the event store's tables and then the
/// service's own migrations applied.
pub async fn connect_database(
    settings: &ServiceSettings,
    migrator: &Migrator,
) -> Result<PgPool, StartError> {
    let mut config = DatabaseConfig::new(&settings.database_url, &settings.database);
    config.max_connections = settings.db_pool_size;
    let pool = tillstream_eventstore::connect(&config).await?;
    migrator.run(&pool).await?;
    Ok(pool)
}

/// A pool on the read-only server, when `TILLSTREAM_DATABASE_READ_URL` names one: lazy,
/// so a replica that is down fails the reads that need it, not the service's start, and
/// never migrated (a replica follows the primary's schema).
pub fn connect_reads(settings: &ServiceSettings) -> Result<Option<PgPool>, StartError> {
    let Some(url) = &settings.read_database_url else {
        return Ok(None);
    };
    let options = url
        .parse::<sqlx::postgres::PgConnectOptions>()
        .map_err(StartError::ReadUrl)?
        .database(&settings.database)
        .application_name(&format!("tillstream {} reads", settings.service));
    // No ping before each checkout, as the main pool (`tillstream_eventstore::connect`).
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(settings.db_pool_size)
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire(false)
        .connect_lazy_with(options);
    Ok(Some(pool))
}

/// A NATS client that connects (and reconnects) in the background, as the user named in
/// `TILLSTREAM_NATS_URL` (`nats://user:password@host:4222`) when it names one: async-nats
/// does not take credentials from the URL by itself.
pub async fn connect_nats(settings: &ServiceSettings) -> Result<async_nats::Client, StartError> {
    let (options, addr) = nats_options(&settings.nats_url).map_err(StartError::Nats)?;
    options
        .retry_on_initial_connect()
        .connect(addr)
        .await
        .map_err(|e| StartError::Nats(e.to_string()))
}

/// The options and address `url` connects with, the user and password in it applied.
pub fn nats_options(
    url: &str,
) -> Result<(async_nats::ConnectOptions, async_nats::ServerAddr), String> {
    let addr: async_nats::ServerAddr = url
        .parse()
        .map_err(|e| format!("TILLSTREAM_NATS_URL: {e}"))?;
    let options = match (addr.username(), addr.password()) {
        (Some(user), Some(password)) => {
            async_nats::ConnectOptions::with_user_and_password(user.to_owned(), password.to_owned())
        }
        _ => async_nats::ConnectOptions::new(),
    };
    Ok((options, addr))
}

/// A NATS client for a command-line tool: connected now, or why not (naming the server,
/// never the password).
pub async fn nats_client(url: &str) -> Result<async_nats::Client, String> {
    let (options, addr) = nats_options(url)?;
    let server = format!("{}:{}", addr.host(), addr.port());
    options
        .connect(addr)
        .await
        .map_err(|e| format!("NATS at {server}: {e}"))
}

/// Runs a consumer once its source stream exists (created idempotently here, retrying
/// while NATS is away, so the start order of services does not matter). Appends its
/// handler commits are announced on `store` (`Handler::APPENDS`).
pub async fn run_consumer<H: Handler>(
    store: tillstream_eventstore::EventStore,
    nats: async_nats::Client,
    config: ConsumerConfig,
    handler: H,
    shutdown: CancellationToken,
) {
    let js = async_nats::jetstream::new(nats.clone());
    let mut pause = Duration::from_millis(100);
    while !shutdown.is_cancelled() {
        match ensure_source_stream(&js, &config.naming, &config.source_service).await {
            Ok(_) => break,
            Err(error) => {
                tracing::warn!(%error, source = %config.source_service, "source stream not available yet");
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(pause) => {}
                }
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
    }
    // The consumer runs as a task of its own so that one that dies (a panic outside any
    // handler, which catches its own) is reported and started again rather than leaving
    // its events waiting until the process restarts.
    let handler = Arc::new(handler);
    let name = config.durable_name();
    let mut pause = Duration::from_millis(100);
    loop {
        let consumer = Consumer::shared(
            store.pool().clone(),
            nats.clone(),
            handler.clone(),
            config.clone(),
        )
        .announcing(store.clone());
        let task = tokio::spawn(consumer.run(shutdown.child_token()));
        match task.await {
            Ok(()) => return,
            Err(error) if shutdown.is_cancelled() => {
                tracing::warn!(%error, consumer = %name, "consumer task ended at shutdown");
                return;
            }
            Err(error) => {
                let reason = if error.is_panic() {
                    tillstream_messaging::panic_message(&*error.into_panic())
                } else {
                    error.to_string()
                };
                tracing::error!(consumer = %name, %reason, "consumer task died; restarting it");
                tillstream_messaging::record_restart(&name);
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(pause) => {}
                }
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// Ready when the database answers with `migrator`'s migrations applied; NATS is
/// reported, not required (commands still succeed while it is away).
pub fn standard_probe(
    pool: PgPool,
    migrator: &'static Migrator,
    nats: async_nats::Client,
) -> Probe {
    Arc::new(move || {
        let pool = pool.clone();
        let nats = nats.clone();
        Box::pin(async move {
            let expected = migrator.iter().map(|m| m.version).max().unwrap_or(0);
            let applied: Result<Option<i64>, sqlx::Error> =
                sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
                    .fetch_one(&pool)
                    .await;
            let (db_up, detail) = match applied {
                Ok(Some(v)) if v >= expected => (true, None),
                Ok(v) => (
                    false,
                    Some(format!("migrations at {v:?}, expected {expected}")),
                ),
                Err(e) => (false, Some(e.to_string())),
            };
            let nats_up = nats.connection_state() == async_nats::connection::State::Connected;
            let consumers = tillstream_messaging::consumer_health()
                .into_iter()
                .map(|health| Dependency {
                    name: format!("consumer {}", health.consumer).into(),
                    up: !health.stuck,
                    // A stuck consumer needs an operator, not a restart of the process.
                    required: false,
                    detail: Some(format!(
                        "{} waiting, last progress {} s ago, {} restarts",
                        health.waiting, health.seconds_since_progress, health.restarts
                    )),
                });
            let mut dependencies = vec![
                Dependency {
                    name: "postgres".into(),
                    up: db_up,
                    required: true,
                    detail,
                },
                Dependency {
                    name: "nats".into(),
                    up: nats_up,
                    required: false,
                    detail: None,
                },
            ];
            dependencies.extend(consumers);
            dependencies
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings_with_read_url(url: &'static str) -> ServiceSettings {
        ServiceSettings::from_lookup("sales", "127.0.0.1:50063", move |name| {
            (name == "TILLSTREAM_DATABASE_READ_URL").then(|| url.to_owned())
        })
        .unwrap()
    }

    #[tokio::test]
    async fn a_read_url_that_is_no_url_stops_the_start_naming_its_variable() {
        let refused = connect_reads(&settings_with_read_url("not a url")).unwrap_err();
        assert!(
            refused
                .to_string()
                .starts_with("TILLSTREAM_DATABASE_READ_URL"),
            "{refused}"
        );
    }

    #[tokio::test]
    async fn a_read_pool_opens_the_services_own_database_lazily_and_names_itself() {
        // Nothing listens there: a lazy pool does not care until it is used.
        let pool = connect_reads(&settings_with_read_url("postgres://postgres@127.0.0.1:9"))
            .unwrap()
            .unwrap();
        let options = pool.connect_options();
        assert_eq!(options.get_database(), Some("tillstream_sales"));
        assert_eq!(
            options.get_application_name(),
            Some("tillstream sales reads")
        );
        assert!(
            connect_reads(&settings_with_read_url(""))
                .unwrap()
                .is_none()
        );
    }
}
