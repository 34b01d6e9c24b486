//! One leader per service, however many replicas run: the replica that holds a session
//! advisory lock in the service's database, on a connection of its own, runs the work that
//! must not run twice at once (the relay, the consumers, the projections, the reconciler);
//! the others serve requests and try for the lock every second, so one of them takes over
//! within about a second of the leader's connection closing (a killed process's socket is
//! closed by the kernel, and PostgreSQL releases the lock with it). Decision 0009.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgConnection;
use sqlx::{Connection, PgPool};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// Work only the leader runs: started with a token cancelled when leadership ends (or the
/// process stops), and started again if this replica leads again later.
pub type LeaderTask = Arc<dyn Fn(CancellationToken) -> JoinHandle<()> + Send + Sync>;

/// The advisory lock's key: a class of our own ("TILL") and the leader slot. Advisory locks
/// are per database, and every service has its own, so one key serves every service.
const LOCK_CLASS: i32 = 0x5449_4C4C;
const LOCK_LEADER: i32 = 1;

/// How often a follower tries for the lock, and a leader checks its connection.
pub const LEADER_CHECK: Duration = Duration::from_secs(1);
/// How long connecting, taking the lock or a ping may take: a half-open connection (a
/// database failover, a cut network) must not keep a replica leading on a lock the server
/// has already let go of.
const LOCK_PATIENCE: Duration = Duration::from_secs(3);

/// Takes part in the election until `stop`, running `tasks` while leading.
pub async fn lead(
    service: &'static str,
    pool: PgPool,
    tasks: Vec<LeaderTask>,
    stop: CancellationToken,
) {
    metrics::gauge!("tillstream_leader", "service" => service).set(0.0);
    while !stop.is_cancelled() {
        let attempt = tokio::select! {
            () = stop.cancelled() => break,
            attempt = tokio::time::timeout(LOCK_PATIENCE, try_lock(service, &pool)) => attempt,
        };
        let attempt = attempt.unwrap_or_else(|_| {
            let late = std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer within 3 s");
            Err(sqlx::Error::Io(late))
        });
        match attempt {
            Ok(Some(connection)) => {
                info!(
                    service,
                    "leading: running the relay, consumers and projections"
                );
                metrics::gauge!("tillstream_leader", "service" => service).set(1.0);
                metrics::counter!("tillstream_leader_terms_total", "service" => service)
                    .increment(1);
                hold(connection, &tasks, &stop).await;
                metrics::gauge!("tillstream_leader", "service" => service).set(0.0);
                if !stop.is_cancelled() {
                    warn!(service, "no longer leading: the lock's connection failed");
                }
            }
            Ok(None) => {}
            Err(error) => warn!(service, %error, "cannot take part in the leader election"),
        }
        tokio::select! {
            () = stop.cancelled() => {}
            () = tokio::time::sleep(LEADER_CHECK) => {}
        }
    }
}

/// The lock, on a new connection, if nobody holds it. The connection names the process
/// (`application_name`), so an operator, or a test, can tell which replica leads.
async fn try_lock(service: &str, pool: &PgPool) -> Result<Option<PgConnection>, sqlx::Error> {
    let options = pool
        .connect_options()
        .as_ref()
        .clone()
        .application_name(&leader_application_name(service));
    let mut connection = PgConnection::connect_with(&options).await?;
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
        .bind(LOCK_CLASS)
        .bind(LOCK_LEADER)
        .fetch_one(&mut connection)
        .await?;
    if locked {
        Ok(Some(connection))
    } else {
        connection.close().await?;
        Ok(None)
    }
}

/// Runs `tasks` while `connection` answers (within [`LOCK_PATIENCE`]) and the process
/// runs, starting again any that ended on its own; then stops them and waits for them
/// before the lock goes with the connection.
async fn hold(mut connection: PgConnection, tasks: &[LeaderTask], stop: &CancellationToken) {
    let term = stop.child_token();
    let mut running: Vec<JoinHandle<()>> = tasks.iter().map(|task| task(term.clone())).collect();
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(LEADER_CHECK) => {
                let ping = tokio::time::timeout(LOCK_PATIENCE, connection.ping()).await;
                if !matches!(ping, Ok(Ok(()))) {
                    break;
                }
                for (task, handle) in tasks.iter().zip(running.iter_mut()) {
                    if handle.is_finished() && !term.is_cancelled() {
                        warn!("a leader's task ended on its own; starting it again");
                        *handle = task(term.clone());
                    }
                }
            }
        }
    }
    term.cancel();
    for task in running {
        if let Err(error) = task.await
            && error.is_panic()
        {
            warn!(%error, "a leader's task panicked");
        }
    }
    // Closing the connection releases the lock; a broken one is already gone.
    let _ = connection.close().await;
}

/// What the leader's lock connection calls itself in `pg_stat_activity`:
/// `tillstream sales leader on till-host pid 4242` (the host is a pod's name on Kubernetes,
/// where every process may be pid 1).
pub fn leader_application_name(service: &str) -> String {
    leader_application_name_of(service, &host_name(), std::process::id())
}

/// [`leader_application_name`] of process `pid` on `host`, within PostgreSQL's 63 bytes.
pub fn leader_application_name_of(
    service: &str,
    host: &str,
    pid: impl std::fmt::Display,
) -> String {
    let host: String = host.chars().take(24).collect();
    format!("tillstream {service} leader on {host} pid {pid}")
}

/// `HOSTNAME` (set in containers), else the kernel's, else `-`.
pub fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "-".to_owned())
}
