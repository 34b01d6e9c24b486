//! The whole system started the way an operator starts it: `tillstream up` as a child
//! process, on a private subject prefix, private databases and a free gateway port.

use std::collections::HashMap;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tillstream_test_support::{
    TestDatabase, TestPrefix, block_on_fresh_runtime, database_server_url, free_port, nats_url,
    unique_name,
};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use tillstream_service::addrs::SERVICES;

pub struct System {
    pub url: String,
    /// The gateway's gRPC side, `http://host:port`.
    pub grpc_url: String,
    /// `TILLSTREAM_SUBJECT_PREFIX` of this system.
    pub subject_prefix: String,
    /// Each service's `http://host:port` (gRPC and its operations endpoints).
    pub service_urls: HashMap<String, String>,
    pub admin_password: String,
    /// `TILLSTREAM_DB_PREFIX` of this system: service `s` keeps its data in `{prefix}_{s}`.
    pub db_prefix: String,
    /// The pid of each process, as `up` last reported it.
    pub pids: HashMap<String, i32>,
    up: Child,
    lines: mpsc::UnboundedReceiver<String>,
    _databases: Vec<TestDatabase>,
    prefix: TestPrefix,
}

impl System {
    /// Runs `tillstream up` and waits for its "ready" line.
    pub async fn up() -> System {
        System::up_with(&[]).await
    }

    /// Runs `tillstream up` with `args` (`--replicas 2`) and waits for its "ready" line.
    pub async fn up_with(args: &[&str]) -> System {
        System::up_with_env(args, &[]).await
    }

    /// `up_with`, the processes' environment also holding `env`.
    pub async fn up_with_env(args: &[&str], env: &[(&str, &str)]) -> System {
        let prefix = TestPrefix::new();
        let db_prefix = unique_name("e2e");
        let http_addr = format!("127.0.0.1:{}", free_port().unwrap());
        let grpc_addr = format!("127.0.0.1:{}", free_port().unwrap());
        let mut command = Command::new(env!("CARGO_BIN_EXE_tillstream"));
        command
            .arg("up")
            .args(args)
            .env("TILLSTREAM_SUBJECT_PREFIX", &prefix.prefix)
            .env("TILLSTREAM_DB_PREFIX", &db_prefix)
            .env("TILLSTREAM_DATABASE_URL", database_server_url())
            .env("TILLSTREAM_NATS_URL", nats_url())
            .env("TILLSTREAM_HTTP_ADDR", &http_addr)
            .env("TILLSTREAM_GRPC_ADDR", &grpc_addr)
            .env("RUST_LOG", "warn")
            // The tests' webhook receivers listen on loopback.
            .env("TILLSTREAM_WEBHOOKS_ALLOW_PRIVATE", "true")
            .env_remove("TILLSTREAM_ADMIN_PASSWORD")
            // Two stacks run at once against one PostgreSQL of 100 connections: at the default
            // 16 per process a busy pair passed it (a test's own connection then timed out).
            .env("TILLSTREAM_DB_POOL_SIZE", "6")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true);
        let mut service_urls = HashMap::new();
        for service in SERVICES {
            let addr = format!("127.0.0.1:{}", free_port().unwrap());
            command.env(format!("TILLSTREAM_{}_ADDR", service.to_uppercase()), &addr);
            service_urls.insert(service.to_owned(), format!("http://{addr}"));
        }
        let mut up = command.spawn().unwrap();
        let databases = SERVICES
            .iter()
            .map(|service| TestDatabase {
                server_url: database_server_url(),
                name: format!("{db_prefix}_{service}"),
            })
            .collect();
        let stdout = up.stdout.take().unwrap();
        let (sender, lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                eprintln!("up| {line}");
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut system = System {
            url: format!("http://{http_addr}"),
            grpc_url: format!("http://{grpc_addr}"),
            service_urls,
            subject_prefix: prefix.prefix.clone(),
            admin_password: String::new(),
            db_prefix: db_prefix.clone(),
            pids: HashMap::new(),
            up,
            lines,
            _databases: databases,
            prefix,
        };
        system.wait_for_line("tillstream: ready").await;
        // The generated password follows the ready line.
        let line = system.wait_for_line("log in as `admin`").await;
        system.admin_password = line
            .split("with password ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .expect("up prints the generated admin password")
            .to_owned();
        system
    }

    /// Reads `up`'s output until a line containing `needle`; returns that line. Notes the
    /// pid of every process it sees started.
    pub async fn wait_for_line(&mut self, needle: &str) -> String {
        let wait = async {
            while let Some(line) = self.lines.recv().await {
                if let Some(rest) = line.strip_prefix("tillstream: started ") {
                    let name = rest.split_whitespace().next().unwrap_or_default();
                    self.pids.insert(name.to_owned(), pid_in(&line));
                }
                if line.contains(needle) {
                    return line;
                }
            }
            panic!("`tillstream up` ended before printing {needle:?}");
        };
        tokio::time::timeout(Duration::from_secs(120), wait)
            .await
            .unwrap_or_else(|_| panic!("no {needle:?} from `tillstream up` within 120 s"))
    }

    /// SIGTERM to `up`; it must stop every child and exit cleanly.
    pub async fn stop(mut self) {
        let pid = i32::try_from(self.up.id().unwrap()).unwrap();
        kill(Pid::from_raw(pid), Signal::SIGTERM).unwrap();
        let status = tokio::time::timeout(Duration::from_secs(30), self.up.wait())
            .await
            .expect("up stops within 30 s")
            .unwrap();
        assert!(status.success(), "up exited with {status}");
    }
}

/// A system the test did not `stop` is stopped the same way before its streams and
/// databases go (those fields drop after this): killing `up` outright left its processes
/// shutting down on their own, and a relay still in its first round made its stream again
/// after the test's clean-up had deleted it.
impl Drop for System {
    fn drop(&mut self) {
        let Some(pid) = self.up.id().and_then(|pid| i32::try_from(pid).ok()) else {
            return;
        };
        if kill(Pid::from_raw(pid), Signal::SIGTERM).is_err() {
            return;
        }
        // `up` reaps its processes as they stop; `up` itself is reaped by this runtime later.
        let processes: Vec<i32> = self.pids.values().copied().collect();
        block_on_fresh_runtime(async move {
            let stopped = async {
                while processes.iter().any(|&pid| alive(pid)) {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            };
            if tokio::time::timeout(Duration::from_secs(30), stopped)
                .await
                .is_err()
            {
                eprintln!("e2e: `up`'s processes were still running 30 s after SIGTERM");
            }
        });
    }
}

/// The pid in a "started <process> (pid N)" line.
pub fn pid_in(line: &str) -> i32 {
    line.split("(pid ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("no pid in {line:?}"))
}

/// Whether a process is still there.
pub fn alive(pid: i32) -> bool {
    kill(Pid::from_raw(pid), None).is_ok()
}

impl System {
    /// Runs `tillstream ARGS` against this system; its exit status, stdout's JSON lines and
    /// stderr.
    pub async fn cli(&self, args: &[&str]) -> (bool, Vec<serde_json::Value>, String) {
        let output = Command::new(env!("CARGO_BIN_EXE_tillstream"))
            .args(args)
            .env("TILLSTREAM_SUBJECT_PREFIX", &self.subject_prefix)
            .env("TILLSTREAM_DB_PREFIX", &self.db_prefix)
            .env("TILLSTREAM_DATABASE_URL", database_server_url())
            .env("TILLSTREAM_NATS_URL", nats_url())
            .output()
            .await
            .unwrap();
        let lines = String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (
            output.status.success(),
            lines,
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// As [`System::cli`], for a command that must succeed: its JSON lines.
    pub async fn cli_ok(&self, args: &[&str]) -> Vec<serde_json::Value> {
        let (ok, lines, stderr) = self.cli(args).await;
        assert!(ok, "tillstream {args:?}: {stderr}");
        lines
    }

    /// Waits until every consumer of this system has acknowledged all it was sent.
    pub async fn consumers_settled(&self) {
        self.prefix.all_consumers_settled().await;
    }

    /// A connection pool on service `service`'s database.
    pub async fn database(&self, service: &str) -> sqlx::PgPool {
        let url = format!("{}/{}_{service}", database_server_url(), self.db_prefix);
        sqlx::PgPool::connect(&url).await.unwrap()
    }
}
