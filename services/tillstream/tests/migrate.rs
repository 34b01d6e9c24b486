//! `tillstream migrate` prepares everything a deployment needs and exits: every service's
//! database migrated, the streams, the bootstrap admin.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use tillstream_test_support::{
    TestDatabase, TestPrefix, database_server_url, nats_url, unique_name,
};

#[tokio::test]
async fn migrate_creates_every_database_and_exits() {
    let prefix = TestPrefix::new();
    let db_prefix = unique_name("mig");
    let databases: Vec<TestDatabase> = tillstream_service::addrs::SERVICES
        .iter()
        .map(|service| TestDatabase {
            server_url: database_server_url(),
            name: format!("{db_prefix}_{service}"),
        })
        .collect();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_tillstream"))
        .arg("migrate")
        .env("TILLSTREAM_DB_PREFIX", &db_prefix)
        .env("TILLSTREAM_SUBJECT_PREFIX", &prefix.prefix)
        .env("TILLSTREAM_DATABASE_URL", database_server_url())
        .env("TILLSTREAM_NATS_URL", nats_url())
        .env("TILLSTREAM_ADMIN_PASSWORD", "correct horse battery")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!("streams under `{}` are ready", prefix.prefix)),
        "{stdout}"
    );
    assert!(
        !stdout.contains("password"),
        "a configured password is not printed"
    );
    for database in &databases {
        let pool = database.pool(1).await.unwrap();
        let migrated: i64 =
            sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert!(migrated >= 1, "{}", database.name);
        pool.close().await;
    }
    let pool = databases[0].pool(1).await.unwrap();
    let admins: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE username = 'admin'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(admins, 1);
    pool.close().await;
}
