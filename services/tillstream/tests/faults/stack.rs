//! The whole system under `tillstream up --replicas 2` on the suite's private PostgreSQL and
//! NATS, with the pid of every process as `up` last reported it (`sales`, `sales-2`, …).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tillstream_test_support::{free_port, unique_name};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

pub const ADMIN_PASSWORD: &str = "fault-suite-admin-1";
/// Replicas of every service (the gateway runs once).
pub const REPLICAS: usize = 2;

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
            .args(["up", "--replicas", &REPLICAS.to_string()])
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

    /// The names `up` gives `service`'s replicas: `sales`, `sales-2`.
    pub fn replicas(service: &str) -> Vec<String> {
        (1..=REPLICAS)
            .map(|n| match n {
                1 => service.to_owned(),
                n => format!("{service}-{n}"),
            })
            .collect()
    }

    /// The replica of `service` that holds the leader's lock now, by the process id its
    /// lock connection names (`tillstream_service::leader::leader_application_name`).
    pub async fn leader(&self, service: &str) -> String {
        let db = sqlx::PgPool::connect(&self.database(service))
            .await
            .unwrap();
        let mut leader = None;
        for _ in 0..300 {
            let names: Vec<String> = sqlx::query_scalar(
                "SELECT application_name FROM pg_stat_activity JOIN pg_locks USING (pid)
                  WHERE locktype = 'advisory' AND classid = 1414089804 AND granted",
            )
            .fetch_all(&db)
            .await
            .unwrap();
            let pids = self.pids.lock().unwrap().clone();
            leader = names.iter().find_map(|name| {
                pids.iter()
                    .find(|(_, pid)| {
                        tillstream_service::leader::leader_application_name_of(
                            service,
                            &tillstream_service::leader::host_name(),
                            pid,
                        ) == *name
                    })
                    .map(|(process, _)| process.clone())
            });
            if leader.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        db.close().await;
        leader.unwrap_or_else(|| panic!("no replica of {service} leads within 30 s"))
    }

    /// Deadlocks PostgreSQL has counted in the stack's databases since its last start.
    pub async fn deadlocks(&self) -> i64 {
        let db = sqlx::PgPool::connect(&format!("{}/postgres", self.pg_url))
            .await
            .unwrap();
        let count: i64 = sqlx::query_scalar(
            "SELECT coalesce(sum(deadlocks), 0)::bigint FROM pg_stat_database
              WHERE datname LIKE $1 || '\\_%'",
        )
        .bind(&self.db_prefix)
        .fetch_one(&db)
        .await
        .unwrap();
        db.close().await;
        count
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
