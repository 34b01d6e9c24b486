//! The whole system under `tillstream up` on the suite's private PostgreSQL and NATS, with
//! the pid of every process as `up` last reported it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tillstream_test_support::{free_port, unique_name};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

pub const ADMIN_PASSWORD: &str = "fault-suite-admin-1";

pub struct Stack {
    pub url: String,
    pub prefix: String,
    pub db_prefix: String,
    pub pg_url: String,
    pub nats_url: String,
    pids: Arc<Mutex<HashMap<String, i32>>>,
    up: Child,
    ready: mpsc::UnboundedReceiver<()>,
}

impl Stack {
    pub async fn up(pg_url: &str, nats_url: &str) -> Stack {
        let prefix = unique_name("flt");
        let http_addr = format!("127.0.0.1:{}", free_port().unwrap());
        let mut command = Command::new(env!("CARGO_BIN_EXE_tillstream"));
        command
            .arg("up")
            .env("TILLSTREAM_SUBJECT_PREFIX", &prefix)
            .env("TILLSTREAM_DB_PREFIX", &prefix)
            .env("TILLSTREAM_DATABASE_URL", pg_url)
            .env("TILLSTREAM_NATS_URL", nats_url)
            .env("TILLSTREAM_HTTP_ADDR", &http_addr)
            .env(
                "TILLSTREAM_GRPC_ADDR",
                format!("127.0.0.1:{}", free_port().unwrap()),
            )
            .env("TILLSTREAM_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("TILLSTREAM_RATE_LIMIT_USER_RPS", "0")
            .env("TILLSTREAM_RATE_LIMIT_ADDR_RPS", "0")
            .env("RUST_LOG", "error")
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true);
        for service in tillstream_service::addrs::SERVICES {
            let addr = format!("127.0.0.1:{}", free_port().unwrap());
            command.env(format!("TILLSTREAM_{}_ADDR", service.to_uppercase()), addr);
        }
        let mut up = command.spawn().unwrap();
        let stdout = up.stdout.take().unwrap();
        let pids = Arc::new(Mutex::new(HashMap::new()));
        let (ready_tx, ready) = mpsc::unbounded_channel();
        tokio::spawn({
            let pids = pids.clone();
            async move {
                let mut reader = BufReader::new(stdout).lines();
                while let Ok(Some(line)) = reader.next_line().await {
                    eprintln!("up| {line}");
                    if let Some(rest) = line.strip_prefix("tillstream: started ") {
                        let name = rest.split_whitespace().next().unwrap_or_default();
                        let pid = rest
                            .split("(pid ")
                            .nth(1)
                            .and_then(|r| r.split(')').next())
                            .and_then(|p| p.parse().ok())
                            .unwrap_or_default();
                        pids.lock().unwrap().insert(name.to_owned(), pid);
                    }
                    if line.starts_with("tillstream: ready") {
                        let _ = ready_tx.send(());
                    }
                }
            }
        });
        let mut stack = Stack {
            url: format!("http://{http_addr}"),
            db_prefix: prefix.clone(),
            prefix,
            pg_url: pg_url.to_owned(),
            nats_url: nats_url.to_owned(),
            pids,
            up,
            ready,
        };
        tokio::time::timeout(Duration::from_secs(180), stack.ready.recv())
            .await
            .expect("the stack is ready within 180 s")
            .expect("up printed its ready line");
        stack
    }

    pub fn pid(&self, process: &str) -> i32 {
        self.pids.lock().unwrap()[process]
    }

    /// Waits until `up` has started `process` again under a new pid.
    pub async fn restarted(&self, process: &str, old: i32) -> i32 {
        for _ in 0..1_200 {
            let pid = self.pid(process);
            if pid != old {
                return pid;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("up did not restart {process} within 60 s");
    }

    pub fn database(&self, service: &str) -> String {
        format!("{}/{}_{service}", self.pg_url, self.db_prefix)
    }

    /// SIGTERM to `up`: it stops every child.
    pub async fn stop(mut self) {
        let pid = i32::try_from(self.up.id().unwrap()).unwrap();
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGTERM,
        );
        let _ = tokio::time::timeout(Duration::from_secs(30), self.up.wait()).await;
    }
}
