//! Private NATS and PostgreSQL for `up` on a laptop: when nothing answers at the configured
//! loopback address and the server's programs are on the PATH (`nats-server`; `initdb` and
//! `pg_ctl`), `up` starts its own there, with the data under `./.tillstream/`, says so, and
//! stops them when it stops. A remote address that does not answer is an error instead.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use std::process::Stdio;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// Where private servers keep their data and logs.
const HOME: &str = ".tillstream";

/// What `up` started, to stop when it stops.
#[derive(Debug, Default)]
pub struct PrivateServers {
    nats: Option<Child>,
    postgres_data: Option<PathBuf>,
}

impl PrivateServers {
    /// Starts whatever is missing; the URLs stay as configured.
    pub async fn ensure(
        lookup: &impl Fn(&str) -> Option<String>,
    ) -> Result<PrivateServers, String> {
        let mut servers = PrivateServers::default();
        let nats_url =
            lookup("TILLSTREAM_NATS_URL").unwrap_or_else(|| "nats://127.0.0.1:4222".to_owned());
        let nats = address_of(&nats_url, 4222)?;
        if !answers(nats).await {
            servers.nats = Some(start_nats(&nats_url, nats).await?);
        }
        let database_url = lookup("TILLSTREAM_DATABASE_URL")
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432".to_owned());
        // A server on this machine's socket (`postgres://user@%2Fvar%2Frun%2Fpostgresql`) is
        // the operator's own: `up` never starts one there.
        if !on_a_socket(&database_url) {
            let postgres = address_of(&database_url, 5432)?;
            if !answers(postgres).await {
                servers.postgres_data = Some(start_postgres(&database_url, postgres).await?);
            }
        }
        Ok(servers)
    }

    /// Stops what `ensure` started.
    pub async fn stop(mut self) {
        if let Some(mut nats) = self.nats.take() {
            if let Some(pid) = nats.id().and_then(|pid| i32::try_from(pid).ok()) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGTERM,
                );
            }
            let _ = nats.wait().await;
            println!("tillstream: stopped the private nats-server");
        }
        if let Some(data) = self.postgres_data.take() {
            let _ = as_postgres_owner(Command::new(program("pg_ctl")))
                .args(["-D", &data.to_string_lossy(), "stop", "-m", "fast"])
                .stdout(Stdio::null())
                .status()
                .await;
            println!("tillstream: stopped the private PostgreSQL");
        }
    }
}

/// The `host[:port]` of a `scheme://[user@]host[:port][/…]` URL.
fn host_port_of(url: &str) -> &str {
    let rest = url.split("://").nth(1).unwrap_or(url);
    let authority = rest.split('/').next().unwrap_or(rest);
    authority.rsplit('@').next().unwrap_or(authority)
}

/// `host:port` of a URL; only loopback hosts qualify.
fn address_of(url: &str, default_port: u16) -> Result<SocketAddr, String> {
    let host_port = host_port_of(url);
    let with_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:{default_port}")
    };
    let with_port = with_port.replace("localhost", "127.0.0.1");
    with_port.parse().map_err(|_| {
        format!("`{url}` does not answer, and it is not a loopback address `up` could serve")
    })
}

/// Whether the URL's host is a Unix socket's directory (percent-encoded, as sqlx and libpq
/// both read it).
fn on_a_socket(url: &str) -> bool {
    host_port_of(url)
        .get(..3)
        .is_some_and(|start| start.eq_ignore_ascii_case("%2f"))
}

async fn answers(addr: SocketAddr) -> bool {
    matches!(
        tokio::time::timeout(Duration::from_secs(1), TcpStream::connect(addr)).await,
        Ok(Ok(_))
    )
}

/// `name` from the PATH, or PostgreSQL's versioned directory on Debian.
fn program(name: &str) -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    on_path.unwrap_or_else(|| {
        std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|versions| {
                versions
                    .filter_map(Result::ok)
                    .map(|v| v.path().join("bin").join(name))
                    .find(|candidate| candidate.is_file())
            })
            .unwrap_or_else(|| PathBuf::from(name))
    })
}

fn installed(name: &str) -> bool {
    program(name).is_file()
}

async fn start_nats(url: &str, addr: SocketAddr) -> Result<Child, String> {
    if !installed("nats-server") {
        return Err(format!(
            "nothing answers at {url}, and nats-server is not on the PATH to start one"
        ));
    }
    let home = std::fs::canonicalize(".")
        .map_err(|e| e.to_string())?
        .join(HOME);
    let data = home.join("nats");
    std::fs::create_dir_all(&data).map_err(|e| format!("{}: {e}", data.display()))?;
    let log = std::fs::File::create(home.join("nats.log")).map_err(|e| e.to_string())?;
    let child = Command::new(program("nats-server"))
        .args([
            "-a",
            &addr.ip().to_string(),
            "-p",
            &addr.port().to_string(),
            "-js",
        ])
        .arg("-sd")
        .arg(&data)
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("starting nats-server: {e}"))?;
    wait_until_answers(addr, "nats-server").await?;
    println!(
        "tillstream: nothing answered at {url}; started a private nats-server there (data in {})",
        data.display()
    );
    Ok(child)
}

async fn start_postgres(url: &str, addr: SocketAddr) -> Result<PathBuf, String> {
    if !installed("initdb") || !installed("pg_ctl") {
        return Err(format!(
            "nothing answers at {url}, and initdb and pg_ctl are not on the PATH to start PostgreSQL"
        ));
    }
    let home = std::fs::canonicalize(".")
        .map_err(|e| e.to_string())?
        .join(HOME);
    let data = home.join("postgres");
    if !data.join("PG_VERSION").is_file() {
        std::fs::create_dir_all(&data).map_err(|e| format!("{}: {e}", data.display()))?;
        hand_to_postgres_owner(&home, &data);
        let status = as_postgres_owner(Command::new(program("initdb")))
            .args([
                "-D",
                &data.to_string_lossy(),
                "-U",
                "postgres",
                "--auth=trust",
            ])
            .stdout(Stdio::null())
            .status()
            .await
            .map_err(|e| format!("initdb: {e}"))?;
        if !status.success() {
            return Err(format!("initdb failed ({status}) for {}", data.display()));
        }
    }
    let options = format!(
        "-p {} -c listen_addresses={} -k {}",
        addr.port(),
        addr.ip(),
        std::env::temp_dir().display()
    );
    let status = as_postgres_owner(Command::new(program("pg_ctl")))
        .args(["-D", &data.to_string_lossy(), "-o", &options, "-w", "-l"])
        .arg(home.join("postgres.log"))
        .arg("start")
        .stdout(Stdio::null())
        .status()
        .await
        .map_err(|e| format!("pg_ctl: {e}"))?;
    if !status.success() {
        return Err(format!(
            "pg_ctl could not start PostgreSQL ({status}); see {}",
            home.join("postgres.log").display()
        ));
    }
    println!(
        "tillstream: nothing answered at {url}; started a private PostgreSQL there (data in {})",
        data.display()
    );
    Ok(data)
}

/// PostgreSQL refuses to run as root: as root, its programs run as the `postgres` user.
fn running_as_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

fn as_postgres_owner(program: Command) -> Command {
    if !running_as_root() {
        return program;
    }
    let std = program.as_std();
    let mut command = Command::new("runuser");
    command
        .args(["-u", "postgres", "--"])
        .arg(std.get_program());
    command.args(std.get_args());
    command
}

fn hand_to_postgres_owner(home: &Path, data: &Path) {
    if running_as_root() {
        for dir in [home, data] {
            let _ = std::process::Command::new("chown")
                .args(["postgres:postgres"])
                .arg(dir)
                .status();
        }
    }
}

async fn wait_until_answers(addr: SocketAddr, what: &str) -> Result<(), String> {
    for _ in 0..100 {
        if answers(addr).await {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("{what} did not start listening on {addr}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    #[test]
    fn the_address_comes_from_the_url() {
        assert_eq!(
            address_of("postgres://postgres@127.0.0.1:5433/x", 5432).unwrap(),
            "127.0.0.1:5433".parse().unwrap()
        );
        assert_eq!(
            address_of("nats://localhost", 4222).unwrap(),
            "127.0.0.1:4222".parse().unwrap()
        );
        assert!(address_of("nats://broker.internal:4222", 4222).is_err());
    }

    #[test]
    fn a_socket_directory_is_not_an_address() {
        assert!(on_a_socket("postgres://postgres@%2Fvar%2Frun%2Fpostgresql"));
        assert!(on_a_socket("postgres://%2ftmp/x"));
        assert!(!on_a_socket("postgres://postgres@127.0.0.1:5432"));
        assert!(!on_a_socket("postgres://pé@h"));
    }
}
