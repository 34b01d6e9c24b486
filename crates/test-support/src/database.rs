//! A database of its own for each test, dropped with the fixture.

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, ConnectOptions, Executor, PgPool};

use crate::{block_on_fresh_runtime, database_server_url, unique_name};

/// A freshly created, empty database. Dropping it drops the database.
#[derive(Debug)]
pub struct TestDatabase {
    pub server_url: String,
    pub name: String,
}

impl TestDatabase {
    /// Creates an empty database with a unique name on the test server.
    pub async fn create() -> anyhow::Result<Self> {
        let server_url = database_server_url();
        let name = unique_name("tst");
        let mut admin = PgConnectOptions::from_str(&server_url)?
            .database("postgres")
            .connect()
            .await?;
        admin
            .execute(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .await?;
        Ok(TestDatabase { server_url, name })
    }

    /// A pool on the test database.
    pub async fn pool(&self, max_connections: u32) -> anyhow::Result<PgPool> {
        let options = PgConnectOptions::from_str(&self.server_url)?.database(&self.name);
        Ok(PgPoolOptions::new()
            .max_connections(max_connections)
            .connect_with(options)
            .await?)
    }
}

/// Waits until a session on `pool`'s database waits for a lock the backend `holder` (its
/// `pg_backend_pid()`) holds: a writer under test has queued behind it.
pub async fn blocked_by(pool: &PgPool, holder: i32) {
    crate::eventually("a session waits for the lock's holder", || async {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
        )
        .bind(holder)
        .fetch_one(pool)
        .await
        .ok()?;
        (waiting > 0).then_some(())
    })
    .await;
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let server_url = self.server_url.clone();
        let name = self.name.clone();
        block_on_fresh_runtime(async move {
            let dropped = async {
                let mut admin = PgConnectOptions::from_str(&server_url)?
                    .database("postgres")
                    .connect()
                    .await?;
                admin
                    .execute(AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                    )))
                    .await?;
                anyhow::Ok(())
            };
            if let Err(error) = dropped.await {
                eprintln!("could not drop test database {name}: {error}");
            }
        });
    }
}
