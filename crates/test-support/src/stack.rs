//! Services started in-process for one test, each on a fresh database of its own, all on
//! a private subject prefix and free ports; stopped and cleaned up when the stack drops.
//!
//! ```ignore
//! let mut stack = TestStack::new();
//! let catalog = stack.start("catalog", tillstream_catalog::serve).await;
//! let mut client = CatalogServiceClient::new(stack.admin(&catalog).await);
//! ```

use std::future::Future;

use sqlx::PgPool;
use tillstream_messaging::Naming;
use tillstream_service::{Launch, ServiceSettings, StartError};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::grpc::{Authed, connect_as_admin};
use crate::{TestDatabase, TestPrefix, eventually, stack_env, unique_name};

/// One test's services.
#[derive(Debug)]
pub struct TestStack {
    pub prefix: TestPrefix,
    db_prefix: String,
    /// Cancelled when the stack drops: every service started without a token of its own
    /// stops.
    pub stop: CancellationToken,
    databases: Vec<TestDatabase>,
}

impl Default for TestStack {
    fn default() -> Self {
        Self::new()
    }
}

impl TestStack {
    /// A stack on a fresh subject prefix of the shared NATS.
    pub fn new() -> Self {
        Self::on(TestPrefix::new())
    }

    /// A stack on `prefix` (a private NATS server's, say).
    pub fn on(prefix: TestPrefix) -> Self {
        TestStack {
            prefix,
            db_prefix: unique_name("tst"),
            stop: CancellationToken::new(),
            databases: Vec::new(),
        }
    }

    /// The subjects and streams of this stack.
    pub fn naming(&self) -> Naming {
        match Naming::new(self.prefix.prefix.clone()) {
            Ok(naming) => naming,
            Err(error) => panic!("a test prefix that is no subject token: {error}"),
        }
    }

    /// The settings `service` runs with in this stack; its database is dropped with it.
    pub fn settings(&mut self, service: &'static str) -> ServiceSettings {
        let env = stack_env(&self.prefix.prefix, &self.db_prefix);
        let settings = match ServiceSettings::from_lookup(service, "127.0.0.1:0", env) {
            Ok(settings) => settings,
            Err(error) => panic!("a test stack's settings for {service}: {error}"),
        };
        if !self.databases.iter().any(|db| db.name == settings.database) {
            self.databases.push(TestDatabase {
                server_url: settings.database_url.clone(),
                name: settings.database.clone(),
            });
        }
        settings
    }

    /// Starts `service` with `serve` on a free port until the stack drops; its URL.
    pub async fn start<F, Fut>(&mut self, service: &'static str, serve: F) -> String
    where
        F: FnOnce(Launch) -> Fut,
        Fut: Future<Output = Result<(), StartError>> + Send + 'static,
    {
        let stop = self.stop.clone();
        self.start_until(service, serve, stop).await
    }

    /// Starts `service` until `stop` (to stop it alone, and start it again); its URL.
    pub async fn start_until<F, Fut>(
        &mut self,
        service: &'static str,
        serve: F,
        stop: CancellationToken,
    ) -> String
    where
        F: FnOnce(Launch) -> Fut,
        Fut: Future<Output = Result<(), StartError>> + Send + 'static,
    {
        let settings = self.settings(service);
        let listener = match TcpListener::bind("127.0.0.1:0").await {
            Ok(listener) => listener,
            Err(error) => panic!("no free port for {service}: {error}"),
        };
        let url = match listener.local_addr() {
            Ok(addr) => format!("http://{addr}"),
            Err(error) => panic!("{service}'s port: {error}"),
        };
        tokio::spawn(serve(Launch {
            settings,
            listener,
            shutdown: stop,
        }));
        url
    }

    /// A pool on `service`'s database (created by the service as it starts).
    pub async fn database(&mut self, service: &'static str) -> PgPool {
        let settings = self.settings(service);
        let url = format!(
            "{}/{}",
            settings.database_url.trim_end_matches('/'),
            settings.database
        );
        match PgPool::connect(&url).await {
            Ok(pool) => pool,
            Err(error) => panic!("{service}'s database: {error}"),
        }
    }

    /// An admin's channel to the service at `url`, once it accepts connections.
    pub async fn admin(&self, url: &str) -> Authed {
        eventually("the service listens", || connect_as_admin(url.to_owned())).await
    }
}

impl Drop for TestStack {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
