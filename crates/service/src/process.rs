//! A service process from `main` to shutdown: settings, listener, signals, the relay, and
//! one HTTP server for gRPC and the operations endpoints.

use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;

use tillstream_eventstore::EventStore;
use tillstream_messaging::{Relay, RelayConfig, WireFormat};
use tillstream_telemetry::{Probe, install_metrics, ops_router};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use tillstream_process::{listen, serve_until_signal, without_nagle};

use crate::{Launch, ServiceSettings, StartError};

/// The whole of a service's `main`: logs, settings from the environment (exit code 2 and the
/// variable named when one is wrong), the listener, Ctrl-C/SIGTERM, then `serve`.
pub async fn run_main<F, Fut>(service: &'static str, default_addr: &str, serve: F) -> ExitCode
where
    F: FnOnce(Launch) -> Fut,
    Fut: Future<Output = Result<(), StartError>>,
{
    tillstream_telemetry::init_logging(service);
    let settings = match ServiceSettings::from_env(service, default_addr) {
        Ok(settings) => settings,
        Err(error) => {
            tracing::error!(%error, "bad configuration");
            return ExitCode::from(2);
        }
    };
    let listener = match listen(settings.addr).await {
        Ok(listener) => listener,
        Err(code) => return code,
    };
    serve_until_signal(|shutdown| {
        serve(Launch {
            settings,
            listener,
            shutdown,
        })
    })
    .await
}

/// Starts the service's relay: its store to `<prefix>_<service>`.
pub fn spawn_relay(
    store: &EventStore,
    nats: &async_nats::Client,
    wire: Arc<dyn WireFormat>,
    settings: &ServiceSettings,
    shutdown: &CancellationToken,
) -> JoinHandle<()> {
    let mut config = RelayConfig::new(settings.service, settings.naming.clone());
    config.stream = settings.stream.clone();
    let relay = Relay::new(store.clone(), nats.clone(), wire, config);
    tokio::spawn(relay.run(shutdown.child_token()))
}

/// Serves `grpc` and the operations endpoints on `listener` until `shutdown`, drains
/// in-flight requests, then waits for the background `tasks` (relay, consumers).
pub async fn serve_http(
    service: &'static str,
    listener: TcpListener,
    grpc: axum::Router,
    probe: Probe,
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
) -> Result<(), StartError> {
    let app = ops_router(service, probe, install_metrics()).merge(grpc);
    tracing::info!(service, addr = %listener.local_addr()?, "listening");
    axum::serve(without_nagle(listener), app)
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .await?;
    shutdown.cancel();
    for task in tasks {
        let _ = task.await;
    }
    Ok(())
}
