//! A service process put together the same way in every service: its database and NATS,
//! its relay, its consumers and background tasks, then gRPC with the operations endpoints
//! until shutdown. A service's `serve` says only what is its own. The relay, the consumers
//! and the tasks given to `spawn_leading` run on the elected leader only (`leader.rs`), so
//! any number of replicas of a service may run; `spawn`'s tasks run on every replica.

use std::future::Future;
use std::sync::Arc;

use sqlx::PgPool;
use sqlx::migrate::Migrator;
use tillstream_eventstore::EventStore;
use tillstream_messaging::{ConsumerConfig, Handler, WireFormat};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::leader::{LeaderTask, lead};
use crate::{
    ServiceSettings, StartError, connect_database, connect_nats, run_consumer, serve_http,
    spawn_relay, standard_probe,
};

/// What a service is given to run: its settings, where it listens, when it stops.
#[derive(Debug)]
pub struct Launch {
    pub settings: ServiceSettings,
    pub listener: TcpListener,
    pub shutdown: CancellationToken,
}

/// A service's connections and the tasks it runs beside its API.
pub struct Process {
    pub pool: PgPool,
    /// For list and report endpoints: a pool on `TILLSTREAM_DATABASE_READ_URL` when set
    /// (a replica, which may lag the primary by a moment), else `pool` itself.
    pub reads: PgPool,
    pub store: EventStore,
    pub nats: async_nats::Client,
    pub settings: ServiceSettings,
    migrator: &'static Migrator,
    listener: TcpListener,
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
    /// What only the leader runs.
    leading: Vec<LeaderTask>,
}

impl std::fmt::Debug for Process {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Process")
            .field("service", &self.settings.service)
            .field("tasks", &self.tasks.len())
            .field("leading", &self.leading.len())
            .finish_non_exhaustive()
    }
}

impl Process {
    /// Connects to the service's database (created and migrated with `migrator`) and to
    /// NATS (in the background).
    pub async fn connect(launch: Launch, migrator: &'static Migrator) -> Result<Self, StartError> {
        let Launch {
            settings,
            listener,
            shutdown,
        } = launch;
        // The recorder first: a gauge the relay or a consumer sets before it exists is lost
        // until its next report, fifteen seconds on.
        tillstream_telemetry::install_metrics();
        let pool = connect_database(&settings, migrator).await?;
        let reads = crate::connect_reads(&settings)?.unwrap_or_else(|| pool.clone());
        let nats = connect_nats(&settings).await?;
        Ok(Process {
            store: EventStore::new(pool.clone()),
            reads,
            pool,
            nats,
            settings,
            migrator,
            listener,
            shutdown,
            tasks: Vec::new(),
            leading: Vec::new(),
        })
    }

    /// Relays the store's events to `<prefix>_<service>`, encoded by `wire` (the leader's).
    pub fn relay(&mut self, wire: Arc<dyn WireFormat>) {
        let (store, nats, settings) =
            (self.store.clone(), self.nats.clone(), self.settings.clone());
        self.leading.push(Arc::new(move |stop: CancellationToken| {
            spawn_relay(&store, &nats, wire.clone(), &settings, &stop)
        }));
    }

    /// Consumes every event of `source` with `handler`, as the durable consumer `name`.
    pub fn consume<H: Handler + Clone>(&mut self, name: &str, source: &str, handler: H) {
        let config = ConsumerConfig::new(
            self.settings.naming.clone(),
            self.settings.service,
            name,
            source,
        );
        self.consume_with(config, handler);
    }

    /// Consumes only the events of `source`'s `aggregate` streams (its locations, its
    /// stock items) with `handler`.
    pub fn consume_aggregate<H: Handler + Clone>(
        &mut self,
        name: &str,
        source: &str,
        aggregate: &str,
        handler: H,
    ) {
        let naming = &self.settings.naming;
        let mut config = ConsumerConfig::new(naming.clone(), self.settings.service, name, source);
        config.filter_subject = Some(naming.aggregate_subjects(source, aggregate));
        self.consume_with(config, handler);
    }

    fn consume_with<H: Handler + Clone>(&mut self, mut config: ConsumerConfig, handler: H) {
        config.gather = self.settings.consumer_gather;
        let (store, nats) = (self.store.clone(), self.nats.clone());
        self.leading.push(Arc::new(move |stop: CancellationToken| {
            let consumer = run_consumer(
                store.clone(),
                nats.clone(),
                config.clone(),
                handler.clone(),
                stop,
            );
            tokio::spawn(consumer)
        }));
    }

    /// Runs `task` (given a token cancelled at shutdown) beside the API on every replica;
    /// shutdown waits for it. Only for work that is safe however many replicas do it.
    pub fn spawn<F, Fut>(&mut self, task: F)
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.tasks
            .push(tokio::spawn(task(self.shutdown.child_token())));
    }

    /// Runs `task` on the leader only: started when this replica becomes the leader, with a
    /// token cancelled when it stops leading (or at shutdown), and started again if it
    /// leads again.
    pub fn spawn_leading<F, Fut>(&mut self, task: F)
    where
        F: Fn(CancellationToken) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.leading.push(Arc::new(move |stop: CancellationToken| {
            tokio::spawn(task(stop))
        }));
    }

    /// Serves `grpc`, guarded by the verified token of every call, until shutdown.
    pub async fn serve_grpc(self, grpc: tonic::service::Routes) -> Result<(), StartError> {
        let guarded = crate::guard(grpc.into_axum_router(), &self.settings)?;
        self.serve(guarded).await
    }

    /// Serves `api` (already guarded) and the operations endpoints until shutdown, drains
    /// in-flight requests, then waits for the tasks.
    pub async fn serve(mut self, api: axum::Router) -> Result<(), StartError> {
        if !self.leading.is_empty() {
            let leading = std::mem::take(&mut self.leading);
            let election = lead(
                self.settings.service,
                self.pool.clone(),
                leading,
                self.shutdown.child_token(),
            );
            self.tasks.push(tokio::spawn(election));
        }
        let probe = standard_probe(self.pool, self.migrator, self.nats);
        serve_http(
            self.settings.service,
            self.listener,
            api,
            probe,
            self.shutdown,
            self.tasks,
        )
        .await
    }
}
