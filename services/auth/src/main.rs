//! `tillstream-auth`: configuration from the environment, then the service.

use std::process::ExitCode;

use tillstream_auth::{DEFAULT_ADDR, SERVICE, Settings, serve};
use tillstream_service::stop_on_signal;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> ExitCode {
    tillstream_telemetry::init_logging(SERVICE);
    let settings = match Settings::from_env(SERVICE, DEFAULT_ADDR) {
        Ok(settings) => settings,
        Err(error) => {
            tracing::error!(%error, "bad configuration");
            return ExitCode::from(2);
        }
    };
    let admin_password = std::env::var("TILLSTREAM_ADMIN_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty());
    let listener = match tokio::net::TcpListener::bind(settings.addr).await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!(%error, addr = %settings.addr, "cannot listen");
            return ExitCode::FAILURE;
        }
    };
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    match serve(settings, admin_password, listener, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "stopped");
            ExitCode::FAILURE
        }
    }
}
