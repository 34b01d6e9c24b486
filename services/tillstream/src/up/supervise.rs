//! The children of `up`: one supervisor task per process that starts it, restarts it when it
//! dies (with a growing pause, so a process that cannot start does not spin), and on
//! shutdown sends it SIGTERM and waits for it to drain.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::Plan;
use crate::cli::Process;
use crate::serve::SUPERVISED;

const FIRST_PAUSE: Duration = Duration::from_millis(500);
const LONGEST_PAUSE: Duration = Duration::from_secs(30);
/// A child that ran this long before dying is restarted without delay growth.
const HEALTHY_RUN: Duration = Duration::from_secs(60);
/// How long a child may take to drain after SIGTERM before it is killed.
const DRAIN: Duration = Duration::from_secs(10);

/// Starts a supervisor for every replica of every process; each ends once `shutdown` has
/// stopped its child.
pub fn start_all(plan: &Plan, shutdown: &CancellationToken) -> Vec<JoinHandle<()>> {
    Process::ALL
        .into_iter()
        .flat_map(|process| (0..plan.replicas_of(process)).map(move |replica| (process, replica)))
        .map(|(process, replica)| {
            tokio::spawn(supervise(process, replica, plan.clone(), shutdown.clone()))
        })
        .collect()
}

/// A replica's name in `up`'s lines: the process's for the first (`sales`), then `sales-2`.
fn replica_name(process: Process, replica: usize) -> String {
    match replica {
        0 => process.name().to_owned(),
        n => format!("{}-{}", process.name(), n + 1),
    }
}

async fn supervise(process: Process, replica: usize, plan: Plan, shutdown: CancellationToken) {
    let name = replica_name(process, replica);
    let name = name.as_str();
    let mut pause = FIRST_PAUSE;
    while !shutdown.is_cancelled() {
        let started = Instant::now();
        match spawn(process, replica, &plan) {
            Ok(mut child) => {
                let pid = child.id().unwrap_or_default();
                let addr = plan
                    .addr_of(process, replica)
                    .map_or_else(String::new, |a| a.to_string());
                println!("tillstream: started {name} (pid {pid}) on {addr}");
                tokio::select! {
                    status = child.wait() => {
                        if shutdown.is_cancelled() {
                            return;
                        }
                        let status = status.map_or_else(|e| e.to_string(), |s| s.to_string());
                        eprintln!("tillstream: {name} (pid {pid}) exited ({status}); restarting");
                    }
                    () = shutdown.cancelled() => {
                        stop(name, &mut child).await;
                        return;
                    }
                }
            }
            Err(error) => eprintln!("tillstream: cannot start {name}: {error}"),
        }
        if started.elapsed() >= HEALTHY_RUN {
            pause = FIRST_PAUSE;
        }
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = shutdown.cancelled() => return,
        }
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

/// `tillstream serve <process>` from this same executable, in its own process group so a
/// terminal's Ctrl-C reaches `up` alone and `up` decides the order of things.
fn spawn(process: Process, replica: usize, plan: &Plan) -> std::io::Result<Child> {
    let exe = std::env::current_exe()?;
    Command::new(exe)
        .arg("serve")
        .arg(process.name())
        .envs(plan.child_env(process, replica))
        .env(SUPERVISED, std::process::id().to_string())
        .process_group(0)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()
}

async fn stop(name: &str, child: &mut Child) {
    let Some(pid) = child.id().and_then(|id| i32::try_from(id).ok()) else {
        return;
    };
    if kill(Pid::from_raw(pid), Signal::SIGTERM).is_err() {
        return;
    }
    if tokio::time::timeout(DRAIN, child.wait()).await.is_err() {
        eprintln!(
            "tillstream: {name} did not stop within {}s; killing it",
            DRAIN.as_secs()
        );
        let _ = child.kill().await;
    }
}

/// Polls the gateway's `/readyz` until it answers 200, or `within` passes.
pub async fn wait_ready(addr: SocketAddr, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if ready(addr).await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

/// One `GET /readyz` in plain HTTP/1.1: all `up` needs of an HTTP client.
async fn ready(addr: SocketAddr) -> bool {
    let attempt = async {
        let mut stream = TcpStream::connect(addr).await?;
        stream
            .write_all(b"GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await?;
        Ok::<bool, std::io::Error>(head.starts_with(b"HTTP/1.1 200"))
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), attempt).await,
        Ok(Ok(true))
    )
}
