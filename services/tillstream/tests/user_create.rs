//! `tillstream user create` writes a user into the auth database: password from stdin,
//! policy and uniqueness enforced, a clear message and exit code either way.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::process::Stdio;

use tillstream_test_support::{TestDatabase, database_server_url, unique_name};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

async fn create(db_prefix: &str, username: &str, role: &str, password: &str) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tillstream"))
        .args(["user", "create", "--username", username, "--role", role])
        .env("TILLSTREAM_DB_PREFIX", db_prefix)
        .env("TILLSTREAM_DATABASE_URL", database_server_url())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // A command that refuses its arguments exits before reading the password: the pipe is
    // then closed, and its exit code and message are what the test reads.
    let _ = stdin.write_all(format!("{password}\n").as_bytes()).await;
    drop(stdin);
    let output = child.wait_with_output().await.unwrap();
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

#[tokio::test]
async fn a_user_is_created_once_with_a_password_from_stdin() {
    let db_prefix = unique_name("cli");
    let db = TestDatabase {
        server_url: database_server_url(),
        name: format!("{db_prefix}_auth"),
    };
    let (ok, text) = create(&db_prefix, "Manny", "manager", "store manager pass").await;
    assert!(ok, "{text}");
    assert!(text.contains("created user `manny`"), "{text}");

    let (ok, text) = create(&db_prefix, "manny", "cashier", "another password").await;
    assert!(!ok && text.contains("already taken"), "{text}");
    let (ok, text) = create(&db_prefix, "sam", "cashier", "short").await;
    assert!(!ok && text.contains("8 to 128"), "{text}");
    let (ok, text) = create(&db_prefix, "sam", "owner", "long enough pass").await;
    assert!(!ok && text.contains("owner"), "{text}");

    let pool = db.pool(1).await.unwrap();
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT username, role FROM users ORDER BY username")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(rows, [("manny".to_owned(), "manager".to_owned())]);
    pool.close().await;
}
