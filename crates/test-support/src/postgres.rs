//! A private PostgreSQL cluster for tests that stop or crash the database: `initdb` into a
//! scratch directory and `pg_ctl` on a free port, never the shared server. As root (CI
//! here), the programs run as the `postgres` user, since PostgreSQL refuses root.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{free_port, unique_name};

#[derive(Debug)]
pub struct PrivatePostgres {
    pub port: u16,
    dir: PathBuf,
}

impl PrivatePostgres {
    /// A new cluster, started. Needs `initdb` and `pg_ctl` (on the PATH or in Debian's
    /// `/usr/lib/postgresql/<version>/bin`).
    pub fn start() -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(unique_name("pg"));
        std::fs::create_dir_all(&dir)?;
        hand_to_postgres(&dir)?;
        let cluster = PrivatePostgres {
            port: free_port()?,
            dir,
        };
        let status = as_postgres(&program("initdb")?)
            .args(["-D"])
            .arg(cluster.data())
            .args(["-U", "postgres", "--auth=trust", "--no-sync"])
            .stdout(Stdio::null())
            .status()?;
        anyhow::ensure!(status.success(), "initdb failed: {status}");
        cluster.start_again()?;
        Ok(cluster)
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}", self.port)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Starts the cluster (again) and waits until it accepts connections.
    pub fn start_again(&self) -> anyhow::Result<()> {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c max_connections=200",
            self.port,
            self.dir.display()
        );
        let status = as_postgres(&program("pg_ctl")?)
            .arg("-D")
            .arg(self.data())
            .args(["-o", &options, "-w", "-l"])
            .arg(self.dir.join("postgres.log"))
            .arg("start")
            .stdout(Stdio::null())
            .status()?;
        anyhow::ensure!(
            status.success(),
            "pg_ctl start failed ({status}); see {}",
            self.dir.join("postgres.log").display()
        );
        Ok(())
    }

    /// Stops the cluster: `immediate` is a crash (no checkpoint; recovery on the next
    /// start), `fast` a clean shutdown that still cuts every connection.
    pub fn stop(&self, mode: &str) -> anyhow::Result<()> {
        let status = as_postgres(&program("pg_ctl")?)
            .arg("-D")
            .arg(self.data())
            .args(["-m", mode, "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        anyhow::ensure!(status.success(), "pg_ctl stop failed: {status}");
        Ok(())
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self.stop("immediate");
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn program(name: &str) -> anyhow::Result<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    let debian = || {
        let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|entry| Some(entry.ok()?.path().join("bin").join(name)))
            .filter(|p| p.is_file())
            .collect();
        found.sort();
        found.pop()
    };
    on_path
        .or_else(debian)
        .ok_or_else(|| anyhow::anyhow!("{name} is not installed"))
}

fn running_as_root() -> bool {
    // The effective user's home is no guide in containers; `id -u` is.
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.starts_with(b"0\n"))
}

fn as_postgres(program: &Path) -> Command {
    if running_as_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn hand_to_postgres(dir: &Path) -> anyhow::Result<()> {
    if running_as_root() {
        let status = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(dir)
            .status()?;
        anyhow::ensure!(status.success(), "chown {} failed", dir.display());
    }
    Ok(())
}
