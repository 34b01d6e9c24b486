//! `tillstream up` where nothing answers at the configured NATS and PostgreSQL addresses:
//! it starts private ones there with their data under `./.tillstream/`, says so, runs the
//! system on them, and stops them when it stops.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tillstream_test_support::free_port;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

#[tokio::test]
async fn up_starts_private_servers_when_none_answer_and_stops_them() {
    let dir = std::env::temp_dir().join(format!("tillstream-private-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let [nats, postgres, http, grpc] = [(); 4].map(|()| free_port().unwrap());
    let mut up = Command::new(env!("CARGO_BIN_EXE_tillstream"))
        .arg("up")
        .current_dir(&dir)
        .env("TILLSTREAM_NATS_URL", format!("nats://127.0.0.1:{nats}"))
        .env(
            "TILLSTREAM_DATABASE_URL",
            format!("postgres://postgres@127.0.0.1:{postgres}"),
        )
        .env("TILLSTREAM_HTTP_ADDR", format!("127.0.0.1:{http}"))
        .env("TILLSTREAM_GRPC_ADDR", format!("127.0.0.1:{grpc}"))
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(up.stdout.take().unwrap()).lines();
    let mut said = Vec::new();
    let ready = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            eprintln!("up| {line}");
            let done = line.contains("ready in");
            said.push(line);
            if done {
                return;
            }
        }
        panic!("up ended before it was ready");
    })
    .await;
    assert!(ready.is_ok(), "not ready in 120 s: {said:?}");
    assert!(
        said.iter()
            .any(|l| l.contains("started a private nats-server"))
    );
    assert!(
        said.iter()
            .any(|l| l.contains("started a private PostgreSQL"))
    );
    let readyz = reqwest::get(format!("http://127.0.0.1:{http}/readyz"))
        .await
        .unwrap();
    assert!(readyz.status().is_success());
    assert!(dir.join(".tillstream/postgres/PG_VERSION").is_file());

    kill(
        Pid::from_raw(i32::try_from(up.id().unwrap()).unwrap()),
        Signal::SIGTERM,
    )
    .unwrap();
    let mut rest = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        rest.push(line);
    }
    let status = tokio::time::timeout(Duration::from_secs(60), up.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{rest:?}");
    assert!(
        rest.iter()
            .any(|l| l.contains("stopped the private PostgreSQL")),
        "{rest:?}"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", postgres)).is_err(),
        "PostgreSQL still answers"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", nats)).is_err(),
        "NATS still answers"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
