//! Connecting to a service's own database: created if missing, migrated with sqlx.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, ConnectOptions, Executor, PgPool};

use crate::StoreError;

/// The event-store tables are tracked in their own migrations table so each service keeps
/// `_sqlx_migrations` for its own read models.
const EVENT_STORE_MIGRATIONS_TABLE: &str = "_eventstore_migrations";

/// How to reach one service's database.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// The server, without a database name: `postgres://postgres@127.0.0.1:5432`.
    pub server_url: String,
    /// The database to use (created if missing), e.g. `tillstream_sales`.
    pub database: String,
    pub max_connections: u32,
    /// A transaction left open holds back every gap-safe reader; PostgreSQL ends one that
    /// stays idle longer than this.
    pub idle_in_transaction_timeout: Duration,
}

impl DatabaseConfig {
    pub fn new(server_url: impl Into<String>, database: impl Into<String>) -> Self {
        DatabaseConfig {
            server_url: server_url.into(),
            database: database.into(),
            max_connections: 16,
            idle_in_transaction_timeout: Duration::from_secs(10),
        }
    }

    fn server_options(&self) -> Result<PgConnectOptions, StoreError> {
        Ok(PgConnectOptions::from_str(&self.server_url)?
            .log_statements(tracing::log::LevelFilter::Trace))
    }
}

/// Creates the database if missing, connects a pool and runs the event-store migrations.
pub async fn connect(config: &DatabaseConfig) -> Result<PgPool, StoreError> {
    create_database_if_missing(config).await?;
    let timeout_ms = config.idle_in_transaction_timeout.as_millis().to_string();
    let options = config
        .server_options()?
        .database(&config.database)
        .options([("idle_in_transaction_session_timeout", timeout_ms.as_str())]);
    // No ping before each checkout: it was a round trip more for every statement and
    // transaction (sqlx pings on release anyway, and closes a connection that fails it); a
    // connection broken since fails the one statement given it, which is retried as any.
    let pool = PgPoolOptions::new()
        .max_connections(config.max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire(false)
        .connect_with(options)
        .await?;
    migrate(&pool).await?;
    Ok(pool)
}

/// Runs the event-store migrations (idempotent).
pub async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    let mut migrator: Migrator = sqlx::migrate!("../../migrations/eventstore");
    migrator.dangerous_set_table_name(EVENT_STORE_MIGRATIONS_TABLE);
    migrator.run(pool).await?;
    Ok(())
}

/// Creates `config.database` unless it exists; safe when several processes race to do it.
pub async fn create_database_if_missing(config: &DatabaseConfig) -> Result<(), StoreError> {
    let mut admin = config
        .server_options()?
        .database("postgres")
        .connect()
        .await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&config.database)
            .fetch_one(&mut admin)
            .await?;
    if !exists {
        let create = format!("CREATE DATABASE {}", quote_ident(&config.database));
        match admin.execute(AssertSqlSafe(create)).await {
            Ok(_) => tracing::info!(database = %config.database, "created database"),
            // 42P04 duplicate_database, 23505 when two creators race on the catalog.
            Err(sqlx::Error::Database(e))
                if matches!(e.code().as_deref(), Some("42P04" | "23505")) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Drops a database, ending its sessions first (for tests and `ops` tooling).
pub async fn drop_database(server_url: &str, database: &str) -> Result<(), StoreError> {
    let mut admin = PgConnectOptions::from_str(server_url)?
        .database("postgres")
        .connect()
        .await?;
    let drop = format!(
        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
        quote_ident(database)
    );
    admin.execute(AssertSqlSafe(drop)).await?;
    Ok(())
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
