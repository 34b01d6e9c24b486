//! NATS for tests: a private prefix on the shared server, or a private server to stop.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{block_on_fresh_runtime, unique_name};

/// The NATS server tests share (`TILLSTREAM_NATS_URL`, as the services do).
pub fn nats_url() -> String {
    std::env::var("TILLSTREAM_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

/// A free TCP port on the loopback interface.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(tillstream_service::addrs::unused_loopback_port()?)
}

/// A subject prefix of the test's own. On drop, every JetStream stream whose name starts
/// with it is deleted from `url`.
#[derive(Debug)]
pub struct TestPrefix {
    pub prefix: String,
    pub url: String,
}

impl TestPrefix {
    pub fn new() -> Self {
        Self::on(nats_url())
    }

    pub fn on(url: String) -> Self {
        TestPrefix {
            prefix: unique_name("t"),
            url,
        }
    }

    /// Waits until `service`'s durable consumer `name` of `source`'s events has every
    /// message delivered and acknowledged: whatever it was sent, it has done. The
    /// condition to wait on before asserting that nothing more happens (no fixed sleep).
    pub async fn consumer_settled(&self, service: &str, name: &str, source: &str) {
        let naming = match tillstream_messaging::Naming::new(self.prefix.clone()) {
            Ok(naming) => naming,
            Err(error) => panic!("a test prefix that is no subject token: {error}"),
        };
        let (stream, durable) = (
            naming.service_stream(source),
            naming.consumer(service, name),
        );
        let client = match async_nats::connect(&self.url).await {
            Ok(client) => client,
            Err(error) => panic!("NATS at {}: {error}", self.url),
        };
        let js = async_nats::jetstream::new(client);
        crate::eventually(
            &format!("{durable} has acknowledged everything"),
            || async {
                let mut consumer: async_nats::jetstream::consumer::PullConsumer = js
                    .get_stream(&stream)
                    .await
                    .ok()?
                    .get_consumer(&durable)
                    .await
                    .ok()?;
                let info = consumer.info().await.ok()?;
                (info.num_pending == 0 && info.num_ack_pending == 0).then_some(())
            },
        )
        .await;
    }
}

impl TestPrefix {
    /// Waits until every durable consumer on every service stream of this prefix has all it
    /// was sent delivered and acknowledged: the flow has come to rest, whatever it is.
    pub async fn all_consumers_settled(&self) {
        let naming = match tillstream_messaging::Naming::new(self.prefix.clone()) {
            Ok(naming) => naming,
            Err(error) => panic!("a test prefix that is no subject token: {error}"),
        };
        let client = match async_nats::connect(&self.url).await {
            Ok(client) => client,
            Err(error) => panic!("NATS at {}: {error}", self.url),
        };
        let js = async_nats::jetstream::new(client);
        crate::eventually("every consumer has acknowledged everything", || async {
            use futures::TryStreamExt;
            for service in tillstream_service::addrs::SERVICES {
                let Ok(stream) = js.get_stream(naming.service_stream(service)).await else {
                    continue;
                };
                let names: Vec<String> = stream.consumer_names().try_collect().await.ok()?;
                for name in names {
                    let mut consumer: async_nats::jetstream::consumer::PullConsumer =
                        stream.get_consumer(&name).await.ok()?;
                    let info = consumer.info().await.ok()?;
                    if info.num_pending > 0 || info.num_ack_pending > 0 {
                        return None;
                    }
                }
            }
            Some(())
        })
        .await;
    }
}

impl Default for TestPrefix {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestPrefix {
    fn drop(&mut self) {
        let url = self.url.clone();
        let prefix = self.prefix.clone();
        block_on_fresh_runtime(async move {
            // A stopped private server refuses the connection at once: nothing to clean.
            let Ok(client) = async_nats::ConnectOptions::new()
                .connection_timeout(Duration::from_secs(2))
                .connect(&url)
                .await
            else {
                return;
            };
            let js = async_nats::jetstream::new(client);
            // On a loaded machine one JetStream request can time out: each stream is tried on
            // its own, and again, within a budget that a whole CI run's load does not exhaust.
            let cleaned = async {
                while delete_streams_of(&js, &prefix).await.is_err() {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            };
            if tokio::time::timeout(CLEAN_UP_PATIENCE, cleaned)
                .await
                .is_err()
            {
                eprintln!("test clean-up: streams of {prefix} are left on {url}");
            }
        });
    }
}

/// How long a test's end waits for the shared server to delete its streams.
const CLEAN_UP_PATIENCE: Duration = Duration::from_secs(30);

/// Deletes every stream whose name starts with `prefix`.
async fn delete_streams_of(
    js: &async_nats::jetstream::Context,
    prefix: &str,
) -> anyhow::Result<()> {
    use futures::StreamExt;
    let mut names = js.stream_names();
    let mut mine = Vec::new();
    while let Some(name) = names.next().await {
        let name = name?;
        if name.starts_with(prefix) {
            mine.push(name);
        }
    }
    let deleted = futures::future::join_all(mine.iter().map(|name| js.delete_stream(name))).await;
    if let Some(Err(error)) = deleted.into_iter().find(Result::is_err) {
        return Err(error.into());
    }
    Ok(())
}

/// A `nats-server` with JetStream of the test's own, on a free port, that the test may
/// stop and start again (same port, same storage). Killed and its storage removed on drop.
#[derive(Debug)]
pub struct PrivateNats {
    pub port: u16,
    store_dir: PathBuf,
    child: Option<Child>,
}

impl PrivateNats {
    /// The binary: `TILLSTREAM_TEST_NATS_SERVER`, else `nats-server` on the PATH or in
    /// /usr/sbin (where Debian puts it).
    fn binary() -> String {
        if let Ok(path) = std::env::var("TILLSTREAM_TEST_NATS_SERVER") {
            return path;
        }
        if std::path::Path::new("/usr/sbin/nats-server").exists() && which("nats-server").is_none()
        {
            return "/usr/sbin/nats-server".to_owned();
        }
        "nats-server".to_owned()
    }

    pub async fn start() -> anyhow::Result<Self> {
        let port = free_port()?;
        let store_dir = std::env::temp_dir().join(unique_name("nats"));
        std::fs::create_dir_all(&store_dir)?;
        let mut server = PrivateNats {
            port,
            store_dir,
            child: None,
        };
        server.start_again().await?;
        Ok(server)
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again) and waits until it accepts connections.
    pub async fn start_again(&mut self) -> anyhow::Result<()> {
        if self.child.is_some() {
            return Ok(());
        }
        let child = Command::new(Self::binary())
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(&self.store_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(client) = async_nats::connect(self.url()).await {
                // JetStream answers a little after the port opens.
                let js = async_nats::jetstream::new(client);
                if js.get_stream("no-such-stream").await.is_err_and(|e| {
                    matches!(
                        e.kind(),
                        async_nats::jetstream::context::GetStreamErrorKind::JetStream(_)
                    )
                }) {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("private nats-server on port {} did not come up", self.port)
    }

    /// Kills the server (SIGKILL: the harshest stop) and waits for it to exit.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }
}

impl Drop for PrivateNats {
    fn drop(&mut self) {
        if let Err(error) = self.stop() {
            eprintln!("could not stop private nats-server: {error}");
        }
        let _ = std::fs::remove_dir_all(&self.store_dir);
    }
}

fn which(binary: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(binary))
        .find(|p| p.is_file())
}
