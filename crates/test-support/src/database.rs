//! A database of its own for each test, dropped with the fixture.

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, ConnectOptions, Executor, PgPool, Postgres, Transaction};

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

/// A transaction holding one row as another writer would, to show that the writer under
/// test queues behind it instead of taking a second row first.
#[derive(Debug)]
pub struct HeldRow {
    tx: Transaction<'static, Postgres>,
    pid: i32,
    pool: PgPool,
    lock: &'static str,
}

/// Takes the row `lock` names (a `SELECT … FOR UPDATE` of `$1` = `value`).
pub async fn holding(pool: &PgPool, lock: &'static str, value: &str) -> HeldRow {
    let held = async {
        let mut tx = pool.begin().await?;
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query(lock).bind(value).fetch_one(&mut *tx).await?;
        Ok::<_, sqlx::Error>((tx, pid))
    };
    match held.await {
        Ok((tx, pid)) => HeldRow {
            tx,
            pid,
            pool: pool.clone(),
            lock,
        },
        Err(error) => panic!("holding {value} ({lock}): {error}"),
    }
}

impl HeldRow {
    /// Once a session queues behind the held row, takes the row of `next` by the same lock
    /// without waiting, then commits: `Err` when someone (the writer under test) holds it.
    pub async fn next_once_queued(mut self, next: &str) -> Result<(), sqlx::Error> {
        blocked_by(&self.pool, self.pid).await;
        sqlx::query(AssertSqlSafe(format!("{} NOWAIT", self.lock)))
            .bind(next)
            .fetch_one(&mut *self.tx)
            .await?;
        self.tx.commit().await
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
